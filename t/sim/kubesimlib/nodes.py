"""The cluster's nodes: their names, the Node objects a kubelet registers, and each kubelet's heartbeats (a
Lease in kube-node-lease renewed every 10 s, the node's status posted again every 5 minutes), as the 1.32
kubelet does them with its default nodeLeaseDurationSeconds and nodeStatusReportFrequency."""

import asyncio
import logging
import os

from .util import micro_time, rfc3339

log = logging.getLogger("kubesim.nodes")

LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40          # the kubelet's nodeLeaseDurationSeconds
LEASE_RENEW = LEASE_DURATION / 4.0   # it renews at a quarter of the duration: 10 s
STATUS_REPORT = 300          # nodeStatusReportFrequency: an unchanged status is posted every 5 minutes
KUBELET_VERSION = "v1.32.4"


def node_names(n):
    """`kubesim-node`, then `kubesim-node-2`, `kubesim-node-3`, ..."""
    return ["kubesim-node"] + ["kubesim-node-%d" % i for i in range(2, n + 1)]


def node_ip(i):
    """The InternalIP of the i-th node (1-based): 127.0.0.i; the first is the API server's own address."""
    return "127.0.0.%d" % i


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


def node_status(name, index, old=None):
    now = rfc3339()
    ids = "%08x-0000-4000-8000-%012x" % (index, index)
    return {
        "addresses": [{"type": "InternalIP", "address": node_ip(index)}, {"type": "Hostname", "address": name}],
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

    def __init__(self, srv, name, index):
        self.srv = srv
        self.name = name
        self.index = index
        self.ip = node_ip(index)
        self.task = None
        self.last_status = 0.0

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
        self.srv.registry.set_status(rt, n, node_status(self.name, self.index, n.get("status")))
        self.last_status = asyncio.get_running_loop().time()

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
                "spec": {"holderIdentity": self.name, "leaseDurationSeconds": LEASE_DURATION, "renewTime": now}})
            return
        new = dict(lease)
        new["metadata"] = dict(lease["metadata"])
        new["spec"] = dict(lease.get("spec") or {})
        new["spec"].update({"holderIdentity": self.name, "leaseDurationSeconds": LEASE_DURATION, "renewTime": now})
        self.srv.registry.write(rt, new)

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(LEASE_RENEW)
            try:
                gone = self.srv.store.get(self._t("", "nodes"), "", self.name) is None
                if gone:   # deleted: the kubelet registers its node again
                    self.srv.registry.create(self._t("", "nodes"), "", node_object(self.name))
                if gone or loop.time() - self.last_status >= STATUS_REPORT:
                    self.post_status()
                self.renew_lease()
            except Exception:
                log.exception("node %s: heartbeat failed", self.name)

    def stop(self):
        if self.task:
            self.task.cancel()
