/*
 * Watching a managed object's pods: the Pod objects from the informer, their agents'
 * state read every pollingInterval (closely in the states that say so, and at once after
 * every order), and Events for what changed. What the operator does to them is in
 * effects.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agentc.h"
#include "ctl.h"
#include "lease.h"
#include "objects.h"
#include "podevents.h"
#include "topology.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

/* Drops pod i's agent client and what was out on it; an order out ends as transient. */
void
observe_drop_agent(struct managed *m, int i)
{
	agentc_free(m->links[i].agent);
	m->links[i].agent = NULL;
	metric_series_remove(m->links[i].rss);
	metric_series_remove(m->links[i].mem);
	m->links[i].rss = m->links[i].mem = NULL;
	m->links[i].reading = 0;
	m->links[i].reread = 0;
	m->links[i].granting = 0;
	m->links[i].withdraw = 0;
	if (m->links[i].want_fresh) { /* no read will come from this client */
		m->links[i].want_fresh = 0;
		m->o.run.need_fresh = 0;
	}
	if (m->order.out && m->order.i == i) {
		m->order.out = 0;
		proc_order_done(&m->o, m->order.work, ORDER_TRANSIENT, "the pod's agent changed",
		                time(NULL));
	}
}

static void
emit_pod_event(void *arg, const char *msg)
{
	ctl_event(arg, 0, "StateChange", "%s", msg);
}

void
observe_pod(struct managed *m, int i, yajl_val pod)
{
	struct pod_view *p = &m->o.pods[i];
	const char *uid = json_str(pod, "metadata", "uid", NULL);
	const char *ip = json_str(pod, "status", "podIP", NULL);
	const char *phase = json_str(pod, "status", "phase", NULL);
	char name[300];
	int replaced, first;

	objects_pod_name(name, sizeof(name), m->o.name, i);
	replaced = pod == NULL || (uid && strcmp(uid, p->uid) != 0);
	first = pod != NULL && p->uid[0] == '\0'; /* first seen since the operator started */
	p->exists = pod != NULL;
	p->terminating = json_get(pod, "metadata", "deletionTimestamp", NULL) != NULL &&
	                 !YAJL_IS_NULL(json_get(pod, "metadata", "deletionTimestamp", NULL));
	snprintf(p->uid, sizeof(p->uid), "%s", uid ? uid : "");
	snprintf(p->phase, sizeof(p->phase), "%s", phase ? phase : (pod ? "Pending" : ""));
	p->ready = 0;
	yajl_val conds = json_get(pod, "status", "conditions", NULL);
	for (size_t k = 0; k < json_len(conds); k++) {
		const char *type = json_str(json_at(conds, k), "type", NULL);
		const char *status = json_str(json_at(conds, k), "status", NULL);
		if (type && status && strcmp(type, "Ready") == 0)
			p->ready = strcmp(status, "True") == 0;
	}
	const char *node = json_str(pod, "spec", "nodeName", NULL);
	if (strcmp(node ? node : "", p->node) != 0) {
		/* Another node (or none): what was seen of the old one does not hold. */
		if (*p->node || node == NULL)
			p->node_not_ready_since = 0;
		snprintf(p->node, sizeof(p->node), "%s", node ? node : "");
	}
	p->image[0] = '\0';
	yajl_val cs = json_get(pod, "spec", "containers", NULL);
	for (size_t k = 0; k < json_len(cs); k++) {
		const char *cname = json_str(json_at(cs, k), "name", NULL);
		const char *image = json_str(json_at(cs, k), "image", NULL);
		if (cname && image && strcmp(cname, "tt") == 0)
			snprintf(p->image, sizeof(p->image), "%s", image);
	}
	if (replaced) {
		/* A new pod (or none): nothing said of the old one holds; but what the status
		 * said of a pod this operator sees for the first time (a restart adopting an
		 * upgrade's quiesce) is about that pod. */
		if (!first)
			p->quiescing = 0;
		p->memory_warned = 0;
		if (p->reachable)
			ctl_event(m, 0, "StateChange", "Pod %s Agent Down", name);
		p->reachable = 0;
		p->unreachable_since = time(NULL);
		agent_state_unknown(&p->st);
		m->links[i].observed = 0;
	}
	if (replaced || strcmp(ip ? ip : "", p->ip) != 0) {
		snprintf(p->ip, sizeof(p->ip), "%s", ip ? ip : "");
		observe_drop_agent(m, i);
		if (*p->ip && !p->terminating)
			observe_poll(m); /* a new address: ask at once */
	}
}

