"""The PodSecurity admission plugin of kube-apiserver 1.32 (k8s.io/pod-security-admission v0.32), built in and
always on, with its default configuration: every level privileged, version latest, no exemptions.

A namespace's labels `pod-security.kubernetes.io/{enforce,audit,warn}[-version]` choose the levels. Pods
are refused (403) when they violate the enforce level; a pod or a workload (Deployment, ReplicaSet,
StatefulSet, DaemonSet, Job, CronJob, ...) that violates the warn level gets a `Warning` response header;
workloads are never refused, their pods are when they are created. Audit results would only go to the
audit log, which kubesim does not keep. Namespace label values are validated (422), and raising a
namespace's enforce level warns about the existing pods that violate it.

The checks, their order (baseline ids sorted, then restricted ids sorted, restricted ones replacing the
baseline checks they override), their versions and their texts are the policy package's."""

from . import podspec
from .errors import ApiError

PREFIX = "pod-security.kubernetes.io/"
LEVELS = ("privileged", "baseline", "restricted")
MAX_MINOR = 32  # the newest check version of v0.32; a newer or "latest" version evaluates as this

# the workloads whose pod templates are evaluated (DefaultPodSpecExtractor)
POD_CONTROLLERS = {("", "replicationcontrollers"), ("", "podtemplates"), ("apps", "replicasets"),
                   ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "daemonsets"), ("batch", "jobs"),
                   ("batch", "cronjobs")}


def _d(v):
    return v if isinstance(v, dict) else {}


def _l(v):
    return v if isinstance(v, list) else []


def _sc(c):
    """A container's securityContext, or None when unset (a nil pointer in Go)."""
    sc = c.get("securityContext")
    return sc if isinstance(sc, dict) else None


def _containers(spec):
    """visitContainers: init containers, containers, ephemeral containers."""
    out = []
    for group in ("initContainers", "containers", "ephemeralContainers"):
        out += [c for c in _l(spec.get(group)) if isinstance(c, dict)]
    return out


def _name(c):
    n = c.get("name")
    return n if isinstance(n, str) else ""


def join_quote(items):
    return '"' + '", "'.join(items) + '"' if items else ""


def pluralize(singular, plural, n):
    return singular if n == 1 else plural


def _containers_phrase(names):
    return "%s %s" % (pluralize("container", "containers", len(names)), join_quote(names))


def _windows(spec):
    return _d(spec.get("os")).get("name") == "windows"


def _pod_sc(spec):
    sc = spec.get("securityContext")
    return sc if isinstance(sc, dict) else None


# -- baseline checks --------------------------------------------------------------------------------------
def _app_armor(md, spec):
    bad_setters, bad_values = [], set()
    psc = _pod_sc(spec)
    if psc is not None and isinstance(psc.get("appArmorProfile"), dict):
        t = psc["appArmorProfile"].get("type") or ""
        if t not in ("RuntimeDefault", "Localhost"):
            bad_setters.append("pod")
            bad_values.add(t)
    bad = []
    for c in _containers(spec):
        sc = _sc(c)
        if sc is not None and isinstance(sc.get("appArmorProfile"), dict):
            t = sc["appArmorProfile"].get("type") or ""
            if t not in ("RuntimeDefault", "Localhost"):
                bad.append(_name(c))
                bad_values.add(t)
    if bad:
        bad_setters.append(_containers_phrase(bad))
    forbidden = []
    for k, v in _d(md.get("annotations")).items():
        v = v if isinstance(v, str) else ""
        if k.startswith("container.apparmor.security.beta.kubernetes.io/") and not (
                not v or v == "runtime/default" or v.startswith("localhost/")):
            forbidden.append("%s=%s" % (k, podspec.go_quote(v)))
    values = sorted(bad_values)
    if forbidden:
        values += sorted(forbidden)
        bad_setters.append(pluralize("annotation", "annotations", len(forbidden)))
    if bad_setters:
        return (pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
                "%s must not set AppArmor profile type to %s" % (" and ".join(bad_setters), join_quote(values)))
    return None


BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def _capabilities_baseline(md, spec):
    bad, caps = [], set()
    for c in _containers(spec):
        sc = _sc(c)
        if sc is None or not isinstance(sc.get("capabilities"), dict):
            continue
        added = [a for a in _l(sc["capabilities"].get("add")) if a not in BASELINE_CAPABILITIES]
        if added:
            bad.append(_name(c))
            caps.update(str(a) for a in added)
    if bad:
        return ("non-default capabilities", "%s must not include %s in securityContext.capabilities.add"
                % (_containers_phrase(bad), join_quote(sorted(caps))))
    return None


