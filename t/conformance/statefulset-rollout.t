#!/usr/bin/python3
# StatefulSet updates and rollouts as Kubernetes 1.32 and kubectl 1.32 do them: ControllerRevisions (one per
# template, reused and renumbered, history limit, hash collisions, adoption), RollingUpdate with a partition
# (highest ordinal first, one at a time, gated by readiness and minReadySeconds), OnDelete, kubectl rollout
# status|history|undo|restart, updates by every patch type and PUT, forbidden changes, scaling and claims.
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import Cluster, Tap, read, wait_for  # noqa: E402

t = Tap()
c = Cluster()
k = c.kubectl

# The container marks itself ready (the readiness probe reads /tmp/ready) unless HOLD is set: then it stays
# not ready until `kubectl exec POD -- touch /tmp/ready`.
COMMAND = ('[ -n "$HOLD" ] || touch $POD_ROOT/tmp/ready; echo $CONTAINER_IMAGE; trap \'exit 0\' TERM; '
           'while true; do sleep 0.2; done')
WEB = """apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: None, selector: {app: web}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: web}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", %s]
        readinessProbe:
          exec: {command: ["cat", "/tmp/ready"]}
          periodSeconds: 1
          failureThreshold: 1
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
""" % json.dumps(COMMAND)


def get(kind, name):
    rc, out, _ = k("get", kind, name, "-o", "json")
    return json.loads(out) if rc == 0 else None


def sts(name="web"):
    return get("sts", name) or {"metadata": {}, "spec": {}, "status": {}}


def pods(app="web"):
    out = k("get", "pods", "-l", "app=" + app, "-o", "json")[1]
    return {p["metadata"]["name"]: p for p in json.loads(out or '{"items": []}')["items"]}


def summary(app="web"):
    """name -> (uid, revision label, image, terminating, ready)"""
    return {n: (p["metadata"]["uid"], p["metadata"]["labels"].get("controller-revision-hash"),
                p["spec"]["containers"][0]["image"], bool(p["metadata"].get("deletionTimestamp")),
                any(x["type"] == "Ready" and x["status"] == "True" for x in p["status"].get("conditions") or []))
            for n, p in pods(app).items()}


def settled(name="web", **want):
    """The StatefulSet once its controller has seen the latest spec and its status has the fields wanted."""
    s = sts(name)
    st = s.get("status") or {}
    if st.get("observedGeneration") != s["metadata"].get("generation"):
        return None
    return s if all(st.get(f) == v for f, v in want.items()) else None


def revisions(app="web"):
    out = k("get", "controllerrevisions", "-l", "app=" + app, "-o", "json")[1]
    return sorted(json.loads(out or '{"items": []}')["items"], key=lambda r: r["revision"])


def rollout_status(name="web", *extra, timeout="60s"):
    rc, out, err = k("rollout", "status", "sts/" + name, "--timeout=" + timeout, *extra, timeout=90)
    return rc, out, err


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def ready_since(pod):
    for x in pod["status"].get("conditions") or []:
        if x["type"] == "Ready" and x["status"] == "True":
            return x["lastTransitionTime"]
    return None


def ts(s):
    return time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


t0 = time.monotonic()
# Every change to the pods of `web`, as `kubectl get -w` reports it: "TYPE name uid deletionTimestamp ready".
watch = c.kubectl_bg("get", "pods", "-l", "app=web", "-w", "--output-watch-events", "-o",
                     'jsonpath={.type} {.object.metadata.name} {.object.metadata.uid} '
                     '{.object.metadata.deletionTimestamp} '
                     '{.object.status.conditions[?(@.type=="Ready")].status}{"\\n"}')


def seen():
    return [line.split(" ") for line in read(watch.outfile).splitlines() if line.count(" ") == 4]


def first(pred):
    """Index of the first watch event matching pred, or None."""
    return next((i for i, e in enumerate(seen()) if pred(e)), None)


def marked_deleted(uid):
    return first(lambda e: e[2] == uid and e[3] != "")


def became_ready(uid):
    return first(lambda e: e[2] == uid and e[4] == "True")


def in_order(*indexes):
    """Whether these watch events were all seen, in this order."""
    return None not in indexes and list(indexes) == sorted(indexes)


