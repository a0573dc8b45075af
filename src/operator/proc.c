/*
 * The procedures of the pair states and their runner (see proc.h). Steps name the agent
 * operations of src/agent/API.md; "done" tests read the last observation, so a procedure
 * resumed after a restart skips what is already true.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "objects.h"
#include "proc.h"
#include "repscheme.h"
#include "ttc/json.h"

/* Transient failures of one step tolerated before the procedure fails. */
#define PROC_MAX_ATTEMPTS 10
/* Seconds between tries of a step that failed transiently (doubling, capped). */
#define PROC_RETRY_MIN 1
#define PROC_RETRY_MAX 30

static const struct agent_state *
st(const struct ttc_object *o, int i)
{
	return &o->pods[i].st;
}

/* Done tests. */

static int
instance_exists(const struct ttc_object *o, int i)
{
	return st(o, i)->instance == INSTANCE_EXISTS;
}

static int
daemon_up(const struct ttc_object *o, int i)
{
	return st(o, i)->daemon == DAEMON_UP;
}

static int
no_database(const struct ttc_object *o, int i)
{
	return st(o, i)->db == DB_NONE;
}

/* Initializing: a database left by an interrupted initialisation is cleared first. */
static int
no_partial_database(const struct ttc_object *o, int i)
{
	return no_database(o, i) || o->pods[i].initialized;
}

static int
initialized(const struct ttc_object *o, int i)
{
	return o->pods[i].initialized;
}

static int
database_loaded(const struct ttc_object *o, int i)
{
	return st(o, i)->db == DB_LOADED;
}

static int
scheme_exists(const struct ttc_object *o, int i)
{
	return st(o, i)->rep_scheme == SCHEME_EXISTS;
}

static int
duplicated(const struct ttc_object *o, int i)
{
	return database_loaded(o, i) && scheme_exists(o, i);
}

static int
rep_active(const struct ttc_object *o, int i)
{
	return st(o, i)->rep_state == REP_ACTIVE;
}

static int
rep_standby(const struct ttc_object *o, int i)
{
	return st(o, i)->rep_state == REP_STANDBY;
}

static int
rep_agent_running(const struct ttc_object *o, int i)
{
	return st(o, i)->rep_agent == RUNNING_YES;
}

static int
marked_active(const struct ttc_object *o, int i)
{
	return o->pods[i].reachable && st(o, i)->active_marker;
}

static int
not_marked_active(const struct ttc_object *o, int i)
{
	return o->pods[i].reachable && !st(o, i)->active_marker;
}

/* The pod being fenced is gone, or is a new one. */
static int
fenced_pod_gone(const struct ttc_object *o, int i)
{
	const struct pod_view *p = &o->pods[i];

	return !p->exists || strcmp(p->uid, o->fence_uid) != 0;
}

/* The old active's database can no longer take writes: its pod is gone, or its agent
 * shows it cannot (daemon down, no database loaded, not updatable, or loaded in a state
 * other than ACTIVE). "Unknown" proves nothing. */
static int
fenced(const struct ttc_object *o, int i)
{
	const struct pod_view *p = &o->pods[i];
	const struct agent_state *st = &p->st;

	if (fenced_pod_gone(o, i))
		return 1;
	if (!p->reachable || p->terminating)
		return 0;
	return st->daemon == DAEMON_DOWN || st->db == DB_NONE || st->db == DB_UNLOADED ||
	       st->updatable == UPDATABLE_NO ||
	       (st->db == DB_LOADED && st->rep_state != REP_ACTIVE && st->rep_state != REP_UNKNOWN);
}

/* ... and the Service no longer leads to it. */
static int
fenced_unmarked(const struct ttc_object *o, int i)
{
	const struct pod_view *p = &o->pods[i];

	return fenced_pod_gone(o, i) || (p->reachable && !p->terminating && !p->st.active_marker);
}

/* Bodies. */

/* {"key": "value"} */
static char *
body_one(const char *key, const char *value)
{
	struct jw w;

	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, key, value);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

static char *
body_active(const struct ttc_object *o, int i)
{
	(void)o;
	(void)i;
	return body_one("state", "ACTIVE");
}

static char *
body_idle(const struct ttc_object *o, int i)
{
	(void)o;
	(void)i;
	return body_one("state", "IDLE");
}

/* The DSN attributes the operator sets on both databases of a pair. */
static void
dsn_attributes(struct jw *w)
{
	jw_key(w, "attributes");
	jw_obj(w);
	jw_kint(w, "DDLReplicationLevel", 3);
	jw_kint(w, "ForceDisconnectEnabled", 1); /* a standby rebuilt forces its users off */
	jw_obj_end(w);
}

