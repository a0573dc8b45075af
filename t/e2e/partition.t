#!/usr/bin/python3
"""A RETURN TWOSAFE pair on a cluster of three nodes through the node failures of a real
cluster: the standby's node partitioned, the active's node partitioned, the active's node
down, the active's node partitioned with its agent stopped too (SIGSTOP: only the
agent's watchdog process can fence the database), an operator restart on the healthy
pair, and the operator's own node partitioned;
the operator is restarted while each failure lasts. A writer on the cluster's side commits
on whichever database the status names active; during each partition of the active's node
a client on that node keeps writing to the old active. The simulator's own list of its
databases (`ttsimctl databases`, which no network fault hides) is read all along. After
each: Normal again once the node is healed, the old active back as the standby with nobody's
help, every acknowledged commit on the active; at the end, never two updatable databases,
in the simulator's list and in its record."""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

NAME = "twosafe"
CREDS = ("twosafe", "scott", "tiger")
LEASE_RAN_OUT = "its 30 s lease ran out unrenewed: its database stopped taking writes by itself"

tap = e2e.Tap()
cluster = e2e.Cluster(tap, start_args=e2e.THREE_NODES)
checker = writer = None


def status():
    return (cluster.get_json("ttc", NAME) or {}).get("status") or {}


def active():
    return cluster.state(NAME)[1]


def other(pod):
    return NAME + "-1" if pod == NAME + "-0" else NAME + "-0"


def node_of(pod):
    return e2e.node_of(cluster, pod)


def node_ip(node):
    return e2e.node_ip(cluster, node)


def pod_uid(pod):
    return ((cluster.get_json("pod", pod) or {}).get("metadata") or {}).get("uid")


def fault(*args):
    out = cluster.fault(*args)
    tap.ok(out.returncode == 0, "kubesim fault %s" % " ".join(args), out.stderr)


def updatable_now():
    return e2e.updatable_now(cluster, NAME)


class NodeWriter(threading.Thread):
    """A client on a node: connects from that node's address to one database (the active
    as it was when the node was cut off) and commits a row per transaction until stopped,
    keeping the keys whose COMMIT returned."""

    def __init__(self, ip, source, first_key):
        super().__init__(daemon=True)
        self.ip, self.source, self.key = ip, source, first_key
        self.stop_flag = threading.Event()
        self.acked, self.errors, self.last_error = [], 0, None

    def run(self):
        conn = None
        while not self.stop_flag.is_set():
            try:
                if conn is None:
                    conn = e2e.Conn(self.ip, *CREDS, timeout=15, source=self.source)
                    conn.autocommit(False)
                conn.sql("insert into scott.emp values (%d, 'node side')" % self.key)
                conn.sql("commit")
                self.acked.append(self.key)
            except Exception as e:
                self.errors, self.last_error = self.errors + 1, str(e)
                if conn is not None:
                    conn.close()
                conn = None
                self.stop_flag.wait(0.3)
            self.key += 1
            self.stop_flag.wait(0.05)
        if conn is not None:
            conn.close()

    def stop(self):
        self.stop_flag.set()
        self.join(60)


def restart_operator():
    """Kills the operator pod at once; a new one takes over."""
    op = cluster.operator_ready()
    cluster.kubectl("delete", "pod", op, "--grace-period=0", "--force")
    return op


def new_operator(old, timeout=120):
    return e2e.wait_until(lambda: cluster.operator_ready() not in (None, old), timeout)


def healed(what, mark, active_pod=None, timeout=300):
    back = cluster.wait_event(NAME, mark, ", now Normal", timeout) and \
        cluster.wait_state(NAME, "Normal", 60, active=active_pod)
    return tap.ok(back, "%s: Normal again%s" % (
        what, " with %s active" % active_pod if active_pod else ""),
        "state %s; events since the fault:\n%s\n%s" % (
            cluster.state(NAME), "\n".join(cluster.events_since(NAME, mark)),
            cluster.operator_log()))


def pod_status(pod):
    for p in status().get("podStatus", []):
        if p.get("name") == pod:
            return p
    return {}


def reached_after(pod, when):
    """The operator has read pod's agent after the wall-clock time when (status)."""
    return pod_status(pod).get("podStatus", {}).get("lastTimeReachable", 0) > when + 1


def new_operator_elsewhere(node):
    op = cluster.operator_ready()
    return op is not None and node_of(op) != node


