/*
 * The controller: it follows every TimesTenClassic of the namespace, keeps a managed
 * object per TimesTenClassic, and steps its state machine whenever something about it
 * changes. Every state change goes through change_state(), which logs it, posts the
 * Event and restarts the state's work.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "controller.h"
#include "ctl.h"
#include "fsm.h"
#include "lease.h"
#include "objects.h"
#include "operator.h"
#include "status.h"
#include "topology.h"
#include "ttc/json.h"
#include "upgrade.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

#define STEP_LIMIT 32 /* transitions in one step: a loop in the table would stop here */

const struct kube_resource ttc_resource = {TTC_GROUP, TTC_VERSION, TTC_PLURAL, TTC_KIND, 1};

static int
managed_cmp(struct managed *a, struct managed *b)
{
	return strcmp(a->o.name, b->o.name);
}

RB_GENERATE_STATIC(managed_tree, managed, entry, managed_cmp)

struct managed *
ctl_find(struct controller *c, const char *name)
{
	struct managed key;

	key.o.name = (char *)name;
	return RB_FIND(managed_tree, &c->objects, &key);
}

int
ctl_informers_synced(const struct controller *c)
{
	return kube_informer_synced(c->ttcs) && kube_informer_synced(c->pods) &&
	       kube_informer_synced(c->sets) && kube_informer_synced(c->services) &&
	       kube_informer_synced(c->secrets);
}

void
ctl_event(struct managed *m, int warning, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(warning ? LOG_WARN : LOG_INFO, "event", msg, "object", m->o.name, "reason", reason,
	        NULL);
	if (m->obj != NULL)
		kube_event(m->ctl->recorder, m->obj, warning ? "Warning" : "Normal", reason, "%s",
		           msg);
	m->o.last_event++;
}

static void
wake_fired(evutil_socket_t fd, short what, void *arg)
{
	struct managed *m = arg;

	(void)fd;
	(void)what;
	m->wake_at = 0;
	ctl_step(m);
}

void
ctl_wake(struct managed *m, time_t at)
{
	time_t now = time(NULL);
	struct timeval tv = {at > now ? at - now : 0, 0};

	if (m->wake_at != 0 && m->wake_at <= at)
		return;
	if (m->wake == NULL && (m->wake = evtimer_new(m->ctl->base, wake_fired, m)) == NULL)
		return;
	m->wake_at = at;
	evtimer_add(m->wake, &tv);
}

/* The guide's state gauges (CONTROLLER_STATE_GAUGES): name, for pairs (else for
 * non-replicated objects), the state it is 1 in, or -1 and the state it is 0 in besides
 * Initializing. */
static const struct {
	const char *name, *help;
	int pair, in, not_in;
} state_gauges[CONTROLLER_STATE_GAUGES] = {
    {"timesten_classic_state_normal", "1 for a replicated object in Normal.", 1, TTC_ST_NORMAL, -1},
    {"timesten_classic_state_not_normal",
     "1 for a replicated object neither Normal nor Initializing.", 1, -1, TTC_ST_NORMAL},
    {"timesten_classic_state_allreplicasready",
     "1 for a non-replicated object in AllReplicasReady.", 0, TTC_ST_ALL_READY, -1},
    {"timesten_classic_state_somereplicasready",
     "1 for a non-replicated object in SomeReplicasReady.", 0, TTC_ST_SOME_READY, -1},
    {"timesten_classic_state_noreplicasready", "1 for a non-replicated object in NoReplicasReady.",
     0, TTC_ST_NO_READY, -1},
    {"timesten_classic_state_not_allreplicasready",
     "1 for a non-replicated object neither AllReplicasReady nor Initializing.", 0, -1,
     TTC_ST_ALL_READY},
};

static void
state_metric(struct managed *m)
{
	struct controller *c = m->ctl;
	int s = m->o.state;

	metric_series_remove(m->state_series);
	m->state_series =
	    metric_series(c->m->state, m->o.ns, m->o.name, ttc_state_names[m->o.state], NULL);
	metric_set(m->state_series, 1);
	metric_series_remove(m->active_node);
	m->active_node = NULL;
	if (m->o.active >= 0 && m->o.active < m->o.npods && *m->o.pods[m->o.active].node) {
		m->active_node = metric_series(c->m->active_node, m->o.ns, m->o.name,
		                               m->o.pods[m->o.active].node, NULL);
		metric_set(m->active_node, 1);
	}
	if (m->o.topo == NULL)
		return;
	for (int k = 0; k < CONTROLLER_STATE_GAUGES; k++) {
		if (state_gauges[k].pair != !!m->o.topo->has_active)
			continue;
		if (m->state_gauges[k] == NULL)
			m->state_gauges[k] =
			    metric_series(c->m->state_gauges[k], m->o.ns, m->o.name, NULL);
		metric_set(m->state_gauges[k],
		           state_gauges[k].in >= 0
		               ? s == state_gauges[k].in
		               : s != state_gauges[k].not_in && s != TTC_ST_INITIALIZING);
	}
}

