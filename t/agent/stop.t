#!/usr/bin/python3
"""SIGTERM, as the kubelet sends when a pod is deleted: the agent stops TimesTen the
documented way before it exits (replication agent, database closed and its applications
disconnected, unloaded with a checkpoint, daemon stopped), so that the pod's next start
is a load, not a recovery; except a pair's active, which must stop taking writes at once:
its agent exits at once and the container's end takes TimesTen with it. On simulated
pods: the active of a pair with an order running (cut off; the agent exits at once,
TimesTen not stopped); its standby with an idle connection (stopped cleanly); a database of its
own with a transaction that does not end (forced off after two seconds, half of its
--stop-timeout, rolled back, the commits kept, loaded again); an agent whose daemon is
down exits at once.

The simulator is found at $TTSIM_HOME (default $top_srcdir/t/sim/ttsim)."""

import os
import re
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import (HOME, AppConn, bring_up_pair, poll, run, simulated_pods, step)  # noqa: E402

DATASTORE = "/tt/home/timesten/datastore/sample"


def keys(pod):
    rc, out = pod.utility("ttIsql", "-v1", "-e", "select id from adm.orders; exit", "sample")
    return sorted(int(k) for k in re.findall(r"^< (\d+) >$", out, re.M))


def daemon_log(pod):
    try:
        with open(os.path.join(pod.root, HOME.lstrip("/"), "diag", "ttmesg.log")) as f:
            return f.read()
    except OSError:
        return ""


def terminate(pod, timeout=60):
    """SIGTERM to the agent alone (the container's process 1); its exit code and how long
    it took, or (None, timeout) when it did not exit."""
    t0 = time.monotonic()
    pod.agent.proc.send_signal(signal.SIGTERM)
    try:
        rc = pod.agent.proc.wait(timeout)
    except Exception:
        return None, timeout
    return rc, time.monotonic() - t0


def stopped_cleanly(t, pod, mark, what, rep=True):
    """The daemon log since mark says the replication agent (when rep), the database and
    the daemon were stopped, in that order, and ttStatus finds no daemon."""
    log = daemon_log(pod)[mark:]
    order = ([log.find("Replication agent for %s stopped" % DATASTORE)] if rep else []) + [
        log.find("Data store %s unloaded" % DATASTORE), log.find("TimesTen Daemon (PID: ")]
    t.ok(all(i >= 0 for i in order) and order == sorted(order),
         "%s: the daemon log says %sdatabase unloaded, daemon stopped, in that order"
         % (what, "replication agent stopped, " if rep else "")) or t.diag(log[-3000:])
    rc, out = pod.utility("ttStatus")
    t.like(out, "Could not connect to the TimesTen daemon", "%s: ttStatus finds no daemon" % what)


