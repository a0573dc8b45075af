/*
 * The active/standby pair topology (replicationTopology activeStandbyPair): the state
 * machine table, the guards and actions its rows name, the classifier that turns what is
 * observed of the two pods into situation events, and the procedures of its states.
 * Actions only record decisions and start work; the work itself is the procedure of the
 * state entered, whose end is an event.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fsm.h"
#include "object.h"
#include "objects.h"
#include "pair.h"
#include "proc.h"
#include "repscheme.h"
#include "steps.h"
#include "topology.h"
#include "ttc.h"
#include "upgrade.h"

#define PAIR_PODS 2

/* What the actions decide from. */

/*
 * BothDown: the database that is ahead (the one a commit lands on first), from how the
 * pair was lost (the state before BothDown) and the scheme in use; -1 when it cannot be
 * known. The active is the one the operator last saw serving.
 * - The standby was out before (StandbyDown, StandbyStarting, StandbyCatchup,
 *   ActiveTakeover): commits went to the active alone.
 * - Both lost within one pollingInterval (from Normal, seen whole at the poll before by
 *   this operator), or the standby after the active (from ActiveDown, before the
 *   promotion): with NO RETURN or RETURN RECEIPT the active commits first; with RETURN
 *   TWOSAFE the standby does. Unless the active may commit without the standby (DISABLE
 *   RETURN, LOCAL COMMIT ACTION COMMIT) or only some transactions are TWOSAFE (BY
 *   REQUEST): then either may be ahead, and bothDownBehavior decides.
 * - Lost from Normal while no operator looked (the status said Normal, this operator never
 *   saw the pair whole): the order is not known. Under RETURN TWOSAFE alone both hold
 *   every acknowledged commit, so the active, as TimesTen's own recovery from a dual
 *   failure starts with it; with DISABLE RETURN, LOCAL COMMIT ACTION COMMIT or BY REQUEST
 *   it cannot be known.
 */
static int
ahead_after_loss(const struct ttc_object *o)
{
	int act = o->serving;
	struct rep_returns r;

	if (act < 0 || act >= PAIR_PODS)
		return -1;
	switch (o->prev_state) {
	case TTC_ST_STANDBY_DOWN:
	case TTC_ST_STANDBY_STARTING:
	case TTC_ST_STANDBY_CATCHUP:
	case TTC_ST_ACTIVE_TAKEOVER:
		return act;
	case TTC_ST_NORMAL:
	case TTC_ST_ACTIVE_DOWN:
		r = repscheme_returns(o->rep_statement);
		if (!r.twosafe)
			return act;
		if (r.by_request || r.disable_return || r.local_commit)
			return -1;
		if (o->prev_state == TTC_ST_NORMAL && !o->seen_whole)
			return act;
		return act == 0 ? 1 : 0;
	default:
		return -1;
	}
}

/* A database its agent shows ACTIVE now, if exactly one does; -1 otherwise. */
static int
live_active(const struct ttc_object *o)
{
	int live = -1;

	for (int i = 0; i < PAIR_PODS; i++) {
		const struct pod_view *p = &o->pods[i];

		if (p->exists && !p->terminating && p->reachable && p->st.db == DB_LOADED &&
		    p->st.rep_state == REP_ACTIVE)
			live = live < 0 ? i : -2;
	}
	return live >= 0 ? live : -1;
}

/*
 * BothDown's choice: a database its agent shows ACTIVE now (it is where writes go: any
 * other made ACTIVE would be a second one); else the one ahead (o->ahead), when known;
 * else the best candidate: the one last seen serving as the healthy ACTIVE (status keeps
 * it), then the intended active, then ordinal 0.
 */
static int
choose_ahead(const struct ttc_object *o)
{
	int live = live_active(o);

	if (live >= 0)
		return live;
	if (o->ahead >= 0)
		return o->ahead;
	if (o->serving >= 0)
		return o->serving;
	return o->active >= 0 ? o->active : 0;
}

