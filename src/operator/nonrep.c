/*
 * The non-replicated topology (replicationTopology none): `replicas` pods, each holding a
 * database of its own, made from the same metadata and never replicated. Its state is the
 * count of pods whose database serves (loaded, updatable, its readiness file there); the
 * work is to bring up, one pod at a time, every pod whose database does not: instance,
 * daemon, database (made once, or kept when its volume already holds one), load, ready.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fsm.h"
#include "object.h"
#include "objects.h"
#include "proc.h"
#include "steps.h"
#include "topology.h"
#include "ttc.h"

/* A pod's database serves: loaded, updatable, and the pod marked ready for the Service.
 * Nothing more is for the operator to do on it. */
static int
serving(const struct ttc_object *o, int i)
{
	const struct agent_state *st = &o->pods[i].st;

	return st->daemon == DAEMON_UP && st->db == DB_LOADED && st->updatable == UPDATABLE_YES &&
	       st->ready_marker;
}

/* ... and Kubernetes counts it Ready (its readiness probe saw the mark): a replica ready. */
static int
ready(const struct ttc_object *o, int i)
{
	return serving(o, i) && o->pods[i].ready;
}

/* Whether a procedure is under way (its target must not change under it). */
static int
run_under_way(const struct ttc_object *o)
{
	return o->run.proc != NULL && !o->run.reported;
}

/* Actions. */

static int
begin(void *ctx)
{
	struct ttc_object *o = ctx;

	o->target = -1;
	return 0;
}

static int
report_invalid_spec(void *ctx)
{
	object_report_invalid_spec(ctx);
	return 0;
}

static int pod_failed(void *ctx);

/* A pod is up: the next one that needs it is chosen at once. Every step done and still not
 * serving (a database that stays not updatable) is a failure, tried again later. */
static int
next_pod(void *ctx)
{
	struct ttc_object *o = ctx;

	if (o->target >= 0 && o->target < o->npods && !serving(o, o->target)) {
		char pod[300];
		objects_pod_name(pod, sizeof(pod), o->name, o->target);
		object_event(o, 1, "ProcedureFailed",
		             "Pod %s: every step is done and its database does not serve (not "
		             "updatable?); trying again later",
		             pod);
		return pod_failed(ctx);
	}
	object_cancel_work(o);
	o->target = -1;
	o->rebuild_failures = 0;
	o->rebuild_at = 0;
	o->wake_at = o->now;
	return 0;
}

/* A pod could not be brought up: the next try waits 2, 4, 8 ... up to 60 seconds. */
static int
pod_failed(void *ctx)
{
	struct ttc_object *o = ctx;
	int n = o->rebuild_failures < 5 ? o->rebuild_failures : 5;

	object_cancel_work(o);
	o->target = -1;
	o->rebuild_failures++;
	o->rebuild_at = o->now + (2 << n > 60 ? 60 : 2 << n);
	o->wake_at = o->rebuild_at;
	return 0;
}

static int
cancel_work(void *ctx)
{
	struct ttc_object *o = ctx;

	object_cancel_work(o);
	o->target = -1;
	return 0;
}

#define ROW(from, ev, guard, action, to)                                                           \
	{                                                                                          \
		TTC_ST_##from, TTC_EV_##ev, guard, action, TTC_ST_##to                             \
	}
#define SAME_ROW(from, ev, action)                                                                 \
	{                                                                                          \
		TTC_ST_##from, TTC_EV_##ev, NULL, NULL, action, FSM_SAME                           \
	}
#define A FSM_FN
#define NO FSM_NONE

