#!/usr/bin/python3
"""A RETURN TWOSAFE pair through the failures the operator must heal on its own, with a
writer committing rows on whichever database is active and a checker sampling both all
along: the operator killed while it builds the pair, a commit held by a frozen standby
(TWOSAFE as the database does it), the active pod deleted, the standby pod deleted, the
active's agent frozen past unreachableTimeout, both pods deleted, management stopped and
resumed, the operator killed while a failover waits for the old active to be fenced, and
the operator away past the active's lease while the standby's pod is lost. After each: a
move to Normal newer than the fault, every acknowledged commit on the active; at the end,
never two updatable databases, by the sampler and by the simulator's own record. The cluster's DNS domain is not
cluster.local, and the operator is told so (--cluster-domain)."""

import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

NAME = "twosafe"
SPEC = e2e.table_configmap("sample") + """---
apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: twosafe
spec:
  ttspec:
    storageClassName: standard
    storageSize: 1Gi
    image: registry.example.com/youraccount/timesten:22.1.1.9.0
    dbConfigMap: [sample]
    repReturnServiceAttribute: RETURN TWOSAFE
    pollingInterval: 2
    unreachableTimeout: 6
"""
CREDS = ("twosafe", "scott", "tiger")
DOMAIN = "tt.example"

tap = e2e.Tap()
cluster = e2e.Cluster(tap, cluster_domain=DOMAIN)
checker = writer = None


def active():
    return cluster.state(NAME)[1]


def status():
    """The object's .status ({} when it cannot be read)."""
    return (cluster.get_json("ttc", NAME) or {}).get("status") or {}


def other(pod):
    return NAME + "-1" if pod == NAME + "-0" else NAME + "-0"


def healed(what, mark, active_pod=None, timeout=240):
    """Normal again after the fault marked by mark: a move to Normal posted since then (the
    Normal of before the fault does not count), and the status Normal."""
    back = cluster.wait_event(NAME, mark, ", now Normal", timeout) and \
        cluster.wait_state(NAME, "Normal", 30, active=active_pod)
    return tap.ok(back, "%s: Normal again%s" % (
        what, " with %s active" % active_pod if active_pod else ""),
        "state %s; events since the fault:\n%s\n%s" % (
            cluster.state(NAME), "\n".join(cluster.events_since(NAME, mark)), cluster.operator_log()))


def all_acked_present(what):
    writer.settle()
    acked = list(writer.acked)
    keys = e2e.wait_until(lambda: e2e.keys_on(cluster, NAME, "scott.emp", *CREDS), 30)
    missing = sorted(set(acked) - (keys or set()))
    tap.ok(acked and not missing,
           "%s: all %d acknowledged commits are on the active" % (what, len(acked)),
           "missing: %s" % missing[:20])


def wait_writes(n=20):
    start = len(writer.acked)
    return e2e.wait_until(lambda: len(writer.acked) >= start + n, 60)


def manual_saw_replacement(pod, old_uid, mark):
    """The operator, hands off, has seen pod replaced: its Agent Down Event is posted and
    the replacement runs."""
    new = cluster.get_json("pod", pod) or {}
    return (new.get("metadata", {}).get("uid") not in (None, old_uid) and
            new.get("status", {}).get("phase") == "Running" and
            "Pod %s Agent Down" % pod in cluster.events_since(NAME, mark))


def twosafe_blocks_on_frozen_standby():
    """RETURN TWOSAFE as the database does it: a commit on the active waits while the
    standby cannot answer, and the row is on the standby once the commit returns."""
    a = active()
    ips = cluster.pod_ips(NAME)
    conn = e2e.Conn(ips[a], *CREDS, timeout=60)
    conn.autocommit(False)
    conn.sql("insert into scott.emp values (0, 'twosafe probe')")
    result = {}

    def commit():
        try:
            conn.sql("commit")
            result["ok"] = time.monotonic()
        except Exception as e:
            result["error"] = str(e)

    out = cluster.fault("freeze", "default/" + other(a), "tt")
    tap.ok(out.returncode == 0, "the standby's tt container is frozen for a moment", out.stderr)
    t = threading.Thread(target=commit, daemon=True)
    t.start()
    t.join(2)
    waited = t.is_alive()
    thawed, thawed_at = time.monotonic(), time.time()
    cluster.fault("thaw", "default/" + other(a), "tt")
    t.join(60)
    conn.close()
    tap.ok(waited and result.get("ok", 0) >= thawed,
           "RETURN TWOSAFE: a commit on the active waits while the standby is frozen, and "
           "returns once it is thawed", result)
    standby = e2e.Conn(ips[other(a)], *CREDS)
    try:
        rows = standby.sql("select name from scott.emp where id = 0")["rows"]
    finally:
        standby.close()
    tap.ok(rows and rows[0][0].strip() == "twosafe probe",
           "and the committed row is already on the standby", rows)
    return thawed_at