/*
 * After BothDown, whether the database on the other pod may take the chosen one's place
 * (the chosen one not back, or not configurable). Not when the chosen one is the one
 * known ahead: the other lacks the commits it took alone, and using it would drop them
 * unseen; WaitingForActive waits for it (waitingForActiveTimeout bounds that) or a person
 * chooses. When which one is ahead is not known, only bothDownBehavior Best lets the
 * operator take the best it can have.
 */
static int
other_may_replace_chosen(const struct ttc_object *o)
{
	if (o->ahead >= 0)
		return o->ahead != o->active;
	return o->spec == NULL || o->spec->both_down_behavior == BOTHDOWN_BEST;
}

/* A database on the other pod, not tried yet as active since BothDown, that may take the
 * chosen one's place. */
static int
other_pod_candidate(const struct ttc_object *o)
{
	int other = o->active == 0 ? 1 : 0;

	if ((o->tried & (1u << other)) || !other_may_replace_chosen(o))
		return -1;
	return other;
}

/*
 * Reexamine: a pod whose agent answers, with the daemon up and a loaded database that is
 * ACTIVE, or IDLE without a replication scheme (repaired by hand as documented). The
 * recorded active is preferred.
 */
static int
usable_database(const struct ttc_object *o)
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

/* Guards. */

/* BothDown: the database that is ahead is known, or the policy lets us pick the best. */
static int
can_choose(void *ctx)
{
	struct ttc_object *o = ctx;

	return live_active(o) >= 0 || ahead_after_loss(o) >= 0 || o->spec == NULL ||
	       o->spec->both_down_behavior == BOTHDOWN_BEST;
}

/* WaitingForActive: the chosen pod's agent answers, so it can be configured; not a pod
 * on its way out, whose successor will hold the same database. */
static int
chosen_reachable(void *ctx)
{
	struct ttc_object *o = ctx;
	const struct pod_view *p = o->active >= 0 ? &o->pods[o->active] : NULL;

	return p != NULL && p->exists && !p->terminating && p->reachable;
}

/* ConfiguringActive failed: the other pod holds a database not tried yet. */
static int
other_candidate(void *ctx)
{
	return other_pod_candidate(ctx) >= 0;
}

/* WaitingForActive: the chosen one still lost, the other serves as a standby; a failover
 * to it only when it holds what the chosen one holds. */
static int
other_may_take_over(void *ctx)
{
	return other_may_replace_chosen(ctx);
}

/* StandbyDown: a rebuild may start (not too soon after a failed one). */
static int
may_rebuild(void *ctx)
{
	struct ttc_object *o = ctx;

	if (o->now >= o->rebuild_at)
		return 1;
	if (o->wake_at == 0 || o->wake_at > o->rebuild_at)
		o->wake_at = o->rebuild_at; /* look again then */
	return 0;
}

/* Reexamine: a pod holds a database usable as the active one. */
static int
usable_found(void *ctx)
{
	return usable_database(ctx) >= 0;
}

/* Actions. */

static int
begin_init(void *ctx)
{
	object_set_roles(ctx, 0);
	return 0;
}

static int
report_invalid_spec(void *ctx)
{
	object_report_invalid_spec(ctx);
	return 0;
}

/* The standby becomes the intended active; the old active is to be fenced. */
static int
fail_over(void *ctx)
{
	struct ttc_object *o = ctx;
	int old = o->active;

	o->fence = old;
	snprintf(o->fence_uid, sizeof(o->fence_uid), "%s", old >= 0 ? o->pods[old].uid : "");
	object_set_roles(o, old == 0 ? 1 : 0);
	return 0;
}

/* A rebuild failed: the next one waits 2, 4, 8 ... up to 60 seconds. */
static int
note_rebuild_failure(void *ctx)
{
	struct ttc_object *o = ctx;
	int n = o->rebuild_failures < 5 ? o->rebuild_failures : 5;

	o->rebuild_failures++;
	o->rebuild_at = o->now + (2 << n > 60 ? 60 : 2 << n);
	return 0;
}

