"""Authentication (bearer tokens: the admin's and service accounts') and RBAC authorization."""

import secrets

from .errors import ApiError, forbidden

ADMIN_USER = ("kubernetes-admin", ["system:masters", "system:authenticated"])

# paths every authenticated user may GET (system:discovery, system:public-info-viewer, system:basic-user)
PUBLIC_PATHS = ("/api", "/apis", "/version", "/healthz", "/readyz", "/livez", "/openapi")


class User:
    def __init__(self, name, groups, sa=None):
        self.name, self.groups, self.sa = name, groups, sa


class Authenticator:
    def __init__(self, admin_token):
        self.admin_token = admin_token
        self.tokens = {}          # token -> User

    def issue(self, namespace, sa_name, pod_name=None):
        """A token for a service account, as the kubelet projects it into a pod."""
        token = "kubesim-sa-" + secrets.token_urlsafe(24)
        self.tokens[token] = User("system:serviceaccount:%s:%s" % (namespace, sa_name),
                                  ["system:serviceaccounts", "system:serviceaccounts:" + namespace,
                                   "system:authenticated"], (namespace, sa_name))
        return token

    def impersonate(self, user, headers):
        """Impersonate-User/-Group headers, honoured for administrators (as the impersonate verb allows)."""
        name = headers.get("impersonate-user")
        if not name:
            return user
        if "system:masters" not in user.groups:
            raise ApiError(403, 'users "%s" is forbidden: User "%s" cannot impersonate resource "users" in API '
                           'group "" at the cluster scope' % (name, user.name), "Forbidden",
                           {"name": name, "kind": "users"})
        groups = [g.strip() for g in headers.get("impersonate-group", "").split(",") if g.strip()]
        sa = None
        if name.startswith("system:serviceaccount:") and name.count(":") == 3:
            ns, sa_name = name.split(":")[2:]
            sa = (ns, sa_name)
            groups += ["system:serviceaccounts", "system:serviceaccounts:" + ns]
        return User(name, groups + ["system:authenticated"], sa)

    def authenticate(self, header):
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":  # auth schemes are case-insensitive (python's in-cluster config says "bearer")
            return None
        token = token.strip()
        if token == self.admin_token:
            return User(*ADMIN_USER)
        return self.tokens.get(token)


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def _rule_allows(rule, verb, group, resource, sub, name):
    if not isinstance(rule, dict):
        return False
    verbs = rule.get("verbs") or []
    if "*" not in verbs and verb not in verbs:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and group not in groups:
        return False
    res = rule.get("resources") or []
    full = resource + ("/" + sub if sub else "")
    if not ("*" in res or full in res or (sub and "%s/*" % resource in res) or (not sub and resource in res)
            or (sub and "*/" + sub in res)):
        return False
    names = rule.get("resourceNames") or []
    if names and (name is None or name not in names):
        return False
    return True


def _subject_matches(subj, user, binding_ns):
    kind = subj.get("kind")
    if kind == "ServiceAccount":
        ns = subj.get("namespace") or binding_ns
        return user.sa == (ns, subj.get("name"))
    if kind == "User":
        return subj.get("name") == user.name
    if kind == "Group":
        return subj.get("name") in user.groups
    return False


class Authorizer:
    def __init__(self, store):
        self.store = store

    def _t(self, plural):
        return self.store.types[("rbac.authorization.k8s.io", plural)]

    def _role_rules(self, ref, namespace):
        kind, name = ref.get("kind"), ref.get("name")
        if kind == "ClusterRole":
            role = self.store.get(self._t("clusterroles"), "", name)
        elif kind == "Role" and namespace:
            role = self.store.get(self._t("roles"), namespace, name)
        else:
            role = None
        return (role or {}).get("rules") or []

    def allowed(self, user, verb, group, resource, sub, namespace, name):
        if "system:masters" in user.groups:
            return True
        for b in self.store.list(self._t("clusterrolebindings")):
            if any(_subject_matches(s, user, None) for s in b.get("subjects") or [] if isinstance(s, dict)):
                for r in self._role_rules(b.get("roleRef") or {}, None):
                    if _rule_allows(r, verb, group, resource, sub, name):
                        return True
        if namespace:
            for b in self.store.list(self._t("rolebindings"), namespace):
                if any(_subject_matches(s, user, namespace) for s in b.get("subjects") or [] if isinstance(s, dict)):
                    for r in self._role_rules(b.get("roleRef") or {}, namespace):
                        if _rule_allows(r, verb, group, resource, sub, name):
                            return True
        return False

    def check(self, user, verb, t):
        if self.allowed(user, verb, t.rt.group, t.rt.plural, t.sub, t.namespace, t.name):
            return
        raise forbidden(t.rt, t.name if verb not in ("list", "watch", "deletecollection") else None,
                        user.name, verb, t.sub, t.namespace, t.rt.group)

    def review(self, user, spec):
        """The status of a (Self)SubjectAccessReview."""
        ra = spec.get("resourceAttributes")
        if ra:
            ok = self.allowed(user, ra.get("verb", ""), ra.get("group", ""), ra.get("resource", ""),
                              ra.get("subresource") or None, ra.get("namespace") or None, ra.get("name") or None)
        else:
            na = spec.get("nonResourceAttributes") or {}
            ok = "system:masters" in user.groups or (na.get("verb") == "get" and any(
                na.get("path", "") == p or na.get("path", "").startswith(p + "/") for p in PUBLIC_PATHS))
        st = {"allowed": ok}
        if ok and "system:masters" not in user.groups:
            st["reason"] = 'RBAC: allowed by a binding of user "%s"' % user.name
        return st

    def check_path(self, user, path, method):
        if "system:masters" in user.groups:
            return
        if method == "GET" and any(path == p or path.startswith(p + "/") for p in PUBLIC_PATHS):
            return
        raise ApiError(403, 'forbidden: User "%s" cannot %s path "%s"' % (user.name, method.lower(), path),
                       "Forbidden", {})
