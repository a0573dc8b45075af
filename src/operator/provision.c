/*
 * What a TimesTenClassic needs before and around its databases: its ConfigMaps checked,
 * then the Secret with the agent certificates, the headless Service and the StatefulSet,
 * made again if one goes missing; and the operator's credentials for the agents.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ctl.h"
#include "objects.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/tls.h"
#include "ttc/userfile.h"

#define CERT_DAYS 3650
#define RETRY_SECONDS 5

enum owned { OWNED_SECRET, OWNED_SERVICE, OWNED_STATEFULSET };
static const char *const owned_kinds[] = {"Secret", "Service", "StatefulSet"};

/* The /ttconfig files a ConfigMap may hold. */
static const char *const config_files[] = {
    "db.ini",       "adminUser",  "schema.sql", "cacheUser", "cachegroups.sql",   "epilog.sql",
    "tnsnames.ora", "sqlnet.ora", "testUser",   "csWallet",  "replicationWallet", NULL};

/* db.ini: "Key=Value" lines, comments (';' '#') and blank lines; DataStore and LogDir are
 * the operator's to place. Returns NULL or the problem. */
static const char *
check_dbini(const char *text, char *why, size_t n)
{
	int line = 0;

	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char buf[512];

		line++;
		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1),
		         p);
		char *s = buf + strspn(buf, " \t\r");
		if (*s && *s != ';' && *s != '#') {
			char *eq = strchr(s, '=');
			if (eq == NULL || eq == s) {
				snprintf(why, n, "db.ini line %d is not Key=Value", line);
				return why;
			}
			if (!strncasecmp(s, "DataStore", 9) || !strncasecmp(s, "LogDir", 6)) {
				snprintf(why, n,
				         "db.ini line %d sets %.*s, which the operator places",
				         line, (int)(eq - s), s);
				return why;
			}
		}
		p += len + (end != NULL);
	}
	return NULL;
}

/* adminUser/cacheUser: "user/password" on the first line that is not blank, both parts
 * there once the line is trimmed, no line up to it longer than the agent reads: as the
 * agent reads it (userfile_parse()). */
