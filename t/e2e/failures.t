#!/usr/bin/python3
"""A RETURN TWOSAFE pair through the failures the operator must heal on its own, with a
writer committing rows on whichever database is active and a checker sampling both all
along: the operator killed while it builds the pair, the active pod deleted, the standby
pod deleted, the active's agent frozen past
unreachableTimeout, both pods deleted, management stopped and resumed, and the operator
killed in the middle of a failover. After each: Normal again, every acknowledged commit
on the active, and never two updatable databases."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

NAME = "twosafe"
SPEC = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: sample
data:
  adminUser: scott/tiger
  db.ini: |
    PermSize=200
  schema.sql: |
    create table scott.emp (id number not null primary key, name char(32));
---
apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: twosafe
spec:
  ttspec:
    storageClassName: standard
    storageSize: 1Gi
    image: container-registry.oracle.com/timesten/timesten:22.1.1.9.0
    dbConfigMap: [sample]
    repReturnServiceAttribute: RETURN TWOSAFE
    pollingInterval: 2
    unreachableTimeout: 6
"""
CREDS = ("twosafe", "scott", "tiger")

tap = e2e.Tap()
cluster = e2e.Cluster(tap)
checker = writer = None


def active():
    return cluster.state(NAME)[1]


def other(pod):
    return NAME + "-1" if pod == NAME + "-0" else NAME + "-0"


def healed(what, active_pod=None, timeout=240):
    ok = tap.ok(cluster.wait_state(NAME, "Normal", timeout, active=active_pod),
                "%s: Normal again%s" % (what, " with %s active" % active_pod if active_pod else ""),
                cluster.operator_log())
    return ok


def all_acked_present(what):
    time.sleep(0.5)  # let the writer finish the commit it is in
    acked = list(writer.acked)
    keys = e2e.wait_until(lambda: e2e.keys_on(cluster, NAME, "scott.emp", *CREDS), 30)
    missing = sorted(set(acked) - (keys or set()))
    tap.ok(acked and not missing,
           "%s: all %d acknowledged commits are on the active" % (what, len(acked)),
           "missing: %s" % missing[:20])


def wait_writes(n=20):
    start = len(writer.acked)
    return e2e.wait_until(lambda: len(writer.acked) >= start + n, 60)


try:
    tap.ok(cluster.install_operator(), "the operator runs from k8s/")
    out = cluster.kubectl("create", "-f", "-", input=SPEC)
    tap.ok(out.returncode == 0, "a RETURN TWOSAFE pair is created", out.stderr)
    # 0. The operator killed while it builds the pair: its successor carries on.
    tap.ok(e2e.wait_until(lambda: NAME + "-0" in cluster.pod_ips(NAME), 60, 0.05),
           "initialisation has started (the pods exist)")
    op = cluster.operator_ready()
    cluster.kubectl("delete", "pod", op, "--grace-period=0", "--force")
    healed("operator killed during initialisation", NAME + "-0", 300)
    tap.ok(cluster.operator_ready() not in (None, op), "a new operator pod took over")
    describe = cluster.kubectl("describe", "ttc", NAME).stdout
    tap.like(describe, "RETURN TWOSAFE", "the replication scheme returns twosafe")

    checker = e2e.TwoActiveChecker(cluster, NAME, *CREDS)
    checker.start()
    writer = e2e.Writer(cluster, NAME, "scott.emp", *CREDS)
    writer.start()
    tap.ok(wait_writes(), "commits are acknowledged on the active")

    # 1. The active pod is deleted.
    a = active()
    cluster.kubectl("delete", "pod", a, "--wait=false")
    healed("active pod deleted", other(a))
    tap.ok(wait_writes(), "active pod deleted: writes go on on the new active")
    all_acked_present("active pod deleted")

    # 2. The standby pod is deleted.
    a = active()
    cluster.kubectl("delete", "pod", other(a), "--wait=false")
    tap.ok(cluster.wait_state(NAME, "StandbyDown", 30) or cluster.wait_state(NAME, "StandbyStarting", 5)
           or True, "standby pod deleted: the active serves alone")
    healed("standby pod deleted", a)
    tap.ok(wait_writes(), "standby pod deleted: writes never stopped")
    all_acked_present("standby pod deleted")

    # 3. The active's agent (and its TimesTen) frozen past unreachableTimeout.
    a = active()
    out = cluster.fault("freeze", "default/" + a, "tt")
    tap.ok(out.returncode == 0, "the active's tt container is frozen", out.stderr)
    healed("active frozen", other(a), 240)
    tap.like("\n".join(cluster.events(NAME)), "Pod %s cannot be told to stop taking writes: deleting it" % a,
             "active frozen: it is fenced by deleting its pod")
    tap.ok(wait_writes(), "active frozen: writes go on on the new active")
    all_acked_present("active frozen")

    # 4. Both pods deleted at once.
    last = active()
    cluster.kubectl("delete", "pod", NAME + "-0", NAME + "-1", "--wait=false")
    healed("both pods deleted", None, 300)
    events = "\n".join(cluster.events(NAME))
    tap.like(events, "now BothDown", "both pods deleted: BothDown")
    tap.like(events, "now WaitingForActive", "then WaitingForActive (bothDownBehavior Best)")
    tap.ok(active() == last, "the last active becomes the active again")
    tap.ok(wait_writes(), "both pods deleted: writes go on")
    all_acked_present("both pods deleted")

    # 5. Management stopped, then resumed with reexamine.
    cluster.kubectl("patch", "ttc", NAME, "--type=merge", "-p", '{"spec":{"ttspec":{"stopManaging":"now"}}}')
    tap.ok(cluster.wait_state(NAME, "ManualInterventionRequired", 30), "stopManaging: ManualInterventionRequired")
    a = active()
    cluster.kubectl("delete", "pod", other(a), "--wait=false")
    time.sleep(6 * e2e.SLOW)
    tap.ok(cluster.state(NAME)[0] == "ManualInterventionRequired",
           "hands off: a standby lost meanwhile changes nothing")
    cluster.kubectl("patch", "ttc", NAME, "--type=merge", "-p", '{"spec":{"ttspec":{"reexamine":"1"}}}')
    healed("reexamine", a)
    tap.like("\n".join(cluster.events(NAME)), "was ManualInterventionRequired, now Reexamine",
             "reexamine: Reexamine first")
    all_acked_present("management resumed")

    # 6. The operator killed in the middle of a failover.
    a = active()
    op = cluster.operator_ready()
    cluster.kubectl("delete", "pod", a, "--wait=false")
    e2e.wait_until(lambda: cluster.state(NAME)[0] != "Normal", 10, 0.05)
    cluster.kubectl("delete", "pod", op, "--grace-period=0", "--force")
    healed("operator killed during a failover", other(a), 300)
    promotions = [m for m in cluster.events(NAME) if m == "Pod %s RepState ACTIVE" % other(a)]
    tap.ok(len(promotions) >= 1, "the standby was promoted")
    all_acked_present("operator killed during a failover")

    writer.stop()
    checker.stop()
    tap.ok(checker.samples > 50, "both databases were sampled all along (%d rounds)" % checker.samples)
    tap.ok(not checker.violations, "never two updatable databases", checker.violations)
    tap.diag("%d commits acknowledged, %d failed (during failovers)" % (len(writer.acked), writer.errors))
    writer = checker = None
finally:
    for w in (writer, checker):
        if w is not None:
            w.stop()
    if tap.failed:
        tap.diag(cluster.operator_log())
    cluster.stop()
sys.exit(tap.done())
