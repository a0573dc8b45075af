"""End-to-end tests on the simulated cluster: TAP output, a cluster with the operator
installed from k8s/, kubectl, waits with deadlines, and two watchers that run beside a
scenario: one samples both databases and records any moment two are updatable, one
commits rows on whichever database is active and records those acknowledged."""

import calendar
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
# A build tree: as make check says, else the current directory when it holds the built
# operator (a benchmark run from a build tree), else the source tree (built in place).
TOP_BUILDDIR = os.environ.get("top_builddir") or (
    os.getcwd() if os.path.exists(os.path.join("src", "operator", "timestenclassic-operator"))
    else TOP_SRCDIR)
KUBESIM = os.environ.get("KUBESIM") or os.path.join(TOP_SRCDIR, "t", "sim", "kubesim")
sys.path.insert(0, os.path.join(TOP_SRCDIR, "t", "sim", "ttsim", "lib"))

from ttsim import client as ttsim_client, proto  # noqa: E402

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
        # A failure's diagnosis: enough of the operator's log to follow what it did.
        for line in str(text).splitlines()[-200:]:
            print("# " + line, flush=True)

    def like(self, text, needle, what):
        return self.ok(needle in text, what, "lacks %r in:\n%s" % (needle, text))

    def match(self, text, pattern, what):
        return self.ok(re.search(pattern, text) is not None, what,
                       "no match for /%s/ in:\n%s" % (pattern, text))

    def need(self, cond, what, diag=None):
        """ok(), and when it fails, Stop: the steps after it depend on it."""
        if not self.ok(cond, what, diag):
            raise Stop(what)
        return cond

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


class Stop(Exception):
    """A step that the rest of a scenario depends on failed: the scenario ends there."""


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


class Watch(threading.Thread):
    """Asks pred every interval seconds, beside a scenario, until it returns something true:
    then value is that and at the wall-clock time it was first seen (None until then)."""

    def __init__(self, pred, interval=1.0):
        super().__init__(daemon=True)
        self.pred, self.interval = pred, interval
        self.value = self.at = None
        self.stop_flag = threading.Event()
        self.start()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                v = self.pred()
            except Exception:
                v = None
            if v:
                self.value, self.at = v, time.time()
                return
            self.stop_flag.wait(self.interval)

    def stop(self):
        self.stop_flag.set()
        self.join(30)


