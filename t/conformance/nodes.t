#!/usr/bin/python3
# Nodes and scheduling as on a Kubernetes 1.32 cluster of three nodes (kubesim start --nodes 3): the Node
# objects, kubectl get/describe nodes, the kubelets' Leases, the scheduler's choices (spread, nodeSelector,
# node affinity, taints and tolerations, cordon, required pod anti-affinity, claims pinned to their node)
# and its FailedScheduling messages, the pods/binding subresource; and --nodes 1 as a single-node cluster.
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import Cluster, Tap, wait_for  # noqa: E402

t = Tap()
c = Cluster(args=["--nodes", "3"])
k = c.kubectl
NODES = ["kubesim-node", "kubesim-node-2", "kubesim-node-3"]
IDLE = "registry.example.com/idle:1"   # an unknown image: an idle placeholder container
SUBNET = int(c.info["subnet"].split(".")[1])   # the cluster's 127.S.0.0/16; node K is 127.S.255.K


def node_addr(k):
    return "127.%d.255.%d" % (SUBNET, k)


def get(kind, name, ns=None):
    args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
    rc, out, _ = k(*args)
    return json.loads(out) if rc == 0 else None


def node_of(pod):
    p = get("pod", pod)
    return ((p or {}).get("spec") or {}).get("nodeName")


def scheduled_cond(pod):
    p = get("pod", pod) or {}
    return next((x for x in (p.get("status") or {}).get("conditions") or [] if x.get("type") == "PodScheduled"), {})


def failed_scheduling(pod):
    rc, out, _ = k("get", "events", "--field-selector", "reason=FailedScheduling,involvedObject.name=" + pod,
                   "-o", "json")
    return [e["message"] for e in json.loads(out)["items"]] if rc == 0 else []


def pod_yaml(name, spec_extra="", labels="{}"):
    return ("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, labels: %s}\nspec:\n  terminationGracePeriodSeconds: 1\n"
            "  containers: [{name: main, image: \"%s\"}]\n%s" % (name, labels, IDLE, spec_extra))


def apply(name, text):
    rc, out, err = k("apply", "-f", c.manifest(name + ".yaml", text))
    return rc == 0 or t.diag(err)


# -- the nodes ----------------------------------------------------------------------------------------
rc, out, err = k("get", "nodes")
lines = out.strip().splitlines()
t.ok(rc == 0 and lines[0].split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] and
     [ln.split()[0] for ln in lines[1:]] == NODES and all(ln.split()[1:3] == ["Ready", "<none>"] and
                                                          ln.split()[4] == "v1.32.4" for ln in lines[1:]),
     "kubectl get nodes: three Ready nodes, no roles, v1.32.4", out + err)
rc, out, err = k("get", "nodes", "-o", "wide")
lines = out.strip().splitlines()
t.ok(rc == 0 and "INTERNAL-IP" in lines[0] and "CONTAINER-RUNTIME" in lines[0] and
     [ln.split()[5] for ln in lines[1:]] == [node_addr(1), node_addr(2), node_addr(3)] and
     all(ln.split()[6] == "<none>" and ln.split()[-1] == "kubesim://1" for ln in lines[1:]),
     "kubectl get nodes -o wide: internal IPs, no external IP, the runtime", out + err)
n2 = get("node", "kubesim-node-2")
labels = n2["metadata"].get("labels") or {}
conds = {x["type"]: x for x in n2["status"]["conditions"]}
t.ok(labels.get("kubernetes.io/hostname") == "kubesim-node-2" and labels.get("kubernetes.io/os") == "linux" and
     labels.get("kubernetes.io/arch") == "amd64" and not any(x.startswith("node-role") for x in labels) and
     conds["Ready"]["status"] == "True" and conds["Ready"]["reason"] == "KubeletReady" and
     conds["Ready"].get("lastHeartbeatTime") and
     all(conds[x]["status"] == "False" for x in ("MemoryPressure", "DiskPressure", "PIDPressure")) and
     n2["status"]["nodeInfo"]["kubeletVersion"] == "v1.32.4" and n2["status"]["allocatable"].get("pods") and
     {"type": "Hostname", "address": "kubesim-node-2"} in n2["status"]["addresses"],
     "a node's labels, conditions with heartbeats, nodeInfo, addresses, allocatable", json.dumps(n2, indent=1))
rc, out, err = k("describe", "node", "kubesim-node-3")
t.ok(rc == 0 and "Name:               kubesim-node-3" in out and "HolderIdentity:  kubesim-node-3" in out and
     "KubeletReady" in out and "InternalIP:  %s" % node_addr(3) in out and "Non-terminated Pods:" in out and
     "Taints:             <none>" in out and "Unschedulable:      false" in out,
     "kubectl describe node: lease, conditions, addresses, pods, taints", out + err)

