/*
 * One managed TimesTenClassic object: what is known of it and of its pods, how a pod
 * stands against its role, and the decisions the machine's actions record.
 */
#ifndef OBJECT_H
#define OBJECT_H

#include <time.h>

#include "proc.h"
#include "spec.h"
#include "ttc.h"

enum pod_role { ROLE_NONE, ROLE_ACTIVE, ROLE_STANDBY };

/*
 * What a pod's agent last said of TimesTen (src/agent/API.md, GET /v1/state), parsed once
 * into enumerations. X(enum, text): the text is the agent's word and the operator's (in
 * Events and status). Every enumeration starts with Unknown, so a zeroed state is unknown.
 */
#define TT_INSTANCE(X)                                                                             \
	X(INSTANCE_UNKNOWN, "Unknown") X(INSTANCE_EXISTS, "Exists") X(INSTANCE_NONE, "None")
#define TT_DAEMON(X) X(DAEMON_UNKNOWN, "Unknown") X(DAEMON_UP, "Up") X(DAEMON_DOWN, "Down")
#define TT_DB(X)                                                                                   \
	X(DB_UNKNOWN, "Unknown")                                                                   \
	X(DB_NONE, "None") X(DB_LOADED, "Loaded") X(DB_UNLOADED, "Unloaded")
#define TT_UPDATABLE(X)                                                                            \
	X(UPDATABLE_UNKNOWN, "Unknown") X(UPDATABLE_YES, "Yes") X(UPDATABLE_NO, "No")
#define TT_RUNNING(X)                                                                              \
	X(RUNNING_UNKNOWN, "Unknown") X(RUNNING_YES, "Running") X(RUNNING_NO, "Not Running")
#define TT_SCHEME(X) X(SCHEME_UNKNOWN, "Unknown") X(SCHEME_EXISTS, "Exists") X(SCHEME_NONE, "None")
#define TT_REP_STATE(X)                                                                            \
	X(REP_UNKNOWN, "Unknown")                                                                  \
	X(REP_IDLE, "IDLE") X(REP_ACTIVE, "ACTIVE") X(REP_STANDBY, "STANDBY")                      \
	    X(REP_FAILED, "FAILED") X(REP_RECOVERING, "RECOVERING")

#define TT_ENUM(e, text) e,
enum tt_instance { TT_INSTANCE(TT_ENUM) };
enum tt_daemon { TT_DAEMON(TT_ENUM) };
enum tt_db { TT_DB(TT_ENUM) };
enum tt_updatable { TT_UPDATABLE(TT_ENUM) };
enum tt_running { TT_RUNNING(TT_ENUM) };
enum tt_scheme { TT_SCHEME(TT_ENUM) };
enum tt_rep_state { TT_REP_STATE(TT_ENUM) };
#undef TT_ENUM

/* The words of each enumeration, NULL-terminated. */
extern const char *const tt_instance_names[];
extern const char *const tt_daemon_names[];
extern const char *const tt_db_names[];
extern const char *const tt_updatable_names[];
extern const char *const tt_running_names[];
extern const char *const tt_scheme_names[];
extern const char *const tt_rep_state_names[];

struct agent_state {
	int instance;        /* enum tt_instance */
	int daemon;          /* enum tt_daemon */
	char release[32];    /* e.g. 22.1.1.9.0, Unknown */
	int db;              /* enum tt_db */
	int updatable;       /* enum tt_updatable */
	int rep_agent;       /* enum tt_running */
	int rep_scheme;      /* enum tt_scheme */
	int rep_state;       /* enum tt_rep_state */
	char rep_peer[32];   /* the peer's state as seen here (start, pause, stop, failed) */
	int cache_agent;     /* enum tt_running */
	int active_marker;   /* /tmp/active exists (a pair's readiness probe passes) */
	int ready_marker;    /* /tmp/readiness exists (a non-replicated pod's probe passes) */
	int admin_user_file; /* /ttconfig/adminUser exists */
	int schema_file;     /* /ttconfig/schema.sql exists */
	int cache_user_file; /* /ttconfig/cacheUser exists */
	int cg_file;         /* /ttconfig/cachegroups.sql exists */
	long long db_id;     /* the database's shared memory ID; -1 not known */
	int open;            /* enum tt_updatable: open for user connections (ttAdmin -close) */
	long long mem_usage; /* the pod's cgroup memory in use, bytes; -1 not known */
	long long mem_limit; /* its cgroup's limit, bytes; -1 not known or unlimited */
	long long rss_kb;    /* the agent's own resident set, KB; -1 not known */
};