/* Why the active was lost, for timesten_operator_failovers_total: its pod gone or being
 * deleted, its agent unreachable, or TimesTen there no longer the healthy active. */
static const char *const failover_reasons[] = {"pod_gone", "pod_deleted", "unreachable",
                                               "database"};

static const char *
failover_reason(const struct ttc_object *o)
{
	const struct pod_view *p =
	    o->active >= 0 && o->active < o->npods ? &o->pods[o->active] : NULL;

	if (p == NULL || !p->exists)
		return failover_reasons[0];
	if (p->terminating)
		return failover_reasons[1];
	if (!p->reachable)
		return failover_reasons[2];
	return failover_reasons[3];
}

static void
change_state(struct managed *m, int to, int event)
{
	struct ttc_object *o = &m->o;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	log_info("fsm", "state change", "object", o->name, "from", ttc_state_names[o->state], "to",
	         ttc_state_names[to], "event", ttc_event_names[event], NULL);
	if (event == TTC_EV_ACTIVE_LOST)
		m->lost_at = now;
	if (o->state == TTC_ST_ACTIVE_DOWN && m->lost_at.tv_sec != 0) {
		metric_observe(m->ctl->m->failover,
		               (double)(now.tv_sec - m->lost_at.tv_sec) +
		                   (double)(now.tv_nsec - m->lost_at.tv_nsec) / 1e9);
		m->lost_at.tv_sec = 0;
	}
	if (o->state != TTC_ST_NEW)
		ctl_event(m, ttc_state_warning(to), "StateChange", "TimesTenClassic was %s, now %s",
		          ttc_state_names[o->state], ttc_state_names[to]);
	o->prev_state = o->state;
	o->state = to;
	o->last_switch = time(NULL);
	if (!ttc_state_hands_off(to))
		o->message[0] = '\0'; /* a hands-off state keeps saying why */
	else
		/* No more grants will come: the active keeps taking writes, a person's care. */
		for (int i = 0; i < o->npods; i++)
			observe_release_lease(m, i);
	proc_reset(o);
	m->entered = 1;
	metric_add(metric_series(m->ctl->m->transitions, ttc_state_names[o->prev_state],
	                         ttc_state_names[to], NULL),
	           1);
	state_metric(m);
}

/* Whether the state's time limit (its column in TTC_STATES) has passed; if not, the
 * object is looked at again when it will. */
static int
timed_out(struct ttc_object *o, time_t now)
{
	int limit = ttc_state_limit(o->state);
	time_t deadline = limit < 0 ? 0 : spec_deadline(o->spec, limit, o->last_switch);

	if (o->spec == NULL || deadline == 0)
		return 0;
	if (now >= deadline)
		return 1;
	if (o->wake_at == 0 || o->wake_at > deadline)
		o->wake_at = deadline;
	return 0;
}

/* Whether every pod has been looked at since the operator started. */
static int
observed(const struct managed *m)
{
	for (int i = 0; i < m->o.npods; i++)
		if (!m->links[i].observed && m->o.pods[i].exists && !m->o.pods[i].terminating)
			return 0;
	return 1;
}

/* Fires one event; 1 when the state changed. The machine reads the time from o->now. */
static int
fire(struct managed *m, int event)
{
	struct ttc_object *o = &m->o;
	int to;

	const struct fsm_row *row;

	o->now = time(NULL);
	o->now_ms = lease_now_ms();
	to = fsm_step(o->topo->table, o->state, event, o, &row);
	if (to < 0) {
		/* No row listens (the usual answer to a situation that changes nothing), or the
		 * row's action could not start. */
		log_debug("fsm", row ? "action failed" : "no row", "object", o->name, "state",
		          ttc_state_names[o->state], "event", ttc_event_names[event], "action",
		          row && row->action_name ? row->action_name : "", NULL);
		return 0;
	}
	if (to == o->state)
		return 0;
	change_state(m, to, event);
	return 1;
}

