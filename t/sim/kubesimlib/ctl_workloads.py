"""Deployment -> ReplicaSet -> Pod controllers: replicas, pod-template-hash, rolling replacement."""

import copy
import json

from . import events
from .controllers import Controller
from .util import random_suffix, template_hash, rfc3339


def owner_ref(obj, block=True):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": block}


def controlled_by(obj, owner_uid):
    return any(r.get("uid") == owner_uid and r.get("controller") for r in obj["metadata"].get("ownerReferences") or [])


def pod_ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def pod_active(pod):
    return not pod["metadata"].get("deletionTimestamp") and \
        (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


class ReplicaSetController(Controller):
    name = "replicaset"

    def on_event(self, rt, ev):
        md = ev.obj["metadata"]
        if rt.key == ("apps", "replicasets"):
            self.enqueue((md["namespace"], md["name"]))
        elif rt.key == ("", "pods"):
            for r in md.get("ownerReferences") or []:
                if r.get("kind") == "ReplicaSet" and r.get("controller"):
                    self.enqueue((md["namespace"], r.get("name")))

    def sync(self, key):
        rst = self.t("apps", "replicasets")
        rs = self.store.get(rst, *key)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        podt = self.t("", "pods")
        uid = rs["metadata"]["uid"]
        pods = [p for p in self.store.list(podt, key[0]) if controlled_by(p, uid)]
        active = [p for p in pods if pod_active(p)]
        want = (rs.get("spec") or {}).get("replicas", 1)
        if len(active) < want:
            tmpl = copy.deepcopy((rs["spec"].get("template") or {}))
            for _ in range(want - len(active)):
                md = copy.deepcopy(tmpl.get("metadata") or {})
                md.pop("creationTimestamp", None)
                md["generateName"] = rs["metadata"]["name"] + "-"
                md["name"] = md["generateName"] + random_suffix()
                md["ownerReferences"] = [owner_ref(rs)]
                pod = {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": copy.deepcopy(tmpl.get("spec") or {})}
                try:
                    self.registry.create(podt, key[0], pod)
                    events.record(self.srv, rs, "Normal", "SuccessfulCreate", "Created pod: %s" % md["name"],
                                  "replicaset-controller")
                except Exception as e:
                    events.record(self.srv, rs, "Warning", "FailedCreate", "Error creating: %s" % e,
                                  "replicaset-controller")
                    self.enqueue(key, 2.0)
                    break
        elif len(active) > want:
            # not-ready and newest first, as the real controller prefers
            victims = sorted(active, key=lambda p: (pod_ready(p), p["metadata"]["creationTimestamp"]))
            for p in victims[:len(active) - want]:
                try:
                    self.registry.delete(podt, key[0], p["metadata"]["name"])
                    events.record(self.srv, rs, "Normal", "SuccessfulDelete", "Deleted pod: %s" % p["metadata"]["name"],
                                  "replicaset-controller")
                except Exception:
                    pass
        pods = [p for p in self.store.list(podt, key[0]) if controlled_by(p, uid) and pod_active(p)]
        ready = sum(1 for p in pods if pod_ready(p))
        status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
                  "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
        if not ready:
            del status["readyReplicas"]
            del status["availableReplicas"]
        self.registry.set_status(rst, rs, status)


class DeploymentController(Controller):
    name = "deployment"

    def on_event(self, rt, ev):
        md = ev.obj["metadata"]
        if rt.key == ("apps", "deployments"):
            self.enqueue((md["namespace"], md["name"]))
        elif rt.key == ("apps", "replicasets"):
            for r in md.get("ownerReferences") or []:
                if r.get("kind") == "Deployment" and r.get("controller"):
                    self.enqueue((md["namespace"], r.get("name")))

    def sync(self, key):
        dt = self.t("apps", "deployments")
        d = self.store.get(dt, *key)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        rst = self.t("apps", "replicasets")
        spec = d.get("spec") or {}
        uid = d["metadata"]["uid"]
        tmpl = copy.deepcopy(spec.get("template") or {})
        h = template_hash(tmpl)
        owned = [r for r in self.store.list(rst, key[0]) if controlled_by(r, uid)]
        new = next((r for r in owned if (r["metadata"].get("labels") or {}).get("pod-template-hash") == h), None)
        want = spec.get("replicas", 1)
        olds = [r for r in owned if r is not new]
        strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
        old_pods = sum((r.get("status") or {}).get("replicas", 0) for r in olds)
        if new is None:
            if strategy == "Recreate" and old_pods:
                for r in olds:
                    self._scale(rst, r, 0, d)
                return
            name = "%s-%s" % (d["metadata"]["name"], h)
            tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
            sel = copy.deepcopy(spec.get("selector") or {})
            sel.setdefault("matchLabels", {})["pod-template-hash"] = h
            labels = dict(tmpl["metadata"]["labels"])
            rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": name, "labels": labels, "ownerReferences": [owner_ref(d)],
                               "annotations": {"deployment.kubernetes.io/desired-replicas": str(want),
                                               "deployment.kubernetes.io/revision": str(self._next_revision(owned))}},
                  "spec": {"replicas": 0 if olds else want, "selector": sel, "template": tmpl}}
            try:
                new = self.registry.create(rst, key[0], rs)
            except Exception as e:
                events.record(self.srv, d, "Warning", "FailedCreate", str(e), "deployment-controller")
                return
            if not olds:
                events.record(self.srv, d, "Normal", "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d"
                              % (name, want), "deployment-controller")
        if (new.get("spec") or {}).get("replicas") != want:
            if strategy == "Recreate" and old_pods:
                for r in olds:
                    self._scale(rst, r, 0, d)
            else:
                self._scale(rst, new, want, d)
        new_ready = (new.get("status") or {}).get("readyReplicas", 0)
        # rolling: retire old pods as new ones become ready
        budget = new_ready
        for r in olds:
            cur = (r.get("spec") or {}).get("replicas", 0)
            target = max(0, min(cur, want - budget))
            budget += target
            if target != cur:
                self._scale(rst, r, target, d)
        owned = [r for r in self.store.list(rst, key[0]) if controlled_by(r, uid)]
        total = sum((r.get("status") or {}).get("replicas", 0) for r in owned)
        ready = sum((r.get("status") or {}).get("readyReplicas", 0) for r in owned)
        cur_new = self.store.get(rst, key[0], new["metadata"]["name"]) or new
        updated = (cur_new.get("status") or {}).get("replicas", 0)
        t = rfc3339()
        status = {"observedGeneration": d["metadata"].get("generation", 1), "replicas": total,
                  "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
                  "unavailableReplicas": max(total - ready, 0),
                  "conditions": [
                      {"type": "Available", "status": "True" if ready >= want else "False",
                       "reason": "MinimumReplicasAvailable" if ready >= want else "MinimumReplicasUnavailable",
                       "message": "Deployment has minimum availability." if ready >= want else
                       "Deployment does not have minimum availability.", "lastUpdateTime": t, "lastTransitionTime": t},
                      {"type": "Progressing", "status": "True",
                       "reason": "NewReplicaSetAvailable" if updated == want and ready >= want else "ReplicaSetUpdated",
                       "message": 'ReplicaSet "%s" has %s' % (new["metadata"]["name"], "successfully progressed."
                                                               if ready >= want else "is progressing."),
                       "lastUpdateTime": t, "lastTransitionTime": t}]}
        for k in ("readyReplicas", "availableReplicas", "unavailableReplicas"):
            if not status[k]:
                del status[k]
        old_status = d.get("status") or {}
        if _same_but_times(old_status, status):
            return
        self.registry.set_status(dt, d, status)

    def _next_revision(self, owned):
        revs = [int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0") or 0)
                for r in owned]
        return max(revs + [0]) + 1

    def _scale(self, rst, rs, n, d):
        cur = self.store.get(rst, rs["metadata"]["namespace"], rs["metadata"]["name"])
        if cur is None or (cur.get("spec") or {}).get("replicas") == n:
            return
        before = (cur.get("spec") or {}).get("replicas", 0)
        new = copy.deepcopy(cur)
        new["spec"]["replicas"] = n
        self.registry.write(rst, new)
        events.record(self.srv, d, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d" % (
            "up" if n > before else "down", cur["metadata"]["name"], before, n), "deployment-controller")


def _same_but_times(a, b):
    def strip(s):
        s = json.loads(json.dumps(s))
        for c in s.get("conditions") or []:
            c.pop("lastUpdateTime", None)
            c.pop("lastTransitionTime", None)
        return s
    return strip(a) == strip(b)
