#!/usr/bin/python3
"""Taking the writes off an active before its pod goes, on an asynchronous pair:
ttAdmin -close refuses new connections but the instance administrator's, and
stays through an unload; -disconnect -transactional ends idle connections soon
after (asynchronously) and the others when their transaction ends, -immediate rolls them back;
ttRepSubscriberWait waits until the standby acknowledged every commit made
before it, and gives < 01 > after its wait while the standby does not receive;
ttAdmin -open lets connections in again."""

import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttsimtest import AppConn, HOME, run_test, count, make_pair, poll  # noqa: E402

USER = "DSN=sample;UID=scott;PWD=tiger"


def code(reply):
    """The TimesTen error number of a reply, 0 when it succeeded."""
    return getattr(reply, "code", 0)


def block(pod):
    """The data store's block of ttStatus."""
    rc, out, err = pod.run("ttStatus")
    return out.split("Data store ", 1)[-1]


def shm_ids(pod):
    """The IDs of "Shared Memory Key 0x... ID n" and of PL/SQL's segment."""
    m = re.search(r"^Shared Memory Key 0x[0-9a-f]{8} ID (\d+)\n"
                  r"PL/SQL Memory Key 0x[0-9a-f]{8} ID (\d+) ", block(pod), re.M)
    return (int(m.group(1)), int(m.group(2))) if m else None


def app_rows(pod):
    return re.findall(r"^(?:Process|Server) .*$", block(pod), re.M)


def stalls(pod):
    """The simulator's reports of what stalled in the pod (diag/ttsim.stalls)."""
    try:
        with open(pod.root + HOME + "/diag/ttsim.stalls") as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