static void state_read(void *arg, int ok, const struct agent_state *st, const char *error);

/* Whether pod i's agent is to hold the lease: it serves the active of a pair the operator
 * looks after, and answered the last read (after a failed read, a plain read first: a
 * database that cannot be reached is not kept writable by trying). */
static int
lease_wanted(const struct managed *m, int i)
{
	const struct ttc_object *o = &m->o;
	const struct pod_view *p = &o->pods[i];

	return o->topo->has_active && o->active == i && p->reachable && !p->terminating &&
	       *p->uid && !ttc_state_hands_off(o->state);
}

static void lease_send(struct managed *m, int i, long long seconds, agentc_lease_fn done);
static void lease_withdrawn(void *arg, int ok, const char *error);

/* A request to an agent went out: the first one a watch event causes is timed from it. */
static void
agent_request_sent(void *arg)
{
	struct controller *c = arg;
	struct kube_event_stamp s;

	kube_event_stamp(c->kube, &s);
	kube_event_request_sent(c->kube, &s);
}

/* A request to an agent ended: its time in timesten_operator_agent_request_duration_seconds. */
static void
agent_request_done(void *arg, const char *request, double seconds)
{
	struct controller *c = arg;

	metric_observe(metric_series(c->m->agent_latency, request, NULL), seconds);
}

/* One more poll or lease grant in timesten_operator_agent_requests_total. */
static void
count_request(struct managed *m, const char *request, int ok)
{
	metric_add(metric_series(m->ctl->m->agent_requests, request, ok ? "ok" : "failed", NULL),
	           1);
}

static void
lease_granted(void *arg, int ok, const char *error)
{
	struct ctl_read *rd = arg;
	struct managed *m = rd->m;
	struct pod_link *l = &m->links[rd->i];
	char name[300];

	l->granting = 0;
	count_request(m, "lease", ok);
	objects_pod_name(name, sizeof(name), m->o.name, rd->i);
	if (l->withdraw) {
		/* Overtaken: the withdrawal must reach the agent after the grant. */
		l->withdraw = 0;
		lease_send(m, rd->i, 0, lease_withdrawn);
		return;
	}
	if (!ok) {
		log_debug("agent", "lease grant failed", "pod", name, "error", error, NULL);
		return;
	}
	if (!m->o.pods[rd->i].lease.held)
		log_info("agent", "the active holds the self-fencing lease", "pod", name, "seconds",
		         LOG_I(m->o.pods[rd->i].lease.seconds), NULL);
	lease_acknowledged(&m->o, rd->i);
	ctl_step(m); /* a new holder goes into status */
}

/* Sends pod i's agent a grant (seconds > 0) or a withdrawal (0), one at a time. */
static void
lease_send(struct managed *m, int i, long long seconds, agentc_lease_fn done)
{
	struct pod_link *l = &m->links[i];

	if (l->agent == NULL || l->granting)
		return;
	l->lease_arg.m = m;
	l->lease_arg.i = i;
	if (seconds > 0)
		lease_sent(&m->o, i, seconds, lease_now_ms()); /* before it leaves */
	if (agentc_lease(l->agent, seconds, LEASE_REQUEST_MS, done, &l->lease_arg) == 0)
		l->granting = 1;
}

static void
lease_withdrawn(void *arg, int ok, const char *error)
{
	struct ctl_read *rd = arg;
	char name[300];

	rd->m->links[rd->i].granting = 0;
	objects_pod_name(name, sizeof(name), rd->m->o.name, rd->i);
	if (ok)
		log_info("agent", "self-fencing lease withdrawn", "pod", name, NULL);
	else
		log_warn("agent", "cannot withdraw the self-fencing lease: it runs out", "pod",
		         name, "error", error, NULL);
}

