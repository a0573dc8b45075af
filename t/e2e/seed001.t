#!/usr/bin/python3
"""The guide's manual upgrade of a non-replicated object (seed 001), step by step on the
simulated cluster: mannorepsample holds three independent databases (replicationTopology
none, replicas 3, imageUpgradeStrategy Manual) and is AllReplicasReady with ACTIVE N/A
beside another non-replicated object and a pair; a row is written in each database; the
image edited with kubectl edit reaches the StatefulSet and no pod restarts; each pod the
user deletes comes back on the new image (SomeReplicasReady, then AllReplicasReady), its
database loaded, not rebuilt; ttVersion reports the new release in every pod and every
database still holds its row."""

import os
import re
import sys
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

OLD = "registry.example.com/youraccount/timesten:22.1.1.9.0"
NEW = "registry.example.com/youraccount/timesten:22.1.1.31.0"
NAME = "mannorepsample"
PODS = ["%s-%d" % (NAME, i) for i in range(3)]
GROUP = "timestenclassic.timesten.oracle.com"
# What a non-replicated object may be on its way to AllReplicasReady.
COMING_UP = ("Initializing", "NoReplicasReady", "SomeReplicasReady")
HOME = "/tt/home/timesten/instances/instance1"

# The guide does not show its objects' definitions: each object gets a ConfigMap of its
# own name with an admin user, a schema and an epilog that writes one row.
MANIFEST = """apiVersion: timesten.oracle.com/v3
kind: TimesTenClassic
metadata:
  name: %(name)s
spec:
  ttspec:
    storageClassName: standard
    storageSize: 10Gi
    image: %(image)s
    dbConfigMap:
      - %(name)s
%(extra)s
"""
OBJECTS = [
    (NAME, "    replicationTopology: none\n    replicas: 3\n    imageUpgradeStrategy: Manual"),
    ("norepsample", "    replicationTopology: none"),
    ("repsample", ""),
]

tap = e2e.Tap()
cluster = e2e.Cluster(tap)


def ttc_row(name):
    """kubectl get ttc name: its NAME, STATE and ACTIVE columns (None without the row)."""
    rows = cluster.get_rows("ttc", name)
    return rows[1][:3] if len(rows) == 2 and rows[0] == ["NAME", "STATE", "ACTIVE", "AGE"] else None


def emp(pod):
    """(id, name) of every row of scott.emp in the pod's database, or None."""
    rows = e2e.sql(cluster, NAME, pod, "select id, name from scott.emp order by id")
    return None if rows is None else [(int(r[0]), str(r[1]).strip()) for r in rows]


def own_rows(i):
    return [(0, "epilog"), (i + 1, PODS[i])]


def images(kind, name):
    """The Image: lines of kubectl describe kind name | grep Image, their values."""
    out = cluster.kubectl("describe", kind, name).stdout
    return [line.split(None, 1)[1] for line in e2e.grep(out, "Image") if line.startswith("Image:")]


def containers(pod_or_template):
    spec = pod_or_template["spec"]
    return spec.get("initContainers", []) + spec.get("containers", [])


def replaced(pod, uid):
    """The pod, when it is Ready and not the one with that uid."""
    p = cluster.pod(pod)
    return p if e2e.pod_ready(p) and p["metadata"]["uid"] != uid else None


def check_pods_row(rows, pod, step):
    """kubectl get pods: the pod's row says READY n/n (all its n containers: the guide's
    3/3 counts an exporter this operator does not run), Running, 0 restarts."""
    p = cluster.pod(pod)
    n = len(p["spec"]["containers"]) if p else 0
    want = ["%d/%d" % (n, n), "Running", "0"]
    row = next((r for r in rows if r and r[0] == pod), [])
    tap.ok(n > 0 and row[1:4] == want, "step %d: kubectl get pods: %s %s" % (step, pod, "   ".join(want)),
           row)


