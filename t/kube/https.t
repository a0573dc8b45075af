#!/usr/bin/python3
"""The HTTPS client (src/common/https.c) against local TLS servers: the server's identity
checked for IP addresses and names (SNI only for names), untrusted CAs refused, client
certificates presented to a server that requires them, streamed bodies, deadlines, plain
HTTP, and a dead port."""

import http.server
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t", "kube"))
import ktest  # noqa: E402

tap = ktest.Tap()
if not os.access(ktest.KTOOL, os.X_OK):
    tap.bail("ktool is not built at %s" % ktest.KTOOL)
work = ktest.Workdir()
d = work.path


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tap.bail("openssl %s: %s" % (" ".join(args), r.stdout.decode(errors="replace")))


EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def make_ca(name):
    openssl("req", "-x509", *EC, "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj",
            "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_leaf(name, ca, ext):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(ext)
    openssl("req", *EC, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
            "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext")


make_ca("ca")
make_ca("other-ca")
make_leaf("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
make_leaf("client", "ca", "extendedKeyUsage=clientAuth\n")
P = lambda n: os.path.join(d, n)  # noqa: E731

sni_seen = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_body(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/hello":
            peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
            who = dict(x[0] for x in peer["subject"])["commonName"] if peer else "anonymous"
            self.send_body(200, ('{"hello":"%s","host":"%s"}' % (who, self.headers.get("Host"))).encode())
        elif self.path == "/big":
            self.send_body(200, b"[" + b"1," * (2 << 20) + b"1]")
        elif self.path.startswith("/stream"):
            n = 3 if self.path == "/stream" else 100
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(n):
                    data = b'{"n":%d}\n' % i
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                    time.sleep(0.4)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
        else:
            self.send_body(404, b'{"kind":"Status","code":404}')

    def do_PATCH(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.send_body(200, b'{"got":%s,"type":"%s"}' % (body, self.headers.get("Content-Type", "").encode()))


def serve(tls=True, require_client=False):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(P("server.crt"), P("server.key"))
        ctx.sni_callback = lambda s, name, c: sni_seen.append(name)
        if require_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(P("ca.crt"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    work.cleanups.append(srv.shutdown)
    return srv.server_address[1]


def https(url, *args, timeout=30, deadline_ms=10000):
    r = subprocess.run([ktest.KTOOL, "--timeout", str(deadline_ms), "https", url] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


port = serve()
mport = serve(require_client=True)
hport = serve(tls=False)

rc, out, err = https("https://127.0.0.1:%d/hello" % port, "--ca", P("ca.crt"))
tap.ok(rc == 0 and "STATUS 200" in out, "a server with an IP address SAN is trusted by its address")
tap.like(out, '"host":"127.0.0.1:%d"' % port, "the Host header names it")
tap.is_(sni_seen[-1:], [None], "no SNI is sent for an IP address")
rc, out, err = https("https://localhost:%d/hello" % port, "--ca", P("ca.crt"))
tap.ok(rc == 0 and "STATUS 200" in out, "a name is resolved without blocking and checked against the DNS SAN")
tap.is_(sni_seen[-1:], ["localhost"], "and sent as SNI")
rc, out, err = https("https://127.0.0.1:%d/hello" % port, "--ca", P("ca.crt"), "--server-name", "db.example")
tap.ok(rc == 1 and "hostname mismatch" in out, "a certificate without the expected name is refused")
rc, out, err = https("https://127.0.0.1:%d/hello" % port, "--ca", P("ca.crt"), "--server-name", "10.9.9.9")
tap.ok(rc == 1 and "IP address mismatch" in out, "a certificate without the expected address is refused")
rc, out, err = https("https://127.0.0.1:%d/hello" % port, "--ca", P("other-ca.crt"))
tap.ok(rc == 1 and "not trusted" in out, "a certificate from another CA is refused")
tap.like(out, "ERROR TLS failed", "as a TLS error")

rc, out, err = https("https://127.0.0.1:%d/hello" % mport, "--ca", P("ca.crt"), "--cert", P("client.crt"),
                     "--key", P("client.key"))
tap.ok(rc == 0 and '"hello":"client"' in out, "a client certificate is presented to a server that requires one")
rc, out, err = https("https://127.0.0.1:%d/hello" % mport, "--ca", P("ca.crt"))
tap.ok(rc == 1 and "ERROR" in out, "without one that server refuses us, and we say so")
rc, out, err = https("https://127.0.0.1:%d/hello" % mport, "--ca", P("ca.crt"), "--cert", P("client.crt"),
                     "--key", P("server.key"))
tap.ok(rc == 1 and "does not match" in out, "a key that does not match its certificate is refused up front")

rc, out, err = https("https://127.0.0.1:%d/stream" % port, "--ca", P("ca.crt"), "--stream")
lines = [l.split(" ") for l in out.splitlines() if " DATA " in l or " HEAD " in l or " STATUS " in l]
tap.ok(rc == 0 and [l[1] for l in lines] == ["HEAD", "DATA", "DATA", "DATA", "STATUS"],
       "a streamed body arrives piece by piece, then the end")
if len(lines) == 5:
    tap.ok(float(lines[3][0]) - float(lines[1][0]) >= 600, "as the server sends it, not at the end")
t0 = time.monotonic()
rc, out, err = https("https://127.0.0.1:%d/stream-long" % port, "--ca", P("ca.crt"), "--stream", deadline_ms=2500)
took = time.monotonic() - t0
tap.ok(rc == 1 and "deadline exceeded" in out, "a stream that outlasts the deadline is ended by it")
tap.ok(2.4 < took < 2.5 + 2, "at the deadline (2.5 s; took %.1f s)" % took)
tap.ok(out.count(" DATA ") >= 4, "after the pieces that came before it")
rc, out, err = https("https://127.0.0.1:%d/big" % port, "--ca", P("ca.crt"))
tap.ok(rc == 0 and len(out) > 4 << 20, "a 4 MB body arrives whole")
rc, out, err = https("http://127.0.0.1:%d/hello" % hport)
tap.ok(rc == 0 and '"hello":"anonymous"' in out, "plain HTTP works")
rc, out, err = https("http://127.0.0.1:%d/x" % hport, "--method", "PATCH", "--body", '{"a":1}')
tap.ok(rc == 0 and '"got":{"a":1}' in out, "a PATCH carries its body (with Content-Length)")
s = socket.socket()
s.bind(("127.0.0.1", 0))
dead = s.getsockname()[1]
s.close()
t0 = time.monotonic()
rc, out, err = https("https://127.0.0.1:%d/hello" % dead, "--ca", P("ca.crt"))
tap.ok(rc == 1 and "cannot connect" in out and time.monotonic() - t0 < 5, "a dead port fails at once")
rc, out, err = https("https://[::1:%d/" % port)
tap.ok(rc == 1 and "IPv6" in out, "a malformed URL is refused clearly")
rc, out, err = https("ftp://127.0.0.1/", "--ca", P("ca.crt"))
tap.ok(rc == 1 and "scheme" in out, "so is an unknown scheme")
tap.done()
