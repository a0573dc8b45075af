/*
 * The automatic image upgrade of an active/standby pair (see upgrade.h): the table, the
 * events read off the object and its pods, the actions, the quiesce procedure and
 * status.classicUpgradeStatus. The object's own machine does the failover and the
 * rebuilds; this one only deletes pods, quiesces the active and watches.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "objects.h"
#include "proc.h"
#include "spec.h"
#include "ttc.h"
#include "ttc/json.h"
#include "upgrade.h"

const char *const upgrade_state_names[] = {
#define X(e, name, meaning) name,
    UPGRADE_STATES(X)
#undef X
};

const char *const upgrade_event_names[] = {
#define X(e, meaning) #e,
    UPGRADE_EVENTS(X)
#undef X
};

_Static_assert(sizeof(upgrade_state_names) / sizeof(upgrade_state_names[0]) == UPG_NSTATES,
               "a name per upgrade state");
_Static_assert(sizeof(upgrade_event_names) / sizeof(upgrade_event_names[0]) == UPG_NEVENTS,
               "a name per upgrade event");

/* What the rows read. */

static int
standby_of(const struct ttc_object *o)
{
	return o->active < 0 ? -1 : o->active == 0 ? 1 : 0;
}

/* Pod i serves its role. */
static int
healthy(const struct ttc_object *o, int i)
{
	return i >= 0 && i < o->npods && object_pod_class(o, i, o->now) == POD_HEALTHY;
}

/* Pod i exists and runs the image the pods are upgraded to. */
static int
on_image(const struct ttc_object *o, int i)
{
	const struct pod_view *p = &o->pods[i];

	return p->exists && strcmp(p->image, o->up.image) == 0;
}

static void
pod_name(const struct ttc_object *o, int i, char *buf, size_t n)
{
	objects_pod_name(buf, n, o->name, i);
}

static long long
down_pod_timeout(const struct ttc_object *o)
{
	return spec_seconds(o->spec, TIMER_UPGRADE_DOWN_POD);
}

/* Guards. */

static int
strategy_manual(void *ctx)
{
	struct ttc_object *o = ctx;

	return o->spec != NULL && o->spec->image_upgrade_strategy == UPGRADE_MANUAL;
}

static int
pair_normal(void *ctx)
{
	struct ttc_object *o = ctx;

	return o->state == TTC_ST_NORMAL;
}

/* Every pod already runs the spec's image: there is nothing to upgrade. */
static int
pods_on_spec_image(void *ctx)
{
	struct ttc_object *o = ctx;

	for (int i = 0; i < o->npods; i++)
		if (!o->pods[i].exists || strcmp(o->pods[i].image, o->spec->image) != 0)
			return 0;
	return 1;
}

/* Actions. */

/* The quiesce's run is dropped when the upgrade leaves it (never the object's own). */
static void
drop_quiesce(struct ttc_object *o)
{
	if (upgrade_owns(o->run.proc))
		proc_reset(o);
}

/* The spec's image becomes the one the pods are upgraded to; the one before it is each
 * pod's prevImage, as the guide's describe shows it (on pods replaced or not yet). */
static void
take_spec_image(struct ttc_object *o)
{
	if (o->up.image[0] != '\0' && strcmp(o->up.image, o->spec->image) != 0)
		for (int i = 0; i < o->npods; i++)
			snprintf(o->pods[i].prev_image, sizeof(o->pods[i].prev_image), "%s",
			         o->up.image);
	snprintf(o->up.image, sizeof(o->up.image), "%s", o->spec->image);
}

static int
adopt_image(void *ctx)
{
	struct ttc_object *o = ctx;

	take_spec_image(o);
	o->up.pending = 0;
	return 0;
}

static int
announce_manual(void *ctx)
{
	struct ttc_object *o = ctx;

	take_spec_image(o);
	o->up.pending = 1;
	object_event(o, 0, "StateChange", "Image updated, automatic upgrade disabled");
	return 0;
}

