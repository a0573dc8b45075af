"""Fault injection: the /kubesim/faults control endpoint (admin only) and the request hook that applies
injected errors and delays.

Network cuts make the pod's address unreachable with a host route in the local routing table (only the
pod's own 127.x.y.z/32 is touched) and refuse the API requests made with the pod's service-account token."""

import asyncio
import json
import logging
import os
import re
import signal
import subprocess

from .errors import ApiError, bad_request
from .httpserver import json_response

log = logging.getLogger("kubesim.faults")

SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT, "HUP": signal.SIGHUP,
           "STOP": signal.SIGSTOP, "CONT": signal.SIGCONT, "QUIT": signal.SIGQUIT}
MESSAGES = {409: ("Conflict", "Operation cannot be fulfilled: injected conflict"),
            429: ("TooManyRequests", "injected: too many requests, please try again later"),
            500: ("InternalError", "Internal error occurred: injected failure"),
            503: ("ServiceUnavailable", "injected: the server is currently unable to handle the request"),
            504: ("Timeout", "injected: the server was unable to return a response in the time allotted")}


class Rule:
    def __init__(self, count, code, delay_ms, method, path):
        self.count, self.code, self.delay_ms = count, code, delay_ms
        self.method = method.upper() if method else None
        self.path = re.compile(path) if path else None

    def matches(self, req):
        if self.method and req.method != self.method:
            return False
        if self.path and not self.path.search(req.target):
            return False
        return True

    def describe(self):
        return {"count": self.count, "code": self.code, "delay_ms": self.delay_ms, "method": self.method,
                "path": self.path.pattern if self.path else None}


