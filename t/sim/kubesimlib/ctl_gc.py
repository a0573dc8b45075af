"""The garbage collector: deletes dependents whose owners are gone (matched by uid), and carries out
foreground and orphan deletion of owners."""

from .controllers import Controller


class GarbageCollector(Controller):
    name = "garbage-collector"

    def __init__(self, srv):
        super().__init__(srv)
        self.dependents = {}   # owner uid -> set of (type key, namespace, name)
        self.live = {}         # uid of each stored object -> its namespace ("" when cluster-scoped)
        for rt in list(self.store.types.values()):
            for obj in self.store.list(rt):
                md = obj["metadata"]
                self.live[md.get("uid")] = md.get("namespace", "")
                for o in md.get("ownerReferences") or []:
                    self.dependents.setdefault(o.get("uid"), set()).add((rt.key, md.get("namespace", ""), md["name"]))

    def on_event(self, rt, ev):
        md = ev.obj["metadata"]
        ref = (rt.key, md.get("namespace", ""), md["name"])
        uid = md.get("uid")
        if ev.type == "DELETED":
            self.live.pop(uid, None)
            for o in (md.get("ownerReferences") or []):
                self.dependents.get(o.get("uid"), set()).discard(ref)
            if uid in self.dependents:
                self.enqueue(("owner-gone", uid))
            return
        self.live[uid] = md.get("namespace", "")
        old_refs = {o.get("uid") for o in ((ev.old or {}).get("metadata", {}).get("ownerReferences") or [])}
        new_refs = {o.get("uid") for o in (md.get("ownerReferences") or [])}
        for u in old_refs - new_refs:
            self.dependents.get(u, set()).discard(ref)
        for u in new_refs:
            self.dependents.setdefault(u, set()).add(ref)
        if any(not self._owner_alive(u, md.get("namespace", "")) for u in new_refs):
            self.enqueue(("dependent", ref), 0.2)
        fins = md.get("finalizers") or []
        if md.get("deletionTimestamp") and ("foregroundDeletion" in fins or "orphan" in fins):
            self.enqueue(("owner-deleting", ref))

    def _owner_alive(self, uid, namespace):
        """An owner counts only if it exists and is cluster-scoped or in the dependent's namespace, as the
        real garbage collector resolves owners."""
        return uid in self.live and self.live[uid] in ("", namespace)

    def _get(self, ref):
        rt = self.store.types.get(ref[0])
        return (rt, self.store.get(rt, ref[1], ref[2])) if rt else (None, None)

    def sync(self, key):
        what, arg = key
        if what == "owner-gone":
            for ref in list(self.dependents.pop(arg, set())):
                self.enqueue(("dependent", ref))
        elif what == "dependent":
            self._sync_dependent(arg)
        elif what == "owner-deleting":
            self._sync_owner(arg)

    def _sync_dependent(self, ref):
        rt, obj = self._get(ref)
        if obj is None or not obj["metadata"].get("ownerReferences"):
            return
        refs = obj["metadata"]["ownerReferences"]
        ns = obj["metadata"].get("namespace", "")
        alive = [r for r in refs if self._owner_alive(r.get("uid"), ns)]
        if len(alive) == len(refs):
            return
        if alive:
            new = dict(obj)
            new["metadata"] = dict(obj["metadata"])
            new["metadata"]["ownerReferences"] = alive
            self.registry.write(rt, new)
        elif not obj["metadata"].get("deletionTimestamp"):
            try:
                self.registry.delete(rt, ref[1], ref[2], {"propagationPolicy": "Background"})
            except Exception:
                pass

    def _sync_owner(self, ref):
        rt, obj = self._get(ref)
        if obj is None:
            return
        md = obj["metadata"]
        fins = list(md.get("finalizers") or [])
        deps = [d for d in self.dependents.get(md["uid"], set())]
        if "orphan" in fins:
            for d in deps:
                drt, dobj = self._get(d)
                if dobj is None:
                    continue
                new = dict(dobj)
                new["metadata"] = dict(dobj["metadata"])
                new["metadata"]["ownerReferences"] = [r for r in dobj["metadata"].get("ownerReferences") or []
                                                      if r.get("uid") != md["uid"]]
                if not new["metadata"]["ownerReferences"]:
                    del new["metadata"]["ownerReferences"]
                self.registry.write(drt, new)
            self._drop_finalizer(rt, obj, "orphan")
        elif "foregroundDeletion" in fins:
            blocking = 0
            for d in deps:
                drt, dobj = self._get(d)
                if dobj is None:
                    continue
                blocking += 1
                if not dobj["metadata"].get("deletionTimestamp"):
                    try:
                        self.registry.delete(drt, d[1], d[2], {"propagationPolicy": "Foreground"})
                    except Exception:
                        pass
            if blocking:
                self.enqueue(("owner-deleting", ref), 0.3)
                return
            self._drop_finalizer(rt, obj, "foregroundDeletion")

    def _drop_finalizer(self, rt, obj, fin):
        cur = self.store.get(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if cur is None:
            return
        new = dict(cur)
        new["metadata"] = dict(cur["metadata"])
        new["metadata"]["finalizers"] = [f for f in cur["metadata"].get("finalizers") or [] if f != fin]
        self.registry.write(rt, new)
