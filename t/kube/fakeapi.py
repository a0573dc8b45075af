"""A scripted stand-in for the Kubernetes API, for the tests that need a server to misbehave
in ways the simulated cluster does not: each list or watch request takes the next answer from
a script (status, content type, body, or a chunked stream of lines), and every request is
recorded."""

import http.server
import json
import ssl
import threading
import time
import urllib.parse


def cm(name, rv, ns="ns", **extra):
    """A ConfigMap as list items carry it (no kind: typed lists leave it out)."""
    o = {"metadata": {"name": name, "namespace": ns, "resourceVersion": str(rv)}, "data": {"v": str(rv)}}
    o.update(extra)
    return o


def event(etype, obj):
    return json.dumps({"type": etype, "object": obj}) + "\n"


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class Answer:
    """One scripted answer: a whole body, or a stream of pieces (bytes, or seconds to pause)."""

    def __init__(self, code=200, body=None, ctype="application/json", stream=None, hang=False):
        self.code, self.body, self.ctype, self.stream, self.hang = code, body, ctype, stream, hang


class FakeApi:
    def __init__(self, lists, watches, certfile=None, keyfile=None):
        self.lists, self.watches = list(lists), list(watches)
        self.requests = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                with api.lock:
                    api.requests.append((self.command, u.path, q))
                    script = api.watches if q.get("watch") in ("1", "true") else api.lists
                    ans = script.pop(0) if script else Answer(hang=True)
                api.answer(self, ans)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, h, ans):
        if ans.hang:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            h.wfile.flush()
            while not self.stopping.wait(0.2):
                pass
            return
        if ans.stream is None:
            body = ans.body if isinstance(ans.body, (bytes, str)) else json.dumps(ans.body)
            body = body.encode() if isinstance(body, str) else body
            h.send_response(ans.code)
            h.send_header("Content-Type", ans.ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(ans.code)
        h.send_header("Content-Type", ans.ctype)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for piece in ans.stream:
                if isinstance(piece, (int, float)):
                    h.wfile.flush()
                    time.sleep(piece)
                    continue
                if piece is None:  # cut the connection in the middle of the stream
                    h.wfile.flush()
                    h.close_connection = True
                    return
                data = piece.encode() if isinstance(piece, str) else piece
                h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def watch_requests(self):
        with self.lock:
            return [q for m, p, q in self.requests if q.get("watch") in ("1", "true")]

    def list_requests(self):
        with self.lock:
            return [q for m, p, q in self.requests if q.get("watch") not in ("1", "true")]

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def kubeconfig(self, path, scheme="http", ca=None):
        cluster = {"server": "%s://127.0.0.1:%d" % (scheme, self.port)}
        if ca:
            cluster["certificate-authority"] = ca
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "fake",
               "clusters": [{"name": "fake", "cluster": cluster}],
               "users": [{"name": "u", "user": {"token": "t0ken"}}],
               "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u", "namespace": "ns"}}]}
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path
