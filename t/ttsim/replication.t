#!/usr/bin/python3
"""Two simulated pods as an active standby pair: scheme, ACTIVE, duplicate,
STANDBY; RETURN TWOSAFE commits are all on the standby; the active's pod is
killed, the standby is set ACTIVE and keeps every acknowledged row; the old
active comes back and catches up as the new STANDBY."""

import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttsimtest import run_test, poll, BIN, HOME  # noqa: E402

REPSCHEMES = r"""Replication Scheme Active Standby:

  Master Store: SAMPLE on SAMPLE-0\.SAMPLE\.DEFAULT\.SVC\.CLUSTER\.LOCAL
  Master Store: SAMPLE on SAMPLE-1\.SAMPLE\.DEFAULT\.SVC\.CLUSTER\.LOCAL

  Excluded Tables:
    None

  Excluded Cache Groups:
    None

  Excluded sequences:
    None

  Store: SAMPLE on SAMPLE-0\.SAMPLE\.DEFAULT\.SVC\.CLUSTER\.LOCAL
    Port: 4444
    Log Fail Threshold: \(none\)
    Retry Timeout: 120 seconds
    Compress Traffic: Disabled

  Store: SAMPLE on SAMPLE-1\.SAMPLE\.DEFAULT\.SVC\.CLUSTER\.LOCAL
    Port: 4444
    Log Fail Threshold: \(none\)
    Retry Timeout: 120 seconds
    Compress Traffic: Disabled

1 replication scheme found\."""


def rep_state(pod):
    rc, out, err = pod.sql("call ttRepStateGet", timeout=30)
    m = re.match(r"^< (\w+) >$", out.strip())
    return m.group(1) if m else None


def client(world, pod, *args):
    cmd = [os.path.join(BIN, "ttsim-client"), "-host", pod.ip, "-connStr",
           "DSN=sample;UID=scott;PWD=tiger"] + list(args)
    env = dict(world.base_env)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def keys(world, pod):
    p = client(world, pod, "list", "-table", "scott.t")
    return [int(x) for x in p.stdout.split()] if p.returncode == 0 else None