def body(t, work, cleanups):
    pods = simulated_pods(work, cleanups, "stop", 3)
    p0, p1, p2 = pods
    p0.start()
    p1.start()
    p2.start(args=["--stop-timeout", "4"])
    for p in pods:
        cleanups.append(lambda p=p: p.agent and p.agent.stop())
    conns = []
    cleanups.append(lambda: [c.close() for c in conns])
    if not bring_up_pair(t, p0, p1):
        return
    rc, out = p0.utility("ttIsql", "-v1", "-e", "; ".join(
        "insert into adm.orders values (%d, 'kept')" % i for i in (1, 2, 3)) + "; exit", "sample")
    t.is_(rc, 0, "three commits on the active")
    t.ok(poll(lambda: keys(p1) == [1, 2, 3], 30, 0.25), "the standby receives them")

    # The active, an order running (quiesce waits for the standby, whose replication
    # agent is stopped): the agent exits at once, cutting the order off, and TimesTen is
    # left to the container's end.
    step(t, p1, "stopRepAgent")
    rc, out = p0.utility("ttIsql", "-v1", "-e", "insert into adm.orders values (4, 'unsent'); "
                         "exit", "sample")
    t.is_(rc, 0, "a commit the standby does not receive")
    result = {}

    def quiesce():
        try:
            result["r"] = p0.agent.client().post("quiesce", {"waitSeconds": 60}, timeout=120)
        except Exception as e:  # the connection closed under it
            result["r"] = (None, {"error": str(e)})
    th = threading.Thread(target=quiesce)
    th.start()
    poll(lambda: (p0.state().get("operation") or {}).get("operation") == "quiesce", 30, 0.1)
    mark = len(daemon_log(p0))
    rc, took = terminate(p0)
    th.join(60)
    st, r = result.get("r", (None, {}))
    t.ok(not th.is_alive() and st != 200 and "r" in result,
         "the active: the quiesce that was waiting is cut off") or t.diag(str(result)[:2000])
    t.ok(rc == 0 and took < 3, "the active's agent exits 0 at once (%.1f s)" % took)
    t.like(p0.agent.log_text(), "stopping at once: the database may be the active",
           "its log says why")
    t.ok("stopped" not in daemon_log(p0)[mark:] and "Daemon pid" in p0.utility("ttStatus")[1],
         "it stopped nothing in TimesTen (the container's end does)") or t.diag(
        daemon_log(p0)[mark:])

    # The standby, an application connected to it: stopped cleanly.
    step(t, p1, "startRepAgent")
    t.ok(poll(lambda: p1.state().get("repState") == "STANDBY", 30, 0.25),
         "the standby, its replication agent started again, is STANDBY")
    idle = AppConn(p1, server=False)
    conns.append(idle)
    mark = len(daemon_log(p1))
    rc, took = terminate(p1)
    t.is_(rc, 0, "the standby's agent exits 0 after SIGTERM (%.1f s)" % took)
    t.like(p1.agent.log_text(), 'msg="operation succeeded" operation=stop',
           "its log says the stop succeeded")
    stopped_cleanly(t, p1, mark, "standby")
    t.ok(idle.sql("select count(*) from adm.orders") != 0,
         "the application's connection was ended")
    t.ok("open connections" not in daemon_log(p1)[mark:],
         "the daemon was not stopped under open connections")

    # A database of its own (no replication scheme), a transaction that does not end:
    # -transactional for 2 s, then -immediate.
    for op in ("createInstance", "startDaemon", "createDatabase", "createAdminUser",
               "runSchema"):
        step(t, p2, op)
    rc, out = p2.utility("ttIsql", "-v1", "-e", "; ".join(
        "insert into adm.orders values (%d, 'kept')" % i for i in (1, 2, 3)) + "; exit", "sample")
    t.is_(rc, 0, "a database of its own: three commits")
    busy = AppConn(p2, server=False)
    conns.append(busy)
    busy.call({"op": "autocommit", "on": False})
    t.is_(busy.sql("insert into adm.orders values (4, 'open')"), 0, "a transaction is open")
    t.is_(p2.state().get("repScheme"), "None", "its state shows no replication scheme")
    mark = len(daemon_log(p2))
    rc, took = terminate(p2)
    t.is_(rc, 0, "its agent exits 0 after SIGTERM")
    t.ok(2 <= took < 10, "within its --stop-timeout of 4 s, after forcing the connection off "
         "2 s in (%.1f s)" % took) or t.diag(p2.agent.log_text()[-4000:])
    t.like(p2.agent.log_text(), "connections still open; forcing them off",
           "its log says it forced them off")
    stopped_cleanly(t, p2, mark, "a database of its own", rep=False)
    t.ok(busy.sql("commit") != 0, "the open transaction cannot commit")

    # Started again: a load, with the commits and without the open transaction.
    p2.start(args=["--stop-timeout", "4"])
    step(t, p2, "startDaemon")
    step(t, p2, "load")
    t.is_(keys(p2), [1, 2, 3], "loaded again, the database holds the commits, not the "
          "transaction that was open")
    t.ok(re.search(r"Data store %s loaded" % re.escape(DATASTORE), daemon_log(p2)[mark:]),
         "the daemon log says it was loaded")
    step(t, p2, "stopDaemon")

    # Nothing to stop: the daemon is down.
    p2.state()
    rc, took = terminate(p2)
    t.ok(rc == 0 and took < 5, "with the daemon down, the agent exits 0 at once (%.1f s)" % took)
    t.like(p2.agent.log_text(), "the TimesTen daemon is not running",
           "saying the daemon is not running")


run(body)
