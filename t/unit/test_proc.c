/*
 * Tests for src/operator/proc.c: the orders each procedure sends to a pair of simulated
 * pods, skipping what is already true, fencing, retries and failures.
 */
#include "config.h"

#include "../../src/operator/lease.h"
#include "../../src/operator/object.h"
#include "../../src/operator/proc.h"
#include "../../src/operator/topology.h"
#include "tap.h"

static char orders[4096];
static char bodies[4096]; /* "op@pod body" lines, for the orders that have one */
static int deleted[3], deleted_grace[3];
static struct {
	int pending, pod;
	unsigned work;
	char op[32];
	char body[256];
} queue;
static enum order_result next_result = ORDER_OK;

static int
fake_order(struct ttc_object *o, int i, const char *op, char *body, int async)
{
	(void)async;
	snprintf(orders + strlen(orders), sizeof(orders) - strlen(orders), "%s@%d ", op, i);
	if (body != NULL)
		snprintf(bodies + strlen(bodies), sizeof(bodies) - strlen(bodies), "%s@%d %s\n", op,
		         i, body);
	queue.pending = 1;
	queue.pod = i;
	queue.work = o->work;
	snprintf(queue.op, sizeof(queue.op), "%s", op);
	snprintf(queue.body, sizeof(queue.body), "%s", body ? body : "");
	free(body);
	return 0;
}

static int
fake_delete(struct ttc_object *o, int i, int grace)
{
	(void)o;
	deleted[i]++;
	deleted_grace[i] = grace;
	return 0;
}

static char events[1024];

static void
fake_event(struct ttc_object *o, int warning, const char *reason, const char *msg)
{
	(void)o;
	snprintf(events + strlen(events), sizeof(events) - strlen(events), "%s%s: %s\n",
	         warning ? "Warning " : "", reason, msg);
}

static const struct ttc_effects fx = {fake_event, fake_order, fake_delete};

/* What each operation does to a simulated pod. */
static void
apply(struct ttc_object *o, int i, const char *op, const char *body)
{
	struct agent_state *s = &o->pods[i].st;

	if (!strcmp(op, "createInstance"))
		s->instance = INSTANCE_EXISTS;
	else if (!strcmp(op, "startDaemon"))
		s->daemon = DAEMON_UP;
	else if (!strcmp(op, "createDatabase") || !strcmp(op, "load")) {
		s->db = DB_LOADED;
		if (s->rep_scheme != SCHEME_EXISTS)
			s->updatable = UPDATABLE_YES;
	} else if (!strcmp(op, "setReady"))
		s->ready_marker = 1;
	else if (!strcmp(op, "destroyDatabase")) {
		s->db = DB_NONE;
		s->rep_scheme = SCHEME_NONE;
	} else if (!strcmp(op, "createRepScheme"))
		s->rep_scheme = SCHEME_EXISTS;
	else if (!strcmp(op, "setRepState")) {
		int active = strstr(body, "ACTIVE") != NULL;
		s->rep_state = active ? REP_ACTIVE : REP_IDLE;
		s->updatable = active ? UPDATABLE_YES : UPDATABLE_NO;
	} else if (!strcmp(op, "startRepAgent")) {
		s->rep_agent = RUNNING_YES;
		if (s->rep_state != REP_ACTIVE)
			s->rep_state = REP_STANDBY; /* a duplicate catches up */
	} else if (!strcmp(op, "setActive"))
		s->active_marker = 1;
	else if (!strcmp(op, "setPeerFailed"))
		strcpy(s->rep_peer, "failed");
	else if (!strcmp(op, "clearActive"))
		s->active_marker = 0;
	else if (!strcmp(op, "duplicate")) {
		s->db = DB_LOADED;
		s->rep_scheme = SCHEME_EXISTS;
		s->rep_state = REP_IDLE;
	}
}

/* Runs the state's procedure to its end, completing each order with next_result. */
static time_t clock_now = 1000;

