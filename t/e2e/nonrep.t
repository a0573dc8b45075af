#!/usr/bin/python3
"""Non-replicated TimesTenClassic objects (replicationTopology none) on one simulated
cluster, several at once:
- single: one pod by default; its pod deleted and made again loads its database (the row
  written before is there), through NoReplicasReady; stopManaging, then reexamine; a
  change of replicationTopology is refused and the running object stays as it was;
- roll: the guide's automatic upgrade, rollingUpdatePartition 2 (only -2 rolls), then
  lowered to 0 (-1, then -0);
- broken: a rollout to an image whose pods never become ready stops at the first pod,
  which gets a Warning and nonRepUpgradeFailed once upgradeDownPodTimeout has passed; the
  other pods serve on; the image set back, nothing is lost;
- scale: replicas 3, 4, 2: a new ordinal is made from the ConfigMap, PVCs outlive the
  scale-down;
- zero, negative: replicas 0 and -2 are refused.
Enumerations are written in several cases (None, NONE, manual, auto)."""

import os
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

OLD = "registry.example.com/youraccount/timesten:22.1.1.9.0"
NEW = "registry.example.com/youraccount/timesten:22.1.1.31.0"
# t/sim/images.conf: this image's tt container cannot start, so its pods never get ready.
BAD = "registry.example.com/youraccount/timesten:22.1.1.31.0-noagent"
DOWN_TIMEOUT = 20  # broken's upgradeDownPodTimeout
COMING_UP = ("Initializing", "NoReplicasReady", "SomeReplicasReady")

CONFIGMAP = e2e.configmap("nonrep")
TTC = """
apiVersion: timesten.oracle.com/v3
kind: TimesTenClassic
metadata:
  name: %s
spec:
  ttspec:
    storageClassName: standard
    storageSize: 1Gi
    image: %s
    dbConfigMap:
      - nonrep
%s
"""
REPLICAS = {"single": 1, "roll": 3, "broken": 3, "scale": 3}
SPECS = {
    "single": "    replicationTopology: None\n    imageUpgradeStrategy: manual",
    "roll": "    replicationTopology: none\n    replicas: 3\n    imageUpgradeStrategy: Auto\n"
            "    rollingUpdatePartition: 2",
    "broken": "    replicationTopology: none\n    replicas: 3\n    upgradeDownPodTimeout: %d" % DOWN_TIMEOUT,
    "scale": "    replicationTopology: NONE\n    replicas: 3\n    imageUpgradeStrategy: auto",
    "zero": "    replicationTopology: none\n    replicas: 0",
    "negative": "    replicationTopology: none\n    replicas: -2",
}

tap = e2e.Tap()
cluster = e2e.Cluster(tap)
later = {}  # what a scenario leaves for its later steps


def pods_of(name, n=None):
    return ["%s-%d" % (name, i) for i in range(REPLICAS[name] if n is None else n)]


def ttc_row(name):
    """kubectl get ttc name: its NAME, STATE and ACTIVE columns (None without the row)."""
    rows = cluster.get_rows("ttc", name)
    return rows[1][:3] if len(rows) == 2 and rows[0] == ["NAME", "STATE", "ACTIVE", "AGE"] else None


def emp(name, pod):
    """(id, name) of every row of scott.emp in the pod's database, or None."""
    rows = e2e.sql(cluster, name, pod, "select id, name from scott.emp order by id")
    return None if rows is None else [(int(r[0]), str(r[1]).strip()) for r in rows]


def own_rows(pod):
    """What a pod's database holds once the test wrote its row: the epilog's, and its own."""
    return [(0, "epilog"), (int(pod.rsplit("-", 1)[1]) + 1, pod)]


def write_row(name, pod, key, text):
    return e2e.sql(cluster, name, pod, "insert into scott.emp values (%d, '%s')" % (key, text)) is not None


def no_scheme(name, pod):
    return e2e.sql(cluster, name, pod, "select count(*) from ttrep.replications") == [[0]]


def containers(pod_or_template):
    spec = pod_or_template["spec"]
    return spec.get("initContainers", []) + spec.get("containers", [])


