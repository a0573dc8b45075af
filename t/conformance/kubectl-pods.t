#!/usr/bin/python3
# The pod runtime and StatefulSet updates as kubectl 1.32 shows them: init containers, env and volumes from
# ConfigMaps and Secrets (kept current), liveness restarts, crash back-off, completion, and StatefulSet
# RollingUpdate (highest ordinal first, partition) and Parallel management.
import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import Cluster, Tap, wait_for  # noqa: E402

t = Tap()
c = Cluster()
k = c.kubectl


def jp(kind, name, path):
    return k("get", kind, name, "-o", "jsonpath={%s}" % path)[1]


POD = """apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {greeting: hello, mode: one}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: app, labels: {tier: web}}
spec:
  initContainers:
  - name: init
    image: busybox:1.36
    command: ["sh", "-c", "echo prepared > $POD_ROOT/tmp/prepared"]
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo $GREETING $PASSWORD $TIER; exec sleep 1000"]
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: conf, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
    volumeMounts:
    - {name: conf, mountPath: /etc/conf}
    - {name: creds, mountPath: /etc/creds, readOnly: true}
  volumes:
  - {name: conf, configMap: {name: conf}}
  - {name: creds, secret: {secretName: creds}}
"""
k("apply", "-f", c.manifest("pod.yaml", POD))
rc, out, err = k("wait", "--for=condition=Ready", "pod/app", "--timeout=60s")
t.ok(rc == 0, "a pod with an init container becomes Ready", out + err)
rc, out, err = k("exec", "app", "--", "cat", "/tmp/prepared", "/etc/conf/greeting", "/etc/creds/password")
t.ok(rc == 0 and out == "prepared\nhellos3cret", "init container ran first; ConfigMap and Secret volumes", out + err)
t.ok(k("logs", "app")[1] == "hello s3cret web\n", "env from ConfigMap, Secret and a label fieldRef")
t.ok(jp("pod", "app", ".status.initContainerStatuses[0].state.terminated.reason") == "Completed",
     "the init container's status is terminated/Completed")
k("patch", "configmap", "conf", "--type=merge", "-p", '{"data":{"greeting":"bonjour"}}')
t.ok(wait_for(lambda: k("exec", "app", "--", "cat", "/etc/conf/greeting")[1] == "bonjour", 30),
     "a ConfigMap volume follows changes to the ConfigMap")

LIVE = """apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "touch $POD_ROOT/tmp/healthy; exec sleep 1000"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 2
"""
k("apply", "-f", c.manifest("live.yaml", LIVE))
k("wait", "--for=condition=Ready", "pod/live", "--timeout=60s")
k("exec", "live", "--", "rm", "/tmp/healthy")
t.ok(wait_for(lambda: jp("pod", "live", ".status.containerStatuses[0].restartCount") == "1", 60),
     "a failing liveness probe restarts the container")
rc, out, err = k("describe", "pod", "live")
t.ok(re.search(r"Warning\s+Unhealthy\s+.*Liveness probe failed", out) and
     re.search(r"Normal\s+Killing\s+.*Container main failed liveness probe, will be restarted", out),
     "...with Unhealthy and Killing events", out)

JOBS = """apiVersion: v1
kind: Pod
metadata: {name: done}
spec:
  restartPolicy: Never
  containers: [{name: main, image: busybox:1.36, command: ["true"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: failed}
spec:
  restartPolicy: Never
  containers: [{name: main, image: busybox:1.36, command: ["sh", "-c", "exit 2"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers: [{name: main, image: busybox:1.36, command: ["sh", "-c", "exit 1"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: missing}
spec:
  containers: [{name: main, image: busybox:1.36, command: ["/no/such/program"]}]
"""
k("apply", "-f", c.manifest("jobs.yaml", JOBS))
t.ok(wait_for(lambda: jp("pod", "done", ".status.phase") == "Succeeded", 30), "restartPolicy Never, exit 0: Succeeded")
t.ok(wait_for(lambda: jp("pod", "failed", ".status.phase") == "Failed", 30), "restartPolicy Never, exit 2: Failed")
t.ok(wait_for(lambda: re.search(r"^crash\s+0/1\s+CrashLoopBackOff\s+[2-9]", k("get", "pod", "crash")[1], re.M), 60),
     "a crashing container goes into CrashLoopBackOff", k("get", "pod", "crash")[1])
rc, out, err = k("get", "pods")
t.ok(re.search(r"^done\s+0/1\s+Completed\s+0\s", out, re.M) and re.search(r"^failed\s+0/1\s+Error\s+0\s", out, re.M),
     "get pods shows Completed and Error", out)
t.ok(wait_for(lambda: "executable file not found" in k("describe", "pod", "missing")[1], 30),
     "a missing program is reported as kubelet does")

DNS = """apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, selector: {app: db}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "exec sleep 1000"]
        readinessProbe: {exec: {command: ["cat", "/tmp/ready"]}, periodSeconds: 1}
"""
k("apply", "-f", c.manifest("dns.yaml", DNS))
t.ok(wait_for(lambda: jp("pod", "db-1", ".status.phase") == "Running" and
              jp("pod", "db-0", ".status.phase") == "Running", 60), "two pods behind a headless Service")


