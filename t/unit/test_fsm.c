/*
 * Tests for src/operator/fsm.c and the pair table in src/operator/pair.c: the table's
 * soundness, the classification of pods into situations, and scripted traces.
 */
#include "config.h"

#include "../../src/operator/fsm.h"
#include "../../src/operator/object.h"
#include "../../src/operator/pair.h"
#include "../../src/operator/topology.h"
#include "../../src/operator/ttc.h"
#include "tap.h"

static char err[512];

/* A small table with every kind of flaw fsm_check must find. */
enum { A, B, C, D, NS };
enum { E1, E2, NE };
static const char *const sn[] = {"A", "B", "C", "D"};
static const char *const en[] = {"E1", "E2"};
static int
yes(void *ctx)
{
	(void)ctx;
	return 1;
}

static void
test_checker(void)
{
	const struct fsm_row dead_end[] = {{A, E1, NULL, NULL, NULL, NULL, B},
	                                   {B, E1, NULL, NULL, NULL, NULL, C}};
	struct fsm_table t = {"t", dead_end, 2, sn, NS, en, NE, A, 0x7, 0};
	ok(fsm_check(&t, err, sizeof(err)) > 0, "a dead end is found");
	is_str(err, "t: state C is a dead end", "and named");

	const struct fsm_row unreachable[] = {{A, E1, NULL, NULL, NULL, NULL, B},
	                                      {B, E1, NULL, NULL, NULL, NULL, A},
	                                      {C, E1, NULL, NULL, NULL, NULL, A}};
	t.rows = unreachable;
	t.nrows = 3;
	ok(fsm_check(&t, err, sizeof(err)) > 0, "an unreachable state is found");
	is_str(err, "t: state C is unreachable", "and named");

	const struct fsm_row ambiguous[] = {{A, E1, NULL, NULL, NULL, NULL, B},
	                                    {A, E1, NULL, NULL, NULL, NULL, C},
	                                    {B, E1, NULL, NULL, NULL, NULL, A},
	                                    {C, E1, NULL, NULL, NULL, NULL, A}};
	t.rows = ambiguous;
	t.nrows = 4;
	ok(fsm_check(&t, err, sizeof(err)) > 0, "two rows for one (state, event) are found");
	like(err, "A + E1", "and named");

	const struct fsm_row shadow[] = {{A, E1, NULL, NULL, NULL, NULL, B},
	                                 {A, E1, yes, "yes", NULL, NULL, C},
	                                 {B, E1, NULL, NULL, NULL, NULL, A},
	                                 {C, E1, NULL, NULL, NULL, NULL, A}};
	t.rows = shadow;
	ok(fsm_check(&t, err, sizeof(err)) > 0, "an unguarded row hiding a guarded one is found");
	like(err, "hides a later one", "and described");

	const struct fsm_row good[] = {{A, E1, yes, "yes", NULL, NULL, B},
	                               {A, E1, NULL, NULL, NULL, NULL, C},
	                               {B, E2, NULL, NULL, NULL, NULL, A},
	                               {C, E1, NULL, NULL, NULL, NULL, A},
	                               {FSM_ANY, E2, NULL, NULL, NULL, NULL, D}};
	t.rows = good;
	t.nrows = 5;
	t.states = 0xf;
	t.terminal = 1 << D;
	is_int(fsm_check(&t, err, sizeof(err)), 0, "a sound table passes: %s", err);
	is_int(fsm_step(&t, A, E1, NULL, NULL), B, "the guarded row is taken first");
	is_int(fsm_step(&t, B, E2, NULL, NULL), A, "an exact row wins over an any-state row");
	is_int(fsm_step(&t, C, E2, NULL, NULL), D, "an any-state row applies");
	is_int(fsm_step(&t, D, E2, NULL, NULL), -1, "but not in a terminal state");
	is_int(fsm_step(&t, C, E1 + 5, NULL, NULL), -1, "no row, no move");
}

static void
test_pair_table(void)
{
	is_int(fsm_check(&pair_table, err, sizeof(err)), 0,
	       "the pair table: every state reachable, no dead ends, no ambiguous rows");
	if (err[0])
		diag("%s", err);
}

/* An object with two reachable, healthy pods: -0 ACTIVE, -1 STANDBY. */
static void
healthy_pair(struct ttc_object *o, struct ttc_spec *spec)
{
	static struct pod_view pods[2];

	memset(o, 0, sizeof(*o));
	memset(spec, 0, sizeof(*spec));
	memset(pods, 0, sizeof(pods));
	o->pods = pods;
	o->npods = 2;
	o->topo = &pair_topology;
	spec->unreachable_timeout = 30;
	spec->both_down_behavior = BOTHDOWN_BEST;
	o->spec = spec;
	o->ahead = -1;
	o->anew = -1;
	o->fence = -1;
	o->serving = -1;
	object_set_roles(o, 0);
	for (int i = 0; i < 2; i++) {
		struct pod_view *p = &o->pods[i];
		p->exists = 1;
		p->reachable = 1;
		p->last_reachable = 1000;
		agent_state_unknown(&p->st);
		p->st.daemon = DAEMON_UP;
		p->st.db = DB_LOADED;
		p->st.rep_agent = RUNNING_YES;
		p->st.rep_scheme = SCHEME_EXISTS;
		p->st.rep_state = i == 0 ? REP_ACTIVE : REP_STANDBY;
		p->st.updatable = i == 0 ? UPDATABLE_YES : UPDATABLE_NO;
	}
}

