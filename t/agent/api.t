#!/usr/bin/python3
"""The agent's API as the operator meets it, with stand-in utilities that print what
TimesTen's documentation shows (no simulator needed): TLS refusals, every bad input, one
operation at a time, time limits, passwords never shown, the DSN written from db.ini,
certificate rotation without restart, and a clean stop."""

import os
import re
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import HOME, Agent, make_certs, poll, run  # noqa: E402

STATUS = """#!/bin/sh
cat <<'EOF'
TimesTen status report as of Thu May 26 14:02:13 2022

Daemon pid 706 port 6624 instance instance1
TimesTen server pid 713 started on port 6625
------------------------------------------------------------------------
------------------------------------------------------------------------
Accessible by group timesten
End of report
EOF
"""
VERSION = """#!/bin/sh
echo "TimesTen Release 22.1.1.18.0 (64 bit Linux/x86_64) (instance1:6624) 2023-09-07T15:13:39Z"
"""
# Sleeps as long as the pod's stub-sleep file says, then reports as TimesTen does.
DAEMONADMIN = """#!/bin/sh
s=$(cat "$POD_ROOT/stub-sleep" 2>/dev/null || echo 0)
echo "$$" > "$POD_ROOT/stub-pid"
sleep "$s"
case "$1" in
-start) echo "TimesTen Daemon (PID: 706, port: 6624) startup OK." ;;
*) echo "TimesTen Daemon (PID: 706, port: 6624) stopped." ;;
esac
"""
# Echoes its SQL file (as a syntax error would) and fails, to show what the agent lets out.
ISQL = """#!/bin/sh
echo "$@" >> "$POD_ROOT/stub-isql-args"
while [ $# -gt 0 ]; do
  if [ "$1" = -f ]; then cat "$POD_ROOT$2"; fi
  shift
done
if [ -f "$POD_ROOT/stub-isql-fail" ]; then
  echo " 1001: Syntax error in SQL statement"
  echo "The command failed."
fi
exit 0
"""
ADMIN = """#!/bin/sh
echo "$@" >> "$POD_ROOT/stub-admin-args"
echo "RAM Residence Policy            : manual"
"""
PASSWORD = "S3cret-Pw!x"


def stub_instance(root):
    for d in ("conf", "bin"):
        os.makedirs(root + HOME + "/" + d, exist_ok=True)
    with open(root + HOME + "/conf/timesten.conf", "w") as f:
        f.write("instance_name=instance1\ndaemon_port=6624\n")
    for name, text in (("ttenv.sh", "#!/bin/sh\n"), ("ttStatus", STATUS),
                       ("ttVersion", VERSION), ("ttDaemonAdmin", DAEMONADMIN),
                       ("ttIsql", ISQL), ("ttAdmin", ADMIN)):
        path = root + HOME + "/bin/" + name
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)


