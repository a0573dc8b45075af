"""The replication agent of one database: a listener on the replication
port (receiver side) and, while the database is ACTIVE, a transmitter that
connects to the peer store and ships committed transactions in log order.

The link protocol (JSON lines):
  transmitter -> {"op": "rep_hello", store, host, state, lsn, activated, lineage}
  receiver    -> {"ok": true, state, lsn, digest} | {"ok": false, conflict|reason}
  transmitter -> {"op": "rep_txn", lsn, digest, ops} ... and {"op": "rep_hb", lsn}
  receiver    -> {"ack": lsn} after each applied transaction or heartbeat,
                 {"conflict": true, activated} when it is ACTIVE itself.
A receiver applies a transaction only if it extends its own history (same
lsn + 1 and chained digest); a peer whose history is not a prefix of the
active's has trapped transactions and must be re-duplicated."""

import asyncio
import time

from . import proto, storage
from .database import Record, chain
from .errors import MESSAGES

HEARTBEAT = 1.0
RETRY = 0.5
CONNECT_TIMEOUT = 5.0


def demote(db, why):
    """Two ACTIVE databases met and this one was activated earlier: it is
    invalidated and comes back IDLE; it becomes STANDBY only if its history
    is a prefix of the other's."""
    db.invalidate(why)
    db.rep["state"] = "IDLE"
    db.rep["role_before"] = "INVALIDATED"
    db.daemon.logmsg("Warn", "%s: database %s demoted from ACTIVE to IDLE" % (why, db.path))
    db.checkpoint()
    db.note_updatable("demoted: " + why)
    db.new_record.set()