static void
test_situations(void)
{
	struct ttc_object o;
	struct ttc_spec spec;
	time_t now = 1000;

	healthy_pair(&o, &spec);
	is_int(pair_topology.situation(&o, now), TTC_EV_PAIR_HEALTHY, "both serving: PAIR_HEALTHY");

	o.pods[0].terminating = 1;
	is_int(pair_topology.situation(&o, now), TTC_EV_ACTIVE_LOST,
	       "active pod deleted: ACTIVE_LOST");

	healthy_pair(&o, &spec);
	o.pods[0].st.daemon = DAEMON_DOWN;
	is_int(pair_topology.situation(&o, now), TTC_EV_ACTIVE_LOST,
	       "active daemon down: ACTIVE_LOST");

	healthy_pair(&o, &spec);
	o.pods[0].reachable = 0;
	o.pods[0].unreachable_since = now - 10;
	is_int(pair_topology.situation(&o, now), TTC_EV_UNSETTLED,
	       "active unreachable for less than unreachableTimeout: wait");
	is_int(pair_topology.situation(&o, now + 20), TTC_EV_ACTIVE_LOST,
	       "active unreachable for unreachableTimeout: ACTIVE_LOST");

	healthy_pair(&o, &spec);
	o.pods[0].st.daemon = DAEMON_UNKNOWN;
	is_int(pair_topology.situation(&o, now), TTC_EV_UNSETTLED,
	       "an agent that cannot learn TimesTen's state proves nothing: wait");

	/* The daemon up with the database loaded, but the probe of the database failed (its
	 * ttIsql cut off): neither updatable nor the replication state known. */
	healthy_pair(&o, &spec);
	o.pods[0].st.updatable = UPDATABLE_UNKNOWN;
	o.pods[0].st.rep_state = REP_UNKNOWN;
	o.pods[0].st.rep_scheme = SCHEME_UNKNOWN;
	o.pods[1].st.rep_state = REP_IDLE; /* the standby still catching up */
	is_int(pair_topology.situation(&o, now), TTC_EV_UNSETTLED,
	       "an active whose database could not be probed proves nothing: wait, not both lost");

	healthy_pair(&o, &spec);
	o.pods[1].exists = 0;
	is_int(pair_topology.situation(&o, now), TTC_EV_STANDBY_LOST,
	       "standby pod gone: STANDBY_LOST");
	o.pods[1].exists = 1;
	o.pods[1].st.db = DB_NONE;
	is_int(pair_topology.situation(&o, now), TTC_EV_STANDBY_PRESENT,
	       "standby pod back without a database: STANDBY_PRESENT");
	o.pods[1].st.db = DB_LOADED;
	o.pods[1].st.rep_state = REP_ACTIVE;
	o.pods[1].st.updatable = UPDATABLE_YES;
	is_int(pair_topology.situation(&o, now), TTC_EV_STANDBY_PRESENT,
	       "a second ACTIVE is never taken as a healthy standby");

	healthy_pair(&o, &spec);
	o.pods[0].exists = 0;
	o.pods[1].st.daemon = DAEMON_DOWN;
	is_int(pair_topology.situation(&o, now), TTC_EV_BOTH_LOST, "both down: BOTH_LOST");
	o.pods[1].reachable = 0;
	o.pods[1].unreachable_since = now;
	is_int(pair_topology.situation(&o, now), TTC_EV_UNSETTLED,
	       "active gone, standby unknown for now: wait");

	/* The active recorded its standby FAILED (a take-over): the STANDBY back, running,
	 * receives nothing until it is duplicated again (found by t/chaos seeds 33 and 40:
	 * taken back as healthy, then failed over to, it lost the commits in between). */
	healthy_pair(&o, &spec);
	snprintf(o.pods[0].st.rep_peer, sizeof(o.pods[0].st.rep_peer), "failed");
	is_int(pair_topology.situation(&o, now), TTC_EV_STANDBY_PRESENT,
	       "the active shows its peer failed: the STANDBY is to be rebuilt, not healthy");
	o.pods[0].reachable = 0;
	o.pods[0].unreachable_since = now - 60;
	agent_state_unknown(&o.pods[0].st);
	is_int(pair_topology.situation(&o, now), TTC_EV_BOTH_LOST,
	       "then the active lost: no failover to that STANDBY, both lost");
	o.pods[0].reachable = 1;
	o.pods[0].st = o.pods[1].st;
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[0].st.updatable = UPDATABLE_YES;
	is_int(pair_topology.situation(&o, now), TTC_EV_STANDBY_PRESENT,
	       "the active back, its peer state not said: still known failed");
	snprintf(o.pods[0].st.rep_peer, sizeof(o.pods[0].st.rep_peer), "start");
	is_int(pair_topology.situation(&o, now), TTC_EV_PAIR_HEALTHY,
	       "duplicated again (the active shows its peer started): PAIR_HEALTHY");
}