/* Provisioning before the machine starts: spec valid, ConfigMaps usable. */
static void
step_new(struct managed *m)
{
	struct ttc_object *o = &m->o;
	int r;

	if (o->spec == NULL) {
		fire(m, TTC_EV_SPEC_INVALID);
		return;
	}
	if ((r = provision_check(m)) == 0)
		return;
	if (r < 0) {
		fire(m, TTC_EV_SPEC_INVALID);
		return;
	}
	char err[512];
	if (o->topo->prepare(o, err, sizeof(err)) < 0) {
		snprintf(o->message, sizeof(o->message), "%s", err);
		fire(m, TTC_EV_SPEC_INVALID);
		return;
	}
	fire(m, TTC_EV_CREATE);
}

static void write_status(struct managed *m);
static void adopt_pods(struct managed *m);

/*
 * The upgrade machine's turn (pairs: upgrade.h), at an observation (proc_end -1) or at
 * the end of its procedure (1 done, 0 failed). 1 when the upgrade failed and the object
 * went hands off.
 */
static int
upgrade_turn(struct managed *m, int proc_end)
{
	struct ttc_object *o = &m->o;
	int failed;

	if (!o->topo->upgrades)
		return 0;
	o->now = time(NULL);
	o->now_ms = lease_now_ms();
	o->up.template_ready = provision_template_current(m);
	failed = proc_end < 0 ? upgrade_step(o) : upgrade_proc_ended(o, proc_end);
	return failed && fire(m, TTC_EV_UPGRADE_FAILED);
}

void
ctl_step(struct managed *m)
{
	struct ttc_object *o = &m->o;

	if (m->gone || !ctl_informers_synced(m->ctl))
		return;
	if (o->state == TTC_ST_NEW)
		step_new(m);
	if (o->state != TTC_ST_NEW && o->state != TTC_ST_FAILED)
		provision_ensure(m);
	if (o->state != TTC_ST_NEW && !ttc_state_hands_off(o->state))
		provision_update(m);
	for (int n = 0; n < STEP_LIMIT && o->state != TTC_ST_NEW; n++) {
		time_t now = time(NULL);
		int event;

		o->now = now;
		o->now_ms = lease_now_ms();
		if (m->entered) {
			m->entered = 0;
			if (fire(m, TTC_EV_ENTER))
				continue;
		}
		if (upgrade_turn(m, -1))
			continue;
		if (ttc_state_hands_off(o->state))
			break;
		enum proc_outcome done = proc_advance(o, now);
		if ((done == PROC_DONE || done == PROC_FAILED) && upgrade_owns(o->run.proc)) {
			if (upgrade_turn(m, done == PROC_DONE))
				continue;
			done = PROC_IDLE; /* the upgrade took it; the pods say what comes next */
		}
		switch (done) {
		case PROC_DONE:
			event = TTC_EV_PROC_DONE;
			break;
		case PROC_FAILED:
			snprintf(o->message, sizeof(o->message), "%s", o->run.failure);
			ctl_event(m, 1, "ProcedureFailed", "%s", o->run.failure);
			event = TTC_EV_PROC_FAILED;
			break;
		default:
			event = timed_out(o, now) ? TTC_EV_TIMEOUT
			        : observed(m)     ? o->topo->situation(o, now)
			                          : -1;
		}
		if (o->run.retry_at > now)
			ctl_wake(m, o->run.retry_at);
		/* Why, from the pods as they were seen: the row's action may name another active.
		 */
		const char *lost = event == TTC_EV_ACTIVE_LOST ? failover_reason(o) : NULL;
		if (event < 0 || !fire(m, event))
			break;
		if (lost != NULL)
			metric_add(metric_series(m->ctl->m->failovers, lost, NULL), 1);
	}
	if (o->wake_at != 0)
		ctl_wake(m, o->wake_at);
	o->wake_at = 0;
	if (m->upgrade_failed == NULL && o->topo != NULL && o->topo->has_active)
		m->upgrade_failed = metric_series(m->ctl->m->upgrade_failed, o->ns, o->name, NULL);
	metric_set(m->upgrade_failed, o->up.state == UPG_FAILED);
	write_status(m);
}

static void
status_written(struct kube_result *r, void *arg)
{
	struct managed *m = arg;

	m->status_call = NULL;
	if (r->err == KUBE_ERR_OK && m->o.roles_recorded != m->writing_roles) {
		m->o.roles_recorded = m->writing_roles; /* a promotion may be ordered now */
		ctl_wake(m, time(NULL));
	}
	if (r->err == KUBE_ERR_OK && m->writing_quiesce && !m->o.up.recorded) {
		m->o.up.recorded = 1; /* the quiesce may be ordered now */
		ctl_wake(m, time(NULL));
	}
	if (r->err != KUBE_ERR_OK) {
		log_warn("status", "cannot write status", "object", m->o.name, "error", r->message,
		         NULL);
		free(m->status_written);
		m->status_written = NULL; /* write again on the next step */
		ctl_wake(m, time(NULL) + 1);
		return;
	}
	if (m->status_dirty) {
		m->status_dirty = 0;
		write_status(m);
	}
}

