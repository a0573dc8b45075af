#!/usr/bin/python3
# Fault injection: container kill (restart), freeze/thaw, network cut, injected errors and delays, dropped
# watches, expired watch history, and an API server restart that keeps its state.
import json
import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import Cluster, Tap, read, wait_for  # noqa: E402

t = Tap()
c = Cluster()
k = c.kubectl

POD = """apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: srv
    image: debian:12
    command: ["/usr/bin/python3", "-c", "import http.server, os; http.server.HTTPServer((os.environ['POD_IP'], 8080), http.server.SimpleHTTPRequestHandler).serve_forever()"]
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
"""
k("apply", "-f", c.manifest("pod.yaml", POD))
rc, out, err = k("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
t.ok(rc == 0, "a pod serving on its own address becomes Ready through a tcpSocket probe", out + err)
ip = k("get", "pod", "web", "-o", "jsonpath={.status.podIP}")[1]


def reachable():
    try:
        socket.create_connection((ip, 8080), timeout=1).close()
        return True
    except OSError:
        return False


t.ok(reachable(), "the pod's address answers")
code, out = c.fault("netcut", "web")
if "API access only" in out:
    t.skip("netcut: the pod's address no longer answers", "no route control here (ip, CAP_NET_ADMIN)")
else:
    t.ok(code == 0 and not reachable(), "netcut: the pod's address no longer answers", out)
t.ok(wait_for(lambda: k("get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[0].ready}")[1] == "false", 30),
     "...and its readiness probe fails")
code, out = c.fault("netrestore", "web")
t.ok(code == 0 and wait_for(reachable, 10), "netrestore: it answers again", out)

pid_of = lambda: json.loads(k("get", "pod", "web", "-o", "json")[1])["status"]["containerStatuses"][0]  # noqa: E731


def answers():
    """An HTTP answer within a second (a frozen server accepts connections but never answers)."""
    try:
        s = socket.create_connection((ip, 8080), timeout=1)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = s.recv(16)
        s.close()
        return data.startswith(b"HTTP/")
    except OSError:
        return False


code, out = c.fault("freeze", "web", "srv")
t.ok(code == 0 and "froze srv" in out and not answers(), "freeze: the container stops answering", out)
code, out = c.fault("thaw", "web", "srv")
t.ok(code == 0 and "thawed srv" in out and wait_for(answers, 10), "thaw: it answers again", out)
code, out = c.fault("freeze", "web", "srv", "--process", "python3")
t.ok(code == 0 and "sent SIGSTOP to python3 (" in out and not answers(),
     "freeze --process: the process of that name alone is stopped", out)
code, out = c.fault("thaw", "web", "srv", "--process", "python3")
t.ok(code == 0 and "sent SIGCONT to python3 (" in out and wait_for(answers, 10),
     "thaw --process: it answers again", out)
code, out = c.fault("freeze", "web", "srv", "--process", "nosuch")
t.ok(code != 0 and 'no process "nosuch" runs in pod default/web' in out,
     "freeze --process of a name no process has is refused", out)

code, out = c.fault("kill", "web", "srv")
t.ok(code == 0 and "sent SIGKILL" in out, "kill", out)
t.ok(wait_for(lambda: pid_of().get("restartCount") == 1 and pid_of().get("state", {}).get("running"), 30),
     "the killed container is restarted (restartCount 1)", json.dumps(pid_of()))
st = pid_of()
t.ok(st["lastState"]["terminated"]["exitCode"] == 137, "lastState records the kill (exit code 137)", json.dumps(st))
rc, out, err = k("get", "pod", "web")
t.ok("1 (" in out and " ago)" in out, "get pods shows the restart", out)

code, out = c.fault("inject", "--code", "500", "--count", "1", "--method", "GET", "--path", "/configmaps")
rc, out, err = k("get", "configmaps")
rc2, out2, err2 = k("get", "configmaps")
t.ok(rc != 0 and "InternalError" in err and rc2 == 0, "inject 500 answers the next matching request only", err + err2)
c.fault("inject", "--code", "409", "--method", "PATCH")
rc, out, err = k("label", "pod", "web", "x=y")
t.ok(rc != 0 and "Conflict" in err, "inject 409 on a write", err)
c.fault("inject", "--code", "429", "--path", "/api/v1/namespaces/default/secrets")
code, body = c.request("GET", "/api/v1/namespaces/default/secrets")
t.ok(code == 429 and body.get("reason") == "TooManyRequests", "inject 429", body)
c.fault("inject", "--delay-ms", "1500", "--path", "/api/v1/namespaces/default/services")
t0 = time.monotonic()
code, body = c.request("GET", "/api/v1/namespaces/default/services")
t.ok(code == 200 and time.monotonic() - t0 >= 1.4, "inject a delay", time.monotonic() - t0)

w = c.kubectl_bg("get", "pods", "-w")
wait_for(lambda: "web" in read(w.outfile), 20)
code, out = c.fault("drop-watches")
t.ok(code == 0 and "dropped" in out and wait_for(lambda: w.poll() is not None, 20), "drop-watches ends watch streams", out)

rv = c.request("GET", "/api/v1/namespaces/default/pods")[1]["metadata"]["resourceVersion"]
k("label", "pod", "web", "a=b")
c.fault("expire-history")
code, body = c.request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1&resourceVersion=" + rv)
lines = [json.loads(l) for l in body.splitlines()] if isinstance(body, str) else [body]
t.ok(code == 200 and lines and lines[0]["type"] == "ERROR" and lines[0]["object"]["code"] == 410 and
     lines[0]["object"]["reason"] == "Expired", "expire-history: resuming from an old resourceVersion gets ERROR 410",
     body)

code, out = c.fault("restart-apiserver", "--down-ms", "4000")
t.ok(code == 0, "restart-apiserver", out)
down = wait_for(lambda: k("get", "pods", "--request-timeout=1s")[0] != 0, 3, 0.05)
t.ok(down, "the API server is down for a while")
t.ok(wait_for(lambda: k("get", "pod", "web", "-o", "name")[1].strip() == "pod/web", 20),
     "...and comes back with its state")
rc, out, err = k("delete", "pod", "web", "--timeout=30s")
t.ok(rc == 0 and k("get", "pod", "web")[0] != 0, "graceful delete of a pod with a live process", out + err)
t.done()
