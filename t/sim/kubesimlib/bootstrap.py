"""What a fresh cluster holds: system namespaces, the kubernetes Service and default RBAC roles (the nodes
register themselves: kubelet.py and nodes.py)."""

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
