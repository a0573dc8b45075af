#!/usr/bin/python3
"""The automatic image upgrade of a pair through what can go wrong, each object with a
writer committing on whichever database is active and both databases sampled:
- twosafe: a RETURN TWOSAFE pair upgraded: the Events in the guide's order, the roles
  swapped once, not one acknowledged commit lost;
- bad: an upgrade to an image whose pods never become ready: the standby's pod is deleted
  and never comes back healthy; after upgradeDownPodTimeout a Warning names it, its pod
  status says UpgradeFailed, the object is ManualInterventionRequired, and the active on
  the old image took writes the whole time; a new resetUpgradeState clears the upgrade
  state;
- killed: the operator killed after the standby's deletion, during its return and after
  the active's deletion: each successor goes on where it stood, the upgrade completes with
  one failover in all.
At the end of each, never two updatable databases, by the sampler and by the simulator's
own record."""

import os
import re
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

OLD_RELEASE, NEW_RELEASE = "22.1.1.31.0", "22.1.1.34.0"
OLD = "registry.example.com/youraccount/timesten:" + OLD_RELEASE
NEW = "registry.example.com/youraccount/timesten:" + NEW_RELEASE
# t/sim/images.conf: this image's tt container cannot start, so its pods never get ready.
BAD = NEW + "-noagent"
DOWN_TIMEOUT = 20  # bad's upgradeDownPodTimeout
# No epilog: a RETURN TWOSAFE database refuses it (TWOSAFE commits are not autocommitted).
CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: upgrade
data:
  adminUser: scott/tiger
  db.ini: |
    PermSize=200
  schema.sql: |
    create table scott.emp (id number not null primary key, name char(32));
"""
TTC = """
apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: %s
spec:
  ttspec:
    storageClassName: standard
    storageSize: 1Gi
    image: %s
    dbConfigMap: [upgrade]
    pollingInterval: 2
%s
"""
SPECS = {
    "twosafe": "    repReturnServiceAttribute: RETURN TWOSAFE\n    imageUpgradeStrategy: Auto",
    "bad": "    imageUpgradeStrategy: auto\n    upgradeDownPodTimeout: %d" % DOWN_TIMEOUT,
    "killed": "",  # imageUpgradeStrategy unset: Auto
}
FAILED_OVER = ("ActiveDown", "ActiveTakeover", "StandbyDown", "StandbyStarting", "StandbyCatchup")

tap = e2e.Tap()
cluster = e2e.Cluster(tap)
logs = {}     # object -> EventLog
watches = {}  # object -> WatchLog of the object
running = []  # the writer and checker of the scenario under way
killed_logs = []  # the logs of the operators the test killed, for a failure's diagnosis


def state_trail(watch):
    """One line per change of the object's state: the state, then each pod's
    highLevelState, repState, dbUpdatable and image."""
    lines, last = [], None
    for obj in watch.objects():
        st = obj.get("status") or {}
        pods = " ".join("%s:%s/%s/%s/%s" % (
            p.get("name"), p.get("highLevelState"), (p.get("replicationStatus") or {}).get("repState"),
            (p.get("dbStatus") or {}).get("dbUpdatable"), (p.get("timesTenStatus") or {}).get("release"))
            for p in st.get("podStatus") or [])
        line = "%s active=%s %s" % (st.get("highLevelState"), st.get("activePods"), pods)
        if line != last:
            lines.append(line)
            last = line
    return "\n".join(lines)


def creds(name):
    return (name, "scott", "tiger")


def other(name, pod):
    return name + "-1" if pod == name + "-0" else name + "-0"


def status(name):
    return (cluster.ttc(name) or {}).get("status", {})


def pod_status(name):
    return {p.get("name"): p for p in status(name).get("podStatus", [])}


def uid(pod):
    return (cluster.pod(pod) or {}).get("metadata", {}).get("uid")


def start_watchers(name):
    """A checker of the object's databases and a writer on its active, writing."""
    checker = e2e.TwoActiveChecker(cluster, name, *creds(name))
    checker.start()
    writer = e2e.Writer(cluster, name, "scott.emp", *creds(name))
    writer.start()
    running[:] = [writer, checker]
    tap.need(e2e.wait_until(lambda: len(writer.acked) >= 20, 60),
             "%s: commits are acknowledged on the active" % name)
    return writer, checker


