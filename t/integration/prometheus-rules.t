#!/bin/sh
# The alerts of k8s/prometheus/prometheusrule.yaml as Prometheus evaluates them: promtool
# checks the rules, then runs them over made-up series of the operator's metrics (an
# object not Normal for 4 and then 6 minutes, one in ManualInterventionRequired, a
# failover, a failed upgrade, a healthy object that must raise nothing).
. "${top_srcdir:-.}/t/lib/tap.sh"

promtool=${PROMTOOL:-promtool}
command -v "$promtool" >/dev/null 2>&1 || { echo "1..0 # SKIP no promtool"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

/usr/bin/python3 - "$top_srcdir/k8s/prometheus/prometheusrule.yaml" "$work/rules.yml" <<'PY'
import sys, yaml
with open(sys.argv[1]) as f:
    doc = yaml.safe_load(f)
assert doc["kind"] == "PrometheusRule", doc["kind"]
with open(sys.argv[2], "w") as f:
    yaml.safe_dump({"groups": doc["spec"]["groups"]}, f)
PY
ok $? "the PrometheusRule's groups are read"

# Every metric the alerts and the Grafana dashboard (docs/grafana-dashboard.json) query is
# one the operator exports, as README's table of metrics lists them.
out=$(/usr/bin/python3 - "$top_srcdir" <<'PY'
import json, re, sys, yaml
top = sys.argv[1]
with open(top + "/README.md") as f:
    listed = set(re.findall(r"`((?:timesten|process)_[a-z_]+)", f.read()))
# A row names some gauges by their common start: `timesten_classic_state_x`, `_y`.
with open(top + "/README.md") as f:
    for row in f:
        first = re.match(r"\| `(timesten_[a-z_]+?_)[a-z]+`", row)
        if first:
            listed |= {first.group(1) + s for s in re.findall(r"`_([a-z_]+)`", row)}
exprs = []
with open(top + "/k8s/prometheus/prometheusrule.yaml") as f:
    exprs += [r["expr"] for g in yaml.safe_load(f)["spec"]["groups"] for r in g["rules"]]
with open(top + "/docs/grafana-dashboard.json") as f:
    exprs += [t["expr"] for p in json.load(f)["panels"] for t in p["targets"]]
used = set()
for e in exprs:
    for name in re.findall(r"\b((?:timesten|process)_[a-z_]+)", e):
        used.add(re.sub(r"_(bucket|count|sum)$", "", name))
missing = sorted(n for n in used if n not in listed and not (
    n.startswith("process_") and "process_*" in open(top + "/README.md").read()))
print("%d expressions, %d metrics; not exported: %s" % (len(exprs), len(used), missing or "none"))
sys.exit(1 if missing or len(exprs) < 10 else 0)
PY
)
ok $? "the alerts and the dashboard query only metrics the operator exports ($out)"

out=$("$promtool" check rules "$work/rules.yml" 2>&1)
ok $? "promtool check rules: the rules are valid"
like "$out" "SUCCESS: 4 rules found" "four alerts"

cat >"$work/tests.yml" <<'YML'
rule_files:
  - rules.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'timesten_classic_state_not_normal{namespace="default",name="sample"}'
        values: '1x10'
      - series: 'timesten_classic_state_not_normal{namespace="default",name="healthy"}'
        values: '0x10'
      - series: 'timesten_classic_state_not_allreplicasready{namespace="default",name="norep"}'
        values: '0 0 1x10'
      - series: 'timesten_classic_state{namespace="default",name="stuck",state="ManualInterventionRequired"}'
        values: '1x10'
      - series: 'timesten_classic_state{namespace="default",name="healthy",state="Normal"}'
        values: '1x10'
      - series: 'timesten_operator_failovers_total{reason="unreachable"}'
        values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
      - series: 'timesten_operator_failovers_total{reason="pod_gone"}'
        values: '0x16'
      - series: 'timesten_operator_upgrade_failed{namespace="default",name="sample"}'
        values: '0 0 1x10'
      - series: 'timesten_operator_upgrade_failed{namespace="default",name="healthy"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 4m
        alertname: TimesTenClassicNotNormal
        exp_alerts: []
      - eval_time: 6m
        alertname: TimesTenClassicNotNormal
        exp_alerts:
          - exp_labels: {severity: warning, namespace: default, name: sample}
            exp_annotations:
              summary: "TimesTenClassic default/sample has not been Normal (or AllReplicasReady) for 5 minutes"
              description: "kubectl get ttc sample -n default and its Events say which state and why."
      - eval_time: 8m
        alertname: TimesTenClassicNotNormal
        exp_alerts:
          - exp_labels: {severity: warning, namespace: default, name: sample}
            exp_annotations:
              summary: "TimesTenClassic default/sample has not been Normal (or AllReplicasReady) for 5 minutes"
              description: "kubectl get ttc sample -n default and its Events say which state and why."
          - exp_labels: {severity: warning, namespace: default, name: norep}
            exp_annotations:
              summary: "TimesTenClassic default/norep has not been Normal (or AllReplicasReady) for 5 minutes"
              description: "kubectl get ttc norep -n default and its Events say which state and why."
      - eval_time: 1m
        alertname: TimesTenClassicManualInterventionRequired
        exp_alerts:
          - exp_labels: {severity: critical, namespace: default, name: stuck,
                         state: ManualInterventionRequired}
            exp_annotations:
              summary: "TimesTenClassic default/stuck needs a person: ManualInterventionRequired"
              description: "The operator does nothing for it until told (reexamine, or stopManaging changed back)."
      - eval_time: 2m
        alertname: TimesTenClassicFailover
        exp_alerts: []
      - eval_time: 5m
        alertname: TimesTenClassicFailover
        exp_alerts:
          - exp_labels: {severity: warning, reason: unreachable}
            exp_annotations:
              summary: "The operator failed a TimesTenClassic pair over in the last 10 minutes"
              description: "An active was lost (unreachable) and its standby promoted: the objects' Events say which."
      - eval_time: 15m
        alertname: TimesTenClassicFailover
        exp_alerts: []
      - eval_time: 1m
        alertname: TimesTenClassicUpgradeFailed
        exp_alerts: []
      - eval_time: 3m
        alertname: TimesTenClassicUpgradeFailed
        exp_alerts:
          - exp_labels: {severity: warning, namespace: default, name: sample}
            exp_annotations:
              summary: "The automatic upgrade of TimesTenClassic default/sample failed"
              description: "Its Events say which pod did not come back; set resetUpgradeState to a new value to try again."
YML
out=$(cd "$work" && "$promtool" test rules tests.yml 2>&1)
rc=$?
ok $rc "promtool test rules: each alert fires when, and only when, it should"
[ $rc -eq 0 ] || diag "$out"
done_testing
