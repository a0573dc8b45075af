/*
 * .spec.ttspec of a TimesTenClassic, read against a table of fields: each with its type,
 * default and limits. Unknown fields never reach us (the API server prunes them).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec.h"
#include "ttc/json.h"

const char *const topology_names[] = {
#define X(e, s) s,
    TOPOLOGIES(X)
#undef X
        NULL};
const char *const both_down_names[] = {
#define X(e, s) s,
    BOTH_DOWN_BEHAVIORS(X)
#undef X
        NULL};
const char *const upgrade_strategy_names[] = {
#define X(e, s) s,
    UPGRADE_STRATEGIES(X)
#undef X
        NULL};
const char *const pull_policy_names[] = {
#define X(e, s) s,
    PULL_POLICIES(X)
#undef X
        NULL};

enum field_type { F_STR, F_QTY, F_ENUM, F_INT, F_BOOL, F_LIST };

#define REQUIRED 1

struct field {
	const char *name;
	enum field_type type;
	size_t offset;
	const char *def_str;      /* F_STR, F_QTY */
	long long def;            /* F_INT, F_ENUM, F_BOOL */
	long long min, max;       /* F_INT */
	const char *const *names; /* F_ENUM */
	int required;
	size_t count_offset; /* F_LIST */
};

#define OFF(f) offsetof(struct ttc_spec, f)
#define STR(n, f, d)                                                                               \
	{                                                                                          \
		n, F_STR, OFF(f), d, 0, 0, 0, NULL, 0, 0                                           \
	}
#define STR_REQ(n, f)                                                                              \
	{                                                                                          \
		n, F_STR, OFF(f), "", 0, 0, 0, NULL, REQUIRED, 0                                   \
	}
#define QTY(n, f, d)                                                                               \
	{                                                                                          \
		n, F_QTY, OFF(f), d, 0, 0, 0, NULL, 0, 0                                           \
	}
#define INT(n, f, d, lo, hi)                                                                       \
	{                                                                                          \
		n, F_INT, OFF(f), NULL, d, lo, hi, NULL, 0, 0                                      \
	}
#define BOOL(n, f, d)                                                                              \
	{                                                                                          \
		n, F_BOOL, OFF(f), NULL, d, 0, 0, NULL, 0, 0                                       \
	}
#define ENUM(n, f, d, names)                                                                       \
	{                                                                                          \
		n, F_ENUM, OFF(f), NULL, d, 0, 0, names, 0, 0                                      \
	}
#define LIST(n, f)                                                                                 \
	{                                                                                          \
		n, F_LIST, OFF(f), NULL, 0, 0, 0, NULL, 0, OFF(n_##f)                              \
	}

static const struct field fields[] = {
    STR_REQ("image", image),
    ENUM("imagePullPolicy", image_pull_policy, PULL_ALWAYS, pull_policy_names),
    STR("imagePullSecret", image_pull_secret, ""),
    STR_REQ("storageClassName", storage_class),
    QTY("storageSize", storage_size, "50Gi"),
    STR("logStorageClassName", log_storage_class, ""),
    QTY("logStorageSize", log_storage_size, ""),
    LIST("dbConfigMap", db_config_maps),
    LIST("dbSecret", db_secrets),
    ENUM("replicationTopology", topology, TOPO_PAIR, topology_names),
    INT("replicas", replicas, 1, 1, SPEC_MAX_REPLICAS),
    INT("repPort", rep_port, 4444, 1, 65535),
    STR("repCreateStatement", rep_create_statement, ""),
    STR("repReturnServiceAttribute", rep_return_service, ""),
    STR("repStoreAttribute", rep_store_attribute, ""),
    ENUM("bothDownBehavior", both_down_behavior, BOTHDOWN_BEST, both_down_names),
    ENUM("imageUpgradeStrategy", image_upgrade_strategy, UPGRADE_AUTO, upgrade_strategy_names),
    INT("rollingUpdatePartition", rolling_update_partition, 0, 0, SPEC_MAX_REPLICAS),
#define X(e, field, member, def, lo, hi) INT(field, member, def, lo, hi),
    SPEC_TIMERS(X)
#undef X
        INT("memoryWarningPercent", memory_warning_percent, 90, 1, 100),
    STR("stopManaging", stop_managing, ""),
    STR("reexamine", reexamine, ""),
    STR("resetUpgradeState", reset_upgrade_state, ""),
    BOOL("daemonLogSidecar", daemon_log_sidecar, 1),
    BOOL("automaticMemoryRequests", automatic_memory_requests, 1),
    BOOL("cacheCleanup", cache_cleanup, 1),
    QTY("additionalMemoryRequest", additional_memory_request, "2Gi"),
    QTY("databaseMemorySize", database_memory_size, ""),
    QTY("databaseCPURequest", database_cpu_request, ""),
    QTY("daemonLogCPURequest", daemon_log_cpu_request, "200m"),
    QTY("daemonLogMemoryRequest", daemon_log_memory_request, "20Mi"),
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct {
	size_t offset;
	long long def;
} timers[] = {
#define X(e, field, member, def, lo, hi) {OFF(member), def},
    SPEC_TIMERS(X)
#undef X
};

long long
spec_seconds(const struct ttc_spec *s, enum spec_timer t)
{
	if (s == NULL)
		return timers[t].def;
	return *(const long long *)((const char *)s + timers[t].offset);
}

time_t
spec_deadline(const struct ttc_spec *s, enum spec_timer t, time_t from)
{
	long long n = spec_seconds(s, t);

	return n > 0 ? from + (time_t)n : 0;
}

int
spec_timeout_ms(const struct ttc_spec *s, enum spec_timer t)
{
	long long n = spec_seconds(s, t);

	return n > 0 ? (int)(n * 1000) : 0; /* at most a day: fits */
}

/*
 * A quantity: a decimal number (sign, digits, at most one point) followed by nothing, a
 * binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m k M G T P E) or an exponent.
 */
int
spec_is_quantity(const char *s)
{
	static const char *const suffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m",
	                                       "k",  "M",  "G",  "T",  "P",  "E",  "",  NULL};
	const char *p = s;
	int digits = 0, points = 0;

	if (*p == '+' || *p == '-')
		p++;
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.')
			points++;
		else
			digits++;
	}
	if (digits == 0 || points > 1)
		return 0;
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		if (*q == '+' || *q == '-')
			q++;
		if (*q < '0' || *q > '9')
			return 0;
		while (*q >= '0' && *q <= '9')
			q++;
		return *q == '\0';
	}
	for (const char *const *x = suffixes; *x; x++)
		if (strcmp(p, *x) == 0)
			return 1;
	return 0;
}

