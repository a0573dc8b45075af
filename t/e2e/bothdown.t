#!/usr/bin/python3
"""bothDownBehavior as the guide has it: the database that is ahead becomes the active,
and only when it cannot be known does bothDownBehavior decide. Four pairs on one operator,
each losing both databases (their tt containers frozen past unreachableTimeout, so that
the operator sees both go within one poll, or one after the other):

- manual: RETURN TWOSAFE with LOCAL COMMIT ACTION COMMIT, bothDownBehavior Manual, both
  lost at once: which one is ahead cannot be known, so ManualInterventionRequired, the
  Event and status.bothDownRecoveryIneligible say why;
- best: the same with bothDownBehavior Best: the one last serving is made the active and
  the pair is Normal again;
- ordered: as manual, but the standby lost first: the active is ahead (it took the
  commits alone), so even with Manual the pair recovers, the same active; the standby,
  back first, is not failed over to;
- async: NO RETURN with Manual, both lost at once: the active commits first, so it is
  ahead, and the pair recovers with it."""

import os
import sys
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

UNKNOWABLE = dict(repReturnServiceAttribute="RETURN TWOSAFE",
                  repStoreAttribute="LOCAL COMMIT ACTION COMMIT RETURN WAIT TIME 2")
QUICK = dict(pollingInterval=2, unreachableTimeout=6)
SPECS = {
    "manual": dict(UNKNOWABLE, bothDownBehavior="Manual", **QUICK),
    "best": dict(UNKNOWABLE, bothDownBehavior="Best", **QUICK),
    "ordered": dict(UNKNOWABLE, bothDownBehavior="Manual", **QUICK),
    "async": dict(bothDownBehavior="Manual", **QUICK),
}

tap = e2e.Tap()
cluster = e2e.Cluster(tap)
frozen = []


def status(name):
    return (cluster.ttc(name) or {}).get("status") or {}


def other(name, pod):
    return name + ("-1" if pod == name + "-0" else "-0")


def freeze(pod):
    out = cluster.fault("freeze", "default/" + pod, "tt")
    tap.ok(out.returncode == 0, "%s's tt container frozen" % pod, out.stderr)
    frozen.append(pod)


def thaw_all():
    while frozen:
        cluster.fault("thaw", "default/" + frozen.pop(), "tt")


def chosen_back_first(name, mark):
    """Thaws name-0, the database chosen, and once it serves as the active (StandbyDown)
    the other: what follows is the choice's doing, not a failover to a standby seen back
    before it."""
    pod = name + "-0"
    cluster.fault("thaw", "default/" + pod, "tt")
    frozen.remove(pod)
    tap.ok(cluster.wait_event(name, mark, ", now StandbyDown", 120) and
           cluster.state(name)[1] == pod,
           "%s: %s back, it serves as the active: StandbyDown" % (name, pod),
           cluster.events_since(name, mark))
    thaw_all()


def standby_seen_back(name, pod):
    """The status shows pod's agent answering, its database a STANDBY with its replication
    agent running: what the operator saw at a poll."""
    for p in status(name).get("podStatus") or []:
        if p.get("name") == pod:
            rep = p.get("replicationStatus") or {}
            return ((p.get("podStatus") or {}).get("agent") == "Up" and
                    rep.get("repState") == "STANDBY" and
                    rep.get("repAgent") == "Running")
    return False


def both_lost_at_once(name):
    """Freezes both pods of name at once; returns the Event mark from before, once the
    object has left Normal for BothDown."""
    mark = cluster.event_mark(name)
    for pod in (name + "-0", name + "-1"):
        freeze(pod)
    tap.ok(cluster.wait_event(name, mark, "was Normal, now BothDown", 60),
           "%s: both lost within one poll: Normal, then BothDown" % name,
           cluster.events_since(name, mark))
    return mark