static const char *
check_userfile(const char *key, const char *text, char *why, size_t n)
{
	for (const char *p = text;; p++) {
		size_t raw = strcspn(p, "\n");
		size_t len = raw > 0 && p[raw - 1] == '\r' ? raw - 1 : raw;
		const char *s = p, *slash;

		if (len > USERFILE_MAX_LINE) {
			snprintf(why, n, "%s has a line longer than %d bytes", key,
			         USERFILE_MAX_LINE);
			return why;
		}
		while (len > 0 && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		if (len > 0) {
			slash = memchr(s, '/', len);
			if (slash == NULL || slash == s || slash == s + len - 1)
				break;
			return NULL;
		}
		p += raw;
		if (*p == '\0')
			break;
	}
	snprintf(why, n, "%s must be one line \"user/password\"", key);
	return why;
}

const char *
provision_check_configmap(yajl_val cm, char *why, size_t n)
{
	yajl_val data = json_get(cm, "data", NULL);

	for (size_t i = 0; i < json_nkeys(data); i++) {
		const char *k = json_key_at(data, i);
		const char *v = YAJL_GET_STRING(json_value_at(data, i));
		const char *const *f;

		for (f = config_files; *f && strcmp(*f, k) != 0; f++)
			;
		if (*f == NULL) {
			snprintf(why, n,
			         "%s is not a TimesTen metadata file (known: db.ini, "
			         "adminUser, schema.sql, epilog.sql, ...)",
			         k);
			return why;
		}
		if (v == NULL)
			continue;
		if (strcmp(k, "db.ini") == 0 && check_dbini(v, why, n))
			return why;
		if ((strcmp(k, "adminUser") == 0 || strcmp(k, "cacheUser") == 0) &&
		    check_userfile(k, v, why, n))
			return why;
	}
	return NULL;
}

/* Reports a problem once (a Warning Event and the status message). */
static void
problem(struct managed *m, int fatal, const char *msg)
{
	snprintf(m->o.message, sizeof(m->o.message), "%s", msg);
	if (fatal || strcmp(msg, m->check_problem) != 0)
		ctl_event(m, 1, fatal ? "InvalidSpec" : "Waiting", "%s", msg);
	snprintf(m->check_problem, sizeof(m->check_problem), "%s", msg);
}

static void
configmap_read(struct kube_result *r, void *arg)
{
	struct managed *m = arg;
	const char *name = m->o.spec->db_config_maps[m->checked];
	char why[512], bad[256];

	m->check = NULL;
	if (r->err == KUBE_ERR_NOT_FOUND) {
		snprintf(why, sizeof(why),
		         "spec.ttspec.dbConfigMap: ConfigMap %s not found; waiting for it", name);
		problem(m, 0, why);
		ctl_wake(m, time(NULL) + RETRY_SECONDS);
		return;
	}
	if (r->err != KUBE_ERR_OK) {
		log_warn("provision", "cannot read a ConfigMap", "object", m->o.name, "configmap",
		         name, "error", r->message, NULL);
		ctl_wake(m, time(NULL) + RETRY_SECONDS);
		return;
	}
	if (json_get(r->object, "data", "adminUser", NULL) != NULL)
		m->admin_user = 1;
	if (provision_check_configmap(r->object, bad, sizeof(bad)) != NULL) {
		snprintf(why, sizeof(why), "spec.ttspec.dbConfigMap: ConfigMap %s: %s", name, bad);
		problem(m, 1, why);
		m->checked = (size_t)-1;
	} else {
		m->checked++;
	}
	ctl_step(m);
}

int
provision_check(struct managed *m)
{
	const struct ttc_spec *spec = m->o.spec;

	if (m->checked == (size_t)-1)
		return -1;
	if (m->checked >= spec->n_db_config_maps) {
		/* The standby is duplicated as the admin user: a pair cannot do without one. */
		if (spec->topology == TOPO_PAIR && !m->admin_user && spec->n_db_secrets == 0) {
			problem(m, 1, "spec.ttspec.dbConfigMap: no adminUser; an active standby pair "
				      "needs one (the standby is duplicated as that user)");
			m->checked = (size_t)-1;
			return -1;
		}
		return 1;
	}
	if (m->check == NULL)
		m->check = kube_get(m->ctl->kube, &kube_res_configmaps, m->o.ns,
		                    spec->db_config_maps[m->checked], configmap_read, m);
	return 0;
}

/* The agents' certificate names every pod by its DNS name. */
static int
make_credentials(struct managed *m, struct agent_credentials *c, char *err, size_t errlen)
{
	char dns[3][300];
	const char *names[4] = {dns[0], dns[1], dns[2], NULL};
	char *ca_cert = NULL, *ca_key = NULL;

	char domain[280];

	/* Every pod's name: the pair's two, and any ordinal through the wildcard. */
	objects_pod_fqdn(dns[0], sizeof(dns[0]), m->o.name, m->o.ns, 0);
	objects_pod_fqdn(dns[1], sizeof(dns[1]), m->o.name, m->o.ns, 1);
	objects_service_domain(domain, sizeof(domain), m->o.name, m->o.ns);
	snprintf(dns[2], sizeof(dns[2]), "*.%s", domain);
	struct tls_leaf_req server = {"ttagent", names, NULL, CERT_DAYS, TLS_USAGE_SERVER};
	struct tls_leaf_req client = {"timestenclassic-operator", NULL, NULL, CERT_DAYS,
	                              TLS_USAGE_CLIENT};
	char cn[128];

	memset(c, 0, sizeof(*c));
	/* A subject's common name holds 64 characters at most: "ttclassic NS/NAME" when it
	 * fits (a 63-character namespace and a long name do not), else the object's uid. */
	if (snprintf(cn, sizeof(cn), "ttclassic %s/%s", m->o.ns, m->o.name) > 64)
		snprintf(cn, sizeof(cn), "ttclassic %s", m->o.uid);
	if (tls_make_ca(cn, CERT_DAYS, &ca_cert, &ca_key, err, errlen) < 0)
		return -1;
	c->ca_cert = ca_cert;
	c->ca_key = ca_key;
	if (tls_make_leaf(ca_cert, ca_key, &server, (char **)&c->server_cert,
	                  (char **)&c->server_key, err, errlen) < 0 ||
	    tls_make_leaf(ca_cert, ca_key, &client, (char **)&c->client_cert,
	                  (char **)&c->client_key, err, errlen) < 0)
		return -1;
	return 0;
}

static void
free_credentials(struct agent_credentials *c)
{
	free((char *)c->ca_cert);
	free((char *)c->ca_key);
	free((char *)c->server_cert);
	free((char *)c->server_key);
	free((char *)c->client_cert);
	free((char *)c->client_key);
}

struct creation {
	struct managed *m;
	enum owned kind;
	char name[300];
};

static void
created(struct kube_result *r, void *arg)
{
	struct creation *cr = arg;
	struct managed *m = cr->m;

	m->creating[cr->kind] = NULL;
	m->creation[cr->kind] = NULL;
	if (r->err == KUBE_ERR_OK || r->err == KUBE_ERR_ALREADY_EXISTS) {
		m->made[cr->kind] = 1;
		if (r->err == KUBE_ERR_OK)
			ctl_event(m, 0, "Create", "%s %s created", owned_kinds[cr->kind], cr->name);
	} else {
		ctl_event(m, 1, "CreateFailed", "cannot create %s %s: %s", owned_kinds[cr->kind],
		          cr->name, r->message);
		ctl_wake(m, time(NULL) + RETRY_SECONDS);
	}
	free(cr);
	ctl_step(m);
}

static int
in_cache(struct managed *m, enum owned k, const char *name)
{
	struct controller *c = m->ctl;
	struct kube_informer *inf = k == OWNED_SECRET    ? c->secrets
	                            : k == OWNED_SERVICE ? c->services
	                                                 : c->sets;
	return kube_informer_get(inf, m->o.ns, name) != NULL;
}

static void
create(struct managed *m, enum owned k, const char *name, char *body,
       const struct kube_resource *res)
{
	struct creation *cr = calloc(1, sizeof(*cr));

	if (cr == NULL || body == NULL) {
		free(cr);
		free(body);
		return;
	}
	cr->m = m;
	cr->kind = k;
	snprintf(cr->name, sizeof(cr->name), "%s", name);
	m->creating[k] = kube_create(m->ctl->kube, res, m->o.ns, body, created, cr);
	if (m->creating[k] == NULL)
		free(cr);
	else
		m->creation[k] = cr;
	free(body);
}

/* What the made objects carry of the TimesTenClassic. */
static struct owner
owner_of(const struct managed *m)
{
	struct owner ow = {m->o.name, m->o.ns, m->o.uid,
	                   json_get(m->obj, "metadata", "labels", NULL),
	                   json_get(m->obj, "metadata", "annotations", NULL)};
	return ow;
}

void
provision_ensure(struct managed *m)
{
	struct owner ow = owner_of(m);
	char names[3][300];

	if (m->o.spec == NULL)
		return;
	objects_secret_name(names[OWNED_SECRET], sizeof(names[0]), m->o.uid);
	snprintf(names[OWNED_SERVICE], sizeof(names[0]), "%s", m->o.name);
	snprintf(names[OWNED_STATEFULSET], sizeof(names[0]), "%s", m->o.name);
	for (enum owned k = OWNED_SECRET; k <= OWNED_STATEFULSET; k++) {
		if (in_cache(m, k, names[k])) {
			m->made[k] = 0; /* from now on the cache tells */
			continue;
		}
		if (m->made[k] || m->creating[k] != NULL)
			continue;
		/* In order: the Secret, the Service, then the StatefulSet. */
		if (k > OWNED_SECRET && (m->creating[k - 1] != NULL))
			return;
		if (k == OWNED_SECRET) {
			struct agent_credentials cred;
			char err[256];
			if (make_credentials(m, &cred, err, sizeof(err)) < 0) {
				log_error("provision", "cannot make certificates", "object",
				          m->o.name, "error", err, NULL);
				snprintf(m->o.message, sizeof(m->o.message),
				         "cannot make the agents' certificates: %s", err);
				ctl_event(m, 1, "ProvisionFailed", "%s", m->o.message);
				free_credentials(&cred);
				return;
			}
			create(m, k, names[k], objects_secret(&ow, &cred), &kube_res_secrets);
			free_credentials(&cred);
		} else if (k == OWNED_SERVICE) {
			create(m, k, names[k], objects_service(&ow, m->o.spec), &kube_res_services);
		} else {
			create(m, k, names[k], objects_statefulset(&ow, m->o.spec, m->o.generation),
			       &kube_res_statefulsets);
		}
		return; /* one at a time, so the Events come in order */
	}
}

static void
updated(struct kube_result *r, void *arg)
{
	struct managed *m = arg;

	m->updating = NULL;
	if (r->err == KUBE_ERR_OK) {
		long long n = 0;
		json_int(r->object, &n, "spec", "replicas", NULL);
		ctl_event(m, 0, "Update", "StatefulSet %s updated: image %s, %lld replicas",
		          m->o.name, m->o.spec ? m->o.spec->image : "?", n);
	} else {
		ctl_event(m, 1, "UpdateFailed", "cannot update StatefulSet %s: %s", m->o.name,
		          r->message);
		ctl_wake(m, time(NULL) + RETRY_SECONDS);
		m->update_failed_at = time(NULL);
	}
	ctl_step(m);
}

/*
 * A spec change reaches the StatefulSet: when the generation it was made from (its
 * annotation) is not the spec's, it is patched with what this spec makes of it.
 */
void
provision_update(struct managed *m)
{
	struct owner ow = owner_of(m);
	yajl_val sts = kube_informer_get(m->ctl->sets, m->o.ns, m->o.name);
	const char *made = json_str(sts, "metadata", "annotations", GENERATION_ANNOTATION, NULL);
	char gen[32], *patch;

	if (m->o.spec == NULL || sts == NULL || m->updating != NULL ||
	    time(NULL) < m->update_failed_at + RETRY_SECONDS)
		return;
	snprintf(gen, sizeof(gen), "%lld", m->o.generation);
	if (made != NULL && strcmp(made, gen) == 0)
		return;
	if ((patch = objects_statefulset_patch(&ow, m->o.spec, m->o.generation)) == NULL)
		return;
	log_info("provision", "updating the StatefulSet", "object", m->o.name, "from",
	         made ? made : "(none)", "to", gen, NULL);
	m->updating =
	    kube_patch(m->ctl->kube, &kube_res_statefulsets, m->o.ns, m->o.name, patch, updated, m);
	free(patch);
}

int
provision_template_current(const struct managed *m)
{
	yajl_val sts = kube_informer_get(m->ctl->sets, m->o.ns, m->o.name);
	const char *made = json_str(sts, "metadata", "annotations", GENERATION_ANNOTATION, NULL);
	char gen[32];

	snprintf(gen, sizeof(gen), "%lld", m->o.generation);
	return m->updating == NULL && made != NULL && strcmp(made, gen) == 0;
}

static char *
secret_value(yajl_val secret, const char *key)
{
	const char *b64 = json_str(secret, "data", key, NULL);
	size_t n;
	unsigned char *out;
	int len;

	if (b64 == NULL)
		return NULL;
	n = strlen(b64);
	if ((out = malloc(n / 4 * 3 + 4)) == NULL)
		return NULL;
	len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(out);
		return NULL;
	}
	while (len > 0 && n > 0 && b64[n - 1] == '=') { /* DecodeBlock counts the padding */
		len--;
		n--;
	}
	out[len] = '\0';
	return (char *)out;
}