static enum proc_outcome
run(struct ttc_object *o, int max)
{
	enum proc_outcome out = PROC_WAITING;

	for (int n = 0; n < max; n++) {
		clock_now += 100; /* past any retry pause */
		out = proc_advance(o, clock_now);
		if (out == PROC_DONE || out == PROC_FAILED)
			return out;
		if (!queue.pending)
			return out;
		queue.pending = 0;
		if (next_result == ORDER_OK)
			apply(o, queue.pod, queue.op, queue.body);
		proc_order_done(o, queue.work, next_result, "TT8191: bad", clock_now);
		o->run.need_fresh = 0; /* the state read after the order */
	}
	return out;
}

/* n pods that exist and answer, with nothing made on them yet. */
static void
empty_pods(struct ttc_object *o, struct pod_view *pods, int n)
{
	memset(pods, 0, n * sizeof(*pods));
	o->pods = pods;
	o->npods = n;
	for (int i = 0; i < n; i++) {
		pods[i].exists = 1;
		pods[i].reachable = 1;
		snprintf(pods[i].uid, sizeof(pods[i].uid), "uid-%d", i);
		agent_state_unknown(&pods[i].st);
		pods[i].st.instance = INSTANCE_NONE;
		pods[i].st.daemon = DAEMON_DOWN;
		pods[i].st.db = DB_NONE;
		pods[i].st.rep_agent = RUNNING_NO;
		pods[i].st.rep_scheme = SCHEME_NONE;
		pods[i].st.rep_state = REP_IDLE;
	}
}

/* Roles decided, and the status naming them written (as the controller does). */
static void
set_roles(struct ttc_object *o, int active)
{
	object_set_roles(o, active);
	o->roles_recorded = o->roles_gen;
}

static void
fresh(struct ttc_object *o, int state)
{
	static struct pod_view pods[2];

	memset(o, 0, sizeof(*o));
	empty_pods(o, pods, 2);
	o->topo = &pair_topology;
	o->name = "sample";
	o->ns = "ns";
	o->rep_statement = "create active standby pair ...";
	o->fx = &fx;
	o->fence = o->anew = -1;
	o->state = state;
	if (state == TTC_ST_CONFIGURING_ACTIVE) {
		/* As entering it does: the other pod is the one to fence. */
		o->fence = 1;
		snprintf(o->fence_uid, sizeof(o->fence_uid), "uid-1");
	}
	set_roles(o, 0);
	orders[0] = '\0';
	bodies[0] = '\0';
	memset(deleted, 0, sizeof(deleted));
	queue.pending = 0;
	next_result = ORDER_OK;
}

static void
test_initialize(void)
{
	struct ttc_object o;

	fresh(&o, TTC_ST_INITIALIZING);
	is_int(run(&o, 50), PROC_DONE, "initialisation ends");
	is_str(orders,
	       "createInstance@0 startDaemon@0 createDatabase@0 createAdminUser@0 runSchema@0 "
	       "createRepScheme@0 setRepState@0 startRepAgent@0 setActive@0 createInstance@1 "
	       "startDaemon@1 duplicate@1 startRepAgent@1 runEpilog@0 ",
	       "the active is built, then duplicated to the standby");
	ok(o.pods[0].initialized && o.pods[1].initialized,
	   "both databases are remembered as built");
	is_int(proc_advance(&o, clock_now), PROC_IDLE, "the end is reported once");

	/* A restart after the database was created but before schema.sql ran. */
	fresh(&o, TTC_ST_INITIALIZING);
	o.pods[0].st.instance = INSTANCE_EXISTS;
	o.pods[0].st.daemon = DAEMON_UP;
	o.pods[0].st.db = DB_LOADED;
	run(&o, 4);
	is_str(orders, "destroyDatabase@0 createDatabase@0 createAdminUser@0 runSchema@0 ",
	       "an unfinished database is cleared and built again");

	/* A restart after the active was fully built. */
	fresh(&o, TTC_ST_INITIALIZING);
	o.pods[0].initialized = 1;
	o.pods[0].st.instance = INSTANCE_EXISTS;
	o.pods[0].st.daemon = DAEMON_UP;
	o.pods[0].st.db = DB_LOADED;
	o.pods[0].st.rep_scheme = SCHEME_EXISTS;
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[0].st.rep_agent = RUNNING_YES;
	o.pods[0].st.active_marker = 1;
	run(&o, 1);
	is_str(orders, "createInstance@1 ", "what is observed done is skipped");
}