/* The database's DSN is the object's name. */
static char *
body_dsn(const struct ttc_object *o, int i)
{
	struct jw w;

	(void)i;
	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "dsn", o->name);
	dsn_attributes(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

static char *
body_scheme(const struct ttc_object *o, int i)
{
	(void)i;
	return body_one("statement", o->rep_statement);
}

/* The standby, as the replication scheme names it, recorded FAILED on the active. */
static char *
body_peer_failed(const struct ttc_object *o, int i)
{
	struct jw w;
	char host[300];

	objects_pod_fqdn(host, sizeof(host), o->name, o->ns, i == 0 ? 1 : 0);
	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "peer", o->name);
	jw_kstr(&w, "host", host);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

/* Duplicate from the active, named as the replication scheme names it. */
static char *
body_duplicate(const struct ttc_object *o, int i)
{
	struct jw w;
	char host[300];
	int from = i == 0 ? 1 : 0;

	objects_pod_fqdn(host, sizeof(host), o->name, o->ns, from);
	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "from", o->name);
	jw_kstr(&w, "host", host);
	jw_kstr(&w, "dsn", o->name);
	dsn_attributes(&w);
	if (*o->pods[from].ip)
		jw_kstr(&w, "remoteIP", o->pods[from].ip);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

static void
mark_initialized(struct ttc_object *o, int i)
{
	o->pods[i].initialized = 1;
}

static void
mark_uninitialized(struct ttc_object *o, int i)
{
	o->pods[i].initialized = 0;
}

#define STEP(name, target, flags, done, op, body, after)                                           \
	{                                                                                          \
		name, TARGET_##target, flags, done, op, body, after                                \
	}

/* Initializing: -0 becomes the active, -1 its duplicate and standby. */
static const struct proc_step initialize[] = {
    STEP("instance on the active", ACTIVE, 0, instance_exists, "createInstance", NULL, NULL),
    STEP("daemon on the active", ACTIVE, 0, daemon_up, "startDaemon", NULL, NULL),
    STEP("clear an unfinished database", ACTIVE, 0, no_partial_database, "destroyDatabase", NULL,
         mark_uninitialized),
    STEP("create the database", ACTIVE, 0, initialized, "createDatabase", body_dsn, NULL),
    STEP("create the admin user", ACTIVE, 0, initialized, "createAdminUser", NULL, NULL),
    STEP("run schema.sql", ACTIVE, 0, initialized, "runSchema", NULL, mark_initialized),
    STEP("create the replication scheme", ACTIVE, 0, scheme_exists, "createRepScheme", body_scheme,
         NULL),
    STEP("set the active ACTIVE", ACTIVE, 0, rep_active, "setRepState", body_active, NULL),
    STEP("start replication on the active", ACTIVE, 0, rep_agent_running, "startRepAgent", NULL,
         NULL),
    STEP("mark the active", ACTIVE, 0, marked_active, "setActive", NULL, NULL),
    STEP("instance on the standby", STANDBY, 0, instance_exists, "createInstance", NULL, NULL),
    STEP("daemon on the standby", STANDBY, 0, daemon_up, "startDaemon", NULL, NULL),
    STEP("clear the standby", STANDBY, 0, no_database, "destroyDatabase", NULL, mark_uninitialized),
    STEP("duplicate the active", STANDBY, STEP_ASYNC, duplicated, "duplicate", body_duplicate,
         mark_initialized),
    STEP("start replication on the standby", STANDBY, 0, rep_agent_running, "startRepAgent", NULL,
         NULL),
    STEP("wait for STANDBY", STANDBY, STEP_WAIT, rep_standby, NULL, NULL, NULL),
    STEP("run epilog.sql", ACTIVE, 0, NULL, "runEpilog", NULL, NULL),
};

/* ActiveDown: make sure the old active takes no more writes, then promote the standby. */
static const struct proc_step fail_over[] = {
    STEP("fence the old active", FENCED, STEP_FENCING, fenced, "setRepState", body_idle, NULL),
    STEP("unmark the old active", FENCED, STEP_FENCING, fenced_unmarked, "clearActive", NULL,
	 NULL),
    STEP("promote the standby", ACTIVE, 0, rep_active, "setRepState", body_active, NULL),
};

/* ActiveTakeover: the active serves alone. Its peer is recorded FAILED so that it keeps
 * no logs for it and commits stop waiting for it (RETURN TWOSAFE), and it is the one the
 * Service leads to. */
static const struct proc_step take_over[] = {
    STEP("record the standby failed", ACTIVE, 0, NULL, "setPeerFailed", body_peer_failed, NULL),
    STEP("mark the active", ACTIVE, 0, marked_active, "setActive", NULL, NULL),
};

/* StandbyStarting: rebuild the standby from the active, whatever its pod held. */
static const struct proc_step build_standby[] = {
    STEP("unmark the standby", STANDBY, 0, not_marked_active, "clearActive", NULL, NULL),
    STEP("instance on the standby", STANDBY, 0, instance_exists, "createInstance", NULL, NULL),
    STEP("daemon on the standby", STANDBY, 0, daemon_up, "startDaemon", NULL, NULL),
    STEP("clear the standby", STANDBY, 0, no_database, "destroyDatabase", NULL, mark_uninitialized),
    STEP("duplicate the active", STANDBY, STEP_ASYNC, duplicated, "duplicate", body_duplicate,
         mark_initialized),
    STEP("start replication on the standby", STANDBY, 0, rep_agent_running, "startRepAgent", NULL,
         NULL),
};

/* ConfiguringActive: the chosen database is loaded and made ACTIVE. */
static const struct proc_step configure_active[] = {
    STEP("daemon on the chosen pod", ACTIVE, 0, daemon_up, "startDaemon", NULL, NULL),
    STEP("load the database", ACTIVE, 0, database_loaded, "load", NULL, NULL),
    STEP("create the replication scheme", ACTIVE, 0, scheme_exists, "createRepScheme", body_scheme,
         NULL),
    STEP("set the active ACTIVE", ACTIVE, 0, rep_active, "setRepState", body_active, NULL),
    STEP("start replication on the active", ACTIVE, 0, rep_agent_running, "startRepAgent", NULL,
         NULL),
    STEP("mark the active", ACTIVE, 0, marked_active, "setActive", NULL, NULL),
};

#define PROC(name, steps)                                                                          \
	{                                                                                          \
		name, steps, sizeof(steps) / sizeof(steps[0])                                      \
	}

static const struct proc procs[] = {
    PROC("initialize", initialize),
    PROC("fail over", fail_over),
    PROC("take over", take_over),
    PROC("build standby", build_standby),
    PROC("configure active", configure_active),
};

const struct proc *
proc_for_state(int state)
{
	switch (state) {
	case TTC_ST_INITIALIZING:
		return &procs[0];
	case TTC_ST_ACTIVE_DOWN:
		return &procs[1];
	case TTC_ST_ACTIVE_TAKEOVER:
		return &procs[2];
	case TTC_ST_STANDBY_STARTING:
		return &procs[3];
	case TTC_ST_CONFIGURING_ACTIVE:
		return &procs[4];
	default:
		return NULL;
	}
}

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

enum proc_outcome
proc_advance(struct ttc_object *o, time_t now)
{
	struct proc_run *r = &o->run;
	const struct proc *p = proc_for_state(o->state);

	if (p == NULL)
		return PROC_IDLE;
	if (r->proc != p) {
		proc_reset(o);
		r->proc = p;
	}
	/* A pod replaced under the run: start over, skipping what the new one already has. */
	for (int k = 0; k < 2; k++) {
		if (*o->pods[k].uid && *r->uid[k] && strcmp(o->pods[k].uid, r->uid[k]) != 0 &&
		    !r->inflight && !r->reported) {
			r->next = 0;
			r->attempts = 0;
			r->deleting = 0;
		}
		if (*o->pods[k].uid)
			snprintf(r->uid[k], sizeof(r->uid[k]), "%s", o->pods[k].uid);
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
			r->next++;
			r->attempts = 0;
			r->deleting = 0;
			continue;
		}
		if (s->flags & STEP_WAIT)
			return PROC_WAITING;
		if (now < r->retry_at)
			return PROC_WAITING;
		const struct pod_view *pv = &o->pods[i];
		if ((s->flags & STEP_FENCING) && (!pv->reachable || pv->terminating)) {
			/* It cannot be told: make sure it is gone before going on. */
			if (!r->deleting && pv->exists && o->fx->delete_pod(o, i, 0) == 0)
				r->deleting = 1;
			return PROC_WAITING;
		}
		if (!pv->exists)
			return PROC_WAITING; /* its StatefulSet makes it */
		if (pv->terminating) {
			if (o->state == TTC_ST_INITIALIZING)
				return PROC_WAITING; /* a new pod will do */
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
