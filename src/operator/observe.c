/*
 * Watching a managed object's pods: the Pod objects from the informer, their agents'
 * state read every pollingInterval (and at once after every order), Events for what
 * changed; and the effects the procedures use: orders to agents, pod deletion.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agentc.h"
#include "ctl.h"
#include "objects.h"
#include "podevents.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

/* Drops pod i's agent client and what was out on it; an order out ends as transient. */
static void
drop_agent(struct managed *m, int i)
{
	agentc_free(m->agent[i]);
	m->agent[i] = NULL;
	m->reading[i] = 0;
	m->reread[i] = 0;
	if (m->want_fresh[i]) { /* no read will come from this client */
		m->want_fresh[i] = 0;
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
	int replaced;

	objects_pod_name(name, sizeof(name), m->o.name, i);
	replaced = pod == NULL || (uid && strcmp(uid, p->uid) != 0);
	p->exists = pod != NULL;
	p->terminating = json_get(pod, "metadata", "deletionTimestamp", NULL) != NULL &&
	                 !YAJL_IS_NULL(json_get(pod, "metadata", "deletionTimestamp", NULL));
	snprintf(p->uid, sizeof(p->uid), "%s", uid ? uid : "");
	snprintf(p->phase, sizeof(p->phase), "%s", phase ? phase : (pod ? "Pending" : ""));
	if (replaced) {
		/* A new pod (or none): nothing said of the old one holds. */
		if (p->reachable)
			ctl_event(m, 0, "StateChange", "Pod %s Agent Down", name);
		p->reachable = 0;
		p->unreachable_since = time(NULL);
		agent_state_unknown(&p->st);
		m->observed[i] = 0;
	}
	if (replaced || strcmp(ip ? ip : "", p->ip) != 0) {
		snprintf(p->ip, sizeof(p->ip), "%s", ip ? ip : "");
		drop_agent(m, i);
		if (*p->ip && !p->terminating)
			observe_poll(m); /* a new address: ask at once */
	}
}

static void state_read(void *arg, int ok, const struct agent_state *st, const char *error);

/* The limits of a request to an agent (request: agentGetTimeout or agentPostTimeout). */
static struct agentc_limits
agent_limits(const struct ttc_spec *s, enum spec_timer request)
{
	struct agentc_limits l = {spec_timeout_ms(s, request), spec_timeout_ms(s, TIMER_AGENT_TCP),
	                          spec_timeout_ms(s, TIMER_AGENT_TLS),
	                          spec_timeout_ms(s, TIMER_AGENT_ASYNC)};
	return l;
}

static void
read_one(struct managed *m, int i)
{
	struct pod_view *p = &m->o.pods[i];
	struct ctl_read *rd = &m->read_arg[i];
	char err[256], server[300];
	int fresh;

	if (!p->exists || !*p->ip || m->reading[i])
		return;
	if ((fresh = provision_credentials(m)) < 0)
		return;
	if (fresh == 1)
		for (int k = 0; k < PAIR_PODS; k++)
			if (!m->reading[k])
				drop_agent(m, k);
	if (m->agent[i] == NULL) {
		objects_pod_fqdn(server, sizeof(server), m->o.name, m->o.ns, i);
		m->agent[i] = agentc_new(m->ctl->base, m->agent_ctx, p->ip, TT_AGENT_PORT, server,
		                         err, sizeof(err));
		if (m->agent[i] == NULL) {
			log_warn("agent", "cannot make a client", "pod", server, "error", err,
			         NULL);
			return;
		}
	}
	rd->m = m;
	rd->i = i;
	struct agentc_limits lim = agent_limits(m->o.spec, TIMER_AGENT_GET);
	if (agentc_get_state(m->agent[i], &lim, state_read, rd) < 0)
		return;
	m->reading[i] = 1;
	m->read_fresh[i] = m->want_fresh[i];
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

	m->reading[i] = 0;
	m->observed[i] = 1;
	if (m->read_fresh[i]) {
		m->want_fresh[i] = 0;
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
	if (!ok && p->reachable)
		podevents_diff(name, 1, &p->st, 0, &p->st, emit_pod_event, m);
	p->reachable = ok;
	if (!ok)
		agent_state_unknown(&p->st);
	/* When unreachableTimeout will have passed, look again. */
	if (!ok)
		ctl_wake(m, spec_deadline(m->o.spec, TIMER_UNREACHABLE, p->unreachable_since));
	if (m->reread[i]) {
		m->reread[i] = 0;
		read_one(m, i);
	}
	ctl_step(m);
}

void
observe_poll(struct managed *m)
{
	if (ttc_state_hands_off(m->o.state))
		return;
	for (int i = 0; i < PAIR_PODS; i++)
		read_one(m, i);
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
	for (int i = 0; i < PAIR_PODS; i++)
		drop_agent(m, i);
	if (m->fence_call)
		kube_call_cancel(m->fence_call);
	if (m->poll)
		event_free(m->poll);
}

/* Effects for the procedures. */

static struct managed *
managed_of(struct ttc_object *o)
{
	return (struct managed *)((char *)o - offsetof(struct managed, o));
}

static void
order_done(void *arg, enum order_result r, const char *message)
{
	struct ctl_order *od = arg;
	struct managed *m = od->m;
	char name[300];
	static const char *const results[] = {"ok", "failed", "transient"};

	objects_pod_name(name, sizeof(name), m->o.name, od->i);
	metric_add(metric_series(m->ctl->m->orders, od->op, results[r], NULL), 1);
	if (r == ORDER_OK)
		log_info("agent", "order done", "pod", name, "operation", od->op, NULL);
	else
		log_warn("agent", "order failed", "pod", name, "operation", od->op, "error",
		         message, "retry", r == ORDER_TRANSIENT ? "yes" : "no", NULL);
	od->out = 0;
	proc_order_done(&m->o, od->work, r, message, time(NULL));
	/* See what it did before the next step: a read that starts now. */
	m->want_fresh[od->i] = 1;
	if (m->reading[od->i])
		m->reread[od->i] = 1;
	else
		read_one(m, od->i);
	ctl_step(m);
}

static int
send_order(struct ttc_object *o, int i, const char *op, char *body, int async)
{
	struct managed *m = managed_of(o);
	struct ctl_order *od = &m->order;
	struct agentc_limits lim = agent_limits(o->spec, TIMER_AGENT_POST);

	(void)async;
	read_one(m, i); /* makes the client if needed */
	if (m->agent[i] == NULL || od->out) {
		free(body);
		return -1;
	}
	od->m = m;
	od->i = i;
	od->work = o->work;
	snprintf(od->op, sizeof(od->op), "%s", op);
	log_info("agent", "order", "object", o->name, "pod", LOG_I(i), "operation", op, NULL);
	if (agentc_order(m->agent[i], op, body, &lim, order_done, od) < 0) {
		free(body);
		return -1;
	}
	od->out = 1;
	free(body);
	return 0;
}

static void
deleted(struct kube_result *r, void *arg)
{
	struct managed *m = arg;

	m->fence_call = NULL;
	if (r->err != KUBE_ERR_OK && r->err != KUBE_ERR_NOT_FOUND)
		log_warn("fence", "cannot delete a pod", "object", m->o.name, "error", r->message,
		         NULL);
}

static int
delete_pod(struct ttc_object *o, int i, int grace)
{
	struct managed *m = managed_of(o);
	char name[300], body[128];
	struct kube_request rq = {0};

	objects_pod_name(name, sizeof(name), o->name, i);
	snprintf(body, sizeof(body),
	         "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":%d}",
	         grace);
	rq.verb = KUBE_DELETE;
	rq.res = &kube_res_pods;
	rq.ns = o->ns;
	rq.name = name;
	rq.body = body;
	if (m->fence_call != NULL)
		return 0;
	ctl_event(m, 1, "Fence", "Pod %s cannot be told to stop taking writes: deleting it", name);
	m->fence_call = kube_request(m->ctl->kube, &rq, deleted, m);
	return m->fence_call ? 0 : -1;
}

static void
event_effect(struct ttc_object *o, int warning, const char *reason, const char *msg)
{
	ctl_event(managed_of(o), warning, reason, "%s", msg);
}

const struct ttc_effects observe_effects = {event_effect, send_order, delete_pod};
