"""Pod spec validation as kube-apiserver 1.32 does it (pkg/apis/core/validation ValidatePodSpec and the
apimachinery validators it calls), with the server's own field paths, messages and reasons.

Applied to pods (`spec.`) and to the templates of Deployments and ReplicaSets (`spec.template.spec.`); a
StatefulSet's template spec is not validated (ValidatePodTemplateSpecForStatefulSet has a TODO for it), only
its labels and annotations: its pods are validated when the controller creates them.

Every check returns causes as (field, message-after-field, reason), the shape errors.invalid takes."""

import json
import math
import re

# -- apimachinery pkg/util/validation -----------------------------------------------------------------
DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
# (matched whole with fullmatch: Go's `$` does not match before a trailing newline as Python's does)
_DNS1123_LABEL = re.compile(DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(DNS1123_SUBDOMAIN_FMT)
_QUALIFIED_NAME = re.compile(QUALIFIED_NAME_FMT)
_LABEL_VALUE = re.compile(LABEL_VALUE_FMT)
_CONFIG_MAP_KEY = re.compile(CONFIG_MAP_KEY_FMT)
_PORT_NAME_CHARSET = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER = re.compile("[a-z]")

QUALIFIED_NAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                      "alphanumeric character")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character")
DNS1123_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
                     "must start and end with an alphanumeric character")
DNS1123_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
                         "or '.', and must start and end with an alphanumeric character")
RELAXED_ENV_MSG = "a valid environment variable name must consist only of printable ASCII characters other than '='"
CONFIG_MAP_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
TOTAL_ANNOTATION_SIZE = 256 * 1024


def regex_error(msg, fmt, *examples):
    """validation.RegexError, with its double spaces between examples."""
    if not examples:
        return msg + " (regex used for validation is '" + fmt + "')"
    msg += " (e.g. "
    for i, e in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += "'" + e + "', "
    return msg + "regex used for validation is '" + fmt + "')"


def max_len_error(n):
    return "must be no more than %d characters" % n


def inclusive_range_error(lo, hi):
    return "must be between %d and %d, inclusive" % (lo, hi)


def is_dns1123_label(v):
    errs = []
    if len(v) > 63:
        errs.append(max_len_error(63))
    if not _DNS1123_LABEL.fullmatch(v):
        if _DNS1123_SUBDOMAIN.fullmatch(v):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(v):
    errs = []
    if len(v) > 253:
        errs.append(max_len_error(253))
    if not _DNS1123_SUBDOMAIN.fullmatch(v):
        errs.append(regex_error(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_qualified_name(v):
    errs = []
    parts = v.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in is_dns1123_subdomain(prefix)]
    else:
        return ["a qualified name " + regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name",
                                                  "123-abc") +
                " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _QUALIFIED_NAME.fullmatch(name):
        errs.append("name part " + regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name",
                                               "123-abc"))
    return errs


