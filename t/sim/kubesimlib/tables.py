"""Server-side printing: meta.k8s.io/v1 Table for every kind, with the column sets kubectl 1.32 shows."""

import json

from .util import age, jsonpath, parse_time, now, human_duration


def col(name, typ="string", priority=0, fmt="", desc=""):
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


NAME = col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = col("Age", desc="CreationTimestamp is a timestamp representing the server time when this object was created.")
ACCESS = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _controller_name(ref):
    """formatResourceName of the controller: lowercase Kind.group/name, or kind/name for the core group."""
    av = ref.get("apiVersion", "")
    group = av.split("/")[0] if "/" in av else ""
    return "%s/%s" % ((ref.get("kind", "") + ("." + group if group else "")).lower(), ref.get("name"))


def _md(o):
    return o.get("metadata") or {}


def _spec(o):
    return o.get("spec") if isinstance(o.get("spec"), dict) else {}


def _status(o):
    return o.get("status") if isinstance(o.get("status"), dict) else {}


def _created(o):
    return age(_md(o).get("creationTimestamp"))


def pod_status_reason(pod):
    st = _status(pod)
    reason = st.get("reason") or st.get("phase") or "Unknown"
    inits = _spec(pod).get("initContainers") or []
    initializing = False
    for i, cs in enumerate(st.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        term = state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            reason = "Init:" + (term.get("reason") or ("Signal:%d" % term["signal"] if term.get("signal")
                                                       else "ExitCode:%d" % term.get("exitCode", 0)))
        elif state.get("waiting") and state["waiting"].get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = "Init:%d/%d" % (i, len(inits))
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(st.get("containerStatuses") or []):
            state = cs.get("state") or {}
            if state.get("waiting") and state["waiting"].get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated") and state["terminated"].get("reason"):
                reason = state["terminated"]["reason"]
            elif state.get("terminated"):
                t = state["terminated"]
                reason = "Signal:%d" % t["signal"] if t.get("signal") else "ExitCode:%d" % t.get("exitCode", 0)
            elif state.get("running") and cs.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
            reason = "Running" if ready else "NotReady"
    if _md(pod).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def node_row(node):
    """As the server's node printer: Ready, NotReady (False or Unknown), Unknown without a Ready condition;
    +SchedulingDisabled; roles from labels."""
    st = _status(node)
    ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), None)
    status = ["Unknown"] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    if _spec(node).get("unschedulable"):
        status.append("SchedulingDisabled")
    roles = set()
    for k, v in (_md(node).get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/"):
            roles.add(k[len("node-role.kubernetes.io/"):])
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    roles.discard("")

    def addr(kind):
        return next((a.get("address") for a in st.get("addresses") or [] if a.get("type") == kind), None) or "<none>"
    info = st.get("nodeInfo") or {}
    return [_md(node)["name"], ",".join(status), ",".join(sorted(roles)) or "<none>", _created(node),
            info.get("kubeletVersion", ""), addr("InternalIP"), addr("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def pod_row(pod):
    st = _status(pod)
    total = len(_spec(pod).get("containers") or [])
    ready = sum(1 for c in st.get("containerStatuses") or [] if c.get("ready"))
    restarts = 0
    last = None
    for c in st.get("containerStatuses") or []:
        restarts += c.get("restartCount", 0)
        fin = parse_time(((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        if fin and (last is None or fin > last):
            last = fin
    rs = str(restarts)
    if restarts and last:
        rs = "%d (%s ago)" % (restarts, human_duration((now() - last).total_seconds()))
    gates = _spec(pod).get("readinessGates") or []
    return [_md(pod).get("name"), "%d/%d" % (ready, total), pod_status_reason(pod), rs, _created(pod),
            st.get("podIP") or "<none>", _spec(pod).get("nodeName") or "<none>",
            st.get("nominatedNodeName") or "<none>", "%d/%d" % (0, len(gates)) if gates else "<none>"]


def _containers(o):
    cs = ((_spec(o).get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _selector(o):
    sel = _spec(o).get("selector") or {}
    if isinstance(sel, dict) and "matchLabels" in sel or "matchExpressions" in (sel or {}):
        parts = ["%s=%s" % kv for kv in sorted((sel.get("matchLabels") or {}).items())]
        for e in sel.get("matchExpressions") or []:
            parts.append("%s %s (%s)" % (e.get("key"), (e.get("operator") or "").lower(), ",".join(e.get("values") or [])))
        return ",".join(parts) or "<none>"
    if isinstance(sel, dict):
        return ",".join("%s=%s" % kv for kv in sorted(sel.items())) or "<none>"
    return "<none>"


def _ports(svc):
    out = []
    for p in _spec(svc).get("ports") or []:
        s = "%s/%s" % (p.get("port"), p.get("protocol", "TCP"))
        if p.get("nodePort"):
            s = "%s:%s/%s" % (p.get("port"), p["nodePort"], p.get("protocol", "TCP"))
        out.append(s)
    return ",".join(out) or "<none>"


def _event_source(ev):
    src = ev.get("source") or {}
    if src.get("component"):
        return src["component"] + (", " + src["host"] if src.get("host") else "")
    return ev.get("reportingComponent") or "<unknown>"


def _event_last(ev):
    series = ev.get("series") or {}
    if series.get("lastObservedTime"):
        return age(series["lastObservedTime"])
    if ev.get("lastTimestamp"):
        return age(ev["lastTimestamp"])
    if ev.get("eventTime"):
        return age(ev["eventTime"])
    return "<unknown>"


def _event_first(ev):
    if ev.get("firstTimestamp"):
        return age(ev["firstTimestamp"])
    if ev.get("eventTime"):
        return age(ev["eventTime"])
    return "<unknown>"


def _binding_subjects(o, kind):
    names = []
    for s in o.get("subjects") or []:
        if s.get("kind") == kind:
            names.append("%s/%s" % (s.get("namespace", ""), s["name"]) if kind == "ServiceAccount" else s.get("name", ""))
    return ", ".join(names)


def _pvc_capacity(pvc):
    return ((_status(pvc).get("capacity") or {}).get("storage")) or ""


BUILTIN = {
    ("", "pods"): ([NAME, col("Ready"), col("Status"), col("Restarts"), AGE, col("IP", priority=1),
                    col("Node", priority=1), col("Nominated Node", priority=1),
                    col("Readiness Gates", priority=1)], pod_row),
    ("", "namespaces"): ([NAME, col("Status"), AGE],
                         lambda o: [_md(o)["name"], _status(o).get("phase", ""), _created(o)]),
    ("", "nodes"): ([NAME, col("Status"), col("Roles"), AGE, col("Version"), col("Internal-IP", priority=1),
                     col("External-IP", priority=1), col("OS-Image", priority=1), col("Kernel-Version", priority=1),
                     col("Container-Runtime", priority=1)],
                    node_row),
    ("", "services"): ([NAME, col("Type"), col("Cluster-IP"), col("External-IP"), col("Port(s)"), AGE,
                        col("Selector", priority=1)],
                       lambda o: [_md(o)["name"], _spec(o).get("type", "ClusterIP"), _spec(o).get("clusterIP", ""),
                                  ",".join(_spec(o).get("externalIPs") or []) or "<none>", _ports(o), _created(o),
                                  ",".join("%s=%s" % kv for kv in sorted((_spec(o).get("selector") or {}).items()))
                                  or "<none>"]),
    ("", "configmaps"): ([NAME, col("Data", "integer"), AGE],
                         lambda o: [_md(o)["name"], len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                    _created(o)]),
    ("", "secrets"): ([NAME, col("Type"), col("Data", "integer"), AGE],
                      lambda o: [_md(o)["name"], o.get("type", ""), len(o.get("data") or {}), _created(o)]),
    ("", "serviceaccounts"): ([NAME, col("Secrets", "integer"), AGE],
                              lambda o: [_md(o)["name"], len(o.get("secrets") or []), _created(o)]),
    ("", "persistentvolumeclaims"): (
        [NAME, col("Status"), col("Volume"), col("Capacity"), col("Access Modes"), col("StorageClass"),
         col("VolumeAttributesClass"), AGE, col("VolumeMode", priority=1)],
        lambda o: [_md(o)["name"], "Terminating" if _md(o).get("deletionTimestamp") else _status(o).get("phase", ""),
                   _spec(o).get("volumeName", ""), _pvc_capacity(o),
                   ",".join(ACCESS.get(m, m) for m in (_status(o).get("accessModes") or [])),
                   _spec(o).get("storageClassName") or "", "<unset>", _created(o),
                   _spec(o).get("volumeMode", "Filesystem")]),
    ("", "persistentvolumes"): (
        [NAME, col("Capacity"), col("Access Modes"), col("Reclaim Policy"), col("Status"), col("Claim"),
         col("StorageClass"), col("VolumeAttributesClass"), col("Reason"), AGE, col("VolumeMode", priority=1)],
        lambda o: [_md(o)["name"], (_spec(o).get("capacity") or {}).get("storage", ""),
                   ",".join(ACCESS.get(m, m) for m in (_spec(o).get("accessModes") or [])),
                   _spec(o).get("persistentVolumeReclaimPolicy", ""), _status(o).get("phase", ""),
                   "%s/%s" % ((_spec(o).get("claimRef") or {}).get("namespace", ""),
                              (_spec(o).get("claimRef") or {}).get("name", "")) if _spec(o).get("claimRef") else "",
                   _spec(o).get("storageClassName", ""), "<unset>", _status(o).get("reason", ""), _created(o),
                   _spec(o).get("volumeMode", "Filesystem")]),
    ("", "events"): (
        [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Subobject", priority=1),
         col("Source", priority=1), col("Message"), col("First Seen", priority=1),
         col("Count", "integer", priority=1), col("Name", priority=1)],
        lambda o: [_event_last(o), o.get("type", ""), o.get("reason", ""),
                   "%s/%s" % ((o.get("involvedObject") or {}).get("kind", "").lower(),
                              (o.get("involvedObject") or {}).get("name", "")),
                   (o.get("involvedObject") or {}).get("fieldPath", ""), _event_source(o),
                   (o.get("message") or "").strip(), _event_first(o), o.get("count", 1), _md(o)["name"]]),
    ("apps", "deployments"): (
        [NAME, col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"), AGE,
         col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)],
        lambda o: [_md(o)["name"], "%d/%d" % (_status(o).get("readyReplicas", 0), _spec(o).get("replicas", 0)),
                   _status(o).get("updatedReplicas", 0), _status(o).get("availableReplicas", 0), _created(o),
                   *_containers(o), _selector(o)]),
    ("apps", "replicasets"): (
        [NAME, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"), AGE,
         col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)],
        lambda o: [_md(o)["name"], _spec(o).get("replicas", 0), _status(o).get("replicas", 0),
                   _status(o).get("readyReplicas", 0), _created(o), *_containers(o), _selector(o)]),
    ("apps", "statefulsets"): (
        [NAME, col("Ready"), AGE, col("Containers", priority=1), col("Images", priority=1)],
        lambda o: [_md(o)["name"], "%d/%d" % (_status(o).get("readyReplicas", 0), _spec(o).get("replicas", 0)),
                   _created(o), *_containers(o)]),
    ("apps", "controllerrevisions"): (
        [NAME, col("Controller"), col("Revision", "integer"), AGE],
        lambda o: [_md(o)["name"], next((_controller_name(r) for r in _md(o).get("ownerReferences") or []
                                         if r.get("controller")), "<none>"),
                   o.get("revision", 0), _created(o)]),
    ("coordination.k8s.io", "leases"): (
        [NAME, col("Holder"), AGE],
        lambda o: [_md(o)["name"], _spec(o).get("holderIdentity") or "", _created(o)]),
    ("rbac.authorization.k8s.io", "roles"): (
        [NAME, col("Created At", "date")], lambda o: [_md(o)["name"], _md(o).get("creationTimestamp")]),
    ("rbac.authorization.k8s.io", "clusterroles"): (
        [NAME, col("Created At", "date")], lambda o: [_md(o)["name"], _md(o).get("creationTimestamp")]),
    ("rbac.authorization.k8s.io", "rolebindings"): (
        [NAME, col("Role"), AGE, col("Users", priority=1), col("Groups", priority=1),
         col("ServiceAccounts", priority=1)],
        lambda o: [_md(o)["name"], "%s/%s" % ((o.get("roleRef") or {}).get("kind", ""),
                                              (o.get("roleRef") or {}).get("name", "")), _created(o),
                   _binding_subjects(o, "User"), _binding_subjects(o, "Group"), _binding_subjects(o, "ServiceAccount")]),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): (
        [NAME, col("Role"), AGE, col("Users", priority=1), col("Groups", priority=1),
         col("ServiceAccounts", priority=1)],
        lambda o: [_md(o)["name"], "%s/%s" % ((o.get("roleRef") or {}).get("kind", ""),
                                              (o.get("roleRef") or {}).get("name", "")), _created(o),
                   _binding_subjects(o, "User"), _binding_subjects(o, "Group"), _binding_subjects(o, "ServiceAccount")]),
    ("apiextensions.k8s.io", "customresourcedefinitions"): (
        [NAME, col("Created At", "date")], lambda o: [_md(o)["name"], _md(o).get("creationTimestamp")]),
}


def _custom_columns(rt, version):
    from .kinds import crd_version
    v = crd_version(rt.crd, version) or {}
    cols = v.get("additionalPrinterColumns")
    if cols is None:
        cols = (rt.crd.get("spec") or {}).get("additionalPrinterColumns")
    return cols or []


def _custom_cell(c, obj):
    found = jsonpath(obj, c.get("jsonPath", ""))
    if not found:
        return None
    v = found[0]
    t = c.get("type")
    if t == "date":
        return age(v) if isinstance(v, str) else None
    if t in ("integer", "number", "boolean"):
        return v if isinstance(v, (int, float, bool)) else None
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else json.dumps(v)


def columns_and_rower(rt, version):
    if rt.builtin:
        if rt.key in BUILTIN:
            return BUILTIN[rt.key]
        return [NAME, AGE], lambda o: [_md(o)["name"], _created(o)]
    cols = _custom_columns(rt, version)
    if not cols:
        return [NAME, col("Age", "date")], lambda o: [_md(o)["name"], _created(o)]
    defs = [NAME] + [col(c.get("name", ""), c.get("type", "string"), c.get("priority", 0), c.get("format", ""),
                         c.get("description", "")) for c in cols]
    return defs, lambda o: [_md(o)["name"]] + [_custom_cell(c, o) for c in cols]


def row_object(obj, include, version_obj):
    if include == "None":
        return None
    if include == "Object":
        return version_obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata")}


def table(rt, version, objs, list_md, include="Metadata", headers=True, present=lambda o: o):
    defs, rower = columns_and_rower(rt, version)
    rows = []
    for o in objs:
        row = {"cells": rower(o)}
        ob = row_object(o, include, present(o))
        if ob is not None:
            row["object"] = ob
        rows.append(row)
    t = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_md}
    t["columnDefinitions"] = defs if headers else None
    t["rows"] = rows
    return t
