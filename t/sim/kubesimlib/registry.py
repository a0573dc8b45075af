"""Write semantics shared by the REST layer and the controllers: create, update, patch and delete with the
rules of a real API server (resourceVersion preconditions, status subresource, generation, finalizers,
graceful pod deletion, no-op writes that change nothing)."""

import copy
import datetime
import json
import uuid

from . import defaults, podsecurity, shapes
from .errors import ApiError, already_exists, bad_request, conflict, invalid, not_found, unsupported_patch
from .patch import json_patch, merge_patch, strategic_merge
from .util import now, random_suffix, rfc3339
from .validation import check_crd, check_metadata, raise_if, validate_custom

# kinds whose DELETE answers the deleted object rather than a Status (ReturnDeletedObject in the real stores)
RETURNS_OBJECT = {("", "pods"), ("", "services"), ("", "namespaces")}
IMMUTABLE_MD = ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds",
                "namespace", "name", "selfLink")


def _spec_part(obj):
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Registry:
    def __init__(self, store):
        self.store = store
        # Validating admission for the request being served: f(rt, obj, old), set by the REST layer
        # around one (synchronous) call; None for the cluster's own controllers.
        self.admit = None
        # The warnings of the request being served (a list the REST layer reads for the `Warning` headers),
        # set by the REST layer like `admit`; None for the cluster's own controllers.
        self.warnings = None

    # -- helpers ------------------------------------------------------------------------------------
    def _check_namespace(self, rt, ns, creating=False):
        if not rt.namespaced:
            return
        if not ns:
            raise bad_request("the server could not find the requested resource: a namespace is required")
        nsobj = self.store.get(self.store.types[("", "namespaces")], "", ns)
        if nsobj is None:
            raise ApiError(404, 'namespaces "%s" not found' % ns, "NotFound", {"name": ns, "kind": "namespaces"})
        if creating and nsobj["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "%s \"%s\" is forbidden: unable to create new content in namespace %s because it "
                           "is being terminated" % (rt.plural, "", ns), "Forbidden",
                           {"kind": rt.plural})

    def _check_body_type(self, rt, body, version):
        if not isinstance(body, dict):
            raise bad_request("Object '%s' is missing in '%s'" % ("Kind", json.dumps(body)[:200]))
        want = rt.api_version(version)
        av, kind = body.get("apiVersion"), body.get("kind")
        if av is None and kind is None:
            body["apiVersion"], body["kind"] = want, rt.kind
        elif av != want:
            raise bad_request("the API version in the data (%s) does not match the expected API version (%s)"
                              % (av, want))
        elif kind != rt.kind:
            raise bad_request("%s in version \"%s\" cannot be handled as a %s: the kind in the data (%s) does "
                              "not match the expected kind (%s)" % (kind, version, rt.kind, kind, rt.kind))
        shapes.check(rt, body, version)

    def _validate(self, rt, obj, version, strict, old=None):
        causes = []
        check_metadata(rt, obj, causes)
        if not rt.builtin:
            causes += validate_custom(rt, version, obj, strict)
        elif rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            check_crd(obj, causes)
        causes += defaults.validate(rt, obj, old)
        raise_if(rt, obj.get("metadata", {}).get("name", ""), causes)
        # Taken, so that what listeners write while this object is stored adds no warnings of its own.
        sink, self.warnings = self.warnings, None
        if sink is None:
            sink = []
        sink += defaults.warnings(rt, obj, old)
        # the validating admission plugins, in kube-apiserver's order: PodSecurity (always on), then the
        # optional ones
        sink += podsecurity.admit(self.store, rt, obj, old)
        if self.admit is not None:
            self.admit(rt, obj, old)

    # -- create -------------------------------------------------------------------------------------
    def create(self, rt, ns, body, version=None, strict=False, dry_run=False):
        version = version or rt.version
        self._check_body_type(rt, body, version)
        obj = copy.deepcopy(body)
        md = obj.get("metadata")
        if md is None:
            md = obj["metadata"] = {}
        if not isinstance(md, dict):
            raise bad_request("metadata must be an object")
        if md.get("resourceVersion"):
            # what the etcd layer of a real server answers
            raise ApiError(500, "resourceVersion should not be set on objects to be created", "InternalError")
        if rt.namespaced:
            if md.get("namespace") and ns and md["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if not md.get("name"):
            if md.get("generateName"):
                md["name"] = md["generateName"] + random_suffix()
            else:
                raise invalid(rt, "", [("metadata.name", "Required value: name or generateName is required",
                                        "FieldValueRequired")])
        self._check_namespace(rt, ns, creating=True)
        if rt.status and not rt.builtin:
            obj.pop("status", None)
        obj["apiVersion"] = rt.api_version()
        obj["kind"] = rt.kind
        defaults.prepare(self, rt, obj, None)
        self._validate(rt, obj, version, strict)
        if self.store.get(rt, md.get("namespace", ""), md["name"]) is not None:
            raise already_exists(rt, md["name"])
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = rfc3339()
        if rt.generation:
            md["generation"] = 1
        for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            md.pop(k, None)
        if dry_run:
            md["resourceVersion"] = str(self.store.rv)
            return obj
        self.store.put_new(rt, obj)
        defaults.after_create(self, rt, obj)
        return obj

    # -- update -------------------------------------------------------------------------------------
    def update(self, rt, ns, name, body, version=None, subresource=None, strict=False, dry_run=False):
        version = version or rt.version
        self._check_body_type(rt, body, version)
        if not isinstance(body.get("metadata"), dict):
            body["metadata"] = {}
        bmd = body["metadata"]
        if bmd.get("name") not in (None, name):
            raise bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                              % (bmd.get("name"), name))
        if rt.namespaced and bmd.get("namespace") not in (None, "", ns):
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        self._check_namespace(rt, ns)
        old = self.store.get(rt, ns, name)
        if old is None:
            raise not_found(rt, name)
        rv = bmd.get("resourceVersion")
        if not rv:
            if not rt.builtin:  # custom resources forbid unconditional updates; built-in kinds allow them
                raise invalid(rt, name, [("metadata.resourceVersion",
                                          "Invalid value: 0x0: must be specified for an update", "FieldValueInvalid")])
        elif rv != old["metadata"]["resourceVersion"]:
            raise conflict(rt, name)
        return self._store_update(rt, old, body, version, subresource, strict, dry_run)

    def _store_update(self, rt, old, body, version, subresource, strict, dry_run):
        name = old["metadata"]["name"]
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in body:
                new["status"] = copy.deepcopy(body["status"])
            else:
                new.pop("status", None)
            if not rt.builtin:  # the status is checked (and pruned) against the CRD schema too
                raise_if(rt, name, validate_custom(rt, version, new, strict))
        else:
            new = copy.deepcopy(body)
            new["apiVersion"], new["kind"] = rt.api_version(), rt.kind
            md = new["metadata"]
            for k in IMMUTABLE_MD:
                if k in old["metadata"]:
                    md[k] = old["metadata"][k]
                else:
                    md.pop(k, None)
            if rt.status:
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            if old["metadata"].get("deletionTimestamp"):
                added = [f for f in md.get("finalizers") or [] if f not in (old["metadata"].get("finalizers") or [])]
                if added:
                    raise invalid(rt, name, [("metadata.finalizers", "Forbidden: no new finalizers can be added if "
                                              "the object is being deleted, found new finalizers %s" % json.dumps(added),
                                              "FieldValueForbidden")])
            defaults.prepare(self, rt, new, old)
            self._validate(rt, new, version, strict, old)
        new["metadata"].pop("managedFields", None)
        if rt.generation:
            changed = (_spec_part(new) != _spec_part(old)) if rt.status else \
                ({k: v for k, v in new.items() if k != "metadata"} != {k: v for k, v in old.items() if k != "metadata"})
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + (1 if changed else 0)
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old:
            return old
        if dry_run:
            return new
        md = new["metadata"]
        if md.get("deletionTimestamp") and not md.get("finalizers") and not md.get("deletionGracePeriodSeconds"):
            self.store.remove(rt, new)
            return new
        self.store.put(rt, new, old)
        return new

    # -- patch --------------------------------------------------------------------------------------
    def patch(self, rt, ns, name, content_type, raw, version=None, subresource=None, strict=False,
              dry_run=False, field_manager=None):
        version = version or rt.version
        ctype = (content_type or "").split(";")[0].strip().lower()
        if ctype not in ("application/json-patch+json", "application/merge-patch+json",
                         "application/strategic-merge-patch+json", "application/apply-patch+yaml"):
            raise unsupported_patch()
        if ctype == "application/strategic-merge-patch+json" and not rt.builtin:
            raise unsupported_patch()
        try:
            if ctype == "application/apply-patch+yaml":
                body = _load_yaml_or_json(raw)
            else:
                body = json.loads(raw.decode("utf-8") if raw else "null")
        except (ValueError, UnicodeDecodeError) as e:
            raise bad_request("error decoding patch: %s" % e)
        self._check_namespace(rt, ns)
        old = self.store.get(rt, ns, name)
        if ctype == "application/apply-patch+yaml":
            if not field_manager:
                raise bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                                  "is required for apply patch")
            if old is None:
                if not isinstance(body, dict):
                    raise bad_request("invalid apply patch")
                body.setdefault("metadata", {})["name"] = name
                return self.create(rt, ns, body, version, strict, dry_run), True
        if old is None:
            raise not_found(rt, name)
        current = copy.deepcopy(old)
        current["apiVersion"] = rt.api_version(version)
        if ctype == "application/json-patch+json":
            new = json_patch(current, body)
        elif ctype == "application/merge-patch+json":
            if not isinstance(body, dict):
                raise bad_request("json: cannot unmarshal into the object: a merge patch must be a JSON object")
            new = merge_patch(current, body)
        else:
            if not isinstance(body, dict):
                raise bad_request("a strategic merge patch must be a JSON object")
            new = strategic_merge(current, body)
        if not isinstance(new, dict):
            raise bad_request("the patched object is not a JSON object")
        if not isinstance(new.get("metadata"), dict):
            new["metadata"] = {}
        new["metadata"]["name"] = name
        if rt.namespaced:
            new["metadata"].setdefault("namespace", ns)
        prv = new["metadata"].get("resourceVersion")
        if prv and prv != old["metadata"]["resourceVersion"]:
            raise conflict(rt, name)
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        self._check_body_type(rt, new, version)
        return self._store_update(rt, old, new, version, subresource, strict, dry_run), False

    # -- delete -------------------------------------------------------------------------------------
    def delete(self, rt, ns, name, options=None, dry_run=False):
        """Returns (object, removed_now)."""
        options = options or {}
        self._check_namespace(rt, ns)
        old = self.store.get(rt, ns, name)
        if old is None:
            raise not_found(rt, name)
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
            raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in object meta: %s"
                           % (pre["uid"], old["metadata"]["uid"]))
        if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise conflict(rt, name, "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion "
                           "in object meta: %s" % (pre["resourceVersion"], old["metadata"]["resourceVersion"]))
        if dry_run:
            return old, False
        policy = options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise invalid(rt, name, [("propagationPolicy", 'Unsupported value: "%s": supported values: '
                                      '"Foreground", "Background", "Orphan", "nil"' % policy, "FieldValueNotSupported")])
        new = copy.deepcopy(old)
        md = new["metadata"]
        fins = list(md.get("finalizers") or [])
        if not md.get("deletionTimestamp"):
            if policy == "Foreground" and "foregroundDeletion" not in fins:
                fins.append("foregroundDeletion")
            if policy == "Orphan" and "orphan" not in fins:
                fins.append("orphan")
        if fins:
            md["finalizers"] = fins
        if rt.key == ("", "namespaces"):
            return self._delete_namespace(rt, old, new)
        if rt.key == ("", "pods"):
            grace = self._pod_grace(old, options)
            if grace > 0 and not md.get("deletionTimestamp"):
                md["deletionTimestamp"] = rfc3339(now() + datetime.timedelta(seconds=grace))
                md["deletionGracePeriodSeconds"] = grace
                self.store.put(rt, new, old)
                return new, False
            if grace > 0:
                cur = md.get("deletionGracePeriodSeconds") or 0
                if grace < cur:
                    md["deletionTimestamp"] = rfc3339(now() + datetime.timedelta(seconds=grace))
                    md["deletionGracePeriodSeconds"] = grace
                    self.store.put(rt, new, old)
                return new, False
            md["deletionGracePeriodSeconds"] = 0
            if not md.get("deletionTimestamp"):
                md["deletionTimestamp"] = rfc3339()
        if fins:
            if not md.get("deletionTimestamp"):
                md["deletionTimestamp"] = rfc3339()
                md["deletionGracePeriodSeconds"] = 0
            if new != old:
                self.store.put(rt, new, old)
            return new, False
        if not old["metadata"].get("deletionTimestamp") or rt.key == ("", "pods"):
            md.setdefault("deletionTimestamp", rfc3339())
            md.setdefault("deletionGracePeriodSeconds", 0)
        final = self.store.remove(rt, new if rt.key == ("", "pods") else old)
        return final, True

    def _pod_grace(self, pod, options):
        if not (pod.get("spec") or {}).get("nodeName"):
            return 0
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        g = options.get("gracePeriodSeconds")
        if g is None:
            g = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        try:
            g = int(g)
        except (TypeError, ValueError):
            g = 30
        return max(g, 0)

    def _delete_namespace(self, rt, old, new):
        md = new["metadata"]
        if not md.get("deletionTimestamp"):
            md["deletionTimestamp"] = rfc3339()
            md["deletionGracePeriodSeconds"] = 0
            new.setdefault("status", {})["phase"] = "Terminating"
            self.store.put(rt, new, old)
        return new, False

    def delete_response(self, rt, obj, removed):
        if not removed or rt.key in RETURNS_OBJECT:
            return obj
        d = {"name": obj["metadata"]["name"]}
        if rt.group:
            d["group"] = rt.group
        d["kind"] = rt.plural
        d["uid"] = obj["metadata"]["uid"]
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d}

    # -- conveniences for controllers ---------------------------------------------------------------
    def set_status(self, rt, obj, status):
        """Write `status` through the status rules unless it is already the stored one."""
        cur = self.store.get(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if cur is None or cur["metadata"]["uid"] != obj["metadata"]["uid"] or cur.get("status") == status:
            return cur
        body = dict(cur)
        body["status"] = status
        return self._store_update(rt, cur, body, rt.version, "status" if rt.status else None, False, False)

    def write(self, rt, obj):
        """Unconditional update of the main resource by a controller."""
        cur = self.store.get(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if cur is None:
            return None
        return self._store_update(rt, cur, obj, rt.version, None, False, False)


def _load_yaml_or_json(raw):
    text = raw.decode("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml
    except ImportError:
        raise ValueError("YAML apply patches need python3-yaml")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(str(e))
