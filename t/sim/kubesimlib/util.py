"""Small helpers shared by the server: timestamps, ages as kubectl prints them, names, copies, JSONPath."""

import datetime
import json
import random
import re

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's "safe" alphabet: no vowels, no confusables


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def rfc3339(t=None):
    return (t or now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(t=None):
    return (t or now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s):
    if not s or not isinstance(s, str):
        return None
    s = s.strip()
    try:
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        return datetime.datetime.fromisoformat(s)
    except ValueError:
        return None


def human_duration(seconds):
    """apimachinery's util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        r = s % 60
        return "%dm" % minutes if r == 0 else "%dm%ds" % (minutes, r)
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return "%dh" % hours if m == 0 else "%dh%dm" % (hours, m)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        h = hours % 24
        return "%dd" % (hours // 24) if h == 0 else "%dd%dh" % (hours // 24, h)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return "%dy" % (hours // 24 // 365) if dy == 0 else "%dy%dd" % (hours // 24 // 365, dy)
    return "%dy" % (hours // 24 // 365)


def age(ts):
    """Humanized age of an RFC3339 timestamp, '<unknown>' when absent (kubectl's translateTimestampSince)."""
    t = parse_time(ts)
    if t is None:
        return "<unknown>"
    return human_duration((now() - t).total_seconds())


def random_suffix(n=5):
    return "".join(random.choice(_NAME_CHARS) for _ in range(n))


def safe_encode(text):
    """Map a string of digits onto the safe alphabet, as pod-template-hash values look."""
    return "".join(_NAME_CHARS[ord(c) % len(_NAME_CHARS)] for c in text)


def fnv32a(data):
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(obj):
    return safe_encode(str(fnv32a(json.dumps(obj, sort_keys=True).encode())))


def get_path(obj, dotted, default=None):
    cur = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


_JP_TOKEN = re.compile(r"\.([A-Za-z0-9_\-$@]+)|\[(\d+|\*|'[^']*'|\"[^\"]*\"|\?\(@\.([A-Za-z0-9_.]+)\s*==\s*['\"]([^'\"]*)['\"]\))\]")


def jsonpath(obj, path):
    """A small JSONPath subset ('.a.b', '.a[0]', '.a[*].b', '.a[?(@.type=="Ready")].status') as kubectl
    printer columns use; returns the list of matches."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    cur = [obj]
    pos = 0
    while pos < len(path):
        m = _JP_TOKEN.match(path, pos)
        if not m:
            return []
        pos = m.end()
        nxt = []
        for c in cur:
            if m.group(1) is not None:
                if isinstance(c, dict) and m.group(1) in c:
                    nxt.append(c[m.group(1)])
            elif m.group(3) is not None:
                if isinstance(c, list):
                    for item in c:
                        if isinstance(item, dict) and str(get_path(item, m.group(3))) == m.group(4):
                            nxt.append(item)
            else:
                sel = m.group(2)
                if sel == "*":
                    if isinstance(c, list):
                        nxt.extend(c)
                    elif isinstance(c, dict):
                        nxt.extend(c.values())
                elif sel[0] in "'\"":
                    if isinstance(c, dict) and sel[1:-1] in c:
                        nxt.append(c[sel[1:-1]])
                elif isinstance(c, list) and int(sel) < len(c):
                    nxt.append(c[int(sel)])
        cur = nxt
    return cur


DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
