#!/usr/bin/python3
# Conformance with Debian's python3-kubernetes: CustomObjectsApi CRUD and merge patch, watch resume with
# 410 then relist, DynamicClient over legacy discovery, event field selectors, and in-cluster access from a
# pod with its service-account token, authorised by RBAC.
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import CRD, Cluster, Tap, wait_for  # noqa: E402

t = Tap()
try:
    from kubernetes import client, config, dynamic, watch
    from kubernetes.client.rest import ApiException
except ImportError:
    print("1..0 # SKIP python3-kubernetes is not installed")
    sys.exit(0)

c = Cluster()
c.kubectl("apply", "-f", c.manifest("crd.yaml", CRD))
c.kubectl("wait", "--for", "condition=established", "crd/testclusters.example.com")
api_client = config.new_client_from_config(config_file=c.kubeconfig)
co = client.CustomObjectsApi(api_client)
core = client.CoreV1Api(api_client)
G, V, P = "example.com", "v1", "testclusters"

body = {"apiVersion": "example.com/v1", "kind": "TestCluster", "metadata": {"name": "p1"}, "spec": {"replicas": 2}}
o = co.create_namespaced_custom_object(G, V, "default", P, body)
t.ok(o["metadata"]["name"] == "p1" and o["metadata"]["generation"] == 1 and o["metadata"]["uid"],
     "CustomObjectsApi create")
try:
    co.create_namespaced_custom_object(G, V, "default", P, body)
    t.ok(False, "duplicate create raises 409")
except ApiException as e:
    t.ok(e.status == 409 and json.loads(e.body)["reason"] == "AlreadyExists", "duplicate create raises 409", e.body)
o = co.patch_namespaced_custom_object(G, V, "default", P, "p1", {"spec": {"replicas": 3}})
t.ok(o["spec"]["replicas"] == 3 and o["metadata"]["generation"] == 2, "merge patch (generation bumped)", o)
o = co.patch_namespaced_custom_object_status(G, V, "default", P, "p1", {"status": {"phase": "Ready"}})
t.ok(o["status"]["phase"] == "Ready" and o["metadata"]["generation"] == 2, "status patch", o)
stale = dict(o)
co.patch_namespaced_custom_object(G, V, "default", P, "p1", {"spec": {"replicas": 4}})
try:
    co.replace_namespaced_custom_object(G, V, "default", P, "p1", stale)
    t.ok(False, "stale replace raises 409")
except ApiException as e:
    t.ok(e.status == 409 and "the object has been modified" in json.loads(e.body)["message"], "stale replace raises 409")
lst = co.list_namespaced_custom_object(G, V, "default", P)
t.ok([i["metadata"]["name"] for i in lst["items"]] == ["p1"] and lst["metadata"]["resourceVersion"], "list")
try:
    co.get_namespaced_custom_object(G, V, "default", P, "nope")
    t.ok(False, "get missing raises 404")
except ApiException as e:
    t.ok(e.status == 404 and json.loads(e.body)["message"] == 'testclusters.example.com "nope" not found',
         "get missing raises 404", e.body)

# watch: events after a resourceVersion, then 410 once history is gone
rv = lst["metadata"]["resourceVersion"]
co.patch_namespaced_custom_object(G, V, "default", P, "p1", {"spec": {"replicas": 5}})
w = watch.Watch()
seen = []
for ev in w.stream(co.list_namespaced_custom_object, G, V, "default", P, resource_version=rv, timeout_seconds=2):
    seen.append((ev["type"], ev["object"]["spec"]["replicas"]))
t.ok(seen == [("MODIFIED", 5)], "watch from a resourceVersion sends only later changes", seen)
code, out = c.fault("expire-history")
t.ok(code == 0, "fault expire-history", out)
w = watch.Watch()
try:
    for ev in w.stream(co.list_namespaced_custom_object, G, V, "default", P, resource_version=rv):
        pass
    t.ok(False, "resuming from an expired resourceVersion raises 410")
except ApiException as e:
    t.ok(e.status == 410 and "Expired: too old resource version" in e.reason,
         "resuming from an expired resourceVersion: one silent retry, then ApiException(410)", e.reason)
