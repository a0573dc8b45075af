"""CREATE ACTIVE STANDBY PAIR: parsing into a scheme dict, the per-store
attributes with their documented defaults, and the `repschemes;` listing."""

from .errors import TTError
from .sqllex import syntax_error

SCHEME_NAME = "_ACTIVESTANDBY"
SCHEME_OWNER = "TTREP"

STORE_DEFAULTS = {
    "port": 0,                   # 0 = automatic
    "timeout": 120,
    "failthreshold": 0,
    "compress": False,
    "return_wait_time": 10,
    "local_commit_action": "NO ACTION",
    "disable_return": None,      # (scope, failures) or None
    "resume_return": None,       # milliseconds
    "return_services_off_when_stopped": False,
    "durable_commit": None,
    "table_definition_checking": "RELAXED",
}


def store_key(name, host):
    return "%s@%s" % (name.upper(), host.lower())


class _P:
    def __init__(self, tokens, text):
        self.toks = tokens
        self.text = text
        self.i = 0

    @property
    def tok(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self):
        t = self.tok
        return syntax_error(self.text, t.pos if t else len(self.text)) if t else \
            TTError(1001, "", len(self.text))

    def kw(self, *words):
        t = self.tok
        if t is not None and t.is_kw(*words):
            self.i += 1
            return t.value
        return None

    def need(self, *words):
        v = self.kw(*words)
        if v is None:
            raise self.error()
        return v

    def op(self, value):
        t = self.tok
        if t is not None and t.kind == "op" and t.value == value:
            self.i += 1
            return True
        return False

    def number(self):
        t = self.tok
        if t is None or t.kind != "num":
            raise self.error()
        self.i += 1
        return t.value

    def name(self):
        t = self.tok
        if t is None or t.kind not in ("id", "str"):
            raise self.error()
        self.i += 1
        return t.value

    def host(self):
        t = self.tok
        if t is None:
            raise self.error()
        if t.kind == "str" or (t.kind == "id" and t.quoted):
            self.i += 1
            return t.value
        parts = [self.name()]
        while self.op("."):
            parts.append(self.name())
        return ".".join(parts).lower()

    def store(self, self_name, self_host):
        if self.kw("SELF"):
            return {"name": self_name, "host": self_host}
        name = self.name()
        host = self.host() if self.kw("ON") else self_host
        return {"name": name, "host": host}


def parse_pair(tokens, text, self_name, self_host):
    """Parse the tokens following CREATE ACTIVE STANDBY PAIR."""
    p = _P(tokens, text)
    scheme = {"stores": [], "subscribers": [], "return": None, "by_request": False,
              "store_attrs": {}, "exclude": [], "include": [], "routes": []}
    scheme["stores"].append(p.store(self_name, self_host))
    if not p.op(","):
        raise p.error()
    scheme["stores"].append(p.store(self_name, self_host))
    while p.tok is not None:
        if p.kw("RETURN"):
            kind = p.need("RECEIPT", "TWOSAFE")
            scheme["return"] = kind
            if p.kw("BY"):
                p.need("REQUEST")
                scheme["by_request"] = True
        elif p.kw("NO"):
            p.need("RETURN")
            scheme["return"] = None
        elif p.kw("SUBSCRIBER"):
            scheme["subscribers"].append(p.store(self_name, self_host))
            while p.op(","):
                scheme["subscribers"].append(p.store(self_name, self_host))
        elif p.kw("STORE"):
            st = p.store(self_name, self_host)
            attrs = scheme["store_attrs"].setdefault(store_key(st["name"], st["host"]), {})
            parse_store_attrs(p, attrs)
        elif p.kw("ROUTE"):
            # accepted and recorded; the simulator routes by host name only
            start = p.i
            while p.tok is not None and not p.tok.is_kw("STORE", "INCLUDE", "EXCLUDE",
                                                          "ROUTE"):
                p.i += 1
            scheme["routes"].append(" ".join(str(t.value) for t in tokens[start:p.i]))
        elif p.tok.is_kw("INCLUDE", "EXCLUDE"):
            which = p.kw("INCLUDE", "EXCLUDE").lower()
            while True:
                if p.kw("TABLE"):
                    kind = "table"
                elif p.kw("SEQUENCE"):
                    kind = "sequence"
                elif p.kw("CACHE"):
                    p.need("GROUP")
                    kind = "cache group"
                else:
                    raise p.error()
                names = []
                while p.tok is not None and p.tok.kind == "id" and not p.tok.is_kw(
                        "TABLE", "SEQUENCE", "CACHE", "STORE", "INCLUDE", "EXCLUDE"):
                    n = p.name()
                    if p.op("."):
                        n = n + "." + p.name()
                    names.append(n.upper())
                    if not p.op(","):
                        break
                scheme[which].append({"kind": kind, "names": names})
                if not p.op(","):
                    break
        else:
            raise p.error()
    if scheme["subscribers"]:
        raise TTError(8045, "Subscribers in an active standby pair")
    a, b = scheme["stores"]
    if store_key(a["name"], a["host"]) == store_key(b["name"], b["host"]):
        raise TTError(8126, text="The two masters of an active standby pair must "
                      "be different stores")
    return scheme


