"""The JSON shapes of the built-in kinds' fields the emulator reads: a body that puts a string where a list
belongs is refused with 400, as the real server's typed decoding refuses it, before any code trips on it."""

from . import quantity
from .errors import ApiError

OBJ, LIST, STR, INT, BOOL = dict, list, str, int, bool

CONTAINER = {"name": STR, "image": STR, "command": LIST, "command[]": STR, "args": LIST, "args[]": STR,
             "env": LIST, "env[]": OBJ, "env[].name": STR, "env[].valueFrom": OBJ, "envFrom": LIST,
             "envFrom[]": OBJ, "ports": LIST, "ports[]": OBJ, "volumeMounts": LIST, "volumeMounts[]": OBJ,
             "volumeMounts[].name": STR, "volumeMounts[].mountPath": STR, "readinessProbe": OBJ,
             "livenessProbe": OBJ, "startupProbe": OBJ, "workingDir": STR, "resources": OBJ}
POD_SPEC = {"containers": LIST, "containers[]": OBJ, "initContainers": LIST, "initContainers[]": OBJ,
            "volumes": LIST, "volumes[]": OBJ, "volumes[].name": STR, "restartPolicy": STR,
            "terminationGracePeriodSeconds": INT, "serviceAccountName": STR, "serviceAccount": STR,
            "hostname": STR, "subdomain": STR, "nodeName": STR, "automountServiceAccountToken": BOOL,
            "readinessGates": LIST, "schedulerName": STR}
for _k, _v in CONTAINER.items():
    POD_SPEC["containers[]." + _k] = _v
    POD_SPEC["initContainers[]." + _k] = _v


def _prefixed(prefix, table):
    return {prefix + k: v for k, v in table.items()}


TEMPLATE = dict({"spec.template": OBJ, "spec.template.metadata": OBJ, "spec.template.metadata.labels": OBJ,
                 "spec.template.spec": OBJ, "spec.selector": OBJ, "spec.selector.matchLabels": OBJ,
                 "spec.replicas": INT}, **_prefixed("spec.template.spec.", POD_SPEC))
SHAPES = {
    ("", "pods"): _prefixed("spec.", POD_SPEC),
    ("apps", "deployments"): dict(TEMPLATE, **{"spec.strategy": OBJ}),
    ("apps", "replicasets"): TEMPLATE,
    ("apps", "statefulsets"): dict(TEMPLATE, **{"spec.updateStrategy": OBJ, "spec.volumeClaimTemplates": LIST,
                                                "spec.volumeClaimTemplates[]": OBJ,
                                                "spec.volumeClaimTemplates[].metadata": OBJ,
                                                "spec.volumeClaimTemplates[].spec": OBJ,
                                                "spec.serviceName": STR, "spec.podManagementPolicy": STR,
                                                "spec.ordinals": OBJ,
                                                "spec.persistentVolumeClaimRetentionPolicy": OBJ}),
    ("", "services"): {"spec.ports": LIST, "spec.ports[]": OBJ, "spec.selector": OBJ, "spec.clusterIP": STR,
                       "spec.type": STR},
    ("", "configmaps"): {"data": OBJ, "binaryData": OBJ},
    ("", "secrets"): {"data": OBJ, "stringData": OBJ, "type": STR},
    ("", "persistentvolumeclaims"): {"spec.accessModes": LIST, "spec.resources": OBJ,
                                     "spec.resources.requests": OBJ},
    ("", "events"): {"involvedObject": OBJ, "source": OBJ, "count": INT, "reason": STR, "message": STR,
                     "type": STR, "series": OBJ},
    ("", "namespaces"): {"spec.finalizers": LIST},
    ("coordination.k8s.io", "leases"): {"spec.holderIdentity": STR, "spec.leaseDurationSeconds": INT,
                                        "spec.leaseTransitions": INT},
    ("rbac.authorization.k8s.io", "roles"): {"rules": LIST, "rules[]": OBJ, "rules[].verbs": LIST,
                                             "rules[].apiGroups": LIST, "rules[].resources": LIST,
                                             "rules[].resourceNames": LIST},
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"spec.names": OBJ, "spec.versions": LIST,
                                                            "spec.versions[]": OBJ, "spec.group": STR,
                                                            "spec.scope": STR},
}
SHAPES[("rbac.authorization.k8s.io", "clusterroles")] = SHAPES[("rbac.authorization.k8s.io", "roles")]
SHAPES[("rbac.authorization.k8s.io", "rolebindings")] = {"subjects": LIST, "subjects[]": OBJ, "roleRef": OBJ}
SHAPES[("rbac.authorization.k8s.io", "clusterrolebindings")] = SHAPES[("rbac.authorization.k8s.io", "rolebindings")]
TOP = {"metadata": OBJ, "spec": OBJ, "status": OBJ}
NAMES = {OBJ: "object", LIST: "array", STR: "string", INT: "number", BOOL: "bool"}


def _json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(v), "value")


def _fits(want, v):
    if v is None:
        return True
    if want is INT:
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, want)


def _walk(obj, path, table, pos, out):
    """Check every table entry under `path` (dotted, with [] for list items)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = path + "." + k if path else k
            want = table.get(p)
            if want is not None and not _fits(want, v):
                out.append((p, want, v))
                continue
            if isinstance(v, (dict, list)):
                _walk(v, p, table, pos, out)
    elif isinstance(obj, list):
        p = path + "[]"
        want = table.get(p)
        for v in obj:
            if want is not None and not _fits(want, v):
                out.append((p, want, v))
                continue
            if isinstance(v, (dict, list)):
                _walk(v, p, table, pos, out)


def check(rt, obj, version):
    table = dict(TOP)
    table.update(SHAPES.get(rt.key, {}))
    if not rt.builtin:
        table.pop("spec")
        table.pop("status")
    bad = []
    _walk(obj, "", table, 0, bad)
    if bad:
        p, want, v = bad[0]
        raise ApiError(400, '%s in version "%s" cannot be handled as a %s: json: cannot unmarshal %s into Go '
                       'struct field %s of type %s' % (rt.kind, version, rt.kind, _json_type(v), p.replace("[]", ""),
                                                       NAMES[want]), "BadRequest")
    for spec in _pod_specs(rt, obj):
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            res = c.get("resources") if isinstance(c, dict) else None
            for kind in ("limits", "requests"):
                for v in ((res or {}).get(kind) or {}).values() if isinstance((res or {}).get(kind), dict) else ():
                    err = None if v is None else quantity.check_string(v)
                    if err:  # resource.Quantity's UnmarshalJSON refuses it while the body is decoded
                        raise ApiError(400, '%s in version "%s" cannot be handled as a %s: %s'
                                       % (rt.kind, version, rt.kind, err), "BadRequest")


def _pod_specs(rt, obj):
    spec = obj.get("spec") if isinstance(obj, dict) else None
    if not isinstance(spec, dict):
        return []
    if rt.key == ("", "pods"):
        return [spec]
    if rt.key in (("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets")):
        tspec = (spec.get("template") or {}).get("spec") if isinstance(spec.get("template"), dict) else None
        return [tspec] if isinstance(tspec, dict) else []
    return []