def _host_namespaces(md, spec):
    ns = [f + "=true" for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f) is True]
    return ("host namespaces", ", ".join(ns)) if ns else None


def _host_path_volumes(md, spec):
    vols = [str(v.get("name") or "") for v in _l(spec.get("volumes")) if isinstance(v, dict)
            and v.get("hostPath") is not None]
    if vols:
        return ("hostPath volumes", "%s %s" % (pluralize("volume", "volumes", len(vols)), join_quote(vols)))
    return None


def _host_ports(md, spec):
    bad, ports = [], set()
    for c in _containers(spec):
        hps = [p.get("hostPort") for p in _l(c.get("ports")) if isinstance(p, dict) and p.get("hostPort")]
        if hps:
            bad.append(_name(c))
            ports.update(str(p) for p in hps)
    if bad:
        return ("hostPort", "%s %s %s %s %s" % (pluralize("container", "containers", len(bad)), join_quote(bad),
                                                pluralize("uses", "use", len(bad)),
                                                pluralize("hostPort", "hostPorts", len(ports)),
                                                ", ".join(sorted(ports))))
    return None


def _privileged(md, spec):
    bad = [_name(c) for c in _containers(spec) if (_sc(c) or {}).get("privileged") is True]
    if bad:
        return ("privileged", "%s must not set securityContext.privileged=true" % _containers_phrase(bad))
    return None


def _proc_mount(md, spec):
    bad, types = [], set()
    for c in _containers(spec):
        sc = _sc(c)
        if sc is None or sc.get("procMount") is None:
            continue
        if sc["procMount"] != "Default":
            bad.append(_name(c))
            types.add(str(sc["procMount"]))
    if bad:
        return ("procMount", "%s must not set securityContext.procMount to %s" % (_containers_phrase(bad),
                                                                                 join_quote(sorted(types))))
    return None


def _se_linux(allowed):
    def check(md, spec):
        bad_setters, bad_types, state = [], set(), {"user": False, "role": False}

        def valid(opts):
            ok = True
            t = opts.get("type") or ""
            if t not in allowed:
                ok = False
                bad_types.add(t)
            if opts.get("user"):
                ok = False
                state["user"] = True
            if opts.get("role"):
                ok = False
                state["role"] = True
            return ok
        psc = _pod_sc(spec)
        if psc is not None and isinstance(psc.get("seLinuxOptions"), dict) and not valid(psc["seLinuxOptions"]):
            bad_setters.append("pod")
        bad = [_name(c) for c in _containers(spec) if isinstance((_sc(c) or {}).get("seLinuxOptions"), dict)
               and not valid(_sc(c)["seLinuxOptions"])]
        if bad:
            bad_setters.append(_containers_phrase(bad))
        if not bad_setters:
            return None
        data = []
        if bad_types:
            data.append("%s %s" % (pluralize("type", "types", len(bad_types)), join_quote(sorted(bad_types))))
        if state["user"]:
            data.append("user may not be set")
        if state["role"]:
            data.append("role may not be set")
        return ("seLinuxOptions", "%s set forbidden securityContext.seLinuxOptions: %s"
                % (" and ".join(bad_setters), "; ".join(data)))
    return check


def _valid_seccomp_annotation(v):
    return v in ("runtime/default", "docker/default") or v.startswith("localhost/")


def _seccomp_baseline_1_0(md, spec):
    ann = _d(md.get("annotations"))
    bad = set()
    key = "seccomp.security.alpha.kubernetes.io/pod"
    if key in ann and not _valid_seccomp_annotation(str(ann[key])):
        bad.add("%s=%s" % (key, podspec.go_quote(str(ann[key]))))
    for c in _containers(spec):
        key = "container.seccomp.security.alpha.kubernetes.io/" + _name(c)
        if key in ann and not _valid_seccomp_annotation(str(ann[key])):
            bad.add("%s=%s" % (key, podspec.go_quote(str(ann[key]))))
    if bad:
        return ("seccompProfile", "forbidden %s %s" % (pluralize("annotation", "annotations", len(bad)),
                                                       ", ".join(sorted(bad))))
    return None


def _seccomp_type(obj):
    sp = obj.get("seccompProfile") if isinstance(obj, dict) else None
    return (sp.get("type") or "") if isinstance(sp, dict) else None


