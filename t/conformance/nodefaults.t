#!/usr/bin/python3
# Node faults as a Kubernetes 1.32 cluster of three nodes shows them (kubesim start --nodes 3, with short
# node lifecycle timings): a partitioned node goes Unknown/NotReady with the unreachable taints and a
# NodeNotReady event, its pods Ready=False and out of the headless Service's names while their processes
# run on; graceful and force deletes there; a StatefulSet pod whose claim lives there waits
# (FailedScheduling), a Deployment's pod is replaced elsewhere; connectivity across the cut; exec and logs;
# a container killed there restarted unseen; taint eviction after the (shortened) default
# tolerationSeconds; heal (Ready again, taints gone, orphaned containers killed, pending deletions
# finished, the restart reported); node-down then heal (containers restarted); the nodes through
# python3-kubernetes.
import json
import os
import re
import socket
import sys
import time
from datetime import datetime

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import Cluster, Tap, wait_for  # noqa: E402

GRACE = 4          # --node-monitor-grace-period
TOLERATION = 25    # --default-unreachable-toleration-seconds
t = Tap()
c = Cluster(args=["--nodes", "3", "--node-monitor-period", "1", "--node-monitor-grace-period", str(GRACE),
                  "--node-lease-duration-seconds", "4", "--default-unreachable-toleration-seconds", str(TOLERATION)])
k = c.kubectl
NODES = ["kubesim-node", "kubesim-node-2", "kubesim-node-3"]
CUT = "kubesim-node-3"
SUBNET = int(c.info["subnet"].split(".")[1])   # node K is 127.S.255.K


def node_addr(i):
    return "127.%d.255.%d" % (SUBNET, i)


def get(kind, name, ns=None):
    rc, out, _ = k("get", kind, name, "-o", "json", *(["-n", ns] if ns else []))
    return json.loads(out) if rc == 0 else None


def items(kind, *args):
    rc, out, _ = k("get", kind, "-o", "json", *args)
    return json.loads(out)["items"] if rc == 0 else []


def cond(obj, typ):
    return next((x for x in ((obj or {}).get("status") or {}).get("conditions") or [] if x.get("type") == typ), {})


def events(name, reason):
    return [e for e in items("events", "--field-selector", "involvedObject.name=%s,reason=%s" % (name, reason))]


