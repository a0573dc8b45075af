#!/usr/bin/python3
"""Bad input: a TimesTenClassic without an image, with a bad quantity, with an unknown
enumeration value, with a template setting what the operator owns, with an unusable ConfigMap, or named longer than a DSN can be gets a
Warning Event and a status message naming the field, and nothing is made for it; one whose ConfigMap does not exist
yet waits for it (and, named with the longest usable name, then becomes Normal); a good
object beside them is not disturbed."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

GOOD_CM = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
data:
  adminUser: scott/tiger
  db.ini: |
    PermSize=200
"""
TTC = """
apiVersion: timesten.oracle.com/v1
kind: TimesTenClassic
metadata:
  name: %s
spec:
  ttspec:
%s
"""
BASE = {"storageClassName": "standard", "storageSize": "1Gi",
        "image": "registry.example.com/youraccount/timesten:22.1.1.9.0",
        "dbConfigMap": "[sample]"}


def ttspec(**changes):
    fields = dict(BASE)
    fields.update(changes)
    return "\n".join("    %s: %s" % (k, v) for k, v in fields.items() if v is not None)


CASES = [
    ("noimage", ttspec(image=None), "spec.ttspec.image: required"),
    ("badqty", ttspec(storageSize="lots"),
     'spec.ttspec.storageSize: "lots" is not a quantity such as 250G, 2Gi or 200m'),
    ("badenum", ttspec(bothDownBehavior="Sometimes"),
     'spec.ttspec.bothDownBehavior: "Sometimes" is not one of Best, Manual'),
    ("badcm", ttspec(dbConfigMap="[badcm]"),
     'spec.ttspec.dbConfigMap: ConfigMap badcm: adminUser must be one line "user/password"'),
    # Kubernetes takes a 60-character name for the object; it cannot be a DSN.
    ("long" + "n" * 56, ttspec(),
     "metadata.name: 60 characters, at most 32: it is the database's DSN, which TimesTen "
     "limits to 32 characters"),
    # The template's tt container is merged into the operator's, which owns the image.
    ("tmplimage", ttspec() + "\n  template:\n    spec:\n      containers:\n      - name: tt\n"
     "        image: mine:1",
     "spec.template.spec.containers[0].image: the operator sets it in its tt container "
     "(from spec.ttspec.image)"),
]

# The good object's template adds to the operator's tt container (the guide's way to set resources).
GOOD_TEMPLATE = """
  template:
    spec:
      containers:
      - name: tt
        resources:
          requests: {memory: 300Mi}
          limits: {memory: 300Mi}
        env:
        - {name: APP_SETTING, value: "on"}"""

# The longest usable name: 32 characters, the longest DSN.
LATER = "later" + "x" * 27

tap = e2e.Tap()
cluster = e2e.Cluster(tap)


def not_found(kind, name):
    """The API server says kind/name does not exist (not merely that kubectl failed)."""
    out = cluster.kubectl("get", kind, name)
    return out.returncode != 0 and "(NotFound)" in out.stderr


try:
    tap.ok(cluster.install_operator(), "the operator runs from k8s/")
    cluster.kubectl("create", "-f", "-", input=GOOD_CM % "sample", check=True)
    cluster.kubectl("create", "-f", "-", input=TTC % ("good", ttspec() + GOOD_TEMPLATE), check=True)
    tap.ok(cluster.wait_state("good", "Normal", 240), "a good object becomes Normal",
           cluster.operator_log())
    good_mark = cluster.event_mark("good")
    sts = cluster.get_json("statefulset", "good")
    tts = [c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "tt"]
    tap.ok(len(tts) == 1 and tts[0]["resources"].get("limits") == {"memory": "300Mi"} and
           {"name": "APP_SETTING", "value": "on"} in tts[0].get("env", []) and
           tts[0]["image"] == sts["spec"]["template"]["spec"]["initContainers"][0]["image"],
           "the template's tt container is merged into the operator's: one tt, its resources "
           "and env, the operator's image", tts)

    cluster.kubectl("create", "-f", "-", check=True, input="""
apiVersion: v1
kind: ConfigMap
metadata:
  name: badcm
data:
  adminUser: scott
""")
    for name, spec, _ in CASES:
        out = cluster.kubectl("create", "-f", "-", input=TTC % (name, spec))
        tap.ok(out.returncode == 0, "%s: the API server takes it (types are right)" % name, out.stderr)
    for name, _, why in CASES:
        tap.ok(cluster.wait_state(name, "Failed", 60), "%s: Failed" % name)
        obj = cluster.ttc(name) or {}
        tap.ok(obj.get("status", {}).get("message") == why, "%s: status message: %s" % (name, why),
               obj.get("status"))
        events = cluster.get_json("events", "--field-selector", "involvedObject.name=" + name)
        warnings = [e["message"] for e in events["items"]
                    if e.get("type") == "Warning" and e.get("reason") == "InvalidSpec"]
        tap.ok(why in warnings, "%s: a Warning Event InvalidSpec says so" % name, warnings)
        uid = obj.get("metadata", {}).get("uid", "?")
        tap.ok(not_found("statefulset", name) and not_found("service", name) and
               not_found("secret", "tt" + uid),
               "%s: no StatefulSet, Service or Secret is made" % name)

    # A ConfigMap that does not exist yet is waited for.
    cluster.kubectl("create", "-f", "-", check=True,
                    input=TTC % (LATER, ttspec(dbConfigMap="[latercm]")))
    msg = "spec.ttspec.dbConfigMap: ConfigMap latercm not found; waiting for it"
    tap.ok(e2e.wait_until(lambda: (cluster.ttc(LATER) or {}).get("status", {}).get("message") == msg,
                          60), "a missing ConfigMap is reported in status: " + msg)
    tap.ok(not_found("statefulset", LATER) and not_found("service", LATER),
           "and waited for: no StatefulSet or Service yet")
    cluster.kubectl("create", "-f", "-", input=GOOD_CM % "latercm", check=True)
    tap.ok(cluster.wait_state(LATER, "Normal", 240), "once it exists, the object goes on to Normal",
           cluster.operator_log())

    changes = [m for m in cluster.events_since("good", good_mark) if "TimesTenClassic was" in m]
    tap.ok(cluster.state("good") == ("Normal", "good-0") and not changes,
           "the good object was never disturbed: Normal all along, no state change", changes)
finally:
    if tap.failed:
        tap.diag(cluster.operator_log())
    cluster.stop()
sys.exit(tap.done())
