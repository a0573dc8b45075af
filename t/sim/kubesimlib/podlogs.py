"""pods/log: a container's output, current or previous instance, with follow, tailLines and timestamps off."""

import asyncio
import os

from .errors import bad_request
from .httpserver import ChunkedWriter, Response


async def serve_log(kubelet, req, t):
    rt = t.rt
    pod = kubelet.store.get(rt, t.namespace, t.name)
    if pod is None:
        from .errors import not_found
        raise not_found(rt, t.name)
    spec = pod.get("spec") or {}
    names = [c["name"] for c in (spec.get("containers") or [])]
    init_names = [c["name"] for c in (spec.get("initContainers") or [])]
    cname = req.q("container")
    if not cname:
        if len(names) != 1:
            raise bad_request("a container name must be specified for pod %s, choose one of: [%s]" % (
                t.name, " ".join(names)) + (" or one of the init containers: [%s]" % " ".join(init_names)
                                            if init_names else ""))
        cname = names[0]
    if cname not in names + init_names:
        raise bad_request("container %s is not valid for pod %s" % (cname, t.name))
    from .exec import kubelet_gone
    kubelet_gone(kubelet, pod, _kubelet_log_url(req, t.namespace, t.name, cname))
    runner = kubelet.runners.get(pod["metadata"]["uid"])
    c = None
    if runner:
        c = next((x for x in runner.inits + runner.containers if x.name == cname), None)
    if c is None or c.instance == 0:
        raise bad_request('container "%s" in pod "%s" is waiting to start: ContainerCreating' % (cname, t.name))
    previous = req.q("previous", "false").lower() == "true"
    if previous:
        if c.restarts == 0:
            raise bad_request('previous terminated container "%s" in pod "%s" not found' % (cname, t.name))
        path = c.log_path(c.restarts - 1)
    else:
        path = c.log_path()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        data = b""
    tail = req.q("tailLines")
    if tail and tail.lstrip("-").isdigit():
        lines = data.splitlines(keepends=True)
        data = b"".join(lines[-int(tail):]) if int(tail) > 0 else b""
    limit = req.q("limitBytes")
    if limit and limit.isdigit():
        data = data[:int(limit)]
    if req.q("follow", "false").lower() != "true" or previous:
        return Response(200, data, "text/plain")
    out = ChunkedWriter(req.writer)
    req.streamed = True
    await out.start(200, "text/plain")
    await out.send(data)
    pos = os.path.getsize(path) if os.path.exists(path) else 0
    instance = c.instance
    try:
        while c.instance == instance and (c.running or pos < (os.path.getsize(path) if os.path.exists(path) else 0)):
            await asyncio.sleep(0.2)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    f.seek(pos)
                    chunk = f.read()
                pos += len(chunk)
                await out.send(chunk)
        await out.end()
        return True
    except (ConnectionError, OSError):
        return None


def _kubelet_log_url(req, namespace, name, container):
    """The kubelet URL kube-apiserver's LogLocation builds (url.Values.Encode: keys sorted)."""
    from urllib.parse import urlencode
    params = {}
    for key in ("follow", "previous", "timestamps"):
        if req.q(key, "false").lower() == "true":
            params[key] = "true"
    for key in ("sinceSeconds", "sinceTime", "tailLines", "limitBytes"):
        if req.q(key):
            params[key] = req.q(key)
    query = urlencode(sorted(params.items()))
    return "/containerLogs/%s/%s/%s" % (namespace, name, container) + ("?" + query if query else "")