def body(t, w):
    # What waits longer than a second is reported (the 2-second ttRepSubscriberWait below).
    w.base_env["TTSIM_STALL_SECONDS"] = "1"
    a = w.pod("sample-0")
    b = w.pod("sample-1")
    make_pair(t, a, b, "")
    rc, out, err = a.sql("insert into scott.t values (1, 'before')")
    ids = [shm_ids(a), shm_ids(a)]
    t.ok(ids[0] and ids[0] == ids[1] and ids[0][1] == ids[0][0] - 1,
         "ttStatus: the same shared memory IDs each time, PL/SQL's one below") or t.diag(ids)
    b_ids = shm_ids(b)

    # -- closed to user connections ------------------------------------------
    rc, out, err = a.run("ttAdmin", "-close", "sample")
    t.ok(rc == 0 and re.search(r"^Database State {18}: Closed$", out, re.M),
         "ttAdmin -close: Database State Closed") or t.diag(out + err)
    t.like(block(a), r"^Closed to user connections$", "ttStatus: Closed to user connections")
    rc, out, err = a.run("ttIsql", "-v1", "-e", "exit", "-connStr", USER)
    t.like(out, r"^ 8006: ", "a new direct connection of a user gets 8006")
    t.is_(connect_code(a, server=True), 8006, "and so does a client/server one")
    rc, out, err = a.sql("select count(*) from scott.t")
    t.is_((rc, out), (0, "< 1 >\n"), "the instance administrator still connects")
    rc, out, err = a.run("ttAdmin", "-close", "sample")
    t.ok(rc != 0 and "TT12333: Database already closed" in err,
         "closing a closed database: TT12333") or t.diag(out + err)

    # the state belongs to the database, not to its being loaded
    rc, out, err = b.run("ttAdmin", "-close", "sample")
    b.run("ttAdmin", "-repStop", "sample")
    rc, out, err = b.run("ttStatus")
    t.like(out, r"There are no connections to the data store\nClosed to user connections",
           "the standby unloaded (RAM policy inUse) is still closed")
    b.run("ttAdmin", "-repStart", "sample")
    t.like(block(b), r"^Closed to user connections$", "and loaded again by its agent, too")
    t.ok(shm_ids(b) and shm_ids(b)[0] > b_ids[0],
         "loaded again, it has new shared memory segments") or t.diag((b_ids, shm_ids(b)))
    rc, out, err = b.run("ttAdmin", "-open", "sample")
    t.ok(rc == 0 and re.search(r"^Database State {18}: Open$", out, re.M),
         "ttAdmin -open opens it")
    rc, out, err = b.run("ttAdmin", "-open", "sample")
    t.ok(rc != 0 and "TT12332: Database already open" in err,
         "opening an open database: TT12332") or t.diag(out + err)

    # -- forced disconnect -----------------------------------------------------
    rc, out, err = a.run("ttAdmin", "-open", "sample")
    idle_cs = AppConn(a, server=True)
    idle_direct = AppConn(a, server=False)
    busy = AppConn(a, server=True)
    busy.autocommit(False)
    t.is_(code(busy.sql("insert into scott.t values (2, 'in flight')")), 0,
          "a client/server connection has a transaction open")
    t.is_(len(app_rows(a)), 3, "ttStatus shows the three connections (Process and Server rows)")
    a.run("ttAdmin", "-close", "sample")
    rc, out, err = a.run("ttAdmin", "-disconnect", "sample")
    t.ok(rc != 0 and "TT12330" in err, "-disconnect needs an urgency (TT12330)")
    start = time.monotonic()
    rc, out, err = a.run("ttAdmin", "-disconnect", "-transactional", "sample")
    t.ok(rc == 0 and time.monotonic() - start < 5, "-disconnect -transactional returns at once")
    # The disconnect is asynchronous, as TimesTen's: ttStatus shows when it is done.
    t.ok(poll(lambda: len(app_rows(a)) == 1, 10),
         "the connections without a transaction end soon after; the one in a transaction stays")
    t.is_((code(idle_cs.sql("select count(*) from scott.t")),
           code(idle_direct.sql("select count(*) from scott.t"))), (994, 994),
          "the ended connections get 994")
    t.is_(code(busy.sql("insert into scott.t values (3, 'in flight')")), 0,
          "and goes on with its transaction")
    t.is_(code(busy.sql("commit")), 0, "its commit succeeds")
    t.is_(code(busy.sql("select count(*) from scott.t")), 994, "then it is disconnected")
    t.is_(app_rows(a), [], "ttStatus shows no application connection left")
    for c in (idle_cs, idle_direct, busy):
        c.close()

    a.run("ttAdmin", "-open", "sample")
    stuck = AppConn(a, server=False)
    stuck.autocommit(False)
    stuck.sql("insert into scott.t values (4, 'rolled back')")
    a.run("ttAdmin", "-disconnect", "-immediate", "sample")
    t.ok(poll(lambda: app_rows(a) == [], 10), "-disconnect -immediate ends a connection in a "
         "transaction too")
    t.is_(code(stuck.sql("commit")), 994, "its commit then gets 994")
    stuck.close()
    rc, out, err = a.sql("select k from scott.t order by k")
    t.is_(out, "< 1 >\n< 2 >\n< 3 >\n", "its transaction was rolled back, the committed one kept")

    # -- ttRepSubscriberWait ---------------------------------------------------
    t.ok(poll_count(b, 3), "the standby has the rows committed so far")
    a.run("ttAdmin", "-close", "sample")
    b.run("ttAdmin", "-repStop", "sample")
    a.sql("insert into scott.t values (5, 'unsent'); insert into scott.t values (6, 'unsent')")
    start = time.monotonic()
    rc, out, err = a.sql("call ttRepSubscriberWait(NULL, NULL, NULL, NULL, 2)")
    took = time.monotonic() - start
    t.is_(out, "< 01 >\n", "with the standby's agent stopped, ttRepSubscriberWait gives < 01 >")
    t.ok(2 <= took < 10, "after its wait of 2 s (%.1f s)" % took)
    t.is_(count(b), 3, "the standby does not have the last commits")
    seen = {(r["what"], r.get("prog") or r["request"].get("op")): r for r in stalls(a)}
    rep = seen.get(("request", "exec"))
    t.ok(rep and "ttRepSubscriberWait" in rep["request"].get("sql", "") and
         "wait_ack" in rep["stack"] and rep["seconds"] >= 1,
         "diag/ttsim.stalls: the daemon request still waiting after 1 s, with where it "
         "waits") or t.diag(json.dumps(list(seen.values()), indent=1))
    util = seen.get(("utility", "ttIsql"))
    t.ok(util and util["pod_ip"] == a.ip and "recv" in util["stack"],
         "diag/ttsim.stalls: the utility still running after 1 s, with its stack") \
        or t.diag(json.dumps(list(seen.values()), indent=1))
    b.run("ttAdmin", "-repStart", "sample")
    start = time.monotonic()
    rc, out, err = a.sql("call ttRepSubscriberWait(NULL, NULL, NULL, NULL, 30)")
    t.is_(out, "< 00 >\n", "with it running again: < 00 >, as the instance administrator of "
          "a closed database")
    t.ok(time.monotonic() - start > 0.1, "once the standby caught up")
    t.is_(count(b), 5, "right then, the standby has every commit made before the call")
    rc, out, err = a.sql("call ttRepSubscriberWait(NULL, NULL, NULL, NULL, 30)")
    t.is_(out, "< 00 >\n", "called again with nothing new: < 00 >")
    rc, out, err = a.sql("autocommit 0; insert into scott.t values (7, 'open'); "
                         "call ttRepSubscriberWait(NULL, NULL, NULL, NULL, 1)")
    t.like(out, r"^ 8197: ", "not with a transaction open (8197)")

    rc, out, err = a.run("ttAdmin", "-open", "sample")
    t.is_(connect_code(a, server=True), 0, "after ttAdmin -open users connect again")

    # A transaction open when the active is deactivated cannot commit: it was never shipped
    # and never will be, so an acknowledged commit would be lost with the database.
    late = AppConn(a)
    late.autocommit(False)
    t.is_(code(late.sql("insert into scott.t values (8, 'late')")), 0,
          "a transaction inserts on the active")
    rc, out, err = a.sql("call ttRepDeactivate")
    t.is_(rc, 0, "ttRepDeactivate while it is open")
    reply = late.sql("commit")
    t.is_(code(reply), 16265, "its commit on the IDLE database gets 16265 (%s)" % reply)
    rc, out, err = a.sql("select count(*) from scott.t where k = 8")
    t.is_(out, "< 0 >\n", "and the row is not on the database")
    late.close()


def connect_code(pod, server):
    """0 when a user connects, else the TimesTen error number."""
    try:
        AppConn(pod, server=server).close()
        return 0
    except Exception as e:
        return getattr(e, "code", -1)


def poll_count(pod, n, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if count(pod) == n:
            return True
        time.sleep(0.1)
    return False


run_test(body)
