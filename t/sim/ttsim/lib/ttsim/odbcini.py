"""Data source names: sys.odbc.ini files and ODBC connection strings, merged
into the attribute set a connection uses."""

import os

from . import env
from .errors import TTError

# Attributes that are read at creation/first connection and so belong to the
# data store, in the order ttIsql echoes them after DSN, UID and DataStore.
LEADING_ATTRS = ["DatabaseCharacterSet", "ConnectionCharacterSet"]
SECRET_ATTRS = {"pwd", "password", "pwdcrypt", "oraclepwd", "cachepwd"}


def parse_ini(text):
    """Return {section: [(key, value), ...]} preserving order and case."""
    sections = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, [])
            continue
        if current is None or "=" not in line:
            continue
        key, value = line.split("=", 1)
        sections[current].append((key.strip(), value.strip()))
    return sections


def parse_conn_str(text):
    """Parse "DSN=x;UID=y;..." into ordered pairs; the first occurrence of a
    key wins, as TimesTen documents."""
    pairs = []
    seen = set()
    for part in text.split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise TTError(1001, text=("Invalid connection string attribute: %s"
                                      % part.strip()))
        key, value = part.split("=", 1)
        key = key.strip()
        if key.lower() in seen:
            continue
        seen.add(key.lower())
        pairs.append((key, value.strip()))
    return pairs


class ConnAttrs:
    """Ordered, case-insensitive attribute set of one connection."""

    def __init__(self, pairs=()):
        self._items = []
        for key, value in pairs:
            self.set(key, value)

    def get(self, key, default=None):
        low = key.lower()
        for k, v in self._items:
            if k.lower() == low:
                return v
        return default

    def set(self, key, value):
        low = key.lower()
        for i, (k, _) in enumerate(self._items):
            if k.lower() == low:
                self._items[i] = (k, value)
                return
        self._items.append((key, value))

    def setdefault(self, key, value):
        if self.get(key) is None:
            self.set(key, value)

    def items(self):
        return list(self._items)

    def as_dict(self):
        return dict(self._items)


def ini_files(instance):
    files = []
    user_ini = os.environ.get("ODBCINI")
    if user_ini:
        files.append(user_ini if not env.pod_root() else instance.host(user_ini))
    files.append(instance.host(instance.odbc_ini))
    return files


def lookup_dsn(instance, dsn):
    """Return (name, attribute pairs) of a DSN, or None when no file defines it."""
    return lookup_dsn_in(ini_files(instance), dsn)


def lookup_dsn_in(paths, dsn):
    for path in paths:
        try:
            with open(path) as f:
                sections = parse_ini(f.read())
        except OSError:
            continue
        for name, pairs in sections.items():
            if name.lower() == dsn.lower() and name != "ODBC Data Sources":
                return name, pairs
    return None


def resolve_connection(instance, target):
    """Turn a DSN name or a connection string into ConnAttrs.  Attributes in
    the connection string override those of the DSN."""
    if "=" in target:
        given = parse_conn_str(target)
    else:
        given = [("DSN", target.strip())]
    attrs = ConnAttrs(given)
    dsn = attrs.get("DSN")
    if dsn:
        found = lookup_dsn(instance, dsn)
        if found is None:
            if attrs.get("DataStore") is None:
                raise TTError(
                    6220, text=("Data source name not found and no default "
                                "driver specified (DSN=%s)" % dsn))
        else:
            name, pairs = found
            attrs.set("DSN", name)
            for key, value in pairs:
                attrs.setdefault(key, value)
    if attrs.get("DataStore") is None and attrs.get("TTC_SERVER") is None:
        raise TTError(6220, text="Data source name not found and no default "
                      "driver specified (no DSN or DataStore given)")
    return attrs


def echo_attrs(attrs, uid):
    """The attribute list ttIsql prints after 'Connection successful:'."""
    out = []
    out.append(("DSN", attrs.get("DSN", "")))
    out.append(("UID", uid))
    if attrs.get("DataStore") is not None:
        out.append(("DataStore", attrs.get("DataStore")))
    out.append(("DatabaseCharacterSet", attrs.get("DatabaseCharacterSet", "US7ASCII")))
    out.append(("ConnectionCharacterSet", attrs.get("ConnectionCharacterSet", "US7ASCII")))
    printed = {k.lower() for k, _ in out}
    for key, value in attrs.items():
        if key.lower() in printed or key.lower() in SECRET_ATTRS:
            continue
        out.append((key, value))
    return "".join("%s=%s;" % kv for kv in out)