def is_valid_label_value(v):
    errs = []
    if len(v) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_VALUE.fullmatch(v):
        errs.append(regex_error(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_valid_port_num(n):
    return [] if 1 <= n <= 65535 else [inclusive_range_error(1, 65535)]


def is_valid_port_name(v):
    errs = []
    if len(v) > 15:
        errs.append(max_len_error(15))
    if not _PORT_NAME_CHARSET.fullmatch(v):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER.search(v):
        errs.append("must contain at least one letter (a-z)")
    if "--" in v:
        errs.append("must not contain consecutive hyphens")
    if v and (v[0] == "-" or v[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_relaxed_env_var_name(v):
    """IsRelaxedEnvVarName: the RelaxedEnvironmentVariableValidation gate is beta and on in 1.32."""
    errs = []
    if not v:
        errs.append("environment variable name must be non-empty")
    for ch in v:
        if ord(ch) > 127 or not ch.isprintable() or ch == "=":
            errs.append(RELAXED_ENV_MSG)
            break
    return errs


def _has_chdir_prefix(v):
    errs = []
    if v == ".":
        errs.append("must not be '.'")
    elif v == "..":
        errs.append("must not be '..'")
    elif v.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def is_config_map_key(v):
    errs = []
    if len(v) > 253:
        errs.append(max_len_error(253))
    if not _CONFIG_MAP_KEY.fullmatch(v):
        errs.append(regex_error(CONFIG_MAP_KEY_MSG, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    return errs + _has_chdir_prefix(v)


# -- field errors (apimachinery pkg/util/validation/field) --------------------------------------------
def go_quote(s):
    """strconv.Quote, as %q prints a string."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7f:
            out.append("\\x%02x" % o)
        elif not ch.isprintable():
            out.append("\\u%04x" % o if o <= 0xffff else "\\U%08x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_value(v):
    if isinstance(v, _GoStruct):
        return str(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, sort_keys=True)


def required(f, detail=""):
    return (f, "Required value" + (": " + detail if detail else ""), "FieldValueRequired")


def invalid(f, value, detail):
    return (f, "Invalid value: %s%s" % (go_value(value), ": " + detail if detail else ""), "FieldValueInvalid")


def duplicate(f, value):
    return (f, "Duplicate value: %s" % go_value(value), "FieldValueDuplicate")


def not_found(f, value):
    return (f, "Not found: %s" % go_value(value), "FieldValueNotFound")


def not_supported(f, value, valid):
    return (f, "Unsupported value: %s: supported values: %s" % (go_value(value), ", ".join(go_quote(v) for v in valid)),
            "FieldValueNotSupported")


def forbidden(f, detail):
    return (f, "Forbidden" + (": " + detail if detail else ""), "FieldValueForbidden")


def too_long(f, n):
    return (f, "Too long: may not be more than %d bytes" % n, "FieldValueTooLong")


def nonnegative(f, v):
    """ValidateNonnegativeField."""
    if isinstance(v, int) and not isinstance(v, bool) and v < 0:
        return [invalid(f, v, "must be greater than or equal to 0")]
    return []


# -- metadata -------------------------------------------------------------------------------------------
def label_causes(labels, path):
    """unversionedvalidation.ValidateLabels: every error carries the map's own path."""
    causes = []
    if not isinstance(labels, dict):
        return causes
    for k, v in labels.items():
        causes += [invalid(path, k, m) for m in is_qualified_name(k)]
        if isinstance(v, str):
            causes += [invalid(path, v, m) for m in is_valid_label_value(v)]
    return causes


def annotation_causes(annotations, path):
    """apimachineryvalidation.ValidateAnnotations: keys are qualified names in any case; 256 KiB in total."""
    causes = []
    if not isinstance(annotations, dict):
        return causes
    for k in annotations:
        causes += [invalid(path, k, m) for m in is_qualified_name(k.lower())]
    if sum(len(k) + len(v if isinstance(v, str) else "") for k, v in annotations.items()) > TOTAL_ANNOTATION_SIZE:
        causes.append(too_long(path, TOTAL_ANNOTATION_SIZE))
    return causes


# -- pod spec -------------------------------------------------------------------------------------------
def _d(v):
    return v if isinstance(v, dict) else {}


def _l(v):
    return v if isinstance(v, list) else []


def _s(v):
    return v if isinstance(v, str) else ""


def _i(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


# VolumeSource members in the order validateVolumeSource looks at them, with the path it reports a second
# type at (its "downwarAPI" misspelling included). `image` is left out: the ImageVolume gate is off in 1.32,
# so the field is dropped and such a volume has no type.
VOLUME_TYPES = [("emptyDir", "emptyDir"), ("hostPath", "hostPath"), ("gitRepo", "gitRepo"),
                ("gcePersistentDisk", "gcePersistentDisk"), ("awsElasticBlockStore", "awsElasticBlockStore"),
                ("secret", "secret"), ("nfs", "nfs"), ("iscsi", "iscsi"), ("glusterfs", "glusterfs"),
                ("flocker", "flocker"), ("persistentVolumeClaim", "persistentVolumeClaim"), ("rbd", "rbd"),
                ("cinder", "cinder"), ("cephfs", "cephFS"), ("quobyte", "quobyte"), ("downwardAPI", "downwarAPI"),
                ("fc", "fc"), ("flexVolume", "flexVolume"), ("configMap", "configMap"), ("azureFile", "azureFile"),
                ("vsphereVolume", "vsphereVolume"), ("photonPersistentDisk", "photonPersistentDisk"),
                ("portworxVolume", "portworxVolume"), ("azureDisk", "azureDisk"), ("storageos", "storageos"),
                ("projected", "projected"), ("scaleIO", "scaleIO"), ("csi", "csi"), ("ephemeral", "ephemeral")]


def _path_no_backsteps(p, f):
    # (filepath.ToSlash changes nothing on a Linux API server: a backslash is no separator)
    return [invalid(f, p, "must not contain '..'")] if ".." in p.split("/") else []


def _local_descending_path(p, f):
    causes = []
    if p.startswith("/"):
        causes.append(invalid(f, p, "must be a relative path"))
    return causes + _path_no_backsteps(p, f)


def _volume_source(v, path):
    causes = []
    n = 0
    for key, fname in VOLUME_TYPES:
        src = v.get(key)
        if src is None:
            continue
        if n > 0:
            causes.append(forbidden("%s.%s" % (path, fname), "may not specify more than 1 volume type"))
            continue
        n += 1
        src = _d(src)
        if key == "hostPath":
            if not _s(src.get("path")):
                causes.append(required(path + ".hostPath.path"))
            else:
                causes += _path_no_backsteps(src["path"], path + ".hostPath.path")
        elif key == "secret" and not _s(src.get("secretName")):
            causes.append(required(path + ".secret.secretName"))
        elif key == "configMap" and not _s(src.get("name")):
            causes.append(required(path + ".configMap.name"))
        elif key == "persistentVolumeClaim" and not _s(src.get("claimName")):
            causes.append(required(path + ".persistentVolumeClaim.claimName"))
    if n == 0:
        causes.append(required(path, "must specify a volume type"))
    return causes


def _volumes(vols, path):
    """ValidateVolumes: returns (names of the valid volumes, causes); a volume with any error is not one a
    mount may name."""
    names, causes = {}, []
    for i, vol in enumerate(_l(vols)):
        vol = _d(vol)
        ip = "%s[%d]" % (path, i)
        name = _s(vol.get("name"))
        el = _volume_source(vol, ip)
        if not name:
            el.append(required(ip + ".name"))
        else:
            el += [invalid(ip + ".name", name, m) for m in is_dns1123_label(name)]
        if name in names:
            el.append(duplicate(ip + ".name", name))
        if el:
            causes += el
        else:
            names[name] = vol
    return names, causes


def _ports(ports, path):
    causes, names = [], set()
    for i, p in enumerate(_l(ports)):
        p = _d(p)
        ip = "%s[%d]" % (path, i)
        name = _s(p.get("name"))
        if name:
            msgs = is_valid_port_name(name)
            if msgs:
                causes += [invalid(ip + ".name", name, m) for m in msgs]
            elif name in names:
                causes.append(duplicate(ip + ".name", name))
            else:
                names.add(name)
        cp = _i(p.get("containerPort"))
        if cp == 0:
            causes.append(required(ip + ".containerPort"))
        else:
            causes += [invalid(ip + ".containerPort", cp, m) for m in is_valid_port_num(cp)]
        hp = _i(p.get("hostPort"))
        if hp != 0:
            causes += [invalid(ip + ".hostPort", hp, m) for m in is_valid_port_num(hp)]
        proto = _s(p.get("protocol"))
        if not proto:
            causes.append(required(ip + ".protocol"))
        elif proto not in ("TCP", "UDP", "SCTP"):
            causes.append(not_supported(ip + ".protocol", proto, ["SCTP", "TCP", "UDP"]))
    return causes


# ConvertDownwardAPIFieldLabel (v1), and the fieldPaths validEnvDownwardAPIFieldPathExpressions allows
_CONVERTIBLE = {"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
                "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName", "spec.schedulerName",
                "status.phase", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
ENV_FIELD_PATHS = sorted({"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                          "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                          "status.podIPs"})


def _split_subscript(fp):
    """fieldpath.SplitMaybeSubscriptedPath."""
    if not fp.endswith("']"):
        return fp, "", False
    parts = fp[:-2].split("['", 1)
    if len(parts) < 2 or not parts[0]:
        return fp, "", False
    return parts[0], parts[1], True


def _field_selector(fs, path):
    fs = _d(fs)
    if not _s(fs.get("apiVersion")):
        return [required(path + ".apiVersion")]
    fp = _s(fs.get("fieldPath"))
    if not fp:
        return [required(path + ".fieldPath")]
    if fs["apiVersion"] != "v1":
        return [invalid(path + ".fieldPath", fp, "error converting fieldPath: unsupported pod version: %s"
                        % fs["apiVersion"])]
    p, sub, ok = _split_subscript(fp)
    if ok:
        if p not in ("metadata.annotations", "metadata.labels"):
            return [invalid(path + ".fieldPath", fp, "error converting fieldPath: field label does not support "
                            "subscript: %s" % fp)]
        key = sub.lower() if p == "metadata.annotations" else sub
        return [invalid(path, key, m) for m in is_qualified_name(key)]
    if fp == "spec.host":
        fp = "spec.nodeName"
    if fp not in _CONVERTIBLE:
        return [invalid(path + ".fieldPath", fp, "error converting fieldPath: field label not supported: %s" % fp)]
    if fp not in ENV_FIELD_PATHS:
        return [not_supported(path + ".fieldPath", fp, ENV_FIELD_PATHS)]
    return []


def _key_selector(s, path):
    s = _d(s)
    name = _s(s.get("name"))
    causes = [invalid(path + ".name", name, m) for m in is_dns1123_subdomain(name)]
    key = _s(s.get("key"))
    if not key:
        causes.append(required(path + ".key"))
    else:
        causes += [invalid(path + ".key", key, m) for m in is_config_map_key(key)]
    return causes


def _env(env, path):
    causes = []
    for i, ev in enumerate(_l(env)):
        ev = _d(ev)
        ip = "%s[%d]" % (path, i)
        name = _s(ev.get("name"))
        if not name:
            causes.append(required(ip + ".name"))
        else:
            causes += [invalid(ip + ".name", name, m) for m in is_relaxed_env_var_name(name)]
        vf = ev.get("valueFrom")
        if vf is None:
            continue
        vf, vp, n = _d(vf), ip + ".valueFrom", 0
        if vf.get("fieldRef") is not None:
            n += 1
            causes += _field_selector(vf["fieldRef"], vp + ".fieldRef")
        if vf.get("resourceFieldRef") is not None:
            n += 1
            if not _s(_d(vf["resourceFieldRef"]).get("resource")):
                causes.append(required(vp + ".resourceFieldRef.resource"))
        if vf.get("configMapKeyRef") is not None:
            n += 1
            causes += _key_selector(vf["configMapKeyRef"], vp + ".configMapKeyRef")
        if vf.get("secretKeyRef") is not None:
            n += 1
            causes += _key_selector(vf["secretKeyRef"], vp + ".secretKeyRef")
        if n == 0:
            causes.append(invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` "
                                  "or `secretKeyRef`"))
        elif _s(ev.get("value")):
            causes.append(invalid(vp, "", "may not be specified when `value` is not empty"))
        elif n > 1:
            causes.append(invalid(vp, "", "may not have more than one field specified at a time"))
    return causes


def _env_from(env_from, path):
    causes = []
    for i, ev in enumerate(_l(env_from)):
        ev = _d(ev)
        ip = "%s[%d]" % (path, i)
        prefix = _s(ev.get("prefix"))
        if prefix:
            causes += [invalid(ip + ".prefix", prefix, m) for m in is_relaxed_env_var_name(prefix)]
        n = 0
        for key in ("configMapRef", "secretRef"):
            if ev.get(key) is None:
                continue
            n += 1
            name = _s(_d(ev[key]).get("name"))
            if not name:
                causes.append(required("%s.%s.name" % (ip, key)))
            else:
                # NameIsDNSSubdomain(name, prefix=true): maskTrailingDash lets a trailing '-' through
                masked = name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name
                causes += [invalid("%s.%s.name" % (ip, key), name, m) for m in is_dns1123_subdomain(masked)]
        if n == 0:
            causes.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif n > 1:
            causes.append(invalid(path, "", "may not have more than one field specified at a time"))
    return causes


def _volume_mounts(mounts, vols, path):
    causes, points = [], set()
    for i, m in enumerate(_l(mounts)):
        m = _d(m)
        ip = "%s[%d]" % (path, i)
        name = _s(m.get("name"))
        if not name:
            causes.append(required(ip + ".name"))
        if name not in vols:
            causes.append(not_found(ip + ".name", name))
        mp = _s(m.get("mountPath"))
        if not mp:
            causes.append(required(ip + ".mountPath"))
        if mp in points:
            causes.append(invalid(ip + ".mountPath", mp, "must be unique"))
        points.add(mp)
        sub, expr = _s(m.get("subPath")), _s(m.get("subPathExpr"))
        if sub:
            causes += _local_descending_path(sub, path + ".subPath")  # (the real path lacks the index too)
        if expr:
            if sub:
                causes.append(invalid(ip + ".subPathExpr", expr, "subPathExpr and subPath are mutually exclusive"))
            causes += _local_descending_path(expr, path + ".subPathExpr")
    return causes


def _port_or_name(port, path):
    if isinstance(port, str):
        return [invalid(path, port, m) for m in is_valid_port_name(port)]
    n = _i(port)
    return [invalid(path, n, m) for m in is_valid_port_num(n)]


def _handler(h, path, kinds):
    causes, n = [], 0
    for kind in kinds:
        a = h.get(kind)
        if a is None:
            continue
        if n > 0:
            causes.append(forbidden("%s.%s" % (path, kind), "may not specify more than 1 handler type"))
            continue
        n += 1
        a = _d(a)
        kp = "%s.%s" % (path, kind)
        if kind == "exec":
            if not _l(a.get("command")):
                causes.append(required(kp + ".command"))
        elif kind == "httpGet":
            if not _s(a.get("path")):
                causes.append(required(kp + ".path"))
            causes += _port_or_name(a.get("port"), kp + ".port")
            if _s(a.get("scheme")) not in ("HTTP", "HTTPS"):
                causes.append(not_supported(kp + ".scheme", _s(a.get("scheme")), ["HTTP", "HTTPS"]))
        elif kind == "tcpSocket":
            causes += _port_or_name(a.get("port"), kp + ".port")
        elif kind == "grpc":
            causes += _port_or_name(_i(a.get("port")), kp + ".port")
    if n == 0:
        causes.append(required(path, "must specify a handler type"))
    return causes


PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")


def _probe(probe, path, kind):
    if probe is None:
        return []
    probe = _d(probe)
    causes = _handler(probe, path, PROBE_HANDLERS)
    for f in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        causes += nonnegative("%s.%s" % (path, f), probe.get(f))
    tgps = probe.get("terminationGracePeriodSeconds")
    if isinstance(tgps, int) and not isinstance(tgps, bool) and tgps <= 0:
        causes.append(invalid(path + ".terminationGracePeriodSeconds", tgps, "must be greater than 0"))
    if kind in ("livenessProbe", "startupProbe") and probe.get("successThreshold", 1) != 1:
        causes.append(invalid(path + ".successThreshold", probe.get("successThreshold"), "must be 1"))
    if kind == "readinessProbe" and tgps is not None:
        causes.append(invalid(path + ".terminationGracePeriodSeconds", tgps, "must not be set for readinessProbes"))
    return causes


def _lifecycle(lc, path):
    lc = _d(lc)
    causes = []
    for hook in ("postStart", "preStop"):
        if lc.get(hook) is not None:
            causes += _handler(_d(lc[hook]), "%s.%s" % (path, hook), LIFECYCLE_HANDLERS)
    return causes


def _container_common(c, vols, path, host_users=True):
    causes = []
    name = _s(c.get("name"))
    if not name:
        causes.append(required(path + ".name"))
    else:
        causes += [invalid(path + ".name", name, m) for m in is_dns1123_label(name)]
    if not _s(c.get("image")):
        causes.append(required(path + ".image"))
    tmp = _s(c.get("terminationMessagePolicy"))
    if not tmp:
        causes.append(required(path + ".terminationMessagePolicy"))
    elif tmp not in ("File", "FallbackToLogsOnError"):
        causes.append(not_supported(path + ".terminationMessagePolicy", tmp, ["File", "FallbackToLogsOnError"]))
    causes += _ports(c.get("ports"), path + ".ports")
    causes += _env(c.get("env"), path + ".env")
    causes += _env_from(c.get("envFrom"), path + ".envFrom")
    causes += _volume_mounts(c.get("volumeMounts"), vols, path + ".volumeMounts")
    ipp = _s(c.get("imagePullPolicy"))
    if not ipp:
        causes.append(required(path + ".imagePullPolicy"))
    elif ipp not in ("Always", "IfNotPresent", "Never"):
        causes.append(not_supported(path + ".imagePullPolicy", ipp, ["Always", "IfNotPresent", "Never"]))
    causes += _resources(c.get("resources"), path + ".resources")
    causes += _security_context(c.get("securityContext"), path + ".securityContext", host_users)
    return causes


# -- resources (validateResourceRequirements with validateContainerResourceName) ------------------------
STANDARD_RESOURCES = {"cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
                      "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
                      "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
                      "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports",
                      "services.loadbalancers"}
CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}


def _native(name):
    return "/" not in name or "kubernetes.io/" in name


def _overcommit_allowed(name):
    return _native(name) and not name.startswith("hugepages-")


def _extended(name):
    return not _native(name) and not name.startswith("requests.") and not is_qualified_name("requests." + name)


def _resource_name(name, f):
    causes = [invalid(f, name, m) for m in is_qualified_name(name)]
    if causes:
        return causes
    if "/" not in name:
        if name not in STANDARD_RESOURCES and not name.startswith(("hugepages-", "requests.hugepages-")):
            return [invalid(f, name, "must be a standard resource type or fully qualified")]
        if name not in CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            return [invalid(f, name, "must be a standard resource for containers")]
    elif not _native(name) and not _extended(name):
        return [invalid(f, name, "doesn't follow extended resource name standard")]
    return []


def _quantities(rl):
    """A ResourceList as {name: Quantity}; what does not parse was refused when the body was decoded."""
    from . import quantity
    out = {}
    for k, v in _d(rl).items():
        try:
            out[k] = quantity.parse(v)
        except quantity.QuantityError:
            pass
    return out


def _resources(res, path):
    res = _d(res)
    causes = []
    lim_path, req_path = path + ".limits", path + ".requests"
    limits, requests = _quantities(res.get("limits")), _quantities(res.get("requests"))
    lim_qos = req_qos = lim_huge = req_huge = False
    for name, q in limits.items():
        f = "%s[%s]" % (lim_path, name)
        causes += _resource_name(name, f)
        if q.value < 0:
            causes.append(invalid(f, str(q), "must be greater than or equal to 0"))
        lim_huge = lim_huge or name.startswith("hugepages-")
        lim_qos = lim_qos or name in ("cpu", "memory")
    for name, q in requests.items():
        f = "%s[%s]" % (req_path, name)
        causes += _resource_name(name, f)
        if q.value < 0:
            causes.append(invalid(f, str(q), "must be greater than or equal to 0"))
        lq = limits.get(name)
        if lq is not None:
            if q.cmp(lq) != 0 and not _overcommit_allowed(name):
                causes.append(invalid(req_path, str(q), "must be equal to %s limit of %s" % (name, lq)))
            elif q.cmp(lq) > 0:
                causes.append(invalid(req_path, str(q), "must be less than or equal to %s limit of %s" % (name, lq)))
        elif not _overcommit_allowed(name):
            causes.append(required(lim_path, "Limit must be set for non overcommitable resources"))
        req_huge = req_huge or name.startswith("hugepages-")
        req_qos = req_qos or name in ("cpu", "memory")
    if not lim_qos and not req_qos and (req_huge or lim_huge):
        causes.append(forbidden(path, "HugePages require cpu or memory"))
    return causes


# -- security contexts (ValidateSecurityContext, validatePodSpecSecurityContext) -------------------------
MAX_ID = 2147483647


def _id_range(v, f):
    if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v <= MAX_ID:
        return [invalid(f, v, inclusive_range_error(0, MAX_ID))]
    return []


def _seccomp_profile(sp, f):
    if not isinstance(sp, dict):
        return []
    causes = []
    t = _s(sp.get("type"))
    if not t:
        causes.append(required(f + ".type", "type is required when seccompProfile is set"))
    elif t not in ("Localhost", "RuntimeDefault", "Unconfined"):
        causes.append(not_supported(f + ".type", t, ["Localhost", "RuntimeDefault", "Unconfined"]))
    lp = sp.get("localhostProfile")
    if t == "Localhost":
        if lp is None:
            causes.append(required(f + ".localhostProfile", "must be set when seccomp type is Localhost"))
        else:
            causes += _local_descending_path(_s(lp), f + ".localhostProfile")
    elif lp is not None:
        causes.append(invalid(f + ".localhostProfile", go_struct("core.SeccompProfile", sp),
                              "can only be set when seccomp type is Localhost"))
    return causes


def go_struct(name, d):
    """Stands for the %#v of a Go struct pointer in a message (the real text carries pointer addresses)."""
    return _GoStruct("%s{%s}" % (name, ", ".join("%s:%s" % (k[:1].upper() + k[1:], json.dumps(v, sort_keys=True))
                                                 for k, v in sorted(d.items()))))


class _GoStruct(str):
    pass


def _security_context(sc, path, host_users):
    if not isinstance(sc, dict):
        return []
    causes = _id_range(sc.get("runAsUser"), path + ".runAsUser")
    causes += _id_range(sc.get("runAsGroup"), path + ".runAsGroup")
    pm = sc.get("procMount")
    if pm is not None:
        if pm not in ("Default", "Unmasked"):
            causes.append(not_supported(path + ".procMount", _s(pm), ["Default", "Unmasked"]))
        if host_users and pm == "Unmasked":
            causes.append(invalid(path + ".procMount", pm, "`hostUsers` must be false to use `Unmasked`"))
    causes += _seccomp_profile(sc.get("seccompProfile"), path + ".seccompProfile")
    if sc.get("allowPrivilegeEscalation") is False:
        if sc.get("privileged") is True:
            causes.append(invalid(path, go_struct("core.SecurityContext", sc),
                                  "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
        for cap in _l(_d(sc.get("capabilities")).get("add")):
            if cap == "CAP_SYS_ADMIN":
                causes.append(invalid(path, go_struct("core.SecurityContext", sc), "cannot set "
                                      "`allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
    return causes


def _pod_security_context(psc, spec, path):
    if not isinstance(psc, dict):
        return []
    f = path + ".securityContext"
    causes = _id_range(psc.get("fsGroup"), f + ".fsGroup")
    causes += _id_range(psc.get("runAsUser"), f + ".runAsUser")
    causes += _id_range(psc.get("runAsGroup"), f + ".runAsGroup")
    for i, g in enumerate(_l(psc.get("supplementalGroups"))):
        causes += _id_range(g, "%s.supplementalGroups[%d]" % (f, i))
    if psc.get("shareProcessNamespace") is True and spec.get("hostPID") is True:
        causes.append(invalid(f + ".shareProcessNamespace", True, "ShareProcessNamespace and HostPID cannot both "
                              "be enabled"))
    causes += _seccomp_profile(psc.get("seccompProfile"), f + ".seccompProfile")
    return causes


def _host_port_conflicts(containers, path):
    """AccumulateUniqueHostPorts over `containers`, indexed from 0 under `path`."""
    causes, seen = [], set()
    for ci, c in enumerate(containers):
        for pi, p in enumerate(_l(_d(c).get("ports"))):
            p = _d(p)
            hp = _i(p.get("hostPort"))
            if hp == 0:
                continue
            key = "%s/%s/%d" % (_s(p.get("protocol")), _s(p.get("hostIP")), hp)
            if key in seen:
                causes.append(duplicate("%s[%d].ports[%d].hostPort" % (path, ci, pi), key))
            else:
                seen.add(key)
    return causes


def _containers(containers, vols, path, host_users=True):
    containers = _l(containers)
    if not containers:
        return [required(path)]
    causes, names = [], set()
    for i, c in enumerate(containers):
        c = _d(c)
        ip = "%s[%d]" % (path, i)
        causes += _container_common(c, vols, ip, host_users)
        name = _s(c.get("name"))
        if name in names:
            causes.append(duplicate(ip + ".name", name))
        else:
            names.add(name)
        if c.get("lifecycle") is not None:
            causes += _lifecycle(c["lifecycle"], ip + ".lifecycle")
        for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
            causes += _probe(c.get(kind), "%s.%s" % (ip, kind), kind)
        if c.get("restartPolicy") is not None:
            causes.append(forbidden(ip + ".restartPolicy", "may not be set for non-init containers"))
    return causes + _host_port_conflicts(containers, path)


def _init_containers(inits, regular, vols, path, host_users=True):
    causes = []
    names = {_s(_d(c).get("name")) for c in _l(regular)}
    for i, c in enumerate(_l(inits)):
        c = _d(c)
        ip = "%s[%d]" % (path, i)
        causes += _container_common(c, vols, ip, host_users)
        always = False
        rp = c.get("restartPolicy")
        if rp is not None:
            if rp != "Always":
                causes.append(not_supported(ip + ".restartPolicy", _s(rp), ["Always"]))
            always = rp == "Always"
        name = _s(c.get("name"))
        if name in names:
            causes.append(duplicate(ip + ".name", name))
        elif name:
            names.add(name)
        causes += _host_port_conflicts([c], path)  # each init container alone, reported at index 0
        if always:
            if c.get("lifecycle") is not None:
                causes += _lifecycle(c["lifecycle"], ip + ".lifecycle")
            for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
                causes += _probe(c.get(kind), "%s.%s" % (ip, kind), kind)
        else:
            for kind in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if c.get(kind) is not None:
                    causes.append(forbidden("%s.%s" % (ip, kind),
                                            "may not be set for init containers without restartPolicy=Always"))
    return causes


def validate_pod_spec(spec, path, is_pod):
    """ValidatePodSpec (and, for a pod, the checks validatePodMetadataAndSpec and ValidatePodCreate add)."""
    spec = _d(spec)
    causes = []
    if spec.get("terminationGracePeriodSeconds") is None:
        causes.append(required(path + ".terminationGracePeriodSeconds"))
    # hostUsers defaults to true; false is the UserNamespacesSupport gate's (beta, off in 1.32: the field is
    # dropped and stays true)
    host_users = True
    vols, vcauses = _volumes(spec.get("volumes"), path + ".volumes")
    causes += vcauses
    causes += _containers(spec.get("containers"), vols, path + ".containers", host_users)
    causes += _init_containers(spec.get("initContainers"), spec.get("containers"), vols, path + ".initContainers",
                               host_users)
    if spec.get("hostNetwork") is True:
        for i, c in enumerate(_l(spec.get("containers"))):
            for j, p in enumerate(_l(_d(c).get("ports"))):
                hp, cp = _i(_d(p).get("hostPort")), _i(_d(p).get("containerPort"))
                if (is_pod or hp != 0) and hp != cp:
                    causes.append(invalid("%s.containers[%d].ports[%d].hostPort" % (path, i, j), hp,
                                          "must match `containerPort` when `hostNetwork` is true"))
    rp = _s(spec.get("restartPolicy"))
    if not rp:
        causes.append(required(path + ".restartPolicy"))
    elif rp not in ("Always", "OnFailure", "Never"):
        causes.append(not_supported(path + ".restartPolicy", rp, ["Always", "OnFailure", "Never"]))
    dp = _s(spec.get("dnsPolicy"))
    if not dp:
        causes.append(required(path + ".dnsPolicy"))
    elif dp not in ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"):
        causes.append(not_supported(path + ".dnsPolicy", dp, ["ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                                              "None"]))
    causes += label_causes(spec.get("nodeSelector"), path + ".nodeSelector")
    causes += _pod_security_context(spec.get("securityContext"), spec, path)
    if dp == "None" and spec.get("dnsConfig") is None:
        causes.append(required(path + ".dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None"))
    for f in ("serviceAccountName", "nodeName"):
        v = _s(spec.get(f))
        if v:
            causes += [invalid("%s.%s" % (path, f), v, m) for m in is_dns1123_subdomain(v)]
    ads = spec.get("activeDeadlineSeconds")
    if isinstance(ads, int) and not isinstance(ads, bool) and not 1 <= ads <= 2147483647:
        causes.append(invalid(path + ".activeDeadlineSeconds", ads, inclusive_range_error(1, 2147483647)))
    for f in ("hostname", "subdomain"):
        v = _s(spec.get(f))
        if v:
            causes += [invalid("%s.%s" % (path, f), v, m) for m in is_dns1123_label(v)]
    if is_pod:
        for group in ("containers", "initContainers"):
            for i, c in enumerate(_l(spec.get(group))):
                image = _s(_d(c).get("image"))
                if image != image.strip():
                    causes.append(invalid("%s.%s[%d].image" % (path, group, i), image,
                                          "must not have leading or trailing whitespace"))
    return causes


def validate_pod(pod, old):
    """The pod-spec part of ValidatePodCreate / ValidatePodUpdate."""
    spec = pod.get("spec")
    causes = validate_pod_spec(spec, "spec", True)
    if old is None and _l(_d(spec).get("ephemeralContainers")):
        causes.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    return causes


def validate_template(tmpl, path):
    """ValidatePodTemplateSpec, for the templates of Deployments and ReplicaSets."""
    tmpl = _d(tmpl)
    md = _d(tmpl.get("metadata"))
    causes = label_causes(md.get("labels"), path + ".labels")
    causes += annotation_causes(md.get("annotations"), path + ".annotations")
    causes += validate_pod_spec(tmpl.get("spec"), path + ".spec", False)
    if _l(_d(tmpl.get("spec")).get("ephemeralContainers")):
        causes.append(forbidden(path + ".spec.ephemeralContainers", "ephemeral containers not allowed in pod template"))
    return causes


def validate_statefulset_template_meta(tmpl, path):
    """What ValidatePodTemplateSpecForStatefulSet checks of the template: its labels and annotations."""
    md = _d(_d(tmpl).get("metadata"))
    return label_causes(md.get("labels"), path + ".labels") + annotation_causes(md.get("annotations"),
                                                                                path + ".annotations")


# -- warnings (pkg/api/pod/warnings.go) -----------------------------------------------------------------
def _go_port(p):
    """A core.ContainerPort as %+v prints it."""
    return "{Name:%s HostPort:%d ContainerPort:%d Protocol:%s HostIP:%s}" % (
        _s(p.get("name")), _i(p.get("hostPort")), _i(p.get("containerPort")), _s(p.get("protocol")),
        _s(p.get("hostIP")))


def warnings(spec, prefix):
    """The warnings the pod and workload strategies return on create and update (the subset of
    warningsForPodSpecAndMeta met in practice); `prefix` is "" for a pod, "spec.template." for a template."""
    out = []
    spec = _d(spec)
    groups = [(g, ci, _d(c)) for g in ("initContainers", "containers", "ephemeralContainers")
              for ci, c in enumerate(_l(spec.get(g)))]
    for group, ci, c in groups:
        cp = "%sspec.%s[%d]" % (prefix, group, ci)
        res = _d(c.get("resources"))
        for kind in ("limits", "requests"):
            for name, q in _quantities(res.get(kind)).items():
                if name in ("memory", "ephemeral-storage") and math.ceil(q.value * 1000) % 1000 != 0:
                    out.append("%s.resources.%s[%s]: fractional byte value %s is invalid, must be an integer"
                               % (cp, kind, name, go_quote(str(q))))
        env = _l(c.get("env"))
        seen = set()
        for i, item in enumerate(env):
            item = _d(item)
            name = _s(item.get("name"))
            if name not in seen:
                seen.add(name)
                continue
            ref = "$(%s)" % name
            value = _s(item.get("value"))
            if item.get("valueFrom") is not None or value == ref or ref not in value:
                out.append("%s.env[%d]: hides previous definition of %s, which may be dropped when using apply"
                           % (cp, i, go_quote(name)))
    # ports defined twice across all the containers
    all_ports = {}
    for group, ci, c in groups:
        for i, p in enumerate(_l(c.get("ports"))):
            p = _d(p)
            f = "%sspec.%s[%d].ports[%d]" % (prefix, group, ci, i)
            if _s(p.get("hostIP")) and not _i(p.get("hostPort")):
                out.append("%s: hostIP set without hostPort: %s" % (f, _go_port(p)))
            k = "%d/%s" % (_i(p.get("containerPort")), _s(p.get("protocol")))
            for of, op in all_ports.get(k, []):
                hip, ohip, hp, ohp = _s(p.get("hostIP")), _s(op.get("hostIP")), _i(p.get("hostPort")), \
                    _i(op.get("hostPort"))
                if hip == ohip and hp == ohp:
                    out.append("%s: duplicate port definition with %s" % (f, of))
                elif hp == 0 or ohp == 0:
                    out.append("%s: overlapping port definition with %s" % (f, of))
                elif hp == ohp and (not hip) != (not ohip):
                    out.append("%s: dangerously ambiguous port definition with %s" % (f, of))
            all_ports.setdefault(k, []).append((f, p))
    tgps = spec.get("terminationGracePeriodSeconds")
    if isinstance(tgps, int) and not isinstance(tgps, bool) and tgps < 0:
        out.append("%sspec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be "
                   "treated as 1" % prefix)
    return out


def pod_name_warnings(name):
    """podStrategy.WarningsOnCreate: a pod name that is no DNS label."""
    msgs = is_dns1123_label(_s(name))
    if msgs:
        return ["metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS "
                "label is recommended: [%s]" % " ".join(msgs)]
    return []
