#!/usr/bin/python3
"""The guide's upgrade chapter (seed 004), step by step on the simulated cluster: two pairs,
sample (imageUpgradeStrategy auto, upgradeDownPodTimeout 900) and sample2 (the guide's
sample2.yaml, manual), Normal on one TimesTen release. The operator is upgraded first:
crd.yaml and service_account.yaml replaced, operator.yaml edited to a new operator image
and replaced; the new operator takes both objects over without a state change, a pod
restarted or a failover. Then sample is upgraded by the operator itself (kubectl edit of
its image; the Events in the guide's order; the roles swapped once; a writer loses no
acknowledged commit and two databases are never updatable at once), and sample2 by hand:
the image edited changes only the StatefulSet, the standby pod deleted comes back on the
new release, the active pod deleted fails over to it. At the end ttVersion reports the new
release in every pod."""

import os
import re
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

OLD_RELEASE, NEW_RELEASE = "22.1.1.31.0", "22.1.1.34.0"
OLD = "registry.example.com/youraccount/timesten:" + OLD_RELEASE
NEW = "registry.example.com/youraccount/timesten:" + NEW_RELEASE
K8S = os.path.join(e2e.TOP_SRCDIR, "k8s")
GROUP = "timestenclassic.timesten.oracle.com"
OPERATOR = "timestenclassic-operator"
NEW_OPERATOR_TAG = "0.2.0"
# On the way back to Normal after a pod of the pair is lost.
HEALING = ("ActiveDown", "ActiveTakeover", "StandbyDown", "StandbyStarting", "StandbyCatchup")

# sample as the guide's kubectl describe ttc sample shows its spec.
SAMPLE = """apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: sample
spec:
  ttspec:
    storageClassName: oci
    storageSize: 250G
    image: %s
    imagePullSecret: sekret
    imagePullPolicy: Always
    dbConfigMap:
    - sample
    imageUpgradeStrategy: auto
    upgradeDownPodTimeout: 900
""" % OLD
# The guide's sample2.yaml.
SAMPLE2 = """apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
 name: sample2
spec:
  ttspec:
    storageClassName: oci
    storageSize: 250G
    image: %s
    imagePullSecret: sekret
    imagePullPolicy: Always
    dbConfigMap:
    - sample2
    imageUpgradeStrategy: manual
""" % OLD
PODS = {"sample": ["sample-0", "sample-1"], "sample2": ["sample2-0", "sample2-1"]}
CREDS = {name: (name, "scott", "tiger") for name in PODS}

tap = e2e.Tap()
cluster = e2e.Cluster(tap)
logs = {}  # object -> its EventLog
watches = {}  # object -> WatchLog of the object
writer = checker = None


def describe(name):
    return cluster.kubectl("describe", "ttc", name).stdout


def upgrade_block(text):
    """{field: value} of the Classic Upgrade Status of kubectl describe ttc ("" when
    empty)."""
    out, inside = {}, False
    for line in text.splitlines():
        if line == "  Classic Upgrade Status:":
            inside = True
            continue
        if inside:
            m = re.match(r"^    ([A-Za-z][A-Za-z ]*):\s*(.*?)\s*$", line)
            if not m:
                break
            out[m.group(1)] = m.group(2)
    return out


def pod_status(name):
    """{pod: its entry of status.podStatus}."""
    st = (cluster.ttc(name) or {}).get("status", {})
    return {p.get("name"): p for p in st.get("podStatus", [])}


def upgrade_status(name):
    return (cluster.ttc(name) or {}).get("status", {}).get("classicUpgradeStatus")


def reached_since(name, when):
    """The operator has read the agents of all the object's pods after the wall-clock time
    when."""
    st = pod_status(name)
    return len(st) == 2 and all(p.get("podStatus", {}).get("lastTimeReachable", 0) > when
                                for p in st.values())


def uids(name):
    return {p: (cluster.pod(p) or {}).get("metadata", {}).get("uid") for p in PODS[name]}


def restarts(pod):
    p = cluster.pod(pod) or {}
    return sum(c.get("restartCount", 0) for c in p.get("status", {}).get("containerStatuses", []))


def pod_images(pod):
    p = cluster.pod(pod) or {"spec": {}}
    return {c["image"] for c in p["spec"].get("initContainers", []) + p["spec"].get("containers", [])}


