"""TAP helpers for the conformance tests: a private simulated cluster per test file, kubectl with a fresh
discovery cache, polling with deadlines, and clean-up of every process even on failure."""

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.dont_write_bytecode = True

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBESIM = os.path.join(TOP_SRCDIR, "t", "sim", "kubesim")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, diag=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, what), flush=True)
        if not cond:
            self.failed += 1
            if diag:
                for line in str(diag).splitlines()[-40:]:
                    print("#   " + line, flush=True)
        return cond

    def skip(self, what, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, what, why), flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


class Cluster:
    """A kubesim of our own, stopped and removed at exit."""

    def __init__(self, images=None, args=()):
        import shutil
        for tool in ("kubectl", "openssl"):
            if shutil.which(tool) is None:
                print("1..0 # SKIP %s is not installed" % tool, flush=True)
                sys.exit(0)
        # pods are directories: on a tmpfs creating and removing thousands of them is much cheaper
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.tmp = tempfile.mkdtemp(prefix="kubesim-test.", dir=shm)
        self.dir = os.path.join(self.tmp, "cluster")
        self.env = dict(os.environ)
        self.env["KUBECACHEDIR"] = os.path.join(self.tmp, "kubecache")
        self.env["HOME"] = self.tmp
        self.env.setdefault("KUBESIM_RESTART_BACKOFF", "1")
        self.env.setdefault("KUBESIM_BOOKMARK_SECONDS", "1")
        cmd = [KUBESIM, "start", "--dir", self.dir]
        if images:
            cmd += ["--images", images]
        cmd += list(args)
        atexit.register(self.stop)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: sys.exit(1))
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env, timeout=120)
        out = r.stdout.decode(errors="replace")
        if r.returncode != 0:
            print("Bail out! kubesim did not start: %s" % out.strip().replace("\n", " | "), flush=True)
            sys.exit(1)
        self.kubeconfig = out.strip().splitlines()[-1]
        self.env["KUBECONFIG"] = self.kubeconfig
        with open(os.path.join(self.dir, "server.json")) as f:
            self.info = json.load(f)
        with open(os.path.join(self.dir, "admin.token")) as f:
            self.token = f.read().strip()
        self.ca = os.path.join(self.dir, "pki", "ca.crt")
        self.url = "https://%s:%d" % (self.info["host"], self.info["port"])

    def stop(self):
        if getattr(self, "_stopped", False):
            return
        self._stopped = True
        subprocess.run([KUBESIM, "stop", "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def kubectl(self, *args, stdin=None, timeout=60, env=None):
        """(exit code, stdout, stderr) of a kubectl run."""
        e = dict(self.env)
        if env:
            e.update(env)
        try:
            r = subprocess.run(["kubectl"] + list(args), input=stdin.encode() if isinstance(stdin, str) else stdin,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=timeout)
        except subprocess.TimeoutExpired as ex:
            return -1, (ex.stdout or b"").decode(errors="replace"), "timed out after %ss" % timeout
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def kubectl_bg(self, *args):
        """A kubectl left running (get -w); returns the Popen, its output going to a file."""
        out = tempfile.NamedTemporaryFile(dir=self.tmp, delete=False)
        p = subprocess.Popen(["kubectl"] + list(args), stdout=out, stderr=subprocess.STDOUT, env=self.env,
                             start_new_session=True)
        p.outfile = out.name
        atexit.register(_kill, p)
        return p

    def fault(self, *args):
        r = subprocess.run([KUBESIM, "fault", "--dir", self.dir] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=self.env, timeout=60)
        return r.returncode, r.stdout.decode(errors="replace")

    def request(self, method, path, body=None, ctype="application/json", token=None, accept="application/json"):
        """A raw HTTPS request: (status, parsed JSON or text)."""
        import ssl
        import urllib.request
        ctx = ssl.create_default_context(cafile=self.ca)
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        headers = {"Accept": accept}
        if token is not False:
            headers["Authorization"] = "Bearer " + (token or self.token)
        if ctype:
            headers["Content-Type"] = ctype
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                code, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, raw = e.code, e.read()
        try:
            return code, json.loads(raw)
        except ValueError:
            return code, raw.decode(errors="replace")

    def manifest(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path


def _kill(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def wait_for(pred, timeout=60, interval=0.2):
    """Poll pred() until it returns something true or the deadline passes; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: testclusters.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: testclusters, singular: testcluster, kind: TestCluster, shortNames: [ttc], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Phase, type: string, jsonPath: .status.phase}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    - {name: Image, type: string, jsonPath: .spec.image, priority: 1}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer, minimum: 0}
              image: {type: string}
              mode: {type: string, enum: [pair, single]}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              phase: {type: string}
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""


def cr(name, replicas=2, image="tt:1", extra=""):
    return ("apiVersion: example.com/v1\nkind: TestCluster\nmetadata:\n  name: %s\n%sspec:\n  replicas: %d\n"
            "  image: \"%s\"\n" % (name, extra, replicas, image))