class Faults:
    def __init__(self, srv):
        self.srv = srv
        self.rules = []
        self.cut = {}      # pod uid -> ip
        self.nodes = {}    # node name -> "partition" or "down"

    def _on_cut_node(self, uid):
        r = self.srv.kubelet.runners.get(uid)
        return r is not None and r.node in self.nodes
    async def before(self, req, verb, path):
        user = self.srv.authn.authenticate(req.header("authorization"))
        if user is not None and user.sa is not None and (self.cut or self.nodes):
            tok = req.header("authorization").strip().partition(" ")[2].strip()
            uids = [u for u, t in self.srv.kubelet.tokens.items() if t == tok]
            # (a pod on a cut node whose program the source-address shim could not reach, say a static
            # binary, still gets here from 127.0.0.1: its requests are dropped as they would be lost)
            if any(u in self.cut or self._on_cut_node(u) for u in uids):
                req.writer.transport.abort()
                raise ConnectionError("pod is cut off the network")
        for r in self.rules:
            if r.count > 0 and r.matches(req):
                r.count -= 1
                if r.count == 0:
                    self.rules.remove(r)
                if r.delay_ms:
                    await asyncio.sleep(r.delay_ms / 1000.0)
                if r.code:
                    reason, msg = MESSAGES.get(r.code, ("", "injected failure"))
                    headers = {"Retry-After": "1"} if r.code in (429, 503) else {}
                    raise ApiError(r.code, msg, reason, headers=headers)
                return

    async def control(self, req, path):
        if path == "/kubesim/state" and req.method == "GET":
            return json_response(200, self.state())
        if path != "/kubesim/faults" or req.method != "POST":
            raise ApiError(404, "the server could not find the requested resource", "NotFound", {})
        try:
            body = json.loads(req.body or b"{}")
        except ValueError as e:
            raise bad_request("invalid JSON: %s" % e)
        if not isinstance(body, dict):
            raise bad_request("expected a JSON object")
        a = body.get("action")
        if a in ("kill", "freeze", "thaw", "netcut", "netrestore"):
            return json_response(200, {"message": self.pod_fault(a, body)})
        if a in ("node-partition", "node-down", "node-heal"):
            return json_response(200, {"message": self.node_fault(a, body)})
        if a == "inject":
            try:
                r = Rule(int(body.get("count") or 1), body.get("code"), body.get("delay_ms"), body.get("method"),
                         body.get("path"))
            except (re.error, ValueError, TypeError) as e:
                raise bad_request("bad rule: %s" % e)
            if r.code is not None and not (400 <= int(r.code) <= 599):
                raise bad_request("code must be an HTTP error status")
            self.rules.append(r)
            return json_response(200, {"message": "injected: %s" % json.dumps(r.describe())})
        if a == "clear":
            self.rules = []
            return json_response(200, {"message": "cleared"})
        if a == "list":
            return json_response(200, {"rules": [r.describe() for r in self.rules],
                                       "cut": sorted(self.cut.values()),
                                       "nodes": {n: {"fault": how, "address": self.srv.kubelet.node_ip(n)}
                                                 for n, how in sorted(self.nodes.items())}})
        if a == "drop-watches":
            n = len(self.srv.store.watchers)
            self.srv.store.drop_watches()
            return json_response(200, {"message": "dropped %d watch streams" % n})
        if a == "expire-history":
            self.srv.store.expire_history()
            return json_response(200, {"message": "watch history expired at resourceVersion %d" % self.srv.store.rv})
        if a == "restart-apiserver":
            down = int(body.get("down_ms") or 1000)
            asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(
                self.srv.restart_listener(down)))
            return json_response(200, {"message": "restarting the API server (down for %d ms)" % down})
        raise bad_request("unknown action %r" % a)

    def pod_fault(self, action, body):
        ns, name = body.get("namespace") or "default", body.get("pod")
        runner = self.srv.kubelet.runner_for(ns, name)
        if runner is None:
            raise ApiError(404, 'pods "%s" not found (or not running)' % name, "NotFound",
                           {"name": name, "kind": "pods"})
        if action in ("netcut", "netrestore"):
            if not runner.ip:
                raise bad_request("pod %s has no address yet" % name)
            if action == "netcut":
                self.cut[runner.uid] = runner.ip
                runner.netcut = True
                ok = self._route("add", runner.ip)
                return "pod %s/%s (%s) cut off the network%s" % (ns, name, runner.ip, "" if ok else
                                                                 " (API access only: no route control)")
            self.cut.pop(runner.uid, None)
            runner.netcut = False
            self._route("del", runner.ip)
            return "pod %s/%s (%s) back on the network" % (ns, name, runner.ip)
        cname = body.get("container")
        cs = [c for c in runner.containers + runner.inits if not cname or c.name == cname]
        if not cs:
            raise bad_request("container %s is not valid for pod %s" % (cname, name))
        if body.get("process"):
            # One process of the container (kill, freeze, thaw), the others running on.
            if action == "kill":
                sig = SIGNALS.get(str(body.get("signal") or "KILL").upper().replace("SIG", ""))
                if sig is None:
                    raise bad_request("unknown signal %s" % body.get("signal"))
            else:
                sig = signal.SIGSTOP if action == "freeze" else signal.SIGCONT
            hit = [h for c in cs for h in c.signal_process(body["process"], sig)]
            if not hit:
                raise ApiError(404, 'no process "%s" runs in pod %s/%s' % (body["process"], ns, name),
                               "NotFound", {"name": name, "kind": "pods"})
            return "sent %s to %s" % (sig.name, ", ".join(hit))
        if action == "kill":
            sig = SIGNALS.get(str(body.get("signal") or "KILL").upper().replace("SIG", ""))
            if sig is None:
                raise bad_request("unknown signal %s" % body.get("signal"))
            for c in cs:
                c.signal(sig)
            return "sent %s to %s" % (sig.name, ", ".join(c.name for c in cs))
        for c in cs:
            c.frozen = action == "freeze"
            c.signal(signal.SIGSTOP if action == "freeze" else signal.SIGCONT)
        return "%s %s" % ("froze" if action == "freeze" else "thawed", ", ".join(c.name for c in cs))

    def node_fault(self, action, body):
        name = body.get("node")
        kube = self.srv.kubelet
        if not name:
            raise bad_request("fault %s needs a node" % action)
        if name not in kube.nodes:
            raise ApiError(404, 'nodes "%s" not found' % name, "NotFound", {"name": name, "kind": "nodes"})
        agent = kube.nodes[name]
        if action == "node-heal":
            how = self.nodes.pop(name, None)
            if how is None:
                return "node %s is neither partitioned nor down" % name
            from . import netpart
            netpart.heal(self.srv.state_dir, kube.subnet, name)
            kube.node_back(name)
            return "node %s (%s) back: its kubelet reaches the API server again" % (name, agent.ip)
        how = "partition" if action == "node-partition" else "down"
        old = self.nodes.get(name)
        if old == how:
            return "node %s is already %s" % (name, "partitioned" if how == "partition" else "down")
        if old == "partition" and how == "down":
            self.nodes[name] = how
            kube.node_away(name, how)
            return "node %s (%s) down: its containers were killed" % (name, agent.ip)
        if old == "down":
            raise bad_request("node %s is down: heal it first" % name)
        from . import netpart
        addrs = [agent.ip] + sorted({r.ip for r in kube.runners_on(name) if r.ip})
        err = netpart.cut(self.srv.state_dir, kube.subnet, name, agent.index, addrs)
        if err:
            log.warning("node %s: no network cut: %s", name, err)
        self.nodes[name] = how
        kube.node_away(name, how)
        note = "" if not err else " (its API requests only: no route control: %s)" % err
        if how == "partition":
            return "node %s (%s) partitioned: it reaches neither the API server nor other nodes%s" % (
                name, agent.ip, note)
        return "node %s (%s) down: its containers were killed, its kubelet is silent%s" % (name, agent.ip, note)

    def _route(self, op, ip):
        # remembered in the state directory so that `kubesim stop` can undo it even after a crash
        mark = os.path.join(self.srv.state_dir, "netcut", ip)
        if op == "add":
            os.makedirs(os.path.dirname(mark), exist_ok=True)
            open(mark, "w").close()
        elif os.path.exists(mark):
            os.unlink(mark)
        try:
            r = subprocess.run(["ip", "route", op, "unreachable", ip + "/32", "table", "local"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("network cut of %s: %s", ip, e)
            return False
        if r.returncode != 0:
            log.warning("ip route %s %s: %s", op, ip, r.stderr.decode(errors="replace").strip())
        return r.returncode == 0

    def restore_all(self):
        for ip in list(self.cut.values()):
            self._route("del", ip)
        self.cut.clear()
        if self.nodes:
            from . import netpart
            netpart.cleanup(self.srv.state_dir, self.srv.kubelet.subnet)
            self.nodes.clear()

    def state(self):
        counts = {"%s/%s" % (rt.group or "core", rt.plural): len(self.srv.store.objects.get(rt.key, {}))
                  for rt in self.srv.store.types.values()}
        return {"resourceVersion": self.srv.store.rv, "watches": len(self.srv.store.watchers), "objects": counts,
                "pods_running": len(self.srv.kubelet.runners), "subnet": self.srv.subnet}