def rejoined(what, pod, old_uid, timeout=240):
    """pod is back (a new incarnation) and the operator reads it as the standby."""
    def standby():
        return pod_uid(pod) not in (None, old_uid) and \
            pod_status(pod).get("replicationStatus", {}).get("repState") == "STANDBY"
    tap.ok(e2e.wait_until(standby, timeout), "%s: %s is back as the standby" % (what, pod),
           status().get("podStatus"))


def all_acked_present(what, extra=()):
    writer.settle()
    acked = set(writer.acked) | set(extra)
    keys = e2e.wait_until(lambda: e2e.keys_on(cluster, NAME, "scott.emp", *CREDS), 60)
    missing = sorted(acked - (keys or set()))
    tap.ok(acked and not missing,
           "%s: all %d acknowledged commits are on the active" % (what, len(acked)),
           "missing: %s" % missing[:20])


def wait_writes(n=20, timeout=120):
    start = len(writer.acked)
    return e2e.wait_until(lambda: len(writer.acked) >= start + n, timeout)


def active_node_lost(what, kind, keys_from, freeze_agent=False):
    """The active's node partitioned (kind node-partition) or down (node-down), the operator
    restarted meanwhile, then the node healed. The client on the node commits keys from
    keys_from on. freeze_agent: the old active's agent alone is stopped right after the
    partition, its daemon running on (only the agent's watchdog can fence it then)."""
    a = active()
    node = node_of(a)
    uid = pod_uid(a)
    ip = cluster.pod_ips(NAME)[a]
    mark = cluster.event_mark(NAME)
    side = None
    if kind == "node-partition":
        side = NodeWriter(ip, node_ip(node), keys_from)
        side.start()
        e2e.wait_until(lambda: len(side.acked) >= 5, 30)
    cut = time.monotonic()
    fault(kind, node)
    if freeze_agent:
        out = cluster.fault("freeze", "default/" + a, "tt", "--process", "ttagent")
        tap.ok(out.returncode == 0, "%s: the old active's agent is stopped (SIGSTOP), its "
               "daemon running on" % what, out.stdout + out.stderr)
    tap.ok(cluster.wait_state(NAME, "ActiveDown", 120),
           "%s: the operator sees the active lost (ActiveDown)" % what, cluster.state(NAME))
    op = restart_operator()
    tap.ok(new_operator(op), "%s: the operator was restarted, and a new one runs" % what)
    promoted = e2e.wait_until(lambda: updatable_now() == [other(a)], 240, 0.05)
    took = time.monotonic() - cut
    tap.ok(promoted, "%s: %s takes writes (%.1f s after the fault)" % (what, other(a), took),
           (cluster.state(NAME), cluster.events_since(NAME, mark)))
    events = cluster.events_since(NAME, mark)
    tap.ok("Pod %s: %s" % (a, LEASE_RAN_OUT) in events,
           "%s: the promotion waited for the old active's lease to run out" % what, events)
    if side is not None:
        before = len(side.acked)
        tap.ok(e2e.wait_until(lambda: side.errors > 0, 60),
               "%s: the client on the cut-off node is refused once the lease runs out (%s)" % (
                   what, side.last_error))
        tap.diag("%s: the node's client had %d commits acknowledged before the partition "
                 "(%d in all), %d failed" % (what, before, len(side.acked), side.errors))
    tap.ok(cluster.get_json("pod", a) is not None and
           (cluster.get_json("pod", a) or {}).get("metadata", {}).get("deletionTimestamp"),
           "%s: the old active's pod is Terminating, its node being away" % what)
    tap.ok(wait_writes(), "%s: writes go on on the new active" % what)
    fault("node-heal", node)
    if freeze_agent:
        cluster.fault("thaw", "default/" + a, "tt", "--process", "ttagent")
    healed(what, mark, other(a))
    rejoined(what, a, uid)
    if side is not None:
        side.stop()
    all_acked_present(what, side.acked if side is not None else ())
    return took


