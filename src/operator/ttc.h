/*
 * The operator's view of one TimesTenClassic object: its high-level state, the events
 * that move it, and what is observed of each of its pods.
 */
#ifndef TTC_H
#define TTC_H

#include <time.h>

/*
 * Object high-level states, as users read them in .status.highLevelState. X(enum, name,
 * meaning). "Transient" states are left by the operator's own work, not by waiting.
 */
#define TTC_STATES(X)                                                                              \
	X(NEW, "New", "seen, not set up yet (no status)")                                          \
	X(INITIALIZING, "Initializing", "objects made; the databases are being built")             \
	X(NORMAL, "Normal", "active and standby healthy")                                          \
	X(ACTIVE_DOWN, "ActiveDown", "transient: active lost; fencing it, promoting standby")      \
	X(ACTIVE_TAKEOVER, "ActiveTakeover", "transient: new active taking over its duties")       \
	X(STANDBY_DOWN, "StandbyDown", "active only; waiting to rebuild the standby")              \
	X(STANDBY_STARTING, "StandbyStarting", "standby being duplicated and started")             \
	X(STANDBY_CATCHUP, "StandbyCatchup", "new standby applying the active's backlog")          \
	X(BOTH_DOWN, "BothDown", "neither database healthy; choosing the one to make active")      \
	X(WAITING_FOR_ACTIVE, "WaitingForActive", "waiting for the chosen database's pod")         \
	X(CONFIGURING_ACTIVE, "ConfiguringActive", "transient: making the chosen one active")      \
	X(MANUAL, "ManualInterventionRequired", "hands off: a person must act")                    \
	X(REEXAMINE, "Reexamine", "transient: looking for a usable database after reexamine")      \
	X(FAILED, "Failed", "initialisation failed; delete and recreate the object")

enum ttc_state {
#define X(e, name, meaning) TTC_ST_##e,
	TTC_STATES(X)
#undef X
	    TTC_NSTATES
};

/*
 * Events that drive the machine. The situation events (PAIR_HEALTHY … UNSETTLED) come
 * from classifying the two pods against their intended roles after each observation.
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
	X(TIMEOUT, "the state's time limit passed")

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