def parse_store_attrs(p, attrs):
    while p.tok is not None:
        if p.kw("PORT"):
            attrs["port"] = int(p.number())
        elif p.kw("TIMEOUT"):
            attrs["timeout"] = int(p.number())
        elif p.kw("FAILTHRESHOLD"):
            attrs["failthreshold"] = int(p.number())
        elif p.kw("COMPRESS"):
            p.need("TRAFFIC")
            attrs["compress"] = p.need("ON", "OFF") == "ON"
        elif p.kw("DISABLE"):
            p.need("RETURN")
            scope = p.need("SUBSCRIBER", "ALL")
            attrs["disable_return"] = [scope, int(p.number())]
        elif p.kw("RESUME"):
            p.need("RETURN")
            attrs["resume_return"] = int(p.number())
        elif p.kw("DURABLE"):
            p.need("COMMIT")
            attrs["durable_commit"] = p.need("ON", "OFF") == "ON"
        elif p.kw("LOCAL"):
            p.need("COMMIT")
            p.need("ACTION")
            if p.kw("NO"):
                p.need("ACTION")
                attrs["local_commit_action"] = "NO ACTION"
            else:
                p.need("COMMIT")
                attrs["local_commit_action"] = "COMMIT"
        elif p.tok.is_kw("RETURN"):
            nxt = p.toks[p.i + 1] if p.i + 1 < len(p.toks) else None
            if nxt is not None and nxt.is_kw("WAIT"):
                p.i += 2
                p.need("TIME")
                attrs["return_wait_time"] = int(p.number())
            elif nxt is not None and nxt.is_kw("SERVICES"):
                p.i += 2
                state = p.need("ON", "OFF")
                p.need("WHEN")
                p.kw("REPLICATION")
                p.need("STOPPED")
                attrs["return_services_off_when_stopped"] = (state == "OFF")
            else:
                return
        elif p.kw("TABLE"):
            p.need("DEFINITION")
            p.need("CHECKING")
            attrs["table_definition_checking"] = p.need("RELAXED", "EXACT")
        elif p.kw("CONFLICT"):
            while p.tok is not None and not p.tok.is_kw("STORE", "INCLUDE", "EXCLUDE"):
                p.i += 1
        else:
            return


def attrs_of(scheme, name, host):
    out = dict(STORE_DEFAULTS)
    out.update(scheme["store_attrs"].get(store_key(name, host), {}))
    return out


def excluded_table(scheme, owner, table):
    full = "%s.%s" % (owner, table)
    for ent in scheme.get("exclude", []):
        if ent["kind"] == "table" and (full in ent["names"] or table in ent["names"]):
            return True
    incl = [e for e in scheme.get("include", []) if e["kind"] == "table"]
    if incl:
        return not any(full in e["names"] or table in e["names"] for e in incl)
    return False


def format_repschemes(scheme):
    """The `repschemes;` listing for one active standby pair."""
    lines = ["Replication Scheme Active Standby:", ""]
    for st in scheme["stores"]:
        lines.append("  Master Store: %s on %s" % (st["name"].upper(), st["host"].upper()))
    lines.append("")
    for title, kind in (("Excluded Tables", "table"),
                        ("Excluded Cache Groups", "cache group"),
                        ("Excluded sequences", "sequence")):
        names = [n for e in scheme.get("exclude", []) if e["kind"] == kind for n in e["names"]]
        lines.append("  %s:" % title)
        lines += ["    %s" % n for n in names] or ["    None"]
        lines.append("")
    for st in scheme["stores"]:
        a = attrs_of(scheme, st["name"], st["host"])
        lines.append("  Store: %s on %s" % (st["name"].upper(), st["host"].upper()))
        lines.append("    Port: %s" % (a["port"] if a["port"] else "(auto)"))
        lines.append("    Log Fail Threshold: %s" %
                     (a["failthreshold"] if a["failthreshold"] else "(none)"))
        lines.append("    Retry Timeout: %d seconds" % a["timeout"])
        lines.append("    Compress Traffic: %s" % ("Enabled" if a["compress"] else "Disabled"))
        lines.append("")
    return lines
