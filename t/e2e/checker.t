#!/usr/bin/python3
"""The never-two-updatable checker itself, without a cluster: scripted databases and a
hand-written simulator record, so that each of its verdicts is seen to fail when what
it guards goes wrong (two updatable at once, a database that never answers, an active
never seen updatable, overlapping intervals in the record) and to pass when it does
not."""

import json
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402


class Verdicts(e2e.Tap):
    """Collects what a verdict asserts instead of printing it."""

    def __init__(self):
        super().__init__()
        self.results = []

    def ok(self, cond, what, diag=None):
        self.results.append((bool(cond), what))
        return cond

    def failed_names(self):
        return [what for cond, what in self.results if not cond]


class FakeCluster:
    """Two pods and an object status; the simulator's record in dir as ttsim writes it."""

    def __init__(self, active="obj-0"):
        self.dir = tempfile.mkdtemp(prefix="ttc-checker-")
        self.active = active
        self.seq = 0

    def pod_ips(self, name, terminating=False):
        return {"obj-0": "ip0", "obj-1": "ip1"}

    def ttc(self, name):
        return {"status": {"highLevelState": "Normal", "activePods": self.active}}

    def note(self, pod, updatable, at, why):
        d = os.path.join(self.dir, "cluster", "volumes", "default_tt-persistent-%s_x" % pod,
                         "home", "diag")
        os.makedirs(d, exist_ok=True)
        self.seq += 1
        with open(os.path.join(d, "ttsim.history"), "a") as f:
            f.write(json.dumps({"time": at, "seq": self.seq, "server": 1, "host": pod,
                                "ip": "ip", "db": "/tt/db", "updatable": updatable,
                                "state": "ACTIVE" if updatable else "IDLE", "why": why}) + "\n")

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class FakeProbe:
    """answers: ip -> a function giving True/False, or None for a database that does not
    answer."""

    def __init__(self, answers):
        self.answers = answers

    def connect(self, ip):
        if self.answers[ip] is None:
            raise OSError("no answer")
        return ip

    def updatable(self, handle):
        time.sleep(0.002)
        return self.answers[handle]()

    def close(self, handle):
        pass


def listing(updatable):
    """A scripted `ttsimctl databases`: obj-0 and obj-1, updatable as the set says, and a
    database of another object, always updatable."""
    def dbs():
        return [{"host": h, "ip": ip, "dsn": "dsn", "loaded": True, "repstate": "ACTIVE",
                 "updatable": h in updatable or h == "other-0"}
                for h, ip in (("obj-0", "ip0"), ("obj-1", "ip1"), ("other-0", "ip9"))]
    return dbs


def unanswered():
    raise OSError("no ttsim server answers")


def run(answers, record, active="obj-0", seconds=1.0, truth=None, network=True):
    cluster = FakeCluster(active)
    try:
        now = time.time()
        for pod, up, start, end in record:
            cluster.note(pod, up, now + start, "start")
            if end is not None:
                cluster.note(pod, not up, now + end, "end")
        checker = e2e.TwoActiveChecker(cluster, "obj", "dsn", "u", "p", probe=FakeProbe(answers),
                                       network=network, truth=truth or listing({"obj-0"}))
        checker.start()
        time.sleep(seconds)
        v = Verdicts()
        checker.verdict(v, min_reads=5)
        return v.failed_names(), checker
    finally:
        cluster.remove()


tap = e2e.Tap()
yes, no = (lambda: True), (lambda: False)
CLEAN_RECORD = [("obj-0", True, -10, None), ("obj-1", False, -10, None)]

failed, checker = run({"ip0": yes, "ip1": no}, CLEAN_RECORD)
tap.ok(failed == [], "one updatable database, as the record says: every verdict passes", failed)
tap.ok(checker.reads["obj-0"] >= 5 and checker.reads["obj-1"] >= 5,
       "both databases were read, each many times", checker.reads)

failed, _ = run({"ip0": yes, "ip1": yes}, CLEAN_RECORD)
tap.ok(failed == ["sampled: never two updatable databases"],
       "both answer updatable all along: the sampler says so", failed)

failed, _ = run({"ip0": yes, "ip1": None}, CLEAN_RECORD)
tap.ok(any(f.startswith("every database answered") for f in failed),
       "a database that never answers fails the verdict (it is not taken as not updatable)",
       failed)

