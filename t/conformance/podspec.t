#!/usr/bin/python3
# Pod spec validation as kube-apiserver 1.32 does it: pods and the templates of Deployments and ReplicaSets are
# refused with the server's own field paths and messages (422); a StatefulSet's template spec is not validated
# (only its labels and annotations), so a bad one is accepted and its pods fail to be created, which the
# controller reports as FailedCreate warning Events and retries. Strategy warnings reach kubectl's stderr. The
# operator's own manifests pass.
import glob
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import TOP_SRCDIR, Cluster, Tap, wait_for  # noqa: E402


def pod(spec, name="p", labels=None):
    md = {"name": name}
    if labels:
        md["labels"] = labels
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec})


def workload(kind, spec, name="w"):
    return json.dumps({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name},
                       "spec": dict({"replicas": 1, "selector": {"matchLabels": {"app": name}},
                                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
                                    **({"serviceName": name} if kind == "StatefulSet" else {}))})


def create(c, body):
    return c.kubectl("create", "-f", "-", stdin=body)


def refused(t, c, body, want, what, anyorder=False):
    """`want`: the lines kubectl prints on stderr (in any order where the server walks a Go map)."""
    rc, out, err = create(c, body)
    same = sorted(err.strip().splitlines()) == sorted(want.strip().splitlines()) if anyorder else \
        err.strip() == want.strip()
    return t.ok(rc != 0 and same, what, "rc=%d\n%s%s" % (rc, out, err))


t = Tap()
c = Cluster()
C = {"name": "tt", "image": "tt:1"}

refused(t, c, pod({"initContainers": [dict(C)], "containers": [dict(C)]}),
        'The Pod "p" is invalid: spec.initContainers[0].name: Duplicate value: "tt"',
        "a container name used twice (init and regular): Duplicate value")
refused(t, c, pod({"containers": [{"name": "TT", "image": "tt:1"}, {"name": "", "image": "tt:1"},
                                  {"name": "db"}]}),
        'The Pod "p" is invalid: \n'
        '* spec.containers[0].name: Invalid value: "TT": a lowercase RFC 1123 label must consist of lower case '
        "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
        "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\n"
        "* spec.containers[1].name: Required value\n"
        "* spec.containers[2].image: Required value",
        "container names are DNS-1123 labels and required, images required")
refused(t, c, pod({"containers": []}), 'The Pod "p" is invalid: spec.containers: Required value',
        "a pod without containers")
refused(t, c, pod({"volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}],
                   "containers": [dict(C, volumeMounts=[{"name": "v", "mountPath": "/a"},
                                                        {"name": "x", "mountPath": "/a"}])]}),
        'The Pod "p" is invalid: \n'
        '* spec.volumes[1].name: Duplicate value: "v"\n'
        '* spec.containers[0].volumeMounts[1].name: Not found: "x"\n'
        '* spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique',
        "volume names unique, mounts name existing volumes, mount paths unique per container")
refused(t, c, pod({"containers": [dict(C, ports=[{"name": "replication-port", "containerPort": 80},
                                                 {"name": "a--b", "containerPort": 0},
                                                 {"name": "12", "containerPort": 70000},
                                                 {"name": "web", "containerPort": 81},
                                                 {"name": "web", "containerPort": 82}])]}),
        'The Pod "p" is invalid: \n'
        '* spec.containers[0].ports[0].name: Invalid value: "replication-port": must be no more than 15 characters\n'
        '* spec.containers[0].ports[1].name: Invalid value: "a--b": must not contain consecutive hyphens\n'
        "* spec.containers[0].ports[1].containerPort: Required value\n"
        '* spec.containers[0].ports[2].name: Invalid value: "12": must contain at least one letter (a-z)\n'
        "* spec.containers[0].ports[2].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive\n"
        '* spec.containers[0].ports[4].name: Duplicate value: "web"',
        "port names (IANA_SVC_NAME), unique within a container; containerPort 1..65535")
rc, out, err = create(c, pod({"initContainers": [dict(C, name="ttinit", ports=[{"name": "agent", "containerPort": 6624}])],
                              "containers": [dict(C, ports=[{"name": "agent", "containerPort": 6624}])]}, "shared"))
t.ok(rc == 0 and err.strip() == "Warning: spec.containers[0].ports[0]: duplicate port definition with "
     "spec.initContainers[0].ports[0]",
     "the same port name in two containers is valid (names are unique per container), with the server's warning",
     out + err)
