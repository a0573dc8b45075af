"""kube-controller-manager's node lifecycle controller and taint eviction controller, as in Kubernetes 1.32.

Node lifecycle (pkg/controller/nodelifecycle): every --node-monitor-period (5 s) it looks at each node's
Lease renewTime and Ready lastHeartbeatTime; a node whose kubelet was not heard from (neither changed) for
--node-monitor-grace-period (50 s) gets every condition `Unknown`, reason `NodeStatusUnknown`, message
`Kubelet stopped posting node status.` (heartbeat time kept, transition time now). When Ready leaves True it
records `NodeNotReady` on the node ("Node X status is now: NodeNotReady", component node-controller) and
marks the node's pods `Ready=False` (only the Ready condition, as MarkPodsNotReady does, with a
`NodeNotReady` warning "Node is not ready" on each pod). It taints a node whose Ready is Unknown with
`node.kubernetes.io/unreachable` NoSchedule and NoExecute, one whose Ready is False with
`node.kubernetes.io/not-ready` (both with timeAdded, as SwapNodeControllerTaint sets it), and removes them
when Ready is True again.

Taint eviction (pkg/controller/tainteviction): a pod bound to a node with NoExecute taints it does not all
tolerate is deleted at once; one that tolerates them is deleted when the shortest tolerationSeconds of the
tolerations used runs out (counted from the taint's timeAdded), never if none of them has tolerationSeconds.
Before deleting it adds the pod condition DisruptionTarget (reason DeletionByTaintManager) and records
`TaintManagerEviction` "Marking for deletion Pod NS/NAME". The delete is an ordinary graceful one."""

import asyncio
import logging

from . import events
from .ctl_scheduler import tolerates
from .util import now, parse_time, rfc3339

log = logging.getLogger("kubesim.nodelifecycle")

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
MONITOR_PERIOD = 5.0       # --node-monitor-period
GRACE_PERIOD = 50.0        # --node-monitor-grace-period (1.32)
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."


