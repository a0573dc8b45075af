"""Column types, value coercion and expression evaluation for the SQL
subset.  Values are Python int, float, str or None (SQL NULL)."""

import re
import time

from .errors import TTError

NUMERIC_TYPES = {
    "NUMBER", "NUMERIC", "DECIMAL", "TT_DECIMAL", "INTEGER", "INT", "SMALLINT",
    "TINYINT", "BIGINT", "TT_INTEGER", "TT_BIGINT", "TT_SMALLINT", "TT_TINYINT",
    "BINARY_FLOAT", "BINARY_DOUBLE", "FLOAT", "REAL", "DOUBLE PRECISION",
}
INTEGER_TYPES = {"INTEGER", "INT", "SMALLINT", "TINYINT", "BIGINT", "TT_INTEGER",
                 "TT_BIGINT", "TT_SMALLINT", "TT_TINYINT"}
STRING_TYPES = {"CHAR", "VARCHAR", "VARCHAR2", "NCHAR", "NVARCHAR", "NVARCHAR2",
                "TT_VARCHAR", "TT_NVARCHAR", "TT_NCHAR", "CLOB", "NCLOB",
                "BINARY", "VARBINARY", "RAW", "BLOB"}
DATE_TYPES = {"DATE", "TIMESTAMP", "TT_DATE", "TT_TIMESTAMP", "TIME", "TT_TIME"}
ALL_TYPES = NUMERIC_TYPES | STRING_TYPES | DATE_TYPES


def check_type(col):
    if col["type"] not in ALL_TYPES:
        raise TTError(1001, text="Invalid data type %s for column %s"
                      % (col["type"], col["name"]))


def type_text(col):
    """Type as `desc` prints it."""
    t = col["type"]
    p = col.get("params") or []
    if t in ("NUMBER", "NUMERIC", "DECIMAL") and p:
        return "%s (%s)" % (t, ", ".join(str(x) for x in p))
    if t in STRING_TYPES and p:
        return "%s (%d)" % (t, p[0])
    return t


def to_number(value):
    if isinstance(value, (int, float)) or value is None:
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise TTError(2609)


def coerce(col, value):
    """Convert a value for storage in a column, as TimesTen would on insert."""
    if value is None:
        return None
    t = col["type"]
    p = col.get("params") or []
    if t in NUMERIC_TYPES:
        v = to_number(value)
        if t in INTEGER_TYPES:
            return int(round(v)) if isinstance(v, float) else v
        if t in ("NUMBER", "NUMERIC", "DECIMAL") and len(p) >= 1:
            scale = p[1] if len(p) > 1 else 0
            if scale <= 0:
                v = int(round(v))
            else:
                v = round(float(v), scale)
            digits = len(str(abs(int(v))))
            if digits > p[0] - max(scale, 0) and int(v) != 0:
                raise TTError(2778, col["name"])
            return v
        if isinstance(v, float) and v.is_integer() and t in ("NUMBER", "NUMERIC"):
            return int(v)
        return v
    if t in DATE_TYPES:
        return str(value)
    text = format_value(value) if not isinstance(value, str) else value
    if p and len(text) > p[0]:
        raise TTError(2778, col["name"])
    if t in ("CHAR", "NCHAR", "TT_CHAR", "TT_NCHAR") and p:
        text = text.ljust(p[0])
    elif t in ("CHAR", "NCHAR") and not p:
        text = text.ljust(1)
    return text


def format_value(v):
    """A value as ttIsql shows it inside '< ... >'."""
    if v is None:
        return "<NULL>"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v)


def like_regex(pattern):
    out = []
    for c in pattern:
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
    return re.compile("^" + "".join(out) + "$", re.S)


def compare(a, b):
    """Three-way comparison with numeric coercion; None when either is NULL."""
    if a is None or b is None:
        return None
    if isinstance(a, (int, float)) != isinstance(b, (int, float)):
        try:
            a, b = to_number(a), to_number(b)
        except TTError:
            a, b = str(a), str(b)
    if isinstance(a, str) and isinstance(b, str):
        a, b = a.rstrip(" "), b.rstrip(" ")
    return (a > b) - (a < b)


class Context:
    """What an expression may refer to: the current row, the session's
    sequences and the database's functions."""

    def __init__(self, columns=None, row=None, seq_fn=None, rownum=0):
        self.columns = columns or {}     # name -> index
        self.row = row
        self.seq_fn = seq_fn
        self.rownum = rownum