refused(t, c, pod({"containers": [dict(C, resources={"requests": {"memory": "2Gi", "cpu": "1"},
                                                     "limits": {"memory": "1024Mi", "cpu": "500m"}})]}),
        'The Pod "p" is invalid: \n'
        '* spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit '
        "of 1Gi\n"
        '* spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m',
        "requests above limits, the quantities in canonical form", anyorder=True)
refused(t, c, pod({"containers": [dict(C, resources={"requests": {"gpu": "1"}})]}),
        'The Pod "p" is invalid: spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a '
        "standard resource type or fully qualified",
        "an unknown resource name")
rc, out, err = create(c, pod({"containers": [dict(C, resources={"limits": {"memory": "1Gb"}})]}))
t.ok(rc != 0 and "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression "
     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" in err, "a malformed quantity: BadRequest while decoding",
     out + err)
rc, out, err = create(c, pod({"containers": [dict(C, resources={"limits": {"memory": "512Mi"}})]}, "limited"))
rc2, req, _ = c.kubectl("get", "pod", "limited", "-o", "jsonpath={.spec.containers[0].resources.requests.memory}")
t.ok(rc == 0 and req == "512Mi", "a pod's requests default to its limits", out + err + req)
refused(t, c, pod({"containers": [dict(C, env=[{"name": "A=B", "value": "1"}, {"name": "", "value": "2"}])]}),
        'The Pod "p" is invalid: \n'
        '* spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist '
        "only of printable ASCII characters other than '='\n"
        "* spec.containers[0].env[1].name: Required value",
        "environment variable names: printable ASCII but '=' (RelaxedEnvironmentVariableValidation, on in 1.32)")
rc, out, err = create(c, pod({"containers": [dict(C, env=[{"name": "1.x y", "value": "1"}, {"name": "A", "value": "1"},
                                                          {"name": "A", "value": "2"}])]}, "envs"))
t.ok(rc == 0 and err.strip() == 'Warning: spec.containers[0].env[2]: hides previous definition of "A", which may be '
     "dropped when using apply", "an env name any printable ASCII is valid; a duplicate one is warned about",
     out + err)
refused(t, c, pod({"containers": [dict(C, securityContext={"runAsUser": -1})], "securityContext": {"fsGroup": -2}}),
        'The Pod "p" is invalid: \n'
        "* spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, "
        "inclusive\n"
        "* spec.securityContext.fsGroup: Invalid value: -2: must be between 0 and 2147483647, inclusive",
        "user and group ids in range")
refused(t, c, pod({"containers": [dict(C)]}, labels={"app": "x" * 64, "bad key": "v"}),
        'The Pod "p" is invalid: \n'
        '* metadata.labels: Invalid value: "%s": must be no more than 63 characters\n'
        '* metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters, \'-\', '
        "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" % ("x" * 64),
        "label values at most 63 characters, keys qualified names")

# Deployments and ReplicaSets: ValidatePodTemplateSpecForReplicaSet validates the whole template
refused(t, c, workload("Deployment", {"initContainers": [dict(C)], "containers": [dict(C)]}, "dep"),
        'The Deployment "dep" is invalid: spec.template.spec.initContainers[0].name: Duplicate value: "tt"',
        "a Deployment's pod template is validated")
refused(t, c, workload("ReplicaSet", {"containers": [dict(C, volumeMounts=[{"name": "gone", "mountPath": "/x"}])]},
                       "rs"),
        'The ReplicaSet "rs" is invalid: spec.template.spec.containers[0].volumeMounts[0].name: Not found: "gone"',
        "a ReplicaSet's pod template is validated")
rc, out, err = c.kubectl("create", "-f", "-", "--dry-run=server",
                         stdin=workload("Deployment", {"containers": [dict(C, ports=[{"containerPort": 80}]),
                                                                      dict(C, name="b", ports=[{"containerPort": 80}])]},
                                        "warned"))
t.ok(rc == 0 and "Warning: spec.template.spec.containers[1].ports[0]: duplicate port definition with "
     "spec.template.spec.containers[0].ports[0]" in err, "a template's warnings carry the template's path", out + err)

# StatefulSets: the template's spec is not validated, the pods are, and the controller says so in Events
rc, out, err = create(c, workload("StatefulSet", {"initContainers": [dict(C)], "containers": [dict(C)]}, "db"))
t.ok(rc == 0, "a StatefulSet whose template repeats a container name is accepted (1.32 does not validate it)",
     out + err)


def failed_events():
    rc, out, err = c.kubectl("get", "events", "--field-selector",
                             "involvedObject.kind=StatefulSet,involvedObject.name=db,reason=FailedCreate", "-o", "json")
    return [(e["type"], e["message"], e.get("count", 1)) for e in json.loads(out or '{"items": []}')["items"]]