# -- leases -----------------------------------------------------------------------------------------------
lease = get("lease", "kubesim-node-2", "kube-node-lease")
t.ok(lease and lease["spec"].get("holderIdentity") == "kubesim-node-2" and
     lease["spec"].get("leaseDurationSeconds") == 40 and
     [(o["kind"], o["name"]) for o in lease["metadata"].get("ownerReferences") or []] == [("Node", "kubesim-node-2")],
     "each node's Lease in kube-node-lease: holder, 40 s, owned by its Node", json.dumps(lease))
first = {n: get("lease", n, "kube-node-lease")["spec"]["renewTime"] for n in NODES}
renewed = wait_for(lambda: all(get("lease", n, "kube-node-lease")["spec"]["renewTime"] != first[n] for n in NODES),
                   timeout=30, interval=1)
t.ok(renewed, "every node's kubelet renews its Lease (every 10 s)")

# -- spread -----------------------------------------------------------------------------------------------
apply("web", """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: "%s"}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
""" % IDLE)
placed = wait_for(lambda: [node_of("web-%d" % i) for i in range(3)] if all(node_of("web-%d" % i) for i in range(3))
                  else None, timeout=60)
t.ok(placed and sorted(placed) == NODES, "a 3-replica StatefulSet is spread over the 3 nodes", placed)
rc, out, err = k("get", "pods", "-o", "wide", "-l", "app=web")
rows = {ln.split()[0]: ln.split() for ln in out.strip().splitlines()[1:]}
t.ok(rc == 0 and out.split("\n")[0].split()[6] == "NODE" and placed and
     all(rows.get("web-%d" % i, [None] * 7)[6] == placed[i] for i in range(3)),
     "kubectl get pods -o wide: the NODE column", out + err)
ev = failed_scheduling("web-0")
rc, out, _ = k("get", "events", "--field-selector", "reason=Scheduled,involvedObject.name=web-1", "-o", "json")
msgs = [e["message"] for e in json.loads(out)["items"]] if rc == 0 else []
t.ok(placed and msgs == ["Successfully assigned default/web-1 to %s" % placed[1]] and not ev,
     "the Scheduled event as kube-scheduler words it", msgs)
cond = scheduled_cond("web-1")
t.ok(cond.get("status") == "True", "PodScheduled=True on a bound pod", cond)
pvc = get("pvc", "data-web-1")
t.ok(placed and ((pvc or {}).get("metadata", {}).get("annotations") or {}).get(
    "volume.kubernetes.io/selected-node") == placed[1], "the claim records the node of its first pod", pvc)
p1 = get("pod", "web-1")
t.ok(placed and wait_for(lambda: (get("pod", "web-1").get("status") or {}).get("hostIP") ==
                         node_addr(NODES.index(placed[1]) + 1), timeout=30),
     "status.hostIP is the node's address", (p1 or {}).get("status"))

# -- required anti-affinity: the fourth replica has no node left -------------------------------------------
apply("anti", """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: anti}
spec:
  serviceName: anti
  replicas: 4
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: anti}}
  template:
    metadata: {labels: {app: anti}}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: anti}}
            topologyKey: kubernetes.io/hostname
      containers: [{name: main, image: "%s"}]
""" % IDLE)
three = wait_for(lambda: sorted(filter(None, (node_of("anti-%d" % i) for i in range(4)))) == NODES, timeout=60)
t.ok(three, "required anti-affinity: three replicas on three different nodes",
     [node_of("anti-%d" % i) for i in range(4)])
pending = [p for p in ("anti-%d" % i for i in range(4)) if not node_of(p)]
want = ("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are "
        "available: 3 No preemption victims found for incoming pod..")
msgs = wait_for(lambda: failed_scheduling(pending[0]) if len(pending) == 1 else None, timeout=30)
t.ok(len(pending) == 1 and msgs == [want], "the fourth stays Pending with FailedScheduling in the scheduler's words",
     (pending, msgs))
cond = scheduled_cond(pending[0]) if pending else {}
t.ok(cond.get("status") == "False" and cond.get("reason") == "Unschedulable" and cond.get("message") == want,
     "PodScheduled=False, reason Unschedulable, the same message", cond)
rc, out, _ = k("get", "pod", pending[0] if pending else "x")
t.ok(rc == 0 and out.splitlines()[1].split()[2] == "Pending", "kubectl get pod shows it Pending", out)
rc, out, _ = k("describe", "pod", pending[0] if pending else "x")
t.ok("FailedScheduling" in out and "default-scheduler" in out and "didn't match pod anti-affinity rules" in out,
     "kubectl describe pod shows the FailedScheduling warning", out)
