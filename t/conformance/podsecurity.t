#!/usr/bin/python3
# Pod Security admission as kube-apiserver 1.32 has it (always on, every level privileged by default): namespace
# labels choose the enforce, warn and audit levels. Pods violating the enforce level are refused (403); workloads
# never are, they get the warnings (warn defaults to the enforce level) and their controllers' pod creations fail
# with FailedCreate events. Bad labels are refused, labelling a namespace warns about the pods already violating
# the new level, an update of a pod is evaluated again only when an image changes.
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import Cluster, Tap, wait_for  # noqa: E402

RESTRICTED = ('violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "tt" must '
              'set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "tt" must '
              'set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "tt" must set '
              'securityContext.runAsNonRoot=true), seccompProfile (pod or container "tt" must set '
              'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
GOOD_SC = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
GOOD_POD_SC = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def pod(name, spec, ns=None):
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec})


def plain(name="tt", **kw):
    return dict({"name": name, "image": "tt:1"}, **kw)


def workload(kind, name, spec):
    return json.dumps({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name},
                       "spec": dict({"replicas": 1, "selector": {"matchLabels": {"app": name}},
                                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
                                    **({"serviceName": name} if kind == "StatefulSet" else {}))})


def events(c, ns, kind, name):
    rc, out, err = c.kubectl("get", "events", "-n", ns, "--field-selector",
                             "involvedObject.kind=%s,involvedObject.name=%s,reason=FailedCreate" % (kind, name),
                             "-o", "json")
    return [e["message"] for e in json.loads(out or '{"items": []}')["items"]]


t = Tap()
c = Cluster()
for ns in ("r", "w", "v"):
    c.kubectl("create", "namespace", ns)

# labels
rc, out, err = c.kubectl("label", "namespace", "r", "pod-security.kubernetes.io/enforce=strict",
                         "pod-security.kubernetes.io/warn-version=1.30")
t.ok(rc != 0 and err.strip() == 'The Namespace "r" is invalid: \n'
     '* metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, '
     "baseline, restricted\n"
     '* metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "1.30": must be "latest" or "v1.x"',
     "an unknown level or a malformed version is refused, with the plugin's messages", out + err)