long long
spec_quantity_bytes(const char *s)
{
	static const struct {
		const char *suffix;
		double factor;
	} units[] = {{"Ki", 1024.0},
	             {"Mi", 1048576.0},
	             {"Gi", 1073741824.0},
	             {"Ti", 1099511627776.0},
	             {"Pi", 1125899906842624.0},
	             {"Ei", 1152921504606846976.0},
	             {"n", 1e-9},
	             {"u", 1e-6},
	             {"m", 1e-3},
	             {"k", 1e3},
	             {"M", 1e6},
	             {"G", 1e9},
	             {"T", 1e12},
	             {"P", 1e15},
	             {"E", 1e18}};
	char *end;
	double v;

	if (!spec_is_quantity(s))
		return -1;
	v = strtod(s, &end); /* takes an exponent ("1e3") too */
	for (size_t i = 0; *end && i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].suffix) == 0) {
			v *= units[i].factor;
			end += strlen(end);
		}
	if (*end != '\0' || v < 0 || v > 9.2e18)
		return -1;
	long long n = (long long)v;
	return (double)n < v ? n + 1 : n;
}

static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "spec.ttspec.%s: ", name);

	if (n > 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
set_str(char **slot, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* A quantity may be written as a number or a string. */
static const char *
quantity_text(yajl_val v)
{
	if (YAJL_IS_STRING(v))
		return YAJL_GET_STRING(v);
	if (YAJL_IS_NUMBER(v))
		return YAJL_GET_NUMBER(v);
	return NULL;
}

static int
set_field(struct ttc_spec *s, const struct field *f, yajl_val v, char *err, size_t errlen)
{
	char *base = (char *)s;
	const char *text;

	switch (f->type) {
	case F_STR:
		if (!YAJL_IS_STRING(v))
			return fail(err, errlen, f->name, "must be a string");
		if (f->required && *YAJL_GET_STRING(v) == '\0')
			return fail(err, errlen, f->name, "must not be empty");
		return set_str((char **)(base + f->offset), YAJL_GET_STRING(v));
	case F_QTY:
		if ((text = quantity_text(v)) == NULL || !spec_is_quantity(text))
			return fail(err, errlen, f->name,
			            "\"%s\" is not a quantity such as 250G, 2Gi or 200m",
			            text ? text : "(not a string)");
		return set_str((char **)(base + f->offset), text);
	case F_ENUM:
		/* As the guide's own samples spell them too ("manual"); read back in the
		 * canonical spelling. */
		text = YAJL_IS_STRING(v) ? v->u.string : "";
		for (int i = 0; f->names[i]; i++)
			if (strcasecmp(f->names[i], text) == 0) {
				*(int *)(base + f->offset) = i;
				return 0;
			}
		{
			char allowed[128] = "";
			for (int i = 0; f->names[i]; i++)
				snprintf(allowed + strlen(allowed),
				         sizeof(allowed) - strlen(allowed), "%s%s", i ? ", " : "",
				         f->names[i]);
			return fail(err, errlen, f->name, "\"%s\" is not one of %s",
			            YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "(not a string)",
			            allowed);
		}
	case F_INT:
		if (!YAJL_IS_INTEGER(v))
			return fail(err, errlen, f->name, "must be an integer");
		if (YAJL_GET_INTEGER(v) < f->min || YAJL_GET_INTEGER(v) > f->max)
			return fail(err, errlen, f->name, "%lld is outside [%lld, %lld]",
			            YAJL_GET_INTEGER(v), f->min, f->max);
		*(long long *)(base + f->offset) = YAJL_GET_INTEGER(v);
		return 0;
	case F_BOOL:
		if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
			return fail(err, errlen, f->name, "must be true or false");
		*(int *)(base + f->offset) = YAJL_IS_TRUE(v);
		return 0;
	case F_LIST: {
		char ***list = (char ***)(base + f->offset);
		size_t *count = (size_t *)(base + f->count_offset);
		if (!YAJL_IS_ARRAY(v))
			return fail(err, errlen, f->name, "must be a list of names");
		*list = calloc(json_len(v) + 1, sizeof(char *));
		if (*list == NULL)
			return fail(err, errlen, f->name, "out of memory");
		for (size_t i = 0; i < json_len(v); i++) {
			const char *name = YAJL_GET_STRING(json_at(v, i));
			if (name == NULL || *name == '\0')
				return fail(err, errlen, f->name, "item %zu must be a name", i);
			if (((*list)[i] = strdup(name)) == NULL)
				return fail(err, errlen, f->name, "out of memory");
			(*count)++;
		}
		return 0;
	}
	}
	return -1;
}

static int
set_default(struct ttc_spec *s, const struct field *f)
{
	char *base = (char *)s;

	switch (f->type) {
	case F_STR:
	case F_QTY:
		return set_str((char **)(base + f->offset), f->def_str);
	case F_ENUM:
	case F_BOOL:
		*(int *)(base + f->offset) = (int)f->def;
		return 0;
	case F_INT:
		*(long long *)(base + f->offset) = f->def;
		return 0;
	case F_LIST:
		return 0;
	}
	return -1;
}

/*
 * The object's name is its database's DSN (32 characters at most in TimesTen) and names its
 * Service (a DNS-1035 label), its StatefulSet and pods (whose controller-revision-hash label,
 * NAME-<hash of up to 10 characters>, must fit 63): so a lower-case letter, then letters,
 * digits and '-', at most SPEC_NAME_MAX. Kubernetes itself accepts longer names for the
 * object (a DNS subdomain), which would leave it with no database.
 */
static int
name_unusable(const char *name, char *err, size_t errlen)
{
	size_t n;

	if (name == NULL)
		return 0; /* not an object read from the API (tests of the spec alone) */
	n = strlen(name);
	if (n > SPEC_NAME_MAX) {
		snprintf(
		    err, errlen,
		    "metadata.name: %zu characters, at most %d: it is the database's DSN, which "
		    "TimesTen limits to 32 characters",
		    n, SPEC_NAME_MAX);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (i > 0 && ((c >= '0' && c <= '9') || c == '-')))) {
			snprintf(err, errlen,
			         "metadata.name: \"%s\" must start with a lower-case letter and "
			         "hold only "
			         "lower-case letters, digits and '-' (it names the Service, a "
			         "DNS-1035 label)",
			         name);
			return 1;
		}
	}
	if (n > 0 && name[n - 1] == '-') {
		snprintf(err, errlen, "metadata.name: \"%s\" must not end with '-'", name);
		return 1;
	}
	return 0;
}

