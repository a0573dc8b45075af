"""The resource types the server knows: built-in kinds and those defined by CustomResourceDefinitions."""

import re

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class ResourceType:
    """One REST resource: where it lives in the URL space and how writes to it behave."""

    def __init__(self, group, version, plural, kind, namespaced=True, short_names=(), categories=(),
                 verbs=ALL_VERBS, status=False, generation=False, subresources=(), fields=(),
                 singular=None, versions=None, crd=None, builtin=True):
        self.group = group
        self.version = version                      # preferred/storage version
        self.versions = list(versions or [version])  # served versions, preferred first
        self.plural = plural
        self.singular = singular or kind.lower()
        self.kind = kind
        self.list_kind = kind + "List"
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.categories = list(categories)
        self.verbs = list(verbs)
        self.status = status                # has a /status subresource with its own rules
        self.generation = generation        # metadata.generation follows spec changes
        self.extra_subresources = list(subresources)  # e.g. pods/exec, pods/log
        self.fields = set(fields)           # field selectors beyond metadata.name/namespace
        self.crd = crd                      # the CRD object for custom resources
        self.builtin = builtin

    @property
    def key(self):
        return (self.group, self.plural)

    def api_version(self, version=None):
        v = version or self.version
        return "%s/%s" % (self.group, v) if self.group else v

    def subresource_names(self):
        names = ["status"] if self.status else []
        return names + [s for s in self.extra_subresources if s not in names]

    def __repr__(self):
        return "<ResourceType %s>" % self.plural


def builtin_types():
    R = ResourceType
    return [
        R("", "v1", "namespaces", "Namespace", namespaced=False, short_names=["ns"],
          verbs=["create", "delete", "get", "list", "patch", "update", "watch"], status=True,
          fields=["status.phase"]),
        R("", "v1", "nodes", "Node", namespaced=False, short_names=["no"], status=True),
        R("", "v1", "pods", "Pod", short_names=["po"], categories=["all"], status=True,
          subresources=["binding", "exec", "log"], fields=["spec.nodeName", "status.phase", "spec.restartPolicy",
                                                 "spec.serviceAccountName", "status.podIP"]),
        R("", "v1", "bindings", "Binding", verbs=["create"]),
        R("", "v1", "services", "Service", short_names=["svc"], categories=["all"], status=True,
          verbs=["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]),
        R("", "v1", "configmaps", "ConfigMap", short_names=["cm"]),
        R("", "v1", "secrets", "Secret", fields=["type"]),
        R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=["pvc"], status=True),
        R("", "v1", "persistentvolumes", "PersistentVolume", namespaced=False, short_names=["pv"], status=True),
        R("", "v1", "events", "Event", short_names=["ev"],
          fields=["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                  "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                  "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]),
        R("", "v1", "serviceaccounts", "ServiceAccount", short_names=["sa"]),
        R("apps", "v1", "deployments", "Deployment", short_names=["deploy"], categories=["all"], status=True,
          generation=True),
        R("apps", "v1", "replicasets", "ReplicaSet", short_names=["rs"], categories=["all"], status=True,
          generation=True),
        R("apps", "v1", "statefulsets", "StatefulSet", short_names=["sts"], categories=["all"], status=True,
          generation=True),
        R("apps", "v1", "controllerrevisions", "ControllerRevision"),
        R("coordination.k8s.io", "v1", "leases", "Lease"),
        R("rbac.authorization.k8s.io", "v1", "roles", "Role"),
        R("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
        R("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
        R("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
        R("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", namespaced=False,
          verbs=["create"]),
        R("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", namespaced=False,
          verbs=["create"]),
        R("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
          namespaced=False, short_names=["crd", "crds"], categories=["api-extensions"], status=True,
          generation=True),
    ]


def type_from_crd(crd):
    """The ResourceType a CRD defines, or None when it serves no version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    served = [v for v in spec.get("versions") or [] if v.get("served")]
    if not served or not names.get("plural") or not names.get("kind"):
        return None
    storage = next((v["name"] for v in served if v.get("storage")), served[0]["name"])
    # discovery prefers the highest-priority version; we keep the CRD's listed order like the real server
    # does for equal priorities, but put well-formed Kubernetes versions in priority order.
    order = sorted(served, key=lambda v: _version_priority(v["name"]), reverse=True)
    has_status = any("status" in (v.get("subresources") or {}) for v in served)
    fields = set()
    for v in served:
        for f in v.get("selectableFields") or []:
            fields.add(f.get("jsonPath", "").lstrip("."))
    rt = ResourceType(spec.get("group", ""), storage, names["plural"], names["kind"],
                      namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                      short_names=names.get("shortNames") or [], categories=names.get("categories") or [],
                      status=has_status, generation=True, fields=fields,
                      singular=names.get("singular") or names["kind"].lower(),
                      versions=[v["name"] for v in order], crd=crd, builtin=False)
    rt.list_kind = names.get("listKind") or names["kind"] + "List"
    return rt


def _version_priority(name):
    """Kubernetes version priority: GA > beta > alpha, higher numbers first; others last."""
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", name)
    if not m:
        return (0, 0, 0, name)
    level = {"alpha": 1, "beta": 2, None: 3}[m.group(2)]
    return (level, int(m.group(1)), int(m.group(3) or 0), "")


def crd_version(crd, version):
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("name") == version:
            return v
    return None
