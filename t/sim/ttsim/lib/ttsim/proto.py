"""The wire protocol between utilities, the shared server and peer servers:
one JSON object per line over TCP (pod addresses) or a unix socket (control).
A reply is {"ok": true, ...} or {"ok": false, "err": [[code, text], ...]}."""

import json
import socket
import time

from .errors import TTError

MAX_LINE = 256 * 1024 * 1024


def encode(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def error_reply(errors):
    return {"ok": False, "err": [e.to_wire() for e in errors]}


class ConnectFailed(Exception):
    pass


class Client:
    """A blocking client connection used by the utilities."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    @classmethod
    def tcp(cls, host, port, timeout=None, source=None):
        try:
            sock = socket.create_connection((host, port), timeout=5,
                                            source_address=(source, 0) if source else None)
        except OSError as e:
            raise ConnectFailed(str(e))
        sock.settimeout(timeout)
        return cls(sock)

    @classmethod
    def unix(cls, name, timeout=None):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect("\0" + name)
        except OSError as e:
            sock.close()
            raise ConnectFailed(str(e))
        sock.settimeout(timeout)
        return cls(sock)

    def send(self, obj):
        self.sock.sendall(encode(obj))

    def recv(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectFailed("connection closed by the daemon")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, obj):
        """Send a request and return the reply; raise the first TTError of a
        failed reply (all errors are kept in .errors)."""
        self.send(obj)
        reply = self.recv()
        if not reply.get("ok"):
            errs = [TTError.from_wire(p) for p in reply.get("err", [])] or \
                [TTError(8045, text="unknown failure")]
            first = errs[0]
            first.errors = errs
            first.reply = reply
            raise first
        return reply

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connect_retry(host, port, deadline, timeout=None):
    """Connect, retrying refused connections until the deadline (used by
    ttIsql -wait and by the peer-facing code)."""
    while True:
        try:
            return Client.tcp(host, port, timeout=timeout)
        except ConnectFailed:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


async def read_msg(reader):
    """Read one message; None at end of stream.  Raises ValueError on a
    malformed line."""
    line = await reader.readline()
    if not line:
        return None
    if not line.endswith(b"\n"):
        return None
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("message is not an object")
    return obj


def peer_closed(reader):
    """Whether the other end has closed (or reset) the connection, even if
    lines it sent before are still buffered."""
    return reader.exception() is not None or reader._eof


def write_msg(writer, obj):
    writer.write(encode(obj))
