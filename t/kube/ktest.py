"""Helpers for the Kubernetes client's integration tests: TAP output, a simulated cluster
(kubesim) in a temporary directory, kubectl against it, and ktool processes whose output
lines are watched with deadlines."""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP_SRCDIR = os.environ.get("top_srcdir", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
TOP_BUILDDIR = os.environ.get("top_builddir", os.getcwd())
KTOOL = os.path.join(TOP_BUILDDIR, "t", "kube", "ktool")
KUBESIM = os.environ.get("KUBESIM", os.path.join(TOP_SRCDIR, "t", "sim", "kubesim"))


class Tap:
    """TAP producer: the plan is printed at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what):
        self.n += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, what), flush=True)
        if not cond:
            self.failed += 1
        return cond

    def is_(self, got, want, what):
        if not self.ok(got == want, what):
            self.diag("     got: %r" % (got,), "    want: %r" % (want,))

    def like(self, text, pattern, what):
        if not self.ok(re.search(pattern, text or "", re.M) is not None, what):
            self.diag("text lacks /%s/:" % pattern, *(text or "").splitlines()[-15:])

    def diag(self, *lines):
        for line in lines:
            for part in str(line).splitlines() or [""]:
                print("# " + part, flush=True)

    def skip_all(self, why):
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)

    def bail(self, why):
        print("Bail out! %s" % why, flush=True)
        sys.exit(1)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


def wait_for(seconds, fn, interval=0.05):
    """Calls fn until it returns something true or the deadline passes; returns its last value."""
    deadline = time.monotonic() + seconds
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Workdir:
    """A temporary directory removed at exit, with every process started through it killed."""

    def __init__(self, prefix="kube-test."):
        self.path = tempfile.mkdtemp(prefix=prefix)
        self.procs = []
        self.cleanups = []
        atexit.register(self.cleanup)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, sig, frame):
        self.cleanup()
        sys.exit(128 + sig)

    def file(self, name):
        return os.path.join(self.path, name)

    def spawn(self, args, name, env=None):
        out = open(self.file(name + ".out"), "wb")
        err = open(self.file(name + ".err"), "wb")
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=e,
                             start_new_session=True)
        out.close()
        err.close()
        self.procs.append(p)
        return p

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
        self.procs = []
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:
                pass
        self.cleanups = []
        shutil.rmtree(self.path, ignore_errors=True)


class Cluster:
    """A kubesim in the work directory, stopped at exit."""

    def __init__(self, work):
        self.work = work
        self.dir = work.file("kubesim")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        r = subprocess.run([KUBESIM, "start", "--dir", self.dir], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("kubesim start failed: %s" % r.stdout.decode(errors="replace"))
        work.cleanups.append(self.stop)
        self.kubeconfig = r.stdout.decode().strip().splitlines()[-1]
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig, KUBECACHEDIR=work.file("kubecache"))
        with open(os.path.join(self.dir, "server.json")) as f:
            info = json.load(f)
        self.host, self.port = info["host"], info["port"]

    def stop(self):
        subprocess.run([KUBESIM, "stop", "--dir", self.dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)

    def kubectl(self, *args, check=True, input=None):
        r = subprocess.run(["kubectl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env, timeout=60, input=input)
        if check and r.returncode != 0:
            raise RuntimeError("kubectl %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
        return r.stdout.decode(errors="replace")

    def fault(self, *args):
        r = subprocess.run([KUBESIM, "fault", "--dir", self.dir] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        return r.returncode, r.stdout.decode(errors="replace").strip()

    def log(self):
        try:
            with open(os.path.join(self.dir, "kubesim.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Ktool:
    """A ktool process; its output lines are '<ms> WORD args...'."""

    def __init__(self, work, name, args, kubeconfig=None, env=None):
        self.work, self.name = work, name
        self.dump = work.file(name + ".dump")
        os.makedirs(self.dump, exist_ok=True)
        pre = [KTOOL, "--dump", self.dump]
        if kubeconfig:
            pre += ["--kubeconfig", kubeconfig]
        self.proc = work.spawn(pre + list(args), name, env=env)

    def out(self):
        with open(self.work.file(self.name + ".out"), errors="replace") as f:
            return f.read()

    def err(self):
        with open(self.work.file(self.name + ".err"), errors="replace") as f:
            return f.read()

    def lines(self, word=None):
        res = []
        for line in self.out().splitlines():
            parts = line.split(" ")
            if len(parts) >= 2 and (word is None or parts[1] == word):
                res.append(parts)
        return res

    def wait_line(self, word, seconds, count=1):
        """The count-th line starting with word (as its fields), or None at the deadline."""
        got = wait_for(seconds, lambda: len(self.lines(word)) >= count or self.proc.poll() is not None)
        ls = self.lines(word)
        return ls[count - 1] if got and len(ls) >= count else None

    def wall(self, line):
        """The wall-clock time (epoch seconds) of an output line."""
        start = self.lines("START")
        return float(start[0][2]) + float(line[0]) / 1000.0 if start else None

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def dump_state(self, seconds=20):
        """Asks for a dump (SIGUSR1) and returns (cache, stats) once written."""
        n = len(self.lines("DUMPED"))
        self.signal(signal.SIGUSR1)
        if self.wait_line("DUMPED", seconds, n + 1) is None:
            return None, None
        with open(os.path.join(self.dump, "cache.json")) as f:
            cache = json.load(f)
        with open(os.path.join(self.dump, "stats.json")) as f:
            stats = json.load(f)
        return cache, stats

    def metrics(self):
        try:
            with open(os.path.join(self.dump, "metrics.txt")) as f:
                return f.read()
        except OSError:
            return ""

    def requests(self, verb, resource, code="200", seconds=20):
        """How many requests the process has completed with that verb, resource and code, from a fresh
        dump (SIGUSR1); None if no dump came."""
        n = len(self.lines("DUMPED"))
        self.signal(signal.SIGUSR1)
        if self.wait_line("DUMPED", seconds, n + 1) is None:
            return None
        return metric(self.metrics(), "kube_requests_total", verb=verb, resource=resource, code=code)

    def stop(self, seconds=20):
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def metric(text, name, **labels):
    """The sum of the series of a metric (named without the process's prefix) in Prometheus text whose
    labels include the given ones."""
    total = 0.0
    for m in re.finditer(r"^(?:\w+_)?%s\{([^}]*)\} (\S+)$" % re.escape(name), text, re.M):
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def run_ktool(args, kubeconfig=None, timeout=60, env=None):
    """Runs ktool to completion: (exit status, parsed JSON line or stdout text, stderr)."""
    pre = [KTOOL] + (["--kubeconfig", kubeconfig] if kubeconfig else [])
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(pre + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=e)
    out = r.stdout.decode(errors="replace")
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = out
    return r.returncode, res, r.stderr.decode(errors="replace")


def need_kubesim(tap):
    if not os.access(KUBESIM, os.X_OK):
        tap.skip_all("the simulated cluster is not at %s (set KUBESIM)" % KUBESIM)
    if not os.access(KTOOL, os.X_OK):
        tap.bail("ktool is not built at %s" % KTOOL)
