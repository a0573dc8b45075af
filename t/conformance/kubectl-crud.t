#!/usr/bin/python3
# Conformance of the simulated API server with the real kubectl 1.32: discovery, printing, create/apply/
# edit/patch/replace, watch, describe, events, delete with finalizers, and error shapes.
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import CRD, Cluster, Tap, cr, read, wait_for  # noqa: E402

t = Tap()
c = Cluster()
k = c.kubectl

rc, out, err = k("apply", "-f", c.manifest("crd.yaml", CRD))
t.ok(rc == 0 and "customresourcedefinition.apiextensions.k8s.io/testclusters.example.com created" in out,
     "kubectl apply creates the CRD", out + err)
rc, out, err = k("wait", "--for", "condition=established", "crd/testclusters.example.com", "--timeout=30s")
t.ok(rc == 0 and "condition met" in out, "kubectl wait --for condition=established", out + err)

rc, out, err = k("api-resources")
line = next((l for l in out.splitlines() if l.startswith("testclusters")), "")
t.ok(rc == 0 and re.match(r"testclusters\s+ttc\s+example.com/v1\s+true\s+TestCluster", line),
     "api-resources lists the CRD with its short name", out + err)
t.ok(re.search(r"^pods\s+po\s+v1\s+true\s+Pod$", out, re.M) and re.search(r"^statefulsets\s+sts\s+apps/v1", out, re.M),
     "api-resources lists built-in kinds", out)
rc, out, err = k("api-versions")
t.ok(rc == 0 and "example.com/v1" in out.split() and "example.com/v1beta1" in out.split() and "v1" in out.split(),
     "api-versions lists served versions", out + err)

rc, out, err = k("get", "ttc", "-v=6", env={"KUBECACHEDIR": os.path.join(c.tmp, "cold-cache")})
reqs = re.findall(r"round_trippers.go:\d+\] (\w+ \S+) (\d+)", err)
t.ok(rc == 0 and "No resources found in default namespace." in err, "get on an empty kind", out + err)
t.ok([r[0].replace(c.url, "") for r in reqs] == ["GET /api?timeout=32s", "GET /apis?timeout=32s",
                                                  "GET /apis/example.com/v1/namespaces/default/testclusters?limit=500"],
     "a cold cache needs only the aggregated discovery documents", "\n".join(r[0] for r in reqs))

f1 = c.manifest("t1.yaml", cr("t1"))
rc, out, err = k("create", "-f", f1)
t.ok(rc == 0 and out.strip() == "testcluster.example.com/t1 created", "create with default validation", out + err)
rc, out, err = k("create", "-f", f1)
t.ok(rc != 0 and 'Error from server (AlreadyExists): error when creating "%s": testclusters.example.com "t1" already '
     'exists' % f1 in err, "second create is AlreadyExists", err)

rc, out, err = k("get", "ttc")
lines = out.splitlines()
t.ok(rc == 0 and re.match(r"NAME\s+PHASE\s+REPLICAS\s+AGE$", lines[0]) and re.match(r"t1\s+2\s+\d+s$", lines[1]),
     "get prints the CRD's printer columns (blank for a missing value)", out + err)
rc, out, err = k("get", "ttc", "-o", "wide")
t.ok(rc == 0 and re.match(r"NAME\s+PHASE\s+REPLICAS\s+AGE\s+IMAGE$", out.splitlines()[0]) and "tt:1" in out,
     "-o wide adds priority columns", out + err)
rc, out, err = k("get", "ttc", "-A")
t.ok(rc == 0 and re.match(r"NAMESPACE\s+NAME\s+PHASE", out.splitlines()[0]) and re.search(r"^default\s+t1\s", out, re.M),
     "-A adds the NAMESPACE column", out + err)
k("create", "-f", c.manifest("t0.yaml", cr("t0")))
rc, out, err = k("get", "ttc", "--sort-by=.metadata.name", "-o", "name")
t.ok(rc == 0 and out.split() == ["testcluster.example.com/t0", "testcluster.example.com/t1"], "--sort-by", out + err)
rc, out, err = k("get", "ttc", "t1", "-o", "yaml")
t.ok(rc == 0 and re.search(r"^  uid: [0-9a-f-]{36}$", out, re.M) and re.search(r'^  resourceVersion: "\d+"$', out, re.M)
     and re.search(r"^  generation: 1$", out, re.M), "-o yaml shows uid, resourceVersion, generation", out + err)
