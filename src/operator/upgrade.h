/*
 * The automatic image upgrade of an active/standby pair: its own state machine beside the
 * object's. When .spec.ttspec.image changes (imageUpgradeStrategy Auto), the standby's pod
 * is deleted and comes back on the new image, is duplicated and catches up; then the
 * active is quiesced (closed to connections until the standby has acknowledged every
 * commit) and its pod deleted, so that the standby takes over with nothing lost and the
 * old active comes back on the new image as the standby. Every wait is bounded by
 * upgradeDownPodTimeout; a step that fails stops the upgrade and puts the object in
 * ManualInterventionRequired. Kept in status.classicUpgradeStatus, so that a restarted
 * operator goes on where it stood.
 */
#ifndef UPGRADE_H
#define UPGRADE_H

#include <time.h>

#include <yajl/yajl_tree.h>

#include "fsm.h"

struct ttc_object;
struct proc;
struct jw;

/* X(enum, name in status and drawings, meaning). status shows "" for None. */
#define UPGRADE_STATES(X)                                                                          \
	X(NONE, "None", "no upgrade under way")                                                    \
	X(STANDBY, "UpgradingStandby", "the standby's pod deleted; waiting for it on the new image") \
	X(QUIESCING, "QuiescingActive",                                                            \
	  "the active closed to connections until the standby has every commit")                   \
	X(ACTIVE, "UpgradingActive",                                                               \
	  "the active's pod deleted; waiting for the failover and its return as standby")          \
	X(FAILED, "Failed", "stopped: a step failed; resetUpgradeState clears it")

enum upgrade_state {
#define X(e, name, meaning) UPG_##e,
	UPGRADE_STATES(X)
#undef X
	    UPG_NSTATES
};

#define UPGRADE_EVENTS(X)                                                                          \
	X(IMAGE_CHANGED, "the spec's image is not the one the pods are upgraded to")               \
	X(PENDING, "an image update waits, the strategy is Auto and the pair is Normal")           \
	X(STANDBY_OLD, "the standby's pod runs another image")                                     \
	X(STANDBY_UPGRADED, "Normal, the standby serving on the new image, the active not")        \
	X(ALL_UPGRADED, "both pods serving their roles on the new image")                          \
	X(PROC_DONE, "the quiesce ended: the standby has every commit")                            \
	X(PROC_FAILED, "the quiesce failed; the active is open to connections again")              \
	X(TIMEOUT, "upgradeDownPodTimeout passed in the step")                                     \
	X(HANDS_OFF, "the object is in a hands-off state")                                         \
	X(RESET, "resetUpgradeState changed")

enum upgrade_event {
#define X(e, meaning) UPG_EV_##e,
	UPGRADE_EVENTS(X)
#undef X
	    UPG_NEVENTS
};

extern const char *const upgrade_state_names[];
extern const char *const upgrade_event_names[];
extern const struct fsm_table upgrade_table;

/*
 * Steps the upgrade machine of a pair at o->now, from what is observed of its pods and
 * the object's state. Returns 1 when the upgrade failed in this step: the caller then
 * fires TTC_EV_UPGRADE_FAILED at the object (o->message says why).
 */
int upgrade_step(struct ttc_object *o);
/* Its procedure's end (the quiesce): ok 1 done, 0 failed. The same as upgrade_step. */
int upgrade_proc_ended(struct ttc_object *o, int ok);
/* The procedure the upgrade runs now (while the object is Normal), or NULL. */
const struct proc *upgrade_procedure(const struct ttc_object *o);
/* Whether p is one of the upgrade's procedures. */
int upgrade_owns(const struct proc *p);

/* status.classicUpgradeStatus: written into w (an object member), and read back. */
void upgrade_status(struct jw *w, const struct ttc_object *o);
void upgrade_restore(struct ttc_object *o, yajl_val classic_upgrade_status);

#endif