/* Sets every field to Unknown (what is shown while the agent cannot be asked). */
void agent_state_unknown(struct agent_state *st);

struct pod_view {
	/* From the Pod object. */
	int exists;
	int terminating; /* deletionTimestamp set */
	char uid[64];
	char ip[64];
	char phase[16];
	int ready;       /* its Ready condition is True (the readiness probe passes) */
	char image[256]; /* the tt container's image */
	/* From the agent. */
	int reachable;            /* the last state GET succeeded */
	time_t last_reachable;    /* when it last answered; 0 never */
	time_t shown_reachable;   /* lastTimeReachable as status gives it (see write_status) */
	int memory_warned;        /* a memoryWarningPercent Event was given, not yet below */
	time_t unreachable_since; /* first failed GET after a success or the pod's start */
	struct agent_state st;
	/* Decided by the operator, kept in status. */
	int role;                 /* enum pod_role */
	int initialized;          /* its database was created with users and schema */
	int creating;             /* its database was created, users and schema not yet run */
	/* Non-replicated upgrades: since when it is not ready, the image it last was ready
	 * on (kept in status), and whether it failed to come back on a new one in time. */
	time_t down_since;
	char served_image[256];
	int upgrade_failed;
	time_t rep_state_changed; /* when rep_state last changed */
	/* Upgrades: the image of the object before its last image change (kept in status). */
	char prev_image[256];
	int quiescing; /* closed to connections by the upgrade: a closed ACTIVE serves */
	/* Its high-level state as last written to status, the one before, and when it
	 * changed (0: not seen to change). */
	char hls[32];
	char prev_hls[32];
	time_t hls_switch;
	/* The self-fencing lease (lease.h, docs/fencing.md) of the pod uid names, which may
	 * be an earlier pod of this ordinal: its agent acknowledged a grant (or a previous
	 * operator's status said so), and past bound_ms (monotonic) the database it serves
	 * takes no writes unless a grant was sent since. */
	struct pod_lease {
		char uid[64]; /* "" none */
		long long seconds;
		long long bound_ms;
		int held;
	} lease;
	/* deleteDbOnNotReadyNode (notready.h): the Pod's spec.nodeName, since when that node
	 * is seen not ready (0: ready or not known; kept in status), and the deletion of
	 * the pod (uid) and its claims under way. */
	char node[256];
	time_t node_not_ready_since;
	struct pod_eviction {
		char uid[64];    /* "" none */
		int claims_sent; /* claims whose deletion was sent */
		int claims_deleted;
		int pod_deleted; /* the first (graceful) delete was accepted */
		time_t force_at; /* ... and its grace period ends then */
		int forced;      /* the delete with grace 0 was accepted */
		int held_told;   /* past the limit but held back: the Event was posted */
	} evict;
};

/* How a pod stands against its intended role. */
enum pod_class {
	POD_HEALTHY,   /* serving its role */
	POD_AVAILABLE, /* agent answers, TimesTen not serving the role */
	POD_GONE,      /* pod absent or terminating, or unreachable past unreachableTimeout */
	POD_UNKNOWN,   /* unreachable for less than unreachableTimeout, or still starting */
};

struct ttc_object;
struct topology;

/* The automatic upgrade of a pair (upgrade.h), kept in status.classicUpgradeStatus. */
struct upgrade_run {
	int state; /* enum upgrade_state */
	int prev_state;
	time_t start_time; /* when it started; 0 none */
	time_t last_switch;
	char standby_status[32];
	time_t standby_start;
	char active_status[32];
	time_t active_start;
	int pending;             /* an image update not carried out yet */
	char image[256];         /* the image the pods are upgraded to ("": not known yet) */
	char *prev_reset;        /* resetUpgradeState last acted on */
	int reset;               /* resetUpgradeState changed: the next step takes it */
	int template_ready;      /* the StatefulSet's pod template is the spec's (controller) */
	char deleted_uid[64];    /* the pod last deleted for the upgrade */
	int failed_now;          /* an action stopped it: the object goes hands off */
	int recorded;            /* the status saying the active is quiesced is written: a
	                          * restarted operator will know, so the order may go */
};