def _ready(node):
    return next((c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)


class NodeLifecycle:
    name = "node-lifecycle"

    def __init__(self, srv):
        self.srv = srv
        self.store = srv.store
        self.registry = srv.registry
        self.period = float(getattr(srv, "node_monitor_period", MONITOR_PERIOD) or MONITOR_PERIOD)
        self.grace = float(getattr(srv, "node_monitor_grace_period", GRACE_PERIOD) or GRACE_PERIOD)
        self.probe = {}        # node -> ((renewTime, heartbeat), loop time it was first seen)
        self.last_ready = {}   # node -> the Ready status seen at the previous pass
        self.known = {}        # node -> uid, the nodes the controller knows (RegisteredNode, RemovingNode)
        self.wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(self._run())
        self.evict_task = loop.create_task(self._evictions())
        self.store.listeners.append(self.on_event)

    def t(self, group, plural):
        return self.store.types[(group, plural)]

    def on_event(self, rt, ev):
        if rt.key == ("", "nodes") and ev.type != "DELETED":
            # the NoSchedule taints follow a node's conditions on every node update (doNoScheduleTaintingPass)
            old = _ready(ev.old) if ev.old else None
            new = _ready(ev.obj)
            if (old or {}).get("status") != (new or {}).get("status") or \
                    (ev.old or {}).get("spec", {}).get("taints") != (ev.obj.get("spec") or {}).get("taints"):
                asyncio.get_running_loop().call_soon(self._taints_soon, ev.obj["metadata"]["name"])
        elif rt.key == ("", "pods") and ev.type != "DELETED" and (ev.obj.get("spec") or {}).get("nodeName"):
            self.wake.set()

    def _taints_soon(self, name):
        try:
            node = self.store.get(self.t("", "nodes"), "", name)
            if node is not None:
                self.sync_taints(node)
        except Exception:
            log.exception("node %s: taints", name)

    async def _run(self):
        while True:
            await asyncio.sleep(self.period)
            try:
                self.monitor()
            except Exception:
                log.exception("node health monitor failed")

    # -- node health ------------------------------------------------------------------------------------
    def monitor(self):
        loop_now = asyncio.get_running_loop().time()
        nodes = self.store.list(self.t("", "nodes"))
        leases = self.t("coordination.k8s.io", "leases")
        for node in nodes:
            name = node["metadata"]["name"]
            lease = self.store.get(leases, "kube-node-lease", name)
            ready = _ready(node) or {}
            key = (((lease or {}).get("spec") or {}).get("renewTime"), ready.get("lastHeartbeatTime"))
            seen = self.probe.get(name)
            if seen is None or seen[0] != key:
                self.probe[name] = seen = (key, loop_now)
            if loop_now - seen[1] > self.grace:
                node = self.mark_unknown(node)
            self.after_status(node)
        for name in list(self.probe):
            if not any(n["metadata"]["name"] == name for n in nodes):
                self.probe.pop(name)
        # nodes new to the controller and nodes gone (classifyNodes, RecordNodeEvent)
        current = {n["metadata"]["name"]: n["metadata"]["uid"] for n in nodes}
        for name, uid in current.items():
            if self.known.get(name) != uid:
                if name in self.known:
                    self._node_event(name, self.known[name], "RemovingNode", "Removing Node %s from Controller")
                self._node_event(name, uid, "RegisteredNode", "Registered Node %s in Controller")
        for name in set(self.known) - set(current):
            self._node_event(name, self.known[name], "RemovingNode", "Removing Node %s from Controller")
        self.known = current

    def _node_event(self, name, uid, reason, what):
        ref = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": uid}}
        events.record(self.srv, ref, "Normal", reason, "Node %s event: %s" % (name, what % name), "node-controller")

    def mark_unknown(self, node):
        st = node.get("status") or {}
        conds = st.get("conditions") or []
        if conds and all(c.get("status") == "Unknown" for c in conds):
            return node
        t = rfc3339()
        new_conds = []
        for c in conds:
            c = dict(c)
            if c.get("status") != "Unknown":
                c.update({"status": "Unknown", "reason": "NodeStatusUnknown", "message": UNKNOWN_MESSAGE,
                          "lastTransitionTime": t})
            new_conds.append(c)
        status = dict(st)
        status["conditions"] = new_conds
        rt = self.t("", "nodes")
        cur = self.registry.set_status(rt, node, status)
        log.info("node %s: Kubelet stopped posting node status", node["metadata"]["name"])
        return cur or node

    def after_status(self, node):
        name = node["metadata"]["name"]
        status = (_ready(node) or {}).get("status")
        if status != "True" and self.last_ready.get(name) == "True":
            # "Node X status is now: NodeNotReady", once per transition (RecordNodeStatusChange: the reference
            # carries the Node's uid, where the kubelet's events carry its name)
            ref = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": node["metadata"]["uid"]}}
            events.record(self.srv, ref, "Normal", "NodeNotReady", "Node %s status is now: NodeNotReady" % name,
                          "node-controller")
        self.last_ready[name] = status
        if status != "True":
            self.mark_pods_not_ready(name)
        self.sync_taints(node)

    def mark_pods_not_ready(self, name):
        rt = self.t("", "pods")
        marked = False
        for pod in self.store.list(rt):
            if (pod.get("spec") or {}).get("nodeName") != name:
                continue
            st = pod.get("status") or {}
            conds = st.get("conditions") or []
            if not any(c.get("type") == "Ready" and c.get("status") != "False" for c in conds):
                continue
            new_conds = []
            for c in conds:
                c = dict(c)
                if c.get("type") == "Ready" and c.get("status") != "False":
                    c["status"] = "False"
                    c["lastTransitionTime"] = rfc3339()
                new_conds.append(c)
            status = dict(st)
            status["conditions"] = new_conds
            if self.registry.set_status(rt, pod, status) is not None:
                events.record(self.srv, pod, "Warning", "NodeNotReady", "Node is not ready", "node-controller")
                marked = True
        return marked

    def sync_taints(self, node):
        status = (_ready(node) or {}).get("status")
        want = {"Unknown": UNREACHABLE, "False": NOT_READY}.get(status)
        if _ready(node) is None:
            want = None
        spec = node.get("spec") or {}
        taints = list(spec.get("taints") or [])
        keep = [t for t in taints if t.get("key") not in (NOT_READY, UNREACHABLE) or
                (t.get("key") == want and t.get("effect") in ("NoSchedule", "NoExecute"))]
        have = {(t.get("key"), t.get("effect")) for t in keep}
        add = []
        if want:
            for effect in ("NoSchedule", "NoExecute"):
                if (want, effect) not in have:
                    add.append({"key": want, "effect": effect, "timeAdded": rfc3339()})
        if not add and len(keep) == len(taints):
            return
        new = dict(node)
        new["spec"] = dict(spec)
        taints = keep + add
        if taints:
            new["spec"]["taints"] = taints
        else:
            new["spec"].pop("taints", None)
        self.registry.write(self.t("", "nodes"), new)
        self.wake.set()

    # -- taint eviction -----------------------------------------------------------------------------------
    async def _evictions(self):
        while True:
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
            self.wake.clear()
            try:
                self.evict_pass()
            except Exception:
                log.exception("taint eviction pass failed")

    def evict_pass(self):
        nodes = {n["metadata"]["name"]: n for n in self.store.list(self.t("", "nodes"))}
        noexec = {name: [t for t in (n.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
                  for name, n in nodes.items()}
        rt = self.t("", "pods")
        t_now = now()
        for pod in self.store.list(rt):
            spec = pod.get("spec") or {}
            taints = noexec.get(spec.get("nodeName")) or []
            md = pod["metadata"]
            if not taints or md.get("deletionTimestamp") or \
                    (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            tols = spec.get("tolerations") or []
            used = []
            untolerated = False
            for taint in taints:
                matching = [x for x in tols if tolerates([x], taint)]
                if not matching:
                    untolerated = True
                    break
                used += matching
            if untolerated:
                self.evict(rt, pod)
                continue
            secs = [x.get("tolerationSeconds") for x in used if x.get("tolerationSeconds") is not None]
            if not secs:
                continue   # tolerated for ever
            wait = max(min(int(s) for s in secs), 0)
            added = [parse_time(x.get("timeAdded")) for x in taints if x.get("timeAdded")]
            start = min(a for a in added if a) if any(added) else t_now
            if (t_now - start).total_seconds() >= wait:
                self.evict(rt, pod)

    def evict(self, rt, pod):
        md = pod["metadata"]
        st = dict(pod.get("status") or {})
        conds = [c for c in st.get("conditions") or [] if c.get("type") != "DisruptionTarget"]
        conds.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                      "lastTransitionTime": rfc3339(), "reason": "DeletionByTaintManager",
                      "message": "Taint manager: deleting due to NoExecute taint"})
        st["conditions"] = conds
        events.record(self.srv, pod, "Normal", "TaintManagerEviction",
                      "Marking for deletion Pod %s/%s" % (md["namespace"], md["name"]), "taint-eviction-controller")
        try:
            self.registry.set_status(rt, pod, st)
            self.registry.delete(rt, md["namespace"], md["name"], {"preconditions": {"uid": md["uid"]}})
        except Exception as e:
            log.info("taint eviction of %s/%s: %s", md["namespace"], md["name"], e)