static void
begin(struct ttc_object *o)
{
	struct upgrade_run *u = &o->up;

	u->start_time = o->now;
	u->standby_status[0] = u->active_status[0] = '\0';
	u->standby_start = u->active_start = o->now;
	u->deleted_uid[0] = '\0';
	for (int i = 0; i < o->npods; i++)
		o->pods[i].upgrade_failed = 0;
}

static int
start_upgrade(void *ctx)
{
	struct ttc_object *o = ctx;

	take_spec_image(o);
	o->up.pending = 1;
	begin(o);
	object_event(o, 0, "StateChange", "Image updated, automatic upgrade started");
	return 0;
}

static int
announce_waiting(void *ctx)
{
	struct ttc_object *o = ctx;

	take_spec_image(o);
	o->up.pending = 1;
	object_event(o, 0, "StateChange",
	             "Image updated, automatic upgrade starts once the pair is Normal (now %s)",
	             ttc_state_names[o->state]);
	return 0;
}

static int
start_pending(void *ctx)
{
	struct ttc_object *o = ctx;

	begin(o);
	object_event(o, 0, "StateChange", "Automatic upgrade to image %s started", o->up.image);
	return 0;
}

/* The upgraded pods and the image the spec asks for now: what comes next goes to it. */
static int
retarget(void *ctx)
{
	struct ttc_object *o = ctx;
	char was[256];

	snprintf(was, sizeof(was), "%s", o->up.image);
	take_spec_image(o);
	o->up.pending = 1;
	object_event(o, 0, "StateChange",
	             "Image updated to %s during the upgrade to %s: the upgrade goes on to %s once "
	             "its current step ends",
	             o->up.image, was, o->up.image);
	return 0;
}

static int
note_image_after_failure(void *ctx)
{
	struct ttc_object *o = ctx;

	take_spec_image(o);
	o->up.pending = 1;
	object_event(
	    o, 0, "StateChange",
	    "Image updated; the last upgrade failed: set resetUpgradeState to a new value to "
	    "let a new one start");
	return 0;
}

/* Deletes the standby's pod, which its StatefulSet makes again on the new image. */
static int
delete_standby(void *ctx)
{
	struct ttc_object *o = ctx;
	int s = standby_of(o);
	char pod[300];

	if (s < 0 || o->fx == NULL || o->fx->delete_pod(o, s, -1) < 0)
		return -1;
	pod_name(o, s, pod, sizeof(pod));
	snprintf(o->up.deleted_uid, sizeof(o->up.deleted_uid), "%s", o->pods[s].uid);
	snprintf(o->up.standby_status, sizeof(o->up.standby_status), "Deleted");
	o->up.standby_start = o->now;
	object_event(o, 0, "StateChange", "Deleted STANDBY pod %s per upgrade", pod);
	return 0;
}

/* The standby is back on the new image: close the active until the standby has it all. */
static int
quiesce_active(void *ctx)
{
	struct ttc_object *o = ctx;
	char pod[300];

	if (o->active < 0)
		return -1;
	pod_name(o, o->active, pod, sizeof(pod));
	snprintf(o->up.standby_status, sizeof(o->up.standby_status), "Upgraded");
	snprintf(o->up.active_status, sizeof(o->up.active_status), "Quiescing");
	o->up.active_start = o->now;
	o->pods[o->active].quiescing = 1;
	o->up.recorded = 0; /* the order waits until the status says so */
	drop_quiesce(o);    /* a new run */
	object_event(
	    o, 0, "StateChange",
	    "Quiescing ACTIVE pod %s per upgrade: closed to new connections until the standby "
	    "has acknowledged every commit",
	    pod);
	return 0;
}