def images_of(pod):
    p = cluster.pod(pod)
    return p and {c["image"] for c in containers(p)}


def template_images(name):
    s = cluster.get_json("statefulset", name)
    return s and {c["name"]: c["image"] for c in containers(s["spec"]["template"])}


def uid(pod):
    p = cluster.pod(pod)
    return p and p["metadata"]["uid"]


def replaced(pod, old_uid):
    """The pod, when it is Ready and not the one with old_uid."""
    p = cluster.pod(pod)
    return p if e2e.pod_ready(p) and p["metadata"]["uid"] != old_uid else None


def pod_status(name, pod):
    """The object's .status.podStatus entry for pod."""
    st = (cluster.ttc(name) or {}).get("status", {})
    return next((p for p in st.get("podStatus") or [] if p.get("name") == pod), None)


def described(name):
    return e2e.describe_pod_status(cluster.kubectl("describe", "ttc", name).stdout)


def all_normal(name, pods):
    """describe ttc: a Pod Status for exactly these pods, each High Level State Normal."""
    got = described(name)
    return sorted(got) == sorted(pods) and all(
        got[p].get("High Level State") == "Normal" for p in pods), got


def release(pod):
    """The release ttVersion reports in the pod (its first line), or what it printed."""
    out = e2e.ttversion(cluster, pod)
    first = out.splitlines()[0] if out else ""
    return first.split()[2] if first.startswith("TimesTen Release ") else out


def sts_settled(name, replicas, updated):
    """The StatefulSet controller has seen the current spec and counts replicas ready pods,
    updated of them on the newest template."""
    s = cluster.get_json("statefulset", name) or {}
    st = s.get("status", {})
    return (st.get("observedGeneration") == s.get("metadata", {}).get("generation") and
            st.get("readyReplicas", 0) == replicas and st.get("updatedReplicas", 0) == updated)


def not_found(kind, name):
    out = cluster.kubectl("get", kind, name)
    return out.returncode != 0 and "(NotFound)" in out.stderr


def scenario(what, fn):
    """Runs one object's steps; a step they need failing ends them, not the others.
    True when they all ran."""
    try:
        fn()
        return True
    except e2e.Stop as e:
        tap.diag("%s: the steps after this one need it: %s" % (what, e))
    except Exception:
        tap.ok(False, "%s: the test's steps ran without an error of their own" % what,
               traceback.format_exc())
    return False


# ---- invalid replicas -------------------------------------------------------------------

def invalid():
    for name in ("zero", "negative"):
        tap.ok(cluster.wait_state(name, "Failed", 60), "%s: Failed" % name,
               (cluster.ttc(name) or {}).get("status"))
        obj = cluster.ttc(name) or {}
        msg = obj.get("status", {}).get("message") or ""
        tap.ok(msg.startswith("spec.ttspec.replicas: "), "%s: status message names "
               "spec.ttspec.replicas" % name, msg)
        warnings = [e["message"] for e in cluster.event_objects(name)
                    if e.get("type") == "Warning" and e.get("reason") == "InvalidSpec"]
        tap.ok(msg and msg in warnings, "%s: a Warning Event InvalidSpec says so" % name, warnings)
        tap.ok(not_found("statefulset", name) and not_found("service", name) and
               not_found("secret", "tt" + obj.get("metadata", {}).get("uid", "?")),
               "%s: no StatefulSet, Service or Secret is made" % name)


# ---- what every object shows once up -----------------------------------------------------