try:
    tap.need(cluster.install_operator(), "the operator runs from k8s/")
    out = cluster.kubectl("create", "-f", "-", input=e2e.table_configmap("bd") + "".join(
        e2e.pair(n, "bd", **spec) for n, spec in SPECS.items()))
    tap.need(out.returncode == 0, "four pairs created", out.stderr)
    for name in SPECS:
        tap.need(cluster.wait_state(name, "Normal", 360 * e2e.SLOW, active=name + "-0"),
                 "%s is Normal with %s-0 active" % (name, name), cluster.state(name))
    pods = status("manual").get("podStatus") or [{}]
    tap.ok(status("manual").get("usingTwosafe") is True and pods[0].get("localCommit") is True,
           "status: usingTwosafe, and localCommit on the pods (the scheme in use)",
           (status("manual").get("usingTwosafe"), pods[0].get("localCommit")))

    # manual: not knowable, Manual: a person chooses.
    mark = both_lost_at_once("manual")
    tap.ok(cluster.wait_state("manual", "ManualInterventionRequired", 60),
           "manual: ManualInterventionRequired", cluster.state("manual"))
    events = cluster.events_since("manual", mark)
    tap.ok(any(m.startswith("Which database is ahead cannot be known") and
               m.endswith("bothDownBehavior Manual: a person chooses") for m in events),
           "manual: the Event says which one is ahead cannot be known", events)
    st = status("manual")
    tap.ok(st.get("bothDownRecoveryIneligible") is True and
           "cannot be known" in st.get("message", ""),
           "manual: status.bothDownRecoveryIneligible true, the message says why",
           (st.get("bothDownRecoveryIneligible"), st.get("message")))
    tap.ok(not any("now WaitingForActive" in m for m in events),
           "manual: no database was chosen", events)
    thaw_all()

    # best: not knowable, Best: the one last serving.
    mark = both_lost_at_once("best")
    tap.ok(cluster.wait_event("best", mark, "Which database is ahead cannot be known; "
                              "bothDownBehavior Best: Pod best-0, the best candidate, is to "
                              "be the active", 30),
           "best: the Event says it cannot be known and best-0 is chosen",
           cluster.events_since("best", mark))
    chosen_back_first("best", mark)
    tap.ok(cluster.wait_event("best", mark, ", now Normal", 180) and
           cluster.wait_state("best", "Normal", 30, active="best-0"),
           "best: Normal again with best-0 active", (cluster.state("best"),
                                                     cluster.events_since("best", mark)))
    tap.ok(status("best").get("bothDownRecoveryIneligible") is False,
           "best: once Normal, bothDownRecoveryIneligible is false again")

    # ordered: the standby lost first, then the active: the active is ahead.
    mark = cluster.event_mark("ordered")
    freeze("ordered-1")
    tap.ok(cluster.wait_event("ordered", mark, "now StandbyDown", 60),
           "ordered: the standby lost: StandbyDown", cluster.events_since("ordered", mark))
    freeze("ordered-0")
    tap.ok(cluster.wait_event("ordered", mark, "was StandbyDown, now BothDown", 60),
           "ordered: then the active: BothDown", cluster.events_since("ordered", mark))
    tap.ok(cluster.wait_event("ordered", mark, "was BothDown, now WaitingForActive", 30),
           "ordered: the one ahead known, Manual goes on: WaitingForActive",
           cluster.events_since("ordered", mark))
    # The standby, behind, back first: it is not failed over to.
    cluster.fault("thaw", "default/ordered-1", "tt")
    frozen.remove("ordered-1")
    tap.ok(e2e.wait_until(lambda: standby_seen_back("ordered", "ordered-1"), 90),
           "ordered: ordered-1 back first, seen serving as a standby", status("ordered"))
    events = cluster.events_since("ordered", mark)
    tap.ok(cluster.state("ordered")[0] == "WaitingForActive" and
           not any("now ActiveDown" in m for m in events),
           "ordered: no failover to it, which lacks the commits: still WaitingForActive",
           (cluster.state("ordered"), events))
    thaw_all()
    tap.ok(cluster.wait_event("ordered", mark, ", now Normal", 240) and
           cluster.wait_state("ordered", "Normal", 30, active="ordered-0"),
           "ordered: Normal again with ordered-0 active", (
               cluster.state("ordered"), cluster.events_since("ordered", mark)))
    events = cluster.events_since("ordered", mark)
    tap.ok(not any("ManualInterventionRequired" in m or "cannot be known" in m
                   for m in events), "ordered: never ManualInterventionRequired", events)

    # async: NO RETURN, both at once: the active is ahead.
    mark = both_lost_at_once("async")
    tap.ok(cluster.wait_event("async", mark, "was BothDown, now WaitingForActive", 30),
           "async: NO RETURN, the active ahead: Manual goes on", cluster.events_since(
               "async", mark))
    chosen_back_first("async", mark)
    tap.ok(cluster.wait_event("async", mark, ", now Normal", 240) and
           cluster.wait_state("async", "Normal", 30, active="async-0"),
           "async: Normal again with async-0 active", (cluster.state("async"),
                                                       cluster.events_since("async", mark)))
    tap.ok(status("manual").get("highLevelState") == "ManualInterventionRequired",
           "and manual still waits for a person", cluster.state("manual"))
except e2e.Stop as e:
    tap.diag("the steps after this one need it: %s" % e)
except Exception:
    tap.ok(False, "the test's steps ran without an error of their own", traceback.format_exc())
finally:
    thaw_all()
    if tap.failed:
        tap.diag(cluster.operator_log()[-30000:])
    cluster.stop()
sys.exit(tap.done())
