#!/usr/bin/python3
"""deleteDbOnNotReadyNode (the guide's "How the TimesTen Kubernetes Operator handles node
failure") on three nodes, the operator on one: a RETURN TWOSAFE pair and a non-replicated
object, both with the field set, the pair's standby and the non-replicated database on the
same node. The operator starts without the cluster-scoped read of Nodes: NodesUnreadable on
both, and when that node goes down (`node-down`) nothing is deleted, however long it stays
down. Once k8s/service_account_cluster.yaml is applied: NodesReadable, then each pod's
claims and the pod are deleted, the pods are made again on another node with new volumes,
the pair's standby is duplicated from the active (the row written before is there) and the
pair is Normal; the non-replicated object gets a fresh database (the row is gone, as the
guide warns) and is AllReplicasReady. Then the active's node goes down: its pod is held
back ("not the healthy active") until the failover has proved the old active fenced (its
lease ran out), then deleted and made again as the standby. Never two updatable databases
of the pair."""

import os
import sys
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PAIR, SOLO = "pair", "solo"
CREDS = (PAIR, "scott", "tiger")
LIMIT = 10  # deleteDbOnNotReadyNode, s

COMMON = """
    storageClassName: standard
    storageSize: 1Gi
    image: registry.example.com/youraccount/timesten:22.1.1.9.0
    pollingInterval: 2
    unreachableTimeout: 6
    deleteDbOnNotReadyNode: %d""" % LIMIT

# The pair keeps off the operator's node while it can, and its two pods on nodes of their
# own: a new standby may go to the operator's node once its own is down.
PAIR_YAML = e2e.table_configmap("pair") + """---
apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: pair
spec:
  ttspec:%(common)s
    dbConfigMap: [pair]
    repReturnServiceAttribute: RETURN TWOSAFE
  template:
    spec:
      terminationGracePeriodSeconds: 5
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              preference:
                matchExpressions:
                  - {key: kubernetes.io/hostname, operator: NotIn, values: [%(avoid)s]}
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels: {app: pair}
"""

# One database, on the pair standby's node while that node is there.
SOLO_YAML = e2e.configmap("solo") + """
---
apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: solo
spec:
  ttspec:%(common)s
    dbConfigMap: [solo]
    replicationTopology: none
  template:
    spec:
      terminationGracePeriodSeconds: 5
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              preference:
                matchExpressions:
                  - {key: kubernetes.io/hostname, operator: In, values: [%(near)s]}
"""

tap = e2e.Tap()
cluster = e2e.Cluster(tap, start_args=e2e.THREE_NODES)
checker = None


def node_of(pod):
    return e2e.node_of(cluster, pod)


def meta(kind, name):
    return (cluster.get_json(kind, name) or {}).get("metadata") or {}


def claims_of(pod):
    """{claim name: uid} of the pod's PersistentVolumeClaims."""
    vols = ((cluster.get_json("pod", pod) or {}).get("spec") or {}).get("volumes") or []
    names = [v["persistentVolumeClaim"]["claimName"] for v in vols if v.get("persistentVolumeClaim")]
    return {n: meta("pvc", n).get("uid") for n in names}


def node_ready(node):
    for c in ((cluster.get_json("node", node) or {}).get("status") or {}).get("conditions", []):
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def emp(name, pod):
    rows = e2e.sql(cluster, name, pod, "select id, name from scott.emp order by id")
    return None if rows is None else [(int(r[0]), str(r[1]).strip()) for r in rows]


def pod_status(name, pod):
    st = (cluster.ttc(name) or {}).get("status") or {}
    entry = next((p for p in st.get("podStatus") or [] if p.get("name") == pod), {})
    return entry.get("podStatus") or {}


def metrics():
    """The operator's /metrics, "" when it cannot be read."""
    op = cluster.operator_ready()
    ip = ((cluster.get_json("pod", op) or {}).get("status") or {}).get("podIP") if op else None
    try:
        with urllib.request.urlopen("http://%s:8080/metrics" % ip, timeout=5) as r:
            return r.read().decode()
    except Exception:
        return ""


def replaced(pod, old_uid, away_from):
    """The pod when it is a new one, Running on a node other than away_from (a standby's
    pod is never Ready: the readiness probe passes on the active only)."""
    p = cluster.pod(pod)
    return p if (p and (p.get("status") or {}).get("phase") == "Running" and
                 p["metadata"]["uid"] != old_uid and
                 p["spec"].get("nodeName") not in (None, away_from)) else None