def _seccomp(restricted):
    def check(md, spec):
        if restricted == "1.25" and _windows(spec):
            return None
        bad_setters, bad_values, pod_set = [], set(), False
        t = _seccomp_type(_pod_sc(spec))
        if t is not None:
            if t not in ("Localhost", "RuntimeDefault"):
                bad_setters.append("pod")
                bad_values.add(t)
            else:
                pod_set = True
        explicit, implicit = [], []
        for c in _containers(spec):
            t = _seccomp_type(_sc(c))
            if t is not None:
                if t not in ("Localhost", "RuntimeDefault"):
                    explicit.append(_name(c))
                    bad_values.add(t)
            elif not pod_set:
                implicit.append(_name(c))
        if explicit:
            bad_setters.append(_containers_phrase(explicit))
        if bad_setters:
            return ("seccompProfile", "%s must not set securityContext.seccompProfile.type to %s"
                    % (" and ".join(bad_setters), join_quote(sorted(bad_values))))
        if restricted and implicit:
            return ("seccompProfile", 'pod or %s must set securityContext.seccompProfile.type to "RuntimeDefault" '
                    'or "Localhost"' % _containers_phrase(implicit))
        return None
    return check


SYSCTLS_1_0 = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
               "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"}
SYSCTLS_1_27 = SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
SYSCTLS_1_29 = SYSCTLS_1_27 | {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                               "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
SYSCTLS_1_32 = SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}


def _sysctls(allowed):
    def check(md, spec):
        bad = [str(s.get("name") or "") for s in _l((_pod_sc(spec) or {}).get("sysctls")) if isinstance(s, dict)
               and s.get("name") not in allowed]
        return ("forbidden sysctls", ", ".join(bad)) if bad else None
    return check


def _windows_host_process(md, spec):
    bad = [_name(c) for c in _containers(spec)
           if _d((_sc(c) or {}).get("windowsOptions")).get("hostProcess") is True]
    setters = []
    if _d((_pod_sc(spec) or {}).get("windowsOptions")).get("hostProcess") is True:
        setters.append("pod")
    if bad:
        setters.append(_containers_phrase(bad))
    if setters:
        return ("hostProcess", "%s must not set securityContext.windowsOptions.hostProcess=true" % " and ".join(setters))
    return None


# -- restricted checks ------------------------------------------------------------------------------------
def _allow_privilege_escalation(windows_exempt):
    def check(md, spec):
        if windows_exempt and _windows(spec):
            return None
        bad = [_name(c) for c in _containers(spec) if (_sc(c) or {}).get("allowPrivilegeEscalation") is not False]
        if bad:
            return ("allowPrivilegeEscalation != false", "%s must set securityContext.allowPrivilegeEscalation=false"
                    % _containers_phrase(bad))
        return None
    return check


def _capabilities_restricted(windows_exempt):
    def check(md, spec):
        if windows_exempt and _windows(spec):
            return None
        missing, adding, caps = [], [], set()
        for c in _containers(spec):
            sc = _sc(c)
            if sc is None or not isinstance(sc.get("capabilities"), dict):
                missing.append(_name(c))
                continue
            if "ALL" not in _l(sc["capabilities"].get("drop")):
                missing.append(_name(c))
            added = [a for a in _l(sc["capabilities"].get("add")) if a != "NET_BIND_SERVICE"]
            if added:
                adding.append(_name(c))
                caps.update(str(a) for a in added)
        details = []
        if missing:
            details.append('%s must set securityContext.capabilities.drop=["ALL"]' % _containers_phrase(missing))
        if adding:
            details.append("%s must not include %s in securityContext.capabilities.add"
                           % (_containers_phrase(adding), join_quote(sorted(caps))))
        return ("unrestricted capabilities", "; ".join(details)) if details else None
    return check


ALLOWED_VOLUMES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected",
                   "secret")
RESTRICTED_VOLUME_TYPES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
                           "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
                           "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume",
                           "scaleIO", "storageos")


def _restricted_volumes(md, spec):
    bad, types = [], set()
    for v in _l(spec.get("volumes")):
        if not isinstance(v, dict) or any(v.get(k) is not None for k in ALLOWED_VOLUMES):
            continue
        bad.append(str(v.get("name") or ""))
        types.add(next((k for k in RESTRICTED_VOLUME_TYPES if v.get(k) is not None), "unknown"))
    if bad:
        return ("restricted volume types", "%s %s %s %s %s" % (
            pluralize("volume", "volumes", len(bad)), join_quote(bad), pluralize("uses", "use", len(bad)),
            pluralize("restricted volume type", "restricted volume types", len(types)), join_quote(sorted(types))))
    return None


