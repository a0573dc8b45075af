/* Tests for src/operator/status.c: what users read, and what a restarted operator recovers. */
#include "config.h"

#include "../../src/operator/object.h"
#include "../../src/operator/status.h"
#include "../../src/operator/topology.h"
#include "tap.h"
#include "ttc/json.h"

int
main(void)
{
	struct ttc_spec spec = {0};
	struct ttc_object o = {0}, back = {0};

	back.name = "sample";
	char err[256];

	o.topo = back.topo = &pair_topology;
	object_resize_pods(&o, 2);
	object_resize_pods(&back, 2);

	spec.unreachable_timeout = 30;
	spec.rep_port = 4444;
	spec.rep_return_service = "return twosafe disable return all 10";
	o.spec = &spec;
	o.name = "sample";
	o.generation = 3;
	o.state = TTC_ST_NORMAL;
	o.prev_state = TTC_ST_INITIALIZING;
	o.last_switch = 1590939597;
	o.last_event = 35;
	o.rep_statement =
	    "create active standby pair ... return twosafe store s disable return all 10";
	object_set_roles(&o, 0);
	for (int i = 0; i < 2; i++) {
		struct pod_view *p = &o.pods[i];
		p->exists = 1;
		p->reachable = 1;
		p->initialized = 1;
		p->last_reachable = p->shown_reachable = 1590939597;
		strcpy(p->phase, "Running");
		snprintf(p->ip, sizeof(p->ip), "192.0.2.%d", i + 1);
		agent_state_unknown(&p->st);
		p->st.instance = INSTANCE_EXISTS;
		p->st.daemon = DAEMON_UP;
		p->st.db = DB_LOADED;
		p->st.rep_agent = RUNNING_YES;
		p->st.rep_scheme = SCHEME_EXISTS;
		p->st.rep_state = i ? REP_STANDBY : REP_ACTIVE;
		p->st.updatable = i ? UPDATABLE_NO : UPDATABLE_YES;
	}
	o.pods[0].st.db_id = 35425;
	o.pods[0].st.admin_user_file = o.pods[0].st.schema_file = 1;
	status_track_pods(&o, 1590939500);
	o.pods[1].exists = 0;
	status_track_pods(&o, 1590939590);
	status_track_pods(&o, 1590939595);
	o.fence = 1;
	strcpy(o.fence_uid, "uid-of-sample-1");
	o.serving = 0;
	o.both_down_ineligible = 1;
	strcpy(o.pods[0].node, "node-a");
	strcpy(o.pods[1].node, "node-b");
	o.pods[1].node_not_ready_since = 1590939580;
	strcpy(o.pods[0].st.rep_peer, "failed"); /* the active took over from its standby */

	char *text = status_patch(&o, 1590939600);
	yajl_val v = text ? json_parse(text, strlen(text), err, sizeof(err)) : NULL;
	ok(v != NULL, "the status patch is JSON");
	yajl_val st = json_get(v, "status", NULL);
	is_str(json_str(st, "highLevelState", NULL), "Normal", "highLevelState");
	is_str(json_str(st, "prevHighLevelState", NULL), "Initializing", "prevHighLevelState");
	is_str(json_str(st, "activePods", NULL), "sample-0", "activePods names the active pod");
	is_str(json_str(st, "statusVersion", NULL), "1.0", "statusVersion");
	{
		yajl_val ps = json_get(st, "podStatus", NULL);
		is_str(json_str(json_at(ps, 1), "podStatus", "nodeName", NULL), "node-b",
		       "podStatus.nodeName");
		is_str(json_str(json_at(ps, 1), "podStatus", "nodeNotReadySince", NULL),
		       "2020-05-31T15:39:40Z", "podStatus.nodeNotReadySince, RFC 3339");
		ok(YAJL_IS_NULL(json_get(json_at(ps, 0), "podStatus", "nodeNotReadySince", NULL)),
		   "null (removed by the merge patch) for a pod whose node is ready");
	}
	long long n = 0;
	ok(json_int(st, &n, "observedGeneration", NULL) == 0 && n == 3, "observedGeneration");
	ok(json_int(st, &n, "repPort", NULL) == 0 && n == 4444, "repPort");
	yajl_val p0 = json_at(json_get(st, "podStatus", NULL), 0);
	yajl_val p1 = json_at(json_get(st, "podStatus", NULL), 1);
	is_str(json_str(p0, "name", NULL), "sample-0", "podStatus[0] is sample-0");
	is_str(json_str(p0, "intendedState", NULL), "Active", "intended Active");
	is_str(json_str(p0, "highLevelState", NULL), "Healthy", "Healthy");
	is_str(json_str(p0, "replicationStatus", "repState", NULL), "ACTIVE", "repState ACTIVE");
	is_str(json_str(p0, "dbStatus", "dbUpdatable", NULL), "Yes", "dbUpdatable Yes");
	is_str(json_str(p0, "timesTenStatus", "daemon", NULL), "Up", "daemon Up");
	is_str(json_str(p0, "podStatus", "podIP", NULL), "192.0.2.1", "podIP");
	is_str(json_str(p0, "podStatus", "agent", NULL), "Up", "agent Up");
	ok(json_int(p0, &n, "dbStatus", "dbId", NULL) == 0 && n == 35425, "dbId");
	is_str(json_str(p1, "dbStatus", "dbId", NULL), "Unknown", "dbId Unknown when not known");
	ok(json_bool(p0, "adminUserFile", NULL) == 1 && json_bool(p0, "schemaFile", NULL) == 1 &&
	       json_bool(p0, "cacheUserFile", NULL) == 0 && json_bool(p0, "cgFile", NULL) == 0,
	   "the files the pod's /ttconfig holds");
	ok(json_bool(p0, "usingTwosafe", NULL) == 1 && json_bool(p0, "disableReturn", NULL) == 1 &&
	       json_bool(p0, "localCommit", NULL) == 0,
	   "the return service: usingTwosafe, disableReturn, localCommit");
	ok(json_bool(st, "usingTwosafe", NULL) == 1 &&
	       json_bool(st, "bothDownRecoveryIneligible", NULL) == 1,
	   "BothDown's inputs: usingTwosafe, bothDownRecoveryIneligible");
	is_str(json_str(p1, "intendedState", NULL), "Standby", "podStatus[1] intended Standby");
	is_str(json_str(p1, "highLevelState", NULL), "Down", "a missing pod is Down");
	is_str(json_str(p1, "prevHighLevelState", NULL), "Healthy", "the pod's state before");
	ok(json_int(p1, &n, "lastHighLevelStateSwitch", NULL) == 0 && n == 1590939590,
	   "when the pod's state changed");
	is_str(json_str(p0, "prevHighLevelState", NULL), "",
	       "a pod never seen to change: no state before");
	is_str(json_str(p0, "lastHighLevelStateSwitch", NULL), "?",
	       "and ? for when, as the guide shows");

	/* Once fenced and forgotten: a merge patch removes a key only by naming it null. */
	char *saved_stmt = o.rep_statement;
	o.fence = -1;
	o.serving = -1;
	o.anew = -1;
	o.rep_statement = NULL;
	free(text);
	text = status_patch(&o, 1590939600);
	{
		yajl_val later = text ? json_parse(text, strlen(text), err, sizeof(err)) : NULL;
		yajl_val lst = json_get(later, "status", NULL);
		ok(lst != NULL && json_get(lst, "fencing", NULL) != NULL &&
		       YAJL_IS_NULL(json_get(lst, "fencing", NULL)),
		   "a fencing that is over is written as null, so the merge patch removes it");
		ok(YAJL_IS_NULL(json_get(lst, "lastServingActive", NULL)) &&
		       YAJL_IS_NULL(json_get(lst, "repCreateStatement", NULL)),
		   "and so are lastServingActive and repCreateStatement when not set");
		json_free(later);
	}
	o.rep_statement = saved_stmt;

	o.state = TTC_ST_INITIALIZING;
	free(text);
	text = status_patch(&o, 1590939600);
	like(text, "\"activePods\":\"None\"", "activePods is None while Initializing");

	ok(status_restore(&back, st) == 0, "a status restores");
	is_int(back.state, TTC_ST_NORMAL, "the state");
	is_int(back.prev_state, TTC_ST_INITIALIZING, "the previous state");
	is_int(back.active, 0, "the active pod");
	ok(back.pods[0].role == ROLE_ACTIVE && back.pods[1].role == ROLE_STANDBY, "the roles");
	ok(back.pods[0].initialized && back.pods[1].initialized, "what was initialised");
	is_int(back.last_event, 35, "the event count");
	is_str(back.rep_statement,
	       "create active standby pair ... return twosafe store s disable return all 10",
	       "the replication scheme");
	ok(back.fence == 1 && strcmp(back.fence_uid, "uid-of-sample-1") == 0,
	   "the pod being fenced, so a restart finishes fencing it");
	is_int(back.serving, 0, "the pod last serving as the active (for BothDown)");
	is_int(back.both_down_ineligible, 1,
	       "whether the last BothDown could not know the one ahead");
	is_int(back.peer_failed, 1,
	       "that the active recorded its standby FAILED (it is rebuilt, not taken back)");
	ok(strcmp(back.pods[1].node, "node-b") == 0 &&
	       back.pods[1].node_not_ready_since == 1590939580 &&
	       back.pods[0].node_not_ready_since == 0,
	   "each pod's node, and since when it is not ready (deleteDbOnNotReadyNode)");
	ok(strcmp(back.pods[1].hls, "Down") == 0 && strcmp(back.pods[1].prev_hls, "Healthy") == 0 &&
	       back.pods[1].hls_switch == 1590939590,
	   "each pod's state, the one before and when it changed: no change is seen twice");
	free(back.rep_statement);
	free(back.prev_stop_managing);
	free(back.prev_reexamine);
	free(back.up.prev_reset);

	char bad[] = "{\"highLevelState\":\"Sideways\"}";
	yajl_val b = json_parse(bad, strlen(bad), err, sizeof(err));
	ok(status_restore(&back, b) < 0, "an unknown state is not restored");
	json_free(b);
	ok(status_restore(&back, NULL) < 0, "no status, nothing restored");
	json_free(v);
	free(text);
	object_free_pods(&o);
	object_free_pods(&back);
	return done_testing();
}
