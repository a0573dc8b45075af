/*
 * One managed TimesTenClassic object: what is known of it and of its two pods, the
 * classification of that knowledge into the pair machine's situation events, and the
 * decisions the machine's actions record.
 */
#ifndef OBJECT_H
#define OBJECT_H

#include <time.h>

#include "proc.h"
#include "spec.h"
#include "ttc.h"

#define PAIR_PODS 2

enum pod_role { ROLE_NONE, ROLE_ACTIVE, ROLE_STANDBY };

/* What a pod's agent last said of TimesTen, in the words of the operator's events. */
struct agent_state {
	char instance[16];    /* Exists, None, Unknown */
	char daemon[16];      /* Up, Down, Unknown */
	char release[32];     /* e.g. 22.1.1.9.0, Unknown */
	char db[16];          /* None, Loaded, Unloaded, Unknown */
	char updatable[16];   /* Yes, No, Unknown */
	char rep_agent[16];   /* Running, Not Running, Unknown */
	char rep_scheme[16];  /* Exists, None, Unknown */
	char rep_state[16];   /* IDLE, ACTIVE, STANDBY, FAILED, RECOVERING, Unknown */
	char rep_peer[32];    /* the peer's state as seen here */
	char cache_agent[16]; /* Running, Not Running, Unknown */
	int active_marker;    /* /tmp/active exists (the readiness probe passes) */
};

/* Sets every field to "Unknown" (what is shown while the agent cannot be asked). */
void agent_state_unknown(struct agent_state *st);

struct pod_view {
	/* From the Pod object. */
	int exists;
	int terminating; /* deletionTimestamp set */
	char uid[64];
	char ip[64];
	char phase[16];
	/* From the agent. */
	int reachable;            /* the last state GET succeeded */
	time_t last_reachable;    /* when it last answered; 0 never */
	time_t unreachable_since; /* first failed GET after a success or the pod's start */
	struct agent_state st;
	/* Decided by the operator, kept in status. */
	int role;                 /* enum pod_role */
	int initialized;          /* its database was created with users and schema */
	time_t rep_state_changed; /* when rep_state last changed */
};

/* How a pod stands against its intended role. */
enum pod_class {
	POD_HEALTHY,   /* serving its role */
	POD_AVAILABLE, /* agent answers, TimesTen not serving the role */
	POD_GONE,      /* pod absent or terminating, or unreachable past unreachableTimeout */
	POD_UNKNOWN,   /* unreachable for less than unreachableTimeout, or still starting */
};

struct ttc_object;

/* What the machine's actions and procedures do outside the object. */
struct ttc_effects {
	void (*event)(struct ttc_object *o, int warning, const char *reason, const char *msg);
	/* Sends operation op (body: malloc'd JSON or NULL, taken) to pod i's agent; its end
	 * comes back through proc_order_done(). 0, or -1 when it could not be sent. */
	int (*order)(struct ttc_object *o, int i, const char *op, char *body, int async);
	/* Deletes pod i with the given grace period; 0 or -1. */
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

	int active;         /* ordinal of the intended active, -1 none */
	int fence;          /* ordinal that must be fenced before promotion, -1 none */
	char fence_uid[64]; /* uid of that pod when it was the active */
	int ahead;          /* BothDown: ordinal known to be ahead, -1 unknown */
	int serving;  /* ordinal last seen serving as the healthy ACTIVE, -1 none */
	unsigned tried;     /* BothDown: ordinals tried as active, one bit each */
	unsigned work;      /* bumped to drop the procedure under way */
	int rebuild_failures; /* standby rebuilds failed in a row */
	time_t rebuild_at;    /* no new standby rebuild before this */
	time_t wake_at;       /* actions ask to be looked at again then (0: no need) */
	struct proc_run run;

	struct pod_view pods[PAIR_PODS];
	const struct ttc_effects *fx;
};

/* Classifies pod i against its role at time now. */
enum pod_class object_pod_class(const struct ttc_object *o, int i, time_t now);
/* The situation event for the pair at time now (TTC_EV_PAIR_HEALTHY … UNSETTLED). */
enum ttc_event object_situation(const struct ttc_object *o, time_t now);

/* Decisions recorded by actions. */
void object_set_roles(struct ttc_object *o, int active);
int object_choose_ahead(const struct ttc_object *o);
int object_other_candidate(const struct ttc_object *o);
int object_usable_database(const struct ttc_object *o);
void object_cancel_work(struct ttc_object *o);
void object_report_invalid_spec(struct ttc_object *o);

#endif
