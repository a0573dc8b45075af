"""Runs parsed SQL statements for a session: privilege checks, DDL (which
commits, as TimesTen's default DDLCommitBehavior does), DML with row locks,
queries, and transaction control.  A result is a dict the ttIsql client
prints: {"rows": [...], "cols": [...]} or {"count": n, "verb": "inserted"}."""

from . import builtins
from . import repscheme
from . import sqleval
from .catalog import (Table, Sequence, User, SYSTEM_PRIVS, OBJECT_PRIVS,
                      hash_password, coerce_row)
from .errors import TTError
from .sqlparse import parse

VIRTUAL_TABLES = {
    ("TTREP", "REPLICATIONS"): ["REPLICATION_NAME", "REPLICATION_OWNER"],
    ("SYS", "TABLES"): ["TBLNAME", "TBLOWNER", "NUMCOLS"],
    ("SYS", "ALL_USERS"): ["USERNAME", "USER_ID"],
    ("SYS", "SEQUENCES"): ["SEQNAME", "SEQOWNER"],
}


class Executor:
    def __init__(self, session):
        self.s = session
        self.db = session.db
        self.cat = session.db.catalog

    # -- privileges -------------------------------------------------------
    def user(self):
        return self.cat.users.get(self.s.user)

    def has_sys(self, priv):
        if self.s.is_instance_admin:
            return True
        for name in (self.s.user, "PUBLIC"):
            u = self.cat.users.get(name)
            if u and ("ADMIN" in u.sys or priv in u.sys or "ALL PRIVILEGES" in u.sys):
                return True
        return False

    def need_sys(self, priv):
        if not self.has_sys(priv):
            raise TTError(15100, self.s.user, priv)

    def need_obj(self, owner, name, priv, any_priv):
        if owner == self.s.user or self.has_sys(any_priv):
            return
        full = "%s.%s" % (owner, name)
        for uname in (self.s.user, "PUBLIC"):
            u = self.cat.users.get(uname)
            if u and (priv in u.obj.get(full, ()) or "ALL" in u.obj.get(full, ())):
                return
        raise TTError(15100, self.s.user, "%s on %s" % (priv, full))

    def qualify(self, qname):
        owner, name = qname
        return (owner or self.s.user, name)

    # -- entry point ------------------------------------------------------
    async def run(self, sql):
        """Execute one statement; returns (result dict, [warnings])."""
        if self.s.terminated or self.db.invalid:
            raise TTError(994)
        st = parse(sql)
        kind = st["kind"]
        if self.s.pending is not None and kind not in ("commit", "rollback"):
            raise TTError(8197)
        if kind == "commit":
            return {"ok": True}, await self.db.commit(self.s)
        handler = getattr(self, "do_" + kind, None)
        if handler is None:
            raise TTError(8045, kind)
        if kind in DDL_KINDS:
            self.check_ddl_allowed(st)
            warnings = await self.implicit_commit()
            result = handler(st)
            warnings += await self.commit_now()
            return result, warnings
        result = handler(st)
        if hasattr(result, "__await__"):
            result = await result
        warnings = []
        if kind in DML_KINDS and self.s.autocommit:
            try:
                warnings = await self.db.commit(self.s)
            except TTError as e:
                if e.code != 8170:
                    self.s.rollback()
                raise
        elif kind == "select" and self.s.autocommit and self.s.ops:
            warnings = await self.db.commit(self.s)       # sequence values
        return result, warnings

    def check_ddl_allowed(self, st):
        """Schema changes of a pair member are made on the ACTIVE only."""
        db = self.db
        if db.scheme is None or db.state == "ACTIVE" or st["kind"] in ("create_pair",
                                                                        "drop_pair"):
            return
        name = st.get("name") or st.get("table") or st.get("object") or ("", "")
        if isinstance(name, str):
            owner, obj = "SYS", name
        else:
            owner, obj = self.qualify(name)
        db.check_writable(owner, obj)

    async def implicit_commit(self):
        if self.s.ops or self.s.undo:
            return await self.db.commit(self.s)
        return []

    async def commit_now(self):
        if self.s.ops or self.s.undo:
            return await self.db.commit(self.s)
        return []

    # -- transaction control ----------------------------------------------
    def do_rollback(self, st):
        self.s.rollback()
        return {"ok": True}

    def do_noop(self, st):
        return {"ok": True}

    def do_unsupported(self, st):
        raise TTError(8045, st["what"])

    # -- users and privileges ---------------------------------------------
    def do_create_user(self, st):
        self.need_sys("ADMIN")
        self.db.check_writable("SYS", "USERS") if self.db.scheme else None
        name = st["name"]
        if name in self.cat.users:
            raise TTError(15173, name)
        user = User(name, hash_password(st["password"]))
        self.s.ops.append(("user", name, user.to_json(), False))
        self.cat.users[name] = user
        return {"ok": True}

    def do_alter_user(self, st):
        if st["name"] != self.s.user:
            self.need_sys("ADMIN")
        user = self.cat.users.get(st["name"])
        if user is None:
            raise TTError(15174, st["name"])
        user.pw_hash = hash_password(st["password"])
        self.s.ops.append(("user", user.name, user.to_json(), False))
        return {"ok": True}

    def do_drop_user(self, st):
        self.need_sys("ADMIN")
        if st["name"] not in self.cat.users:
            raise TTError(15174, st["name"])
        owned = [k for k in self.cat.tables if k[0] == st["name"]]
        if owned and not st["cascade"]:
            raise TTError(15178, text="User %s owns objects; use DROP USER ... CASCADE"
                          % st["name"])
        op = ("user", st["name"], None, True)
        self.cat.apply(op)
        self.s.ops.append(op)
        return {"ok": True}

    def _grant_targets(self, st):
        for u in st["users"]:
            if u != "PUBLIC" and u not in self.cat.users:
                raise TTError(15174, u)
            if u == "PUBLIC" and u not in self.cat.users:
                self.cat.users["PUBLIC"] = User("PUBLIC", None)
        return [self.cat.users[u] for u in st["users"]]

    def do_grant(self, st):
        targets = self._grant_targets(st)
        if st["object"] is None:
            self.need_sys("ADMIN")
            for p in st["privs"]:
                if p not in SYSTEM_PRIVS:
                    raise TTError(15111, p)
            for u in targets:
                for p in st["privs"]:
                    u.sys.add("ALL PRIVILEGES" if p == "ALL" else p)
                self.s.ops.append(("user", u.name, u.to_json(), False))
            return {"ok": True}
        owner, name = self.qualify(st["object"])
        if (owner, name) not in self.cat.tables and (owner, name) not in self.cat.sequences:
            raise TTError(2206, "%s.%s" % (owner, name))
        if owner != self.s.user:
            self.need_sys("ADMIN")
        for p in st["privs"]:
            if p not in OBJECT_PRIVS:
                raise TTError(15111, p)
        for u in targets:
            u.obj.setdefault("%s.%s" % (owner, name), set()).update(st["privs"])
            self.s.ops.append(("user", u.name, u.to_json(), False))
        return {"ok": True}

    def do_revoke(self, st):
        targets = self._grant_targets(st)
        if st["object"] is None:
            self.need_sys("ADMIN")
            for u in targets:
                for p in st["privs"]:
                    u.sys.discard(p)
                self.s.ops.append(("user", u.name, u.to_json(), False))
            return {"ok": True}
        owner, name = self.qualify(st["object"])
        if owner != self.s.user:
            self.need_sys("ADMIN")
        for u in targets:
            privs = u.obj.get("%s.%s" % (owner, name), set())
            privs.difference_update(st["privs"])
            self.s.ops.append(("user", u.name, u.to_json(), False))
        return {"ok": True}

    # -- tables, indexes, sequences ---------------------------------------
    def _need_create(self, owner, own_priv, any_priv):
        if owner == self.s.user:
            if not (self.has_sys(own_priv) or self.has_sys(any_priv)):
                raise TTError(15100, self.s.user, own_priv)
        else:
            self.need_sys(any_priv)
            if owner not in self.cat.users:
                raise TTError(15174, owner)

    def do_create_table(self, st):
        owner, name = self.qualify(st["name"])
        self._need_create(owner, "CREATE TABLE", "CREATE ANY TABLE")
        if (owner, name) in self.cat.tables:
            raise TTError(2207, "%s.%s" % (owner, name))
        self.db.check_writable(owner, name)
        seen = set()
        for c in st["cols"]:
            sqleval.check_type(c)
            if c["name"] in seen:
                raise TTError(2213, c["name"])
            seen.add(c["name"])
            c["default"] = None if c["default"] is None else \
                sqleval.evaluate(c["default"], sqleval.Context())
        if st["pk"]:
            for k in st["pk"]:
                if k not in seen:
                    raise TTError(2211, k)
            for c in st["cols"]:
                if c["name"] in st["pk"]:
                    c["nullable"] = False
        table = Table(owner, name, st["cols"], st["pk"])
        op = ("create_table", table.definition())
        self.cat.apply(op)
        self.s.ops.append(op)
        return {"ok": True}

    def do_drop_table(self, st):
        owner, name = self.qualify(st["name"])
        t = self.cat.table(owner, name)
        if owner != self.s.user:
            self.need_sys("DROP ANY TABLE")
        self.db.check_writable(owner, name)
        if t.locks:
            raise TTError(6003)
        op = ("drop_table", owner, name)
        self.cat.apply(op)
        self.s.ops.append(op)
        return {"ok": True}

    def do_truncate(self, st):
        owner, name = self.qualify(st["table"])
        t = self.cat.table(owner, name)
        self.need_obj(owner, name, "DELETE", "DELETE ANY TABLE")
        self.db.check_writable(owner, name)
        if t.locks:
            raise TTError(6003)
        op = ("truncate", owner, name)
        self.cat.apply(op)
        self.s.ops.append(op)
        return {"ok": True}

    def do_create_index(self, st):
        owner, name = self.qualify(st["table"])
        t = self.cat.table(owner, name)
        self._need_create(owner, "CREATE INDEX", "CREATE ANY INDEX") \
            if owner != self.s.user else None
        for c in st["cols"]:
            if c not in t.colidx:
                raise TTError(2211, c)
        iowner = st["name"][0] or owner
        op = ("index", owner, name, iowner, st["name"][1],
              {"cols": st["cols"], "unique": st["unique"]})
        self.cat.apply(op)
        self.s.ops.append(op)
        return {"ok": True}

    def do_drop_index(self, st):
        iowner, iname = self.qualify(st["name"])
        for t in self.cat.tables.values():
            if (iowner, iname) in t.indexes:
                op = ("index", t.owner, t.name, iowner, iname, None)
                self.cat.apply(op)
                self.s.ops.append(op)
                return {"ok": True}
        raise TTError(2206, text="Index %s.%s not found" % (iowner, iname))

    def do_create_sequence(self, st):
        owner, name = self.qualify(st["name"])
        self._need_create(owner, "CREATE SEQUENCE", "CREATE ANY SEQUENCE")
        if (owner, name) in self.cat.sequences:
            raise TTError(2222, "%s.%s" % (owner, name))
        seq = Sequence(owner, name, st["opts"])
        op = ("create_seq", seq.to_json())
        self.cat.apply(op)
        self.s.ops.append(op)
        return {"ok": True}

    def do_drop_sequence(self, st):
        owner, name = self.qualify(st["name"])
        self.cat.sequence(owner, name)
        if owner != self.s.user:
            self.need_sys("DROP ANY SEQUENCE")
        op = ("drop_seq", owner, name)
        self.cat.apply(op)
        self.s.ops.append(op)
        return {"ok": True}

    # -- replication scheme -----------------------------------------------
    def do_create_pair(self, st):
        self.need_sys("ADMIN")
        if self.db.scheme is not None:
            raise TTError(8126)
        if self.db.repagent is not None:
            raise TTError(5245)
        daemon = self.db.daemon
        scheme = repscheme.parse_pair(st["tokens"], st["text"], self.db.name, daemon.hostname)
        scheme["text"] = "CREATE ACTIVE STANDBY PAIR " + st["text"]
        old = self.db.scheme
        self.db.scheme = scheme
        self.db.locate_self()
        if scheme.get("self_idx") is None:
            self.db.scheme = old
            raise TTError(8191, self.db.name, daemon.hostname)
        self.db.rep.update({"state": "IDLE", "role_before": None, "duplicated": False,
                            "peer_pstate": "start", "return_disabled": False,
                            "timeouts": 0})
        self.db.checkpoint()
        self.db.note_updatable("active standby pair created")
        daemon.logmsg("Info", "Active standby pair created in %s" % self.db.path)
        return {"ok": True}

    def do_drop_pair(self, st):
        self.need_sys("ADMIN")
        if self.db.scheme is None:
            raise TTError(8191, self.db.name, self.db.daemon.hostname)
        if self.db.repagent is not None:
            raise TTError(5245)
        self.db.scheme = None
        self.db.rep.update({"state": "IDLE", "role_before": None, "duplicated": False,
                            "peer_pstate": "start"})
        self.db.checkpoint()
        self.db.note_updatable("active standby pair dropped")
        return {"ok": True}

    # -- DML --------------------------------------------------------------
    def seq_fn(self, owner, name, which):
        owner = owner or self.s.user
        seq = self.cat.sequence(owner, name)
        if owner != self.s.user:
            self.need_sys("SELECT ANY SEQUENCE") if not self._obj_priv(
                owner, name, "SELECT") else None
        if which == "NEXTVAL":
            if self.db.scheme is not None and self.db.state != "ACTIVE" and \
                    self.db.replicated(owner, name):
                raise TTError(16265, self.db.state, "%s.%s" % (owner, name))
            v = seq.next()
            self.s.currval[(owner, name)] = v
            self.s.ops.append(("seq", owner, name, v))
            return v
        if (owner, name) not in self.s.currval:
            raise TTError(2225, "%s.%s" % (owner, name))
        return self.s.currval[(owner, name)]

    def _obj_priv(self, owner, name, priv):
        u = self.cat.users.get(self.s.user)
        return bool(u and priv in u.obj.get("%s.%s" % (owner, name), ()))

    def do_insert(self, st):
        owner, name = self.qualify(st["table"])
        t = self.cat.table(owner, name)
        self.need_obj(owner, name, "INSERT", "INSERT ANY TABLE")
        self.db.check_writable(owner, name)
        cols = st["cols"] or [c["name"] for c in t.cols]
        for c in cols:
            if c not in t.colidx:
                raise TTError(2211, c)
        if "query" in st:
            res = self.do_select(st["query"])
            sources = res["rows"]
        else:
            ctx = sqleval.Context(seq_fn=self.seq_fn)
            sources = [[sqleval.evaluate(e, ctx) for e in st["values"]]]
        n = 0
        for values in sources:
            if len(values) != len(cols):
                raise TTError(2610)
            row = [c.get("default") for c in t.cols]
            for c, v in zip(cols, values):
                row[t.colidx[c]] = v
            row = coerce_row(t, row)
            t.check_row(row)
            key = t.key_of(row)
            t.check_unique(key, self.s.sid)
            t.lock(key, self.s.sid, self.s.undo)
            t.rows[key] = row
            self.s.ops.append(("put", owner, name, list(key), row))
            n += 1
        return {"count": n, "verb": "inserted"}

    def _matching(self, t, where, alias=None):
        ctx = sqleval.Context(columns=t.colidx, seq_fn=self.seq_fn)
        out = []
        for key, row in t.visible(self.s.sid):
            ctx.row = row
            if where is None or sqleval.evaluate(where, ctx) is True:
                out.append((key, row))
        return out

    def do_update(self, st):
        owner, name = self.qualify(st["table"])
        t = self.cat.table(owner, name)
        self.need_obj(owner, name, "UPDATE", "UPDATE ANY TABLE")
        self.db.check_writable(owner, name)
        for c, _ in st["sets"]:
            if c not in t.colidx:
                raise TTError(2211, c)
        targets = self._matching(t, st["where"])
        ctx = sqleval.Context(columns=t.colidx, seq_fn=self.seq_fn)
        for key, row in targets:
            ctx.row = row
            new = list(row)
            for c, e in st["sets"]:
                new[t.colidx[c]] = sqleval.evaluate(e, ctx)
            new = coerce_row(t, new)
            t.check_row(new)
            newkey = key if t.pkidx is None else tuple(new[i] for i in t.pkidx)
            t.lock(key, self.s.sid, self.s.undo)
            if newkey != key:
                t.check_unique(newkey, self.s.sid)
                t.lock(newkey, self.s.sid, self.s.undo)
                del t.rows[key]
                self.s.ops.append(("del", owner, name, list(key)))
            t.rows[newkey] = new
            self.s.ops.append(("put", owner, name, list(newkey), new))
        return {"count": len(targets), "verb": "updated"}

    def do_delete(self, st):
        owner, name = self.qualify(st["table"])
        t = self.cat.table(owner, name)
        self.need_obj(owner, name, "DELETE", "DELETE ANY TABLE")
        self.db.check_writable(owner, name)
        targets = self._matching(t, st["where"])
        for key, _ in targets:
            t.lock(key, self.s.sid, self.s.undo)
            t.rows.pop(key, None)
            self.s.ops.append(("del", owner, name, list(key)))
        return {"count": len(targets), "verb": "deleted"}

    # -- queries ----------------------------------------------------------
    def virtual_rows(self, owner, name):
        if (owner, name) == ("TTREP", "REPLICATIONS"):
            return [[repscheme.SCHEME_NAME, repscheme.SCHEME_OWNER]] if self.db.scheme else []
        if (owner, name) == ("SYS", "TABLES"):
            return [[t.name, t.owner, len(t.cols)] for t in self.cat.tables.values()]
        if (owner, name) == ("SYS", "ALL_USERS"):
            return [[u, i + 1] for i, u in enumerate(sorted(self.cat.users))]
        if (owner, name) == ("SYS", "SEQUENCES"):
            return [[s.name, s.owner] for s in self.cat.sequences.values()]
        return None

    def do_select(self, st):
        if st["table"] is None:
            colnames, source = [], [[]]
        else:
            owner, name = st["table"]
            if owner is None and (self.s.user, name) not in self.cat.tables:
                for (o, n) in VIRTUAL_TABLES:
                    if n == name and o == "SYS":
                        owner = o
            owner = owner or self.s.user
            vt = VIRTUAL_TABLES.get((owner, name))
            if vt is not None:
                colnames, source = vt, self.virtual_rows(owner, name)
            else:
                t = self.cat.table(owner, name)
                self.need_obj(owner, name, "SELECT", "SELECT ANY TABLE")
                colnames = [c["name"] for c in t.cols]
                source = [row for _, row in t.visible(self.s.sid)]
        colidx = {c: i for i, c in enumerate(colnames)}
        ctx = sqleval.Context(columns=colidx, seq_fn=self.seq_fn)
        rows = []
        for row in source:
            ctx.row = row
            if st["where"] is None or sqleval.evaluate(st["where"], ctx) is True:
                rows.append(row)
        aggregate = any(e != "*" and contains_agg(e) for e, _ in st["items"])
        if aggregate or st["group"]:
            out_rows, out_cols = self._aggregate(st, rows, colidx)
        else:
            if st["order"]:
                rows = sort_rows(rows, st["order"], colidx, self.seq_fn)
            out_cols = []
            for e, alias in st["items"]:
                if e == "*":
                    out_cols += colnames
                else:
                    out_cols.append(alias or expr_name(e))
            out_rows = []
            for i, row in enumerate(rows):
                ctx.row = row
                ctx.rownum = i + 1
                vals = []
                for e, _ in st["items"]:
                    if e == "*":
                        vals += list(row)
                    else:
                        vals.append(sqleval.evaluate(e, ctx))
                out_rows.append(vals)
        if st["distinct"]:
            seen, uniq = set(), []
            for r in out_rows:
                k = tuple(r)
                if k not in seen:
                    seen.add(k)
                    uniq.append(r)
            out_rows = uniq
        if st["first"] is not None:
            out_rows = out_rows[:st["first"]]
        return {"cols": out_cols, "rows": out_rows}

    def _aggregate(self, st, rows, colidx):
        ctx = sqleval.Context(columns=colidx, seq_fn=self.seq_fn)
        groups = {}
        for row in rows:
            ctx.row = row
            key = tuple(sqleval.evaluate(g, ctx) for g in (st["group"] or []))
            groups.setdefault(key, []).append(row)
        if not st["group"] and not groups:
            groups[()] = []
        out = []
        for key, grows in groups.items():
            vals = []
            for e, _ in st["items"]:
                if e == "*":
                    raise TTError(1001, text="* not allowed with aggregates")
                vals.append(eval_agg(e, grows, ctx))
            out.append(vals)
        return out, [alias or expr_name(e) for e, alias in st["items"]]

    # -- built-in procedures ----------------------------------------------
    async def do_call(self, st):
        ctx = sqleval.Context(seq_fn=self.seq_fn)
        args = [sqleval.evaluate(a, ctx) for a in st["args"]]
        return await builtins.call(self, st["name"], args)


