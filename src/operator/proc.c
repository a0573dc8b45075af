/*
 * The runner of procedures (see proc.h). Each topology's procedures are in its file;
 * steps.c holds the tests and bodies they are made of.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "object.h"
#include "objects.h"
#include "proc.h"
#include "steps.h"
#include "topology.h"

/* The grace period of a fencing deletion: short, since the pod's database must stop
 * taking writes now (its agent exits at once on SIGTERM), yet not 0, a force delete. */
#define FENCE_GRACE_SECONDS 1
/* Transient failures of one step tolerated before the procedure fails. */
#define PROC_MAX_ATTEMPTS 10
/* Seconds between tries of a step that failed transiently (doubling, capped). */
#define PROC_RETRY_MIN 1
#define PROC_RETRY_MAX 30

static int
target_pod(const struct ttc_object *o, enum proc_target t)
{
	switch (t) {
	case TARGET_ACTIVE:
		return o->active;
	case TARGET_STANDBY:
		return o->active < 0 ? -1 : o->active == 0 ? 1 : 0;
	case TARGET_FENCED:
		return o->fence;
	case TARGET_POD:
		return o->target;
	case PROC_NTARGETS:
		break;
	}
	return -1;
}

void
proc_reset(struct ttc_object *o)
{
	o->work++;
	memset(&o->run, 0, sizeof(o->run));
}

static void
fail_run(struct ttc_object *o, const struct proc_step *s, const char *why)
{
	snprintf(o->run.failure, sizeof(o->run.failure), "%s: %s", s->name, why);
}

/*
 * Pod i cannot be told to stop taking writes: it is deleted (once per step), not with a
 * force delete (grace 0), which removes the object at once while the kubelet may still
 * run its containers. With a grace period, the object goes only once the kubelet has
 * stopped them, which is the proof.
 */
static void
fence_by_deletion(struct ttc_object *o, int i)
{
	char pod[300];

	if (o->run.deleting || !o->pods[i].exists ||
	    o->fx->delete_pod(o, i, FENCE_GRACE_SECONDS) != 0)
		return;
	o->run.deleting = 1;
	objects_pod_name(pod, sizeof(pod), o->name, i);
	object_event(o, 1, "Fence", "Pod %s cannot be told to stop taking writes: deleting it",
	             pod);
}