try:
    tap.ok(cluster.install_operator(), "the operator runs from k8s/")
    op_node = node_of(cluster.operator_ready())
    out = cluster.kubectl("create", "-f", "-", input=e2e.pair_apart(NAME, op_node))
    tap.ok(out.returncode == 0, "a RETURN TWOSAFE pair is created", out.stderr)
    tap.ok(cluster.wait_state(NAME, "Normal", 300), "the pair is Normal", cluster.state(NAME))
    nodes = {p: node_of(p) for p in (NAME + "-0", NAME + "-1")}
    tap.ok(len({op_node} | set(nodes.values())) == 3,
           "the operator and the two databases each run on a node of their own", (op_node, nodes))
    checker = e2e.TwoActiveChecker(cluster, NAME, *CREDS, network=False)
    checker.start()
    writer = e2e.Writer(cluster, NAME, "scott.emp", *CREDS)
    writer.start()
    tap.ok(wait_writes(), "commits are acknowledged on the active")

    # 1. The standby's node partitioned: the active stays the active.
    a = active()
    node, uid = node_of(other(a)), pod_uid(other(a))
    mark = cluster.event_mark(NAME)
    fault("node-partition", node)
    tap.ok(cluster.wait_event(NAME, mark, "was Normal, now ", 120),
           "standby's node partitioned: the state leaves Normal", cluster.state(NAME))
    op = restart_operator()
    tap.ok(new_operator(op), "standby's node partitioned: the operator restarted")
    now = time.time()
    tap.ok(e2e.wait_until(lambda: reached_after(a, now), 60) and updatable_now() == [a],
           "standby's node partitioned: %s is still the only database taking writes" % a,
           updatable_now())
    fault("node-heal", node)
    healed("standby's node partitioned", mark, a)
    events = cluster.events_since(NAME, mark)
    tap.ok(not any("now ActiveDown" in m for m in events),
           "standby's node partitioned: no failover", events)
    rejoined("standby's node partitioned", other(a), uid)
    tap.ok(wait_writes(), "standby's node partitioned: writes go on")
    all_acked_present("standby's node partitioned")

    # 2. The active's node partitioned, with a client on that node writing on.
    took = active_node_lost("active's node partitioned", "node-partition", 10 ** 7)

    # 2b. The same with the old active's agent stopped as well: its timers cannot fence the
    # database, its watchdog process does.
    active_node_lost("active's node partitioned, its agent stopped", "node-partition",
                     3 * 10 ** 7, freeze_agent=True)

    # 3. The active's node down.
    active_node_lost("active's node down", "node-down", 2 * 10 ** 7)

    # 4. An operator restart on the healthy pair does not stop writes.
    a = active()
    mark = cluster.event_mark(NAME)
    op = restart_operator()
    killed = len(writer.acked)
    tap.ok(new_operator(op), "healthy pair: the operator restarted")
    during = len(writer.acked) - killed
    tap.ok(during > 0, "healthy pair: commits acknowledged while the operator was away (%d)" %
           during)
    now = time.time()
    tap.ok(e2e.wait_until(lambda: reached_after(a, now), 60),
           "healthy pair: the new operator reads the active")
    tap.ok(wait_writes() and updatable_now() == [a] and cluster.state(NAME) == ("Normal", a) and
           not [m for m in cluster.events_since(NAME, mark) if "TimesTenClassic was" in m],
           "healthy pair: the active kept taking writes, the state never changed",
           cluster.events_since(NAME, mark))

    # 5. The operator's own node partitioned: the active fences itself when its lease is not
    # renewed; the operator, evicted and replaced on another node, fails over once.
    a = active()
    node = node_of(cluster.operator_ready())
    uid = pod_uid(a)
    mark = cluster.event_mark(NAME)
    fault("node-partition", node)
    tap.ok(e2e.wait_until(lambda: new_operator_elsewhere(node), 240),
           "operator's node partitioned: a new operator runs on another node")
    healed("operator's node partitioned", mark, None, 300)
    fault("node-heal", node)
    tap.ok(cluster.wait_state(NAME, "Normal", 120), "operator's node healed: Normal",
           cluster.state(NAME))
    events = cluster.events_since(NAME, mark)
    changes = [m for m in events if "TimesTenClassic was" in m]
    tap.diag("operator's node partitioned: %s" % "; ".join(changes))
    tap.ok(len([m for m in changes if "now ActiveDown" in m]) <= 1,
           "operator's node partitioned: at most one failover", events)
    tap.ok(wait_writes(), "operator's node partitioned: writes go on")
    all_acked_present("operator's node partitioned")

    writer.stop()
    checker.verdict(tap)
    tap.diag("%d commits acknowledged, %d failed; the active's node partitioned: %s took "
             "writes %.1f s after the partition" % (len(writer.acked), writer.errors,
                                                     "the standby", took))
    writer = checker = None
finally:
    for w in (writer, checker):
        if w is not None:
            w.stop()
    if tap.failed:
        tap.diag(cluster.operator_log())
    cluster.stop()
sys.exit(tap.done())