/* A trace of events through the pair table, checking each state reached. */
static int
trace(struct ttc_object *o, const int *events, const int *states, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int to = fsm_step(&pair_table, o->state, events[i], o, NULL);
		if (to < 0 || to != states[i]) {
			diag("step %zu: %s + %s gave %s, wanted %s", i, ttc_state_names[o->state],
			     ttc_event_names[events[i]], to < 0 ? "no move" : ttc_state_names[to],
			     ttc_state_names[states[i]]);
			return 0;
		}
		o->state = to;
	}
	return 1;
}

static void
test_traces(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	healthy_pair(&o, &spec);
	o.state = TTC_ST_NEW;
	object_set_roles(&o, -1);
	const int ev1[] = {TTC_EV_CREATE, TTC_EV_PROC_DONE, TTC_EV_ACTIVE_LOST};
	const int st1[] = {TTC_ST_INITIALIZING, TTC_ST_NORMAL, TTC_ST_ACTIVE_DOWN};
	ok(trace(&o, ev1, st1, 3), "create, initialise, lose the active");
	ok(o.active == 1 && o.fence == 0 && o.pods[1].role == ROLE_ACTIVE &&
	       o.pods[0].role == ROLE_STANDBY,
	   "failing over makes -1 the active and marks -0 to be fenced");
	const int ev2[] = {TTC_EV_PROC_DONE, TTC_EV_PROC_DONE, TTC_EV_STANDBY_PRESENT,
	                   TTC_EV_PROC_DONE, TTC_EV_PAIR_HEALTHY};
	const int st2[] = {TTC_ST_ACTIVE_TAKEOVER, TTC_ST_STANDBY_DOWN, TTC_ST_STANDBY_STARTING,
	                   TTC_ST_STANDBY_CATCHUP, TTC_ST_NORMAL};
	ok(trace(&o, ev2, st2, 5), "take over, rebuild the standby, back to Normal (seed 000)");
	is_int(o.fence, -1, "the fence is forgotten once the failover is done");

	o.pods[0].reachable = o.pods[1].reachable = 0; /* both lost */
	o.serving = 1;                                 /* -1 was serving then */
	const int ev3[] = {TTC_EV_BOTH_LOST, TTC_EV_ENTER};
	const int st3[] = {TTC_ST_BOTH_DOWN, TTC_ST_WAITING_FOR_ACTIVE};
	is_int(o.tried, 1u << 0 | 1u << 1, "both were tried as active before");
	ok(trace(&o, ev3, st3, 2), "both lost with bothDownBehavior Best: WaitingForActive");
	is_int(o.active, 1, "the last active is chosen");
	is_int(o.tried, 1u << 1, "and is the only one tried since BothDown");
	is_int(o.anew, 1, "it was serving, no failover decided: its scheme may be made anew");

	/* A database its agent shows ACTIVE now is where writes go: chosen over the one the
	 * status says served (an operator that died before it wrote the failover down). */
	o.state = TTC_ST_BOTH_DOWN;
	o.serving = 0;
	object_set_roles(&o, 0);
	o.pods[1].reachable = 1;
	o.pods[1].st.db = DB_LOADED;
	o.pods[1].st.rep_state = REP_ACTIVE;
	is_int(fsm_step(&pair_table, o.state, TTC_EV_ENTER, &o, NULL), TTC_ST_WAITING_FOR_ACTIVE,
	       "both lost as status tells, -1 ACTIVE: WaitingForActive");
	is_int(o.active, 1, "the database ACTIVE now is chosen");
	is_int(o.anew, -1, "not the one serving: no scheme made anew");
	o.pods[1].reachable = 0;

	/* Both lost in the middle of a failover: the one last serving wins over the one that
	 * was about to be promoted. */
	o.state = TTC_ST_BOTH_DOWN;
	o.serving = 0;
	object_set_roles(&o, 1);
	is_int(fsm_step(&pair_table, o.state, TTC_EV_ENTER, &o, NULL), TTC_ST_WAITING_FOR_ACTIVE,
	       "both lost during a failover: WaitingForActive");
	is_int(o.active, 0, "the database last serving as the active is chosen");
	o.serving = -1;

	o.state = TTC_ST_BOTH_DOWN;
	spec.both_down_behavior = BOTHDOWN_MANUAL;
	o.ahead = -1;
	o.anew = -1;
	is_int(fsm_step(&pair_table, o.state, TTC_EV_ENTER, &o, NULL), TTC_ST_MANUAL,
	       "both lost, ahead unknown, bothDownBehavior Manual: ManualInterventionRequired");
	ok(o.both_down_ineligible && strstr(o.message, "cannot be known") != NULL,
	   "status says the one ahead could not be known: %s", o.message);
	object_set_roles(&o, 1);
	o.prev_state = TTC_ST_STANDBY_DOWN; /* the standby was out first */
	o.serving = 0;                      /* not the intended active */
	is_int(fsm_step(&pair_table, o.state, TTC_EV_ENTER, &o, NULL), TTC_ST_WAITING_FOR_ACTIVE,
	       "with the database ahead known, Manual still proceeds");
	is_int(o.active, 0, "choosing the one ahead");

	/* The one ahead is waited for: the other, behind, neither replaces it when it cannot
	 * be configured nor takes over when it comes back first as a standby. */
	o.serving = -1;
	is_int(fsm_step(&pair_table, TTC_ST_CONFIGURING_ACTIVE, TTC_EV_PROC_FAILED, &o, NULL),
	       TTC_ST_MANUAL,
	       "configuring the one ahead failed: ManualInterventionRequired, "
	       "not the other, which lacks its commits");
	is_int(fsm_step(&pair_table, TTC_ST_WAITING_FOR_ACTIVE, TTC_EV_ACTIVE_LOST, &o, NULL), -1,
	       "the other back first as a standby: WaitingForActive waits for the one ahead");
	is_int(o.active, 0, "still the one ahead");
	o.pods[0].reachable = 1;
	is_int(fsm_step(&pair_table, TTC_ST_WAITING_FOR_ACTIVE, TTC_EV_ACTIVE_LOST, &o, NULL),
	       TTC_ST_CONFIGURING_ACTIVE, "the one ahead answers, not serving: it is configured");
	is_int(o.fence, 1, "the other to be fenced first (a STANDBY takes no writes: it is)");
	o.pods[0].reachable = 0;
	o.ahead = 1; /* the one ahead is the other: the chosen one was ACTIVE when looked at */
	is_int(fsm_step(&pair_table, TTC_ST_WAITING_FOR_ACTIVE, TTC_EV_ACTIVE_LOST, &o, NULL),
	       TTC_ST_ACTIVE_DOWN,
	       "the one ahead back as a standby, the chosen one lost: failover");
	object_set_roles(&o, 0);

	/* Not known which is ahead, bothDownBehavior Best: the best there is. */
	spec.both_down_behavior = BOTHDOWN_BEST;
	o.ahead = -1;
	o.tried = 1u << 0;
	o.state = TTC_ST_CONFIGURING_ACTIVE;
	is_int(fsm_step(&pair_table, o.state, TTC_EV_PROC_FAILED, &o, NULL),
	       TTC_ST_WAITING_FOR_ACTIVE, "Best: configuring the chosen one failed: try the other");
	is_int(o.active, 1, "the other one");
	is_int(fsm_step(&pair_table, TTC_ST_CONFIGURING_ACTIVE, TTC_EV_PROC_FAILED, &o, NULL),
	       TTC_ST_MANUAL, "both tried: ManualInterventionRequired");
	spec.both_down_behavior = BOTHDOWN_MANUAL;
	is_int(fsm_step(&pair_table, TTC_ST_WAITING_FOR_ACTIVE, TTC_EV_ACTIVE_LOST, &o, NULL), -1,
	       "Manual, not known which is ahead: no failover from WaitingForActive");

	/* Every step of ConfiguringActive done: StandbyDown only if the database serves. */
	healthy_pair(&o, &spec);
	o.name = "sample";
	o.state = TTC_ST_CONFIGURING_ACTIVE;
	is_int(fsm_step(&pair_table, o.state, TTC_EV_PROC_DONE, &o, NULL), TTC_ST_STANDBY_DOWN,
	       "the chosen database serves as the active: StandbyDown");
	o.pods[0].st.open = UPDATABLE_NO; /* closed to user connections: not updatable */
	o.pods[0].st.updatable = UPDATABLE_NO;
	is_int(fsm_step(&pair_table, o.state, TTC_EV_PROC_DONE, &o, NULL), TTC_ST_MANUAL,
	       "done and still not serving: ManualInterventionRequired, not BothDown again");
	ok(strstr(o.message, "sample-0") && strstr(o.message, "does not serve"),
	   "the status message names the pod (%s)", o.message);

	for (int s = TTC_ST_INITIALIZING; s < TTC_NSTATES; s++) {
		if (!(pair_table.states & (1ULL << s)))
			continue;
		int want = s == TTC_ST_FAILED ? -1 : TTC_ST_MANUAL;
		is_int(fsm_step(&pair_table, s, TTC_EV_STOP_MANAGING, &o, NULL), want,
		       "stopManaging from %s: %s", ttc_state_names[s],
		       want < 0 ? "no move" : ttc_state_names[want]);
	}
	o.state = TTC_ST_STANDBY_STARTING;
	o.run.proc = pair_topology.procedure(&o);
	o.run.next = 3;
	unsigned work = o.work;
	fsm_step(&pair_table, TTC_ST_STANDBY_STARTING, TTC_EV_STOP_MANAGING, &o, NULL);
	ok(o.run.proc == NULL && o.run.next == 0 && o.work != work,
	   "stopManaging drops the procedure under way");
	is_int(fsm_step(&pair_table, TTC_ST_MANUAL, TTC_EV_REEXAMINE, &o, NULL), TTC_ST_REEXAMINE,
	       "reexamine leaves ManualInterventionRequired for Reexamine");
	is_int(fsm_step(&pair_table, TTC_ST_NORMAL, TTC_EV_REEXAMINE, &o, NULL), -1,
	       "reexamine means nothing elsewhere");

	healthy_pair(&o, &spec);
	o.pods[0].st.rep_state = REP_IDLE;
	o.pods[0].st.rep_scheme = SCHEME_NONE;
	o.pods[1].st.daemon = DAEMON_DOWN;
	o.state = TTC_ST_REEXAMINE;
	is_int(fsm_step(&pair_table, o.state, TTC_EV_BOTH_LOST, &o, NULL),
	       TTC_ST_CONFIGURING_ACTIVE,
	       "reexamine finds a repaired database (loaded, IDLE, no scheme) and uses it");
	o.pods[0].st.db = DB_UNLOADED;
	is_int(fsm_step(&pair_table, o.state, TTC_EV_BOTH_LOST, &o, NULL), TTC_ST_MANUAL,
	       "no usable database: back to ManualInterventionRequired");
}

