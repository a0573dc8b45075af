#!/usr/bin/python3
"""The client's one-shot calls against the simulated cluster: create, get, merge patch,
status patch (with conflicts: a racing writer and injected 409s), delete; 429 and 500
retried; a dead or silent server fails by the deadline; Events aggregated; bad
credentials and configurations reported clearly."""

import json
import os
import socket
import sys
import threading
import time

import yaml  # Debian's python3-yaml

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t", "kube"))
import ktest  # noqa: E402

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: testclusters.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: testclusters, singular: testcluster, kind: TestCluster, listKind: TestClusterList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""
TC = "example.com/v1/testclusters/TestCluster"

tap = ktest.Tap()
ktest.need_kubesim(tap)
work = ktest.Workdir()
try:
    cl = ktest.Cluster(work)
except Exception as e:
    tap.bail(str(e))
kc = cl.kubeconfig


def kt(*args, **kw):
    return ktest.run_ktool(list(args), kubeconfig=kc, **kw)


def timed(*args, **kw):
    t0 = time.monotonic()
    r = kt(*args, **kw)
    return r + (time.monotonic() - t0,)


# -- create, get, patch, delete --------------------------------------------------------------
cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"}, "data": {"a": "1"}}
rc, res, err = kt("create", "configmaps", "default", json.dumps(cm))
tap.is_(rc, 0, "create succeeds")
tap.ok(isinstance(res, dict) and res.get("code") == 201 and res["object"]["metadata"].get("uid"),
       "with 201 and the stored object (uid set by the server)")
rc, res, err = kt("create", "configmaps", "default", json.dumps(cm))
tap.ok(rc == 1 and res.get("err") == "already exists" and res.get("reason") == "AlreadyExists",
       "a second create is 'already exists'")
rc, res, err = kt("get", "configmaps", "default", "cm1")
tap.ok(rc == 0 and res["object"]["data"] == {"a": "1"}, "get returns the object")
rc, res, err = kt("get", "configmaps", "default", "nope")
tap.ok(rc == 1 and res.get("err") == "not found" and res.get("code") == 404,
       "get of a missing object is 'not found'")
tap.like(res.get("message", ""), 'configmaps "nope" not found', "with the server's message")
rc, res, err = kt("patch", "configmaps", "default", "cm1", '{"data":{"b":"2","a":null}}')
tap.is_(rc, 0, "a merge patch succeeds")
tap.is_(json.loads(cl.kubectl("get", "configmap", "cm1", "-o", "json"))["data"], {"b": "2"},
        "kubectl sees the patched data (null deleted a key)")
rc, res, err = kt("patch", "configmaps", "default", "cm1", '{"metadata":{"resourceVersion":"1"}}')
tap.ok(rc == 1 and res.get("err") == "conflict", "a stale resourceVersion in a patch is a conflict")
rc, res, err = kt("get", "configmaps", "default", "bad/name")
tap.ok(rc == 2 and "rejected" in str(res), "an invalid name is refused before any request")
tap.like(err, "invalid request", "and logged")
rc, res, err = kt("delete", "configmaps", "default", "cm1", "foreground")
tap.is_(rc, 0, "delete succeeds")
rc, res, err = kt("get", "configmaps", "default", "cm1")
tap.is_(res.get("err"), "not found", "and the object is gone")
rc, res, err = kt("delete", "configmaps", "default", "cm1")
tap.is_(res.get("err"), "not found", "deleting it again is 'not found'")

# -- status patches and conflicts --------------------------------------------------------------
cl.kubectl("apply", "-f", "-", input=CRD.encode())
ktest.wait_for(20, lambda: "testclusters" in cl.kubectl("api-resources", check=False))
obj = {"apiVersion": "example.com/v1", "kind": "TestCluster", "metadata": {"name": "t1"},
       "spec": {"replicas": 2}}