/*
 * lastTimeReachable changes at every poll of every pod. Written each time, it would be
 * a status write per pod per pollingInterval (at 1,000 objects, hundreds a second, past
 * the client's rate limit, and each echoed back by the watch). So status shows a new
 * value along with any other change, and otherwise once per heartbeat: 30 s, or longer
 * when the objects are so many that their heartbeats would take more than half of the
 * client's request rate.
 */
#define STATUS_HEARTBEAT_S 30

static int
heartbeat_due(struct managed *m, time_t now)
{
	/* Half of the client's request rate. */
	double period = (double)m->ctl->nobjects / (kube_client_qps(m->ctl->kube) / 2);

	if (period < STATUS_HEARTBEAT_S)
		period = STATUS_HEARTBEAT_S;
	for (int i = 0; i < m->o.npods; i++) {
		const struct pod_view *p = &m->o.pods[i];
		if (p->last_reachable != p->shown_reachable &&
		    (double)(now - p->shown_reachable) >= period)
			return 1;
	}
	return 0;
}

static void
show_reachable(struct ttc_object *o)
{
	for (int i = 0; i < o->npods; i++)
		o->pods[i].shown_reachable = o->pods[i].last_reachable;
}

static void
write_status(struct managed *m)
{
	char *patch;
	time_t now = time(NULL);

	if (m->o.state == TTC_ST_NEW && m->o.message[0] == '\0')
		return;
	/* Not before every pod was heard from: a restart is no change of a pod's state. */
	if (observed(m))
		status_track_pods(&m->o, time(NULL));
	if (m->status_call != NULL) {
		m->status_dirty = 1;
		return;
	}
	int fresh = heartbeat_due(m, now);
	if (fresh)
		show_reachable(&m->o);
	if ((patch = status_patch(&m->o, now)) == NULL)
		return;
	if (!fresh && (m->status_written == NULL || strcmp(patch, m->status_written) != 0)) {
		/* Something else changed: the times go with it. */
		show_reachable(&m->o);
		free(patch);
		if ((patch = status_patch(&m->o, now)) == NULL)
			return;
	}
	m->writing_quiesce = m->o.up.state == UPG_QUIESCING;
	m->writing_roles = m->o.roles_gen;
	if (m->status_written != NULL && strcmp(patch, m->status_written) == 0) {
		/* Written already (a failed write forgets what it wrote). */
		if (m->o.roles_recorded != m->writing_roles) {
			m->o.roles_recorded = m->writing_roles;
			ctl_wake(m, time(NULL));
		}
		if (m->writing_quiesce && !m->o.up.recorded) {
			m->o.up.recorded = 1;
			ctl_wake(m, time(NULL));
		}
		free(patch);
		return;
	}
	m->status_call = kube_patch_status(m->ctl->kube, &ttc_resource, m->o.ns, m->o.name, patch,
	                                   status_written, m);
	free(m->status_written);
	m->status_written = patch;
}