struct ttc_spec *
spec_parse(yajl_val obj, char *err, size_t errlen)
{
	struct ttc_spec *s = calloc(1, sizeof(*s));
	yajl_val ttspec = json_get(obj, "spec", "ttspec", NULL);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (name_unusable(json_str(obj, "metadata", "name", NULL), err, errlen)) {
		spec_free(s);
		return NULL;
	}
	if (!YAJL_IS_OBJECT(ttspec)) {
		snprintf(err, errlen,
		         "spec.ttspec: missing; it holds at least image and "
		         "storageClassName");
		spec_free(s);
		return NULL;
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		yajl_val v = json_get(ttspec, f->name, NULL);

		if (set_default(s, f) < 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (v == NULL || YAJL_IS_NULL(v)) {
			if (f->required) {
				fail(err, errlen, f->name, "required");
				goto fail;
			}
			continue;
		}
		if (set_field(s, f, v, err, errlen) < 0)
			goto fail;
	}
	if (s->topology == TOPO_PAIR && s->replicas != 1 &&
	    json_get(ttspec, "replicas", NULL) != NULL) {
		fail(err, errlen, "replicas", "applies only to replicationTopology none");
		goto fail;
	}
	s->template = json_copy(json_get(obj, "spec", "template", NULL));
	s->volume_claim_templates = json_copy(json_get(obj, "spec", "volumeClaimTemplates", NULL));
	return s;
fail:
	spec_free(s);
	return NULL;
}

void
spec_free(struct ttc_spec *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		char *base = (char *)s;

		if (f->type == F_STR || f->type == F_QTY) {
			free(*(char **)(base + f->offset));
		} else if (f->type == F_LIST) {
			char **list = *(char ***)(base + f->offset);
			for (size_t k = 0; list && list[k]; k++)
				free(list[k]);
			free(list);
		}
	}
	json_free(s->template);
	json_free(s->volume_claim_templates);
	free(s);
}
