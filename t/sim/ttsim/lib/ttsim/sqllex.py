"""Tokenizer for the SQL subset and for ttIsql command lines."""

import re

from .errors import TTError

PUNCT2 = ("<=", ">=", "<>", "!=", "||")
PUNCT1 = "(),;.*+-/=<>{}?:"


class Tok:
    __slots__ = ("kind", "value", "pos", "quoted")

    def __init__(self, kind, value, pos, quoted=False):
        self.kind = kind      # 'id', 'num', 'str', 'op', 'eof'
        self.value = value    # identifiers upper-cased unless quoted
        self.pos = pos
        self.quoted = quoted

    def is_kw(self, *words):
        return self.kind == "id" and not self.quoted and self.value in words

    def __repr__(self):
        return "Tok(%s,%r)" % (self.kind, self.value)


def tokenize(text):
    toks = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        start = i
        if c == "'":
            buf = []
            i += 1
            while True:
                if i >= n:
                    raise syntax_error(text, start)
                if text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        buf.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(text[i])
                i += 1
            toks.append(Tok("str", "".join(buf), start))
            continue
        if c == '"':
            j = text.find('"', i + 1)
            if j < 0:
                raise syntax_error(text, start)
            toks.append(Tok("id", text[i + 1:j], start, quoted=True))
            i = j + 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            if j < n and text[j] in "eE" and j + 1 < n and (
                    text[j + 1].isdigit() or text[j + 1] in "+-"):
                j += 2
                while j < n and text[j].isdigit():
                    j += 1
            raw = text[i:j]
            try:
                value = int(raw) if raw.isdigit() else float(raw)
            except ValueError:
                raise syntax_error(text, start)
            toks.append(Tok("num", value, start))
            i = j
            continue
        if c.isalpha() or c in "_$#":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$#"):
                j += 1
            toks.append(Tok("id", text[i:j].upper(), start))
            i = j
            continue
        two = text[i:i + 2]
        if two in PUNCT2:
            toks.append(Tok("op", two, start))
            i += 2
            continue
        if c in PUNCT1:
            toks.append(Tok("op", c, start))
            i += 1
            continue
        raise syntax_error(text, start)
    toks.append(Tok("eof", None, n))
    return toks


_TOKEN = re.compile(r"'(?:[^']|'')*'?|\"[^\"]*\"?|[A-Za-z0-9_$#.]+|\S")


def syntax_error(text, pos):
    """1001 with the offending token, then the statement and carets under it,
    as ttIsql shows it."""
    m = _TOKEN.match(text, pos) if pos < len(text) else None
    word = m.group(0) if m else ""
    line = " ".join(text.split("\n")).rstrip()
    if not line.endswith(";"):
        line += ";"
    marks = " " * pos + "^" * max(1, len(word))
    err = TTError(1001, word, pos + 1)
    err.text += "\n" + line + "\n" + marks
    return err


def split_statements(text):
    """Split a ttIsql input on ';' outside quotes and comments.  Returns the
    pieces (without the ';'); a trailing piece without ';' is included."""
    parts = []
    buf = []
    i = 0
    n = len(text)
    quote = None
    while i < n:
        c = text[i]
        if quote:
            buf.append(c)
            if c == quote:
                quote = None
            i += 1
            continue
        if c in "'\"":
            quote = c
            buf.append(c)
            i += 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == ";":
            parts.append("".join(buf).strip())
            buf = []
            i += 1
            continue
        buf.append(c)
        i += 1
    rest = "".join(buf).strip()
    if rest:
        parts.append(rest)
    return [p for p in parts if p]