def finish_watchers(name, writer, checker):
    """Writes go on; every acknowledged commit is on the active; the checker's verdict."""
    start = len(writer.acked)
    tap.ok(e2e.wait_until(lambda: len(writer.acked) >= start + 20, 60),
           "%s: writes go on on the active" % name)
    writer.settle()
    acked = list(writer.acked)
    keys = e2e.wait_until(lambda: e2e.keys_on(cluster, name, "scott.emp", *creds(name)), 30)
    missing = sorted(set(acked) - (keys or set()))
    tap.ok(acked and not missing, "%s: all %d acknowledged commits are on the active %s"
           % (name, len(acked), cluster.state(name)[1]), "missing: %s" % missing[:20])
    writer.stop()
    checker.verdict(tap)
    tap.diag("%s: %d commits acknowledged, %d failed" % (name, len(acked), writer.errors))
    running[:] = []


def set_image(name, image):
    out = cluster.patch("ttc", name, {"spec": {"ttspec": {"image": image}}})
    tap.need(out.returncode == 0, "%s: .spec.ttspec.image set to %s" % (name, image), out.stderr)


def count(msgs, text):
    return sum(text in m for m in msgs)


def check_upgraded(name, first_active, mark):
    """The pair is Normal on the new release with the roles swapped, its upgrade status
    cleared; one failover since mark."""
    standby = other(name, first_active)
    tap.ok(cluster.ttc_row(name) == [name, "Normal", standby],
           "%s: kubectl get ttc: %s  Normal  %s (the roles swapped)" % (name, name, standby),
           cluster.ttc_row(name))
    st = pod_status(name)
    tap.ok(sorted(st) == [name + "-0", name + "-1"] and all(
        p.get("timesTenStatus", {}).get("release") == NEW_RELEASE and p.get("prevImage") == OLD
        for p in st.values()),
        "%s: both pods' status: release %s, prevImage %s" % (name, NEW_RELEASE, OLD), st)
    for pod in st:
        out = e2e.ttversion(cluster, pod)
        tap.ok(out.startswith("TimesTen Release %s " % NEW_RELEASE),
               "%s: ttVersion in %s: TimesTen Release %s" % (name, pod, NEW_RELEASE), out)
    cus = status(name).get("classicUpgradeStatus") or {}
    tap.ok(set(e2e.UPGRADE_STATUS_KEYS) <= set(cus) and cus.get("upgradeState") == "" and
           cus.get("imageUpdatePending") is False,
           "%s: classicUpgradeStatus has its keys, upgradeState \"\", imageUpdatePending false" % name, cus)
    msgs = logs[name].messages(mark)
    tap.ok(count(msgs, "now ActiveDown") == 1,
           "%s: one failover in all (one Event '... now ActiveDown')" % name, msgs)
    for what in ("Image updated, automatic upgrade started", "Deleted STANDBY pod", "Deleted ACTIVE pod",
                 "Upgrade completed in "):
        tap.ok(count(msgs, what) == 1, "%s: one Event '%s'" % (name, what), msgs)
    # The guide's Events table makes entering ActiveDown and ActiveTakeover Warnings; the
    # active's pod, deleted by the upgrade, is removed at once before the promotion.
    expected = re.compile(r"now Active(Down|Takeover)$|^Pod %s-\d cannot be told to stop taking "
                          r"writes: deleting it$" % re.escape(name))
    warnings = [e.get("message") for e in logs[name].events(mark)
                if e.get("type") == "Warning" and not expected.search(e.get("message", ""))]
    tap.ok(not warnings, "%s: no Warning but the failover's own" % name, warnings)


