#!/usr/bin/python3
"""quiesce and openDatabase on an asynchronous (NO RETURN) pair of simulated pods, as an
upgrade uses them before deleting the active's pod: with the standby not receiving, quiesce
gives up after waitSeconds and leaves the database open; a transaction open during a quiesce
commits and then its connection ends; quiesce returns only once the standby holds every
commit; the database is then closed to users (8006) but not to the instance administrator;
sent again it waits for the standby as well; a transaction that does not end is rolled back by -immediate;
openDatabase opens the database again. The state's open and dbId fields follow.

The simulator is found at $TTSIM_HOME (default $top_srcdir/t/sim/ttsim)."""

import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import (AppConn, bring_up_pair, run, simulated_pods, step)  # noqa: E402

USER = "DSN=sample;UID=adm;PWD=adminpw"


def keys(pod):
    """The keys of adm.orders, read as the instance administrator."""
    rc, out = pod.utility("ttIsql", "-v1", "-e", "select id from adm.orders; exit", "sample")
    return sorted(int(k) for k in re.findall(r"^< (\d+) >$", out, re.M))


def user_connects(pod):
    """'ok', or the error number a user's new connection gets."""
    rc, out = pod.utility("ttIsql", "-v1", "-e", "exit", "-connStr", USER)
    m = re.search(r"^ *(\d+): ", out, re.M)
    return int(m.group(1)) if m else ("ok" if rc == 0 else out)


def quiesce_in_background(pod, body):
    result = {}
    th = threading.Thread(target=lambda: result.update(r=pod.agent.client().post(
        "quiesce", body, timeout=300)))
    th.start()
    return th, result