k("scale", "sts", "anti", "--replicas", "3")
t.ok(wait_for(lambda: get("pod", "anti-3") is None, timeout=30), "scaled down, the pending pod goes")

# -- nodeSelector and node affinity, retried when a node changes --------------------------------------------
apply("sel3", pod_yaml("sel3", "  nodeSelector: {kubernetes.io/hostname: kubesim-node-3}\n"))
t.ok(wait_for(lambda: node_of("sel3") == "kubesim-node-3", timeout=30), "nodeSelector picks the node")
apply("ssd", pod_yaml("ssd", "  nodeSelector: {disk: ssd}\n"))
want = ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are "
        "available: 3 Preemption is not helpful for scheduling..")
msgs = wait_for(lambda: failed_scheduling("ssd"), timeout=30)
t.ok(msgs == [want] and not node_of("ssd"), "a nodeSelector no node matches: Pending, FailedScheduling", msgs)
k("label", "node", "kubesim-node-2", "disk=ssd")
t.ok(wait_for(lambda: node_of("ssd") == "kubesim-node-2", timeout=30),
     "labelling a node retries the pending pod, which lands there")
apply("aff", pod_yaml("aff", """  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: kubernetes.io/hostname, operator: NotIn, values: [kubesim-node-2]}]
          matchFields: [{key: metadata.name, operator: In, values: [kubesim-node-2, kubesim-node-3]}]
        - matchExpressions: [{key: disk, operator: DoesNotExist}, {key: kubernetes.io/os, operator: Exists}]
          matchFields: [{key: metadata.name, operator: NotIn, values: [kubesim-node]}]
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 50
        preference:
          matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [kubesim-node-3]}]
"""))
t.ok(wait_for(lambda: node_of("aff") == "kubesim-node-3", timeout=30),
     "required node affinity (In, NotIn, Exists, DoesNotExist, matchFields) and a preferred term", node_of("aff"))

# -- taints and tolerations -------------------------------------------------------------------------------
rc, out, err = k("taint", "nodes", "kubesim-node", "dedicated=db:NoSchedule")
t.ok(rc == 0 and out.strip() == "node/kubesim-node tainted", "kubectl taint nodes", out + err)
t.ok((get("node", "kubesim-node")["spec"].get("taints") or []) ==
     [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}], "the taint is on the node",
     get("node", "kubesim-node")["spec"])
apply("plain1", pod_yaml("plain1", "  nodeSelector: {kubernetes.io/hostname: kubesim-node}\n"))
want = ("0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 node(s) didn't match Pod's "
        "node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..")
msgs = wait_for(lambda: failed_scheduling("plain1"), timeout=30)
t.ok(msgs == [want], "an untolerated taint: FailedScheduling names it", msgs)
apply("tol1", pod_yaml("tol1", "  nodeSelector: {kubernetes.io/hostname: kubesim-node}\n"
                       "  tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]\n"))
t.ok(wait_for(lambda: node_of("tol1") == "kubesim-node", timeout=30), "a pod tolerating the taint goes there")
rc, out, err = k("describe", "node", "kubesim-node")
t.ok("Taints:             dedicated=db:NoSchedule" in out, "kubectl describe node shows the taint", out)
rc, out, err = k("taint", "nodes", "kubesim-node", "dedicated-")
t.ok(rc == 0 and out.strip() == "node/kubesim-node untainted" and
     wait_for(lambda: node_of("plain1") == "kubesim-node", timeout=30),
     "removing the taint lets the waiting pod in", out + err)

# -- cordon -------------------------------------------------------------------------------------------------
rc, out, err = k("cordon", "kubesim-node-3")
t.ok(rc == 0 and out.strip() == "node/kubesim-node-3 cordoned", "kubectl cordon", out + err)
rc, out, _ = k("get", "node", "kubesim-node-3")
t.ok(out.splitlines()[1].split()[1] == "Ready,SchedulingDisabled", "a cordoned node is Ready,SchedulingDisabled",
     out)
t.ok(wait_for(lambda: [x["key"] for x in get("node", "kubesim-node-3")["spec"].get("taints") or []] ==
              ["node.kubernetes.io/unschedulable"], timeout=30),
     "and gets the node.kubernetes.io/unschedulable:NoSchedule taint", get("node", "kubesim-node-3")["spec"])