def wait_completed(name, mark, first_active, timeout=300):
    done = logs[name].wait("Upgrade completed in ", mark, timeout)
    tap.need(done is not None and cluster.wait_state(name, "Normal", 120, active=other(name, first_active)),
             "%s: the upgrade completes: Normal with %s active" % (name, other(name, first_active)),
             "state %s; Events since the image change:\n%s" % (
                 cluster.state(name), "\n".join(logs[name].messages(mark))))


def twosafe():
    """A RETURN TWOSAFE pair's automatic upgrade under a writer: nothing lost."""
    name = "twosafe"
    writer, checker = start_watchers(name)
    active = cluster.state(name)[1]
    mark = logs[name].mark()
    set_image(name, NEW)
    wait_completed(name, mark, active)
    msgs = logs[name].messages(mark)
    ok, missing = e2e.in_order(msgs, e2e.auto_upgrade_events(other(name, active), active))
    tap.ok(ok, "twosafe: the upgrade's Events in the guide's order",
           "no Event /%s/ after the ones before it in:\n%s" % (missing, "\n".join(msgs)))
    check_upgraded(name, active, mark)
    finish_watchers(name, writer, checker)


def bad():
    """An upgrade to an image whose pods never become ready, then resetUpgradeState."""
    name = "bad"
    writer, checker = start_watchers(name)
    active = cluster.state(name)[1]
    standby = other(name, active)
    active_uid = uid(active)
    mark, wmark = logs[name].mark(), watches[name].mark()
    changed = time.time()
    set_image(name, BAD)
    i = logs[name].wait("Deleted STANDBY pod %s per upgrade" % standby, mark, 60)
    deleted = time.monotonic()
    tap.need(i is not None, "bad: Event: Deleted STANDBY pod %s per upgrade" % standby,
             logs[name].messages(mark))
    logs[name].wait("Image updated, automatic upgrade started", mark, 10)
    tap.ok(e2e.in_order(logs[name].messages(mark), e2e.auto_upgrade_events(standby, active)[:2])[0],
           "bad: Event: Image updated, automatic upgrade started, before it", logs[name].messages(mark))

    def warning():
        for e in logs[name].events(mark):
            msg = e.get("message", "")
            if e.get("type") == "Warning" and standby in msg and re.search(r"(?i)upgrade failed", msg):
                return e
    w = e2e.wait_until(warning, DOWN_TIMEOUT + 120, 0.05)
    waited = time.monotonic() - deleted
    tap.need(w, "bad: a Warning Event names %s and says the upgrade failed" % standby,
             "\n".join("%s %s" % (e.get("type"), e.get("message")) for e in logs[name].events(mark)))
    tap.diag("bad: Warning %s: %s" % (w.get("reason"), w.get("message")))
    tap.ok(DOWN_TIMEOUT - 2 <= waited <= DOWN_TIMEOUT + 60 * e2e.SLOW,
           "bad: it comes once upgradeDownPodTimeout (%d s) has passed: %.1f s after the deletion"
           % (DOWN_TIMEOUT, waited))
    tap.ok(cluster.wait_state(name, "ManualInterventionRequired", 30),
           "bad: the object is ManualInterventionRequired", cluster.state(name))
    tap.ok(e2e.wait_until(lambda: pod_status(name).get(standby, {}).get("highLevelState") == "UpgradeFailed", 30),
           "bad: %s's pod status: highLevelState UpgradeFailed" % standby, pod_status(name).get(standby))
    healthy = [o["metadata"]["resourceVersion"] for o in watches[name].objects(wmark)
               for p in o.get("status", {}).get("podStatus", [])
               if p.get("name") == standby and p.get("highLevelState") == "Healthy"
               and p.get("podStatus", {}).get("lastTimeReachable", 0) > changed + 1]
    tap.ok(not healthy, "bad: %s never came back healthy" % standby, healthy)
    upgrade_state = (status(name).get("classicUpgradeStatus") or {}).get("upgradeState")
    tap.ok(upgrade_state, "bad: classicUpgradeStatus.upgradeState says the upgrade stopped (%r)"
           % upgrade_state, status(name).get("classicUpgradeStatus"))
    msgs = logs[name].messages(mark)
    tap.ok(count(msgs, "Deleted STANDBY pod") == 1 and not count(msgs, "Deleted ACTIVE pod") and
           not count(msgs, "now ActiveDown") and not count(msgs, "Quiescing ACTIVE"),
           "bad: the active was left alone: no quiesce, no deletion, no failover", msgs)
    tap.ok(uid(active) == active_uid and cluster.state(name)[1] == active,
           "bad: %s is the same pod, still the active" % active)
    p = cluster.pod(active) or {"spec": {}}
    tap.ok({c["image"] for c in p["spec"].get("containers", [])} == {OLD},
           "bad: %s runs the old image" % active)

    # The active took writes the whole time: the simulator's record, and the writer's.
    ended = time.time()
    spans = [i for i in e2e.ground_truth(cluster, name)[0] if i[0].startswith(active + ":")
             and i[2] > changed]
    tap.ok(len(spans) == 1 and spans[0][1] < changed and spans[0][2] >= ended,
           "bad: the simulator's record: %s updatable without a break from before the image change "
           "until now" % active, spans)
    times = [t for _, t, pod in writer.acks if pod == active]
    t_change = time.monotonic() - (ended - changed)
    window = [t for t in times if t >= t_change]
    gaps = [b - a for a, b in zip(window, window[1:])]
    tap.ok(len(window) >= 50 and max(gaps) < 5 * e2e.SLOW,
           "bad: the writer committed on %s all along (%d commits, longest gap %.2f s)"
           % (active, len(window), max(gaps or [0])))

    mark = logs[name].mark()
    out = cluster.patch("ttc", name, {"spec": {"ttspec": {"resetUpgradeState": "1"}}})
    tap.ok(out.returncode == 0, "bad: .spec.ttspec.resetUpgradeState set to 1", out.stderr)
    tap.ok(e2e.wait_until(lambda: (status(name).get("classicUpgradeStatus") or {}).get("upgradeState") == "", 60),
           "bad: resetUpgradeState clears classicUpgradeStatus.upgradeState to \"\"",
           (status(name).get("classicUpgradeStatus"), logs[name].messages(mark)))
    finish_watchers(name, writer, checker)