def _run_as_non_root(md, spec):
    setters, pod_ok = [], False
    psc = _pod_sc(spec)
    if psc is not None and psc.get("runAsNonRoot") is not None:
        if psc["runAsNonRoot"] is False:
            setters.append("pod")
        else:
            pod_ok = True
    explicit, implicit = [], []
    for c in _containers(spec):
        sc = _sc(c)
        if sc is not None and sc.get("runAsNonRoot") is not None:
            if sc["runAsNonRoot"] is False:
                explicit.append(_name(c))
        elif not pod_ok:
            implicit.append(_name(c))
    if explicit:
        setters.append(_containers_phrase(explicit))
    if setters:
        return ("runAsNonRoot != true", "%s must not set securityContext.runAsNonRoot=false" % " and ".join(setters))
    if implicit:
        return ("runAsNonRoot != true", "pod or %s must set securityContext.runAsNonRoot=true"
                % _containers_phrase(implicit))
    return None


def _run_as_user(md, spec):
    setters = []
    psc = _pod_sc(spec)
    if psc is not None and psc.get("runAsUser") == 0 and psc.get("runAsUser") is not False:
        setters.append("pod")
    bad = [_name(c) for c in _containers(spec) if (_sc(c) or {}).get("runAsUser") == 0
           and (_sc(c) or {}).get("runAsUser") is not False]
    if bad:
        setters.append(_containers_phrase(bad))
    return ("runAsUser=0", "%s must not set runAsUser=0" % " and ".join(setters)) if setters else None


# (id, level, [(minimum minor version, check, ids it overrides)])
CHECKS = [
    ("appArmorProfile", "baseline", [(0, _app_armor, ())]),
    ("capabilities_baseline", "baseline", [(0, _capabilities_baseline, ())]),
    ("hostNamespaces", "baseline", [(0, _host_namespaces, ())]),
    ("hostPathVolumes", "baseline", [(0, _host_path_volumes, ())]),
    ("hostPorts", "baseline", [(0, _host_ports, ())]),
    ("privileged", "baseline", [(0, _privileged, ())]),
    ("procMount", "baseline", [(0, _proc_mount, ())]),
    ("seLinuxOptions", "baseline", [(0, _se_linux({"", "container_t", "container_init_t", "container_kvm_t"}), ()),
                                    (31, _se_linux({"", "container_t", "container_init_t", "container_kvm_t",
                                                    "container_engine_t"}), ())]),
    ("seccompProfile_baseline", "baseline", [(0, _seccomp_baseline_1_0, ()), (19, _seccomp(None), ())]),
    ("sysctls", "baseline", [(0, _sysctls(SYSCTLS_1_0), ()), (27, _sysctls(SYSCTLS_1_27), ()),
                             (29, _sysctls(SYSCTLS_1_29), ()), (32, _sysctls(SYSCTLS_1_32), ())]),
    ("windowsHostProcess", "baseline", [(0, _windows_host_process, ())]),
    ("allowPrivilegeEscalation", "restricted", [(8, _allow_privilege_escalation(False), ()),
                                                (25, _allow_privilege_escalation(True), ())]),
    ("capabilities_restricted", "restricted", [(22, _capabilities_restricted(False), ("capabilities_baseline",)),
                                               (25, _capabilities_restricted(True), ("capabilities_baseline",))]),
    ("restrictedVolumes", "restricted", [(0, _restricted_volumes, ("hostPathVolumes",))]),
    ("runAsNonRoot", "restricted", [(0, _run_as_non_root, ())]),
    ("runAsUser", "restricted", [(23, _run_as_user, ())]),
    ("seccompProfile_restricted", "restricted", [(19, _seccomp("1.19"), ("seccompProfile_baseline",)),
                                                 (25, _seccomp("1.25"), ("seccompProfile_baseline",))]),
]
# baseline ids sorted, then restricted ids sorted: the order the evaluator runs (and reports) them in
ORDER = sorted(c[0] for c in CHECKS if c[1] == "baseline") + sorted(c[0] for c in CHECKS if c[1] == "restricted")