ev = wait_for(failed_events, timeout=30)
t.ok(ev and ev[0][:2] == ("Warning", 'create Pod db-0 in StatefulSet db failed error: Pod "db-0" is invalid: '
                          'spec.initContainers[0].name: Duplicate value: "tt"'),
     "its pod's creation fails: a FailedCreate warning Event with the API error", ev)
ev = wait_for(lambda: [e for e in failed_events() if e[2] > 1], timeout=30)
t.ok(ev, "and the controller retries (the Event's count grows)", failed_events())
rc, out, err = c.kubectl("get", "pod", "db-0")
t.ok(rc != 0 and 'pods "db-0" not found' in err, "no pod exists", out + err)
rc, out, err = c.kubectl("get", "statefulset", "db", "-o", "jsonpath={.status.replicas}")
t.ok(rc == 0 and out in ("", "0"), "the StatefulSet counts no replicas", out + err)
c.kubectl("patch", "statefulset", "db", "--type=json", "-p",
          '[{"op":"replace","path":"/spec/template/spec/initContainers/0/name","value":"ttinit"}]')
rc = wait_for(lambda: c.kubectl("get", "pod", "db-0", "-o", "jsonpath={.metadata.name}")[1] == "db-0", timeout=30)
t.ok(rc, "once the template is fixed, the pod is created")

# the operator's StatefulSet shape: init container ttinit, containers tt and daemonlog, the same port names in
# tt and ttinit, the four volumes
tt_ports = [{"name": n, "containerPort": p, "protocol": "TCP"}
            for n, p in (("agent", 8443), ("daemon", 6624), ("cs", 6625), ("replication", 4444))]
mounts = [{"name": "tt-persistent", "mountPath": "/tt"}, {"name": "tt-agent", "mountPath": "/ttagent"},
          {"name": "tt-config", "mountPath": "/ttconfig"}, {"name": "tt-log", "mountPath": "/ttlog"}]
op = {"initContainers": [{"name": "ttinit", "image": "tt:1", "imagePullPolicy": "IfNotPresent", "command": ["/x"],
                          "ports": tt_ports, "env": [{"name": "TIMESTEN_HOME", "value": "/tt/home"}],
                          "volumeMounts": mounts}],
      "containers": [{"name": "tt", "image": "tt:1", "imagePullPolicy": "IfNotPresent", "command": ["/x"],
                      "ports": tt_ports, "volumeMounts": mounts,
                      "resources": {"requests": {"cpu": "1", "memory": "2048Mi"}, "limits": {"memory": "2048Mi"}},
                      "readinessProbe": {"exec": {"command": ["cat", "/tmp/active"]}, "periodSeconds": 10,
                                         "failureThreshold": 1, "successThreshold": 1}},
                     {"name": "daemonlog", "image": "tt:1", "command": ["/y"],
                      "env": [{"name": "TIMESTEN_HOME", "value": "/tt/home"}],
                      "volumeMounts": [{"name": "tt-persistent", "mountPath": "/tt"}]}],
      "volumes": [{"name": "tt-agent", "secret": {"secretName": "s"}}, {"name": "tt-config", "projected": {"sources": []}},
                  {"name": "tt-log", "emptyDir": {}}]}
body = json.loads(workload("StatefulSet", op, "sample"))
body["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "tt-persistent"},
                                         "spec": {"accessModes": ["ReadWriteOnce"],
                                                  "resources": {"requests": {"storage": "1Gi"}}}}]
rc, out, err = create(c, json.dumps(body))
t.ok(rc == 0 and err.count("duplicate port definition") == 4,
     "the operator's StatefulSet shape is accepted, with one warning per port ttinit and tt share", out + err)
rc = wait_for(lambda: c.kubectl("get", "pod", "sample-0", "-o", "jsonpath={.metadata.name}")[1] == "sample-0",
              timeout=30)
t.ok(rc, "and its pod is created")

# the operator's manifests, CRDs first
files = sorted(glob.glob(os.path.join(TOP_SRCDIR, "k8s", "*.yaml")) + glob.glob(os.path.join(TOP_SRCDIR, "deploy", "*.yaml")))
files.sort(key=lambda f: "crd" not in os.path.basename(f))
bad = []
for f in files:
    crd = "crd" in os.path.basename(f)
    rc, out, err = c.kubectl("apply", "-f", f, *([] if crd else ["--dry-run=server"]))
    if rc != 0:
        bad.append((f, err))
t.ok(files and not bad, "the operator's manifests (%d files) pass the API server" % len(files), bad)
t.done()
