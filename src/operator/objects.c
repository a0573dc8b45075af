/*
 * Bodies of the objects the operator makes for a TimesTenClassic (see objects.h). The
 * StatefulSet carries the user's .spec.template through and adds TimesTen's containers,
 * volumes and claims, as `kubectl describe statefulset` shows them in the guide.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "objects.h"
#include "spec.h"
#include "ttc/json.h"

void
objects_pod_name(char *buf, size_t n, const char *name, int ordinal)
{
	snprintf(buf, n, "%s-%d", name, ordinal);
}

/* The cluster's DNS domain: one per process, set at start (objects_set_cluster_domain). */
static char cluster_domain[254] = "cluster.local";

void
objects_set_cluster_domain(const char *domain)
{
	snprintf(cluster_domain, sizeof(cluster_domain), "%s", domain);
}

void
objects_service_domain(char *buf, size_t n, const char *name, const char *ns)
{
	snprintf(buf, n, "%s.%s.svc.%s", name, ns, cluster_domain);
}

void
objects_pod_fqdn(char *buf, size_t n, const char *name, const char *ns, int ordinal)
{
	char domain[280];

	objects_service_domain(domain, sizeof(domain), name, ns);
	snprintf(buf, n, "%s-%d.%s", name, ordinal, domain);
}

int
objects_pod_ordinal(const char *name, const char *pod)
{
	size_t len = strlen(name);
	const char *p = pod + len + 1;
	long k = 0;

	if (strncmp(pod, name, len) != 0 || pod[len] != '-' || *p < '0' || *p > '9' ||
	    (*p == '0' && p[1] != '\0'))
		return -1;
	for (; *p >= '0' && *p <= '9' && k < 100000; p++)
		k = k * 10 + (*p - '0');
	return *p == '\0' && k < 100000 ? (int)k : -1;
}

void
objects_secret_name(char *buf, size_t n, const char *uid)
{
	snprintf(buf, n, "tt%s", uid);
}

static void
owner_reference(struct jw *w, const struct owner *o)
{
	jw_key(w, "ownerReferences");
	jw_arr(w);
	jw_obj(w);
	jw_kstr(w, "apiVersion", TTC_API_VERSION);
	jw_kstr(w, "kind", TTC_KIND);
	jw_kstr(w, "name", o->name);
	jw_kstr(w, "uid", o->uid);
	jw_kbool(w, "controller", 1);
	jw_kbool(w, "blockOwnerDeletion", 1);
	jw_obj_end(w);
	jw_arr_end(w);
}

/* Whether a label key is one the operator sets itself. */
static int
own_label(const char *k)
{
	return strcmp(k, "app") == 0 || strcmp(k, OBJECT_LABEL) == 0;
}

/* extra's string labels (the object's or the template's), then app=<name>, which
 * selects the pods, and the operator's own label. */
static void
labels_with(struct jw *w, const struct owner *o, yajl_val extra)
{
	jw_key(w, "labels");
	jw_obj(w);
	for (size_t i = 0; i < json_nkeys(extra); i++)
		if (!own_label(json_key_at(extra, i)) && YAJL_IS_STRING(json_value_at(extra, i))) {
			jw_key(w, json_key_at(extra, i));
			jw_val(w, json_value_at(extra, i));
		}
	jw_kstr(w, "app", o->name);
	jw_kstr(w, OBJECT_LABEL, o->name);
	jw_obj_end(w);
}

static void
labels(struct jw *w, const struct owner *o)
{
	labels_with(w, o, o->labels);
}

/* The object's annotations, without kubectl's record of the last applied object, and the
 * generation of the spec a StatefulSet was made from (gen >= 0). */
static void
annotations(struct jw *w, const struct owner *o, long long gen)
{
	if (json_nkeys(o->annotations) == 0 && gen < 0)
		return;
	jw_key(w, "annotations");
	jw_obj(w);
	for (size_t i = 0; i < json_nkeys(o->annotations); i++) {
		const char *k = json_key_at(o->annotations, i);
		if (strcmp(k, "kubectl.kubernetes.io/last-applied-configuration") == 0 ||
		    strcmp(k, GENERATION_ANNOTATION) == 0)
			continue;
		jw_key(w, k);
		jw_val(w, json_value_at(o->annotations, i));
	}
	if (gen >= 0) {
		char text[32];
		snprintf(text, sizeof(text), "%lld", gen);
		jw_kstr(w, GENERATION_ANNOTATION, text);
	}
	jw_obj_end(w);
}