def first_look(name):
    pods = pods_of(name)
    tap.ok(ttc_row(name) == [name, "AllReplicasReady", "N/A"],
           "%s: kubectl get ttc: %s AllReplicasReady N/A" % (name, name), ttc_row(name))
    ok, got = all_normal(name, pods)
    tap.ok(ok, "%s: describe: a Pod Status for each of its %d pods, High Level State Normal"
           % (name, len(pods)), got)
    sts = cluster.get_json("statefulset", name) or {"spec": {}}
    tap.ok(sts["spec"].get("replicas") == len(pods), "%s: the StatefulSet has %d replicas"
           % (name, len(pods)), sts["spec"].get("replicas"))
    for pod in pods:
        tap.ok(e2e.pod_ready(cluster.pod(pod)), "%s is Ready" % pod)
        tap.ok(no_scheme(name, pod), "%s: its database has no replication scheme" % pod)
        tap.ok(emp(name, pod) == [(0, "epilog")], "%s: scott.emp made by schema.sql, its row by "
               "epilog.sql (adminUser scott connects)" % pod, emp(name, pod))
        i = int(pod.rsplit("-", 1)[1])
        tap.need(write_row(name, pod, i + 1, pod), "a row is written in %s's database" % pod)
    for pod in pods:
        tap.ok(emp(name, pod) == own_rows(pod), "%s's database holds its own row only" % pod,
               emp(name, pod))


def strategy(name):
    return (cluster.get_json("statefulset", name) or {}).get("spec", {}).get("updateStrategy", {})


# ---- single ------------------------------------------------------------------------------

def single():
    name, pod = "single", "single-0"
    first = [m for m in cluster.events(name) if m.startswith("TimesTenClassic was")]
    tap.ok(first[:1] == ["TimesTenClassic was Initializing, now AllReplicasReady"],
           "single: Event: TimesTenClassic was Initializing, now AllReplicasReady", first)
    tap.ok(strategy(name).get("type") == "OnDelete",
           "single: imageUpgradeStrategy manual: the StatefulSet updates OnDelete", strategy(name))
    out = cluster.kubectl("exec", pod, "-c", "tt", "--", "cat", "/tmp/readiness")
    tap.ok(out.returncode == 0, "single-0: its database ready, /tmp/readiness is there",
           out.stderr)

    # The pod deleted: NoReplicasReady; made again, it loads its database.
    mark, old = cluster.event_mark(name), uid(pod)
    tap.like(cluster.kubectl("delete", "pod", pod, "--wait=false").stdout, 'pod "%s" deleted' % pod,
             "kubectl delete pod single-0")
    ok, seen = cluster.wait_state_via(name, "NoReplicasReady", 60, ("AllReplicasReady",))
    tap.ok(ok, "single: NoReplicasReady while its pod is away", seen)
    tap.need(e2e.wait_until(lambda: replaced(pod, old) and cluster.wait_event(
        name, mark, "TimesTenClassic was NoReplicasReady, now AllReplicasReady", 0), 240),
             "single: AllReplicasReady again with a new single-0", cluster.events_since(name, mark))
    events = cluster.events_since(name, mark)
    for msg in ["TimesTenClassic was AllReplicasReady, now NoReplicasReady",
                "TimesTenClassic was NoReplicasReady, now AllReplicasReady"]:
        tap.ok(msg in events, "single: Event: " + msg, events)
    tap.ok(emp(name, pod) == own_rows(pod), "single-0: its database was loaded, not made again: "
           "the row is there (and the epilog's, once)", emp(name, pod))
    ok, got = all_normal(name, [pod])
    tap.ok(ok, "single: describe: single-0 High Level State Normal", got)

    # stopManaging, then reexamine.
    mark = cluster.event_mark(name)
    tap.need(cluster.patch("ttc", name, {"spec": {"ttspec": {"stopManaging": "stop-1"}}}).returncode == 0,
             "single: stopManaging set")
    ok, seen = cluster.wait_state_via(name, "ManualInterventionRequired", 60, ("AllReplicasReady",))
    tap.need(ok, "single: ManualInterventionRequired", seen)
    tap.ok("TimesTenClassic was AllReplicasReady, now ManualInterventionRequired" in
           cluster.events_since(name, mark),
           "single: Event: TimesTenClassic was AllReplicasReady, now ManualInterventionRequired")
    tap.ok(ttc_row(name) == [name, "ManualInterventionRequired", "N/A"],
           "single: kubectl get ttc: single ManualInterventionRequired N/A", ttc_row(name))
    tap.ok(emp(name, pod) == own_rows(pod), "single-0: its database serves on, hands off")
    mark = cluster.event_mark(name)
    tap.need(cluster.patch("ttc", name, {"spec": {"ttspec": {"reexamine": "reexamineNow"}}}).returncode == 0,
             "single: reexamine set")
    ok, seen = cluster.wait_state_via(name, "AllReplicasReady", 120,
                                      ("ManualInterventionRequired", "Reexamine"))
    tap.need(ok, "single: AllReplicasReady again after Reexamine", seen)
    events = cluster.events_since(name, mark)
    for msg in ["TimesTenClassic was ManualInterventionRequired, now Reexamine",
                "TimesTenClassic was Reexamine, now AllReplicasReady"]:
        tap.ok(msg in events, "single: Event: " + msg, events)
    ok, got = all_normal(name, [pod])
    tap.ok(ok, "single: describe: single-0 High Level State Normal", got)

    # replicationTopology cannot change on a running object.
    mark = later["single mark"] = cluster.event_mark(name)
    before = later["single uid"] = uid(pod)
    tap.need(cluster.patch("ttc", name, {"spec": {"ttspec": {"replicationTopology": "activeStandbyPair"}}})
             .returncode == 0, "single: replicationTopology changed to activeStandbyPair")
    field = "spec.ttspec.replicationTopology"
    warned = e2e.wait_until(lambda: [e["message"] for e in cluster.events_since(name, mark, full=True)
                                     if e.get("type") == "Warning" and field in e.get("message", "")], 60)
    tap.ok(warned, "single: a Warning Event names %s" % field, cluster.events_since(name, mark))
    msg = e2e.wait_until(lambda: field in ((cluster.ttc(name) or {}).get("status", {}).get("message") or "")
                         and cluster.ttc(name)["status"]["message"], 30)
    tap.ok(msg, "single: the status message names %s" % field,
           (cluster.ttc(name) or {}).get("status", {}).get("message"))
    tap.ok(cluster.state(name)[0] == "AllReplicasReady" and uid(pod) == before and no_scheme(name, pod)
           and (cluster.get_json("statefulset", name) or {}).get("spec", {}).get("replicas") == 1,
           "single: the running object stays: AllReplicasReady, the same pod, no replication scheme, "
           "1 replica")