def killed():
    """The operator killed at each step of an upgrade: the upgrade resumes, one failover."""
    name = "killed"
    writer, checker = start_watchers(name)
    active = cluster.state(name)[1]
    standby = other(name, active)
    standby_uid = uid(standby)
    mark = logs[name].mark()
    set_image(name, NEW)

    def kill(step):
        """Kills the operator's pod at once; returns once a successor has taken the object
        over. What the status said then is kept."""
        op = cluster.operator_ready() or (cluster.operator_pods() or [{}])[0].get("metadata", {}).get("name")
        killed_logs.append((op, cluster.operator_log()))
        out = cluster.kubectl("delete", "pod", op, "--grace-period=0", "--force")
        st = status(name)
        tap.ok(out.returncode == 0, "killed: the operator killed %s (object %s, upgradeState %r)" % (
            step, st.get("highLevelState"), (st.get("classicUpgradeStatus") or {}).get("upgradeState")),
            out.stderr)
        taken = e2e.wait_until(lambda: cluster.operator_ready() not in (None, op) and re.search(
            r"msg=adopting object=%s " % name, cluster.operator_log()), 180)
        tap.need(taken, "killed: a new operator took the object over", cluster.operator_log())
        return logs[name].mark()

    i = logs[name].wait("Deleted STANDBY pod %s per upgrade" % standby, mark, 120)
    tap.need(i is not None, "killed: Event: Deleted STANDBY pod %s per upgrade" % standby,
             logs[name].messages(mark))
    adopted = kill("after the standby's deletion")

    # The successor brings the standby back: at its first step the operator is killed again.
    def returning():
        for m in logs[name].messages(adopted):
            if m.startswith("Pod %s " % standby) or m.startswith("TimesTenClassic was StandbyDown, now"):
                return m
    step = e2e.wait_until(returning, 120, 0.02)
    tap.need(step, "killed: the new operator works on the returning standby", logs[name].messages(adopted))
    msgs = logs[name].messages(mark)
    back = [m for m in msgs if m.endswith(", now Normal")]
    tap.ok(not back and uid(standby) not in (None, standby_uid),
           "killed: %s is back as a new pod, the pair not yet Normal (%s)" % (standby, step), back)
    kill("during the standby's return")

    i = logs[name].wait("Deleted ACTIVE pod %s per upgrade" % active, mark, 180)
    tap.need(i is not None, "killed: Event: Deleted ACTIVE pod %s per upgrade" % active,
             logs[name].messages(mark))
    kill("after the active's deletion")

    wait_completed(name, mark, active)
    msgs = logs[name].messages(mark)
    ok, missing = e2e.in_order(msgs, [
        r"^Image updated, automatic upgrade started$",
        r"^Deleted STANDBY pod %s per upgrade$" % standby,
        r"^Quiescing ACTIVE pod %s per upgrade: " % active,
        r"^Deleted ACTIVE pod %s per upgrade$" % active,
        r"^TimesTenClassic was Normal, now ActiveDown$",
        r"^Upgrade of ACTIVE complete$",
        r"^Upgrade completed in \d+ secs$"])
    tap.ok(ok, "killed: started, Deleted STANDBY, Quiescing ACTIVE, Deleted ACTIVE, ActiveDown, Upgrade "
           "of ACTIVE complete, Upgrade completed: in that order",
           "no Event /%s/ after the ones before it in:\n%s" % (missing, "\n".join(msgs)))
    check_upgraded(name, active, mark)
    finish_watchers(name, writer, checker)