# -- creation: one ControllerRevision, every pod at it ----------------------------------------------------------
rc, out, err = k("apply", "-f", c.manifest("web.yaml", WEB))
t.ok(rc == 0 and "statefulset.apps/web created" in out, "apply a StatefulSet (RollingUpdate, partition 2)", out + err)
rc, out, err = rollout_status()
t.ok(rc == 0 and last_line(out) == "partitioned roll out complete: 3 new pods have been updated...",
     "rollout status: partitioned roll out complete: 3 new pods", out + err)
s = wait_for(lambda: settled(readyReplicas=3, availableReplicas=3), 30) or sts()
st, uid = s["status"], s["metadata"]["uid"]
rev1 = st.get("updateRevision", "")
t.ok(s["metadata"]["generation"] == 1 and st == {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                                                   "currentReplicas": 3, "updatedReplicas": 3,
                                                   "currentRevision": rev1, "updateRevision": rev1,
                                                   "collisionCount": 0, "availableReplicas": 3},
     "status: every field as the controller sets it", json.dumps(st))
revs = revisions()
cr = revs[0] if revs else {"metadata": {}}
ref = (cr["metadata"].get("ownerReferences") or [{}])[0]
t.ok(len(revs) == 1 and cr["metadata"]["name"] == rev1 and re.match(r"^web-[a-z0-9]+$", rev1) and
     cr["revision"] == 1 and ref.get("uid") == uid and ref.get("controller") is True and
     cr["metadata"]["labels"] == {"app": "web", "controller.kubernetes.io/hash": rev1[len("web-"):]} and
     cr["data"]["spec"]["template"]["$patch"] == "replace" and
     cr["data"]["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.36",
     "one ControllerRevision <sts>-<hash>, revision 1, owned by the StatefulSet, holding the template", json.dumps(revs))
rc, out, err = k("get", "controllerrevisions")
t.ok(rc == 0 and re.match(r"NAME\s+CONTROLLER\s+REVISION\s+AGE\n", out) and
     re.search(r"^%s\s+statefulset.apps/web\s+1\s" % rev1, out, re.M), "kubectl get controllerrevisions", out + err)
p = pods()
t.ok(sorted(p) == ["web-0", "web-1", "web-2"] and
     all(x["metadata"]["labels"].get("controller-revision-hash") == rev1 and
         x["metadata"].get("generateName") == "web-" for x in p.values()),
     "pods labelled controller-revision-hash=<revision>, generateName web-", json.dumps(
         {n: x["metadata"] for n, x in p.items()})[:2000])

# -- a partitioned rollout: only ordinals >= partition -----------------------------------------------------------
before = summary()
k("annotate", "sts", "web", "kubernetes.io/change-cause=image busybox:1.37")
rc, out, err = k("patch", "sts", "web", "-p", '{"spec":{"template":{"spec":{"containers":'
                 '[{"name":"main","image":"busybox:1.37"}]}}}}')
t.ok(rc == 0 and "statefulset.apps/web patched" in out and sts()["metadata"].get("generation") == 2,
     "strategic merge patch of the image: accepted, generation 2", out + err)
rc, out, err = rollout_status()
t.ok(rc == 0 and last_line(out) == "partitioned roll out complete: 1 new pods have been updated...",
     "rollout status: partitioned roll out complete: 1 new pods", out + err)
s = wait_for(lambda: settled(updatedReplicas=1, readyReplicas=3), 30) or sts()
st = s["status"]
rev2 = st.get("updateRevision", "")
now = summary()
t.ok(now["web-0"] == before["web-0"] and now["web-1"] == before["web-1"] and
     now["web-2"][0] != before["web-2"][0] and now["web-2"][1:] == (rev2, "busybox:1.37", False, True),
     "only web-2 (ordinal >= partition) is replaced, at the update revision", json.dumps([before, now]))
t.ok(rev2 != rev1 and st.get("currentRevision") == rev1 and st.get("currentReplicas") == 2 and
     st.get("updatedReplicas") == 1 and st.get("replicas") == 3 and st.get("observedGeneration") == 2,
     "status: currentRevision stays, currentReplicas 2, updatedReplicas 1", json.dumps(st))
revs = revisions()
t.ok([(r["metadata"]["name"], r["revision"]) for r in revs] == [(rev1, 1), (rev2, 2)] and
     (revs[1]["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause") == "image busybox:1.37",
     "a second ControllerRevision, revision 2, with the StatefulSet's annotations", json.dumps(revs)[:2000])
rc, out, err = k("rollout", "history", "statefulset/web")
t.ok(rc == 0 and re.search(r"^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+image busybox:1.37\n", out, re.M),
     "rollout history lists both revisions and the change cause", out + err)
rc, out, err = k("rollout", "history", "statefulset/web", "--revision=1")
rc2, out2, err2 = k("rollout", "history", "statefulset/web", "--revision=2")
t.ok(rc == 0 and rc2 == 0 and "statefulset.apps/web with revision #1" in out and
     re.search(r"Image:\s+busybox:1.36\n", out) and re.search(r"Image:\s+busybox:1.37\n", out2),
     "rollout history --revision=N shows that revision's pod template", out + err + out2 + err2)
rc, out, err = k("delete", "pod", "web-0")
t.ok(rc == 0 and wait_for(lambda: (lambda x: x.get("web-0", ("",))[0] not in ("", before["web-0"][0]) and
                                   x["web-0"][1:] == (rev1, "busybox:1.36", False, True))(summary()), 60),
     "a deleted pod below the partition comes back at the current revision", json.dumps(summary()))

# -- the rest of the rollout: partition 0 by a JSON patch --------------------------------------------------------
before = summary()
rc, out, err = k("patch", "sts", "web", "--type=json", "-p",
                 '[{"op":"replace","path":"/spec/updateStrategy/rollingUpdate/partition","value":0}]')
t.ok(rc == 0 and sts()["metadata"].get("generation") == 3, "JSON patch of the partition: generation 3", out + err)
rc, out, err = rollout_status()
t.ok(rc == 0 and last_line(out) == "partitioned roll out complete: 3 new pods have been updated...",
     "rollout status: partitioned roll out complete: 3 new pods", out + err)
s = wait_for(lambda: settled(updatedReplicas=3, currentReplicas=3, readyReplicas=3), 30) or sts()
st = s["status"]
t.ok(st.get("currentRevision") == st.get("updateRevision") == rev2 and st.get("currentReplicas") == 3 and
     st.get("updatedReplicas") == 3, "all updated: currentRevision becomes updateRevision, currentReplicas 3",
     json.dumps(st))
now = summary()
old1, old0 = before["web-1"][0], before["web-0"][0]
new1, new0 = now["web-1"][0], now["web-0"][0]
order = [marked_deleted(old1), became_ready(new1), marked_deleted(old0), became_ready(new0)]
t.ok(now["web-2"] == before["web-2"] and in_order(*order),
     "highest ordinal first, one at a time: web-1 replaced and ready before web-0 is touched", [order, seen()[-30:]])

# -- readiness gates the rollout --------------------------------------------------------------------------------
before = summary()
rc, out, err = k("patch", "sts", "web", "--type=merge", "-p", json.dumps({"spec": {"template": {"spec": {
    "containers": [dict(sts()["spec"]["template"]["spec"]["containers"][0], env=[{"name": "HOLD", "value": "1"}])]}}}}))
t.ok(rc == 0 and sts()["metadata"].get("generation") == 4, "merge patch of the template (containers replaced)",
     out + err)


def held(name):
    """The new pod `name`, running and failing its readiness probe at least twice, or None."""
    p = pods().get(name)
    if p is None or p["metadata"]["uid"] == before[name][0] or p["status"].get("phase") != "Running":
        return None
    ev = k("get", "events", "--field-selector", "involvedObject.uid=%s,reason=Unhealthy" % p["metadata"]["uid"],
           "-o", "jsonpath={.items[*].count}")[1].split()
    return p if ev and int(ev[0]) >= 2 else None


p2 = wait_for(lambda: held("web-2"), 60)
s = wait_for(lambda: settled(updatedReplicas=1, readyReplicas=2), 30) or sts()
rev3 = s["status"].get("updateRevision")
now = summary()
t.ok(p2 and now["web-2"][1:] == (rev3, "busybox:1.37", False, False) and now["web-1"] == before["web-1"] and
     now["web-0"] == before["web-0"],
     "the updated web-2 is not ready: the rollout halts, web-1 and web-0 keep running untouched",
     json.dumps([before, now, s["status"]]))
t.ok(s["status"].get("currentReplicas") == 2 and s["status"].get("availableReplicas") == 2 and
     s["status"].get("replicas") == 3, "status while halted: 3 replicas, 2 ready and available, 2 current",
     json.dumps(s["status"]))
rc, out, err = k("rollout", "status", "sts/web", "--watch=false")
t.ok(rc == 0 and out == "Waiting for 1 pods to be ready...\n", "rollout status --watch=false: waiting, exit 0",
     out + err)
rc, out, err = rollout_status("web", timeout="2s")
t.ok(rc == 1 and "Waiting for 1 pods to be ready..." in out and "error: timed out waiting for the condition" in err,
     "rollout status --timeout: still waiting, times out with exit 1", out + err)
status_bg = c.kubectl_bg("rollout", "status", "sts/web", "--timeout=90s")
k("exec", "web-2", "--", "touch", "/tmp/ready")
p1 = wait_for(lambda: held("web-1"), 60)
now = summary()
t.ok(p1 and now["web-2"][1:] == (rev3, "busybox:1.37", False, True) and now["web-0"] == before["web-0"] and
     in_order(became_ready(now["web-2"][0]), marked_deleted(before["web-1"][0])),
     "once web-2 is ready, web-1 is replaced (and held), web-0 still untouched", json.dumps(now))
k("exec", "web-1", "--", "touch", "/tmp/ready")
t.ok(wait_for(lambda: held("web-0"), 60), "once web-1 is ready, web-0 is replaced")
k("exec", "web-0", "--", "touch", "/tmp/ready")
t.ok(wait_for(lambda: status_bg.poll() is not None, 60) and status_bg.returncode == 0 and
     last_line(read(status_bg.outfile)) == "partitioned roll out complete: 3 new pods have been updated...",
     "a waiting rollout status finishes once the last pod is ready", read(status_bg.outfile))

# -- back to an earlier template (JSON patch), with minReadySeconds ------------------------------------------------
before = summary()
rc, out, err = k("patch", "sts", "web", "--type=json", "-p", json.dumps([
    {"op": "remove", "path": "/spec/template/spec/containers/0/env"},
    {"op": "add", "path": "/spec/minReadySeconds", "value": 3}]))
t.ok(rc == 0 and sts()["metadata"].get("generation") == 5, "JSON patch: the template of revision 2 again, "
     "minReadySeconds 3", out + err)
status_bg = c.kubectl_bg("rollout", "status", "sts/web", "--timeout=90s")
s = wait_for(lambda: settled(updateRevision=rev2), 30) or sts()
revs = revisions()
t.ok([(r["metadata"]["name"], r["revision"]) for r in revs] == [(rev1, 1), (rev3, 3), (rev2, 4)],
     "no new ControllerRevision: revision 2's is reused and renumbered 4", json.dumps(
         [(r["metadata"]["name"], r["revision"]) for r in revs]))


def ready_not_available():
    s = sts()
    st = s.get("status") or {}
    p = pods().get("web-2")
    if p and p["metadata"]["uid"] != before["web-2"][0] and st.get("readyReplicas") == 3 and \
            st.get("availableReplicas") == 2:
        return p, summary()
    return None


seen_window = wait_for(ready_not_available, 60, interval=0.1)
t.ok(seen_window and seen_window[1]["web-1"] == before["web-1"],
     "minReadySeconds: the new web-2 is ready but not yet available, and web-1 waits", json.dumps(seen_window))
new1 = wait_for(lambda: (lambda p: p if p and p["metadata"]["uid"] != before["web-1"][0] else None)(
    pods().get("web-1")), 60)
old1_gone = first(lambda e: e[2] == before["web-1"][0] and e[3] != "")
w2 = pods().get("web-2")
# web-1 was deleted (its deletionTimestamp is the deletion + the 2 s grace) at least minReadySeconds (less the
# timestamps' rounding) after web-2 became ready
deleted_at = [e[3] for e in seen() if e[2] == before["web-1"][0] and e[3]]
gap = ts(deleted_at[0]) - 2 - ts(ready_since(w2)) if deleted_at and w2 and ready_since(w2) else -1
t.ok(new1 and old1_gone is not None and gap >= 2, "web-1 is replaced only minReadySeconds after web-2 became ready "
     "(%ss)" % gap, json.dumps([deleted_at, ready_since(w2) if w2 else None]))
wait_for(lambda: status_bg.poll() is not None, 60)
out = read(status_bg.outfile)
# every pod ready, but the next one not yet replaced while the last stays unavailable: kubectl says so
t.ok(status_bg.returncode == 0 and
     "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...\n" in out and
     "Waiting for partitioned roll out to finish: 2 out of 3 new pods have been updated...\n" in out and
     last_line(out) == "partitioned roll out complete: 3 new pods have been updated...",
     "rollout status meanwhile: waiting for the partitioned roll out, 1 then 2 of 3, then complete", out)
s = wait_for(lambda: settled(updatedReplicas=3, availableReplicas=3, currentRevision=rev2), 30) or sts()
t.ok(s["status"].get("currentReplicas") == 3, "the rollout back to revision 2 completes", json.dumps(s["status"]))

# -- kubectl rollout restart and undo --------------------------------------------------------------------------
before = summary()
k("patch", "sts", "web", "--type=merge", "-p", '{"spec":{"minReadySeconds":0}}')
rc, out, err = k("rollout", "restart", "statefulset/web")
t.ok(rc == 0 and out.strip() == "statefulset.apps/web restarted" and
     "kubectl.kubernetes.io/restartedAt" in (sts()["spec"]["template"]["metadata"].get("annotations") or {}),
     "rollout restart patches restartedAt into the template", out + err)
rc, out, err = rollout_status()
s = wait_for(lambda: settled(updatedReplicas=3, readyReplicas=3), 30) or sts()
rev5 = s["status"].get("updateRevision")
now = summary()
t.ok(rc == 0 and rev5 not in (rev1, rev2, rev3) and s["status"].get("currentRevision") == rev5 and
     all(now[n][0] != before[n][0] and now[n][1] == rev5 for n in now) and len(revisions()) == 4,
     "...which rolls every pod to a new revision 5", json.dumps([now, s["status"]]))
rc, out, err = k("rollout", "undo", "statefulset/web")
t.ok(rc == 0 and out.strip() == "statefulset.apps/web rolled back", "rollout undo", out + err)
rc, out, err = rollout_status()
s = wait_for(lambda: settled(updatedReplicas=3, currentRevision=rev2), 60) or sts()
revs = [(r["metadata"]["name"], r["revision"]) for r in revisions()]
t.ok(rc == 0 and revs == [(rev1, 1), (rev3, 3), (rev5, 5), (rev2, 6)] and
     all(x[1:3] == (rev2, "busybox:1.37") for x in summary().values()),
     "...back to the previous revision, which is renumbered 6", json.dumps([revs, s["status"]]))
rc, out, err = k("rollout", "undo", "statefulset/web", "--to-revision=6")
rc2, out2, err2 = k("rollout", "undo", "statefulset/web", "--to-revision=2")
t.ok(rc == 0 and out.strip() == "statefulset.apps/web skipped rollback (current template already matches revision 6)"
     and rc2 == 1 and "unable to find specified revision 2 in history" in err2, "rollout undo to the current "
     "revision is skipped; to a renumbered one, not found", out + err + out2 + err2)

# -- PUT, and the changes the API server refuses -------------------------------------------------------------------
before = summary()
cur = sts()
gen = cur["metadata"]["generation"]
body = json.loads(json.dumps(cur))
body["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.36"
body["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 1
body["spec"]["replicas"] = 4
rc, out, err = k("replace", "-f", "-", stdin=json.dumps(body))
s = wait_for(lambda: settled(replicas=4, updatedReplicas=3, readyReplicas=4), 60) or sts()
now = summary()
rev7 = s["status"].get("updateRevision")
t.ok(rc == 0 and "statefulset.apps/web replaced" in out and s["metadata"].get("generation") == gen + 1 and
     s["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}} and
     rev7 == rev1 and revisions()[-1]["revision"] == 7,
     "PUT of template (revision 1's again: renumbered 7), replicas and partition: accepted, generation + 1",
     out + err)
t.ok(now.get("web-3", ("", ""))[1] == rev7 and now["web-2"][1] == rev7 and now["web-1"][1] == rev7 and
     now["web-0"] == before["web-0"] and k("get", "pvc", "data-web-3")[0] == 0,
     "scaled up to 4: web-3 (and its claim) at the update revision; from the partition up updated, web-0 not",
     json.dumps(now))
gen = s["metadata"]["generation"]
refused = []
for kind, patch, want in (
        ("strategic", '{"spec":{"updateStrategy":{"type":"OnDelete"}}}',
         "spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1, "
         "MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'"),
        ("merge", '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":-1}}}}',
         "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0"),
        ("merge", '{"spec":{"serviceName":"other"}}', "spec: Forbidden: updates to statefulset spec for fields other "
         "than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
         "'minReadySeconds' are forbidden"),
        ("merge", '{"spec":{"revisionHistoryLimit":5}}', "spec: Forbidden: updates to statefulset spec"),
        ("json", '[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/resources/requests/storage",'
                 '"value":"2Gi"}]', "spec: Forbidden: updates to statefulset spec"),
        ("merge", '{"spec":{"replicas":-1}}',
         "spec.replicas: Invalid value: -1: must be greater than or equal to 0")):
    rc, out, err = k("patch", "sts", "web", "--type=" + kind, "-p", patch)
    refused.append(rc == 1 and err.startswith('The StatefulSet "web" is invalid: ' + want))
    if not refused[-1]:
        t.diag(err)
t.ok(all(refused) and sts()["metadata"].get("generation") == gen,
     "refused: OnDelete with rollingUpdate, negative partition, serviceName, revisionHistoryLimit, claim templates, "
     "negative replicas; generation unchanged", refused)

# -- scaling: highest ordinal first, one at a time; claims are kept and reused -------------------------------------
before = summary()
claims = {n: get("pvc", "data-" + n)["metadata"]["uid"] for n in ("web-1", "web-2", "web-3")}
rc, out, err = k("patch", "sts", "web", "--type=merge", "-p", '{"spec":{"replicas":1}}')
t.ok(rc == 0 and wait_for(lambda: sorted(pods()) == ["web-0"] and settled(replicas=1, readyReplicas=1), 60),
     "merge patch of replicas: scaled down to 1", out + err)
gone3 = first(lambda e: e[0] == "DELETED" and e[2] == before["web-3"][0])
order = [marked_deleted(before["web-3"][0]), gone3, marked_deleted(before["web-2"][0]),
         first(lambda e: e[0] == "DELETED" and e[2] == before["web-2"][0]), marked_deleted(before["web-1"][0])]
t.ok(in_order(*order), "scale down: web-3, then web-2 once web-3 is gone, then web-1",
     [order, seen()[-20:]])
t.ok(all((get("pvc", "data-" + n) or {}).get("status", {}).get("phase") == "Bound" for n in claims) and
     sts()["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"},
     "the claims of the removed ordinals are kept (retention policy Retain/Retain)", k("get", "pvc")[1])
rc, out, err = k("scale", "sts", "web", "--replicas=3")
s = wait_for(lambda: settled(replicas=3, readyReplicas=3), 60)
t.ok(rc == 0 and s and {n: get("pvc", "data-" + n)["metadata"]["uid"] for n in ("web-1", "web-2")} ==
     {n: claims[n] for n in ("web-1", "web-2")} and sorted(pods()) == ["web-0", "web-1", "web-2"],
     "kubectl scale back up: web-1 and web-2 return, on their old claims", out + err)
rc, out, err = k("exec", "web-2", "--", "ls", "/data")
t.ok(rc == 0, "...mounted in the pod", out + err)

# A claim being deleted: no pod is made with it (FailedCreate, retried); once it is gone the claim is made
# again with the pod. A finalizer of the test's own keeps it Terminating after the pod has gone.
old_claim = get("pvc", "data-web-2")["metadata"]["uid"]
k("patch", "pvc", "data-web-2", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}')
k("delete", "pvc", "data-web-2", "--wait=false")
rc, out, err = k("delete", "pod", "web-2")


def claim_failure():
    ev = k("get", "events", "--field-selector", "involvedObject.name=web,reason=FailedCreate", "-o", "json")[1]
    return any("create Pod web-2 in StatefulSet web failed error: pvc data-web-2 is being deleted" in e["message"]
               for e in json.loads(ev or '{"items": []}')["items"])


t.ok(rc == 0 and wait_for(claim_failure, 30) and "web-2" not in pods(),
     "a pod whose claim is being deleted is not made: FailedCreate, pvc data-web-2 is being deleted",
     k("get", "events", "--field-selector", "involvedObject.name=web")[1])
k("patch", "pvc", "data-web-2", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
t.ok(wait_for(lambda: "web-2" in pods() and (get("pvc", "data-web-2") or {"metadata": {}})["metadata"].get("uid")
              not in (None, old_claim) and settled(replicas=3, readyReplicas=3), 60),
     "once the claim is gone, the pod is made with a new claim", k("get", "pvc,pods", "-o", "wide")[1])

# -- OnDelete -----------------------------------------------------------------------------------------------------
ONDELETE = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: od}
spec:
  replicas: 2
  selector: {matchLabels: {app: od}}
  updateStrategy: {type: OnDelete}
  template:
    metadata: {labels: {app: od}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - {name: main, image: busybox:1.36, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]}
"""
k("apply", "-f", c.manifest("od.yaml", ONDELETE))
s = wait_for(lambda: settled("od", readyReplicas=2), 60) or sts("od")
od1 = s["status"].get("updateRevision")
before = summary("od")
rc, out, err = k("set", "image", "sts/od", "main=busybox:1.37")
s = wait_for(lambda: (lambda s: s if s and s["status"].get("updateRevision") != od1 else None)(settled("od")), 30)
t.ok(rc == 0 and s and summary("od") == before and s["status"].get("currentRevision") == od1,
     "OnDelete: the template change touches no pod", json.dumps([before, summary("od")]))
od2 = (s or sts("od"))["status"].get("updateRevision")
rc, out, err = k("rollout", "status", "sts/od")
t.ok(rc == 1 and err.strip() == "error: rollout status is only available for RollingUpdate strategy type",
     "rollout status refuses OnDelete", out + err)
k("delete", "pod", "od-1")
t.ok(wait_for(lambda: (lambda x: x.get("od-1", ("",))[0] not in ("", before["od-1"][0]) and
                       x["od-1"][1:] == (od2, "busybox:1.37", False, True))(summary("od")), 60),
     "a deleted pod comes back at the update revision", json.dumps(summary("od")))
s = wait_for(lambda: settled("od", updatedReplicas=1, readyReplicas=2), 30) or sts("od")
t.ok(s["status"].get("currentRevision") == od1 and s["status"].get("currentReplicas") == 1 and
     summary("od")["od-0"] == before["od-0"], "status: 1 updated, 1 current, currentRevision not advanced",
     json.dumps(s["status"]))
# RollingUpdate without rollingUpdate: kubectl then tells revisions, not a partition
rc, out, err = k("patch", "sts", "od", "--type=merge", "-p", '{"spec":{"updateStrategy":{"type":"RollingUpdate"}}}')
t.ok(rc == 0 and sts("od")["spec"]["updateStrategy"] == {"type": "RollingUpdate"},
     "merge patch to type RollingUpdate: rollingUpdate stays unset", out + err + json.dumps(sts("od")["spec"]))
rc, out, err = rollout_status("od")
t.ok(rc == 0 and last_line(out) == "statefulset rolling update complete 2 pods at revision %s..." % od2 and
     summary("od")["od-0"][1] == od2, "rollout status: statefulset rolling update complete 2 pods at revision", out + err)

# -- adoption: orphaned pods and revisions are taken back by a new StatefulSet of the same name -----------------
before = summary("od")
rc, out, err = k("delete", "sts", "od", "--cascade=orphan")
orphans = pods("od")
t.ok(rc == 0 and len(orphans) == 2 and all(not x["metadata"].get("ownerReferences") for x in orphans.values()),
     "delete --cascade=orphan leaves the pods without owner", out + err)
k("apply", "-f", c.manifest("od2.yaml", ONDELETE.replace("busybox:1.36", "busybox:1.37")))
s = wait_for(lambda: settled("od", readyReplicas=2, updatedReplicas=2), 60) or sts("od")
owned = [(x["metadata"].get("ownerReferences") or [{}])[0].get("uid") for x in list(pods("od").values()) +
         revisions("od")]
t.ok(summary("od") == before and owned and set(owned) == {s["metadata"]["uid"]} and
     s["status"].get("updateRevision") == od2,
     "a new StatefulSet adopts the running pods (not restarted) and the revisions", json.dumps([owned, s["status"]]))

# -- revisionHistoryLimit -----------------------------------------------------------------------------------------
HIST = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: hist}
spec:
  replicas: 1
  revisionHistoryLimit: 2
  selector: {matchLabels: {app: hist}}
  template:
    metadata: {labels: {app: hist}, annotations: {v: "1"}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: registry.k8s.io/pause:3.10}]
"""
k("apply", "-f", c.manifest("hist.yaml", HIST))
names = {}


def rolled(prev):
    """hist once its rollout to a revision other than prev is complete."""
    s = settled("hist", readyReplicas=1, updatedReplicas=1)
    st = (s or {}).get("status") or {}
    return s if st.get("currentRevision") == st.get("updateRevision") not in (None, prev) else None


for v in range(1, 6):
    if v > 1:
        k("patch", "sts", "hist", "-p", '{"spec":{"template":{"metadata":{"annotations":{"v":"%d"}}}}}' % v)
    names[v] = (wait_for(lambda: rolled(names.get(v - 1)), 60) or sts("hist"))["status"].get("updateRevision")
revs = [(r["metadata"]["name"], r["revision"]) for r in revisions("hist")]
t.ok(revs == [(names[3], 3), (names[4], 4), (names[5], 5)],
     "revisionHistoryLimit 2: the live revision and the 2 newest before it are kept", json.dumps([revs, names]))
rc, out, err = k("rollout", "history", "sts/hist")
t.ok(rc == 0 and re.search(r"^REVISION\s+CHANGE-CAUSE\n3\s+<none>\n4\s+<none>\n5\s+<none>\n", out, re.M),
     "rollout history shows them", out + err)

# -- a hash collision: the name taken by someone else's ControllerRevision ----------------------------------------
COLL = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: coll}
spec:
  replicas: 1
  selector: {matchLabels: {app: coll}}
  template:
    metadata: {labels: {app: coll}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: registry.k8s.io/pause:3.10}]
"""
k("apply", "-f", c.manifest("coll.yaml", COLL))
first_name = (wait_for(lambda: settled("coll", readyReplicas=1), 60) or sts("coll"))["status"].get("updateRevision")
k("delete", "sts", "coll")
wait_for(lambda: k("get", "controllerrevision", first_name)[0] != 0, 30)
squatter = {"apiVersion": "apps/v1", "kind": "ControllerRevision", "revision": 1,
            "metadata": {"name": first_name, "labels": {"app": "elsewhere"}}, "data": {"spec": {}}}
rc, out, err = k("create", "-f", "-", stdin=json.dumps(squatter))
k("apply", "-f", c.manifest("coll.yaml", COLL))
s = wait_for(lambda: settled("coll", readyReplicas=1), 60) or sts("coll")
second = get("controllerrevision", s["status"].get("updateRevision") or "-") or {"metadata": {}}
t.ok(rc == 0 and s["status"].get("collisionCount") == 1 and s["status"].get("updateRevision") not in (None, first_name)
     and pods("coll").get("coll-0", {}).get("metadata", {}).get("labels", {}).get("controller-revision-hash") ==
     s["status"].get("updateRevision") and
     # as in CreateControllerRevision, the hash label keeps the hash computed before the collision
     (second["metadata"].get("labels") or {}).get("controller.kubernetes.io/hash") == first_name[len("coll-"):],
     "the same template whose revision name is taken: collisionCount 1 and another name", json.dumps(
         [s["status"], second["metadata"]]))

t.diag("ran in %.1fs" % (time.monotonic() - t0))
t.done()
