"""Controller plumbing: a work queue of object keys drained by one asyncio task per controller."""

import asyncio
import logging

log = logging.getLogger("kubesim.controllers")


class Controller:
    """Level-triggered: listeners enqueue keys; `sync(key)` looks at the whole current state."""

    name = "controller"

    def __init__(self, srv):
        self.srv = srv
        self.store = srv.store
        self.registry = srv.registry
        self.pending = []
        self.pending_set = set()
        self.wake = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())
        self.store.listeners.append(self.on_event)

    def t(self, group, plural):
        return self.store.types[(group, plural)]

    def enqueue(self, key, delay=0):
        if delay:
            asyncio.get_running_loop().call_later(delay, self.enqueue, key)
            return
        if key not in self.pending_set:
            self.pending_set.add(key)
            self.pending.append(key)
            self.wake.set()

    def on_event(self, rt, ev):
        pass

    async def _run(self):
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending:
                key = self.pending.pop(0)
                self.pending_set.discard(key)
                try:
                    r = self.sync(key)
                    if asyncio.iscoroutine(r):
                        await r
                except Exception:
                    log.exception("%s: sync of %s failed", self.name, key)
                    self.enqueue(key, 1.0)
                await asyncio.sleep(0)

    def sync(self, key):
        raise NotImplementedError


def start_controllers(srv):
    from .ctl_core import CrdController, NamespaceController, NodeUnschedulableTaint, PvcBinder
    from .ctl_gc import GarbageCollector
    from .ctl_workloads import DeploymentController, ReplicaSetController
    from .ctl_statefulset import StatefulSetController
    from .ctl_scheduler import Scheduler
    from .ctl_nodelifecycle import NodeLifecycle
    from .ctl_podgc import PodGC
    return [c(srv) for c in (CrdController, NamespaceController, PvcBinder, GarbageCollector,
                             DeploymentController, ReplicaSetController, StatefulSetController, NodeUnschedulableTaint,
                             Scheduler, NodeLifecycle, PodGC)]
