/*
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: every retry
 * period read the Lease and create, take over (free, or unchanged for its duration as
 * seen locally) or renew it with a resourceVersion-guarded update. A leader whose
 * renewals fail for the renew deadline stops acting before its lease can run out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "internal.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

#define ELECTOR_STATES(X)                                                                          \
	X(CANDIDATE, "candidate") /* trying to acquire */                                          \
	X(LEADER, "leader")       /* holding and renewing */                                       \
	X(RELEASING, "releasing") /* giving the lease up */                                        \
	X(DONE, "done")           /* released: no more campaigning */

enum elector_state {
#define X(e, s) EL_##e,
	ELECTOR_STATES(X)
#undef X
};

static const char *const elector_state_names[] = {
#define X(e, s) s,
    ELECTOR_STATES(X)
#undef X
};

struct kube_elector {
	struct kube_part part;
	struct kube_client *c;
	char *ns, *name, *identity, *lease_label;
	int duration_ms, renew_ms, retry_ms;
	void (*started)(struct kube_elector *e, void *arg);
	void (*stopped)(struct kube_elector *e, void *arg);
	void (*new_leader)(struct kube_elector *e, const char *identity, void *arg);
	void *arg;

	enum elector_state state;
	struct kube_call *call;
	struct event *tick_ev;     /* the next attempt */
	struct event *deadline_ev; /* renew deadline while leading */
	double renew_sent;         /* when the last successful renewal was sent */
	double attempt_sent;       /* when the write in flight was sent */

	/* What we last saw of the Lease. */
	char holder[256];
	char record[512]; /* holder|renewTime|duration: a change restarts the clock */
	double observed_at;
	char acquire_time[40];
	long long transitions;

	void (*release_done)(void *arg);
	void *release_arg;
	struct event *release_ev;
	struct metric_series *leader_gauge, *transitions_ctr;
};

enum kube_lease_action
kube_lease_decide(const struct kube_lease_view *v, const char *me, double now)
{
	if (!v->exists)
		return KUBE_LEASE_CREATE;
	if (v->holder != NULL && strcmp(v->holder, me) == 0)
		return KUBE_LEASE_RENEW;
	if (v->holder == NULL || *v->holder == '\0')
		return KUBE_LEASE_ACQUIRE;
	/* Expired by our own clock: the holder's renewTime may come from a skewed one. */
	if (now - v->observed_at >= (double)v->duration_s)
		return KUBE_LEASE_ACQUIRE;
	return KUBE_LEASE_WAIT;
}

static void
set_state(struct kube_elector *e, enum elector_state st, const char *why)
{
	if (e->state == st)
		return;
	log_info("kube", "leader election", "lease", e->lease_label, "identity", e->identity,
	         "from", elector_state_names[e->state], "to", elector_state_names[st], "why", why,
	         NULL);
	e->state = st;
}

static void
schedule(struct kube_elector *e, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(e->tick_ev, &tv);
}

static void
become_leader(struct kube_elector *e)
{
	int renew_left_ms = e->renew_ms - (int)((kube_now() - e->renew_sent) * 1000);
	struct timeval tv;

	if (renew_left_ms < 0)
		renew_left_ms = 0;
	tv.tv_sec = renew_left_ms / 1000;
	tv.tv_usec = (renew_left_ms % 1000) * 1000;
	evtimer_add(e->deadline_ev, &tv);
	if (e->state == EL_LEADER)
		return;
	set_state(e, EL_LEADER, "acquired the lease");
	snprintf(e->holder, sizeof(e->holder), "%s", e->identity);
	metric_set(e->leader_gauge, 1);
	metric_add(e->transitions_ctr, 1);
	if (e->started != NULL)
		e->started(e, e->arg);
}

static void
stop_leading(struct kube_elector *e, const char *why)
{
	if (e->state != EL_LEADER)
		return;
	evtimer_del(e->deadline_ev);
	set_state(e, EL_CANDIDATE, why);
	metric_set(e->leader_gauge, 0);
	metric_add(e->transitions_ctr, 1);
	if (e->stopped != NULL)
		e->stopped(e, e->arg);
}

/* The renew deadline passed without a successful renewal: stop acting at once. */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_elector *e = arg;

	(void)fd;
	(void)what;
	log_warn("kube", "lease not renewed within the renew deadline; stepping down", "lease",
	         e->lease_label, "identity", e->identity, NULL);
	stop_leading(e, "renew deadline passed");
}

