"""kube-controller-manager's pod garbage collector (pkg/controller/podgc), as in Kubernetes 1.32.

Every 20 s (gcCheckPeriod, no flag) it force-deletes, each after setting the phase to Failed (so that a pod
no kubelet will ever finish does not stay Running) and then deleting with grace period 0:
- terminating pods on a node whose Ready is not True and that has the `node.kubernetes.io/out-of-service`
  taint (non-graceful node shutdown: an administrator's word that the node is off);
- orphaned pods, bound to a node that does not exist and still did not 40 s later (quarantineTime), with
  the condition DisruptionTarget (reason DeletionByPodGC, "PodGC: node no longer exists").
It records no events (only its log line "PodGC is force deleting Pod"). Not done: the terminated-pod
threshold (--terminated-pod-gc-threshold, 12500) and unscheduled terminating pods (kubesim deletes those at
once)."""

import asyncio
import logging

from .util import rfc3339

log = logging.getLogger("kubesim.podgc")

GC_PERIOD = 20.0        # gcCheckPeriod
QUARANTINE = 40.0       # quarantineTime
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"


class PodGC:
    name = "pod-garbage-collector"

    def __init__(self, srv):
        self.srv = srv
        self.store = srv.store
        self.registry = srv.registry
        self.missing = {}   # node name -> loop time it was first found missing
        self.task = asyncio.get_running_loop().create_task(self._run())

    def t(self, group, plural):
        return self.store.types[(group, plural)]

    async def _run(self):
        while True:
            await asyncio.sleep(GC_PERIOD)
            try:
                self.gc()
            except Exception:
                log.exception("pod garbage collection failed")

    def gc(self):
        nodes = {n["metadata"]["name"]: n for n in self.store.list(self.t("", "nodes"))}
        pods = self.store.list(self.t("", "pods"))
        # terminating pods on out-of-service nodes, oldest deletion first
        terminating = []
        for pod in pods:
            node = nodes.get((pod.get("spec") or {}).get("nodeName"))
            if pod["metadata"].get("deletionTimestamp") and node is not None and not _ready(node) and \
                    any(t.get("key") == OUT_OF_SERVICE for t in (node.get("spec") or {}).get("taints") or []):
                terminating.append(pod)
        for pod in sorted(terminating, key=lambda p: p["metadata"]["deletionTimestamp"]):
            self.force_delete(pod)
        # orphaned pods: their node missing now and 40 s ago
        loop_now = asyncio.get_running_loop().time()
        bound = {(p.get("spec") or {}).get("nodeName") for p in pods} - {None, ""}
        for name in list(self.missing):
            if name in nodes or name not in bound:
                self.missing.pop(name)
        for name in bound - set(nodes):
            self.missing.setdefault(name, loop_now)
        gone = {name for name, since in self.missing.items() if loop_now - since >= QUARANTINE}
        for pod in pods:
            if (pod.get("spec") or {}).get("nodeName") in gone and \
                    self.store.get(self.t("", "nodes"), "", pod["spec"]["nodeName"]) is None:
                self.force_delete(pod, {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                                        "lastTransitionTime": rfc3339(), "reason": "DeletionByPodGC",
                                        "message": "PodGC: node no longer exists"})

    def force_delete(self, pod, condition=None):
        rt = self.t("", "pods")
        md = pod["metadata"]
        cur = self.store.get(rt, md["namespace"], md["name"])
        if cur is None or cur["metadata"]["uid"] != md["uid"]:
            return
        log.info("PodGC is force deleting Pod %s/%s", md["namespace"], md["name"])
        try:
            st = dict(cur.get("status") or {})
            if st.get("phase") not in ("Succeeded", "Failed"):
                st["phase"] = "Failed"
                if condition is not None:
                    st["conditions"] = [c for c in st.get("conditions") or [] if c.get("type") != condition["type"]]
                    st["conditions"].append(condition)
                self.registry.set_status(rt, cur, st)
            self.registry.delete(rt, md["namespace"], md["name"],
                                 {"gracePeriodSeconds": 0, "preconditions": {"uid": md["uid"]}})
        except Exception as e:
            log.info("force deletion of %s/%s: %s", md["namespace"], md["name"], e)


def _ready(node):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])