def _at(versions, minor):
    found = None
    for v in versions:
        if v[0] <= minor:
            found = v
    return found


def evaluate(level, minor, md, spec):
    """[(reason, detail)] of the checks `level` at 1.`minor` (None: latest) fails."""
    if level == "privileged":
        return []
    minor = MAX_MINOR if minor is None or minor > MAX_MINOR else minor
    active = {}
    for cid, clevel, versions in CHECKS:
        if clevel == "restricted" and level != "restricted":
            continue
        v = _at(versions, minor)
        if v is not None:
            active[cid] = v
    for cid in list(active):
        for over in active[cid][2]:
            active.pop(over, None)
    md, spec = _d(md), _d(spec)
    out = []
    for cid in ORDER:
        if cid in active:
            r = active[cid][1](md, spec)
            if r is not None:
                out.append(r)
    return out


def forbidden_detail(results):
    """AggregateCheckResult.ForbiddenDetail."""
    return ", ".join("%s (%s)" % (r, d) if d else r for r, d in results)


def forbidden_reason(results):
    return ", ".join(r for r, _ in results)


# -- policy from namespace labels ---------------------------------------------------------------------------
def _parse_version(v):
    """(minor or None for latest, error)."""
    if v == "latest":
        return None, None
    import re
    m = re.fullmatch(r"v1\.([0-9]|[1-9][0-9]*)", v)
    if not m:
        return None, 'must be "latest" or "v1.x"'
    return int(m.group(1)), None


def _lv_string(level, minor):
    return "%s:%s" % (level, "latest" if minor is None else "v1.%d" % minor)


def policy(labels):
    """api.PolicyToEvaluate with the default policy: ({mode: (level, minor)}, [label errors as causes])."""
    labels = labels if isinstance(labels, dict) else {}
    p = {"enforce": ("privileged", None), "audit": ("privileged", None), "warn": ("privileged", None)}
    errs = []
    has_enforce = has_warn = has_warn_version = False
    for mode in ("enforce", "audit", "warn"):
        level, minor = p[mode]
        key = PREFIX + mode
        if key in labels:
            v = labels[key]
            if v in LEVELS:
                level = v
                if mode == "enforce":
                    has_enforce = True
            else:
                # enforce fails closed (restricted), audit and warn fail open (privileged)
                level = "restricted" if mode == "enforce" else "privileged"
                errs.append(podspec.invalid("metadata.labels[%s]" % key, v, "must be one of " + ", ".join(LEVELS)))
            if mode == "warn":
                has_warn = True
        vkey = key + "-version"
        if vkey in labels:
            minor, err = _parse_version(labels[vkey])
            if err:
                errs.append(podspec.invalid("metadata.labels[%s]" % vkey, labels[vkey], err))
            if mode == "warn":
                has_warn_version = True
        p[mode] = (level, minor)
    if not has_warn and has_enforce and LEVELS.index(p["enforce"][0]) > LEVELS.index(p["warn"][0]):
        p["warn"] = (p["enforce"][0], p["warn"][1] if has_warn_version else p["enforce"][1])
    return p, errs


def _namespace_labels(store, ns):
    nsobj = store.get(store.types[("", "namespaces")], "", ns)
    return ((nsobj or {}).get("metadata") or {}).get("labels") or {}


def _significant_pod_update(new, old):
    """isSignificantPodUpdate: only image changes (and new ephemeral containers) are evaluated again."""
    ns, os_ = _d(new.get("spec")), _d(old.get("spec"))
    for group in ("containers", "initContainers"):
        a, b = _l(ns.get(group)), _l(os_.get(group))
        if len(a) != len(b):
            return True
        if any(_d(x).get("image") != _d(y).get("image") for x, y in zip(a, b)):
            return True
    olds = {_d(c).get("name"): _d(c) for c in _l(os_.get("ephemeralContainers"))}
    for c in _l(ns.get("ephemeralContainers")):
        oc = olds.get(_d(c).get("name"))
        if oc is None or oc.get("image") != _d(c).get("image"):
            return True
    return False


def _pod_forbidden(name, why):
    d = {"name": name, "kind": "pods"} if name else {"kind": "pods"}
    what = 'pods "%s"' % name if name else "pods"
    return ApiError(403, "%s is forbidden: %s" % (what, why), "Forbidden", d)


