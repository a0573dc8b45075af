"""A loaded database inside the shared server: its catalog, its sessions,
its replication metadata (scheme, rep state, peer state) and the commit
pipeline, which logs every commit and, under a return service, waits for
the standby's acknowledgement before (TWOSAFE) or after (RECEIPT) the local
commit."""

import asyncio
import hashlib
import json
import os
import time
import uuid

from . import storage
from . import repscheme
from .catalog import Catalog, User
from .errors import MESSAGES, TTError

CHECKPOINT_EVERY = 2000      # log records between automatic checkpoints
TAIL_KEEP = 20000            # records kept for peers that catch up
DML_OPS = ("put", "del", "truncate")


def chain(prev_digest, ops):
    h = hashlib.sha1(prev_digest.encode())
    h.update(json.dumps(ops, separators=(",", ":"), sort_keys=True).encode())
    return h.hexdigest()


class Record:
    """One committed (or committing) transaction as the log and the
    replication stream carry it."""
    __slots__ = ("lsn", "digest", "ops")

    def __init__(self, lsn, digest, ops):
        self.lsn = lsn
        self.digest = digest
        self.ops = ops

    def to_json(self):
        return {"t": "txn", "lsn": self.lsn, "digest": self.digest, "ops": self.ops}


class Database:
    def __init__(self, daemon, path, attrs):
        self.daemon = daemon          # the owning daemon (instance) object
        self.path = path              # in-pod DataStore path
        self.name = os.path.basename(path)
        self.host_ds = daemon.host(path)
        self.attrs = attrs            # creation attributes
        self.catalog = Catalog()
        self.scheme = None
        self.rep = {"state": "IDLE", "role_before": None, "activated": 0.0,
                    "duplicated": False, "peer_pstate": "start",
                    "return_disabled": False, "timeouts": 0}
        self.lineage = ""
        self.lsn = 0
        self.digest = ""
        self.tail = []                # recent Records, ascending lsn
        self.created = time.time()
        self.release = daemon.release
        self.ckpt_seq = 0
        self.log = None
        self.sessions = {}            # sid -> Session
        self.repagent = None
        self.commit_lock = asyncio.Lock()
        self.pending = None           # Record waiting for a TWOSAFE ack
        self.peer_acked = 0
        self.ack_waiters = []         # (lsn, future)
        self.new_record = asyncio.Event()
        self.shm_key = int.from_bytes(os.urandom(3), "big") | 0x0f000000
        self.shm_id = daemon.new_segments()   # this load's segment, the PL/SQL one is - 1
        self.unload_when_disconnected = False  # ttAdmin -disconnect -transactional -unload
        self.invalid = False
        self.closed = False
        self.noted_updatable = None   # what diag/ttsim.history last said

    # -- life cycle -------------------------------------------------------
    @classmethod
    def create(cls, daemon, path, attrs, admin):
        db = cls(daemon, path, attrs)
        db.lineage = uuid.uuid4().hex
        db.digest = db.lineage
        db.catalog.users[admin] = User(admin, None, ["ADMIN"])
        db.checkpoint(new_log=True, strict=True)
        return db

    @classmethod
    def load(cls, daemon, path):
        ckpt, records = storage.load(daemon.host(path))
        if ckpt is None:
            return None
        db = cls(daemon, path, ckpt.get("attrs", {}))
        db._from_ckpt(ckpt)
        for rec in records:
            if rec.get("t") == "txn" and rec["lsn"] == db.lsn + 1:
                for op in rec["ops"]:
                    db.catalog.apply(op)
                db._advance(Record(rec["lsn"], rec["digest"], rec["ops"]))
        # a database recovered after a crash comes up IDLE; the role it had
        # is remembered for ttRepStateSet's eligibility rules.  A clean
        # unload (checkpoint, empty log) keeps the state.
        crashed = not ckpt.get("clean_shutdown") or any(r.get("t") == "txn" for r in records)
        if crashed and db.rep["state"] != "IDLE":
            db.rep["role_before"] = db.rep["state"] if db.rep["state"] in (
                "ACTIVE", "STANDBY") else db.rep.get("role_before")
            db.rep["state"] = "IDLE"
        db.checkpoint(new_log=True)
        return db

    @classmethod
    def from_snapshot(cls, daemon, path, attrs, snap):
        """A database made by duplicating a peer."""
        db = cls(daemon, path, attrs)
        db._from_ckpt(snap)
        db.rep = {"state": "IDLE", "role_before": None, "activated": 0.0,
                  "duplicated": True, "peer_pstate": "start",
                  "return_disabled": False, "timeouts": 0}
        db.checkpoint(new_log=True, strict=True)
        return db

    def _from_ckpt(self, ckpt):
        self.catalog = Catalog.from_json(ckpt.get("catalog", {}))
        self.scheme = ckpt.get("scheme")
        self.rep.update(ckpt.get("rep", {}))
        self.lineage = ckpt.get("lineage", "")
        self.lsn = ckpt.get("lsn", 0)
        self.digest = ckpt.get("digest", self.lineage)
        self.tail = [Record(*r) for r in ckpt.get("tail", [])]
        self.created = ckpt.get("created", time.time())
        self.release = ckpt.get("release", self.release)
        self.ckpt_seq = ckpt.get("ckpt_seq", 0)
        if "attrs" in ckpt and not self.attrs:
            self.attrs = ckpt["attrs"]

    def snapshot(self, committed_only=True):
        cat = self.catalog.to_json()
        if committed_only:
            # replace rows being changed by open transactions with their
            # committed image
            for t, tj in zip(self.catalog.tables.values(), cat["tables"]):
                if t.locks:
                    rows = dict(t.rows)
                    for key, (_, before) in t.locks.items():
                        if before is None:
                            rows.pop(key, None)
                        else:
                            rows[key] = before
                    tj["rows"] = [[list(k), r] for k, r in rows.items()]
        return {"catalog": cat, "scheme": self.scheme, "rep": dict(self.rep),
                "lineage": self.lineage, "lsn": self.lsn, "digest": self.digest,
                "tail": [[r.lsn, r.digest, r.ops] for r in self.tail],
                "created": self.created, "release": self.release, "attrs": self.attrs}

    def checkpoint(self, new_log=True, clean_shutdown=False, strict=False):
        """Write the committed state and start a new log file. When the file system is
        full the checkpoint fails (the log goes on growing): strict raises TT0615, else
        the daemon's log says so and False is returned."""
        self.ckpt_seq += 1
        data = self.snapshot()
        data["ckpt_seq"] = self.ckpt_seq
        data["clean_shutdown"] = clean_shutdown
        next_log = (self.log.number + 1) if self.log else \
            (max(storage.log_numbers(self.host_ds) or [-1]) + 1)
        data["log_file"] = next_log
        try:
            storage.write_checkpoint(self.host_ds, data)
        except OSError as e:
            self.ckpt_seq -= 1
            err = TTError(615, e.errno or 0, e.strerror or str(e))
            if strict:
                raise err
            self.daemon.logmsg("Err", "TT%04d: %s (%s)" % (err.code, err.text, self.path))
            return False
        if self.log:
            self.log.close()
        self.log = storage.LogWriter(self.host_ds, next_log)
        storage.remove_logs_before(self.host_ds, next_log)

    def close(self, clean=True):
        """Unload: a clean unload checkpoints; a crash just drops memory
        (the log already holds every commit)."""
        self.closed = True
        self.note_updatable("unloaded" if clean else "daemon died")
        if clean and not self.invalid:
            try:
                self.checkpoint(clean_shutdown=True)
            except OSError as e:
                self.daemon.logmsg("Err", "checkpoint of %s failed: %s" % (self.path, e))
        if self.log:
            self.log.close()
            self.log = None
        for fut in [f for _, f in self.ack_waiters]:
            if not fut.done():
                fut.set_result(False)
        self.ack_waiters = []

    # -- replication metadata ---------------------------------------------
    @property
    def state(self):
        return self.rep["state"]

    def set_state(self, state, why=""):
        old = self.rep["state"]
        if old == state:
            return
        self.rep["state"] = state
        if state in ("ACTIVE", "STANDBY"):
            self.rep["role_before"] = state
            self.rep["duplicated"] = False  # it has a role now, whatever its origin
        if state == "ACTIVE":
            self.rep["activated"] = time.time()
            self.rep["peer_pstate"] = self.rep.get("peer_pstate") or "start"
        self.daemon.logmsg("Info", "Replication state of %s changed from %s to %s%s"
                           % (self.path, old, state, (" (" + why + ")") if why else ""))
        self.checkpoint()
        self.note_updatable("%s to %s" % (old, state))
        self.new_record.set()

    def self_store(self):
        if not self.scheme:
            return None
        idx = self.scheme.get("self_idx")
        if idx is None:
            return None
        return self.scheme["stores"][idx]

    def peer_store(self):
        if not self.scheme or self.scheme.get("self_idx") is None:
            return None
        return self.scheme["stores"][1 - self.scheme["self_idx"]]

    def locate_self(self):
        """Find which master store of the scheme is this database."""
        if not self.scheme:
            return
        self.scheme["self_idx"] = None
        for i, st in enumerate(self.scheme["stores"]):
            if st["name"].lower() == self.name.lower() and self.daemon.is_local_host(st["host"]):
                self.scheme["self_idx"] = i
                return

    def self_attrs(self):
        st = self.self_store()
        if st is None:
            return dict(repscheme.STORE_DEFAULTS)
        return repscheme.attrs_of(self.scheme, st["name"], st["host"])

    def peer_attrs(self):
        st = self.peer_store()
        if st is None:
            return dict(repscheme.STORE_DEFAULTS)
        return repscheme.attrs_of(self.scheme, st["name"], st["host"])

    def replicated(self, owner, table):
        return self.scheme is not None and not repscheme.excluded_table(self.scheme, owner, table)

    def check_writable(self, owner, name):
        if self.invalid:
            raise TTError(994)
        if self.replicated(owner, name) and self.state != "ACTIVE":
            raise TTError(16265, self.state, "%s.%s" % (owner, name))

    def updatable(self):
        return not self.invalid and (self.scheme is None or self.state == "ACTIVE")

    def note_updatable(self, why):
        """Appends a JSON line to $TIMESTEN_HOME/diag/ttsim.history each time whether
        this loaded database takes writes changes: the simulator's own record, from
        which tests rebuild each database's updatable intervals.  `seq` orders the
        lines the same server wrote (across every pod it plays); `time` is wall time."""
        up = not self.closed and self.updatable()
        if up == self.noted_updatable:
            return
        self.noted_updatable = up
        srv = self.daemon.server
        srv.history_seq = getattr(srv, "history_seq", 0) + 1
        line = json.dumps({"time": time.time(), "seq": srv.history_seq, "server": os.getpid(),
                           "host": self.daemon.hostname, "ip": self.daemon.pod_ip,
                           "db": self.path, "updatable": up, "state": self.state,
                           "scheme": self.scheme is not None, "why": why},
                          separators=(",", ":"))
        try:
            with open(self.daemon.host(self.daemon.home + "/diag/ttsim.history"), "a") as f:
                f.write(line + "\n")
        except OSError:
            pass

    # -- commit pipeline --------------------------------------------------
    def _advance(self, rec):
        self.lsn = rec.lsn
        self.digest = rec.digest
        self.tail.append(rec)
        if len(self.tail) > TAIL_KEEP + TAIL_KEEP // 4:
            del self.tail[:len(self.tail) - TAIL_KEEP]

    def records_after(self, lsn):
        """Committed records with lsn > given, or None if no longer held."""
        if lsn >= self.lsn:
            return []
        if not self.tail or self.tail[0].lsn > lsn + 1:
            return None
        start = lsn + 1 - self.tail[0].lsn
        return self.tail[start:]

    def digest_at(self, lsn):
        if lsn == self.lsn:
            return self.digest
        if lsn == 0:
            return self.lineage
        for rec in reversed(self.tail):
            if rec.lsn == lsn:
                return rec.digest
            if rec.lsn < lsn:
                break
        return None

    def return_service(self, session):
        """The return service a commit of this session must honour, or None."""
        sch = self.scheme
        if not sch or not sch.get("return") or self.state != "ACTIVE":
            return None
        if sch.get("by_request") and not session.sync_request:
            return None
        if self.rep.get("peer_pstate") == "failed" or self.rep.get("return_disabled"):
            return None
        attrs = self.self_attrs()
        if attrs["return_services_off_when_stopped"] and (
                self.repagent is None or not self.repagent.peer_connected()):
            return None
        wait = session.sync_wait if session.sync_wait is not None else attrs["return_wait_time"]
        action = session.sync_action or attrs["local_commit_action"]
        return {"kind": sch["return"], "wait": wait, "action": action}

    def make_record(self, ops):
        return Record(self.lsn + 1, chain(self.digest, ops), ops)

    def log_append(self, rec):
        """The record into the log file; a full file system leaves it in the log buffer
        only (the daemon's log says so), as a commit that is not durable."""
        try:
            if self.log is None:
                # Loaded while the file system was full: no checkpoint started a new
                # log file; the next one after those the last checkpoint replays.
                self.log = storage.LogWriter(
                    self.host_ds, max(storage.log_numbers(self.host_ds) or [-1]) + 1)
            self.log.append(rec.to_json())
        except OSError as e:
            self.daemon.logmsg("Err", "TT0778: %s (%s: %s)" % (
                MESSAGES[778], self.path, e.strerror or e))

    def commit_local(self, session, rec):
        if rec is not None:
            self.log_append(rec)
            self._advance(rec)
            self.new_record.set()
        session.release_locks()
        if self.log and self.log.count >= CHECKPOINT_EVERY:
            self.checkpoint()

    def apply_replicated(self, rec):
        """Apply a record shipped by the active (standby side)."""
        for op in rec.ops:
            self.catalog.apply(op)
        self.log_append(rec)
        self._advance(rec)
        if self.log and self.log.count >= CHECKPOINT_EVERY:
            self.checkpoint()

    def note_ack(self, lsn):
        if lsn > self.peer_acked:
            self.peer_acked = lsn
        if self.rep.get("return_disabled") and self.peer_acked >= self.lsn:
            self.rep["return_disabled"] = False
            self.rep["timeouts"] = 0
        keep = []
        for want, fut in self.ack_waiters:
            if want <= self.peer_acked:
                if not fut.done():
                    fut.set_result(True)
            else:
                keep.append((want, fut))
        self.ack_waiters = keep

    async def wait_ack(self, lsn, timeout):
        if self.peer_acked >= lsn:
            return True
        fut = asyncio.get_running_loop().create_future()
        self.ack_waiters.append((lsn, fut))
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except asyncio.TimeoutError:
            return False
        finally:
            self.ack_waiters = [(w, f) for w, f in self.ack_waiters if f is not fut]

    def note_timeout(self):
        """Count return-service timeouts for DISABLE RETURN."""
        self.rep["timeouts"] = self.rep.get("timeouts", 0) + 1
        dr = self.self_attrs().get("disable_return")
        if dr and self.rep["timeouts"] >= dr[1]:
            self.rep["return_disabled"] = True
            self.daemon.logmsg("Warn", "Return service to the standby of %s disabled "
                               "after %d timeouts" % (self.path, self.rep["timeouts"]))

    async def commit(self, session):
        """Commit the session's transaction.  Returns a list of warnings;
        raises TTError (8170 etc.) when the commit did not complete."""
        if session.pending is not None:
            return await self._finish_pending(session)
        ops = session.ops
        if not ops:
            session.release_locks()
            return []
        rs = self.return_service(session)
        has_dml = any(op[0] in DML_OPS for op in ops)
        if rs and rs["kind"] == "TWOSAFE" and session.autocommit and has_dml:
            session.rollback_changes()
            raise TTError(8099)
        timeout = rs["wait"] if rs else 3600
        try:
            await asyncio.wait_for(self.commit_lock.acquire(), timeout)
        except asyncio.TimeoutError:
            raise TTError(8170, session.xid())
        if self.invalid:
            self.commit_lock.release()
            session.rollback_changes()
            raise TTError(994)
        if storage.is_full(self.host_ds):
            # Its log records cannot be written: the transaction is rolled back.
            self.commit_lock.release()
            session.rollback_changes()
            raise TTError(778)
        table = self.stranded_table(ops)
        if table is not None:
            self.commit_lock.release()
            session.rollback_changes()
            raise TTError(16265, self.state, table)
        rs = self.return_service(session)      # may have changed while queued
        rec = self.make_record(ops)
        if rs is None or rs["kind"] != "TWOSAFE":
            self.commit_local(session, rec)
            self.commit_lock.release()
            if rs and rs["kind"] == "RECEIPT":
                if not await self.wait_ack(rec.lsn, rs["wait"]):
                    self.note_timeout()
                    return [TTError(8170, session.xid())]
            return []
        # RETURN TWOSAFE: the standby commits first
        self.pending = rec
        session.pending = rec
        self.new_record.set()
        if await self.wait_ack(rec.lsn, rs["wait"]):
            return self._twosafe_done(session, rec)
        self.note_timeout()
        if rs["action"] == "COMMIT" or not has_dml:
            # LOCAL COMMIT ACTION COMMIT, and DDL, commit locally anyway
            self._twosafe_done(session, rec)
            raise TTError(8170, session.xid())
        # NO ACTION: the transaction stays pending, holding the commit lock
        raise TTError(8170, session.xid())

    def stranded_table(self, ops):
        """The first replicated table ops change when this database has left ACTIVE since
        they ran (ttRepDeactivate, a demotion): such a transaction is never shipped to the
        peer, so its commit is refused rather than kept on a database that is no longer
        the pair's active.  None when the commit may go on."""
        if self.scheme is None or self.state == "ACTIVE":
            return None
        for op in ops:
            if op[0] in DML_OPS and self.replicated(op[1], op[2]):
                return "%s.%s" % (op[1], op[2])
        return None

    def _twosafe_done(self, session, rec):
        self.pending = None
        session.pending = None
        self.commit_local(session, rec)
        self.commit_lock.release()
        return []

    async def _finish_pending(self, session):
        rec = session.pending
        if self.peer_acked >= rec.lsn:
            return self._twosafe_done(session, rec)
        table = self.stranded_table(rec.ops)
        if table is not None:
            self.abandon_pending(session)
            session.rollback_changes()
            raise TTError(16265, self.state, table)
        if session.sync_action == "COMMIT" or self.rep.get("peer_pstate") == "failed":
            return self._twosafe_done(session, rec)
        rs = self.return_service(session)
        wait = rs["wait"] if rs else 0
        if rs is None or await self.wait_ack(rec.lsn, wait):
            return self._twosafe_done(session, rec)
        self.note_timeout()
        raise TTError(8170, session.xid())

    def abandon_pending(self, session):
        """Roll back a TWOSAFE transaction whose commit never completed."""
        rec = session.pending
        session.pending = None
        if self.pending is rec:
            self.pending = None
            if self.repagent is not None and self.repagent.sent_lsn >= rec.lsn:
                # the standby may hold it: make the link re-check histories
                self.repagent.resync()
            self.commit_lock.release()

    # -- sessions ---------------------------------------------------------
    def user_sessions(self):
        return [s for s in self.sessions.values() if s.kind != "Replication"]

    def invalidate(self, why):
        """Drop every user connection, as TimesTen does on invalidation."""
        self.daemon.logmsg("Warn", "Data store %s invalidated: %s" % (self.path, why))
        for s in list(self.user_sessions()):
            s.terminate()
