#!/usr/bin/python3
"""Leader election between ktool processes on one Lease in the simulated cluster: exactly
one leader; kill -9 the leader and another takes over after the lease duration; a
graceful stop hands over within the retry period; a leader that cannot renew stops
acting before its lease runs out."""

import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t", "kube"))
import ktest  # noqa: E402

LEASE, RENEW, RETRY = 3.0, 2.0, 0.5
DUR = "%d,%d,%d" % (LEASE * 1000, RENEW * 1000, RETRY * 1000)

tap = ktest.Tap()
ktest.need_kubesim(tap)
work = ktest.Workdir()
try:
    cl = ktest.Cluster(work)
except Exception as e:
    tap.bail(str(e))


def candidate(name):
    return ktest.Ktool(work, name, ["elect", "default", "elect-test", "--identity", name, "--durations", DUR],
                       kubeconfig=cl.kubeconfig)


def lease():
    out = cl.kubectl("get", "lease", "elect-test", "-o", "json", check=False)
    try:
        return json.loads(out)["spec"]
    except (ValueError, KeyError):
        return {}


def micro(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def leading_intervals(k, end):
    """[start, stop) wall-clock intervals in which a candidate said it led."""
    res, start = [], None
    for line in k.lines():
        if line[1] == "LEADING":
            start = k.wall(line)
        elif line[1] in ("STOPPED", "RELEASED") and start is not None:
            res.append((start, k.wall(line)))
            start = None
    if start is not None:
        res.append((start, end))
    return res


a = candidate("alpha")
tap.ok(a.wait_line("LEADING", 20) is not None, "the first candidate becomes the leader")
b = candidate("bravo")
tap.ok(b.wait_line("NEWLEADER", 20) is not None, "the second sees who leads")
tap.is_(b.wait_line("NEWLEADER", 1)[2] if b.lines("NEWLEADER") else None, "alpha", "namely the first")
# The second must stay a candidate for longer than a lease duration while the first renews. Had it not
# restarted its clock on each renewal, the lease would have run out for it a lease duration after it
# first saw the record (before it said NEWLEADER). So: wait until the Lease shows a renewal by the first
# made later than that, then until the second has read the Lease three more times: the last two reads
# were sent after that renewal, and the third is sent only once it acted on the second.
seen = b.wall(b.lines("NEWLEADER")[0]) if b.lines("NEWLEADER") else time.time()


def renewed_after(t):
    spec = lease()
    return spec.get("holderIdentity") == "alpha" and bool(spec.get("renewTime")) and micro(spec["renewTime"]) >= t


late = ktest.wait_for(30, lambda: b.lines("LEADING") or renewed_after(seen + LEASE), 0.2)
tap.ok(late and not b.lines("LEADING"), "the first renews the Lease later than a lease duration after the second saw it")
LEASE_RES = "leases.coordination.k8s.io"
reads = b.requests("GET", LEASE_RES)
got = reads is not None and ktest.wait_for(
    30, lambda: b.lines("LEADING") or (b.requests("GET", LEASE_RES) or 0) >= reads + 3, 0.2)
tap.ok(got, "the second reads the Lease again after that renewal")
tap.is_(len(b.lines("LEADING")), 0, "exactly one leader while the first renews")
tap.is_(lease().get("holderIdentity"), "alpha", "the Lease names it (kubectl)")
tap.like(cl.kubectl("get", "lease", "elect-test"), r"elect-test\s+alpha", "kubectl get lease shows the holder")

# kill -9 the leader: the other takes over once the record stayed unchanged for the duration.
killed_at = time.time()
a.proc.kill()
a.proc.wait()
line = b.wait_line("LEADING", 20)
tap.ok(line is not None, "after kill -9 of the leader the other takes over")
if line:
    took = b.wall(line) - killed_at
    tap.ok(LEASE - RETRY - 0.2 <= took <= LEASE + 3 * RETRY + 2.0,
           "after about the lease duration (%.2f s; lease %.1f s)" % (took, LEASE))
spec = lease()
tap.ok(spec.get("holderIdentity") == "bravo" and spec.get("leaseTransitions") == 1,
       "the Lease has the new holder and one transition")

# A graceful stop gives the lease up: a waiting candidate takes it within the retry period.
c = candidate("charlie")
tap.ok(c.wait_line("NEWLEADER", 20) is not None, "a third candidate waits")
b.signal(signal.SIGTERM)
rel = b.wait_line("RELEASED", 20)
tap.ok(rel is not None and b.lines("STOPPED"), "SIGTERM: the leader stops acting and releases the Lease")
tap.is_(b.proc.wait(20), 0, "and exits 0")
line = c.wait_line("LEADING", 20)
tap.ok(line is not None, "the waiting candidate takes over")
if line and rel:
    took = c.wall(line) - b.wall(rel)
    tap.ok(took <= RETRY + 1.0, "within the retry period (%.2f s after the release)" % took)

# The leader's renewals fail: it must stop before its lease could run out elsewhere.
d = candidate("delta")
d.wait_line("NEWLEADER", 20)
stopped_before = len(c.lines("STOPPED"))
rc, msg = cl.fault("inject", "--code", "500", "--count", "1000", "--method", "PUT", "--path", "leases/elect-test")
tap.is_(rc, 0, "renewals start failing (injected 500s)")
line = c.wait_line("STOPPED", 20, stopped_before + 1)
tap.ok(line is not None, "the leader that cannot renew steps down")
spec = lease()
if line and spec.get("renewTime"):
    last = micro(spec["renewTime"])
    stop = c.wall(line)
    tap.ok(stop < last + LEASE, "before its lease runs out (%.2f s after the last renewal; lease %.1f s)"
           % (stop - last, LEASE))
    tap.ok(stop >= last + RENEW - RETRY - 0.3, "and not before its renew deadline (%.2f s)" % (stop - last))
tap.is_(len(d.lines("LEADING")), 0, "nobody else leads while no write succeeds")
cl.fault("clear")
got = ktest.wait_for(20, lambda: c.lines("LEADING")[1:] or d.lines("LEADING"))
tap.ok(got, "once the server accepts writes again, a candidate leads")

end = time.time()
ivs = sorted((s, e, k.name) for k, stop in ((a, killed_at), (b, end), (c, end), (d, end))
             for s, e in leading_intervals(k, stop))
overlap = [(x, y) for x, y in zip(ivs, ivs[1:]) if y[0] < x[1]]
tap.ok(not overlap, "no two candidates ever led at the same time")
if overlap:
    tap.diag(*overlap)
for k in (c, d):
    k.signal(signal.SIGTERM)
tap.ok(all(k.proc.wait(20) == 0 for k in (c, d)), "the candidates stop cleanly")
tap.ok("AddressSanitizer" not in c.err() + d.err(), "without sanitizer reports")
tap.done()