/* The standby has every commit: delete the active's pod; the object fails over. */
static int
delete_active(void *ctx)
{
	struct ttc_object *o = ctx;
	char pod[300];

	if (o->active < 0 || o->fx == NULL || o->fx->delete_pod(o, o->active, -1) < 0)
		return -1;
	pod_name(o, o->active, pod, sizeof(pod));
	snprintf(o->up.deleted_uid, sizeof(o->up.deleted_uid), "%s", o->pods[o->active].uid);
	snprintf(o->up.active_status, sizeof(o->up.active_status), "Deleted");
	o->up.active_start = o->now;
	drop_quiesce(o);
	object_event(o, 0, "StateChange", "Deleted ACTIVE pod %s per upgrade", pod);
	return 0;
}

static void
end(struct ttc_object *o)
{
	struct upgrade_run *u = &o->up;

	for (int i = 0; i < o->npods; i++)
		o->pods[i].quiescing = 0;
	u->prev_state = UPG_NONE;
	u->last_switch = 0;
	u->start_time = u->standby_start = u->active_start = 0;
	u->standby_status[0] = u->active_status[0] = '\0';
	u->deleted_uid[0] = '\0';
	drop_quiesce(o);
}

static int
complete(void *ctx)
{
	struct ttc_object *o = ctx;
	long long secs = (long long)(o->now - o->up.start_time);

	object_event(o, 0, "StateChange", "Upgrade of ACTIVE complete");
	object_event(o, 0, "StateChange", "Upgrade completed in %lld secs", secs);
	end(o);
	o->up.pending = 0;
	return 0;
}

/* The upgrade stops where it stands: no pod quiescing, no quiesce running, and this image
 * change is spent (a new one may start one again). */
static void
halt(struct ttc_object *o)
{
	for (int i = 0; i < o->npods; i++)
		o->pods[i].quiescing = 0;
	drop_quiesce(o);
	o->up.pending = 0;
}

/* The step that upgrades the standby (which) or the active failed: the upgrade stops,
 * the object goes to ManualInterventionRequired with the reason. pod: the pod that did not
 * come back (its state says UpgradeFailed), or -1. */
enum failed_step { STANDBY_STEP, ACTIVE_STEP };

_Static_assert(sizeof(((struct upgrade_run *)0)->standby_status) ==
                   sizeof(((struct upgrade_run *)0)->active_status),
               "one size for both steps' status");

