"""The objects a database holds - users with privileges, tables with rows
and row locks, sequences - and their serialisation for checkpoints and
for duplicating a database to a peer."""

import hashlib
import zlib

from .errors import TTError
from . import sqleval

SYSTEM_PRIVS = {
    "ADMIN", "CREATE SESSION", "CREATE TABLE", "CREATE ANY TABLE", "DROP ANY TABLE",
    "SELECT ANY TABLE", "INSERT ANY TABLE", "UPDATE ANY TABLE", "DELETE ANY TABLE",
    "ALTER ANY TABLE", "CREATE SEQUENCE", "CREATE ANY SEQUENCE", "DROP ANY SEQUENCE",
    "SELECT ANY SEQUENCE", "CREATE VIEW", "CREATE ANY VIEW", "CREATE INDEX",
    "CREATE ANY INDEX", "DROP ANY INDEX", "CACHE_MANAGER", "CREATE CACHE GROUP",
    "CREATE ANY CACHE GROUP", "XLA", "CREATE PROCEDURE", "CREATE ANY PROCEDURE",
    "EXECUTE ANY PROCEDURE", "CREATE SYNONYM", "CREATE PUBLIC SYNONYM",
    "CREATE MATERIALIZED VIEW", "ALL PRIVILEGES", "ALL",
}
OBJECT_PRIVS = {"SELECT", "INSERT", "UPDATE", "DELETE", "INDEX", "REFERENCES",
                "ALTER", "EXECUTE", "FLUSH", "LOAD", "REFRESH", "UNLOAD", "ALL"}
# Users present in every database and never listed by `tables;`.
SYSTEM_OWNERS = {"SYS", "TTREP", "SYSTEM", "GRID", "PUBLIC"}


def hash_password(password):
    if password is None:
        return None
    return hashlib.sha256(("ttsim:" + password).encode()).hexdigest()


class User:
    def __init__(self, name, pw_hash, sys_privs=(), obj_privs=None):
        self.name = name
        self.pw_hash = pw_hash
        self.sys = set(sys_privs)
        self.obj = {k: set(v) for k, v in (obj_privs or {}).items()}

    def to_json(self):
        return {"name": self.name, "pw": self.pw_hash, "sys": sorted(self.sys),
                "obj": {k: sorted(v) for k, v in self.obj.items()}}

    @staticmethod
    def from_json(d):
        return User(d["name"], d.get("pw"), d.get("sys", ()), d.get("obj"))

    def is_admin(self):
        return "ADMIN" in self.sys


class Table:
    def __init__(self, owner, name, cols, pk):
        self.owner = owner
        self.name = name
        self.cols = cols
        self.pk = pk
        self.colidx = {c["name"]: i for i, c in enumerate(cols)}
        self.pkidx = [self.colidx[c] for c in pk] if pk else None
        self.rows = {}            # key (tuple) -> list of values
        self.locks = {}           # key -> (session id, before-image or None)
        self.next_rowid = 1
        self.indexes = {}         # (owner, name) -> {"cols": [...], "unique": bool}

    @property
    def full(self):
        return "%s.%s" % (self.owner, self.name)

    def key_of(self, row):
        if self.pkidx is None:
            k = (self.next_rowid,)
            self.next_rowid += 1
            return k
        return tuple(row[i] for i in self.pkidx)

    def visible(self, sid):
        """Rows as session sid sees them: its own uncommitted changes, and
        the committed image of rows other sessions are changing."""
        if not self.locks:
            return list(self.rows.items())
        out = []
        for key, row in self.rows.items():
            lk = self.locks.get(key)
            if lk is not None and lk[0] != sid:
                if lk[1] is not None:
                    out.append((key, lk[1]))
            else:
                out.append((key, row))
        for key, (owner, before) in self.locks.items():
            if owner != sid and key not in self.rows and before is not None:
                out.append((key, before))
        return out

    def lock(self, key, sid, undo):
        """Take the row lock for a change; remember the before-image once."""
        lk = self.locks.get(key)
        if lk is not None:
            if lk[0] != sid:
                raise TTError(6003)
            return
        before = self.rows.get(key)
        self.locks[key] = (sid, None if before is None else list(before))
        undo.append((self, key))

    def definition(self):
        return {"owner": self.owner, "name": self.name, "cols": self.cols,
                "pk": self.pk, "indexes": [[list(k), v] for k, v in self.indexes.items()]}

    def to_json(self):
        d = self.definition()
        d["next_rowid"] = self.next_rowid
        d["rows"] = [[list(k), r] for k, r in self.rows.items()]
        return d

    @staticmethod
    def from_definition(d):
        t = Table(d["owner"], d["name"], d["cols"], d.get("pk"))
        for k, v in d.get("indexes", []):
            t.indexes[tuple(k)] = v
        return t

    @staticmethod
    def from_json(d):
        t = Table.from_definition(d)
        t.next_rowid = d.get("next_rowid", 1)
        for k, r in d.get("rows", []):
            t.rows[tuple(k)] = r
        return t

    def check_row(self, row):
        for i, c in enumerate(self.cols):
            if row[i] is None and not c["nullable"]:
                raise TTError(2402, c["name"])

    def check_unique(self, key, sid):
        if self.pkidx is None:
            return
        exists = key in self.rows
        lk = self.locks.get(key)
        if lk is not None and lk[0] != sid:
            # another session holds this key: TimesTen would wait for the lock
            raise TTError(6003)
        if exists:
            rowid = zlib.crc32(repr(key).encode()) * 0x10000 + len(self.rows)
            raise TTError(907, "%s.%s" % (self.owner, self.name), "%016x" % rowid)


