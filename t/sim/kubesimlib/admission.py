"""Validating admission plugins a cluster may turn on (kube-apiserver --enable-admission-plugins).

OwnerReferencesPermissionEnforcement (on in OpenShift, off by default elsewhere): only a user who may
delete an object may change its ownerReferences (creating it is allowed: whoever creates it could delete
it), and only a user who may update the owner's `finalizers` subresource may make a reference to it
blocking (`blockOwnerDeletion: true`)."""

from .errors import ApiError, details, qualified

# DefaultTolerationSeconds (a mutating plugin on by default): kube-apiserver --default-not-ready-toleration-seconds
# and --default-unreachable-toleration-seconds (kubesim start takes the same flags)
DEFAULT_NOT_READY_SECONDS = 300
DEFAULT_UNREACHABLE_SECONDS = 300


def default_tolerations(spec):
    """What DefaultTolerationSeconds does to a pod being created: a toleration of not-ready:NoExecute and one
    of unreachable:NoExecute for the configured seconds, each unless the pod already tolerates that taint
    (a toleration with that key or no key, and effect NoExecute or none)."""
    tols = spec.get("tolerations")
    if tols is not None and not isinstance(tols, list):
        return
    tols = list(tols or [])
    have = {"node.kubernetes.io/not-ready": False, "node.kubernetes.io/unreachable": False}
    for t in tols:
        if not isinstance(t, dict):
            continue
        for key in have:
            if (t.get("key") == key or not t.get("key")) and t.get("effect") in ("NoExecute", "", None):
                have[key] = True
    for key, secs in (("node.kubernetes.io/not-ready", DEFAULT_NOT_READY_SECONDS),
                      ("node.kubernetes.io/unreachable", DEFAULT_UNREACHABLE_SECONDS)):
        if not have[key]:
            tols.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": secs})
    spec["tolerations"] = tols

KNOWN = {"OwnerReferencesPermissionEnforcement"}
OWNER_REFS = "OwnerReferencesPermissionEnforcement"


def parse(text):
    """The set of plugins of a comma-separated list; raises ValueError naming an unknown one."""
    names = {n.strip() for n in (text or "").split(",") if n.strip()}
    unknown = sorted(names - KNOWN)
    if unknown:
        raise ValueError("unknown admission plugin %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(KNOWN))))
    return names


def _forbidden(rt, name, why):
    what = '%s "%s"' % (qualified(rt), name) if name else qualified(rt)
    return ApiError(403, "%s is forbidden: %s" % (what, why), "Forbidden", details(rt, name))


def _refs(obj):
    refs = ((obj or {}).get("metadata") or {}).get("ownerReferences") or []
    return [r for r in refs if isinstance(r, dict)]


class Admission:
    def __init__(self, store, authz, plugins):
        self.store = store
        self.authz = authz
        self.plugins = set(plugins)

    def _owner_type(self, ref):
        group = (ref.get("apiVersion") or "").rpartition("/")[0]
        for rt in list(self.store.types.values()):
            if rt.group == group and rt.kind == ref.get("kind"):
                return rt
        return None

    def validate(self, user, rt, obj, old):
        """Called with the object as it would be stored (old: None on create)."""
        if OWNER_REFS not in self.plugins or user is None or "system:masters" in user.groups:
            return
        new_refs, old_refs = _refs(obj), _refs(old)
        if old is None and not new_refs or old is not None and new_refs == old_refs:
            return
        md = obj.get("metadata") or {}
        ns, name = md.get("namespace") or None, md.get("name")
        if old is not None and not self.authz.allowed(user, "delete", rt.group, rt.plural, None, ns, name):
            raise _forbidden(rt, name, "cannot set an ownerRef on a resource you can't delete: , <nil>")
        blocking_before = {r.get("uid") for r in old_refs if r.get("blockOwnerDeletion") is True}
        for ref in new_refs:
            if ref.get("blockOwnerDeletion") is not True or ref.get("uid") in blocking_before:
                continue
            owner = self._owner_type(ref)
            if owner is None:
                raise _forbidden(rt, name, "cannot set blockOwnerDeletion in this case because cannot find "
                                 "RESTMapping for APIVersion %s Kind %s: no matches for kind \"%s\" in version "
                                 "\"%s\"" % (ref.get("apiVersion"), ref.get("kind"), ref.get("kind"),
                                             ref.get("apiVersion")))
            if not self.authz.allowed(user, "update", owner.group, owner.plural, "finalizers", ns,
                                      ref.get("name")):
                raise _forbidden(rt, name, "cannot set blockOwnerDeletion if an ownerReference refers to a "
                                 "resource you can't set finalizers on: , <nil>")
