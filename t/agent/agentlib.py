"""Shared pieces of the agent tests: TAP output, certificates, starting a ttagent in a
simulated pod directory, an HTTPS client with client certificates, and pods played by the
TimesTen simulator."""

import http.client
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
AGENT = os.path.join(TOP_BUILDDIR, "src", "agent", "ttagent")
CERTS = os.path.join(TOP_BUILDDIR, "t", "agent", "agent-certs")
SQL_DIR = os.path.join(TOP_SRCDIR, "ttimage")
HOME = "/tt/home/timesten/instances/instance1"


class TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, desc), flush=True)
        return bool(cond)

    def is_(self, got, want, desc):
        good = got == want
        self.ok(good, desc)
        if not good:
            self.diag("got:  %r\nwant: %r" % (got, want))
        return good

    def like(self, text, needle, desc):
        good = needle in (text or "")
        self.ok(good, desc)
        if not good:
            self.diag("lacks: %r\n%s" % (needle, (text or "")[-2000:]))
        return good

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def poll(fn, timeout=30.0, interval=0.1):
    """Calls fn until it returns something true or the deadline passes."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(interval)


def free_port(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((ip, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop_ttsim_server(name):
    """Stops the private simulator server of a test, found by its unique name (by pid)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if name.encode() not in f.read().split(b"\0"):
                    continue
            os.kill(int(d), signal.SIGTERM)
        except OSError:
            pass


def make_certs(directory, *names):
    os.makedirs(directory, exist_ok=True)
    subprocess.run([CERTS, directory] + list(names), check=True)


class Agent:
    """A ttagent serving a pod directory (POD_ROOT) on ip:port, in its own process group
    as a container's processes are."""

    def __init__(self, root, ip, hostname, certs, extra_env=None, args=()):
        self.root = root
        self.ip = ip
        self.certs = certs
        self.port = free_port(ip)
        self.log = os.path.join(os.path.dirname(root), hostname + ".agent.log")
        for d in ("ttagent", "ttconfig", "tmp", "etc"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        self.install_certs(certs)
        env = {k: v for k, v in os.environ.items()
               if k not in ("POD_ROOT", "POD_IP", "HOSTNAME", "TIMESTEN_HOME")}
        env.update({"POD_ROOT": root, "POD_IP": ip, "HOSTNAME": hostname,
                    "TIMESTEN_HOME": HOME})
        env.update(extra_env or {})
        self.env = env
        self.args = list(args)
        self.proc = None
        self.start()

    def install_certs(self, certs):
        for f in ("ca.crt", "tls.crt", "tls.key"):
            with open(os.path.join(certs, f)) as src:
                data = src.read()
            tmp = os.path.join(self.root, "ttagent", f + ".new")
            with open(tmp, "w") as dst:
                dst.write(data)
            os.replace(tmp, os.path.join(self.root, "ttagent", f))

    def start(self):
        seen = len(self.log_text())  # a restarted agent's log goes on in the same file
        with open(self.log, "a") as logf:
            self.proc = subprocess.Popen(
                [AGENT, "--listen", "%s:%d" % (self.ip, self.port), "--sql-dir", SQL_DIR]
                + self.args, env=self.env, stdin=subprocess.DEVNULL, stdout=logf,
                stderr=logf, start_new_session=True)
        poll(lambda: "msg=started" in self.log_text()[seen:] or self.proc.poll() is not None, 20)

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """Deletes the pod: its whole process group is killed."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None

    def client(self, cert="client", ca="ca.crt", certs=None):
        return Client(self.ip, self.port, certs or self.certs, cert, ca)


class Client:
    """HTTPS with the operator's client certificate (or another, or none)."""

    def __init__(self, ip, port, certs, cert="client", ca="ca.crt"):
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                         cafile=os.path.join(certs, ca))
        if cert:
            ctx.load_cert_chain(os.path.join(certs, cert + ".crt"),
                                os.path.join(certs, cert + ".key"))
        self.ctx = ctx
        self.ip = ip
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, raw=None, timeout=60):
        """(status, parsed JSON or text); a TLS or connection failure raises."""
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(self.ip, self.port, context=self.ctx,
                                                    timeout=timeout)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            text = resp.read().decode()
        except Exception:
            self.close()
            raise
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text

    def get(self, path="/v1/state"):
        return self.request("GET", path)

    def post(self, op, body=None, **kw):
        return self.request("POST", "/v1/ops/" + op, body, **kw)

    def refused(self):
        """Whether the agent refuses this client (at or right after the handshake)."""
        try:
            self.get()
        except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError):
            return True
        return False

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---- pods on the TimesTen simulator ($TTSIM_HOME, default $top_srcdir/t/sim/ttsim) ----

