/*
 * The operator's configuration: defaults, the YAML file, WATCH_NAMESPACE and command-line
 * flags, merged and validated into a new struct that the caller swaps in whole.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operator.h"
#include "ttc/netaddr.h"
#include "ttc/log.h"
#include "ttc/yconf.h"

#define DEFAULT_METRICS_ADDR ":8080"
#define DEFAULT_CLUSTER_DOMAIN "cluster.local"

static const struct yconf_field fields[] = {
    {"log.level", YCONF_ENUM, offsetof(struct operator_config, log_level), log_level_names, 0, 0},
    {"log.format", YCONF_ENUM, offsetof(struct operator_config, log_format), log_format_names, 0,
     0},
    {"metrics.address", YCONF_ADDR, offsetof(struct operator_config, metrics_addr), NULL, 0, 0},
    {"kubernetes.namespace", YCONF_STRING, offsetof(struct operator_config, namespace), NULL, 0, 0},
    {"kubernetes.kubeconfig", YCONF_STRING, offsetof(struct operator_config, kubeconfig), NULL, 0,
     0},
    {"kubernetes.clusterDomain", YCONF_STRING, offsetof(struct operator_config, cluster_domain),
     NULL, 0, 0},
    {NULL, 0, 0, NULL, 0, 0},
};

void
config_free(struct operator_config *c)
{
	if (c == NULL)
		return;
	free(c->metrics_addr);
	free(c->namespace);
	free(c->kubeconfig);
	free(c->cluster_domain);
	free(c);
}

static int
set_string(char **slot, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* A namespace name is a DNS-1123 label. */
static int
valid_namespace(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return 1;
}

/* A DNS subdomain (RFC 1123): dot-separated labels, 253 characters at most. */
static int
valid_domain(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return 0;
			if (*p == '\0')
				return 1;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if (label == 0 && *p == '-')
			return 0;
		label++;
	}
}

/* The file at path, or the text (len bytes, named name in errors) when text is not NULL. */
static struct operator_config *
build(const char *path, const char *text, size_t len, const struct config_overrides *ov, char *err,
      size_t errlen)
{
	struct operator_config *c = calloc(1, sizeof(*c));
	struct sockaddr_storage ss;
	socklen_t sslen;
	char why[128];
	const char *env;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->log_level = LOG_INFO;
	c->log_format = LOG_FMT_LOGFMT;
	if (set_string(&c->metrics_addr, DEFAULT_METRICS_ADDR) < 0 ||
	    set_string(&c->namespace, "") < 0 || set_string(&c->kubeconfig, "") < 0 ||
	    set_string(&c->cluster_domain, DEFAULT_CLUSTER_DOMAIN) < 0)
		goto oom;
	if (text != NULL ? yconf_load_string(path, text, len, fields, c, err, errlen) < 0
	                 : path != NULL && yconf_load_file(path, fields, c, err, errlen) < 0)
		goto fail;
	if (c->namespace[0] == '\0' && (env = getenv("WATCH_NAMESPACE")) != NULL &&
	    set_string(&c->namespace, env) < 0)
		goto oom;
	if (ov != NULL) {
		if (ov->log_level >= 0)
			c->log_level = ov->log_level;
		if (ov->log_format >= 0)
			c->log_format = ov->log_format;
		if ((ov->metrics_addr && set_string(&c->metrics_addr, ov->metrics_addr) < 0) ||
		    (ov->namespace && set_string(&c->namespace, ov->namespace) < 0) ||
		    (ov->kubeconfig && set_string(&c->kubeconfig, ov->kubeconfig) < 0) ||
		    (ov->cluster_domain && set_string(&c->cluster_domain, ov->cluster_domain) < 0))
			goto oom;
	}
	if (netaddr_parse(c->metrics_addr, &ss, &sslen, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "metrics address: %s", why);
		goto fail;
	}
	if (c->namespace[0] != '\0' && !valid_namespace(c->namespace)) {
		snprintf(err, errlen, "namespace \"%s\" is not a valid namespace name",
		         c->namespace);
		goto fail;
	}
	if (!valid_domain(c->cluster_domain)) {
		snprintf(
		    err, errlen,
		    "cluster domain \"%s\" is not a DNS name (lower-case labels joined by dots)",
		    c->cluster_domain);
		goto fail;
	}
	return c;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	config_free(c);
	return NULL;
}

struct operator_config *
config_build(const char *path, const struct config_overrides *ov, char *err, size_t errlen)
{
	return build(path, NULL, 0, ov, err, errlen);
}

struct operator_config *
config_build_text(const char *name, const char *text, size_t len, const struct config_overrides *ov,
                  char *err, size_t errlen)
{
	return build(name, text, len, ov, err, errlen);
}

int
config_log_changes(const struct operator_config *old, const struct operator_config *new)
{
	int n = 0;

	for (const struct yconf_field *f = fields; f->path; f++) {
		const char *a, *b;

		if (f->type == YCONF_ENUM) {
			a = f->names[*(const int *)((const char *)old + f->offset)];
			b = f->names[*(const int *)((const char *)new + f->offset)];
		} else {
			a = *(char *const *)((const char *)old + f->offset);
			b = *(char *const *)((const char *)new + f->offset);
		}
		if (strcmp(a, b) != 0) {
			log_info("config", "setting changed", "key", f->path, "from", a, "to", b,
			         NULL);
			n++;
		}
	}
	return n;
}
