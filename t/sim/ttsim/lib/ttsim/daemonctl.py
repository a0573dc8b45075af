"""ttDaemonAdmin's work: start a pod's daemon (an anchor process in the
pod's process group, registered with the shared server), stop it, and
start/stop the TimesTen server (client/server listener)."""

import os
import shutil
import signal
import subprocess
import sys
import time

from . import client
from . import env
from . import proto
from .errors import TTError


def _anchor_preexec():
    # A daemon is not killed by a terminal's ^C or hangup, only by signals
    # aimed at it or at its container's process group (TERM, KILL, STOP).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)


def spawn_anchor():
    sleep = shutil.which("sleep") or "/bin/sleep"
    p = subprocess.Popen(["timestend", "infinity"], executable=sleep,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, close_fds=True, cwd="/",
                         preexec_fn=_anchor_preexec)
    return p.pid


def start_time(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    return int(stat[stat.rindex(")") + 2:].split()[19])


def orphan_anchor(inst):
    """The anchor of a daemon whose server died: alive, named timestend."""
    try:
        with open(inst.host(inst.home + "/info/timestend.pid")) as f:
            pid = int(f.read())
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if not f.read().startswith(b"timestend\0"):
                return None
        # the pid may have been reused by another pod's daemon: same pod root?
        with open("/proc/%d/environ" % pid, "rb") as f:
            environ = f.read().split(b"\0")
        if ("POD_ROOT=" + inst.root).encode() not in environ and inst.root:
            return None
        return pid
    except (OSError, ValueError):
        return None


def register(reg):
    """Register with the shared server, starting it (again) if needed."""
    for attempt in range(3):
        client.ensure_server()
        try:
            return client.control(reg)
        except proto.ConnectFailed:
            time.sleep(0.2)
        except TTError as e:
            if "exiting" not in e.text or attempt == 2:
                raise
            time.sleep(0.5)
    raise TTError(799, text="cannot reach the ttsim server")


def start():
    inst = env.current_instance()
    client.ensure_server()
    old = orphan_anchor(inst)
    pid = spawn_anchor()
    reg = {"op": "register", "pod_root": inst.root, "home": inst.home,
           "pod_ip": env.pod_ip(), "daemon_port": inst.daemon_port,
           "server_port": inst.server_port, "instance": inst.name,
           "admin": inst.admin, "group": inst.group,
           "hostname": os.environ.get("HOSTNAME") or os.uname().nodename,
           "release": env.release_from_image(), "anchor_pid": pid}
    try:
        reg["anchor_start"] = start_time(pid)
        register(reg)
    except (TTError, OSError, proto.ConnectFailed) as e:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        text = e.text if isinstance(e, TTError) else str(e)
        if "already running" in text:
            print(text + ".")
        else:
            print("TimesTen Daemon startup failed: %s" % text)
        return 1
    if old is not None and old != pid:
        # left behind by a server that died: this daemon replaces it
        try:
            os.kill(old, signal.SIGKILL)
        except OSError:
            pass
    print("TimesTen Daemon (PID: %d, port: %d) startup OK." % (pid, inst.daemon_port))
    return 0


def stop(force=False):
    inst = env.current_instance()
    d = client.daemon(inst, timeout=60)
    if d is None:
        print("TimesTen Daemon is not running.")
        return 1
    try:
        reply = d.call({"op": "daemon_stop", "force": force})
    finally:
        d.close()
    pid = reply["pid"]
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
            if stat[stat.rindex(")") + 2] in "ZX":
                break
        except OSError:
            break
        time.sleep(0.02)
    print("TimesTen Daemon (PID: %d, port: %d) stopped." % (pid, reply["port"]))
    return 0


def server(action):
    inst = env.current_instance()
    d = client.daemon(inst, timeout=60)
    if d is None:
        print("ttDaemonAdmin: TimesTen Daemon is not running.")
        return 1
    try:
        if action in ("stop", "restart"):
            try:
                d.call({"op": "server_stop"})
            except TTError:
                if action == "stop":
                    raise
            if action == "stop":
                print("TimesTen Server stopped.")
        if action in ("start", "restart"):
            d.call({"op": "server_start"})
            print("TimesTen Server started.")
    finally:
        d.close()
    return 0


def main(argv):
    usage = ("Usage:\n  ttDaemonAdmin [-force] {-start | -stop | -restart}\n"
             "  ttDaemonAdmin [-startserver | -restartserver]\n"
             "  ttDaemonAdmin [-force] -stopserver\n")
    client.common_flags(argv, "ttDaemonAdmin", usage)
    force = "-force" in argv
    args = [a for a in argv if a != "-force"]
    if len(args) != 1:
        raise client.UsageError(usage.rstrip())
    a = args[0].lower()
    if a == "-start":
        return start()
    if a == "-stop":
        return stop(force)
    if a == "-restart":
        stop(force)
        sys.stdout.flush()
        return start()
    if a == "-startserver":
        return server("start")
    if a == "-stopserver":
        return server("stop")
    if a == "-restartserver":
        return server("restart")
    raise client.UsageError("unknown option %s\n%s" % (args[0], usage.rstrip()))
