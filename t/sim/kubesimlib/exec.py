"""pods/exec over WebSocket (the v5/v4.channel.k8s.io subprotocols kubectl 1.32 speaks first): runs the
command in the container's environment (image PATH and env, POD_ROOT, in-pod paths) and streams stdin,
stdout, stderr and the exit status; with tty=true the command gets a pseudo-terminal."""

import asyncio
import base64
import fcntl
import hashlib
import json
import logging
import os
import pty
import struct
import termios

from .errors import ApiError, bad_request, not_found
from .httpserver import head_bytes
from .images import map_args, resolve_program

log = logging.getLogger("kubesim.exec")

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


class WebSocket:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.lock = asyncio.Lock()

    async def send(self, payload, opcode=2):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        async with self.lock:
            self.writer.write(head + payload)
            await self.writer.drain()

    async def recv(self):
        """(opcode, payload) of the next whole message; None when the connection ends."""
        parts, first_op = [], None
        while True:
            try:
                b1, b2 = await self.reader.readexactly(2)
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            fin, op = b1 & 0x80, b1 & 0x0F
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            mask = await self.reader.readexactly(4) if b2 & 0x80 else None
            data = await self.reader.readexactly(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if op >= 8:
                if op == 9:
                    await self.send(data, 10)
                elif op == 8:
                    return None
                continue
            if first_op is None:
                first_op = op
            parts.append(data)
            if fin:
                return first_op, b"".join(parts)


def kubelet_gone(kubelet, pod, log_url=None):
    """The API server cannot reach the kubelet of a partitioned or powered-off node: exec and attach fail as
    kube-apiserver's upgrade proxy words its failed dial of the kubelet port, logs as its failed GET of the
    kubelet's containerLogs URL (log_url, from the node's address); both plain errors, so 500 with no reason
    ("Error from server: ..."). The 30 s the real dial waits are not waited."""
    node = (pod.get("spec") or {}).get("nodeName")
    if kubelet.away(node):
        ip = kubelet.node_ip(node)
        dial = "dial tcp %s:10250: i/o timeout" % ip
        if log_url is not None:
            raise ApiError(500, 'Get "https://%s:10250%s": %s' % (ip, log_url, dial), "")
        raise ApiError(500, "error dialing backend: " + dial, "")


def _status(code, message=None):
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure", "message": message, "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


class ExecServer:
    def __init__(self, srv):
        self.srv = srv

    def _container(self, req, t):
        podt = t.rt
        pod = self.srv.store.get(podt, t.namespace, t.name)
        if pod is None:
            raise not_found(podt, t.name)
        spec = pod.get("spec") or {}
        names = [c["name"] for c in spec.get("containers") or []]
        cname = req.q("container") or (names[0] if names else "")
        kubelet_gone(self.srv.kubelet, pod)
        runner = self.srv.kubelet.runners.get(pod["metadata"]["uid"])
        if cname not in names + [c["name"] for c in spec.get("initContainers") or []]:
            raise bad_request("container %s is not valid for pod %s" % (cname, t.name))
        c = None
        if runner:
            c = next((x for x in runner.containers + runner.inits if x.name == cname), None)
        if c is None or not c.running:
            raise bad_request("unable to upgrade connection: container not found (\"%s\")" % cname)
        return runner, c

    async def serve(self, req, t):
        runner, c = self._container(req, t)
        argv = req.query.get("command") or []
        if not argv:
            raise bad_request("you must specify at least 1 command")
        if req.header("upgrade").lower() != "websocket":
            raise bad_request("unable to upgrade connection: this server speaks the websocket exec protocols "
                              "(v5.channel.k8s.io, v4.channel.k8s.io) only")
        offered = [p.strip() for p in req.header("sec-websocket-protocol").split(",")]
        proto = next((p for p in offered if p in PROTOCOLS), None)
        if proto is None:
            raise bad_request("unable to upgrade connection: none of the offered subprotocols %s is supported"
                              % offered)
        key = req.header("sec-websocket-key")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        req.writer.write(head_bytes(101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                          ("Sec-WebSocket-Accept", accept), ("Sec-WebSocket-Protocol", proto)]))
        await req.writer.drain()
        req.streamed = True
        ws = WebSocket(req.reader, req.writer)
        tty = req.q("tty", "false").lower() == "true"
        want_stdin = req.q("stdin", "false").lower() == "true"
        try:
            await self._run(ws, runner, c, argv, tty, want_stdin, proto)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        try:
            await ws.send(struct.pack("!H", 1000), 8)
        except Exception:
            pass
        return None

    async def _run(self, ws, runner, c, argv, tty, want_stdin, proto):
        env = c.env()
        prog = resolve_program(c.image, argv[0], env.get("PATH"))
        if prog is None:
            msg = ('OCI runtime exec failed: exec failed: unable to start container process: exec: "%s": '
                   'executable file not found in $PATH: unknown' % argv[0])
            await ws.send(bytes([ERROR]) + json.dumps({"metadata": {}, "status": "Failure", "message": msg,
                                                       "reason": "InternalError"}).encode())
            return
        args = [prog] + map_args(argv[1:], runner.fs.root)
        if tty:
            env.setdefault("TERM", "xterm")
            master, slave = pty.openpty()

            def child_setup():
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            proc = await asyncio.create_subprocess_exec(*args, executable=prog, env=env, cwd=runner.fs.root,
                                                        stdin=slave, stdout=slave, stderr=slave,
                                                        preexec_fn=child_setup)
            os.close(slave)
            code = await self._pump_tty(ws, proc, master)
        else:
            proc = await asyncio.create_subprocess_exec(
                *args, executable=prog, env=env, cwd=runner.fs.root,
                stdin=asyncio.subprocess.PIPE if want_stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
            code = await self._pump(ws, proc, want_stdin)
        cmd = " ".join(argv)
        await ws.send(bytes([ERROR]) + json.dumps(_status(
            code, "command terminated with non-zero exit code: error executing command [%s], exit code %d"
            % (cmd, code))).encode())

    async def _pump(self, ws, proc, want_stdin):
        async def copy(stream, channel):
            while True:
                data = await stream.read(32768)
                if not data:
                    return
                await ws.send(bytes([channel]) + data)

        async def feed():
            while True:
                msg = await ws.recv()
                if msg is None:
                    if proc.returncode is None:
                        try:
                            os.killpg(proc.pid, 9)
                        except ProcessLookupError:
                            pass
                    return
                _, data = msg
                if not data:
                    continue
                ch, body = data[0], data[1:]
                if ch == STDIN and want_stdin and proc.stdin:
                    proc.stdin.write(body)
                    try:
                        await proc.stdin.drain()
                    except (ConnectionError, BrokenPipeError):
                        pass
                elif ch == CLOSE and body[:1] == bytes([STDIN]) and proc.stdin:
                    proc.stdin.close()

        feeder = asyncio.ensure_future(feed())
        await asyncio.gather(copy(proc.stdout, STDOUT), copy(proc.stderr, STDERR))
        code = await proc.wait()
        feeder.cancel()
        return code if code >= 0 else 128 - code

    async def _pump_tty(self, ws, proc, master):
        loop = asyncio.get_running_loop()
        out_q = asyncio.Queue()

        def readable():
            try:
                data = os.read(master, 32768)
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(master)
            out_q.put_nowait(data)
        loop.add_reader(master, readable)

        async def feed():
            while True:
                msg = await ws.recv()
                if msg is None:
                    if proc.returncode is None:
                        proc.kill()
                    return
                _, data = msg
                if not data:
                    continue
                ch, body = data[0], data[1:]
                if ch == STDIN:
                    os.write(master, body)
                elif ch == RESIZE:
                    try:
                        size = json.loads(body)
                        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", size.get("Height", 24),
                                                                             size.get("Width", 80), 0, 0))
                    except (ValueError, OSError):
                        pass
        feeder = asyncio.ensure_future(feed())
        while True:
            data = await out_q.get()
            if not data:
                break
            await ws.send(bytes([STDOUT]) + data)
        code = await proc.wait()
        feeder.cancel()
        try:
            loop.remove_reader(master)
        except Exception:
            pass
        os.close(master)
        return code if code >= 0 else 128 - code
