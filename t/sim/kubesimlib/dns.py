"""Cluster DNS as a hosts file: the names CoreDNS would answer for Services and pods, computed from the
store, and the per-pod header the kubelet writes (the pod's own hostname).

As in Kubernetes, a headless Service's names (`<svc>.<ns>.svc.<domain>` and, for pods whose
`subdomain` is the Service, `<hostname>.<svc>.<ns>.svc.<domain>`, the domain cluster.local unless
`kubesim start --cluster-domain` says otherwise) exist for the Service's ready
endpoints only, unless the Service sets `publishNotReadyAddresses`."""

import re

from .selectors import LabelSelector

# The cluster's DNS domain (kubelet --cluster-domain, CoreDNS's zone); kubesim start --cluster-domain.
DOMAIN = "cluster.local"
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")

HEADER = ["# Kubernetes-managed hosts file (kubesim).", "127.0.0.1\tlocalhost",
          "::1\tlocalhost ip6-localhost ip6-loopback"]


def api_line():
    return "127.0.0.1\tkubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc." + DOMAIN


def _ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _endpoint(pod):
    st = pod.get("status") or {}
    return st.get("podIP") and st.get("phase") not in ("Succeeded", "Failed") and \
        not pod["metadata"].get("deletionTimestamp")


def cluster_lines(store):
    """Lines for every Service endpoint and every pod address."""
    pods_by_ns = {}
    for p in store.list(store.types[("", "pods")]):
        pods_by_ns.setdefault(p["metadata"]["namespace"], []).append(p)
    lines = [api_line()]
    for svc in sorted(store.list(store.types[("", "services")]),
                      key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
        spec = svc.get("spec") or {}
        sel = spec.get("selector")
        if spec.get("clusterIP") != "None" or not isinstance(sel, dict) or not sel:
            continue
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        matcher = LabelSelector("")
        matcher.reqs = [("=", k, v) for k, v in sel.items()]
        publish = bool(spec.get("publishNotReadyAddresses"))
        for pod in sorted(pods_by_ns.get(ns, []), key=lambda p: p["metadata"]["name"]):
            if not _endpoint(pod) or not matcher.matches(pod["metadata"].get("labels")):
                continue
            if not publish and not _ready(pod):
                continue
            ip = pod["status"]["podIP"]
            names = []
            pspec = pod.get("spec") or {}
            if pspec.get("subdomain") == name and pspec.get("hostname"):
                fq = "%s.%s.%s" % (pspec["hostname"], name, ns)
                names += [fq + ".svc." + DOMAIN, fq + ".svc", fq, "%s.%s" % (pspec["hostname"], name)]
            names += ["%s.%s.svc.%s" % (name, ns, DOMAIN), "%s.%s.svc" % (name, ns), "%s.%s" % (name, ns)]
            lines.append("%s\t%s" % (ip, " ".join(names)))
    for ns in sorted(pods_by_ns):
        for pod in sorted(pods_by_ns[ns], key=lambda p: p["metadata"]["name"]):
            ip = (pod.get("status") or {}).get("podIP")
            if ip and _endpoint(pod):
                lines.append("%s\t%s.%s.pod.%s" % (ip, ip.replace(".", "-"), ns, DOMAIN))
    return lines


def own_lines(pod, ip):
    """What the kubelet writes for the pod itself: its address and hostname (with its FQDN when it has a
    subdomain), whatever its readiness."""
    md, spec = pod["metadata"], pod.get("spec") or {}
    host = spec.get("hostname") or md["name"]
    if spec.get("subdomain"):
        return ["%s\t%s.%s.%s.svc.%s\t%s" % (ip, host, spec["subdomain"], md["namespace"], DOMAIN, host)]
    return ["%s\t%s" % (ip, host)]
