#!/usr/bin/python3
"""One operator, four pairs made at once: the small version of t/bench/operator-scale,
asserting behaviour, not timings. All become Normal; each has its own series in /metrics;
at rest the polls and lease grants run on connections kept open and status is written
once in a heartbeat at most, not after every poll; one pair's failover leaves the others
alone; the watch events of it are timed; a deleted object's series leave /metrics."""

import os
import sys
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

NAMES = ["scale-%d" % i for i in range(4)]
PATCHES = 'timesten_operator_kube_requests_total{verb="PATCH",' \
    'resource="timestenclassics.timesten.oracle.com",code="200"}'
CONNECTIONS = "timesten_operator_agent_connections_total"
TIMED = "timesten_operator_event_to_request_seconds_count"


def requests(m):
    return sum(v for k, v in m.items() if k.startswith("timesten_operator_agent_requests_total{"))


def series(m, name):
    """The /metrics series that name the object name."""
    return sorted(k for k in m if 'name="%s"' % name in k)


tap = e2e.Tap()
cluster = e2e.Cluster(tap)
try:
    tap.need(cluster.install_operator(), "the operator runs from k8s/")
    out = cluster.kubectl("create", "-f", "-", input=e2e.table_configmap("scale") +
                          "".join(e2e.pair(n, "scale") for n in NAMES))
    tap.ok(out.returncode == 0, "four pairs created at once", out.stderr)
    normal = e2e.wait_until(lambda: all(cluster.state(n)[0] == "Normal" for n in NAMES),
                            360 * e2e.SLOW, 2)
    tap.need(normal, "all four are Normal", {n: cluster.state(n) for n in NAMES})
    actives = {n: cluster.state(n)[1] for n in NAMES}

    m0 = cluster.metrics()
    tap.ok(all(m0.get('timesten_classic_state_normal{namespace="default",name="%s"}' % n) == 1
               for n in NAMES), "timesten_classic_state_normal: 1 for each of the four")
    tap.ok(all(len([k for k in series(m0, n) if k.startswith("timesten_agent_rss{")]) == 2
               for n in NAMES), "timesten_agent_rss: a series per pod of each")

    # At rest: a dozen polls and grants per object, on the connections kept open; status
    # written once in a heartbeat (30 s) at most, not after each poll (2 per object and
    # pollingInterval before).
    m1 = {}

    def served():
        m1.update(cluster.metrics())
        return requests(m1) >= requests(m0) + 12 * len(NAMES)
    tap.ok(e2e.wait_until(served, 90 * e2e.SLOW, 1),
           "%d polls and lease grants at rest" % (requests(m1) - requests(m0)))
    made = m1.get(CONNECTIONS, 0) - m0.get(CONNECTIONS, 0)
    tap.ok(made <= len(NAMES), "%d new connections to the agents meanwhile (kept open)" % made)
    writes = m1.get(PATCHES, 0) - m0.get(PATCHES, 0)
    tap.ok(writes <= 2 * len(NAMES), "%d status writes meanwhile (heartbeats)" % writes)

    # One pair fails over; the others are left alone.
    marks = {n: cluster.event_mark(n) for n in NAMES}
    victim = NAMES[0]
    standby = victim + ("-1" if actives[victim].endswith("-0") else "-0")
    out = cluster.kubectl("delete", "pod", actives[victim], "--wait=false")
    tap.ok(out.returncode == 0, "kubectl delete pod %s" % actives[victim], out.stderr)
    tap.ok(cluster.wait_state(victim, "Normal", 240, active=standby),
           "%s fails over: Normal with %s active" % (victim, standby), cluster.state(victim))
    others = {n: [m for m in cluster.events_since(n, marks[n]) if "TimesTenClassic was" in m]
              for n in NAMES[1:]}
    tap.ok(not any(others.values()) and
           all(cluster.state(n) == ("Normal", actives[n]) for n in NAMES[1:]),
           "the other three never left Normal, their actives unchanged", others)
    m2 = cluster.metrics()
    tap.ok(m2.get(TIMED, 0) > m1.get(TIMED, 0),
           "the failover's watch events are timed to their first request (%d)" % (
               m2.get(TIMED, 0) - m1.get(TIMED, 0)))
    tap.ok(m2.get('timesten_operator_failovers_total{reason="pod_deleted"}', 0) +
           m2.get('timesten_operator_failovers_total{reason="pod_gone"}', 0) == 1,
           "timesten_operator_failovers_total: that one failover")

    # A deleted object's series leave /metrics; the others' stay.
    gone = NAMES[-1]
    out = cluster.kubectl("delete", "ttc", gone)
    tap.ok(out.returncode == 0, "kubectl delete ttc %s" % gone, out.stderr)
    left = {}

    def forgotten():
        left.update(cluster.metrics())
        return not series(left, gone)
    tap.ok(e2e.wait_until(forgotten, 60, 1) and all(series(left, n) for n in NAMES[:-1]),
           "%s's series are gone from /metrics, the others' are there" % gone,
           series(left, gone))
except e2e.Stop as e:
    tap.diag("the steps after this one need it: %s" % e)
except Exception:
    tap.ok(False, "the test's steps ran without an error of their own", traceback.format_exc())
finally:
    if tap.failed:
        tap.diag(cluster.operator_log())
    cluster.stop()
sys.exit(tap.done())