static void
test_fail_over(void)
{
	struct ttc_object o;

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].st.daemon = DAEMON_UP;
	o.pods[0].st.db = DB_LOADED;
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[0].st.updatable = UPDATABLE_YES;
	o.pods[0].st.active_marker = 1;
	o.pods[1].st.rep_state = REP_STANDBY;
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	is_int(run(&o, 10), PROC_DONE, "a failover ends");
	is_str(orders, "setRepState@0 clearActive@0 setRepState@1 ",
	       "the old active is fenced and unmarked before the standby is promoted");

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[0].st.updatable = UPDATABLE_YES;
	o.pods[0].terminating = 1;
	o.pods[0].reachable = 0;
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	is_int(run(&o, 10), PROC_WAITING, "an active that cannot be told blocks promotion");
	is_int(deleted[0], 1, "its pod is deleted (once) instead");
	is_int(deleted_grace[0], 1,
	       "gracefully (1 s), so that the pod is gone only once its kubelet stopped it");
	is_str(orders, "", "and nothing is promoted yet");
	o.pods[0].exists = 0;
	is_int(run(&o, 10), PROC_DONE, "once the pod is gone, the standby is promoted");
	is_str(orders, "setRepState@1 ", "promoted");

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].st.daemon = DAEMON_UP;
	o.pods[0].st.db = DB_LOADED;
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[0].st.updatable = UPDATABLE_YES;
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	next_result = ORDER_FAILED;
	run(&o, 3);
	ok(deleted[0] == 1 && strstr(orders, "@1") == NULL,
	   "a refused fence becomes a deletion, still before any promotion");
}

/* What counts as fenced: proof that the old active cannot take writes. */
static void
test_fence_evidence(void)
{
	struct ttc_object o;

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	agent_state_unknown(&o.pods[0].st); /* the agent answers but learned nothing */
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	proc_advance(&o, clock_now);
	is_str(orders, "setRepState@0 ", "a state it could not learn is no proof: it is told to stop");

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].st.daemon = DAEMON_DOWN;
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	o.pods[0].st.active_marker = 1;
	proc_advance(&o, clock_now);
	is_str(orders, "clearActive@0 ", "a dead daemon takes no writes: only its marker goes");

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	snprintf(o.pods[0].uid, sizeof(o.pods[0].uid), "a-new-pod");
	set_roles(&o, 1);
	proc_advance(&o, clock_now);
	is_str(orders, "setRepState@1 ", "a new pod in its place: the old one is gone, promote");
}

