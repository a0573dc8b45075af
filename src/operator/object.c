/*
 * One managed object (see object.h): its pod views, how each pod stands against its
 * role, and the decisions every topology's actions record.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"

#define TT_TEXT(e, text) text,
const char *const tt_instance_names[] = {TT_INSTANCE(TT_TEXT) NULL};
const char *const tt_daemon_names[] = {TT_DAEMON(TT_TEXT) NULL};
const char *const tt_db_names[] = {TT_DB(TT_TEXT) NULL};
const char *const tt_updatable_names[] = {TT_UPDATABLE(TT_TEXT) NULL};
const char *const tt_running_names[] = {TT_RUNNING(TT_TEXT) NULL};
const char *const tt_scheme_names[] = {TT_SCHEME(TT_TEXT) NULL};
const char *const tt_rep_state_names[] = {TT_REP_STATE(TT_TEXT) NULL};
#undef TT_TEXT

void
agent_state_unknown(struct agent_state *st)
{
	memset(st, 0, sizeof(*st));
	st->db_id = -1;
	st->mem_usage = st->mem_limit = st->rss_kb = -1;
	snprintf(st->release, sizeof(st->release), "Unknown");
	snprintf(st->rep_peer, sizeof(st->rep_peer), "Unknown");
}

/* TimesTen serves the role: ACTIVE and updatable, or, while the upgrade quiesces it, ACTIVE
 * and closed, or ACTIVE with updatability unknown because the quiesce's disconnect ended the
 * probe's connection under it (that proves nothing against it; a database that went away
 * shows in the daemon's state); or STANDBY with replication running. */
static int
serves(const struct pod_view *p, int role)
{
	const struct agent_state *st = &p->st;

	if (st->daemon != DAEMON_UP || st->db != DB_LOADED)
		return 0;
	if (role == ROLE_ACTIVE)
		return st->rep_state == REP_ACTIVE &&
		       (st->updatable == UPDATABLE_YES ||
		        (p->quiescing &&
		         (st->open == UPDATABLE_NO || st->updatable == UPDATABLE_UNKNOWN)));
	if (role == ROLE_STANDBY)
		return st->rep_state == REP_STANDBY && st->rep_agent == RUNNING_YES;
	return 0;
}

enum pod_class
object_pod_presence(const struct ttc_object *o, int i, time_t now)
{
	const struct pod_view *p = &o->pods[i];
	long long limit = spec_seconds(o->spec, TIMER_UNREACHABLE);

	if (!p->exists || p->terminating)
		return POD_GONE;
	if (!p->reachable) {
		if (p->unreachable_since != 0 && now - p->unreachable_since >= limit)
			return POD_GONE;
		return POD_UNKNOWN;
	}
	/* The agent answers but could not learn TimesTen's state, or that of the database
	 * its daemon has loaded: nothing is proven. */
	if (p->st.daemon == DAEMON_UNKNOWN ||
	    (p->st.db == DB_LOADED && p->st.updatable == UPDATABLE_UNKNOWN &&
	     p->st.rep_state == REP_UNKNOWN))
		return POD_UNKNOWN;
	return POD_AVAILABLE;
}

enum pod_class
object_pod_class(const struct ttc_object *o, int i, time_t now)
{
	enum pod_class c = object_pod_presence(o, i, now);

	if (c != POD_AVAILABLE)
		return c;
	return serves(&o->pods[i], o->pods[i].role) ? POD_HEALTHY : POD_AVAILABLE;
}

int
object_resize_pods(struct ttc_object *o, int n)
{
	struct pod_view *p;

	if (n == o->npods)
		return 0;
	if ((p = realloc(o->pods, (n > 0 ? n : 1) * sizeof(*p))) == NULL) {
		if (n > o->npods)
			return -1;
		p = o->pods; /* fewer: the larger block serves */
	}
	for (int i = o->npods; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		agent_state_unknown(&p[i].st);
	}
	o->pods = p;
	o->npods = n;
	return 0;
}

void
object_free_pods(struct ttc_object *o)
{
	free(o->pods);
	o->pods = NULL;
	o->npods = 0;
}

void
object_set_roles(struct ttc_object *o, int active)
{
	o->active = active;
	o->roles_gen++;
	for (int i = 0; i < o->npods; i++)
		o->pods[i].role = active < 0 ? ROLE_NONE : i == active ? ROLE_ACTIVE : ROLE_STANDBY;
	if (active >= 0)
		o->tried |= 1u << active;
}

void
object_cancel_work(struct ttc_object *o)
{
	proc_reset(o);
}

void
object_event(struct ttc_object *o, int warning, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (o->fx == NULL || o->fx->event == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->fx->event(o, warning, reason, msg);
}

void
object_report_invalid_spec(struct ttc_object *o)
{
	object_event(o, 1, "InvalidSpec", "%s", o->message);
}