def hosts(pod):
    return k("exec", pod, "--", "cat", "/etc/hosts")[1]


ip0 = jp("pod", "db-0", ".status.podIP")
h = hosts("db-1")
t.ok("db-0.db.default.svc.cluster.local" not in h and "db-1.db.default.svc.cluster.local\tdb-1" in h,
     "not-ready pods have no Service DNS name, but a pod knows its own name", h)
k("exec", "db-0", "--", "touch", "/tmp/ready")
t.ok(wait_for(lambda: "%s\tdb-0.db.default.svc.cluster.local" % ip0 in hosts("db-1"), 30),
     "a pod that becomes ready gets its DNS names", hosts("db-1"))
k("patch", "svc", "db", "--type=merge", "-p", '{"spec":{"publishNotReadyAddresses":true}}')
ip1 = jp("pod", "db-1", ".status.podIP")
t.ok(wait_for(lambda: "%s\tdb-1.db.default.svc.cluster.local" % ip1 in hosts("db-0"), 30),
     "publishNotReadyAddresses publishes not-ready pods too", hosts("db-0"))

CLAIM = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: held}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: holder}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: registry.k8s.io/pause:3.10, volumeMounts: [{name: d, mountPath: /data}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: held}}]
"""
k("apply", "-f", c.manifest("claim.yaml", CLAIM))
k("wait", "--for=condition=Ready", "pod/holder", "--timeout=60s")
rc, out, err = k("delete", "pvc", "held", "--wait=false")
t.ok(rc == 0 and re.search(r"^held\s+Terminating\s", k("get", "pvc", "held")[1], re.M) and
     "kubernetes.io/pvc-protection" in jp("pvc", "held", ".metadata.finalizers"),
     "a PVC in use stays (pvc-protection) after its deletion", out + err)
k("delete", "pod", "holder")
t.ok(wait_for(lambda: k("get", "pvc", "held")[0] != 0, 30), "...and goes once its pod is gone")

STS = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: roll}
spec:
  serviceName: roll
  replicas: 3
  podManagementPolicy: %s
  selector: {matchLabels: {app: roll}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: %d}}
  template:
    metadata: {labels: {app: roll}, annotations: {v: "%s"}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: registry.k8s.io/pause:3.10}]
"""
k("apply", "-f", c.manifest("roll.yaml", STS % ("Parallel", 0, "1")))
t.ok(wait_for(lambda: jp("sts", "roll", ".status.readyReplicas") == "3", 60), "Parallel StatefulSet becomes ready")
created = [e for e in k("get", "events", "--field-selector", "reason=SuccessfulCreate", "-o",
                        "jsonpath={range .items[*]}{.lastTimestamp} {.message}{\"\\n\"}{end}")[1].splitlines()
           if "in StatefulSet roll" in e]
t.ok(len(created) == 3, "Parallel creates every pod without waiting", created)
rev1 = jp("sts", "roll", ".status.currentRevision")
below = ("roll-0", "roll-1")
uids = [jp("pod", n, ".metadata.uid") for n in below]
k("apply", "-f", c.manifest("roll.yaml", STS % ("Parallel", 2, "2")))


def seen_ready():
    """Whether the controller has seen the new template and roll-2 ready again after its update: it acts
    on the pods before it reports their status."""
    s = json.loads(k("get", "sts", "roll", "-o", "json")[1] or "{}")
    st = s.get("status") or {}
    return st.get("observedGeneration", -1) == s.get("metadata", {}).get("generation") and st.get("readyReplicas") == 3


t.ok(wait_for(lambda: jp("pod", "roll-2", ".metadata.annotations.v") == "2" and seen_ready(), 60),
     "partition 2: roll-2 is updated")
left = [k("get", "pod", n, "-o", "jsonpath={.metadata.uid} {.metadata.deletionTimestamp} {.metadata.annotations.v}")[1]
        for n in below]
t.ok(left == ["%s  1" % u for u in uids], "...and the pods below the partition are not", left)
k("apply", "-f", c.manifest("roll.yaml", STS % ("Parallel", 0, "2")))
rc, out, err = k("rollout", "status", "sts/roll", "--timeout=60s")
st = json.loads(k("get", "sts", "roll", "-o", "json")[1])["status"]
t.ok(rc == 0 and st["currentRevision"] == st["updateRevision"] != rev1 and st.get("updatedReplicas") == 3,
     "RollingUpdate finishes and advances currentRevision", out + err + json.dumps(st))
deleted = [l for l in k("get", "events", "--field-selector", "reason=SuccessfulDelete", "-o",
                        "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")[1].splitlines() if "roll" in l]
t.ok([re.search(r"roll-\d", l).group() for l in deleted] == ["roll-2", "roll-1", "roll-0"],
     "pods are replaced from the highest ordinal down", deleted)
t.done()