/* The Lease object to write: holder (empty to release), times and transitions. */
static char *
lease_json(struct kube_elector *e, const char *rv, const char *holder, int duration_s,
           const char *acquire, long long transitions)
{
	struct jw j;
	char now[40];

	kube_time_micro(now);
	if (jw_init(&j) < 0)
		return NULL;
	jw_obj(&j);
	jw_kstr(&j, "apiVersion", "coordination.k8s.io/v1");
	jw_kstr(&j, "kind", "Lease");
	jw_key(&j, "metadata");
	jw_obj(&j);
	jw_kstr(&j, "name", e->name);
	jw_kstr(&j, "namespace", e->ns);
	if (rv != NULL)
		jw_kstr(&j, "resourceVersion", rv);
	jw_obj_end(&j);
	jw_key(&j, "spec");
	jw_obj(&j);
	jw_kstr(&j, "holderIdentity", holder);
	jw_kint(&j, "leaseDurationSeconds", duration_s);
	jw_kstr(&j, "acquireTime", acquire ? acquire : now);
	jw_kstr(&j, "renewTime", now);
	jw_kint(&j, "leaseTransitions", transitions);
	jw_obj_end(&j);
	jw_obj_end(&j);
	return jw_finish(&j, NULL);
}

static void tick(evutil_socket_t fd, short what, void *arg);

static int
request_timeout(struct kube_elector *e)
{
	/* A leader's request may not outlive its renew deadline. */
	if (e->state == EL_LEADER) {
		int left = e->renew_ms - (int)((kube_now() - e->renew_sent) * 1000);
		return left > 100 ? left : 100;
	}
	return e->duration_ms;
}

static void
write_done(struct kube_result *r, void *arg)
{
	struct kube_elector *e = arg;

	e->call = NULL;
	if (r->err == KUBE_ERR_OK) {
		e->renew_sent = e->attempt_sent;
		become_leader(e);
	} else if (r->err == KUBE_ERR_CONFLICT || r->err == KUBE_ERR_ALREADY_EXISTS) {
		log_info("kube", "lost the race for the lease", "lease", e->lease_label, NULL);
		stop_leading(e, "the lease changed under us");
	} else {
		log_warn("kube", "cannot write the lease", "lease", e->lease_label, "error",
		         kube_err_name(r->err), "message", r->message, NULL);
	}
	schedule(e, e->retry_ms);
}

static void
write_lease(struct kube_elector *e, enum kube_lease_action act, const char *rv)
{
	struct kube_request rq = {
	    .res = &kube_res_leases, .ns = e->ns, .flags = KUBE_REQ_PRIORITY | KUBE_REQ_NO_RETRY};
	long long transitions = e->transitions;
	const char *acquire = NULL;
	char *body;

	if (act == KUBE_LEASE_ACQUIRE)
		transitions++;
	if (act == KUBE_LEASE_RENEW && e->acquire_time[0] != '\0')
		acquire = e->acquire_time;
	body = lease_json(e, act == KUBE_LEASE_CREATE ? NULL : rv, e->identity,
	                  (e->duration_ms + 999) / 1000, acquire, transitions);
	if (body == NULL) {
		schedule(e, e->retry_ms);
		return;
	}
	rq.verb = act == KUBE_LEASE_CREATE ? KUBE_CREATE : KUBE_UPDATE;
	rq.name = act == KUBE_LEASE_CREATE ? NULL : e->name;
	rq.body = body;
	rq.timeout_ms = request_timeout(e);
	e->attempt_sent = kube_now();
	e->call = kube_request(e->c, &rq, write_done, e);
	free(body);
	if (e->call == NULL)
		schedule(e, e->retry_ms);
}