rc, out, err = k("get", "testclusters.v1beta1.example.com", "t1", "-o", "jsonpath={.apiVersion}")
t.ok(rc == 0 and out == "example.com/v1beta1", "a second served version serves the same object", out + err)

fa = c.manifest("ta.yaml", cr("ta"))
rc, out, err = k("apply", "-f", fa)
t.ok(rc == 0 and out.strip() == "testcluster.example.com/ta created", "apply: created", out + err)
c.manifest("ta.yaml", cr("ta", replicas=3))
rc, out, err = k("apply", "-f", fa, "-v=6")
t.ok(rc == 0 and out.strip() == "testcluster.example.com/ta configured" and
     re.search(r"PATCH \S+/testclusters/ta\?fieldManager=kubectl-client-side-apply&fieldValidation=Strict 200 OK", err),
     "apply: configured (a PATCH with strict field validation)", out + err)
rc, out, err = k("apply", "-f", fa)
t.ok(rc == 0 and out.strip() == "testcluster.example.com/ta unchanged", "apply: unchanged", out + err)
rc, out, err = k("get", "ttc", "ta", "-o", "json")
obj = json.loads(out) if rc == 0 else {}
ann = (obj.get("metadata", {}).get("annotations") or {}).get("kubectl.kubernetes.io/last-applied-configuration", "")
t.ok('"replicas":3' in ann and obj["spec"]["replicas"] == 3 and obj["metadata"]["generation"] == 2,
     "last-applied annotation stored, generation bumped once", out + err)

editor = c.manifest("editor.sh", "#!/bin/sh\nsed -i 's/replicas: 2/replicas: 4/' \"$1\"\n")
os.chmod(editor, 0o755)
rc, out, err = k("edit", "ttc", "t1", env={"KUBE_EDITOR": editor})
t.ok(rc == 0 and "testcluster.example.com/t1 edited" in out, "edit: edited", out + err)
rc, out, err = k("edit", "ttc", "t1", env={"KUBE_EDITOR": "true"})
t.ok(rc == 0 and "Edit cancelled, no changes made." in (out + err), "edit without change is cancelled", out + err)

rc, out, err = k("patch", "ttc", "t1", "-p", '{"spec":{"replicas":5}}')
t.ok(rc != 0 and "the body of the request was in an unknown format - accepted media types include: "
     "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml" in err,
     "strategic patch of a custom resource is refused (415)", out + err)