/* The pair is whole again. */
static int
note_pair_healthy(void *ctx)
{
	struct ttc_object *o = ctx;

	o->both_down_ineligible = 0;
	o->rebuild_failures = 0;
	o->rebuild_at = 0;
	return 0;
}

/* ConfiguringActive did every step: the chosen database serves as the active. */
static int
chosen_serves(void *ctx)
{
	struct ttc_object *o = ctx;

	return o->active >= 0 && object_pod_class(o, o->active, o->now) == POD_HEALTHY;
}

static int forget_fence(void *ctx);

/* Every step is done and the chosen database still does not serve: going round BothDown
 * again would choose it again at once, so a person looks. */
static int
report_not_serving(void *ctx)
{
	struct ttc_object *o = ctx;
	char pod[300];

	forget_fence(o);
	objects_pod_name(pod, sizeof(pod), o->name, o->active);
	snprintf(o->message, sizeof(o->message),
	         "Pod %s: every step to make its database the active is done and it does not "
	         "serve (not updatable?)",
	         pod);
	object_event(o, 1, "ProcedureFailed", "%s", o->message);
	return 0;
}

/* Leaving ActiveDown: the old active is fenced (or the attempt is over); leaving
 * ConfiguringActive: the other pod was. */
static int
forget_fence(void *ctx)
{
	struct ttc_object *o = ctx;

	o->fence = -1;
	o->fence_uid[0] = '\0';
	return 0;
}

/* Entering ConfiguringActive: the database not chosen is to be fenced before the chosen
 * one is made ACTIVE. BothDown concluded both were lost; the proof that the other takes
 * no writes is asked for all the same (fenced(): its pod gone, its lease run out, or its
 * agent showing it), as before any promotion. */
static int
fence_other(void *ctx)
{
	struct ttc_object *o = ctx;
	int other = o->active == 0 ? 1 : 0;

	o->fence = o->active >= 0 ? other : -1;
	snprintf(o->fence_uid, sizeof(o->fence_uid), "%s", o->fence >= 0 ? o->pods[other].uid : "");
	return 0;
}

static int
choose_active(void *ctx)
{
	struct ttc_object *o = ctx;

	int chosen;

	o->ahead = ahead_after_loss(o);
	o->both_down_ineligible = o->ahead < 0;
	chosen = choose_ahead(o);
	if (o->ahead < 0 && live_active(o) < 0) {
		char pod[300];
		objects_pod_name(pod, sizeof(pod), o->name, chosen);
		object_event(o, 1, "BothDown",
		             "Which database is ahead cannot be known; bothDownBehavior Best: "
		             "Pod %s, the best candidate, is to be the active",
		             pod);
	}
	o->tried = 0;
	/* The one ahead, or the active serving when both were lost with no failover decided:
	 * its scheme may be made anew (scheme_may_be_made_anew). */
	o->anew = -1;
	if (live_active(o) < 0 &&
	    (chosen == o->ahead || (chosen == o->serving && chosen == o->active)))
		o->anew = chosen;
	object_set_roles(o, chosen);
	return 0;
}

/* BothDown, the one ahead not known, bothDownBehavior Manual: a person chooses. */
static int
report_ahead_unknown(void *ctx)
{
	struct ttc_object *o = ctx;

	o->ahead = -1;
	o->both_down_ineligible = 1;
	snprintf(o->message, sizeof(o->message),
	         "Which database is ahead cannot be known (both lost within one "
	         "pollingInterval, RETURN TWOSAFE with DISABLE RETURN, LOCAL COMMIT ACTION "
	         "COMMIT or BY REQUEST); bothDownBehavior Manual: a person chooses");
	object_event(o, 1, "BothDown", "%s", o->message);
	return 0;
}

static int
choose_other(void *ctx)
{
	struct ttc_object *o = ctx;

	forget_fence(o);
	o->anew = -1;
	object_set_roles(o, other_pod_candidate(o));
	return 0;
}