def reached_after(pod, when):
    """The operator has read pod's agent after the wall-clock time when (status)."""
    for p in (cluster.ttc(NAME) or {}).get("status", {}).get("podStatus", []):
        if p.get("name") == pod:
            return p.get("podStatus", {}).get("lastTimeReachable", 0) > when + 1
    return False


try:
    tap.ok(cluster.install_operator(), "the operator runs from k8s/")
    out = cluster.kubectl("create", "-f", "-", input=SPEC)
    tap.ok(out.returncode == 0, "a RETURN TWOSAFE pair is created", out.stderr)
    # 0. The operator killed while it builds the pair: its successor carries on.
    tap.ok(e2e.wait_until(lambda: NAME + "-0" in cluster.pod_ips(NAME), 60, 0.05),
           "initialisation has started (the pods exist)")
    op = cluster.operator_ready()
    killed_in = cluster.state(NAME)[0]
    mark = cluster.event_mark(NAME)
    cluster.kubectl("delete", "pod", op, "--grace-period=0", "--force")
    tap.ok(killed_in == "Initializing", "the operator was killed while Initializing")
    tap.ok(cluster.wait_event(NAME, mark, "was Initializing, now Normal", 300) and
           cluster.wait_state(NAME, "Normal", 30, active=NAME + "-0"),
           "operator killed during initialisation: the pair is built, sample-0 active",
           cluster.operator_log())
    tap.ok(cluster.operator_ready() not in (None, op), "a new operator pod took over")
    scheme = status().get("repCreateStatement", "")
    tap.ok('on "%s-0.%s.default.svc.%s"' % (NAME, NAME, DOMAIN) in scheme,
           "the replication scheme names the pods in the cluster domain %s" % DOMAIN, scheme)

    checker = e2e.TwoActiveChecker(cluster, NAME, *CREDS)
    checker.start()
    mark = cluster.event_mark(NAME)
    thawed_at = twosafe_blocks_on_frozen_standby()
    back = e2e.wait_until(lambda: reached_after(other(active()), thawed_at), 60)
    changes = [m for m in cluster.events_since(NAME, mark) if "TimesTenClassic was" in m]
    tap.ok(back and not changes and cluster.state(NAME)[0] == "Normal",
           "a standby frozen for two seconds does not disturb the pair: the operator reads it "
           "again, and the state never changed", (back, changes))
    writer = e2e.Writer(cluster, NAME, "scott.emp", *CREDS)
    writer.start()
    tap.ok(wait_writes(), "commits are acknowledged on the active")

    # 1. The active pod is deleted.
    a = active()
    mark = cluster.event_mark(NAME)
    cluster.kubectl("delete", "pod", a, "--wait=false")
    healed("active pod deleted", mark, other(a))
    events = cluster.events_since(NAME, mark)
    tap.ok("TimesTenClassic was Normal, now ActiveDown" in events and
           "Pod %s RepState ACTIVE" % other(a) in events,
           "active pod deleted: ActiveDown, then %s promoted" % other(a), events)
    tap.ok(wait_writes(), "active pod deleted: writes go on on the new active")
    all_acked_present("active pod deleted")

    # 2. The standby pod is deleted.
    a = active()
    mark = cluster.event_mark(NAME)
    cluster.kubectl("delete", "pod", other(a), "--wait=false")
    tap.ok(cluster.wait_event(NAME, mark, "was Normal, now ", 60),
           "standby pod deleted: the state leaves Normal", cluster.state(NAME))
    healed("standby pod deleted", mark, a)
    events = cluster.events_since(NAME, mark)
    tap.ok(any(m.endswith("now StandbyDown") for m in events) and
           not any("now ActiveDown" in m for m in events),
           "standby pod deleted: StandbyDown, the active kept", events)
    tap.ok(wait_writes(), "standby pod deleted: writes go on")
    all_acked_present("standby pod deleted")

    # 3. The active's agent (and its TimesTen) frozen past unreachableTimeout.
    a = active()
    mark = cluster.event_mark(NAME)
    out = cluster.fault("freeze", "default/" + a, "tt")
    tap.ok(out.returncode == 0, "the active's tt container is frozen", out.stderr)
    healed("active frozen", mark, other(a), 240)
    tap.ok("Pod %s cannot be told to stop taking writes: deleting it" % a in
           cluster.events_since(NAME, mark), "active frozen: it is fenced by deleting its pod")
    tap.ok(wait_writes(), "active frozen: writes go on on the new active")
    all_acked_present("active frozen")

    # 4. Both pods deleted at once.
    last = active()
    mark = cluster.event_mark(NAME)
    cluster.kubectl("delete", "pod", NAME + "-0", NAME + "-1", "--wait=false")
    healed("both pods deleted", mark, None, 300)
    events = cluster.events_since(NAME, mark)
    tap.ok(any(m.endswith("now BothDown") for m in events), "both pods deleted: BothDown", events)
    tap.ok(any(m.endswith("now WaitingForActive") for m in events) and
           not any("cannot be known" in m for m in events),
           "then WaitingForActive, the database ahead known", events)
    # The standby seen going first (ActiveTakeover): it was out before, the active took
    # the commits alone. Else both were lost within one poll, and under RETURN TWOSAFE a
    # commit lands on the standby first: the standby is ahead.
    standby_first = "TimesTenClassic was Normal, now ActiveTakeover" in events
    ahead = last if standby_first else other(last)
    tap.ok(active() == ahead, "the database ahead becomes the active: %s (%s)" % (
        ahead, "the standby lost first" if standby_first else "both lost within one poll"),
        (active(), events))
    tap.ok(wait_writes(), "both pods deleted: writes go on")
    all_acked_present("both pods deleted")

    # 5. Management stopped, then resumed with reexamine.
    mark = cluster.event_mark(NAME)
    cluster.kubectl("patch", "ttc", NAME, "--type=merge", "-p", '{"spec":{"ttspec":{"stopManaging":"now"}}}')
    tap.ok(cluster.wait_state(NAME, "ManualInterventionRequired", 30), "stopManaging: ManualInterventionRequired")
    a = active()
    standby = cluster.get_json("pod", other(a))["metadata"]["uid"]
    mark = cluster.event_mark(NAME)
    cluster.kubectl("delete", "pod", other(a), "--wait=false")
    seen = e2e.wait_until(lambda: manual_saw_replacement(other(a), standby, mark), 120)
    tap.ok(seen, "hands off: the operator saw %s replaced (Agent Down)" % other(a),
           cluster.events_since(NAME, mark))
    tap.ok(cluster.state(NAME)[0] == "ManualInterventionRequired" and
           not [m for m in cluster.events_since(NAME, mark) if "TimesTenClassic was" in m],
           "hands off: a standby lost meanwhile changes nothing", cluster.events_since(NAME, mark))
    mark = cluster.event_mark(NAME)
    cluster.kubectl("patch", "ttc", NAME, "--type=merge", "-p", '{"spec":{"ttspec":{"reexamine":"1"}}}')
    healed("reexamine", mark, a)
    tap.ok("TimesTenClassic was ManualInterventionRequired, now Reexamine" in
           cluster.events_since(NAME, mark), "reexamine: Reexamine first")
    all_acked_present("management resumed")

    # 6. The operator killed in the middle of a failover. A finalizer keeps the old active's
    # Pod object after its deletion (the kubelet stops its containers all the same), so the
    # failover waits in ActiveDown for the proof that the old active is gone. The operator
    # is killed there; its successor must wait as well, then finish once the Pod is gone.
    a = active()
    op = cluster.operator_ready()
    mark = cluster.event_mark(NAME)
    cluster.kubectl("patch", "pod", a, "--type=merge", "-p",
                    '{"metadata":{"finalizers":["e2e.ttclassic.test/hold"]}}', check=True)
    cluster.kubectl("delete", "pod", a, "--wait=false")
    fencing = "Pod %s cannot be told to stop taking writes: deleting it" % a
    held = cluster.wait_state(NAME, "ActiveDown", 30) and cluster.wait_event(NAME, mark, fencing, 30)
    cluster.kubectl("delete", "pod", op, "--grace-period=0", "--force")
    killed = cluster.event_mark(NAME)
    promoted = "Pod %s RepState ACTIVE" % other(a)
    tap.ok(held and cluster.state(NAME)[0] == "ActiveDown" and
           promoted not in cluster.events_since(NAME, mark),
           "the operator was killed in ActiveDown, waiting for %s to be gone" % a,
           (cluster.state(NAME), cluster.events_since(NAME, mark)))

    def successor():
        pod = cluster.operator_ready()
        return pod not in (None, op) and re.search(
            r"msg=adopting object=%s state=ActiveDown\b" % NAME, cluster.operator_log())
    tap.ok(e2e.wait_until(successor, 180), "a new operator took the object over in ActiveDown",
           cluster.operator_log())
    tap.ok((status().get("fencing") or {}).get("pod") == a,
           "status.fencing names %s while it is being fenced" % a, status())
    tap.ok(cluster.wait_event(NAME, killed, fencing, 60) and
           cluster.state(NAME)[0] == "ActiveDown" and
           promoted not in cluster.events_since(NAME, mark),
           "it waits too: it asks again for %s to be deleted and promotes nobody meanwhile" % a,
           (cluster.state(NAME), cluster.events_since(NAME, killed)))
    cluster.kubectl("patch", "pod", a, "--type=json", "-p",
                    '[{"op":"remove","path":"/metadata/finalizers"}]', check=True)
    healed("operator killed during a failover", mark, other(a), 300)
    tap.ok(re.search(r'msg="state change" object=%s from=ActiveDown to=ActiveTakeover\b' % NAME,
                     cluster.operator_log()) and promoted in cluster.events_since(NAME, killed),
           "once %s was gone, the successor promoted %s" % (a, other(a)), cluster.operator_log())
    tap.ok(wait_writes(), "operator killed during a failover: writes go on")
    tap.ok(e2e.wait_until(lambda: "fencing" not in status(), 30),
           "once the failover is over, status.fencing is gone", status())
    all_acked_present("operator killed during a failover")

    # 7. The operator away past the active's lease while the standby's pod is lost: the
    # active stops taking writes by itself and there is no standby to promote. Back, the
    # operator finds both down, makes the replication scheme anew on the database that was
    # serving (TimesTen sets a deactivated database ACTIVE under no other) and rebuilds
    # the standby from it.
    a = active()
    mark = cluster.event_mark(NAME)
    out = cluster.kubectl("scale", "deployment", "timestenclassic-operator", "--replicas=0")
    tap.ok(out.returncode == 0 and e2e.wait_until(lambda: not cluster.operator_pods(), 60),
           "the operator is scaled to no replica", out.stderr)
    cluster.kubectl("delete", "pod", other(a), "--wait=false")
    tap.ok(e2e.wait_until(lambda: a not in e2e.updatable_now(cluster, NAME), 90, 0.2),
           "nobody renewing its lease, %s stops taking writes by itself" % a)
    out = cluster.kubectl("scale", "deployment", "timestenclassic-operator", "--replicas=1")
    tap.ok(out.returncode == 0, "the operator is scaled back to one replica", out.stderr)
    healed("operator away during a standby's loss", mark, a, 300)
    events = cluster.events_since(NAME, mark)
    anew = "Pod %s: rep state set to ACTIVE under a replication scheme made anew" % a
    tap.ok(any(m.endswith("now BothDown") for m in events) and
           any(m.startswith(anew) for m in events) and
           not any("ManualInterventionRequired" in m for m in events),
           "operator away during a standby's loss: BothDown, %s made the ACTIVE of the scheme "
           "made anew, never ManualInterventionRequired" % a, events)
    tap.ok(wait_writes(), "operator away during a standby's loss: writes go on")
    all_acked_present("operator away during a standby's loss")

    writer.stop()
    checker.verdict(tap)
    tap.diag("%d commits acknowledged, %d failed (during failovers)" % (len(writer.acked), writer.errors))
    writer = checker = None
finally:
    for w in (writer, checker):
        if w is not None:
            w.stop()
    if tap.failed:
        tap.diag(cluster.operator_log())
    cluster.stop()
sys.exit(tap.done())