lst = co.list_namespaced_custom_object(G, V, "default", P)
got = []
for ev in watch.Watch().stream(co.list_namespaced_custom_object, G, V, "default", P,
                               resource_version=lst["metadata"]["resourceVersion"], timeout_seconds=3):
    got.append(ev["type"])
    break
t.ok(got == [] or got == ["BOOKMARK"], "after a relist the watch resumes from the new resourceVersion", got)
for ev in watch.Watch().stream(co.list_namespaced_custom_object, G, V, "default", P, resource_version="0",
                               timeout_seconds=1):
    got.append((ev["type"], ev["object"]["metadata"]["name"]))
t.ok(("ADDED", "p1") in got, "watch from resourceVersion 0 replays the current objects", got)

# pagination, bookmarks, watch-list, deletecollection
for i in range(5):
    co.create_namespaced_custom_object(G, V, "default", P, {"apiVersion": "example.com/v1", "kind": "TestCluster",
                                                            "metadata": {"name": "page-%d" % i,
                                                                         "labels": {"page": "yes"}}})
first = co.list_namespaced_custom_object(G, V, "default", P, label_selector="page=yes", limit=2)
names = [i["metadata"]["name"] for i in first["items"]]
cont = first["metadata"].get("continue")
while cont:
    nxt = co.list_namespaced_custom_object(G, V, "default", P, label_selector="page=yes", limit=2, _continue=cont)
    names += [i["metadata"]["name"] for i in nxt["items"]]
    cont = nxt["metadata"].get("continue")
t.ok(names == ["page-%d" % i for i in range(5)] and first["metadata"]["remainingItemCount"] == 3,
     "limit and continue page through a list", names)
code, body = c.request("GET", "/apis/example.com/v1/namespaces/default/testclusters?watch=true&allowWatchBookmarks=true"
                       "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=3&labelSelector=page%3Dyes")
evs = [json.loads(l) for l in body.splitlines()] if code == 200 and isinstance(body, str) else []
types = [e["type"] for e in evs]
t.ok(types[:5] == ["ADDED"] * 5 and types[5] == "BOOKMARK" and
     evs[5]["object"]["metadata"].get("annotations") == {"k8s.io/initial-events-end": "true"} and
     "BOOKMARK" in types[6:], "watch-list: initial events, the end-of-initial-events bookmark, then bookmarks",
     types)
code, body = c.request("DELETE", "/apis/example.com/v1/namespaces/default/testclusters?labelSelector=page%3Dyes")
left = co.list_namespaced_custom_object(G, V, "default", P)["items"]
t.ok(code == 200 and len(body["items"]) == 5 and [i["metadata"]["name"] for i in left] == ["p1"],
     "deletecollection with a label selector", [i["metadata"]["name"] for i in left])

# dynamic client (legacy discovery)
dyn = dynamic.DynamicClient(api_client)
res = dyn.resources.get(api_version="example.com/v1", kind="TestCluster")
items = res.get(namespace="default").items
t.ok(res.namespaced and [i.metadata.name for i in items] == ["p1"], "DynamicClient finds and lists the kind")
pods = dyn.resources.get(api_version="v1", kind="Pod")
t.ok(pods.get(namespace="default").items == [], "DynamicClient lists core kinds")

# events by field selector
ev = client.CoreV1Event(metadata=client.V1ObjectMeta(name="p1.abc", namespace="default"),
                        involved_object=client.V1ObjectReference(kind="TestCluster", name="p1", namespace="default",
                                                                 api_version="example.com/v1"),
                        reason="Created", message="hello", type="Normal", count=1)
core.create_namespaced_event("default", ev)
evs = core.list_namespaced_event("default", field_selector="involvedObject.name=p1,involvedObject.kind=TestCluster")
evs2 = core.list_namespaced_event("default", field_selector="involvedObject.name=other")
t.ok([e.metadata.name for e in evs.items] == ["p1.abc"] and evs2.items == [], "list_namespaced_event(field_selector)")
cm = core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm1"),
                                                                     data={"a": "1"}))
cm = core.patch_namespaced_config_map("cm1", "default", {"data": {"b": "2"}})
t.ok(cm.data == {"a": "1", "b": "2"}, "typed patch (strategic merge) of a ConfigMap")

