/*
 * Tests for src/operator/upgrade.c: the automatic upgrade of a pair step by step against
 * a scripted world (pods replaced, roles swapped as the object's machine would), its
 * failures, the Manual strategy, and classicUpgradeStatus written and read back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/operator/ctl.h"
#include "../../src/operator/object.h"
#include "../../src/operator/status.h"
#include "../../src/operator/topology.h"
#include "../../src/operator/ttc.h"
#include "../../src/operator/upgrade.h"
#include "tap.h"
#include "ttc/json.h"

static char events[8192];
static int warnings;
static int deleted[4], grace[4], ndeleted;

static void
fake_event(struct ttc_object *o, int warning, const char *reason, const char *msg)
{
	(void)o;
	(void)reason;
	warnings += warning;
	snprintf(events + strlen(events), sizeof(events) - strlen(events), "%s|", msg);
}

static int
fake_order(struct ttc_object *o, int i, const char *op, char *body, int async)
{
	(void)o;
	(void)i;
	(void)op;
	(void)async;
	free(body);
	return 0;
}

static int
fake_delete(struct ttc_object *o, int i, int g)
{
	(void)o;
	if (ndeleted < 4) {
		deleted[ndeleted] = i;
		grace[ndeleted] = g;
	}
	ndeleted++;
	return 0;
}

static const struct ttc_effects fx = {fake_event, fake_order, fake_delete};

static void
forget(void)
{
	events[0] = '\0';
	warnings = ndeleted = 0;
}

static struct pod_view pods[2];
static char image[64];

/* Pod i healthy in its role on image img, with a new uid. */
static void
healthy_pod(struct ttc_object *o, int i, const char *img, const char *uid)
{
	struct pod_view *p = &o->pods[i];

	p->exists = 1;
	p->terminating = 0;
	p->reachable = 1;
	p->quiescing = 0;
	snprintf(p->uid, sizeof(p->uid), "%s", uid);
	snprintf(p->image, sizeof(p->image), "%s", img);
	agent_state_unknown(&p->st);
	p->st.daemon = DAEMON_UP;
	p->st.db = DB_LOADED;
	p->st.rep_agent = RUNNING_YES;
	p->st.rep_scheme = SCHEME_EXISTS;
	p->st.rep_state = p->role == ROLE_ACTIVE ? REP_ACTIVE : REP_STANDBY;
	p->st.updatable = p->role == ROLE_ACTIVE ? UPDATABLE_YES : UPDATABLE_NO;
	p->st.open = UPDATABLE_YES;
}

/* A Normal pair on tt:1, -0 active, its spec now asking for tt:2. */
static void
normal_pair(struct ttc_object *o, struct ttc_spec *spec, int strategy)
{
	memset(o, 0, sizeof(*o));
	memset(spec, 0, sizeof(*spec));
	memset(pods, 0, sizeof(pods));
	snprintf(image, sizeof(image), "tt:2");
	spec->image = image;
	spec->image_upgrade_strategy = strategy;
	spec->unreachable_timeout = 30;
	spec->upgrade_down_pod_timeout = 600;
	spec->agent_post_timeout = 600;
	o->name = "sample";
	o->ns = "ns";
	o->spec = spec;
	o->fx = &fx;
	o->topo = &pair_topology;
	o->pods = pods;
	o->npods = 2;
	o->fence = o->ahead = o->serving = o->target = o->anew = -1;
	object_set_roles(o, 0);
	healthy_pod(o, 0, "tt:1", "uid-a");
	healthy_pod(o, 1, "tt:1", "uid-b");
	o->state = TTC_ST_NORMAL;
	o->now = 1000;
	snprintf(o->up.image, sizeof(o->up.image), "tt:1");
	o->up.template_ready = 1;
	forget();
}

static int
step(struct ttc_object *o, time_t now)
{
	o->now = now;
	o->wake_at = 0;
	return upgrade_step(o);
}