def single_after():
    """Long after the refused change: nothing about single moved."""
    name, pod = "single", "single-0"
    changes = [m for m in cluster.events_since(name, later["single mark"])
               if m.startswith("TimesTenClassic was")]
    tap.ok(cluster.state(name)[0] == "AllReplicasReady" and not changes and
           uid(pod) == later["single uid"] and no_scheme(name, pod),
           "single: still AllReplicasReady on the same pod, no scheme, no state change since the "
           "refused change", changes)


# ---- roll: the guide's automatic upgrade -------------------------------------------------

def roll():
    """The image changed, rollingUpdatePartition 2: only roll-2 rolls."""
    name = "roll"
    pods = pods_of(name)
    out = cluster.kubectl("get", "ttc", name, "-o", "yaml").stdout
    got = e2e.grep(out, "imageUpgradeStrategy", "rollingUpdatePartition")
    tap.ok(got == ["imageUpgradeStrategy: Auto", "rollingUpdatePartition: 2"],
           "roll: kubectl get ttc roll -o yaml | grep 'imageUpgradeStrategy\\|rollingUpdatePartition': "
           "imageUpgradeStrategy: Auto, rollingUpdatePartition: 2", got)
    st = strategy(name)
    tap.ok(st.get("type") == "RollingUpdate" and st.get("rollingUpdate", {}).get("partition") == 2,
           "roll: the StatefulSet updates RollingUpdate, partition 2", st)

    mark, uids = cluster.event_mark(name), {p: uid(p) for p in pods}
    out = cluster.edit("ttc", name, OLD, NEW)
    tap.need(out.returncode == 0 and "timestenclassic.timesten.oracle.com/roll edited" in out.stdout,
             "roll: kubectl edit ttc roll, image " + NEW, out.stdout + out.stderr)
    tap.need(e2e.wait_until(lambda: set((template_images(name) or {"": OLD}).values()) == {NEW}, 60),
             "roll: the StatefulSet's containers get the new image", template_images(name))
    tap.ok(strategy(name).get("rollingUpdate", {}).get("partition") == 2, "roll: partition still 2")
    tap.need(e2e.wait_until(lambda: replaced("roll-2", uids["roll-2"]) and cluster.wait_event(
        name, mark, "TimesTenClassic was SomeReplicasReady, now AllReplicasReady", 0), 240),
             "roll: Kubernetes replaces roll-2; AllReplicasReady again", cluster.events_since(name, mark))
    events = cluster.events_since(name, mark)
    for msg in ["TimesTenClassic was AllReplicasReady, now SomeReplicasReady",
                "TimesTenClassic was SomeReplicasReady, now AllReplicasReady"]:
        tap.ok(msg in events, "roll: Event: " + msg, events)
    tap.ok(e2e.wait_until(lambda: sts_settled(name, 3, 1), 60),
           "roll: the StatefulSet controller has seen roll-2 updated and ready",
           (cluster.get_json("statefulset", name) or {}).get("status"))
    tap.ok(images_of("roll-2") == {NEW} and release("roll-2") == "22.1.1.31.0",
           "roll-2 runs the new image: ttVersion 22.1.1.31.0", release("roll-2"))
    for pod in ("roll-0", "roll-1"):
        tap.ok(uid(pod) == uids[pod] and images_of(pod) == {OLD} and release(pod) == "22.1.1.9.0",
               "%s, below the partition, is not upgraded: the same pod, ttVersion 22.1.1.9.0" % pod,
               release(pod))
    tap.ok(emp(name, "roll-2") == own_rows("roll-2"), "roll-2: its database was loaded with its row",
           emp(name, "roll-2"))
    later["roll uids"] = uids


