"""Event recording as client-go's recorder does it: one core/v1 Event per (object, reason, message, source),
named <object>.<hex nanos>, with count and lastTimestamp bumped on repeats."""

import time

from .util import micro_time, rfc3339


def record(srv, obj, etype, reason, message, component, host=None, field_path=None):
    store, reg = srv.store, srv.registry
    rt_ev = store.types[("", "events")]
    md = obj.get("metadata") or {}
    ns = md.get("namespace") or "default"
    involved = {"kind": obj.get("kind"), "namespace": md.get("namespace"), "name": md.get("name"),
                "uid": md.get("uid"), "apiVersion": obj.get("apiVersion"),
                "resourceVersion": md.get("resourceVersion")}
    if field_path:
        involved["fieldPath"] = field_path
    if not involved["namespace"]:
        involved.pop("namespace")
    source = {"component": component}
    if host:
        source["host"] = host
    for ev in store.list(rt_ev, ns):
        io = ev.get("involvedObject") or {}
        if io.get("uid") == md.get("uid") and ev.get("reason") == reason and ev.get("message") == message \
                and (ev.get("source") or {}).get("component") == component and ev.get("type") == etype:
            new = dict(ev)
            new["count"] = ev.get("count", 1) + 1
            new["lastTimestamp"] = rfc3339()
            new["metadata"] = dict(ev["metadata"])
            try:
                reg.write(rt_ev, new)
            except Exception:
                pass
            return
    name = "%s.%x" % (md.get("name"), time.time_ns())
    body = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
            "involvedObject": involved, "reason": reason, "message": message, "source": source,
            "firstTimestamp": rfc3339(), "lastTimestamp": rfc3339(), "count": 1, "type": etype,
            "eventTime": None, "reportingComponent": component, "reportingInstance": host or ""}
    try:
        reg.create(rt_ev, ns, body)
    except Exception:
        pass