DDL_KINDS = {"create_user", "alter_user", "drop_user", "grant", "revoke", "create_table",
             "drop_table", "truncate", "create_index", "drop_index", "create_sequence",
             "drop_sequence", "create_pair", "drop_pair"}
DML_KINDS = {"insert", "update", "delete"}


def contains_agg(e):
    if not isinstance(e, tuple):
        return False
    if e[0] == "agg":
        return True
    return any(contains_agg(x) for x in e[1:] if isinstance(x, tuple)) or \
        any(contains_agg(y) for x in e[1:] if isinstance(x, list) for y in x)


def eval_agg(e, rows, ctx):
    if isinstance(e, tuple) and e[0] == "agg":
        name, arg, distinct = e[1], e[2], e[3]
        if arg is None:
            return len(rows)
        vals = []
        for r in rows:
            ctx.row = r
            v = sqleval.evaluate(arg, ctx)
            if v is not None:
                vals.append(v)
        if distinct:
            vals = list(dict.fromkeys(vals))
        if name == "COUNT":
            return len(vals)
        if not vals:
            return None
        if name == "MIN":
            return min(vals)
        if name == "MAX":
            return max(vals)
        nums = [sqleval.to_number(v) for v in vals]
        if name == "SUM":
            return sum(nums)
        avg = sum(nums) / len(nums)
        return int(avg) if float(avg).is_integer() else avg
    if isinstance(e, tuple) and e[0] in ("bin", "neg", "func"):
        if e[0] == "bin":
            return sqleval.evaluate(("bin", e[1], ("lit", eval_agg(e[2], rows, ctx)),
                                     ("lit", eval_agg(e[3], rows, ctx))), ctx)
        if e[0] == "neg":
            return sqleval.evaluate(("neg", ("lit", eval_agg(e[1], rows, ctx))), ctx)
        return sqleval.call_function(e[1], [eval_agg(a, rows, ctx) for a in e[2]])
    ctx.row = rows[0] if rows else None
    if ctx.row is None:
        return None
    return sqleval.evaluate(e, ctx)


def sort_rows(rows, order, colidx, seq_fn):
    import functools
    ctx = sqleval.Context(columns=colidx, seq_fn=seq_fn)

    def keyvals(row):
        ctx.row = row
        return [sqleval.evaluate(e, ctx) for e, _ in order]

    keyed = [(keyvals(r), r) for r in rows]

    def cmp(a, b):
        for (va, vb, (_, desc)) in zip(a[0], b[0], order):
            if va is None and vb is None:
                continue
            if va is None:
                c = 1
            elif vb is None:
                c = -1
            else:
                c = sqleval.compare(va, vb)
            if c:
                return -c if desc else c
        return 0
    keyed.sort(key=functools.cmp_to_key(cmp))
    return [r for _, r in keyed]


def expr_name(e):
    return e[2] if e[0] == "col" else "EXP"