def admit(store, rt, obj, old):
    """Validate a create (old None) or update of the main resource; returns the warnings, raises the refusal."""
    key = rt.key
    md = _d(obj.get("metadata"))
    if key == ("", "namespaces"):
        return _admit_namespace(store, obj, old)
    if key != ("", "pods") and key not in POD_CONTROLLERS:
        return []
    ns = md.get("namespace") or ""
    p, errs = policy(_namespace_labels(store, ns))
    if key == ("", "pods"):
        if not errs and all(p[m][0] == "privileged" for m in p):
            return []
        if old is not None and not _significant_pod_update(obj, old):
            return []
        pmd, pspec, enforce = md, obj.get("spec"), True
    else:
        if not errs and p["warn"][0] == "privileged" and p["audit"][0] == "privileged":
            return []
        tmpl = _d(obj.get("spec")).get("template")
        if key == ("batch", "cronjobs"):
            tmpl = _d(_d(_d(obj.get("spec")).get("jobTemplate")).get("spec")).get("template")
        elif key == ("", "podtemplates"):
            tmpl = obj.get("template")
        if not isinstance(tmpl, dict):
            return []
        pmd, pspec, enforce = tmpl.get("metadata"), tmpl.get("spec"), False
    cached = {}
    if enforce:
        res = cached[p["enforce"]] = evaluate(p["enforce"][0], p["enforce"][1], pmd, pspec)
        if res:
            raise _pod_forbidden(md.get("name"), "violates PodSecurity %s: %s" % (
                podspec.go_quote(_lv_string(*p["enforce"])), forbidden_detail(res)))
    res = cached.get(p["warn"])
    if res is None:
        res = evaluate(p["warn"][0], p["warn"][1], pmd, pspec)
    if res:
        return ["would violate PodSecurity %s: %s" % (podspec.go_quote(_lv_string(*p["warn"])), forbidden_detail(res))]
    return []


def _admit_namespace(store, obj, old):
    md = _d(obj.get("metadata"))
    newp, newerrs = policy(md.get("labels"))
    if old is None:
        if newerrs:
            from .errors import invalid
            raise invalid(store.types[("", "namespaces")], md.get("name"), newerrs)
        return []
    oldp, olderrs = policy(_d(old.get("metadata")).get("labels"))
    if newerrs and (not olderrs or newerrs != olderrs):
        from .errors import invalid
        raise invalid(store.types[("", "namespaces")], md.get("name"), newerrs)
    ne, oe = newp["enforce"], oldp["enforce"]
    if ne == oe or ne[0] == "privileged":
        return []
    if ne[1] == oe[1] and LEVELS.index(ne[0]) <= LEVELS.index(oe[0]):
        return []
    return _evaluate_pods_in_namespace(store, md.get("name"), ne)


def _evaluate_pods_in_namespace(store, ns, enforce):
    pods = store.list(store.types[("", "pods")], ns)
    # prioritizePods: uncontrolled pods and the first of each controller, then the other replicas
    first, dups, seen = [], [], set()
    for pod in pods:
        ctrl = next((r for r in _l(_d(pod.get("metadata")).get("ownerReferences"))
                     if isinstance(r, dict) and r.get("controller")), None)
        if ctrl is None:
            first.append(pod)
        elif ctrl.get("uid") in seen:
            dups.append(pod)
        else:
            seen.add(ctrl.get("uid"))
            first.append(pod)
    order, counts = [], {}
    for pod in (first + dups)[:3000]:
        res = evaluate(enforce[0], enforce[1], pod.get("metadata"), pod.get("spec"))
        if not res:
            continue
        w = forbidden_reason(res)
        name = pod["metadata"].get("name", "")
        if w not in counts:
            counts[w] = [name, 0]
            order.append(w)
        elif name < counts[w][0]:
            counts[w][0] = name
        counts[w][1] += 1
    out = []
    total = len(first) + len(dups)
    if total > 3000:
        out.append("new PodSecurity enforce level only checked against the first 3000 of %d existing pods" % total)
    if order:
        out.append("existing pods in namespace %s violate the new PodSecurity enforce level %s"
                   % (podspec.go_quote(ns), podspec.go_quote(_lv_string(*enforce))))
    decorated = []
    for w in order:
        name, n = counts[w]
        if n == 1:
            decorated.append("%s: %s" % (name, w))
        elif n == 2:
            decorated.append("%s (and 1 other pod): %s" % (name, w))
        else:
            decorated.append("%s (and %d other pods): %s" % (name, n - 1, w))
    return out + sorted(decorated)
