"""Per-kind defaulting, validation and admission that a real API server applies on write."""

import base64
import json
import random

from . import podspec
from .errors import ApiError
from .util import rfc3339, random_suffix

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def _pod_spec_defaults(spec, is_pod=False):
    if not isinstance(spec, dict):
        return
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    spec.setdefault("securityContext", {})
    # hostUsers belongs to the UserNamespacesSupport gate, off in 1.32: dropped
    spec.pop("hostUsers", None)
    if spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    spec.setdefault("serviceAccountName", "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if not isinstance(c, dict):
            continue
        image = c.get("image") or ""
        tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
        # (SetDefaults_Container and friends fill in empty strings as well as missing fields)
        if not c.get("imagePullPolicy"):
            c["imagePullPolicy"] = "Always" if (not tagged or image.endswith(":latest")) else "IfNotPresent"
        if not c.get("terminationMessagePath"):
            c["terminationMessagePath"] = "/dev/termination-log"
        if not c.get("terminationMessagePolicy"):
            c["terminationMessagePolicy"] = "File"
        c.setdefault("resources", {})
        res = c["resources"]
        if is_pod and isinstance(res, dict) and isinstance(res.get("limits"), dict):
            # SetDefaults_Pod: a pod's (not a template's) requests default to its limits
            if not isinstance(res.get("requests"), dict):
                res["requests"] = {}
            for k, v in res["limits"].items():
                res["requests"].setdefault(k, v)
        for p in c.get("ports") or []:
            if isinstance(p, dict):
                if not p.get("protocol"):
                    p["protocol"] = "TCP"
                # defaultHostNetworkPorts: pods only since 1.28 (DefaultHostNetworkHostPortsInPodTemplates off)
                if is_pod and spec.get("hostNetwork") is True and not p.get("hostPort") and \
                        c in (spec.get("containers") or []):
                    p["hostPort"] = p.get("containerPort")
        for e in c.get("env") or []:
            ref = ((e.get("valueFrom") or {}) if isinstance(e, dict) and isinstance(e.get("valueFrom"), dict)
                   else {}).get("fieldRef")
            if isinstance(ref, dict) and not ref.get("apiVersion"):
                ref["apiVersion"] = "v1"  # SetDefaults_ObjectFieldSelector
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(kind)
            if isinstance(probe, dict):
                probe.setdefault("timeoutSeconds", 1)
                probe.setdefault("periodSeconds", 10)
                probe.setdefault("successThreshold", 1)
                probe.setdefault("failureThreshold", 3)
                if isinstance(probe.get("httpGet"), dict):
                    probe["httpGet"]["path"] = probe["httpGet"].get("path") or "/"
                    probe["httpGet"]["scheme"] = probe["httpGet"].get("scheme") or "HTTP"
        for hook in ("postStart", "preStop"):  # SetDefaults_HTTPGetAction applies to lifecycle handlers too
            h = (c.get("lifecycle") or {}).get(hook) if isinstance(c.get("lifecycle"), dict) else None
            if isinstance(h, dict) and isinstance(h.get("httpGet"), dict):
                h["httpGet"]["path"] = h["httpGet"].get("path") or "/"
                h["httpGet"]["scheme"] = h["httpGet"].get("scheme") or "HTTP"


def _add_token_volume(spec):
    if spec.get("automountServiceAccountToken") is False:
        return
    vols = spec.setdefault("volumes", [])
    if any(isinstance(v, dict) and (v.get("name") or "").startswith("kube-api-access-") for v in vols):
        return
    name = "kube-api-access-" + random_suffix(5)
    vols.append({"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                       "fieldPath": "metadata.namespace"}}]}}]}})
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if isinstance(c, dict) and not any(isinstance(m, dict) and m.get("mountPath") == SA_MOUNT
                                           for m in c.get("volumeMounts") or []):
            c.setdefault("volumeMounts", []).append({"name": name, "readOnly": True, "mountPath": SA_MOUNT})


def _workload_defaults(obj, plural, old=None):
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    tmpl = spec.get("template")
    if isinstance(tmpl, dict):
        tmpl.setdefault("metadata", {})
        if isinstance(tmpl.get("metadata"), dict):
            tmpl["metadata"].setdefault("creationTimestamp", None)
        _pod_spec_defaults(tmpl.get("spec"))
    if plural == "statefulsets":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        us = spec.get("updateStrategy")
        if us is None:
            us = spec["updateStrategy"] = {}
        if isinstance(us, dict):
            # SetDefaults_StatefulSet: rollingUpdate is filled in only when the type itself was left out, so
            # an explicit `type: RollingUpdate` keeps rollingUpdate unset (and kubectl rollout status then
            # tells revisions rather than a partition)
            if not us.get("type"):
                us["type"] = "RollingUpdate"
                if us.get("rollingUpdate") is None:
                    us["rollingUpdate"] = {}
            ru = us.get("rollingUpdate")
            if us["type"] == "RollingUpdate" and isinstance(ru, dict):
                ru.setdefault("partition", 0)
                # maxUnavailable belongs to the MaxUnavailableStatefulSet gate, off in 1.32: dropped
                if "maxUnavailable" not in (((((old or {}).get("spec") or {}).get("updateStrategy") or {})
                                             .get("rollingUpdate")) or {}):
                    ru.pop("maxUnavailable", None)
            elif us.get("rollingUpdate", 0) is None:
                del us["rollingUpdate"]
        pvc = spec.get("persistentVolumeClaimRetentionPolicy")
        if pvc is None:
            pvc = spec["persistentVolumeClaimRetentionPolicy"] = {}
        if isinstance(pvc, dict):
            pvc["whenDeleted"] = pvc.get("whenDeleted") or "Retain"
            pvc["whenScaled"] = pvc.get("whenScaled") or "Retain"
        for t in spec.get("volumeClaimTemplates") or []:
            if isinstance(t, dict):
                t.setdefault("apiVersion", "v1")
                t.setdefault("kind", "PersistentVolumeClaim")
                t.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
                t.setdefault("status", {"phase": "Pending"})
    if plural == "deployments":
        spec.setdefault("strategy", {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        spec.setdefault("progressDeadlineSeconds", 600)


def prepare(reg, rt, obj, old):
    key = rt.key
    md = obj["metadata"]
    if key == ("", "namespaces"):
        spec = obj.setdefault("spec", {})
        if old is None:
            spec.setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
        md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
    elif key == ("", "pods"):
        spec = obj.get("spec")
        if old is None and isinstance(spec, dict):
            _pod_spec_defaults(spec, is_pod=True)
            sa = spec.get("serviceAccountName")
            satype = reg.store.types[("", "serviceaccounts")]
            if reg.store.get(satype, md.get("namespace"), sa) is None:
                raise ApiError(403, 'pods "%s" is forbidden: error looking up service account %s/%s: '
                               'serviceaccount "%s" not found' % (md["name"], md.get("namespace"), sa, sa),
                               "Forbidden", {"name": md["name"], "kind": "pods"})
            _add_token_volume(spec)
            from .admission import default_tolerations
            default_tolerations(spec)
            spec.setdefault("enableServiceLinks", True)
            spec.setdefault("priority", 0)
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    elif key == ("", "services"):
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if old is not None:
                spec["clusterIP"] = (old.get("spec") or {}).get("clusterIP")
                spec["clusterIPs"] = (old.get("spec") or {}).get("clusterIPs")
            elif spec.get("clusterIP") != "None":
                ip = spec.get("clusterIP") or "10.96.%d.%d" % (random.randint(1, 254), random.randint(1, 254))
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
            else:
                spec["clusterIPs"] = ["None"]
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
            for p in spec.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")
                    if "port" in p:
                        p.setdefault("targetPort", p["port"])
            if old is None:
                obj["status"] = {"loadBalancer": {}}
    elif key == ("", "secrets"):
        obj.setdefault("type", "Opaque")
        sd = obj.pop("stringData", None)
        if isinstance(sd, dict):
            data = obj.setdefault("data", {})
            for k, v in sd.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
    elif key == ("", "persistentvolumeclaims"):
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("volumeMode", "Filesystem")
        if old is None:
            obj["status"] = {"phase": "Pending"}
            # the StorageObjectInUseProtection admission plugin's finalizer
            fins = md.setdefault("finalizers", [])
            if "kubernetes.io/pvc-protection" not in fins:
                fins.append("kubernetes.io/pvc-protection")
    elif key in (("apps", "statefulsets"), ("apps", "deployments"), ("apps", "replicasets")):
        _workload_defaults(obj, rt.plural, old)
    elif key == ("apiextensions.k8s.io", "customresourcedefinitions"):
        spec = obj.get("spec") or {}
        spec.setdefault("conversion", {"strategy": "None"})
        if old is None:
            names = dict(spec.get("names") or {})
            names.setdefault("singular", (names.get("kind") or "").lower())
            names.setdefault("listKind", (names.get("kind") or "") + "List")
            t = rfc3339()
            obj["status"] = {
                "acceptedNames": names,
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "lastTransitionTime": t,
                     "reason": "NoConflicts", "message": "no conflicts found"},
                    {"type": "Established", "status": "True", "lastTransitionTime": t,
                     "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}],
                "storedVersions": [v.get("name") for v in spec.get("versions") or []
                                   if isinstance(v, dict) and v.get("storage")]}
    elif key == ("", "events"):
        obj.setdefault("count", 1) if obj.get("firstTimestamp") else None
        src = obj.get("source")
        if src is None:
            obj["source"] = {}


def validate(rt, obj, old):
    """Kind-specific checks; returns a list of (field, message, reason)."""
    causes = []
    key = rt.key
    spec = obj.get("spec")
    if key == ("", "pods"):
        if not isinstance(spec, dict):
            causes.append(("spec.containers", "Required value", "FieldValueRequired"))
        else:
            causes += podspec.validate_pod(obj, old)
            if old is not None:
                def frozen(s):
                    s = json.loads(json.dumps(s or {}))
                    s.pop("nodeName", None)
                    s.pop("activeDeadlineSeconds", None)
                    s.pop("tolerations", None)
                    for c in (s.get("containers") or []) + (s.get("initContainers") or []):
                        c.pop("image", None)
                    return s
                if frozen(spec) != frozen(old.get("spec")):
                    causes.append(("spec", "Forbidden: pod updates may not change fields other than "
                                   "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                                   "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                                   "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
                                   "it was previously negative)", "FieldValueForbidden"))
    elif key in (("apps", "statefulsets"), ("apps", "deployments"), ("apps", "replicasets")):
        if not isinstance(spec, dict):
            causes.append(("spec", "Required value", "FieldValueRequired"))
            return causes
        if key == ("apps", "statefulsets"):
            causes += _statefulset_causes(spec, old)
            return causes
        causes += _replicaset_causes(spec, deployment=key == ("apps", "deployments"))
    elif key == ("", "services"):
        if isinstance(spec, dict) and spec.get("clusterIP") != "None" and not spec.get("ports") \
                and spec.get("type") != "ExternalName":
            causes.append(("spec.ports", "Required value", "FieldValueRequired"))
    elif key in (("", "configmaps"), ("", "secrets")):
        data = obj.get("data")
        if data is not None and (not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values())):
            causes.append(("data", "Invalid value: values must be strings", "FieldValueInvalid"))
    return causes


def _selector_value(sel):
    """A *metav1.LabelSelector as field.Invalid prints it (%#v of the struct)."""
    ml = sel.get("matchLabels") if isinstance(sel, dict) else None
    me = sel.get("matchExpressions") if isinstance(sel, dict) else None
    return "v1.LabelSelector{MatchLabels:%s, MatchExpressions:%s}" % (
        go_string_map(ml) if ml else "map[string]string(nil)",
        "[]v1.LabelSelectorRequirement{...}" if me else "[]v1.LabelSelectorRequirement(nil)")


def _template_selector_causes(sel, tmpl_labels):
    """The selector-matches-template check of ValidatePodTemplateSpecFor{ReplicaSet,StatefulSet}: a nil
    selector is labels.Nothing(), which matches no labels; an empty one labels.Everything(), which is not
    checked."""
    from .selectors import selector_from_label_selector
    if isinstance(sel, dict) and not (sel.get("matchLabels") or sel.get("matchExpressions")):
        return []
    if not isinstance(sel, dict) or not selector_from_label_selector(sel).matches(tmpl_labels):
        return [("spec.template.metadata.labels", "Invalid value: %s: `selector` does not match template `labels`"
                 % go_string_map(tmpl_labels), "FieldValueInvalid")]
    return []


def _replicaset_causes(spec, deployment):
    """ValidateDeploymentSpec / ValidateReplicaSetSpec, in the real order; the template is validated whole
    (ValidatePodTemplateSpecForReplicaSet)."""
    causes = []
    _nonnegative(causes, "spec.replicas", spec.get("replicas"))
    if not deployment:
        _nonnegative(causes, "spec.minReadySeconds", spec.get("minReadySeconds"))
    sel = spec.get("selector")
    if not isinstance(sel, dict):
        causes.append(("spec.selector", "Required value", "FieldValueRequired"))
    elif not (sel.get("matchLabels") or sel.get("matchExpressions")):
        causes.append(("spec.selector", "Invalid value: %s: empty selector is invalid for deployment"
                       % _selector_value(sel), "FieldValueInvalid"))
    tmpl = spec.get("template")
    if not isinstance(tmpl, dict):
        tmpl = {}
    tmpl_labels = (tmpl.get("metadata") or {}).get("labels") or {}
    causes += _template_selector_causes(sel, tmpl_labels)
    causes += podspec.validate_template(tmpl, "spec.template")
    pspec = tmpl.get("spec") if isinstance(tmpl.get("spec"), dict) else {}
    if pspec.get("restartPolicy") != "Always":
        causes.append(("spec.template.spec.restartPolicy", 'Unsupported value: %s: supported values: "Always"'
                       % json.dumps(pspec.get("restartPolicy") or ""), "FieldValueNotSupported"))
    if pspec.get("activeDeadlineSeconds") is not None:
        causes.append(("spec.template.spec.activeDeadlineSeconds", "Forbidden: activeDeadlineSeconds in ReplicaSet "
                       "is not Supported", "FieldValueForbidden"))
    if deployment:
        _nonnegative(causes, "spec.minReadySeconds", spec.get("minReadySeconds"))
        _nonnegative(causes, "spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
        _nonnegative(causes, "spec.progressDeadlineSeconds", spec.get("progressDeadlineSeconds"))
    return causes


def warnings(rt, obj, old):
    """The warnings a strategy's WarningsOnCreate / WarningsOnUpdate gives (pkg/api/pod/warnings.go): for a
    pod always, for a workload when its spec changes."""
    key = rt.key
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if key == ("", "pods"):
        name_warnings = podspec.pod_name_warnings((obj.get("metadata") or {}).get("name")) if old is None else []
        return name_warnings + podspec.warnings(spec, "")
    if key in (("apps", "statefulsets"), ("apps", "deployments"), ("apps", "replicasets")):
        if old is not None and (old.get("spec") or {}) == spec:
            return []
        tmpl = spec.get("template") if isinstance(spec.get("template"), dict) else {}
        return podspec.warnings(tmpl.get("spec"), "spec.template.")
    return []


def go_string_map(m):
    """A map[string]string as Go's %#v prints it (keys sorted)."""
    return "map[string]string{%s}" % ", ".join("%s:%s" % (json.dumps(k), json.dumps(v)) for k, v in sorted(m.items()))


def _go_rolling(ru):
    if ru is None:
        return "(*apps.RollingUpdateStatefulSetStrategy)(nil)"
    return "apps.RollingUpdateStatefulSetStrategy{Partition:%s, MaxUnavailable:(*intstr.IntOrString)(nil)}" % (
        ru.get("partition") or 0)


def _nonnegative(causes, field, value):
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        causes.append((field, "Invalid value: %d: must be greater than or equal to 0" % value, "FieldValueInvalid"))


# what ValidateStatefulSetUpdate lets change; everything else in the spec (revisionHistoryLimit too) is frozen
STS_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
               "minReadySeconds")


def _statefulset_causes(spec, old):
    """ValidateStatefulSetSpec (and, on update, ValidateStatefulSetUpdate), in the real order."""
    causes = []
    pmp = spec.get("podManagementPolicy") or ""
    if not pmp:
        causes.append(("spec.podManagementPolicy", "Required value", "FieldValueRequired"))
    elif pmp not in ("OrderedReady", "Parallel"):
        causes.append(("spec.podManagementPolicy", "Invalid value: %s: must be 'OrderedReady' or 'Parallel'"
                       % json.dumps(pmp), "FieldValueInvalid"))
    us = spec.get("updateStrategy") or {}
    ut = us.get("type") or ""
    ru = us.get("rollingUpdate")
    if not ut:
        causes.append(("spec.updateStrategy", "Required value", "FieldValueRequired"))
    elif ut == "OnDelete":
        if ru is not None:
            causes.append(("spec.updateStrategy.rollingUpdate", "Invalid value: %s: only allowed for updateStrategy "
                           "'RollingUpdate'" % _go_rolling(ru), "FieldValueInvalid"))
    elif ut == "RollingUpdate":
        if isinstance(ru, dict):
            _nonnegative(causes, "spec.updateStrategy.rollingUpdate.partition", ru.get("partition"))
    else:
        causes.append(("spec.updateStrategy", "Invalid value: apps.StatefulSetUpdateStrategy{Type:%s, RollingUpdate:%s}: "
                       "must be 'RollingUpdate' or 'OnDelete'" % (json.dumps(ut), "(*apps.RollingUpdateStatefulSetStrategy)"
                                                                  "(nil)" if ru is None else "(*apps.RollingUpdate"
                                                                  "StatefulSetStrategy)(0xc000a3c1e0)"),
                       "FieldValueInvalid"))
    pvc = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(pvc, dict):
        for f in ("whenDeleted", "whenScaled"):
            if pvc.get(f) not in ("Retain", "Delete"):
                causes.append(("spec.persistentVolumeClaimRetentionPolicy." + f, 'Unsupported value: %s: supported '
                               'values: "Retain", "Delete"' % json.dumps(pvc.get(f) or ""), "FieldValueNotSupported"))
    _nonnegative(causes, "spec.replicas", spec.get("replicas"))
    _nonnegative(causes, "spec.minReadySeconds", spec.get("minReadySeconds"))
    if isinstance(spec.get("ordinals"), dict):
        _nonnegative(causes, "spec.ordinals.start", spec["ordinals"].get("start"))
    sel = spec.get("selector")
    tmpl = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    tmpl_labels = (tmpl.get("metadata") or {}).get("labels") or {}
    if not isinstance(sel, dict):
        causes.append(("spec.selector", "Required value", "FieldValueRequired"))
    elif not (sel.get("matchLabels") or sel.get("matchExpressions")):
        causes.append(("spec.selector", "Invalid value: %s: empty selector is invalid for statefulset"
                       % _selector_value(sel), "FieldValueInvalid"))
    causes += _template_selector_causes(sel, tmpl_labels)
    # ValidatePodTemplateSpecForStatefulSet checks the template's labels and annotations but not its pod spec
    # (a TODO in Kubernetes 1.32): a bad spec is accepted here and its pods fail to be created, which the
    # controller reports as FailedCreate events.
    causes += podspec.validate_statefulset_template_meta(tmpl, "spec.template")
    pspec = tmpl.get("spec") if isinstance(tmpl.get("spec"), dict) else {}
    if pspec.get("restartPolicy", "Always") != "Always":
        causes.append(("spec.template.spec.restartPolicy", 'Unsupported value: %s: supported values: "Always"'
                       % json.dumps(pspec.get("restartPolicy") or ""), "FieldValueNotSupported"))
    if pspec.get("activeDeadlineSeconds") is not None:
        causes.append(("spec.template.spec.activeDeadlineSeconds", "Forbidden: activeDeadlineSeconds in StatefulSet "
                       "is not Supported", "FieldValueForbidden"))
    if old is not None:
        def frozen(s):
            return {k: v for k, v in (s or {}).items() if k not in STS_MUTABLE}
        if frozen(spec) != frozen(old.get("spec")):
            causes.append(("spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', "
                           "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                           "and 'minReadySeconds' are forbidden", "FieldValueForbidden"))
    return causes


def after_create(reg, rt, obj):
    if rt.key == ("", "namespaces"):
        satype = reg.store.types[("", "serviceaccounts")]
        name = obj["metadata"]["name"]
        if reg.store.get(satype, name, "default") is None:
            reg.create(satype, name, {"apiVersion": "v1", "kind": "ServiceAccount",
                                      "metadata": {"name": "default", "namespace": name}})
        cmtype = reg.store.types[("", "configmaps")]
        ca = getattr(reg, "ca_pem", None)
        if ca and reg.store.get(cmtype, name, "kube-root-ca.crt") is None:
            reg.create(cmtype, name, {"apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": {"name": "kube-root-ca.crt", "namespace": name},
                                      "data": {"ca.crt": ca}})
