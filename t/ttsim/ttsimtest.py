"""Test harness for the TimesTen simulator: TAP output, and simulated pods
(a root directory, a loopback address, a host name and a process group)
set up and torn down by the test itself, with a private ttsim server."""

import ctypes
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(TOP_SRCDIR, "t", "sim", "ttsim", "bin")
IMAGE = "registry.example.com/youraccount/timesten:22.1.1.31.0"
HOME = "/tt/home/timesten/instances/instance1"
DATASTORE_DIR = "/tt/home/timesten/datastore"


class TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, desc), flush=True)
        return cond

    def is_(self, got, want, desc):
        good = got == want
        self.ok(good, desc)
        if not good:
            self.diag("got:  %r" % (got,))
            self.diag("want: %r" % (want,))
        return good

    def like(self, text, pattern, desc):
        good = re.search(pattern, text or "", re.M) is not None
        self.ok(good, desc)
        if not good:
            self.diag("pattern: %s" % pattern)
            for line in (text or "").splitlines()[:40]:
                self.diag("| " + line)
        return good

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def free_ip():
    """A loopback address nobody listens on (daemon port), chosen at random so
    that tests running in parallel do not collide."""
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


def become_subreaper():
    """Orphaned pod processes (daemon anchors) are re-parented to us, as they
    would be to a container runtime, and reaped by reap()."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)        # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Pod:
    def __init__(self, world, name, service="sample", namespace="default"):
        self.world = world
        self.name = name
        self.fqdn = "%s.%s.%s.svc.cluster.local" % (name, service, namespace)
        self.root = os.path.join(world.dir, name)
        self.ip = free_ip()
        os.makedirs(self.root + "/etc")
        os.makedirs(self.root + "/tt/home/timesten/instances")
        os.makedirs(self.root + DATASTORE_DIR)
        self.image = IMAGE
        self.leader = None
        self.start_group()

    def start_group(self):
        """The pod's process group: a leader process every command joins."""
        self.leader = subprocess.Popen(["sleep", "infinity"], process_group=0,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)

    def env(self):
        e = dict(self.world.base_env)
        e.update({"POD_ROOT": self.root, "POD_IP": self.ip, "HOSTNAME": self.name,
                  "CONTAINER_IMAGE": self.image, "TIMESTEN_HOME": HOME})
        return e

    def run(self, *args, timeout=60, stdin=None):
        """Run a utility inside the pod; returns (exit code, stdout, stderr);
        exit code None when it did not finish in time (it is then killed)."""
        cmd = [os.path.join(BIN, args[0])] + list(args[1:])
        p = subprocess.Popen(cmd, env=self.env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.PIPE,
                             process_group=self.leader.pid, cwd=self.root, text=True)
        try:
            out, err = p.communicate(stdin, timeout=timeout)
            return p.returncode, out, err
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            return None, out, err

    def spawn(self, *args):
        cmd = [os.path.join(BIN, args[0])] + list(args[1:])
        return subprocess.Popen(cmd, env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                process_group=self.leader.pid, cwd=self.root, text=True)

    def sql(self, commands, dsn="sample", verbosity="1", timeout=60):
        return self.run("ttIsql", "-v" + verbosity, "-e", commands + "; exit", dsn,
                        timeout=timeout)

    def signal(self, sig):
        try:
            os.killpg(self.leader.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self):
        """Delete the pod: every process of its group gets SIGKILL."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        try:
            self.leader.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        reap()

    def restart(self):
        """A new container for the same pod (same root directory and address)."""
        self.kill()
        self.start_group()

    def daemon_pid(self):
        try:
            with open(self.root + HOME + "/info/timestend.pid") as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def setup_instance(self, dsn_attrs="PermSize=200\nDatabaseCharacterSet=AL32UTF8\n"
                                       "DDLReplicationLevel=3\n"):
        rc, out, err = self.run("ttInstanceCreate", "-location",
                                "/tt/home/timesten/instances", "-name", "instance1")
        with open(self.root + HOME + "/conf/sys.odbc.ini", "a") as f:
            f.write("sample=TimesTen 22.1 Driver\n\n[sample]\nDataStore=%s/sample\n%s"
                    % (DATASTORE_DIR, dsn_attrs))
        return rc, out, err


class World:
    """Temporary directory, a private ttsim server and the pods of one test."""

    def __init__(self):
        become_subreaper()
        self.dir = tempfile.mkdtemp(prefix="ttsim-test-")
        self.server = "ttsim-test-%d-%d" % (os.getpid(), random.randint(0, 10 ** 9))
        self.base_env = {k: v for k, v in os.environ.items()
                         if k not in ("POD_ROOT", "POD_IP", "TIMESTEN_HOME", "HOSTNAME")}
        # TMPDIR: the private server's log goes into the test's directory
        self.base_env.update({"TTSIM_SERVER_NAME": self.server, "TTSIM_IDLE_EXIT": "5",
                              "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": self.dir})
        self.pods = []

    def pod(self, name):
        p = Pod(self, name)
        self.pods.append(p)
        self.write_hosts()
        return p

    def write_hosts(self):
        """What the pod runtime does: every pod's /etc/hosts names every pod."""
        lines = ["127.0.0.1 localhost"]
        for p in self.pods:
            lines.append("%s %s %s" % (p.ip, p.fqdn, p.name))
        for p in self.pods:
            tmp = p.root + "/etc/hosts.tmp"
            with open(tmp, "w") as f:
                f.write("\n".join(lines) + "\n")
            os.replace(tmp, p.root + "/etc/hosts")

    def server_pid(self):
        sys.path.insert(0, os.path.join(TOP_SRCDIR, "t", "sim", "ttsim", "lib"))
        from ttsim import proto
        try:
            c = proto.Client.unix(self.server, timeout=5)
        except proto.ConnectFailed:
            return None
        try:
            return c.call({"op": "ping"})["pid"]
        except Exception:
            return None
        finally:
            c.close()

    def cleanup(self):
        for p in self.pods:
            p.kill()
        pid = self.server_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            end = time.monotonic() + 10
            while time.monotonic() < end:
                reap()
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        reap()
        if os.environ.get("TTSIM_TEST_KEEP"):
            sys.stderr.write("# TTSIM_TEST_KEEP: the files stay in %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def poll(fn, timeout=30, interval=0.1):
    """Call fn until it returns something true or the deadline passes."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(interval)


def rep_state(pod):
    rc, out, err = pod.sql("call ttRepStateGet", timeout=30)
    m = re.match(r"^< (\w+) >$", out.strip())
    return m.group(1) if m else None


def count(pod, table="scott.t"):
    rc, out, err = pod.sql("select count(*) from %s" % table, timeout=30)
    m = re.match(r"^< (\d+) >$", out.strip())
    return int(m.group(1)) if m else None


def make_pair(t, a, b, return_service):
    """Two pods made an active standby pair with the given return service
    ("" for NO RETURN), user scott (ADMIN) and table scott.t."""
    for pod in (a, b):
        pod.setup_instance()
        rc, out, err = pod.run("ttDaemonAdmin", "-start")
    a.sql("create user scott identified by tiger; grant admin to scott; "
          "create table scott.t (k number not null primary key, v varchar2(20))")
    rc, out, err = a.sql('create active standby pair "sample" on "%s", "sample" on "%s" %s; '
                         "call ttRepStateSet('ACTIVE'); call ttRepStart"
                         % (a.fqdn, b.fqdn, return_service))
    b.run("ttRepAdmin", "-duplicate", "-from", "sample", "-host", a.fqdn, "-UID", "scott",
          "-PWD", "tiger", "sample")
    b.run("ttAdmin", "-repStart", "sample")
    return t.is_(poll(lambda: rep_state(b) == "STANDBY", 30), True,
                 "pair with %s (automatic replication ports) is ACTIVE/STANDBY"
                 % (return_service or "NO RETURN"))


class AppConn:
    """An application's connection held open across steps of a test, as ttIsql
    cannot: client/server through the server port ("Server" rows of ttStatus),
    or direct ("Process" rows) through the daemon port, as a direct-mode
    application's library would."""

    def __init__(self, pod, uid="scott", pwd="tiger", server=True):
        sys.path.insert(0, os.path.join(TOP_SRCDIR, "t", "sim", "ttsim", "lib"))
        from ttsim import proto
        self.link = proto.Client.tcp(pod.ip, 6625 if server else 6624, timeout=60)
        attrs = [["DSN", "sample"], ["UID", uid], ["PWD", pwd]]
        if not server:
            attrs.append(["DataStore", DATASTORE_DIR + "/sample"])
        err = self.call({"op": "connect", "attrs": attrs, "pid": os.getpid()})
        if isinstance(err, Exception):
            self.close()
            raise err

    def call(self, msg):
        """The reply, or the TimesTen error it raised (TTError)."""
        from ttsim.errors import TTError
        try:
            return self.link.call(msg)
        except TTError as e:
            return e

    def sql(self, text):
        return self.call({"op": "exec", "sql": text})

    def autocommit(self, on):
        return self.call({"op": "autocommit", "on": on})

    def close(self):
        self.link.close()


def run_test(body):
    """Run body(tap, world) and always clean up, even after an exception."""
    tap = TAP()
    world = World()
    code = 1

    def terminated(signum, frame):
        raise SystemExit("terminated by signal %d" % signum)
    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGHUP, terminated)
    try:
        body(tap, world)
        code = tap.done()
    except Exception as e:                      # report, then still clean up
        import traceback
        tap.ok(False, "test raised %s: %s" % (type(e).__name__, e))
        tap.diag(traceback.format_exc())
        code = tap.done()
    finally:
        world.cleanup()
    sys.exit(code)