static const struct fsm_row nonrep_rows[] = {
    ROW(NEW, CREATE, NO, A(begin), INITIALIZING),
    ROW(NEW, SPEC_INVALID, NO, A(report_invalid_spec), FAILED),

    /* Procedure "bring up a pod", once per pod, until all serve. */
    ROW(INITIALIZING, ALL_READY, NO, NO, ALL_READY),
    SAME_ROW(INITIALIZING, PROC_DONE, A(next_pod)),
    ROW(INITIALIZING, PROC_FAILED, NO, NO, FAILED),

    ROW(ALL_READY, SOME_READY, NO, NO, SOME_READY),
    ROW(ALL_READY, NONE_READY, NO, NO, NO_READY),

    /* Procedure "bring up a pod" for each pod that does not serve. */
    ROW(SOME_READY, ALL_READY, NO, NO, ALL_READY),
    ROW(SOME_READY, NONE_READY, NO, NO, NO_READY),
    SAME_ROW(SOME_READY, PROC_DONE, A(next_pod)),
    SAME_ROW(SOME_READY, PROC_FAILED, A(pod_failed)),

    ROW(NO_READY, ALL_READY, NO, NO, ALL_READY),
    ROW(NO_READY, SOME_READY, NO, NO, SOME_READY),
    SAME_ROW(NO_READY, PROC_DONE, A(next_pod)),
    SAME_ROW(NO_READY, PROC_FAILED, A(pod_failed)),

    ROW(MANUAL, REEXAMINE, NO, NO, REEXAMINE),

    /* Management resumes: the pods are counted, and those that do not serve are brought up. */
    ROW(REEXAMINE, ALL_READY, NO, NO, ALL_READY),
    ROW(REEXAMINE, SOME_READY, NO, NO, SOME_READY),
    ROW(REEXAMINE, NONE_READY, NO, NO, NO_READY),

    {FSM_ANY, TTC_EV_STOP_MANAGING, NO, A(cancel_work), TTC_ST_MANUAL},
};

#define BIT(s) (1ULL << TTC_ST_##s)

static const struct fsm_table nonrep_table = {
    .name = "none",
    .rows = nonrep_rows,
    .nrows = sizeof(nonrep_rows) / sizeof(nonrep_rows[0]),
    .state_names = ttc_state_names,
    .nstates = TTC_NSTATES,
    .event_names = ttc_event_names,
    .nevents = TTC_NEVENTS,
    .initial = TTC_ST_NEW,
    .states = BIT(NEW) | BIT(INITIALIZING) | BIT(ALL_READY) | BIT(SOME_READY) | BIT(NO_READY) |
              BIT(MANUAL) | BIT(REEXAMINE) | BIT(FAILED),
    .terminal = BIT(FAILED),
};

/*
 * A pod back on a new image (deleted by the user, or rolled by the StatefulSet) must be
 * ready again within upgradeDownPodTimeout; one that is not is reported once (a Warning
 * Event, nonRepUpgradeFailed in its status). Kubernetes stops a rolling update there by
 * itself; the other pods serve on.
 */
static void
watch_upgrade(struct ttc_object *o, int i, time_t now)
{
	struct pod_view *p = &o->pods[i];
	char pod[300];
	time_t deadline;

	objects_pod_name(pod, sizeof(pod), o->name, i);
	if (ready(o, i)) {
		if (p->upgrade_failed)
			object_event(o, 0, "Upgrade", "Pod %s is ready on image %s", pod, p->image);
		p->upgrade_failed = 0;
		p->down_since = 0;
		if (*p->image)
			snprintf(p->served_image, sizeof(p->served_image), "%s", p->image);
		return;
	}
	if (p->down_since == 0)
		p->down_since = now;
	if (p->upgrade_failed || !*p->served_image || !*p->image ||
	    strcmp(p->image, p->served_image) == 0)
		return;
	deadline = spec_deadline(o->spec, TIMER_UPGRADE_DOWN_POD, p->down_since);
	if (deadline == 0)
		return;
	if (now < deadline) {
		if (o->wake_at == 0 || o->wake_at > deadline)
			o->wake_at = deadline;
		return;
	}
	p->upgrade_failed = 1;
	object_event(o, 1, "UpgradeFailed",
	             "Pod %s is not ready on image %s within upgradeDownPodTimeout (%lld s); the "
	             "upgrade stops there, the other pods serve on",
	             pod, p->image, spec_seconds(o->spec, TIMER_UPGRADE_DOWN_POD));
}

/*
 * The count of ready pods gives the event; nothing is said while a pod is unknown. On the
 * way, the pod to bring up next is chosen (the first that answers and does not serve)
 * unless a procedure is under way, or a failed one asks to wait.
 */
