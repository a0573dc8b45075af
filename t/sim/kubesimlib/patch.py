"""Patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch."""

import copy

from .errors import ApiError


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, 'the server rejected our request due to an error in our request: invalid JSON pointer "%s"' % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts, path):
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                           "doc is missing path: \"%s\": missing value" % path, "Invalid")
    return cur


def _get(doc, path):
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise ApiError(422, "the server rejected our request due to an error in our request: "
                   "doc is missing path: \"%s\": missing value" % path, "Invalid")


def _remove(doc, path):
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise ApiError(422, "the server rejected our request due to an error in our request: "
                   "Unable to remove nonexistent key: %s: missing value" % last, "Invalid")


def _add(doc, path, value, replace=False):
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                           "replace operation does not apply: doc is missing key: %s: missing value" % path,
                           "Invalid")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                           "index out of range: %s" % path, "Invalid")
    else:
        raise ApiError(422, "the server rejected our request due to an error in our request: "
                       "doc is missing path: \"%s\": missing value" % path, "Invalid")
    return doc


def json_patch(target, ops):
    if not isinstance(ops, list):
        raise ApiError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch", "BadRequest")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                           "operation missing op or path", "Invalid")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                           "missing value", "Invalid")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            if not _pointer(path):
                doc = copy.deepcopy(op["value"])
            else:
                doc = _add(doc, path, copy.deepcopy(op["value"]), replace=True)
        elif kind in ("move", "copy"):
            value = copy.deepcopy(_get(doc, op.get("from", "")))
            if kind == "move":
                _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise ApiError(422, "the server rejected our request due to an error in our request: "
                               "testing value %s failed: test failed" % path, "Invalid")
        else:
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                           "Unexpected kind: %s" % kind, "Invalid")
    return doc


# Merge keys of built-in list fields (the patchMergeKey tags of the Go types); lists not named here are
# replaced whole, as atomic lists are.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "conditions": "type",
    "ownerReferences": "uid", "imagePullSecrets": "name", "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey", "secrets": "name", "resourceClaims": "name",
}
PRIMITIVE_MERGE = {"finalizers"}


def _ports_key(items):
    for it in items:
        if isinstance(it, dict):
            if "containerPort" in it:
                return "containerPort"
            if "port" in it:
                return "port"
    return None


def strategic_merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in (v or [])]
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, list):
            result[k] = _merge_list(k, result.get(k), v)
        elif isinstance(v, dict):
            merged = strategic_merge(result.get(k), v)
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        else:
            result[k] = v
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(field, current, patch_items):
    current = current if isinstance(current, list) else []
    if field in PRIMITIVE_MERGE:
        out = list(current)
        for x in patch_items:
            if x not in out:
                out.append(x)
        return out
    key = MERGE_KEYS.get(field)
    if field == "ports":
        key = _ports_key(patch_items) or _ports_key(current)
    if not key or not all(isinstance(x, dict) for x in patch_items):
        return [x for x in copy.deepcopy(patch_items) if not (isinstance(x, dict) and x.get("$patch"))]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch_items):
        return [x for x in copy.deepcopy(patch_items) if not x.get("$patch")]
    out = copy.deepcopy(current)
    for item in patch_items:
        idx = next((i for i, c in enumerate(out) if isinstance(c, dict) and c.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out
