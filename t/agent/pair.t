#!/usr/bin/python3
"""A whole active standby pair driven through two agents over mutual TLS, on the TimesTen
simulator: two simulated pods on two loopback addresses; instance, daemon, database from
db.ini, adminUser, schema.sql, replication scheme, ACTIVE, duplicate to the peer, STANDBY;
commits with RETURN TWOSAFE on the active all found on the standby; the active's daemon
killed, the standby made ACTIVE keeps every acknowledged row.

The simulator is found at $TTSIM_HOME (default $top_srcdir/t/sim/ttsim)."""

import json
import os
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import (HOME, poll, run, simulated_pods, step)  # noqa: E402

ROWS = 20

def body(t, work, cleanups):
    argv_log = os.path.join(work, "argv.log")
    pods = simulated_pods(work, cleanups, "pair", 2, {"TTSIM_ARGV_LOG": argv_log})
    for p in pods:
        p.start()
        cleanups.append(p.agent.stop)
    p0, p1 = pods

    s = p0.state()
    t.is_((s.get("instance"), s.get("daemon"), s.get("database")), ("None", "Down", "None"),
          "a new pod has no instance, no daemon, no database")

    # The active: everything the operator does on a new pod.
    for op in ("createInstance", "startDaemon", "createDatabase", "createAdminUser",
               "runSchema"):
        step(t, p0, op)
    s = p0.state()
    t.is_((s.get("instance"), s.get("daemon"), s.get("database"), s.get("updatable"),
           s.get("repScheme")), ("Exists", "Up", "Loaded", "Yes", "None"),
          "sample-0: instance, daemon up, database loaded and updatable, no scheme")
    if s.get("error"):
        t.diag("state error: " + s["error"])
    t.ok(s.get("open") == "Yes" and isinstance(s.get("dbId"), int),
         "sample-0: the loaded database is open, dbId its shared memory ID") or t.diag(s)
    t.is_(s.get("release"), "22.1.1.31.0", "sample-0: the release of the image")
    t.is_(s.get("configFiles"), ["db.ini", "adminUser", "schema.sql", "epilog.sql"],
          "sample-0: the /ttconfig files")
    rc, out = p0.utility("ttIsql", "-v1", "-e", "tables; exit", "sample")
    t.like(out, "ADM.ORDERS", "schema.sql made its table")

    scheme = ('CREATE ACTIVE STANDBY PAIR sample ON "{0}", sample ON "{1}" RETURN TWOSAFE '
              'STORE sample ON "{0}" PORT 4444 FAILTHRESHOLD 0 TIMEOUT 999 '
              'STORE sample ON "{1}" PORT 4444 FAILTHRESHOLD 0 TIMEOUT 999'
              ).format(p0.fqdn, p1.fqdn)
    step(t, p0, "createRepScheme", {"statement": scheme})
    step(t, p0, "setRepState", {"state": "ACTIVE"})
    step(t, p0, "startRepAgent")
    step(t, p0, "runEpilog")
    step(t, p0, "setActive")
    s = poll(lambda: (lambda s: s if s.get("repAgent") == "Running" else None)(p0.state()), 30)
    s = s or p0.state()
    t.is_((s.get("repScheme"), s.get("repState"), s.get("repAgent"), s.get("updatable"),
           s.get("active")), ("Exists", "ACTIVE", "Running", "Yes", True),
          "sample-0 is the updatable ACTIVE with its rep agent running")

    # The standby: duplicated from the active, asynchronously.
    for op in ("createInstance", "startDaemon"):
        step(t, p1, op)
    r = step(t, p1, "duplicate", {"host": p0.fqdn}, want=202)
    dup_id = r.get("id", "")
    t.ok(r.get("status") == "Running" and dup_id, "duplicate returns an id at once")
    st, r = p1.c.post("startRepAgent")
    t.is_(st, 409, "another order during the duplicate: 409")

    def dup_done():
        st, r = p1.c.get("/v1/async/" + dup_id)
        return r if st == 200 and r.get("complete") else None
    r = poll(dup_done, 120, 0.25) or {}
    t.is_((r.get("status"), r.get("errno")), ("Succeeded", 0), "the duplicate succeeds")
    if r.get("status") != "Succeeded":
        t.diag(str(r)[:3000])
    t.ok("adminpw" not in str(r), "its result shows no password")
    with open(argv_log) as f:
        argvs = [json.loads(line) for line in f]
    dups = [a for a in argvs if a[:2] == ["ttRepAdmin", "-duplicate"]]
    leaks = [a for a in argvs if any("adminpw" in x for x in a)]
    t.ok(dups and not leaks, "no utility the agents ran had the password among its arguments "
         "(%d runs, %d duplicates)" % (len(argvs), len(dups)))
    if leaks:
        t.diag(str(leaks)[:2000])
    t.is_((p1.state().get("async") or {}).get("id"), dup_id, "the state shows the duplicate")
    step(t, p1, "startRepAgent")
    s = poll(lambda: (lambda s: s if s.get("repState") == "STANDBY" else None)(p1.state()),
             60, 0.25) or p1.state()
    t.is_((s.get("database"), s.get("repState"), s.get("repAgent"), s.get("updatable")),
          ("Loaded", "STANDBY", "Running", "No"), "sample-1 becomes the STANDBY")

    # Commits with RETURN TWOSAFE on the active are all on the standby.
    # TWOSAFE needs AutoCommit off (TT8099): each COMMIT waits for the standby.
    sql = "autocommit 0; " + "; ".join(
        "insert into adm.orders values (%d, 'item %d'); commit" % (i, i)
        for i in range(1, ROWS + 1))
    rc, out = p0.utility("ttIsql", "-v1", "-e", sql + "; exit", "sample")
    t.ok(rc == 0 and "failed" not in out, "%d commits on the active" % ROWS)
    if rc != 0 or "failed" in out:
        t.diag(out)
    rc, out = p1.utility("ttIsql", "-v1", "-e", "select count(*) from adm.orders; exit",
                         "sample")
    t.like(out, "< %d >" % ROWS, "all %d are found on the standby" % ROWS)
    rc, out = p1.utility("ttIsql", "-v1", "-e",
                         "insert into adm.orders values (999, 'no'); exit", "sample")
    t.like(out, "16265", "the standby refuses writes")

    # The active's daemon dies; the standby is made ACTIVE and keeps every row.
    try:
        pid = int(open(p0.root + HOME + "/info/timestend.pid").read())
        os.kill(pid, signal.SIGKILL)
        killed = True
    except (OSError, ValueError):
        killed = False
    t.ok(killed, "the active's daemon is killed")
    s = poll(lambda: (lambda s: s if s.get("daemon") == "Down" else None)(p0.state()), 30,
             0.25) or p0.state()
    t.is_((s.get("daemon"), s.get("updatable"), s.get("open"), s.get("dbId")),
          ("Down", "No", "Unknown", "Unknown"), "sample-0 reports its daemon down")
    step(t, p1, "setRepState", {"state": "ACTIVE"})
    # The new active stops waiting for its lost peer (RETURN TWOSAFE would time out).
    step(t, p1, "setPeerFailed", {"peer": "sample", "host": p0.fqdn})
    step(t, p1, "setActive")
    s = p1.state()
    t.is_((s.get("repState"), s.get("updatable"), s.get("active")), ("ACTIVE", "Yes", True),
          "sample-1 is the updatable ACTIVE")
    rc, out = p1.utility("ttIsql", "-v1", "-e", "select count(*) from adm.orders; exit",
                         "sample")
    t.like(out, "< %d >" % ROWS, "it has every acknowledged row")
    rc, out = p1.utility("ttIsql", "-v1", "-e",
                         "autocommit 0; insert into adm.orders values (%d, 'after'); "
                         "commit; exit" % (ROWS + 1),
                         "sample")
    t.ok(rc == 0 and "failed" not in out, "and takes writes")
    if rc != 0 or "failed" in out:
        t.diag(out)
    # Orders sent again change nothing and succeed: TT12026 and TT12027 for the
    # replication agent, ttStatus for the daemon and the database (Oracle documents no
    # text for those); a failure that is not "it was so already" still fails.
    def again(pod, op, want_changed, text):
        st, r = pod.c.post(op)
        t.is_((st, r.get("changed"), r.get("message")), (200, want_changed, text),
              "%s: %s: %s" % (pod.name, op, text)) or t.diag(str(r)[:2000])
    again(p1, "startRepAgent", False, "the replication agent is already running")
    st, r = p0.c.post("load")
    t.ok(st >= 400 and "ttAdmin -ramLoad" in str(r.get("message")),
         "sample-0: load with its daemon down fails with ttAdmin's error") or t.diag(str(r))
    step(t, p0, "startDaemon")
    again(p0, "startDaemon", False, "the daemon is already running")
    again(p0, "load", True, "database sample loaded")
    again(p0, "load", False, "database sample is already loaded")
    again(p0, "stopRepAgent", False, "the replication agent is not running")
    again(p0, "unload", True, "database sample unloaded")
    again(p0, "unload", False, "the database is not loaded")
    step(t, p0, "stopDaemon")
    again(p0, "stopDaemon", False, "the daemon is not running")
    for p in pods:
        t.ok("adminpw" not in p.agent.log_text(), "%s: no password in the log" % p.name)
    # A clean stop after all this (in a sanitizer build: nothing leaked).
    p1.agent.proc.send_signal(signal.SIGTERM)
    try:
        rc = p1.agent.proc.wait(20)
    except Exception:
        rc = None
    t.is_(rc, 0, "sample-1: the agent stops on SIGTERM with status 0")
    if rc != 0:
        t.diag(p1.agent.log_text()[-3000:])


run(body)
