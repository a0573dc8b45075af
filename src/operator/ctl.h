/*
 * The controller: every TimesTenClassic of the watched namespace, the informers that
 * show them and what they own, and the plumbing of one managed object (its agent
 * clients, timers and writes). Shared by controller.c, provision.c and observe.c.
 */
#ifndef CTL_H
#define CTL_H

#include <sys/tree.h>
#include <time.h>

#include <openssl/ssl.h>

#include "../kube/kube.h"
#include "controller.h"
#include "object.h"

struct event;
struct event_base;
struct metrics;
struct metric;
struct agentc;
struct agentc_limits;

struct managed {
	RB_ENTRY(managed) entry;
	struct controller *ctl;
	struct ttc_object o;
	yajl_val obj; /* the TimesTenClassic as last seen: kind, apiVersion, metadata */
	int entered;  /* the state was just entered: fire ENTER once */
	int gone;     /* deleted: no more work */

	/* Provisioning. */
	size_t checked;                /* ConfigMaps found usable so far */
	int admin_user;                /* one of them holds adminUser */
	struct kube_call *check;       /* a ConfigMap read under way */
	char check_problem[512];       /* the last problem reported, to report it once */
	struct kube_call *creating[3]; /* Secret, Service, StatefulSet creations under way */
	void *creation[3];             /* their callback records */
	int made[3];                   /* created, not yet seen in the cache */
	struct kube_call *updating;    /* a StatefulSet patch under way */
	time_t update_failed_at;       /* the last patch failed then: wait before the next */

	/* Agents. */
	SSL_CTX *agent_ctx; /* client context from the Secret's credentials */
	char agent_secret_rv[32];
	unsigned agent_ctx_gen; /* bumped when agent_ctx is replaced */
	struct pod_link *links; /* one per pod view (o.npods) */
	/* The one order out (procedures send one at a time). */
	struct ctl_order {
		struct managed *m;
		int i;
		int out;
		unsigned work;
		char op[32];
	} order;
	struct kube_call *fence_call; /* a pod deletion under way */
	char deleting[300];           /* of that pod */

	/* deleteDbOnNotReadyNode (nodewatch.c): the claim or pod deletion under way, of
	 * which pod and object name, and the pods on not-ready nodes (a gauge). */
	struct kube_call *evict_call;
	int evict_pod;
	char evict_name[300];
	struct metric_series *unschedulable;
	struct metric_series *pods_deleted, *pvcs_deleted; /* its deleteDbOnNotReadyNode counts */

	/* Timers: the periodic poll, and an earlier wake-up for retries and deadlines. */
	struct event *poll;
	struct event *wake;
	time_t wake_at;

	/* Status writes: one at a time, the latest wins. */
	struct kube_call *status_call;
	char *status_written;
	int status_dirty;
	int writing_quiesce; /* the status write under way records the active's quiesce */
	unsigned writing_roles; /* the roles_gen of the object the status write under way carries */

	/* Metrics. */
	struct metric_series *state_series;
	struct metric_series *state_gauges[CONTROLLER_STATE_GAUGES];
	struct metric_series *active_node; /* timesten_active_node of the active's node */
	struct metric_series *upgrade_failed;
	struct timespec lost_at; /* when the active was seen lost */
};

RB_HEAD(managed_tree, managed);

/* The operator's line to one pod's agent. */
struct pod_link {
	struct agentc *agent;
	unsigned gen;                    /* the agent_ctx_gen its client was made with */
	int reading;                     /* a state GET is out */
	int observed;                    /* a state GET ended since the operator started */
	int want_fresh;                  /* an order ended: the next read must start after it */
	int read_fresh;                  /* the read out started after the last order ended */
	int reread;                      /* read again as soon as the read out ends */
	int granting;                    /* a lease grant (or withdrawal) is out */
	int withdraw;                    /* withdraw the lease once the grant out has ended */
	unsigned long connections;       /* agent's connections counted in the metric */
	struct metric_series *rss, *mem; /* timesten_agent_rss, timesten_agent_tt_mem_usage */
	struct ctl_read {
		struct managed *m;
		int i;
	} arg, lease_arg, node_arg;
	struct kube_call *node_read; /* a GET of the pod's Node under way */
	char node_reading[256];      /* ... of that node */
};

struct controller {
	struct event_base *base;
	struct kube_client *kube;
	struct kube_recorder *recorder;
	struct metrics *metrics;
	char *ns;
	struct kube_informer *ttcs, *pods, *sets, *services, *secrets;
	struct managed_tree objects;
	size_t nobjects; /* in objects */

	const struct controller_metrics *m;
};

extern const struct kube_resource ttc_resource;

/* controller.c */
struct managed *ctl_find(struct controller *c, const char *name);
/* Makes the object hold n pods (agent clients of removed ones dropped); 0 or -1. */
int ctl_resize_pods(struct managed *m, int n);
void ctl_step(struct managed *m);
void ctl_event(struct managed *m, int warning, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ctl_wake(struct managed *m, time_t at);
int ctl_informers_synced(const struct controller *c);

/* provision.c: the Secret, Service and StatefulSet, and the checks before them. */
/* Checks the spec's ConfigMaps; 1 usable, 0 not known yet (a read is under way), -1
 * unusable (o->message says why). */
int provision_check(struct managed *m);
/* The problem with a ConfigMap's data (its keys the /ttconfig files, db.ini and adminUser
 * well-formed) written into why, or NULL when it is usable. */
const char *provision_check_configmap(yajl_val cm, char *why, size_t n);
/* Creates whatever owned object is missing. */
void provision_ensure(struct managed *m);
/* Writes a changed spec to the StatefulSet. */
void provision_update(struct managed *m);
/* Whether the StatefulSet, as last seen, was made from the spec in force (a pod it makes
 * now has the spec's image). */
int provision_template_current(const struct managed *m);
/* Loads the agent client credentials from the Secret when it changed: 1 when replaced
 * (agent_ctx_gen bumped), 0 when unchanged, -1 when there are none yet. */
int provision_credentials(struct managed *m);
void provision_free(struct managed *m);

/* observe.c: pods and agents. */
/* Updates pod view i from the Pod object (NULL: absent). */
void observe_pod(struct managed *m, int i, yajl_val pod);
/* Reads every agent's state now (unless a read is out). */
void observe_poll(struct managed *m);
/* Reads pod i's agent's state now (unless a read is out), making its client if needed. */
void observe_read(struct managed *m, int i);
/* Withdraws the lease pod i's agent holds, as the operator stops looking after it. */
void observe_release_lease(struct managed *m, int i);
/* Drops pod i's agent client and what was out on it; an order out ends as transient. */
void observe_drop_agent(struct managed *m, int i);
/* The limits of a request to an agent (request: TIMER_AGENT_GET or TIMER_AGENT_POST). */
struct agentc_limits observe_limits(const struct ttc_spec *s, enum spec_timer request);
/* Starts the polling timer at the spec's pollingInterval. */
void observe_start(struct managed *m);
void observe_free(struct managed *m);

/* nodewatch.c: deleteDbOnNotReadyNode. */
/* Reads the Node of each pod (when the spec sets the field), then acts on what it said. */
void nodewatch_poll(struct managed *m);
/* Cancels every read and deletion under way (before the pod links move or go). */
void nodewatch_cancel(struct managed *m);
void nodewatch_free(struct managed *m);

/* effects.c: Events, orders and pod deletion for the machine. */
extern const struct ttc_effects ctl_effects;
/* Cancels a pod deletion under way. */
void effects_free(struct managed *m);

#endif
