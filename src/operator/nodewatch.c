/*
 * deleteDbOnNotReadyNode, the I/O side (the decisions are notready.c's): every poll, the
 * Node of each pod of an object that sets the field; a pod whose node stays not ready past
 * the limit loses its PersistentVolumeClaims, then itself (its uid a precondition), so that
 * its StatefulSet makes it again, with new claims, on a node that works.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "lease.h"
#include "notready.h"
#include "objects.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

#define DEFAULT_GRACE_SECONDS 30 /* a pod's terminationGracePeriodSeconds when unset */

static void act(struct managed *m);

/* One more in the object's series of family (kept, and removed with the object). */
static void
count(struct managed *m, struct metric *family, struct metric_series **series)
{
	if (*series == NULL)
		*series = metric_series(family, m->o.ns, m->o.name, NULL);
	metric_add(*series, 1);
}

static void
set_gauge(struct managed *m)
{
	int n = 0;

	for (int i = 0; i < m->o.npods; i++)
		n += m->o.pods[i].exists && m->o.pods[i].node_not_ready_since != 0;
	if (m->unschedulable == NULL)
		m->unschedulable =
		    metric_series(m->ctl->m->unschedulable, m->o.ns, m->o.name, NULL);
	metric_set(m->unschedulable, n);
}

static void
eviction_done(struct pod_view *p)
{
	memset(&p->evict, 0, sizeof(p->evict));
}

static void
node_read(struct kube_result *r, void *arg)
{
	struct ctl_read *rd = arg;
	struct managed *m = rd->m;
	int i = rd->i;
	struct pod_link *l = &m->links[i];
	struct pod_view *p = &m->o.pods[i];
	char pod[300];
	time_t now = time(NULL);

	l->node_read = NULL;
	objects_pod_name(pod, sizeof(pod), m->o.name, i);
	if (r->code == 403) {
		if (notready_refused(&m->o, now))
			ctl_event(m, 1, "NodesUnreadable",
			          "Cannot read Node %s: %s; deleteDbOnNotReadyNode is not acted on "
			          "until Nodes can be read (the ClusterRole of "
			          "service_account_cluster.yaml)",
			          l->node_reading, r->message);
		set_gauge(m);
		ctl_step(m);
		return;
	}
	if (r->err != KUBE_ERR_OK && r->err != KUBE_ERR_NOT_FOUND) {
		log_debug("nodes", "cannot read a node", "object", m->o.name, "node",
		          l->node_reading, "error", r->message, NULL);
		return; /* nothing learnt: the next poll asks again */
	}
	if (notready_readable(&m->o))
		ctl_event(m, 0, "NodesReadable",
		          "Nodes can be read again: deleteDbOnNotReadyNode is acted on");
	if (strcmp(l->node_reading, p->node) != 0)
		return; /* the pod moved meanwhile */
	time_t before = p->node_not_ready_since;
	notready_observe(&m->o, i,
	                 r->err == KUBE_ERR_NOT_FOUND ? NODE_NOT_READY
	                                              : notready_node_condition(r->object),
	                 now);
	if (before == 0 && p->node_not_ready_since != 0)
		ctl_event(m, 1, "NodeNotReady",
		          "Pod %s: its node %s is not ready; its claims and the pod are deleted if "
		          "it stays so for %lld s (deleteDbOnNotReadyNode)",
		          pod, p->node, spec_seconds(m->o.spec, TIMER_NOT_READY_NODE));
	else if (before != 0 && p->node_not_ready_since == 0)
		log_info("nodes", "node ready again", "object", m->o.name, "pod", pod, "node",
		         p->node, NULL);
	set_gauge(m);
	act(m);
	ctl_step(m); /* status shows it */
}

void
nodewatch_poll(struct managed *m)
{
	struct ttc_object *o = &m->o;
	time_t now = time(NULL);
	int changed = 0;

	if (o->spec == NULL || spec_seconds(o->spec, TIMER_NOT_READY_NODE) <= 0) {
		/* Unset: nothing is known of the nodes, and nothing is deleted. */
		for (int i = 0; i < o->npods; i++) {
			changed |= o->pods[i].node_not_ready_since != 0;
			o->pods[i].node_not_ready_since = 0;
		}
		if (m->unschedulable)
			metric_set(m->unschedulable, 0);
		if (changed)
			ctl_step(m);
		return;
	}
	if (!notready_should_read(o, now))
		return;
	for (int i = 0; i < o->npods; i++) {
		struct pod_link *l = &m->links[i];
		if (!o->pods[i].exists || !*o->pods[i].node || l->node_read != NULL)
			continue;
		l->node_arg.m = m;
		l->node_arg.i = i;
		snprintf(l->node_reading, sizeof(l->node_reading), "%s", o->pods[i].node);
		l->node_read = kube_get(m->ctl->kube, &kube_res_nodes, NULL, l->node_reading,
		                        node_read, &l->node_arg);
		if (o->nodes.unreadable)
			break; /* a retry: one read says whether they can be read now */
	}
	act(m); /* a deletion that waits for a grace period goes on */
}