static void
read_done(struct kube_result *r, void *arg)
{
	struct kube_elector *e = arg;
	struct kube_lease_view v = {0};
	const char *holder, *renew, *acq;
	char record[512];
	long long dur = 0, trans = 0;
	enum kube_lease_action act;

	e->call = NULL;
	if (r->err == KUBE_ERR_NOT_FOUND) {
		e->transitions = 0;
		e->acquire_time[0] = '\0';
		write_lease(e, KUBE_LEASE_CREATE, NULL);
		return;
	}
	if (r->err != KUBE_ERR_OK) {
		log_warn("kube", "cannot read the lease", "lease", e->lease_label, "error",
		         kube_err_name(r->err), "message", r->message, NULL);
		schedule(e, e->retry_ms);
		return;
	}
	holder = json_str(r->object, "spec", "holderIdentity", NULL);
	renew = json_str(r->object, "spec", "renewTime", NULL);
	acq = json_str(r->object, "spec", "acquireTime", NULL);
	json_int(r->object, &dur, "spec", "leaseDurationSeconds", NULL);
	json_int(r->object, &trans, "spec", "leaseTransitions", NULL);
	snprintf(record, sizeof(record), "%s|%s|%lld", holder ? holder : "", renew ? renew : "",
	         dur);
	if (strcmp(record, e->record) != 0) {
		snprintf(e->record, sizeof(e->record), "%s", record);
		e->observed_at = kube_now();
	}
	if (strcmp(holder ? holder : "", e->holder) != 0) {
		snprintf(e->holder, sizeof(e->holder), "%s", holder ? holder : "");
		if (strcmp(e->holder, e->identity) != 0) {
			log_info("kube", "the lease has a new holder", "lease", e->lease_label,
			         "holder", e->holder, NULL);
			if (e->new_leader != NULL)
				e->new_leader(e, e->holder, e->arg);
		}
	}
	e->transitions = trans;
	snprintf(e->acquire_time, sizeof(e->acquire_time), "%s", acq ? acq : "");
	v.exists = 1;
	v.holder = holder ? holder : "";
	v.duration_s = dur;
	v.transitions = trans;
	v.rv = kube_obj_rv(r->object);
	v.observed_at = e->observed_at;
	act = kube_lease_decide(&v, e->identity, kube_now());
	if (act == KUBE_LEASE_WAIT) {
		stop_leading(e, "another candidate holds the lease");
		schedule(e, e->retry_ms);
		return;
	}
	write_lease(e, act, v.rv);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct kube_elector *e = arg;
	struct kube_request rq = {.verb = KUBE_GET,
	                          .res = &kube_res_leases,
	                          .ns = e->ns,
	                          .name = e->name,
	                          .flags = KUBE_REQ_PRIORITY | KUBE_REQ_NO_RETRY};

	(void)fd;
	(void)what;
	if (e->state != EL_CANDIDATE && e->state != EL_LEADER)
		return;
	rq.timeout_ms = request_timeout(e);
	e->call = kube_request(e->c, &rq, read_done, e);
	if (e->call == NULL)
		schedule(e, e->retry_ms);
}

static void
el_destroy(void *self)
{
	struct kube_elector *e = self;

	kube_call_cancel(e->call);
	if (e->tick_ev != NULL)
		event_free(e->tick_ev);
	if (e->deadline_ev != NULL)
		event_free(e->deadline_ev);
	if (e->release_ev != NULL)
		event_free(e->release_ev);
	metric_set(e->leader_gauge, 0);
	free(e->ns);
	free(e->name);
	free(e->identity);
	free(e->lease_label);
	free(e);
}

struct kube_elector *
kube_elector_new(struct kube_client *c, const struct kube_elector_opts *o)
{
	struct kube_elector *e;
	const char *ns = o->ns && *o->ns ? o->ns : kube_client_namespace(c);
	char host[256], *id = NULL;
	struct event_base *base = kube_client_base(c);

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->c = c;
	e->duration_ms = o->lease_duration_ms > 0 ? o->lease_duration_ms : 15000;
	e->renew_ms = o->renew_deadline_ms > 0 ? o->renew_deadline_ms : 10000;
	e->retry_ms = o->retry_period_ms > 0 ? o->retry_period_ms : 2000;
	if (!kube_valid_name(o->name) || !kube_valid_name(ns) || e->duration_ms <= e->renew_ms ||
	    e->renew_ms <= e->retry_ms * 1.2 || e->duration_ms < 1000) {
		log_error("kube",
		          "leader election: need a valid lease name and namespace, and lease "
		          "duration > renew deadline > 1.2 x retry period",
		          "name", o->name, NULL);
		free(e);
		return NULL;
	}
	if (o->identity == NULL || *o->identity == '\0') {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "unknown");
		host[sizeof(host) - 1] = '\0';
		if (asprintf(&id, "%s_%ld", host, (long)getpid()) < 0)
			id = NULL;
	} else {
		id = strdup(o->identity);
	}
	e->identity = id;
	e->ns = strdup(ns);
	e->name = strdup(o->name);
	if (asprintf(&e->lease_label, "%s/%s", ns, o->name) < 0)
		e->lease_label = NULL;
	e->started = o->started;
	e->stopped = o->stopped;
	e->new_leader = o->new_leader;
	e->arg = o->arg;
	e->state = EL_CANDIDATE;
	e->tick_ev = evtimer_new(base, tick, e);
	e->deadline_ev = evtimer_new(base, deadline_cb, e);
	if (e->identity == NULL || e->ns == NULL || e->name == NULL || e->lease_label == NULL ||
	    e->tick_ev == NULL || e->deadline_ev == NULL) {
		el_destroy(e);
		return NULL;
	}
	e->leader_gauge = metric_series(kube_client_m(c)->leader, e->lease_label, NULL);
	e->transitions_ctr =
	    metric_series(kube_client_m(c)->leader_transitions, e->lease_label, NULL);
	metric_set(e->leader_gauge, 0);
	e->part.free = el_destroy;
	e->part.self = e;
	kube_client_attach(c, &e->part);
	log_info("kube", "campaigning for the lease", "lease", e->lease_label, "identity",
	         e->identity, NULL);
	schedule(e, 0);
	return e;
}