static void
test_table(void)
{
	char err[512] = "";

	is_int(fsm_check(&upgrade_table, err, sizeof(err)), 0,
	       "the upgrade table: every state reachable, no dead ends, no ambiguous rows");
	if (err[0])
		diag("%s", err);
}

static void
test_auto(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	normal_pair(&o, &spec, UPGRADE_AUTO);
	o.up.template_ready = 0;
	step(&o, 1000);
	is_int(o.up.state, UPG_NONE, "nothing before the StatefulSet has the new template");
	is_int(ndeleted, 0, "no pod deleted");

	o.up.template_ready = 1;
	is_int(step(&o, 1000), 0, "then the upgrade starts");
	is_int(o.up.state, UPG_STANDBY, "with the standby");
	is_str(events, "Image updated, automatic upgrade started|Deleted STANDBY pod sample-1 per upgrade|",
	       "the Events of seed 004, in order");
	ok(ndeleted == 1 && deleted[0] == 1 && grace[0] == -1,
	   "the standby's pod deleted, with its own grace period");
	is_int((int)o.up.start_time, 1000, "the start time kept");
	ok(o.up.pending, "an image update pending");
	ok(strcmp(o.pods[0].prev_image, "tt:1") == 0 && strcmp(o.pods[1].prev_image, "tt:1") == 0,
	   "each pod's prevImage is the image before the change");

	forget();
	o.pods[1].terminating = 1;
	o.state = TTC_ST_ACTIVE_TAKEOVER;
	step(&o, 1001);
	is_int(ndeleted, 0, "a terminating standby is not deleted again");
	o.pods[1].terminating = 0;
	step(&o, 1002);
	is_int(ndeleted, 0, "nor the same pod seen again before the informer says it terminates");

	/* The StatefulSet makes it again on tt:2; the object rebuilds it. */
	healthy_pod(&o, 1, "tt:2", "uid-c");
	o.pods[1].st.rep_state = REP_IDLE;
	o.state = TTC_ST_STANDBY_STARTING;
	step(&o, 1010);
	is_int(o.up.state, UPG_STANDBY, "the new standby not serving yet: the upgrade waits");
	is_int(ndeleted, 0, "a pod on the new image is never deleted");
	ok(o.wake_at == 1000 + 600, "and asks to be looked at when upgradeDownPodTimeout ends");

	healthy_pod(&o, 1, "tt:2", "uid-c");
	o.state = TTC_ST_STANDBY_CATCHUP;
	step(&o, 1020);
	is_int(o.up.state, UPG_STANDBY, "not before the object is Normal");
	o.state = TTC_ST_NORMAL;
	forget();
	step(&o, 1021);
	is_int(o.up.state, UPG_QUIESCING, "Normal, standby on the new image: the active is quiesced");
	like(events, "Quiescing ACTIVE pod sample-0 per upgrade", "saying so");
	ok(o.pods[0].quiescing, "the active marked quiescing");
	is_int(ndeleted, 0, "not deleted yet");
	ok(upgrade_procedure(&o) == NULL,
	   "no order before the status says the active is being quiesced (a restart must know)");
	o.up.recorded = 1; /* the controller saw that status written */
	o.pods[0].quiescing = 0;
	ok(upgrade_procedure(&o) == NULL,
	   "nor to an active not chosen for it (a failover came between)");
	o.pods[0].quiescing = 1;
	const struct proc *q = upgrade_procedure(&o);
	ok(q != NULL && upgrade_owns(q) && strcmp(q->steps[0].op, "quiesce") == 0,
	   "the quiesce is the procedure now");
	char *body = q ? q->steps[0].body(&o, 0) : NULL;
	is_str(body ? body : "", "{\"waitSeconds\":595}",
	       "bounded by upgradeDownPodTimeout, within agentPostTimeout");
	free(body);
	ok(pair_topology.procedure(&o) == q, "the pair runs it while Normal");

	/* The agent closed it: still the serving active for the object's machine. */
	o.pods[0].st.updatable = UPDATABLE_NO;
	o.pods[0].st.open = UPDATABLE_NO;
	is_int(object_pod_class(&o, 0, 1022), POD_HEALTHY, "a quiesced active is no lost active");
	o.pods[0].quiescing = 0;
	is_int(object_pod_class(&o, 0, 1022), POD_AVAILABLE, "a closed active not quiesced is");
	o.pods[0].quiescing = 1;
	/* The quiesce's disconnect cut the probe's ttIsql short: updatability unknown, the
	 * database still open in ttStatus's answer (read just before the close). */
	o.pods[0].st.updatable = UPDATABLE_UNKNOWN;
	o.pods[0].st.open = UPDATABLE_YES;
	o.pods[0].st.rep_scheme = SCHEME_UNKNOWN;
	is_int(object_pod_class(&o, 0, 1022), POD_HEALTHY,
	       "a quiesced active whose probe its disconnect cut short is no lost active");
	o.pods[0].st.daemon = DAEMON_DOWN;
	is_int(object_pod_class(&o, 0, 1022), POD_AVAILABLE, "but one whose daemon is down is");
	o.pods[0].st.daemon = DAEMON_UP;
	o.pods[0].st.updatable = UPDATABLE_NO;
	o.pods[0].st.open = UPDATABLE_NO;
	o.pods[0].st.rep_scheme = SCHEME_EXISTS;

	forget();
	is_int(upgrade_proc_ended(&o, 1), 0, "the standby has every commit");
	is_int(o.up.state, UPG_ACTIVE, "the active's turn");
	is_str(events, "Deleted ACTIVE pod sample-0 per upgrade|", "saying so");
	ok(ndeleted == 1 && deleted[0] == 0, "the active's pod deleted");
	ok(upgrade_procedure(&o) == NULL, "no more quiesce");
	forget();
	step(&o, 1022);
	is_int(o.up.state, UPG_ACTIVE, "the deleted active, not yet seen terminating, is not quiesced again");
	is_str(events, "", "nothing said");

	/* The object fails over; the old active comes back on tt:2 and catches up. */
	object_set_roles(&o, 1);
	o.pods[0].terminating = 1;
	o.state = TTC_ST_ACTIVE_DOWN;
	forget();
	step(&o, 1030);
	is_int(ndeleted, 0, "during the failover nothing is deleted");
	healthy_pod(&o, 1, "tt:2", "uid-c");
	healthy_pod(&o, 0, "tt:2", "uid-d");
	o.state = TTC_ST_STANDBY_CATCHUP;
	step(&o, 1100);
	is_int(o.up.state, UPG_NONE, "both serving on the new image: done");
	is_str(events, "Upgrade of ACTIVE complete|Upgrade completed in 100 secs|",
	       "before the object is Normal, as seed 004 shows");
	ok(!o.up.pending && o.up.start_time == 0, "nothing pending, the times cleared");
	is_str(o.up.image, "tt:2", "the image upgraded to kept");
	forget();
	o.state = TTC_ST_NORMAL;
	step(&o, 1101);
	is_str(events, "", "nothing more");
}