def roll_rest():
    """The partition lowered to 0: the rest roll, highest ordinal first."""
    name, uids = "roll", later["roll uids"]
    pods = pods_of(name)
    mark = cluster.event_mark(name)
    out = cluster.edit("ttc", name, "rollingUpdatePartition: 2", "rollingUpdatePartition: 0")
    tap.need(out.returncode == 0 and "timestenclassic.timesten.oracle.com/roll edited" in out.stdout,
             "roll: kubectl edit ttc roll, rollingUpdatePartition 0", out.stdout + out.stderr)
    tap.ok(e2e.wait_until(lambda: strategy(name).get("rollingUpdate", {}).get("partition", 0) == 0, 60),
           "roll: the StatefulSet's partition becomes 0", strategy(name))
    order, gone = [], {}

    def rest_rolled():
        for pod in ("roll-1", "roll-0"):
            p = cluster.get_json("pod", pod)
            if pod not in order and (p is None or p["metadata"].get("deletionTimestamp") or
                                     p["metadata"]["uid"] != uids[pod]):
                order.append(pod)
                gone[pod] = cluster.event_mark(name)
        return all(replaced(p, uids[p]) for p in ("roll-1", "roll-0"))
    tap.need(e2e.wait_until(rest_rolled, 300), "roll: roll-1 and roll-0 are replaced and Ready", order)
    tap.ok(order == ["roll-1", "roll-0"], "roll: roll-1 goes before roll-0 (highest ordinal first)", order)
    tap.ok(e2e.wait_until(lambda: sts_settled(name, 3, 3), 60),
           "roll: the StatefulSet controller counts 3 ready pods, all updated")
    back = "TimesTenClassic was SomeReplicasReady, now AllReplicasReady"
    # The Event and the status are two writes: the status may land a moment after.
    tap.ok(cluster.wait_event(name, gone["roll-0"], back, 120) and
           cluster.wait_state(name, "AllReplicasReady", 30),
           "roll: AllReplicasReady once roll-0 is back (Event: TimesTenClassic was SomeReplicasReady, "
           "now AllReplicasReady)", cluster.events_since(name, mark))
    for pod in pods:
        tap.ok(images_of(pod) == {NEW} and release(pod) == "22.1.1.31.0",
               "%s runs the new image: ttVersion 22.1.1.31.0" % pod, release(pod))
        tap.ok(emp(name, pod) == own_rows(pod), "%s: its database still holds its row" % pod,
               emp(name, pod))
    ok, got = all_normal(name, pods)
    tap.ok(ok, "roll: describe: every pod High Level State Normal", got)
    out = cluster.kubectl("get", "ttc", name, "-o", "yaml").stdout
    tap.ok(e2e.grep(out, "rollingUpdatePartition") == ["rollingUpdatePartition: 0"],
           "roll: rollingUpdatePartition: 0", e2e.grep(out, "rollingUpdatePartition"))