/* A lease proves the fence only once its bound has passed, for the pod that held it. */
static void
test_fence_by_lease(void)
{
	struct ttc_object o;
	long long sent = 500000, bound = lease_bound_ms(sent, 30);

	is_int((int)(bound - sent), 5000 + 2000 + 30000 + 300 + 1000,
	       "bound: request 5 s + network 2 s + 30 s at 1%% rate difference + 1 s late");
	is_int((int)lease_seconds(NULL), 30, "30 s lease for the default pollingInterval");

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[0].terminating = 1;
	o.pods[0].reachable = 0;
	lease_sent(&o, 0, 30, sent);
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	o.now_ms = bound + 60000;
	proc_advance(&o, clock_now);
	is_str(orders, "", "a grant never acknowledged proves nothing, however old");
	is_int(deleted[0], 1, "the pod is deleted as before");

	lease_acknowledged(&o, 0);
	o.now_ms = bound - 1;
	o.now = clock_now;
	o.wake_at = 0;
	proc_advance(&o, clock_now);
	is_str(orders, "", "an acknowledged lease before its bound: still no promotion");
	ok(o.wake_at == clock_now + 1, "the object is looked at again when the bound passes");
	lease_sent(&o, 0, 30, sent + 4000); /* a later grant moves the bound */
	o.now_ms = bound;
	proc_advance(&o, clock_now);
	is_str(orders, "", "a later grant moves the bound on");
	o.now_ms = bound + 4000;
	events[0] = '\0';
	proc_advance(&o, clock_now);
	is_str(orders, "setRepState@1 ", "past the bound, the standby is promoted");
	ok(strstr(events, "Fence: Pod sample-0: its 30 s lease ran out unrenewed") != NULL,
	   "an Event says the lease proved it");

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].terminating = 1;
	o.pods[0].reachable = 0;
	lease_restore(&o, 0, "another-pod", 30, 0);
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	o.now_ms = 10000000;
	proc_advance(&o, clock_now);
	is_str(orders, "", "a lease another pod held proves nothing of this one");

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].terminating = 1;
	o.pods[0].reachable = 0;
	lease_restore(&o, 0, "uid-0", 30, 100000); /* a restarted operator, at 100 s */
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	o.now_ms = lease_bound_ms(100000, 30) - 1;
	proc_advance(&o, clock_now);
	is_str(orders, "", "after a restart the bound counts from the restart");
	o.now_ms++;
	proc_advance(&o, clock_now);
	is_str(orders, "setRepState@1 ", "and holds once it passed");

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].reachable = 0;
	lease_restore(&o, 0, "uid-0", 30, 0);
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	set_roles(&o, 1);
	o.now_ms = lease_bound_ms(0, 30);
	proc_advance(&o, clock_now);
	ok(deleted[0] == 1 && strcmp(orders, "setRepState@1 ") == 0,
	   "a lease already run out promotes at once, and the pod that could not be told is "
	   "still deleted so that a new one replaces it");
}

/* Pod i serves as the ACTIVE database, not yet marked for the Service. */
static void
serving_active(struct ttc_object *o, int i)
{
	struct agent_state *s = &o->pods[i].st;

	s->instance = INSTANCE_EXISTS;
	s->daemon = DAEMON_UP;
	s->db = DB_LOADED;
	s->rep_scheme = SCHEME_EXISTS;
	s->rep_state = REP_ACTIVE;
	s->updatable = UPDATABLE_YES;
	s->rep_agent = RUNNING_YES;
}

/* ActiveTakeover: the active, alone, records its peer failed and is marked for the Service. */
static void
test_take_over(void)
{
	struct ttc_object o;

	/* After a failover: -1 was promoted, -0 is gone. */
	fresh(&o, TTC_ST_ACTIVE_TAKEOVER);
	set_roles(&o, 1);
	serving_active(&o, 1);
	o.pods[0].exists = 0;
	is_int(run(&o, 10), PROC_DONE, "taking over ends");
	is_str(orders, "setPeerFailed@1 setActive@1 ",
	       "the new active records its peer failed, then is marked active");
	is_str(bodies,
	       "setPeerFailed@1 "
	       "{\"peer\":\"sample\",\"host\":\"sample-0.sample.ns.svc.cluster.local\"}\n",
	       "the peer named as the replication scheme names the old active");

	/* The standby lost under a healthy, marked active: only the peer is recorded. */
	fresh(&o, TTC_ST_ACTIVE_TAKEOVER);
	serving_active(&o, 0);
	o.pods[0].st.active_marker = 1;
	o.pods[1].exists = 0;
	is_int(run(&o, 10), PROC_DONE, "taking over from a marked active ends");
	is_str(orders, "setPeerFailed@0 ", "the marker already there is not set again");
	like(bodies, "\"host\":\"sample-1.sample.ns.svc.cluster.local\"",
	     "the peer recorded failed is the lost standby");

	/* Taken over from a status that still said ActiveTakeover, the standby back and
	 * caught up: it is not recorded failed, which would stop its replication. */
	fresh(&o, TTC_ST_ACTIVE_TAKEOVER);
	serving_active(&o, 0);
	o.pods[0].st.active_marker = 1;
	serving_active(&o, 1);
	o.pods[1].st.rep_state = REP_STANDBY;
	o.pods[1].st.updatable = UPDATABLE_NO;
	o.pods[0].last_reachable = o.pods[1].last_reachable = clock_now;
	o.now = clock_now;
	is_int(run(&o, 10), PROC_DONE, "taking over with the standby back ends");
	is_str(orders, "", "the healthy STANDBY is not recorded failed");

	fresh(&o, TTC_ST_ACTIVE_TAKEOVER);
	set_roles(&o, 1);
	serving_active(&o, 1);
	next_result = ORDER_FAILED;
	is_int(run(&o, 10), PROC_FAILED, "the peer refused as failed: taking over fails");
	like(o.run.failure, "record the standby failed: TT8191: bad", "saying which step and why");
	is_str(orders, "setPeerFailed@1 ", "and the active is not marked");
}

