"""Requests a daemon answers on its pod address: from the utilities (status,
connections and SQL, ttAdmin, ttDestroy, ttRepAdmin, daemon stop) and from
peer daemons (duplicate source, replication port lookup).  Mixed into
Daemon; every handler returns a reply dict or raises TTError."""

import asyncio
import os

from . import proto
from . import repscheme
from . import storage
from .catalog import hash_password, SYSTEM_OWNERS
from .database import Database
from .errors import TTError
from .executor import Executor
from .odbcini import lookup_dsn_in
from .session import Session
from .sqleval import type_text

# How long after ttAdmin -disconnect (-immediate, -abort, or -transactional for a connection
# with nothing open) its connections end: TimesTen does it asynchronously.
DISCONNECT_SECONDS = 0.5

OK = {"ok": True}


def attr_pairs(msg):
    """The connection attributes of a request, validated: [[key, value], ...]."""
    raw = msg.get("attrs", [])
    if not isinstance(raw, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in raw):
        raise TTError(8045, text="malformed connection attributes")
    return raw


class Requests:
    async def dispatch(self, msg, state):
        op = msg.get("op")
        handler = getattr(self, "op_" + str(op), None)
        if handler is None:
            raise TTError(8045, text="unknown request %r" % (op,))
        reply = handler(msg, state)
        if asyncio.iscoroutine(reply):
            reply = await reply
        return reply

    def op_ping(self, msg, state):
        return OK

    def op_status(self, msg, state):
        return {"ok": True, "status": self.status()}

    # -- connections and SQL --------------------------------------------------
    def attrs_path(self, attrs):
        path = attrs.get("DataStore") or attrs.get("datastore")
        if not path:
            raise TTError(833, "(no DataStore attribute)")
        return os.path.normpath(path)

    def datastore_of(self, msg):
        """The DataStore path of a request carrying connection attributes."""
        attrs = {k.lower(): v for k, v in attr_pairs(msg)}
        return self.attrs_path({"DataStore": attrs.get("datastore")})

    def authenticate(self, db, uid, pwd):
        user = (uid or self.admin).upper()
        is_admin = user == self.admin.upper()
        u = db.catalog.users.get(user)
        if is_admin and pwd is None:
            return user, True
        if u is None or u.pw_hash is None or pwd is None or u.pw_hash != hash_password(pwd):
            raise TTError(7001)
        if not (is_admin or u.is_admin() or "CREATE SESSION" in u.sys or
                "ALL PRIVILEGES" in u.sys or
                "CREATE SESSION" in getattr(db.catalog.users.get("PUBLIC"), "sys", ())):
            raise TTError(15100, user, "CREATE SESSION")
        return user, is_admin

    def op_connect(self, msg, state):
        if state.get("session") is not None:
            raise TTError(8045, text="already connected")
        attrs = {k: v for k, v in attr_pairs(msg)}
        lower = {k.lower(): v for k, v in attrs.items()}
        if state["kind"] == "server":
            # client/server: the server DSN names a DSN of this instance
            found = self.server_dsn(lower.get("ttc_server_dsn") or lower.get("dsn"))
            for k, v in found.items():
                lower.setdefault(k.lower(), v)
                attrs.setdefault(k, v)
        path = self.attrs_path({"DataStore": lower.get("datastore")})
        uid = lower.get("uid")
        pwd = lower.get("pwd")
        inst_admin = (uid or self.admin).upper() == self.admin.upper()
        creator_admin = inst_admin and pwd is None
        create = {k: v for k, v in attrs.items()}
        loaded = self.dbs.get(path)
        if self.policies(path).get("closed") and not inst_admin:
            # ttAdmin -close: loaded or not, only the instance administrator gets in
            raise TTError(8006, path)
        if loaded is None and self.policies(path)["ram_policy"] in ("manual", "enduring") \
                and storage.exists(self.host(path)):
            # RAM policy manual: a connection does not load the database; ttAdmin -ramLoad does.
            raise TTError(8009, path)
        db = self.load(path, create_attrs=create, creator_is_admin=creator_admin)
        try:
            user, is_admin = self.authenticate(db, uid, pwd)
        except TTError:
            self.maybe_unload(db)
            raise
        kind = "Server" if state["kind"] == "server" else "Process"
        name = lower.get("connectionname") or lower.get("dsn") or os.path.basename(path)
        s = Session(db, user, kind=kind, pid=int(msg.get("pid", 0)), name=name,
                    admin=is_admin)
        used = {x.connid for x in db.sessions.values()}
        s.connid = next(i for i in range(1, 2000) if i not in used)
        db.sessions[s.sid] = s
        state["session"] = s
        return {"ok": True, "uid": user, "path": path}

    def server_dsn(self, dsn):
        """A client/server connection names a DSN of the server's instance."""
        found = lookup_dsn_in([self.host(self.home + "/conf/sys.odbc.ini")], dsn or "")
        if found is None:
            raise TTError(6220, text="Data source name not found on the server (DSN=%s)"
                          % dsn)
        return dict(found[1])

    def session_of(self, state):
        s = state.get("session")
        if s is None:
            raise TTError(8045, text="not connected")
        if s.terminated:
            raise TTError(994)
        return s

    async def op_exec(self, msg, state):
        s = self.session_of(state)
        try:
            result, warnings = await Executor(s).run(str(msg.get("sql", "")))
        except RecursionError:
            raise TTError(1001, text="Statement too complex")
        finally:
            self.disconnect_if_due(s)
        reply = {"ok": True, "result": result}
        if warnings:
            reply["warnings"] = [w.to_wire() for w in warnings]
        return reply

    async def op_autocommit(self, msg, state):
        s = self.session_of(state)
        on = bool(msg.get("on"))
        try:
            if on and not s.autocommit and s.in_transaction():
                await s.db.commit(s)
            s.autocommit = on
        finally:
            self.disconnect_if_due(s)
        return OK

    def disconnect_if_due(self, s):
        """ttAdmin -disconnect -transactional: a connection that had a transaction
        open is closed once it has ended (committed or rolled back)."""
        if not s.disconnect_due or s.terminated or s.in_transaction():
            return
        s.terminate()
        self.logmsg("Info", "Connection %d to %s disconnected after its transaction "
                    "(forced disconnect, transactional)" % (s.connid, s.db.path))
        self.unload_if_disconnected(s.db)

    def unload_if_disconnected(self, db):
        """-disconnect ... -unload: the database is unloaded once the last user
        connection is gone."""
        if db.unload_when_disconnected and not db.user_sessions() and db.path in self.dbs:
            db.unload_when_disconnected = False
            self.unload(db, force=True)

    def force_disconnect(self, db, urgency, unload):
        """ttAdmin -disconnect: -immediate (and -abort) end every user connection
        at once, rolling back what is open; -transactional ends those without an
        open transaction at once and the others when their transaction ends.
        It returns at once, as TimesTen's does, and the connections end later (Oracle
        documents seconds to minutes; here DISCONNECT_SECONDS): ttStatus shows when they
        are gone."""
        ending = []
        for s in list(db.user_sessions()):
            if urgency == "transactional" and s.in_transaction():
                s.disconnect_due = True
            else:
                ending.append(s)
        db.unload_when_disconnected = unload
        if not ending:
            self.unload_if_disconnected(db)
            return

        def disconnected():
            for s in ending:
                if not s.terminated:
                    s.terminate()
            self.unload_if_disconnected(db)
        asyncio.get_running_loop().call_later(DISCONNECT_SECONDS, disconnected)

    def op_disconnect(self, msg, state):
        s = state.get("session")
        if s is not None:
            state["session"] = None
            self.close_session(s)
        return OK

    def op_meta(self, msg, state):
        s = self.session_of(state)
        db = s.db
        what = msg.get("what")
        ex = Executor(s)
        if what == "tables":
            names = []
            for t in db.catalog.tables.values():
                if t.owner in SYSTEM_OWNERS:
                    continue
                if t.owner == s.user or ex.has_sys("SELECT ANY TABLE") or \
                        any(t.full in u.obj for u in [db.catalog.users.get(s.user)] if u):
                    names.append(t.full)
            return {"ok": True, "lines": sorted(names)}
        if what == "sequences":
            return {"ok": True, "lines": sorted("%s.%s" % k for k in db.catalog.sequences)}
        if what == "repschemes":
            lines = repscheme.format_repschemes(db.scheme) if db.scheme else []
            return {"ok": True, "lines": lines, "count": 1 if db.scheme else 0}
        if what == "desc":
            owner, name = msg.get("owner") or s.user, msg.get("name", "")
            t = db.catalog.table(owner, name)
            lines = ["", "Table %s:" % t.full, "  Columns:"]
            for c in t.cols:
                mark = "*" if t.pk and c["name"] in t.pk else " "
                lines.append("   %s%-32s %s%s" % (mark, c["name"], type_text(c),
                                                 "" if c["nullable"] else " NOT NULL"))
            return {"ok": True, "lines": lines}
        if what == "dssize":
            perm = int(db.attrs.get("PermSize", 128) or 128) * 1024
            temp = int(db.attrs.get("TempSize", 0) or (32 + perm // 4096)) * 1024
            used = 2048 + sum(64 + 48 * len(t.rows) for t in db.catalog.tables.values())
            return {"ok": True, "sizes": [["PERM_ALLOCATED_SIZE", perm],
                                          ["PERM_IN_USE_SIZE", min(used, perm)],
                                          ["PERM_IN_USE_HIGH_WATER", min(used, perm)],
                                          ["TEMP_ALLOCATED_SIZE", temp],
                                          ["TEMP_IN_USE_SIZE", min(12000, temp)],
                                          ["TEMP_IN_USE_HIGH_WATER", min(14000, temp)]]}
        raise TTError(8045, text="unknown listing %r" % (what,))

    # -- ttAdmin ------------------------------------------------------------
    def op_admin(self, msg, state):
        path = self.datastore_of(msg)
        if not storage.exists(self.host(path)) and path not in self.dbs:
            raise TTError(833, path)
        actions = msg.get("actions", [])
        out = []
        for act in actions:
            name = act[0]
            db = self.dbs.get(path)
            if name == "ramPolicy":
                self.set_policy(path, "ram_policy", act[1], grace=act[2] if len(act) > 2 else None)
            elif name == "ramGrace":
                self.known.setdefault(path, self.policies(path))["ram_grace"] = int(act[1])
                self.save_catalog()
            elif name == "repPolicy":
                self.set_policy(path, "rep_policy", act[1])
            elif name == "cachePolicy":
                self.set_policy(path, "cache_policy", act[1])
            elif name == "ramLoad":
                if self.policies(path)["ram_policy"] not in ("manual", "enduring"):
                    raise TTError(8040)
                if db is not None:
                    raise TTError(8041)
                self.load(path)
            elif name == "ramUnload":
                if db is None:
                    raise TTError(8009, path)
                if self.policies(path)["ram_policy"] == "always":
                    raise TTError(8040, text="RAM unload is not allowed with RAM policy always")
                self.unload(db)
            elif name == "repStart":
                db = db or self.load(path)
                if db.repagent is not None:
                    raise TTError(12026)
                self.rep_start(db, manual=True)
            elif name == "repStop":
                if db is None or db.repagent is None:
                    raise TTError(12027)
                self.rep_stop(db, manual=True)
            elif name in ("cacheStart", "cacheStop"):
                raise TTError(8045, "TimesTen Cache (no Oracle database is reachable)")
            elif name == "disconnect":
                urgency = act[1] if len(act) > 1 else None
                if urgency not in ("transactional", "immediate", "abort"):
                    raise TTError(12330)
                if db is not None:
                    self.force_disconnect(db, urgency, len(act) > 2 and act[2] == "unload")
            elif name in ("open", "close"):
                pol = self.known.setdefault(path, self.policies(path))
                closed = name == "close"
                if bool(pol.get("closed")) == closed:
                    raise TTError(12333 if closed else 12332)
                pol["closed"] = closed
                self.save_catalog()
                self.logmsg("Info", "Data store %s %s user connections"
                            % (path, "closed to" if closed else "opened to"))
        pol = self.policies(path)
        db = self.dbs.get(path)
        out = [["RAM Residence Policy", pol["ram_policy"]]]
        if pol["ram_policy"] in ("manual", "enduring"):
            out.append(["Manually Loaded In RAM", "True" if db is not None else "False"])
        if pol["ram_policy"] == "inUse" and pol.get("ram_grace"):
            out.append(["RAM Residence Grace Period", str(pol["ram_grace"])])
        out += [["Replication Agent Policy", pol["rep_policy"]],
                ["Replication Manually Started", "True" if pol.get("rep_manual") else "False"],
                ["Cache Agent Policy", pol["cache_policy"]],
                ["Cache Agent Manually Started", "False"],
                ["Database State", "Closed" if pol.get("closed") else "Open"]]
        return {"ok": True, "lines": out}

    # -- ttDestroy --------------------------------------------------------------
    def op_destroy(self, msg, state):
        path = os.path.normpath(msg.get("path", ""))
        db = self.dbs.get(path)
        if db is not None:
            raise TTError(8007, "loaded, %d connections%s" % (
                len(db.user_sessions()),
                ", replication agent running" if db.repagent else ""))
        host_ds = self.host(path)
        files = storage.files_of(host_ds)
        if not files and path not in self.known:
            raise TTError(833, path)
        for f in files:
            try:
                os.unlink(f)
            except OSError:
                pass
        self.known.pop(path, None)
        self.save_catalog()
        self.logmsg("Info", "Data store %s destroyed" % path)
        return OK

    # -- daemon and server control ---------------------------------------------
    def op_daemon_stop(self, msg, state):
        busy = sum(len(db.user_sessions()) for db in self.dbs.values())
        if busy and not msg.get("force"):
            self.logmsg("Warn", "Daemon stopped with %d open connections" % busy)
        state["after"] = lambda: (self.stop_anchor(), self.shutdown(crash=False, why="stop"))
        return {"ok": True, "pid": self.pid, "port": self.daemon_port}

    async def op_server_stop(self, msg, state):
        srv = self.listeners.pop("server", None)
        if srv is None:
            raise TTError(8045, text="TimesTen Server is not running")
        srv.close()
        for db in self.dbs.values():
            for s in [s for s in db.user_sessions() if s.kind == "Server"]:
                s.terminate()
        return OK

    async def op_server_start(self, msg, state):
        if "server" not in self.listeners:
            await self.listen(self.server_port, "server")
        return OK

    # -- replication: peer-facing ---------------------------------------------
    def op_rep_port(self, msg, state):
        store = str(msg.get("store", "")).lower()
        for db in self.dbs.values():
            if db.name.lower() == store and db.repagent is not None and db.repagent.port:
                return {"ok": True, "port": db.repagent.port}
        raise TTError(8093)

    def op_dup_source(self, msg, state):
        """A peer duplicates one of our databases: check, then send a copy."""
        name = str(msg.get("from", "")).lower()
        db = next((d for d in self.dbs.values() if d.name.lower() == name), None)
        if db is None:
            if any(os.path.basename(p).lower() == name for p in self.known):
                raise TTError(8093)
            raise TTError(833, msg.get("from", ""))
        if db.repagent is None:
            raise TTError(8093)
        uid = str(msg.get("uid") or "").upper()
        user = db.catalog.users.get(uid)
        if user is None or user.pw_hash is None or \
                user.pw_hash != hash_password(msg.get("pwd")):
            raise TTError(7001)
        if not user.is_admin():
            raise TTError(15100, uid, "ADMIN")
        if db.scheme is None:
            raise TTError(8191, db.name, self.hostname)
        if db.state != "ACTIVE":
            raise TTError(8143, db.state)
        peer = db.peer_store()
        dest = str(msg.get("dest_name", "")).lower()
        if peer is None or (dest and dest != peer["name"].lower()):
            raise TTError(8144, "the destination is not the standby store of the pair")
        snap = db.snapshot()
        db.rep["peer_pstate"] = "start"
        self.logmsg("Info", "Data store %s duplicated to %s (lsn %d)"
                    % (db.path, msg.get("dest_host", "?"), db.lsn))
        db.checkpoint()
        return {"ok": True, "snapshot": snap}

    # -- ttRepAdmin -----------------------------------------------------------
    async def op_repadmin(self, msg, state):
        action = msg.get("action")
        if action == "duplicate":
            return await self.duplicate_from(msg)
        path = self.datastore_of(msg)
        db = self.dbs.get(path)
        if db is None:
            if not storage.exists(self.host(path)):
                raise TTError(833, path)
            db = self.load(path)
            self.maybe_unload_later(db)
        if action == "wait":
            if db.scheme is None:
                raise TTError(8191, db.name, self.hostname)
            timeout = msg.get("timeout")
            ok = await db.wait_ack(db.lsn, 86400 if timeout is None else float(timeout))
            if not ok:
                raise TTError(8170, text="Timeout waiting for the peer to acknowledge "
                              "transactions up to %d" % db.lsn)
            return OK
        if action == "info":
            return {"ok": True, "info": self.rep_info(db)}
        if action == "receiver_state":
            raise TTError(17037)
        raise TTError(8045, text="unknown ttRepAdmin action %r" % (action,))

    def maybe_unload_later(self, db):
        asyncio.get_running_loop().call_soon(self.maybe_unload, db)

    def rep_info(self, db):
        agent = db.repagent
        peer = db.peer_store()
        me = db.self_store()
        info = {"dsn_path": db.path, "name": db.name, "state": db.state,
                "scheme": db.scheme is not None, "lsn": db.lsn,
                "agent_pid": self.pid if agent else None,
                "agent_started": agent.started if agent else None,
                "policy": self.policies(db.path)["rep_policy"],
                "host": self.hostname, "port": agent.port if agent else None,
                "auto_port": agent.auto_port if agent else True,
                "timeout": db.self_attrs()["timeout"],
                "threshold": db.self_attrs()["failthreshold"],
                "self": me, "peer": None}
        if peer is not None:
            pattrs = db.peer_attrs()
            info["peer"] = {"name": peer["name"], "host": peer["host"],
                            "port": pattrs["port"],
                            "pstate": db.rep.get("peer_pstate", "start"),
                            "connected": bool(agent and (agent.tx_writer or agent.rx_writers)),
                            "last_msg": agent.secs_since_last_msg() if agent else -1,
                            "acked": db.peer_acked, "sent": agent.sent_lsn if agent else 0,
                            "status": agent.status if agent else "stopped"}
        return info

    async def duplicate_from(self, msg):
        attrs = {k: v for k, v in attr_pairs(msg)}
        path = self.datastore_of(msg)
        if path in self.dbs or storage.exists(self.host(path)):
            raise TTError(8144, "the destination database %s already exists; "
                          "destroy it first" % path)
        if not os.path.isdir(os.path.dirname(self.host(path))):
            raise TTError(830, "No such file or directory")
        host = msg.get("host", "")
        ip = await self.resolve(host)
        if ip is None:
            raise TTError(8045, text="Could not resolve host %s" % host)
        port = int(msg.get("remote_daemon_port") or self.daemon_port)
        try:
            # From the pod's own address: the shared server's processes carry the source
            # address of whichever pod started it, which a node partition may have cut off.
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(ip, port, limit=proto.MAX_LINE,
                                        local_addr=(self.pod_ip, 0)), 10)
        except (OSError, asyncio.TimeoutError):
            raise TTError(799, text="Unable to connect to the daemon of %s (%s:%d)"
                          % (host, ip, port))
        try:
            proto.write_msg(writer, {"op": "dup_source", "from": msg.get("from"),
                                     "uid": msg.get("uid"), "pwd": msg.get("pwd"),
                                     "dest_name": os.path.basename(path),
                                     "dest_host": self.hostname})
            await writer.drain()
            reply = await asyncio.wait_for(proto.read_msg(reader), 600)
        except (OSError, asyncio.TimeoutError, ValueError):
            reply = None
        finally:
            writer.close()
        if reply is None:
            raise TTError(8045, text="Connection to %s lost during duplicate" % host)
        if not reply.get("ok"):
            raise TTError.from_wire(reply["err"][0])
        keep = {k: v for k, v in attrs.items()
                if k.lower() not in ("dsn", "uid", "pwd", "pwdcrypt", "autocreate",
                                     "connectioncharacterset")}
        snap = reply["snapshot"]
        snap_attrs = dict(snap.get("attrs") or {})
        snap_attrs.update(keep)
        db = Database.from_snapshot(self, path, snap_attrs, snap)
        db.locate_self()
        if db.self_store() is None:
            db.close(clean=False)
            for f in storage.files_of(self.host(path)):
                os.unlink(f)
            raise TTError(8191, db.name, self.hostname)
        self.dbs[path] = db
        db.note_updatable("duplicated")
        self.known.setdefault(path, self.policies(path))
        self.save_catalog()
        self.logmsg("Info", "Data store %s duplicated from %s on %s (lsn %d)"
                    % (path, msg.get("from"), host, db.lsn))
        if not msg.get("ramLoad"):
            self.maybe_unload(db)
        return {"ok": True, "lsn": db.lsn}