static void stop(struct ttc_object *o, enum failed_step which, int pod, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
stop(struct ttc_object *o, enum failed_step which, int pod, const char *fmt, ...)
{
	char *status = which == STANDBY_STEP ? o->up.standby_status : o->up.active_status;
	va_list ap;

	snprintf(status, sizeof(o->up.standby_status), "UpgradeFailed");
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
	if (pod >= 0 && pod < o->npods)
		o->pods[pod].upgrade_failed = 1;
	halt(o);
	o->up.failed_now = 1;
	object_event(o, 1, "UpgradeFailed", "%s", o->message);
}

static int
fail_standby(void *ctx)
{
	struct ttc_object *o = ctx;
	char pod[300];

	pod_name(o, standby_of(o), pod, sizeof(pod));
	stop(o, STANDBY_STEP, standby_of(o),
	     "Upgrade failed: pod %s did not come back healthy as the standby on image %s within "
	     "upgradeDownPodTimeout (%lld s); the remaining upgrade steps are cancelled, the "
	     "active serves on",
	     pod, o->up.image, down_pod_timeout(o));
	return 0;
}

static int
fail_quiesce(void *ctx)
{
	struct ttc_object *o = ctx;
	char pod[300];

	pod_name(o, o->active, pod, sizeof(pod));
	stop(o, ACTIVE_STEP, -1,
	     "Upgrade stopped: the standby did not get every commit of ACTIVE pod %s (%s); %s is "
	     "open to connections again and serves on; the remaining upgrade steps are cancelled",
	     pod, o->run.failure[0] ? o->run.failure : "no answer", pod);
	return 0;
}

static int
fail_quiesce_timeout(void *ctx)
{
	struct ttc_object *o = ctx;
	char pod[300];

	pod_name(o, o->active, pod, sizeof(pod));
	stop(o, ACTIVE_STEP, -1,
	     "Upgrade stopped: ACTIVE pod %s was not quiesced within upgradeDownPodTimeout "
	     "(%lld s); the remaining upgrade steps are cancelled; if its database stays closed "
	     "to user connections, ttAdmin -open %s in the pod opens it",
	     pod, down_pod_timeout(o), o->name);
	return 0;
}

/* After the failover the old active is the intended standby. */
static int
fail_active(void *ctx)
{
	struct ttc_object *o = ctx;
	char pod[300];

	pod_name(o, standby_of(o), pod, sizeof(pod));
	stop(o, ACTIVE_STEP, standby_of(o),
	     "Upgrade failed: pod %s (the old active) did not come back healthy as the standby on "
	     "image %s within upgradeDownPodTimeout (%lld s); the remaining upgrade steps are "
	     "cancelled, the new active serves on",
	     pod, o->up.image, down_pod_timeout(o));
	return 0;
}

static int
cancel(void *ctx)
{
	struct ttc_object *o = ctx;
	char closed[512] = "";

	/* A quiesce under way may yet close the active: say how to open it. */
	if (o->up.state == UPG_QUIESCING && o->active >= 0) {
		char pod[300];
		pod_name(o, o->active, pod, sizeof(pod));
		snprintf(closed, sizeof(closed),
		         "; ACTIVE pod %s was being quiesced: if its database stays closed to user "
		         "connections, ttAdmin -open %s in the pod opens it",
		         pod, o->name);
	}
	halt(o);
	object_event(o, 1, "UpgradeFailed",
	             "Upgrade stopped: the object is %s; the remaining upgrade steps are cancelled "
	             "and are not resumed%s",
	             ttc_state_names[o->state], closed);
	return 0;
}

static int
reset(void *ctx)
{
	struct ttc_object *o = ctx;

	end(o);
	for (int i = 0; i < o->npods; i++)
		o->pods[i].upgrade_failed = 0;
	object_event(o, 0, "StateChange",
	             "resetUpgradeState changed: the upgrade state is cleared");
	return 0;
}

static int
note_reset_ignored(void *ctx)
{
	struct ttc_object *o = ctx;

	object_event(
	    o, 0, "StateChange",
	    "resetUpgradeState changed during an upgrade: it clears a stopped upgrade only; "
	    "this one goes on");
	return 0;
}

#define ROW(from, ev, guard, action, to)                                                           \
	{                                                                                          \
		UPG_##from, UPG_EV_##ev, guard, action, UPG_##to                                   \
	}
#define SAME_ROW(from, ev, guard, action)                                                          \
	{                                                                                          \
		UPG_##from, UPG_EV_##ev, guard, action, FSM_SAME                                   \
	}
#define ANY_ROW(ev, guard, action, to)                                                             \
	{                                                                                          \
		FSM_ANY, UPG_EV_##ev, guard, action, to                                            \
	}
#define G FSM_FN
#define A FSM_FN
#define NO FSM_NONE

static const struct fsm_row upgrade_rows[] = {
    SAME_ROW(NONE, IMAGE_CHANGED, G(pods_on_spec_image), A(adopt_image)),
    SAME_ROW(NONE, IMAGE_CHANGED, G(strategy_manual), A(announce_manual)),
    ROW(NONE, IMAGE_CHANGED, G(pair_normal), A(start_upgrade), STANDBY),
    SAME_ROW(NONE, IMAGE_CHANGED, NO, A(announce_waiting)),
    ROW(NONE, PENDING, NO, A(start_pending), STANDBY),
    SAME_ROW(NONE, RESET, NO, NO),
    SAME_ROW(NONE, HANDS_OFF, NO, NO),

    /* The standby's pod is deleted and comes back on the new image. */
    SAME_ROW(STANDBY, STANDBY_OLD, NO, A(delete_standby)),
    ROW(STANDBY, STANDBY_UPGRADED, NO, A(quiesce_active), QUIESCING),
    ROW(STANDBY, ALL_UPGRADED, NO, A(complete), NONE),
    ROW(STANDBY, TIMEOUT, NO, A(fail_standby), FAILED),

    /* Procedure "quiesce": the active closed until the standby acknowledged everything. */
    ROW(QUIESCING, PROC_DONE, NO, A(delete_active), ACTIVE),
    ROW(QUIESCING, PROC_FAILED, NO, A(fail_quiesce), FAILED),
    ROW(QUIESCING, TIMEOUT, NO, A(fail_quiesce_timeout), FAILED),

    /* The object fails over to the upgraded standby; the old active comes back. */
    ROW(ACTIVE, ALL_UPGRADED, NO, A(complete), NONE),
    ROW(ACTIVE, STANDBY_UPGRADED, NO, A(quiesce_active), QUIESCING),
    ROW(ACTIVE, STANDBY_OLD, NO, A(delete_standby), STANDBY),
    ROW(ACTIVE, TIMEOUT, NO, A(fail_active), FAILED),

    ROW(FAILED, RESET, NO, A(reset), NONE),
    SAME_ROW(FAILED, IMAGE_CHANGED, NO, A(note_image_after_failure)),
    SAME_ROW(FAILED, HANDS_OFF, NO, NO),

    ANY_ROW(IMAGE_CHANGED, NO, A(retarget), FSM_SAME),
    ANY_ROW(RESET, NO, A(note_reset_ignored), FSM_SAME),
    ANY_ROW(HANDS_OFF, NO, A(cancel), UPG_FAILED),
};

#define BIT(s) (1ULL << UPG_##s)

const struct fsm_table upgrade_table = {
    .name = "upgrade",
    .rows = upgrade_rows,
    .nrows = sizeof(upgrade_rows) / sizeof(upgrade_rows[0]),
    .state_names = upgrade_state_names,
    .nstates = UPG_NSTATES,
    .event_names = upgrade_event_names,
    .nevents = UPG_NEVENTS,
    .initial = UPG_NONE,
    .states = BIT(NONE) | BIT(STANDBY) | BIT(QUIESCING) | BIT(ACTIVE) | BIT(FAILED),
    .terminal = 0,
};

/* The quiesce: one order to the active, bounded on the agent's side. */

static char *
body_quiesce(const struct ttc_object *o, int pod)
{
	long long wait = down_pod_timeout(o);
	long long post_limit = spec_seconds(o->spec, TIMER_AGENT_POST);
	char *b = malloc(48);

	(void)pod;
	/* The order must end before its request times out. */
	if (post_limit > 10 && wait > post_limit - 5)
		wait = post_limit - 5;
	if (wait < 1)
		wait = 1;
	if (b != NULL)
		snprintf(b, 48, "{\"waitSeconds\":%lld}", wait);
	return b;
}

static const struct proc_step quiesce_steps[] = {
    STEP("quiesce the active", ACTIVE, 0, NULL, "quiesce", body_quiesce, NULL),
};

static const struct proc quiesce_proc = PROC("quiesce", quiesce_steps);

const struct proc *
upgrade_procedure(const struct ttc_object *o)
{
	/* Written before it is done: an operator restarted after the active was closed must
	 * know that it is being quiesced (a closed active serves only then). */
	/* Only the active chosen to be quiesced: after a failover the new one is not. */
	return o->up.state == UPG_QUIESCING && o->state == TTC_ST_NORMAL && o->up.recorded &&
	               o->active >= 0 && o->pods[o->active].quiescing
	           ? &quiesce_proc
	           : NULL;
}

int
upgrade_owns(const struct proc *p)
{
	return p == &quiesce_proc;
}

/* Events. */

/* When the step under way runs out of time, or 0. */
static time_t
step_deadline(const struct ttc_object *o)
{
	const struct upgrade_run *u = &o->up;
	time_t from = u->state == UPG_STANDBY  ? u->standby_start
	              : u->state == UPG_ACTIVE ? u->active_start
	                                       : u->last_switch;

	if (u->state == UPG_NONE || u->state == UPG_FAILED || from == 0)
		return 0;
	return spec_deadline(o->spec, TIMER_UPGRADE_DOWN_POD, from);
}

/* Fires one event; 1 when a row took it. */
static int
fire(struct ttc_object *o, int event)
{
	const struct fsm_row *row;
	int to = fsm_step(&upgrade_table, o->up.state, event, o, &row);

	if (to < 0)
		return 0;
	if (to != o->up.state) {
		o->up.prev_state = o->up.state;
		o->up.last_switch = o->now;
		o->up.state = to;
	}
	return 1;
}

/* The image the pods are upgraded to, when not known (an object made by an operator
 * that did not keep it): the one every pod runs, else the spec's. */
static void
learn_image(struct ttc_object *o)
{
	const char *img = NULL;

	if (o->up.image[0] != '\0' || o->spec == NULL)
		return;
	for (int i = 0; i < o->npods; i++) {
		if (!o->pods[i].exists || o->pods[i].image[0] == '\0' ||
		    (img != NULL && strcmp(img, o->pods[i].image) != 0)) {
			img = NULL;
			break;
		}
		img = o->pods[i].image;
	}
	snprintf(o->up.image, sizeof(o->up.image), "%s", img ? img : o->spec->image);
}

/* The next event, in order of precedence, skipping those in skip (a bit each). */
static int
next_event(struct ttc_object *o, unsigned skip)
{
	struct upgrade_run *u = &o->up;
	int a = o->active, s = standby_of(o);
	time_t deadline;

#define CAN(ev) (!(skip & (1u << UPG_EV_##ev)))
	if (CAN(RESET) && u->reset)
		return UPG_EV_RESET;
	if (CAN(HANDS_OFF) && ttc_state_hands_off(o->state))
		return UPG_EV_HANDS_OFF;
	if (ttc_state_hands_off(o->state) || o->spec == NULL || !u->template_ready || a < 0)
		return -1;
	if (CAN(IMAGE_CHANGED) && strcmp(u->image, o->spec->image) != 0)
		return UPG_EV_IMAGE_CHANGED;
	if (CAN(TIMEOUT) && (deadline = step_deadline(o)) != 0) {
		if (o->now >= deadline)
			return UPG_EV_TIMEOUT;
		if (o->wake_at == 0 || o->wake_at > deadline)
			o->wake_at = deadline;
	}
	if (CAN(ALL_UPGRADED) && healthy(o, a) && healthy(o, s) && on_image(o, a) && on_image(o, s))
		return UPG_EV_ALL_UPGRADED;
	/* The active deleted for the upgrade stays until the failover: not one to quiesce. */
	if (CAN(STANDBY_UPGRADED) && o->state == TTC_ST_NORMAL && healthy(o, a) && healthy(o, s) &&
	    on_image(o, s) && !on_image(o, a) && strcmp(o->pods[a].uid, u->deleted_uid) != 0)
		return UPG_EV_STANDBY_UPGRADED;
	/* The standby goes only while the active serves: never the last database serving. */
	if (CAN(STANDBY_OLD) && healthy(o, a) && o->pods[s].exists && !o->pods[s].terminating &&
	    o->pods[s].image[0] != '\0' && !on_image(o, s) &&
	    strcmp(o->pods[s].uid, u->deleted_uid) != 0)
		return UPG_EV_STANDBY_OLD;
	if (CAN(PENDING) && u->pending && o->state == TTC_ST_NORMAL && o->spec != NULL &&
	    o->spec->image_upgrade_strategy == UPGRADE_AUTO && !(on_image(o, a) && on_image(o, s)))
		return UPG_EV_PENDING;
#undef CAN
	return -1;
}

static int
run(struct ttc_object *o, int first)
{
	unsigned skip = 0;

	o->up.failed_now = 0;
	for (int pod = 0; pod < o->npods; pod++)
		if (o->pods[pod].upgrade_failed && healthy(o, pod) && o->up.state != UPG_FAILED)
			o->pods[pod].upgrade_failed = 0;
	if (first >= 0 && fire(o, first))
		return o->up.failed_now;
	learn_image(o);
	for (int n = 0; n < 8; n++) {
		int ev = next_event(o, skip);

		if (ev < 0)
			break;
		if (!fire(o, ev)) {
			skip |= 1u << ev; /* nothing listens to it here: try the next one */
			continue;
		}
		if (ev == UPG_EV_RESET)
			o->up.reset = 0;
		skip = 1u << ev; /* taken; the next may follow from what it did */
		if (o->up.failed_now)
			break;
	}
	o->up.reset = 0;
	return o->up.failed_now;
}

int
upgrade_step(struct ttc_object *o)
{
	return run(o, -1);
}

int
upgrade_proc_ended(struct ttc_object *o, int ok)
{
	return run(o, ok ? UPG_EV_PROC_DONE : UPG_EV_PROC_FAILED);
}

/* Status. */

void
upgrade_status(struct jw *w, const struct ttc_object *o)
{
	const struct upgrade_run *u = &o->up;

	jw_key(w, "classicUpgradeStatus");
	jw_obj(w);
	jw_kstr(w, "upgradeState", u->state == UPG_NONE ? "" : upgrade_state_names[u->state]);
	jw_kstr(w, "prevUpgradeState",
	        u->prev_state == UPG_NONE ? "" : upgrade_state_names[u->prev_state]);
	jw_kbool(w, "imageUpdatePending", u->pending);
	jw_kint(w, "upgradeStartTime", (long long)u->start_time);
	jw_kint(w, "lastUpgradeStateSwitch", (long long)u->last_switch);
	jw_kstr(w, "standbyStatus", u->standby_status);
	jw_kint(w, "standbyStartTime", (long long)u->standby_start);
	jw_kstr(w, "activeStatus", u->active_status);
	jw_kint(w, "activeStartTime", (long long)u->active_start);
	jw_kstr(w, "prevResetUpgradeState", u->prev_reset ? u->prev_reset : "");
	jw_kstr(w, "image", u->image);
	jw_kstr(w, "deletedPodUID", u->deleted_uid);
	jw_obj_end(w);
}

static int
state_named(const char *name)
{
	if (name == NULL || *name == '\0')
		return UPG_NONE;
	for (int s = 0; s < UPG_NSTATES; s++)
		if (strcmp(upgrade_state_names[s], name) == 0)
			return s;
	return UPG_NONE;
}

static void
restore_str(char *buf, size_t n, yajl_val v, const char *key)
{
	const char *s = json_str(v, key, NULL);

	snprintf(buf, n, "%s", s ? s : "");
}

static time_t
restore_time(yajl_val v, const char *key)
{
	long long t = 0;

	json_int(v, &t, key, NULL);
	return (time_t)t;
}

void
upgrade_restore(struct ttc_object *o, yajl_val v)
{
	struct upgrade_run *u = &o->up;
	const char *prev_reset = json_str(v, "prevResetUpgradeState", NULL);

	if (v == NULL)
		return;
	u->state = state_named(json_str(v, "upgradeState", NULL));
	u->prev_state = state_named(json_str(v, "prevUpgradeState", NULL));
	u->pending = json_bool(v, "imageUpdatePending", NULL) == 1;
	u->start_time = restore_time(v, "upgradeStartTime");
	u->last_switch = restore_time(v, "lastUpgradeStateSwitch");
	restore_str(u->standby_status, sizeof(u->standby_status), v, "standbyStatus");
	u->standby_start = restore_time(v, "standbyStartTime");
	restore_str(u->active_status, sizeof(u->active_status), v, "activeStatus");
	u->active_start = restore_time(v, "activeStartTime");
	restore_str(u->image, sizeof(u->image), v, "image");
	restore_str(u->deleted_uid, sizeof(u->deleted_uid), v, "deletedPodUID");
	u->recorded = u->state == UPG_QUIESCING; /* read from the status: it is written */
	if (prev_reset != NULL) {
		free(u->prev_reset);
		u->prev_reset = strdup(prev_reset);
	}
}
