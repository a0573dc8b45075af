"""One pod's TimesTen daemon, living inside the shared server: it listens on
the pod's address (daemon port, server port), knows the instance's data
stores, loads and unloads them, runs their replication agents, and lives
exactly as long as the pod's anchor process (the PID ttStatus shows).  When
the anchor is stopped (SIGSTOP) the daemon stops answering; when it dies the
daemon dies with it: databases unloaded without checkpoint, agents gone."""

import asyncio
import errno
import json
import os
import signal
import time

from . import env
from . import odbcini
from . import proto
from . import stall
from . import storage
from .database import Database
from .errors import TTError
from .replication import RepAgent
from .requests import Requests

SUBDAEMONS = [("Manager", 2047), ("Rollback", 2046), ("Checkpoint", 2042),
              ("Log Marker", 2041), ("Deadlock Detector", 2040), ("Flusher", 2039),
              ("Aging", 2038), ("HistGC", 2037), ("IndexGC", 2036), ("Monitor", 2035),
              ("Garbage Collector", 2034), ("AsyncMV", 2033), ("XactId Rollback", 2032)]
DEFAULT_POLICIES = {"ram_policy": "inUse", "ram_grace": 0, "rep_policy": "manual",
                    "cache_policy": "manual", "rep_manual": False, "cache_manual": False,
                    "closed": False}
RAM_POLICIES = {"always": "always", "manual": "manual", "inuse": "inUse",
                "enduring": "enduring"}
# pending and not blocked, any of these stops the anchor once it runs
STOP_SIGNALS = sum(1 << (sig - 1) for sig in (signal.SIGSTOP, signal.SIGTSTP,
                                               signal.SIGTTIN, signal.SIGTTOU))
FROZEN_CACHE = 0.05             # seconds a "frozen" answer is reused (never "not frozen")