/* A spec change: the parsed spec, and the change-to-trigger fields. */
static void
read_spec(struct managed *m, yajl_val obj)
{
	struct ttc_object *o = &m->o;
	struct ttc_spec *spec;
	char err[512];
	long long gen = 0;

	json_int(obj, &gen, "metadata", "generation", NULL);
	if (o->spec != NULL && gen == o->generation)
		return;
	o->generation = gen;
	if ((spec = spec_parse(obj, err, sizeof(err))) == NULL ||
	    objects_template_check(spec, err, sizeof(err)) < 0) {
		spec_free(spec);
		snprintf(o->message, sizeof(o->message), "%s", err);
		if (o->state == TTC_ST_NEW)
			ctl_event(m, 1, "InvalidSpec", "%s", err);
		else
			ctl_event(m, 1, "InvalidSpec", "%s; the previous spec stays in force", err);
		return;
	}
	if (o->state != TTC_ST_NEW && spec->topology != o->topo->id) {
		snprintf(
		    o->message, sizeof(o->message),
		    "spec.ttspec.replicationTopology: cannot change from %s to %s on a running "
		    "object; the previous spec stays in force",
		    topology_names[o->topo->id], topology_names[spec->topology]);
		ctl_event(m, 1, "InvalidSpec", "%s", o->message);
		spec_free(spec);
		return;
	}
	spec_free(o->spec);
	o->spec = spec;
	o->topo = topology_of(spec->topology);
	if (o->topo->pods(spec) != o->npods) {
		log_info("operator", "pods", "object", o->name, "from", LOG_I(o->npods), "to",
		         LOG_I(o->topo->pods(spec)), NULL);
		if (ctl_resize_pods(m, o->topo->pods(spec)) < 0)
			log_error("operator", "out of memory", "object", o->name, NULL);
		else
			adopt_pods(m);
	}
	if (o->state == TTC_ST_NEW) {
		free(o->prev_stop_managing);
		free(o->prev_reexamine);
		free(o->up.prev_reset);
		o->prev_stop_managing = strdup(spec->stop_managing);
		o->prev_reexamine = strdup(spec->reexamine);
		o->up.prev_reset = strdup(spec->reset_upgrade_state);
		return;
	}
	if (strcmp(spec->reset_upgrade_state, o->up.prev_reset ? o->up.prev_reset : "") != 0) {
		free(o->up.prev_reset);
		o->up.prev_reset = strdup(spec->reset_upgrade_state);
		o->up.reset = 1; /* the upgrade machine takes it at the next step */
	}
	if (strcmp(spec->stop_managing, o->prev_stop_managing ? o->prev_stop_managing : "") != 0) {
		free(o->prev_stop_managing);
		o->prev_stop_managing = strdup(spec->stop_managing);
		snprintf(o->message, sizeof(o->message), "stopManaging was changed to \"%s\"",
		         spec->stop_managing);
		fire(m, TTC_EV_STOP_MANAGING);
	}
	if (strcmp(spec->reexamine, o->prev_reexamine ? o->prev_reexamine : "") != 0) {
		free(o->prev_reexamine);
		o->prev_reexamine = strdup(spec->reexamine);
		fire(m, TTC_EV_REEXAMINE);
	}
}

int
ctl_resize_pods(struct managed *m, int n)
{
	struct pod_link *links;

	if (n == m->o.npods)
		return 0;
	/* Reads and orders out hold pointers into the links: end them first. */
	for (int i = 0; i < m->o.npods; i++)
		observe_drop_agent(m, i);
	nodewatch_cancel(m);
	if ((links = realloc(m->links, (n > 0 ? n : 1) * sizeof(*links))) == NULL) {
		if (n > m->o.npods)
			return -1;
		links = m->links; /* fewer: the larger block serves */
	}
	m->links = links;
	for (int i = m->o.npods; i < n; i++)
		memset(&links[i], 0, sizeof(links[i]));
	if (object_resize_pods(&m->o, n) < 0)
		return -1;
	if (m->o.target >= n) { /* scaled down under the work */
		object_cancel_work(&m->o);
		m->o.target = -1;
	}
	for (int i = 0; i < n; i++) {
		links[i].arg.m = m;
		links[i].arg.i = i;
	}
	return 0;
}

/* Looks at the object's pods as the cache has them. */
static void
adopt_pods(struct managed *m)
{
	struct controller *c = m->ctl;

	for (int i = 0; i < m->o.npods; i++) {
		char pod[300];
		objects_pod_name(pod, sizeof(pod), m->o.name, i);
		yajl_val p = kube_informer_get(c->pods, c->ns, pod);
		const char *owner = json_str(p, "metadata", "labels", OBJECT_LABEL, NULL);
		if (p != NULL && owner != NULL && strcmp(owner, m->o.name) == 0)
			observe_pod(m, i, p);
	}
}

/* Frees an object that failed to be adopted (nothing else refers to it yet). */
static void
managed_free_early(struct managed *m)
{
	free(m->o.name);
	free(m->o.ns);
	free(m->o.uid);
	free(m->links);
	object_free_pods(&m->o);
	free(m);
}

