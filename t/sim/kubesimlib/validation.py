"""What a real API server checks on write: metadata (names, labels, ownerReferences) and custom resources
against their CRD's openAPIV3Schema (types, enums, required, bounds, patterns; pruning and defaults)."""

import copy
import json
import re

from .errors import ApiError, invalid
from .util import DNS1123_LABEL, DNS1123_SUBDOMAIN

# kinds whose names must be DNS-1123 labels rather than subdomains
LABEL_NAMED = {"namespaces", "services"}


def check_metadata(rt, obj, causes):
    md = obj.get("metadata")
    if not isinstance(md, dict):
        causes.append(("metadata", "Required value: metadata is required", "FieldValueRequired"))
        return
    name = md.get("name")
    if name is not None and not isinstance(name, str):
        causes.append(("metadata.name", "Invalid value: must be a string", "FieldValueInvalid"))
        return
    if name and rt.group == "rbac.authorization.k8s.io":
        # RBAC objects only need names usable as a path segment
        if name in (".", "..") or "/" in name or "%" in name:
            causes.append(("metadata.name", 'Invalid value: "%s": may not contain \'/\' or \'%%\'' % name,
                           "FieldValueInvalid"))
    elif name:
        pattern, limit, what = (DNS1123_LABEL, 63, "a lowercase RFC 1123 label") if rt.plural in LABEL_NAMED \
            else (DNS1123_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain")
        if len(name) > limit or not pattern.match(name):
            example = "my-name" if rt.plural in LABEL_NAMED else "example.com"
            regex = "[a-z0-9]([-a-z0-9]*[a-z0-9])?" if rt.plural in LABEL_NAMED else \
                "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
            causes.append(("metadata.name", 'Invalid value: "%s": a %s must consist of lower case alphanumeric '
                           "characters, '-' or '.', and must start and end with an alphanumeric character "
                           "(e.g. '%s', regex used for validation is '%s')" % (name, what[2:], example, regex),
                           "FieldValueInvalid"))
    for field in ("labels", "annotations"):
        val = md.get(field)
        if val is None:
            continue
        if not isinstance(val, dict) or not all(isinstance(v, str) for v in val.values()):
            causes.append(("metadata." + field, "Invalid value: values must be strings", "FieldValueInvalid"))
            continue
        # ValidateLabels / ValidateAnnotations, with the apimachinery messages
        from . import podspec
        if field == "labels":
            causes.extend(podspec.label_causes(val, "metadata.labels"))
        else:
            causes.extend(podspec.annotation_causes(val, "metadata.annotations"))
    refs = md.get("ownerReferences")
    if refs is not None:
        if not isinstance(refs, list):
            causes.append(("metadata.ownerReferences", "Invalid value: must be a list", "FieldValueInvalid"))
        else:
            controllers = 0
            for i, r in enumerate(refs):
                for f in ("apiVersion", "kind", "name", "uid"):
                    if not isinstance(r, dict) or not r.get(f):
                        causes.append(("metadata.ownerReferences[%d].%s" % (i, f), "Invalid value: \"\": %s must not be empty" % f,
                                       "FieldValueInvalid"))
                if isinstance(r, dict) and r.get("controller"):
                    controllers += 1
            if controllers > 1:
                causes.append(("metadata.ownerReferences", "Invalid value: only one reference can have Controller set to true",
                               "FieldValueInvalid"))
    fin = md.get("finalizers")
    if fin is not None and (not isinstance(fin, list) or not all(isinstance(f, str) for f in fin)):
        causes.append(("metadata.finalizers", "Invalid value: must be a list of strings", "FieldValueInvalid"))


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _type_ok(t, v):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t in _TYPES:
        return isinstance(v, _TYPES[t])
    return True


def _quote(v):
    return json.dumps(v)


def schema_walk(schema, value, path, causes, unknown, defaults=True):
    """Validate `value` against a structural schema; prune unknown fields (recording them); apply defaults.
    Returns the possibly pruned value."""
    if not isinstance(schema, dict):
        return value
    if schema.get("x-kubernetes-int-or-string") and isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    if value is None:
        return value
    t = schema.get("type")
    if t and not _type_ok(t, value):
        gotten = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
                  float: "number"}.get(type(value), "unknown")
        causes.append((path, 'Invalid value: "%s": %s in body must be of type %s: "%s"' % (
            gotten, path, t, gotten), "FieldValueTypeInvalid"))
        return value
    if "enum" in schema and value not in schema["enum"]:
        causes.append((path, "Unsupported value: %s: supported values: %s" % (
            _quote(value), ", ".join(_quote(e) for e in schema["enum"])), "FieldValueNotSupported"))
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            causes.append((path, 'Invalid value: "%s": %s in body should match \'%s\'' % (value, path, schema["pattern"]),
                           "FieldValueInvalid"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            causes.append((path, "Too long: may not be more than %d bytes" % schema["maxLength"], "FieldValueTooLong"))
        if "minLength" in schema and len(value) < schema["minLength"]:
            causes.append((path, 'Invalid value: "%s": %s in body should be at least %d chars long' % (
                value, path, schema["minLength"]), "FieldValueInvalid"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            causes.append((path, "Invalid value: %s: %s in body should be greater than or equal to %s" % (
                value, path, schema["minimum"]), "FieldValueInvalid"))
        if "maximum" in schema and value > schema["maximum"]:
            causes.append((path, "Invalid value: %s: %s in body should be less than or equal to %s" % (
                value, path, schema["maximum"]), "FieldValueInvalid"))
    if isinstance(value, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields")
        out = {}
        for k, v in value.items():
            sub = "%s.%s" % (path, k) if path else k
            if props is not None and k in props:
                out[k] = schema_walk(props[k], v, sub, causes, unknown, defaults)
            elif isinstance(addl, dict):
                out[k] = schema_walk(addl, v, sub, causes, unknown, defaults)
            elif preserve or addl is True:
                out[k] = v
            else:
                unknown.append(sub)  # pruned, as a structural schema prunes
        if defaults and props:
            for k, p in props.items():
                if k not in out and isinstance(p, dict) and "default" in p:
                    out[k] = copy.deepcopy(p["default"])
        for r in schema.get("required") or []:
            if r not in out:
                sub = "%s.%s" % (path, r) if path else r
                causes.append((sub, "Required value", "FieldValueRequired"))
        if "maxProperties" in schema and len(out) > schema["maxProperties"]:
            causes.append((path, "Too many: %d: must have at most %d items" % (len(out), schema["maxProperties"]),
                           "FieldValueTooMany"))
        return out
    if isinstance(value, list):
        items = schema.get("items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            causes.append((path, "Too many: %d: must have at most %d items" % (len(value), schema["maxItems"]),
                           "FieldValueTooMany"))
        if "minItems" in schema and len(value) < schema["minItems"]:
            causes.append((path, "Invalid value: %d: %s in body should have at least %d items" % (
                len(value), path, schema["minItems"]), "FieldValueInvalid"))
        if isinstance(items, dict):
            return [schema_walk(items, v, "%s[%d]" % (path, i), causes, unknown, defaults) for i, v in enumerate(value)]
    return value


def validate_custom(rt, version, obj, strict):
    """Prune, default and validate a custom resource against its CRD schema (in place on a copy)."""
    from .kinds import crd_version
    v = crd_version(rt.crd, version) or {}
    schema = ((v.get("schema") or {}).get("openAPIV3Schema")) or {}
    causes, unknown = [], []
    top_props = schema.get("properties") or {}
    for k in list(obj.keys()):
        if k in ("apiVersion", "kind", "metadata"):
            continue
        if k in top_props:
            obj[k] = schema_walk(top_props[k], obj[k], k, causes, unknown)
        elif schema.get("x-kubernetes-preserve-unknown-fields"):
            pass
        else:
            unknown.append(k)
            del obj[k]
    for k, p in top_props.items():
        if k not in obj and k not in ("apiVersion", "kind", "metadata") and isinstance(p, dict) and "default" in p:
            obj[k] = p["default"]
    for r in schema.get("required") or []:
        if r not in obj:
            causes.append((r, "Required value", "FieldValueRequired"))
    if unknown and strict:
        msg = "strict decoding error: " + ", ".join('unknown field "%s"' % u for u in unknown)
        raise ApiError(400, "%s in version \"%s\" cannot be handled as a %s: %s" % (rt.kind, version, rt.kind, msg),
                       "BadRequest")
    return causes


def check_crd(obj, causes):
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    group = spec.get("group")
    if not group:
        causes.append(("spec.group", "Required value", "FieldValueRequired"))
    if not names.get("plural"):
        causes.append(("spec.names.plural", "Required value", "FieldValueRequired"))
    if not names.get("kind"):
        causes.append(("spec.names.kind", "Required value", "FieldValueRequired"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(("spec.scope", 'Unsupported value: "%s": supported values: "Cluster", "Namespaced"' %
                       (spec.get("scope") or ""), "FieldValueNotSupported"))
    versions = spec.get("versions") if isinstance(spec.get("versions"), list) else []
    if not versions:
        causes.append(("spec.versions", "Invalid value: null: must have exactly one version marked as storage version",
                       "FieldValueInvalid"))
    elif sum(1 for v in versions if isinstance(v, dict) and v.get("storage")) != 1:
        causes.append(("spec.versions", "Invalid value: must have exactly one version marked as storage version",
                       "FieldValueInvalid"))
    for i, v in enumerate(versions):
        if isinstance(v, dict) and not (v.get("schema") or {}).get("openAPIV3Schema"):
            causes.append(("spec.versions[%d].schema.openAPIV3Schema" % i, "Required value: schemas are required",
                           "FieldValueRequired"))
    name = (obj.get("metadata") or {}).get("name")
    if group and names.get("plural") and name != "%s.%s" % (names["plural"], group):
        causes.append(("metadata.name", 'Invalid value: "%s": must be spec.names.plural+"."+spec.group' % name,
                       "FieldValueInvalid"))


def raise_if(rt, name, causes):
    if causes:
        raise invalid(rt, name, causes)
