#!/usr/bin/python3
"""The self-fencing lease (docs/fencing.md) on a pair of simulated pods: renewals keep the
active ACTIVE; without them, it stops taking writes by itself before the lease runs out
(the simulator's own record says when: no later than the last renewal plus the lease);
on the standby a lease running out changes nothing; when the agent cannot show that
ttRepDeactivate took effect by half the fencing lead before the end, it kills the daemon;
when the agent itself is stopped, its watchdog process kills the daemon; bad grants are
refused.

The simulator is found at $TTSIM_HOME (default $top_srcdir/t/sim/ttsim)."""

import json
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import (HOME, bring_up_pair, poll, run, simulated_pods, step)  # noqa: E402


def history(pod):
    """The simulator's record of the pod's database: (time, updatable) in order."""
    try:
        with open(os.path.join(pod.root, HOME.lstrip("/"), "diag", "ttsim.history")) as f:
            return [(r["time"], r["updatable"]) for r in map(json.loads, f) if "updatable" in r]
    except (OSError, ValueError):
        return []


def watchdog_of(pid):
    """The pid of the agent's watchdog process (a child named ttagent-lease), or None."""
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.find("(") + 1:stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2:].split()
        if name == "ttagent-lease" and len(fields) > 1 and fields[1] == str(pid):
            return int(d)
    return None


def grant(pod, seconds):
    return pod.c.request("POST", "/v1/lease", {"seconds": seconds})