def pod_root(pod):
    md = pod["metadata"]
    return os.path.join(c.dir, "pods", "%s_%s_%s" % (md["namespace"], md["name"], md["uid"]), "root")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def connects(ip, frm, port=8080):
    """A TCP connection to ip:port from the address frm (a client on a node binds to the node's address)."""
    s = socket.socket()
    s.settimeout(2)
    try:
        s.bind((frm, 0))
        s.connect((ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def apply(name, text):
    rc, out, err = k("apply", "-f", c.manifest(name + ".yaml", text))
    return rc == 0 or t.diag(err)


# Each container serves on $POD_IP:8080, writes its pid to /tmp/pid and, every 0.3 s, tries the addresses
# listed in /tmp/targets, writing what it reached to /tmp/reach (its processes are linked with the source-
# address shim, so they connect from their own address as a pod's would).
PROG = r"""
import http.server, json, os, socket, threading, time
root, ip = os.environ["POD_ROOT"], os.environ["POD_IP"]
open(root + "/tmp/pid", "w").write(str(os.getpid()))
def probe():
    while True:
        try:
            targets = open(root + "/tmp/targets").read().split()
        except OSError:
            targets = []
        res = {}
        for a in targets:
            try:
                socket.create_connection((a, 8080), timeout=1).close()
                res[a] = "ok"
            except OSError as e:
                res[a] = str(e)
        open(root + "/tmp/reach.tmp", "w").write(json.dumps({"time": time.time(), "reach": res}))
        os.replace(root + "/tmp/reach.tmp", root + "/tmp/reach")
        time.sleep(0.3)
threading.Thread(target=probe, daemon=True).start()
http.server.HTTPServer((ip, 8080), http.server.BaseHTTPRequestHandler).serve_forever()
"""
CONTAINER = """      - name: srv
        image: debian:12
        command: ["/usr/bin/python3", "-c", %s]
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
""" % json.dumps(PROG)
FOREVER = "      tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}]\n"


def bare(name, extra=""):
    """A pod of no controller on the node to be cut (a pod template's lines, moved left)."""
    spec = ("      terminationGracePeriodSeconds: 5\n      nodeSelector: {kubernetes.io/hostname: %s}\n%s"
            "      containers:\n%s" % (CUT, extra, CONTAINER))
    return ("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, labels: {app: bare}}\nspec:\n" % name +
            "".join(ln[4:] + "\n" for ln in spec.splitlines()))


apply("peers", """apiVersion: v1
kind: Service
metadata: {name: peers}
spec: {clusterIP: None, selector: {app: peer}, ports: [{port: 8080}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: peer}
spec:
  serviceName: peers
  replicas: 3
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: peer}}
  template:
    metadata: {labels: {app: peer}}
    spec:
      terminationGracePeriodSeconds: 5
%s      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: peer}}
            topologyKey: kubernetes.io/hostname
      containers:
%s  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
""" % (FOREVER, CONTAINER))
apply("dep", """apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec:
  replicas: 1
  selector: {matchLabels: {app: dep}}
  template:
    metadata: {labels: {app: dep}}
    spec:
      terminationGracePeriodSeconds: 5
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            preference:
              matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [%s]}]
      containers:
%s""" % (CUT, CONTAINER))
apply("lone", bare("lone"))                 # default tolerations; deleted gracefully, then by force
apply("slow", bare("slow", FOREVER))        # deleted gracefully while away: finished on heal
apply("keep", bare("keep", FOREVER))        # killed while away: restarted by its kubelet, reported on heal


def running(name):
    p = get("pod", name)
    return p if p and cond(p, "Ready").get("status") == "True" and p["spec"].get("nodeName") else None


def dep_pod():
    ps = [p for p in items("pods", "-l", "app=dep") if not p["metadata"].get("deletionTimestamp")]
    return ps[0] if len(ps) == 1 else None


ok = wait_for(lambda: all(running(n) for n in ("peer-0", "peer-1", "peer-2", "lone", "slow", "keep")) and
              dep_pod() and running(dep_pod()["metadata"]["name"]), timeout=90)
pods = {p["metadata"]["name"]: p for p in items("pods")}
placed = {n: p["spec"].get("nodeName") for n, p in pods.items()}
if not t.ok(ok and sorted(placed.get(n) for n in ("peer-0", "peer-1", "peer-2")) == NODES and
            placed.get("lone") == placed.get("slow") == placed.get("keep") == CUT and dep_pod() and
            dep_pod()["spec"]["nodeName"] == CUT,
            "the pods run: one peer per node, a Deployment's pod and three bare pods on %s" % CUT, placed):
    print("Bail out! the pods did not start as planned", flush=True)
    sys.exit(1)
peer_cut = next((n for n in ("peer-0", "peer-1", "peer-2") if placed.get(n) == CUT), "peer-x")
peer_far = next((n for n in ("peer-0", "peer-1", "peer-2") if placed.get(n) == NODES[0]), "peer-y")
dep_name = dep_pod()["metadata"]["name"] if dep_pod() else "dep-x"
ip = {n: (p.get("status") or {}).get("podIP") for n, p in pods.items()}
pid = {}
for n, p in pods.items():
    try:
        pid[n] = int(open(os.path.join(pod_root(p), "tmp", "pid")).read())
    except (OSError, ValueError):
        pid[n] = 0
tols = pods.get(dep_name, {}).get("spec", {}).get("tolerations") or []
t.ok({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
      "tolerationSeconds": TOLERATION} in tols and
     {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
      "tolerationSeconds": 300} in tols and
     [x for x in pods.get(peer_cut, {}).get("spec", {}).get("tolerations") or []
      if x.get("key") == "node.kubernetes.io/unreachable"] ==
     [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}],
     "DefaultTolerationSeconds: unreachable for %d s (the flag), not-ready for 300 s; a pod's own kept" % TOLERATION,
     tols)


def dns_ips():
    """The addresses the headless Service's name stands for, in the cluster's hosts file."""
    with open(os.path.join(c.dir, "hosts")) as f:
        return sorted(ln.split()[0] for ln in f if "peers.default.svc.cluster.local" in ln.split()[1:])


t.ok(wait_for(lambda: dns_ips() == sorted(ip[n] for n in ("peer-0", "peer-1", "peer-2")), timeout=20),
     "the headless Service's name has the three peers", dns_ips())

# the pods probe each other: the peer on the node to be cut tries the far peer and the bare pod beside it
targets = {peer_cut: [ip.get(peer_far), ip.get("lone")], peer_far: [ip.get(peer_cut), ip.get("slow")]}
for n, addrs in targets.items():
    with open(os.path.join(pod_root(pods[n]), "tmp", "targets"), "w") as f:
        f.write("\n".join(filter(None, addrs)) + "\n")


def reach(name, since):
    try:
        with open(os.path.join(pod_root(pods[name]), "tmp", "reach")) as f:
            r = json.load(f)
    except (OSError, ValueError, KeyError):
        return None
    return r["reach"] if r["time"] > since else None


t0 = time.time()
r1, r2 = wait_for(lambda: (reach(peer_cut, t0), reach(peer_far, t0)) if reach(peer_cut, t0) and
                  reach(peer_far, t0) else None, timeout=20) or (None, None)
t.ok(r1 and r2 and set(r1.values()) == {"ok"} and set(r2.values()) == {"ok"},
     "before the cut every pod reaches every other", (r1, r2))

ev = wait_for(lambda: [(e["involvedObject"].get("uid"), e["message"], e["source"].get("component"))
                       for e in events(CUT, "RegisteredNode")], timeout=10)
t.ok(ev == [(get("node", CUT)["metadata"]["uid"], "Node %s event: Registered Node %s in Controller" % (CUT, CUT),
             "node-controller")], "the node lifecycle controller's RegisteredNode event", ev)

# -- the partition ----------------------------------------------------------------------------------------
code, cut_out = c.fault("node-partition", CUT)
t_cut = time.time()
t.ok(code == 0 and "partitioned" in cut_out, "fault node-partition %s" % CUT, cut_out)


def status_of(node):
    rc, out, _ = k("get", "node", node)
    return out.splitlines()[1].split()[1] if rc == 0 and len(out.splitlines()) > 1 else None


unknown = wait_for(lambda: status_of(CUT) == "NotReady", timeout=GRACE + 15)
took = time.time() - t_cut
t.ok(unknown and took >= GRACE - 1, "after the grace period (%d s) kubectl get nodes shows it NotReady (%.1f s)" %
     (GRACE, took), k("get", "nodes")[1])
t.ok([status_of(n) for n in NODES[:2]] == ["Ready", "Ready"], "the other nodes stay Ready")
node = get("node", CUT)
conds = {x["type"]: x for x in node["status"]["conditions"]}
t.ok(all(x["status"] == "Unknown" and x["reason"] == "NodeStatusUnknown" and
         x["message"] == "Kubelet stopped posting node status." for x in conds.values()) and
     set(conds) == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"},
     "every condition Unknown, reason NodeStatusUnknown, 'Kubelet stopped posting node status.'", conds)
want = [("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")]
taints = wait_for(lambda: sorted((x["key"], x["effect"]) for x in get("node", CUT)["spec"].get("taints") or []) ==
                  sorted(want) and get("node", CUT)["spec"]["taints"], timeout=10)
t.ok(taints and all(x.get("timeAdded") for x in taints), "tainted node.kubernetes.io/unreachable NoSchedule and "
     "NoExecute, with timeAdded", get("node", CUT)["spec"])
rc, out, err = k("describe", "node", CUT)
ready_line = next((ln for ln in out.splitlines() if ln.strip().startswith("Ready ")), "")
t.ok(rc == 0 and ready_line.split()[1:2] == ["Unknown"] and "NodeStatusUnknown" in ready_line and
     ready_line.rstrip().endswith("Kubelet stopped posting node status.") and
     "Taints:             node.kubernetes.io/unreachable:NoExecute" in out and
     "node.kubernetes.io/unreachable:NoSchedule" in out,
     "kubectl describe node: Ready Unknown NodeStatusUnknown, the taints", out + err)
ev = wait_for(lambda: [e for e in events(CUT, "NodeNotReady")
                       if e["message"] == "Node %s status is now: NodeNotReady" % CUT], timeout=10)
t.ok(ev and ev[0]["source"].get("component") == "node-controller" and ev[0]["type"] == "Normal" and
     ev[0]["involvedObject"] == {"apiVersion": "v1", "kind": "Node", "name": CUT, "uid": node["metadata"]["uid"]},
     "a NodeNotReady event from node-controller, about the Node (its uid)", ev)
t.ok("NodeNotReady" in out and "Node %s status is now: NodeNotReady" % CUT in k("describe", "node", CUT)[1],
     "kubectl describe node lists it")


t.ok(wait_for(lambda: all(cond(get("pod", n), "Ready").get("status") == "False"
                         for n in (peer_cut, "lone", "slow", dep_name)), timeout=10),
     "its pods get Ready=False", [cond(get("pod", n), "Ready") for n in (peer_cut, "lone", "slow", dep_name)])
p = get("pod", peer_cut)
ev = events(peer_cut, "NodeNotReady")
t.ok(((p or {}).get("status") or {}).get("phase") == "Running" and ev and ev[0]["message"] == "Node is not ready" and
     ev[0]["type"] == "Warning" and ev[0]["source"].get("component") == "node-controller",
     "phase still Running; a NodeNotReady warning 'Node is not ready' on the pod", (ev, (p or {}).get("status")))
rc, out, _ = k("describe", "pod", peer_cut)
t.ok(re.search(r"^Conditions:\n(  .*\n)*  Ready +False *\n", out, re.M) and
     re.search(r"^ +Ready: +True$", out, re.M) and "Node is not ready" in out,
     "kubectl describe pod: condition Ready False (the container's Ready stays True)", out)
# the READY column counts containerStatuses[].ready, which MarkPodsNotReady leaves alone: still 1/1 Running
rc, out, _ = k("get", "pod", peer_cut)
t.ok(rc == 0 and out.splitlines()[1].split()[1:3] == ["1/1", "Running"],
     "kubectl get pods still shows 1/1 Running, as on a real cluster", out)
t.ok(cond(get("pod", peer_far), "Ready").get("status") == "True", "the pods of the other nodes stay Ready")
t.ok(wait_for(lambda: dns_ips() == sorted(ip[n] for n in ("peer-0", "peer-1", "peer-2") if n != peer_cut),
              timeout=10), "the cut peer leaves the headless Service's name", dns_ips())
t.ok(all(alive(pid.get(n, 0)) for n in (peer_cut, "lone", "slow", dep_name)),
     "the processes on the partitioned node keep running", pid)

# connectivity: inside the node yes, across the cut no
with open(os.path.join(c.dir, "kubesim.log"), errors="replace") as f:
    no_shim = "source-address shim" in f.read()
if "no route control" in cut_out or no_shim:
    why = "no route control here (ip, CAP_NET_ADMIN)" if "no route control" in cut_out else "no source-address shim"
    for what in ("a pod on the cut node reaches a pod beside it but not one on another node",
                 "a pod on another node reaches none on the cut node",
                 "from the nodes' own addresses (127.S.255.K): the same split"):
        t.skip(what, why)
else:
    t1 = time.time()
    r1, r2 = wait_for(lambda: (reach(peer_cut, t1), reach(peer_far, t1)) if reach(peer_cut, t1) and
                      reach(peer_far, t1) else None, timeout=20) or ({}, {})
    t.ok(r1.get(ip.get("lone")) == "ok" and r1.get(ip.get(peer_far), "ok") != "ok",
         "a pod on the cut node reaches a pod beside it but not one on another node", r1)
    t.ok(r2.get(ip.get(peer_cut), "ok") != "ok" and r2.get(ip.get("slow"), "ok") != "ok",
         "a pod on another node reaches none on the cut node", r2)
    t.ok(connects(ip.get(peer_cut), node_addr(3)) and not connects(ip.get(peer_cut), node_addr(1)) and
         connects(ip.get(peer_far), node_addr(1)) and not connects(ip.get(peer_far), node_addr(3)),
         "from the nodes' own addresses (127.S.255.K): the same split")

rc, out, err = k("exec", peer_cut, "--", "true", timeout=60)
want_exec = "error dialing backend: dial tcp %s:10250: i/o timeout" % node_addr(3)
t.ok(rc != 0 and err.strip() == "Error from server: " + want_exec, "kubectl exec into a pod there: '%s'" % want_exec,
     err)
rc, out, err = k("logs", peer_cut, timeout=60)
want_logs = 'Get "https://%s:10250/containerLogs/default/%s/srv": dial tcp %s:10250: i/o timeout' % (
    node_addr(3), peer_cut, node_addr(3))
t.ok(rc != 0 and err.strip() == "Error from server: " + want_logs, "kubectl logs of a pod there: '%s'" % want_logs,
     err)
rc, out, err = k("logs", peer_cut, "--tail=5", timeout=60)
t.ok(rc != 0 and err.strip() == "Error from server: " + want_logs.replace('/srv"', '/srv?tailLines=5"'),
     "kubectl logs --tail=5: the query in the kubelet URL", err)
rc, out, err = k("exec", peer_far, "--", "true")
t.ok(rc == 0, "exec into a pod of another node works", err)

# the kubelet of a partitioned node still restarts what dies there, but cannot tell the API server


def pid_file(name, pod=None):
    try:
        return int(open(os.path.join(pod_root(pod or pods[name]), "tmp", "pid")).read())
    except (OSError, ValueError, TypeError, KeyError):
        return 0


code, out = c.fault("kill", "keep", "srv")
t.ok(code == 0 and wait_for(lambda: pid_file("keep") not in (0, pid["keep"]) and alive(pid_file("keep")), timeout=20),
     "a container killed on the partitioned node is restarted there (a new process)", out)
st = (get("pod", "keep") or {}).get("status") or {}
t.ok((st.get("containerStatuses") or [{}])[0].get("restartCount") == 0,
     "but its restartCount stays 0 in the API (the kubelet posts nothing)", st)

# -- deletions while away --------------------------------------------------------------------------------------
rc, out, err = k("delete", "pod", "slow", "--wait=false")
t_slow = time.time()
p = get("pod", "slow")
t.ok(rc == 0 and p and p["metadata"].get("deletionTimestamp") and p["metadata"].get("deletionGracePeriodSeconds") == 5,
     "a graceful delete of a pod there leaves it with a deletionTimestamp", (out + err, (p or {}).get("metadata")))
rc, out, err = k("delete", "pod", "lone", "--wait=false")
rc2, out2, _ = k("get", "pod", "lone")
t.ok(rc2 == 0 and " Terminating " in out2 and wait_for(lambda: get("pod", "lone"), timeout=3) and alive(pid["lone"]),
     "kubectl get pod shows it Terminating; its process is alive", out2)
rc, out, err = k("delete", "pod", "lone", "--grace-period=0", "--force")
t.ok(rc == 0 and "Immediate deletion does not wait for confirmation that the running resource has been terminated"
     in err and 'pod "lone" force deleted' in out,
     "kubectl delete --grace-period=0 --force: the warning, force deleted", out + err)
t.ok(get("pod", "lone") is None and alive(pid["lone"]) and connects(ip["lone"], node_addr(3)),
     "the object is gone at once; the old process runs on (and still answers)")

# a StatefulSet pod whose claim lives on the cut node comes back Pending
old_uid = pods[peer_cut]["metadata"]["uid"]
rc, out, err = k("delete", "pod", peer_cut, "--grace-period=0", "--force")
back = wait_for(lambda: (get("pod", peer_cut) or {}).get("metadata", {}).get("uid") not in (None, old_uid),
                timeout=20)
want_fs = ("0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) "
           "had volume node affinity conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful "
           "for scheduling..")
msgs = wait_for(lambda: [e["message"] for e in events(peer_cut, "FailedScheduling") if e["message"] == want_fs],
                timeout=20)
p = get("pod", peer_cut) or {}
t.ok(rc == 0 and back and msgs and not p.get("spec", {}).get("nodeName") and
     (p.get("status") or {}).get("phase") == "Pending",
     "a force-deleted StatefulSet pod comes back Pending: FailedScheduling '%s'" % want_fs,
     [e["message"] for e in events(peer_cut, "FailedScheduling")])
t.ok(alive(pid[peer_cut]), "while the old one's process runs on")

# -- taint eviction after tolerationSeconds ---------------------------------------------------------------------
taint_time = min(x["timeAdded"] for x in taints if x["effect"] == "NoExecute") if taints else None


def evicted():
    p = get("pod", dep_name)
    return p if p and p["metadata"].get("deletionTimestamp") else None


def stamp(text):
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").timestamp()
    except (TypeError, ValueError):
        return None


ev_pod = wait_for(evicted, timeout=TOLERATION + 30, interval=0.5) or {}
dt = cond(ev_pod, "DisruptionTarget")
added, at = stamp(taint_time), stamp(dt.get("lastTransitionTime"))
after = at - added if added and at else -1
t.ok(ev_pod and TOLERATION - 1 <= after <= TOLERATION + 3,
     "the Deployment's pod (default toleration) is evicted %d s after the NoExecute taint's timeAdded (%s s)" %
     (TOLERATION, after), (taint_time, dt))
t.ok(dt.get("status") == "True" and dt.get("reason") == "DeletionByTaintManager" and
     dt.get("message") == "Taint manager: deleting due to NoExecute taint",
     "with the condition DisruptionTarget, reason DeletionByTaintManager", dt)
ev = events(dep_name, "TaintManagerEviction")
t.ok(ev and ev[0]["message"] == "Marking for deletion Pod default/%s" % dep_name and
     ev[0]["source"].get("component") == "taint-eviction-controller",
     "and the event TaintManagerEviction 'Marking for deletion Pod default/%s'" % dep_name, ev)
t.ok(get("pod", dep_name) and alive(pid.get(dep_name, 0)), "an ordinary graceful delete: it stays Terminating, "
     "its process alive")
t.ok(get("pod", peer_far) and not get("pod", peer_far)["metadata"].get("deletionTimestamp") and
     get("pod", "slow") and alive(pid["slow"]), "pods tolerating the taint for ever stay")
new_dep = wait_for(lambda: next((p for p in items("pods", "-l", "app=dep") if p["metadata"]["name"] != dep_name and
                                 cond(p, "Ready").get("status") == "True"), None), timeout=30)
t.ok(new_dep and new_dep["spec"]["nodeName"] in NODES[:2],
     "the Deployment's replacement runs on another node", (new_dep or {}).get("spec", {}).get("nodeName"))

t.ok(get("pod", "slow") and get("pod", "slow")["metadata"].get("deletionTimestamp") and alive(pid["slow"]),
     "a pod deleted gracefully on the NotReady node %d s ago is still Terminating (no force delete without "
     "out-of-service)" % (time.time() - t_slow), (get("pod", "slow") or {}).get("status"))

# -- heal -------------------------------------------------------------------------------------------------------
code, out = c.fault("node-heal", CUT)
t.ok(code == 0 and "back" in out, "fault node-heal %s" % CUT, out)
t.ok(wait_for(lambda: status_of(CUT) == "Ready", timeout=15), "the node is Ready again", k("get", "nodes")[1])
t.ok(wait_for(lambda: not get("node", CUT)["spec"].get("taints"), timeout=10), "its taints are removed",
     get("node", CUT)["spec"])
ev = wait_for(lambda: [e for e in events(CUT, "NodeReady") if e["message"] == "Node %s status is now: NodeReady" % CUT
                        and e["source"].get("component") == "kubelet"], timeout=10)
t.ok(ev and ev[0]["involvedObject"] == {"kind": "Node", "name": CUT, "uid": CUT},
     "the kubelet records NodeReady, about its nodeRef (uid the node's name)", ev)
rc, out, _ = k("describe", "node", CUT)
evs = out.partition("\nEvents:")[2]
t.ok(all(x in evs for x in ("RegisteredNode", "NodeNotReady", "NodeReady  ")),
     "kubectl describe node merges both kinds (by uid and by name): RegisteredNode, NodeNotReady, NodeReady", evs)
t.ok(wait_for(lambda: not alive(pid["lone"]) and not alive(pid[peer_cut]), timeout=15),
     "the kubelet kills the containers of the pods force-deleted meanwhile", (alive(pid["lone"]), alive(pid[peer_cut])))
t.ok(wait_for(lambda: get("pod", "slow") is None and get("pod", dep_name) is None, timeout=20) and
     not alive(pid["slow"]) and not alive(pid[dep_name]),
     "and finishes the pending graceful deletions (the objects go, their processes too)")
t.ok(wait_for(lambda: (((get("pod", "keep") or {}).get("status") or {}).get("containerStatuses") or [{}])[0].get(
    "restartCount") == 1 and running("keep"), timeout=20),
     "the restart made while away is reported: restartCount 1, Ready again", (get("pod", "keep") or {}).get("status"))
p = wait_for(lambda: running(peer_cut), timeout=30)
t.ok(p and p["spec"]["nodeName"] == CUT, "the waiting StatefulSet pod runs again on its claim's node",
     (p or {}).get("spec", {}).get("nodeName"))
t.ok(wait_for(lambda: len(dns_ips()) == 3, timeout=15), "and is back in the headless Service's name", dns_ips())
rc, out, err = k("exec", peer_cut, "--", "true")
t.ok(rc == 0, "exec into it works again", err)

# -- node-down, then heal ---------------------------------------------------------------------------------------
p = get("pod", peer_cut)
restarts = (((p or {}).get("status") or {}).get("containerStatuses") or [{}])[0].get("restartCount")
try:
    down_pid = int(open(os.path.join(pod_root(p), "tmp", "pid")).read())
except (OSError, ValueError, TypeError):
    down_pid = 0
code, out = c.fault("node-down", CUT)
t.ok(code == 0 and "down" in out and wait_for(lambda: not alive(down_pid), timeout=10),
     "fault node-down: the containers' processes die", out)
t.ok(wait_for(lambda: status_of(CUT) == "NotReady", timeout=GRACE + 15), "the node goes NotReady")
st = (get("pod", peer_cut) or {}).get("status") or {}
t.ok(st.get("phase") == "Running" and (st.get("containerStatuses") or [{}])[0].get("restartCount") == restarts,
     "the pod's status is left as it was (the kubelet posts nothing, restarts nothing)", st)
code, out = c.fault("node-heal", CUT)


def restarted():
    p = get("pod", peer_cut)
    cs = ((p or {}).get("status") or {}).get("containerStatuses") or [{}]
    return p if cs[0].get("restartCount") == (restarts or 0) + 1 and cs[0].get("ready") else None


p = wait_for(restarted, timeout=30)
t.ok(code == 0 and p and status_of(CUT) == "Ready", "node-heal: the container is restarted (restartCount %s -> %s)" %
     (restarts, (restarts or 0) + 1), (get("pod", peer_cut) or {}).get("status"))

# -- non-graceful node shutdown: node-down, the out-of-service taint, the pod garbage collector -----------------
keep_uid, peer_uid = [(get("pod", n) or {}).get("metadata", {}).get("uid") for n in ("keep", peer_cut)]
w = c.kubectl_bg("get", "pod", "keep", "-w", "-o", 'jsonpath={.status.phase} {.metadata.deletionTimestamp} '
                 '{.status.conditions[?(@.type=="DisruptionTarget")].reason}{"\\n"}')
code, out = c.fault("node-down", CUT)
t.ok(code == 0 and wait_for(lambda: status_of(CUT) == "NotReady", timeout=GRACE + 15), "node-down again: NotReady", out)
rc, out, err = k("taint", "nodes", CUT, "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute")
t.ok(rc == 0 and out.strip() == "node/%s tainted" % CUT, "kubectl taint nodes ... out-of-service=nodeshutdown:NoExecute",
     out + err)
# (the pod garbage collector may remove the pod right after: what it went through is read from the watch)
marked = wait_for(lambda: [ln for ln in open(w.outfile).read().splitlines()
                           if len(ln.split()) == 3 and ln.split()[2] == "DeletionByTaintManager"], timeout=10)
t.ok(marked and events("keep", "TaintManagerEviction"),
     "the taint manager marks the pods not tolerating out-of-service for deletion at once (DisruptionTarget)",
     open(w.outfile).read())
t.ok(wait_for(lambda: get("pod", "keep") is None, timeout=30),
     "the pod garbage collector force-deletes the terminating pods of a NotReady out-of-service node (20 s period)")
w_out = open(w.outfile).read()
t.ok(any(ln.split()[:1] == ["Failed"] and len(ln.split()) >= 2 for ln in w_out.splitlines()),
     "after setting their phase to Failed (seen in kubectl get -w)", w_out)
p = wait_for(lambda: (get("pod", peer_cut) or {}).get("metadata", {}).get("uid") not in (None, peer_uid) and
             get("pod", peer_cut), timeout=20)
t.ok(p and not p["spec"].get("nodeName"), "the StatefulSet makes its pod again, Pending while its claim's node is away",
     (p or {}).get("spec", {}).get("nodeName"))
rc, out, err = k("taint", "nodes", CUT, "node.kubernetes.io/out-of-service-")
code, out2 = c.fault("node-heal", CUT)
t.ok(rc == 0 and code == 0 and wait_for(lambda: running(peer_cut) and running(peer_cut)["spec"]["nodeName"] == CUT,
                                        timeout=30),
     "taint removed and node healed: it runs again on its claim's node", out + err + out2)
t.ok(keep_uid and get("pod", "keep") is None, "the bare pod stays gone")

# -- python3-kubernetes ---------------------------------------------------------------------------------------
try:
    from kubernetes import client, config
except ImportError:
    t.skip("list_node with python3-kubernetes", "python3-kubernetes is not installed")
else:
    code, out = c.fault("node-partition", CUT)
    wait_for(lambda: status_of(CUT) == "NotReady" and get("node", CUT)["spec"].get("taints"), timeout=GRACE + 15)
    core = client.CoreV1Api(client.ApiClient(config.load_kube_config(config_file=c.kubeconfig) or None))
    nodes = {n.metadata.name: n for n in core.list_node().items}
    n3 = nodes.get(CUT)
    ready = next((x for x in n3.status.conditions if x.type == "Ready"), None) if n3 else None
    t.ok(sorted(nodes) == NODES and ready and ready.status == "Unknown" and ready.reason == "NodeStatusUnknown" and
         ready.last_transition_time is not None and
         sorted((x.key, x.effect) for x in n3.spec.taints or []) == sorted(want) and
         all(x.time_added is not None for x in n3.spec.taints) and
         all(any(x.type == "Ready" and x.status == "True" for x in nodes[n].status.conditions) for n in NODES[:2]),
         "CoreV1Api().list_node() parses the nodes, the Unknown condition and the taints (timeAdded)",
         n3 and (n3.status.conditions, n3.spec.taints))
    c.fault("node-heal", CUT)
t.done()
