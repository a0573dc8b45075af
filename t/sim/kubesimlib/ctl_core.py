"""Small controllers: CRDs (serving their kinds, cleaning up on deletion), namespaces (termination), and
the PVC binder (claims become Bound)."""

from .controllers import Controller
from .kinds import type_from_crd
from .util import rfc3339

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"


class CrdController(Controller):
    name = "crd"

    def __init__(self, srv):
        super().__init__(srv)
        self.served = {}   # crd name -> (group, plural)

    def on_event(self, rt, ev):
        if rt.key == CRD_KEY:
            if ev.type != "DELETED":
                self.serve(ev.obj)  # serve the kind before the create call returns, as discovery does
            self.enqueue(ev.obj["metadata"]["name"])

    def serve(self, crd):
        name = crd["metadata"]["name"]
        rt = type_from_crd(crd)
        old_key = self.served.get(name)
        if old_key and (rt is None or old_key != rt.key):
            self.store.remove_type(old_key)
            self.served.pop(name)
        if rt is not None:
            self.store.add_type(rt)
            self.served[name] = rt.key

    def sync(self, name):
        crdt = self.t(*CRD_KEY)
        crd = self.store.get(crdt, "", name)
        if crd is None:
            key = self.served.pop(name, None)
            if key:
                self.store.remove_type(key)
            return
        md = crd["metadata"]
        if md.get("deletionTimestamp"):
            rt = self.store.types.get(self.served.get(name))
            for o in self.store.list(rt) if rt else []:
                if not o["metadata"].get("deletionTimestamp"):
                    self.registry.delete(rt, o["metadata"].get("namespace", ""), o["metadata"]["name"])
            if rt and self.store.list(rt):
                self.enqueue(name, 0.5)
                return
            if CRD_CLEANUP in (md.get("finalizers") or []):
                new = dict(crd)
                new["metadata"] = dict(md)
                new["metadata"]["finalizers"] = [f for f in md["finalizers"] if f != CRD_CLEANUP]
                self.registry.write(crdt, new)
            return
        if CRD_CLEANUP not in (md.get("finalizers") or []):
            new = dict(crd)
            new["metadata"] = dict(md)
            new["metadata"]["finalizers"] = list(md.get("finalizers") or []) + [CRD_CLEANUP]
            self.registry.write(crdt, new)


class NamespaceController(Controller):
    name = "namespace"

    def on_event(self, rt, ev):
        if rt.key == ("", "namespaces") and ev.obj["metadata"].get("deletionTimestamp") and ev.type != "DELETED":
            self.enqueue(ev.obj["metadata"]["name"])
        elif rt.namespaced and ev.type == "DELETED":
            ns = ev.obj["metadata"].get("namespace")
            nst = self.t("", "namespaces")
            nsobj = self.store.get(nst, "", ns)
            if nsobj is not None and nsobj["metadata"].get("deletionTimestamp"):
                self.enqueue(ns)

    def sync(self, name):
        nst = self.t("", "namespaces")
        ns = self.store.get(nst, "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        left = 0
        for rt in list(self.store.types.values()):
            if not rt.namespaced:
                continue
            for o in self.store.list(rt, name):
                left += 1
                if not o["metadata"].get("deletionTimestamp"):
                    try:
                        self.registry.delete(rt, name, o["metadata"]["name"], {"propagationPolicy": "Background"})
                    except Exception:
                        pass
        if left:
            self.enqueue(name, 0.5)
            return
        if ns["metadata"].get("finalizers"):
            return
        self.store.remove(nst, ns)


PVC_PROTECTION = "kubernetes.io/pvc-protection"


class PvcBinder(Controller):
    """Binds every claim at once, as a dynamic provisioner with Immediate binding would, and releases the
    pvc-protection finalizer of a deleted claim once no pod uses it."""

    name = "pvc-binder"

    def on_event(self, rt, ev):
        md = ev.obj["metadata"]
        if rt.key == ("", "persistentvolumeclaims") and ev.type != "DELETED":
            self.enqueue((md["namespace"], md["name"]))
        elif rt.key == ("", "pods") and ev.type == "DELETED":
            for v in (ev.obj.get("spec") or {}).get("volumes") or []:
                claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
                if claim:
                    self.enqueue((md["namespace"], claim))

    def _in_use(self, ns, name):
        for pod in self.store.list(self.t("", "pods"), ns):
            for v in (pod.get("spec") or {}).get("volumes") or []:
                if (v.get("persistentVolumeClaim") or {}).get("claimName") == name:
                    return True
        return False

    def sync(self, key):
        rt = self.t("", "persistentvolumeclaims")
        pvc = self.store.get(rt, *key)
        if pvc is None:
            return
        md = pvc["metadata"]
        if md.get("deletionTimestamp"):
            if PVC_PROTECTION in (md.get("finalizers") or []) and not self._in_use(*key):
                new = dict(pvc)
                new["metadata"] = dict(md)
                new["metadata"]["finalizers"] = [f for f in md["finalizers"] if f != PVC_PROTECTION]
                self.registry.write(rt, new)
            return
        if (pvc.get("status") or {}).get("phase") == "Bound":
            return
        spec = pvc.get("spec") or {}
        volume = "pvc-" + pvc["metadata"]["uid"]
        if spec.get("volumeName") != volume:
            new = dict(pvc)
            new["metadata"] = dict(pvc["metadata"])
            ann = dict(new["metadata"].get("annotations") or {})
            ann["pv.kubernetes.io/bind-completed"] = "yes"
            ann["pv.kubernetes.io/bound-by-controller"] = "yes"
            new["metadata"]["annotations"] = ann
            new["spec"] = dict(spec)
            new["spec"]["volumeName"] = volume
            new["spec"].setdefault("storageClassName", "standard")
            pvc = self.registry.write(rt, new)
        storage = (((spec.get("resources") or {}).get("requests") or {}).get("storage")) or "1Gi"
        self.registry.set_status(rt, pvc, {"phase": "Bound", "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                                           "capacity": {"storage": storage}})


UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


class NodeUnschedulableTaint(Controller):
    """The node lifecycle controller's taint of cordoned nodes (TaintNodesByCondition): a node with
    `spec.unschedulable` carries `node.kubernetes.io/unschedulable:NoSchedule`, and loses it when uncordoned.
    (The rest of that controller, Ready=Unknown and the unreachable taints, is ctl_nodelifecycle.py.)"""

    name = "node-unschedulable-taint"

    def on_event(self, rt, ev):
        if rt.key == ("", "nodes") and ev.type != "DELETED":
            self.enqueue(ev.obj["metadata"]["name"])

    def sync(self, name):
        rt = self.t("", "nodes")
        node = self.store.get(rt, "", name)
        if node is None:
            return
        spec = node.get("spec") or {}
        taints = list(spec.get("taints") or [])
        has = any(t.get("key") == UNSCHEDULABLE_TAINT and t.get("effect") == "NoSchedule" for t in taints)
        want = bool(spec.get("unschedulable"))
        if has == want:
            return
        if want:
            taints.append({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAdded": rfc3339()})
        else:
            taints = [t for t in taints if not (t.get("key") == UNSCHEDULABLE_TAINT and t.get("effect") == "NoSchedule")]
        new = dict(node)
        new["spec"] = dict(spec)
        if taints:
            new["spec"]["taints"] = taints
        else:
            new["spec"].pop("taints", None)
        self.registry.write(rt, new)
