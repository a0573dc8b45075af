"""Label and field selectors: parsing the query-string forms and matching objects."""

import re

from .errors import ApiError
from .util import get_path

_LABEL_TERM = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<val>[A-Za-z0-9_.-]*)|\s+(?P<setop>in|notin)\s*\((?P<set>[^)]*)\))?\s*$")


def _split_terms(text):
    """Split on commas that are not inside parentheses."""
    terms, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur)
    return terms


class LabelSelector:
    def __init__(self, text):
        self.reqs = []
        for term in _split_terms(text or ""):
            m = _LABEL_TERM.match(term)
            if not m or (m.group("neg") and (m.group("op") or m.group("setop"))):
                raise ApiError(400, "unable to parse requirement: found '%s', expected: identifier" % term.strip(),
                               "BadRequest")
            key = m.group("key")
            if m.group("neg"):
                self.reqs.append(("!", key, None))
            elif m.group("op"):
                self.reqs.append(("!=" if m.group("op") == "!=" else "=", key, m.group("val")))
            elif m.group("setop"):
                vals = {v.strip() for v in m.group("set").split(",") if v.strip()}
                self.reqs.append((m.group("setop"), key, vals))
            else:
                self.reqs.append(("exists", key, None))

    def matches(self, labels):
        labels = labels or {}
        for op, key, val in self.reqs:
            have = key in labels
            if op == "=" and labels.get(key) != val:
                return False
            if op == "!=" and have and labels[key] == val:
                return False
            if op == "in" and (not have or labels[key] not in val):
                return False
            if op == "notin" and have and labels[key] in val:
                return False
            if op == "exists" and not have:
                return False
            if op == "!" and have:
                return False
        return True

    def empty(self):
        return not self.reqs


def selector_from_label_selector(sel):
    """A metav1.LabelSelector (matchLabels/matchExpressions) as a matcher; None selects nothing."""
    if sel is None:
        return None
    s = LabelSelector("")
    for k, v in (sel.get("matchLabels") or {}).items():
        s.reqs.append(("=", k, v))
    for e in sel.get("matchExpressions") or []:
        op = (e.get("operator") or "").lower()
        if op == "in":
            s.reqs.append(("in", e.get("key"), set(e.get("values") or [])))
        elif op == "notin":
            s.reqs.append(("notin", e.get("key"), set(e.get("values") or [])))
        elif op == "exists":
            s.reqs.append(("exists", e.get("key"), None))
        elif op == "doesnotexist":
            s.reqs.append(("!", e.get("key"), None))
    return s


class FieldSelector:
    def __init__(self, text, rt):
        self.reqs = []
        allowed = {"metadata.name", "metadata.namespace"} | rt.fields
        for term in _split_terms(text or ""):
            term = term.strip()
            m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(==|=|!=)\s*(.*)$", term)
            if not m:
                raise ApiError(400, 'invalid selector: \'%s\'; can\'t understand \'%s\'' % (text, term),
                               "BadRequest")
            field = m.group(1)
            if field not in allowed:
                if rt.builtin:
                    msg = 'field label not supported: %s' % field
                else:
                    msg = '"%s" is not a known field selector: only "metadata.name", "metadata.namespace"' % field
                raise ApiError(400, msg, "BadRequest")
            self.reqs.append((field, m.group(2) != "!=", m.group(3)))

    def matches(self, obj):
        for field, eq, val in self.reqs:
            if field == "source":
                have = get_path(obj, "source.component") or obj.get("reportingComponent") or ""
            else:
                have = get_path(obj, field)
            have = "" if have is None else str(have)
            if (have == val) != eq:
                return False
        return True

    def name(self):
        """The name this selector pins, for single-object watches."""
        for field, eq, val in self.reqs:
            if field == "metadata.name" and eq:
                return val
        return None