rc, out, err = k("patch", "ttc", "t1", "--type=merge", "-p", '{"spec":{"replicas":5}}')
t.ok(rc == 0 and "testcluster.example.com/t1 patched" in out, "merge patch", out + err)
rc, out, err = k("patch", "ttc", "t1", "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":6}]')
t.ok(rc == 0 and "patched" in out, "json patch", out + err)
gen = lambda: json.loads(k("get", "ttc", "t1", "-o", "json")[1])  # noqa: E731
before = gen()
rc, out, err = k("patch", "ttc", "t1", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Ready"},"spec":{"replicas":9}}')
after = gen()
t.ok(rc == 0 and after["status"]["phase"] == "Ready" and after["spec"]["replicas"] == 6 and
     after["metadata"]["generation"] == before["metadata"]["generation"],
     "status patch changes status only, without a generation bump", json.dumps(after))
rc, out, err = k("patch", "ttc", "t1", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":5}}')
t.ok(rc != 0 and "status.phase" in err and "must be of type string" in err,
     "a status write is validated against the schema", out + err)
rc, out, err = k("patch", "ttc", "t1", "--type=merge", "-p", '{"status":{"phase":"Broken"},"spec":{"replicas":7}}')
after2 = gen()
t.ok(after2["status"]["phase"] == "Ready" and after2["metadata"]["generation"] == after["metadata"]["generation"] + 1,
     "main-resource patch ignores status and bumps generation on spec change", json.dumps(after2))
rc, out, err = k("patch", "ttc", "t1", "--type=merge", "-p", '{"spec":{"replicas":7}}')
after3 = gen()
t.ok(rc == 0 and after3["metadata"]["resourceVersion"] == after2["metadata"]["resourceVersion"],
     "a no-op patch keeps the resourceVersion", json.dumps(after3))
old = dict(after3)
k("patch", "ttc", "t1", "--type=merge", "-p", '{"spec":{"replicas":8}}')
rc, out, err = k("replace", "-f", c.manifest("old.json", json.dumps(old)))
t.ok(rc != 0 and 'Operation cannot be fulfilled on testclusters.example.com "t1": the object has been modified; '
     'please apply your changes to the latest version and try again' in err, "stale replace is a Conflict", out + err)
rc, out, err = k("create", "-f", c.manifest("bad.yaml", cr("bad", extra="").replace("replicas: 2", "replicas: -1")
                                             + "  mode: triple\n"))
t.ok(rc != 0 and 'The TestCluster "bad" is invalid' in err and "spec.replicas" in err and "spec.mode" in err
     and "Unsupported value" in err, "schema violations are 422 Invalid with field paths", err)

# watch
w1 = c.kubectl_bg("get", "ttc", "-w")
w2 = c.kubectl_bg("get", "ttc", "t1", "-w", "--output-watch-events")
wait_for(lambda: "t1" in read(w1.outfile) and "t1" in read(w2.outfile), 20)
k("patch", "ttc", "t1", "--type=merge", "-p", '{"spec":{"replicas":11}}')
k("create", "-f", c.manifest("tw.yaml", cr("tw")))
k("delete", "ttc", "tw")
# a last change that both watches show: events come in order, so once both printed it, every line about
# the changes before it (a duplicate, or tw leaking into the watch of t1) would have been printed too
k("patch", "ttc", "t1", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Watched"}}')
last = r"^(MODIFIED\s+)?t1\s+Watched\s+11\s"
t.ok(wait_for(lambda: re.search(last, read(w1.outfile), re.M) and re.search(last, read(w2.outfile), re.M), 30),
     "both watches print the last change", read(w1.outfile) + read(w2.outfile))
o1, o2 = read(w1.outfile), read(w2.outfile)
t.ok(o1.count("NAME") == 1 and len(re.findall(r"^t1\s", o1, re.M)) == 3 and len(re.findall(r"^t0\s", o1, re.M)) == 1
     and len(re.findall(r"^tw\s", o1, re.M)) == 2, "get -w prints the list once, then one line per change", o1)
t.ok(re.search(r"^EVENT\s+NAME", o2, re.M) and re.search(r"^ADDED\s+t1\s", o2, re.M) and
     re.search(r"^MODIFIED\s+t1\s+Ready\s+11", o2, re.M) and len(re.findall(r"^\w+\s+t1\s", o2, re.M)) == 3
     and "tw" not in o2, "get NAME -w --output-watch-events follows one object", o2)

# events and describe
uid = gen()["metadata"]["uid"]
ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "t1.17a1b2c3d4e5f6a7", "namespace": "default"},
      "involvedObject": {"apiVersion": "example.com/v1", "kind": "TestCluster", "name": "t1", "namespace": "default",
                         "uid": uid}, "reason": "StateChange", "message": "Pair state is Normal", "type": "Normal",
      "source": {"component": "ttclassic"}, "count": 3,
      "firstTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 300)),
      "lastTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))}
rc, out, err = k("create", "-f", c.manifest("ev.json", json.dumps(ev)))
rc, out, err = k("describe", "ttc", "t1")
t.ok(rc == 0 and re.search(r"^Name:\s+t1$", out, re.M) and "last-applied" not in out and
     re.search(r"^  Replicas:\s+11$", out, re.M) and
     re.search(r"Normal\s+StateChange\s+\d+s \(x3 over 5m\d*s?\)\s+ttclassic\s+Pair state is Normal", out),
     "describe shows the object and its events", out + err)
rc, out, err = k("get", "events")
t.ok(rc == 0 and re.match(r"LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$", out.splitlines()[0]) and
     re.search(r"Normal\s+StateChange\s+testcluster/t1\s+Pair state is Normal", out), "get events columns", out + err)
rc, out, err = k("get", "events", "--field-selector", "involvedObject.name=t1", "-o", "name")
t.ok(rc == 0 and out.split() == ["event/t1.17a1b2c3d4e5f6a7"], "events by field selector", out + err)
rc, out, err = k("get", "ttc", "--field-selector", "spec.replicas=2")
t.ok(rc != 0 and '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"' in err,
     "unknown field selector on a custom resource", err)

# delete
t0 = time.monotonic()
rc, out, err = k("delete", "ttc", "t0")
t.ok(rc == 0 and 'testcluster.example.com "t0" deleted' in out and time.monotonic() - t0 < 10,
     "delete returns promptly", out + err)
k("create", "-f", c.manifest("tf.yaml", cr("tf", extra="  finalizers: [example.com/hold]\n")))
p = c.kubectl_bg("delete", "ttc", "tf", "-v=6")
# kubectl prints its requests: after the DELETE it lists the object and watches it until it is gone, so
# once that watch is open it has seen the object still there after the server took the DELETE
watching = r"GET \S+/testclusters\?\S*fieldSelector=metadata.name%3Dtf\S*&watch=true 200 OK"
wait_for(lambda: p.poll() is not None or re.search(watching, read(p.outfile)), 30)
t.ok(re.search(watching, read(p.outfile)) and re.search(r'^testcluster.example.com "tf" deleted$', read(p.outfile), re.M),
     "delete: the server takes it, then kubectl waits for the object to go", read(p.outfile))
rc2, out2, _ = k("get", "ttc", "tf", "-o", "jsonpath={.metadata.deletionTimestamp}")
still = p.poll() is None
t.ok(still and rc2 == 0 and out2, "delete blocks on a finalizer, with deletionTimestamp set", out2 + read(p.outfile))
rc, out, err = k("patch", "ttc", "tf", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold","x/new"]}}')
t.ok(rc != 0 and "no new finalizers can be added if the object is being deleted" in err,
     "no new finalizers on a deleting object", out + err)
k("patch", "ttc", "tf", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
t.ok(wait_for(lambda: p.poll() is not None, 20) and p.returncode == 0 and "deleted" in read(p.outfile),
     "delete returns once the finalizer is removed", read(p.outfile))
k("create", "-f", c.manifest("tg.yaml", cr("tg", extra="  finalizers: [example.com/hold]\n")))
rc, out, err = k("delete", "ttc", "tg", "--wait=false")
t.ok(rc == 0 and "deleted" in out, "delete --wait=false returns at once", out + err)
k("patch", "ttc", "tg", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
rc, out, err = k("wait", "--for=delete", "ttc/tg", "--timeout=20s")
t.ok(rc == 0, "wait --for=delete", out + err)

# errors
rc, out, err = k("get", "ttc", "nope")
t.ok(rc != 0 and 'Error from server (NotFound): testclusters.example.com "nope" not found' in err, "NotFound", err)
rc, out, err = k("get", "nosuchkind")
t.ok(rc != 0 and 'the server doesn\'t have a resource type "nosuchkind"' in err, "unknown resource type", err)
code, body = c.request("POST", "/apis/example.com/v1/namespaces/default/testclusters", b"{not json")
t.ok(code == 400 and body.get("kind") == "Status" and body.get("reason") == "BadRequest", "bad JSON is 400", body)
code, body = c.request("POST", "/apis/example.com/v1/namespaces/default/testclusters", b"{}", ctype="text/plain")
t.ok(code == 415 and body.get("reason") == "UnsupportedMediaType", "wrong content type is 415", body)
code, body = c.request("GET", "/apis/example.com/v1/namespaces/default/nosuch")
t.ok(code == 404 and body.get("message") == "the server could not find the requested resource", "unknown kind", body)
code, body = c.request("POST", "/api/v1/namespaces/missing/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                                         "metadata": {"name": "x"}})
t.ok(code == 404 and body.get("message") == 'namespaces "missing" not found', "missing namespace", body)
code, body = c.request("POST", "/api/v1/namespaces/default/configmaps", {"apiVersion": "v2", "kind": "ConfigMap",
                                                                         "metadata": {"name": "x"}})
t.ok(code == 400 and "does not match the expected API version" in body.get("message", ""), "wrong apiVersion", body)
code, body = c.request("GET", "/api/v1/namespaces", token="wrong")
t.ok(code == 401 and body.get("reason") == "Unauthorized", "a wrong token is 401", body)
code, body = c.request("PUT", "/apis/example.com/v1/namespaces/default/testclusters/t1",
                       {"apiVersion": "example.com/v1", "kind": "TestCluster", "metadata": {"name": "t1"}})
t.ok(code == 422 and "must be specified for an update" in body.get("message", ""), "unconditional CR update is 422", body)
code, body = c.request("PATCH", "/apis/example.com/v1/namespaces/default/testclusters/t1", b'{"spec":{}}',
                       ctype="application/strategic-merge-patch+json")
t.ok(code == 415 and body.get("code") == 415, "strategic merge on a CR is 415", body)
t.done()
