/*
 * The TimesTenClassic spec as the operator uses it: .spec.ttspec read from the object,
 * defaults filled in, every value checked, the first bad one named by its field path.
 */
#ifndef SPEC_H
#define SPEC_H

#include <stddef.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#define TOPOLOGIES(X) X(PAIR, "activeStandbyPair") X(NONE, "none")
enum replication_topology {
#define X(e, s) TOPO_##e,
	TOPOLOGIES(X)
#undef X
};

#define BOTH_DOWN_BEHAVIORS(X) X(BEST, "Best") X(MANUAL, "Manual")
enum both_down_behavior {
#define X(e, s) BOTHDOWN_##e,
	BOTH_DOWN_BEHAVIORS(X)
#undef X
};

#define UPGRADE_STRATEGIES(X) X(AUTO, "Auto") X(MANUAL, "Manual")
enum upgrade_strategy {
#define X(e, s) UPGRADE_##e,
	UPGRADE_STRATEGIES(X)
#undef X
};

#define PULL_POLICIES(X) X(ALWAYS, "Always") X(IF_NOT_PRESENT, "IfNotPresent") X(NEVER, "Never")
enum pull_policy {
#define X(e, s) PULL_##e,
	PULL_POLICIES(X)
#undef X
};

#define SPEC_DAY (24LL * 3600)
#define SPEC_MAX_REPLICAS 100 /* pods of a non-replicated object */

/*
 * The spec's timers, in seconds: X(enum, field, member, default, min, max). Their defaults
 * live here only. A 0, where a timer allows it, means "none" (no limit), for every timer.
 * deleteDbOnNotReadyNode is 0 (off) only when unset: a value written must be positive.
 */
#define SPEC_TIMERS(X)                                                                             \
	X(POLLING_INTERVAL, "pollingInterval", polling_interval, 5, 1, 3600)                       \
	X(UNREACHABLE, "unreachableTimeout", unreachable_timeout, 30, 1, SPEC_DAY)                 \
	X(AGENT_GET, "agentGetTimeout", agent_get_timeout, 60, 0, SPEC_DAY)                        \
	X(AGENT_POST, "agentPostTimeout", agent_post_timeout, 600, 0, SPEC_DAY)                    \
	X(AGENT_ASYNC, "agentAsyncTimeout", agent_async_timeout, 600, 1, SPEC_DAY)                 \
	X(AGENT_TCP, "agentTcpTimeout", agent_tcp_timeout, 10, 1, 3600)                            \
	X(AGENT_TLS, "agentTlsTimeout", agent_tls_timeout, 10, 1, 3600)                            \
	X(UPGRADE_DOWN_POD, "upgradeDownPodTimeout", upgrade_down_pod_timeout, 600, 1, SPEC_DAY)   \
	X(WAITING_FOR_ACTIVE, "waitingForActiveTimeout", waiting_for_active_timeout, 0, 0,         \
	  SPEC_DAY)                                                                                \
	X(REP_STATE, "repStateTimeout", rep_state_timeout, 120, 1, SPEC_DAY)                       \
	X(NOT_READY_NODE, "deleteDbOnNotReadyNode", delete_db_on_not_ready_node, 0, 1, SPEC_DAY)

enum spec_timer {
#define X(e, field, member, def, lo, hi) TIMER_##e,
	SPEC_TIMERS(X)
#undef X
	    SPEC_NTIMERS
};

extern const char *const topology_names[];
extern const char *const both_down_names[];
extern const char *const upgrade_strategy_names[];
extern const char *const pull_policy_names[];

/* Strings are malloc'd copies ("" when unset); template and claims are copies of the
 * object's subtrees. Times are in seconds. */
struct ttc_spec {
	char *image;
	int image_pull_policy; /* enum pull_policy */
	char *image_pull_secret;
	char *storage_class;
	char *storage_size; /* a Kubernetes quantity, as written */
	char *log_storage_class;
	char *log_storage_size;
	char **db_config_maps;
	size_t n_db_config_maps;
	char **db_secrets;
	size_t n_db_secrets;

	int topology; /* enum replication_topology */
	long long replicas;
	long long rep_port;
	char *rep_create_statement; /* the user's, with {{tt-...}} tokens; "" = generated */
	char *rep_return_service;   /* clause for the generated statement */
	char *rep_store_attribute;  /* clause for the generated statement */
	int both_down_behavior;     /* enum both_down_behavior */
	int image_upgrade_strategy; /* enum upgrade_strategy */
	long long rolling_update_partition;

#define X(e, field, member, def, lo, hi) long long member;
	SPEC_TIMERS(X) /* seconds; read them with spec_seconds() */
#undef X
	long long memory_warning_percent;

	char *stop_managing; /* change-to-trigger values */
	char *reexamine;
	char *reset_upgrade_state;

	int daemon_log_sidecar;
	int automatic_memory_requests;
	int cache_cleanup;
	char *additional_memory_request;
	char *database_memory_size;
	char *database_cpu_request;
	char *daemon_log_cpu_request;
	char *daemon_log_memory_request;

	yajl_val template;               /* .spec.template or NULL */
	yajl_val volume_claim_templates; /* .spec.volumeClaimTemplates or NULL */
};

/* The longest object name: it is the database's DSN, which TimesTen limits to 32 characters
 * (so the StatefulSet's revision label, NAME-<hash>, fits 63 too). */
#define SPEC_NAME_MAX 32

/*
 * Reads obj (a whole TimesTenClassic) into a new spec. On a bad value returns NULL and
 * writes "spec.ttspec.<field>: reason" (or "metadata.name: reason") into err.
 */
struct ttc_spec *spec_parse(yajl_val obj, char *err, size_t errlen);
void spec_free(struct ttc_spec *s);

/* Timer t of spec s in seconds (0: none); its default when s is NULL (no valid spec). */
long long spec_seconds(const struct ttc_spec *s, enum spec_timer t);
/* When timer t started at from runs out, or 0 when it has no limit. */
time_t spec_deadline(const struct ttc_spec *s, enum spec_timer t, time_t from);
/* Timer t in milliseconds for a request, or 0 when it has no limit. */
int spec_timeout_ms(const struct ttc_spec *s, enum spec_timer t);

/* Whether s is a Kubernetes quantity ("250G", "2Gi", "200m", "1.5", "1e3"). */
int spec_is_quantity(const char *s);
/* A quantity in whole units (bytes for memory), rounded up; -1 when malformed. */
long long spec_quantity_bytes(const char *s);

#endif
