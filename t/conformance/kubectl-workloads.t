#!/usr/bin/python3
# Conformance of the simulated controllers and pod runtime with kubectl 1.32: StatefulSet pods and PVCs,
# OnDelete, scaling order, garbage collection, Deployments, pod readiness, exec, logs and leases.
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import Cluster, Tap, wait_for  # noqa: E402

t = Tap()


def jp_ports(k):
    return k("get", "svc", "gen", "-o", "jsonpath={.spec.ports}")[1]


c = Cluster()
k = c.kubectl

STS = """apiVersion: v1
kind: Service
metadata: {name: sample}
spec: {clusterIP: None, selector: {app: sample}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sample}
spec:
  serviceName: sample
  replicas: 2
  selector: {matchLabels: {app: sample}}
  updateStrategy: {type: OnDelete}
  template:
    metadata: {labels: {app: sample}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: tt
        image: busybox:1.36
        command: ["sh", "-c", "echo started $HOSTNAME $POD_IP; touch $POD_ROOT/tmp/active; trap 'exit 0' TERM; while true; do sleep 0.2; done"]
        env:
        - {name: MY_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        volumeMounts: [{name: data, mountPath: /data}]
        readinessProbe:
          exec: {command: ["cat", "/tmp/active"]}
          periodSeconds: 1
      - name: idle
        image: registry.k8s.io/pause:3.10
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"""

rc, out, err = k("apply", "-f", c.manifest("sts.yaml", STS))
t.ok(rc == 0 and "statefulset.apps/sample created" in out, "apply a StatefulSet", out + err)
rc, out, err = k("wait", "--for=condition=Ready", "pod/sample-0", "pod/sample-1", "--timeout=90s")
t.ok(rc == 0, "wait --for=condition=Ready on both pods", out + err)
rc, out, err = k("get", "sts,pods,pvc")
t.ok(rc == 0 and re.search(r"^statefulset.apps/sample\s+2/2\s", out, re.M) and
     re.search(r"^pod/sample-0\s+2/2\s+Running\s+0\s", out, re.M) and
     re.search(r"^persistentvolumeclaim/data-sample-1\s+Bound\s+pvc-", out, re.M),
     "get sts,pods,pvc: ready, running, bound", out + err)
ev_out = k("get", "events", "--field-selector", "involvedObject.kind=StatefulSet", "-o",
           "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")[1]
t.ok(ev_out.index("create Pod sample-0") < ev_out.index("create Pod sample-1") if "create Pod sample-1" in ev_out
     else False, "OrderedReady: sample-0 is created before sample-1", ev_out)
pod0 = json.loads(k("get", "pod", "sample-0", "-o", "json")[1])
ip0 = pod0["status"]["podIP"]
t.ok(re.match(r"^127\.\d+\.\d+\.\d+$", ip0) and pod0["spec"]["hostname"] == "sample-0" and
     pod0["spec"]["subdomain"] == "sample" and pod0["metadata"]["labels"].get("controller-revision-hash", "").startswith("sample-"),
     "pod address, hostname, subdomain, revision label", json.dumps(pod0)[:2000])

rc, out, err = k("exec", "sample-0", "-c", "tt", "--", "sh", "-c",
                 "echo $MY_NS $MY_IP $HOSTNAME; cat $POD_ROOT/etc/hosts; echo oops >&2; exit 3")
t.ok(rc == 3 and out.startswith("default %s sample-0" % ip0) and "sample-1.sample.default.svc.cluster.local" in out
     and "oops" in err and "command terminated with exit code 3" in err,
     "exec: env, hosts file, stderr and exit code", out + err)
rc, out, err = k("exec", "-i", "sample-0", "-c", "tt", "--", "cat", stdin="through stdin\n")
t.ok(rc == 0 and out == "through stdin\n", "exec -i passes stdin", out + err)
rc, out, err = k("exec", "sample-0", "-c", "tt", "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/namespace")
t.ok(rc == 0 and out == "default", "service-account files are mounted in the pod root", out + err)
rc, out, err = k("logs", "sample-1", "-c", "tt")
t.ok(rc == 0 and out.startswith("started sample-1 127."), "logs", out + err)

k("exec", "sample-0", "-c", "tt", "--", "sh", "-c", "echo kept > $POD_ROOT/data/file")
uid0 = pod0["metadata"]["uid"]
uid1 = k("get", "pod", "sample-1", "-o", "jsonpath={.metadata.uid}")[1]
rc, out, err = k("patch", "sts", "sample", "--type=merge", "-p",
                 '{"spec":{"template":{"metadata":{"annotations":{"rev":"2"}}}}}')


def synced():
    """The StatefulSet once its controller has seen the new template (observedGeneration, a new
    updateRevision), or None."""
    s = json.loads(k("get", "sts", "sample", "-o", "json")[1] or "{}")
    st = s.get("status") or {}
    return s if st.get("observedGeneration", -1) == s.get("metadata", {}).get("generation") and \
        st.get("updateRevision") not in (None, pod0["metadata"]["labels"].get("controller-revision-hash")) else None