def evaluate(e, ctx):
    kind = e[0]
    if kind == "lit":
        return e[1]
    if kind == "col":
        idx = ctx.columns.get(e[2])
        if idx is None or ctx.row is None:
            raise TTError(2211, e[2])
        return ctx.row[idx]
    if kind == "seq":
        if ctx.seq_fn is None:
            raise TTError(2223, e[2])
        return ctx.seq_fn(e[1], e[2], e[3])
    if kind == "sysdate":
        return time.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "rownum":
        return ctx.rownum
    if kind == "neg":
        v = evaluate(e[1], ctx)
        return None if v is None else -to_number(v)
    if kind == "bin":
        a = evaluate(e[2], ctx)
        b = evaluate(e[3], ctx)
        op = e[1]
        if op == "||":
            return ("" if a is None else format_plain(a)) + \
                   ("" if b is None else format_plain(b))
        if a is None or b is None:
            return None
        a, b = to_number(a), to_number(b)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            raise TTError(2609, text="Division by zero")
        r = a / b
        return int(r) if isinstance(r, float) and r.is_integer() else r
    if kind == "cmp":
        c = compare(evaluate(e[2], ctx), evaluate(e[3], ctx))
        if c is None:
            return None
        return {"=": c == 0, "<>": c != 0, "<": c < 0, ">": c > 0,
                "<=": c <= 0, ">=": c >= 0}[e[1]]
    if kind == "and":
        a = evaluate(e[1], ctx)
        if a is False:
            return False
        b = evaluate(e[2], ctx)
        if a is None or b is None:
            return False if b is False else None
        return bool(a and b)
    if kind == "or":
        a = evaluate(e[1], ctx)
        if a is True:
            return True
        b = evaluate(e[2], ctx)
        if b is True:
            return True
        if a is None or b is None:
            return None
        return False
    if kind == "not":
        v = evaluate(e[1], ctx)
        return None if v is None else not v
    if kind == "isnull":
        v = evaluate(e[1], ctx)
        return (v is not None) if e[2] else (v is None)
    if kind == "like":
        v = evaluate(e[1], ctx)
        p = evaluate(e[2], ctx)
        if v is None or p is None:
            return None
        r = bool(like_regex(str(p)).match(str(v).rstrip(" ")))
        return not r if e[3] else r
    if kind == "in":
        v = evaluate(e[1], ctx)
        if v is None:
            return None
        found = any(compare(v, evaluate(x, ctx)) == 0 for x in e[2])
        return not found if e[3] else found
    if kind == "between":
        v = evaluate(e[1], ctx)
        lo = compare(v, evaluate(e[2], ctx))
        hi = compare(v, evaluate(e[3], ctx))
        if lo is None or hi is None:
            return None
        r = lo >= 0 and hi <= 0
        return not r if e[4] else r
    if kind == "case":
        base = evaluate(e[1], ctx) if e[1] is not None else None
        for cond, value in e[2]:
            if e[1] is not None:
                if compare(base, evaluate(cond, ctx)) == 0:
                    return evaluate(value, ctx)
            elif evaluate(cond, ctx):
                return evaluate(value, ctx)
        return evaluate(e[3], ctx)
    if kind == "func":
        return call_function(e[1], [evaluate(a, ctx) for a in e[2]])
    if kind == "agg":
        raise TTError(1001, text="Aggregate %s not allowed here" % e[1])
    raise TTError(1001, text="Unsupported expression")


def format_plain(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def call_function(name, args):
    def arg(i, default=None):
        return args[i] if i < len(args) else default
    if name in ("NVL", "COALESCE", "IFNULL"):
        for a in args:
            if a is not None:
                return a
        return None
    if any(a is None for a in args) and name not in ("CONCAT",):
        return None
    if name == "UPPER":
        return str(arg(0)).upper()
    if name == "LOWER":
        return str(arg(0)).lower()
    if name == "LENGTH":
        return len(str(arg(0)))
    if name in ("TRIM", "RTRIM", "LTRIM"):
        s = str(arg(0))
        return {"TRIM": s.strip, "RTRIM": s.rstrip, "LTRIM": s.lstrip}[name]()
    if name == "SUBSTR":
        s = str(arg(0))
        start = int(to_number(arg(1, 1)))
        start = start - 1 if start > 0 else (len(s) + start if start < 0 else 0)
        if len(args) > 2:
            return s[start:start + int(to_number(args[2]))]
        return s[start:]
    if name == "CONCAT":
        return "".join("" if a is None else format_plain(a) for a in args)
    if name == "ABS":
        return abs(to_number(arg(0)))
    if name == "MOD":
        return to_number(arg(0)) % to_number(arg(1))
    if name in ("TO_CHAR", "TO_NUMBER", "TO_DATE", "CAST"):
        return format_plain(arg(0)) if name == "TO_CHAR" else \
            (to_number(arg(0)) if name == "TO_NUMBER" else arg(0))
    if name == "ROUND":
        return round(to_number(arg(0)), int(to_number(arg(1, 0))))
    if name == "TRUNC":
        v = to_number(arg(0))
        return int(v) if isinstance(v, float) else v
    raise TTError(1001, text="Function %s not supported" % name)