TTSIM = os.environ.get("TTSIM_HOME") or os.path.join(TOP_SRCDIR, "t", "sim", "ttsim")
IMAGE = "registry.example.com/youraccount/timesten:22.1.1.31.0"


def free_ip():
    """A loopback address where the daemon port is free, chosen at random so that tests
    running in parallel do not collide."""
    for _ in range(200):
        ip = "127.%d.%d.%d" % (random.randint(64, 250), random.randint(0, 255),
                               random.randint(2, 250))
        s = socket.socket()
        try:
            s.bind((ip, 6624))
        except OSError:
            continue
        finally:
            s.close()
        return ip
    raise RuntimeError("no free loopback address")


class Pod:
    def __init__(self, work, name, certs, env):
        self.name = name
        self.fqdn = "%s.sample.default.svc.cluster.local" % name
        self.root = os.path.join(work, name)
        self.ip = free_ip()
        self.certs = certs
        self.env = env
        inst = os.path.join(self.root, "tt/home/timesten")
        os.makedirs(inst)
        # What the image's init container does in the simulated cluster: the installation.
        os.symlink(TTSIM, os.path.join(inst, "installation"))
        os.makedirs(os.path.join(self.root, "ttconfig"))
        files = {"db.ini": "PermSize=200\nDatabaseCharacterSet=AL32UTF8\n",
                 "adminUser": "adm/adminpw\n",
                 "schema.sql": "create table adm.orders (id number not null primary key,\n"
                               "  item varchar2(40));\n",
                 "epilog.sql": "select count(*) from adm.orders;\n"}
        for f, text in files.items():
            with open(os.path.join(self.root, "ttconfig", f), "w") as fh:
                fh.write(text)
        self.agent = None

    def start(self, args=()):
        """Starts (or starts again) the pod's agent, with args added to its command line."""
        self.agent = Agent(self.root, self.ip, self.name, self.certs, extra_env=self.env,
                           args=args)
        self.c = self.agent.client()

    def utility(self, *args):
        """Runs a simulated utility in the pod, as an application in the tt container."""
        env = dict(self.agent.env)
        p = subprocess.run([os.path.join(TTSIM, "bin", args[0])] + list(args[1:]), env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout

    def state(self):
        st, s = self.c.get()
        return s if st == 200 else {}


class AppConn:
    """An application's connection held across steps (ttIsql cannot): client/server
    through the server port as the user adm, or direct, as the instance administrator."""

    DATASTORE = "/tt/home/timesten/datastore/sample"

    def __init__(self, pod, server=True):
        sys.path.insert(0, os.path.join(TTSIM, "lib"))
        from ttsim import proto
        self.link = proto.Client.tcp(pod.ip, 6625 if server else 6624, timeout=120)
        attrs = [["DSN", "sample"]] + ([["UID", "adm"], ["PWD", "adminpw"]] if server else
                                       [["DataStore", self.DATASTORE]])
        err = self.call({"op": "connect", "attrs": attrs, "pid": os.getpid()})
        if err:
            self.link.close()
            raise RuntimeError("cannot connect: TT%d" % err)

    def call(self, msg):
        """0 when it succeeded, else the TimesTen error number; -1 when the daemon closed
        the link (or it broke) without one."""
        from ttsim.errors import TTError
        try:
            self.link.call(msg)
            return 0
        except TTError as e:
            return e.code
        except Exception:
            return -1

    def sql(self, text):
        return self.call({"op": "exec", "sql": text})

    def close(self):
        try:
            self.link.close()
        except OSError:
            pass


def write_hosts(pods):
    lines = ["127.0.0.1 localhost"] + ["%s %s %s" % (p.ip, p.fqdn, p.name) for p in pods]
    for p in pods:
        os.makedirs(os.path.join(p.root, "etc"), exist_ok=True)
        with open(os.path.join(p.root, "etc", "hosts"), "w") as f:
            f.write("\n".join(lines) + "\n")


def step(t, pod, op, body=None, want=200, **kw):
    st, r = pod.c.post(op, body, **kw)
    good = t.is_(st, want, "%s: %s answers %d" % (pod.name, op, want))
    if not good:
        t.diag(str(r)[:3000])
    return r


def ttsim_env(work, name):
    """The environment of a test's simulated pods: the image's release and a private
    simulator server named name (stop_ttsim_server(name) stops it)."""
    return {"CONTAINER_IMAGE": IMAGE, "TTSIM_SERVER_NAME": name, "TTSIM_IDLE_EXIT": "2",
            "TMPDIR": work, "PYTHONDONTWRITEBYTECODE": "1"}


def simulated_pods(work, cleanups, tag, n=2, extra_env=None):
    """n pods sample-0, sample-1, ... played by a private simulator server (stopped by
    cleanups), with the agents' certificates and the pods' hosts files; not started yet.
    Exits with a TAP skip when the simulator is missing."""
    if not os.access(os.path.join(TTSIM, "bin", "ttStatus"), os.X_OK):
        print("1..0 # SKIP the TimesTen simulator is not at %s" % TTSIM)
        sys.exit(0)
    server = "ttagent-%s-%d-%d" % (tag, os.getpid(), random.randint(0, 10 ** 9))
    env = ttsim_env(work, server)
    env.update(extra_env or {})
    cleanups.append(lambda: stop_ttsim_server(server))
    certs = os.path.join(work, "certs")
    pods = [Pod(work, "sample-%d" % i, certs, env) for i in range(n)]
    make_certs(certs, *[x for p in pods for x in (p.ip, p.fqdn)])
    write_hosts(pods)
    return pods


def bring_up_pair(t, p0, p1, scheme_attrs=""):
    """Everything the operator does to make p0 the ACTIVE and p1 its STANDBY (the scheme
    with scheme_attrs, e.g. RETURN TWOSAFE); whether p1 became STANDBY."""
    for op in ("createInstance", "startDaemon", "createDatabase", "createAdminUser",
               "runSchema"):
        step(t, p0, op)
    scheme = ('CREATE ACTIVE STANDBY PAIR sample ON "{0}", sample ON "{1}" {2} '
              'STORE sample ON "{0}" PORT 4444 FAILTHRESHOLD 0 TIMEOUT 999 '
              'STORE sample ON "{1}" PORT 4444 FAILTHRESHOLD 0 TIMEOUT 999'
              ).format(p0.fqdn, p1.fqdn, scheme_attrs)
    p0.scheme = scheme
    step(t, p0, "createRepScheme", {"statement": scheme})
    step(t, p0, "setRepState", {"state": "ACTIVE"})
    step(t, p0, "startRepAgent")
    step(t, p1, "createInstance")
    step(t, p1, "startDaemon")
    r = step(t, p1, "duplicate", {"host": p0.fqdn}, want=202)

    def dup_done():
        st, r2 = p1.c.get("/v1/async/" + r.get("id", ""))
        return r2 if st == 200 and r2.get("complete") else None
    r = poll(dup_done, 120, 0.25) or {}
    t.is_(r.get("status"), "Succeeded", "%s: the duplicate succeeds" % p1.name)
    step(t, p1, "startRepAgent")
    return t.ok(poll(lambda: p1.state().get("repState") == "STANDBY", 60, 0.25),
                "%s becomes the STANDBY of %s" % (p1.name, p0.name))


def run(body):
    """Runs body(tap, workdir) and always cleans up; exits with the TAP status."""
    tap = TAP()
    work = tempfile.mkdtemp(prefix="ttagent-test-")
    cleanups = []
    code = 1
    try:
        body(tap, work, cleanups)
        code = tap.done()
    except Exception as e:  # report, then still clean up
        import traceback
        tap.ok(False, "test raised %s: %s" % (type(e).__name__, e))
        tap.diag(traceback.format_exc())
        code = tap.done()
    finally:
        for fn in reversed(cleanups):
            try:
                fn()
            except Exception as e:
                print("# cleanup: %s" % e, flush=True)
        subprocess.run(["rm", "-rf", work])
    sys.exit(code)