/* The end of a claim or pod deletion. */
static void
evict_deleted(struct kube_result *r, void *arg)
{
	struct managed *m = arg;
	int i = m->evict_pod;
	struct pod_view *p = i < m->o.npods ? &m->o.pods[i] : NULL;
	char pod[300];
	int claim = strcmp(m->evict_name, "") != 0 && p != NULL && !p->evict.claims_deleted;

	m->evict_call = NULL;
	if (p == NULL)
		return;
	objects_pod_name(pod, sizeof(pod), m->o.name, i);
	if (claim) {
		if (r->err == KUBE_ERR_OK) {
			count(m, m->ctl->m->pvcs_deleted, &m->pvcs_deleted);
			ctl_event(m, 1, "DeletedOnNotReadyNode",
			          "PersistentVolumeClaim %s of pod %s deleted: its node %s is not "
			          "ready",
			          m->evict_name, pod, p->node);
		} else if (r->err != KUBE_ERR_NOT_FOUND) {
			ctl_event(m, 1, "DeleteFailed",
			          "Cannot delete PersistentVolumeClaim %s: %s", m->evict_name,
			          r->message);
			eviction_done(p); /* decided again at the next poll */
			return;
		}
		act(m);
		return;
	}
	if (r->err == KUBE_ERR_NOT_FOUND || r->err == KUBE_ERR_CONFLICT) {
		/* Gone or replaced already (the uid precondition): nothing more to delete. */
		log_info("nodes", "pod already gone or replaced", "object", m->o.name, "pod", pod,
		         NULL);
		eviction_done(p);
		return;
	}
	if (r->err != KUBE_ERR_OK) {
		ctl_event(m, 1, "DeleteFailed", "Cannot delete pod %s: %s", pod, r->message);
		if (!p->evict.pod_deleted)
			eviction_done(p);
		return;
	}
	if (!p->evict.pod_deleted) {
		p->evict.pod_deleted = 1;
		count(m, m->ctl->m->pods_deleted, &m->pods_deleted);
		ctl_event(
		    m, 1, "DeletedOnNotReadyNode",
		    "Pod %s deleted: its node %s is not ready; its StatefulSet makes it again "
		    "elsewhere",
		    pod, p->node);
		ctl_wake(m, p->evict.force_at);
	} else {
		p->evict.forced = 1;
	}
}

static int
send_delete(struct managed *m, int i, const struct kube_resource *res, const char *name,
            const char *body)
{
	struct kube_request rq = {0};

	rq.verb = KUBE_DELETE;
	rq.res = res;
	rq.ns = m->o.ns;
	rq.name = name;
	rq.body = body;
	m->evict_pod = i;
	snprintf(m->evict_name, sizeof(m->evict_name), "%s", res == &kube_res_pods ? "" : name);
	m->evict_call = kube_request(m->ctl->kube, &rq, evict_deleted, m);
	return m->evict_call ? 0 : -1;
}

/* The claims of pod i as its Pod object names them, the k-th; NULL past the last. */
static const char *
pod_claim(yajl_val pod, int k)
{
	yajl_val vols = json_get(pod, "spec", "volumes", NULL);

	for (size_t v = 0; v < json_len(vols); v++) {
		const char *c =
		    json_str(json_at(vols, v), "persistentVolumeClaim", "claimName", NULL);
		if (c != NULL && k-- == 0)
			return c;
	}
	return NULL;
}

/* The next deletion for pod i: each claim, then the pod (gracefully), then, once its
 * grace period is over and it still stands on its node, the pod with no grace period. */