# ---- broken: a rollout to an image that never gets ready ----------------------------------

def broken_start():
    name = "broken"
    st = strategy(name)
    tap.ok(st.get("type") == "RollingUpdate" and st.get("rollingUpdate", {}).get("partition", 0) == 0,
           "broken: imageUpgradeStrategy Auto by default: RollingUpdate, partition 0", st)
    later["broken mark"] = cluster.event_mark(name)
    uids = later["broken uids"] = {p: uid(p) for p in pods_of(name)}
    tap.need(cluster.patch("ttc", name, {"spec": {"ttspec": {"image": BAD}}}).returncode == 0,
             "broken: the image changed to " + BAD)
    tap.need(e2e.wait_until(lambda: set((template_images(name) or {"": OLD}).values()) == {BAD}, 60),
             "broken: the StatefulSet's containers get it", template_images(name))

    def new_pod():
        p = cluster.pod("broken-2")
        return p if p and p["metadata"]["uid"] != uids["broken-2"] else None
    p = e2e.wait_until(new_pod, 120)
    tap.need(p, "broken: Kubernetes replaces broken-2 on the new image")
    later["broken created"] = p["metadata"]["creationTimestamp"]
    # When the operator gives broken-2 up, seen while the other scenarios run.
    later["broken failed"] = e2e.Watch(
        lambda: (pod_status(name, "broken-2") or {}).get("nonRepUpgradeFailed") is True)


def broken():
    """Given up once upgradeDownPodTimeout has passed; the rest serve on."""
    name, mark, uids = "broken", later["broken mark"], later["broken uids"]
    made = e2e.seconds(later["broken created"])
    failed = later["broken failed"]
    e2e.wait_until(lambda: failed.at, DOWN_TIMEOUT + 120)
    failed.stop()
    tap.need(failed.at, "broken: broken-2's pod status: nonRepUpgradeFailed true",
             pod_status(name, "broken-2"))
    tap.ok(failed.at - made >= DOWN_TIMEOUT - 5,
           "broken: nonRepUpgradeFailed once upgradeDownPodTimeout (%d s) has passed since broken-2 "
           "was made (seen after %.0f s)" % (DOWN_TIMEOUT, failed.at - made))

    def warnings():
        return [e for e in cluster.events_since(name, mark, full=True)
                if e.get("type") == "Warning" and "broken-2" in e.get("message", "")]
    warned = e2e.wait_until(warnings, 30)
    tap.ok(warned and any((e2e.seconds(e.get("firstTimestamp") or e.get("lastTimestamp")) or 0) - made
                          >= DOWN_TIMEOUT - 5 for e in warned),
           "broken: a Warning Event names broken-2, once upgradeDownPodTimeout has passed",
           warned or cluster.events_since(name, mark))
    tap.ok(not e2e.pod_ready(cluster.pod("broken-2")) and images_of("broken-2") == {BAD},
           "broken-2 runs the new image and is not Ready")
    for pod in ("broken-0", "broken-1"):
        tap.ok(uid(pod) == uids[pod] and images_of(pod) == {OLD} and e2e.pod_ready(cluster.pod(pod)),
               "broken: the rollout stopped: %s is the same pod, on the old image, Ready" % pod)
    tap.ok(cluster.state(name)[0] == "SomeReplicasReady" and
           ttc_row(name) == [name, "SomeReplicasReady", "N/A"],
           "broken: kubectl get ttc: broken SomeReplicasReady N/A", ttc_row(name))
    got = described(name)
    for pod in ("broken-0", "broken-1"):
        tap.ok(got.get(pod, {}).get("High Level State") == "Normal",
               "broken: describe: %s High Level State Normal" % pod, got.get(pod))
        i = int(pod.rsplit("-", 1)[1])
        tap.ok(write_row(name, pod, i + 11, pod + " later") and
               emp(name, pod) == own_rows(pod) + [(i + 11, pod + " later")],
               "%s serves on: a row written now is there beside the one before" % pod, emp(name, pod))


