"""Decoding the protobuf bodies kubectl's typed clients send for built-in kinds (`kubectl create configmap`,
`create namespace`, `create secret`, RBAC objects...): the k8s envelope and the few message schemas needed."""

import base64
import struct

from .errors import ApiError

MAGIC = b"k8s\x00"

# field number -> (json name, type, sub-schema)
OWNER_REF = {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"), 5: ("apiVersion", "string"),
             6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")}
OBJECT_META = {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
               5: ("uid", "string"), 6: ("resourceVersion", "string"), 7: ("generation", "int"),
               11: ("labels", "map_ss"), 12: ("annotations", "map_ss"), 13: ("ownerReferences", "rep_msg", OWNER_REF),
               14: ("finalizers", "rep_string")}
POLICY_RULE = {1: ("verbs", "rep_string"), 2: ("apiGroups", "rep_string"), 3: ("resources", "rep_string"),
               4: ("resourceNames", "rep_string"), 5: ("nonResourceURLs", "rep_string")}
SUBJECT = {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"), 4: ("namespace", "string")}
ROLE_REF = {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")}
OBJECT_REF = {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"), 4: ("uid", "string"),
              5: ("apiVersion", "string"), 6: ("resourceVersion", "string"), 7: ("fieldPath", "string")}
BINDING = {1: ("metadata", "msg", OBJECT_META), 2: ("subjects", "rep_msg", SUBJECT), 3: ("roleRef", "msg", ROLE_REF)}
SCHEMAS = {
    ("v1", "ConfigMap"): {1: ("metadata", "msg", OBJECT_META), 2: ("data", "map_ss"), 3: ("binaryData", "map_sb"),
                          4: ("immutable", "bool")},
    ("v1", "Secret"): {1: ("metadata", "msg", OBJECT_META), 2: ("data", "map_sb"), 3: ("type", "string"),
                       4: ("stringData", "map_ss"), 5: ("immutable", "bool")},
    ("v1", "Namespace"): {1: ("metadata", "msg", OBJECT_META),
                          2: ("spec", "msg", {1: ("finalizers", "rep_string")})},
    ("v1", "ServiceAccount"): {1: ("metadata", "msg", OBJECT_META), 2: ("secrets", "rep_msg", OBJECT_REF),
                               3: ("imagePullSecrets", "rep_msg", {1: ("name", "string")}),
                               4: ("automountServiceAccountToken", "bool")},
    ("rbac.authorization.k8s.io/v1", "Role"): {1: ("metadata", "msg", OBJECT_META),
                                               2: ("rules", "rep_msg", POLICY_RULE)},
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): {1: ("metadata", "msg", OBJECT_META),
                                                      2: ("rules", "rep_msg", POLICY_RULE)},
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): BINDING,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): BINDING,
}
RESOURCE_ATTRS = {1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
                  4: ("version", "string"), 5: ("resource", "string"), 6: ("subresource", "string"),
                  7: ("name", "string")}
SCHEMAS[("authorization.k8s.io/v1", "SelfSubjectAccessReview")] = {
    1: ("metadata", "msg", OBJECT_META),
    2: ("spec", "msg", {1: ("resourceAttributes", "msg", RESOURCE_ATTRS),
                        2: ("nonResourceAttributes", "msg", {1: ("path", "string"), 2: ("verb", "string")})})}
# what `kubectl create deployment` and `kubectl create service` send
CONTAINER = {1: ("name", "string"), 2: ("image", "string"), 3: ("command", "rep_string"), 4: ("args", "rep_string"),
             5: ("workingDir", "string"),
             6: ("ports", "rep_msg", {1: ("name", "string"), 3: ("containerPort", "int"), 4: ("protocol", "string")}),
             7: ("env", "rep_msg", {1: ("name", "string"), 2: ("value", "string")}),
             14: ("imagePullPolicy", "string")}
POD_SPEC = {2: ("containers", "rep_msg", CONTAINER), 3: ("restartPolicy", "string"),
            8: ("serviceAccountName", "string"), 16: ("hostname", "string"), 17: ("subdomain", "string")}