void
observe_release_lease(struct managed *m, int i)
{
	struct pod_view *p = &m->o.pods[i];

	if (!p->lease.held || strcmp(p->lease.uid, p->uid) != 0)
		return;
	lease_forget(&m->o, i);
	if (m->links[i].granting)
		m->links[i].withdraw = 1;
	else
		lease_send(m, i, 0, lease_withdrawn);
}

struct agentc_limits
observe_limits(const struct ttc_spec *s, enum spec_timer request)
{
	struct agentc_limits l = {spec_timeout_ms(s, request), spec_timeout_ms(s, TIMER_AGENT_TCP),
	                          spec_timeout_ms(s, TIMER_AGENT_TLS),
	                          spec_timeout_ms(s, TIMER_AGENT_ASYNC)};
	return l;
}

void
observe_read(struct managed *m, int i)
{
	struct pod_view *p = &m->o.pods[i];
	struct ctl_read *rd = &m->links[i].arg;
	char err[256], server[300];

	if (!p->exists || !*p->ip || m->links[i].reading)
		return;
	if (m->agent_ctx == NULL && provision_credentials(m) < 0)
		return; /* no Secret yet: its arrival is an event */
	/* A client made with credentials since replaced is made again once idle. */
	if (m->links[i].agent != NULL && m->links[i].gen != m->agent_ctx_gen &&
	    !(m->order.out && m->order.i == i))
		observe_drop_agent(m, i);
	if (m->links[i].agent == NULL) {
		objects_pod_fqdn(server, sizeof(server), m->o.name, m->o.ns, i);
		m->links[i].agent = agentc_new(m->ctl->base, m->agent_ctx, p->ip, TT_AGENT_PORT,
		                               server, err, sizeof(err));
		if (m->links[i].agent == NULL) {
			log_warn("agent", "cannot make a client", "pod", server, "error", err,
			         NULL);
			return;
		}
		m->links[i].gen = m->agent_ctx_gen;
		m->links[i].connections = 0;
		struct agentc_hooks hooks = {agent_request_sent, agent_request_done, m->ctl};
		agentc_set_hooks(m->links[i].agent, &hooks);
	}
	rd->m = m;
	rd->i = i;
	struct agentc_limits lim = observe_limits(m->o.spec, TIMER_AGENT_GET);
	if (agentc_get_state(m->links[i].agent, &lim, state_read, rd) < 0)
		return;
	m->links[i].reading = 1;
	m->links[i].read_fresh = m->links[i].want_fresh;
	if (lease_wanted(m, i))
		lease_send(m, i, lease_seconds(m->o.spec), lease_granted);
}

/* timesten_agent_rss and timesten_agent_tt_mem_usage of pod i from what its agent said
 * (NULL: nothing known, the series go). */
static void
pod_memory_metrics(struct managed *m, int i, const struct agent_state *st, const char *pod)
{
	struct pod_link *l = &m->links[i];
	const struct controller_metrics *cm = m->ctl->m;

	if (st == NULL || st->rss_kb < 0) {
		metric_series_remove(l->rss);
		l->rss = NULL;
	} else {
		if (l->rss == NULL)
			l->rss = metric_series(cm->agent_rss, m->o.ns, m->o.name, pod, NULL);
		metric_set(l->rss, (double)st->rss_kb);
	}
	if (st == NULL || st->mem_usage < 0) {
		metric_series_remove(l->mem);
		l->mem = NULL;
	} else {
		if (l->mem == NULL)
			l->mem = metric_series(cm->agent_mem, m->o.ns, m->o.name, pod, NULL);
		metric_set(l->mem, (double)st->mem_usage);
	}
}

/*
 * memoryWarningPercent: a Warning Event when the pod's cgroup memory in use passes that
 * share of its limit; once, until use is 5 points below the share again.
 */