/* The states with a time limit: the controller fires TIMEOUT when it passes. */
static void
test_time_limits(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	healthy_pair(&o, &spec);
	is_int(fsm_step(&pair_table, TTC_ST_STANDBY_CATCHUP, TTC_EV_TIMEOUT, &o, NULL),
	       TTC_ST_STANDBY_DOWN, "a standby not caught up within repStateTimeout: StandbyDown");
	is_int(fsm_step(&pair_table, TTC_ST_WAITING_FOR_ACTIVE, TTC_EV_TIMEOUT, &o, NULL),
	       TTC_ST_MANUAL, "the chosen pod not back in time: ManualInterventionRequired");
	o.pods[0].terminating = 1;
	is_int(fsm_step(&pair_table, TTC_ST_WAITING_FOR_ACTIVE, TTC_EV_BOTH_LOST, &o, NULL), -1,
	       "the chosen pod on its way out, its agent still answering: WaitingForActive waits "
	       "for its successor");
	o.pods[0].terminating = 0;
	is_int(fsm_step(&pair_table, TTC_ST_WAITING_FOR_ACTIVE, TTC_EV_BOTH_LOST, &o, NULL),
	       TTC_ST_CONFIGURING_ACTIVE, "its successor answers: ConfiguringActive");
	for (int s = 0; s < TTC_NSTATES; s++) {
		if (s == TTC_ST_STANDBY_CATCHUP || s == TTC_ST_WAITING_FOR_ACTIVE)
			continue;
		is_int(fsm_step(&pair_table, s, TTC_EV_TIMEOUT, &o, NULL), -1,
		       "%s has no time limit: TIMEOUT moves nothing", ttc_state_names[s]);
	}
}