static int
adopt_usable(void *ctx)
{
	struct ttc_object *o = ctx;

	o->anew = -1;
	object_set_roles(o, usable_database(o));
	fence_other(o);
	return 0;
}

/* Whatever procedure runs is dropped: a new state means new work. */
static int
cancel_work(void *ctx)
{
	object_cancel_work(ctx);
	return 0;
}

#define ROW(from, ev, guard, action, to)                                                           \
	{                                                                                          \
		TTC_ST_##from, TTC_EV_##ev, guard, action, TTC_ST_##to                             \
	}
#define G FSM_FN
#define A FSM_FN
#define NO FSM_NONE

static const struct fsm_row pair_rows[] = {
    ROW(NEW, CREATE, NO, A(begin_init), INITIALIZING),
    ROW(NEW, SPEC_INVALID, NO, A(report_invalid_spec), FAILED),

    /* Procedure "initialize": pod -0 made active, pod -1 duplicated from it as standby. */
    ROW(INITIALIZING, PROC_DONE, NO, NO, NORMAL),
    ROW(INITIALIZING, PROC_FAILED, NO, NO, FAILED),

    ROW(NORMAL, ACTIVE_LOST, NO, A(fail_over), ACTIVE_DOWN),
    ROW(NORMAL, STANDBY_LOST, NO, NO, ACTIVE_TAKEOVER),
    ROW(NORMAL, STANDBY_PRESENT, NO, NO, ACTIVE_TAKEOVER),
    ROW(NORMAL, BOTH_LOST, NO, NO, BOTH_DOWN),

    /* Procedure "fail over": fence the old active, then promote the standby. */
    ROW(ACTIVE_DOWN, PROC_DONE, NO, A(forget_fence), ACTIVE_TAKEOVER),
    ROW(ACTIVE_DOWN, PROC_FAILED, NO, A(forget_fence), BOTH_DOWN),

    /* Procedure "take over": the active serves alone and is marked for the Service. */
    ROW(ACTIVE_TAKEOVER, PROC_DONE, NO, NO, STANDBY_DOWN),
    ROW(ACTIVE_TAKEOVER, PROC_FAILED, NO, NO, BOTH_DOWN),

    ROW(STANDBY_DOWN, STANDBY_PRESENT, G(may_rebuild), NO, STANDBY_STARTING),
    ROW(STANDBY_DOWN, PAIR_HEALTHY, NO, A(note_pair_healthy), NORMAL),
    ROW(STANDBY_DOWN, ACTIVE_LOST, NO, A(fail_over), ACTIVE_DOWN),
    ROW(STANDBY_DOWN, BOTH_LOST, NO, NO, BOTH_DOWN),

    /* Procedure "build standby": clear the pod, duplicate the active, start replication. */
    ROW(STANDBY_STARTING, PROC_DONE, NO, NO, STANDBY_CATCHUP),
    ROW(STANDBY_STARTING, PROC_FAILED, NO, A(note_rebuild_failure), STANDBY_DOWN),
    ROW(STANDBY_STARTING, BOTH_LOST, NO, A(cancel_work), BOTH_DOWN),

    ROW(STANDBY_CATCHUP, PAIR_HEALTHY, NO, A(note_pair_healthy), NORMAL),
    ROW(STANDBY_CATCHUP, STANDBY_LOST, NO, NO, STANDBY_DOWN),
    ROW(STANDBY_CATCHUP, BOTH_LOST, NO, NO, BOTH_DOWN),
    ROW(STANDBY_CATCHUP, TIMEOUT, NO, NO, STANDBY_DOWN),

    ROW(BOTH_DOWN, ENTER, G(can_choose), A(choose_active), WAITING_FOR_ACTIVE),
    ROW(BOTH_DOWN, ENTER, NO, A(report_ahead_unknown), MANUAL),

    ROW(WAITING_FOR_ACTIVE, BOTH_LOST, G(chosen_reachable), A(fence_other), CONFIGURING_ACTIVE),
    ROW(WAITING_FOR_ACTIVE, PAIR_HEALTHY, NO, A(note_pair_healthy), NORMAL),
    ROW(WAITING_FOR_ACTIVE, STANDBY_LOST, NO, NO, STANDBY_DOWN),
    ROW(WAITING_FOR_ACTIVE, STANDBY_PRESENT, NO, NO, STANDBY_DOWN),
    ROW(WAITING_FOR_ACTIVE, ACTIVE_LOST, G(other_may_take_over), A(fail_over), ACTIVE_DOWN),
    /* The other, behind, serves as a standby: the chosen one is configured once it answers. */
    ROW(WAITING_FOR_ACTIVE, ACTIVE_LOST, G(chosen_reachable), A(fence_other), CONFIGURING_ACTIVE),
    ROW(WAITING_FOR_ACTIVE, TIMEOUT, NO, NO, MANUAL),

    /* Procedure "configure active": load the chosen database and make it ACTIVE. */
    ROW(CONFIGURING_ACTIVE, PROC_DONE, G(chosen_serves), A(forget_fence), STANDBY_DOWN),
    ROW(CONFIGURING_ACTIVE, PROC_DONE, NO, A(report_not_serving), MANUAL),
    ROW(CONFIGURING_ACTIVE, PROC_FAILED, G(other_candidate), A(choose_other), WAITING_FOR_ACTIVE),
    ROW(CONFIGURING_ACTIVE, PROC_FAILED, NO, A(forget_fence), MANUAL),

    ROW(MANUAL, REEXAMINE, NO, NO, REEXAMINE),

    ROW(REEXAMINE, PAIR_HEALTHY, NO, A(note_pair_healthy), NORMAL),
    ROW(REEXAMINE, STANDBY_LOST, NO, NO, STANDBY_DOWN),
    ROW(REEXAMINE, STANDBY_PRESENT, NO, NO, STANDBY_DOWN),
    ROW(REEXAMINE, ACTIVE_LOST, NO, A(fail_over), ACTIVE_DOWN),
    ROW(REEXAMINE, BOTH_LOST, G(usable_found), A(adopt_usable), CONFIGURING_ACTIVE),
    ROW(REEXAMINE, BOTH_LOST, NO, NO, MANUAL),

    {FSM_ANY, TTC_EV_STOP_MANAGING, NO, A(cancel_work), TTC_ST_MANUAL},
    {FSM_ANY, TTC_EV_UPGRADE_FAILED, NO, A(cancel_work), TTC_ST_MANUAL},
};

