"""End-to-end tests on the simulated cluster: TAP output, a cluster with the operator
installed from k8s/, kubectl, waits with deadlines, and two watchers that run beside a
scenario: one samples both databases and records any moment two are updatable, one
commits rows on whichever database is active and records those acknowledged."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
KUBESIM = os.environ.get("KUBESIM") or os.path.join(TOP_SRCDIR, "t", "sim", "kubesim")
sys.path.insert(0, os.path.join(TOP_SRCDIR, "t", "sim", "ttsim", "lib"))

from ttsim import proto  # noqa: E402

# Generous: the suite runs on a slow, shared machine. Timing goals are in t/bench.
SLOW = float(os.environ.get("E2E_TIME_FACTOR", "1"))


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, diag=None):
        self.n += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, what), flush=True)
        if not cond:
            self.failed += 1
            if diag:
                self.diag(diag)
        return cond

    def diag(self, text):
        for line in str(text).splitlines()[-40:]:
            print("# " + line, flush=True)

    def like(self, text, needle, what):
        return self.ok(needle in text, what, "lacks %r in:\n%s" % (needle, text))

    def match(self, text, pattern, what):
        return self.ok(re.search(pattern, text) is not None, what,
                       "no match for /%s/ in:\n%s" % (pattern, text))

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def wait_until(pred, timeout, interval=0.2):
    """Calls pred until it returns something true or timeout (seconds) passes."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


class Cluster:
    """A simulated cluster with the CRD, RBAC and the operator applied from k8s/."""

    def __init__(self, tap):
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix="ttc-e2e-")
        env = dict(os.environ, top_srcdir=TOP_SRCDIR, top_builddir=TOP_BUILDDIR)
        out = subprocess.run([KUBESIM, "start", "--dir", os.path.join(self.dir, "cluster")],
                             env=env, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError("kubesim start failed: %s %s" % (out.stdout, out.stderr))
        self.kubeconfig = out.stdout.strip().splitlines()[-1]
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig,
                        KUBECACHEDIR=os.path.join(self.dir, "kubecache"))

    def stop(self):
        """Stops the cluster (every pod gracefully), then looks through what the containers
        wrote for sanitizer reports (in a build with --enable-sanitizers, the operator and
        the agents run with ASan and UBSan): any is a failure."""
        subprocess.run([KUBESIM, "stop", "--keep", "--dir", os.path.join(self.dir, "cluster")],
                       capture_output=True, timeout=180)
        reports = []
        for root, _, files in os.walk(os.path.join(self.dir, "cluster", "pods")):
            for f in files:
                if not f.endswith(".log"):
                    continue
                path = os.path.join(root, f)
                with open(path, errors="replace") as fh:
                    text = fh.read()
                for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                    at = text.find(marker)
                    if at >= 0:
                        reports.append("%s:\n%s" % (os.path.relpath(path, self.dir),
                                                     text[max(0, at - 200):at + 3000]))
        if reports:
            self.tap.ok(False, "the operator and the agents ran clean under the sanitizers",
                        "\n".join(reports))
        shutil.rmtree(self.dir, ignore_errors=True)

    def fault(self, *args):
        return subprocess.run([KUBESIM, "fault", "--dir", os.path.join(self.dir, "cluster")]
                              + list(args), capture_output=True, text=True, timeout=60)

    def kubectl(self, *args, check=False, input=None, timeout=60):
        out = subprocess.run(["kubectl"] + list(args), env=self.env, capture_output=True,
                             text=True, input=input, timeout=timeout)
        if check and out.returncode != 0:
            raise RuntimeError("kubectl %s: %s" % (" ".join(args), out.stderr))
        return out

    def get_json(self, *args):
        out = self.kubectl("get", "-o", "json", *args)
        if out.returncode != 0:
            return None
        return json.loads(out.stdout)

    def install_operator(self):
        k8s = os.path.join(TOP_SRCDIR, "k8s")
        self.kubectl("apply", "-f", os.path.join(k8s, "crd.yaml"), check=True)
        self.kubectl("wait", "--for", "condition=established", "--timeout=60s",
                     "crd/timestenclassics.timesten.oracle.com", check=True)
        self.kubectl("apply", "-f", os.path.join(k8s, "service_account.yaml"), "-f",
                     os.path.join(k8s, "operator.yaml"), check=True)
        return wait_until(lambda: self.operator_ready(), 60)

    def operator_pods(self):
        pods = self.get_json("pods", "-l", "name=timestenclassic-operator") or {"items": []}
        return [p for p in pods["items"] if not p["metadata"].get("deletionTimestamp")]

    def operator_ready(self):
        for p in self.operator_pods():
            for c in p.get("status", {}).get("conditions", []):
                if c["type"] == "Ready" and c["status"] == "True":
                    return p["metadata"]["name"]
        return None

    def operator_log(self):
        name = self.operator_ready() or (self.operator_pods() or [{}])[0].get(
            "metadata", {}).get("name")
        return self.kubectl("logs", name).stdout if name else ""

    def ttc(self, name):
        return self.get_json("ttc", name)

    def state(self, name):
        obj = self.ttc(name)
        st = (obj or {}).get("status", {})
        return st.get("highLevelState"), st.get("activePods")

    def wait_state(self, name, state, timeout, active=None):
        def reached():
            s, a = self.state(name)
            return s == state and (active is None or a == active)
        return wait_until(reached, timeout, 0.1)

    def pod_ips(self, name):
        """{pod name: IP} of the object's live pods."""
        pods = self.get_json("pods", "-l", "app=" + name) or {"items": []}
        out = {}
        for p in pods["items"]:
            ip = p.get("status", {}).get("podIP")
            if ip and not p["metadata"].get("deletionTimestamp"):
                out[p["metadata"]["name"]] = ip
        return out

    def events(self, name):
        ev = self.get_json("events", "--field-selector", "involvedObject.name=" + name)
        return [e.get("message", "") for e in sorted(
            (ev or {"items": []})["items"], key=lambda e: e.get("lastTimestamp") or "")]