apply("on3", pod_yaml("on3", "  nodeSelector: {kubernetes.io/hostname: kubesim-node-3}\n"))
want = ("0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..")
msgs = wait_for(lambda: failed_scheduling("on3"), timeout=30)
t.ok(msgs == [want] and not node_of("on3"), "no new pod on a cordoned node", msgs)
t.ok(node_of("sel3") == "kubesim-node-3" and node_of("aff") == "kubesim-node-3",
     "the pods already there stay")

# -- a claim pins its pod to the claim's node -------------------------------------------------------------------
# web-N runs on kubesim-node-3 (cordoned now): deleted, it is made again and can only go back there
on3 = [i for i in range(3) if node_of("web-%d" % i) == "kubesim-node-3"]
victim = "web-%d" % on3[0] if on3 else "web-x"
uid = (get("pod", victim) or {}).get("metadata", {}).get("uid")
k("delete", "pod", victim, "--wait=false")
back = wait_for(lambda: (get("pod", victim) or {}).get("metadata", {}).get("uid") not in (None, uid), timeout=30)
want = ("0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..")
msgs = wait_for(lambda: [m for m in failed_scheduling(victim) if m == want], timeout=30)
t.ok(back and msgs and not node_of(victim),
     "a pod whose claim lives on a cordoned node waits (volume node affinity conflict)", failed_scheduling(victim))
k("uncordon", "kubesim-node-3")
t.ok(wait_for(lambda: node_of(victim) == "kubesim-node-3" and node_of("on3") == "kubesim-node-3", timeout=30),
     "uncordoned: the pod goes back to its claim's node, and the waiting pod too", (node_of(victim), node_of("on3")))
t.ok(wait_for(lambda: not get("node", "kubesim-node-3")["spec"].get("taints"), timeout=30),
     "uncordon removes the unschedulable taint", get("node", "kubesim-node-3")["spec"])

# -- pods/binding, as another scheduler posts it ----------------------------------------------------------------
apply("mine", pod_yaml("mine", "  schedulerName: my-scheduler\n"))
t.ok(wait_for(lambda: get("pod", "mine") is not None, timeout=10) and not node_of("mine") and
     not failed_scheduling("mine"), "a pod for another scheduler is left alone")
try:
    from kubernetes import client, config
except ImportError:
    t.skip("binding with python3-kubernetes", "python3-kubernetes is not installed")
    t.skip("nodes and leases with python3-kubernetes", "python3-kubernetes is not installed")
else:
    api = client.ApiClient(config.load_kube_config(config_file=c.kubeconfig) or None)
    core = client.CoreV1Api(api)
    body = client.V1Binding(metadata=client.V1ObjectMeta(name="mine"),
                            target=client.V1ObjectReference(kind="Node", name="kubesim-node-2"))
    r = core.create_namespaced_binding("default", body, _preload_content=False)
    t.ok(r.status == 201 and json.loads(r.data).get("status") == "Success" and
         wait_for(lambda: node_of("mine") == "kubesim-node-2" and
                  (get("pod", "mine").get("status") or {}).get("phase") == "Running", timeout=30),
         "a Binding posted with python3-kubernetes puts the pod on its node, whose kubelet runs it")
    nodes = core.list_node()
    lease = client.CoordinationV1Api(api).read_namespaced_lease("kubesim-node-3", "kube-node-lease")
    t.ok([n.metadata.name for n in nodes.items] == NODES and
         all(any(x.type == "Ready" and x.status == "True" for x in n.status.conditions) for n in nodes.items) and
         lease.spec.holder_identity == "kubesim-node-3" and lease.spec.renew_time is not None,
         "nodes and leases with python3-kubernetes")

# -- one node, as before -----------------------------------------------------------------------------------------
c.stop()
c1 = Cluster()
rc, out, err = c1.kubectl("get", "nodes", "-o", "name")
t.ok(rc == 0 and out.split() == ["node/kubesim-node"], "without --nodes: the one node kubesim-node", out + err)
rc, out, err = c1.kubectl("get", "leases", "-n", "kube-node-lease", "-o", "name")
t.ok(rc == 0 and out.split() == ["lease.coordination.k8s.io/kubesim-node"], "and its Lease", out + err)
c1.kubectl("apply", "-f", c1.manifest("one.yaml", pod_yaml("one")))


def one():
    rc, out, _ = c1.kubectl("get", "pod", "one", "-o", "json")
    p = json.loads(out) if rc == 0 else {}
    st = p.get("status") or {}
    return p if p.get("spec", {}).get("nodeName") == "kubesim-node" and st.get("phase") == "Running" and \
        st.get("hostIP") == "127.%s.255.1" % c1.info["subnet"].split(".")[1] else None


t.ok(wait_for(one, timeout=30), "a pod is scheduled onto it and runs there, hostIP the node's 127.S.255.1")
c1.stop()
t.done()