static void
evict_next(struct managed *m, int i)
{
	struct ttc_object *o = &m->o;
	struct pod_view *p = &o->pods[i];
	char pod[300], body[256];
	const char *why;
	yajl_val obj;

	objects_pod_name(pod, sizeof(pod), o->name, i);
	if (!p->exists || strcmp(p->uid, p->evict.uid) != 0) {
		eviction_done(p); /* gone, or another pod: done */
		return;
	}
	obj = kube_informer_get(m->ctl->pods, o->ns, pod);
	if (!p->evict.claims_deleted) {
		const char *claim = pod_claim(obj, p->evict.claims_sent);
		if (claim != NULL) {
			p->evict.claims_sent++;
			if (send_delete(m, i, &kube_res_pvcs, claim,
			                "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\"}") < 0)
				eviction_done(p);
			return;
		}
		p->evict.claims_deleted = 1;
		/* Its database goes with its volume: the new pod's is made afresh. */
		p->initialized = 0;
		p->creating = 0;
	}
	if (!p->evict.pod_deleted) {
		long long grace = DEFAULT_GRACE_SECONDS;
		json_int(obj, &grace, "spec", "terminationGracePeriodSeconds", NULL);
		p->evict.force_at = time(NULL) + (time_t)grace;
		snprintf(body, sizeof(body),
		         "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
		         "\"preconditions\":{\"uid\":\"%s\"}}",
		         p->uid);
		if (send_delete(m, i, &kube_res_pods, pod, body) < 0)
			eviction_done(p);
		return;
	}
	if (p->evict.forced || !p->terminating || p->node_not_ready_since == 0)
		return; /* its kubelet may finish it */
	if (time(NULL) < p->evict.force_at) {
		ctl_wake(m, p->evict.force_at);
		return;
	}
	if (notready_decide(o, i, time(NULL), &why) != NR_DELETE)
		return; /* no longer safe: it waits for its kubelet */
	/* Its kubelet cannot finish the deletion while the node is away, and its StatefulSet
	 * makes no new pod while the object exists. What ran there is no database anyone
	 * writes to any more (notready_decide), so the object may go without its kubelet. */
	ctl_event(m, 1, "DeletedOnNotReadyNode",
	          "Pod %s still terminating on not-ready node %s after its grace period: deleting "
	          "it with no grace period",
	          pod, p->node);
	snprintf(body, sizeof(body),
	         "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0,"
	         "\"preconditions\":{\"uid\":\"%s\"}}",
	         p->uid);
	send_delete(m, i, &kube_res_pods, pod, body);
}

/* One deletion at a time per object: continue the one under way, or start one. */
static void
act(struct managed *m)
{
	struct ttc_object *o = &m->o;
	time_t now = time(NULL);

	if (m->evict_call != NULL)
		return;
	o->now = now;
	o->now_ms = lease_now_ms();
	for (int i = 0; i < o->npods; i++) {
		struct pod_view *p = &o->pods[i];
		const char *why;
		char pod[300];

		if (*p->evict.uid) {
			evict_next(m, i);
			if (m->evict_call != NULL)
				return;
			continue;
		}
		objects_pod_name(pod, sizeof(pod), o->name, i);
		switch (notready_decide(o, i, now, &why)) {
		case NR_HELD:
			if (!p->evict.held_told)
				ctl_event(
				    m, 1, "DeleteHeld",
				    "Pod %s: its node %s has not been ready for %lld s, but it "
				    "is not deleted now: %s",
				    pod, p->node, (long long)(now - p->node_not_ready_since), why);
			p->evict.held_told = 1;
			break;
		case NR_DELETE:
			ctl_event(m, 1, "DeleteOnNotReadyNode",
			          "Pod %s: its node %s has not been ready for %lld s "
			          "(deleteDbOnNotReadyNode %lld): deleting its "
			          "PersistentVolumeClaims, then the pod, so that it is made again "
			          "elsewhere",
			          pod, p->node, (long long)(now - p->node_not_ready_since),
			          spec_seconds(o->spec, TIMER_NOT_READY_NODE));
			memset(&p->evict, 0, sizeof(p->evict));
			snprintf(p->evict.uid, sizeof(p->evict.uid), "%s", p->uid);
			evict_next(m, i);
			if (m->evict_call != NULL)
				return;
			break;
		default:
			p->evict.held_told = 0;
			break;
		}
	}
}

void
nodewatch_cancel(struct managed *m)
{
	for (int i = 0; i < m->o.npods; i++) {
		if (m->links[i].node_read)
			kube_call_cancel(m->links[i].node_read);
		m->links[i].node_read = NULL;
	}
	if (m->evict_call) {
		kube_call_cancel(m->evict_call);
		if (m->evict_pod < m->o.npods)
			eviction_done(&m->o.pods[m->evict_pod]);
	}
	m->evict_call = NULL;
}

void
nodewatch_free(struct managed *m)
{
	nodewatch_cancel(m);
	metric_series_remove(m->unschedulable);
	metric_series_remove(m->pods_deleted);
	metric_series_remove(m->pvcs_deleted);
	m->unschedulable = m->pods_deleted = m->pvcs_deleted = NULL;
}