/* A failed rebuild of the standby delays the next one: 2, 4, 8 ... up to 60 seconds. */
static void
test_rebuild_backoff(void)
{
	struct ttc_object o;
	struct ttc_spec spec;
	const int waits[] = {2, 4, 8, 16, 32, 60, 60};

	healthy_pair(&o, &spec);
	o.now = 5000;
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		is_int(fsm_step(&pair_table, TTC_ST_STANDBY_STARTING, TTC_EV_PROC_FAILED, &o, NULL),
		       TTC_ST_STANDBY_DOWN, "rebuild %zu failed: StandbyDown", i + 1);
		is_int(o.rebuild_at - o.now, waits[i], "and the next rebuild waits %d s", waits[i]);
	}
	is_int(o.rebuild_failures, 7, "the failures in a row are counted");

	/* The pair whole again: the count starts over. */
	is_int(fsm_step(&pair_table, TTC_ST_STANDBY_CATCHUP, TTC_EV_PAIR_HEALTHY, &o, NULL),
	       TTC_ST_NORMAL, "the rebuilt standby caught up: Normal");
	ok(o.rebuild_failures == 0 && o.rebuild_at == 0, "the failures are forgotten");
	fsm_step(&pair_table, TTC_ST_STANDBY_STARTING, TTC_EV_PROC_FAILED, &o, NULL);
	is_int(o.rebuild_at - o.now, 2, "a failure after that waits 2 s again");

	/* The guard: no rebuild before rebuild_at; the object asks to be looked at then. */
	o.now = 5001;
	o.wake_at = 0;
	is_int(fsm_step(&pair_table, TTC_ST_STANDBY_DOWN, TTC_EV_STANDBY_PRESENT, &o, NULL), -1,
	       "a second too soon, the standby is not rebuilt");
	is_int(o.wake_at, 5002, "and the object is looked at again when the wait ends");
	o.wake_at = 5100;
	fsm_step(&pair_table, TTC_ST_STANDBY_DOWN, TTC_EV_STANDBY_PRESENT, &o, NULL);
	is_int(o.wake_at, 5002, "a later wake-up asked for is brought forward");
	o.wake_at = 5001;
	fsm_step(&pair_table, TTC_ST_STANDBY_DOWN, TTC_EV_STANDBY_PRESENT, &o, NULL);
	is_int(o.wake_at, 5001, "an earlier one is kept");
	o.now = 5002;
	o.wake_at = 0;
	is_int(fsm_step(&pair_table, TTC_ST_STANDBY_DOWN, TTC_EV_STANDBY_PRESENT, &o, NULL),
	       TTC_ST_STANDBY_STARTING, "once the wait is over, the standby is rebuilt");
	is_int(o.wake_at, 0, "with no wake-up asked for");
}

/* How the procedures "take over" and "configure active" end (see test_proc.c for what
 * they do). */
static void
test_procedure_ends(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	healthy_pair(&o, &spec);
	is_int(fsm_step(&pair_table, TTC_ST_ACTIVE_TAKEOVER, TTC_EV_PROC_DONE, &o, NULL),
	       TTC_ST_STANDBY_DOWN, "taking over done: StandbyDown, the standby to rebuild");
	is_int(fsm_step(&pair_table, TTC_ST_ACTIVE_TAKEOVER, TTC_EV_PROC_FAILED, &o, NULL),
	       TTC_ST_BOTH_DOWN, "taking over failed: BothDown");
	is_int(fsm_step(&pair_table, TTC_ST_CONFIGURING_ACTIVE, TTC_EV_PROC_DONE, &o, NULL),
	       TTC_ST_STANDBY_DOWN, "the chosen database configured as active: StandbyDown");
}

