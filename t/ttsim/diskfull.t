#!/usr/bin/python3
"""A pod's volume full (`ttsimctl disk-full DIR on|off`), as TimesTen meets it: on the
active, a commit is rolled back with TT0778 and a checkpoint fails with TT0615, and both
work again once there is room; on the standby, the receiver waits, unacknowledged, and
catches up when there is room again; the active goes on committing (NO RETURN). Under
RETURN TWOSAFE the active's commit times out (TT8170); the transaction its client then
rolls back is not applied by the standby once it has room again, which goes on with
what the active commits next."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttsimtest import (AppConn, DATASTORE_DIR, HOME, count, make_pair, poll,  # noqa: E402
                       run_test)


def full(pod, on):
    return pod.run("ttsimctl", "disk-full", pod.root + DATASTORE_DIR, "on" if on else "off")


def log_of(pod):
    try:
        with open(pod.root + HOME + "/diag/ttmesg.log") as f:
            return f.read()
    except OSError:
        return ""


def body(t, w):
    a = w.pod("sample-0")
    b = w.pod("sample-1")
    if not make_pair(t, a, b, ""):
        return
    rc, out, err = a.sql("insert into scott.t values (1, 'room')")
    t.ok(rc == 0 and poll(lambda: count(b) == 1, 30), "a commit on the active reaches the standby")

    rc, out, err = full(a, True)
    t.ok(rc == 0 and "full: " in out, "ttsimctl disk-full DIR on") or t.diag(out + err)
    rc, out, err = a.sql("insert into scott.t values (2, 'full')")
    t.like(out + err, "778: Log write failed because file system is full",
           "the active's volume full: the commit fails with TT0778")
    t.is_(count(a), 1, "and is rolled back")
    rc, out, err = a.sql("call ttCkpt")
    t.like(out + err, "615: Checkpoint failure", "a checkpoint fails with TT0615")
    rc, out, err = full(a, False)
    t.ok(rc == 0 and "full: none" in out, "ttsimctl disk-full DIR off") or t.diag(out + err)
    rc, out, err = a.sql("insert into scott.t values (2, 'room again')")
    t.ok(rc == 0 and count(a) == 2, "room again: the commit succeeds") or t.diag(out + err)
    rc, out, err = a.sql("call ttCkpt")
    t.is_(rc, 0, "and a checkpoint")

    t.ok(poll(lambda: count(b) == 2, 30), "the standby has both")
    full(b, True)
    for k in (3, 4, 5):
        rc, out, err = a.sql("insert into scott.t values (%d, 'standby full')" % k)
    t.ok(rc == 0 and count(a) == 5, "the standby's volume full: the active commits on (NO RETURN)")
    t.ok(poll(lambda: "the receiver of" in log_of(b), 10), "the standby's receiver waits "
         "(its daemon log says TT0778)")
    t.is_(count(b), 2, "and applies nothing")
    full(b, False)
    t.ok(poll(lambda: count(b) == 5, 30), "room again: the standby catches up")

    # RETURN TWOSAFE (a 2 s return wait): the standby full, a commit times out; rolled
    # back by its client, it is never applied by the standby.
    c, d = w.pod("sample-2"), w.pod("sample-3")
    if not make_pair(t, c, d, 'RETURN TWOSAFE STORE "sample" ON "%s" RETURN WAIT TIME 2'
                     % c.fqdn):
        return
    app = AppConn(c)
    app.autocommit(False)
    app.sql("insert into scott.t values (1, 'acknowledged')")
    t.ok(not isinstance(app.sql("commit"), Exception), "TWOSAFE: a commit is acknowledged")
    full(d, True)
    app.sql("insert into scott.t values (2, 'timed out')")
    r = app.sql("commit")
    t.like(str(r), "8170", "the standby's volume full: the commit times out (TT8170)")
    app.sql("rollback")
    app.close()
    full(d, False)
    t.ok(poll(lambda: "dropped the link meanwhile, what it sent is not applied" in log_of(d), 10),
         "room again: the standby's receiver drops what the active sent before it rolled "
         "the transaction back")
    app = AppConn(c)
    app.autocommit(False)
    app.sql("insert into scott.t values (3, 'room again')")
    r = app.sql("commit")
    t.ok(not isinstance(r, Exception), "room again: a commit is acknowledged") or t.diag(str(r))
    app.close()
    rc, out, err = d.sql("select k from scott.t order by k")
    t.is_(out.split(), ["<", "1", ">", "<", "3", ">"],
          "the standby holds what was acknowledged, not the transaction rolled back")

    # A database loaded while its volume is full (its daemon killed, started again): the
    # checkpoint at load fails; once there is room, commits go to a new log file, which
    # the next recovery replays.
    e = w.pod("sample-4")
    e.setup_instance()
    e.run("ttDaemonAdmin", "-start")
    e.sql("create user scott identified by tiger; grant admin to scott; "
          "create table scott.t (k number not null primary key, v varchar2(20)); "
          "insert into scott.t values (1, 'before')")
    full(e, True)
    e.restart()
    e.run("ttDaemonAdmin", "-start")
    held = AppConn(e)  # keeps it loaded: no unload and load again once there is room
    t.is_(count(e), 1, "loaded with its volume full, the database has its row")
    t.like(log_of(e), "615: Checkpoint failure", "the checkpoint at load failed (daemon log)")
    full(e, False)
    r = held.sql("insert into scott.t values (2, 'room again')")
    held.close()
    t.ok(not isinstance(r, Exception) and count(e) == 2, "room again: a commit succeeds") or \
        t.diag(str(r))
    e.restart()
    e.run("ttDaemonAdmin", "-start")
    t.is_(count(e), 2, "after another crash, recovery has both rows")


run_test(body)
