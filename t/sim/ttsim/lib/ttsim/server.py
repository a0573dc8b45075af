"""The shared ttsim server: one process per machine (per installation and
user) that plays every pod's TimesTen daemon.  `ttDaemonAdmin -start` starts
it on demand, detached from the pod, and registers the pod's daemon with it
over an abstract unix socket; the server exits when no daemon has been
registered for a while."""

import asyncio
import os
import resource
import signal
import socket
import sys
import tempfile
import time
import traceback

from . import proto, storage
from .daemon import Daemon, bind_error_text
from .errors import TTError

IDLE_EXIT = float(os.environ.get("TTSIM_IDLE_EXIT", "30"))


def log_exception(what):
    log("unexpected error in %s:\n%s" % (what, traceback.format_exc()))


def log(text):
    sys.stderr.write("%s ttsim[%d]: %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"),
                                             os.getpid(), text))
    sys.stderr.flush()


def proc_start_time(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    return int(stat[stat.rindex(")") + 2:].split()[19])


class Server:
    def __init__(self, name):
        self.name = name
        self.daemons = {}
        self.idle_handle = None
        self.done = None
        self.srv = None
        self.exiting = False
        self.log_exception = log_exception

    async def main(self):
        self.done = asyncio.get_running_loop().create_future()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind("\0" + self.name)
        except OSError:
            log("another server already serves %s" % self.name)
            return 0
        srv = self.srv = await asyncio.start_unix_server(self.handle_control, sock=sock,
                                                         limit=proto.MAX_LINE)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_all)
        log("serving %s" % self.name)
        self.arm_idle()
        await self.done
        srv.close()
        log("exiting")
        return 0

    def stop_all(self):
        for d in list(self.daemons.values()):
            d.shutdown(crash=False, why="server stopped")
        if not self.done.done():
            self.done.set_result(None)

    def arm_idle(self):
        if self.idle_handle is not None:
            self.idle_handle.cancel()
            self.idle_handle = None
        if not self.daemons:
            self.idle_handle = asyncio.get_running_loop().call_later(IDLE_EXIT, self.idle_exit)

    def idle_exit(self):
        if not self.daemons and not self.done.done():
            # stop accepting first; a registration racing with the exit is
            # refused and retried by ttDaemonAdmin against a new server
            self.exiting = True
            self.srv.close()
            self.done.set_result(None)

    def daemon_gone(self, d, why):
        if self.daemons.get(d.key) is d:
            del self.daemons[d.key]
        log("daemon %s%s (pid %d) gone: %s" % (d.root, d.home, d.pid, why))
        self.arm_idle()

    async def handle_control(self, reader, writer):
        try:
            while True:
                try:
                    msg = await proto.read_msg(reader)
                except ValueError:
                    break
                if msg is None:
                    break
                try:
                    reply = await self.control(msg)
                except TTError as e:
                    reply = proto.error_reply([e])
                except Exception as e:
                    log_exception("control request %r" % msg.get("op"))
                    reply = proto.error_reply([TTError(8045, text="internal error: %s" % e)])
                proto.write_msg(writer, reply)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def control(self, msg):
        op = msg.get("op")
        if op == "ping":
            return {"ok": True, "pid": os.getpid(), "daemons": len(self.daemons)}
        if op == "register":
            return await self.register(msg)
        if op == "stats":
            with open("/proc/self/status") as f:
                rss = next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
            return {"ok": True, "pid": os.getpid(), "daemons": len(self.daemons),
                    "rss_kb": rss, "dbs": sum(len(d.dbs) for d in self.daemons.values())}
        if op == "databases":
            return {"ok": True, "databases": self.databases()}
        if op == "disk-full":
            # A directory's file system full (or not any more): the databases' writes
            # under it fail with ENOSPC (storage.FULL).
            path = os.path.realpath(str(msg.get("path") or ""))
            if not os.path.isdir(path):
                raise TTError(8045, text="no directory %s" % path)
            if msg.get("full"):
                storage.FULL.add(path)
            else:
                storage.FULL.discard(path)
            return {"ok": True, "full": sorted(storage.FULL)}
        if op == "shutdown":
            asyncio.get_running_loop().call_soon(self.stop_all)
            return {"ok": True}
        raise TTError(8045, text="unknown control request %r" % (op,))

    def databases(self):
        """Every database of every daemon this server plays, as the daemon knows it:
        whatever a fault does to the pods' network, this is the ground truth."""
        out = []
        for d in sorted(self.daemons.values(), key=lambda d: (d.hostname, d.pod_ip)):
            if d.dead:
                continue
            dsns = d.dsn_names()
            for path in sorted(set(d.known) | set(d.dbs)):
                db = d.dbs.get(path)
                out.append({"host": d.hostname, "ip": d.pod_ip, "path": path,
                            "dsn": dsns.get(path, os.path.basename(path)),
                            "loaded": db is not None,
                            "repstate": db.state if db is not None and db.scheme is not None
                            else "-",
                            "updatable": bool(db is not None and not db.closed and
                                              db.updatable())})
        return out

    async def register(self, msg):
        if self.exiting:
            raise TTError(799, text="the ttsim server is exiting; retry")
        key = (msg["pod_root"], msg["home"])
        old = self.daemons.get(key)
        if old is not None and not old.dead and not old.anchor_alive():
            # its death is noticed here before the pidfd event is handled
            old.shutdown(crash=True, why="daemon process %d exited" % old.pid)
        if old is not None and not old.dead:
            raise TTError(8045, text="TimesTen Daemon (PID: %d, port: %d) is already running"
                          % (old.pid, old.daemon_port))
        pid = int(msg["anchor_pid"])
        try:
            if proc_start_time(pid) != int(msg["anchor_start"]):
                raise OSError("pid reused")
        except (OSError, ValueError, IndexError):
            raise TTError(8045, text="daemon process %d vanished during startup" % pid)
        d = Daemon(self, msg)
        try:
            await d.start()
        except OSError as e:
            raise TTError(8045, text="Could not listen on %s: %s" % (
                d.pod_ip, bind_error_text(e)))
        self.daemons[key] = d
        self.arm_idle()
        log("daemon %s%s registered: pid %d on %s:%d" % (d.root, d.home, pid, d.pod_ip,
                                                          d.daemon_port))
        return {"ok": True, "pid": pid}


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv):
    name = argv[1] if len(argv) > 1 else None
    if not name:
        sys.stderr.write("usage: server.py SOCKET-NAME\n")
        return 2
    os.chdir("/")
    raise_fd_limit()
    sys.setrecursionlimit(5000)
    return asyncio.run(Server(name).main())


def log_path(name):
    return os.path.join(tempfile.gettempdir(), name + ".log")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