t.ok(wait_for(synced, 60), "the controller takes the template change in (observedGeneration, updateRevision)",
     k("get", "sts", "sample", "-o", "yaml")[1])


def pod_meta(name):
    rc, out, _ = k("get", "pod", name, "-o", "json")
    return json.loads(out)["metadata"] if rc == 0 else {}


left = [(m.get("uid"), m.get("deletionTimestamp"), (m.get("annotations") or {}).get("rev"))
        for m in map(pod_meta, ("sample-0", "sample-1"))]
t.ok(left == [(uid0, None, None), (uid1, None, None)], "OnDelete: a template change leaves running pods alone", left)
rc, out, err = k("delete", "pod", "sample-0")
t.ok(rc == 0 and 'pod "sample-0" deleted' in out, "delete a pod (graceful, its process exits on SIGTERM)", out + err)
ok = wait_for(lambda: (lambda r: r[0] == 0 and r[1].startswith("2 ") and uid0 not in r[1])(
    k("get", "pod", "sample-0", "-o", "jsonpath={.metadata.annotations.rev} {.metadata.uid}")), 60)
t.ok(ok, "the deleted pod comes back from the latest template")
k("wait", "--for=condition=Ready", "pod/sample-0", "--timeout=60s")
rc, out, err = k("exec", "sample-0", "-c", "tt", "--", "cat", "/data/file")
t.ok(rc == 0 and out == "kept\n", "its PVC (and the data in it) outlived the pod", out + err)
sts = json.loads(k("get", "sts", "sample", "-o", "json")[1])
st = sts["status"]
h0 = k("get", "pod", "sample-0", "-o", "jsonpath={.metadata.labels.controller-revision-hash}")[1]
h1 = k("get", "pod", "sample-1", "-o", "jsonpath={.metadata.labels.controller-revision-hash}")[1]
t.ok(st["updateRevision"] == h0 and st["currentRevision"] == h1 and st["currentRevision"] != st["updateRevision"]
     and st.get("updatedReplicas") == 1 and st["observedGeneration"] == sts["metadata"]["generation"],
     "revisions: updateRevision on the new pod, currentRevision not advanced under OnDelete", json.dumps(st))
rc, out, err = k("get", "controllerrevisions")
t.ok(rc == 0 and h0 in out and h1 in out, "ControllerRevisions listed", out + err)

rc, out, err = k("scale", "sts", "sample", "--replicas=3")
t.ok(rc == 0 and "scaled" in out, "scale up", out + err)
t.ok(wait_for(lambda: k("get", "pod", "sample-2", "-o", "jsonpath={.status.phase}")[1] == "Running", 60),
     "sample-2 created")
k("scale", "sts", "sample", "--replicas=1")
ok = wait_for(lambda: k("get", "pods", "-o", "name")[1].split() == ["pod/sample-0"], 60)
msgs = k("get", "events", "--field-selector", "reason=SuccessfulDelete", "-o",
         "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")[1]
t.ok(ok and msgs.index("sample-2") < msgs.index("sample-1"), "scale down removes the highest ordinal first", msgs)
rc, out, err = k("get", "pvc", "-o", "name")
t.ok(out.split() == ["persistentvolumeclaim/data-sample-0", "persistentvolumeclaim/data-sample-1",
                     "persistentvolumeclaim/data-sample-2"], "PVCs survive scale-down", out + err)

rc, out, err = k("describe", "pod", "sample-0")
t.ok(rc == 0 and re.search(r"Normal\s+Started\s+\S+\s+kubelet\s+Started container tt", out) and
     re.search(r"^IP:\s+127\.", out, re.M), "describe pod shows kubelet events", out + err)

# garbage collection
OWNED = """apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: %s, uid: "%s", blockOwnerDeletion: true}]
data: {a: b}
"""
for policy in ("background", "foreground", "orphan"):
    k("create", "configmap", "owner-" + policy)
    ouid = k("get", "cm", "owner-" + policy, "-o", "jsonpath={.metadata.uid}")[1]
    k("create", "-f", c.manifest("dep.yaml", OWNED % ("dep-" + policy, "owner-" + policy, ouid)))
    rc, out, err = k("delete", "cm", "owner-" + policy, "--cascade=" + policy, timeout=60)
    gone = lambda: k("get", "cm", "dep-" + policy)[0] != 0  # noqa: E731
    if policy == "orphan":
        # the garbage collector works through owners' deletions in order: once it has collected the
        # dependent of an owner deleted after this one, it is done with this one too
        k("create", "configmap", "owner-later")
        luid = k("get", "cm", "owner-later", "-o", "jsonpath={.metadata.uid}")[1]
        k("create", "-f", c.manifest("dep.yaml", OWNED % ("dep-later", "owner-later", luid)))
        k("delete", "cm", "owner-later", "--cascade=background", timeout=60)
        t.ok(wait_for(lambda: k("get", "cm", "dep-later")[0] != 0, 30),
             "the garbage collector deals with an owner deleted later")
        refs = k("get", "cm", "dep-orphan", "-o", "jsonpath={.metadata.ownerReferences}")
        t.ok(rc == 0 and refs[0] == 0 and refs[1] == "", "--cascade=orphan keeps the dependent, drops its ownerReference",
             refs)
    elif policy == "foreground":
        t.ok(rc == 0 and gone(), "--cascade=foreground: the dependent is gone when delete returns", out + err)
    else:
        t.ok(rc == 0 and wait_for(gone, 20), "background cascade deletes the dependent", out + err)