static void
test_dot(void)
{
	char *text = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&text, &n);

	fsm_dot(&pair_table, fp);
	fclose(fp);
	like(text, "digraph \"activeStandbyPair\"", "the drawing is a digraph");
	like(text, "\"Normal\" -> \"ActiveDown\" [label=\"ACTIVE_LOST / fail_over\"]",
	     "with an edge per row, event and action");
	like(text,
	     "\"BothDown\" -> \"WaitingForActive\" [label=\"ENTER [can_choose] / choose_active\"]",
	     "and guards");
	free(text);
}

/* The properties every part of the operator reads from the state list. */
static void
test_state_properties(void)
{
	char warn[512] = "", hands[256] = "";

	for (int st = 0; st < TTC_NSTATES; st++) {
		if (ttc_state_warning(st))
			snprintf(warn + strlen(warn), sizeof(warn) - strlen(warn), "%s ",
			         ttc_state_names[st]);
		if (ttc_state_hands_off(st))
			snprintf(hands + strlen(hands), sizeof(hands) - strlen(hands), "%s ",
			         ttc_state_names[st]);
	}
	is_str(warn,
	       "ActiveDown ActiveTakeover BothDown ManualInterventionRequired Failed "
	       "NoReplicasReady ",
	       "Warning Events for the states a DBA must look at");
	is_str(hands, "ManualInterventionRequired Failed ", "hands off where the guide says");
	ok(!ttc_state_polled_closely(TTC_ST_NORMAL) &&
	       !ttc_state_polled_closely(TTC_ST_ALL_READY) &&
	       ttc_state_polled_closely(TTC_ST_ACTIVE_DOWN) &&
	       ttc_state_polled_closely(TTC_ST_SOME_READY),
	   "settled states are polled every pollingInterval, changing ones closely");
	is_int(ttc_state_limit(TTC_ST_STANDBY_CATCHUP), TIMER_REP_STATE,
	       "StandbyCatchup is bounded by repStateTimeout");
	is_int(ttc_state_limit(TTC_ST_WAITING_FOR_ACTIVE), TIMER_WAITING_FOR_ACTIVE,
	       "WaitingForActive by waitingForActiveTimeout");
	is_int(ttc_state_limit(TTC_ST_NORMAL), -1, "Normal by nothing");
}

/* Three independent databases, all serving. */
static void
serving_nonrep(struct ttc_object *o, struct ttc_spec *spec)
{
	static struct pod_view pods[3];

	memset(o, 0, sizeof(*o));
	memset(spec, 0, sizeof(*spec));
	memset(pods, 0, sizeof(pods));
	spec->unreachable_timeout = 30;
	spec->replicas = 3;
	o->spec = spec;
	o->pods = pods;
	o->npods = 3;
	o->topo = &nonrep_topology;
	o->state = TTC_ST_ALL_READY;
	o->active = o->fence = o->ahead = o->serving = o->target = o->anew = -1;
	for (int i = 0; i < 3; i++) {
		struct pod_view *p = &o->pods[i];
		p->exists = 1;
		p->reachable = 1;
		agent_state_unknown(&p->st);
		p->st.daemon = DAEMON_UP;
		p->st.db = DB_LOADED;
		p->st.updatable = UPDATABLE_YES;
		p->st.ready_marker = 1;
		p->ready = 1;
	}
}