def body(t, work, cleanups):
    certs = os.path.join(work, "certs")
    make_certs(certs, "127.0.0.1", "localhost")
    root = os.path.join(work, "sample-0")
    os.makedirs(root)
    stub_instance(root)
    agent = Agent(root, "127.0.0.1", "sample-0", certs,
                  args=["--cert-check", "1", "--state-max-age", "200"])
    cleanups.append(agent.stop)
    c = agent.client()

    # --- TLS ---
    st, s = c.get()
    t.is_(st, 200, "GET /v1/state with the operator's certificate answers 200")
    t.is_((s.get("apiVersion"), s.get("instance"), s.get("daemon"), s.get("release")),
          ("v1", "Exists", "Up", "22.1.1.18.0"), "the state says instance, daemon and release")
    t.is_((s.get("database"), s.get("repScheme"), s.get("dsn")), ("None", "None", "Unknown"),
          "with no DSN there is no database")
    t.is_((s.get("open"), s.get("dbId")), ("Unknown", "Unknown"),
          "and whether it is open and its shared memory ID are Unknown")
    t.is_(s.get("memory", {}).get("limitBytes"), "Unknown",
          "memory is Unknown without a cgroup")
    rss = s.get("memory", {}).get("agentRssKB")
    t.ok(isinstance(rss, int) and 100 < rss < 1024 * 1024,
         "memory.agentRssKB: the agent's own VmRSS (%r KB)" % rss)
    t.ok(agent.client(cert=None).refused(), "a client without a certificate is refused")
    t.ok(agent.client(cert="other").refused(), "a client certificate of another CA is refused")
    t.ok(agent.client(cert="server-as-client").refused(),
         "the agents' server certificate is not accepted as a client")
    t.ok(agent.client(ca="other-ca.crt").refused(),
         "a client trusting another CA refuses the agent")
    t.like(agent.log_text(), "client certificate refused",
           "the agent logs a refused client certificate")

    # --- bad input ---
    st, r = c.post("startDaemon", raw="{not json")
    t.is_((st, r.get("code"), r.get("reason")), (400, 400, "BadRequest"),
          "malformed JSON: 400 with a JSON error")
    t.like(r.get("message"), "not valid JSON", "saying the body is not JSON")
    st, r = c.post("startDaemon", raw="[1, 2]")
    t.is_(st, 400, "a body that is not an object: 400")
    st, r = c.post("noSuchThing", {})
    t.is_((st, r.get("reason")), (404, "NotFound"), "an unknown operation: 404")
    t.like(r.get("message"), "noSuchThing", "naming it")
    st, r = c.get("/v2/state")
    t.is_((st, r.get("code")), (404, 404), "an unknown path: 404 in JSON")
    st, r = c.request("GET", "/v1/ops/startDaemon")
    t.is_((st, r.get("reason")), (405, "MethodNotAllowed"), "GET on an operation: 405")
    st, r = c.request("DELETE", "/v1/state")
    t.is_(st, 405, "DELETE on the state: 405")
    st, r = c.post("startDaemon", {"bogus": 1})
    t.is_(st, 400, "an unknown field: 400")
    t.like(r.get("message"), "bogus", "naming the field")
    st, r = c.post("setRepState", {"state": "LEADER"})
    t.is_(st, 400, "a bad value: 400")
    st, r = c.post("startDaemon", {"timeoutSeconds": "soon"})
    t.is_(st, 400, "a string where a number belongs: 400")
    st, r = c.post("createRepScheme", {"statement": "DROP TABLE x"})
    t.is_(st, 412, "an operation needing a database before there is one: 412")
    st, r = c.post("quiesce", {"waitSeconds": 60})
    t.is_(st, 412, "quiesce before there is a database: 412")
    for bad in (0, 86401, "60", 1.5):
        st, r = c.post("quiesce", {"waitSeconds": bad})
        t.is_(st, 400, "quiesce with waitSeconds %r: 400" % (bad,))
    t.like(r.get("message"), "waitSeconds: expected an integer from 1 to 86400",
           "saying what waitSeconds takes")
    st, r = c.post("openDatabase", {"waitSeconds": 1})
    t.is_(st, 400, "openDatabase takes no waitSeconds: 400")
    st, r = c.post("startDaemon", raw="{" + '"x": "' + "a" * 100000 + '"}')
    t.is_((st, r.get("reason")), (413, "RequestEntityTooLarge"), "a body over 64 KiB: 413")
    st, s = c.get("/v1/ops")
    t.ok(st == 200 and any(o["name"] == "duplicate" and o["async"] for o in s["operations"]),
         "GET /v1/ops lists the operations, duplicate asynchronous")
    t.ok(any(o["name"] == "quiesce" and not o["async"] and
             o["fields"] == ["waitSeconds", "timeoutSeconds"] for o in s["operations"]) and
         any(o["name"] == "openDatabase" for o in s["operations"]),
         "and quiesce (synchronous, waitSeconds) and openDatabase")

    # --- one order at a time; reads always answered ---
    with open(root + "/stub-sleep", "w") as f:
        f.write("2\n")
    result = {}

    def slow():
        result["r"] = agent.client().post("startDaemon")

    th = threading.Thread(target=slow)
    th.start()
    poll(lambda: os.path.exists(root + "/stub-pid"), 10)
    st, r = agent.client().post("stopDaemon")
    t.is_((st, r.get("reason")), (409, "Busy"), "a second order while one runs: 409")
    t.like(r.get("message"), "startDaemon", "naming the running operation")
    t0 = time.monotonic()
    st, s = agent.client().get()
    t.ok(st == 200 and time.monotonic() - t0 < 1.5, "the state is answered meanwhile")
    t.is_((s.get("operation") or {}).get("operation"), "startDaemon",
          "and shows the running operation")
    th.join(30)
    st, r = result.get("r", (None, {}))
    t.is_((st, r.get("status"), r.get("changed")), (200, "Succeeded", True),
          "the first order ends with 200")
    t.like(r.get("steps", [{}])[0].get("output"), "startup OK", "with the utility's output")
    t.is_(r.get("steps", [{}])[0].get("command"), "ttDaemonAdmin -start",
          "and its command line")

    # --- time limits ---
    with open(root + "/stub-sleep", "w") as f:
        f.write("60\n")
    os.unlink(root + "/stub-pid")
    t0 = time.monotonic()
    st, r = c.post("startDaemon", {"timeoutSeconds": 1})
    t.is_((st, r.get("reason")), (504, "Timeout"), "a utility past its time limit: 504")
    t.ok(time.monotonic() - t0 < 10, "answered soon after the limit")
    t.like(r.get("message"), "time limit", "saying it was killed")
    pid = int(open(root + "/stub-pid").read())
    t.ok(poll(lambda: not os.path.exists("/proc/%d" % pid) or
              open("/proc/%d/stat" % pid).read().split()[2] == "Z", 10),
         "and the utility is gone")
    os.unlink(root + "/stub-sleep")

    # --- the DSN from db.ini, and the utilities createDatabase runs ---
    with open(root + "/ttconfig/db.ini", "w") as f:
        f.write("PermSize=200\nTempSize=100\n# a comment\n")
    st, r = c.post("createDatabase", {"attributes": {"DDLReplicationLevel": 3,
                                                     "AutoCreate": "0"}})
    t.is_((st, r.get("status")), (200, "Succeeded"), "createDatabase succeeds")
    t.is_([s["command"].split(" ")[0:3] for s in r.get("steps", [])],
          [["ttVersion"], ["ttIsql", "-v1", "-e"], ["ttAdmin", "-ramPolicy", "manual"],
           ["ttAdmin", "-ramLoad", "sample"]],
          "ttVersion, ttIsql to create, ttAdmin to set the RAM policy and load")
    t.like(r["steps"][1]["command"], "-connStr 'DSN=sample;AutoCreate=1'",
           "the database is created through the DSN named after the pod")
    ini = open(root + HOME + "/conf/sys.odbc.ini").read()
    t.like(ini, "[ODBC Data Sources]\nsample=TimesTen 22.1 Driver\n", "the DSN is listed")
    t.like(ini, "[sample]\nDataStore=/tt/home/timesten/datastore/sample\n"
                "DatabaseCharacterSet=AL32UTF8\nConnectionCharacterSet=AL32UTF8\n"
                "PermSize=200\nTempSize=100\nDDLReplicationLevel=3\nAutoCreate=0\n",
           "with its DataStore, db.ini and the operator's attributes")
    t.ok(os.path.isdir(root + "/tt/home/timesten/datastore"), "the database directory exists")
    with open(root + "/ttconfig/db.ini", "w") as f:
        f.write("DataStore=/elsewhere\n")
    st, r = c.post("createDatabase")
    t.is_((st, r.get("reason")), (412, "PreconditionFailed"), "a db.ini setting DataStore: 412")

    # --- passwords never shown ---
    with open(root + "/ttconfig/adminUser", "w") as f:
        f.write("adm/%s\n" % PASSWORD)
    open(root + "/stub-isql-fail", "w").close()
    st, r = c.post("createAdminUser")
    t.is_((st, r.get("reason")), (500, "UtilityFailed"), "a failing ttIsql: 500")
    t.like(r.get("message"), "1001: Syntax error", "with TimesTen's error in the message")
    text = str(r)
    t.ok(PASSWORD not in text and "[redacted]" in text,
         "the reply shows [redacted] instead of the password")
    t.like(text, "grant admin to adm", "but the rest of the SQL")
    t.ok(PASSWORD not in agent.log_text(), "the log never has the password")
    t.ok(not [f for f in os.listdir(root + "/tmp") for g in
              [os.listdir(root + "/tmp/" + f)] if g],
         "no SQL file is left behind")
    os.unlink(root + "/stub-isql-fail")
    st, r = c.post("setActive")
    t.ok(st == 200 and os.path.exists(root + "/tmp/active"), "setActive makes /tmp/active")
    st, r = c.post("setActive")
    t.is_((st, r.get("changed")), (200, False), "a second setActive changes nothing")
    st, s = c.get()
    t.is_((s.get("active"), s.get("dsn"), s.get("configFiles")),
          (True, "sample", ["db.ini", "adminUser"]),
          "the state shows /tmp/active, the DSN and the /ttconfig files")
    # Another direct DSN listed first (an image's template file may hold some) is not ours.
    before = (s.get("dsn"), s.get("database"), s.get("open"))
    ini_path = root + HOME + "/conf/sys.odbc.ini"
    ini = open(ini_path).read()
    with open(ini_path, "w") as f:
        f.write(ini.replace("[ODBC Data Sources]\n",
                            "[ODBC Data Sources]\nother=TimesTen 22.1 Driver\n", 1)
                + "\n[other]\nDataStore=/tt/home/timesten/datastore/other\n")
    c.post("setActive")
    st, s = c.get()
    t.is_((s.get("dsn"), s.get("database"), s.get("open")), before,
          "with another DSN listed first, the state is still of the object's DSN")
    with open(ini_path, "w") as f:
        f.write(ini)

    # --- certificate rotation without restart ---
    new = os.path.join(work, "certs2")
    make_certs(new, "127.0.0.1")
    agent.install_certs(new)
    fresh = agent.client(certs=new)
    t.ok(poll(lambda: not fresh.refused(), 15), "new certificates are taken without restart")
    t.ok(agent.client().refused(), "and clients of the old CA are refused")
    with open(root + "/ttagent/tls.key", "w") as f:
        f.write("junk\n")
    t.ok(poll(lambda: "new certificates refused" in agent.log_text(), 15),
         "a broken key is refused and logged")
    t.ok(not agent.client(certs=new).refused(), "and the certificates in use stay")

    # --- stop ---
    agent.proc.send_signal(signal.SIGTERM)
    try:
        rc = agent.proc.wait(10)
    except Exception:
        rc = None
    t.is_(rc, 0, "SIGTERM: the agent exits 0")
    t.ok(re.search(r"msg=stopped", agent.log_text()), "saying it stopped")
    t.ok(not os.listdir(root + "/tmp") or os.listdir(root + "/tmp") == ["active"],
         "its private directory is removed")
    agent.proc = None


run(body)