k("create", "namespace", "elsewhere")
k("create", "configmap", "far-owner", "-n", "elsewhere")
fuid = k("get", "cm", "far-owner", "-n", "elsewhere", "-o", "jsonpath={.metadata.uid}")[1]
k("create", "-f", c.manifest("far.yaml", OWNED % ("far-dep", "far-owner", fuid)))
t.ok(wait_for(lambda: k("get", "cm", "far-dep")[0] != 0, 20),
     "an owner in another namespace does not count: the dependent is collected")

k("delete", "sts", "sample")
t.ok(wait_for(lambda: k("get", "pods", "-o", "name")[1].strip() == "", 60), "deleting the StatefulSet deletes its pods")
t.ok(len(k("get", "pvc", "-o", "name")[1].split()) == 3, "...and keeps its PVCs")
rc, out, err = k("delete", "pvc", "data-sample-2", timeout=30)
t.ok(rc == 0 and k("get", "pvc", "data-sample-2")[0] != 0, "an unused PVC is deleted at once", out + err)

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.k8s.io/pause:3.10}]
"""
k("apply", "-f", c.manifest("deploy.yaml", DEPLOY))
rc, out, err = k("rollout", "status", "deployment/web", "--timeout=60s")
t.ok(rc == 0 and "successfully rolled out" in out, "Deployment rolls out", out + err)
rc, out, err = k("get", "deploy,rs")
t.ok(re.search(r"^deployment.apps/web\s+2/2\s+2\s+2\s", out, re.M) and re.search(r"^replicaset.apps/web-\S+\s+2\s+2\s+2\s",
                                                                             out, re.M), "get deploy,rs", out)
k("rollout", "restart", "deployment/web")
rc, out, err = k("rollout", "status", "deployment/web", "--timeout=60s")
rs = k("get", "rs", "-o", "jsonpath={range .items[*]}{.spec.replicas}{\" \"}{end}")[1].split()
t.ok(rc == 0 and sorted(rs) == ["0", "2"], "rollout restart replaces the pods through a new ReplicaSet", out + err + str(rs))

STUBBORN = """apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "trap '' TERM; echo $$ > $POD_ROOT/tmp/pid; while true; do sleep 0.1; done"]
"""
k("apply", "-f", c.manifest("stubborn.yaml", STUBBORN))
k("wait", "--for=condition=Ready", "pod/stubborn", "--timeout=60s")
pid = wait_for(lambda: k("exec", "stubborn", "--", "cat", "/tmp/pid")[1].strip(), 20)
t0 = time.monotonic()
rc, out, err = k("delete", "pod", "stubborn", timeout=60)
took = time.monotonic() - t0
t.ok(rc == 0 and 1.5 <= took and not os.path.exists("/proc/%s" % pid),
     "a process ignoring SIGTERM is killed after the grace period (%.1fs)" % took, out + err)

rc, out, err = k("create", "deployment", "gen", "--image=registry.k8s.io/pause:3.10", "--replicas=2", "--port=80")
rc2, out2, err2 = k("create", "service", "clusterip", "gen", "--tcp=80:8080")
t.ok(rc == 0 and rc2 == 0 and k("rollout", "status", "deployment/gen", "--timeout=60s")[0] == 0 and
     jp_ports(k) == '[{"name":"80-8080","port":80,"protocol":"TCP","targetPort":8080}]',
     "kubectl create deployment and create service (protobuf bodies)", out + err + out2 + err2)

LEASE = """apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: ttclassic-leader}
spec: {holderIdentity: op-1, leaseDurationSeconds: 15}
"""
k("apply", "-f", c.manifest("lease.yaml", LEASE))
rc, out, err = k("get", "lease")
t.ok(rc == 0 and re.match(r"NAME\s+HOLDER\s+AGE", out) and re.search(r"^ttclassic-leader\s+op-1\s", out, re.M),
     "get lease shows HOLDER", out + err)
k("create", "namespace", "scratch")
k("create", "configmap", "x", "-n", "scratch")
rc, out, err = k("delete", "namespace", "scratch", timeout=60)
t.ok(rc == 0 and k("get", "ns", "scratch")[0] != 0, "deleting a namespace deletes its content and then itself",
     out + err)
t.done()