def body(t, work, cleanups):
    pods = simulated_pods(work, cleanups, "quiesce", 2)
    for p in pods:
        p.start()
        cleanups.append(p.agent.stop)
    p0, p1 = pods
    conns = []
    cleanups.append(lambda: [c.close() for c in conns])

    s = p0.state()
    t.is_((s.get("open"), s.get("dbId")), ("Unknown", "Unknown"),
          "without a database, open and dbId are Unknown")
    if not bring_up_pair(t, p0, p1):
        return
    s = p0.state()
    t.ok(s.get("open") == "Yes" and isinstance(s.get("dbId"), int) and s["dbId"] > 0,
         "the loaded active is open, dbId its shared memory ID") or t.diag(s)
    t.is_(p0.state().get("dbId"), s.get("dbId"), "dbId stays while it is loaded")

    # The standby does not receive: quiesce gives up after waitSeconds, opens again.
    step(t, p1, "stopRepAgent")
    rc, out = p0.utility("ttIsql", "-v1", "-e", "; ".join(
        "insert into adm.orders values (%d, 'unsent')" % i for i in range(1, 6)) + "; exit",
        "sample")
    t.is_(rc, 0, "five commits on the active while the standby does not receive")
    t0 = time.monotonic()
    st, r = p0.c.post("quiesce", {"waitSeconds": 2})
    took = time.monotonic() - t0
    t.is_((st, r.get("reason")), (504, "Timeout"), "quiesce with the standby's agent stopped: 504")
    t.ok(2 <= took < 30, "after waitSeconds 2 (%.1f s)" % took)
    t.like(r.get("message"), "did not acknowledge every commit of database sample within 2 s",
           "saying the peer did not acknowledge every commit within 2 s")
    t.like(r.get("message"), "open to connections again", "and that the database is open again")
    t.is_([x["command"] for x in r.get("steps", [])][-1:], ["ttAdmin -open sample"],
          "its last step opened the database")
    t.is_((p0.state().get("open"), user_connects(p0)), ("Yes", "ok"),
          "the state says open, and a user connects")

    # A transaction open when quiesce comes commits, then its connection ends, and only
    # then does quiesce go on.
    step(t, p1, "startRepAgent")
    busy = AppConn(p0, server=True)
    conns.append(busy)
    busy.call({"op": "autocommit", "on": False})
    t.is_(busy.sql("insert into adm.orders values (6, 'in flight')"), 0,
          "a client/server connection has a transaction open")
    th, result = quiesce_in_background(p0, {"waitSeconds": 30})
    time.sleep(1.5)
    t.ok(th.is_alive() and (p0.state().get("operation") or {}).get("operation") == "quiesce",
         "quiesce waits for the open transaction to end")
    t.is_(user_connects(p0), 8006, "meanwhile a user's new connection gets 8006")
    t.is_(busy.sql("commit"), 0, "the open transaction commits")
    t.is_(busy.sql("select count(*) from adm.orders"), 994, "then its connection is closed")
    th.join(120)
    st, r = result.get("r", (None, {}))
    t.is_((st, r.get("status"), r.get("changed")), (200, "Succeeded", True),
          "then quiesce succeeds") or t.diag(str(r)[:3000])
    t.is_(r.get("message"), "database sample closed to user connections; the peer "
          "acknowledged every commit", "saying the peer acknowledged every commit")
    t.is_(keys(p1), list(range(1, 7)), "right then the standby has every row, the one "
          "committed during the quiesce too")
    t.is_([x["command"].split(" ")[:3] for x in r.get("steps", [])][:2],
          [["ttAdmin", "-close", "sample"], ["ttAdmin", "-disconnect", "-transactional"]],
          "it closed the database, then disconnected -transactional")
    s = p0.state()
    t.is_((s.get("open"), s.get("database")), ("No", "Loaded"),
          "the state says the loaded database is not open")
    t.is_(user_connects(p0), 8006, "a user's new connection gets 8006")
    t.is_(keys(p0), list(range(1, 7)), "the instance administrator still connects")

    # Sent again (the database is closed), quiesce answers once the standby has every
    # commit made before it.
    step(t, p1, "stopRepAgent")
    rc, out = p0.utility("ttIsql", "-v1", "-e", "; ".join(
        "insert into adm.orders values (%d, 'later')" % i for i in range(7, 10)) + "; exit",
        "sample")
    t.is_(rc, 0, "three more commits by the instance administrator, the standby not receiving")
    th, result = quiesce_in_background(p0, {"waitSeconds": 60})
    time.sleep(1.5)
    t.ok(th.is_alive(), "quiesce sent again waits for the standby's acknowledgements")
    step(t, p1, "startRepAgent")
    th.join(120)
    st, r = result.get("r", (None, {}))
    t.is_((st, r.get("changed")), (200, False),
          "the standby back, it succeeds, changing nothing") or t.diag(str(r)[:3000])
    t.like(r.get("message"), "was already closed", "saying it was closed already")
    t.is_(keys(p1), list(range(1, 10)), "right then the standby has every row committed "
          "before the quiesce")

    # A transaction that does not end is rolled back by -immediate after waitSeconds.
    stuck = AppConn(p0, server=False)
    conns.append(stuck)
    stuck.call({"op": "autocommit", "on": False})
    stuck.sql("insert into adm.orders values (10, 'never committed')")
    st, r = p0.c.post("quiesce", {"waitSeconds": 1})
    t.is_(st, 200, "quiesce with a transaction that does not end succeeds")
    t.ok(any(x["command"] == "ttAdmin -disconnect -immediate sample"
             for x in r.get("steps", [])),
         "after ttAdmin -disconnect -immediate") or t.diag(str(r)[:3000])
    t.is_(stuck.sql("commit"), 994, "which ended that connection")
    t.is_((keys(p0), keys(p1)), (list(range(1, 10)),) * 2, "its transaction was rolled back")

    # openDatabase
    st, r = p0.c.post("openDatabase")
    t.is_((st, r.get("changed")), (200, True), "openDatabase opens the database")
    t.is_((p0.state().get("open"), user_connects(p0)), ("Yes", "ok"),
          "the state says open and a user connects again")
    st, r = p0.c.post("openDatabase")
    t.is_((st, r.get("changed")), (200, False), "openDatabase on an open database changes nothing")
    s1 = p1.state()
    t.ok(isinstance(s1.get("dbId"), int) and s1.get("open") == "Yes",
         "the standby's state has its dbId and open too") or t.diag(s1)

    # destroyDatabase with applications connected: ttAdmin -disconnect is asynchronous, so
    # it waits for ttStatus to show them gone before unloading and destroying.
    held = [AppConn(p1, server=False), AppConn(p1, server=False)]
    conns.extend(held)
    held[0].call({"op": "autocommit", "on": False})
    held[0].sql("select count(*) from adm.orders")
    st, r = p1.c.post("destroyDatabase")
    cmds = [x["command"] for x in r.get("steps", [])]
    t.is_((st, r.get("changed")), (200, True),
          "destroyDatabase with two connections open succeeds") or t.diag(str(r)[:3000])
    t.ok(cmds.index("ttAdmin -disconnect -immediate -unload sample") <
         cmds.index("ttStatus") < cmds.index("ttDestroy sample"),
         "after the disconnect, ttStatus is asked before ttDestroy") or t.diag(cmds)
    t.is_((held[0].sql("commit"), held[1].sql("select 1 from dual")), (994, 994),
          "both connections were ended")
    s1 = p1.state()
    t.is_(s1.get("database"), "None", "the database is gone") or t.diag(s1)


run(body)