rc, res, err = kt("create", TC, "default", json.dumps(obj))
tap.is_(rc, 0, "a custom resource is created")
rv1 = res["object"]["metadata"]["resourceVersion"] if rc == 0 else "0"
rc, res, err = kt("patch-status", TC, "default", "t1", '{"status":{"phase":"Initializing"}}')
tap.ok(rc == 0 and res["object"].get("status", {}).get("phase") == "Initializing",
       "a status patch writes the status subresource")
rv2 = res["object"]["metadata"]["resourceVersion"] if rc == 0 else "0"
tap.is_(res["object"]["metadata"].get("generation"), 1, "without a generation bump")

# Another writer changes the spec after we read the object: our guarded status patch
# conflicts, is re-read and re-applied on top of the other change.
cl.kubectl("patch", "testcluster", "t1", "--type=merge", "-p", '{"spec":{"replicas":3}}')
patch = json.dumps({"metadata": {"resourceVersion": rv2}, "status": {"phase": "Normal"}})
rc, res, err = kt("patch-status", TC, "default", "t1", patch)
tap.is_(rc, 0, "a status patch racing another writer succeeds")
tap.ok(res.get("attempts", 0) >= 3, "after a 409, a re-read and a second patch (%s requests)"
       % res.get("attempts"))
o = json.loads(cl.kubectl("get", "testcluster", "t1", "-o", "json"))
tap.ok(o["status"]["phase"] == "Normal" and o["spec"]["replicas"] == 3,
       "the server holds our status and the other writer's spec")

cl.fault("inject", "--code", "409", "--count", "2", "--method", "PATCH", "--path", "testclusters/t1/status")
rc, res, err = kt("patch-status", TC, "default", "t1", '{"status":{"phase":"Ready"}}')
tap.ok(rc == 0 and res.get("attempts") == 5,
       "two injected 409s on a status patch are retried (patch, get, patch, get, patch: %s)"
       % res.get("attempts"))
cl.fault("inject", "--code", "409", "--count", "20", "--method", "PATCH", "--path", "testclusters/t1/status")
rc, res, err = kt("patch-status", TC, "default", "t1", '{"status":{"phase":"Never"}}')
tap.ok(rc == 1 and res.get("err") == "conflict", "endless conflicts give up with 'conflict'")
cl.fault("clear")
rc, res, err = kt("patch", TC, "default", "t1", '{"spec":{"replicas":4}}')
tap.is_(res.get("object", {}).get("metadata", {}).get("generation"), 3, "a spec patch bumps the generation")

# -- retries -----------------------------------------------------------------------------------
cl.fault("inject", "--code", "429", "--count", "1", "--method", "GET", "--path", "configmaps/kube-root-ca.crt")
rc, res, err, took = timed("get", "configmaps", "default", "kube-root-ca.crt")
tap.ok(rc == 0 and res.get("attempts") == 2, "a 429 is retried")
tap.ok(took >= 0.9, "after its Retry-After (1 s; took %.2f s)" % took)
cl.fault("inject", "--code", "500", "--count", "2", "--method", "GET", "--path", "configmaps/kube-root-ca.crt")
rc, res, err = kt("get", "configmaps", "default", "kube-root-ca.crt")
tap.ok(rc == 0 and res.get("attempts") == 3, "500s are retried with backoff")
cl.fault("inject", "--code", "500", "--count", "100", "--method", "GET", "--path", "configmaps/kube-root-ca.crt")
rc, res, err, took = timed("--timeout", "2000", "get", "configmaps", "default", "kube-root-ca.crt")
tap.ok(rc == 1 and res.get("err") in ("server unavailable", "deadline exceeded") and res.get("code") == 500,
       "a server that keeps failing: the call fails with its last error (%s)" % res.get("err"))