/* ConfiguringActive: the chosen database is loaded on its pod and made ACTIVE. */
static void
test_configure_active(void)
{
	struct ttc_object o;

	/* BothDown chose -1: its database is on disk, its daemon down. */
	fresh(&o, TTC_ST_CONFIGURING_ACTIVE);
	set_roles(&o, 1);
	o.pods[1].st.instance = INSTANCE_EXISTS;
	o.pods[1].st.db = DB_UNLOADED;
	is_int(run(&o, 10), PROC_DONE, "configuring the chosen database ends");
	is_str(orders,
	       "startDaemon@1 load@1 createRepScheme@1 setRepState@1 startRepAgent@1 setActive@1 ",
	       "all on the chosen pod: daemon, load, scheme, ACTIVE, replication, marker");
	is_str(bodies,
	       "createRepScheme@1 {\"statement\":\"create active standby pair ...\"}\n"
	       "setRepState@1 {\"state\":\"ACTIVE\"}\n",
	       "with the object's replication scheme, and ACTIVE");

	/* Reexamine found -0 repaired by hand: loaded, IDLE, no replication scheme. */
	fresh(&o, TTC_ST_CONFIGURING_ACTIVE);
	o.pods[0].st.instance = INSTANCE_EXISTS;
	o.pods[0].st.daemon = DAEMON_UP;
	o.pods[0].st.db = DB_LOADED;
	is_int(run(&o, 10), PROC_DONE, "configuring a repaired database ends");
	is_str(orders, "createRepScheme@0 setRepState@0 startRepAgent@0 setActive@0 ",
	       "what is observed done is skipped");

	/* The database an upgrade quiesced, loaded again: still closed to users. */
	fresh(&o, TTC_ST_CONFIGURING_ACTIVE);
	o.pods[0].st.instance = INSTANCE_EXISTS;
	o.pods[0].st.daemon = DAEMON_UP;
	o.pods[0].st.db = DB_LOADED;
	o.pods[0].st.open = UPDATABLE_NO;
	o.pods[0].st.rep_scheme = SCHEME_EXISTS;
	is_int(run(&o, 10), PROC_DONE, "configuring a closed database ends");
	like(orders, "openDatabase@0 ", "after it is opened to user connections");

	fresh(&o, TTC_ST_CONFIGURING_ACTIVE);
	set_roles(&o, 1);
	o.pods[1].st.instance = INSTANCE_EXISTS;
	o.pods[1].st.daemon = DAEMON_UP;
	o.pods[1].st.db = DB_UNLOADED;
	next_result = ORDER_FAILED;
	is_int(run(&o, 10), PROC_FAILED, "a database that will not load fails the procedure");
	like(o.run.failure, "load the database: TT8191: bad", "saying which step and why");
	is_str(orders, "load@1 ", "and nothing more is tried on it");
}