def broken_rollback():
    """The image set back and the stuck pod deleted (Kubernetes' forced rollback)."""
    name = "broken"
    tap.need(cluster.patch("ttc", name, {"spec": {"ttspec": {"image": OLD}}}).returncode == 0,
             "broken: the image set back to " + OLD)
    tap.need(e2e.wait_until(lambda: set((template_images(name) or {"": BAD}).values()) == {OLD}, 60),
             "broken: the StatefulSet's containers get it back", template_images(name))
    stuck = uid("broken-2")
    tap.like(cluster.kubectl("delete", "pod", "broken-2", "--wait=false").stdout, 'pod "broken-2" deleted',
             "kubectl delete pod broken-2")
    later["broken stuck"] = stuck


def broken_back():
    name, stuck = "broken", later["broken stuck"]
    tap.need(e2e.wait_until(lambda: replaced("broken-2", stuck) and
                            cluster.state(name)[0] == "AllReplicasReady", 240),
             "broken: broken-2 comes back on the old image; AllReplicasReady", cluster.state(name))
    tap.ok(e2e.wait_until(lambda: sts_settled(name, 3, 3), 120),
           "broken: the StatefulSet controller counts 3 ready pods on the template in use")
    tap.ok(images_of("broken-2") == {OLD} and emp(name, "broken-2") == own_rows("broken-2"),
           "broken-2: nothing lost: its database holds its row", emp(name, "broken-2"))
    for pod in ("broken-0", "broken-1"):
        i = int(pod.rsplit("-", 1)[1])
        tap.ok(emp(name, pod) == own_rows(pod) + [(i + 11, pod + " later")],
               "%s: nothing lost: both its rows" % pod, emp(name, pod))
    ok, got = all_normal(name, pods_of(name))
    tap.ok(ok, "broken: describe: every pod High Level State Normal", got)


# ---- scale: 3, 4, 2 -------------------------------------------------------------------------

def scale_up():
    name = "scale"
    tap.ok(strategy(name).get("type") == "RollingUpdate",
           "scale: imageUpgradeStrategy auto: RollingUpdate", strategy(name))
    uids = {p: uid(p) for p in pods_of(name)}
    tap.need(cluster.patch("ttc", name, {"spec": {"ttspec": {"replicas": 4}}}).returncode == 0,
             "scale: replicas 4")
    tap.need(e2e.wait_until(lambda: (cluster.get_json("statefulset", name) or {}).get("spec", {})
                            .get("replicas") == 4, 60), "scale: the StatefulSet gets 4 replicas")
    later["scale uids"] = uids