class Sequence:
    def __init__(self, owner, name, opts, value=None):
        self.owner = owner
        self.name = name
        self.opts = opts
        self.value = value       # last value handed out, None before the first

    def next(self):
        o = self.opts
        inc = o["increment"]
        if self.value is None:
            start = o["start"]
            if start is None:
                start = o["min"] if inc > 0 and o["min"] is not None else \
                    (o["max"] if inc < 0 and o["max"] is not None else 1)
            v = start
        else:
            v = self.value + inc
        hi = o["max"] if o["max"] is not None else 2 ** 63 - 1
        lo = o["min"] if o["min"] is not None else 1
        if v > hi or v < lo:
            if not o["cycle"]:
                raise TTError(2226, self.name)
            v = lo if inc > 0 else hi
        self.value = v
        return v

    def to_json(self):
        return {"owner": self.owner, "name": self.name, "opts": self.opts, "value": self.value}

    @staticmethod
    def from_json(d):
        return Sequence(d["owner"], d["name"], d["opts"], d.get("value"))


class Catalog:
    """Everything a checkpoint or a duplicate carries about the schema/data."""

    def __init__(self):
        self.users = {}
        self.tables = {}
        self.sequences = {}

    def to_json(self):
        return {"users": [u.to_json() for u in self.users.values()],
                "tables": [t.to_json() for t in self.tables.values()],
                "sequences": [s.to_json() for s in self.sequences.values()]}

    @staticmethod
    def from_json(d):
        c = Catalog()
        for u in d.get("users", []):
            user = User.from_json(u)
            c.users[user.name] = user
        for t in d.get("tables", []):
            table = Table.from_json(t)
            c.tables[(table.owner, table.name)] = table
        for s in d.get("sequences", []):
            seq = Sequence.from_json(s)
            c.sequences[(seq.owner, seq.name)] = seq
        return c

    def table(self, owner, name):
        t = self.tables.get((owner, name))
        if t is None:
            raise TTError(2206, "%s.%s" % (owner, name))
        return t

    def sequence(self, owner, name):
        s = self.sequences.get((owner, name))
        if s is None:
            raise TTError(2223, "%s.%s" % (owner, name))
        return s

    # -- applying replicated/logged operations ---------------------------
    def apply(self, op):
        """Apply one redo operation (from the log or from the active)."""
        kind = op[0]
        if kind == "put":
            t = self.tables.get((op[1], op[2]))
            if t is not None:
                key = tuple(op[3])
                t.rows[key] = op[4]
                if t.pkidx is None and key[0] >= t.next_rowid:
                    t.next_rowid = key[0] + 1
        elif kind == "del":
            t = self.tables.get((op[1], op[2]))
            if t is not None:
                t.rows.pop(tuple(op[3]), None)
        elif kind == "truncate":
            t = self.tables.get((op[1], op[2]))
            if t is not None:
                t.rows.clear()
        elif kind == "create_table":
            t = Table.from_definition(op[1])
            self.tables[(t.owner, t.name)] = t
        elif kind == "drop_table":
            self.tables.pop((op[1], op[2]), None)
        elif kind == "index":
            t = self.tables.get((op[1], op[2]))
            if t is not None:
                if op[5] is None:
                    t.indexes.pop((op[3], op[4]), None)
                else:
                    t.indexes[(op[3], op[4])] = op[5]
        elif kind == "user":
            if op[2] is None:
                self.users.pop(op[1], None)
                if op[3]:
                    for key in [k for k in self.tables if k[0] == op[1]]:
                        del self.tables[key]
                    for key in [k for k in self.sequences if k[0] == op[1]]:
                        del self.sequences[key]
            else:
                self.users[op[1]] = User.from_json(op[2])
        elif kind == "create_seq":
            s = Sequence.from_json(op[1])
            self.sequences[(s.owner, s.name)] = s
        elif kind == "drop_seq":
            self.sequences.pop((op[1], op[2]), None)
        elif kind == "seq":
            s = self.sequences.get((op[1], op[2]))
            if s is not None and (s.value is None or
                                  (op[3] - s.value) * s.opts["increment"] > 0):
                s.value = op[3]


def coerce_row(table, values):
    return [sqleval.coerce(c, v) for c, v in zip(table.cols, values)]