try:
    tap.need(cluster.install_operator(), "the operator runs from k8s/, without the cluster role")
    op_node = node_of(cluster.operator_ready())
    out = cluster.kubectl("create", "-f", "-", input=PAIR_YAML % {"common": COMMON, "avoid": op_node})
    tap.ok(out.returncode == 0, "a pair with deleteDbOnNotReadyNode %d is created" % LIMIT, out.stderr)
    tap.need(cluster.wait_state(PAIR, "Normal", 300), "the pair is Normal", cluster.state(PAIR))
    active = cluster.state(PAIR)[1]
    standby = PAIR + "-1" if active == PAIR + "-0" else PAIR + "-0"
    down = node_of(standby)
    tap.need(down not in (op_node, node_of(active)),
             "the standby runs on a node of its own", (op_node, active, down))
    out = cluster.kubectl("create", "-f", "-", input=SOLO_YAML % {"common": COMMON, "near": down})
    tap.ok(out.returncode == 0, "a non-replicated object is created", out.stderr)
    tap.need(cluster.wait_state(SOLO, "AllReplicasReady", 300), "it is AllReplicasReady",
             cluster.state(SOLO))
    tap.need(node_of(SOLO + "-0") == down, "its database is on the standby's node",
             (node_of(SOLO + "-0"), down))
    tap.ok(e2e.sql(cluster, PAIR, active, "insert into scott.emp values (1, 'before')") is not None and
           e2e.sql(cluster, SOLO, SOLO + "-0", "insert into scott.emp values (1, 'before')") is not None,
           "a row is written to the pair's active and to the non-replicated database")
    tap.ok(e2e.wait_until(lambda: emp(PAIR, standby) == [(1, "before")], 30),
           "the pair's standby has it", emp(PAIR, standby))
    for name in (PAIR, SOLO):
        tap.ok(cluster.wait_event(name, {}, "Cannot read Node", 60),
               "%s: NodesUnreadable without the cluster role" % name, cluster.events(name))
        tap.ok(pod_status(name, name + "-0").get("nodeName") == node_of(name + "-0"),
               "%s: status names each pod's node" % name, pod_status(name, name + "-0"))

    before = {p: (meta("pod", p).get("uid"), claims_of(p)) for p in (standby, SOLO + "-0")}
    checker = e2e.TwoActiveChecker(cluster, PAIR, *CREDS, network=False)
    checker.start()
    marks = {n: cluster.event_mark(n) for n in (PAIR, SOLO)}

    # The node goes down; without the read of Nodes nothing is deleted.
    out = cluster.fault("node-down", down)
    tap.ok(out.returncode == 0, "kubesim fault node-down %s" % down, out.stderr)
    tap.ok(e2e.wait_until(lambda: not node_ready(down), 60), "the node is NotReady")

    def deleted_any():
        return [p for p, (uid, claims) in before.items()
                if meta("pod", p).get("uid") != uid or claims_of(p) != claims]
    tap.ok(not e2e.wait_until(deleted_any, LIMIT + 15),
           "without the read of Nodes, nothing is deleted %d s past the limit" % 15, deleted_any())
    tap.ok(not [m for n in (PAIR, SOLO) for m in cluster.events_since(n, marks[n])
                if "PersistentVolumeClaim" in m],
           "... and no deletion is announced",
           [cluster.events_since(n, marks[n]) for n in (PAIR, SOLO)])
    tap.ok(not pod_status(PAIR, standby).get("nodeNotReadySince"),
           "... nor is the node recorded not ready", pod_status(PAIR, standby))

    # The cluster role: Nodes are read within a minute, and the pods go.
    out = cluster.kubectl("apply", "-f", os.path.join(e2e.TOP_SRCDIR, "k8s", "service_account_cluster.yaml"))
    tap.ok(out.returncode == 0, "k8s/service_account_cluster.yaml applied", out.stderr)
    for name in (PAIR, SOLO):
        tap.ok(cluster.wait_event(name, marks[name], "Nodes can be read again", 90),
               "%s: NodesReadable" % name, cluster.events_since(name, marks[name]))
    tap.ok(e2e.wait_until(lambda: pod_status(PAIR, standby).get("nodeNotReadySince"), 30),
           "status: the standby's node not ready since", pod_status(PAIR, standby))
    for name, pod in ((PAIR, standby), (SOLO, SOLO + "-0")):
        uid, claims = before[pod]
        tap.ok(e2e.wait_until(lambda: replaced(pod, uid, down), 180),
               "%s: %s made again on another node" % (name, pod), (node_of(pod), cluster.state(name)))
        new = claims_of(pod)
        tap.ok(sorted(new) == sorted(claims) and not set(new.values()) & set(claims.values()),
               "%s: with new claims" % name, (claims, new))
        events = cluster.events_since(name, marks[name])
        for text in ["Pod %s: its node %s has not been ready" % (pod, down),
                     "Pod %s deleted: its node %s is not ready" % (pod, down)] + \
                    ["PersistentVolumeClaim %s of pod %s deleted" % (c, pod) for c in claims]:
            tap.ok(any(text in m for m in events), "%s: Event %r" % (name, text), events)
    tap.ok(cluster.wait_state(PAIR, "Normal", 240), "the pair is Normal again", cluster.state(PAIR))
    tap.ok(cluster.state(PAIR)[1] == active, "with the same active", cluster.state(PAIR))
    tap.ok(e2e.wait_until(lambda: emp(PAIR, standby) == [(1, "before")], 60),
           "the new standby was duplicated from the active: the row is there", emp(PAIR, standby))
    tap.ok(cluster.wait_state(SOLO, "AllReplicasReady", 240), "the non-replicated object is "
           "AllReplicasReady again", cluster.state(SOLO))
    tap.ok(emp(SOLO, SOLO + "-0") == [(0, "epilog")],
           "its database was made afresh: the row written before is lost", emp(SOLO, SOLO + "-0"))
    text = metrics()
    for name, pod in ((PAIR, standby), (SOLO, SOLO + "-0")):
        for series in ['timesten_pods_deleted_unschedulable{namespace="default",name="%s"} 1' % name,
                       'timesten_pvcs_deleted_unschedulable{namespace="default",name="%s"} %d'
                       % (name, len(before[pod][1]))]:
            tap.ok(series in text, "metric %s" % series,
                   [line for line in text.splitlines() if "unschedulable" in line])
    tap.ok(e2e.wait_until(lambda: 'timesten_pods_unschedulable{namespace="default",name="pair"} 0'
                          in metrics(), 30), "gauge timesten_pods_unschedulable back to 0")

    # The active's node goes down (the first node healed, for the pod to have somewhere to
    # go): its pod is held back until the failover has proved its database fenced, then
    # deleted and made again as the standby.
    out = cluster.fault("node-heal", down)
    tap.ok(out.returncode == 0 and e2e.wait_until(lambda: node_ready(down), 60),
           "node %s healed" % down, out.stderr)
    old_active, new_active = active, standby
    lost = node_of(old_active)
    uid = meta("pod", old_active).get("uid")
    mark = cluster.event_mark(PAIR)
    out = cluster.fault("node-down", lost)
    tap.ok(out.returncode == 0, "kubesim fault node-down %s (the active's)" % lost, out.stderr)
    tap.ok(cluster.wait_event(PAIR, mark, "Pod %s: its node %s has not been ready" % (old_active, lost), 120),
           "the old active's node past the limit", cluster.events_since(PAIR, mark))
    tap.ok(e2e.wait_until(lambda: replaced(old_active, uid, lost), 180),
           "%s made again on another node" % old_active, (node_of(old_active), cluster.state(PAIR)))
    tap.ok(cluster.wait_state(PAIR, "Normal", 240, active=new_active),
           "Normal, %s the active" % new_active, cluster.state(PAIR))
    events = cluster.events_since(PAIR, mark)
    # Held because it is the active, or because the failover is fencing it: whichever it
    # was when the limit passed.
    ordered, missing = e2e.in_order(events, [r"Pod %s: its node %s has not been ready for \d+ s, but it is not "
                                 r"deleted now: (the other pod is not the healthy active|a failover is "
                                 r"fencing the old active)" % (old_active, lost),
                                 r"Pod %s: its 30 s lease ran out" % old_active,
                                 r"Pod %s: its node %s has not been ready for \d+ s \(deleteDbOnNotReadyNode"
                                 % (old_active, lost),
                                 r"Pod %s deleted: its node" % old_active])
    tap.ok(ordered, "held while it was the active, deleted only once the failover proved it fenced",
           (missing, events))
    tap.ok(e2e.wait_until(lambda: emp(PAIR, old_active) == [(1, "before")], 60),
           "the old active's pod, made again, is the standby with the row", emp(PAIR, old_active))

    # Deleted, an object takes its series with it (the deletion counts too).
    def naming(name):
        return [line for line in metrics().splitlines() if 'name="%s"' % name in line]
    out = cluster.kubectl("delete", "ttc", SOLO, "--wait=false")
    tap.ok(out.returncode == 0 and e2e.wait_until(lambda: not naming(SOLO), 60),
           "%s deleted: no series of /metrics names it any more" % SOLO, naming(SOLO))
    checker.verdict(tap)
    checker = None
finally:
    if checker is not None:
        checker.stop()
    if tap.failed:
        tap.diag(cluster.operator_log()[-20000:])
    cluster.stop()
sys.exit(tap.done())
