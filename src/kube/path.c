/*
 * Addressing the API: the built-in resources, request paths and query strings from
 * validated names, and the meaning of Status bodies and HTTP codes.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "internal.h"
#include "ttc/json.h"

const struct kube_resource kube_res_pods = {"", "v1", "pods", "Pod", 1};
const struct kube_resource kube_res_services = {"", "v1", "services", "Service", 1};
const struct kube_resource kube_res_secrets = {"", "v1", "secrets", "Secret", 1};
const struct kube_resource kube_res_configmaps = {"", "v1", "configmaps", "ConfigMap", 1};
const struct kube_resource kube_res_events = {"", "v1", "events", "Event", 1};
const struct kube_resource kube_res_pvcs = {"", "v1", "persistentvolumeclaims",
                                            "PersistentVolumeClaim", 1};
const struct kube_resource kube_res_namespaces = {"", "v1", "namespaces", "Namespace", 0};
const struct kube_resource kube_res_nodes = {"", "v1", "nodes", "Node", 0};
const struct kube_resource kube_res_statefulsets = {"apps", "v1", "statefulsets", "StatefulSet", 1};
const struct kube_resource kube_res_leases = {"coordination.k8s.io", "v1", "leases", "Lease", 1};

static const char *const err_names[] = {
#define X(e, s) s,
    KUBE_ERRORS(X)
#undef X
};

const char *
kube_err_name(enum kube_err e)
{
	if ((size_t)e >= sizeof(err_names) / sizeof(err_names[0]))
		return "unknown error";
	return err_names[e];
}

/* Lower-case letters, digits, '-' and '.' (DNS subdomain, RFC 1123), at most 253. Some
 * kinds allow more (e.g. ':' in RBAC names), so only what would break a path is refused. */
int
kube_valid_name(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 253)
		return 0;
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("-._:", *s) == NULL)
			return 0;
	return 1;
}

static int
valid_segment(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 253)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
		    *s != '.')
			return 0;
	return 1;
}

char *
kube_path(const struct kube_resource *res, const char *ns, const char *name,
          const char *subresource)
{
	char *p = NULL;
	char prefix[300];
	char nspart[300] = "";

	if (res == NULL || !valid_segment(res->version) || !valid_segment(res->plural) ||
	    (res->group && *res->group && !valid_segment(res->group)))
		return NULL;
	if (name != NULL && !kube_valid_name(name))
		return NULL;
	if (subresource != NULL && (name == NULL || !valid_segment(subresource)))
		return NULL;
	if (res->group == NULL || *res->group == '\0')
		snprintf(prefix, sizeof(prefix), "/api/%s", res->version);
	else
		snprintf(prefix, sizeof(prefix), "/apis/%s/%s", res->group, res->version);
	if (res->namespaced && ns != NULL && *ns != '\0') {
		if (!kube_valid_name(ns))
			return NULL;
		snprintf(nspart, sizeof(nspart), "/namespaces/%s", ns);
	}
	if (asprintf(&p, "%s%s/%s%s%s%s%s", prefix, nspart, res->plural, name ? "/" : "",
	             name ? name : "", subresource ? "/" : "", subresource ? subresource : "") < 0)
		return NULL;
	return p;
}

int
kube_query_add(struct evbuffer *q, const char *k, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";

	if (evbuffer_get_length(q) > 0 && evbuffer_add(q, "&", 1) < 0)
		return -1;
	if (evbuffer_add_printf(q, "%s=", k) < 0)
		return -1;
	for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
		/* RFC 3986 unreserved characters pass; everything else is %-encoded. */
		if (isalnum(*s) || strchr("-._~", *s) != NULL) {
			if (evbuffer_add(q, s, 1) < 0)
				return -1;
		} else {
			char e[3] = {'%', hex[*s >> 4], hex[*s & 15]};
			if (evbuffer_add(q, e, 3) < 0)
				return -1;
		}
	}
	return 0;
}

const char *
kube_res_label(const struct kube_resource *res, char *buf, size_t len)
{
	if (res->group == NULL || *res->group == '\0')
		snprintf(buf, len, "%s", res->plural);
	else
		snprintf(buf, len, "%s.%s", res->plural, res->group);
	return buf;
}

void
kube_status_parse(yajl_val v, struct kube_status *st)
{
	const char *s;

	memset(st, 0, sizeof(*st));
	if ((s = json_str(v, "reason", NULL)) != NULL)
		snprintf(st->reason, sizeof(st->reason), "%s", s);
	if ((s = json_str(v, "message", NULL)) != NULL)
		snprintf(st->message, sizeof(st->message), "%s", s);
	if (json_int(v, &st->code, "code", NULL) < 0)
		st->code = 0;
}

enum kube_err
kube_err_from_http(int code, const char *reason)
{
	if (code >= 200 && code < 300)
		return KUBE_ERR_OK;
	switch (code) {
	case 404:
		return KUBE_ERR_NOT_FOUND;
	case 409:
		return reason && strcmp(reason, "AlreadyExists") == 0 ? KUBE_ERR_ALREADY_EXISTS
		                                                      : KUBE_ERR_CONFLICT;
	case 410:
		return KUBE_ERR_GONE;
	case 401:
	case 403:
		return KUBE_ERR_UNAUTHORIZED;
	case 429:
		return KUBE_ERR_UNAVAILABLE;
	}
	if (code >= 500)
		return KUBE_ERR_UNAVAILABLE;
	if (code >= 400)
		return KUBE_ERR_INVALID;
	return KUBE_ERR_PROTOCOL;
}

int
kube_is_json_type(const char *ctype)
{
	size_t n = strlen("application/json");

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ')
		ctype++;
	return strncasecmp(ctype, "application/json", n) == 0 &&
	       (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}