static void
test_nonrep(void)
{
	const struct fsm_table *t = nonrep_topology.table;
	struct ttc_object o;
	struct ttc_spec spec;
	time_t now = 1000;

	is_int(fsm_check(t, err, sizeof(err)), 0,
	       "the non-replicated table: every state reachable, no dead ends, no ambiguous rows");
	if (err[0])
		diag("%s", err);
	is_str(t->name, "none", "named as replicationTopology says");
	ok(!(t->states & (1ULL << TTC_ST_NORMAL)) && !(t->states & (1ULL << TTC_ST_ACTIVE_DOWN)),
	   "no pair state in it");

	serving_nonrep(&o, &spec);
	is_int(nonrep_topology.situation(&o, now), TTC_EV_ALL_READY, "all serve: ALL_READY");
	is_int(o.target, -1, "nothing to work on");
	is_str(nonrep_topology.pod_state(&o, 1, now), "Normal", "a serving pod is Normal");
	is_int(nonrep_topology.pods(&spec), 3, "replicas pods");
	is_int(nonrep_topology.pods(NULL), 1, "one without a spec");

	o.pods[1].ready = 0;
	is_int(nonrep_topology.situation(&o, now), TTC_EV_SOME_READY,
	       "one serving but not yet Ready for Kubernetes: SOME_READY");
	is_int(o.target, -1, "nothing to do on it but wait for its probe");
	o.pods[1].st.ready_marker = 0;
	is_int(nonrep_topology.situation(&o, now), TTC_EV_SOME_READY,
	       "one not marked ready: SOME_READY");
	is_int(o.target, 1, "and it is the one to bring up");
	is_str(nonrep_topology.pod_state(&o, 1, now), "Initializing", "being brought up");
	o.pods[0].exists = 0;
	o.pods[2].st.db = DB_UNLOADED;
	is_int(nonrep_topology.situation(&o, now), TTC_EV_NONE_READY, "none serve: NONE_READY");
	is_int(o.target, 1, "the target stays while it needs work");
	is_str(nonrep_topology.pod_state(&o, 0, now), "Down", "a pod gone is Down");
	o.pods[2].reachable = 0;
	o.pods[2].unreachable_since = now - 5;
	is_int(nonrep_topology.situation(&o, now), TTC_EV_UNSETTLED, "a pod unknown: nothing said");
	is_str(nonrep_topology.pod_state(&o, 2, now), "Unknown", "it is Unknown");
	o.pods[2].unreachable_since = now - 30;
	is_int(nonrep_topology.situation(&o, now), TTC_EV_NONE_READY,
	       "unreachable past unreachableTimeout: it counts as down");

	serving_nonrep(&o, &spec);
	o.state = TTC_ST_SOME_READY;
	o.rebuild_at = now + 8;
	o.pods[2].st.ready_marker = 0;
	nonrep_topology.situation(&o, now);
	ok(o.target == -1 && o.wake_at == now + 8, "after a failure the next try waits (%d, %ld)",
	   o.target, (long)o.wake_at);

	o.now = now;
	o.rebuild_at = 0;
	o.rebuild_failures = 0;
	o.target = 2;
	o.pods[2].st.ready_marker = 1;
	o.pods[2].st.updatable = UPDATABLE_NO;
	is_int(fsm_step(t, TTC_ST_SOME_READY, TTC_EV_PROC_DONE, &o, NULL), TTC_ST_SOME_READY,
	       "a procedure done on a pod that still does not serve");
	ok(o.target == -1 && o.rebuild_at == now + 2,
	   "counts as a failure: the next try waits, no loop");
	is_int(fsm_step(t, TTC_ST_SOME_READY, TTC_EV_PROC_FAILED, &o, NULL), TTC_ST_SOME_READY,
	       "a pod that cannot be brought up keeps the state");
	is_int(fsm_step(t, TTC_ST_INITIALIZING, TTC_EV_PROC_FAILED, &o, NULL), TTC_ST_FAILED,
	       "but fails the initialisation");
	is_int(fsm_step(t, TTC_ST_ALL_READY, TTC_EV_STOP_MANAGING, &o, NULL), TTC_ST_MANUAL,
	       "stopManaging: ManualInterventionRequired");
	is_int(fsm_step(t, TTC_ST_MANUAL, TTC_EV_REEXAMINE, &o, NULL), TTC_ST_REEXAMINE,
	       "reexamine: Reexamine");
	is_int(fsm_step(t, TTC_ST_REEXAMINE, TTC_EV_SOME_READY, &o, NULL), TTC_ST_SOME_READY,
	       "then managed again by the count of serving pods");
	o.state = TTC_ST_MANUAL;
	is_str(nonrep_topology.pod_state(&o, 0, now), "ManualInterventionRequired",
	       "pods show the hands-off state");

	/* An upgrade: pod -2 comes back on a new image and does not become ready. */
	serving_nonrep(&o, &spec);
	spec.upgrade_down_pod_timeout = 600;
	for (int i = 0; i < 3; i++)
		snprintf(o.pods[i].image, sizeof(o.pods[i].image), "tt:1");
	nonrep_topology.situation(&o, now);
	is_str(o.pods[2].served_image, "tt:1", "the image each pod is ready on is remembered");
	snprintf(o.pods[2].image, sizeof(o.pods[2].image), "tt:2");
	o.pods[2].ready = 0;
	o.wake_at = 0;
	nonrep_topology.situation(&o, now);
	ok(!o.pods[2].upgrade_failed && o.wake_at == now + 600,
	   "not ready on the new image: looked at again after upgradeDownPodTimeout");
	nonrep_topology.situation(&o, now + 599);
	ok(!o.pods[2].upgrade_failed, "not failed before");
	nonrep_topology.situation(&o, now + 600);
	ok(o.pods[2].upgrade_failed && !o.pods[1].upgrade_failed, "failed then, that pod only");
	o.pods[2].ready = 1;
	nonrep_topology.situation(&o, now + 700);
	ok(!o.pods[2].upgrade_failed && strcmp(o.pods[2].served_image, "tt:2") == 0,
	   "ready at last: no longer failed, and ready on the new image");
	o.pods[1].ready = 0;
	nonrep_topology.situation(&o, now + 800);
	nonrep_topology.situation(&o, now + 2000);
	ok(!o.pods[1].upgrade_failed, "a pod down on the image it served on is no upgrade failure");
}

/* bothDownBehavior: the one ahead from how the pair was lost and the scheme in use
 * (reference 4.3); Manual stops only where it cannot be known. */