static void
metadata(struct jw *w, const struct owner *o, const char *name, long long gen)
{
	jw_key(w, "metadata");
	jw_obj(w);
	jw_kstr(w, "name", name);
	jw_kstr(w, "namespace", o->ns);
	labels(w, o);
	annotations(w, o, gen);
	owner_reference(w, o);
	jw_obj_end(w);
}

static void
base64_value(struct jw *w, const char *k, const char *pem)
{
	size_t n = strlen(pem);
	unsigned char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out == NULL) {
		w->failed = 1;
		return;
	}
	EVP_EncodeBlock(out, (const unsigned char *)pem, (int)n);
	jw_kstr(w, k, (const char *)out);
	free(out);
}

char *
objects_secret(const struct owner *o, const struct agent_credentials *c)
{
	struct jw w;
	char name[128];

	if (jw_init(&w) < 0)
		return NULL;
	objects_secret_name(name, sizeof(name), o->uid);
	jw_obj(&w);
	jw_kstr(&w, "apiVersion", "v1");
	jw_kstr(&w, "kind", "Secret");
	metadata(&w, o, name, -1);
	jw_kstr(&w, "type", "Opaque");
	jw_key(&w, "data");
	jw_obj(&w);
	base64_value(&w, SECRET_CA_CERT, c->ca_cert);
	base64_value(&w, SECRET_SERVER_CERT, c->server_cert);
	base64_value(&w, SECRET_SERVER_KEY, c->server_key);
	base64_value(&w, SECRET_CA_KEY, c->ca_key);
	base64_value(&w, SECRET_CLIENT_CERT, c->client_cert);
	base64_value(&w, SECRET_CLIENT_KEY, c->client_key);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

static void
selector_app(struct jw *w, const char *name)
{
	jw_key(w, "app");
	jw_str(w, name);
}

char *
objects_service(const struct owner *o, const struct ttc_spec *spec)
{
	struct jw w;

	(void)spec;
	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "apiVersion", "v1");
	jw_kstr(&w, "kind", "Service");
	metadata(&w, o, o->name, -1);
	jw_key(&w, "spec");
	jw_obj(&w);
	jw_kstr(&w, "clusterIP", "None");
	/* The standby is never Ready (/tmp/active): its name must resolve all the same. */
	jw_kbool(&w, "publishNotReadyAddresses", 1);
	jw_key(&w, "selector");
	jw_obj(&w);
	selector_app(&w, o->name);
	jw_obj_end(&w);
	jw_key(&w, "ports");
	jw_arr(&w);
	jw_obj(&w);
	jw_kstr(&w, "name", "tt-cs");
	jw_kint(&w, "port", TT_SERVER_PORT);
	jw_kstr(&w, "protocol", "TCP");
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

static void
env(struct jw *w, const char *k, const char *v)
{
	jw_obj(w);
	jw_kstr(w, "name", k);
	jw_kstr(w, "value", v);
	jw_obj_end(w);
}

/*
 * A container of the user's .spec.template named like one of the operator's is not a
 * second container: its fields go into the operator's (objects_template_check says what it
 * may not set). These are what the operator's containers hold that it may not change.
 */
static const char *const own_env[] = {"TIMESTEN_HOME",           "LD_LIBRARY_PATH",
                                      "TT_REPLICATION_TOPOLOGY", "TT_DSN",
                                      "TT_INIT_CONTAINER",       NULL};
static const char *const own_mounts[] = {"/tt", "/ttagent", "/ttconfig", "/ttlog", NULL};
static const char *const own_volumes[] = {"tt-persistent", "tt-agent", "tt-config", "tt-log", NULL};
static const char *const own_fields[] = {"image", "command", "args", "readinessProbe", NULL};
static const char *const own_ports[] = {"agent", "daemon", "cs", "replication", NULL};

static int
listed(const char *const *list, const char *s)
{
	for (; s != NULL && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* Writes the items of the user's list (a JSON array, or NULL). */
static void
append(struct jw *w, yajl_val list)
{
	for (size_t i = 0; i < json_len(list); i++)
		jw_val(w, json_at(list, i));
}

static void
tt_env(struct jw *w, const char *dsn, const struct ttc_spec *spec, int init, yajl_val user)
{
	jw_key(w, "env");
	jw_arr(w);
	env(w, "TIMESTEN_HOME", TT_INSTANCE_HOME);
	env(w, "LD_LIBRARY_PATH",
	    TT_INSTANCE_HOME "/ttclasses/lib:" TT_INSTANCE_HOME "/install/lib:" TT_INSTANCE_HOME
	                     "/install/ttoracle_home/instantclient_11_2");
	env(w, "TT_REPLICATION_TOPOLOGY", topology_names[spec->topology]);
	/* The agent addresses this database by name, whatever else sys.odbc.ini lists. */
	env(w, "TT_DSN", dsn);
	if (init)
		env(w, "TT_INIT_CONTAINER", "1");
	append(w, json_get(user, "env", NULL));
	jw_arr_end(w);
}

static void
mount(struct jw *w, const char *name, const char *path, int read_only)
{
	jw_obj(w);
	jw_kstr(w, "name", name);
	jw_kstr(w, "mountPath", path);
	if (read_only)
		jw_kbool(w, "readOnly", 1);
	jw_obj_end(w);
}

static void
tt_mounts(struct jw *w, const struct ttc_spec *spec, yajl_val user)
{
	jw_key(w, "volumeMounts");
	jw_arr(w);
	mount(w, "tt-persistent", "/tt", 0);
	mount(w, "tt-agent", "/ttagent", 1);
	mount(w, "tt-config", "/ttconfig", 1);
	if (*spec->log_storage_class)
		mount(w, "tt-log", "/ttlog", 0);
	append(w, json_get(user, "volumeMounts", NULL));
	jw_arr_end(w);
}

static void
tt_ports(struct jw *w, const struct ttc_spec *spec, yajl_val user)
{
	const long long numbers[] = {TT_AGENT_PORT, TT_DAEMON_PORT, TT_SERVER_PORT, spec->rep_port};

	jw_key(w, "ports");
	jw_arr(w);
	for (size_t i = 0; own_ports[i] != NULL; i++) {
		jw_obj(w);
		jw_kstr(w, "name", own_ports[i]);
		jw_kint(w, "containerPort", numbers[i]);
		jw_kstr(w, "protocol", "TCP");
		jw_obj_end(w);
	}
	append(w, json_get(user, "ports", NULL));
	jw_arr_end(w);
}

static void
command(struct jw *w)
{
	jw_key(w, "command");
	jw_arr(w);
	jw_str(w, TT_IMAGE_ENTRYPOINT);
	jw_arr_end(w);
}

static void
resources(struct jw *w, const char *cpu, const char *memory, int limit_memory)
{
	if (!*cpu && !*memory)
		return;
	jw_key(w, "resources");
	jw_obj(w);
	jw_key(w, "requests");
	jw_obj(w);
	if (*cpu)
		jw_kstr(w, "cpu", cpu);
	if (*memory)
		jw_kstr(w, "memory", memory);
	jw_obj_end(w);
	if (limit_memory && *memory) {
		jw_key(w, "limits");
		jw_obj(w);
		jw_kstr(w, "memory", memory);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

/* The tt container's memory: databaseMemorySize + additionalMemoryRequest, as request and
 * limit, when the operator sizes it and the database size is given. */
static void
tt_memory(char *buf, size_t n, const struct ttc_spec *spec)
{
	long long db, extra;

	buf[0] = '\0';
	if (!spec->automatic_memory_requests || !*spec->database_memory_size)
		return;
	db = spec_quantity_bytes(spec->database_memory_size);
	extra = spec_quantity_bytes(spec->additional_memory_request);
	if (db > 0 && extra >= 0)
		snprintf(buf, n, "%lldMi", (db + extra + (1 << 20) - 1) >> 20);
}

/* Writes the members of the user's template object t except those in skip. */
static void
pass_through(struct jw *w, yajl_val t, const char *const *skip)
{
	for (size_t i = 0; i < json_nkeys(t); i++) {
		const char *k = json_key_at(t, i);
		const char *const *s;
		for (s = skip; *s && strcmp(*s, k) != 0; s++)
			;
		if (*s)
			continue;
		jw_key(w, k);
		jw_val(w, json_value_at(t, i));
	}
}

/*
 * What the Pod Security "restricted" level asks of every container; TimesTen needs no
 * privilege. A template container of the same name that sets securityContext replaces it.
 */
static void
container_security(struct jw *w, yajl_val user)
{
	if (json_get(user, "securityContext", NULL) != NULL)
		return;
	jw_key(w, "securityContext");
	jw_obj(w);
	jw_kbool(w, "allowPrivilegeEscalation", 0);
	jw_kbool(w, "runAsNonRoot", 1);
	jw_key(w, "capabilities");
	jw_obj(w);
	jw_key(w, "drop");
	jw_arr(w);
	jw_str(w, "ALL");
	jw_arr_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
}

/* The fields of the user's container of the same name that the operator's does not take
 * as they are (they are merged above, or refused by objects_template_check). */
static const char *const merged_skip[] = {
    "name", "image", "command", "args", "readinessProbe", "env", "volumeMounts", "ports", NULL};

static void
tt_container(struct jw *w, const char *dsn, const struct ttc_spec *spec, int init, yajl_val user)
{
	char memory[32];

	jw_obj(w);
	jw_kstr(w, "name", init ? "ttinit" : "tt");
	jw_kstr(w, "image", spec->image);
	if (json_get(user, "imagePullPolicy", NULL) == NULL)
		jw_kstr(w, "imagePullPolicy", pull_policy_names[spec->image_pull_policy]);
	command(w);
	tt_ports(w, spec, user);
	tt_env(w, dsn, spec, init, user);
	tt_mounts(w, spec, user);
	container_security(w, user);
	if (!init && json_get(user, "resources", NULL) == NULL) {
		tt_memory(memory, sizeof(memory), spec);
		resources(w, spec->database_cpu_request, memory, 1);
	}
	if (!init) {
		/* Only the active's tt container is Ready, so the Service leads to it. */
		jw_key(w, "readinessProbe");
		jw_obj(w);
		jw_key(w, "exec");
		jw_obj(w);
		jw_key(w, "command");
		jw_arr(w);
		jw_str(w, "cat");
		jw_str(w, spec->topology == TOPO_PAIR ? "/tmp/active" : "/tmp/readiness");
		jw_arr_end(w);
		jw_obj_end(w);
		jw_kint(w, "periodSeconds", 10);
		jw_kint(w, "failureThreshold", 1);
		jw_kint(w, "successThreshold", 1);
		jw_obj_end(w);
	}
	pass_through(w, user, merged_skip);
	jw_obj_end(w);
}

/* Follows the TimesTen daemon log on its standard output. */
static void
daemonlog_container(struct jw *w, const struct ttc_spec *spec, yajl_val user)
{
	jw_obj(w);
	jw_kstr(w, "name", "daemonlog");
	jw_kstr(w, "image", spec->image);
	if (json_get(user, "imagePullPolicy", NULL) == NULL)
		jw_kstr(w, "imagePullPolicy", pull_policy_names[spec->image_pull_policy]);
	jw_key(w, "command");
	jw_arr(w);
	jw_str(w, TT_IMAGE_DAEMONLOG);
	jw_arr_end(w);
	if (json_get(user, "resources", NULL) == NULL)
		resources(w, spec->daemon_log_cpu_request, spec->daemon_log_memory_request, 1);
	jw_key(w, "env");
	jw_arr(w);
	env(w, "TIMESTEN_HOME", TT_INSTANCE_HOME);
	append(w, json_get(user, "env", NULL));
	jw_arr_end(w);
	jw_key(w, "volumeMounts");
	jw_arr(w);
	mount(w, "tt-persistent", "/tt", 0);
	append(w, json_get(user, "volumeMounts", NULL));
	jw_arr_end(w);
	if (json_get(user, "ports", NULL) != NULL) {
		jw_key(w, "ports");
		jw_val(w, json_get(user, "ports", NULL));
	}
	container_security(w, user);
	pass_through(w, user, merged_skip);
	jw_obj_end(w);
}

static void
volumes(struct jw *w, const struct owner *o, const struct ttc_spec *spec, yajl_val user)
{
	char secret[128];
	static const char *const mounted[] = {SECRET_CA_CERT, SECRET_SERVER_CERT,
	                                      SECRET_SERVER_KEY};

	objects_secret_name(secret, sizeof(secret), o->uid);
	jw_key(w, "volumes");
	jw_arr(w);
	for (size_t i = 0; i < json_len(user); i++)
		jw_val(w, json_at(user, i));

	jw_obj(w);
	jw_kstr(w, "name", "tt-agent");
	jw_key(w, "secret");
	jw_obj(w);
	jw_kstr(w, "secretName", secret);
	/* The CA key and the operator's own key stay out of the pods. */
	jw_key(w, "items");
	jw_arr(w);
	for (size_t i = 0; i < sizeof(mounted) / sizeof(mounted[0]); i++) {
		jw_obj(w);
		jw_kstr(w, "key", mounted[i]);
		jw_kstr(w, "path", mounted[i]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	jw_obj_end(w);

	jw_obj(w);
	jw_kstr(w, "name", "tt-config");
	jw_key(w, "projected");
	jw_obj(w);
	jw_key(w, "sources");
	jw_arr(w);
	for (size_t i = 0; i < spec->n_db_config_maps; i++) {
		jw_obj(w);
		jw_key(w, "configMap");
		jw_obj(w);
		jw_kstr(w, "name", spec->db_config_maps[i]);
		jw_obj_end(w);
		jw_obj_end(w);
	}
	for (size_t i = 0; i < spec->n_db_secrets; i++) {
		jw_obj(w);
		jw_key(w, "secret");
		jw_obj(w);
		jw_kstr(w, "name", spec->db_secrets[i]);
		jw_obj_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
}

static void
claim(struct jw *w, const char *name, const char *class, const char *size)
{
	jw_obj(w);
	jw_key(w, "metadata");
	jw_obj(w);
	jw_kstr(w, "name", name);
	jw_obj_end(w);
	jw_key(w, "spec");
	jw_obj(w);
	jw_kstr(w, "storageClassName", class);
	jw_key(w, "accessModes");
	jw_arr(w);
	jw_str(w, "ReadWriteOnce");
	jw_arr_end(w);
	jw_key(w, "resources");
	jw_obj(w);
	jw_key(w, "requests");
	jw_obj(w);
	jw_kstr(w, "storage", size);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
}

/* Whether a template container named name in list ("initContainers" or "containers") goes
 * into one of the operator's containers. */
static int
own_container(const struct ttc_spec *spec, const char *list, const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(list, "initContainers") == 0)
		return strcmp(name, "ttinit") == 0;
	return strcmp(name, "tt") == 0 ||
	       (spec->daemon_log_sidecar && strcmp(name, "daemonlog") == 0);
}

static yajl_val
user_container(yajl_val tspec, const char *list, const char *name)
{
	yajl_val l = json_get(tspec, list, NULL);

	for (size_t i = 0; i < json_len(l); i++) {
		const char *n = json_str(json_at(l, i), "name", NULL);
		if (n != NULL && strcmp(n, name) == 0)
			return json_at(l, i);
	}
	return NULL;
}

/* The template's containers of list that are the user's own. */
static void
user_containers(struct jw *w, const struct ttc_spec *spec, yajl_val tspec, const char *list)
{
	yajl_val l = json_get(tspec, list, NULL);

	for (size_t i = 0; i < json_len(l); i++)
		if (!own_container(spec, list, json_str(json_at(l, i), "name", NULL)))
			jw_val(w, json_at(l, i));
}

/*
 * The pods run as the image's timesten user, need no privilege (Pod Security
 * "restricted"), and own their volumes through fsGroup: most provisioners make a volume's
 * root owned by root, where the init container could not create the instance. Keys the
 * template's securityContext sets replace these.
 */
static void
pod_security(struct jw *w, yajl_val user)
{
	static const char *const none[] = {NULL};

	jw_key(w, "securityContext");
	jw_obj(w);
	if (json_get(user, "runAsNonRoot", NULL) == NULL)
		jw_kbool(w, "runAsNonRoot", 1);
	if (json_get(user, "runAsUser", NULL) == NULL)
		jw_kint(w, "runAsUser", TT_IMAGE_UID);
	if (json_get(user, "runAsGroup", NULL) == NULL)
		jw_kint(w, "runAsGroup", TT_IMAGE_GID);
	if (json_get(user, "fsGroup", NULL) == NULL)
		jw_kint(w, "fsGroup", TT_IMAGE_GID);
	/* A large volume is not walked at every start, only when its root is not ours. */
	if (json_get(user, "fsGroupChangePolicy", NULL) == NULL)
		jw_kstr(w, "fsGroupChangePolicy", "OnRootMismatch");
	if (json_get(user, "seccompProfile", NULL) == NULL) {
		jw_key(w, "seccompProfile");
		jw_obj(w);
		jw_kstr(w, "type", "RuntimeDefault");
		jw_obj_end(w);
	}
	pass_through(w, user, none);
	jw_obj_end(w);
}

/*
 * The object's pods prefer different nodes (preferred, so that a cluster of one node
 * still runs them all): one node's loss is then not the loss of both databases of a pair.
 * A template that sets affinity replaces this.
 */
static void
spread_over_nodes(struct jw *w, const struct owner *o)
{
	jw_key(w, "affinity");
	jw_obj(w);
	jw_key(w, "podAntiAffinity");
	jw_obj(w);
	jw_key(w, "preferredDuringSchedulingIgnoredDuringExecution");
	jw_arr(w);
	jw_obj(w);
	jw_kint(w, "weight", 100);
	jw_key(w, "podAffinityTerm");
	jw_obj(w);
	jw_kstr(w, "topologyKey", "kubernetes.io/hostname");
	jw_key(w, "labelSelector");
	jw_obj(w);
	jw_key(w, "matchLabels");
	jw_obj(w);
	jw_kstr(w, OBJECT_LABEL, o->name);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
}

static void
pod_template(struct jw *w, const struct owner *o, const struct ttc_spec *spec)
{
	yajl_val tmeta = json_get(spec->template, "metadata", NULL);
	yajl_val tspec = json_get(spec->template, "spec", NULL);
	yajl_val tlabels = json_get(tmeta, "labels", NULL);
	static const char *const meta_skip[] = {"labels", "name", "namespace", NULL};
	static const char *const spec_skip[] = {"containers",       "initContainers",  "volumes",
	                                        "imagePullSecrets", "securityContext", NULL};

	jw_key(w, "template");
	jw_obj(w);
	jw_key(w, "metadata");
	jw_obj(w);
	pass_through(w, tmeta, meta_skip);
	labels_with(w, o, tlabels);
	jw_obj_end(w);

	jw_key(w, "spec");
	jw_obj(w);
	pass_through(w, tspec, spec_skip);
	if (json_get(tspec, "automountServiceAccountToken", NULL) == NULL) {
		/* The agent never calls the API server: no credentials in database pods,
		 * unless the template asks for them. */
		jw_key(w, "automountServiceAccountToken");
		jw_bool(w, 0);
	}
	pod_security(w, json_get(tspec, "securityContext", NULL));
	if (json_get(tspec, "affinity", NULL) == NULL)
		spread_over_nodes(w, o);
	jw_key(w, "initContainers");
	jw_arr(w);
	tt_container(w, o->name, spec, 1, user_container(tspec, "initContainers", "ttinit"));
	user_containers(w, spec, tspec, "initContainers");
	jw_arr_end(w);
	jw_key(w, "containers");
	jw_arr(w);
	tt_container(w, o->name, spec, 0, user_container(tspec, "containers", "tt"));
	if (spec->daemon_log_sidecar)
		daemonlog_container(w, spec, user_container(tspec, "containers", "daemonlog"));
	user_containers(w, spec, tspec, "containers");
	jw_arr_end(w);
	yajl_val pull = json_get(tspec, "imagePullSecrets", NULL);
	if (*spec->image_pull_secret || json_len(pull) > 0) {
		jw_key(w, "imagePullSecrets");
		jw_arr(w);
		if (*spec->image_pull_secret) {
			jw_obj(w);
			jw_kstr(w, "name", spec->image_pull_secret);
			jw_obj_end(w);
		}
		for (size_t i = 0; i < json_len(pull); i++)
			jw_val(w, json_at(pull, i));
		jw_arr_end(w);
	}
	volumes(w, o, spec, json_get(tspec, "volumes", NULL));
	jw_obj_end(w);
	jw_obj_end(w);
}

/*
 * How the StatefulSet replaces pods: OnDelete for a pair (the operator orders every
 * replacement) and for non-replicated objects upgraded by hand (the user deletes pods);
 * RollingUpdate from rollingUpdatePartition up for non-replicated objects upgraded
 * automatically (Kubernetes rolls them, highest ordinal first, each after the previous is
 * Ready). A patch clears rollingUpdate when the type becomes OnDelete.
 */
static void
update_strategy(struct jw *w, const struct ttc_spec *spec, int patch)
{
	int rolling = spec->topology == TOPO_NONE && spec->image_upgrade_strategy == UPGRADE_AUTO;

	jw_key(w, "updateStrategy");
	jw_obj(w);
	jw_kstr(w, "type", rolling ? "RollingUpdate" : "OnDelete");
	if (rolling) {
		jw_key(w, "rollingUpdate");
		jw_obj(w);
		jw_kint(w, "partition", spec->rolling_update_partition);
		jw_obj_end(w);
	} else if (patch) {
		jw_key(w, "rollingUpdate");
		jw_null(w);
	}
	jw_obj_end(w);
}

static long long
replicas(const struct ttc_spec *spec)
{
	return spec->topology == TOPO_PAIR ? 2 : spec->replicas;
}

char *
objects_statefulset(const struct owner *o, const struct ttc_spec *spec, long long gen)
{
	struct jw w;

	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "apiVersion", "apps/v1");
	jw_kstr(&w, "kind", "StatefulSet");
	metadata(&w, o, o->name, gen);
	jw_key(&w, "spec");
	jw_obj(&w);
	jw_kint(&w, "replicas", replicas(spec));
	jw_kstr(&w, "serviceName", o->name);
	/* Both pods start together: the database that must become active may be on -1. */
	jw_kstr(&w, "podManagementPolicy", "Parallel");
	update_strategy(&w, spec, 0);
	jw_key(&w, "selector");
	jw_obj(&w);
	jw_key(&w, "matchLabels");
	jw_obj(&w);
	selector_app(&w, o->name);
	jw_obj_end(&w);
	jw_obj_end(&w);
	pod_template(&w, o, spec);
	jw_key(&w, "volumeClaimTemplates");
	jw_arr(&w);
	claim(&w, "tt-persistent", spec->storage_class, spec->storage_size);
	if (*spec->log_storage_class)
		claim(&w, "tt-log", spec->log_storage_class,
		      *spec->log_storage_size ? spec->log_storage_size : spec->storage_size);
	for (size_t i = 0; i < json_len(spec->volume_claim_templates); i++)
		jw_val(&w, json_at(spec->volume_claim_templates, i));
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

char *
objects_statefulset_patch(const struct owner *o, const struct ttc_spec *spec, long long gen)
{
	struct jw w;

	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_key(&w, "metadata");
	jw_obj(&w);
	annotations(&w, o, gen);
	jw_obj_end(&w);
	jw_key(&w, "spec");
	jw_obj(&w);
	jw_kint(&w, "replicas", replicas(spec));
	update_strategy(&w, spec, 1);
	pod_template(&w, o, spec);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

/* Writes "spec.template.spec.<list>[i]<rest>: " and the message into err; -1. */
static int template_error(char *err, size_t errlen, const char *list, size_t i, const char *fmt,
                          ...) __attribute__((format(printf, 5, 6)));

static int
template_error(char *err, size_t errlen, const char *list, size_t i, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "spec.template.spec.%s[%zu]", list, i);

	if (n > 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* What a template container merged into the operator's container c may not set. */
static int
merged_check(const struct ttc_spec *spec, yajl_val c, const char *list, size_t i, char *err,
             size_t errlen)
{
	const char *name = json_str(c, "name", NULL);
	yajl_val l;

	for (const char *const *f = own_fields; *f; f++)
		if (json_get(c, *f, NULL) != NULL)
			return template_error(
			    err, errlen, list, i, ".%s: the operator sets it in its %s container%s",
			    *f, name, strcmp(*f, "image") == 0 ? " (from spec.ttspec.image)" : "");
	l = json_get(c, "env", NULL);
	for (size_t k = 0; k < json_len(l); k++) {
		const char *v = json_str(json_at(l, k), "name", NULL);
		if (listed(own_env, v))
			return template_error(err, errlen, list, i,
			                      ".env[%zu].name: %s is set by the operator", k, v);
	}
	l = json_get(c, "volumeMounts", NULL);
	for (size_t k = 0; k < json_len(l); k++) {
		const char *v = json_str(json_at(l, k), "mountPath", NULL);
		if (listed(own_mounts, v))
			return template_error(
			    err, errlen, list, i,
			    ".volumeMounts[%zu].mountPath: %s is one of the operator's "
			    "mounts (/tt, /ttagent, /ttconfig, /ttlog)",
			    k, v);
	}
	l = json_get(c, "ports", NULL);
	for (size_t k = 0; k < json_len(l); k++) {
		const char *v = json_str(json_at(l, k), "name", NULL);
		long long port = 0;
		json_int(json_at(l, k), &port, "containerPort", NULL);
		if (listed(own_ports, v) || port == TT_AGENT_PORT || port == TT_DAEMON_PORT ||
		    port == TT_SERVER_PORT || port == spec->rep_port)
			return template_error(
			    err, errlen, list, i,
			    ".ports[%zu]: the operator's ports are agent %d, daemon "
			    "%d, cs %d and replication %lld",
			    k, TT_AGENT_PORT, TT_DAEMON_PORT, TT_SERVER_PORT, spec->rep_port);
	}
	return 0;
}

int
objects_template_check(const struct ttc_spec *spec, char *err, size_t errlen)
{
	static const char *const lists[] = {"initContainers", "containers"};
	yajl_val tspec = json_get(spec->template, "spec", NULL);
	yajl_val l;

	for (size_t j = 0; j < 2; j++) {
		const char *list = lists[j], *other = lists[1 - j];
		l = json_get(tspec, list, NULL);
		for (size_t i = 0; i < json_len(l); i++) {
			yajl_val c = json_at(l, i);
			const char *name = json_str(c, "name", NULL);
			if (own_container(spec, other, name))
				return template_error(err, errlen, list, i,
				                      ".name: %s is the operator's container in "
				                      "spec.template.spec.%s; its fields go there",
				                      name, other);
			if (!own_container(spec, list, name))
				continue;
			if (user_container(tspec, list, name) != c)
				return template_error(err, errlen, list, i,
				                      ".name: a second container named %s", name);
			if (merged_check(spec, c, list, i, err, errlen) < 0)
				return -1;
		}
	}
	l = json_get(tspec, "volumes", NULL);
	for (size_t i = 0; i < json_len(l); i++)
		if (listed(own_volumes, json_str(json_at(l, i), "name", NULL)))
			return template_error(err, errlen, "volumes", i,
			                      ".name: %s is one of the operator's volumes",
			                      json_str(json_at(l, i), "name", NULL));
	for (size_t i = 0; i < json_len(spec->volume_claim_templates); i++) {
		const char *n =
		    json_str(json_at(spec->volume_claim_templates, i), "metadata", "name", NULL);
		if (listed(own_volumes, n)) {
			snprintf(err, errlen,
			         "spec.volumeClaimTemplates[%zu].metadata.name: %s is one of the "
			         "operator's volumes",
			         i, n);
			return -1;
		}
	}
	return 0;
}