static void
test_standby_never_back(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	normal_pair(&o, &spec, UPGRADE_AUTO);
	spec.upgrade_down_pod_timeout = 20;
	step(&o, 1000);
	o.pods[1].exists = 0;
	o.state = TTC_ST_STANDBY_DOWN;
	is_int(step(&o, 1019), 0, "within upgradeDownPodTimeout the upgrade waits");
	forget();
	is_int(step(&o, 1020), 1, "then it fails: the object is to go hands off");
	is_int(o.up.state, UPG_FAILED, "the upgrade stopped");
	ok(warnings == 1, "a Warning");
	like(events, "pod sample-1 did not come back healthy", "naming the pod");
	like(o.message, "upgradeDownPodTimeout (20 s)", "the object says why");
	ok(o.pods[1].upgrade_failed, "the pod failed its upgrade");
	o.state = TTC_ST_MANUAL;
	is_str(pair_topology.pod_state(&o, 1, 1020), "UpgradeFailed", "its pod state says so");
	forget();
	step(&o, 1030);
	is_str(events, "", "hands off: nothing more is said or done");
	is_int(ndeleted, 0, "or deleted");

	o.up.reset = 1;
	step(&o, 1040);
	is_int(o.up.state, UPG_NONE, "resetUpgradeState clears it");
	ok(!o.pods[1].upgrade_failed, "and the pod's failure");
	like(events, "upgrade state is cleared", "saying so");
	ok(!o.up.reset, "the reset is taken once");
}

