"""API errors: the exception carrying a metav1.Status body, and builders for the shapes a real server sends."""

REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    406: "NotAcceptable", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
    429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
}


class ApiError(Exception):
    """An error answered to the client as a Status object."""

    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason if reason is not None else REASONS.get(code, "")
        self.details = details
        self.headers = headers or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message}
        if self.reason:   # StatusReasonUnknown is "", left out (omitempty)
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def qualified(rt):
    """'testclusters.example.com' or 'pods' for the core group."""
    return rt.plural + ("." + rt.group if rt.group else "")


def details(rt, name=None, extra=None):
    d = {}
    if name:
        d["name"] = name
    if rt.group:
        d["group"] = rt.group
    d["kind"] = rt.plural
    if extra:
        d.update(extra)
    return d


def not_found(rt, name):
    return ApiError(404, '%s "%s" not found' % (qualified(rt), name), "NotFound", details(rt, name))


def already_exists(rt, name):
    return ApiError(409, '%s "%s" already exists' % (qualified(rt), name), "AlreadyExists", details(rt, name))


def conflict(rt, name, why="the object has been modified; please apply your changes to the latest version and try again"):
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": %s' % (qualified(rt), name, why),
                    "Conflict", details(rt, name))


def invalid(rt, name, causes):
    """causes: list of (field, message-after-field, reason)."""
    kind_q = rt.kind + ("." + rt.group if rt.group else "")
    msgs = []
    for f, m, _ in causes:  # ErrorList.ToAggregate: the message names each distinct error once
        msg = "%s: %s" % (f, m) if f else m
        if msg not in msgs:
            msgs.append(msg)
    text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    d = {"name": name or ""}
    if rt.group:
        d["group"] = rt.group
    d["kind"] = rt.kind
    d["causes"] = [{"reason": r, "message": m, "field": f} for f, m, r in causes]
    return ApiError(422, '%s "%s" is invalid: %s' % (kind_q, name or "", text), "Invalid", d)


def bad_request(message):
    return ApiError(400, message, "BadRequest")


def path_not_found():
    return ApiError(404, "the server could not find the requested resource", "NotFound", {})


def expired(message):
    return ApiError(410, message, "Expired")


def method_not_allowed():
    return ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed", {})


def unsupported_patch():
    return ApiError(415, "the body of the request was in an unknown format - accepted media types include: "
                    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                    "UnsupportedMediaType")


def forbidden(rt, name, user, verb, subresource, namespace, group):
    res = rt.plural + ("/" + subresource if subresource else "")
    what = '%s "%s"' % (qualified(rt), name) if name else qualified(rt)
    scope = 'in the namespace "%s"' % namespace if namespace else "at the cluster scope"
    msg = '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s' % (
        what, user, verb, res, group, scope)
    return ApiError(403, msg, "Forbidden", details(rt, name))
