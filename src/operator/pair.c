/*
 * The state machine of an active/standby pair: the table that is the machine, and the
 * guards and actions its rows name. Actions only record decisions and start work; the
 * work itself is the procedure of the state entered (see proc.c), whose end is an event.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "fsm.h"
#include "object.h"
#include "pair.h"
#include "ttc.h"

/* Guards. */

/* BothDown: the database that is ahead is known, or the policy lets us pick the best. */
static int
can_choose(void *ctx)
{
	struct ttc_object *o = ctx;

	return o->ahead >= 0 || o->spec == NULL || o->spec->both_down_behavior == BOTHDOWN_BEST;
}

/* WaitingForActive: the chosen pod's agent answers, so it can be configured. */
static int
chosen_reachable(void *ctx)
{
	struct ttc_object *o = ctx;

	return o->active >= 0 && o->pods[o->active].reachable;
}

/* ConfiguringActive failed: the other pod holds a database not tried yet. */
static int
other_candidate(void *ctx)
{
	return object_other_candidate(ctx) >= 0;
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
	return object_usable_database(ctx) >= 0;
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

	o->rebuild_failures = 0;
	o->rebuild_at = 0;
	return 0;
}

/* Leaving ActiveDown: the old active is fenced (or the attempt is over). */
static int
forget_fence(void *ctx)
{
	struct ttc_object *o = ctx;

	o->fence = -1;
	o->fence_uid[0] = '\0';
	return 0;
}

static int
choose_active(void *ctx)
{
	struct ttc_object *o = ctx;

	o->tried = 0;
	object_set_roles(o, object_choose_ahead(o));
	return 0;
}

static int
choose_other(void *ctx)
{
	object_set_roles(ctx, object_other_candidate(ctx));
	return 0;
}

static int
adopt_usable(void *ctx)
{
	object_set_roles(ctx, object_usable_database(ctx));
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
    ROW(STANDBY_DOWN, PAIR_HEALTHY, NO, NO, NORMAL),
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
    ROW(BOTH_DOWN, ENTER, NO, NO, MANUAL),

    ROW(WAITING_FOR_ACTIVE, BOTH_LOST, G(chosen_reachable), NO, CONFIGURING_ACTIVE),
    ROW(WAITING_FOR_ACTIVE, PAIR_HEALTHY, NO, NO, NORMAL),
    ROW(WAITING_FOR_ACTIVE, STANDBY_LOST, NO, NO, STANDBY_DOWN),
    ROW(WAITING_FOR_ACTIVE, STANDBY_PRESENT, NO, NO, STANDBY_DOWN),
    ROW(WAITING_FOR_ACTIVE, ACTIVE_LOST, NO, A(fail_over), ACTIVE_DOWN),
    ROW(WAITING_FOR_ACTIVE, TIMEOUT, NO, NO, MANUAL),

    /* Procedure "configure active": load the chosen database and make it ACTIVE. */
    ROW(CONFIGURING_ACTIVE, PROC_DONE, NO, NO, STANDBY_DOWN),
    ROW(CONFIGURING_ACTIVE, PROC_FAILED, G(other_candidate), A(choose_other), WAITING_FOR_ACTIVE),
    ROW(CONFIGURING_ACTIVE, PROC_FAILED, NO, NO, MANUAL),

    ROW(MANUAL, REEXAMINE, NO, NO, REEXAMINE),

    ROW(REEXAMINE, PAIR_HEALTHY, NO, NO, NORMAL),
    ROW(REEXAMINE, STANDBY_LOST, NO, NO, STANDBY_DOWN),
    ROW(REEXAMINE, STANDBY_PRESENT, NO, NO, STANDBY_DOWN),
    ROW(REEXAMINE, ACTIVE_LOST, NO, A(fail_over), ACTIVE_DOWN),
    ROW(REEXAMINE, BOTH_LOST, G(usable_found), A(adopt_usable), CONFIGURING_ACTIVE),
    ROW(REEXAMINE, BOTH_LOST, NO, NO, MANUAL),

    {FSM_ANY, TTC_EV_STOP_MANAGING, NO, A(cancel_work), TTC_ST_MANUAL},
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