static struct managed *
adopt(struct controller *c, yajl_val obj)
{
	struct managed *m = calloc(1, sizeof(*m));
	const char *name = json_str(obj, "metadata", "name", NULL);
	const char *uid = json_str(obj, "metadata", "uid", NULL);

	if (m == NULL || name == NULL || uid == NULL) {
		free(m);
		return NULL;
	}
	m->ctl = c;
	m->o.name = strdup(name);
	m->o.ns = strdup(c->ns);
	m->o.uid = strdup(uid);
	m->o.active = m->o.fence = m->o.ahead = m->o.serving = m->o.target = m->o.anew = -1;
	m->o.fx = &ctl_effects;
	/* How many pods: the spec's topology says, or the status (a restart), whichever is
	 * more; the spec read next may change it. */
	char err[512];
	struct ttc_spec *sp = spec_parse(obj, err, sizeof(err));
	m->o.topo = topology_of(sp ? sp->topology : TOPO_PAIR);
	int n = m->o.topo->pods(sp);
	spec_free(sp);
	if ((int)json_len(json_get(obj, "status", "podStatus", NULL)) > n)
		n = (int)json_len(json_get(obj, "status", "podStatus", NULL));
	if (ctl_resize_pods(m, n) < 0) {
		managed_free_early(m);
		return NULL;
	}
	if (status_restore(&m->o, json_get(obj, "status", NULL)) == 0) {
		log_info("operator", "adopting", "object", name, "state",
		         ttc_state_names[m->o.state], NULL);
		m->entered = 1;
	}
	RB_INSERT(managed_tree, &c->objects, m);
	c->nobjects++;
	state_metric(m);
	adopt_pods(m); /* they may have been seen before it */
	observe_start(m);
	return m;
}

static void
managed_free(struct managed *m)
{
	struct ttc_object *o = &m->o;

	RB_REMOVE(managed_tree, &m->ctl->objects, m);
	m->ctl->nobjects--;
	observe_free(m);
	nodewatch_free(m);
	effects_free(m);
	provision_free(m);
	if (m->status_call)
		kube_call_cancel(m->status_call);
	if (m->wake)
		event_free(m->wake);
	metric_series_remove(m->state_series);
	for (int k = 0; k < CONTROLLER_STATE_GAUGES; k++)
		metric_series_remove(m->state_gauges[k]);
	metric_series_remove(m->active_node);
	metric_series_remove(m->upgrade_failed);
	free(m->status_written);
	json_free(m->obj);
	spec_free(o->spec);
	free(o->name);
	free(o->ns);
	free(o->uid);
	free(o->rep_statement);
	free(o->prev_stop_managing);
	free(o->prev_reexamine);
	free(o->up.prev_reset);
	free(m->links);
	object_free_pods(o);
	free(m);
}

static void
on_ttc(struct kube_informer *inf, enum kube_event_type type, yajl_val obj, yajl_val old, void *arg)
{
	struct controller *c = arg;
	const char *name = json_str(obj, "metadata", "name", NULL);
	struct managed *m = name ? ctl_find(c, name) : NULL;

	(void)inf;
	(void)old;
	if (name == NULL)
		return;
	if (type == KUBE_DELETED) {
		if (m != NULL) {
			log_info("operator", "object deleted", "object", name, NULL);
			managed_free(m);
		}
		return;
	}
	const char *uid = json_str(obj, "metadata", "uid", NULL);
	if (m != NULL && uid && strcmp(uid, m->o.uid) != 0) {
		managed_free(m); /* deleted and created again under the same name */
		m = NULL;
	}
	if (m == NULL && (m = adopt(c, obj)) == NULL)
		return;
	/* What Events name it by and provision reads: its spec and status are in the cache. */
	static const char *const ref_keep[] = {"kind", "apiVersion", "metadata",
	                                       "-metadata.managedFields", NULL};
	json_free(m->obj);
	if ((m->obj = json_copy(obj)) != NULL)
		json_keep(m->obj, ref_keep);
	read_spec(m, obj);
	ctl_step(m);
}

/* Pods, StatefulSets, Services and Secrets carry the object's name in OBJECT_LABEL. */
static void
on_owned(struct kube_informer *inf, enum kube_event_type type, yajl_val obj, yajl_val old,
         void *arg)
{
	struct controller *c = arg;
	const char *owner = json_str(obj, "metadata", "labels", OBJECT_LABEL, NULL);
	const char *name = json_str(obj, "metadata", "name", NULL);
	struct managed *m = owner ? ctl_find(c, owner) : NULL;

	(void)old;
	if (m == NULL || name == NULL)
		return;
	if (inf == c->pods) {
		int k = objects_pod_ordinal(m->o.name, name);
		if (k >= 0 && k < m->o.npods)
			observe_pod(m, k, type == KUBE_DELETED ? NULL : obj);
	}
	if (inf == c->secrets && type != KUBE_DELETED) {
		int had = m->agent_ctx != NULL;

		provision_credentials(m); /* clients made with older ones are made again */
		if (!had && m->agent_ctx != NULL)
			observe_poll(m); /* the first reads waited for them: ask at once */
	}
	ctl_step(m);
}