#define BIT(s) (1ULL << TTC_ST_##s)

const struct fsm_table pair_table = {
    .name = "activeStandbyPair",
    .rows = pair_rows,
    .nrows = sizeof(pair_rows) / sizeof(pair_rows[0]),
    .state_names = ttc_state_names,
    .nstates = TTC_NSTATES,
    .event_names = ttc_event_names,
    .nevents = TTC_NEVENTS,
    .initial = TTC_ST_NEW,
    .states = BIT(NEW) | BIT(INITIALIZING) | BIT(NORMAL) | BIT(ACTIVE_DOWN) | BIT(ACTIVE_TAKEOVER) |
              BIT(STANDBY_DOWN) | BIT(STANDBY_STARTING) | BIT(STANDBY_CATCHUP) | BIT(BOTH_DOWN) |
              BIT(WAITING_FOR_ACTIVE) | BIT(CONFIGURING_ACTIVE) | BIT(MANUAL) | BIT(REEXAMINE) |
              BIT(FAILED),
    .terminal = BIT(FAILED),
};

/* The situation. */

/* What the active's agent says of its peer, when it says: "failed" after a take-over
 * until the standby is duplicated again (o->peer_failed). */
static void
note_peer_state(struct ttc_object *o, int a)
{
	const struct pod_view *p = &o->pods[a];

	if (!p->reachable || p->st.rep_state != REP_ACTIVE ||
	    strcmp(p->st.rep_peer, "Unknown") == 0)
		return;
	o->peer_failed = strcasecmp(p->st.rep_peer, "failed") == 0;
}