def template_images(name):
    s = cluster.get_json("statefulset", name) or {"spec": {"template": {"spec": {}}}}
    spec = s["spec"]["template"]["spec"]
    return {c["name"]: c["image"] for c in spec.get("initContainers", []) + spec.get("containers", [])}


def transitions(name, mark=0):
    """(highLevelState, activePods, classicUpgradeStatus.upgradeState) as the object went
    through them since mark of its WatchLog, repeats dropped."""
    out = []
    for obj in watches[name].objects(mark):
        st = obj.get("status", {})
        t = (st.get("highLevelState"), st.get("activePods"),
             (st.get("classicUpgradeStatus") or {}).get("upgradeState"))
        if t[0] is not None and (not out or out[-1] != t):
            out.append(t)
    return out


def state_changes(name, mark):
    return [m for m in logs[name].messages(mark) if m.startswith("TimesTenClassic was ")]


def check_order(name, mark, patterns, what):
    msgs = logs[name].messages(mark)
    ok, missing = e2e.in_order(msgs, patterns)
    tap.ok(ok, what, "no Event /%s/ after the ones before it in:\n%s" % (missing, "\n".join(msgs)))


def check_get_pods(step):
    """kubectl get pods: the four pods and the operator's, Running, never restarted."""
    rows = cluster.get_rows("pods")
    tap.ok(rows[:1] and rows[0][:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
           "%s: kubectl get pods: NAME READY STATUS RESTARTS AGE" % step, rows[:1])
    want = PODS["sample"] + PODS["sample2"]
    got = {r[0]: r for r in rows[1:] if r}
    ops = [r for n, r in got.items() if n.startswith(OPERATOR + "-")]
    tap.ok(all(got.get(p, [None] * 4)[2:4] == ["Running", "0"] for p in want) and
           len(ops) == 1 and ops[0][1:4] == ["1/1", "Running", "0"],
           "%s: kubectl get pods: %s Running, 0 restarts; one %s pod 1/1 Running"
           % (step, ", ".join(want), OPERATOR), "\n".join("   ".join(r) for r in rows))
    return ops[0][0] if ops else None


def check_get_ttc(step, want):
    rows = cluster.get_rows("ttc")
    tap.ok(rows[:1] == [["NAME", "STATE", "ACTIVE", "AGE"]] and
           [r[:3] for r in rows[1:]] == want and all(len(r) == 4 for r in rows[1:]),
           "%s: kubectl get ttc: %s" % (step, "; ".join(" ".join(r) for r in want)), rows)


def describe_deployment():
    return cluster.kubectl("describe", "deployment", OPERATOR).stdout


def check_ttversion(pod):
    out = e2e.ttversion(cluster, pod)
    lines = out.splitlines()
    tap.match(lines[0] if lines else "",
              r"^TimesTen Release %s \(64 bit Linux/x86_64\) \(instance1:6624\) \S+$" % re.escape(NEW_RELEASE),
              "ttVersion in %s: TimesTen Release %s (64 bit Linux/x86_64) (instance1:6624)"
              % (pod, NEW_RELEASE))
    tap.ok([line.strip().split(":")[0] for line in lines[1:]] ==
           ["Instance admin", "Instance home directory", "Group owner", "Daemon home directory",
            "PL/SQL enabled."], "ttVersion in %s: Instance admin, Instance home directory, Group "
           "owner, Daemon home directory, PL/SQL enabled." % pod, out)


def check_pair(name, active, standby, releases, step):
    """describe ttc: Active Pods, each pod's roles, Release and Prev Image."""
    text = describe(name)
    tap.match(text, r"\n  Active Pods: +%s\n" % active, "%s: describe: Active Pods %s" % (step, active))
    tap.match(text, r"\n  High Level State: +Normal\n", "%s: describe: High Level State Normal" % step)
    pods = e2e.describe_pod_status(text)
    for pod, intended, rep in ((active, "Active", "ACTIVE"), (standby, "Standby", "STANDBY")):
        got = pods.get(pod, {})
        tap.ok((got.get("Intended State"), got.get("Rep State"), got.get("High Level State"),
                got.get("Release")) == (intended, rep, "Healthy", releases[pod]),
               "%s: describe: %s Intended State %s, Rep State %s, Healthy, Release %s"
               % (step, pod, intended, rep, releases[pod]), got)
        tap.ok(got.get("Prev Image") == OLD, "%s: describe: %s Prev Image %s" % (step, pod, OLD), got)
        # The guide's keys: the ConfigMap gives adminUser and schema.sql, no cache files;
        # sample is NO RETURN; a Db Id; the state before Healthy.
        want = {"Admin User File": "true", "Schema File": "true", "Cache User File": "false",
                "Cg File": "false", "Using Twosafe": "false", "Disable Return": "false",
                "Local Commit": "false"}
        tap.ok({k: got.get(k) for k in want} == want and (got.get("Db Id") or "").isdigit() and
               got.get("Prev High Level State") not in (None, "", "Healthy"),
               "%s: describe: %s Admin User File, Schema File true, Cache User File, Cg File, "
               "Using Twosafe, Disable Return, Local Commit false; a Db Id; the Prev High Level "
               "State" % (step, pod), got)
    return text


def upgrade_operator():
    """Upgrading the Operator, as the guide does it: nothing else may change."""
    # Review the current Operator.
    first_op = check_get_pods("review")
    dep = describe_deployment()
    old_image = re.search(r"\n    Image: +(\S+)\n", dep)
    old_image = old_image.group(1) if old_image else ""
    tap.ok(old_image.startswith("registry.example.com/youraccount/ttclassic-operator:"),
           "review: kubectl describe deployment %s: Image %s" % (OPERATOR, old_image), dep)
    tap.match(dep, r"\nReplicas: +1 desired \| 1 updated \| 1 total \| 1 available \| 0 unavailable\n",
              "review: describe deployment: Replicas 1 desired | 1 updated | 1 total | 1 available")
    tap.match(dep, r"\nStrategyType: +RollingUpdate\n", "review: describe deployment: StrategyType RollingUpdate")
    new_image = old_image.rsplit(":", 1)[0] + ":" + NEW_OPERATOR_TAG
    tap.need(new_image != old_image, "the new operator image %s is another tag" % new_image)
    check_get_ttc("review", [["sample", "Normal", "sample-0"], ["sample2", "Normal", "sample2-0"]])

    before = {n: uids(n) for n in PODS}
    ttc_uids = {n: cluster.ttc(n)["metadata"]["uid"] for n in PODS}
    marks = {n: logs[n].mark() for n in PODS}
    wmarks = {n: watches[n].mark() for n in PODS}

    # Replace the crd.yaml and the service_account.yaml files.
    out = cluster.kubectl("replace", "-f", os.path.join(K8S, "crd.yaml"))
    tap.like(out.stdout, "customresourcedefinition.apiextensions.k8s.io/timestenclassics.timesten.oracle.com replaced",
             "kubectl replace -f crd.yaml: replaced")
    tap.ok({n: (cluster.ttc(n) or {}).get("metadata", {}).get("uid") for n in PODS} == ttc_uids,
           "the CRD replaced, both objects are still there (the same uids)")
    out = cluster.kubectl("replace", "-f", os.path.join(K8S, "service_account.yaml"))
    for line in ("role.rbac.authorization.k8s.io/timestenclassic-operator replaced",
                 "serviceaccount/timestenclassic-operator replaced",
                 "rolebinding.rbac.authorization.k8s.io/timestenclassic-operator replaced"):
        tap.like(out.stdout, line, "kubectl replace -f service_account.yaml: " + line)

    # Update the timestenclassic-operator Deployment: operator.yaml edited, replaced.
    with open(os.path.join(K8S, "operator.yaml")) as f:
        manifest = f.read()
    tap.need(manifest.count("image: " + old_image) == 1, "operator.yaml names the running image once")
    edited = os.path.join(cluster.dir, "operator.yaml")
    with open(edited, "w") as f:
        f.write(manifest.replace("image: " + old_image, "image: " + new_image))
    out = cluster.kubectl("replace", "-f", edited)
    tap.like(out.stdout, "deployment.apps/timestenclassic-operator replaced",
             "kubectl replace -f operator.yaml (image %s): replaced" % new_image)

    def new_operator():
        every = (cluster.get_json("pods", "-l", "name=" + OPERATOR) or {"items": []})["items"]
        ready = cluster.operator_ready()
        return len(every) == 1 and ready not in (None, first_op) and ready
    new_op = e2e.wait_until(new_operator, 120)
    tap.need(new_op, "the Deployment rolls: a new operator pod runs, the old one is gone",
             cluster.kubectl("get", "pods").stdout)
    led = time.time()
    tap.ok(e2e.wait_until(lambda: all("msg=adopting object=%s state=Normal" % n in cluster.operator_log()
                                      for n in PODS), 60),
           "the new operator adopts sample and sample2, both Normal", cluster.operator_log())
    tap.ok(e2e.wait_until(lambda: all(reached_since(n, led + 1) for n in PODS), 60),
           "the new operator manages them: it reads every pod's agent", [pod_status(n) for n in PODS])
    op_row = check_get_pods("new operator")
    tap.ok(op_row == new_op, "kubectl get pods: the operator pod is the new one (%s)" % new_op, op_row)
    dep = describe_deployment()
    tap.match(dep, r"\n    Image: +%s\n" % re.escape(new_image),
              "kubectl describe deployment %s: Image %s" % (OPERATOR, new_image))
    new_rs, old_rs = new_op.rsplit("-", 1)[0], first_op.rsplit("-", 1)[0]
    tap.match(dep, r"\nNewReplicaSet: +%s \(1/1 replicas created\)\n" % re.escape(new_rs),
              "describe deployment: NewReplicaSet %s (1/1 replicas created)" % new_rs)
    tap.like(dep, "Scaled up replica set %s " % new_rs, "describe deployment: Event Scaled up replica set %s" % new_rs)
    tap.like(dep, "Scaled down replica set %s " % old_rs,
             "describe deployment: Event Scaled down replica set %s" % old_rs)
    for name in PODS:
        changes = state_changes(name, marks[name])
        made = [m for m in logs[name].messages(marks[name]) if m.endswith(" created") or "Deleted" in m]
        tap.ok(not changes and not made, "%s: no state change and nothing made or deleted while the "
               "operator was replaced" % name, logs[name].messages(marks[name]))
        seen = {t[:2] for t in transitions(name, wmarks[name])}
        tap.ok(seen == {("Normal", name + "-0")}, "%s: Normal with %s-0 active all along" % (name, name), seen)
        now = uids(name)
        tap.ok(now == before[name] and all(restarts(p) == 0 for p in PODS[name]),
               "%s: its pods are the same (uids), never restarted: no failover" % name, (before[name], now))
    check_get_ttc("after the operator upgrade", [["sample", "Normal", "sample-0"],
                                                 ["sample2", "Normal", "sample2-0"]])

    # Check the upgrade strategy of each object.
    text = describe("sample")
    tap.match(text, r"\n    Image Upgrade Strategy: +auto\n", "describe ttc sample: Image Upgrade Strategy auto")
    tap.match(text, r"\n    Upgrade Down Pod Timeout: +900\n", "describe ttc sample: Upgrade Down Pod Timeout 900")
    tap.match(describe("sample2"), r"\n    Image Upgrade Strategy: +manual\n",
              "describe ttc sample2: Image Upgrade Strategy manual")


def auto_upgrade():
    """Perform an automated upgrade: sample, with a writer and both databases sampled."""
    global writer, checker
    checker = e2e.TwoActiveChecker(cluster, "sample", *CREDS["sample"])
    checker.start()
    writer = e2e.Writer(cluster, "sample", "scott.emp", *CREDS["sample"])
    writer.start()
    tap.need(e2e.wait_until(lambda: len(writer.acked) >= 20, 60), "commits are acknowledged on sample-0")
    mark, wmark = logs["sample"].mark(), watches["sample"].mark()
    t0 = time.monotonic()
    out = cluster.edit("timestenclassic", "sample", OLD, NEW)
    tap.need(out.returncode == 0 and "%s/sample edited" % GROUP in out.stdout,
             "kubectl edit timestenclassic sample, image %s: edited" % NEW, out.stdout + out.stderr)
    tap.ok(e2e.wait_until(lambda: set(template_images("sample").values()) == {NEW}, 60),
           "the operator puts the new image in the StatefulSet", template_images("sample"))
    sts = cluster.kubectl("describe", "statefulset", "sample").stdout
    tap.match(sts, r"\nUpdate Strategy: +OnDelete\n", "kubectl describe statefulset sample: Update Strategy OnDelete")
    lines = [line.split(None, 1)[1] for line in e2e.grep(sts, "Image:")]
    tap.ok(len(lines) >= 3 and set(lines) == {NEW} and {"ttinit", "tt", "daemonlog"} <= set(template_images("sample")),
           "describe statefulset sample: ttinit, tt and daemonlog have Image %s" % NEW, lines)

    # Monitor the automated upgrade.
    done = logs["sample"].wait("Upgrade completed in ", mark, 300)
    tap.need(done is not None and cluster.wait_state("sample", "Normal", 120, active="sample-1"),
             "the upgrade completes: Normal with sample-1 active",
             "state %s; Events since the edit:\n%s" % (cluster.state("sample"), "\n".join(logs["sample"].messages(mark))))
    elapsed = time.monotonic() - t0
    tap.ok(cluster.ttc_row("sample") == ["sample", "Normal", "sample-1"],
           "kubectl get ttc sample: sample  Normal  sample-1", cluster.ttc_row("sample"))
    seen = transitions("sample", wmark)
    # The guide's StandbyDown with sample-1 active lasts while the old active's pod comes
    # back; here that pod may be back before the operator writes the status, which then
    # goes from ActiveTakeover to StandbyStarting (the Events below still name StandbyDown).
    tap.ok({("StandbyDown", "sample-1"), ("StandbyStarting", "sample-1")} & {t[:2] for t in seen},
           "on the way, kubectl get ttc sample showed StandbyDown (or StandbyStarting) with "
           "sample-1 active", seen)
    ups = [t[2] for t in seen if t[2]]
    tap.ok(ups and {"UpgradingStandby", "UpgradingActive"} <= set(ups) and
           set(ups) <= {"UpgradingStandby", "QuiescingActive", "UpgradingActive"},
           "status.classicUpgradeStatus.upgradeState went through UpgradingStandby and UpgradingActive",
           seen)
    check_order("sample", mark, e2e.auto_upgrade_events("sample-1", "sample-0"),
                "Events: Image updated, automatic upgrade started; Deleted STANDBY pod sample-1 per "
                "upgrade; Normal, now ActiveTakeover; now StandbyDown; now Normal; Quiescing ACTIVE pod "
                "sample-0; Deleted ACTIVE pod sample-0 per upgrade; Normal, now ActiveDown; now "
                "ActiveTakeover; now StandbyDown; Upgrade of ACTIVE complete; Upgrade completed in N "
                "secs; now Normal")
    events = logs["sample"].events(mark)
    msgs = [e.get("message", "") for e in events]
    pats = e2e.auto_upgrade_events("sample-1", "sample-0")
    ours = [e for e in events if any(re.search(p, e.get("message", "")) for p in pats)]
    # Reason StateChange for all; Warning exactly for entering ActiveDown and ActiveTakeover
    # (the guide's Events table), Normal for the others and for the upgrade's own.
    tap.ok(all(e.get("reason") == "StateChange" and
               e.get("type") == ("Warning" if re.search(r"now Active(Down|Takeover)$",
                                                         e.get("message", "")) else "Normal")
               for e in ours),
           "each of them has reason StateChange; Warning only for ActiveDown and ActiveTakeover",
           ["%s %s %s" % (e.get("type"), e.get("reason"), e.get("message")) for e in ours])
    for what, n in (("now ActiveDown", 1), ("Deleted STANDBY pod", 1), ("Deleted ACTIVE pod", 1),
                    ("Image updated, automatic upgrade started", 1)):
        tap.ok(sum(what in m for m in msgs) == n, "one Event '... %s': the roles swapped once" % what
               if what == "now ActiveDown" else "one Event '%s'" % what, msgs)
    for pod, after in (("sample-1", "Deleted STANDBY pod"), ("sample-0", "Deleted ACTIVE pod")):
        i = next((k for k, m in enumerate(msgs) if after in m), len(msgs))
        tap.ok("Pod %s Release %s" % (pod, NEW_RELEASE) in msgs[i:],
               "Event: Pod %s Release %s (it came back on the new release)" % (pod, NEW_RELEASE), msgs)
    m = next((re.match(r"^Upgrade completed in (\d+) secs$", x) for x in msgs
              if x.startswith("Upgrade completed in")), None)
    tap.ok(m and int(m.group(1)) <= elapsed + 2,
           "Upgrade completed in %s secs: no more than the %.0f s it took" % (m and m.group(1), elapsed))

    text = check_pair("sample", "sample-1", "sample-0", {"sample-0": NEW_RELEASE, "sample-1": NEW_RELEASE},
                      "auto upgrade")
    tap.match(text, r"\n    Image: +%s\n" % re.escape(NEW), "describe ttc sample: Image " + NEW)
    block = upgrade_block(text)
    tap.ok(block.get("Image Update Pending") == "false" and block.get("Upgrade State") == "",
           "describe ttc sample: Classic Upgrade Status: Image Update Pending false, Upgrade State empty",
           block)
    cus = upgrade_status("sample") or {}
    tap.ok(set(e2e.UPGRADE_STATUS_KEYS) <= set(cus),
           "status.classicUpgradeStatus has %s" % ", ".join(e2e.UPGRADE_STATUS_KEYS), cus)
    tap.ok(cus.get("upgradeState") == "" and cus.get("imageUpdatePending") is False,
           "status.classicUpgradeStatus: upgradeState \"\", imageUpdatePending false", cus)
    for pod in PODS["sample"]:
        tap.ok(pod_images(pod) == {NEW}, "%s runs %s" % (pod, NEW), pod_images(pod))

    start = len(writer.acked)
    tap.ok(e2e.wait_until(lambda: len(writer.acked) >= start + 20, 60), "writes go on on sample-1")
    writer.settle()
    acked = list(writer.acked)
    keys = e2e.wait_until(lambda: e2e.keys_on(cluster, "sample", "scott.emp", *CREDS["sample"]), 30)
    missing = sorted(set(acked) - (keys or set()))
    tap.ok(acked and not missing, "all %d acknowledged commits are on the new active sample-1" % len(acked),
           "missing: %s" % missing[:20])
    writer.stop()
    checker.verdict(tap)
    tap.diag("%d commits acknowledged, %d failed during the upgrade" % (len(acked), writer.errors))
    writer = checker = None


def manual_upgrade():
    """Perform a manual upgrade: sample2."""
    obj = cluster.ttc("sample2")
    tap.ok(obj["spec"]["ttspec"].get("image") == OLD and
           obj["spec"]["ttspec"].get("imageUpgradeStrategy") == "manual",
           "sample2.yaml: image %s, imageUpgradeStrategy manual" % OLD, obj["spec"])
    before = uids("sample2")
    mark, wmark = logs["sample2"].mark(), watches["sample2"].mark()
    edited_at = time.time()
    out = cluster.edit("timestenclassic", "sample2", OLD, NEW)
    tap.need(out.returncode == 0 and "%s/sample2 edited" % GROUP in out.stdout,
             "kubectl edit timestenclassic sample2, image %s: edited" % NEW, out.stdout + out.stderr)
    tap.ok(e2e.wait_until(lambda: set(template_images("sample2").values()) == {NEW}, 60),
           "the operator puts the new image in the StatefulSet sample2", template_images("sample2"))
    sts = cluster.kubectl("describe", "statefulset", "sample2").stdout
    tap.match(sts, r"\nUpdate Strategy: +OnDelete\n", "describe statefulset sample2: Update Strategy OnDelete")
    tap.match(sts, r"\nPods Status: +2 Running / 0 Waiting / 0 Succeeded / 0 Failed\n",
              "describe statefulset sample2: Pods Status 2 Running / 0 Waiting / 0 Succeeded / 0 Failed")
    lines = [line.split(None, 1)[1] for line in e2e.grep(sts, "Image:")]
    tap.ok(len(lines) >= 3 and set(lines) == {NEW}, "describe statefulset sample2: Image %s" % NEW, lines)
    tap.ok(logs["sample2"].wait("Image updated, automatic upgrade disabled", mark, 60) is not None,
           "Event: Image updated, automatic upgrade disabled", logs["sample2"].messages(mark))
    tap.ok(e2e.wait_until(lambda: (upgrade_status("sample2") or {}).get("imageUpdatePending") is True, 30),
           "status.classicUpgradeStatus.imageUpdatePending: true", upgrade_status("sample2"))
    # Two rounds of the operator reading the pods later, nothing has restarted.
    e2e.wait_until(lambda: reached_since("sample2", edited_at + 1), 60)
    again = time.time()
    tap.ok(e2e.wait_until(lambda: reached_since("sample2", again + 1), 60),
           "the operator reads both pods again after the edit")
    tap.ok(uids("sample2") == before and all(restarts(p) == 0 and pod_images(p) == {OLD}
                                             for p in PODS["sample2"]),
           "no pod restarts: sample2-0 and sample2-1 are the pods from before, on the old image",
           (before, uids("sample2")))
    tap.ok(not state_changes("sample2", mark) and not [m for m in logs["sample2"].messages(mark) if "Deleted" in m],
           "no state change, no pod deleted", logs["sample2"].messages(mark))
    text = describe("sample2")
    tap.ok(upgrade_block(text).get("Image Update Pending") == "true",
           "describe ttc sample2: Image Update Pending true", upgrade_block(text))

    # Upgrade the standby database.
    check_get_pods("manual upgrade")
    tap.ok(cluster.ttc_row("sample2") == ["sample2", "Normal", "sample2-0"],
           "kubectl get ttc sample2: sample2  Normal  sample2-0: the standby is sample2-1",
           cluster.ttc_row("sample2"))
    mark, wmark = logs["sample2"].mark(), watches["sample2"].mark()
    out = cluster.kubectl("delete", "pod", "sample2-1", "--wait=false")
    tap.like(out.stdout, 'pod "sample2-1" deleted', "kubectl delete pod sample2-1")
    tap.ok(logs["sample2"].wait("TimesTenClassic was Normal, now ", mark, 60) is not None,
           "the operator sees the standby gone: the state leaves Normal")
    ok, seen = cluster.wait_state_via("sample2", "Normal", 300, HEALING)
    tap.need(ok and logs["sample2"].wait(", now Normal", mark, 10) is not None,
             "sample2 is Normal again", (seen, logs["sample2"].messages(mark)))
    seen = transitions("sample2", wmark)
    tap.ok({("StandbyDown", "sample2-0"), ("StandbyStarting", "sample2-0")} & {t[:2] for t in seen},
           "kubectl get ttc sample2 showed StandbyDown (or StandbyStarting: the pod was back "
           "before the status was written) with sample2-0 active", seen)
    tap.ok(cluster.ttc_row("sample2") == ["sample2", "Normal", "sample2-0"],
           "kubectl get ttc sample2: sample2  Normal  sample2-0", cluster.ttc_row("sample2"))
    check_order("sample2", mark, [r"^TimesTenClassic was Normal, now ActiveTakeover$",
                                  r"^TimesTenClassic was ActiveTakeover, now StandbyDown$",
                                  r"^TimesTenClassic was (StandbyDown|StandbyStarting|StandbyCatchup), now Normal$"],
                "Events: Normal, now ActiveTakeover; ActiveTakeover, now StandbyDown; now Normal")
    msgs = logs["sample2"].messages(mark)
    for msg in ("Pod sample2-1 Release " + NEW_RELEASE, "Pod sample2-1 RepState STANDBY"):
        tap.ok(msg in msgs, "Event: " + msg, msgs)
    tap.ok(not [x for x in msgs if "now ActiveDown" in x] and uids("sample2")["sample2-0"] == before["sample2-0"],
           "the active sample2-0 was not touched", msgs)
    text = check_pair("sample2", "sample2-0", "sample2-1",
                      {"sample2-0": OLD_RELEASE, "sample2-1": NEW_RELEASE}, "standby upgraded")
    tap.match(text, r"\n    Image: +%s\n" % re.escape(NEW), "describe ttc sample2: Image " + NEW)
    tap.ok(upgrade_block(text).get("Image Update Pending") == "true",
           "describe ttc sample2: Image Update Pending true", upgrade_block(text))

    # Failover: the active pod deleted.
    mark, wmark = logs["sample2"].mark(), watches["sample2"].mark()
    out = cluster.kubectl("delete", "pod", "sample2-0", "--wait=false")
    tap.like(out.stdout, 'pod "sample2-0" deleted', "kubectl delete pod sample2-0")
    tap.ok(logs["sample2"].wait("TimesTenClassic was Normal, now ", mark, 60) is not None,
           "the operator sees the active gone: the state leaves Normal")
    ok, seen = cluster.wait_state_via("sample2", "Normal", 300, HEALING)
    tap.need(ok and cluster.state("sample2")[1] == "sample2-1" and
             logs["sample2"].wait(", now Normal", mark, 10) is not None,
             "sample2 is Normal again with sample2-1 active", (seen, logs["sample2"].messages(mark)))
    check_order("sample2", mark, [r"^TimesTenClassic was Normal, now ActiveDown$",
                                  r"^TimesTenClassic was ActiveDown, now ActiveTakeover$",
                                  r"^TimesTenClassic was ActiveTakeover, now StandbyDown$",
                                  r"^TimesTenClassic was (StandbyDown|StandbyStarting|StandbyCatchup), now Normal$"],
                "Events: Normal, now ActiveDown; now ActiveTakeover; now StandbyDown; now Normal")
    msgs = logs["sample2"].messages(mark)
    for msg in ("Pod sample2-1 RepState ACTIVE", "Pod sample2-1 Database Updatable",
                "Pod sample2-0 Release " + NEW_RELEASE, "Pod sample2-0 RepState STANDBY"):
        tap.ok(msg in msgs, "Event: " + msg, msgs)
    text = check_pair("sample2", "sample2-1", "sample2-0",
                      {"sample2-0": NEW_RELEASE, "sample2-1": NEW_RELEASE}, "failed over")
    tap.ok(upgrade_block(text).get("Image Update Pending") == "true",
           "describe ttc sample2: Image Update Pending true (as the guide shows it after the failover)",
           upgrade_block(text))
    tap.ok(not [m for m in logs["sample2"].messages() if "per upgrade" in m],
           "the operator deleted no pod of sample2 itself")


def verify():
    """Verify the active standby pairs are upgraded."""
    check_get_pods("verify")
    check_get_ttc("verify", [["sample", "Normal", "sample-1"], ["sample2", "Normal", "sample2-1"]])
    for pod in ("sample-1", "sample-0", "sample2-1", "sample2-0"):
        check_ttversion(pod)


try:
    tap.need(cluster.install_operator(), "the operator runs from k8s/ (CRD, RBAC, Deployment)")
    for name in PODS:
        logs[name] = e2e.EventLog(cluster, name)
    out = cluster.kubectl("create", "-f", "-", input="---".join(
        [e2e.configmap("sample"), "\n" + SAMPLE, e2e.configmap("sample2"), "\n" + SAMPLE2]))
    tap.need(out.returncode == 0 and "%s/sample created" % GROUP in out.stdout and
             "%s/sample2 created" % GROUP in out.stdout,
             "sample (auto) and sample2 (the guide's sample2.yaml, manual) are created on %s, "
             "each with its ConfigMap" % OLD_RELEASE, out.stdout + out.stderr)
    for name in PODS:
        watches[name] = e2e.WatchLog(cluster, "ttc", name)
    for name in PODS:
        tap.need(cluster.wait_state(name, "Normal", 240, active=name + "-0"),
                 "%s becomes Normal with %s-0 active" % (name, name), cluster.state(name))
    for name in PODS:
        st = pod_status(name)
        tap.ok(sorted(st) == PODS[name] and all(
            p.get("timesTenStatus", {}).get("release") == OLD_RELEASE for p in st.values()),
            "%s's pods run TimesTen %s" % (name, OLD_RELEASE), st)

    upgrade_operator()
    # The automated and the manual upgrade do not depend on each other.
    for part in (auto_upgrade, manual_upgrade):
        try:
            part()
        except e2e.Stop as e:
            tap.diag("the steps after this one need it: %s" % e)
        for w in (writer, checker):
            if w is not None:
                w.stop()
        writer = checker = None
    verify()
except e2e.Stop as e:
    tap.diag("the steps after this one need it: %s" % e)
except Exception:
    tap.ok(False, "the test's steps ran without an error of their own", traceback.format_exc())
finally:
    for w in [writer, checker] + list(logs.values()) + list(watches.values()):
        if w is not None:
            w.stop()
    if tap.failed:
        for name, log in logs.items():
            tap.diag("Events of %s:\n%s" % (name, "\n".join(log.messages())))
        tap.diag(cluster.operator_log())
        tap.diag(cluster.operator_restarts())
    cluster.stop()
sys.exit(tap.done())
