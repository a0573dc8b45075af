/*
 * Finding the API server: a kubeconfig file (context, cluster, user; inline or file
 * credentials, paths relative to the file) or the pod's service account. Everything is
 * read and checked here, at start-up, so the client itself never touches these files
 * but the rotating token.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "internal.h"
#include "ttc/json.h"

#define KUBE_MAX_FILE (4u << 20)
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

void
kube_config_free(struct kube_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->server);
	free(cfg->ca_pem);
	free(cfg->cert_pem);
	if (cfg->key_pem != NULL)
		memset(cfg->key_pem, 0, strlen(cfg->key_pem));
	free(cfg->key_pem);
	if (cfg->token != NULL)
		memset(cfg->token, 0, strlen(cfg->token));
	free(cfg->token);
	free(cfg->token_file);
	free(cfg->tls_server_name);
	free(cfg->namespace);
	free(cfg);
}

/* A whole small file as a NUL-terminated string, or NULL with the reason in err. */
static char *
read_file(const char *path, const char *what, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	struct stat st;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size > (off_t)KUBE_MAX_FILE) {
		snprintf(err, errlen, "%s %s is too large", what, path);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(err, errlen, "%s %s holds a NUL byte", what, path);
		free(buf);
		buf = NULL;
	}
out:
	fclose(f);
	return buf;
}

/* Trims surrounding white space in place (tokens end in a newline). */
static char *
trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	size_t lead = strspn(s, " \t\r\n");
	memmove(s, s + lead, n - lead + 1);
	return s;
}

/* Decodes base64 (white space ignored) into a NUL-terminated string; NULL if invalid. */
static char *
b64decode(const char *in)
{
	size_t n = strlen(in), m = 0, pad = 0;
	char *clean = malloc(n + 1), *out = NULL;
	int len;

	if (clean == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)in[i]))
			clean[m++] = in[i];
	clean[m] = '\0';
	if (m == 0 || m % 4 != 0)
		goto out;
	pad = (clean[m - 1] == '=') + (clean[m - 2] == '=');
	if ((out = malloc(m / 4 * 3 + 1)) == NULL)
		goto out;
	len = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)clean, (int)m);
	if (len < 0 || (size_t)len < pad) {
		free(out);
		out = NULL;
		goto out;
	}
	len -= (int)pad;
	out[len] = '\0';
	if (memchr(out, '\0', (size_t)len) != NULL) {
		free(out);
		out = NULL;
	}
out:
	free(clean);
	return out;
}

/* A path from the kubeconfig, relative to the file's directory unless absolute. */
static char *
resolve(const char *dir, const char *p)
{
	char *out = NULL;

	if (p[0] == '/' || dir == NULL || *dir == '\0')
		return strdup(p);
	if (asprintf(&out, "%s/%s", dir, p) < 0)
		return NULL;
	return out;
}

/* The entry of list (clusters, users, contexts) named name: its inner object under key. */
static yajl_val
find_named(yajl_val root, const char *list, const char *name, const char *key)
{
	yajl_val arr = json_get(root, list, NULL);

	for (size_t i = 0; i < json_len(arr); i++) {
		yajl_val e = json_at(arr, i);
		const char *n = json_str(e, "name", NULL);
		if (n != NULL && strcmp(n, name) == 0) {
			yajl_val v = json_get(e, key, NULL);
			return YAJL_IS_OBJECT(v) ? v : NULL;
		}
	}
	return NULL;
}

/* Inline data (base64) or a file: the PEM text, NULL when neither is given (*failed
 * stays 0) or on error (*failed = 1). */