rc, out, err = c.kubectl("create", "-f", "-", stdin=json.dumps(
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": "bad", "labels": {"pod-security.kubernetes.io/audit": "none"}}}))
t.ok(rc != 0 and 'The Namespace "bad" is invalid: metadata.labels[pod-security.kubernetes.io/audit]: Invalid '
     'value: "none": must be one of privileged, baseline, restricted' in err, "also when creating a namespace",
     out + err)
rc, out, err = c.kubectl("label", "namespace", "r", "pod-security.kubernetes.io/enforce=restricted")
t.ok(rc == 0 and not err, "a valid level is taken; no pods there, no warning", out + err)

# enforce on pods
rc, out, err = c.kubectl("create", "-n", "r", "-f", "-", stdin=pod("root", {"containers": [plain()]}))
t.ok(rc != 0 and err.strip() == 'Error from server (Forbidden): error when creating "STDIN": pods "root" is '
     "forbidden: " + RESTRICTED, "a pod running as root with the defaults is refused: Forbidden, every failed check "
     "named", out + err)
rc, out, err = c.kubectl("create", "-n", "r", "--dry-run=server", "-f", "-", stdin=pod("root", {"containers": [plain()]}))
t.ok(rc != 0 and "is forbidden: violates PodSecurity" in err, "also in a server dry run", out + err)
good = {"securityContext": GOOD_POD_SC, "containers": [plain(securityContext=GOOD_SC)],
        "initContainers": [plain("ttinit", securityContext=dict(GOOD_SC, capabilities={
            "drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}))]}
rc, out, err = c.kubectl("create", "-n", "r", "-f", "-", stdin=pod("good", good))
t.ok(rc == 0 and not err, "a compliant pod is admitted without a warning", out + err)
bad = json.loads(json.dumps(good))
bad["containers"][0]["securityContext"]["capabilities"]["add"] = ["SYS_ADMIN", "NET_RAW"]
bad["containers"][0]["securityContext"]["runAsUser"] = 0
bad["volumes"] = [{"name": "h", "hostPath": {"path": "/var"}}]
rc, out, err = c.kubectl("create", "-n", "r", "-f", "-", stdin=pod("caps", bad))
t.ok(rc != 0 and err.strip().endswith('pods "caps" is forbidden: violates PodSecurity "restricted:latest": '
                                      'unrestricted capabilities (container "tt" must not include "NET_RAW", '
                                      '"SYS_ADMIN" in securityContext.capabilities.add), restricted volume types '
                                      '(volume "h" uses restricted volume type "hostPath"), runAsUser=0 '
                                      '(container "tt" must not set runAsUser=0)'),
     "added capabilities, a hostPath volume, uid 0: the restricted checks replace the baseline ones they cover",
     out + err)
c.kubectl("label", "namespace", "r", "pod-security.kubernetes.io/enforce-version=v1.22")
del bad["volumes"]
bad["containers"][0]["securityContext"]["capabilities"]["add"] = []
rc, out, err = c.kubectl("create", "-n", "r", "-f", "-", stdin=pod("uid0", bad))
t.ok(rc == 0, "at restricted:v1.22 there is no runAsUser check yet", out + err)
c.kubectl("label", "namespace", "r", "pod-security.kubernetes.io/enforce-version-")

# workloads: warnings, then the controllers' pods are refused
rc, out, err = c.kubectl("create", "-n", "r", "-f", "-", stdin=workload("Deployment", "web", {"containers": [plain()]}))
t.ok(rc == 0 and err.strip() == "Warning: would violate" + RESTRICTED[len("violates"):],
     "a Deployment is admitted with the enforce level's violations as a warning", out + err)
ev = wait_for(lambda: [m for rs in c.kubectl("get", "rs", "-n", "r", "-o", "jsonpath={.items[*].metadata.name}")[1].split()
                       for m in events(c, "r", "ReplicaSet", rs)], timeout=30)
t.ok(ev and ev[0].startswith('Error creating: pods "web-') and ev[0].endswith('" is forbidden: ' + RESTRICTED),
     "its ReplicaSet's pods are refused: FailedCreate", ev)
rc, out, err = c.kubectl("create", "-n", "r", "-f", "-", stdin=workload("StatefulSet", "db", {"containers": [plain()]}))
t.ok(rc == 0 and err.strip() == "Warning: would violate" + RESTRICTED[len("violates"):], "a StatefulSet is admitted with the warning",
     out + err)
ev = wait_for(lambda: events(c, "r", "StatefulSet", "db"), timeout=30)
t.ok(ev == ['create Pod db-0 in StatefulSet db failed error: pods "db-0" is forbidden: ' + RESTRICTED],
     "its pod is refused: FailedCreate, with the API error", ev)
rc, out, err = c.kubectl("create", "-n", "r", "-f", "-", stdin=workload("StatefulSet", "gooddb", good))
t.ok(rc == 0 and not err, "a compliant StatefulSet has no warning", out + err)
t.ok(wait_for(lambda: c.kubectl("get", "pod", "-n", "r", "gooddb-0", "-o", "name")[1].strip(), timeout=30),
     "and its pod is created")

# warn only: pods admitted with the warning
priv = {"hostNetwork": True, "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
        "containers": [plain(securityContext={"privileged": True})]}
c.kubectl("label", "namespace", "w", "pod-security.kubernetes.io/warn=baseline")
rc, out, err = c.kubectl("create", "-n", "w", "-f", "-", stdin=pod("priv", priv))
t.ok(rc == 0 and err.strip() == 'Warning: would violate PodSecurity "baseline:latest": host namespaces '
     '(hostNetwork=true), hostPath volumes (volume "h"), privileged (container "tt" must not set '
     "securityContext.privileged=true)", "warn=baseline: a privileged pod is admitted with the warning", out + err)
c.kubectl("create", "-n", "w", "-f", "-", stdin=pod("plain", {"containers": [plain()]}))
rc, out, err = c.kubectl("label", "namespace", "w", "pod-security.kubernetes.io/enforce=baseline")
t.ok(rc == 0 and err.strip() == 'Warning: existing pods in namespace "w" violate the new PodSecurity enforce level '
     '"baseline:latest"\nWarning: priv: host namespaces, hostPath volumes, privileged',
     "raising the enforce level warns about the pods already violating it", out + err)
rc, out, err = c.kubectl("label", "pod", "-n", "w", "priv", "touched=yes")
t.ok(rc == 0, "a violating pod can still be relabelled (only image changes are evaluated again)", out + err)
rc, out, err = c.kubectl("set", "image", "-n", "w", "pod/priv", "tt=tt:2")
t.ok(rc != 0 and 'pods "priv" is forbidden: violates PodSecurity "baseline:latest": host namespaces '
     "(hostNetwork=true)" in err, "but an image change is refused", out + err)
rc, out, err = c.kubectl("create", "-n", "w", "-f", "-", stdin=pod("sysctl", {
    "securityContext": {"sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"},
                                    {"name": "kernel.msgmax", "value": "65536"}]},
    "containers": [plain(securityContext={"procMount": "Default", "seLinuxOptions": {"type": "spc_t"}})]}))
t.ok(rc != 0 and err.strip().endswith('violates PodSecurity "baseline:latest": seLinuxOptions (container "tt" set '
                                      'forbidden securityContext.seLinuxOptions: type "spc_t"), forbidden sysctls '
                                      "(kernel.msgmax)"),
     "baseline: SELinux types and sysctls of 1.32 (tcp_rmem allowed since v1.32)", out + err)

# no labels: privileged, nothing checked
rc, out, err = c.kubectl("create", "-n", "v", "-f", "-", stdin=pod("priv", priv))
t.ok(rc == 0 and not err, "an unlabelled namespace is privileged: no check, no warning", out + err)

try:
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException
except ImportError:
    t.skip("python3-kubernetes sees the refusal", "python3-kubernetes is not installed")
    t.skip("and creates a workload with warnings", "python3-kubernetes is not installed")
else:
    api = config.new_client_from_config(config_file=c.kubeconfig)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    try:
        core.create_namespaced_pod("r", json.loads(pod("pyroot", {"containers": [plain()]})))
        t.ok(False, "python3-kubernetes sees the refusal")
    except ApiException as e:
        body = json.loads(e.body)
        t.ok(e.status == 403 and body["reason"] == "Forbidden" and
             body["message"] == 'pods "pyroot" is forbidden: ' + RESTRICTED and
             body["details"] == {"name": "pyroot", "kind": "pods"}, "python3-kubernetes sees the refusal", e.body)
    d = apps.create_namespaced_deployment("r", json.loads(workload("Deployment", "pyweb", {"containers": [plain()]})))
    t.ok(d.metadata.name == "pyweb", "and creates a workload with warnings (which it ignores)")
t.done()
