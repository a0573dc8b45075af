"""Node partitions by policy routing on the machine's loopback (iproute2, CAP_NET_ADMIN).

Every pod's connections to 127/8 leave from the pod's own address (the srcbind shim), the kubelet's probes
and a test's "client on the node" from the node's address. Cutting node K of the cluster whose pods live in
127.S.0.0/16 adds:

- a routing table T = 1000000 + 1000*S + K with `local` routes for the node's address and its pods'
  addresses and `unreachable 127.0.0.0/8` (and `unreachable default`) for everything else;
- at preference P = 1000 + 10*S: `from <address> lookup T` for each of those addresses, so that what the
  node sends reaches the node and nothing else;
- at preference P+1: `to <address> unreachable` for each, so that nothing from elsewhere reaches the node.

A new connection across the cut fails with EHOSTUNREACH at once (no packet would come back on a real
network either, where it would time out); an established one stops moving: its segments cannot be routed,
TCP retransmits until the cut is healed or its timeouts give up.

The kernel consults `0: from all lookup local` before every other rule, and that table makes all of 127/8
local; so the first cut moves that rule to preference 32000 (same routing while no other rule exists), and
the last cut of any cluster on the machine moves it back. All changes are made under one machine-wide lock
and each cluster only ever removes its own preferences and tables (derived from S, which a lock file holds
for the cluster's lifetime), so clusters side by side do not disturb each other."""

import fcntl
import json
import logging
import os
import subprocess

log = logging.getLogger("kubesim.netpart")

LOCAL_PREF = 32000
LOCK = os.path.join("/tmp", "kubesim-subnets", ".iprules.lock")
PREF_MIN, PREF_MAX = 1000, 1000 + 10 * 255 + 9   # every cluster's preferences fall in here


def pref(subnet):
    return 1000 + 10 * subnet


def table(subnet, index):
    return 1000000 + 1000 * subnet + index


def _ip(*args):
    try:
        r = subprocess.run(["ip"] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 127, str(e), ""
    return r.returncode, r.stderr.decode(errors="replace").strip(), r.stdout.decode(errors="replace")


class _Locked:
    def __enter__(self):
        os.makedirs(os.path.dirname(LOCK), exist_ok=True)
        self.fd = os.open(LOCK, os.O_CREAT | os.O_RDWR, 0o666)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _rules():
    rc, _, out = _ip("rule", "show")
    rules = []
    for line in out.splitlines():
        p, _, rest = line.partition(":")
        if p.strip().isdigit():
            rules.append((int(p), rest.split()))
    return rules


def _move_local():
    rules = _rules()
    if not any(p == LOCAL_PREF and r[-2:] == ["lookup", "local"] for p, r in rules):
        rc, err, _ = _ip("rule", "add", "pref", LOCAL_PREF, "lookup", "local")
        if rc != 0:
            return err
    if any(p == 0 and r[-2:] == ["lookup", "local"] for p, r in rules):
        rc, err, _ = _ip("rule", "del", "pref", 0, "lookup", "local")
        if rc != 0:
            return err
    return None


def _restore_local():
    """Put `0: lookup local` back once no cluster on the machine has rules of its own."""
    rules = _rules()
    if any(PREF_MIN <= p <= PREF_MAX for p, _ in rules):
        return
    if not any(p == 0 and r[-2:] == ["lookup", "local"] for p, r in rules):
        _ip("rule", "add", "pref", 0, "lookup", "local")
    if any(p == LOCAL_PREF and r[-2:] == ["lookup", "local"] for p, r in rules):
        _ip("rule", "del", "pref", LOCAL_PREF, "lookup", "local")


def _mark(state_dir, node):
    return os.path.join(state_dir, "nodecut", node)


def cut(state_dir, subnet, node, index, addresses):
    """Cut the node (its addresses: the node's own first, then its pods') off the rest; returns None or
    why it could not be done."""
    t, p = table(subnet, index), pref(subnet)
    os.makedirs(os.path.dirname(_mark(state_dir, node)), exist_ok=True)
    with open(_mark(state_dir, node), "w") as f:   # so that `kubesim stop` undoes it even after a crash
        json.dump({"table": t, "addresses": addresses}, f)
    with _Locked():
        err = _move_local()
        if err:
            _restore_local()
            return "cannot move the local routing rule: %s" % err
        _ip("route", "flush", "table", t)
        for a in addresses:
            rc, err, _ = _ip("route", "add", "local", a, "dev", "lo", "table", t)
            if rc != 0:
                break
        else:
            rc, err, _ = _ip("route", "add", "unreachable", "127.0.0.0/8", "table", t)
            if rc == 0:
                _ip("route", "add", "unreachable", "default", "table", t)
        if rc == 0:
            for a in addresses:
                rc, err, _ = _ip("rule", "add", "pref", p, "from", a + "/32", "lookup", t)
                if rc != 0:
                    break
                rc, err, _ = _ip("rule", "add", "pref", p + 1, "to", a + "/32", "unreachable")
                if rc != 0:
                    break
        if rc != 0:
            _uncut_locked(t, p, addresses)
            os.unlink(_mark(state_dir, node))
            return err
    return None


def _uncut_locked(t, p, addresses):
    for a in addresses:
        _ip("rule", "del", "pref", p, "from", a + "/32", "lookup", t)
        _ip("rule", "del", "pref", p + 1, "to", a + "/32", "unreachable")
    _ip("route", "flush", "table", t)
    _restore_local()


def heal(state_dir, subnet, node):
    try:
        with open(_mark(state_dir, node)) as f:
            m = json.load(f)
    except (OSError, ValueError):
        return
    with _Locked():
        _uncut_locked(m["table"], pref(subnet), m.get("addresses") or [])
    try:
        os.unlink(_mark(state_dir, node))
    except FileNotFoundError:
        pass


def cleanup(state_dir, subnet):
    """Remove every rule and table of this cluster (kubesim stop, also after a crash)."""
    d = os.path.join(state_dir, "nodecut")
    marks = []
    if os.path.isdir(d):
        for name in os.listdir(d):
            try:
                with open(os.path.join(d, name)) as f:
                    marks.append(json.load(f))
            except (OSError, ValueError, KeyError):
                pass
            try:
                os.unlink(os.path.join(d, name))
            except OSError:
                pass
    with _Locked():
        if subnet is not None:
            p = pref(subnet)
            for pr in (p, p + 1):
                for _ in range(10000):
                    if _ip("rule", "del", "pref", pr)[0] != 0:
                        break
        for m in marks:
            for a in m.get("addresses") or []:
                _ip("rule", "del", "from", a + "/32", "lookup", m.get("table"))
                _ip("rule", "del", "to", a + "/32", "unreachable")
            _ip("route", "flush", "table", m.get("table"))
        if marks or subnet is not None:
            _restore_local()
