"""The StatefulSet controller as Kubernetes 1.32 runs it: ordinal pods <sts>-N, PVCs from volumeClaimTemplates,
ControllerRevisions (one per distinct template, reused and renumbered on a return to an earlier template, hash
collisions counted, history truncated to revisionHistoryLimit), adoption and release of pods and revisions,
OrderedReady/Parallel, minReadySeconds, RollingUpdate (with partition) and OnDelete, and the status fields as
the real controller computes them."""

import copy
import json
import re

from . import events
from .controllers import Controller
from .ctl_workloads import controlled_by, owner_ref, pod_ready
from .errors import ApiError
from .selectors import selector_from_label_selector
from .util import now, parse_time, safe_encode

COMPONENT = "statefulset-controller"
HASH_LABEL = "controller.kubernetes.io/hash"
REVISION_LABEL = "controller-revision-hash"
RETRY_SECONDS = 2.0


class ClaimBeingDeleted(Exception):
    """One of a pod's claims exists with a deletionTimestamp (Terminating)."""


_PARENT = re.compile(r"^(.*)-([0-9]+)$")


def _ordinal(sts_name, pod_name):
    """The pod's ordinal when its name is <sts>-<n> (the real getParentNameAndOrdinal), else None."""
    m = _PARENT.match(pod_name)
    if not m or m.group(1) != sts_name:
        return None
    return int(m.group(2))


def _phase(pod):
    return (pod.get("status") or {}).get("phase") or ""


def _terminating(pod):
    return bool(pod["metadata"].get("deletionTimestamp"))


def _running_ready(pod):
    """isRunningAndReady: phase Running and the Ready condition True (terminating pods included)."""
    return _phase(pod) == "Running" and pod_ready(pod)


def _ready_since(pod):
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready" and c.get("status") == "True":
            return parse_time(c.get("lastTransitionTime"))
    return None


def _available(pod, min_ready):
    """isRunningAndAvailable (podutil.IsPodAvailable): ready, and for longer than minReadySeconds."""
    if not _running_ready(pod):
        return False
    if not min_ready:
        return True
    since = _ready_since(pod)
    return since is not None and (now() - since).total_seconds() > min_ready


def _healthy(pod):
    return pod is not None and _running_ready(pod) and not _terminating(pod)


def _revision_of(pod):
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL, "")


def _canonical(obj):
    """What Go's json.Marshal of a map makes of obj: keys sorted at every level."""
    return json.loads(json.dumps(obj, sort_keys=True))


def _fnv32(data):
    """FNV-1 (hash/fnv.New32), which HashControllerRevision uses."""
    h = 0x811C9DC5
    for b in data:
        h = (h * 0x01000193) & 0xFFFFFFFF
        h ^= b
    return h


def revision_hash(data, collision_count):
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return safe_encode(str(_fnv32(raw + str(collision_count).encode())))


def _sort_revisions(revs):
    return sorted(revs, key=lambda c: (c.get("revision", 0), c["metadata"].get("creationTimestamp") or "",
                                       c["metadata"]["name"]))


