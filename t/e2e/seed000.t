#!/usr/bin/python3
"""The guide's walkthrough (seed 000), step by step on the simulated cluster: the operator
from k8s/, the sample ConfigMap and object, Initializing then Normal, kubectl describe with
its per-pod status and Events, the schema in the database, the active pod deleted and the
pair healed, then the object deleted: what it owned goes, its PVCs stay. All along, both
databases are sampled: two updatable at once fails the test."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

tap = e2e.Tap()
cluster = e2e.Cluster(tap)
checker = None
try:
    tap.ok(cluster.install_operator(), "the operator runs from k8s/ (CRD, RBAC, Deployment)")

    out = cluster.kubectl("create", "-f", os.path.join(e2e.TOP_SRCDIR, "k8s/samples/sample.yaml"))
    tap.like(out.stdout, "configmap/sample created\ntimestenclassic.timesten.oracle.com/sample created",
             "kubectl create -f sample.yaml creates the ConfigMap and the object")

    tap.ok(cluster.wait_state("sample", "Initializing", 30), "the object is Initializing")
    out = cluster.kubectl("get", "ttc", "sample").stdout
    tap.like(out, "NAME     STATE", "kubectl get ttc shows the STATE column")

    checker = e2e.TwoActiveChecker(cluster, "sample", "sample", "scott", "tiger")
    checker.start()

    tap.ok(cluster.wait_state("sample", "Normal", 180, active="sample-0"),
           "it becomes Normal with sample-0 active", cluster.operator_log())
    out = cluster.kubectl("get", "ttc", "sample").stdout.splitlines()
    tap.ok(len(out) == 2 and out[1].split()[:3] == ["sample", "Normal", "sample-0"],
           "kubectl get ttc sample: sample  Normal  sample-0", "\n".join(out))

    uid = cluster.ttc("sample")["metadata"]["uid"]
    describe = cluster.kubectl("describe", "ttc", "sample").stdout
    tap.match(describe, r"\n  High Level State: +Normal\n", "describe: High Level State Normal")
    tap.match(describe, r"\n  Active Pods: +sample-0\n", "describe: Active Pods sample-0")
    pods = e2e.describe_pod_status(describe)
    for pod, intended, rep, updatable in (("sample-0", "Active", "ACTIVE", "Yes"),
                                          ("sample-1", "Standby", "STANDBY", "No")):
        got = pods.get(pod, {})
        tap.ok((got.get("Intended State"), got.get("Rep State"), got.get("Db Updatable"),
                got.get("High Level State")) == (intended, rep, updatable, "Healthy"),
               "describe: %s Intended State %s, Rep State %s, Db Updatable %s, Healthy"
               % (pod, intended, rep, updatable), describe)
    tap.like(describe, 'create active standby pair "sample" on "sample-0.sample.default.svc.cluster.local"',
             "describe: the replication scheme in use")
    events = "\n".join(cluster.events("sample"))
    for msg in ["Secret tt%s created" % uid, "Service sample created", "StatefulSet sample created",
                "Pod sample-0 Agent Up", "Pod sample-0 Daemon Up", "Pod sample-0 Database Loaded",
                "Pod sample-0 Database Updatable", "Pod sample-0 RepState ACTIVE",
                "Pod sample-1 Database Not Updatable", "Pod sample-1 RepState STANDBY",
                "TimesTenClassic was Initializing, now Normal"]:
        tap.like(events, msg, "Event: " + msg)
    order = [events.find("Secret tt"), events.find("Service sample created"),
             events.find("StatefulSet sample created")]
    tap.ok(order == sorted(order) and order[0] >= 0, "Secret, Service, StatefulSet made in that order")

    out = cluster.kubectl("get", "statefulset", "sample").stdout
    tap.like(out, "sample", "kubectl get statefulset sample")
    sts = cluster.get_json("statefulset", "sample")
    tap.ok(sts["spec"]["replicas"] == 2 and sts["spec"]["updateStrategy"]["type"] == "OnDelete",
           "the StatefulSet has 2 replicas and updates OnDelete")
    pod0 = cluster.get_json("pod", "sample-0")
    vols = [v["name"] for v in pod0["spec"].get("volumes", [])]
    mounts = [m["mountPath"] for c in pod0["spec"]["containers"] for m in c.get("volumeMounts", [])]
    tap.ok(not any(v.startswith("kube-api-access-") for v in vols) and
           "/var/run/secrets/kubernetes.io/serviceaccount" not in mounts,
           "the database pods hold no service-account token", (vols, mounts))
    out = cluster.kubectl("get", "service", "sample").stdout
    tap.like(out, "None", "kubectl get service sample: headless")
    tap.like(out, "6625/TCP", "on port 6625")
    out = cluster.kubectl("get", "pvc").stdout
    tap.like(out, "tt-persistent-sample-0   Bound", "PVC tt-persistent-sample-0 is Bound")
    tap.like(out, "tt-persistent-sample-1   Bound", "PVC tt-persistent-sample-1 is Bound")

    out = cluster.kubectl("exec", "sample-0", "-c", "tt", "--", "ttIsql", "-e",
                          'connect adding "uid=scott;pwd=tiger" as scott; tables; quit', "sample")
    tap.like(out.stdout, "SCOTT.EMP", "ttIsql in sample-0: scott sees SCOTT.EMP (schema.sql ran)")
    tap.like(out.stdout, "1 table found.", "one table found")

    # The polls and lease grants of a Normal pair run on connections kept open: over a
    # dozen of them (a few polling intervals) the operator connects to an agent at most
    # twice (an order, a reconnection), not for each.
    def requests(m):
        return sum(v for k, v in m.items()
                   if k.startswith("timesten_operator_agent_requests_total{"))
    connections = "timesten_operator_agent_connections_total"
    m0 = cluster.metrics()
    m1 = {}

    def served():
        m1.update(cluster.metrics())
        return requests(m1) >= requests(m0) + 12
    window = time.time()
    tap.ok(m0 and e2e.wait_until(served, 60, 1) and
           m1.get(connections, -1) - m0.get(connections, 0) <= 2,
           "%d polls and lease grants, %d new connections to the agents (kept open)" % (
               requests(m1) - requests(m0), m1.get(connections, -1) - m0.get(connections, 0)),
           (m0, m1))
    # Meanwhile status was written once in a heartbeat at most, not after every poll, and
    # lastTimeReachable still moves on.
    patches = 'timesten_operator_kube_requests_total{verb="PATCH",' \
        'resource="timestenclassics.timesten.oracle.com",code="200"}'
    tap.ok(m1.get(patches, 0) - m0.get(patches, 0) <= 2,
           "a pair at rest: %d status writes over those polls" % (
               m1.get(patches, 0) - m0.get(patches, 0)))

    def reachable_shown():
        st = (cluster.get_json("ttc", "sample") or {}).get("status", {})
        return all(p.get("podStatus", {}).get("lastTimeReachable", 0) > window
                   for p in st.get("podStatus", [])) and len(st.get("podStatus", [])) == 2
    tap.ok(e2e.wait_until(reachable_shown, 60, 1),
           "status: each pod's lastTimeReachable moves on (at least every 30 s)")

    # The heap: what malloc handed out, within the resident set (0 under the sanitizers,
    # whose allocator glibc does not see).
    heap = m1.get("timesten_operator_heap_inuse_bytes")
    tap.ok(heap is not None and "timesten_operator_heap_free_bytes" in m1 and
           heap <= m1.get("process_resident_memory_bytes", 0),
           "timesten_operator_heap_inuse_bytes: %.1f MB of %.1f MB resident" % (
               (heap or 0) / 2**20, m1.get("process_resident_memory_bytes", 0) / 2**20))

    # The guide's per-pod and per-object gauges.
    rss = {k: v for k, v in m1.items() if k.startswith("timesten_agent_rss{")}
    tap.ok(sorted(rss) == ['timesten_agent_rss{namespace="default",name="sample",pod="sample-%d"}' % i
                           for i in (0, 1)] and all(100 < v < 1024 * 1024 for v in rss.values()),
           "timesten_agent_rss: each pod's agent's resident set, in KB", rss)
    node = cluster.get_json("pod", "sample-0")["spec"]["nodeName"]
    tap.ok([k for k, v in m1.items() if k.startswith("timesten_active_node{") and v == 1] ==
           ['timesten_active_node{namespace="default",name="sample",node="%s"}' % node],
           "timesten_active_node: sample-0's node, %s" % node,
           [k for k in m1 if k.startswith("timesten_active_node")])

    # memoryWarningPercent (90 by default): the simulated pods have no cgroup, so sample-1
    # is given one whose use is 95% of its limit.
    cgroup = "$POD_ROOT/sys/fs/cgroup"
    out = cluster.kubectl("exec", "sample-1", "-c", "tt", "--", "sh", "-c",
                          "mkdir -p %s && echo 1073741824 > %s/memory.max && "
                          "echo 1020054733 > %s/memory.current" % (cgroup, cgroup, cgroup))
    warning = "Pod sample-1 memory use 972.8 MiB is 95% of its limit 1024.0 MiB " \
        "(memoryWarningPercent 90)"
    tap.ok(out.returncode == 0 and
           e2e.wait_until(lambda: warning in cluster.events("sample"), 60, 1),
           "a pod's memory past memoryWarningPercent: Warning Event \"%s\"" % warning,
           (out.stderr, cluster.events("sample")[-5:]))
    tap.ok(e2e.wait_until(lambda: cluster.metrics().get(
        'timesten_agent_tt_mem_usage{namespace="default",name="sample",pod="sample-1"}') ==
        1020054733, 30, 1), "timesten_agent_tt_mem_usage: sample-1's cgroup memory in use")
    cluster.kubectl("exec", "sample-1", "-c", "tt", "--", "sh", "-c", "rm -r " + cgroup)

    # Fail the active over: delete its pod, as the guide does.
    out = cluster.kubectl("delete", "pod", "sample-0", "--wait=false")
    tap.like(out.stdout, 'pod "sample-0" deleted', "kubectl delete pod sample-0")
    tap.ok(cluster.wait_state("sample", "Normal", 180, active="sample-1"),
           "the pair heals: Normal with sample-1 active", cluster.operator_log())
    events = "\n".join(cluster.events("sample"))
    for msg in ["TimesTenClassic was Normal, now ActiveDown",
                "TimesTenClassic was ActiveDown, now ActiveTakeover",
                "TimesTenClassic was ActiveTakeover, now StandbyDown",
                "Pod sample-1 RepState ACTIVE", "Pod sample-1 Database Updatable"]:
        tap.like(events, msg, "Event: " + msg)
    failovers = {k: v for k, v in cluster.metrics().items()
                 if k.startswith("timesten_operator_failovers_total{") and v}
    tap.ok(list(failovers.values()) == [1] and
           list(failovers)[0] in ('timesten_operator_failovers_total{reason="pod_deleted"}',
                                  'timesten_operator_failovers_total{reason="pod_gone"}'),
           "timesten_operator_failovers_total: one failover, its active's pod deleted", failovers)
    m2 = cluster.metrics()
    # Each request to an agent is timed, by request: polls, lease grants, orders.
    timed = {k.split('"')[1]: v for k, v in m2.items()
             if k.startswith("timesten_operator_agent_request_duration_seconds_count{")}
    tap.ok(timed.get("state", 0) > 0 and timed.get("lease", 0) > 0 and
           len(set(timed) - {"state", "lease"}) > 0,
           "timesten_operator_agent_request_duration_seconds: polls, lease grants and orders "
           "(%s)" % ", ".join(sorted(set(timed) - {"state", "lease"})), timed)
    # The watch events of the failover (the active's pod deleted, the new one) each caused
    # requests: each first one is in the histogram, whose buckets add up to its count.
    hist = "timesten_operator_event_to_request_seconds"
    buckets = sorted((float(k.split('"')[1]), v) for k, v in m2.items()
                     if k.startswith(hist + "_bucket{le="))
    counts = [v for _, v in buckets]
    tap.ok(m2.get(hist + "_count", 0) > m1.get(hist + "_count", 0) and buckets and
           counts == sorted(counts) and buckets[-1] == (float("inf"), m2[hist + "_count"]),
           "%s: %d watch events caused requests, %d of them during the failover" % (
               hist, m2.get(hist + "_count", 0),
               m2.get(hist + "_count", 0) - m1.get(hist + "_count", 0)), buckets)
    describe = cluster.kubectl("describe", "ttc", "sample").stdout
    tap.match(describe, r"\n  Active Pods: +sample-1\n", "describe: Active Pods sample-1")
    tap.match(describe, r"\n  Prev High Level State: +StandbyCatchup\n",
              "describe: the previous state is kept (StandbyCatchup)")
    pods = e2e.describe_pod_status(describe)
    tap.ok((pods.get("sample-1", {}).get("Rep State"), pods.get("sample-0", {}).get("Rep State"))
           == ("ACTIVE", "STANDBY"), "describe: sample-1 Rep State ACTIVE, sample-0 STANDBY",
           describe)
    # A row written on the new active reaches the rebuilt standby.
    out = cluster.kubectl("exec", "sample-1", "-c", "tt", "--", "ttIsql", "-e",
                          'connect adding "uid=scott;pwd=tiger" as scott; '
                          "insert into scott.emp values (7, 'after failover'); commit; quit",
                          "sample")
    tap.ok(out.returncode == 0 and "1 row inserted." in out.stdout,
           "a row is inserted on the new active sample-1", out.stdout + out.stderr)

    def row_on_standby():
        out = cluster.kubectl("exec", "sample-0", "-c", "tt", "--", "ttIsql", "-e",
                              'connect adding "uid=scott;pwd=tiger" as scott; '
                              "select name from scott.emp where id = 7; quit", "sample")
        return "after failover" in out.stdout and out.stdout
    tap.ok(e2e.wait_until(row_on_standby, 30),
           "the rebuilt standby sample-0 has it (replication from the new active)")

    checker.verdict(tap)
    checker = None

    # Delete the object as the guide does: the ConfigMap first, then the object.
    cluster.kubectl("delete", "configmap", "sample")
    out = cluster.kubectl("delete", "ttc", "sample")
    tap.like(out.stdout, 'timestenclassic.timesten.oracle.com "sample" deleted', "kubectl delete ttc sample")
    tap.ok(e2e.wait_until(lambda: not cluster.pod_ips("sample") and
                          not cluster.get_json("pods", "-l", "app=sample")["items"], 90),
           "its pods go")
    tap.ok(e2e.wait_until(lambda: cluster.kubectl("get", "statefulset", "sample").returncode != 0 and
                          cluster.kubectl("get", "service", "sample").returncode != 0 and
                          cluster.kubectl("get", "secret", "tt" + uid).returncode != 0, 60),
           "the StatefulSet, Service and Secret go with it")
    out = cluster.kubectl("get", "pvc").stdout
    tap.like(out, "tt-persistent-sample-0", "the PVCs stay, to be deleted by hand")
finally:
    if checker is not None:
        checker.stop()
    if tap.failed:
        tap.diag(cluster.operator_log())
    cluster.stop()
sys.exit(tap.done())