def scale_rest():
    name, uids = "scale", later["scale uids"]
    tap.need(e2e.wait_until(lambda: e2e.pod_ready(cluster.pod("scale-3")) and
                            cluster.state(name)[0] == "AllReplicasReady" and
                            all_normal(name, pods_of(name, 4))[0], 240),
             "scale: scale-3 is made and Ready; AllReplicasReady, describe: four pods, Normal",
             (cluster.state(name), described(name)))
    tap.ok(ttc_row(name) == [name, "AllReplicasReady", "N/A"],
           "scale: kubectl get ttc: scale AllReplicasReady N/A", ttc_row(name))
    tap.ok(no_scheme(name, "scale-3") and emp(name, "scale-3") == [(0, "epilog")],
           "scale-3: its database is made from the ConfigMap: no scheme, schema.sql, epilog.sql",
           emp(name, "scale-3"))
    for pod in pods_of(name):
        tap.ok(uid(pod) == uids[pod] and emp(name, pod) == own_rows(pod),
               "%s: the same pod, its row there" % pod, emp(name, pod))

    tap.need(cluster.patch("ttc", name, {"spec": {"ttspec": {"replicas": 2}}}).returncode == 0,
             "scale: replicas 2")
    tap.need(e2e.wait_until(lambda: (cluster.get_json("statefulset", name) or {}).get("spec", {})
                            .get("replicas") == 2, 60), "scale: the StatefulSet gets 2 replicas")
    tap.need(e2e.wait_until(lambda: not_found("pod", "scale-2") and not_found("pod", "scale-3") and
                            cluster.state(name)[0] == "AllReplicasReady" and
                            all_normal(name, pods_of(name, 2))[0], 180),
             "scale: scale-2 and scale-3 go; AllReplicasReady, describe: two pods, Normal",
             (cluster.state(name), described(name)))
    claims = cluster.kubectl("get", "pvc").stdout
    for pod in ("scale-2", "scale-3"):
        tap.like(claims, "tt-persistent-" + pod, "scale: PVC tt-persistent-%s stays" % pod)
    for pod in pods_of(name, 2):
        tap.ok(uid(pod) == uids[pod] and emp(name, pod) == own_rows(pod),
               "%s: the same pod, its row there" % pod, emp(name, pod))


try:
    tap.need(cluster.install_operator(), "the operator runs from k8s/ (CRD, RBAC, Deployment)")
    out = cluster.kubectl("create", "-f", "-", input="---".join(
        [CONFIGMAP] + [TTC % (n, OLD, SPECS[n]) for n in SPECS]))
    tap.need(out.returncode == 0, "the ConfigMap and the objects %s are created" % ", ".join(SPECS),
             out.stdout + out.stderr)

    scenario("invalid replicas", invalid)

    tap.need(e2e.wait_until(lambda: all(cluster.state(n)[0] is not None for n in REPLICAS), 60),
             "the operator takes every object up: each has a high-level state",
             {n: cluster.state(n) for n in REPLICAS})
    seen, deadline = {n: [] for n in REPLICAS}, time.monotonic() + 300 * e2e.SLOW

    def settled():
        for n in REPLICAS:
            s = cluster.state(n)[0]
            if s is not None and (not seen[n] or seen[n][-1] != s):
                seen[n].append(s)
        return all(s[-1:] == ["AllReplicasReady"] or (s and s[-1] not in COMING_UP)
                   for s in seen.values())
    e2e.wait_until(settled, max(1, deadline - time.monotonic()))
    up = [n for n in REPLICAS if seen[n][-1:] == ["AllReplicasReady"]]
    for n in REPLICAS:
        tap.ok(n in up, "%s (replicas %d) becomes AllReplicasReady (through %s only)"
               % (n, REPLICAS[n], ", ".join(COMING_UP)), "states seen: %s" % seen[n])

    looked = {n for n in up if scenario(n, lambda n=n: first_look(n))}
    # Slow steps overlap: broken-2 times out while single and roll run; broken-2 comes
    # back and scale-3 is made while roll's last two pods roll.
    if "broken" in looked:
        scenario("broken", broken_start)
    if "single" in looked:
        scenario("single", single)
    if "roll" in looked:
        scenario("roll", roll)
    if "broken created" in later and scenario("broken", broken):
        scenario("broken", broken_rollback)
    if "scale" in looked:
        scenario("scale", scale_up)
    if "roll uids" in later:
        scenario("roll", roll_rest)
    if "broken stuck" in later:
        scenario("broken", broken_back)
    if "scale uids" in later:
        scenario("scale", scale_rest)
    if "single uid" in later:
        scenario("single", single_after)
except e2e.Stop as e:
    tap.diag("the steps after this one need it: %s" % e)
finally:
    if "broken failed" in later:
        later["broken failed"].stop()
    if tap.failed:
        tap.diag(cluster.operator_log())
        tap.diag(cluster.operator_restarts())
    cluster.stop()
sys.exit(tap.done())