static void
each_step(yajl_val obj, void *arg)
{
	struct controller *c = arg;
	const char *name = json_str(obj, "metadata", "name", NULL);
	struct managed *m = name ? ctl_find(c, name) : NULL;

	if (m != NULL)
		ctl_step(m);
}

/* Once every cache is complete, every object gets its first step. */
static void
on_synced(struct kube_informer *inf, void *arg)
{
	struct controller *c = arg;

	(void)inf;
	if (!ctl_informers_synced(c))
		return;
	log_info("operator", "caches synced", "objects", LOG_I(kube_informer_count(c->ttcs)), NULL);
	kube_informer_foreach(c->ttcs, each_step, c);
}

/*
 * What the caches keep of the objects the operator makes, besides their metadata: what
 * observe_pod(), nodewatch and provision read, and no more. A pod's spec and status, a
 * StatefulSet's template are most of the memory an object costs (docs/operator.md).
 */
static const char *const pod_keep[] = {"spec.nodeName",
                                       "spec.containers.name",
                                       "spec.containers.image",
                                       "spec.volumes.persistentVolumeClaim",
                                       "spec.terminationGracePeriodSeconds",
                                       "status.phase",
                                       "status.podIP",
                                       "status.conditions.type",
                                       "status.conditions.status",
                                       NULL};
static const char *const set_keep[] = {"spec.replicas", "status", NULL};
static const char *const service_keep[] = {NULL};
static const char *const secret_keep[] = {"type", "data", NULL};

static struct kube_informer *
informer(struct controller *c, const struct kube_resource *res, const char *selector,
         const char *const *keep, kube_handler_fn handler)
{
	struct kube_informer_opts o = {0};

	o.res = res;
	o.keep = keep;
	o.ns = c->ns;
	o.label_selector = selector;
	o.handler = handler;
	o.synced = on_synced;
	o.arg = c;
	return kube_informer_new(c->kube, &o);
}

int
controller_metrics_register(struct metrics *reg, struct controller_metrics *m)
{
	static const double failover_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
	static const double agent_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
	                                      0.5,   1,      2.5,   5,    10,    30,   60,  300};
	char name[128];

	for (int k = 0; k < CONTROLLER_STATE_GAUGES; k++)
		if ((m->state_gauges[k] = metrics_gauge(reg, state_gauges[k].name,
		                                        state_gauges[k].help, "namespace,name")) ==
		    NULL)
			return -1;
	m->agent_rss = metrics_gauge(reg, "timesten_agent_rss",
	                             "The agent's resident set (VmRSS) in each pod, in KB.",
	                             "namespace,name,pod");
	m->agent_mem = metrics_gauge(
	    reg, "timesten_agent_tt_mem_usage",
	    "Memory the agent and TimesTen use in each pod (its cgroup's usage), in bytes.",
	    "namespace,name,pod");
	m->active_node = metrics_gauge(reg, "timesten_active_node",
	                               "1 for the node of each object's active database.",
	                               "namespace,name,node");
	snprintf(name, sizeof(name), "%s_failovers_total", OPERATOR_METRICS_PREFIX);
	m->failovers = metrics_counter(reg, name,
	                               "Actives lost, each the start of a failover, by why: "
	                               "pod_gone, pod_deleted, unreachable, database.",
	                               "reason");
	if (m->failovers == NULL)
		return -1;
	/* Each reason from the start, at 0: increase() sees the first failover. */
	for (size_t k = 0; k < sizeof(failover_reasons) / sizeof(failover_reasons[0]); k++)
		(void)metric_series(m->failovers, failover_reasons[k], NULL);
	snprintf(name, sizeof(name), "%s_upgrade_failed", OPERATOR_METRICS_PREFIX);
	m->upgrade_failed = metrics_gauge(
	    reg, name,
	    "1 for a pair whose last automatic upgrade failed (until resetUpgradeState).",
	    "namespace,name");
	if (m->agent_rss == NULL || m->agent_mem == NULL || m->active_node == NULL ||
	    m->upgrade_failed == NULL)
		return -1;
	m->state = metrics_gauge(reg, "timesten_classic_state",
	                         "The high-level state of each TimesTenClassic (value 1).",
	                         "namespace,name,state");
	snprintf(name, sizeof(name), "%s_state_transitions_total", OPERATOR_METRICS_PREFIX);
	m->transitions = metrics_counter(
	    reg, name, "State changes, by state left and state entered.", "from,to");
	snprintf(name, sizeof(name), "%s_failover_seconds", OPERATOR_METRICS_PREFIX);
	m->failover = metric_series(
	    metrics_histogram(
	        reg, name, "Time from seeing the active lost to the standby promoted.", NULL,
	        failover_bounds, sizeof(failover_bounds) / sizeof(failover_bounds[0])),
	    NULL);
	snprintf(name, sizeof(name), "%s_agent_orders_total", OPERATOR_METRICS_PREFIX);
	m->orders = metrics_counter(reg, name, "Orders sent to agents, by operation and result.",
	                            "operation,result");
	snprintf(name, sizeof(name), "%s_agent_connections_total", OPERATOR_METRICS_PREFIX);
	m->agent_connections = metric_series(
	    metrics_counter(reg, name,
	                    "TLS connections made to agents (a request on a connection kept "
	                    "open makes none).",
	                    NULL),
	    NULL);
	snprintf(name, sizeof(name), "%s_agent_request_duration_seconds", OPERATOR_METRICS_PREFIX);
	m->agent_latency = metrics_histogram(
	    reg, name,
	    "Time from a request to an agent going out to its end, answered or not: polls "
	    "(state), lease grants (lease) and orders (their operation, progress polls included).",
	    "request", agent_bounds, sizeof(agent_bounds) / sizeof(agent_bounds[0]));
	snprintf(name, sizeof(name), "%s_agent_requests_total", OPERATOR_METRICS_PREFIX);
	m->agent_requests = metrics_counter(
	    reg, name, "Polls (state) and lease grants (lease) sent to agents, by result.",
	    "request,result");
	m->unschedulable =
	    metrics_gauge(reg, "timesten_pods_unschedulable",
	                  "Pods whose node is not ready (objects that set deleteDbOnNotReadyNode).",
	                  "namespace,name");
	/* Totals that only grow, with the guide's names and type (gauges: a counter's name
	 * would carry _total). */
	m->pods_deleted = metrics_gauge(
	    reg, "timesten_pods_deleted_unschedulable",
	    "Pods deleted because their node was not ready for deleteDbOnNotReadyNode (a total).",
	    "namespace,name");
	m->pvcs_deleted = metrics_gauge(
	    reg, "timesten_pvcs_deleted_unschedulable",
	    "PersistentVolumeClaims deleted because their pod's node was not ready for "
	    "deleteDbOnNotReadyNode (a total).",
	    "namespace,name");
	return m->state && m->transitions && m->failover && m->orders && m->agent_connections &&
	               m->agent_latency &&
	               m->agent_requests && m->unschedulable && m->pods_deleted && m->pvcs_deleted
	           ? 0
	           : -1;
}

