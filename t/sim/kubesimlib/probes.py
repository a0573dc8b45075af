"""Container probes: exec (run inside the pod's environment, paths resolved in the pod root), tcpSocket and
httpGet against the pod's address."""

import asyncio
import os

from .images import map_args, resolve_program


def _port(c, port):
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in c.spec.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


async def run_in_pod(runner, c, argv, timeout, stdin=None):
    """Run argv as the container would; returns (exit code, output)."""
    env = c.env()
    prog = resolve_program(c.image, argv[0], env.get("PATH")) if argv else None
    if prog is None:
        return 126, 'exec: "%s": executable file not found in $PATH' % (argv[0] if argv else "")
    args = map_args(argv[1:], runner.fs.root)
    proc = await asyncio.create_subprocess_exec(prog, *args, env=env, cwd=runner.fs.root,
                                                stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                                                start_new_session=True)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        await proc.wait()
        return -1, "command timed out after %ss" % timeout
    return proc.returncode, out.decode(errors="replace")


def _local(runner, host):
    """The kubelet probes from its node: the node's address as the source (so a probe reaches the pods of
    a partitioned node, whose kubelet is on the node)."""
    if runner.host_ip and isinstance(host, str) and host.startswith("127."):
        return (runner.host_ip, 0)
    return None


async def run_probe(runner, c, probe):
    timeout = max(int(probe.get("timeoutSeconds", 1) or 1), 1)
    if runner.netcut and not probe.get("exec"):
        return False, "dial tcp %s: i/o timeout" % runner.ip
    if probe.get("exec"):
        cmd = (probe["exec"] or {}).get("command") or []
        try:
            code, out = await run_in_pod(runner, c, [str(x) for x in cmd], timeout)
        except Exception as e:
            return False, str(e)
        return code == 0, out
    if probe.get("tcpSocket"):
        port = _port(c, (probe["tcpSocket"] or {}).get("port"))
        host = (probe["tcpSocket"] or {}).get("host") or runner.ip
        try:
            _, w = await asyncio.wait_for(asyncio.open_connection(host, port, local_addr=_local(runner, host)),
                                          timeout)
            w.close()
            return True, ""
        except (OSError, asyncio.TimeoutError) as e:
            return False, "dial tcp %s:%s: %s" % (host, port, e)
    if probe.get("httpGet"):
        g = probe["httpGet"] or {}
        port = _port(c, g.get("port"))
        host = g.get("host") or runner.ip
        scheme = (g.get("scheme") or "HTTP").lower()
        try:
            ssl_ctx = None
            if scheme == "https":
                import ssl
                ssl_ctx = ssl.create_default_context()
                ssl_ctx.check_hostname = False
                ssl_ctx.verify_mode = ssl.CERT_NONE
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ssl_ctx,
                                                                         local_addr=_local(runner, host)), timeout)
            w.write(("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: kube-probe/1.32\r\nConnection: close\r\n\r\n"
                     % (g.get("path", "/"), host, port)).encode())
            await w.drain()
            line = await asyncio.wait_for(r.readline(), timeout)
            w.close()
            code = int(line.split()[1])
            return 200 <= code < 400, "HTTP probe failed with statuscode: %d" % code
        except (OSError, asyncio.TimeoutError, ValueError, IndexError) as e:
            return False, 'Get "%s://%s:%s%s": %s' % (scheme, host, port, g.get("path", "/"), e or "timeout")
    return True, ""