tap.ok(took < 4, "within its 2 s deadline (took %.2f s)" % took)
cl.fault("clear")
cl.fault("inject", "--code", "422", "--count", "1", "--method", "POST", "--path", "configmaps")
rc, res, err = kt("create", "configmaps", "default", json.dumps(cm))
tap.ok(rc == 1 and res.get("err") == "invalid request" and res.get("attempts") == 1,
       "a 4xx is not retried")
cl.fault("clear")

# -- dead and silent servers ----------------------------------------------------------------------
with open(kc) as f:
    cfg = yaml.safe_load(f)  # the emulator writes YAML, as kubeadm does; JSON is YAML too
dead = ktest.free_port()
cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:%d" % dead
with open(work.file("dead.kubeconfig"), "w") as f:
    json.dump(cfg, f)
t0 = time.monotonic()
r = ktest.run_ktool(["--timeout", "1500", "get", "configmaps", "default", "x"],
                    kubeconfig=work.file("dead.kubeconfig"))
took = time.monotonic() - t0
tap.ok(r[0] == 1 and r[1].get("err") in ("server unavailable", "deadline exceeded"),
       "a dead server: the call fails (%s)" % r[1].get("err"))
tap.like(r[1].get("message", ""), "cannot connect", "saying it cannot connect")
tap.ok(took < 3.5, "by its 1.5 s deadline (took %.2f s)" % took)

silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(16)
conns = []
threading.Thread(target=lambda: [conns.append(silent.accept()) for _ in range(16)], daemon=True).start()
cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:%d" % silent.getsockname()[1]
with open(work.file("silent.kubeconfig"), "w") as f:
    json.dump(cfg, f)
t0 = time.monotonic()
r = ktest.run_ktool(["--timeout", "1500", "get", "configmaps", "default", "x"],
                    kubeconfig=work.file("silent.kubeconfig"))
took = time.monotonic() - t0
tap.ok(r[0] == 1 and r[1].get("err") == "deadline exceeded", "a server that never answers: deadline exceeded")
tap.ok(1.4 <= took < 3.5, "at its 1.5 s deadline (took %.2f s)" % took)

cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:%d" % cl.port
cfg["users"][0]["user"]["token"] = "wrong"
with open(work.file("badtoken.kubeconfig"), "w") as f:
    json.dump(cfg, f)
r = ktest.run_ktool(["get", "configmaps", "default", "x"], kubeconfig=work.file("badtoken.kubeconfig"))
tap.ok(r[0] == 1 and r[1].get("err") == "unauthorized" and r[1].get("code") == 401,
       "a wrong token is 'unauthorized'")
cfg["clusters"][0]["cluster"]["server"] = "https://localhost:%d" % cl.port
cfg["clusters"][0]["cluster"]["tls-server-name"] = "not-the-server.example"
with open(work.file("badname.kubeconfig"), "w") as f:
    json.dump(cfg, f)
r = ktest.run_ktool(["get", "configmaps", "default", "x"], kubeconfig=work.file("badname.kubeconfig"))
tap.ok(r[0] == 1 and r[1].get("err") == "server not trusted", "a server not matching tls-server-name is refused")
tap.like(r[1].get("message", ""), "hostname mismatch", "naming the mismatch")
with open(work.file("broken.kubeconfig"), "w") as f:
    f.write("clusters: [\n")
r = ktest.run_ktool(["get", "configmaps", "default", "x"], kubeconfig=work.file("broken.kubeconfig"))
tap.ok(r[0] == 1 and "broken.kubeconfig: line" in r[2], "a broken kubeconfig is reported with its place")
tap.ok("Traceback" not in r[2] and "AddressSanitizer" not in r[2], "without a crash")

