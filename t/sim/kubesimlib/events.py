"""Event recording as client-go's recorder does it: one core/v1 Event per (object, reason, message, source),
named <object>.<hex nanos>, with count and lastTimestamp bumped on repeats."""

import time

from .util import rfc3339

_MAX_KEYS = 20000


class Recorder:
    def __init__(self, srv):
        self.srv = srv
        self.names = {}   # (uid, reason, message, component, type) -> (namespace, event name)

    def record(self, obj, etype, reason, message, component, host=None, field_path=None):
        store, reg = self.srv.store, self.srv.registry
        kubelet = getattr(self.srv, "kubelet", None)
        if component == "kubelet" and host and kubelet is not None and kubelet.away(host):
            return   # a kubelet that cannot reach the API server posts no events either
        rt_ev = store.types[("", "events")]
        md = obj.get("metadata") or {}
        ns = md.get("namespace") or "default"
        key = (md.get("uid"), reason, message, component, etype)
        where = self.names.get(key)
        ev = store.get(rt_ev, *where) if where else None
        if ev is not None:
            new = dict(ev)
            new["count"] = ev.get("count", 1) + 1
            new["lastTimestamp"] = rfc3339()
            new["metadata"] = dict(ev["metadata"])
            try:
                reg.write(rt_ev, new)
            except Exception:
                pass
            return
        involved = {"kind": obj.get("kind"), "namespace": md.get("namespace"), "name": md.get("name"),
                    "uid": md.get("uid"), "apiVersion": obj.get("apiVersion"),
                    "resourceVersion": md.get("resourceVersion")}
        if field_path:
            involved["fieldPath"] = field_path
        involved = {k: v for k, v in involved.items() if v}   # omitempty, as an ObjectReference is written
        source = {"component": component}
        if host:
            source["host"] = host
        name = "%s.%x" % (md.get("name"), time.time_ns())
        if len(self.names) > _MAX_KEYS:
            self.names.clear()
        self.names[key] = (ns, name)
        body = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
                "involvedObject": involved, "reason": reason, "message": message, "source": source,
                "firstTimestamp": rfc3339(), "lastTimestamp": rfc3339(), "count": 1, "type": etype,
                "eventTime": None, "reportingComponent": component, "reportingInstance": host or ""}
        try:
            reg.create(rt_ev, ns, body)
        except Exception:
            pass


def record(srv, obj, etype, reason, message, component, host=None, field_path=None):
    srv.recorder.record(obj, etype, reason, message, component, host, field_path)
