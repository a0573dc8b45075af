"""A pod's filesystem: its root directory, volumes materialised at their mount paths, the service-account
files, and the cluster's hosts file."""

import base64
import os
import shutil

from .util import get_path


def write_file(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".kubesim-tmp"
    with open(tmp, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def link(target, at):
    """Make `at` (a path in the pod root) point at `target`, replacing what was there."""
    os.makedirs(os.path.dirname(at), exist_ok=True)
    if os.path.islink(at) or os.path.isfile(at):
        os.unlink(at)
    elif os.path.isdir(at):
        if os.listdir(at):
            return  # something already lives there (an image directory); leave it
        os.rmdir(at)
    os.symlink(target, at)


class PodFS:
    def __init__(self, kubelet, pod):
        md = pod["metadata"]
        self.kubelet = kubelet
        self.dir = os.path.join(kubelet.state_dir, "pods", "%s_%s_%s" % (md["namespace"], md["name"], md["uid"]))
        self.root = os.path.join(self.dir, "root")
        self.logs = os.path.join(self.dir, "logs")
        self.volumes = os.path.join(self.dir, "volumes")

    def create(self, own_hosts):
        for d in ("tmp", "etc", "var/run", "dev", self.logs, self.volumes):
            os.makedirs(os.path.join(self.root, d) if not d.startswith("/") else d, exist_ok=True)
        hosts = os.path.join(self.root, "etc", "hosts")
        if not own_hosts and not os.path.lexists(hosts):
            os.symlink(self.kubelet.hosts_path, hosts)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def in_root(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    # -- volumes ------------------------------------------------------------------------------------
    def volume_dir(self, pod, vol):
        """Materialise one volume and return the host directory holding it."""
        name = vol.get("name")
        ns = pod["metadata"]["namespace"]
        k = self.kubelet
        if "persistentVolumeClaim" in vol:
            claim = (vol["persistentVolumeClaim"] or {}).get("claimName")
            pvc = k.store.get(k.srv.store.types[("", "persistentvolumeclaims")], ns, claim)
            if pvc is None:
                raise RuntimeError('persistentvolumeclaim "%s" not found' % claim)
            d = os.path.join(k.state_dir, "volumes", "%s_%s_%s" % (ns, claim, pvc["metadata"]["uid"]))
            os.makedirs(d, exist_ok=True)
            return d
        d = os.path.join(self.volumes, name)
        os.makedirs(d, exist_ok=True)
        files = None
        if "configMap" in vol:
            files = self._configmap_files(ns, vol["configMap"] or {})
        elif "secret" in vol:
            files = self._secret_files(ns, vol["secret"] or {})
        elif "projected" in vol:
            files = {}
            for src in (vol["projected"] or {}).get("sources") or []:
                if "serviceAccountToken" in src:
                    files[(src["serviceAccountToken"] or {}).get("path", "token")] = k.token_for(pod).encode()
                elif "configMap" in src:
                    files.update(self._configmap_files(ns, src["configMap"] or {}))
                elif "secret" in src:
                    files.update(self._secret_files(ns, src["secret"] or {}))
                elif "downwardAPI" in src:
                    files.update(self._downward_files(pod, src["downwardAPI"] or {}))
        elif "downwardAPI" in vol:
            files = self._downward_files(pod, vol["downwardAPI"] or {})
        if files is not None:
            for rel, data in files.items():
                write_file(os.path.join(d, rel), data)
            for existing in os.listdir(d):
                if existing not in {r.split("/")[0] for r in files} and os.path.isfile(os.path.join(d, existing)):
                    os.unlink(os.path.join(d, existing))
        return d

    def _configmap_files(self, ns, src):
        k = self.kubelet
        cm = k.store.get(k.srv.store.types[("", "configmaps")], ns, src.get("name"))
        if cm is None:
            if src.get("optional"):
                return {}
            raise RuntimeError('configmap "%s" not found' % src.get("name"))
        data = {kk: v.encode() for kk, v in (cm.get("data") or {}).items()}
        data.update({kk: base64.b64decode(v) for kk, v in (cm.get("binaryData") or {}).items()})
        return self._items(data, src.get("items"))

    def _secret_files(self, ns, src):
        k = self.kubelet
        name = src.get("secretName") or src.get("name")
        s = k.store.get(k.srv.store.types[("", "secrets")], ns, name)
        if s is None:
            if src.get("optional"):
                return {}
            raise RuntimeError('secret "%s" not found' % name)
        data = {}
        for kk, v in (s.get("data") or {}).items():
            try:
                data[kk] = base64.b64decode(v)
            except (ValueError, TypeError):
                data[kk] = b""
        return self._items(data, src.get("items"))

    @staticmethod
    def _items(data, items):
        if not items:
            return data
        return {it["path"]: data[it["key"]] for it in items if it.get("key") in data and it.get("path")}

    def _downward_files(self, pod, src):
        out = {}
        for it in src.get("items") or []:
            fp = (it.get("fieldRef") or {}).get("fieldPath")
            if fp:
                out[it["path"]] = field_value(pod, fp, self.kubelet.node_ip(
                    (pod.get("spec") or {}).get("nodeName"))).encode()
        return out

    def mount_all(self, pod):
        """Materialise every container's volume mounts under the pod root."""
        vols = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
        dirs = {}
        spec = pod.get("spec") or {}
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            for m in c.get("volumeMounts") or []:
                v = vols.get(m.get("name"))
                if v is None or not m.get("mountPath"):
                    continue
                if m["name"] not in dirs:
                    dirs[m["name"]] = self.volume_dir(pod, v)
                target = dirs[m["name"]]
                if m.get("subPath"):
                    target = os.path.join(target, m["subPath"])
                    if not os.path.exists(target):
                        os.makedirs(target, exist_ok=True)
                link(target, self.in_root(m["mountPath"]))
        return dirs


def field_value(pod, path, host_ip=None):
    md = pod.get("metadata") or {}
    if path.startswith("metadata.labels[") or path.startswith("metadata.annotations["):
        which = "labels" if "labels" in path else "annotations"
        key = path.split("[", 1)[1].rstrip("]").strip("'\"")
        return (md.get(which) or {}).get(key, "")
    if path in ("metadata.labels", "metadata.annotations"):
        d = md.get(path.split(".")[1]) or {}
        return "\n".join('%s="%s"' % kv for kv in sorted(d.items()))
    if path == "spec.serviceAccountName":
        return (pod.get("spec") or {}).get("serviceAccountName", "")
    if path in ("status.hostIP", "status.hostIPs"):
        return host_ip or (pod.get("status") or {}).get("hostIP", "")
    v = get_path(pod, path)
    return "" if v is None else str(v)