/* What the machine's actions and procedures do outside the object. */
struct ttc_effects {
	void (*event)(struct ttc_object *o, int warning, const char *reason, const char *msg);
	/* Sends operation op (body: malloc'd JSON or NULL, taken) to pod i's agent; its end
	 * comes back through proc_order_done(). 0, or -1 when it could not be sent. */
	int (*order)(struct ttc_object *o, int i, const char *op, char *body, int async);
	/* Deletes pod i with the given grace period (-1: the pod's own); 0 when the deletion
	 * was sent, -1 when it could not be (one is under way: ask again later). */
	int (*delete_pod)(struct ttc_object *o, int i, int grace_seconds);
};

struct ttc_object {
	char *ns;
	char *name;
	char *uid;
	struct ttc_spec *spec;    /* NULL while the spec is invalid */
	char message[512];        /* why the object is not progressing, for status */
	long long generation;     /* of the spec last read */
	char *rep_statement;      /* the replication scheme in use, kept in status */
	char *prev_stop_managing; /* trigger values last acted on, kept in status */
	char *prev_reexamine;
	long long last_event; /* Events posted, kept in status */

	int state; /* enum ttc_state */
	int prev_state;
	time_t last_switch;
	time_t now; /* the time of the step under way: the machine's guards and actions read it */
	long long now_ms; /* the same instant on the monotonic clock, in milliseconds */

	int active;         /* ordinal of the intended active, -1 none */
	/* Bumped by object_set_roles; roles_recorded is the value a status write that
	 * succeeded carried. A database is made ACTIVE only once status names it the active,
	 * so that an operator that dies just after knows, from status, where writes go. */
	unsigned roles_gen, roles_recorded;
	int target;         /* non-replicated: the pod being brought up, -1 none */
	int fence;          /* ordinal that must be fenced before promotion, -1 none */
	char fence_uid[64]; /* uid of that pod when it was the active */
	int ahead;          /* BothDown: ordinal known to be ahead, -1 unknown */
	int both_down_ineligible; /* the last BothDown could not know which one is ahead */
	int seen_whole;           /* this operator has seen the pair's two databases serve */
	int serving;  /* ordinal last seen serving as the healthy ACTIVE, -1 none */
	/* The active's agent last showed its peer, the standby, recorded FAILED (a take-over
	 * set it so): the active replicates nothing to it until it is duplicated again, so
	 * a STANDBY there lacks commits, however well it runs. Kept while the active cannot
	 * be read; restored from the status. */
	int peer_failed;
	unsigned tried;     /* BothDown: ordinals tried as active, one bit each */
	int anew;           /* BothDown: ordinal whose scheme may be made anew (steps.h), -1 */
	unsigned work;      /* bumped to drop the procedure under way */
	int rebuild_failures; /* standby rebuilds failed in a row */
	time_t rebuild_at;    /* no new standby rebuild before this */
	time_t wake_at;       /* actions ask to be looked at again then (0: no need) */
	struct proc_run run;
	struct upgrade_run up;

	/* deleteDbOnNotReadyNode: whether the operator may read Nodes (a 403 says not: the
	 * field is then as if unset) and when to try again. */
	struct node_access {
		int unreadable;
		time_t retry_at;
	} nodes;

	const struct topology *topo; /* how its pods work together (never NULL once adopted) */
	struct pod_view *pods;       /* one per ordinal */
	int npods;
	const struct ttc_effects *fx;
};

/* Makes the object hold n pod views (new ones empty, Unknown); 0 or -1 (no memory). */
int object_resize_pods(struct ttc_object *o, int n);
void object_free_pods(struct ttc_object *o);

/* Whether pod i can be asked at time now: POD_GONE, POD_UNKNOWN, or POD_AVAILABLE (its agent
 * answers with TimesTen's state). */
enum pod_class object_pod_presence(const struct ttc_object *o, int i, time_t now);
/* Classifies pod i against its role at time now. */
enum pod_class object_pod_class(const struct ttc_object *o, int i, time_t now);

/* Decisions recorded by actions. */
void object_set_roles(struct ttc_object *o, int active);
void object_cancel_work(struct ttc_object *o);
void object_report_invalid_spec(struct ttc_object *o);
/* Posts an Event about the object (Warning when warning is set), if it has effects. */
void object_event(struct ttc_object *o, int warning, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
