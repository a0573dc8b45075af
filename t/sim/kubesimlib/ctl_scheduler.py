"""The scheduler (default-scheduler): binds each pod without `spec.nodeName` to a node that fits, as
kube-scheduler 1.32's default plugins decide it, in their order: NodeUnschedulable, TaintToleration,
NodeAffinity (nodeSelector and required node affinity), VolumeBinding (a claim's volume is local to the node
of the first pod that used it), InterPodAffinity (required pod affinity, anti-affinity, and the existing pods'
anti-affinity). Among the nodes that fit it prefers the highest score of preferred node affinity and
preferred pod (anti-)affinity, both ways, then fewer untolerated PreferNoSchedule taints, then fewer pods of
the same owner, then fewer pods, then the name. A pod that fits nowhere stays Pending with PodScheduled=False
(Unschedulable) and a FailedScheduling event in the scheduler's words, and is tried again when nodes, pods or
claims change."""

import logging

from . import events
from .controllers import Controller
from .errors import ApiError
from .selectors import selector_from_label_selector
from .util import rfc3339

log = logging.getLogger("kubesim.scheduler")

SCHEDULER = "default-scheduler"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"

R_UNSCHEDULABLE = "node(s) were unschedulable"
R_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
R_VOLUME = "node(s) had volume node affinity conflict"
R_AFFINITY = "node(s) didn't match pod affinity rules"
R_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
R_EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules"
# reasons for which preemption could help (Unschedulable); the others are UnschedulableAndUnresolvable
_PREEMPTABLE = {R_ANTI_AFFINITY, R_EXISTING_ANTI}


def _terminated(pod):
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def tolerates(tolerations, taint):
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        op = t.get("operator") or "Equal"
        if not t.get("key"):
            if op == "Exists":
                return True
            continue
        if t.get("key") != taint.get("key"):
            continue
        if op == "Exists" or (op == "Equal" and (t.get("value") or "") == (taint.get("value") or "")):
            return True
    return False