class Cluster:
    """A simulated cluster with the CRD, RBAC and the operator applied from k8s/."""

    def __init__(self, tap, cluster_domain=None, start_args=()):
        """cluster_domain: the cluster's DNS domain when not cluster.local; the operator is
        then started with --cluster-domain. start_args: more `kubesim start` options (e.g.
        --nodes 3 and shorter node lifecycle timings)."""
        self.tap = tap
        self.cluster_domain = cluster_domain
        exit_on_sigterm()  # an interrupted test stops its cluster as a failing one does
        self.dir = tempfile.mkdtemp(prefix="ttc-e2e-")
        env = dict(os.environ, top_srcdir=TOP_SRCDIR, top_builddir=TOP_BUILDDIR)
        # Stricter than a default cluster, as OpenShift is: blocking owner references need
        # update on the owner's finalizers.
        extra = ["--enable-admission-plugins", "OwnerReferencesPermissionEnforcement"]
        extra += ["--cluster-domain", cluster_domain] if cluster_domain else []
        extra += list(start_args)
        try:
            out = subprocess.run([KUBESIM, "start", "--dir", os.path.join(self.dir, "cluster")] +
                                 extra, env=env, capture_output=True, text=True, timeout=120)
        except BaseException:  # interrupted: what started already is stopped
            subprocess.run([KUBESIM, "stop", "--dir", os.path.join(self.dir, "cluster")],
                           capture_output=True, timeout=180)
            raise
        if out.returncode != 0:
            raise RuntimeError("kubesim start failed: %s %s" % (out.stdout, out.stderr))
        self.kubeconfig = out.stdout.strip().splitlines()[-1]
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig,
                        KUBECACHEDIR=os.path.join(self.dir, "kubecache"))

    def subnet_prefix(self):
        """"127.S.": the start of every pod and node address of this cluster (its
        127.S.0.0/16, from the server's server.json)."""
        with open(os.path.join(self.dir, "cluster", "server.json")) as f:
            subnet = json.load(f)["subnet"]
        return ".".join(subnet.split(".")[:2]) + "."

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
        if self.tap.failed:
            self.show_stalls()
        if os.environ.get("E2E_KEEP"):
            self.tap.diag("E2E_KEEP: the cluster's files stay in %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def show_stalls(self):
        """After a failure: every simulated utility or daemon request that stalled (the
        diag/ttsim.stalls reports on the pods' volumes), with where it waited."""
        recs = []
        for root, _, files in os.walk(os.path.join(self.dir, "cluster", "volumes")):
            if "ttsim.stalls" in files:
                with open(os.path.join(root, "ttsim.stalls"), errors="replace") as f:
                    for line in f:
                        try:
                            recs.append(json.loads(line))
                        except ValueError:
                            continue
        for r in sorted(recs, key=lambda r: r.get("time", 0)):
            what = r.get("prog") or json.dumps(r.get("request"))
            self.tap.diag("stalled %s %s on %s for %s s (argv %s):\n%s" % (
                r.get("what"), what, r.get("pod_ip"), r.get("seconds"),
                " ".join(r.get("argv") or []), r.get("stack", "").rstrip()))

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
        """The manifests of k8s/, applied in a namespace that enforces the restricted Pod
        Security Standard (and warns of it): the operator's Deployment, and then every
        database pod, must meet it, or their pods are refused."""
        k8s = os.path.join(TOP_SRCDIR, "k8s")
        self.kubectl("label", "--overwrite", "namespace", "default",
                     "pod-security.kubernetes.io/enforce=restricted",
                     "pod-security.kubernetes.io/warn=restricted", check=True)
        self.kubectl("apply", "-f", os.path.join(k8s, "crd.yaml"), check=True)
        self.kubectl("wait", "--for", "condition=established", "--timeout=60s",
                     "crd/timestenclassics.timesten.oracle.com", check=True)
        self.kubectl("apply", "-f", os.path.join(k8s, "service_account.yaml"), check=True)
        with open(os.path.join(k8s, "operator.yaml")) as f:
            manifest = f.read()
        if self.cluster_domain:
            # What a user of another cluster domain adds to the operator's arguments.
            arg = "            - --metrics-addr=$(POD_IP):8080\n"
            if arg not in manifest:
                raise RuntimeError("k8s/operator.yaml: no %r to add --cluster-domain after" % arg)
            manifest = manifest.replace(
                arg, arg + "            - --cluster-domain=%s\n" % self.cluster_domain, 1)
        out = self.kubectl("apply", "-f", "-", input=manifest, check=True)
        if "PodSecurity" in out.stderr:
            raise RuntimeError("k8s/operator.yaml does not meet Pod Security: %s" % out.stderr)
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

    def metrics(self):
        """{"name{labels}": value} of the ready operator's /metrics (on its pod's address,
        port 8080 as k8s/operator.yaml sets it); {} when it does not answer."""
        pod = self.operator_ready()
        ip = pod and (self.get_json("pod", pod) or {}).get("status", {}).get("podIP")
        if not ip:
            return {}
        try:
            with urllib.request.urlopen("http://%s:8080/metrics" % ip, timeout=10) as r:
                text = r.read().decode()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            m = re.match(r"^([a-zA-Z_:][^ ]*) (\S+)$", line)
            if m:
                try:
                    out[m.group(1)] = float(m.group(2))
                except ValueError:
                    pass
        return out

    def operator_restarts(self):
        """How often the operator's container was restarted, and how it last ended."""
        out = []
        for p in self.operator_pods():
            for c in p.get("status", {}).get("containerStatuses", []):
                last = c.get("lastState", {}).get("terminated")
                out.append("%s: %d restarts%s" % (
                    p["metadata"]["name"], c.get("restartCount", 0),
                    "; last ended with exit code %s%s" % (
                        last.get("exitCode"), " (signal %s)" % last["signal"]
                        if last.get("signal") else "") if last else ""))
        return "\n".join(out)

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

    def wait_state_via(self, name, state, timeout, via=()):
        """Waits for the object's high-level state to be state, passing only through the
        states in via: (True, states seen) once it is there; (False, states seen) when the
        deadline passes or, at once, when it is in a state outside via."""
        seen = []

        def step():
            s = self.state(name)[0]
            if s is not None and (not seen or seen[-1] != s):
                seen.append(s)
            if s == state:
                return "reached"
            if s is not None and s not in via:
                return "astray"
            return None
        return wait_until(step, timeout, 0.1) == "reached", seen

    def pod(self, name):
        """The pod, or None when there is none or it is being deleted."""
        p = self.get_json("pod", name)
        return p if p and not p["metadata"].get("deletionTimestamp") else None

    def patch(self, resource, name, body):
        """kubectl patch --type merge with body (an object, sent as JSON)."""
        return self.kubectl("patch", resource, name, "--type", "merge", "-p", json.dumps(body))

    def edit(self, resource, name, old, new):
        """kubectl edit resource name, the editor replacing every old by new in the text
        kubectl gives it (it fails when old is not there); what the editor was given is
        kept as self.edited."""
        editor = os.path.join(self.dir, "editor.py")
        before = os.path.join(self.dir, "edit-buffer")
        with open(editor, "w") as f:
            f.write(EDITOR)
        env = dict(self.env, KUBE_EDITOR="%s %s" % (sys.executable, editor),
                   E2E_EDIT_OLD=old, E2E_EDIT_NEW=new, E2E_EDIT_COPY=before)
        out = subprocess.run(["kubectl", "edit", resource, name], env=env, capture_output=True,
                             text=True, timeout=60)
        try:
            with open(before) as f:
                self.edited = f.read()
        except OSError:
            self.edited = ""
        return out

    def get_rows(self, *args):
        """The table kubectl get prints, each line split into its columns."""
        return [line.split() for line in self.kubectl("get", *args).stdout.splitlines()]

    def ttc_row(self, name):
        """kubectl get ttc name: its NAME, STATE and ACTIVE columns, None unless kubectl
        printed the header NAME STATE ACTIVE AGE and one row of four columns."""
        rows = self.get_rows("ttc", name)
        ok = len(rows) == 2 and rows[0] == ["NAME", "STATE", "ACTIVE", "AGE"] and len(rows[1]) == 4
        return rows[1][:3] if ok else None

    def pod_ips(self, name, terminating=False):
        """{pod name: IP} of the object's pods: those not being deleted, or with
        terminating=True also those being deleted (their containers run until stopped)."""
        pods = self.get_json("pods", "-l", "app=" + name) or {"items": []}
        out = {}
        for p in pods["items"]:
            ip = p.get("status", {}).get("podIP")
            if ip and (terminating or not p["metadata"].get("deletionTimestamp")):
                out[p["metadata"]["name"]] = ip
        return out

    def event_objects(self, name):
        ev = self.get_json("events", "--field-selector", "involvedObject.name=" + name)
        return sorted((ev or {"items": []})["items"], key=lambda e: e.get("lastTimestamp") or "")

    def events(self, name):
        return [e.get("message", "") for e in self.event_objects(name)]

    def event_mark(self, name):
        """What the object's Events are now, to tell later which are new."""
        return {e["metadata"]["name"]: e["metadata"].get("resourceVersion")
                for e in self.event_objects(name)}

    def events_since(self, name, mark, full=False):
        """Messages (or with full=True the Events) posted since mark: new Events, and
        Events whose count went up (the same message again)."""
        out = [e for e in self.event_objects(name)
               if mark.get(e["metadata"]["name"]) != e["metadata"].get("resourceVersion")]
        return out if full else [e.get("message", "") for e in out]

    def wait_event(self, name, mark, text, timeout):
        """Waits for an Event posted since mark whose message contains text."""
        return wait_until(lambda: any(text in m for m in self.events_since(name, mark)),
                          timeout, 0.1)


class WatchLog(threading.Thread):
    """Every version of the objects `kubectl get ARGS --watch` sees, each once, in the order
    the API server wrote them (one resourceVersion for the whole cluster); the watch is
    made again when it ends. A mark is a place in that order: what comes after it is
    newer."""

    def __init__(self, cluster, *args):
        super().__init__(daemon=True)
        self.cluster, self.args = cluster, args
        self.entries, self.seen = [], set()  # (order, object); (uid, resourceVersion)
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.proc = None
        self.start()

    def order(self, obj, first):
        """Where a version goes (first: the first seen of its object)."""
        return int(obj["metadata"].get("resourceVersion") or 0)

    def run(self):
        while True:
            with self.lock:
                if self.stop_flag.is_set():
                    return
                self.proc = subprocess.Popen(
                    ["kubectl", "get"] + list(self.args) + ["--watch", "-o", "json", "--output-watch-events"],
                    env=self.cluster.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            buf = ""
            for line in self.proc.stdout:
                buf += line
                try:
                    ev = json.loads(buf)
                except ValueError:
                    continue
                buf = ""
                obj = ev.get("object") or {}
                meta = obj.get("metadata", {})
                key = (meta.get("uid"), meta.get("resourceVersion"))
                if ev.get("type") not in ("ADDED", "MODIFIED") or key in self.seen:
                    continue
                with self.lock:
                    first = not any(k[0] == key[0] for k in self.seen)
                    self.seen.add(key)
                    self.entries.append((self.order(obj, first), obj))
                    self.entries.sort(key=lambda e: e[0])
            self.proc.wait()
            self.stop_flag.wait(0.5)

    def objects(self, mark=None):
        """The versions seen, oldest first; with a mark, those after it."""
        with self.lock:
            return [o for k, o in self.entries if mark is None or k >= mark]

    def mark(self):
        with self.lock:
            return self.entries[-1][0] + 1 if self.entries else 0

    def stop(self):
        with self.lock:
            self.stop_flag.set()
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
        self.join(30)


class EventLog(WatchLog):
    """The Events of one object in the order they were posted: each new Event and each
    repetition of one (its count going up) is one entry. The API server may store Events
    posted together in another order (each is its own request), so an Event named as
    client-go names them, <object>.<unix nanoseconds in hex>, goes where its name says;
    a repetition goes where the watch saw it, and so does a mark (time.time())."""

    def __init__(self, cluster, name):
        super().__init__(cluster, "events", "--field-selector", "involvedObject.name=" + name)

    def order(self, obj, first):
        m = re.match(r"^.+\.([0-9a-f]{15,16})$", obj["metadata"].get("name", ""))
        if first and m and obj.get("count", 1) == 1:
            return int(m.group(1), 16) / 1e9
        return time.time()

    def mark(self):
        return time.time()

    def events(self, mark=None):
        return self.objects(mark)

    def messages(self, mark=None):
        return [e.get("message", "") for e in self.objects(mark)]

    def wait(self, text, mark=None, timeout=60):
        """Waits for an Event since mark whose message holds text: the message, or None."""
        return wait_until(lambda: next((m for m in self.messages(mark) if text in m), None),
                          timeout, 0.02)


def in_order(messages, patterns):
    """Whether the regular expressions match messages in this order, others allowed in
    between: (True, None), or (False, the first pattern not found after the one before)."""
    i = 0
    for p in patterns:
        while i < len(messages) and not re.search(p, messages[i]):
            i += 1
        if i == len(messages):
            return False, p
        i += 1
    return True, None


# What status.classicUpgradeStatus holds, as the guide's describe shows it.
UPGRADE_STATUS_KEYS = ("upgradeState", "prevUpgradeState", "imageUpdatePending", "upgradeStartTime",
                       "lastUpgradeStateSwitch", "standbyStatus", "standbyStartTime", "activeStatus",
                       "activeStartTime", "prevResetUpgradeState")


def auto_upgrade_events(standby, active):
    """The Events of a pair's automatic upgrade, as patterns for in_order(): the standby's
    pod deleted and back, the active quiesced, its pod deleted, the failover, the old
    active back as the standby (StandbyStarting, StandbyCatchup may come before Normal)."""
    was = r"^TimesTenClassic was %s, now %s$"
    back = "(StandbyDown|StandbyStarting|StandbyCatchup)"
    return [r"^Image updated, automatic upgrade started$",
            r"^Deleted STANDBY pod %s per upgrade$" % re.escape(standby),
            was % ("Normal", "ActiveTakeover"),
            was % ("ActiveTakeover", "StandbyDown"),
            was % (back, "Normal"),
            r"^Quiescing ACTIVE pod %s per upgrade: " % re.escape(active),
            r"^Deleted ACTIVE pod %s per upgrade$" % re.escape(active),
            was % ("Normal", "ActiveDown"),
            was % ("ActiveDown", "ActiveTakeover"),
            was % ("ActiveTakeover", "StandbyDown"),
            r"^Upgrade of ACTIVE complete$",
            r"^Upgrade completed in \d+ secs$",
            was % (back, "Normal")]


def exit_on_sigterm():
    """A SIGTERM ends the test as an error would: its finally blocks stop what it started.
    One more SIGTERM (timeout(1) passes on the one it got, a process group gets one each)
    must not cut that cleanup short: it is ignored."""
    ending = []

    def ended(*_):
        if not ending:  # a handler, not SIG_IGN: the cleanup's own commands get SIGTERM as usual
            ending.append(1)
            sys.exit(143)
    signal.signal(signal.SIGTERM, ended)


EDITOR = """import os, sys
path = sys.argv[-1]
old, new = os.environ["E2E_EDIT_OLD"], os.environ["E2E_EDIT_NEW"]
with open(path) as f:
    text = f.read()
with open(os.environ["E2E_EDIT_COPY"], "w") as f:
    f.write(text)
if old not in text:
    sys.exit("editor: %r is not in the object" % old)
with open(path, "w") as f:
    f.write(text.replace(old, new))
"""


def pod_ready(pod):
    """The pod is there, not being deleted, and its Ready condition is True."""
    if not pod or pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions", []))


def grep(text, *words):
    """The lines of text that hold one of the words, stripped: what `| grep 'a\\|b'` shows."""
    return [line.strip() for line in text.splitlines() if any(w in line for w in words)]


def seconds(stamp):
    """An RFC 3339 time as the API server writes it (2024-05-01T10:00:05Z, fractions
    allowed) in seconds since the epoch; None for anything else."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", stamp or "")
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0)


def describe_pod_status(text):
    """{pod name: {field: value}} from the Pod Status list of `kubectl describe ttc`,
    whatever fields each pod has: kubectl prints each pod's fields in sorted order, so a
    field that does not sort after the one before it opens the next pod. Leaf fields of
    every depth (a pod's own before those of its parts); a pod is known by its Name."""
    pods, block, last, inside = {}, None, None, False
    for line in text.splitlines():
        if line == "  Pod Status:":
            inside = True
            continue
        if not inside:
            continue
        if not line.startswith("    "):
            break
        m = re.match(r"^( +)([A-Za-z][A-Za-z ]*):(?:\s+(\S.*?))?\s*$", line)
        if not m:
            continue
        key = m.group(2).replace(" ", "").lower()
        if len(m.group(1)) == 4:
            if block is None or last is None or key <= last:
                block = {}
            last = key
        if block is None or m.group(3) is None:
            continue
        if len(m.group(1)) == 4:
            block[m.group(2)] = m.group(3)
            if m.group(2) == "Name":
                pods[m.group(3)] = block
        else:
            block.setdefault(m.group(2), m.group(3))
    return pods


def ttversion(cluster, pod):
    """What ttVersion prints in the pod's tt container, as the guide runs it there."""
    out = cluster.kubectl("exec", pod, "-c", "tt", "--", "ttVersion")
    return out.stdout if out.returncode == 0 else out.stdout + out.stderr


def sql(cluster, name, pod, text, uid="scott", pwd="tiger"):
    """Runs text over a client/server connection to the database of one of the object's
    pods (DSN name), committing: its rows, or None when it cannot be done."""
    ip = cluster.pod_ips(name).get(pod)
    if ip is None:
        return None
    try:
        c = Conn(ip, name, uid, pwd)
    except Exception:
        return None
    try:
        c.autocommit(False)
        rows = c.sql(text).get("rows", [])
        c.sql("commit")
        return rows
    except Exception:
        return None
    finally:
        c.close()


class Conn:
    """A client/server connection to one pod's database (ttsim's protocol)."""

    def __init__(self, ip, dsn, uid, pwd, timeout=5, source=None):
        """source: the local address to connect from (a node's address: a client on that
        node, on its side of a partition)."""
        self.link = proto.Client.tcp(ip, 6625, timeout=timeout, source=source)
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


class SqlProbe:
    """Asks a pod's database whether it takes writes, the way an application would see it:
    over a client/server connection, no scheme or ACTIVE. connect() returns a handle (one
    incarnation of the database: a connection does not outlive its daemon), updatable()
    answers True or False or raises. A probe that asks the simulator itself has the same
    two methods."""

    def __init__(self, dsn, uid, pwd, timeout=2):
        self.creds, self.timeout = (dsn, uid, pwd), timeout

    def connect(self, ip):
        return Conn(ip, *self.creds, timeout=self.timeout)

    def updatable(self, conn):
        return conn.updatable()

    def close(self, conn):
        conn.close()


class PodSampler(threading.Thread):
    """Samples one pod address as fast as it answers (its own thread, so that a hung
    database delays nobody else), and hands each answer to the checker."""

    def __init__(self, checker, ip):
        super().__init__(daemon=True)
        self.checker, self.ip = checker, ip
        self.stop_flag = threading.Event()

    def run(self):
        probe, conn, incarnation = self.checker.probe, None, 0
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = probe.connect(self.ip)
                    incarnation += 1
                up = bool(probe.updatable(conn))
                self.checker.record(self.ip, incarnation, t0, time.monotonic(), up)
            except Exception:
                if conn is not None:
                    probe.close(conn)
                conn = None
                self.checker.record_failure(self.ip)
                self.stop_flag.wait(0.1)
            self.stop_flag.wait(0.03)
        if conn is not None:
            probe.close(conn)


def databases(cluster):
    """Every database the shared ttsim server plays in cluster, as `ttsimctl databases`
    lists them (dicts with host, ip, dsn, loaded, repstate, updatable), asked the way
    ttsimctl asks: over the server's local socket, which no pod or node fault touches. The
    server answers one request at a time, so a list is one instant of every database. The
    server is shared by every cluster started from this tree (tests run side by side, and
    their objects may have the same names), so only the databases whose pod address is in
    cluster's subnet are its own."""
    prefix = cluster.subnet_prefix()
    return [d for d in ttsim_client.control({"op": "databases"}, timeout=10).get("databases", [])
            if (d.get("ip") or "").startswith(prefix)]


def disk_full(cluster, pod, on):
    """pod's volume (its PersistentVolumeClaim tt-persistent-POD) full, or not any more:
    the simulated TimesTen's writes there fail as on a full file system (`ttsimctl
    disk-full`). The volume's directory, or None when there is none."""
    dirs = glob.glob(os.path.join(cluster.dir, "cluster", "volumes",
                                  "default_tt-persistent-%s_*" % pod))
    if len(dirs) != 1:
        return None
    ttsim_client.control({"op": "disk-full", "path": dirs[0], "full": on}, timeout=10)
    return dirs[0]


class TwoActiveChecker(threading.Thread):
    """Watches that two databases of an object are never updatable at the same time, from
    three independent sources.

    The simulator's databases: the list `ttsimctl databases` prints, read every 50 ms; each
    read is one instant of every database the simulator plays, reached or not, so two of the
    object's databases updatable in one read is a violation. A database cut off by a fault is
    in the list like any other: unreachable is not taken for safe.

    Sampling (network=True): every pod address of the object, terminating pods included, is
    sampled continuously in its own thread, as a client sees it. A database is proven
    updatable from the end of the first to the start of the last of a run of updatable
    answers on one connection (one incarnation of it); an updatable answer from another
    database inside that interval is a violation. Unanswered samples are neither: they are
    counted apart, and each database must have answered.

    The simulator's record: ttsim writes each change of a database's updatability to
    diag/ttsim.history on the pod's volume; ground_truth() rebuilds every database's
    updatable intervals from it and finds any overlap.

    Each database must have been seen updatable while the object's status named it the
    active."""

    def __init__(self, cluster, name, dsn, uid, pwd, probe=None, network=True, truth=None):
        """probe: how a pod address is asked (SqlProbe); truth: how the simulator's databases
        are listed (databases()); both replaced by scripted ones in the checker's own test."""
        super().__init__(daemon=True)
        self.cluster, self.name = cluster, name
        self.probe = probe or SqlProbe(dsn, uid, pwd)
        self.network = network
        self.host = re.compile(r"^%s-\d+$" % re.escape(name))
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.samplers = {}         # ip -> PodSampler
        self.pod_of = {}           # ip -> pod name (the latest seen there)
        self.active = None         # (state, activePods) as status said last
        self.samples = []          # (ip, incarnation, t0, t1, updatable, pod)
        self.reads = {}            # pod -> answered samples
        self.unanswered = {}       # pod -> samples without an answer
        self.seen_active = {}      # pod -> updatable answers while status named it active
        self.named_active = set()  # pods status named active in Normal while we watched
        self.violations = []
        self.list_databases = truth or (lambda: databases(cluster))
        self.truth = threading.Thread(target=self.read_databases, daemon=True)
        self.truth_reads = 0       # lists of the simulator's databases read
        self.truth_failed = 0      # attempts the server did not answer
        self.truth_updatable = {}  # "pod (ip)" -> reads in which it was updatable
        self.truth_violations = []

    def record(self, ip, incarnation, t0, t1, up):
        with self.lock:
            pod = self.pod_of.get(ip, ip)
            state, active = self.active or (None, None)
            self.samples.append((ip, incarnation, t0, t1, up, pod))
            self.reads[pod] = self.reads.get(pod, 0) + 1
            if up and pod == active:
                self.seen_active[pod] = self.seen_active.get(pod, 0) + 1

    def record_failure(self, ip):
        with self.lock:
            pod = self.pod_of.get(ip, ip)
            self.unanswered[pod] = self.unanswered.get(pod, 0) + 1

    def read_databases(self):
        while not self.stop_flag.is_set():
            at = time.time()
            try:
                dbs = self.list_databases()
            except Exception:
                self.truth_failed += 1
                self.stop_flag.wait(0.2)
                continue
            up = sorted({"%s (%s)" % (d["host"], d["ip"]) for d in dbs
                         if d.get("updatable") and self.host.match(d.get("host") or "")})
            with self.lock:
                self.truth_reads += 1
                active = (self.active or (None, None))[1]
                for db in up:
                    self.truth_updatable[db] = self.truth_updatable.get(db, 0) + 1
                    pod = db.split(" ")[0]
                    if pod == active:
                        self.seen_active[pod] = self.seen_active.get(pod, 0) + 1
                if len(up) > 1:
                    self.truth_violations.append("%s: %s updatable at once" % (
                        stamp(at), ", ".join(up)))
            self.stop_flag.wait(0.05)

    def refresh(self):
        pods = self.cluster.pod_ips(self.name, terminating=True)
        obj = self.cluster.ttc(self.name) or {}
        st = obj.get("status", {})
        with self.lock:
            for pod, ip in pods.items():
                self.pod_of[ip] = pod
            self.active = (st.get("highLevelState"), st.get("activePods"))
            if self.active[0] == "Normal" and self.active[1]:
                self.named_active.add(self.active[1])
        if not self.network:
            return
        for ip in pods.values():
            if ip not in self.samplers:
                s = self.samplers[ip] = PodSampler(self, ip)
                s.start()

    def run(self):
        self.truth.start()
        while not self.stop_flag.is_set():
            try:
                self.refresh()
            except Exception:
                pass
            self.stop_flag.wait(0.3)

    def stop(self):
        self.stop_flag.set()
        self.join(30)
        if self.truth.is_alive():
            self.truth.join(30)
        for s in self.samplers.values():
            s.stop_flag.set()
        for s in self.samplers.values():
            s.join(10)
        self.violations = sampled_overlaps(self.samples)

    def verdict(self, tap, min_reads=10):
        """Stops the checker and reports: the simulator's databases were read all along and
        never two were updatable in one read; every database answered the network sampler
        (network=True) and it saw never two updatable at once; each was seen updatable while
        it was the active; the simulator's record shows no overlap."""
        self.stop()
        tap.ok(self.truth_reads >= min_reads and self.truth_failed <= self.truth_reads // 10,
               "the simulator's databases were read %d times (%d unanswered): %s" % (
                   self.truth_reads, self.truth_failed, ", ".join(
                       "%s updatable in %d" % kv for kv in sorted(self.truth_updatable.items()))))
        tap.ok(not self.truth_violations,
               "the simulator's databases: never two updatable in one read",
               "\n".join(self.truth_violations[:20]))
        if self.network:
            pods = sorted(self.reads.keys() | self.unanswered.keys())
            tap.ok(pods and all(self.reads.get(p, 0) >= min_reads for p in pods),
                   "every database answered the sampler (%s)" % ", ".join(
                       "%s %d of %d" % (p, self.reads.get(p, 0),
                                        self.reads.get(p, 0) + self.unanswered.get(p, 0))
                       for p in pods))
            tap.ok(not self.violations, "sampled: never two updatable databases",
                   "\n".join(self.violations[:20]))
        missed = sorted(p for p in self.named_active if not self.seen_active.get(p))
        tap.ok(self.named_active and not missed,
               "each active (%s) was seen updatable while it was the active" %
               ", ".join(sorted(self.named_active)), "never seen updatable: %s" % missed)
        intervals, overlaps = ground_truth(self.cluster, self.name)
        tap.ok(len(intervals) >= len(self.named_active) > 0,
               "the simulator recorded %d updatable intervals" % len(intervals), intervals)
        tap.ok(not overlaps, "the simulator's record: never two updatable databases",
               "\n".join(overlaps[:20]))


def sampled_overlaps(samples):
    """Violations in the checker's samples: an updatable answer of one database inside an
    interval over which another was proven updatable."""
    runs = []  # (ip, pod, start, end): proven updatable from start to end
    cur = {}   # (ip, incarnation) -> [first t1, last t0, pod]
    for ip, inc, t0, t1, up, pod in sorted(samples, key=lambda s: s[2]):
        key = (ip, inc)
        if up:
            r = cur.get(key)
            if r is None:
                cur[key] = [t1, t0, pod]
            else:
                r[1] = t0
        else:
            r = cur.pop(key, None)
            if r is not None and r[0] <= r[1]:
                runs.append((ip, r[2], r[0], r[1]))
    for (ip, _), r in cur.items():
        if r[0] <= r[1]:
            runs.append((ip, r[2], r[0], r[1]))
    out, base = [], min((s[2] for s in samples), default=0)
    for ip, pod, start, end in runs:
        for sip, _, t0, t1, up, spod in samples:
            if up and sip != ip and start <= t0 and t1 <= end:
                out.append("%s answered updatable at +%.3f s while %s was updatable from +%.3f "
                           "to +%.3f s" % (spod, t0 - base, pod, start - base, end - base))
                break
    return out


def history(cluster, name):
    """The simulator's record of when each database of the object could take writes: the
    diag/ttsim.history lines on its pods' volumes, oldest first."""
    pat = re.compile(r"^%s-\d+$" % re.escape(name))
    lines = []
    for root, _, files in os.walk(os.path.join(cluster.dir, "cluster", "volumes")):
        if "ttsim.history" in files:
            with open(os.path.join(root, "ttsim.history")) as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if pat.match(rec.get("host", "")):
                        lines.append(rec)
    return sorted(lines, key=lambda r: (r["time"], r["server"], r["seq"]))


def ground_truth(cluster, name):
    """([(database, start, end, why)], [overlap descriptions]): the updatable intervals of
    every database of the object as the simulator recorded them (an interval still open
    ends now), and each pair of them that overlaps."""
    now = time.time()
    intervals, open_at = [], {}
    for r in history(cluster, name):
        db = "%s:%s" % (r["host"], r["db"])
        if r["updatable"] and db not in open_at:
            open_at[db] = (r["time"], r["why"])
        elif not r["updatable"] and db in open_at:
            start, why = open_at.pop(db)
            intervals.append((db, start, r["time"], "%s .. %s" % (why, r["why"])))
    for db, (start, why) in open_at.items():
        intervals.append((db, start, now, why + " .. (still)"))
    intervals.sort(key=lambda i: i[1])
    overlaps = []
    for i, a in enumerate(intervals):
        for b in intervals[i + 1:]:
            if b[1] >= a[2]:
                break
            if b[0] != a[0]:
                overlaps.append("%s updatable %s to %s (%s) overlaps %s from %s (%s)" % (
                    a[0], stamp(a[1]), stamp(a[2]), a[3], b[0], stamp(b[1]), b[3]))
    return intervals, overlaps


def stamp(t):
    return time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % (int(t * 1000) % 1000)


class Writer(threading.Thread):
    """Commits one row per transaction on whichever pod is active, remembering every key
    whose COMMIT returned, and in acks (key, time.monotonic() of the return, the pod the
    status named active when the connection was made)."""

    def __init__(self, cluster, name, table, dsn, uid, pwd):
        super().__init__(daemon=True)
        self.cluster, self.name, self.table = cluster, name, table
        self.creds = (dsn, uid, pwd)
        self.stop_flag = threading.Event()
        self.acked = []
        self.acks = []
        self.errors = 0
        self.rounds = 0

    def active_pod(self):
        """(the pod the status names active, its IP), either None when unknown."""
        obj = self.cluster.ttc(self.name) or {}
        active = obj.get("status", {}).get("activePods")
        return active, self.cluster.pod_ips(self.name).get(active)

    def run(self):
        key, conn, pod = 1, None, None
        while not self.stop_flag.is_set():
            try:
                if conn is None:
                    pod, ip = self.active_pod()
                    if ip is None:
                        self.rounds += 1
                        time.sleep(0.2)
                        continue
                    conn = Conn(ip, *self.creds)
                    conn.autocommit(False)
                conn.sql("insert into %s values (%d, 'row %d')" % (self.table, key, key))
                conn.sql("commit")
                self.acked.append(key)
                self.acks.append((key, time.monotonic(), pod))
            except Exception:
                self.errors += 1
                if conn:
                    conn.close()
                conn = None
                time.sleep(0.1)
            key += 1
            self.rounds += 1
            time.sleep(0.02)
        if conn:
            conn.close()

    def settle(self, timeout=30):
        """Waits until the commit in flight (if any) has ended: two more rounds."""
        n = self.rounds
        return wait_until(lambda: self.rounds >= n + 2 or not self.is_alive(), timeout, 0.02)

    def stop(self):
        self.stop_flag.set()
        self.join(30)



# A cluster of three nodes whose silent kubelets are noticed after 8 s (NotReady, pods not
# Ready); pods on an unreachable node are evicted 15 s later.
THREE_NODES = ["--nodes", "3", "--node-monitor-period", "1", "--node-monitor-grace-period", "8",
               "--node-lease-duration-seconds", "4",
               "--default-unreachable-toleration-seconds", "15",
               "--default-not-ready-toleration-seconds", "15"]


def table_configmap(name):
    """A ConfigMap of the metadata files a pair is made from: the admin user scott/tiger,
    db.ini and the table scott.emp (id, name), nothing else."""
    return """apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
data:
  adminUser: scott/tiger
  db.ini: |
    PermSize=200
  schema.sql: |
    create table scott.emp (id number not null primary key, name char(32));
""" % name


def pair(name, configmap, **ttspec):
    """A TimesTenClassic pair made from the ConfigMap configmap (table_configmap()), with
    the further .spec.ttspec fields given (e.g. pollingInterval=2)."""
    return """---
apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: %s
spec:
  ttspec:
    storageClassName: standard
    storageSize: 250G
    image: registry.example.com/youraccount/timesten:22.1.1.9.0
    dbConfigMap:
      - %s
""" % (name, configmap) + "".join("    %s: %s\n" % (k, json.dumps(v)) for k, v in ttspec.items())


def pair_apart(name, avoid_node):
    """A RETURN TWOSAFE pair (its DSN is its name, scott/tiger) whose databases run on
    nodes of their own, neither on avoid_node (the operator's): one node lost is one
    database lost, and the operator's node can fail alone."""
    return table_configmap(name) + """---
apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: %(name)s
spec:
  ttspec:
    storageClassName: standard
    storageSize: 1Gi
    image: registry.example.com/youraccount/timesten:22.1.1.9.0
    dbConfigMap: [%(name)s]
    repReturnServiceAttribute: RETURN TWOSAFE
    pollingInterval: 2
    unreachableTimeout: 6
  template:
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - {key: kubernetes.io/hostname, operator: NotIn, values: [%(node)s]}
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels: {app: %(name)s}
""" % {"name": name, "node": avoid_node}


def node_of(cluster, pod):
    """The node pod is bound to (None when unknown)."""
    return ((cluster.get_json("pod", pod) or {}).get("spec") or {}).get("nodeName")


def node_ip(cluster, node):
    """A node's InternalIP: a process bound to it acts from that node."""
    for a in (cluster.get_json("node", node) or {}).get("status", {}).get("addresses", []):
        if a["type"] == "InternalIP":
            return a["address"]
    return None


def updatable_now(cluster, name):
    """The pods of object name whose database the simulator says takes writes now."""
    pat = re.compile(r"^%s-\d+$" % re.escape(name))
    return sorted(d["host"] for d in databases(cluster)
                  if d.get("updatable") and pat.match(d.get("host") or ""))


def configmap(name):
    """A ConfigMap of the metadata files independent databases are made from: the admin user,
    db.ini, a table, and an epilog that leaves a row (0, 'epilog') to show it ran once."""
    return """
apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
data:
  adminUser: |
    scott/tiger
  db.ini: |
    PermSize=200
    DatabaseCharacterSet=AL32UTF8
  schema.sql: |
    create table scott.emp (
      id number not null primary key,
      name varchar2(64)
    );
  epilog.sql: |
    insert into scott.emp values (0, 'epilog');
""" % name

def keys_on(cluster, name, table, dsn, uid, pwd, column="id"):
    """The keys (column) of table on the active pod's database; None when it cannot be
    read (no active, or its database does not answer)."""
    obj = cluster.ttc(name) or {}
    ip = cluster.pod_ips(name).get(obj.get("status", {}).get("activePods"))
    if ip is None:
        return None
    try:
        c = Conn(ip, dsn, uid, pwd)
    except Exception:
        return None
    try:
        return {r[0] for r in c.sql("select %s from %s" % (column, table))["rows"]}
    except Exception:
        return None
    finally:
        c.close()