static int
nonrep_situation(struct ttc_object *o, time_t now)
{
	int nready = 0, unknown = 0, next = -1;

	for (int i = 0; i < o->npods; i++) {
		enum pod_class c = object_pod_presence(o, i, now);

		watch_upgrade(o, i, now);
		if (c == POD_UNKNOWN)
			unknown++;
		else if (c == POD_AVAILABLE && ready(o, i))
			nready++;
		else if (c == POD_AVAILABLE && !serving(o, i) && next < 0)
			next = i;
	}
	/* A pod being brought up that went away: work on another meanwhile. */
	if (run_under_way(o) && o->target >= 0 && o->target < o->npods &&
	    object_pod_presence(o, o->target, now) == POD_GONE) {
		object_cancel_work(o);
		o->target = -1;
	}
	if (!run_under_way(o) && next != o->target) {
		if (next >= 0 && now < o->rebuild_at) {
			next = -1;
			o->wake_at = o->rebuild_at;
		}
		o->target = next;
		if (next >= 0)
			o->wake_at = now; /* start on it at once */
	}
	if (unknown)
		return TTC_EV_UNSETTLED;
	return nready == o->npods ? TTC_EV_ALL_READY
	       : nready           ? TTC_EV_SOME_READY
	                          : TTC_EV_NONE_READY;
}

/* Bring up one pod: whatever it lacks, in order; a database is made once, never again. */
static const struct proc_step bring_up_steps[] = {
    STEP("instance", POD, 0, instance_exists, "createInstance", NULL, NULL),
    STEP("daemon", POD, 0, daemon_up, "startDaemon", NULL, NULL),
    STEP("clear a half-made database", POD, 0, no_half_made_database, "destroyDatabase", NULL,
         mark_uninitialized),
    STEP("create the database", POD, 0, created_or_found, "createDatabase", body_dsn_solo,
         mark_creating),
    STEP("create the admin user", POD, 0, no_admin_user_to_make, "createAdminUser", NULL, NULL),
    STEP("run schema.sql", POD, 0, not_being_created, "runSchema", NULL, NULL),
    STEP("run epilog.sql", POD, 0, not_being_created, "runEpilog", NULL, mark_initialized),
    STEP("keep the database found on its volume", POD, STEP_NOTE, initialized, NULL, NULL,
         keep_found_database),
    STEP("load the database", POD, 0, database_loaded, "load", NULL, NULL),
    STEP("mark the pod ready", POD, 0, marked_ready, "setReady", NULL, NULL),
};

static const struct proc bring_up_proc = PROC("bring up a pod", bring_up_steps);

static const struct proc *
nonrep_procedure(const struct ttc_object *o)
{
	if (o->target < 0 || o->target >= o->npods)
		return NULL;
	switch (o->state) {
	case TTC_ST_INITIALIZING:
	case TTC_ST_SOME_READY:
	case TTC_ST_NO_READY:
		return &bring_up_proc;
	default:
		return NULL;
	}
}

/* The pod states Oracle's table gives non-replicated pods. */
static const char *
nonrep_pod_state(const struct ttc_object *o, int i, time_t now)
{
	const struct pod_view *p = &o->pods[i];

	switch (o->state) {
	case TTC_ST_FAILED:
		return "Terminal";
	case TTC_ST_MANUAL:
		return "ManualInterventionRequired";
	case TTC_ST_REEXAMINE:
		return "Reexamine";
	default:
		break;
	}
	switch (object_pod_presence(o, i, now)) {
	case POD_UNKNOWN:
		return "Unknown";
	case POD_GONE:
		return p->exists && !p->terminating ? "Unknown" : "Down";
	default:
		break;
	}
	if (ready(o, i))
		return "Normal";
	return o->state == TTC_ST_INITIALIZING || o->target == i ? "Initializing" : "Down";
}

static int
nonrep_pods(const struct ttc_spec *spec)
{
	return spec ? (int)spec->replicas : 1;
}

static int
nonrep_prepare(struct ttc_object *o, char *err, size_t errlen)
{
	(void)o;
	(void)err;
	(void)errlen;
	return 0;
}

const struct topology nonrep_topology = {
    .name = "none",
    .id = TOPO_NONE,
    .table = &nonrep_table,
    .pods = nonrep_pods,
    .prepare = nonrep_prepare,
    .situation = nonrep_situation,
    .procedure = nonrep_procedure,
    .has_active = 0,
    .pod_state = nonrep_pod_state,
};
