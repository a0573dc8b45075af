"""Discovery documents (aggregated apidiscovery.k8s.io/v2 and the legacy forms) and the OpenAPI v3 stubs
kubectl needs to validate and patch."""

import hashlib
import json

AGG_CTYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGG_CTYPE_BETA = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
SUB_VERBS = {"status": ["get", "patch", "update"], "exec": ["create", "get"], "log": ["get"], "binding": ["create"]}
SUB_KINDS = {"exec": ("", "v1", "PodExecOptions"), "log": ("", "v1", "Pod"), "binding": ("", "v1", "Binding")}


def wants_aggregated(accept):
    """Which aggregated version the Accept header asks for first, or None for the legacy form."""
    for part in accept.split(","):
        params = dict(p.strip().partition("=")[::2] for p in part.split(";")[1:])
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == "APIGroupDiscoveryList":
            if params.get("v") in ("v2", "v2beta1"):
                return params["v"]
        elif part.split(";")[0].strip() in ("application/json", "*/*", "application/*"):
            return None
    return None


def groups(store):
    """[(group, [versions preferred first], [types])] with the core group first."""
    out = {}
    for rt in store.types.values():
        out.setdefault(rt.group, []).append(rt)
    order = [""] + sorted(g for g in out if g)
    result = []
    for g in order:
        if g not in out:
            continue
        types = sorted(out[g], key=lambda r: r.plural)
        versions = []
        for rt in types:
            for v in rt.versions:
                if v not in versions:
                    versions.append(v)
        pref = types[0].versions[0]
        for rt in types:
            if rt.builtin:
                pref = rt.versions[0]
                break
        versions.sort(key=lambda v: v != pref)
        result.append((g, versions, types))
    return result


def _agg_resource(rt, version):
    r = {"resource": rt.plural, "responseKind": {"group": rt.group, "version": version, "kind": rt.kind},
         "scope": "Namespaced" if rt.namespaced else "Cluster", "singularResource": rt.singular,
         "verbs": rt.verbs}
    if rt.short_names:
        r["shortNames"] = rt.short_names
    if rt.categories:
        r["categories"] = rt.categories
    subs = []
    for s in rt.subresource_names():
        g, v, k = SUB_KINDS.get(s, (rt.group, version, rt.kind))
        subs.append({"subresource": s, "responseKind": {"group": g, "version": v, "kind": k},
                     "verbs": SUB_VERBS.get(s, ["get"])})
    if subs:
        r["subresources"] = subs
    return r


def aggregated(store, core, version="v2"):
    items = []
    for g, versions, types in groups(store):
        if (g == "") != core:
            continue
        vs = []
        for v in versions:
            vs.append({"version": v, "resources": [_agg_resource(rt, v) for rt in types if v in rt.versions],
                       "freshness": "Current"})
        items.append({"metadata": {"name": g, "creationTimestamp": None}, "versions": vs})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/" + version,
            "metadata": {}, "items": items}


def legacy_api(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_entry(g, versions):
    vs = [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in versions]
    return {"name": g, "versions": vs, "preferredVersion": vs[0]}


def legacy_apis(store):
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_entry(g, vs) for g, vs, _ in groups(store) if g]}


def legacy_group(store, group):
    for g, vs, _ in groups(store):
        if g == group and g:
            e = _group_entry(g, vs)
            e.update({"kind": "APIGroup", "apiVersion": "v1"})
            return e
    return None


def legacy_resources(store, group, version):
    res = []
    found = False
    for g, vs, types in groups(store):
        if g != group or version not in vs:
            continue
        found = True
        for rt in types:
            if version not in rt.versions:
                continue
            r = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
                 "verbs": rt.verbs}
            if rt.short_names:
                r["shortNames"] = rt.short_names
            if rt.categories:
                r["categories"] = rt.categories
            res.append(r)
            for s in rt.subresource_names():
                g2, v2, k2 = SUB_KINDS.get(s, (rt.group, version, rt.kind))
                sr = {"name": "%s/%s" % (rt.plural, s), "singularName": "", "namespaced": rt.namespaced,
                      "kind": k2, "verbs": SUB_VERBS.get(s, ["get"])}
                if g2 != rt.group or v2 != version:
                    sr["group"], sr["version"] = g2, v2
                res.append(sr)
    if not found:
        return None
    gv = "%s/%s" % (group, version) if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res}


# -- OpenAPI v3 -------------------------------------------------------------------------------------------
def _gv_path(group, version):
    return "api/%s" % version if not group else "apis/%s/%s" % (group, version)


def openapi_doc(store, group, version):
    paths = {}
    schemas = {}
    for rt in store.types.values():
        if rt.group != group or version not in rt.versions:
            continue
        prefix = "/" + _gv_path(group, version)
        item = "%s/namespaces/{namespace}/%s/{name}" % (prefix, rt.plural) if rt.namespaced else \
            "%s/%s/{name}" % (prefix, rt.plural)
        gvk = {"group": group, "version": version, "kind": rt.kind}
        ref = "%s.%s.%s" % (group or "io.k8s.api.core", version, rt.kind)
        params = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                  {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                  {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                  {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}]
        if rt.namespaced:
            params.insert(1, {"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}})
        content = {"application/json-patch+json": {"schema": {"type": "object"}},
                   "application/merge-patch+json": {"schema": {"type": "object"}},
                   "application/apply-patch+yaml": {"schema": {"type": "object"}}}
        resp = {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/" + ref}}}}}
        paths[item] = {
            "get": {"operationId": "read" + rt.kind, "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk, "responses": resp},
            "put": {"operationId": "replace" + rt.kind, "x-kubernetes-action": "put",
                    "x-kubernetes-group-version-kind": gvk, "responses": resp},
            "patch": {"operationId": "patch" + rt.kind, "x-kubernetes-action": "patch",
                      "x-kubernetes-group-version-kind": gvk, "requestBody": {"content": content},
                      "responses": resp},
            "delete": {"operationId": "delete" + rt.kind, "x-kubernetes-action": "delete",
                       "x-kubernetes-group-version-kind": gvk, "responses": {"200": {"description": "OK"}}},
            "parameters": params,
        }
        # the patch operation carries the parameters too: kubectl's verifier looks there
        paths[item]["patch"]["parameters"] = params
        schema = {"type": "object", "x-kubernetes-group-version-kind": [gvk]}
        if not rt.builtin:
            from .kinds import crd_version
            v = crd_version(rt.crd, version) or {}
            s = ((v.get("schema") or {}).get("openAPIV3Schema")) or {}
            schema = dict(s)
            schema["x-kubernetes-group-version-kind"] = [gvk]
        schemas[ref] = schema
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.4"}, "paths": paths,
            "components": {"schemas": schemas}}


def openapi_index(store):
    paths = {}
    for g, vs, _ in groups(store):
        for v in vs:
            doc = openapi_doc(store, g, v)
            h = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()
            p = _gv_path(g, v)
            paths[p] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (p, h)}
    return {"paths": paths}
