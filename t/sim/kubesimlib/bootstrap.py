"""What a fresh cluster holds: system namespaces, the node, the kubernetes Service and default RBAC roles."""

from .util import micro_time, rfc3339

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def _create(srv, group, plural, ns, obj):
    rt = srv.store.types[(group, plural)]
    if srv.store.get(rt, ns, obj["metadata"]["name"]) is None:
        obj.setdefault("apiVersion", rt.api_version())
        obj.setdefault("kind", rt.kind)
        srv.registry.create(rt, ns, obj)


def bootstrap(srv):
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        _create(srv, "", "namespaces", "", {"metadata": {"name": ns}})
    node = {"metadata": {"name": "kubesim-node", "labels": {"kubernetes.io/hostname": "kubesim-node",
                                                             "kubernetes.io/os": "linux"}}}
    _create(srv, "", "nodes", "", node)
    rt = srv.store.types[("", "nodes")]
    n = srv.store.get(rt, "", "kubesim-node")
    srv.registry.set_status(rt, n, {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": "kubesim-node"}],
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "kubelet is posting ready status", "lastHeartbeatTime": rfc3339(),
                        "lastTransitionTime": rfc3339()}],
        "nodeInfo": {"kubeletVersion": "v1.32.4", "operatingSystem": "linux", "architecture": "amd64",
                     "containerRuntimeVersion": "kubesim://1", "osImage": "kubesim", "kernelVersion": ""},
        "capacity": {"cpu": "2", "memory": "24Gi", "pods": "5000"},
        "allocatable": {"cpu": "2", "memory": "24Gi", "pods": "5000"}})
    _create(srv, "coordination.k8s.io", "leases", "kube-node-lease", {
        "metadata": {"name": "kubesim-node"},
        "spec": {"holderIdentity": "kubesim-node", "leaseDurationSeconds": 40,
                 "renewTime": micro_time()}})
    _create(srv, "", "services", "default", {
        "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": srv.port}]}})
    roles = {
        "cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                          {"nonResourceURLs": ["*"], "verbs": ["*"]}],
        "admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": READ + WRITE}],
        "edit": [{"apiGroups": ["", "apps", "coordination.k8s.io"], "resources": ["*"], "verbs": READ + WRITE}],
        "view": [{"apiGroups": ["", "apps", "coordination.k8s.io"], "resources": ["*"], "verbs": READ}],
        "system:discovery": [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                                  "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
                              "verbs": ["get"]}],
    }
    roles["system:basic-user"] = [{"apiGroups": ["authorization.k8s.io"],
                                   "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                                   "verbs": ["create"]}]
    for name, rules in roles.items():
        md = {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}
        _create(srv, "rbac.authorization.k8s.io", "clusterroles", "", {"metadata": md, "rules": rules})
    _create(srv, "rbac.authorization.k8s.io", "clusterrolebindings", "", {
        "metadata": {"name": "system:basic-user"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:basic-user"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]})
    _create(srv, "rbac.authorization.k8s.io", "clusterrolebindings", "", {
        "metadata": {"name": "system:discovery"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:discovery"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}]})