def body(t, w):
    a = w.pod("sample-0")
    b = w.pod("sample-1")
    for pod in (a, b):
        pod.setup_instance()
        rc, out, err = pod.run("ttDaemonAdmin", "-start")
        t.is_(rc, 0, "%s: daemon started" % pod.name)

    rc, out, err = a.sql("create user scott identified by tiger; grant admin to scott; "
                         "create sequence scott.s; create table scott.emp (id number not null "
                         "primary key, name char(32)); create table scott.t (k number not null "
                         "primary key, v varchar2(64)); insert into scott.emp values "
                         "(scott.s.nextval, 'before the pair')")
    t.is_(rc, 0, "database, admin user and schema on the intended active")
    create = ('create active standby pair "sample" on "%s", "sample" on "%s" RETURN TWOSAFE '
              'store "sample" on "%s" PORT 4444 FAILTHRESHOLD 0 '
              'store "sample" on "%s" PORT 4444 FAILTHRESHOLD 0'
              % (a.fqdn, b.fqdn, a.fqdn, b.fqdn))
    rc, out, err = a.sql(create + "; call ttRepStateSet('ACTIVE'); call ttRepStateGet")
    t.is_((rc, out), (0, "< ACTIVE >\n"), "scheme created as the operator writes it; ACTIVE")
    rc, out, err = a.run("ttAdmin", "-repStart", "sample")
    t.like(out, r"^Replication Manually Started    : True$", "rep agent started with ttAdmin")
    rc, out, err = a.run("ttStatus")
    t.like(out, r"^Replication\s+\d+\s+0x[0-9a-f]{16}  REPLISTENER\s+\d+$",
           "ttStatus shows the replication agent's REPLISTENER")
    t.like(out, r"^Replication agent is running\.$", "and says it is running")

    rc, out, err = b.run("ttRepAdmin", "-duplicate", "-from", "sample", "-host", a.fqdn,
                         "-UID", "scott", "-PWD", "wrong", "sample")
    t.ok(rc == 1 and "7001" in err, "duplicate with a wrong password is refused (7001)")
    rc, out, err = b.run("ttRepAdmin", "-duplicate", "-from", "sample", "-host", a.fqdn,
                         "-UID", "scott", "-PWD", "tiger", "sample")
    t.is_((rc, out, err), (0, "", ""), "ttRepAdmin -duplicate copies the database, silently")
    t.is_(rep_state(b), "IDLE", "the copy comes up IDLE")
    rc, out, err = b.run("ttAdmin", "-repStart", "sample")
    t.is_(rc, 0, "standby's rep agent started")
    t.is_(poll(lambda: rep_state(b) == "STANDBY", 30), True, "the copy becomes STANDBY")
    rc, out, err = b.run("ttIsql", "-v2", "-e", "repschemes; exit", "sample")
    t.like(out, "^" + REPSCHEMES + "$", "repschemes on the standby shows the copied scheme")
    rc, out, err = b.sql("select name from scott.emp")
    t.is_(out, "< before the pair" + " " * 17 + " >\n", "rows from before the pair were copied")

    p = client(w, a, "commit-loop", "-table", "scott.t", "-start", "1", "-count", "300",
               "-timeout", "60")
    acked = [int(x) for x in p.stdout.split()]
    t.is_(acked, list(range(1, 301)), "300 TWOSAFE commits acknowledged through port 6625")
    t.is_(keys(w, b), acked, "every acknowledged row is on the standby")
    t.is_(client(w, a, "updatable").stdout, "Yes\n", "the active is updatable")
    t.is_(client(w, b, "updatable").stdout, "No\n", "the standby is not")
    rc, out, err = a.run("ttsimctl", "databases")
    t.is_((rc, out), (0, "host=sample-0 ip=%s dsn=sample loaded=yes repstate=ACTIVE updatable=yes\n"
                         "host=sample-1 ip=%s dsn=sample loaded=yes repstate=STANDBY updatable=no\n"
                         % (a.ip, b.ip)),
          "ttsimctl databases: the server's own view of both") or t.diag(err)

    rc, out, err = b.sql("insert into scott.t values (0, 'x')")
    t.like(out, r"^16265: This database is currently the STANDBY\.  Change to SCOTT\.T "
           r"not permitted\.\nThe command failed\.$", "writes on the STANDBY get 16265")
    rc, out, err = a.sql("insert into scott.t values (0, 'x')")
    t.like(out, r"^ 8099: TWOSAFE operation not permitted with AutoCommit = 1\.",
           "TWOSAFE with AutoCommit=1 gets 8099")
    rc, out, err = a.sql("call ttReplicationStatus")
    t.like(out, r"^< SAMPLE, SAMPLE-1\.SAMPLE\.DEFAULT\.SVC\.CLUSTER\.LOCAL, 4444, start, 1, "
           r"\d+, _ACTIVESTANDBY, TTREP >$", "ttReplicationStatus on the active shows the peer")
    rc, out, err = a.run("ttRepAdmin", "-receiver", "-list", "sample")
    t.like(out, r"^SAMPLE\s+SAMPLE-1\.SAMPLE\.DEFAULT\.\s+4444 Start\s+\d+$",
           "ttRepAdmin -receiver -list shows the standby")

    # failover under load: the client keeps committing while the active dies
    loop = subprocess.Popen([os.path.join(BIN, "ttsim-client"), "-host", a.ip, "-connStr",
                             "DSN=sample;UID=scott;PWD=tiger", "commit-loop", "-table",
                             "scott.t", "-start", "1000", "-timeout", "60"],
                            env=w.base_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    got = []
    deadline = time.monotonic() + 30
    while len(got) < 200 and time.monotonic() < deadline:
        line = loop.stdout.readline()
        if not line:
            break
        got.append(int(line))
    a.kill()
    t.ok(len(got) >= 200, "the client was committing when the active's pod was killed")
    rc, out, err = b.sql("call ttRepStateSet('ACTIVE'); call ttRepStateGet")
    t.is_(out, "< ACTIVE >\n", "the standby is set ACTIVE")
    loop.terminate()
    rest, _ = loop.communicate(timeout=30)
    got += [int(x) for x in rest.split()]
    on_b = set(keys(w, b) or [])
    lost = [k for k in got if k not in on_b]
    t.is_(lost, [], "every acknowledged commit (%d) survives the failover" % len(got))
    t.is_(client(w, b, "updatable").stdout, "Yes\n", "the new active is updatable")
    p = client(w, b, "commit-loop", "-table", "scott.t", "-start", "100000", "-count", "1",
               "-timeout", "5")
    t.ok(p.stdout == "" and "key 100000: TT8170: " in p.stderr,
         "with the peer gone a TWOSAFE commit times out (8170) and is not acknowledged")
    rc, out, err = b.sql("call ttRepStateSave('FAILED', 'sample', '%s')" % a.fqdn)
    t.is_(rc, 0, "the old active is recorded as FAILED")
    p = client(w, b, "commit-loop", "-table", "scott.t", "-start", "200000", "-count", "20",
               "-timeout", "60")
    t.is_(len(p.stdout.split()), 20, "commits no longer wait once the peer is FAILED")

    # the old active's pod comes back: recover it by duplicating the new active
    a.restart()
    rc, out, err = a.run("ttDaemonAdmin", "-start")
    t.is_(rc, 0, "the old active's daemon restarts in the new container")
    rc, out, err = a.run("ttDestroy", "sample")
    t.is_(rc, 0, "its stale database is destroyed")
    rc, out, err = a.run("ttRepAdmin", "-duplicate", "-from", "sample", "-host", b.fqdn,
                         "-UID", "scott", "-PWD", "tiger", "sample")
    t.is_(rc, 0, "and duplicated from the new active")
    a.run("ttAdmin", "-repStart", "sample")
    t.is_(poll(lambda: rep_state(a) == "STANDBY", 30), True, "it becomes the new STANDBY")
    p = client(w, b, "commit-loop", "-table", "scott.t", "-start", "300000", "-count", "50",
               "-timeout", "60")
    t.is_(len(p.stdout.split()), 50, "TWOSAFE commits are acknowledged again")
    t.is_(keys(w, a), keys(w, b), "both databases hold the same rows")

    # the simulator's own record of when each database could take writes
    got = {}
    for pod in (a, b):
        with open(pod.root + HOME + "/diag/ttsim.history") as f:
            got[pod.name] = [json.loads(line) for line in f]
    ups = {n: [(r["updatable"], r["why"]) for r in recs] for n, recs in got.items()}
    t.is_(ups["sample-0"][:5], [(True, "created"), (False, "unloaded"), (True, "loaded"),
                                (False, "active standby pair created"), (True, "IDLE to ACTIVE")],
          "ttsim.history: the active took writes until its pair was created, then once ACTIVE")
    died = [r for r in got["sample-0"] if r["why"] == "daemon died"]
    promoted = [r for r in got["sample-1"] if r["updatable"]]
    t.ok(len(died) == 1 and len(promoted) == 1 and not any(u for u, _ in ups["sample-0"][
        ups["sample-0"].index((False, "daemon died")):]) and died[0]["server"] == promoted[0]["server"]
         and died[0]["seq"] < promoted[0]["seq"],
         "ttsim.history: the standby took writes only after the old active's daemon died, "
         "and the old active never again") or t.diag(str(ups))

run_test(body)