static void
test_failures(void)
{
	struct ttc_object o;

	fresh(&o, TTC_ST_INITIALIZING);
	next_result = ORDER_FAILED;
	is_int(run(&o, 5), PROC_FAILED, "a refused order fails the procedure");
	like(o.run.failure, "instance on the active: TT8191: bad", "saying which step and why");
	is_int(proc_advance(&o, clock_now), PROC_IDLE, "reported once");

	fresh(&o, TTC_ST_INITIALIZING);
	next_result = ORDER_TRANSIENT;
	is_int(run(&o, 3), PROC_WAITING, "an unanswered order is tried again later");
	is_int(o.run.attempts, 3, "counting the attempts");
	ok(o.run.retry_at > clock_now, "with a pause before the next try");
	is_int(run(&o, 40), PROC_FAILED, "until too many attempts fail it");

	fresh(&o, TTC_ST_STANDBY_STARTING);
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[1].terminating = 1;
	is_int(run(&o, 3), PROC_FAILED, "a step whose pod is gone fails at once");

	fresh(&o, TTC_ST_NORMAL);
	is_int(proc_advance(&o, 1000), PROC_IDLE, "Normal has no procedure");

	fresh(&o, TTC_ST_STANDBY_STARTING);
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[1].st.instance = INSTANCE_EXISTS;
	o.pods[1].st.daemon = DAEMON_UP;
	o.pods[1].st.db = DB_LOADED;
	o.pods[1].st.active_marker = 1;
	proc_advance(&o, 1000);
	unsigned old = queue.work;
	proc_reset(&o);
	proc_advance(&o, 1000); /* the new run sends its own first order */
	proc_order_done(&o, old, ORDER_OK, NULL, 1001);
	ok(o.run.next == 0 && o.run.inflight,
	   "an order that ends after the state moved on is ignored");
	proc_order_done(&o, queue.work, ORDER_OK, NULL, 1001);
	is_int(o.run.next, 1, "the new run's own order counts");
}

static void
test_fresh(void)
{
	struct ttc_object o;

	fresh(&o, TTC_ST_STANDBY_STARTING);
	o.pods[0].st.rep_state = REP_ACTIVE;
	o.pods[1].st.instance = INSTANCE_EXISTS;
	o.pods[1].st.daemon = DAEMON_UP;
	o.pods[1].st.db = DB_LOADED;
	o.pods[1].st.rep_scheme = SCHEME_EXISTS;
	proc_advance(&o, clock_now);
	is_str(queue.op, "destroyDatabase", "the standby's old database is destroyed first");
	queue.pending = 0;
	proc_order_done(&o, queue.work, ORDER_OK, NULL, clock_now);
	is_int(proc_advance(&o, clock_now), PROC_WAITING,
	       "after an order, nothing is decided on what was seen before it");
	ok(!queue.pending, "no order goes out meanwhile");
	o.pods[1].st.db = DB_NONE;
	o.pods[1].st.rep_scheme = SCHEME_NONE;
	o.run.need_fresh = 0;
	proc_advance(&o, clock_now);
	is_str(queue.op, "duplicate", "the fresh state shows no database: duplicate");
}

/* Three independent databases, none made yet; pod `target` is the one worked on. */
static void
fresh_nonrep(struct ttc_object *o, int target)
{
	static struct pod_view pods[3];

	fresh(o, TTC_ST_INITIALIZING);
	empty_pods(o, pods, 3);
	o->topo = &nonrep_topology;
	o->rep_statement = NULL;
	o->target = target;
	for (int i = 0; i < 3; i++)
		o->pods[i].st.admin_user_file = 1;
	events[0] = '\0';
}

