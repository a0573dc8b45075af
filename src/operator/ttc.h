/*
 * The operator's view of one TimesTenClassic object: its high-level state, the events
 * that move it, and what is observed of each of its pods.
 */
#ifndef TTC_H
#define TTC_H

#include <time.h>

/*
 * Object high-level states, as users read them in .status.highLevelState, with what every
 * part of the operator needs to know of each: X(enum, name, properties, time limit,
 * meaning). Properties:
 *   W  its state-change Event is a Warning;
 *   C  the pods are polled closely (every TTC_POLL_CLOSELY_MS, not every pollingInterval):
 *      the object is changing and its next step waits on what the pods say;
 *   H  hands off: the pods are not polled and no situation is acted on.
 * The time limit is the spec timer (enum spec_timer) bounding the stay, or NO_LIMIT; past
 * it the state gets the TIMEOUT event. Which procedure a state runs depends on the
 * topology (see topology.h). "Transient" states are left by the operator's own work.
 */
#define TTC_STATES(X)                                                                              \
	X(NEW, "New", C, NO_LIMIT, "seen, not set up yet (no status)")                             \
	X(INITIALIZING, "Initializing", C, NO_LIMIT,                                               \
	  "objects made; the databases are being built")                                           \
	X(NORMAL, "Normal", 0, NO_LIMIT, "active and standby healthy")                             \
	X(ACTIVE_DOWN, "ActiveDown", W | C, NO_LIMIT,                                              \
	  "transient: active lost; fencing it, promoting standby")                                 \
	X(ACTIVE_TAKEOVER, "ActiveTakeover", W | C, NO_LIMIT,                                      \
	  "transient: new active taking over its duties")                                          \
	X(STANDBY_DOWN, "StandbyDown", 0, NO_LIMIT, "active only; waiting to rebuild the standby") \
	X(STANDBY_STARTING, "StandbyStarting", C, NO_LIMIT,                                        \
	  "standby being duplicated and started")                                                  \
	X(STANDBY_CATCHUP, "StandbyCatchup", C, TIMER_REP_STATE,                                   \
	  "new standby applying the active's backlog")                                             \
	X(BOTH_DOWN, "BothDown", W | C, NO_LIMIT,                                                  \
	  "neither database healthy; choosing the one to make active")                             \
	X(WAITING_FOR_ACTIVE, "WaitingForActive", 0, TIMER_WAITING_FOR_ACTIVE,                     \
	  "waiting for the chosen database's pod")                                                 \
	X(CONFIGURING_ACTIVE, "ConfiguringActive", C, NO_LIMIT,                                    \
	  "transient: making the chosen one active")                                               \
	X(MANUAL, "ManualInterventionRequired", W | H, NO_LIMIT, "hands off: a person must act")   \
	X(REEXAMINE, "Reexamine", C, NO_LIMIT,                                                     \
	  "transient: looking for a usable database after reexamine")                              \
	X(FAILED, "Failed", W | H, NO_LIMIT,                                                       \
	  "initialisation failed; delete and recreate the object")                                 \
	X(ALL_READY, "AllReplicasReady", 0, NO_LIMIT, "non-replicated: every database serving")    \
	X(SOME_READY, "SomeReplicasReady", C, NO_LIMIT,                                            \
	  "non-replicated: some databases serving, the others being brought up")                   \
	X(NO_READY, "NoReplicasReady", W | C, NO_LIMIT,                                            \
	  "non-replicated: no database serving; bringing them up")

enum ttc_state {
#define X(e, name, props, limit, meaning) TTC_ST_##e,
	TTC_STATES(X)
#undef X
	    TTC_NSTATES
};

/* The polling period of the states marked C. */
#define TTC_POLL_CLOSELY_MS 500

/* A state's properties (see TTC_STATES). */
int ttc_state_warning(int state);
int ttc_state_polled_closely(int state);
int ttc_state_hands_off(int state);
/* The spec timer (enum spec_timer) bounding the state, or -1. */
int ttc_state_limit(int state);

/*
 * Events that drive the machines. The situation events come from a topology classifying
 * its pods after each observation: PAIR_HEALTHY … UNSETTLED for a pair, ALL_READY …
 * NONE_READY (and UNSETTLED) for non-replicated databases.
 */
#define TTC_EVENTS(X)                                                                              \
	X(CREATE, "first seen without status")                                                     \
	X(ENTER, "the state was just entered (or adopted after a restart)")                        \
	X(SPEC_INVALID, "the spec cannot be provisioned")                                          \
	X(PAIR_HEALTHY, "active healthy ACTIVE, standby healthy STANDBY")                          \
	X(ACTIVE_LOST, "active lost, standby healthy")                                             \
	X(STANDBY_LOST, "active healthy, standby pod gone or unreachable")                         \
	X(STANDBY_PRESENT, "active healthy, standby pod up but not a healthy standby")             \
	X(BOTH_LOST, "active lost and standby not healthy")                                        \
	X(UNSETTLED, "some pod unknown for now: no row listens, waiting is the default")           \
	X(PROC_DONE, "the state's procedure finished")                                             \
	X(PROC_FAILED, "the state's procedure failed")                                             \
	X(STOP_MANAGING, "spec.ttspec.stopManaging changed")                                       \
	X(REEXAMINE, "spec.ttspec.reexamine changed")                                              \
	X(TIMEOUT, "the state's time limit passed")                                                \
	X(ALL_READY, "non-replicated: every pod's database serving")                               \
	X(SOME_READY, "non-replicated: some pods' databases serving, not all")                     \
	X(NONE_READY, "non-replicated: no pod's database serving")                                 \
	X(UPGRADE_FAILED, "a step of the automatic upgrade failed (upgrade.h)")

enum ttc_event {
#define X(e, meaning) TTC_EV_##e,
	TTC_EVENTS(X)
#undef X
	    TTC_NEVENTS
};

extern const char *const ttc_state_names[];
extern const char *const ttc_state_meanings[];
extern const char *const ttc_event_names[];

/* Looks a state up by its status name; -1 if unknown. */
int ttc_state_from_name(const char *name);

#endif