void
kube_elector_free(struct kube_elector *e)
{
	if (e == NULL)
		return;
	kube_client_detach(e->c, &e->part);
	el_destroy(e);
}

int
kube_elector_is_leader(const struct kube_elector *e)
{
	return e->state == EL_LEADER;
}

const char *
kube_elector_identity(const struct kube_elector *e)
{
	return e->identity;
}

static void
release_finished(struct kube_elector *e)
{
	set_state(e, EL_DONE, "released");
	if (e->release_done != NULL) {
		void (*done)(void *) = e->release_done;
		e->release_done = NULL;
		done(e->release_arg);
	}
}

static void
release_written(struct kube_result *r, void *arg)
{
	struct kube_elector *e = arg;

	e->call = NULL;
	if (r->err == KUBE_ERR_OK)
		log_info("kube", "lease released", "lease", e->lease_label, NULL);
	else
		log_warn("kube", "cannot release the lease; it will expire", "lease",
		         e->lease_label, "error", kube_err_name(r->err), "message", r->message,
		         NULL);
	release_finished(e);
}

static void
release_read(struct kube_result *r, void *arg)
{
	struct kube_elector *e = arg;
	struct kube_request rq = {.verb = KUBE_UPDATE,
	                          .res = &kube_res_leases,
	                          .ns = e->ns,
	                          .name = e->name,
	                          .flags = KUBE_REQ_PRIORITY | KUBE_REQ_NO_RETRY,
	                          .timeout_ms = e->retry_ms};
	const char *holder = json_str(r->object, "spec", "holderIdentity", NULL);
	long long trans = 0;
	char *body;

	e->call = NULL;
	/* Only a lease still ours is released; a stale write would just conflict. */
	if (r->err != KUBE_ERR_OK || holder == NULL || strcmp(holder, e->identity) != 0) {
		release_finished(e);
		return;
	}
	json_int(r->object, &trans, "spec", "leaseTransitions", NULL);
	/* As client-go: no holder and a 1 s duration, so a candidate takes over at once. */
	body = lease_json(e, kube_obj_rv(r->object), "", 1, NULL, trans);
	rq.body = body;
	if (body == NULL || (e->call = kube_request(e->c, &rq, release_written, e)) == NULL)
		release_finished(e);
	free(body);
}

static void
release_now(evutil_socket_t fd, short what, void *arg)
{
	struct kube_elector *e = arg;
	struct kube_request rq = {.verb = KUBE_GET,
	                          .res = &kube_res_leases,
	                          .ns = e->ns,
	                          .name = e->name,
	                          .flags = KUBE_REQ_PRIORITY | KUBE_REQ_NO_RETRY,
	                          .timeout_ms = e->retry_ms};

	(void)fd;
	(void)what;
	if ((e->call = kube_request(e->c, &rq, release_read, e)) == NULL)
		release_finished(e);
}

static void
release_skip(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	release_finished(arg);
}

void
kube_elector_release(struct kube_elector *e, void (*done)(void *arg), void *arg)
{
	int was_leader = e->state == EL_LEADER;

	if (e->state == EL_RELEASING || e->state == EL_DONE)
		return;
	e->release_done = done;
	e->release_arg = arg;
	stop_leading(e, "releasing");
	evtimer_del(e->tick_ev);
	kube_call_cancel(e->call);
	e->call = NULL;
	set_state(e, EL_RELEASING, "release requested");
	/* Not leading: nothing to give up, but done still runs from the loop. */
	e->release_ev =
	    evtimer_new(kube_client_base(e->c), was_leader ? release_now : release_skip, e);
	if (e->release_ev == NULL) {
		release_finished(e);
		return;
	}
	event_active(e->release_ev, EV_TIMEOUT, 0);
}
