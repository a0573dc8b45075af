"""A connection to a loaded database: who is connected, its open
transaction (redo operations and row locks with before-images), its
return-service preferences and the line ttStatus shows for it."""

import itertools
import os

_sid = itertools.count(1)


class Session:
    def __init__(self, db, user, kind="Process", pid=0, name="", admin=False):
        self.sid = next(_sid)
        self.db = db
        self.user = user              # user name (upper case)
        self.is_instance_admin = admin
        self.kind = kind              # Process | Server | Replication | Subdaemon
        self.pid = pid
        self.name = name
        self.autocommit = True
        self.ops = []                 # redo operations of the open transaction
        self.undo = []                # (table, key) whose before-image is in table.locks
        self.pending = None           # TWOSAFE record whose commit did not complete
        self.sync_request = False     # ttRepSyncSet: request the return service
        self.sync_wait = None         # ttRepSyncSet: seconds to wait
        self.sync_action = None       # ttRepSyncSet: 'NO ACTION' or 'COMMIT'
        self.currval = {}
        self.context = "0x%016x" % (0x7f0000000000 | int.from_bytes(os.urandom(5), "big"))
        self.connid = 0
        self.terminated = False
        self.disconnect_due = False   # -disconnect -transactional: once its transaction ends

    def xid(self):
        return "<%d.%d>" % (self.connid, self.db.lsn + 1)

    def in_transaction(self):
        return bool(self.ops or self.undo or self.pending)

    def release_locks(self):
        for table, key in self.undo:
            table.locks.pop(key, None)
        self.undo = []
        self.ops = []

    def rollback_changes(self):
        for table, key in reversed(self.undo):
            lk = table.locks.pop(key, None)
            if lk is None:
                continue
            if lk[1] is None:
                table.rows.pop(key, None)
            else:
                table.rows[key] = lk[1]
        self.undo = []
        self.ops = []

    def rollback(self):
        if self.pending is not None:
            self.db.abandon_pending(self)
        self.rollback_changes()

    def terminate(self):
        """Forced disconnect (invalidation, daemon death)."""
        if self.terminated:
            return
        self.rollback()
        self.terminated = True
        self.db.sessions.pop(self.sid, None)