int
provision_credentials(struct managed *m)
{
	char name[300], err[256];
	yajl_val secret;
	const char *rv;

	objects_secret_name(name, sizeof(name), m->o.uid);
	secret = kube_informer_get(m->ctl->secrets, m->o.ns, name);
	if (secret == NULL)
		return m->agent_ctx ? 0 : -1;
	rv = json_str(secret, "metadata", "resourceVersion", NULL);
	if (m->agent_ctx != NULL && rv && strcmp(rv, m->agent_secret_rv) == 0)
		return 0;
	char *ca = secret_value(secret, SECRET_CA_CERT);
	char *cert = secret_value(secret, SECRET_CLIENT_CERT);
	char *key = secret_value(secret, SECRET_CLIENT_KEY);
	SSL_CTX *ctx = ca && cert && key ? tls_client_ctx(ca, cert, key, err, sizeof(err)) : NULL;
	if (ctx == NULL)
		log_error("provision", "the agent Secret is unusable", "object", m->o.name,
		          "secret", name, "error", ca && cert && key ? err : "keys missing", NULL);
	free(ca);
	free(cert);
	free(key);
	if (ctx == NULL)
		return m->agent_ctx ? 0 : -1;
	if (m->agent_ctx != NULL)
		SSL_CTX_free(m->agent_ctx);
	m->agent_ctx = ctx;
	m->agent_ctx_gen++;
	snprintf(m->agent_secret_rv, sizeof(m->agent_secret_rv), "%s", rv ? rv : "");
	return 1;
}

void
provision_free(struct managed *m)
{
	if (m->check)
		kube_call_cancel(m->check);
	if (m->updating)
		kube_call_cancel(m->updating);
	for (int k = 0; k < 3; k++)
		if (m->creating[k]) {
			kube_call_cancel(m->creating[k]); /* no callback: free its record here */
			free(m->creation[k]);
		}
	if (m->agent_ctx)
		SSL_CTX_free(m->agent_ctx);
}
