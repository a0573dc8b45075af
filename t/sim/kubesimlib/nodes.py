"""The cluster's nodes: their names, the Node objects a kubelet registers, and each kubelet's heartbeats (a
Lease in kube-node-lease renewed every 10 s, the node's status posted again every 5 minutes), as the 1.32
kubelet does them with its default nodeLeaseDurationSeconds and nodeStatusReportFrequency."""

import asyncio
import logging
import os

from .util import micro_time, rfc3339

log = logging.getLogger("kubesim.nodes")

LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40          # the kubelet's nodeLeaseDurationSeconds (kubesim start --node-lease-duration-seconds)
STATUS_REPORT = 300          # nodeStatusReportFrequency: an unchanged status is posted every 5 minutes
KUBELET_VERSION = "v1.32.4"


def node_names(n):
    """`kubesim-node`, then `kubesim-node-2`, `kubesim-node-3`, ..."""
    return ["kubesim-node"] + ["kubesim-node-%d" % i for i in range(2, n + 1)]


def node_ip(subnet, i):
    """The InternalIP of the i-th node (1-based): 127.S.255.i in the cluster's own 127.S.0.0/16 (pods get
    addresses below 127.S.255.0), so that no node shares the API server's 127.0.0.1 and clusters running side
    by side have distinct node addresses."""
    return "127.%d.255.%d" % (subnet, i)


def _conditions(now, old=None):
    prev = {c.get("type"): c for c in (old or [])}
    out = []
    for typ, status, reason, msg in (
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status")):
        p = prev.get(typ)
        since = p["lastTransitionTime"] if p and p.get("status") == status and p.get("lastTransitionTime") else now
        out.append({"type": typ, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": since,
                    "reason": reason, "message": msg})
    return out


def node_status(name, index, ip, old=None):
    now = rfc3339()
    ids = "%08x-0000-4000-8000-%012x" % (index, index)
    return {
        "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
        "conditions": _conditions(now, (old or {}).get("conditions")),
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": ids.replace("-", ""), "systemUUID": ids, "bootID": ids,
                     "kernelVersion": os.uname().release, "osImage": "kubesim",
                     "containerRuntimeVersion": "kubesim://1", "kubeletVersion": KUBELET_VERSION,
                     "kubeProxyVersion": KUBELET_VERSION, "operatingSystem": "linux", "architecture": "amd64"},
        "capacity": {"cpu": "2", "ephemeral-storage": "100Gi", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                     "memory": "24Gi", "pods": "5000"},
        "allocatable": {"cpu": "2", "ephemeral-storage": "100Gi", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                        "memory": "24Gi", "pods": "5000"},
    }


def node_object(name):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name,
                         "labels": {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
                                    "kubernetes.io/os": "linux"},
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {}}


class NodeAgent:
    """One node's kubelet heartbeats: registers the Node, keeps its Lease renewed and its status reported."""

    def __init__(self, srv, name, index, subnet, lease_duration=LEASE_DURATION):
        self.srv = srv
        self.name = name
        self.index = index
        self.ip = node_ip(subnet, index)
        self.lease_duration = lease_duration
        self.renew = lease_duration / 4.0   # the kubelet renews at a quarter of the duration: 10 s by default
        self.task = None
        self.last_status = 0.0
        self.away = None    # None, or "partition" / "down" (node-partition, node-down): nothing reaches the API

    def _t(self, group, plural):
        return self.srv.store.types[(group, plural)]

    def register(self):
        rt = self._t("", "nodes")
        if self.srv.store.get(rt, "", self.name) is None:
            self.srv.registry.create(rt, "", node_object(self.name))
        self.post_status()
        self.renew_lease()

    def post_status(self):
        rt = self._t("", "nodes")
        n = self.srv.store.get(rt, "", self.name)
        if n is None:
            return
        old = n.get("status") or {}
        new = node_status(self.name, self.index, self.ip, old)
        self.srv.registry.set_status(rt, n, new)
        self.last_status = asyncio.get_running_loop().time()
        was = next((c.get("status") for c in old.get("conditions") or [] if c.get("type") == "Ready"), None)
        if was is not None and was != "True":
            # the kubelet's own event when its Ready condition comes back (kubelet_node_status.go), about
            # its nodeRef, whose uid is the node's name
            from . import events
            ref = {"kind": "Node", "metadata": {"name": self.name, "uid": self.name}}
            events.record(self.srv, ref, "Normal", "NodeReady", "Node %s status is now: NodeReady" % self.name,
                          "kubelet", self.name)

    def renew_lease(self):
        rt = self._t("coordination.k8s.io", "leases")
        lease = self.srv.store.get(rt, LEASE_NAMESPACE, self.name)
        now = micro_time()
        if lease is None:
            node = self.srv.store.get(self._t("", "nodes"), "", self.name)
            md = {"name": self.name, "namespace": LEASE_NAMESPACE}
            if node is not None:
                md["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": self.name,
                                          "uid": node["metadata"]["uid"]}]
            self.srv.registry.create(rt, LEASE_NAMESPACE, {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": md,
                "spec": {"holderIdentity": self.name, "leaseDurationSeconds": self.lease_duration,
                         "renewTime": now}})
            return
        new = dict(lease)
        new["metadata"] = dict(lease["metadata"])
        new["spec"] = dict(lease.get("spec") or {})
        new["spec"].update({"holderIdentity": self.name, "leaseDurationSeconds": self.lease_duration,
                            "renewTime": now})
        self.srv.registry.write(rt, new)

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.renew)
            if self.away:
                continue
            try:
                gone = self.srv.store.get(self._t("", "nodes"), "", self.name) is None
                if gone:   # deleted: the kubelet registers its node again
                    self.srv.registry.create(self._t("", "nodes"), "", node_object(self.name))
                if gone or loop.time() - self.last_status >= STATUS_REPORT:
                    self.post_status()
                self.renew_lease()
            except Exception:
                log.exception("node %s: heartbeat failed", self.name)

    def come_back(self):
        """After node-heal: the kubelet posts its node status (Ready again) and renews its Lease at once."""
        self.away = None
        try:
            if self.srv.store.get(self._t("", "nodes"), "", self.name) is None:
                self.srv.registry.create(self._t("", "nodes"), "", node_object(self.name))
            self.post_status()
            self.renew_lease()
        except Exception:
            log.exception("node %s: heartbeat failed", self.name)

    def stop(self):
        if self.task:
            self.task.cancel()