static void
test_quiesce_fails(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	normal_pair(&o, &spec, UPGRADE_AUTO);
	o.up.state = UPG_STANDBY;
	o.up.standby_start = 1000;
	healthy_pod(&o, 1, "tt:2", "uid-c");
	step(&o, 1001);
	is_int(o.up.state, UPG_QUIESCING, "quiescing");
	forget();
	snprintf(o.run.failure, sizeof(o.run.failure), "quiesce the active: Timeout");
	is_int(upgrade_proc_ended(&o, 0), 1, "the standby did not get it all: the upgrade fails");
	is_int(o.up.state, UPG_FAILED, "stopped");
	like(events, "open to connections again", "the active serves on, and the Event says so");
	ok(!o.pods[0].quiescing, "no pod left quiescing");
	is_int(ndeleted, 0, "the active is not deleted");
}

static void
test_manual(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	normal_pair(&o, &spec, UPGRADE_MANUAL);
	step(&o, 1000);
	is_str(events, "Image updated, automatic upgrade disabled|", "the Event of seed 004");
	is_int(o.up.state, UPG_NONE, "no upgrade runs");
	is_int(ndeleted, 0, "nothing restarts");
	ok(o.up.pending, "the image update is pending");
	forget();
	step(&o, 1001);
	is_str(events, "", "said once");
	/* The user deletes the standby, then the active, as the guide shows. */
	healthy_pod(&o, 1, "tt:2", "uid-c");
	step(&o, 1100);
	ok(o.up.pending, "still pending with the active on the old image");
	object_set_roles(&o, 1);
	healthy_pod(&o, 0, "tt:2", "uid-d");
	healthy_pod(&o, 1, "tt:2", "uid-c");
	step(&o, 1200);
	ok(o.up.pending, "still pending once both run the new image, as the guide's describe shows");
	is_str(events, "", "without an Event");
	spec.image_upgrade_strategy = UPGRADE_AUTO;
	step(&o, 1201);
	is_int(o.up.state, UPG_NONE, "switched to Auto with nothing left to upgrade: no upgrade");
	is_int(ndeleted, 0, "no pod deleted");
	is_str(events, "", "nothing started or said");
}

static void
test_waits_for_normal(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	normal_pair(&o, &spec, UPGRADE_AUTO);
	o.state = TTC_ST_STANDBY_DOWN;
	o.pods[1].exists = 0;
	step(&o, 1000);
	is_int(o.up.state, UPG_NONE, "not Normal: the upgrade waits");
	like(events, "starts once the pair is Normal (now StandbyDown)", "saying so");
	forget();
	healthy_pod(&o, 1, "tt:1", "uid-b");
	o.state = TTC_ST_NORMAL;
	step(&o, 1050);
	is_int(o.up.state, UPG_STANDBY, "Normal again: it starts");
	is_str(events, "Automatic upgrade to image tt:2 started|Deleted STANDBY pod sample-1 per upgrade|",
	       "saying so");
}

static void
test_image_changed_again(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	normal_pair(&o, &spec, UPGRADE_AUTO);
	step(&o, 1000);
	forget();
	snprintf(image, sizeof(image), "tt:3");
	step(&o, 1001);
	like(events, "Image updated to tt:3 during the upgrade to tt:2", "the new image is announced");
	is_int(o.up.state, UPG_STANDBY, "the step under way goes on");
	is_str(o.up.image, "tt:3", "toward the new image");
	/* The standby came back on tt:2 before the change reached the StatefulSet. */
	healthy_pod(&o, 1, "tt:2", "uid-c");
	forget();
	step(&o, 1010);
	like(events, "Deleted STANDBY pod sample-1 per upgrade", "a standby on neither is replaced");
}

