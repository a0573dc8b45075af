#!/usr/bin/python3
"""One simulated pod: instance, daemon, ttStatus/ttVersion formats, a
database from a DSN, users, grants, tables, sequences and the seed's checks
through ttIsql, ttAdmin, ttDestroy, and clear errors for bad input."""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttsimtest import run_test, BIN, HOME  # noqa: E402

ROW_RE = r"^(Subdaemon|Process|Replication|Server)\s{2,}\d+\s+0x[0-9a-f]{16}  .{30}\s*\d+$"


def body(t, w):
    pod = w.pod("sample-0")
    rc, out, err = pod.setup_instance()
    t.is_(rc, 0, "ttInstanceCreate exits 0")
    t.like(out, r"^Creating instance in %s \.\.\.$" % re.escape(HOME), "announces the instance")
    t.like(out, r"^Instance created successfully\.$", "reports success")
    t.ok(os.path.isfile(pod.root + HOME + "/bin/ttenv.sh") and
         os.path.isfile(pod.root + HOME + "/conf/timesten.conf"),
         "ttenv.sh and timesten.conf exist under the pod root")
    rc, out, err = pod.run("ttInstanceCreate", "-location", "/tt/home/timesten/instances",
                           "-name", "instance1")
    t.ok(rc == 1 and "already exists" in err and "Traceback" not in err,
         "a second ttInstanceCreate refuses with a message")

    rc, out, err = pod.run("ttVersion")
    t.like(out, r"^TimesTen Release 22\.1\.1\.31\.0 \(64 bit Linux/x86_64\) "
           r"\(instance1:6624\) \d{4}-\d\d-\d\dT", "ttVersion first line carries the image release")
    t.like(out, r"^  Instance home directory: %s$" % re.escape(HOME), "instance home in-pod path")
    t.like(out, r"^  Daemon home directory: %s/info$" % re.escape(HOME), "daemon home")
    pod.image = "registry.example/tt:latest"
    rc, out, err = pod.run("ttVersion", "-m")
    t.like(out, r"^version=22\.1\.1\.31\.0$", "untagged image falls back to the default release")
    pod.image = "registry.example.com/youraccount/timesten:18.1.4.11.0"
    rc, out, err = pod.run("ttVersion", "major1")
    t.is_(out, "18\n", "one attribute prints the bare value from the image tag")

    rc, out, err = pod.run("ttStatus")
    t.is_(rc, 1, "ttStatus exits 1 with the daemon down")
    t.is_(out, "ttStatus: Could not connect to the TimesTen daemon.\n"
               "If the TimesTen daemon is not running, please start it\n"
               "by running \"ttDaemonAdmin -start\".\n", "daemon-down message as documented")

    rc, out, err = pod.run("ttDaemonAdmin", "-start")
    m = re.match(r"^TimesTen Daemon \(PID: (\d+), port: 6624\) startup OK\.$", out.strip())
    t.ok(rc == 0 and m, "ttDaemonAdmin -start reports PID and port")
    pid = int(m.group(1)) if m else -1
    t.is_(pod.daemon_pid(), pid, "info/timestend.pid holds the daemon pid")
    rc, out, err = pod.run("ttDaemonAdmin", "-start")
    t.ok(rc == 1 and "already running" in out, "a second start says it is already running")

    rc, out, err = pod.run("ttStatus")
    t.like(out, r"^TimesTen status report as of \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n\n"
           r"Daemon pid %d port 6624 instance instance1\n"
           r"TimesTen server pid \d+ started on port 6625\n-{72}\n-{72}\n"
           r"Accessible by group \S+\nEnd of report$" % pid, "empty-instance report format")

    rc, out, err = pod.sql("create user scott identified by tiger; grant admin to scott; "
                           "create sequence scott.s; create table scott.emp ( id number not "
                           "null primary key, name char(32) )", verbosity="2")
    t.is_(rc, 0, "schema.sql-like statements succeed (database created on first connect)")
    t.like(out, r'^connect "DSN=sample";\nConnection successful: DSN=sample;UID=\w+;'
           r'DataStore=/tt/home/timesten/datastore/sample;DatabaseCharacterSet=AL32UTF8;'
           r'ConnectionCharacterSet=US7ASCII;PermSize=200;DDLReplicationLevel=3;\n'
           r'\(Default setting AutoCommit=1\)$', "connection banner as in the seed")
    t.ok(os.path.exists(pod.root + "/tt/home/timesten/datastore/sample.ds0"),
         "checkpoint file sample.ds0 exists")

    rc, out, err = pod.run("ttIsql", "-e", 'connect adding "uid=scott;pwd=tiger" as scott; '
                           "tables; exit", "sample")
    t.like(out, r"^scott: Command> tables;\n SCOTT\.EMP\n1 table found\.$",
           "seed check: connect adding ... as scott; tables; lists SCOTT.EMP")

    rc, out, err = pod.run("ttIsql", "-e", "insert into scott.emp values (scott.s.nextval, "
                           "'Alice'); insert into scott.emp values (scott.s.nextval, 'Bob'); "
                           "select * from scott.emp; select count(*) from scott.emp; "
                           "create table scott.emp (x number); "
                           "insert into scott.emp values (1, 'again'); "
                           "INSERT INTO scott.emp VALUES 'abcd'); exit", "sample")
    t.like(out, r"^Command> insert into scott\.emp values \(scott\.s\.nextval, 'Alice'\);\n"
           r"1 row inserted\.$", "insert reports 1 row inserted.")
    t.like(out, r"^< 1, Alice {27} >\n< 2, Bob {29} >\n2 rows found\.$",
           "select prints < v1, v2 > rows, CHAR padded, and the count")
    t.like(out, r"^< 2 >\n1 row found\.$", "count(*) prints < 2 >")
    t.like(out, r"^ 2207: Table SCOTT\.EMP already exists\nThe command failed\.$",
           "2207 right-aligned in five columns")
    t.like(out, r"^  907: Unique constraint \(SCOTT\.EMP\) violated at Rowid <\w+>\n"
           r"The command failed\.$", "duplicate key gives 907")
    t.like(out, r'^ 1001: Syntax error in SQL statement before or at: "\'abcd\'", '
           r"character position: 30\nINSERT INTO scott.emp VALUES 'abcd'\);\n {29}\^{6}\n"
           r"The command failed\.$", "syntax error gives 1001 with the position marked")
    t.is_(rc, 1, "ttIsql exits 1 when a command failed")

    rc, out, err = pod.sql("whenever sqlerror exit 3; select * from nosuch; select 1 from dual")
    t.ok(rc == 3 and "WHENEVER SQLERROR exiting." in out and "2206" in out,
         "WHENEVER SQLERROR EXIT 3 stops with status 3")
    rc, out, err = pod.sql("call ttRepStateGet")
    t.is_(out, "< IDLE >\n", "-v1 prints only the row of ttRepStateGet")

    rc, out, err = pod.run("ttIsql", "-v1", "-connStr", "DSN=sample;UID=scott;PWD=wrong",
                           "-e", "exit")
    t.ok(rc == 1 and " 7001: User authentication failed" in out, "bad password gives 7001")
    rc, out, err = pod.run("ttIsql", "-v1", "-connStr",
                           "DSN=sample;DataStore=/tt/home/timesten/datastore/other;"
                           "AutoCreate=0", "-e", "exit")
    t.ok(rc == 1 and "833" in out, "AutoCreate=0 on a missing database fails")

    rc, out, err = pod.run("ttStatus")
    blocks = out.split("-" * 72)
    block = next((b for b in blocks if "Data store /tt/home/timesten/datastore/sample" in b), "")
    t.like(block, r"^There are no connections to the data store\nOpen for user connections\n"
           r"Replication policy  : Manual\nCache Agent policy  : Manual\nPL/SQL enabled\.$",
           "unloaded data store block (RAM policy inUse unloads after the last disconnect)")

    rc, out, err = pod.run("ttAdmin", "-ramPolicy", "manual", "-ramLoad", "sample")
    t.like(out, r"^RAM Residence Policy            : manual\n"
           r"Manually Loaded In RAM          : True\n"
           r"Replication Agent Policy        : manual\n", "ttAdmin prints padded labels")
    rc, out, err = pod.run("ttAdmin", "-ramLoad", "sample")
    t.ok(rc == 7 and "TT8041" in err, "loading a loaded database exits 7")
    rc, out, err = pod.run("ttStatus")
    t.like(out, r"^There are \d+ connections to the data store\n"
           r"Shared Memory Key 0x[0-9a-f]{8} ID \d+\n", "loaded block has shared memory")
    t.like(out, r"^Type            PID     Context             Connection Name"
           r"              ConnID$", "connection table header")
    t.like(out, ROW_RE, "rows formatted %-16s%-8s%-20s%-30.30s%5d")
    t.like(out, r"^Subdaemon\s+%d\s+0x[0-9a-f]{16}  Manager\s+2047$" % pid,
           "subdaemon rows carry the daemon pid")
    t.like(out, r"^RAM residence policy: Manual$", "non-default RAM policy is shown")

    rc, out, err = pod.run("ttDestroy", "sample")
    t.ok(rc == 1 and "in use" in err, "ttDestroy refuses a loaded database")
    rc, out, err = pod.run("ttAdmin", "-ramUnload", "sample")
    t.like(out, r"^Manually Loaded In RAM          : False$", "ttAdmin -ramUnload unloads")
    rc, out, err = pod.run("ttAdmin", "-ramPolicy", "inUse", "sample")
    t.like(out, r"^RAM Residence Policy            : inUse$", "RAM policy back to inUse")

    rc, out, err = pod.run("ttDaemonAdmin", "-stop")
    t.like(out, r"^TimesTen Daemon \(PID: %d, port: 6624\) stopped\.$" % pid,
           "ttDaemonAdmin -stop reports the pid")
    rc, out, err = pod.run("ttDaemonAdmin", "-start")
    t.is_(rc, 0, "daemon restarts")
    rc, out, err = pod.sql("select name from scott.emp where id = 2")
    t.is_(out, "< Bob                              >\n", "data survives a daemon restart")

    pod.restart()
    rc, out, err = pod.run("ttStatus")
    t.is_(rc, 1, "killing the pod's process group kills its daemon")
    rc, out, err = pod.run("ttDaemonAdmin", "-start")
    rc, out, err = pod.sql("select count(*) from scott.emp")
    t.is_(out, "< 2 >\n", "committed rows survive the crash (recovered from the log)")

    rc, out, err = pod.run("ttDestroy", "sample")
    t.is_((rc, err), (0, ""), "ttDestroy is silent on success")
    t.ok(not os.path.exists(pod.root + "/tt/home/timesten/datastore/sample.ds0"),
         "checkpoint files are gone")
    rc, out, err = pod.run("ttStatus")
    t.ok("Data store" not in out, "ttStatus no longer lists the data store")

    for args in (("ttStatus", "-bogus"), ("ttIsql", "-v", "9", "sample"),
                 ("ttAdmin", "-ramPolicy"), ("ttRepAdmin", "-duplicate"),
                 ("ttDestroy",), ("ttDaemonAdmin",)):
        rc, out, err = pod.run(*args)
        t.ok(rc not in (0, None) and "Traceback" not in err and (out or err),
             "%s fails with a message, not a traceback" % " ".join(args))
    env_less = pod.env()
    del env_less["TIMESTEN_HOME"]
    p = subprocess.run([os.path.join(BIN, "ttStatus")], env=env_less, capture_output=True,
                       text=True)
    t.ok(p.returncode == 1 and "TIMESTEN_HOME" in p.stderr, "no TIMESTEN_HOME: clear error")


run_test(body)
