"""The kubesim process: wires the store, registry, REST API, controllers, pod runtime and fault injection
together, serves HTTPS, and writes the kubeconfig."""

import asyncio
import json
import logging
import os
import signal
import ssl

from . import discovery, kinds
from .auth import Authenticator, Authorizer, unauthorized
from .errors import ApiError, path_not_found
from .httpserver import HttpServer, Response, json_response
from .registry import Registry
from .rest import Rest, parse_resource_path, verb_for
from .store import Store

log = logging.getLogger("kubesim")

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4-kubesim", "gitCommit": "0000000000000000000000000000000000000000",
           "gitTreeState": "clean", "buildDate": "2025-04-22T00:00:00Z", "goVersion": "go1.23.6",
           "compiler": "gc", "platform": "linux/amd64"}


class Server:
    def __init__(self, state_dir, host="127.0.0.1", port=0, subnet=None, images=None, top_srcdir=None,
                 top_builddir=None, admission_plugins=(), nodes=1, node_monitor_period=5.0,
                 node_monitor_grace_period=50.0, node_lease_duration=40):
        self.state_dir = state_dir
        self.host = host
        self.port = port
        self.subnet = subnet
        self.top_srcdir = top_srcdir
        self.top_builddir = top_builddir
        self.images_path = images
        from .nodes import node_names
        self.node_names = node_names(nodes)
        self.node_monitor_period = node_monitor_period
        self.node_monitor_grace_period = node_monitor_grace_period
        self.node_lease_duration = node_lease_duration
        self.store = Store()
        self.registry = Registry(self.store)
        for rt in kinds.builtin_types():
            self.store.add_type(rt)
        with open(os.path.join(state_dir, "admin.token")) as f:
            self.authn = Authenticator(f.read().strip())
        self.authz = Authorizer(self.store)
        from .admission import Admission
        self.admission = Admission(self.store, self.authz, admission_plugins)
        self.rest = Rest(self)
        from .events import Recorder
        self.recorder = Recorder(self)
        self.http = None
        self.controllers = []
        self.kubelet = None
        self.execs = None
        self.faults = None
        self.stopping = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------------------
    def ssl_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.state_dir, "pki", "server.crt"),
                            os.path.join(self.state_dir, "pki", "server.key"))
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    async def start(self):
        from .controllers import start_controllers
        from .bootstrap import bootstrap
        from .exec import ExecServer
        from .faults import Faults
        from .kubelet import Kubelet
        with open(os.path.join(self.state_dir, "pki", "ca.crt")) as f:
            self.registry.ca_pem = f.read()
        self.faults = Faults(self)
        self.http = HttpServer(self.handle, self.host, self.port, self.ssl_context())
        await self.http.start()
        self.port = self.http.port
        bootstrap(self)
        self.kubelet = Kubelet(self)
        self.execs = ExecServer(self)
        self.controllers = start_controllers(self)
        self.kubelet.start()
        self.write_kubeconfig()
        log.info("serving on https://%s:%d", self.host, self.port)

    async def restart_listener(self, down_ms):
        """Stop answering for a while and come back on the same port, keeping all state."""
        await self.http.stop()
        self.store.drop_watches()
        await asyncio.sleep(down_ms / 1000.0)
        self.http = HttpServer(self.handle, self.host, self.port, self.ssl_context())
        await self.http.start()

    async def shutdown(self):
        if self.faults:
            self.faults.restore_all()
        if self.kubelet:
            await self.kubelet.stop_all()
        if self.http:
            await self.http.stop()

    def write_kubeconfig(self):
        with open(os.path.join(self.state_dir, "admin.token")) as f:
            token = f.read().strip()
        # block YAML, as kubeadm writes it (JSON would do for kubectl, but not every YAML reader is 1.2)
        cfg = "\n".join([
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: kubesim",
            "  cluster:",
            "    server: %s" % json.dumps("https://%s:%d" % (self.host, self.port)),
            "    certificate-authority: %s" % json.dumps(os.path.join(self.state_dir, "pki", "ca.crt")),
            "users:",
            "- name: kubesim-admin",
            "  user:",
            "    token: %s" % json.dumps(token),
            "contexts:",
            "- name: kubesim",
            "  context:",
            "    cluster: kubesim",
            "    user: kubesim-admin",
            "    namespace: default",
            "current-context: kubesim",
            "preferences: {}",
            ""])
        path = os.path.join(self.state_dir, "kubeconfig")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(cfg)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        with open(os.path.join(self.state_dir, "server.json"), "w") as f:
            json.dump({"host": self.host, "port": self.port, "pid": os.getpid(), "subnet": self.subnet}, f)

    # -- requests -----------------------------------------------------------------------------------
    async def handle(self, req):
        try:
            return await self._handle(req)
        except ApiError as e:
            hs = dict(e.headers)
            return json_response(e.code, e.status(), hs)

    async def _handle(self, req):
        path = req.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz") or path.startswith(("/healthz/", "/livez/", "/readyz/")):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        user = self.authn.authenticate(req.header("authorization"))
        if user is None:
            raise unauthorized()
        user = self.authn.impersonate(user, req.headers)
        req.user = user
        if path.startswith("/kubesim/"):
            if "system:masters" not in user.groups:
                raise ApiError(403, 'forbidden: User "%s" cannot %s path "%s"' % (user.name, req.method.lower(), path),
                               "Forbidden", {})
            return await self.faults.control(req, path)
        t = parse_resource_path(self.store, path)
        if t is None:
            self.authz.check_path(user, path, req.method)
            await self.faults.before(req, None, path)
            return self.non_resource(req, path)
        verb = verb_for(req, t)
        await self.faults.before(req, verb, path)
        self.authz.check(user, verb, t)
        return await self.rest.handle(req, t, verb)

    def non_resource(self, req, path):
        if req.method not in ("GET", "HEAD"):
            raise ApiError(405, "the server does not allow this method on the requested resource",
                           "MethodNotAllowed", {})
        accept = req.header("accept")
        if path == "/version":
            return json_response(200, VERSION)
        if path in ("/api", "/apis"):
            agg = discovery.wants_aggregated(accept)
            if agg:
                ctype = discovery.AGG_CTYPE if agg == "v2" else discovery.AGG_CTYPE_BETA
                return json_response(200, discovery.aggregated(self.store, path == "/api", agg), content_type=ctype)
            if path == "/api":
                return json_response(200, discovery.legacy_api("%s:%d" % (self.host, self.port)))
            return json_response(200, discovery.legacy_apis(self.store))
        parts = [p for p in path.split("/") if p]
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.legacy_resources(self.store, "", parts[1])
            if doc:
                return json_response(200, doc)
        if parts[0] == "apis" and len(parts) == 2:
            doc = discovery.legacy_group(self.store, parts[1])
            if doc:
                return json_response(200, doc)
        if parts[0] == "apis" and len(parts) == 3:
            doc = discovery.legacy_resources(self.store, parts[1], parts[2])
            if doc:
                return json_response(200, doc)
        if path == "/openapi/v3":
            return json_response(200, discovery.openapi_index(self.store))
        if parts[:2] == ["openapi", "v3"] and len(parts) >= 4:
            gv = parts[2:]
            if gv[0] == "api" and len(gv) == 2:
                group, version = "", gv[1]
            elif gv[0] == "apis" and len(gv) == 3:
                group, version = gv[1], gv[2]
            else:
                raise path_not_found()
            if discovery.legacy_resources(self.store, group, version) is None:
                raise path_not_found()
            return json_response(200, discovery.openapi_doc(self.store, group, version),
                                 headers={"Cache-Control": "public, immutable"})
        raise path_not_found()


def main_loop(args):
    logging.basicConfig(level=logging.INFO if not args.debug else logging.DEBUG,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def run():
        srv = Server(args.dir, port=args.port, subnet=args.subnet, images=args.images,
                     top_srcdir=args.top_srcdir, top_builddir=args.top_builddir,
                     admission_plugins=getattr(args, "admission_plugins", ()), nodes=getattr(args, "nodes", 1),
                     node_monitor_period=args.node_monitor_period,
                     node_monitor_grace_period=args.node_monitor_grace_period,
                     node_lease_duration=args.node_lease_duration_seconds)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, srv.stopping.set)
        await srv.start()
        with open(os.path.join(args.dir, "ready"), "w") as f:
            f.write("ok\n")
        await srv.stopping.wait()
        log.info("stopping")
        await srv.shutdown()

    try:
        asyncio.run(run())
    except (ValueError, RuntimeError, OSError) as e:
        # bad configuration (images file, state directory, no free address range): say it, no traceback
        log.error("cannot serve: %s", e)
        raise SystemExit(1)