static void
test_nonrep(void)
{
	struct ttc_object o;

	fresh_nonrep(&o, 2);
	is_int(run(&o, 50), PROC_DONE, "a non-replicated pod is brought up");
	is_str(orders,
	       "createInstance@2 startDaemon@2 createDatabase@2 createAdminUser@2 runSchema@2 "
	       "runEpilog@2 setReady@2 ",
	       "instance, daemon, database, admin user, schema, epilog, ready: on its own pod");
	like(bodies, "createDatabase@2 {\"dsn\":\"sample\"}\n", "no replication attributes");
	ok(o.pods[2].initialized && !o.pods[2].creating && !o.pods[0].initialized,
	   "that database is remembered as made, the others not");

	/* The pod deleted and made again: its volume holds the database. */
	fresh_nonrep(&o, 0);
	o.pods[0].initialized = 1;
	o.pods[0].st.instance = INSTANCE_EXISTS;
	o.pods[0].st.db = DB_UNLOADED;
	run(&o, 50);
	is_str(orders, "startDaemon@0 load@0 setReady@0 ",
	       "a database made before is loaded, never made again");

	/* A database on a volume the operator has no record of making. */
	fresh_nonrep(&o, 1);
	o.pods[1].st.instance = INSTANCE_EXISTS;
	o.pods[1].st.daemon = DAEMON_UP;
	o.pods[1].st.db = DB_UNLOADED;
	run(&o, 50);
	is_str(orders, "load@1 setReady@1 ", "a database found is kept as it is");
	like(events, "DatabaseKept: Pod sample-1 holds a database on its volume: kept as it is",
	     "with an Event saying so");
	ok(o.pods[1].initialized, "and remembered as made");

	/* Interrupted after the database was made, before its schema ran. */
	fresh_nonrep(&o, 0);
	o.pods[0].creating = 1;
	o.pods[0].st.instance = INSTANCE_EXISTS;
	o.pods[0].st.daemon = DAEMON_UP;
	o.pods[0].st.db = DB_LOADED;
	run(&o, 50);
	is_str(orders,
	       "destroyDatabase@0 createDatabase@0 createAdminUser@0 runSchema@0 runEpilog@0 "
	       "setReady@0 ",
	       "a half-made database is cleared and made again");

	/* No adminUser in /ttconfig: none to make. */
	fresh_nonrep(&o, 0);
	o.pods[0].st.admin_user_file = 0;
	run(&o, 50);
	is_str(orders,
	       "createInstance@0 startDaemon@0 createDatabase@0 runSchema@0 runEpilog@0 "
	       "setReady@0 ",
	       "without adminUser no admin user is made");

	/* No pod to work on: no procedure. */
	fresh_nonrep(&o, -1);
	is_int(proc_advance(&o, clock_now), PROC_IDLE, "no target, nothing to do");
	fresh_nonrep(&o, 0);
	o.state = TTC_ST_ALL_READY;
	is_int(proc_advance(&o, clock_now), PROC_IDLE, "AllReplicasReady has no work");
}

/* A database is made ACTIVE only once the status naming it the active is written. */
static void
test_promotion_waits_for_status(void)
{
	struct ttc_object o;

	fresh(&o, TTC_ST_ACTIVE_DOWN);
	o.pods[0].st.daemon = DAEMON_DOWN; /* fenced: takes no writes */
	o.fence = 0;
	strcpy(o.fence_uid, "uid-0");
	object_set_roles(&o, 1); /* status not written yet */
	o.pods[1].st.daemon = DAEMON_UP;
	o.pods[1].st.db = DB_LOADED;
	o.pods[1].st.rep_state = REP_STANDBY;
	is_int(proc_advance(&o, clock_now), PROC_WAITING,
	       "fenced, the status not yet written: waits");
	is_str(orders, "", "and promotes nobody");
	o.roles_recorded = o.roles_gen; /* the write succeeded */
	proc_advance(&o, clock_now);
	is_str(orders, "setRepState@1 ", "once status names -1 the active, it is promoted");
}

/* ConfiguringActive offers the scheme for a new start only for o->anew, and only while the
 * other pod shows a database that takes no writes and is no STANDBY. */
