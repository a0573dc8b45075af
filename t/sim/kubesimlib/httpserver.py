"""A small HTTP/1.1 server on asyncio streams: keep-alive, request bodies (length or chunked), JSON and
chunked streaming responses, and connection upgrades (for exec websockets)."""

import asyncio
import json
import logging
import urllib.parse

log = logging.getLogger("kubesim.http")

MAX_BODY = 8 * 1024 * 1024
STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 101: "Switching Protocols", 204: "No Content",
               400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 410: "Gone",
               413: "Request Entity Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
               429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
               504: "Gateway Timeout"}


class Request:
    def __init__(self, method, target, headers, body, reader, writer):
        self.method = method
        self.target = target
        parts = urllib.parse.urlsplit(target)
        self.path = urllib.parse.unquote(parts.path)
        self.raw_query = parts.query
        self.query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.reader = reader
        self.writer = writer
        self.streamed = False      # set when the handler wrote the response itself
        self.user = None
        peer = writer.get_extra_info("peername")
        self.peer = peer[0] if peer else ""

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def header(self, name, default=""):
        return self.headers.get(name.lower(), default)


class Response:
    def __init__(self, code, body=b"", content_type="application/json", headers=None):
        self.code = code
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_response(code, obj, headers=None, content_type="application/json"):
    return Response(code, json.dumps(obj, separators=(",", ":")).encode(), content_type, headers)


def head_bytes(code, headers):
    lines = ["HTTP/1.1 %d %s" % (code, STATUS_TEXT.get(code, "Status"))]
    for k, v in headers:  # a list value is a header sent once per item (Warning)
        lines += ["%s: %s" % (k, x) for x in (v if isinstance(v, list) else [v])]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class ChunkedWriter:
    """A streaming response body in chunked transfer encoding."""

    def __init__(self, writer):
        self.writer = writer

    async def start(self, code=200, content_type="application/json", headers=None):
        hs = [("Content-Type", content_type), ("Transfer-Encoding", "chunked"), ("Cache-Control", "no-cache, private")]
        hs += list((headers or {}).items())
        self.writer.write(head_bytes(code, hs))
        await self.writer.drain()

    async def send(self, data):
        if data:
            self.writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await self.writer.drain()

    async def end(self):
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()


class HttpServer:
    def __init__(self, handler, host, port, ssl_ctx=None):
        self.handler = handler
        self.host, self.port, self.ssl_ctx = host, port, ssl_ctx
        self.server = None
        self.connections = set()

    async def start(self):
        self.server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self.ssl_ctx,
                                                 limit=1 << 20, backlog=1024, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self):
        if self.server:
            self.server.close()
            self.server = None
        self.drop_connections()

    def drop_connections(self):
        for w in list(self.connections):
            try:
                w.transport.abort()
            except Exception:
                pass
        self.connections.clear()

    async def _serve(self, reader, writer):
        self.connections.add(writer)
        try:
            while True:
                req = await self._read_request(reader, writer)
                if req is None:
                    break
                keep = req.header("connection").lower() != "close"
                try:
                    resp = await self.handler(req)
                except (ConnectionError, asyncio.IncompleteReadError):
                    break
                except Exception:
                    log.exception("handler failed for %s %s", req.method, req.target)
                    resp = json_response(500, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                               "status": "Failure", "message": "internal error",
                                               "reason": "InternalError", "code": 500})
                if req.streamed:
                    if resp is None:
                        break
                    continue
                await self._write(writer, resp, keep, req.method == "HEAD")
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self.connections.discard(writer)
            try:
                writer.close()
            except Exception:
                pass

    async def _read_request(self, reader, writer):
        try:
            line = await reader.readline()
        except (ConnectionError, OSError, ValueError):
            return None
        if not line:
            return None
        try:
            method, target, version = line.decode("latin-1").strip().split(" ", 2)
        except ValueError:
            await self._write(writer, Response(400, b"bad request line", "text/plain"), False)
            return None
        headers = {}
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            k = k.strip().lower()
            headers[k] = (headers[k] + "," + v.strip()) if k in headers else v.strip()
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            total = 0
            while True:
                size_line = await reader.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    await self._write(writer, Response(413, b"request entity too large", "text/plain"), False)
                    return None
                parts.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(parts)
        elif headers.get("content-length"):
            try:
                n = int(headers["content-length"])
            except ValueError:
                n = -1
            if n < 0 or n > MAX_BODY:
                await self._write(writer, Response(413, b"request entity too large", "text/plain"), False)
                return None
            body = await reader.readexactly(n)
        return Request(method.upper(), target, headers, body, reader, writer)

    async def _write(self, writer, resp, keep, head_only=False):
        body = resp.body if isinstance(resp.body, bytes) else resp.body.encode()
        hs = [("Content-Type", resp.content_type), ("Content-Length", str(len(body))),
              ("Cache-Control", "no-cache, private")]
        hs += list(resp.headers.items())
        if not keep:
            hs.append(("Connection", "close"))
        writer.write(head_bytes(resp.code, hs) + (b"" if head_only else body))
        await writer.drain()