class RepAgent:
    def __init__(self, db):
        self.db = db
        self.daemon = db.daemon
        self.listener = None
        self.port = None
        self.auto_port = True
        self.tx_task = None
        self.tx_writer = None
        self.rx_writers = set()
        self.sent_lsn = 0
        self.last_msg = None
        self.started = time.time()
        self.stopping = False
        self._resync = False
        self.status = "starting"

    # -- life cycle -------------------------------------------------------
    async def start(self):
        port = self.db.self_attrs()["port"]
        self.auto_port = not port
        self.listener = await asyncio.start_server(
            self.handle_receiver, host=self.daemon.pod_ip, port=port or 0,
            limit=proto.MAX_LINE, reuse_address=True)
        self.port = self.listener.sockets[0].getsockname()[1]
        self.tx_task = asyncio.get_running_loop().create_task(self.transmit_loop())
        self.status = "started"

    def stop(self):
        self.stopping = True
        if self.listener is not None:
            self.listener.close()
        if self.tx_task is not None:
            self.tx_task.cancel()
        for w in list(self.rx_writers) + ([self.tx_writer] if self.tx_writer else []):
            try:
                w.close()
            except Exception:
                pass
        self.rx_writers.clear()
        self.tx_writer = None
        self.db.new_record.set()

    def peer_connected(self):
        return self.tx_writer is not None

    def resync(self):
        """Drop the transmitter link so that the next hello re-checks the
        peer's history (after a rolled-back TWOSAFE transaction, or when the
        peer was declared FAILED)."""
        self._resync = True
        self.db.new_record.set()

    def secs_since_last_msg(self):
        if self.last_msg is None:
            return -1
        return int(time.monotonic() - self.last_msg)

    def link_names(self):
        names = ["LOGFORCE", "REPHOLD", "FAILOVER", "REPLISTENER"]
        if self.tx_writer is not None:
            names.append("TRANSMITTER")
        if self.rx_writers:
            names.append("RECEIVER")
        return names

    # -- transmitter ------------------------------------------------------
    async def _nap(self, secs):
        ev = self.db.new_record
        ev.clear()
        try:
            await asyncio.wait_for(ev.wait(), secs)
        except asyncio.TimeoutError:
            pass

    def _should_transmit(self):
        db = self.db
        return (db.state == "ACTIVE" and db.peer_store() is not None and
                db.rep.get("peer_pstate", "start") not in ("failed", "stop") and
                not db.invalid)

    async def transmit_loop(self):
        while not self.stopping:
            try:
                await self.daemon.wait_thawed()
                if not self._should_transmit():
                    await self._nap(HEARTBEAT)
                    continue
                self._resync = False
                await self.run_link()
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionError, asyncio.IncompleteReadError,
                    asyncio.TimeoutError, ValueError) as e:
                self.status = "link error: %s" % (e,)
            except Exception as e:          # a simulator bug: log it, keep the agent alive
                self.status = "internal error: %s" % (e,)
                self.daemon.server.log_exception("transmitter of %s" % self.db.path)
            finally:
                if self.tx_writer is not None:
                    try:
                        self.tx_writer.close()
                    except Exception:
                        pass
                    self.tx_writer = None
            if not self.stopping:
                await self._nap(RETRY)

    async def _peer_address(self):
        db = self.db
        peer = db.peer_store()
        ip = await self.daemon.resolve(peer["host"])
        if ip is None:
            raise OSError("cannot resolve peer host %s" % peer["host"])
        port = db.peer_attrs()["port"]
        if not port:
            # automatic port: the peer's daemon tells where its agent listens
            r, w = await asyncio.wait_for(
                asyncio.open_connection(ip, self.daemon.daemon_port,
                                        local_addr=(self.daemon.pod_ip, 0)), CONNECT_TIMEOUT)
            try:
                proto.write_msg(w, {"op": "rep_port", "store": peer["name"]})
                await w.drain()
                reply = await asyncio.wait_for(proto.read_msg(r), CONNECT_TIMEOUT)
            finally:
                w.close()
            if not reply or not reply.get("ok"):
                raise OSError("peer replication agent not reachable")
            port = reply["port"]
        return ip, port

    # Connections leave from the pod's own address (local_addr), as a real daemon's do: the
    # shared server's process otherwise carries the source address of whichever pod started
    # it, which a node partition may since have cut off.
    async def run_link(self):
        db = self.db
        ip, port = await self._peer_address()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(ip, port, limit=proto.MAX_LINE,
                                    local_addr=(self.daemon.pod_ip, 0)), CONNECT_TIMEOUT)
        me = db.self_store()
        proto.write_msg(writer, {"op": "rep_hello", "store": me["name"], "host": me["host"],
                                 "state": db.state, "lsn": db.lsn,
                                 "activated": db.rep.get("activated", 0),
                                 "lineage": db.lineage})
        await writer.drain()
        timeout = db.peer_attrs()["timeout"]
        reply = await asyncio.wait_for(proto.read_msg(reader), timeout)
        await self.daemon.wait_thawed()
        if reply is None:
            writer.close()
            return
        if not reply.get("ok"):
            if reply.get("conflict") and reply.get("activated", 0) > db.rep.get("activated", 0):
                demote(db, "peer %s is the more recently activated ACTIVE" % me["name"])
            else:
                self.status = "refused by peer: %s" % reply.get("reason", "conflict")
            writer.close()
            await self._nap(db.peer_attrs()["timeout"] if not reply.get("conflict") else RETRY)
            return
        peer_lsn, peer_digest = reply["lsn"], reply["digest"]
        if not self._is_prefix(peer_lsn, peer_digest):
            proto.write_msg(writer, {"op": "rep_reject",
                                     "reason": "peer history diverges; duplicate it"})
            await writer.drain()
            writer.close()
            self.status = "peer has transactions the active does not have"
            self.daemon.logmsg("Err", "Peer of %s has trapped transactions (lsn %d); it must "
                               "be re-duplicated" % (db.path, peer_lsn))
            await self._nap(db.peer_attrs()["timeout"])
            return
        db.note_ack(min(peer_lsn, db.lsn if db.pending is None else db.pending.lsn))
        self.sent_lsn = peer_lsn
        self.tx_writer = writer
        self.last_msg = time.monotonic()
        self.status = "transmitting"
        acks = asyncio.get_running_loop().create_task(self._read_acks(reader))
        try:
            await self._ship(writer, acks)
        finally:
            acks.cancel()

    def _is_prefix(self, peer_lsn, peer_digest):
        db = self.db
        if peer_lsn <= db.lsn:
            return db.digest_at(peer_lsn) == peer_digest and \
                db.records_after(peer_lsn) is not None
        p = db.pending
        return p is not None and p.lsn == peer_lsn and p.digest == peer_digest

    async def _ship(self, writer, acks):
        db = self.db
        last_hb = 0.0
        while not self.stopping:
            await self.daemon.wait_thawed()
            if acks.done() or self._resync or not self._should_transmit():
                return
            db.new_record.clear()
            recs = db.records_after(self.sent_lsn)
            if recs is None:
                return
            for rec in recs:
                proto.write_msg(writer, {"op": "rep_txn", "lsn": rec.lsn,
                                         "digest": rec.digest, "ops": rec.ops})
                self.sent_lsn = rec.lsn
            p = db.pending
            if p is not None and p.lsn == self.sent_lsn + 1:
                proto.write_msg(writer, {"op": "rep_txn", "lsn": p.lsn,
                                         "digest": p.digest, "ops": p.ops})
                self.sent_lsn = p.lsn
            now = time.monotonic()
            if recs or now - last_hb >= HEARTBEAT:
                proto.write_msg(writer, {"op": "rep_hb", "lsn": db.lsn})
                last_hb = now
            await writer.drain()
            if self.last_msg and now - self.last_msg > db.peer_attrs()["timeout"]:
                return         # peer silent for TIMEOUT seconds: reconnect
            try:
                await asyncio.wait_for(db.new_record.wait(), HEARTBEAT)
            except asyncio.TimeoutError:
                pass

    async def _read_acks(self, reader):
        db = self.db
        while True:
            msg = await proto.read_msg(reader)
            if msg is None:
                return
            await self.daemon.wait_thawed()
            self.last_msg = time.monotonic()
            if "ack" in msg:
                db.note_ack(int(msg["ack"]))
            elif msg.get("conflict"):
                if msg.get("activated", 0) > db.rep.get("activated", 0) and db.state == "ACTIVE":
                    demote(db, "peer became ACTIVE more recently")
                return
            elif msg.get("op") == "rep_error":
                self.status = "peer refused a transaction: %s" % msg.get("reason")
                return
            db.new_record.set()

    # -- receiver ---------------------------------------------------------
    async def handle_receiver(self, reader, writer):
        self.rx_writers.add(writer)
        try:
            await self._receive(reader, writer)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError,
                asyncio.LimitOverrunError):
            pass
        except Exception:
            self.daemon.server.log_exception("receiver of %s" % self.db.path)
        finally:
            self.rx_writers.discard(writer)
            try:
                writer.close()
            except Exception:
                pass

    async def _receive(self, reader, writer):
        db = self.db
        hello = await proto.read_msg(reader)
        if await self.daemon.wait_thawed() and proto.peer_closed(reader):
            return
        if not hello or hello.get("op") != "rep_hello" or self.stopping:
            return
        peer = db.peer_store()
        if peer is None or str(hello.get("store")).lower() != peer["name"].lower() or \
                str(hello.get("host")).lower() != peer["host"].lower():
            proto.write_msg(writer, {"ok": False, "reason": "not a peer of this store"})
            return
        if hello.get("lineage") != db.lineage:
            proto.write_msg(writer, {"ok": False,
                                     "reason": "not a copy of the same database"})
            return
        if db.state == "ACTIVE":
            if hello.get("state") == "ACTIVE" and \
                    hello.get("activated", 0) > db.rep.get("activated", 0):
                demote(db, "peer %s is the more recently activated ACTIVE" % peer["name"])
            else:
                proto.write_msg(writer, {"ok": False, "conflict": True,
                                         "activated": db.rep.get("activated", 0)})
                return
        if db.rep.get("peer_pstate") == "failed":
            # the active took over from us while we were away
            db.rep["peer_pstate"] = "start"
        proto.write_msg(writer, {"ok": True, "state": db.state, "lsn": db.lsn,
                                 "digest": db.digest})
        await writer.drain()
        self.last_msg = time.monotonic()
        while not self.stopping:
            msg = await proto.read_msg(reader)
            if msg is None:
                return
            if await self.daemon.wait_thawed() and proto.peer_closed(reader):
                # Frozen meanwhile, and the active has dropped the link since
                # (e.g. after rolling back a TWOSAFE transaction whose commit
                # timed out): what it sent is not applied.  It re-checks this
                # store's history at its next hello and ships again what it
                # still has.
                return
            if self.stopping:
                return
            self.last_msg = time.monotonic()
            if db.state == "ACTIVE":
                proto.write_msg(writer, {"conflict": True,
                                         "activated": db.rep.get("activated", 0)})
                await writer.drain()
                return
            op = msg.get("op")
            if op == "rep_txn":
                lsn = int(msg["lsn"])
                if lsn > db.lsn:
                    ops = msg["ops"]
                    if lsn != db.lsn + 1 or chain(db.digest, ops) != msg["digest"]:
                        proto.write_msg(writer, {"op": "rep_error",
                                                 "reason": "out of sequence at %d" % lsn})
                        await writer.drain()
                        return
                    if db.state == "IDLE":
                        db.set_state("RECOVERING", "catching up from the active")
                    # A full file system: the receiver cannot log what it applies, so
                    # it waits (unacknowledged) until there is room again.
                    if storage.is_full(db.host_ds):
                        self.daemon.logmsg("Err", "TT0778: %s: the receiver of %s waits"
                                           % (MESSAGES[778], db.path))
                        while storage.is_full(db.host_ds) and not self.stopping:
                            await asyncio.sleep(0.2)
                        # As after a freeze: if the active dropped the link meanwhile
                        # (it rolled back a TWOSAFE transaction that timed out), what it
                        # sent is not applied; it ships again what it still has.
                        if self.stopping:
                            return
                        if proto.peer_closed(reader):
                            self.daemon.logmsg("Info", "Receiver of %s: room again; the active "
                                               "dropped the link meanwhile, what it sent is "
                                               "not applied" % db.path)
                            return
                        self.daemon.logmsg("Info", "Receiver of %s: room again" % db.path)
                    db.apply_replicated(Record(lsn, msg["digest"], ops))
                proto.write_msg(writer, {"ack": db.lsn})
            elif op == "rep_hb":
                if db.state in ("IDLE", "RECOVERING") and db.lsn >= int(msg["lsn"]):
                    db.set_state("STANDBY", "synchronized with the active")
                proto.write_msg(writer, {"ack": db.lsn})
            elif op == "rep_reject":
                self.daemon.logmsg("Err", "Active refused %s: %s" % (db.path, msg.get("reason")))
                return
            await writer.drain()