struct controller *
controller_start(struct event_base *base, struct kube_client *kube,
                 const struct controller_metrics *metrics, const char *ns)
{
	struct controller *c = calloc(1, sizeof(*c));
	/* Every change is its own Event, as the guide shows them: a generous burst and no
	 * combining of different messages. */
	struct kube_recorder_opts ro = {"ttclassic", NULL, 1000, 1, 1};

	if (c == NULL)
		return NULL;
	c->base = base;
	c->kube = kube;
	c->m = metrics;
	c->ns = strdup(ns);
	RB_INIT(&c->objects);
	c->recorder = kube_recorder_new(kube, &ro);
	c->ttcs = informer(c, &ttc_resource, NULL, NULL, on_ttc);
	c->pods = informer(c, &kube_res_pods, OBJECT_LABEL, pod_keep, on_owned);
	c->sets = informer(c, &kube_res_statefulsets, OBJECT_LABEL, set_keep, on_owned);
	c->services = informer(c, &kube_res_services, OBJECT_LABEL, service_keep, on_owned);
	c->secrets = informer(c, &kube_res_secrets, OBJECT_LABEL, secret_keep, on_owned);
	if (c->recorder == NULL || c->ttcs == NULL || c->pods == NULL || c->sets == NULL ||
	    c->services == NULL || c->secrets == NULL) {
		controller_stop(c);
		return NULL;
	}
	log_info("operator", "watching", "namespace", ns, NULL);
	return c;
}

int
controller_synced(const struct controller *c)
{
	return c != NULL && ctl_informers_synced(c);
}

void
controller_stop(struct controller *c)
{
	struct managed *m;

	if (c == NULL)
		return;
	while ((m = RB_MIN(managed_tree, &c->objects)) != NULL)
		managed_free(m);
	kube_informer_free(c->ttcs);
	kube_informer_free(c->pods);
	kube_informer_free(c->sets);
	kube_informer_free(c->services);
	kube_informer_free(c->secrets);
	kube_recorder_free(c->recorder);
	free(c->ns);
	free(c);
}
