/*
 * One managed object (see object.h): classifying its pods into situation events, and the
 * decisions the pair machine's actions record.
 */
#include "config.h"

#include <stdio.h>
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
	snprintf(st->release, sizeof(st->release), "Unknown");
	snprintf(st->rep_peer, sizeof(st->rep_peer), "Unknown");
}

/* TimesTen serves the role: ACTIVE and updatable; or STANDBY with replication running. */
static int
serves(const struct agent_state *st, int role)
{
	if (st->daemon != DAEMON_UP || st->db != DB_LOADED)
		return 0;
	if (role == ROLE_ACTIVE)
		return st->rep_state == REP_ACTIVE && st->updatable == UPDATABLE_YES;
	if (role == ROLE_STANDBY)
		return st->rep_state == REP_STANDBY && st->rep_agent == RUNNING_YES;
	return 0;
}

enum pod_class
object_pod_class(const struct ttc_object *o, int i, time_t now)
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
	/* The agent answers but could not learn TimesTen's state: nothing is proven. */
	if (p->st.daemon == DAEMON_UNKNOWN)
		return POD_UNKNOWN;
	return serves(&p->st, p->role) ? POD_HEALTHY : POD_AVAILABLE;
}

enum ttc_event
object_situation(const struct ttc_object *o, time_t now)
{
	int a = o->active, s = a == 0 ? 1 : 0;
	enum pod_class ca, cs;

	if (a < 0)
		return TTC_EV_UNSETTLED;
	ca = object_pod_class(o, a, now);
	cs = object_pod_class(o, s, now);
	if (ca == POD_UNKNOWN || cs == POD_UNKNOWN)
		return TTC_EV_UNSETTLED;
	if (ca == POD_HEALTHY) {
		if (cs == POD_HEALTHY)
			return TTC_EV_PAIR_HEALTHY;
		return cs == POD_AVAILABLE ? TTC_EV_STANDBY_PRESENT : TTC_EV_STANDBY_LOST;
	}
	return cs == POD_HEALTHY ? TTC_EV_ACTIVE_LOST : TTC_EV_BOTH_LOST;
}

void
object_set_roles(struct ttc_object *o, int active)
{
	o->active = active;
	for (int i = 0; i < PAIR_PODS; i++)
		o->pods[i].role = active < 0 ? ROLE_NONE : i == active ? ROLE_ACTIVE : ROLE_STANDBY;
	if (active >= 0)
		o->tried |= 1u << active;
}

/*
 * BothDown: the database that is ahead, when known; else the best candidate: the one last
 * seen serving as the healthy ACTIVE (status keeps it), then the intended active, then
 * ordinal 0. Every commit acknowledged under RETURN TWOSAFE is on both; with NO RETURN
 * the active is the one ahead.
 */
int
object_choose_ahead(const struct ttc_object *o)
{
	if (o->ahead >= 0)
		return o->ahead;
	if (o->serving >= 0)
		return o->serving;
	return o->active >= 0 ? o->active : 0;
}

/* A database on the other pod, not tried yet as active since BothDown. */
int
object_other_candidate(const struct ttc_object *o)
{
	int other = o->active == 0 ? 1 : 0;

	if (o->tried & (1u << other))
		return -1;
	return other;
}

/*
 * Reexamine: a pod whose agent answers, with the daemon up and a loaded database that is
 * ACTIVE, or IDLE without a replication scheme (repaired by hand as documented). The
 * recorded active is preferred.
 */
int
object_usable_database(const struct ttc_object *o)
{
	for (int k = 0; k < PAIR_PODS; k++) {
		int i = o->active >= 0 ? (o->active + k) % PAIR_PODS : k;
		const struct pod_view *p = &o->pods[i];

		if (!p->exists || p->terminating || !p->reachable || p->st.daemon != DAEMON_UP ||
		    p->st.db != DB_LOADED)
			continue;
		if (p->st.rep_state == REP_ACTIVE ||
		    (p->st.rep_state == REP_IDLE && p->st.rep_scheme == SCHEME_NONE))
			return i;
	}
	return -1;
}

void
object_cancel_work(struct ttc_object *o)
{
	proc_reset(o);
}

void
object_report_invalid_spec(struct ttc_object *o)
{
	if (o->fx && o->fx->event)
		o->fx->event(o, 1, "InvalidSpec", o->message);
}
