/*
 * What the machine's actions and procedures do outside the object (struct ttc_effects):
 * Events, orders to the pods' agents and pod deletion. Everything observed is in observe.c.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentc.h"
#include "ctl.h"
#include "objects.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

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
		log_info("agent", "order done", "pod", name, "operation", od->op, "message",
		         message ? message : "", NULL);
	else
		log_warn("agent", "order failed", "pod", name, "operation", od->op, "error",
		         message, "retry", r == ORDER_TRANSIENT ? "yes" : "no", NULL);
	od->out = 0;
	proc_order_done(&m->o, od->work, r, message, time(NULL));
	/* See what it did before the next step: a read that starts now. */
	m->links[od->i].want_fresh = 1;
	if (m->links[od->i].reading)
		m->links[od->i].reread = 1;
	else
		observe_read(m, od->i);
	ctl_step(m);
}

static int
send_order(struct ttc_object *o, int i, const char *op, char *body, int async)
{
	struct managed *m = managed_of(o);
	struct ctl_order *od = &m->order;
	struct agentc_limits lim = observe_limits(o->spec, TIMER_AGENT_POST);

	(void)async;
	observe_read(m, i); /* makes the client if needed */
	if (m->links[i].agent == NULL || od->out) {
		free(body);
		return -1;
	}
	od->m = m;
	od->i = i;
	od->work = o->work;
	snprintf(od->op, sizeof(od->op), "%s", op);
	log_info("agent", "order", "object", o->name, "pod", LOG_I(i), "operation", op, NULL);
	if (agentc_order(m->links[i].agent, op, body, &lim, order_done, od) < 0) {
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
	if (r->err != KUBE_ERR_OK && r->err != KUBE_ERR_NOT_FOUND) {
		ctl_event(m, 1, "DeleteFailed", "Cannot delete pod %s: %s", m->deleting,
		          r->message);
		m->o.up.deleted_uid[0] = '\0'; /* an upgrade asks again */
	}
	ctl_step(m); /* what waited for the call may go on */
}

static int
delete_pod(struct ttc_object *o, int i, int grace)
{
	struct managed *m = managed_of(o);
	char name[300], body[128];
	struct kube_request rq = {0};

	objects_pod_name(name, sizeof(name), o->name, i);
	if (grace < 0) /* the pod's own terminationGracePeriodSeconds */
		snprintf(body, sizeof(body), "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\"}");
	else
		snprintf(body, sizeof(body),
		         "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
		         "\"gracePeriodSeconds\":%d}",
		         grace);
	rq.verb = KUBE_DELETE;
	rq.res = &kube_res_pods;
	rq.ns = o->ns;
	rq.name = name;
	rq.body = body;
	if (m->fence_call != NULL)
		return -1; /* one at a time: ask again */
	snprintf(m->deleting, sizeof(m->deleting), "%s", name);
	m->fence_call = kube_request(m->ctl->kube, &rq, deleted, m);
	return m->fence_call ? 0 : -1;
}

static void
event_effect(struct ttc_object *o, int warning, const char *reason, const char *msg)
{
	ctl_event(managed_of(o), warning, reason, "%s", msg);
}

const struct ttc_effects ctl_effects = {event_effect, send_order, delete_pod};

void
effects_free(struct managed *m)
{
	if (m->fence_call)
		kube_call_cancel(m->fence_call);
	m->fence_call = NULL;
}