static void
memory_warning(struct managed *m, int i, const struct agent_state *st, const char *pod)
{
	struct pod_view *p = &m->o.pods[i];
	long long pct = m->o.spec ? m->o.spec->memory_warning_percent : 90;

	if (st->mem_usage < 0 || st->mem_limit <= 0)
		return;
	double used = 100.0 * (double)st->mem_usage / (double)st->mem_limit;
	if (!p->memory_warned && used > (double)pct) {
		p->memory_warned = 1;
		ctl_event(m, 1, "MemoryWarning",
		          "Pod %s memory use %.1f MiB is %.0f%% of its limit %.1f MiB "
		          "(memoryWarningPercent %lld)",
		          pod, (double)st->mem_usage / 1048576.0, used,
		          (double)st->mem_limit / 1048576.0, pct);
	} else if (p->memory_warned && used < (double)pct - 5) {
		p->memory_warned = 0;
		log_info("agent", "memory use below memoryWarningPercent again", "pod", pod, NULL);
	}
}

static void
state_read(void *arg, int ok, const struct agent_state *st, const char *error)
{
	struct ctl_read *rd = arg;
	struct managed *m = rd->m;
	int i = rd->i;
	struct pod_view *p = &m->o.pods[i];
	char name[300];
	time_t now = time(NULL);

	m->links[i].reading = 0;
	m->links[i].observed = 1;
	unsigned long made = agentc_connections(m->links[i].agent);
	metric_add(m->ctl->m->agent_connections, (double)(made - m->links[i].connections));
	m->links[i].connections = made;
	count_request(m, "state", ok);
	if (m->links[i].read_fresh) {
		m->links[i].want_fresh = 0;
		m->o.run.need_fresh = 0;
	}
	objects_pod_name(name, sizeof(name), m->o.name, i);
	if (!ok) {
		log_debug("agent", "state read failed", "pod", name, "error", error, NULL);
		if (p->reachable) {
			p->unreachable_since = now;
			log_warn("agent", "agent unreachable", "pod", name, "error", error, NULL);
		}
	} else {
		podevents_diff(name, p->reachable, &p->st, 1, st, emit_pod_event, m);
		if (p->st.rep_state != st->rep_state)
			p->rep_state_changed = now;
		p->st = *st;
		p->last_reachable = now;
	}
	pod_memory_metrics(m, i, ok ? st : NULL, name);
	if (ok)
		memory_warning(m, i, st, name);
	if (!ok && p->reachable)
		podevents_diff(name, 1, &p->st, 0, &p->st, emit_pod_event, m);
	int first = ok && !p->reachable;
	p->reachable = ok;
	/* Reached for the first time (a new operator, an agent back): the grant goes now,
	 * not with the next poll, so that a successor renews the active's lease as soon as
	 * it can (docs/fencing.md, restarts). */
	if (first && lease_wanted(m, i))
		lease_send(m, i, lease_seconds(m->o.spec), lease_granted);
	if (!ok)
		agent_state_unknown(&p->st);
	/* When unreachableTimeout will have passed, look again. */
	if (!ok)
		ctl_wake(m, spec_deadline(m->o.spec, TIMER_UNREACHABLE, p->unreachable_since));
	if (m->links[i].reread) {
		m->links[i].reread = 0;
		observe_read(m, i);
	}
	ctl_step(m);
}

void
observe_poll(struct managed *m)
{
	if (ttc_state_hands_off(m->o.state))
		return;
	for (int i = 0; i < m->o.npods; i++)
		observe_read(m, i);
}

static void
poll_fired(evutil_socket_t fd, short what, void *arg)
{
	struct managed *m = arg;
	struct timeval tv = {spec_seconds(m->o.spec, TIMER_POLLING_INTERVAL), 0};

	if (ttc_state_polled_closely(m->o.state)) {
		tv.tv_sec = 0;
		tv.tv_usec = TTC_POLL_CLOSELY_MS * 1000;
	}

	(void)fd;
	(void)what;
	observe_poll(m);
	nodewatch_poll(m);
	evtimer_add(m->poll, &tv);
}

void
observe_start(struct managed *m)
{
	struct timeval now = {0, 0};

	if ((m->poll = evtimer_new(m->ctl->base, poll_fired, m)) != NULL)
		evtimer_add(m->poll, &now);
}

void
observe_free(struct managed *m)
{
	for (int i = 0; i < m->o.npods; i++)
		observe_drop_agent(m, i);
	if (m->poll)
		event_free(m->poll);
}
