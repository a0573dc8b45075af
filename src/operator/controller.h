/* The controller of the TimesTenClassic objects of one namespace. */
#ifndef CONTROLLER_H
#define CONTROLLER_H

struct event_base;
struct kube_client;
struct metric;
struct metric_series;
struct metrics;
struct controller;

/* The controller's metrics, registered once for the process. */
/* The guide's state gauges beside timesten_classic_state: per object, 1 when it is in that
 * condition, else 0 (a sum counts the objects). Pairs have the first two, non-replicated
 * objects the others. */
#define CONTROLLER_STATE_GAUGES 6

struct controller_metrics {
	struct metric *state_gauges[CONTROLLER_STATE_GAUGES]; /* timesten_classic_state_... */
	struct metric *state;                    /* timesten_classic_state{namespace,name,state} */
	struct metric *transitions;              /* ..._state_transitions_total{from,to} */
	struct metric_series *failover;          /* ..._failover_seconds */
	struct metric *orders;                   /* ..._agent_orders_total{operation,result} */
	struct metric_series *agent_connections; /* ..._agent_connections_total */
	struct metric *agent_requests;           /* ..._agent_requests_total{request,result} */
	struct metric *agent_latency;            /* ..._agent_request_duration_seconds{request} */
	struct metric *agent_rss;                /* timesten_agent_rss{namespace,name,pod}, KB */
	struct metric *agent_mem;      /* timesten_agent_tt_mem_usage{namespace,name,pod}, bytes */
	struct metric *active_node;    /* timesten_active_node{namespace,name,node} */
	struct metric *upgrade_failed; /* ..._upgrade_failed{namespace,name} */
	struct metric *failovers;      /* ..._failovers_total{reason} */
	/* deleteDbOnNotReadyNode, by namespace and name: pods on nodes not ready, and the
	 * pods and claims deleted for it (the guide's names). */
	struct metric *unschedulable; /* timesten_pods_unschedulable */
	struct metric *pods_deleted;  /* timesten_pods_deleted_unschedulable */
	struct metric *pvcs_deleted;  /* timesten_pvcs_deleted_unschedulable */
};

int controller_metrics_register(struct metrics *reg, struct controller_metrics *m);

/* Starts watching ns; the objects are acted on once every cache is complete. */
struct controller *controller_start(struct event_base *base, struct kube_client *kube,
                                    const struct controller_metrics *m, const char *ns);
/* Stops: every object is dropped (its pods and databases carry on without us). */
void controller_stop(struct controller *c);
/* Whether every cache is complete. */
int controller_synced(const struct controller *c);

#endif
