#!/usr/bin/python3
"""A real Prometheus (Debian's prometheus) scrapes the operator on the simulated cluster:
its target is up, the guide's state gauges of the sample pair are queried through
Prometheus' HTTP API, and after the active's pod is deleted the failover counter there
says one failover, its pod deleted. The alerts of k8s/prometheus/prometheusrule.yaml are
loaded too: after the failover, TimesTenClassicFailover fires."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

import yaml

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Prometheus:
    """prometheus on 127.0.0.1, scraping one target every second, with the project's
    alerting rules; stopped (and its files removed) by stop()."""

    def __init__(self, target):
        self.dir = tempfile.mkdtemp(prefix="ttc-prom-")
        self.port = free_port()
        with open(os.path.join(e2e.TOP_SRCDIR, "k8s/prometheus/prometheusrule.yaml")) as f:
            groups = yaml.safe_load(f)["spec"]["groups"]
        with open(os.path.join(self.dir, "rules.yml"), "w") as f:
            yaml.safe_dump({"groups": groups}, f)
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            yaml.safe_dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                            "rule_files": [os.path.join(self.dir, "rules.yml")],
                            "scrape_configs": [{"job_name": "timestenclassic-operator",
                                                "static_configs": [{"targets": [target]}]}]}, f)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [shutil.which("prometheus") or "/usr/bin/prometheus",
             "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s?%s" % (self.port, path, urllib.parse.urlencode(params))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.load(r).get("data")
        except (OSError, ValueError):
            return None

    def query(self, expr):
        """{labels-as-tuple: value} of an instant query; {} when nothing (yet)."""
        data = self.api("query", query=expr) or {}
        return {tuple(sorted(s["metric"].items())): float(s["value"][1])
                for s in data.get("result", [])}

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        with open(os.path.join(self.dir, "prometheus.log")) as f:
            tail = f.read()[-3000:]
        shutil.rmtree(self.dir, ignore_errors=True)
        return tail


tap = e2e.Tap()
cluster = e2e.Cluster(tap)
prom = None
try:
    tap.need(cluster.install_operator(), "the operator runs from k8s/")
    cluster.kubectl("create", "-f", os.path.join(e2e.TOP_SRCDIR, "k8s/samples/sample.yaml"),
                    check=True)
    tap.need(cluster.wait_state("sample", "Normal", 180, active="sample-0"),
             "sample is Normal with sample-0 active")
    pod = cluster.operator_ready()
    ip = cluster.get_json("pod", pod)["status"]["podIP"]
    prom = Prometheus("%s:8080" % ip)

    def up():
        return prom.query('up{job="timestenclassic-operator"}') and \
            list(prom.query('up{job="timestenclassic-operator"}').values()) == [1.0]
    tap.need(e2e.wait_until(up, 60, 0.5), "Prometheus scrapes the operator: its target is up")

    normal = 'timesten_classic_state_normal{namespace="default",name="sample"}'
    tap.ok(e2e.wait_until(lambda: list(prom.query(normal).values()) == [1.0], 30, 0.5),
           "through Prometheus: timesten_classic_state_normal of sample is 1", prom.query(normal))
    tap.ok(prom.query('timesten_operator_failovers_total') == {} or
           sum(prom.query('timesten_operator_failovers_total').values()) == 0,
           "no failover counted yet", prom.query('timesten_operator_failovers_total'))

    mark = cluster.event_mark("sample")
    cluster.kubectl("delete", "pod", "sample-0", "--wait=false", check=True)
    tap.ok(cluster.wait_state("sample", "Normal", 180, active="sample-1"),
           "the active's pod deleted: Normal again with sample-1 active")
    failovers = {}

    def counted():
        failovers.clear()
        failovers.update(prom.query("timesten_operator_failovers_total"))
        return sum(failovers.values()) == 1
    tap.ok(e2e.wait_until(counted, 30, 0.5) and
           [dict(k).get("reason") for k, v in failovers.items() if v] in (["pod_deleted"],
                                                                          ["pod_gone"]),
           "through Prometheus: timesten_operator_failovers_total is 1, its reason the pod's "
           "deletion", failovers)

    def firing():
        alerts = (prom.api("alerts") or {}).get("alerts", [])
        return [a for a in alerts if a["labels"].get("alertname") == "TimesTenClassicFailover"
                and a.get("state") == "firing"]
    tap.ok(e2e.wait_until(firing, 30, 0.5), "the TimesTenClassicFailover alert fires",
           prom.api("alerts"))
    tap.ok(e2e.wait_until(lambda: list(prom.query(normal).values()) == [1.0] and sum(
        prom.query('timesten_classic_state_not_normal{name="sample"}').values()) == 0, 30, 0.5),
           "and the pair counts as Normal again",
           (prom.query(normal), prom.query('timesten_classic_state_not_normal')))
finally:
    if prom is not None:
        tail = prom.stop()
        if tap.failed:
            tap.diag(tail)
    if tap.failed:
        tap.diag(cluster.operator_log())
    cluster.stop()
sys.exit(tap.done())