class Daemon(Requests):
    def __init__(self, server, reg):
        self.server = server
        self.root = reg["pod_root"]
        self.home = reg["home"]
        self.pod_ip = reg["pod_ip"]
        self.daemon_port = int(reg["daemon_port"])
        self.server_port = int(reg["server_port"])
        self.instance = reg["instance"]
        self.admin = reg["admin"]
        self.group = reg["group"]
        self.hostname = reg.get("hostname") or ""
        self.release = reg.get("release") or env.DEFAULT_RELEASE
        self.pid = int(reg["anchor_pid"])
        self.key = (self.root, self.home)
        self.pidfd = None
        self.stat_fd = None            # the anchor's /proc/PID/stat, read again in place
        self.listeners = {}
        self.conns = set()
        self.dbs = {}                  # in-pod path -> loaded Database
        self.known = {}                # in-pod path -> policies
        self.unload_timers = {}
        self.dead = False
        self.started = time.time()
        self._frozen_at = 0.0
        self._frozen = False
        self.catalog_file = self.host(self.home + "/info/ttsim.datastores")
        self.segments = 0              # shared memory segments made in the pod so far

    def new_segments(self):
        """The IDs of a loaded database's shared memory segments: its PL/SQL
        segment and then its own, numbered as a pod's own IPC namespace does
        (the first database loaded in a new container gets 1 and 2)."""
        self.segments += 2
        return self.segments

    # -- paths, names, logging --------------------------------------------
    def host(self, path):
        return env.host_path(path, self.root)

    def dsn_names(self):
        """{DataStore in-pod path: DSN} from the instance's sys.odbc.ini."""
        try:
            with open(self.host(self.home + "/conf/sys.odbc.ini")) as f:
                sections = odbcini.parse_ini(f.read())
        except OSError:
            return {}
        out = {}
        for dsn, pairs in sections.items():
            for k, v in pairs:
                if k.lower() == "datastore":
                    out.setdefault(v, dsn)
        return out

    def logmsg(self, level, text):
        stamp = time.strftime("%Y-%m-%d %H:%M:%S") + ".%03d" % (int(time.time() * 1000) % 1000)
        line = "%s %s: : %d: %s\n" % (stamp, level, self.pid, text)
        for name in ("ttmesg.log",) + (("tterrors.log",) if level in ("Err", "Warn") else ()):
            try:
                with open(self.host(self.home + "/diag/" + name), "a") as f:
                    f.write(line)
            except OSError:
                pass

    def is_local_host(self, host):
        h = host.lower().rstrip(".")
        if h in ("localhost", "self") or h == self.hostname.lower():
            return True
        addr = env.resolve(h, self.root, use_system=False)
        if addr is not None:
            return addr == self.pod_ip
        return bool(self.hostname) and h.split(".", 1)[0] == self.hostname.lower()

    async def resolve(self, host):
        addr = env.resolve(host, self.root, use_system=False)
        if addr is None:
            loop = asyncio.get_running_loop()
            addr = await loop.run_in_executor(None, env.resolve, host, self.root, True)
        return addr

    # -- anchor process: alive, frozen, dead --------------------------------
    def frozen(self):
        """Whether the anchor is stopped or has been sent a stop signal.  Read
        afresh at each check, so that a request sent after SIGSTOP is never
        answered; only "frozen" is reused for a moment (a SIGCONT may be
        noticed FROZEN_CACHE late, a SIGSTOP never is)."""
        now = time.monotonic()
        if self._frozen and now - self._frozen_at < FROZEN_CACHE:
            return True
        try:
            self._frozen = self.read_frozen()
        except (OSError, ValueError):
            self._frozen = False       # gone: the pidfd tells
        self._frozen_at = now
        return self._frozen

    def read_frozen(self):
        state = self.anchor_state()
        if state in (b"T", b"t"):
            return True
        if state in (b"S", b"Z", b"X"):
            # asleep, so no stop signal was sent to it (that wakes it), or dead
            return False
        # Runnable: woken by a signal it has not taken yet?  (Right after
        # SIGSTOP the anchor stays runnable until it gets a CPU.)
        with open("/proc/%d/status" % self.pid, "rb") as f:
            status = f.read()
        pending = int(status_field(status, b"SigPnd:"), 16) | \
            int(status_field(status, b"ShdPnd:"), 16)
        if pending & STOP_SIGNALS & ~int(status_field(status, b"SigBlk:"), 16):
            return True
        # Or it took it since its state was read: a stop signal leaves the
        # pending set only as the process stops, so the state is T by now.
        return self.anchor_state() in (b"T", b"t")

    def anchor_state(self):
        """The state letter of /proc/PID/stat (R, S, T, Z...)."""
        if self.stat_fd is not None:
            stat = os.pread(self.stat_fd, 1024, 0)
        else:
            with open("/proc/%d/stat" % self.pid, "rb") as f:
                stat = f.read()
        i = stat.rindex(b")") + 2
        return stat[i:i + 1]

    def anchor_alive(self):
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                stat = f.read()
            return stat[stat.rindex(")") + 2] not in "ZX"
        except (OSError, ValueError):
            return False

    async def wait_thawed(self):
        """Return once the anchor is not stopped: True when it was."""
        waited = False
        while not self.dead and self.frozen():
            waited = True
            await asyncio.sleep(0.1)
        if self.dead:
            raise ConnectionError("daemon is dead")
        return waited

    def watch_anchor(self):
        self.pidfd = os.pidfd_open(self.pid)
        asyncio.get_running_loop().add_reader(self.pidfd, self.anchor_exited)
        try:
            self.stat_fd = os.open("/proc/%d/stat" % self.pid, os.O_RDONLY)
        except OSError:
            pass

    def anchor_exited(self):
        self.shutdown(crash=True, why="daemon process %d exited" % self.pid)

    # -- start and stop ----------------------------------------------------
    async def start(self):
        self.load_catalog()
        try:
            for port, kind in ((self.daemon_port, "daemon"), (self.server_port, "server")):
                await self.listen(port, kind)
        except OSError:
            self.close_listeners()
            raise
        self.watch_anchor()
        info = self.host(self.home + "/info")
        try:
            os.makedirs(info, exist_ok=True)
            with open(info + "/timestend.pid", "w") as f:
                f.write("%d\n" % self.pid)
        except OSError:
            pass
        self.logmsg("Info", "TimesTen Daemon (PID: %d, port: %d) startup OK, release %s"
                    % (self.pid, self.daemon_port, self.release))
        for path, pol in list(self.known.items()):
            try:
                if pol["ram_policy"] == "always" or pol["rep_policy"] == "always":
                    self.load(path)
                if pol["rep_policy"] == "always":
                    self.rep_start(self.dbs[path], manual=False)
            except (TTError, OSError) as e:
                self.logmsg("Err", "Could not load %s at startup: %s" % (path, e))

    async def listen(self, port, kind):
        srv = await asyncio.start_server(
            lambda r, w: self.handle_conn(r, w, kind), host=self.pod_ip, port=port,
            limit=proto.MAX_LINE, reuse_address=True)
        self.listeners[kind] = srv

    def close_listeners(self):
        for srv in self.listeners.values():
            srv.close()
        self.listeners = {}

    def shutdown(self, crash, why=""):
        if self.dead:
            return
        self.dead = True
        if self.pidfd is not None:
            try:
                asyncio.get_running_loop().remove_reader(self.pidfd)
                os.close(self.pidfd)
            except (OSError, RuntimeError):
                pass
            self.pidfd = None
        if self.stat_fd is not None:
            os.close(self.stat_fd)
            self.stat_fd = None
        self.close_listeners()
        for t in self.unload_timers.values():
            t.cancel()
        for db in list(self.dbs.values()):
            if db.repagent is not None:
                db.repagent.stop()
                db.repagent = None
            for s in list(db.sessions.values()):
                s.terminated = True
            db.sessions.clear()
            db.close(clean=not crash)
        self.dbs = {}
        for w in list(self.conns):
            try:
                w.close()
            except Exception:
                pass
        self.conns.clear()
        if not crash:
            self.save_catalog()
            self.logmsg("Info", "TimesTen Daemon (PID: %d, port: %d) stopped"
                        % (self.pid, self.daemon_port))
        self.server.daemon_gone(self, why)

    def stop_anchor(self):
        try:
            fd = os.pidfd_open(self.pid)
            try:
                signal.pidfd_send_signal(fd, signal.SIGTERM)
                signal.pidfd_send_signal(fd, signal.SIGCONT)
            finally:
                os.close(fd)
        except OSError:
            pass

    # -- the daemon's catalog of data stores --------------------------------
    def load_catalog(self):
        try:
            with open(self.catalog_file) as f:
                data = json.load(f)
        except (OSError, ValueError):
            data = {}
        for path, pol in data.items():
            p = dict(DEFAULT_POLICIES)
            p.update(pol)
            if storage.exists(self.host(path)):
                self.known[path] = p

    def save_catalog(self):
        try:
            tmp = self.catalog_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.known, f)
            os.replace(tmp, self.catalog_file)
        except OSError as e:
            self.logmsg("Err", "cannot write %s: %s" % (self.catalog_file, e))

    def policies(self, path):
        return self.known.get(path, dict(DEFAULT_POLICIES))

    def set_policy(self, path, what, value, grace=None):
        pol = self.known.setdefault(path, dict(DEFAULT_POLICIES))
        if what == "ram_policy":
            v = RAM_POLICIES.get(value.lower())
            if v is None:
                raise TTError(8045, text="Invalid RAM policy: %s" % value)
            pol["ram_policy"] = v
            if grace is not None:
                pol["ram_grace"] = int(grace)
            if v == "always" and path not in self.dbs:
                self.load(path)
        elif what == "rep_policy":
            if value not in ("always", "manual", "norestart"):
                raise TTError(8045, text="Invalid replication policy: %s" % value)
            pol["rep_policy"] = value
            if value == "always":
                # policy always: the agent runs now and whenever the daemon starts
                db = self.dbs.get(path) or self.load(path)
                if db.scheme is not None:
                    self.rep_start(db, manual=False)
        elif what == "cache_policy":
            pol["cache_policy"] = value
        self.save_catalog()

    # -- loading ----------------------------------------------------------
    def load(self, path, create_attrs=None, creator_is_admin=False):
        """Return the loaded database, loading or creating it as needed."""
        db = self.dbs.get(path)
        if db is not None:
            t = self.unload_timers.pop(path, None)
            if t:
                t.cancel()
            return db
        host_ds = self.host(path)
        if storage.exists(host_ds):
            db = Database.load(self, path)
            if db is None:
                raise TTError(8045, text="Data store %s is damaged" % path)
            self.logmsg("Info", "Data store %s loaded" % path)
            why = "loaded"
        else:
            if create_attrs is None or create_attrs.get("AutoCreate", "1") == "0":
                raise TTError(833, path)
            if not creator_is_admin:
                raise TTError(15100, "current user", "to create a database "
                              "(only the instance administrator may)")
            if not create_attrs.get("DatabaseCharacterSet"):
                raise TTError(12701)
            if not os.path.isdir(os.path.dirname(host_ds)):
                raise TTError(830, "No such file or directory")
            keep = {k: v for k, v in create_attrs.items()
                    if k.lower() not in ("dsn", "uid", "pwd", "pwdcrypt", "autocreate",
                                         "oraclepwd", "connectioncharacterset")}
            try:
                db = Database.create(self, path, keep, self.admin.upper())
            except OSError as e:
                raise TTError(830, e.strerror or str(e))
            self.logmsg("Info", "Data store %s created" % path)
            why = "created"
        if db.scheme is not None:
            db.locate_self()
        self.dbs[path] = db
        db.note_updatable(why)
        if path not in self.known:
            self.known[path] = dict(DEFAULT_POLICIES)
            self.save_catalog()
        return db

    def unload(self, db, force=False):
        # TT12030 "Database is in use" (Oracle: unloading a database that has a connection).
        if db.user_sessions() and not force:
            raise TTError(12030)
        if db.repagent is not None:
            if not force:
                raise TTError(12030)
            db.repagent.stop()
            db.repagent = None
        for s in list(db.sessions.values()):
            s.terminate()
        db.close(clean=True)
        self.dbs.pop(db.path, None)
        self.logmsg("Info", "Data store %s unloaded" % db.path)

    def maybe_unload(self, db):
        """RAM policy inUse: unload after the last connection (and grace)."""
        if self.dead or db.path not in self.dbs:
            return
        pol = self.policies(db.path)
        if pol["ram_policy"] != "inUse" or db.sessions or db.repagent is not None:
            return
        grace = pol.get("ram_grace") or 0

        def fire():
            self.unload_timers.pop(db.path, None)
            if db.path in self.dbs and not db.sessions and db.repagent is None:
                self.unload(db)
        if grace:
            self.unload_timers[db.path] = asyncio.get_running_loop().call_later(grace, fire)
        else:
            fire()

    # -- replication agent --------------------------------------------------
    def rep_start(self, db, manual=True):
        if db.scheme is None:
            raise TTError(8191, db.name, self.hostname)
        if db.self_store() is None:
            db.locate_self()
            if db.self_store() is None:
                raise TTError(8191, db.name, self.hostname)
        if db.repagent is not None:
            return
        agent = RepAgent(db)
        db.repagent = agent
        task = asyncio.get_running_loop().create_task(agent.start())
        task.add_done_callback(lambda t: self._agent_started(db, agent, t))
        if manual:
            self.known.setdefault(db.path, dict(DEFAULT_POLICIES))["rep_manual"] = True
            self.save_catalog()

    def _agent_started(self, db, agent, task):
        if task.cancelled() or task.exception() is None:
            self.logmsg("Info", "Replication agent for %s started on port %s"
                        % (db.path, agent.port))
            return
        e = task.exception()
        self.logmsg("Err", "Replication agent for %s could not listen: %s" % (db.path, e))
        if db.repagent is agent:
            db.repagent = None
        agent.stop()

    def rep_stop(self, db, manual=True):
        if db.repagent is None:
            return
        db.repagent.stop()
        db.repagent = None
        self.logmsg("Info", "Replication agent for %s stopped" % db.path)
        if manual:
            self.known.setdefault(db.path, dict(DEFAULT_POLICIES))["rep_manual"] = False
            self.save_catalog()
        self.maybe_unload(db)

    # -- what ttStatus shows --------------------------------------------------
    def connection_rows(self, db):
        rows = []
        for s in sorted(db.user_sessions(), key=lambda s: s.connid):
            # client/server connections are served by the server process
            pid = self.pid if s.kind == "Server" else s.pid
            rows.append((s.kind, pid, s.context, s.name, s.connid))
        if db.repagent is not None:
            base = 2 + len(rows)
            for i, name in enumerate(db.repagent.link_names()):
                rows.append(("Replication", self.pid, "0x%016x" % (0x7f5b00001000 + i * 0x5bb8),
                             name, base + i))
        for i, (name, connid) in enumerate(SUBDAEMONS):
            rows.append(("Subdaemon", self.pid, "0x%016x" % (0x7f5bdc000b60 + i * 0x2f40),
                         name, connid))
        return rows

    def status(self):
        dbs = []
        for path in sorted(set(self.known) | set(self.dbs)):
            pol = self.policies(path)
            db = self.dbs.get(path)
            ent = {"path": path, "loaded": db is not None, "ram_policy": pol["ram_policy"],
                   "rep_policy": pol["rep_policy"], "cache_policy": pol["cache_policy"],
                   "rep_running": bool(db and db.repagent), "cache_running": False,
                   "open": not pol.get("closed")}
            if db is not None:
                ent.update({"rows": [list(r) for r in self.connection_rows(db)],
                            "shm_key": db.shm_key, "shm_id": db.shm_id})
            dbs.append(ent)
        return {"daemon_pid": self.pid, "daemon_port": self.daemon_port,
                "instance": self.instance, "group": self.group,
                "server_pid": self.pid if "server" in self.listeners else None,
                "server_port": self.server_port, "dbs": dbs}

    # -- connections ----------------------------------------------------------
    async def handle_conn(self, reader, writer, kind):
        self.conns.add(writer)
        state = {"session": None, "kind": kind}
        watch = None
        try:
            while not self.dead:
                try:
                    msg = await proto.read_msg(reader)
                except ValueError:
                    proto.write_msg(writer, proto.error_reply(
                        [TTError(8045, text="malformed request")]))
                    await writer.drain()
                    break
                if msg is None:
                    break
                if await self.wait_thawed() and proto.peer_closed(reader):
                    break          # the client gave up while the pod was frozen
                started = time.monotonic()
                watch = asyncio.get_running_loop().call_later(
                    stall.STALL_SECONDS, self.note_stall, msg, asyncio.current_task(),
                    started) if stall.STALL_SECONDS > 0 else None
                try:
                    reply = await self.dispatch(msg, state)
                except TTError as e:
                    reply = proto.error_reply(getattr(e, "errors", None) or [e])
                except (ConnectionError, asyncio.CancelledError):
                    raise
                except Exception as e:        # a simulator bug: say so, keep serving
                    self.server.log_exception("request %r" % msg.get("op"))
                    reply = proto.error_reply([TTError(
                        8045, text="internal error of the simulator: %s: %s"
                        % (type(e).__name__, e))])
                if time.monotonic() - started > 0.001:
                    # it waited (locks, acknowledgements, peers): a daemon
                    # frozen meanwhile does not reply
                    await self.wait_thawed()
                if self.dead:
                    break
                proto.write_msg(writer, reply)
                await writer.drain()
                watch = stall.cancel(watch)
                after = state.pop("after", None)
                if after:
                    after()
        except (ConnectionError, OSError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            pass
        finally:
            stall.cancel(watch)
            s = state.get("session")
            if s is not None and not self.dead:
                self.close_session(s)
            self.conns.discard(writer)
            try:
                writer.close()
            except Exception:
                pass

    def note_stall(self, msg, task, started):
        """A request still unanswered after stall.STALL_SECONDS: say where it waits."""
        shown = {k: v for k, v in msg.items() if k in ("op", "db", "dsn", "sql", "cmd")}
        stall.write(self.host(self.home), {
            "what": "request", "request": shown, "pod_ip": self.pod_ip,
            "seconds": round(time.monotonic() - started, 1), "stack": stall.task_stack(task)})

    def close_session(self, s):
        db = s.db
        if not s.terminated:
            s.rollback()
            s.terminated = True
        db.sessions.pop(s.sid, None)
        self.maybe_unload(db)


def status_field(status, name):
    """The value of one line of /proc/PID/status."""
    i = status.index(b"\n" + name) + len(name) + 1
    return status[i:status.index(b"\n", i)].strip()


def bind_error_text(e):
    if e.errno == errno.EADDRINUSE:
        return "port already in use"
    if e.errno == errno.EADDRNOTAVAIL:
        return "address not available"
    return e.strerror or str(e)
