"""The pod runtime: every node's kubelet in one. A node's kubelet registers its Node, keeps its Lease renewed
(nodes.py) and runs the pods bound to that node (and no others): gives each a loopback address and a root
directory, runs init containers then containers as local processes (or idle placeholders), probes them,
restarts dead ones, reports status, and deletes pods gracefully. Scheduling is ctl_scheduler.py's."""

import asyncio
import fcntl
import logging
import os
import random
import signal

from . import dns
from .images import ImageTable
from .nodes import NodeAgent
from .podrun import PodRunner

log = logging.getLogger("kubesim.kubelet")


def pick_subnet(state_dir):
    """A /16 of 127/8 no other kubesim on this machine uses (held by a lock file for our lifetime)."""
    lockdir = os.path.join("/tmp", "kubesim-subnets")
    os.makedirs(lockdir, exist_ok=True)
    try:
        os.chmod(lockdir, 0o1777)
    except OSError:
        pass
    used = set()
    try:
        for fn in ("/proc/net/tcp", "/proc/net/udp"):
            with open(fn) as f:
                for line in list(f)[1:]:
                    addr = line.split()[1].split(":")[0]
                    b = bytes.fromhex(addr)[::-1]
                    if b[0] == 127:
                        used.add(b[1])
    except OSError:
        pass
    candidates = [a for a in range(16, 255) if a not in used]
    random.shuffle(candidates)
    for a in candidates:
        fd = os.open(os.path.join(lockdir, "127.%d" % a), os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return a, fd
    raise RuntimeError("no free 127.x.0.0/16 for pod addresses")


class Kubelet:
    def __init__(self, srv):
        self.srv = srv
        self.store = srv.store
        self.registry = srv.registry
        self.state_dir = srv.state_dir
        self.hosts_path = os.path.join(self.state_dir, "hosts")
        self.subnet, self._lockfd = pick_subnet(self.state_dir)
        srv.subnet = "127.%d.0.0/16" % self.subnet
        self.next_ip = 1
        self.free_ips = []
        self.runners = {}           # pod uid -> PodRunner
        self.tokens = {}            # pod uid -> token
        subst = {"top_srcdir": srv.top_srcdir or "", "top_builddir": srv.top_builddir or "",
                 "kubesim_dir": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
        self.images = ImageTable(srv.images_path, subst)
        self.backoff_base = float(os.environ.get("KUBESIM_RESTART_BACKOFF", "10"))
        self.hosts_dirty = False
        self.stopping = False
        os.makedirs(os.path.join(self.state_dir, "pgids"), exist_ok=True)
        self.write_hosts()
        self.nodes = {}             # node name -> NodeAgent, in order
        for i, name in enumerate(srv.node_names, 1):
            self.nodes[name] = NodeAgent(srv, name, i, self.subnet, getattr(srv, "node_lease_duration", 40))
            self.nodes[name].register()

    def node_ip(self, node):
        a = self.nodes.get(node)
        return a.ip if a else ""

    def away(self, node):
        """None, or why the node's kubelet does not reach the API server: "partition" or "down"."""
        a = self.nodes.get(node)
        return a.away if a else None

    def runners_on(self, node):
        return [r for r in self.runners.values() if r.node == node]

    def start(self):
        for a in self.nodes.values():
            a.start()
        self.store.listeners.append(self.on_event)
        for pod in self.store.list(self.store.types[("", "pods")]):
            self.on_pod(pod)

    # -- addresses and names ------------------------------------------------------------------------
    def alloc_ip(self):
        if self.free_ips:
            n = self.free_ips.pop(0)
        else:
            n = self.next_ip
            self.next_ip += 1
            while (n & 255) in (0, 255):
                n = self.next_ip
                self.next_ip += 1
        if n >= 0xFF00:   # 127.S.255.x are the nodes' addresses
            raise RuntimeError("pod address space exhausted")
        return n, "127.%d.%d.%d" % (self.subnet, n >> 8, n & 255)

    def release_ip(self, n):
        self.free_ips.append(n)

    def schedule_hosts(self):
        if not self.hosts_dirty:
            self.hosts_dirty = True
            asyncio.get_running_loop().call_later(0.05, self.write_hosts)

    def write_hosts(self):
        """The cluster's names in one shared file, linked as etc/hosts by placeholder-only pods; pods that run
        processes get their own file: the kubelet's header with the pod's own name, then the cluster's."""
        self.hosts_dirty = False
        cluster = dns.cluster_lines(self.store)
        _write_if_changed(self.hosts_path, "\n".join(dns.HEADER + cluster) + "\n")
        for r in list(self.runners.values()):
            if r.own_hosts and r.ip and not self.away(r.node):
                _write_if_changed(r.fs.in_root("etc/hosts"),
                                  "\n".join(dns.HEADER + dns.own_lines(r.pod, r.ip) + cluster) + "\n")

    def token_for(self, pod):
        uid = pod["metadata"]["uid"]
        if uid not in self.tokens:
            self.tokens[uid] = self.srv.authn.issue(pod["metadata"]["namespace"],
                                                    (pod.get("spec") or {}).get("serviceAccountName", "default"))
        return self.tokens[uid]

    # -- events from the store ----------------------------------------------------------------------
    def on_event(self, rt, ev):
        if rt.key == ("", "pods"):
            if ev.type == "DELETED":
                r = self.runners.get(ev.obj["metadata"]["uid"])
                if r:
                    r.poke()
            elif self.away((ev.obj.get("spec") or {}).get("nodeName")):
                pass   # that node's kubelet hears nothing until it is back (node_back)
            else:
                self.on_pod(ev.obj)
            if ev.type == "DELETED" or _dns_view(ev.old) != _dns_view(ev.obj):
                self.schedule_hosts()
        elif rt.key == ("", "services"):
            self.schedule_hosts()
        elif rt.key in (("", "configmaps"), ("", "secrets")) and ev.type != "ADDED":
            ns = ev.obj["metadata"].get("namespace")
            for r in list(self.runners.values()):
                if r.namespace == ns:
                    r.refresh_volumes = True
                    r.poke()

    def on_pod(self, pod):
        uid = pod["metadata"]["uid"]
        spec = pod.get("spec") or {}
        if spec.get("nodeName") not in self.nodes:
            return   # not scheduled yet, or on a node that is not ours
        r = self.runners.get(uid)
        if r is None:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") and \
                    not pod["metadata"].get("deletionTimestamp"):
                return
            r = PodRunner(self, pod)
            self.runners[uid] = r
            r.start()
        else:
            r.pod = pod
            r.poke()

    # -- nodes away and back (faults node-partition, node-down, node-heal) ------------------------------
    def node_away(self, node, how):
        self.nodes[node].away = how
        if how == "down":
            # the machine is off: every container's processes die at once, nothing is restarted
            for r in self.runners_on(node):
                for c in r.inits + r.containers:
                    if c.running:
                        c.signal(signal.SIGKILL)
                        c.signal(signal.SIGCONT)
        for r in self.runners_on(node):
            r.poke()

    def node_back(self, node):
        """The kubelet is back: it posts its node status, renews its Lease and syncs its pods with the API
        server: containers of pods that are gone are killed, pending deletions finish, the pods it still
        has get fresh status (dead containers restarted per restartPolicy), new pods bound to it start."""
        a = self.nodes[node]
        a.come_back()
        for r in self.runners_on(node):
            r.poke()
        for pod in self.store.list(self.store.types[("", "pods")]):
            if (pod.get("spec") or {}).get("nodeName") == node:
                self.on_pod(pod)
        self.schedule_hosts()

    def forget(self, runner):
        self.runners.pop(runner.uid, None)
        tok = self.tokens.pop(runner.uid, None)
        if tok:
            self.srv.authn.tokens.pop(tok, None)

    # -- lookups for exec, logs, faults -------------------------------------------------------------
    def runner_for(self, namespace, name):
        """The runner of the pod of that name; after a force delete the new pod's before the old one's."""
        found = [r for r in self.runners.values() if r.namespace == namespace and r.name == name]
        pod = self.store.get(self.store.types[("", "pods")], namespace, name)
        uid = pod["metadata"]["uid"] if pod else None
        found.sort(key=lambda r: r.uid != uid)
        return found[0] if found else None

    async def serve_log(self, req, t):
        from .podlogs import serve_log
        return await serve_log(self, req, t)

    async def stop_all(self):
        self.stopping = True   # no more restarts
        for a in self.nodes.values():
            a.stop()
        await asyncio.gather(*(r.kill_all(grace=2) for r in list(self.runners.values())), return_exceptions=True)


def _dns_view(pod):
    """What of a pod the cluster's names depend on."""
    if pod is None:
        return None
    st = pod.get("status") or {}
    return (st.get("podIP"), st.get("phase"), pod["metadata"].get("deletionTimestamp"),
            pod["metadata"].get("labels"), dns._ready(pod))


def _write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)