static void
test_both_down_ahead(void)
{
#define PAIR_SQL "CREATE ACTIVE STANDBY PAIR s ON \"h0\", s ON \"h1\" "
	static const struct {
		int prev;
		const char *stmt;
		int ahead;
		const char *why;
	} t[] = {
	    {TTC_ST_STANDBY_DOWN, PAIR_SQL "RETURN TWOSAFE STORE s ON \"h0\" DISABLE RETURN ALL 3",
	     0, "the standby was down before: the active"},
	    {TTC_ST_STANDBY_STARTING, PAIR_SQL "RETURN TWOSAFE", 0, "the standby being rebuilt"},
	    {TTC_ST_STANDBY_CATCHUP, PAIR_SQL "RETURN TWOSAFE", 0, "the standby catching up"},
	    {TTC_ST_ACTIVE_TAKEOVER, PAIR_SQL "NO RETURN", 0, "the standby lost first"},
	    {TTC_ST_NORMAL, PAIR_SQL "NO RETURN", 0, "lost at once, NO RETURN: the active"},
	    {TTC_ST_NORMAL, PAIR_SQL "RETURN RECEIPT", 0,
	     "lost at once, RETURN RECEIPT: the active"},
	    {TTC_ST_NORMAL, PAIR_SQL "RETURN TWOSAFE", 1,
	     "lost at once, RETURN TWOSAFE: the standby"},
	    {TTC_ST_ACTIVE_DOWN, PAIR_SQL "RETURN TWOSAFE", 1,
	     "lost during a failover, RETURN TWOSAFE: the standby"},
	    {TTC_ST_ACTIVE_DOWN, PAIR_SQL "NO RETURN", 0, "lost during a failover, NO RETURN"},
	    {TTC_ST_NORMAL, PAIR_SQL "RETURN TWOSAFE STORE s ON \"h0\" DISABLE RETURN ALL 3", -1,
	     "RETURN TWOSAFE with DISABLE RETURN: not known"},
	    {TTC_ST_NORMAL, PAIR_SQL "return twosafe store s on \"h0\" local commit action commit",
	     -1, "RETURN TWOSAFE with LOCAL COMMIT ACTION COMMIT: not known"},
	    {TTC_ST_NORMAL, PAIR_SQL "RETURN TWOSAFE BY REQUEST", -1,
	     "RETURN TWOSAFE BY REQUEST: not known"},
	    {TTC_ST_NORMAL, "CREATE ACTIVE STANDBY PAIR s ON \"return twosafe\", s ON \"h1\"", 0,
	     "quoted words are no return service"},
	    {TTC_ST_REEXAMINE, PAIR_SQL "NO RETURN", -1, "not lost from a known pair: not known"},
	};
	struct ttc_object o;
	struct ttc_spec spec;

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		healthy_pair(&o, &spec);
		o.name = "sample";
		o.rep_statement = (char *)t[k].stmt;
		o.pods[0].reachable = o.pods[1].reachable = 0;
		o.serving = 0;
		o.seen_whole = 1;
		o.prev_state = t[k].prev;
		o.state = TTC_ST_BOTH_DOWN;
		spec.both_down_behavior = BOTHDOWN_MANUAL;
		int to = fsm_step(&pair_table, o.state, TTC_EV_ENTER, &o, NULL);
		if (t[k].ahead >= 0)
			ok(to == TTC_ST_WAITING_FOR_ACTIVE && o.active == t[k].ahead &&
			       !o.both_down_ineligible,
			   "Manual, %s (-%d) is chosen: %s", t[k].ahead ? "-1" : "-0", t[k].ahead,
			   t[k].why);
		else
			ok(to == TTC_ST_MANUAL && o.both_down_ineligible,
			   "Manual: ManualInterventionRequired, bothDownRecoveryIneligible: %s",
			   t[k].why);
		if (t[k].ahead < 0) {
			o.state = TTC_ST_BOTH_DOWN;
			spec.both_down_behavior = BOTHDOWN_BEST;
			to = fsm_step(&pair_table, o.state, TTC_EV_ENTER, &o, NULL);
			ok(to == TTC_ST_WAITING_FOR_ACTIVE && o.active == 0 &&
			       o.both_down_ineligible,
			   "Best: the one last serving, still ineligible: %s", t[k].why);
		}
	}

	/* From Normal as status said, the pair never seen whole by this operator (it started
	 * since): the order of the losses is not known. */
	healthy_pair(&o, &spec);
	o.name = "sample";
	o.rep_statement = PAIR_SQL "RETURN TWOSAFE";
	o.pods[0].reachable = o.pods[1].reachable = 0;
	o.serving = 0;
	o.prev_state = TTC_ST_NORMAL;
	o.state = TTC_ST_BOTH_DOWN;
	spec.both_down_behavior = BOTHDOWN_MANUAL;
	ok(fsm_step(&pair_table, o.state, TTC_EV_ENTER, &o, NULL) == TTC_ST_WAITING_FOR_ACTIVE &&
	       o.active == 0 && !o.both_down_ineligible,
	   "RETURN TWOSAFE, lost while no operator looked: the active (both hold every "
	   "acknowledged commit)");
	o.rep_statement = PAIR_SQL "RETURN TWOSAFE BY REQUEST";
	o.state = TTC_ST_BOTH_DOWN;
	ok(fsm_step(&pair_table, o.state, TTC_EV_ENTER, &o, NULL) == TTC_ST_MANUAL &&
	       o.both_down_ineligible,
	   "RETURN TWOSAFE BY REQUEST, lost while no operator looked: not known, Manual stops");
#undef PAIR_SQL
}

int
main(void)
{
	test_state_properties();
	test_nonrep();
	test_checker();
	test_pair_table();
	test_situations();
	test_traces();
	test_both_down_ahead();
	test_time_limits();
	test_rebuild_backoff();
	test_procedure_ends();
	test_dot();
	return done_testing();
}