def check_ttversion(pod):
    out = e2e.ttversion(cluster, pod)
    lines = out.splitlines()
    tap.match(lines[0] if lines else "",
              r"^TimesTen Release 22\.1\.1\.31\.0 \(64 bit Linux/x86_64\) \(instance1:6624\) \S+$",
              "step 13: ttVersion in %s: TimesTen Release 22.1.1.31.0 (64 bit Linux/x86_64) "
              "(instance1:6624)" % pod)
    want = ["Instance admin: ", "Instance home directory: " + HOME, "Group owner: ",
            "Daemon home directory: " + HOME + "/info", "PL/SQL enabled."]
    got = [line.strip() for line in lines[1:]]
    tap.ok(len(got) == len(want) and all(g.startswith(w) for g, w in zip(got, want)),
           "step 13: ttVersion in %s: Instance admin, Instance home directory %s, Group owner, "
           "Daemon home directory, PL/SQL enabled." % (pod, HOME), out)


try:
    tap.need(cluster.install_operator(), "the operator runs from k8s/ (CRD, RBAC, Deployment)")
    out = cluster.kubectl("create", "-f", "-", input="---".join(
        e2e.configmap(n) + "---\n" + MANIFEST % {"name": n, "image": OLD, "extra": extra}
        for n, extra in OBJECTS))
    tap.need(out.returncode == 0 and "%s/%s created" % (GROUP, NAME) in out.stdout,
             "the guide's namespace: mannorepsample and norepsample (non-replicated), repsample "
             "(a pair), each with its ConfigMap", out.stdout + out.stderr)

    tap.need(e2e.wait_until(lambda: cluster.state(NAME)[0] is not None, 60),
             "the operator takes mannorepsample up: it has a high-level state",
             "status: %s" % (cluster.ttc(NAME) or {}).get("status"))
    ok, seen = cluster.wait_state_via(NAME, "AllReplicasReady", 300, COMING_UP)
    tap.need(ok, "mannorepsample becomes AllReplicasReady (through %s only)" % ", ".join(COMING_UP),
             "states seen: %s" % seen)
    first = [m for m in cluster.events(NAME) if m.startswith("TimesTenClassic was Initializing, now ")]
    tap.ok(first and first[0][len("TimesTenClassic was Initializing, now "):] in COMING_UP[1:] +
           ("AllReplicasReady",),
           "Event: TimesTenClassic was Initializing, now (All|Some|No)ReplicasReady", first)
    ok, seen = cluster.wait_state_via("norepsample", "AllReplicasReady", 180, COMING_UP)
    tap.need(ok, "norepsample becomes AllReplicasReady", "states seen: %s" % seen)
    tap.need(cluster.wait_state("repsample", "Normal", 180, active="repsample-0"),
             "repsample becomes Normal with repsample-0 active")
    # The guide's state gauges, per object: 1 in the condition the name says.
    want = {"timesten_classic_state_normal": {"repsample": 1},
            "timesten_classic_state_not_normal": {"repsample": 0},
            "timesten_classic_state_allreplicasready": {"mannorepsample": 1, "norepsample": 1},
            "timesten_classic_state_somereplicasready": {"mannorepsample": 0, "norepsample": 0},
            "timesten_classic_state_noreplicasready": {"mannorepsample": 0, "norepsample": 0},
            "timesten_classic_state_not_allreplicasready": {"mannorepsample": 0,
                                                            "norepsample": 0}}
    got = {}

    def gauges():
        metrics = cluster.metrics()
        got.clear()
        for k, v in metrics.items():
            name, _, labels = k.partition("{")
            if name in want:
                obj = re.search(r'name="([^"]+)"', labels)
                got.setdefault(name, {})[obj.group(1) if obj else ""] = v
        return got == want
    tap.ok(e2e.wait_until(gauges, 30, 1),
           "/metrics: the guide's state gauges, per object (pairs: normal, not_normal; "
           "non-replicated: allreplicasready, somereplicasready, noreplicasready, "
           "not_allreplicasready)", got)
    marks = {n: cluster.event_mark(n) for n, _ in OBJECTS}

    # 1. kubectl get ttc
    rows = cluster.get_rows("ttc")
    tap.ok(rows[:1] == [["NAME", "STATE", "ACTIVE", "AGE"]], "step 1: kubectl get ttc: NAME STATE ACTIVE AGE",
           rows)
    want = [[NAME, "AllReplicasReady", "N/A"], ["norepsample", "AllReplicasReady", "N/A"],
            ["repsample", "Normal", "repsample-0"]]
    tap.ok([r[:3] for r in rows[1:]] == want and all(len(r) == 4 for r in rows[1:]),
           "step 1: mannorepsample AllReplicasReady N/A, norepsample AllReplicasReady N/A, "
           "repsample Normal repsample-0", rows)

    describe = cluster.kubectl("describe", "ttc", NAME).stdout
    tap.match(describe, r"\n  High Level State: +AllReplicasReady\n",
              "describe: High Level State AllReplicasReady")
    status = e2e.describe_pod_status(describe)
    tap.ok(sorted(status) == PODS, "describe: a Pod Status for each of the three pods", describe)
    for pod in PODS:
        tap.ok(status.get(pod, {}).get("High Level State") == "Normal",
               "describe: %s High Level State Normal" % pod, status.get(pod))
    events = "\n".join(cluster.events(NAME))
    for msg in ["Service %s created" % NAME, "StatefulSet %s created" % NAME] + [
            "Pod %s Database %s" % (p, w) for p in PODS for w in ("Loaded", "Updatable")]:
        tap.like(events, msg, "Event: " + msg)

    sts = cluster.get_json("statefulset", NAME) or {"spec": {}}
    tap.ok(sts["spec"].get("replicas") == 3 and
           sts["spec"].get("updateStrategy", {}).get("type") == "OnDelete",
           "the StatefulSet has 3 replicas and updates OnDelete (imageUpgradeStrategy Manual)",
           sts["spec"].get("updateStrategy"))
    tt = [c for c in sts["spec"].get("template", {}).get("spec", {}).get("containers", [])
          if c["name"] == "tt"]
    tap.ok(tt and tt[0].get("readinessProbe", {}).get("exec", {}).get("command") ==
           ["cat", "/tmp/readiness"], "the tt container is Ready by /tmp/readiness", tt)
    claims = cluster.kubectl("get", "pvc").stdout
    for pod in PODS:
        tap.like(claims, "tt-persistent-%s   Bound" % pod, "PVC tt-persistent-%s is Bound" % pod)

    # Three independent databases: no replication scheme, each made from the ConfigMap,
    # and a row written in each is in that one only.
    for i, pod in enumerate(PODS):
        tap.ok(e2e.sql(cluster, NAME, pod, "select count(*) from ttrep.replications") == [[0]],
               "%s: its database has no replication scheme" % pod)
        tap.ok(emp(pod) == [(0, "epilog")], "%s: scott.emp made by schema.sql, its row by "
               "epilog.sql (adminUser scott connects)" % pod, emp(pod))
        tap.need(e2e.sql(cluster, NAME, pod, "insert into scott.emp values (%d, '%s')" % (i + 1, pod))
                 is not None, "a row is written in %s's database before the upgrade" % pod)
    for i, pod in enumerate(PODS):
        tap.ok(emp(pod) == own_rows(i), "%s's database holds its own row only" % pod, emp(pod))

    # 2. The image upgrade strategy.
    out = cluster.kubectl("get", "ttc", NAME, "-o", "yaml").stdout
    tap.ok(e2e.grep(out, "imageUpgradeStrategy") == ["imageUpgradeStrategy: Manual"],
           "step 2: kubectl get ttc mannorepsample -o yaml | grep imageUpgradeStrategy: "
           "imageUpgradeStrategy: Manual", e2e.grep(out, "imageUpgradeStrategy"))

    # 3. kubectl edit ttc mannorepsample: the image replaced.
    before = {p: cluster.pod(p) for p in PODS}
    tap.need(all(before.values()), "the three pods run", before)
    uids = {p: before[p]["metadata"]["uid"] for p in PODS}
    out = cluster.edit("ttc", NAME, OLD, NEW)
    tap.need(out.returncode == 0 and "%s/%s edited" % (GROUP, NAME) in out.stdout,
             "step 3: kubectl edit ttc mannorepsample, image %s: edited" % NEW, out.stdout + out.stderr)
    tap.like(cluster.edited, "# Please edit the object below. Lines beginning with a '#' will be ignored,\n",
             "step 3: kubectl edit shows the guide's header")
    tap.like(cluster.edited, "apiVersion: timesten.oracle.com/v3\nkind: TimesTenClassic\n",
             "step 3: the object is edited as timesten.oracle.com/v3 TimesTenClassic")
    tap.ok((cluster.ttc(NAME) or {}).get("spec", {}).get("ttspec", {}).get("image") == NEW,
           "step 3: .spec.ttspec.image is " + NEW)

    # 4. The operator changes the StatefulSet, and nothing more.
    def template_images():
        s = cluster.get_json("statefulset", NAME)
        return s and {c["name"]: c["image"] for c in containers(s["spec"]["template"])}
    tap.need(e2e.wait_until(lambda: set((template_images() or {"": OLD}).values()) == {NEW}, 60),
             "step 4: the operator puts the new image in the StatefulSet", template_images())
    got = template_images()
    tap.ok({"ttinit", "tt", "daemonlog"} <= set(got), "step 4: its containers ttinit, tt, daemonlog "
           "all have it", got)
    lines = images("statefulset", NAME)
    tap.ok(len(lines) >= 3 and set(lines) == {NEW},
           "step 4: kubectl describe statefulset mannorepsample | grep Image: Image: %s, one line "
           "per container" % NEW, lines)
    sts = cluster.get_json("statefulset", NAME)
    tap.ok(sts["spec"].get("updateStrategy", {}).get("type") == "OnDelete",
           "step 4: the StatefulSet still updates OnDelete")

    # 5. kubectl get pods: the same three pods, running, never restarted.
    rows = cluster.get_rows("pods")
    for pod in PODS:
        check_pods_row(rows, pod, 5)
        p = cluster.pod(pod)
        tap.ok(p and p["metadata"]["uid"] == uids[pod] and
               {c["image"] for c in containers(p)} == {OLD},
               "step 5: %s is the pod from before the edit, on the old image" % pod)

    # 6. kubectl delete pod mannorepsample-2
    mark = cluster.event_mark(NAME)
    out = cluster.kubectl("delete", "pod", PODS[2], "--wait=false")
    tap.like(out.stdout, 'pod "%s" deleted' % PODS[2], "step 6: kubectl delete pod " + PODS[2])

    # 7. SomeReplicasReady, then AllReplicasReady.
    tap.ok(e2e.wait_until(lambda: ttc_row(NAME) == [NAME, "SomeReplicasReady", "N/A"], 60),
           "step 7: kubectl get ttc mannorepsample: mannorepsample SomeReplicasReady N/A", ttc_row(NAME))
    tap.need(e2e.wait_until(lambda: replaced(PODS[2], uids[PODS[2]]) and cluster.wait_event(
        NAME, mark, "TimesTenClassic was SomeReplicasReady, now AllReplicasReady", 0), 240),
             "step 7: a new mannorepsample-2 is Ready; the object is AllReplicasReady again",
             cluster.events_since(NAME, mark))
    tap.ok(ttc_row(NAME) == [NAME, "AllReplicasReady", "N/A"],
           "step 7: kubectl get ttc mannorepsample: mannorepsample AllReplicasReady N/A", ttc_row(NAME))
    events = cluster.events_since(NAME, mark)
    for msg in ["TimesTenClassic was AllReplicasReady, now SomeReplicasReady",
                "TimesTenClassic was SomeReplicasReady, now AllReplicasReady"]:
        tap.ok(msg in events, "Event: " + msg, events)

    # 8. mannorepsample-2 runs the new image; its database was loaded, not made anew.
    p = cluster.pod(PODS[2])
    lines = images("pod", PODS[2])
    tap.ok(p and len(lines) == len(containers(p)) and set(lines) == {NEW},
           "step 8: kubectl describe pod mannorepsample-2 | grep Image: Image: %s for each "
           "container" % NEW, lines)
    tap.ok(emp(PODS[2]) == own_rows(2), "mannorepsample-2's database still holds its row (and the "
           "epilog's, once)", emp(PODS[2]))
    for pod in PODS[:2]:
        p = cluster.pod(pod)
        tap.ok(p and p["metadata"]["uid"] == uids[pod] and
               {c["image"] for c in containers(p)} == {OLD} and
               all(c.get("restartCount") == 0 for c in p["status"].get("containerStatuses", [])),
               "%s is still the pod from before the edit, on the old image, never restarted" % pod)
    status = e2e.describe_pod_status(cluster.kubectl("describe", "ttc", NAME).stdout)
    tap.ok(status.get(PODS[2], {}).get("High Level State") == "Normal",
           "describe: mannorepsample-2 High Level State Normal", status.get(PODS[2]))

    # 9. The remaining pods deleted.
    mark = cluster.event_mark(NAME)
    for pod in (PODS[1], PODS[0]):
        out = cluster.kubectl("delete", "pod", pod, "--wait=false")
        tap.like(out.stdout, 'pod "%s" deleted' % pod, "step 9: kubectl delete pod " + pod)

    # 10. Kubernetes makes them again; they run.
    tap.need(e2e.wait_until(lambda: all(replaced(p, uids[p]) for p in PODS[:2]), 240),
             "step 10: new mannorepsample-0 and -1 are made and Ready")
    rows = cluster.get_rows("pods")
    for pod in PODS:
        check_pods_row(rows, pod, 10)

    # 11. They run the new image.
    for pod in PODS[:2]:
        p = cluster.pod(pod)
        lines = images("pod", pod)
        tap.ok(p and len(lines) == len(containers(p)) and set(lines) == {NEW},
               "step 11: kubectl describe pod %s | grep Image: Image: %s for each container"
               % (pod, NEW), lines)

    # 12. AllReplicasReady.
    tap.need(cluster.wait_event(NAME, mark, "TimesTenClassic was SomeReplicasReady, now AllReplicasReady",
                                180),
             "the object is AllReplicasReady again", cluster.events_since(NAME, mark))
    tap.ok(ttc_row(NAME) == [NAME, "AllReplicasReady", "N/A"],
           "step 12: kubectl get ttc mannorepsample: mannorepsample AllReplicasReady N/A", ttc_row(NAME))
    events = cluster.events_since(NAME, mark)
    for msg in ["TimesTenClassic was AllReplicasReady, now SomeReplicasReady",
                "TimesTenClassic was SomeReplicasReady, now AllReplicasReady"]:
        tap.ok(msg in events, "Event: " + msg, events)
    tap.ok(not [m for m in events if m.endswith("now NoReplicasReady")],
           "never NoReplicasReady: mannorepsample-2 served all along", events)

    # 13. ttVersion in each pod: the new release.
    for pod in PODS:
        check_ttversion(pod)

    # Nothing lost: every database holds its row; every pod is Normal.
    for i, pod in enumerate(PODS):
        tap.ok(emp(pod) == own_rows(i), "%s's database still holds its row, and only it" % pod,
               emp(pod))
    status = e2e.describe_pod_status(cluster.kubectl("describe", "ttc", NAME).stdout)
    tap.ok(sorted(status) == PODS and
           all(s.get("High Level State") == "Normal" for s in status.values()),
           "describe: every pod High Level State Normal", status)
    for name, state in (("norepsample", "AllReplicasReady"), ("repsample", "Normal")):
        changes = [m for m in cluster.events_since(name, marks[name]) if "TimesTenClassic was" in m]
        tap.ok(cluster.state(name)[0] == state and not changes,
               "%s was not disturbed: %s all along" % (name, state), changes)
except e2e.Stop as e:
    tap.diag("the steps after this one need it: %s" % e)
except Exception:
    tap.ok(False, "the test's steps ran without an error of their own", traceback.format_exc())
finally:
    if tap.failed:
        tap.diag(cluster.operator_log())
        tap.diag(cluster.operator_restarts())
    cluster.stop()
sys.exit(tap.done())