static char *
data_or_file(yajl_val obj, const char *data_key, const char *file_key, const char *dir,
             const char *what, int *failed, char *err, size_t errlen)
{
	const char *data = json_str(obj, data_key, NULL);
	const char *file = json_str(obj, file_key, NULL);
	char *out, *path;

	if (data != NULL && *data != '\0') {
		if ((out = b64decode(data)) == NULL) {
			snprintf(err, errlen, "%s: %s is not valid base64", what, data_key);
			*failed = 1;
		}
		return out;
	}
	if (file == NULL || *file == '\0')
		return NULL;
	if ((path = resolve(dir, file)) == NULL) {
		*failed = 1;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	out = read_file(path, what, err, errlen);
	free(path);
	if (out == NULL)
		*failed = 1;
	return out;
}

static int
set_str(char **dst, const char *s)
{
	if (s == NULL)
		return 0;
	free(*dst);
	return (*dst = strdup(s)) ? 0 : -1;
}

static struct kube_config *
from_tree(yajl_val root, const char *name, const char *dir, const char *context, int allow_insecure,
          char *err, size_t errlen)
{
	struct kube_config *cfg = calloc(1, sizeof(*cfg));
	yajl_val ctx, cluster, user;
	const char *ctxname, *cname, *uname, *s;
	int failed = 0, insecure;

	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!YAJL_IS_OBJECT(root)) {
		snprintf(err, errlen, "%s: not a kubeconfig (no mapping at the top)", name);
		goto fail;
	}
	ctxname = context && *context ? context : json_str(root, "current-context", NULL);
	if (ctxname == NULL || *ctxname == '\0') {
		snprintf(err, errlen, "%s: no context given and no current-context", name);
		goto fail;
	}
	if ((ctx = find_named(root, "contexts", ctxname, "context")) == NULL) {
		snprintf(err, errlen, "%s: context \"%s\" not found", name, ctxname);
		goto fail;
	}
	cname = json_str(ctx, "cluster", NULL);
	uname = json_str(ctx, "user", NULL);
	if (cname == NULL || (cluster = find_named(root, "clusters", cname, "cluster")) == NULL) {
		snprintf(err, errlen, "%s: cluster \"%s\" of context \"%s\" not found", name,
		         cname ? cname : "", ctxname);
		goto fail;
	}
	user = uname ? find_named(root, "users", uname, "user") : NULL;
	if (uname != NULL && *uname != '\0' && user == NULL) {
		snprintf(err, errlen, "%s: user \"%s\" of context \"%s\" not found", name, uname,
		         ctxname);
		goto fail;
	}
	if ((s = json_str(cluster, "server", NULL)) == NULL || *s == '\0') {
		snprintf(err, errlen, "%s: cluster \"%s\" has no server", name, cname);
		goto fail;
	}
	if (set_str(&cfg->server, s) < 0)
		goto oom;
	if (json_get(cluster, "proxy-url", NULL) != NULL) {
		snprintf(err, errlen, "%s: cluster \"%s\": proxy-url is not supported", name,
		         cname);
		goto fail;
	}
	insecure = json_bool(cluster, "insecure-skip-tls-verify", NULL) == 1;
	cfg->ca_pem = data_or_file(cluster, "certificate-authority-data", "certificate-authority",
	                           dir, "certificate authority", &failed, err, errlen);
	if (failed)
		goto fail;
	if (insecure && cfg->ca_pem != NULL) {
		snprintf(err, errlen,
		         "%s: cluster \"%s\" sets both a certificate authority and "
		         "insecure-skip-tls-verify",
		         name, cname);
		goto fail;
	}
	if (insecure && !allow_insecure) {
		snprintf(err, errlen,
		         "%s: cluster \"%s\" sets insecure-skip-tls-verify: refused (the server "
		         "would not be verified)",
		         name, cname);
		goto fail;
	}
	cfg->insecure = insecure;
	if (set_str(&cfg->tls_server_name, json_str(cluster, "tls-server-name", NULL)) < 0)
		goto oom;
	if (user != NULL) {
		if (json_get(user, "exec", NULL) != NULL ||
		    json_get(user, "auth-provider", NULL) != NULL) {
			snprintf(err, errlen,
			         "%s: user \"%s\": exec and auth-provider credentials are not "
			         "supported; use a token, a token file or a client certificate",
			         name, uname);
			goto fail;
		}
		if (json_get(user, "username", NULL) != NULL ||
		    json_get(user, "password", NULL) != NULL) {
			snprintf(err, errlen,
			         "%s: user \"%s\": basic authentication is not supported", name,
			         uname);
			goto fail;
		}
		cfg->cert_pem = data_or_file(user, "client-certificate-data", "client-certificate",
		                             dir, "client certificate", &failed, err, errlen);
		if (!failed)
			cfg->key_pem = data_or_file(user, "client-key-data", "client-key", dir,
			                            "client key", &failed, err, errlen);
		if (failed)
			goto fail;
		if ((cfg->cert_pem == NULL) != (cfg->key_pem == NULL)) {
			snprintf(err, errlen, "%s: user \"%s\" has a client %s without its %s",
			         name, uname, cfg->cert_pem ? "certificate" : "key",
			         cfg->cert_pem ? "key" : "certificate");
			goto fail;
		}
		if ((s = json_str(user, "tokenFile", NULL)) != NULL && *s != '\0') {
			if ((cfg->token_file = resolve(dir, s)) == NULL)
				goto oom;
			if ((cfg->token = read_file(cfg->token_file, "token file", err, errlen)) ==
			    NULL)
				goto fail;
			trim(cfg->token);
		}
		if ((s = json_str(user, "token", NULL)) != NULL && *s != '\0' &&
		    set_str(&cfg->token, s) < 0)
			goto oom;
	}
	s = json_str(ctx, "namespace", NULL);
	if (set_str(&cfg->namespace, s && *s ? s : "default") < 0)
		goto oom;
	return cfg;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	kube_config_free(cfg);
	return NULL;
}