failed, _ = run({"ip0": no, "ip1": no}, CLEAN_RECORD, truth=listing(set()))
tap.ok(any(f.startswith("each active") for f in failed),
       "an active never seen updatable fails the verdict", failed)

failed, _ = run({"ip0": yes, "ip1": no},
                [("obj-0", True, -10, None), ("obj-1", True, -5, -4)])
tap.ok(failed == ["the simulator's record: never two updatable databases"],
       "a second database updatable for a second in the record: overlap found", failed)

failed, _ = run({"ip0": yes, "ip1": no},
                [("obj-1", True, -10, -6), ("obj-0", True, -6, None)])
tap.ok(failed == [], "one database taking over from the other at the moment it stopped: "
       "no overlap", failed)

failed, _ = run({"ip0": yes, "ip1": no}, [])
tap.ok(any(f.startswith("the simulator recorded") for f in failed),
       "no record at all fails the verdict (the record must be there to prove anything)", failed)

failed, _ = run({"ip0": yes, "ip1": no}, CLEAN_RECORD, truth=listing({"obj-0", "obj-1"}))
tap.ok(failed == ["the simulator's databases: never two updatable in one read"],
       "the simulator lists both databases updatable at once: a violation, though the network "
       "sampler saw one", failed)

failed, _ = run({"ip0": yes, "ip1": None}, CLEAN_RECORD, truth=listing({"obj-0", "obj-1"}),
                network=False)
tap.ok(failed == ["the simulator's databases: never two updatable in one read"],
       "a database no client reaches, updatable in the simulator's list: a violation "
       "(unreachable is not safe)", failed)

failed, _ = run({"ip0": yes, "ip1": None}, CLEAN_RECORD, network=False)
tap.ok(failed == [], "without network sampling, one updatable database in the simulator's "
       "list: every verdict passes (another object's database does not count)", failed)

failed, _ = run({"ip0": yes, "ip1": no}, CLEAN_RECORD, truth=unanswered)
tap.ok(any(f.startswith("the simulator's databases were read") for f in failed),
       "a simulator that never answers fails the verdict", failed)

# The simulator's list holds every cluster's databases (one ttsim server per tree, tests side
# by side): a cluster's own are those in its subnet, whatever their names.
class Subnet:
    def subnet_prefix(self):
        return "127.61."


def two_clusters(msg, timeout=30):
    return {"ok": True, "databases": [
        {"host": "obj-0", "ip": "127.61.0.1", "updatable": True},
        {"host": "obj-1", "ip": "127.62.0.1", "updatable": True},
        {"host": "obj-1", "ip": "127.6.0.1", "updatable": True}]}


control, e2e.ttsim_client.control = e2e.ttsim_client.control, two_clusters
try:
    mine = e2e.databases(Subnet())
    now = e2e.updatable_now(Subnet(), "obj")
finally:
    e2e.ttsim_client.control = control
tap.ok([d["ip"] for d in mine] == ["127.61.0.1"] and now == ["obj-0"],
       "the simulator's list, read for one cluster: only the databases in its subnet "
       "(another cluster's obj-1 is not this one's)", (mine, now))

# The sampler's rule, on samples given by hand: (ip, connection, sent, answered, updatable, pod).
A = [("ip0", 1, t, t + 0.01, True, "obj-0") for t in (0.0, 0.5, 1.0)]
tap.ok(e2e.sampled_overlaps(A + [("ip1", 1, 0.4, 0.41, True, "obj-1")]) != [],
       "an updatable answer between two of another database on one connection is a violation")
tap.ok(e2e.sampled_overlaps(A[:1] + [("ip0", 2, t, t + 0.01, True, "obj-0") for t in (0.5, 1.0)]
                            + [("ip1", 1, 0.2, 0.21, True, "obj-1")]) == [],
       "not across a reconnection (the database may have restarted in between)")
tap.ok(e2e.sampled_overlaps(A[:1] + [("ip0", 1, 0.3, 0.31, False, "obj-0")] + A[1:]
                            + [("ip1", 1, 0.2, 0.21, True, "obj-1")]) == [],
       "nor across a not-updatable answer")
tap.ok(e2e.sampled_overlaps(A + [("ip1", 1, 1.5, 1.51, True, "obj-1")]) == [],
       "an updatable answer after the other's last is no violation")
sys.exit(tap.done())
