"""The StatefulSet controller: ordinal pods <sts>-N, PVCs from volumeClaimTemplates, ControllerRevisions and
controller-revision-hash labels, OrderedReady/Parallel, RollingUpdate (with partition) and OnDelete."""

import copy

from . import events
from .controllers import Controller
from .ctl_workloads import controlled_by, owner_ref, pod_ready
from .util import template_hash

COMPONENT = "statefulset-controller"


def _ordinal(sts_name, pod_name):
    prefix = sts_name + "-"
    if not pod_name.startswith(prefix) or not pod_name[len(prefix):].isdigit():
        return None
    return int(pod_name[len(prefix):])


def _running_ready(pod):
    return (pod.get("status") or {}).get("phase") == "Running" and pod_ready(pod) and \
        not pod["metadata"].get("deletionTimestamp")


class StatefulSetController(Controller):
    name = "statefulset"

    def on_event(self, rt, ev):
        md = ev.obj["metadata"]
        if rt.key == ("apps", "statefulsets"):
            self.enqueue((md["namespace"], md["name"]))
        elif rt.key == ("", "pods"):
            for r in md.get("ownerReferences") or []:
                if r.get("kind") == "StatefulSet" and r.get("controller"):
                    self.enqueue((md["namespace"], r.get("name")))

    # -- revisions ----------------------------------------------------------------------------------
    def _revision(self, sts):
        crt = self.t("apps", "controllerrevisions")
        ns = sts["metadata"]["namespace"]
        tmpl = copy.deepcopy(sts["spec"].get("template") or {})
        name = "%s-%s" % (sts["metadata"]["name"], template_hash(tmpl))
        owned = [c for c in self.store.list(crt, ns) if controlled_by(c, sts["metadata"]["uid"])]
        existing = next((c for c in owned if c["metadata"]["name"] == name), None)
        if existing is None:
            data = {"spec": {"template": dict(tmpl, **{"$patch": "replace"})}}
            cr = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                  "metadata": {"name": name, "labels": dict((tmpl.get("metadata") or {}).get("labels") or {}),
                               "ownerReferences": [owner_ref(sts)]},
                  "data": data, "revision": max([c.get("revision", 0) for c in owned] + [0]) + 1}
            cr["metadata"]["labels"]["controller.kubernetes.io/hash"] = name.rsplit("-", 1)[1]
            existing = self.registry.create(crt, ns, cr)
            limit = sts["spec"].get("revisionHistoryLimit", 10)
            owned.append(existing)
            owned.sort(key=lambda c: c.get("revision", 0))
            for old in owned[:max(len(owned) - limit - 1, 0)]:
                if old["metadata"]["name"] not in ((sts.get("status") or {}).get("currentRevision"), name):
                    try:
                        self.registry.delete(crt, ns, old["metadata"]["name"])
                    except Exception:
                        pass
        return existing

    def _template_of(self, ns, rev_name, sts):
        crt = self.t("apps", "controllerrevisions")
        cr = self.store.get(crt, ns, rev_name) if rev_name else None
        if cr is None:
            return copy.deepcopy(sts["spec"].get("template") or {})
        tmpl = copy.deepcopy(((cr.get("data") or {}).get("spec") or {}).get("template") or {})
        tmpl.pop("$patch", None)
        return tmpl

    # -- pods and claims ----------------------------------------------------------------------------
    def _claims(self, sts, ordinal, pod_name):
        pvct = self.t("", "persistentvolumeclaims")
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        for t in sts["spec"].get("volumeClaimTemplates") or []:
            tname = (t.get("metadata") or {}).get("name")
            cname = "%s-%s-%d" % (tname, name, ordinal)
            if self.store.get(pvct, ns, cname) is not None:
                continue
            md = copy.deepcopy(t.get("metadata") or {})
            md["name"] = cname
            labels = md.setdefault("labels", {})
            labels.update(((sts["spec"].get("selector") or {}).get("matchLabels")) or {})
            if policy.get("whenDeleted") == "Delete":
                md["ownerReferences"] = [owner_ref(sts)]
            claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": md,
                     "spec": copy.deepcopy(t.get("spec") or {})}
            self.registry.create(pvct, ns, claim)
            events.record(self.srv, sts, "Normal", "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s "
                          "success" % (cname, pod_name, name), COMPONENT)

    def _create_pod(self, sts, ordinal, rev_name):
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        pod_name = "%s-%d" % (name, ordinal)
        try:
            self._claims(sts, ordinal, pod_name)
        except Exception as e:
            events.record(self.srv, sts, "Warning", "FailedCreate", "create Claim for Pod %s in StatefulSet %s "
                          "failed error: %s" % (pod_name, name, e), COMPONENT)
            return
        tmpl = self._template_of(ns, rev_name, sts)
        md = copy.deepcopy(tmpl.get("metadata") or {})
        md.pop("creationTimestamp", None)
        md["name"] = pod_name
        labels = md.setdefault("labels", {})
        labels["statefulset.kubernetes.io/pod-name"] = pod_name
        labels["controller-revision-hash"] = rev_name
        labels["apps.kubernetes.io/pod-index"] = str(ordinal)
        md["ownerReferences"] = [owner_ref(sts)]
        spec = copy.deepcopy(tmpl.get("spec") or {})
        spec["hostname"] = pod_name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        vols = [v for v in spec.get("volumes") or []]
        for t in sts["spec"].get("volumeClaimTemplates") or []:
            tname = (t.get("metadata") or {}).get("name")
            vols = [v for v in vols if v.get("name") != tname]
            vols.append({"name": tname, "persistentVolumeClaim": {"claimName": "%s-%s-%d" % (tname, name, ordinal)}})
        if vols:
            spec["volumes"] = vols
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}
        try:
            self.registry.create(self.t("", "pods"), ns, pod)
            events.record(self.srv, sts, "Normal", "SuccessfulCreate", "create Pod %s in StatefulSet %s successful"
                          % (pod_name, name), COMPONENT)
        except Exception as e:
            events.record(self.srv, sts, "Warning", "FailedCreate", "create Pod %s in StatefulSet %s failed error: %s"
                          % (pod_name, name, e), COMPONENT)

    def _delete_pod(self, sts, pod):
        try:
            self.registry.delete(self.t("", "pods"), pod["metadata"]["namespace"], pod["metadata"]["name"])
            events.record(self.srv, sts, "Normal", "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful"
                          % (pod["metadata"]["name"], sts["metadata"]["name"]), COMPONENT)
        except Exception:
            pass

    def _delete_claims(self, sts, ordinal):
        """whenScaled: Delete — the condemned ordinal's claims go (they stay Terminating while in use)."""
        pvct = self.t("", "persistentvolumeclaims")
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        for t in sts["spec"].get("volumeClaimTemplates") or []:
            cname = "%s-%s-%d" % ((t.get("metadata") or {}).get("name"), name, ordinal)
            if self.store.get(pvct, ns, cname) is not None:
                try:
                    self.registry.delete(pvct, ns, cname)
                except Exception:
                    pass

    # -- the reconcile ------------------------------------------------------------------------------
    def sync(self, key):
        stst = self.t("apps", "statefulsets")
        sts = self.store.get(stst, *key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        ns, name = key
        spec = sts["spec"]
        update_rev = self._revision(sts)["metadata"]["name"]
        status = sts.get("status") or {}
        current_rev = status.get("currentRevision") or update_rev
        podt = self.t("", "pods")
        uid = sts["metadata"]["uid"]
        pods = {}
        for p in self.store.list(podt, ns):
            o = _ordinal(name, p["metadata"]["name"])
            if o is not None and controlled_by(p, uid):
                pods[o] = p
        start = ((spec.get("ordinals") or {}).get("start")) or 0
        replicas = spec.get("replicas", 1)
        wanted = range(start, start + replicas)
        parallel = spec.get("podManagementPolicy") == "Parallel"
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        partition = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0) or 0
        halted = False
        for o in wanted:
            p = pods.get(o)
            if p is not None and (p.get("status") or {}).get("phase") == "Failed" and \
                    not p["metadata"].get("deletionTimestamp"):
                self._delete_pod(sts, p)
                halted = not parallel
                if halted:
                    break
                continue
            if p is None:
                if strategy == "RollingUpdate" and o < start + partition:
                    rev = current_rev
                else:
                    rev = update_rev
                self._create_pod(sts, o, rev)
                if not parallel:
                    halted = True
                    break
                continue
            if not parallel and not _running_ready(p):
                halted = True
                break
        if not halted:
            extra = sorted((o for o in pods if o not in wanted), reverse=True)
            for o in extra:
                p = pods[o]
                if p["metadata"].get("deletionTimestamp"):
                    if not parallel:
                        break
                    continue
                if not parallel and not all(_running_ready(pods[x]) for x in pods if x in wanted):
                    break
                self._delete_pod(sts, p)
                if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") == "Delete":
                    self._delete_claims(sts, o)
                if not parallel:
                    break
        if strategy == "RollingUpdate" and not halted:
            live = [pods[o] for o in wanted if o in pods]
            if len(live) == replicas and all(_running_ready(p) for p in live):
                for o in sorted(wanted, reverse=True):
                    if o < start + partition:
                        break
                    p = pods[o]
                    if (p["metadata"].get("labels") or {}).get("controller-revision-hash") != update_rev:
                        self._delete_pod(sts, p)
                        break
        self._status(sts, update_rev, current_rev, strategy, wanted)

    def _status(self, sts, update_rev, current_rev, strategy, wanted):
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        podt = self.t("", "pods")
        pods = [p for p in self.store.list(podt, ns) if controlled_by(p, sts["metadata"]["uid"])
                and _ordinal(name, p["metadata"]["name"]) is not None]
        hashes = [(p["metadata"].get("labels") or {}).get("controller-revision-hash") for p in pods]
        ready = sum(1 for p in pods if _running_ready(p))
        updated = sum(1 for h in hashes if h == update_rev)
        current = sum(1 for h in hashes if h == current_rev)
        replicas = (sts["spec"] or {}).get("replicas", 1)
        if strategy == "RollingUpdate" and updated == replicas and ready == replicas and len(pods) == replicas:
            current_rev, current = update_rev, updated
        st = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(pods),
              "readyReplicas": ready, "currentReplicas": current, "updatedReplicas": updated,
              "availableReplicas": ready, "currentRevision": current_rev, "updateRevision": update_rev,
              "collisionCount": 0}
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"):
            if not st[k]:
                del st[k]
        self.registry.set_status(self.t("apps", "statefulsets"), sts, st)