/* Whether every pod has been heard from since the operator started is the controller's
 * to know; this classifies the two against their intended roles. */
static int
pair_situation(struct ttc_object *o, time_t now)
{
	int a = o->active, s = a == 0 ? 1 : 0;
	enum pod_class ca, cs;

	if (a < 0)
		return TTC_EV_UNSETTLED;
	ca = object_pod_class(o, a, now);
	cs = object_pod_class(o, s, now);
	if (ca == POD_HEALTHY && o->pods[a].role == ROLE_ACTIVE)
		o->serving = a; /* the one to prefer after losing both */
	note_peer_state(o, a);
	if (cs == POD_HEALTHY && o->peer_failed)
		cs = POD_AVAILABLE; /* a STANDBY the active no longer replicates to: rebuilt */
	if (ca == POD_UNKNOWN || cs == POD_UNKNOWN)
		return TTC_EV_UNSETTLED;
	if (ca == POD_HEALTHY) {
		if (cs == POD_HEALTHY) {
			o->seen_whole = 1;
			return TTC_EV_PAIR_HEALTHY;
		}
		return cs == POD_AVAILABLE ? TTC_EV_STANDBY_PRESENT : TTC_EV_STANDBY_LOST;
	}
	return cs == POD_HEALTHY ? TTC_EV_ACTIVE_LOST : TTC_EV_BOTH_LOST;
}

/* Procedures. */

