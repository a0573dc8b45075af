"""The REST API: URL routing to resource types, the verbs (get, list, watch, create, update, patch, delete,
deletecollection), subresources (status, scale, log, exec), and the response encodings (objects, lists,
Tables, watch streams)."""

import asyncio
import base64
import json
import logging
import os
import random
import time

from . import tables
from .errors import ApiError, bad_request, method_not_allowed, not_found, path_not_found
from .httpserver import ChunkedWriter, json_response
from .selectors import FieldSelector, LabelSelector

log = logging.getLogger("kubesim.rest")

SCALABLE = {("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets")}


class Target:
    """What a resource URL names."""

    def __init__(self, rt, version, namespace, name, sub, watch_prefix=False):
        self.rt, self.version, self.namespace, self.name, self.sub = rt, version, namespace, name, sub
        self.watch_prefix = watch_prefix


def parse_resource_path(store, path):
    """Resolve /api/v1/... or /apis/g/v/... to a Target; None when the path is not a resource path."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    watch_prefix = False
    if rest and rest[0] == "watch":
        watch_prefix, rest = True, rest[1:]
    if not rest:
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        candidate = store.find_type(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    rt = store.find_type(group, version, rest[0])
    if rt is None:
        raise path_not_found()
    if namespace is None and rt.namespaced and len(rest) > 1:
        raise path_not_found()
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if len(rest) > 3:
        raise path_not_found()
    if sub and sub not in rt.subresource_names() and not (sub == "scale" and rt.key in SCALABLE) and \
            not (sub == "finalize" and rt.key == ("", "namespaces")):
        raise path_not_found()
    return Target(rt, version, namespace, name, sub, watch_prefix)


def wants_table(accept):
    for part in accept.split(","):
        params = dict(p.strip().partition("=")[::2] for p in part.split(";")[1:])
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return True
        if part.split(";")[0].strip() in ("application/json", "*/*") and "as" not in params:
            return False
    return False


def present(rt, version):
    """The object as served in `version` (custom resources share storage across versions)."""
    av = rt.api_version(version)

    def f(obj):
        if obj.get("apiVersion") == av:
            return obj
        o = dict(obj)
        o["apiVersion"] = av
        return o
    return f


def parse_body(req):
    ctype = req.header("content-type").split(";")[0].strip().lower()
    if ctype == "application/vnd.kubernetes.protobuf":
        from .protobuf import decode_object
        return decode_object(req.body)
    if ctype not in ("application/json", "", "application/yaml", "*/*"):
        raise ApiError(415, "the body of the request was in an unknown format - accepted media types include: "
                       "application/json, application/yaml, application/vnd.kubernetes.protobuf",
                       "UnsupportedMediaType")
    try:
        text = req.body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the body of the request is not valid UTF-8")
    if ctype == "application/yaml":
        try:
            import yaml
            return yaml.safe_load(text)
        except Exception as e:
            raise bad_request("error converting YAML to JSON: %s" % e)
    try:
        return json.loads(text)
    except ValueError as e:
        raise bad_request("couldn't get version/kind; json parse error: %s" % e)


def _bool(v):
    return str(v).lower() in ("1", "true", "yes", "all")


class Rest:
    def __init__(self, server):
        self.server = server
        self.store = server.store
        self.registry = server.registry
        self.bookmark_interval = float(os.environ.get("KUBESIM_BOOKMARK_SECONDS", "15"))

    # -- lists --------------------------------------------------------------------------------------
    def _selected(self, req, t):
        labels = LabelSelector(req.q("labelSelector", ""))
        fields = FieldSelector(req.q("fieldSelector", ""), t.rt)
        items = self.store.list(t.rt, t.namespace)
        items = [o for o in items if labels.matches(o["metadata"].get("labels")) and fields.matches(o)]
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return items, labels, fields

    def do_list(self, req, t):
        rvq = req.q("resourceVersion")
        if rvq not in (None, "", "0"):
            n = self.store.check_rv(rvq)
            if req.q("resourceVersionMatch") == "Exact" and n != self.store.rv:
                raise ApiError(410, "too old resource version: %d (%d)" % (n, self.store.rv), "Expired")
        items, _, _ = self._selected(req, t)
        md = {"resourceVersion": str(self.store.rv)}
        limit = req.q("limit")
        cont = req.q("continue")
        if cont:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont.encode() + b"==").decode())
                start = tuple(tok["start"])
                md["resourceVersion"] = str(tok["rv"])
            except Exception:
                raise bad_request("continue key is not valid: illegal base64 data")
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
        if limit and rvq != "0":
            try:
                n = int(limit)
            except ValueError:
                raise bad_request("invalid limit")
            if n > 0 and len(items) > n:
                rest = len(items) - n
                items = items[:n]
                last = items[-1]["metadata"]
                md["continue"] = base64.urlsafe_b64encode(json.dumps(
                    {"rv": int(md["resourceVersion"]), "start": [last.get("namespace", ""), last["name"]]}).encode()
                ).decode().rstrip("=")
                md["remainingItemCount"] = rest
        pres = present(t.rt, t.version)
        if wants_table(req.header("accept")):
            return json_response(200, tables.table(t.rt, t.version, items, md, req.q("includeObject", "Metadata"),
                                                   present=pres))
        return json_response(200, {"kind": t.rt.list_kind, "apiVersion": t.rt.api_version(t.version),
                                   "metadata": md, "items": [pres(o) for o in items]})

    # -- watch --------------------------------------------------------------------------------------
    async def do_watch(self, req, t):
        labels = LabelSelector(req.q("labelSelector", ""))
        fields = FieldSelector(req.q("fieldSelector", ""), t.rt)
        if t.name:
            fields.reqs.append(("metadata.name", True, t.name))
        rvq = req.q("resourceVersion")
        initial = _bool(req.q("sendInitialEvents", "false"))
        since = None if (rvq in (None, "", "0") or initial) else self.store.check_rv(rvq)
        bookmarks = _bool(req.q("allowWatchBookmarks", "false"))
        try:
            timeout = float(req.q("timeoutSeconds") or random.uniform(1800, 3600))
        except ValueError:
            raise bad_request("invalid timeoutSeconds")
        as_table = wants_table(req.header("accept"))
        include = req.q("includeObject", "Metadata")
        pres = present(t.rt, t.version)
        out = ChunkedWriter(req.writer)
        req.streamed = True
        try:
            w = self.store.watch(t.rt, t.namespace, labels, fields, since)
        except ApiError as e:
            await out.start()
            await out.send(json.dumps({"type": "ERROR", "object": e.status()}).encode() + b"\n")
            await out.end()
            return True
        await out.start()
        headers_sent = [False]

        def encode(etype, obj):
            if etype == "BOOKMARK" or not as_table or etype == "ERROR":
                return json.dumps({"type": etype, "object": obj if etype in ("BOOKMARK", "ERROR") else pres(obj)},
                                  separators=(",", ":")).encode() + b"\n"
            tb = tables.table(t.rt, t.version, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]},
                              include, headers=not headers_sent[0], present=pres)
            headers_sent[0] = True
            return json.dumps({"type": etype, "object": tb}, separators=(",", ":")).encode() + b"\n"

        def bookmark(rv, initial_end=False):
            md = {"resourceVersion": str(rv)}
            if initial_end:
                md["annotations"] = {"k8s.io/initial-events-end": "true"}
            return {"kind": t.rt.kind, "apiVersion": t.rt.api_version(t.version), "metadata": md}

        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + self.bookmark_interval
        last_rv = since or self.store.rv
        initial_pending = initial and bookmarks
        try:
            while True:
                if initial_pending and w.queue.empty():
                    await out.send(json.dumps({"type": "BOOKMARK", "object": bookmark(self.store.rv, True)}).encode()
                                   + b"\n")
                    initial_pending = False
                now = time.monotonic()
                if now >= deadline:
                    break
                # wake at least every second to notice a client that went away (without reading from the
                # connection: the client's next request may already be on its way)
                wait = min(deadline, next_bookmark, now + 1.0) - now
                getter = asyncio.ensure_future(w.queue.get())
                done, _ = await asyncio.wait({getter}, timeout=max(wait, 0.01))
                if req.reader.at_eof() or req.writer.is_closing():
                    getter.cancel()
                    return None
                if getter not in done:
                    getter.cancel()
                    if time.monotonic() >= next_bookmark:
                        if bookmarks:  # the queue is empty: everything up to the current RV has been sent
                            await out.send(json.dumps({"type": "BOOKMARK", "object": bookmark(
                                max(last_rv, self.store.rv))}).encode() + b"\n")
                        next_bookmark = time.monotonic() + self.bookmark_interval
                    continue
                item = getter.result()
                if item is None:
                    break
                etype, obj, rv = item
                last_rv = rv
                await out.send(encode(etype, obj))
            await out.end()
            return True
        except (ConnectionError, OSError):
            return None
        finally:
            self.store.unwatch(w)

    # -- single objects -----------------------------------------------------------------------------
    def respond_object(self, req, t, obj, code=200):
        pres = present(t.rt, t.version)
        if wants_table(req.header("accept")) and obj.get("kind") != "Status":
            return json_response(code, tables.table(t.rt, t.version, [obj],
                                                    {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                                                    req.q("includeObject", "Metadata"), present=pres))
        return json_response(code, pres(obj) if obj.get("kind") != "Status" else obj)

    def get_object(self, t):
        obj = self.store.get(t.rt, t.namespace, t.name)
        if obj is None:
            raise not_found(t.rt, t.name)
        return obj

    def _write_opts(self, req):
        dry = req.q("dryRun")
        if dry not in (None, "", "All"):
            raise bad_request('Invalid value: "%s": supported values: "All"' % dry)
        fv = req.q("fieldValidation", "")
        if fv not in ("", "Ignore", "Warn", "Strict"):
            raise bad_request('Invalid value: "%s": fieldValidation must be one of "Ignore", "Warn", or "Strict"' % fv)
        return dry == "All", fv == "Strict"

    # -- scale subresource --------------------------------------------------------------------------
    def _scale_of(self, t, obj):
        sel = (obj.get("spec") or {}).get("selector") or {}
        text = ",".join("%s=%s" % kv for kv in sorted((sel.get("matchLabels") or {}).items()))
        md = obj["metadata"]
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {"name": md["name"], "namespace": md.get("namespace"), "uid": md["uid"],
                             "resourceVersion": md["resourceVersion"],
                             "creationTimestamp": md.get("creationTimestamp")},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": text}}

    def do_scale(self, req, t):
        obj = self.get_object(t)
        scale = self._scale_of(t, obj)
        if req.method == "GET":
            return json_response(200, scale)
        if req.method == "PUT":
            body = parse_body(req)
        elif req.method == "PATCH":
            from .patch import json_patch, merge_patch
            ctype = req.header("content-type").split(";")[0].strip()
            try:
                p = json.loads(req.body or b"null")
            except ValueError as e:
                raise bad_request("error decoding patch: %s" % e)
            body = json_patch(scale, p) if ctype == "application/json-patch+json" else merge_patch(scale, p)
        else:
            raise method_not_allowed()
        rv = ((body or {}).get("metadata") or {}).get("resourceVersion")
        if rv and rv != obj["metadata"]["resourceVersion"]:
            from .errors import conflict
            raise conflict(t.rt, t.name)
        replicas = ((body or {}).get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            from .errors import invalid
            raise invalid(t.rt, t.name, [("spec.replicas", "Invalid value: %s: must be greater than or equal to 0"
                                          % json.dumps(replicas), "FieldValueInvalid")])
        new = json.loads(json.dumps(obj))
        new["spec"]["replicas"] = replicas
        new = self.registry.write(t.rt, new)
        return json_response(200, self._scale_of(t, new))

    # -- binding subresource (what a scheduler posts) ------------------------------------------------
    def do_binding(self, req, t):
        from .ctl_scheduler import bind
        if req.method != "POST":
            raise method_not_allowed()
        body = parse_body(req)
        target = body.get("target") if isinstance(body, dict) else None
        md = (body.get("metadata") if isinstance(body, dict) else None) or {}
        if t.sub is None:   # the older form: POST .../namespaces/NS/bindings, the pod named in the body
            if t.namespace is None or t.name is not None:
                raise method_not_allowed()
            t = Target(t.rt, t.version, t.namespace, md.get("name"), None)
            if not t.name:
                raise ApiError(422, 'Binding.core "" is invalid: metadata.name: Required value: name or '
                               'generateName is required', "Invalid", {"kind": "Binding"})
        if not isinstance(target, dict) or not target.get("name"):
            raise ApiError(422, 'Binding.core "%s" is invalid: target.name: Required value' % t.name, "Invalid",
                           {"name": t.name, "kind": "Binding",
                            "causes": [{"reason": "FieldValueRequired", "message": "Required value",
                                        "field": "target.name"}]})
        if target.get("kind") not in (None, "", "Node"):
            raise ApiError(422, 'Binding.core "%s" is invalid: target.kind: Unsupported value: "%s": supported '
                           'values: "Node"' % (t.name, target.get("kind")), "Invalid", {"name": t.name, "kind": "Binding"})
        pod = {"metadata": {"namespace": t.namespace, "name": t.name, "uid": md.get("uid")}}
        if not req.q("dryRun", ""):
            bind(self.server, pod, target["name"])
        return json_response(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "code": 201})

    # -- dispatch -----------------------------------------------------------------------------------
    async def handle(self, req, t, verb):
        rt = t.rt
        if verb not in rt.verbs and verb not in ("get",) and not t.sub:
            raise method_not_allowed()
        if rt.group == "authorization.k8s.io":
            return self.access_review(req, t, verb)
        if t.sub == "scale":
            return self.do_scale(req, t)
        if t.sub == "log":
            return await self.server.kubelet.serve_log(req, t)
        if t.sub == "exec":
            return await self.server.execs.serve(req, t)
        if t.sub == "binding" or (rt.key == ("", "bindings") and verb == "create"):
            return self.do_binding(req, t)
        if verb == "watch":
            return await self.do_watch(req, t)
        if verb == "list":
            return self.do_list(req, t)
        if verb == "get":
            return self.respond_object(req, t, self.get_object(t))
        dry, strict = self._write_opts(req)
        if verb in ("create", "update", "patch"):
            user = req.user
            warnings = []
            self.registry.admit = lambda rt_, obj, old: self.server.admission.validate(user, rt_, obj, old)
            self.registry.warnings = warnings
            try:
                resp = self._write(req, t, verb, dry, strict)
            except ApiError as e:
                if warnings:  # the API server sends the warnings it has gathered with an error too
                    e.headers["Warning"] = warning_headers(warnings)
                raise
            finally:
                self.registry.admit = None
                self.registry.warnings = None
            if warnings:
                resp.headers["Warning"] = warning_headers(warnings)
            return resp
        return self._other(req, t, verb, dry)

    def _write(self, req, t, verb, dry, strict):
        rt = t.rt
        if verb == "create":
            body = parse_body(req)
            if t.namespace is None and rt.namespaced:
                raise method_not_allowed()
            obj = self.registry.create(rt, t.namespace or "", body, t.version, strict, dry)
            return self.respond_object(req, t, obj, 201)
        if verb == "update":
            body = parse_body(req)
            sub = "status" if t.sub == "status" else None
            if t.sub == "finalize":
                sub = None
            obj = self.registry.update(rt, t.namespace or "", t.name, body, t.version, sub, strict, dry)
            return self.respond_object(req, t, obj)
        if verb == "patch":
            obj, created = self.registry.patch(rt, t.namespace or "", t.name, req.header("content-type"), req.body,
                                               t.version, "status" if t.sub == "status" else None, strict, dry,
                                               req.q("fieldManager"))
            return self.respond_object(req, t, obj, 201 if created else 200)
        raise method_not_allowed()

    def _other(self, req, t, verb, dry):
        rt = t.rt
        if verb == "delete":
            opts = self._delete_options(req)
            obj, removed = self.registry.delete(rt, t.namespace or "", t.name, opts, dry)
            resp = self.registry.delete_response(rt, obj, removed)
            return json_response(200, present(rt, t.version)(resp) if resp.get("kind") != "Status" else resp)
        if verb == "deletecollection":
            opts = self._delete_options(req)
            items, _, _ = self._selected(req, t)
            deleted = []
            for o in items:
                try:
                    obj, _ = self.registry.delete(rt, o["metadata"].get("namespace", ""), o["metadata"]["name"],
                                                  opts, dry)
                    deleted.append(obj)
                except ApiError as e:
                    if e.code != 404:
                        raise
            pres = present(rt, t.version)
            return json_response(200, {"kind": rt.list_kind, "apiVersion": rt.api_version(t.version),
                                       "metadata": {"resourceVersion": str(self.store.rv)},
                                       "items": [pres(o) for o in deleted]})
        raise method_not_allowed()

    def access_review(self, req, t, verb):
        if verb != "create":
            raise method_not_allowed()
        body = parse_body(req)
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise bad_request("a %s needs a spec" % t.rt.kind)
        user = req.user
        spec = body["spec"]
        if t.rt.plural == "subjectaccessreviews":
            from .auth import User
            name = spec.get("user", "")
            sa = tuple(name.split(":")[2:]) if name.startswith("system:serviceaccount:") and name.count(":") == 3 else None
            user = User(name, list(spec.get("groups") or []), sa)
        out = {"kind": t.rt.kind, "apiVersion": t.rt.api_version(t.version), "metadata": {"creationTimestamp": None},
               "spec": spec, "status": self.server.authz.review(user, spec)}
        return json_response(201, out)

    def _delete_options(self, req):
        opts = {}
        if req.body:
            try:
                opts = json.loads(req.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise bad_request("couldn't get version/kind; json parse error: %s" % e)
            if not isinstance(opts, dict):
                raise bad_request("DeleteOptions must be a JSON object")
        if req.q("propagationPolicy"):
            opts["propagationPolicy"] = req.q("propagationPolicy")
        if req.q("gracePeriodSeconds"):
            try:
                opts["gracePeriodSeconds"] = int(req.q("gracePeriodSeconds"))
            except ValueError:
                raise bad_request("invalid gracePeriodSeconds")
        if req.q("orphanDependents"):
            opts["orphanDependents"] = _bool(req.q("orphanDependents"))
        return opts


def warning_headers(warnings):
    """One `Warning: 299 - "text"` header per distinct warning, as apiserver's warning recorder writes them
    (k8s.io/apimachinery/pkg/util/net NewWarningHeader: code 299, agent "-", the text quoted with only `"` and
    `\\` escaped; net/http turns a newline in a header value into a space)."""
    out = []
    for w in warnings:
        text = w.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
        h = '299 - "%s"' % text
        if h not in out:
            out.append(h)
    return out


def verb_for(req, t):
    m = req.method
    if m == "GET" or m == "HEAD":
        if t.sub == "exec":
            return "create"
        watch = t.watch_prefix or _bool(req.q("watch", "false"))
        if t.name is None:
            return "watch" if watch else "list"
        return "watch" if watch else "get"
    if m == "POST":
        if t.sub == "exec":
            return "create"
        if t.name is not None and t.sub is None:
            raise method_not_allowed()
        return "create"
    if m == "PUT":
        if t.name is None:
            raise method_not_allowed()
        return "update"
    if m == "PATCH":
        if t.name is None:
            raise method_not_allowed()
        return "patch"
    if m == "DELETE":
        return "delete" if t.name is not None else "deletecollection"
    raise method_not_allowed()
