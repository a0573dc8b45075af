"""Parser of the SQL subset the simulator runs: users and grants, tables,
indexes, sequences, DML, simple queries, CALL of built-in procedures and the
replication scheme statements.  Statements become plain dicts; expressions
become nested tuples evaluated by sqleval."""

from .errors import TTError
from .sqllex import tokenize, syntax_error

SEQ_PSEUDO = ("NEXTVAL", "CURRVAL")
AGGREGATES = ("COUNT", "MIN", "MAX", "SUM", "AVG")


class Parser:
    def __init__(self, text):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    # -- token helpers --------------------------------------------------
    @property
    def tok(self):
        return self.toks[self.i]

    def peek(self, k=1):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self):
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def error(self, tok=None):
        tok = tok or self.tok
        return syntax_error(self.text, tok.pos)

    def accept_kw(self, *words):
        if self.tok.is_kw(*words):
            return self.advance().value
        return None

    def expect_kw(self, *words):
        v = self.accept_kw(*words)
        if v is None:
            raise self.error()
        return v

    def accept_op(self, op):
        if self.tok.kind == "op" and self.tok.value == op:
            self.advance()
            return True
        return False

    def expect_op(self, op):
        if not self.accept_op(op):
            raise self.error()

    def ident(self):
        t = self.tok
        if t.kind != "id":
            raise self.error()
        self.advance()
        return t.value

    def qname(self):
        """[owner.]name -> (owner or None, name)"""
        first = self.ident()
        if self.accept_op("."):
            return (first, self.ident())
        return (None, first)

    def integer(self):
        neg = self.accept_op("-")
        t = self.tok
        if t.kind != "num" or not isinstance(t.value, int):
            raise self.error()
        self.advance()
        return -t.value if neg else t.value

    def at_end(self):
        return self.tok.kind == "eof" or (self.tok.kind == "op" and self.tok.value == ";")

    def end(self):
        self.accept_op(";")
        if self.tok.kind != "eof":
            raise self.error()

    def rest_text(self):
        return self.text[self.tok.pos:].strip().rstrip(";").strip()

    # -- statements -----------------------------------------------------
    def statement(self):
        t = self.tok
        if t.kind == "op" and t.value == "{":
            self.advance()
            self.expect_kw("CALL")
            st = self.call_body()
            self.expect_op("}")
            self.end()
            return st
        if t.kind != "id":
            raise self.error()
        word = t.value
        handler = {
            "CREATE": self.create, "DROP": self.drop, "ALTER": self.alter,
            "GRANT": self.grant, "REVOKE": self.revoke, "INSERT": self.insert,
            "SELECT": self.select_stmt, "UPDATE": self.update, "DELETE": self.delete,
            "COMMIT": self.commit, "ROLLBACK": self.rollback, "CALL": self.call,
            "EXECUTE": self.call, "EXEC": self.call, "TRUNCATE": self.truncate,
            "LOAD": self.cache_stmt, "REFRESH": self.cache_stmt,
            "UNLOAD": self.cache_stmt, "FLUSH": self.cache_stmt,
        }.get(word)
        if handler is None or t.quoted:
            raise self.error()
        st = handler()
        self.end()
        return st

    def create(self):
        self.advance()
        if self.accept_kw("USER"):
            name = self.ident()
            self.expect_kw("IDENTIFIED")
            if self.accept_kw("EXTERNALLY"):
                return {"kind": "create_user", "name": name, "password": None}
            self.expect_kw("BY")
            pw = self.password()
            return {"kind": "create_user", "name": name, "password": pw}
        if self.accept_kw("TABLE"):
            return self.create_table()
        if self.tok.is_kw("UNIQUE", "HASH", "INDEX"):
            unique = bool(self.accept_kw("UNIQUE"))
            self.accept_kw("HASH")
            self.expect_kw("INDEX")
            name = self.qname()
            self.expect_kw("ON")
            table = self.qname()
            self.expect_op("(")
            cols = [self.ident()]
            while self.accept_op(","):
                cols.append(self.ident())
            self.expect_op(")")
            while not self.at_end():
                self.advance()
            return {"kind": "create_index", "name": name, "table": table,
                    "cols": cols, "unique": unique}
        if self.accept_kw("SEQUENCE"):
            return self.create_sequence()
        if self.tok.is_kw("ACTIVE"):
            self.advance()
            self.expect_kw("STANDBY")
            self.expect_kw("PAIR")
            return {"kind": "create_pair", "text": self.rest_text(),
                    "tokens": self.take_rest()}
        if self.tok.is_kw("OR", "VIEW", "SYNONYM", "PUBLIC", "MATERIALIZED",
                          "PROCEDURE", "FUNCTION", "PACKAGE", "REPLICATION",
                          "CACHE", "READONLY", "ASYNCHRONOUS", "DYNAMIC", "GLOBAL"):
            return self.unsupported("CREATE " + self.tok.value)
        raise self.error()

    def take_rest(self):
        toks = []
        while not self.at_end():
            toks.append(self.advance())
        return toks

    def password(self):
        t = self.tok
        if t.kind in ("id", "str", "num"):
            self.advance()
            # identifiers given without quotes keep the case typed
            if t.kind == "id" and not t.quoted:
                return self.text[t.pos:t.pos + len(t.value)]
            return str(t.value)
        raise self.error()

    def create_table(self):
        name = self.qname()
        self.expect_op("(")
        cols = []
        pk = None
        while True:
            if self.tok.is_kw("PRIMARY"):
                self.advance()
                self.expect_kw("KEY")
                pk = self.ident_list()
            elif self.tok.is_kw("CONSTRAINT", "UNIQUE", "FOREIGN", "CHECK"):
                if self.accept_kw("CONSTRAINT"):
                    self.ident()
                if self.accept_kw("PRIMARY"):
                    self.expect_kw("KEY")
                    pk = self.ident_list()
                else:
                    self.skip_balanced()
            else:
                cols.append(self.column_def())
            if self.accept_op(","):
                continue
            self.expect_op(")")
            break
        while not self.at_end():     # storage clauses, AGING, etc.
            self.advance()
        inline_pk = [c["name"] for c in cols if c.pop("pk", False)]
        if pk is None and inline_pk:
            pk = inline_pk
        return {"kind": "create_table", "name": name, "cols": cols, "pk": pk}

    def skip_balanced(self):
        depth = 0
        while not self.at_end():
            if self.tok.kind == "op" and self.tok.value == "(":
                depth += 1
            elif self.tok.kind == "op" and self.tok.value == ")":
                if depth == 0:
                    return
                depth -= 1
                if depth == 0:
                    self.advance()
                    return
            elif self.tok.kind == "op" and self.tok.value == "," and depth == 0:
                return
            self.advance()

    def ident_list(self):
        self.expect_op("(")
        names = [self.ident()]
        while self.accept_op(","):
            names.append(self.ident())
        self.expect_op(")")
        return names

    def column_def(self):
        name = self.ident()
        tname = self.ident()
        if tname in ("DOUBLE",) and self.accept_kw("PRECISION"):
            tname = "DOUBLE PRECISION"
        if tname == "TT_CHAR":
            tname = "CHAR"
        params = []
        if self.accept_op("("):
            params.append(self.integer())
            while self.accept_op(","):
                params.append(self.integer())
            self.accept_kw("BYTE", "CHAR")
            self.expect_op(")")
        col = {"name": name, "type": tname, "params": params,
               "nullable": True, "default": None}
        while True:
            if self.accept_kw("NOT"):
                if self.accept_kw("NULL"):
                    col["nullable"] = False
                else:
                    self.expect_kw("INLINE")
            elif self.accept_kw("NULL"):
                col["nullable"] = True
            elif self.accept_kw("PRIMARY"):
                self.expect_kw("KEY")
                col["pk"] = True
                col["nullable"] = False
            elif self.accept_kw("DEFAULT"):
                col["default"] = self.expr()
            elif self.accept_kw("UNIQUE", "INLINE"):
                pass
            else:
                return col

    def create_sequence(self):
        name = self.qname()
        opts = {"increment": 1, "min": None, "max": None, "start": None,
                "cycle": False, "cache": 20}
        while not self.at_end():
            if self.accept_kw("INCREMENT"):
                self.expect_kw("BY")
                opts["increment"] = self.integer()
            elif self.accept_kw("MINVALUE"):
                opts["min"] = self.integer()
            elif self.accept_kw("MAXVALUE"):
                opts["max"] = self.integer()
            elif self.accept_kw("START"):
                self.expect_kw("WITH")
                opts["start"] = self.integer()
            elif self.accept_kw("CACHE"):
                opts["cache"] = self.integer()
            elif self.accept_kw("CYCLE"):
                opts["cycle"] = True
            elif self.accept_kw("NOCYCLE", "NOCACHE", "ORDER", "NOORDER",
                                "NOMAXVALUE", "NOMINVALUE"):
                pass
            elif self.accept_kw("BATCH"):
                self.integer()
            else:
                raise self.error()
        if opts["increment"] == 0:
            raise TTError(1001, text="INCREMENT BY must not be zero")
        return {"kind": "create_sequence", "name": name, "opts": opts}

    def drop(self):
        self.advance()
        if self.accept_kw("USER"):
            name = self.ident()
            cascade = bool(self.accept_kw("CASCADE"))
            return {"kind": "drop_user", "name": name, "cascade": cascade}
        if self.accept_kw("TABLE"):
            return {"kind": "drop_table", "name": self.qname()}
        if self.accept_kw("INDEX"):
            name = self.qname()
            return {"kind": "drop_index", "name": name}
        if self.accept_kw("SEQUENCE"):
            return {"kind": "drop_sequence", "name": self.qname()}
        if self.tok.is_kw("ACTIVE"):
            self.advance()
            self.expect_kw("STANDBY")
            self.expect_kw("PAIR")
            return {"kind": "drop_pair"}
        if self.tok.is_kw("VIEW", "SYNONYM", "CACHE", "REPLICATION", "PROCEDURE"):
            return self.unsupported("DROP " + self.tok.value)
        raise self.error()

    def alter(self):
        self.advance()
        if self.accept_kw("USER"):
            name = self.ident()
            self.expect_kw("IDENTIFIED")
            self.expect_kw("BY")
            return {"kind": "alter_user", "name": name, "password": self.password()}
        if self.accept_kw("SESSION"):
            self.take_rest()
            return {"kind": "noop"}
        if self.tok.is_kw("ACTIVE"):
            return self.unsupported("ALTER ACTIVE STANDBY PAIR")
        if self.accept_kw("TABLE"):
            return self.unsupported("ALTER TABLE")
        raise self.error()

    def privilege_list(self):
        privs = []
        while True:
            words = [self.ident()]
            while self.tok.kind == "id" and not self.tok.is_kw("ON", "TO", "FROM"):
                words.append(self.ident())
            privs.append(" ".join(words))
            if not self.accept_op(","):
                return privs

    def grant(self):
        self.advance()
        privs = self.privilege_list()
        obj = self.qname() if self.accept_kw("ON") else None
        self.expect_kw("TO")
        users = [self.ident()]
        while self.accept_op(","):
            users.append(self.ident())
        return {"kind": "grant", "privs": privs, "object": obj, "users": users}

    def revoke(self):
        self.advance()
        privs = self.privilege_list()
        obj = self.qname() if self.accept_kw("ON") else None
        self.expect_kw("FROM")
        users = [self.ident()]
        while self.accept_op(","):
            users.append(self.ident())
        return {"kind": "revoke", "privs": privs, "object": obj, "users": users}

    def insert(self):
        self.advance()
        self.expect_kw("INTO")
        table = self.qname()
        cols = None
        if self.tok.kind == "op" and self.tok.value == "(" and \
                not self.peek().is_kw("SELECT"):
            cols = self.ident_list()
        if self.accept_kw("VALUES"):
            self.expect_op("(")
            values = [self.expr()]
            while self.accept_op(","):
                values.append(self.expr())
            self.expect_op(")")
            return {"kind": "insert", "table": table, "cols": cols, "values": values}
        paren = self.accept_op("(")
        if not self.tok.is_kw("SELECT"):
            raise self.error()
        query = self.select()
        if paren:
            self.expect_op(")")
        return {"kind": "insert", "table": table, "cols": cols, "query": query}

    def select_stmt(self):
        return self.select()

    def select(self):
        self.expect_kw("SELECT")
        first = None
        if self.accept_kw("FIRST"):
            first = self.integer()
        distinct = bool(self.accept_kw("DISTINCT"))
        self.accept_kw("ALL")
        items = []
        while True:
            if self.accept_op("*"):
                items.append(("*", None))
            elif self.tok.kind == "id" and self.peek().kind == "op" and \
                    self.peek().value == "." and self.peek(2).kind == "op" and \
                    self.peek(2).value == "*":
                self.advance()
                self.advance()
                self.advance()
                items.append(("*", None))
            else:
                e = self.expr()
                alias = None
                if self.accept_kw("AS"):
                    alias = self.ident()
                elif self.tok.kind == "id" and not self.tok.is_kw(
                        "FROM", "WHERE", "ORDER", "GROUP", "UNION"):
                    alias = self.ident()
                items.append((e, alias))
            if not self.accept_op(","):
                break
        table = None
        alias = None
        if self.accept_kw("FROM"):
            table = self.qname()
            if self.tok.kind == "id" and not self.tok.is_kw("WHERE", "ORDER", "GROUP"):
                alias = self.ident()
            if self.accept_op(","):
                raise TTError(8045, "Joins")
        where = self.expr() if self.accept_kw("WHERE") else None
        group = None
        if self.accept_kw("GROUP"):
            self.expect_kw("BY")
            group = [self.expr()]
            while self.accept_op(","):
                group.append(self.expr())
        order = []
        if self.accept_kw("ORDER"):
            self.expect_kw("BY")
            while True:
                e = self.expr()
                desc = bool(self.accept_kw("DESC"))
                if not desc:
                    self.accept_kw("ASC")
                order.append((e, desc))
                if not self.accept_op(","):
                    break
        if table is not None and table[0] is None and table[1] == "DUAL":
            table = None
        return {"kind": "select", "items": items, "table": table, "alias": alias,
                "where": where, "order": order, "distinct": distinct,
                "first": first, "group": group}

    def update(self):
        self.advance()
        table = self.qname()
        if self.tok.kind == "id" and not self.tok.is_kw("SET"):
            self.ident()
        self.expect_kw("SET")
        sets = []
        while True:
            col = self.ident()
            if self.accept_op("."):
                col = self.ident()
            self.expect_op("=")
            sets.append((col, self.expr()))
            if not self.accept_op(","):
                break
        where = self.expr() if self.accept_kw("WHERE") else None
        return {"kind": "update", "table": table, "sets": sets, "where": where}

    def delete(self):
        self.advance()
        self.accept_kw("FROM")
        table = self.qname()
        if self.tok.kind == "id" and not self.tok.is_kw("WHERE"):
            self.ident()
        where = self.expr() if self.accept_kw("WHERE") else None
        return {"kind": "delete", "table": table, "where": where}

    def truncate(self):
        self.advance()
        self.expect_kw("TABLE")
        return {"kind": "truncate", "table": self.qname()}

    def commit(self):
        self.advance()
        self.accept_kw("WORK")
        return {"kind": "commit"}

    def rollback(self):
        self.advance()
        self.accept_kw("WORK")
        return {"kind": "rollback"}

    def cache_stmt(self):
        return self.unsupported(self.tok.value + " CACHE GROUP")

    def unsupported(self, what):
        self.take_rest()
        return {"kind": "unsupported", "what": what}

    def call(self):
        self.advance()
        return self.call_body()

    def call_body(self):
        owner, name = self.qname()
        args = []
        if self.accept_op("("):
            if not self.accept_op(")"):
                args.append(self.expr())
                while self.accept_op(","):
                    args.append(self.expr())
                self.expect_op(")")
        return {"kind": "call", "name": name, "args": args}

    # -- expressions (precedence climbing) ------------------------------
    def expr(self):
        return self.or_expr()

    def or_expr(self):
        left = self.and_expr()
        while self.accept_kw("OR"):
            left = ("or", left, self.and_expr())
        return left

    def and_expr(self):
        left = self.not_expr()
        while self.accept_kw("AND"):
            left = ("and", left, self.not_expr())
        return left

    def not_expr(self):
        if self.accept_kw("NOT"):
            return ("not", self.not_expr())
        return self.predicate()

    def predicate(self):
        left = self.additive()
        t = self.tok
        if t.kind == "op" and t.value in ("=", "<>", "!=", "<", ">", "<=", ">="):
            self.advance()
            op = "<>" if t.value == "!=" else t.value
            return ("cmp", op, left, self.additive())
        if self.accept_kw("IS"):
            neg = bool(self.accept_kw("NOT"))
            self.expect_kw("NULL")
            return ("isnull", left, neg)
        neg = bool(self.accept_kw("NOT"))
        if self.accept_kw("LIKE"):
            return ("like", left, self.additive(), neg)
        if self.accept_kw("IN"):
            self.expect_op("(")
            items = [self.expr()]
            while self.accept_op(","):
                items.append(self.expr())
            self.expect_op(")")
            return ("in", left, items, neg)
        if self.accept_kw("BETWEEN"):
            lo = self.additive()
            self.expect_kw("AND")
            return ("between", left, lo, self.additive(), neg)
        if neg:
            raise self.error()
        return left

    def additive(self):
        left = self.term()
        while self.tok.kind == "op" and self.tok.value in ("+", "-", "||"):
            op = self.advance().value
            left = ("bin", op, left, self.term())
        return left

    def term(self):
        left = self.unary()
        while self.tok.kind == "op" and self.tok.value in ("*", "/"):
            op = self.advance().value
            left = ("bin", op, left, self.unary())
        return left

    def unary(self):
        if self.accept_op("-"):
            return ("neg", self.unary())
        if self.accept_op("+"):
            return self.unary()
        return self.primary()

    def primary(self):
        t = self.tok
        if t.kind == "num":
            self.advance()
            return ("lit", t.value)
        if t.kind == "str":
            self.advance()
            return ("lit", t.value)
        if t.kind == "op" and t.value == "(":
            self.advance()
            e = self.expr()
            self.expect_op(")")
            return e
        if t.kind != "id":
            raise self.error()
        if t.is_kw("NULL"):
            self.advance()
            return ("lit", None)
        if t.is_kw("SYSDATE", "CURRENT_DATE", "SYSTIMESTAMP", "CURRENT_TIMESTAMP"):
            self.advance()
            return ("sysdate",)
        if t.is_kw("CASE"):
            return self.case_expr()
        self.advance()
        parts = [t.value]
        while self.tok.kind == "op" and self.tok.value == "." and self.peek().kind == "id":
            self.advance()
            parts.append(self.advance().value)
        if parts[-1] in SEQ_PSEUDO and len(parts) >= 2:
            owner = parts[-3] if len(parts) >= 3 else None
            return ("seq", owner, parts[-2], parts[-1])
        if self.tok.kind == "op" and self.tok.value == "(" and len(parts) == 1:
            self.advance()
            name = parts[0]
            if name in AGGREGATES:
                if self.accept_op("*"):
                    self.expect_op(")")
                    return ("agg", name, None, False)
                distinct = bool(self.accept_kw("DISTINCT"))
                arg = self.expr()
                self.expect_op(")")
                return ("agg", name, arg, distinct)
            args = []
            if not self.accept_op(")"):
                args.append(self.expr())
                while self.accept_op(","):
                    args.append(self.expr())
                self.expect_op(")")
            return ("func", name, args)
        if parts[0] == "ROWNUM" and len(parts) == 1:
            return ("rownum",)
        if len(parts) == 1:
            return ("col", None, parts[0])
        return ("col", parts[-2], parts[-1])

    def case_expr(self):
        self.expect_kw("CASE")
        base = None if self.tok.is_kw("WHEN") else self.expr()
        whens = []
        while self.accept_kw("WHEN"):
            cond = self.expr()
            self.expect_kw("THEN")
            whens.append((cond, self.expr()))
        other = self.expr() if self.accept_kw("ELSE") else ("lit", None)
        self.expect_kw("END")
        return ("case", base, whens, other)


def parse(text):
    return Parser(text).statement()