def body(t, work, cleanups):
    pods = simulated_pods(work, cleanups, "lease", 2)
    for p in pods:
        p.start()
        cleanups.append(p.agent.stop)
    p0, p1 = pods
    if not bring_up_pair(t, p0, p1):
        return
    step(t, p0, "setActive")

    for bad in ({"seconds": -1}, {"seconds": 3601}, {"seconds": "3"},
                {"seconds": 3, "holder": "x"}):
        st, r = p0.c.request("POST", "/v1/lease", bad)
        t.is_(st, 400, "a grant of %s is refused" % json.dumps(bad))
    s = p0.state()
    t.is_((s.get("lease") or {}).get("seconds"), 0, "no lease was granted: seconds 0")

    # Withdrawn ({"seconds": 0}, as the operator does when it stops looking after the
    # object): as if never granted, the active stays the active past the lease's end.
    st, r = grant(p0, 2)
    t.is_(st, 200, "a 2 s lease is granted")
    st, r = grant(p0, 0)
    t.ok(st == 200 and r.get("seconds") == 0 and r.get("remainingMs") == 0,
         "{\"seconds\": 0} withdraws it") or t.diag(str(r))
    end = time.monotonic() + 3.5
    while time.monotonic() < end:
        time.sleep(0.25)
    s = p0.state()
    t.is_((s.get("repState"), s.get("updatable"), (s.get("lease") or {}).get("selfFenced")),
          ("ACTIVE", "Yes", False), "withdrawn, it does not run out: still the updatable ACTIVE")

    # Renewed every second, a 3 s lease keeps the active ACTIVE.
    st, r = grant(p0, 3)
    t.ok(st == 200 and r.get("seconds") == 3 and 2000 < r.get("remainingMs", 0) <= 3000 and
         r.get("selfFenced") is False, "a 3 s lease is granted") or t.diag(str(r))
    end = time.monotonic() + 6
    while time.monotonic() < end:
        time.sleep(1)
        st, r = grant(p0, 3)
        last = time.time()
    s = p0.state()
    t.is_((s.get("repState"), s.get("updatable"), s.get("active")), ("ACTIVE", "Yes", True),
          "renewed every second for 6 s, it is still the updatable ACTIVE")

    # No more renewals: it stops taking writes by itself before the lease runs out.
    fenced = poll(lambda: (lambda s: s if s.get("repState") == "IDLE" else None)(p0.state()),
                  20, 0.2) or p0.state()
    t.is_((fenced.get("repState"), fenced.get("updatable"), fenced.get("active")),
          ("IDLE", "No", False), "without renewals it deactivates itself and leaves the "
          "Service (no /tmp/active)") or t.diag(p0.agent.log_text()[-3000:])
    lease = fenced.get("lease") or {}
    t.ok(lease.get("selfFenced") is True and "deactivated" in lease.get("outcome", ""),
         "its state says so") or t.diag(str(lease))
    offs = [tm for tm, up in history(p0) if not up and tm > last - 1]
    t.ok(offs and offs[0] <= last + 3,
         "the simulator's record: not updatable %.2f s after the last renewal, within the "
         "3 s lease" % ((offs[0] - last) if offs else -1)) or t.diag(str(history(p0)[-5:]))
    t.like(p0.agent.log_text(), "the lease is running out without renewal",
           "the agent's log says why")

    # Granted again after the self-fence: a fresh lease, which runs out on a database
    # that is no longer the active.
    st, r = grant(p0, 2)
    t.ok(st == 200 and r.get("selfFenced") is False and r.get("outcome") == "",
         "granted again after the self-fence, the lease starts afresh") or t.diag(str(r))
    t.ok(poll(lambda: "not the active" in ((p0.state().get("lease") or {}).get("outcome")
                                          or ""), 20, 0.25),
         "it runs out: the database, IDLE now, is not the active")

    # On the standby, a lease running out changes nothing.
    st, r = grant(p1, 2)
    t.is_(st, 200, "the standby is granted a 2 s lease")
    t.ok(poll(lambda: "not the active" in ((p1.state().get("lease") or {}).get("outcome")
                                          or ""), 20, 0.25),
         "it runs out; the state says the database is not the active")
    s = p1.state()
    t.is_((s.get("repState"), (s.get("lease") or {}).get("selfFenced")), ("STANDBY", False),
          "and the standby is still STANDBY")

    # What the agent cannot show: the state not probed since the last order, and
    # ttRepDeactivate failing (the database is IDLE already). It kills the daemon by half
    # the fencing lead (here 0.5 s) before the end.
    step(t, p1, "setRepState", {"state": "ACTIVE"})  # the standby's turn (the peer is IDLE)
    st, r = grant(p1, 2)
    step(t, p1, "setRepState", {"state": "IDLE"})  # an order: the state is not known now
    t.ok(poll(lambda: "was not deactivated in time: daemon killed" in p1.agent.log_text(), 20, 0.2),
         "ttRepDeactivate failing, the agent kills the daemon") or t.diag(
        p1.agent.log_text()[-3000:])
    rc, out = p1.utility("ttStatus")
    t.like(out, "Could not connect to the TimesTen daemon", "ttStatus finds no daemon")

    # p0, the STANDBY of p1 since p1's turn, is made the ACTIVE (p1 is dead) and left to
    # its lease: deactivated, it is not a database TimesTen sets ACTIVE again (TT8141).
    # Given the scheme's statement, the agent makes it the ACTIVE of the scheme made anew.
    step(t, p0, "setRepState", {"state": "ACTIVE"})
    grant(p0, 2)
    t.ok(poll(lambda: ((p0.state().get("lease") or {}).get("selfFenced") and
                       p0.state().get("repState") == "IDLE"), 20, 0.2),
         "p0, ACTIVE again, deactivates itself when its lease runs out")
    r = step(t, p0, "setRepState", {"state": "ACTIVE"}, want=500)
    t.like(json.dumps(r), "8141", "a deactivated database is refused ACTIVE: TT8141")
    r = step(t, p0, "setRepState", {"state": "IDLE", "statement": p0.scheme}, want=400)
    t.like(r.get("message", ""), "statement goes with state ACTIVE only",
           "a statement with IDLE is refused")
    r = step(t, p0, "setRepState", {"state": "ACTIVE", "statement": p0.scheme})
    t.like(r.get("message", ""), "under a replication scheme made anew",
           "with the statement it is made the ACTIVE under the scheme made anew")
    s = p0.state()
    t.is_((s.get("repState"), s.get("repScheme"), s.get("repAgent")),
          ("ACTIVE", "Exists", "Not Running"),
          "ACTIVE, the scheme there, its replication agent stopped (started next)")
    t.like(p0.agent.log_text(), "making its replication scheme anew", "the agent's log says so")

    # The agent alone stopped (SIGSTOP to its process, the daemon running on), as a hang
    # would: its timers cannot act, its watchdog process kills the daemon before the lease
    # runs out.
    step(t, p0, "openDatabase")  # closed by its self-fence
    step(t, p0, "startRepAgent")

    # The watchdog itself stopped for a while as renewals go on: resumed, it acts on the
    # latest deadline, not on those replaced while it was stopped.
    dog = watchdog_of(p0.agent.proc.pid)
    t.ok(dog, "the agent runs a watchdog process (ttagent-lease)")
    kills = p0.agent.log_text().count("the watchdog killed the daemon")
    grant(p0, 3)
    if dog:
        os.kill(dog, signal.SIGSTOP)
    try:
        for _ in range(5):
            time.sleep(1)
            grant(p0, 3)
    finally:
        if dog:
            os.kill(dog, signal.SIGCONT)
    for _ in range(2):
        time.sleep(1)
        grant(p0, 3)
    s = p0.state()
    t.ok(s.get("updatable") == "Yes" and
         p0.agent.log_text().count("the watchdog killed the daemon") == kills,
         "renewed while its watchdog was stopped for 5 s, the ACTIVE is still updatable") or \
        t.diag(json.dumps(s))

    st, r = grant(p0, 3)
    last = time.time()
    t.is_((st, p0.state().get("updatable")), (200, "Yes"), "the ACTIVE holds a 3 s lease") or t.diag(json.dumps(p0.state()))
    os.kill(p0.agent.proc.pid, signal.SIGSTOP)
    try:
        offs = poll(lambda: [tm for tm, up in history(p0) if not up and tm > last], 15, 0.2)
    finally:
        os.kill(p0.agent.proc.pid, signal.SIGCONT)
    t.ok(offs and offs[0] <= last + 3,
         "the agent stopped, the database is not updatable %.2f s after the last grant, "
         "within the 3 s lease" % ((offs[0] - last) if offs else -1)) or t.diag(
        str(history(p0)[-5:]))
    t.like(p0.agent.log_text(), "the watchdog killed the daemon", "the watchdog's log says so")
    rc, out = p0.utility("ttStatus")
    t.like(out, "Could not connect to the TimesTen daemon", "ttStatus finds no daemon")
    t.ok(poll(lambda: p0.c.request("GET", "/v1/state")[0] == 200, 20, 0.2),
         "the agent, running again, answers")


run(body)