try:
    tap.need(cluster.install_operator(), "the operator runs from k8s/")
    for name in SPECS:
        logs[name] = e2e.EventLog(cluster, name)
    out = cluster.kubectl("create", "-f", "-", input="---".join(
        [CONFIGMAP] + [TTC % (n, OLD, SPECS[n]) for n in SPECS]))
    tap.need(out.returncode == 0, "twosafe (RETURN TWOSAFE), bad and killed are created on %s" % OLD_RELEASE,
             out.stdout + out.stderr)
    for name in SPECS:
        watches[name] = e2e.WatchLog(cluster, "ttc", name)
    for name in SPECS:
        tap.need(cluster.wait_state(name, "Normal", 240, active=name + "-0"),
                 "%s becomes Normal with %s-0 active" % (name, name), cluster.state(name))
    for scenario in (twosafe, bad, killed):
        try:
            scenario()
        except e2e.Stop as e:
            tap.diag("the steps after this one need it: %s" % e)
        for w in running:
            w.stop()
        running[:] = []
except e2e.Stop as e:
    tap.diag("the steps after this one need it: %s" % e)
except Exception:
    tap.ok(False, "the test's steps ran without an error of their own", traceback.format_exc())
finally:
    for w in running + list(logs.values()) + list(watches.values()):
        w.stop()
    if tap.failed:
        for name, log in logs.items():
            tap.diag("Events of %s:\n%s" % (name, "\n".join(log.messages())))
        for name, w in watches.items():
            tap.diag("States of %s, each with its pods' state:\n%s" % (name, state_trail(w)))
        for op, log in killed_logs:
            tap.diag("Log of %s, killed by the test:\n%s" % (op, log))
        tap.diag(cluster.operator_log())
        tap.diag(cluster.operator_restarts())
    cluster.stop()
sys.exit(tap.done())