LABEL_SELECTOR = {1: ("matchLabels", "map_ss")}
SCHEMAS[("apps/v1", "Deployment")] = {
    1: ("metadata", "msg", OBJECT_META),
    2: ("spec", "msg", {1: ("replicas", "int"), 2: ("selector", "msg", LABEL_SELECTOR),
                        3: ("template", "msg", {1: ("metadata", "msg", OBJECT_META), 2: ("spec", "msg", POD_SPEC)}),
                        4: ("strategy", "msg", {1: ("type", "string")})})}
SCHEMAS[("v1", "Service")] = {
    1: ("metadata", "msg", OBJECT_META),
    2: ("spec", "msg", {1: ("ports", "rep_msg", {1: ("name", "string"), 2: ("protocol", "string"), 3: ("port", "int"),
                                                 4: ("targetPort", "intorstr"), 5: ("nodePort", "int0")}),
                        2: ("selector", "map_ss"), 3: ("clusterIP", "string"), 4: ("type", "string")})}
UNKNOWN = {1: ("typeMeta", "msg", {1: ("apiVersion", "string"), 2: ("kind", "string")}), 2: ("raw", "raw"),
           3: ("contentEncoding", "string"), 4: ("contentType", "string")}


def _varint(buf, pos):
    shift = result = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf):
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 2:
            n, pos = _varint(buf, pos)
            if pos + n > len(buf):
                raise ValueError("truncated field")
            val, pos = buf[pos:pos + n], pos + n
        elif wt == 1:
            val, pos = struct.unpack("<Q", buf[pos:pos + 8])[0], pos + 8
        elif wt == 5:
            val, pos = struct.unpack("<I", buf[pos:pos + 4])[0], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield num, val


def decode(buf, schema):
    out = {}
    for num, val in _fields(buf):
        spec = schema.get(num)
        if spec is None:
            continue
        name, typ = spec[0], spec[1]
        if typ == "string":
            if val:  # empty strings are omitted, as in the JSON form
                out[name] = val.decode("utf-8")
        elif typ == "raw":
            out[name] = val
        elif typ == "bool":
            out[name] = bool(val)
        elif typ == "int":
            out[name] = val - (1 << 64) if val >= (1 << 63) else val
        elif typ == "int0":  # an omitempty integer: zero means unset
            if val:
                out[name] = val
        elif typ == "intorstr":
            ios = dict(_fields(val))
            out[name] = ios.get(3, b"").decode("utf-8") if ios.get(1) == 1 else ios.get(2, 0)
        elif typ == "msg":
            out[name] = decode(val, spec[2])
        elif typ == "rep_string":
            out.setdefault(name, []).append(val.decode("utf-8"))
        elif typ == "rep_msg":
            out.setdefault(name, []).append(decode(val, spec[2]))
        elif typ in ("map_ss", "map_sb"):
            entry = dict(_fields(val))
            k = entry.get(1, b"").decode("utf-8")
            v = entry.get(2, b"")
            out.setdefault(name, {})[k] = base64.b64encode(v).decode() if typ == "map_sb" else v.decode("utf-8")
    return out


def decode_object(body):
    """JSON-shaped object from a protobuf request body, or a 415 for a kind we cannot read."""
    if not body.startswith(MAGIC):
        raise ApiError(400, "the protobuf body does not start with the Kubernetes magic number", "BadRequest")
    try:
        env = decode(body[len(MAGIC):], UNKNOWN)
        tm = env.get("typeMeta") or {}
        schema = SCHEMAS.get((tm.get("apiVersion"), tm.get("kind")))
        if schema is None:
            raise ApiError(415, "kubesim cannot decode protobuf bodies of kind %s/%s; send application/json"
                           % (tm.get("apiVersion"), tm.get("kind")), "UnsupportedMediaType")
        obj = decode(env.get("raw", b""), schema)
    except (ValueError, UnicodeDecodeError, struct.error) as e:
        raise ApiError(400, "error decoding protobuf body: %s" % e, "BadRequest")
    obj["apiVersion"], obj["kind"] = tm["apiVersion"], tm["kind"]
    return obj