enum proc_outcome
proc_advance(struct ttc_object *o, time_t now)
{
	struct proc_run *r = &o->run;
	const struct proc *p = o->topo ? o->topo->procedure(o) : NULL;

	if (p == NULL)
		return PROC_IDLE;
	if (r->proc != p) {
		proc_reset(o);
		r->proc = p;
	}
	/* A pod replaced under the run: start over, skipping what the new one already has. */
	for (int t = 0; t < PROC_NTARGETS; t++) {
		int k = target_pod(o, t);
		if (k < 0 || k >= o->npods)
			continue;
		if (*o->pods[k].uid && *r->uid[t] && strcmp(o->pods[k].uid, r->uid[t]) != 0 &&
		    !r->inflight && !r->reported) {
			r->next = 0;
			r->attempts = 0;
			r->deleting = 0;
		}
		if (*o->pods[k].uid)
			snprintf(r->uid[t], sizeof(r->uid[t]), "%s", o->pods[k].uid);
	}
	if (r->reported)
		return PROC_IDLE; /* ended; the machine moves on */
	if (r->failure[0] != '\0') {
		r->reported = 1;
		return PROC_FAILED;
	}
	while (r->next < p->nsteps) {
		const struct proc_step *s = &p->steps[r->next];
		int i = target_pod(o, s->target);

		/* "Done" tests read the observation: not before it shows the last order. */
		if (r->inflight || r->need_fresh)
			return PROC_WAITING;
		if (i < 0) {
			fail_run(o, s, "no pod has that role");
			r->reported = 1;
			return PROC_FAILED;
		}
		if (s->done != NULL && s->done(o, i)) {
			if ((s->flags & STEP_FENCING) && s->target == TARGET_FENCED &&
			    !r->lease_told && !fenced_pod_gone(o, i) &&
			    lease_ran_out(o, i, o->fence_uid)) {
				char pod[300];
				/* Fenced by its lease, the pod that could not be told still goes,
				 * so that a new one takes its place. */
				if (!o->pods[i].reachable || o->pods[i].terminating)
					fence_by_deletion(o, i);
				r->lease_told = 1;
				objects_pod_name(pod, sizeof(pod), o->name, i);
				object_event(o, 1, "Fence",
				             "Pod %s: its %lld s lease ran out unrenewed: its "
				             "database stopped taking writes by itself",
				             pod, (long long)o->pods[i].lease.seconds);
			}
			r->next++;
			r->attempts = 0;
			r->deleting = 0;
			continue;
		}
		if (s->flags & STEP_WAIT)
			return PROC_WAITING;
		if (s->flags & STEP_NOTE) {
			s->after(o, i);
			r->next++;
			continue;
		}
		if (now < r->retry_at)
			return PROC_WAITING;
		const struct pod_view *pv = &o->pods[i];
		if ((s->flags & STEP_FENCING) && (!pv->reachable || pv->terminating)) {
			fence_by_deletion(o, i);
			/* Its lease may prove it fenced before its kubelet can: look then. */
			time_t at =
			    s->target == TARGET_FENCED ? lease_runs_out_at(o, i, o->fence_uid) : 0;
			if (at != 0 && (o->wake_at == 0 || o->wake_at > at))
				o->wake_at = at;
			return PROC_WAITING;
		}
		if (!pv->exists)
			return PROC_WAITING; /* its StatefulSet makes it */
		if (pv->terminating) {
			/* A new pod will do: it has the same volume, and the database chosen
			 * as the one ahead is on it (giving up would try the other one). */
			if (o->state == TTC_ST_INITIALIZING ||
			    o->state == TTC_ST_CONFIGURING_ACTIVE)
				return PROC_WAITING;
			fail_run(o, s, "its pod is gone");
			r->reported = 1;
			return PROC_FAILED;
		}
		if (!pv->reachable)
			return PROC_WAITING; /* the agent may come back; the situation decides */
		char *body = s->body ? s->body(o, i) : NULL;
		r->inflight = 1;
		r->work = o->work;
		if (o->fx->order(o, i, s->op, body, (s->flags & STEP_ASYNC) != 0) < 0) {
			r->inflight = 0;
			proc_order_done(o, o->work, ORDER_TRANSIENT, "cannot send the order", now);
			return PROC_WAITING;
		}
		return PROC_WAITING;
	}
	r->reported = 1;
	return PROC_DONE;
}

void
proc_order_done(struct ttc_object *o, unsigned work, enum order_result res, const char *message,
                time_t now)
{
	struct proc_run *r = &o->run;
	const struct proc_step *s;
	int backoff;

	if (work != o->work || r->proc == NULL)
		return; /* the state moved on while the order was out */
	r->inflight = 0;
	s = &r->proc->steps[r->next];
	switch (res) {
	case ORDER_OK:
		snprintf(r->said, sizeof(r->said), "%s", message ? message : "");
		if (s->after != NULL)
			s->after(o, target_pod(o, s->target));
		r->need_fresh = 1;
		r->next++;
		r->attempts = 0;
		r->deleting = 0;
		return;
	case ORDER_FAILED:
		if (s->flags & STEP_FENCING) {
			/* A refused fence is no fence: delete the pod on the next pass. */
			o->pods[target_pod(o, s->target)].reachable = 0;
			return;
		}
		fail_run(o, s, message ? message : "failed");
		return;
	case ORDER_TRANSIENT:
		if (++r->attempts >= PROC_MAX_ATTEMPTS) {
			fail_run(o, s, message ? message : "no answer");
			return;
		}
		backoff = PROC_RETRY_MIN << (r->attempts - 1);
		r->retry_at = now + (backoff > PROC_RETRY_MAX ? PROC_RETRY_MAX : backoff);
		return;
	}
}