class Conn:
    """A client/server connection to one pod's database (ttsim's protocol)."""

    def __init__(self, ip, dsn, uid, pwd, timeout=5):
        self.link = proto.Client.tcp(ip, 6625, timeout=timeout)
        self.link.call({"op": "connect", "attrs": [["DSN", dsn], ["UID", uid], ["PWD", pwd]],
                        "pid": os.getpid()})

    def sql(self, text):
        return self.link.call({"op": "exec", "sql": text}).get("result", {})

    def autocommit(self, on):
        self.link.call({"op": "autocommit", "on": on})

    def updatable(self):
        schemes = self.sql("select count(*) from ttrep.replications")["rows"][0][0]
        state = self.sql("call ttRepStateGet")["rows"][0][0]
        return schemes == 0 or state == "ACTIVE"

    def close(self):
        try:
            self.link.close()
        except OSError:
            pass


class TwoActiveChecker(threading.Thread):
    """Samples every pod's database a few times a second; two updatable at once is a
    violation, recorded with the time and the pods."""

    def __init__(self, cluster, name, dsn, uid, pwd):
        super().__init__(daemon=True)
        self.cluster, self.name = cluster, name
        self.creds = (dsn, uid, pwd)
        self.stop_flag = threading.Event()
        self.violations = []
        self.samples = 0
        self.conns = {}

    def sample(self, ip):
        try:
            if ip not in self.conns:
                self.conns[ip] = Conn(ip, *self.creds, timeout=2)
            return self.conns[ip].updatable()
        except Exception:
            c = self.conns.pop(ip, None)
            if c:
                c.close()
            return False

    def run(self):
        ips, refreshed = {}, 0
        while not self.stop_flag.is_set():
            if time.monotonic() - refreshed > 0.5:
                ips = self.cluster.pod_ips(self.name)
                refreshed = time.monotonic()
            up = [pod for pod, ip in sorted(ips.items()) if self.sample(ip)]
            self.samples += 1
            if len(up) > 1:
                self.violations.append((time.strftime("%H:%M:%S"), up))
            time.sleep(0.05)
        for c in self.conns.values():
            c.close()

    def stop(self):
        self.stop_flag.set()
        self.join(30)


class Writer(threading.Thread):
    """Commits one row per transaction on whichever pod is active, remembering every key
    whose COMMIT returned."""

    def __init__(self, cluster, name, table, dsn, uid, pwd):
        super().__init__(daemon=True)
        self.cluster, self.name, self.table = cluster, name, table
        self.creds = (dsn, uid, pwd)
        self.stop_flag = threading.Event()
        self.acked = []
        self.errors = 0

    def active_ip(self):
        obj = self.cluster.ttc(self.name) or {}
        active = obj.get("status", {}).get("activePods")
        return self.cluster.pod_ips(self.name).get(active)

    def run(self):
        key, conn = 1, None
        while not self.stop_flag.is_set():
            try:
                if conn is None:
                    ip = self.active_ip()
                    if ip is None:
                        time.sleep(0.2)
                        continue
                    conn = Conn(ip, *self.creds)
                    conn.autocommit(False)
                conn.sql("insert into %s values (%d, 'row %d')" % (self.table, key, key))
                conn.sql("commit")
                self.acked.append(key)
            except Exception:
                self.errors += 1
                if conn:
                    conn.close()
                conn = None
                time.sleep(0.1)
            key += 1
            time.sleep(0.02)
        if conn:
            conn.close()

    def stop(self):
        self.stop_flag.set()
        self.join(30)


def keys_on(cluster, name, table, dsn, uid, pwd, column="id"):
    """The keys (column) of table on the active pod's database."""
    obj = cluster.ttc(name) or {}
    ip = cluster.pod_ips(name).get(obj.get("status", {}).get("activePods"))
    if ip is None:
        return None
    c = Conn(ip, dsn, uid, pwd)
    try:
        return {r[0] for r in c.sql("select %s from %s" % (column, table))["rows"]}
    finally:
        c.close()