def _requirement(expr, value, present):
    op = expr.get("operator")
    vals = expr.get("values") or []
    if op == "In":
        return present and value in vals
    if op == "NotIn":
        return not present or value not in vals
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(vals) != 1:
            return False
        try:
            a, b = int(value), int(vals[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def node_selector_term_matches(term, node):
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False   # an empty term matches no object
    labels = node["metadata"].get("labels") or {}
    for e in exprs:
        if not _requirement(e, labels.get(e.get("key")), e.get("key") in labels):
            return False
    for f in fields:
        if f.get("key") != "metadata.name":
            return False
        if not _requirement(f, node["metadata"]["name"], True):
            return False
    return True


def _node_affinity(pod):
    return ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}


def fits_node_affinity(pod, node):
    labels = node["metadata"].get("labels") or {}
    for k, v in ((pod.get("spec") or {}).get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    req = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if req is not None:
        return any(node_selector_term_matches(t, node) for t in req.get("nodeSelectorTerms") or [])
    return True


class _Term:
    """A pod (anti-)affinity term as seen from the pod that carries it."""

    def __init__(self, owner_pod, term, namespaces_by_labels, weight=1):
        self.topology_key = term.get("topologyKey") or ""
        self.weight = weight
        sel = term.get("labelSelector")
        labels = owner_pod["metadata"].get("labels") or {}
        if sel is not None and (term.get("matchLabelKeys") or term.get("mismatchLabelKeys")):
            sel = dict(sel)
            exprs = list(sel.get("matchExpressions") or [])
            for key in term.get("matchLabelKeys") or []:
                if key in labels:
                    exprs.append({"key": key, "operator": "In", "values": [labels[key]]})
            for key in term.get("mismatchLabelKeys") or []:
                if key in labels:
                    exprs.append({"key": key, "operator": "NotIn", "values": [labels[key]]})
            sel["matchExpressions"] = exprs
        self.selector = selector_from_label_selector(sel)
        self.namespaces = set(term.get("namespaces") or [])
        nsel = term.get("namespaceSelector")
        if nsel is not None:
            m = selector_from_label_selector(nsel)
            self.namespaces |= {ns for ns, lb in namespaces_by_labels.items() if m is not None and m.matches(lb)}
        elif not self.namespaces:
            self.namespaces = {owner_pod["metadata"]["namespace"]}

    def matches(self, pod):
        return self.selector is not None and pod["metadata"]["namespace"] in self.namespaces and \
            self.selector.matches(pod["metadata"].get("labels") or {})


def _terms(pod, kind, required, nsl):
    a = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    if required:
        return [_Term(pod, t, nsl) for t in a.get("requiredDuringSchedulingIgnoredDuringExecution") or []]
    return [_Term(pod, w.get("podAffinityTerm") or {}, nsl, w.get("weight", 0))
            for w in a.get("preferredDuringSchedulingIgnoredDuringExecution") or []]


def _owner(pod):
    for r in pod["metadata"].get("ownerReferences") or []:
        if r.get("controller"):
            return r.get("uid")
    return None


def _claims(pod):
    return [(v.get("persistentVolumeClaim") or {}).get("claimName")
            for v in (pod.get("spec") or {}).get("volumes") or []
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


class Scheduler(Controller):
    name = "scheduler"

    def __init__(self, srv):
        super().__init__(srv)
        self.unschedulable = set()    # (namespace, name) of pods waiting for the cluster to change
        for pod in self.store.list(self.t("", "pods")):
            if self._wants(pod):
                self.enqueue((pod["metadata"]["namespace"], pod["metadata"]["name"]))

    @staticmethod
    def _wants(pod):
        spec = pod.get("spec") or {}
        return not spec.get("nodeName") and spec.get("schedulerName", SCHEDULER) == SCHEDULER and \
            not pod["metadata"].get("deletionTimestamp") and not _terminated(pod)

    def retry_unschedulable(self):
        for key in sorted(self.unschedulable):
            self.enqueue(key)

    def on_event(self, rt, ev):
        if rt.key == ("", "pods"):
            md = ev.obj["metadata"]
            key = (md["namespace"], md["name"])
            if (ev.obj.get("spec") or {}).get("nodeName"):
                old = ev.old
                if ev.type != "MODIFIED" or old is None or \
                        not (old.get("spec") or {}).get("nodeName") or \
                        (old["metadata"].get("labels") != md.get("labels")) or \
                        _terminated(old) != _terminated(ev.obj):
                    self.retry_unschedulable()
                self.unschedulable.discard(key)
            elif ev.type == "DELETED":
                self.unschedulable.discard(key)
            elif ev.type == "ADDED" or (ev.old is not None and ev.old.get("spec") != ev.obj.get("spec")) or \
                    (ev.old is not None and ev.old["metadata"].get("labels") != md.get("labels")):
                if self._wants(ev.obj):
                    self.enqueue(key)
        elif rt.key == ("", "nodes"):
            old = ev.old
            if ev.type != "MODIFIED" or old is None or old.get("spec") != ev.obj.get("spec") or \
                    old["metadata"].get("labels") != ev.obj["metadata"].get("labels"):
                self.retry_unschedulable()
        elif rt.key == ("", "persistentvolumeclaims"):
            if ev.type != "MODIFIED" or (ev.old or {}).get("metadata", {}).get("annotations") != \
                    ev.obj["metadata"].get("annotations"):
                self.retry_unschedulable()
        elif rt.key == ("", "namespaces") and ev.type != "DELETED":
            if ev.type == "ADDED" or (ev.old or {}).get("metadata", {}).get("labels") != \
                    ev.obj["metadata"].get("labels"):
                self.retry_unschedulable()

    # -- one pod ------------------------------------------------------------------------------------
    def sync(self, key):
        rt = self.t("", "pods")
        pod = self.store.get(rt, *key)
        if pod is None or not self._wants(pod):
            self.unschedulable.discard(key)
            return
        nodes = sorted(self.store.list(self.t("", "nodes")), key=lambda n: n["metadata"]["name"])
        assigned = [p for p in self.store.list(rt) if (p.get("spec") or {}).get("nodeName") and not _terminated(p)]
        node_by_name = {n["metadata"]["name"]: n for n in nodes}
        nsl = {ns["metadata"]["name"]: ns["metadata"].get("labels") or {}
               for ns in self.store.list(self.t("", "namespaces"))}
        fits, reasons = self.filter(pod, nodes, assigned, node_by_name, nsl)
        if not fits:
            self.unschedulable.add(key)
            self.fail(pod, len(nodes), reasons)
            return
        best = self.choose(pod, fits, assigned, node_by_name, nsl)
        self.unschedulable.discard(key)
        self.pin_claims(pod, best["metadata"]["name"])
        try:
            bind(self.srv, pod, best["metadata"]["name"])
        except ApiError as e:
            log.info("binding %s/%s failed: %s", key[0], key[1], e)
            return
        events.record(self.srv, pod, "Normal", "Scheduled", "Successfully assigned %s/%s to %s" % (
            key[0], key[1], best["metadata"]["name"]), SCHEDULER)

    def filter(self, pod, nodes, assigned, node_by_name, nsl):
        spec = pod.get("spec") or {}
        tolerations = spec.get("tolerations") or []
        pinned = self._pinned_nodes(pod)
        aff = _terms(pod, "podAffinity", True, nsl)
        anti = _terms(pod, "podAntiAffinity", True, nsl)

        def topo(node, k):
            return (node["metadata"].get("labels") or {}).get(k)

        def same_domain(node, other_pod, k):
            v = topo(node, k)
            on = node_by_name.get(other_pod["spec"]["nodeName"])
            return v is not None and on is not None and topo(on, k) == v

        # the pod's own required affinity: with no pod anywhere matching its terms, a pod that matches them
        # itself may go to any node that has the topology keys (the first of a group)
        first_of_group = bool(aff) and not any(t.matches(p) for t in aff for p in assigned) and \
            all(t.matches(pod) for t in aff)
        # the existing pods' required anti-affinity terms that match this pod
        existing_anti = []
        for p in assigned:
            for t in _terms(p, "podAntiAffinity", True, nsl):
                if t.matches(pod):
                    existing_anti.append((p, t))
        fits, reasons = [], {}
        for node in nodes:
            name = node["metadata"]["name"]
            r = None
            nspec = node.get("spec") or {}
            if nspec.get("unschedulable") and not tolerates(tolerations, {"key": UNSCHEDULABLE_TAINT,
                                                                          "effect": "NoSchedule"}):
                r = R_UNSCHEDULABLE
            if r is None:
                for taint in nspec.get("taints") or []:
                    if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
                        r = "node(s) had untolerated taint {%s: %s}" % (taint.get("key", ""), taint.get("value", ""))
                        break
            if r is None and not fits_node_affinity(pod, node):
                r = R_NODE_AFFINITY
            if r is None and pinned is not None and name not in pinned:
                r = R_VOLUME
            if r is None and aff:
                if first_of_group:
                    if not all(topo(node, t.topology_key) is not None for t in aff):
                        r = R_AFFINITY
                elif not all(any(t.matches(p) and same_domain(node, p, t.topology_key) for p in assigned)
                             for t in aff):
                    r = R_AFFINITY
            if r is None and any(t.matches(p) and same_domain(node, p, t.topology_key) for t in anti
                                 for p in assigned):
                r = R_ANTI_AFFINITY
            if r is None and any(same_domain(node, p, t.topology_key) for p, t in existing_anti):
                r = R_EXISTING_ANTI
            if r is None:
                fits.append(node)
            else:
                reasons[r] = reasons.get(r, 0) + 1
        return fits, reasons

    def _pinned_nodes(self, pod):
        """The nodes the pod's claims allow: None for any, else the set (maybe empty) common to them all."""
        allowed = None
        rt = self.t("", "persistentvolumeclaims")
        for claim in _claims(pod):
            pvc = self.store.get(rt, pod["metadata"]["namespace"], claim)
            node = ((pvc or {}).get("metadata", {}).get("annotations") or {}).get(SELECTED_NODE)
            if node:
                allowed = {node} if allowed is None else allowed & {node}
        return allowed

    def choose(self, pod, fits, assigned, node_by_name, nsl):
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        pref_aff = _terms(pod, "podAffinity", False, nsl)
        pref_anti = _terms(pod, "podAntiAffinity", False, nsl)
        node_pref = _node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution") or []
        others = []   # (existing pod, term, +1/-1): the existing pods' preferred terms that match this pod
        for p in assigned:
            for t in _terms(p, "podAffinity", False, nsl):
                if t.matches(pod):
                    others.append((p, t, 1))
            for t in _terms(p, "podAntiAffinity", False, nsl):
                if t.matches(pod):
                    others.append((p, t, -1))
        owner = _owner(pod)
        per_node = {}
        for p in assigned:
            per_node.setdefault(p["spec"]["nodeName"], []).append(p)

        def topo(node, k):
            return (node["metadata"].get("labels") or {}).get(k)

        def same_domain(node, other, k):
            v = topo(node, k)
            on = node_by_name.get(other["spec"]["nodeName"])
            return v is not None and on is not None and topo(on, k) == v

        def rank(node):
            score = 0
            for w in node_pref:
                if node_selector_term_matches(w.get("preference") or {}, node):
                    score += w.get("weight", 0)
            for t in pref_aff:
                score += t.weight * sum(1 for p in assigned if t.matches(p) and same_domain(node, p, t.topology_key))
            for t in pref_anti:
                score -= t.weight * sum(1 for p in assigned if t.matches(p) and same_domain(node, p, t.topology_key))
            for p, t, sign in others:
                if same_domain(node, p, t.topology_key):
                    score += sign * t.weight
            soft = sum(1 for taint in (node.get("spec") or {}).get("taints") or []
                       if taint.get("effect") == "PreferNoSchedule" and not tolerates(tolerations, taint))
            pods = per_node.get(node["metadata"]["name"], [])
            same = sum(1 for p in pods if owner and _owner(p) == owner)
            return (-score, soft, same, len(pods), node["metadata"]["name"])

        return min(fits, key=rank)

    def pin_claims(self, pod, node):
        """The claims' volumes are local: the first pod to use one fixes the node it lives on."""
        rt = self.t("", "persistentvolumeclaims")
        for claim in _claims(pod):
            pvc = self.store.get(rt, pod["metadata"]["namespace"], claim)
            if pvc is None or pvc["metadata"].get("deletionTimestamp") or \
                    SELECTED_NODE in (pvc["metadata"].get("annotations") or {}):
                continue
            new = dict(pvc)
            new["metadata"] = dict(pvc["metadata"])
            ann = dict(new["metadata"].get("annotations") or {})
            ann[SELECTED_NODE] = node
            new["metadata"]["annotations"] = ann
            self.registry.write(rt, new)

    def fail(self, pod, total, reasons):
        parts = sorted("%d %s" % (n, r) for r, n in reasons.items())
        msg = "0/%d nodes are available" % total
        msg += (": " + ", ".join(parts) + ".") if parts else "."
        if not total:
            msg = "no nodes available to schedule pods"
        post = {}
        for r, n in reasons.items():
            what = "No preemption victims found for incoming pod" if r in _PREEMPTABLE else \
                "Preemption is not helpful for scheduling"
            post[what] = post.get(what, 0) + n
        if post:
            msg += " preemption: 0/%d nodes are available: %s.." % (
                total, ", ".join(sorted("%d %s" % (n, w) for w, n in post.items())))
        st = dict(pod.get("status") or {})
        conds = [dict(c) for c in st.get("conditions") or [] if c.get("type") != "PodScheduled"]
        prev = next((c for c in st.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        since = prev["lastTransitionTime"] if prev and prev.get("status") == "False" and \
            prev.get("lastTransitionTime") else rfc3339()
        conds.append({"type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": since,
                      "reason": "Unschedulable", "message": msg})
        st["conditions"] = conds
        st.setdefault("phase", "Pending")
        self.registry.set_status(self.t("", "pods"), pod, st)
        events.record(self.srv, pod, "Warning", "FailedScheduling", msg, SCHEDULER)


def bind(srv, pod, node, rv=None):
    """What the API server does with a Binding (pods/binding): set spec.nodeName and PodScheduled=True."""
    rt = srv.store.types[("", "pods")]
    md = pod["metadata"]
    cur = srv.store.get(rt, md["namespace"], md["name"])
    if cur is None or (md.get("uid") and cur["metadata"]["uid"] != md["uid"]):
        raise ApiError(404, 'pods "%s" not found' % md["name"], "NotFound",
                       {"name": md["name"], "kind": "pods"})
    if (cur.get("spec") or {}).get("nodeName"):
        raise ApiError(409, 'Operation cannot be fulfilled on pods/binding "%s": pod %s is already assigned to '
                       'node "%s"' % (md["name"], md["name"], cur["spec"]["nodeName"]), "Conflict",
                       {"name": md["name"], "kind": "pods/binding"})
    if cur["metadata"].get("deletionTimestamp"):
        raise ApiError(409, 'Operation cannot be fulfilled on pods/binding "%s": pod %s is being deleted, cannot '
                       'be assigned to a host' % (md["name"], md["name"]), "Conflict",
                       {"name": md["name"], "kind": "pods/binding"})
    new = dict(cur)
    new["spec"] = dict(cur["spec"])
    new["spec"]["nodeName"] = node
    new["metadata"] = dict(cur["metadata"])
    status = dict(cur.get("status") or {})
    conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": rfc3339()})
    status["conditions"] = conds
    new["status"] = status
    return srv.store.put(rt, new, cur)