# in-cluster access from a pod, authorised by RBAC
POD = """apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
- {apiGroups: [example.com], resources: [testclusters/status], verbs: [patch], resourceNames: [p1]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: default}]
---
apiVersion: v1
kind: Pod
metadata: {name: incluster}
spec:
  serviceAccountName: reader
  restartPolicy: Never
  containers:
  - name: main
    image: debian:12
    command:
    - /usr/bin/python3
    - -c
    - |
      import os, json
      from kubernetes import client, config
      from kubernetes.client.rest import ApiException
      root = os.environ["POD_ROOT"]
      sa = root + "/var/run/secrets/kubernetes.io/serviceaccount/"
      config.incluster_config.InClusterConfigLoader(token_filename=sa + "token", cert_filename=sa + "ca.crt").load_and_set()
      v1 = client.CoreV1Api()
      print("pods:", [p.metadata.name for p in v1.list_namespaced_pod(open(sa + "namespace").read()).items])
      try:
          v1.list_namespaced_config_map("default")
      except ApiException as e:
          print("configmaps:", e.status, json.loads(e.body)["message"])
      co = client.CustomObjectsApi()
      co.patch_namespaced_custom_object_status("example.com", "v1", "default", "testclusters", "p1", {"status": {"phase": "FromPod"}})
      try:
          co.patch_namespaced_custom_object("example.com", "v1", "default", "testclusters", "p1", {"spec": {"replicas": 1}})
      except ApiException as e:
          print("spec:", e.status, json.loads(e.body)["message"])
"""
rc, out, err = c.kubectl("apply", "-f", c.manifest("incluster.yaml", POD))
t.ok(rc == 0, "create a pod with a service account and a Role", out + err)
ok = wait_for(lambda: c.kubectl("get", "pod", "incluster", "-o", "jsonpath={.status.phase}")[1] in ("Succeeded", "Failed"), 60)
rc, log, err = c.kubectl("logs", "incluster")
t.ok(ok and "pods: ['incluster']" in log, "in-cluster client lists pods with its token", log + err)
t.ok('configmaps: 403 configmaps is forbidden: User "system:serviceaccount:default:reader" cannot list resource '
     '"configmaps" in API group "" in the namespace "default"' in log, "RBAC refuses with the real Forbidden message", log)
t.ok('spec: 403 testclusters.example.com "p1" is forbidden: User "system:serviceaccount:default:reader" cannot patch '
     'resource "testclusters" in API group "example.com" in the namespace "default"' in log and
     co.get_namespaced_custom_object(G, V, "default", P, "p1")["status"]["phase"] == "FromPod",
     "subresource and resourceNames rules", log)
try:
    from kubernetes.stream import stream
    c.kubectl("run", "shell", "--image=busybox:1.36", "--", "sleep", "1000")
    c.kubectl("wait", "--for=condition=Ready", "pod/shell", "--timeout=60s")
    ex = stream(core.connect_get_namespaced_pod_exec, "shell", "default", command=["sh", "-c", "echo out; echo err >&2; exit 3"],
                stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    ex.run_forever(timeout=20)
    t.ok(ex.read_stdout() == "out\n" and ex.read_stderr() == "err\n" and ex.returncode == 3,
         "python stream() exec: stdout, stderr and exit code")
except ImportError:
    t.skip("python stream() exec", "python3-websocket is not installed")
rc, out, err = c.kubectl("auth", "can-i", "list", "pods", "--as=system:serviceaccount:default:reader")
rc2, out2, err2 = c.kubectl("auth", "can-i", "delete", "pods", "--as=system:serviceaccount:default:reader")
t.ok(rc == 0 and out.strip() == "yes" and rc2 != 0 and out2.strip() == "no",
     "kubectl auth can-i --as a service account", out + err + out2 + err2)
rc, out, err = c.kubectl("get", "secrets", "--as=system:serviceaccount:default:reader")
t.ok(rc != 0 and 'User "system:serviceaccount:default:reader" cannot list resource "secrets"' in err,
     "impersonation by the admin is authorised as the impersonated account", err)
t.done()