static void
test_configure_anew(void)
{
	struct ttc_object o;
	struct agent_state *a, *b;

	fresh(&o, TTC_ST_CONFIGURING_ACTIVE);
	a = &o.pods[0].st;
	b = &o.pods[1].st;
	a->instance = INSTANCE_EXISTS;
	a->daemon = DAEMON_UP;
	a->db = DB_LOADED;
	a->open = UPDATABLE_YES;
	a->rep_scheme = SCHEME_EXISTS;
	a->rep_state = REP_IDLE; /* deactivated by its lease */
	o.anew = 0;
	proc_advance(&o, clock_now);
	is_str(bodies,
	       "setRepState@0 {\"state\":\"ACTIVE\",\"statement\":\"create active "
	       "standby pair ...\"}\n",
	       "the other pod's daemon is down: ACTIVE, with the scheme to make anew");
	events[0] = '\0';
	proc_order_done(&o, o.work, ORDER_OK, "rep state set to ACTIVE under a scheme made anew",
	                clock_now);
	ok(strstr(events, "Warning ActiveConfigured: Pod sample-0: rep state set to ACTIVE under "
	                  "a scheme made anew") != NULL,
	   "an Event says what the agent did: %s", events);
	is_int(o.anew, -1, "once only");

	struct agent_state chosen = *a;

	/* The chosen pod on its way out: its successor has its volume, so the run waits. */
	fresh(&o, TTC_ST_CONFIGURING_ACTIVE);
	o.pods[0].terminating = 1;
	is_int(proc_advance(&o, clock_now), PROC_WAITING,
	       "ConfiguringActive, the chosen pod terminating: waits, does not fail");
	ok(o.run.failure[0] == '\0' && orders[0] == '\0', "no order, no failure");
	struct {
		int daemon, db, rep_state, reachable, anew;
		const char *bodies, *why;
	} no[] = {
	    {DAEMON_UP, DB_LOADED, REP_STANDBY, 1, 0, "setRepState@0 {\"state\":\"ACTIVE\"}\n",
	     "the other is a STANDBY: ACTIVE, no scheme made anew"},
	    {DAEMON_UP, DB_LOADED, REP_ACTIVE, 1, 0, "setRepState@1 {\"state\":\"IDLE\"}\n",
	     "the other is ACTIVE: it is fenced first"},
	    {DAEMON_UP, DB_LOADED, REP_UNKNOWN, 1, 0, "setRepState@1 {\"state\":\"IDLE\"}\n",
	     "the other's state is not known: it is fenced first"},
	    {DAEMON_DOWN, DB_NONE, REP_IDLE, 0, 0, "",
	     "the other's agent does not answer: its pod is deleted, nothing made ACTIVE"},
	    {DAEMON_DOWN, DB_NONE, REP_IDLE, 1, -1, "setRepState@0 {\"state\":\"ACTIVE\"}\n",
	     "the chosen one was not serving when both went: ACTIVE, no scheme made anew"},
	};
	for (size_t k = 0; k < sizeof(no) / sizeof(no[0]); k++) {
		fresh(&o, TTC_ST_CONFIGURING_ACTIVE);
		o.pods[0].st = chosen;
		b = &o.pods[1].st;
		b->daemon = no[k].daemon;
		b->db = no[k].db;
		b->rep_state = no[k].rep_state;
		o.pods[1].reachable = no[k].reachable;
		o.anew = no[k].anew;
		proc_advance(&o, clock_now);
		is_str(bodies, no[k].bodies, "%s", no[k].why);
		if (!no[k].reachable)
			ok(deleted[1] == 1 && deleted_grace[1] > 0,
			   "the pod whose agent does not answer is deleted, with a grace period");
	}
}

int
main(void)
{
	test_nonrep();
	test_fresh();
	test_fence_evidence();
	test_promotion_waits_for_status();
	test_configure_anew();
	test_fence_by_lease();
	test_initialize();
	test_fail_over();
	test_take_over();
	test_configure_active();
	test_failures();
	return done_testing();
}
