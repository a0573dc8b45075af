#!/usr/bin/python3
"""Informer convergence under faults: while kubectl and the python client create, patch,
relabel and delete objects at random, the simulated cluster drops watch streams, expires
its history (410), answers 500 and 429, and restarts. At the end the informer's cache
equals the server's state exactly, its handlers saw every final state, objects outside
its label selector never entered it, and its event loop never stalled."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t", "kube"))
import ktest  # noqa: E402

NS = "conv"
SEL = "app=conv"
DURATION = float(os.environ.get("KUBE_CONVERGE_SECONDS", "30"))

tap = ktest.Tap()
ktest.need_kubesim(tap)
try:
    import kubernetes
    from kubernetes.client.rest import ApiException
except ImportError:
    tap.skip_all("python3-kubernetes is not installed")
work = ktest.Workdir()
try:
    cl = ktest.Cluster(work)
except Exception as e:
    tap.bail(str(e))
cl.kubectl("create", "namespace", NS)
seed = int(os.environ.get("KUBE_TEST_SEED", str(int(time.time()))))
tap.diag("random seed %d (set KUBE_TEST_SEED to repeat)" % seed)

watcher = ktest.Ktool(work, "watch", ["watch", "configmaps", "--namespace", NS, "--selector", SEL,
                                      "--watch-timeout", "8"], kubeconfig=cl.kubeconfig)
tap.ok(watcher.wait_line("SYNCED", 30) is not None, "the informer syncs an empty collection")
# An idle informer beside it: how late this machine runs timers anyway.
control = ktest.Ktool(work, "control", ["watch", "secrets", "--namespace", "kube-system", "--selector", "none=none"],
                      kubeconfig=cl.kubeconfig)

stop = threading.Event()
errors = []
ops = {"python": 0, "kubectl": 0}


def python_writer(rng):
    api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=cl.kubeconfig))
    while not stop.is_set():
        name = "o%d" % rng.randrange(24)
        op = rng.random()
        try:
            if op < 0.35:
                body = {"metadata": {"name": name, "labels": {"app": rng.choice(["conv", "conv", "other"])}},
                        "data": {"v": str(rng.random())}}
                api.create_namespaced_config_map(NS, body)
            elif op < 0.70:
                api.patch_namespaced_config_map(name, NS, {"data": {"v": str(rng.random())}})
            elif op < 0.85:
                api.patch_namespaced_config_map(name, NS, {"metadata": {"labels": {
                    "app": rng.choice(["conv", "other"])}}})
            else:
                api.delete_namespaced_config_map(name, NS)
            ops["python"] += 1
        except ApiException as e:
            if e.status not in (404, 409, 500, 503, 429):
                errors.append("python: %s %s" % (e.status, e.reason))
        except Exception:
            time.sleep(0.2)  # the server is restarting
        time.sleep(0.02 + rng.random() * 0.06)


def kubectl_writer(rng):
    while not stop.is_set():
        name = "k%d" % rng.randrange(8)
        op = rng.random()
        if op < 0.4:
            args = ["create", "configmap", name, "-n", NS, "--from-literal=v=%f" % rng.random()]
        elif op < 0.8:
            args = ["patch", "configmap", name, "-n", NS, "--type=merge", "-p",
                    json.dumps({"metadata": {"labels": {"app": "conv"}}, "data": {"v": str(rng.random())}})]
        else:
            args = ["delete", "configmap", name, "-n", NS, "--wait=false"]
        cl.kubectl(*args, check=False)
        ops["kubectl"] += 1
        time.sleep(0.1 + rng.random() * 0.3)  # kubectl itself is heavy: leave the CPUs some air


def server_state():
    """{namespace/name: resourceVersion} of the selected objects, read with kubectl."""
    out = cl.kubectl("get", "configmaps", "-n", NS, "-l", SEL, "-o", "json")
    return {"%s/%s" % (NS, o["metadata"]["name"]): o["metadata"]["resourceVersion"]
            for o in json.loads(out)["items"]}


rng = random.Random(seed)
threads = [threading.Thread(target=python_writer, args=(random.Random(seed + 1),), daemon=True),
           threading.Thread(target=kubectl_writer, args=(random.Random(seed + 2),), daemon=True)]
for t in threads:
    t.start()

OURS = "labelSelector=app%3Dconv"


def drop():
    cl.fault("drop-watches")


def expire():
    # Keep the informer from watching for a few seconds (five failed attempts with
    # backoff) and forget the history meanwhile: its next watch starts from a
    # resourceVersion the server no longer has (410).
    cl.fault("inject", "--code", "500", "--count", "5", "--path", "watch=1.*" + OURS)
    cl.fault("drop-watches")
    cl.fault("expire-history")


def error500():
    cl.fault("inject", "--code", "500", "--count", "3", "--path", OURS)
    cl.fault("drop-watches")


def error429():
    cl.fault("inject", "--code", "429", "--count", "2", "--path", OURS)
    cl.fault("drop-watches")


def restart():
    cl.fault("restart-apiserver", "--down-ms", "1500")
    time.sleep(0.2)
    ktest.wait_for(15, lambda: cl.kubectl("get", "--raw", "/readyz", check=False).strip() == "ok", 0.2)


faults = [drop, expire, error500, error429, restart]
applied = []
t_end = time.monotonic() + DURATION
i = 0
while time.monotonic() < t_end:
    time.sleep(1.0 + rng.random() * 1.5)
    f = faults[i] if i < len(faults) else rng.choice(faults)
    i += 1
    f()
    applied.append(f.__name__)
stop.set()
for t in threads:
    t.join(60)
tap.diag("faults: %s" % ", ".join(applied),
         "writes: %d by the python client, %d by kubectl" % (ops["python"], ops["kubectl"]))
tap.ok(ops["python"] > 50 and ops["kubectl"] > 10, "both clients wrote throughout")
tap.is_(errors, [], "the writers met only the expected errors")
cl.fault("clear")

# Convergence: the cache must come to equal the server's state.
want = server_state()
cache = None


def converged():
    global cache
    cache, _ = watcher.dump_state()
    return cache == want


ok = ktest.wait_for(45, converged, 0.5)
tap.ok(ok, "the cache equals the server's state (%d objects)" % len(want))
if not ok and cache is not None:
    tap.diag("missing: %s" % sorted(set(want) - set(cache)), "extra: %s" % sorted(set(cache) - set(want)),
             "stale: %s" % sorted(k for k in want if k in cache and cache[k] != want[k]))

# The handlers' view: the last event per key is the final state.
seen = {}
for line in watcher.lines():
    if line[1] in ("ADDED", "UPDATED"):
        seen[line[2]] = line[3]
    elif line[1] == "DELETED":
        seen.pop(line[2], None)
tap.ok(seen == want, "the handlers saw every final state, and every deletion")
other = json.loads(cl.kubectl("get", "configmaps", "-n", NS, "-l", "app=other", "-o", "json"))["items"]
leaked = [o["metadata"]["name"] for o in other if "%s/%s" % (NS, o["metadata"]["name"]) in (cache or {})]
tap.is_(leaked, [], "objects outside the label selector are not cached (%d exist)" % len(other))

metrics = watcher.metrics()


def metric(pattern):
    return sum(float(m) for m in re.findall(r"^%s\S* ([0-9.e+]+)$" % pattern, metrics, re.M))


tap.ok(metric(r'ktool_kube_relists_total\{resource="configmaps"\}') >= 1,
       "expired history made the informer list again (%d relists)"
       % metric(r'ktool_kube_relists_total\{resource="configmaps"\}'))
tap.ok(metric(r'ktool_kube_watch_restarts_total\{resource="configmaps",reason="expired"\}') >= 1,
       "after 410 Expired")
tap.ok(metric(r'ktool_kube_watch_restarts_total\{resource="configmaps",reason="error"\}') >= 1,
       "watches were restarted after errors")
tap.ok(metric(r'ktool_kube_requests_total\{verb="WATCH",resource="configmaps",code="500"\}')
       + metric(r'ktool_kube_requests_total\{verb="LIST",resource="configmaps",code="500"\}') >= 1,
       "injected 500s reached the informer")


def lag(text):
    """(share of loop-lag samples under 10 ms, samples, histogram text) from metrics."""
    b = re.findall(r'^ktool_event_loop_lag_seconds_bucket\{le="([^"]+)"\} ([0-9]+)$', text, re.M)
    d = dict(b)
    n = float(d.get("+Inf", 0))
    return (float(d.get("0.01", 0)) / n if n else 0), n, " ".join("%s:%s" % x for x in b)


control.dump_state()
share, n, hist = lag(metrics)
cshare, cn, chist = lag(control.metrics())
tap.diag("loop lag histogram: " + hist, "idle control process beside it: " + chist)
# A loop that blocks shows lag an idle process on the same machine does not; a machine
# too busy to run timers on time shows it in both (a busy process a little more).
tap.ok(n > 100 and (share >= 0.99 or share >= cshare - 0.01),
       "the loop never blocks: loop lag p99 under 10 ms (%.2f%% of %d samples; %.2f%% for an idle process)"
       % (100 * share, n, 100 * cshare))
_, stats = watcher.dump_state()
if stats:
    tap.diag("loop lag max %.1f ms, RSS %d KiB" % (stats["lag_max_ms"], stats["rss_kib"]))
promtool = os.environ.get("PROMTOOL")
if promtool:
    r = subprocess.run([promtool, "check", "metrics"], input=watcher.metrics().encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    tap.ok(r.returncode == 0, "the client's metrics pass promtool check metrics")
    if r.returncode != 0:
        tap.diag(r.stdout.decode(errors="replace"))
watcher.signal(signal.SIGTERM)
tap.is_(watcher.proc.wait(20), 0, "the informer stops cleanly")
err = watcher.err()
tap.ok("AddressSanitizer" not in err and "runtime error" not in err, "without sanitizer reports")
tap.done()