/* Initializing: -0 becomes the active, -1 its duplicate and standby. */
static const struct proc_step initialize_steps[] = {
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
static const struct proc_step fail_over_steps[] = {
    STEP("fence the old active", FENCED, STEP_FENCING, fenced, "setRepState", body_idle, NULL),
    STEP("unmark the old active", FENCED, STEP_FENCING, fenced_unmarked, "clearActive", NULL, NULL),
    STEP("status names the new active", ACTIVE, STEP_WAIT, roles_recorded, NULL, NULL, NULL),
    STEP("promote the standby", ACTIVE, 0, rep_active, "setRepState", body_active, NULL),
};

/* ActiveTakeover: the active serves alone. Its peer is recorded FAILED so that it keeps
 * no logs for it and commits stop waiting for it (RETURN TWOSAFE), and it is the one the
 * Service leads to. A standby seen back as the healthy STANDBY (an operator restarted
 * from a status that still said ActiveTakeover) is not recorded FAILED: that would stop
 * its replication. */
static const struct proc_step take_over_steps[] = {
    STEP("record the standby failed", ACTIVE, 0, standby_back, "setPeerFailed", body_peer_failed,
         NULL),
    STEP("mark the active", ACTIVE, 0, marked_active, "setActive", NULL, NULL),
};

/* StandbyStarting: rebuild the standby from the active, whatever its pod held. */
static const struct proc_step build_standby_steps[] = {
    STEP("unmark the standby", STANDBY, 0, not_marked_active, "clearActive", NULL, NULL),
    STEP("instance on the standby", STANDBY, 0, instance_exists, "createInstance", NULL, NULL),
    STEP("daemon on the standby", STANDBY, 0, daemon_up, "startDaemon", NULL, NULL),
    STEP("clear the standby", STANDBY, 0, no_database, "destroyDatabase", NULL, mark_uninitialized),
    STEP("duplicate the active", STANDBY, STEP_ASYNC, duplicated, "duplicate", body_duplicate,
         mark_initialized),
    STEP("start replication on the standby", STANDBY, 0, rep_agent_running, "startRepAgent", NULL,
         NULL),
};

/* ConfiguringActive: the chosen database is loaded and made ACTIVE, once the other one is
 * proven to take no writes. */
static const struct proc_step configure_active_steps[] = {
    STEP("fence the other database", FENCED, STEP_FENCING, fenced, "setRepState", body_idle, NULL),
    STEP("unmark the other database", FENCED, STEP_FENCING, fenced_unmarked, "clearActive", NULL,
         NULL),
    STEP("daemon on the chosen pod", ACTIVE, 0, daemon_up, "startDaemon", NULL, NULL),
    STEP("load the database", ACTIVE, 0, database_loaded, "load", NULL, NULL),
    /* A database an upgrade quiesced stays closed through unload and reload. */
    STEP("open the database to users", ACTIVE, 0, database_open, "openDatabase", NULL, NULL),
    STEP("create the replication scheme", ACTIVE, 0, scheme_exists, "createRepScheme", body_scheme,
         NULL),
    STEP("status names the chosen active", ACTIVE, STEP_WAIT, roles_recorded, NULL, NULL, NULL),
    STEP("set the active ACTIVE", ACTIVE, 0, rep_active, "setRepState", body_active_anew,
         note_active_set),
    STEP("start replication on the active", ACTIVE, 0, rep_agent_running, "startRepAgent", NULL,
         NULL),
    STEP("mark the active", ACTIVE, 0, marked_active, "setActive", NULL, NULL),
};

static const struct proc initialize_proc = PROC("initialize", initialize_steps);
static const struct proc fail_over_proc = PROC("fail over", fail_over_steps);
static const struct proc take_over_proc = PROC("take over", take_over_steps);
static const struct proc build_standby_proc = PROC("build standby", build_standby_steps);
static const struct proc configure_active_proc = PROC("configure active", configure_active_steps);

static const struct proc *
pair_procedure(const struct ttc_object *o)
{
	int state = o->state;

	static const struct proc *const by_state[TTC_NSTATES] = {
	    [TTC_ST_INITIALIZING] = &initialize_proc,
	    [TTC_ST_ACTIVE_DOWN] = &fail_over_proc,
	    [TTC_ST_ACTIVE_TAKEOVER] = &take_over_proc,
	    [TTC_ST_STANDBY_STARTING] = &build_standby_proc,
	    [TTC_ST_CONFIGURING_ACTIVE] = &configure_active_proc,
	};

	if (state == TTC_ST_NORMAL)
		return upgrade_procedure(o); /* the upgrade's quiesce, when it is under way */
	return state >= 0 && state < TTC_NSTATES ? by_state[state] : NULL;
}

/* What status shows of pod i. */
static const char *
pair_pod_state(const struct ttc_object *o, int i, time_t now)
{
	const struct pod_view *p = &o->pods[i];

	if (o->state == TTC_ST_FAILED)
		return "Terminal";
	if (p->upgrade_failed)
		return "UpgradeFailed";
	switch (object_pod_class(o, i, now)) {
	case POD_HEALTHY:
		if (o->state == TTC_ST_REEXAMINE)
			return p->role == ROLE_ACTIVE ? "HealthyActive" : "HealthyStandby";
		return "Healthy";
	case POD_UNKNOWN:
		return "Unknown";
	case POD_GONE:
		return p->exists && !p->terminating ? "Unknown" : "Down";
	case POD_AVAILABLE:
		if (o->state == TTC_ST_INITIALIZING)
			return "Initializing";
		if (o->state == TTC_ST_STANDBY_CATCHUP && p->role == ROLE_STANDBY)
			return "CatchingUp";
		return "Down";
	}
	return "Unknown";
}

static int
pair_pods(const struct ttc_spec *spec)
{
	(void)spec;
	return PAIR_PODS;
}

/* The replication scheme, kept in status once made. */
static int
pair_prepare(struct ttc_object *o, char *err, size_t errlen)
{
	if (o->rep_statement == NULL)
		o->rep_statement = repscheme_statement(o->spec, o->name, o->ns, err, errlen);
	return o->rep_statement ? 0 : -1;
}

const struct topology pair_topology = {
    .name = "activeStandbyPair",
    .id = TOPO_PAIR,
    .table = &pair_table,
    .pods = pair_pods,
    .prepare = pair_prepare,
    .situation = pair_situation,
    .procedure = pair_procedure,
    .has_active = 1,
    .upgrades = 1,
    .pod_state = pair_pod_state,
};