static void
test_learned_image(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	normal_pair(&o, &spec, UPGRADE_AUTO);
	o.up.image[0] = '\0';
	snprintf(image, sizeof(image), "tt:1");
	step(&o, 1000);
	is_str(o.up.image, "tt:1", "an object adopted without it learns the image its pods run");
	is_str(events, "", "without an Event");
	is_int(o.up.state, UPG_NONE, "and nothing to upgrade");
}

static void
test_status(void)
{
	struct ttc_object o, r;
	struct ttc_spec spec;
	char err[256];

	normal_pair(&o, &spec, UPGRADE_AUTO);
	o.up.prev_reset = "r1";
	step(&o, 1000);
	snprintf(o.pods[1].prev_image, sizeof(o.pods[1].prev_image), "tt:0");
	char *patch = status_patch(&o, 1000);
	yajl_val v = json_parse(patch, strlen(patch), err, sizeof(err));
	yajl_val cus = json_get(v, "status", "classicUpgradeStatus", NULL);
	is_str(json_str(cus, "upgradeState", NULL), "UpgradingStandby", "upgradeState");
	is_str(json_str(cus, "prevUpgradeState", NULL), "", "prevUpgradeState: none");
	ok(json_bool(cus, "imageUpdatePending", NULL) == 1, "imageUpdatePending");
	long long t = 0;
	json_int(cus, &t, "upgradeStartTime", NULL);
	is_int((int)t, 1000, "upgradeStartTime");
	is_str(json_str(cus, "standbyStatus", NULL), "Deleted", "standbyStatus");
	is_str(json_str(cus, "prevResetUpgradeState", NULL), "r1", "prevResetUpgradeState");
	const char *keys[] = {"lastUpgradeStateSwitch", "standbyStartTime", "activeStatus",
	                      "activeStartTime", NULL};
	int all = 1;
	for (int k = 0; keys[k]; k++)
		all &= json_get(cus, keys[k], NULL) != NULL;
	ok(all, "and every other key of seed 004");
	yajl_val p1 = json_at(json_get(v, "status", "podStatus", NULL), 1);
	is_str(json_str(p1, "prevImage", NULL), "tt:0", "each pod's prevImage");
	ok(json_bool(p1, "quiescing", NULL) == 0, "and whether it is quiescing");

	memset(&r, 0, sizeof(r));
	struct pod_view rp[2];
	memset(rp, 0, sizeof(rp));
	r.name = "sample";
	r.pods = rp;
	r.npods = 2;
	r.topo = &pair_topology;
	is_int(status_restore(&r, json_get(v, "status", NULL)), 0, "it restores");
	ok(r.up.state == UPG_STANDBY && r.up.start_time == 1000 && r.up.pending &&
	       strcmp(r.up.image, "tt:2") == 0 && strcmp(r.up.deleted_uid, "uid-b") == 0,
	   "a restarted operator goes on where it stood");
	is_str(r.up.prev_reset ? r.up.prev_reset : "", "r1", "knowing the last reset value");
	is_str(r.pods[1].prev_image, "tt:0", "and each pod's previous image");
	ok(!r.up.recorded, "not quiescing: nothing recorded");
	char quiescing[] = "{\"upgradeState\":\"QuiescingActive\"}";
	char qerr[128];
	yajl_val qv = json_parse(quiescing, strlen(quiescing), qerr, sizeof(qerr));
	upgrade_restore(&r, qv);
	ok(r.up.state == UPG_QUIESCING && r.up.recorded,
	   "a quiesce read back from the status was recorded: it may be ordered again");
	json_free(qv);
	free(r.up.prev_reset);
	free(r.rep_statement);
	free(r.prev_stop_managing);
	free(r.prev_reexamine);
	json_free(v);
	free(patch);
}

