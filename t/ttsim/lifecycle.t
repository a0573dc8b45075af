#!/usr/bin/python3
"""Process-group life cycle of simulated pods and the return services:
a frozen pod (SIGSTOP) stops answering and acknowledging until SIGCONT; a
terminated pod's daemon is dead; asynchronous replication (NO RETURN) ships
commits without waiting; two ACTIVE databases meeting leave only the most
recently activated one ACTIVE; a crashed TWOSAFE active catches up as
STANDBY without a duplicate."""

import json
import os
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttsimtest import run_test, poll, rep_state, count, make_pair  # noqa: E402


def daemon_request(pod, msg, timeout):
    """Send one request to the pod's daemon straight from here (no utility
    to start first); its reply, or None when none came in time."""
    s = socket.create_connection((pod.ip, 6624), timeout=5)
    try:
        s.settimeout(timeout)
        s.sendall((json.dumps(msg) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                return None
            data += chunk
        return json.loads(data)
    except socket.timeout:
        return None
    finally:
        s.close()


def body(t, w):
    a = w.pod("sample-0")
    b = w.pod("sample-1")
    make_pair(t, a, b, "RETURN TWOSAFE")

    # freeze the standby: commits cannot be acknowledged, its daemon hangs
    b.signal(signal.SIGSTOP)
    t.is_(daemon_request(b, {"op": "status"}, 0.5), None,
          "a request sent right after SIGSTOP is not answered")
    rc, out, err = b.run("ttStatus", timeout=3)
    t.is_(rc, None, "ttStatus in a frozen pod does not answer")
    start = time.monotonic()
    rc, out, err = a.sql("autocommit 0; call ttRepSyncSet(null, 2, null); "
                         "insert into scott.t values (1, 'frozen'); commit")
    took = time.monotonic() - start
    t.like(out, r"^ 8170: Receipt or commit acknowledgment not returned in the specified "
           r"timeout interval for XID:", "a TWOSAFE commit to a frozen standby gets 8170")
    t.ok(1.5 <= took < 30, "after the return wait time set by ttRepSyncSet (%.1fs)" % took)
    b.signal(signal.SIGCONT)
    rc, out, err = b.run("ttStatus", timeout=30)
    t.is_(rc, 0, "after SIGCONT the pod answers again")
    rc, out, err = a.sql("autocommit 0; insert into scott.t values (2, 'thawed'); commit")
    t.is_(rc, 0, "and TWOSAFE commits are acknowledged again")
    t.is_(poll(lambda: count(b) == count(a), 10), True, "the standby has the active's rows")

    # frozen just before a TWOSAFE commit (no heartbeat read since) that times
    # out and is rolled back: once thawed, the standby does not apply it
    b.signal(signal.SIGSTOP)
    rc, out, err = a.sql("autocommit 0; call ttRepSyncSet(null, 1, null); "
                         "insert into scott.t values (4, 'rolled back'); commit")
    b.signal(signal.SIGCONT)
    t.like(out, r"^ 8170: ", "a TWOSAFE commit right after the standby froze gets 8170")
    rc, out, err = a.sql("autocommit 0; insert into scott.t values (5, 'thawed'); commit")
    t.is_(rc, 0, "after SIGCONT the standby acknowledges again: it did not keep the rolled-back "
          "transaction")
    t.is_(poll(lambda: count(b) == count(a), 10), True, "and has the active's rows")

    # a crashed TWOSAFE active comes back IDLE and catches up as STANDBY
    a.kill()
    rc, out, err = b.sql("call ttRepStateSet('ACTIVE'); autocommit 0; "
                         "call ttRepSyncSet(null, 1, null); "
                         "insert into scott.t values (3, 'after failover'); commit")
    t.like(out, r"8170", "the new active's commit is not acknowledged without a standby")
    a.start_group()
    a.run("ttDaemonAdmin", "-start")
    t.is_(rep_state(a), "IDLE", "the recovered old active comes up IDLE")
    a.run("ttAdmin", "-repStart", "sample")
    t.is_(poll(lambda: rep_state(a) == "STANDBY", 30), True,
          "with its agent running it catches up and becomes STANDBY")
    t.is_(poll(lambda: count(a) == count(b), 10), True, "holding the new active's rows")
    rc, out, err = a.sql("call ttRepStateSet('ACTIVE')")
    t.is_(rc, 0, "ttRepStateSet('ACTIVE') is accepted on a STANDBY")
    t.is_(poll(lambda: sorted([rep_state(a), rep_state(b)]) == ["ACTIVE", "IDLE"] or
               sorted([rep_state(a), rep_state(b)]) == ["ACTIVE", "STANDBY"], 20), True,
          "two ACTIVE databases meeting leave exactly one ACTIVE")
    t.is_(rep_state(a), "ACTIVE", "the most recently activated one")
    t.is_(poll(lambda: rep_state(b) == "STANDBY", 30), True,
          "the other, without trapped transactions, becomes STANDBY")

    # SIGTERM to the pod's process group: its daemon is dead
    pid = a.daemon_pid()
    a.signal(signal.SIGTERM)
    a.leader.wait(timeout=10)
    rc, out, err = b.run("ttStatus")
    gone = poll(lambda: not os.path.exists("/proc/%d" % pid) or
                open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z", 10)
    t.ok(gone, "SIGTERM to the group ends the daemon process")
    a.start_group()
    rc, out, err = a.run("ttStatus")
    t.is_(rc, 1, "and ttStatus in the new container finds no daemon")

    # asynchronous replication between two fresh pods
    c = w.pod("async-0")
    d = w.pod("async-1")
    make_pair(t, c, d, "")
    rc, out, err = c.sql("insert into scott.t values (1, 'async')")
    t.is_(rc, 0, "NO RETURN: autocommitted inserts are allowed on the active")
    d.signal(signal.SIGSTOP)
    start = time.monotonic()
    rc, out, err = c.sql("insert into scott.t values (2, 'standby frozen')")
    t.ok(rc == 0 and time.monotonic() - start < 5,
         "and commit at once even with the standby frozen")
    d.signal(signal.SIGCONT)
    t.is_(poll(lambda: count(d) == 2, 20), True, "the standby receives them after SIGCONT")
    rc, out, err = c.sql("create table scott.later (k number not null primary key); "
                         "insert into scott.later values (7)")
    t.is_(poll(lambda: count(d, "scott.later") == 1, 20), True,
          "a table created on the active after the pair exists is replicated")
    for pod in (c, d):
        pod.run("ttAdmin", "-repPolicy", "always", "sample")
        pod.run("ttDaemonAdmin", "-stop")
        pod.run("ttDaemonAdmin", "-start")
    rc, out, err = d.run("ttStatus")
    t.like(out, r"^Replication policy  : Always\nReplication agent is running\.$",
           "with policy always the agent restarts with the daemon")
    t.is_((rep_state(c), rep_state(d)), ("ACTIVE", "STANDBY"),
          "a clean daemon stop and start keeps the roles")


run_test(body)