struct kube_config *
kube_config_from_text(const char *name, const char *text, size_t len, const char *context,
                      int allow_insecure, char *err, size_t errlen)
{
	char perr[256];
	yajl_val root = kube_yaml_parse(text, len, perr, sizeof(perr));
	struct kube_config *cfg;

	if (root == NULL) {
		snprintf(err, errlen, "%s: %s", name, perr);
		return NULL;
	}
	cfg = from_tree(root, name, NULL, context, allow_insecure, err, errlen);
	json_free(root);
	return cfg;
}

struct kube_config *
kube_config_from_file(const char *path, const char *context, int allow_insecure, char *err,
                      size_t errlen)
{
	char perr[256];
	char *text = read_file(path, "kubeconfig", err, errlen);
	char *dir, *slash;
	yajl_val root;
	struct kube_config *cfg = NULL;

	if (text == NULL)
		return NULL;
	root = kube_yaml_parse(text, strlen(text), perr, sizeof(perr));
	free(text);
	if (root == NULL) {
		snprintf(err, errlen, "%s: %s", path, perr);
		return NULL;
	}
	if ((dir = strdup(path)) != NULL) {
		slash = strrchr(dir, '/');
		if (slash == NULL)
			strcpy(dir, ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		cfg = from_tree(root, path, dir, context, allow_insecure, err, errlen);
		free(dir);
	} else {
		snprintf(err, errlen, "out of memory");
	}
	json_free(root);
	return cfg;
}

struct kube_config *
kube_config_in_cluster(const char *root, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct kube_config *cfg;
	char path[PATH_MAX];
	char *ns;
	char *end;
	long p;

	if (root == NULL)
		root = getenv("POD_ROOT") ? getenv("POD_ROOT") : "";
	if (host == NULL || *host == '\0' || port == NULL || *port == '\0') {
		snprintf(err, errlen,
		         "not running in a cluster: KUBERNETES_SERVICE_HOST and "
		         "KUBERNETES_SERVICE_PORT are not set (give a kubeconfig)");
		return NULL;
	}
	p = strtol(port, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535) {
		snprintf(err, errlen, "KUBERNETES_SERVICE_PORT is not a port: %s", port);
		return NULL;
	}
	if (strpbrk(host, "/@?# []") != NULL) {
		snprintf(err, errlen, "KUBERNETES_SERVICE_HOST is not a host: %s", host);
		return NULL;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* An IPv6 address goes in brackets. */
	if (asprintf(&cfg->server, strchr(host, ':') ? "https://[%s]:%ld" : "https://%s:%ld", host,
	             p) < 0) {
		cfg->server = NULL;
		goto oom;
	}
	snprintf(path, sizeof(path), "%s%s/token", root, SA_DIR);
	if ((cfg->token_file = strdup(path)) == NULL)
		goto oom;
	if ((cfg->token = read_file(path, "service account token", err, errlen)) == NULL)
		goto fail;
	trim(cfg->token);
	snprintf(path, sizeof(path), "%s%s/ca.crt", root, SA_DIR);
	if ((cfg->ca_pem = read_file(path, "service account CA", err, errlen)) == NULL)
		goto fail;
	snprintf(path, sizeof(path), "%s%s/namespace", root, SA_DIR);
	ns = read_file(path, "namespace", err, errlen);
	if (ns != NULL && *trim(ns) != '\0') {
		cfg->namespace = ns;
	} else {
		free(ns);
		if ((cfg->namespace = strdup("default")) == NULL)
			goto oom;
	}
	return cfg;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	kube_config_free(cfg);
	return NULL;
}