# -- Events ------------------------------------------------------------------------------------------
rc, out, err = kt("event", TC, "default", "t1", "Normal", "StateChange", "Active is ready", "3")
tap.is_(rc, 0, "three identical Events are recorded")
evs = json.loads(cl.kubectl("get", "events", "--field-selector", "involvedObject.name=t1", "-o", "json"))["items"]
same = [e for e in evs if e.get("reason") == "StateChange"]
tap.is_(len(same), 1, "as one Event object")
if same:
    e = same[0]
    tap.is_(e.get("count"), 3, "with count 3")
    tap.ok(e["involvedObject"].get("kind") == "TestCluster" and e["involvedObject"].get("uid"),
           "about the object (kind and uid)")
    tap.ok(e.get("source", {}).get("component") == "ktool" and e.get("type") == "Normal",
           "with its source and type")
    tap.ok(e.get("firstTimestamp") and e.get("lastTimestamp"), "and first and last timestamps")
desc = cl.kubectl("describe", "testcluster", "t1")
tap.like(desc, r"Normal\s+StateChange\s+.*\(x3 over .*ktool\s+Active is ready", "kubectl describe shows it (x3)")
for i in range(12):
    kt("event", TC, "default", "t1", "Warning", "Probe", "probe %d failed" % i)
evs = json.loads(cl.kubectl("get", "events", "--field-selector", "involvedObject.name=t1", "-o", "json"))["items"]
probes = [e for e in evs if e.get("reason") == "Probe"]
tap.ok(len(probes) == 12, "Events from separate processes are separate objects (%d)" % len(probes))
rc, out, err = kt("event", TC, "default", "t1", "Warning", "Spam", "again", "40")
evs = json.loads(cl.kubectl("get", "events", "--field-selector", "reason=Spam", "-o", "json"))["items"]
tap.ok(len(evs) == 1 and evs[0].get("count") == 25,
       "a burst of 40 repeats is cut to 25 by the spam filter (count %s)" % (evs[0].get("count") if evs else None))

# -- in-cluster configuration, and a token re-read after a 401 ------------------------------------
root = work.file("podroot")
sa = os.path.join(root, "var/run/secrets/kubernetes.io/serviceaccount")
os.makedirs(sa)
with open(os.path.join(cl.dir, "admin.token")) as f:
    good = f.read().strip()
with open(os.path.join(sa, "token"), "w") as f:
    f.write("expired-token\n")
with open(os.path.join(cl.dir, "pki", "ca.crt")) as f, open(os.path.join(sa, "ca.crt"), "w") as g:
    g.write(f.read())
with open(os.path.join(sa, "namespace"), "w") as f:
    f.write("default\n")
env = {"POD_ROOT": root, "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(cl.port)}
w = ktest.Ktool(work, "incluster", ["watch", "configmaps"], env=env)
tap.ok(w.wait_line("SYNCED", 2) is None, "in-cluster with a stale token: refused")
with open(os.path.join(sa, "token"), "w") as f:
    f.write(good + "\n")
line = w.wait_line("SYNCED", 30)
tap.ok(line is not None, "once the kubelet rewrites the token file, it is re-read after a 401")
everywhere = json.loads(cl.kubectl("get", "configmaps", "--all-namespaces", "-o", "json"))["items"]
tap.ok(line is not None and int(line[2]) == len(everywhere) and
       len({o["metadata"]["namespace"] for o in everywhere}) > 1,
       "an informer without a namespace lists every namespace (%s of %d)" % (line[2] if line else None,
                                                                             len(everywhere)))
tap.like(w.err(), 'msg="bearer token re-read"', "and the re-read is logged")
tap.like(w.err(), 'server=https://127.0.0.1:%d namespace=default' % cl.port,
         "the service host, port and namespace come from the pod")
tap.ok(good not in w.err() and good not in w.out(), "the token never appears in the output")
w.stop()
r = ktest.run_ktool(["get", "configmaps", "default", "x"], env={"KUBERNETES_SERVICE_HOST": ""})
tap.ok(r[0] == 1 and "KUBERNETES_SERVICE_HOST" in r[2], "outside a pod without a kubeconfig: a clear error")

log = cl.log()
tap.ok("Traceback" not in log, "the simulated cluster logged no traceback")
tap.done()