class StatefulSetController(Controller):
    name = "statefulset"

    def on_event(self, rt, ev):
        md = ev.obj["metadata"]
        if rt.key == ("apps", "statefulsets"):
            self.enqueue((md["namespace"], md["name"]))
        elif rt.key == ("", "pods"):
            owner = next((r for r in md.get("ownerReferences") or [] if r.get("controller")), None)
            if owner is not None:
                if owner.get("kind") == "StatefulSet":
                    self.enqueue((md["namespace"], owner.get("name")))
                return
            # an orphan: the StatefulSets that select it may adopt it (or dropped it: they recount)
            labels = md.get("labels") or {}
            for s in self.store.list(self.t("apps", "statefulsets"), md["namespace"]):
                sel = selector_from_label_selector((s.get("spec") or {}).get("selector"))
                if sel is not None and sel.reqs and sel.matches(labels):
                    self.enqueue((md["namespace"], s["metadata"]["name"]))

    # -- adoption -----------------------------------------------------------------------------------
    def _selector(self, sts):
        sel = selector_from_label_selector((sts.get("spec") or {}).get("selector"))
        return sel if sel is not None and sel.reqs else None

    def _set_owner(self, rt, obj, refs):
        new = copy.deepcopy(obj)
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        try:
            return self.registry.write(rt, new)
        except ApiError:
            return None

    def _claim_revisions(self, sts, sel):
        """The revisions the set controls, after adopting the orphans its selector matches."""
        crt = self.t("apps", "controllerrevisions")
        uid = sts["metadata"]["uid"]
        out = []
        for c in self.store.list(crt, sts["metadata"]["namespace"]):
            if sel is None or not sel.matches(c["metadata"].get("labels") or {}):
                continue
            refs = c["metadata"].get("ownerReferences") or []
            if controlled_by(c, uid):
                out.append(c)
            elif not any(r.get("controller") for r in refs) and not sts["metadata"].get("deletionTimestamp"):
                adopted = self._set_owner(crt, c, refs + [owner_ref(sts)])
                if adopted is not None:
                    out.append(adopted)
        return out

    def _claim_pods(self, sts, sel):
        """ClaimPods: the set's pods; orphans that match the selector and carry the set's name are adopted,
        owned pods that no longer match are released."""
        podt = self.t("", "pods")
        ns, name, uid = sts["metadata"]["namespace"], sts["metadata"]["name"], sts["metadata"]["uid"]
        pods = []
        for p in self.store.list(podt, ns):
            refs = p["metadata"].get("ownerReferences") or []
            match = sel is not None and sel.matches(p["metadata"].get("labels") or {}) and \
                _ordinal(name, p["metadata"]["name"]) is not None
            if controlled_by(p, uid):
                if match:
                    pods.append(p)
                elif not _terminating(p):
                    self._set_owner(podt, p, [r for r in refs if r.get("uid") != uid])
            elif match and not any(r.get("controller") for r in refs) and not _terminating(p) and \
                    not sts["metadata"].get("deletionTimestamp"):
                adopted = self._set_owner(podt, p, refs + [owner_ref(sts)])
                if adopted is not None:
                    pods.append(adopted)
        return pods

    # -- revisions ----------------------------------------------------------------------------------
    def _revisions(self, sts, revisions):
        """getStatefulSetRevisions: (current, update, collision count). The update revision is the one whose
        data equals the set's template: the newest one as is, an older one renumbered to come last, or a new
        one (named <sts>-<hash>, the hash taking the collision count)."""
        crt = self.t("apps", "controllerrevisions")
        ns = sts["metadata"]["namespace"]
        status = sts.get("status") or {}
        collisions = status.get("collisionCount") or 0
        tmpl = copy.deepcopy(sts["spec"].get("template") or {})
        tmpl["$patch"] = "replace"
        data = _canonical({"spec": {"template": tmpl}})
        nxt = (revisions[-1].get("revision", 0) + 1) if revisions else 1
        equal = [c for c in revisions if c.get("data") == data]
        if equal and equal[-1] is revisions[-1]:
            update = revisions[-1]
        elif equal:
            new = copy.deepcopy(equal[-1])
            new["revision"] = nxt
            update = self.registry.write(crt, new) or equal[-1]
        else:
            labels = dict(((sts["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})
            # the hash label is the one NewControllerRevision computed; on a collision only the name changes
            md = {"namespace": ns, "labels": dict(labels, **{HASH_LABEL: revision_hash(data, collisions)}),
                  "ownerReferences": [owner_ref(sts)]}
            if sts["metadata"].get("annotations"):
                md["annotations"] = dict(sts["metadata"]["annotations"])
            while True:
                md["name"] = "%s-%s" % (sts["metadata"]["name"][:223], revision_hash(data, collisions))
                cr = {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": copy.deepcopy(md),
                      "data": data, "revision": nxt}
                try:
                    update = self.registry.create(crt, ns, cr)
                    break
                except ApiError as e:
                    if e.code != 409:
                        raise
                    exists = self.store.get(crt, ns, md["name"])
                    if exists is not None and exists.get("data") == data:
                        update = exists
                        break
                    collisions += 1
        current = next((c for c in revisions if c["metadata"]["name"] == status.get("currentRevision")), None)
        if current is None or current["metadata"]["name"] == update["metadata"]["name"]:
            current = update
        return current, update, collisions

    def _truncate_history(self, sts, pods, revisions, current, update):
        """Non-live revisions (neither current, update, nor any pod's) beyond revisionHistoryLimit go,
        lowest revision first."""
        crt = self.t("apps", "controllerrevisions")
        live = {current["metadata"]["name"], update["metadata"]["name"]} | {_revision_of(p) for p in pods}
        history = [c for c in revisions if c["metadata"]["name"] not in live]
        limit = sts["spec"].get("revisionHistoryLimit", 10)
        if limit is None or limit < 0 or len(history) <= limit:
            return
        for old in history[:len(history) - limit]:
            try:
                self.registry.delete(crt, old["metadata"]["namespace"], old["metadata"]["name"])
            except ApiError:
                pass

    @staticmethod
    def _template_of(rev):
        tmpl = copy.deepcopy(((rev.get("data") or {}).get("spec") or {}).get("template") or {})
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
            existing = self.store.get(pvct, ns, cname)
            if existing is not None:
                if existing["metadata"].get("deletionTimestamp"):
                    # createPersistentVolumeClaims: a claim being deleted is no claim to
                    # start a pod with; the pod waits until it is gone and made again.
                    raise ClaimBeingDeleted("pvc %s is being deleted" % cname)
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

    def _create_pod(self, sts, ordinal, rev):
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        pod_name = "%s-%d" % (name, ordinal)
        try:
            self._claims(sts, ordinal, pod_name)
        except ClaimBeingDeleted as e:
            events.record(self.srv, sts, "Warning", "FailedCreate", "create Pod %s in StatefulSet %s failed error: %s"
                          % (pod_name, name, e), COMPONENT)
            self.enqueue((ns, name), RETRY_SECONDS)
            return
        except Exception as e:
            events.record(self.srv, sts, "Warning", "FailedCreate", "create Claim for Pod %s in StatefulSet %s "
                          "failed error: %s" % (pod_name, name, e), COMPONENT)
            self.enqueue((ns, name), RETRY_SECONDS)
            return
        tmpl = self._template_of(rev)
        tmd = tmpl.get("metadata") or {}
        md = {"name": pod_name, "generateName": name + "-"}
        labels = dict(tmd.get("labels") or {})
        labels["statefulset.kubernetes.io/pod-name"] = pod_name
        labels["apps.kubernetes.io/pod-index"] = str(ordinal)
        labels[REVISION_LABEL] = rev["metadata"]["name"]
        md["labels"] = labels
        if tmd.get("annotations"):
            md["annotations"] = dict(tmd["annotations"])
        if tmd.get("finalizers"):
            md["finalizers"] = list(tmd["finalizers"])
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
            self.enqueue((ns, name), RETRY_SECONDS)  # the real controller's sync fails and is retried

    def _delete_pod(self, sts, pod):
        try:
            self.registry.delete(self.t("", "pods"), pod["metadata"]["namespace"], pod["metadata"]["name"],
                                 {"preconditions": {"uid": pod["metadata"]["uid"]}})
            events.record(self.srv, sts, "Normal", "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful"
                          % (pod["metadata"]["name"], sts["metadata"]["name"]), COMPONENT)
        except ApiError:
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
                except ApiError:
                    pass

    # -- the reconcile ------------------------------------------------------------------------------
    def sync(self, key):
        sts = self.store.get(self.t("apps", "statefulsets"), *key)
        if sts is None:
            return
        spec = sts["spec"]
        sel = self._selector(sts)
        revisions = _sort_revisions(self._claim_revisions(sts, sel))
        pods = self._claim_pods(sts, sel)
        current, update, collisions = self._revisions(sts, revisions)
        status = self._update(sts, pods, current, update, collisions)
        self._write_status(sts, status)
        self._truncate_history(sts, pods, revisions, current, update)
        min_ready = spec.get("minReadySeconds") or 0
        if min_ready > 0 and status.get("availableReplicas", 0) != spec.get("replicas", 1):
            self.enqueue(key, min_ready)

    def _update(self, sts, pods, current, update, collisions):
        """updateStatefulSet: create, delete and replace pods one step at a time; returns the status."""
        spec = sts["spec"]
        name = sts["metadata"]["name"]
        min_ready = spec.get("minReadySeconds") or 0
        start = ((spec.get("ordinals") or {}).get("start")) or 0
        count = spec.get("replicas", 1)
        strategy = spec.get("updateStrategy") or {}
        stype = strategy.get("type", "RollingUpdate")
        rolling = strategy.get("rollingUpdate")
        cur_name, upd_name = current["metadata"]["name"], update["metadata"]["name"]
        replicas = [None] * count
        condemned = []
        for p in pods:
            o = _ordinal(name, p["metadata"]["name"])
            if start <= o < start + count:
                replicas[o - start] = p
            else:
                condemned.append(p)
        condemned.sort(key=lambda p: _ordinal(name, p["metadata"]["name"]), reverse=True)
        adjust = {"currentReplicas": 0}

        def status():
            st = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": 0, "readyReplicas": 0,
                  "currentReplicas": adjust["currentReplicas"], "updatedReplicas": 0, "currentRevision": cur_name,
                  "updateRevision": upd_name, "collisionCount": collisions, "availableReplicas": 0}
            for p in [p for p in replicas if p is not None] + condemned:
                if _phase(p):
                    st["replicas"] += 1
                if _running_ready(p):
                    st["readyReplicas"] += 1
                    if _available(p, min_ready):
                        st["availableReplicas"] += 1
                if _phase(p) and not _terminating(p):
                    rev = _revision_of(p)
                    st["currentReplicas"] += rev == cur_name
                    st["updatedReplicas"] += rev == upd_name
            return st

        if sts["metadata"].get("deletionTimestamp"):
            return status()
        monotonic = spec.get("podManagementPolicy") != "Parallel"

        # the living replicas, lowest ordinal first
        for i in range(count):
            p = replicas[i]
            ordinal = start + i
            if p is not None and _phase(p) in ("Failed", "Succeeded"):
                if not _terminating(p):
                    self._delete_pod(sts, p)
                if monotonic:
                    return status()
                continue
            if p is None:
                old = (stype == "RollingUpdate" and rolling is None and
                       ordinal < start + ((sts.get("status") or {}).get("currentReplicas") or 0)) or \
                      (stype == "RollingUpdate" and rolling is not None and
                       ordinal < start + (rolling.get("partition") or 0))
                self._create_pod(sts, ordinal, current if old else update)
                if monotonic:
                    return status()
                continue
            if _phase(p) == "Pending":
                try:
                    self._claims(sts, ordinal, p["metadata"]["name"])
                except Exception:
                    pass
            if monotonic and (_terminating(p) or not _running_ready(p) or not _available(p, min_ready)):
                return status()

        # condemned pods (beyond the replica range), highest ordinal first
        first_unhealthy = next((p if p is not None else "uncreated" for p in replicas if not _healthy(p)), None) or \
            next((p for p in reversed(condemned) if not _healthy(p)), None)
        for p in condemned:
            if _terminating(p):
                if monotonic:
                    return status()
                continue
            if monotonic and p is not first_unhealthy and \
                    (not _running_ready(p) or not _available(p, min_ready)):
                return status()
            self._delete_pod(sts, p)
            if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") == "Delete":
                self._delete_claims(sts, _ordinal(name, p["metadata"]["name"]))
            if monotonic:
                return status()

        if stype == "OnDelete":
            return status()

        # rolling update: the highest ordinal not at the update revision goes, one at a time, each waiting for
        # the one above it to be healthy again
        update_min = (rolling or {}).get("partition") or 0
        for target in range(count - 1, update_min - 1, -1):
            p = replicas[target]
            if p is None:  # created in this pass (Parallel): not healthy yet
                return status()
            if _revision_of(p) != upd_name and not _terminating(p):
                self._delete_pod(sts, p)
                adjust["currentReplicas"] -= 1
                return status()
            if not _healthy(p):
                return status()
        return status()

    def _write_status(self, sts, st):
        spec = sts["spec"]
        # completeRollingUpdate
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate" and \
                st["updatedReplicas"] == spec.get("replicas", 1) == st["readyReplicas"] == st["replicas"]:
            st["currentReplicas"] = st["updatedReplicas"]
            st["currentRevision"] = st["updateRevision"]
        # the omitempty fields of apps/v1 StatefulSetStatus
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas", "currentRevision", "updateRevision"):
            if not st[k]:
                del st[k]
        self.registry.set_status(self.t("apps", "statefulsets"), sts, st)