/* An operator restarted with the standby not deleted yet finds the active not serving:
 * the standby, the only database serving, stays. */
static void
test_standby_kept_while_active_down(void)
{
	struct ttc_object o;
	struct ttc_spec spec;

	normal_pair(&o, &spec, UPGRADE_AUTO);
	step(&o, 1000);
	is_int(ndeleted, 1, "the upgrade started");
	forget();
	healthy_pod(&o, 1, "tt:1", "uid-b2"); /* not the pod deleted: an older operator's view */
	o.pods[0].st.daemon = DAEMON_DOWN;
	o.state = TTC_ST_BOTH_DOWN;
	step(&o, 1001);
	is_int(ndeleted, 0, "the standby is not deleted while the active does not serve");
	o.pods[0].st.daemon = DAEMON_UP;
	o.state = TTC_ST_STANDBY_DOWN;
	step(&o, 1002);
	ok(ndeleted == 1 && deleted[0] == 1, "once the active serves again, it is");
}

/* An operator killed while the upgrade quiesced the active: its successor reads the status
 * (the active is quiescing) and then sees the pods for the first time. That first sight is
 * not a new pod: the quiesced active, closed to connections, still serves as the active
 * and is not failed over; a pod replaced afterwards is no longer quiescing. */
static void
test_adopted_quiesce(void)
{
	struct managed m;
	struct pod_view pv[2];
	struct pod_link links[2];
	char st[] = "{\"highLevelState\":\"Normal\",\"podStatus\":["
	            "{\"name\":\"sample-0\",\"intendedState\":\"Active\",\"quiescing\":true},"
	            "{\"name\":\"sample-1\",\"intendedState\":\"Standby\",\"quiescing\":false}]}";
	char pod[] = "{\"metadata\":{\"name\":\"sample-0\",\"uid\":\"u0\"},"
	             "\"status\":{\"phase\":\"Running\"}}";
	char err[128];

	memset(&m, 0, sizeof(m));
	memset(pv, 0, sizeof(pv));
	memset(links, 0, sizeof(links));
	m.o.name = "sample";
	m.o.pods = pv;
	m.o.npods = 2;
	m.o.topo = &pair_topology;
	m.links = links;
	yajl_val v = json_parse(st, strlen(st), err, sizeof(err));
	is_int(status_restore(&m.o, v), 0, "a successor restores the status of a quiesce");
	ok(pv[0].quiescing, "the active is quiescing, as the status says");
	yajl_val p = json_parse(pod, strlen(pod), err, sizeof(err));
	observe_pod(&m, 0, p);
	ok(pv[0].quiescing, "the active's pod seen the first time: still quiescing");
	pv[0].st.daemon = DAEMON_UP;
	pv[0].st.db = DB_LOADED;
	pv[0].st.rep_state = REP_ACTIVE;
	pv[0].st.open = UPDATABLE_NO;
	pv[0].st.updatable = UPDATABLE_NO;
	pv[0].reachable = 1;
	is_int(object_pod_class(&m.o, 0, 0), POD_HEALTHY,
	       "and, closed by the quiesce, it serves as the active");
	json_free(p);
	pod[sizeof("{\"metadata\":{\"name\":\"sample-0\",\"uid\":\"u") - 1] = '9';
	p = json_parse(pod, strlen(pod), err, sizeof(err));
	pv[0].reachable = 0; /* no Event to send for this test */
	observe_pod(&m, 0, p);
	ok(!pv[0].quiescing, "a new pod in its place is not quiescing");
	json_free(p);
	json_free(v);
	free(m.o.rep_statement);
	free(m.o.prev_stop_managing);
	free(m.o.prev_reexamine);
	free(m.o.up.prev_reset);
}

int
main(void)
{
	test_table();
	test_auto();
	test_standby_never_back();
	test_quiesce_fails();
	test_manual();
	test_waits_for_normal();
	test_image_changed_again();
	test_learned_image();
	test_status();
	test_standby_kept_while_active_down();
	test_adopted_quiesce();
	return done_testing();
}
