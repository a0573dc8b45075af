/*
 * .status of a TimesTenClassic (see status.h). Key names follow the guide's describe
 * output: kubectl turns podIP into "Pod IP" and cacheUIDPwdSet into "Cache UID Pwd Set".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "object.h"
#include "lease.h"
#include "notready.h"
#include "objects.h"
#include "repscheme.h"
#include "status.h"
#include "topology.h"
#include "ttc/json.h"
#include "upgrade.h"

#define STATUS_VERSION "1.0"

const char *
status_pod_state(const struct ttc_object *o, int i, time_t now)
{
	return o->topo->pod_state(o, i, now);
}

void
status_track_pods(struct ttc_object *o, time_t now)
{
	for (int i = 0; i < o->npods; i++) {
		struct pod_view *p = &o->pods[i];
		const char *s = status_pod_state(o, i, now);

		if (strcmp(s, p->hls) == 0)
			continue;
		if (p->hls[0] != '\0') {
			snprintf(p->prev_hls, sizeof(p->prev_hls), "%s", p->hls);
			p->hls_switch = now;
		}
		snprintf(p->hls, sizeof(p->hls), "%s", s);
	}
}

static void
pod_entry(struct jw *w, const struct ttc_object *o, int i, time_t now)
{
	const struct pod_view *p = &o->pods[i];
	const struct agent_state *st = &p->st;
	char name[300];

	objects_pod_name(name, sizeof(name), o->name, i);
	jw_obj(w);
	jw_kstr(w, "name", name);
	jw_kstr(w, "intendedState",
	        p->role == ROLE_ACTIVE    ? "Active"
	        : p->role == ROLE_STANDBY ? "Standby"
	                                  : "None");
	jw_kstr(w, "highLevelState", status_pod_state(o, i, now));
	jw_kstr(w, "prevHighLevelState", p->prev_hls);
	jw_key(w, "lastHighLevelStateSwitch"); /* "?" until the operator sees it change */
	if (p->hls_switch != 0)
		jw_int(w, (long long)p->hls_switch);
	else
		jw_str(w, "?");
	jw_kbool(w, "initialized", p->initialized);
	if (p->creating)
		jw_kbool(w, "creatingDatabase", 1); /* a restart knows it is half made */
	if (!o->topo->has_active) {
		jw_kbool(w, "nonRepUpgradeFailed", p->upgrade_failed);
		jw_kstr(w, "lastReadyImage", p->served_image);
	}
	jw_kstr(w, "prevImage", p->prev_image);
	if (o->topo->upgrades)
		jw_kbool(w, "quiescing", p->quiescing);
	if (p->lease.held) {
		/* A restarted operator counts the lease's bound from its own start. */
		jw_key(w, "selfFencingLease");
		jw_obj(w);
		jw_kstr(w, "uid", p->lease.uid);
		jw_kint(w, "seconds", p->lease.seconds);
		jw_obj_end(w);
	}
	/* What the pod's /ttconfig holds, as the agent saw it. */
	jw_kbool(w, "adminUserFile", st->admin_user_file);
	jw_kbool(w, "schemaFile", st->schema_file);
	jw_kbool(w, "cacheUserFile", st->cache_user_file);
	jw_kbool(w, "cgFile", st->cg_file);
	if (o->topo->has_active) {
		/* What the scheme in use says of where commits land first (bothDownBehavior). */
		struct rep_returns r = repscheme_returns(o->rep_statement);
		jw_kbool(w, "usingTwosafe", r.twosafe);
		jw_kbool(w, "disableReturn", r.disable_return);
		jw_kbool(w, "localCommit", r.local_commit);
	}

	jw_key(w, "podStatus");
	jw_obj(w);
	jw_kstr(w, "podPhase", p->exists ? (*p->phase ? p->phase : "Pending") : "Unknown");
	jw_kstr(w, "podIP", p->ip);
	jw_kstr(w, "agent", p->reachable ? "Up" : "Down");
	jw_kint(w, "lastTimeReachable", (long long)p->shown_reachable);
	jw_kstr(w, "nodeName", p->node);
	jw_key(w, "nodeNotReadySince"); /* deleteDbOnNotReadyNode; null (removed) when ready */
	if (p->node_not_ready_since != 0) {
		char ts[32];
		notready_format_time(ts, p->node_not_ready_since);
		jw_str(w, ts);
	} else {
		jw_null(w);
	}
	jw_obj_end(w);

	jw_key(w, "timesTenStatus");
	jw_obj(w);
	jw_kstr(w, "instance", tt_instance_names[st->instance]);
	jw_kstr(w, "daemon", tt_daemon_names[st->daemon]);
	jw_kstr(w, "release", st->release);
	jw_obj_end(w);

	jw_key(w, "dbStatus");
	jw_obj(w);
	jw_kstr(w, "db", tt_db_names[st->db]);
	jw_key(w, "dbId");
	if (st->db_id >= 0)
		jw_int(w, st->db_id);
	else
		jw_str(w, "Unknown");
	jw_kstr(w, "dbUpdatable", tt_updatable_names[st->updatable]);
	jw_obj_end(w);

	jw_key(w, "replicationStatus");
	jw_obj(w);
	jw_kstr(w, "repAgent", tt_running_names[st->rep_agent]);
	jw_kstr(w, "repScheme", tt_scheme_names[st->rep_scheme]);
	jw_kstr(w, "repState", tt_rep_state_names[st->rep_state]);
	jw_kstr(w, "repPeerPState", st->rep_peer);
	jw_kint(w, "lastTimeRepStateChanged", (long long)p->rep_state_changed);
	jw_obj_end(w);

	jw_key(w, "cacheStatus");
	jw_obj(w);
	jw_kstr(w, "cacheAgent", tt_running_names[st->cache_agent]);
	jw_kbool(w, "cacheUIDPwdSet", 0); /* no TimesTen Cache: no Oracle database */
	jw_kint(w, "nCacheGroups", 0);
	jw_obj_end(w);
	jw_obj_end(w);
}

char *
status_patch(const struct ttc_object *o, time_t now)
{
	struct jw w;
	char active[300] = "None";

	if (jw_init(&w) < 0)
		return NULL;
	if (!o->topo->has_active)
		snprintf(active, sizeof(active), "N/A");
	else if (o->active >= 0 && o->state != TTC_ST_INITIALIZING && o->state != TTC_ST_FAILED)
		objects_pod_name(active, sizeof(active), o->name, o->active);
	jw_obj(&w);
	jw_key(&w, "status");
	jw_obj(&w);
	jw_kstr(&w, "statusVersion", STATUS_VERSION);
	jw_kint(&w, "observedGeneration", o->generation);
	if (o->state == TTC_ST_NEW) {
		/* Not provisioned yet (waiting for a ConfigMap): only say why. */
		jw_kstr(&w, "message", o->message);
		jw_obj_end(&w);
		jw_obj_end(&w);
		return jw_finish(&w, NULL);
	}
	jw_kstr(&w, "highLevelState", ttc_state_names[o->state]);
	if (o->prev_state != TTC_ST_NEW)
		jw_kstr(&w, "prevHighLevelState", ttc_state_names[o->prev_state]);
	jw_kint(&w, "lastHighLevelStateSwitch", (long long)o->last_switch);
	jw_kstr(&w, "activePods", active);
	jw_kstr(&w, "message", o->message);
	jw_kint(&w, "lastEvent", o->last_event);
	/* A merge patch keeps what it does not name: a key no longer set is written as null,
	 * which removes it (a finished fencing must not outlive its failover). */
	jw_kstr(&w, "repCreateStatement", o->rep_statement);
	if (o->spec != NULL)
		jw_kint(&w, "repPort", o->spec->rep_port);
	if (o->topo->has_active) {
		/* The inputs of the last BothDown: whether the one ahead could not be known. */
		jw_kbool(&w, "usingTwosafe", repscheme_returns(o->rep_statement).twosafe);
		jw_kbool(&w, "bothDownRecoveryIneligible", o->both_down_ineligible);
	}
	if (o->serving >= 0) {
		char pod[300];
		objects_pod_name(pod, sizeof(pod), o->name, o->serving);
		jw_kstr(&w, "lastServingActive", pod);
	} else {
		jw_key(&w, "lastServingActive");
		jw_null(&w);
	}
	if (o->fence >= 0) {
		/* The old active being fenced: a restarted operator must finish the job. */
		char pod[300];
		objects_pod_name(pod, sizeof(pod), o->name, o->fence);
		jw_key(&w, "fencing");
		jw_obj(&w);
		jw_kstr(&w, "pod", pod);
		jw_kstr(&w, "uid", o->fence_uid);
		jw_obj_end(&w);
	} else {
		jw_key(&w, "fencing");
		jw_null(&w);
	}
	jw_kstr(&w, "prevStopManaging", o->prev_stop_managing ? o->prev_stop_managing : "");
	jw_kstr(&w, "prevReexamine", o->prev_reexamine ? o->prev_reexamine : "");
	if (o->topo->upgrades)
		upgrade_status(&w, o);
	jw_key(&w, "podStatus");
	jw_arr(&w);
	for (int i = 0; i < o->npods; i++)
		pod_entry(&w, o, i, now);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

static void
restore_string(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? strdup(v) : NULL;
}

/* The ordinal of one of the object's pods, or -1. */
static int
pod_ordinal(const struct ttc_object *o, const char *pod)
{
	int k = o->name && pod ? objects_pod_ordinal(o->name, pod) : -1;

	return k < o->npods ? k : -1;
}

int
status_restore(struct ttc_object *o, yajl_val status)
{
	const char *hls = json_str(status, "highLevelState", NULL);
	const char *prev = json_str(status, "prevHighLevelState", NULL);
	yajl_val pods = json_get(status, "podStatus", NULL);
	long long n;
	int s;

	if (hls == NULL || (s = ttc_state_from_name(hls)) < 0)
		return -1;
	o->state = s;
	o->prev_state =
	    prev && ttc_state_from_name(prev) >= 0 ? ttc_state_from_name(prev) : TTC_ST_NEW;
	if (json_int(status, &n, "lastHighLevelStateSwitch", NULL) == 0)
		o->last_switch = (time_t)n;
	if (json_int(status, &n, "lastEvent", NULL) == 0)
		o->last_event = n;
	restore_string(&o->rep_statement, json_str(status, "repCreateStatement", NULL));
	restore_string(&o->prev_stop_managing, json_str(status, "prevStopManaging", NULL));
	restore_string(&o->prev_reexamine, json_str(status, "prevReexamine", NULL));
	const char *fuid = json_str(status, "fencing", "uid", NULL);

	o->fence = pod_ordinal(o, json_str(status, "fencing", "pod", NULL));
	if (o->fence >= 0 && fuid != NULL)
		snprintf(o->fence_uid, sizeof(o->fence_uid), "%s", fuid);
	else
		o->fence = -1;
	o->serving = pod_ordinal(o, json_str(status, "lastServingActive", NULL));
	o->both_down_ineligible = json_bool(status, "bothDownRecoveryIneligible", NULL) == 1;
	upgrade_restore(o, json_get(status, "classicUpgradeStatus", NULL));
	o->active = -1;
	for (size_t i = 0; i < json_len(pods) && i < (size_t)o->npods; i++) {
		yajl_val p = json_at(pods, i);
		const char *intended = json_str(p, "intendedState", NULL);

		o->pods[i].initialized = json_bool(p, "initialized", NULL) == 1;
		o->pods[i].creating = json_bool(p, "creatingDatabase", NULL) == 1;
		const char *pod_hls = json_str(p, "highLevelState", NULL);
		const char *prev_hls = json_str(p, "prevHighLevelState", NULL);
		snprintf(o->pods[i].hls, sizeof(o->pods[i].hls), "%s", pod_hls ? pod_hls : "");
		snprintf(o->pods[i].prev_hls, sizeof(o->pods[i].prev_hls), "%s",
		         prev_hls ? prev_hls : "");
		if (json_int(p, &n, "lastHighLevelStateSwitch", NULL) == 0)
			o->pods[i].hls_switch = (time_t)n;
		o->pods[i].upgrade_failed = json_bool(p, "nonRepUpgradeFailed", NULL) == 1 ||
		                            (pod_hls && strcmp(pod_hls, "UpgradeFailed") == 0);
		o->pods[i].quiescing = json_bool(p, "quiescing", NULL) == 1;
		const char *luid = json_str(p, "selfFencingLease", "uid", NULL);
		if (luid && *luid && json_int(p, &n, "selfFencingLease", "seconds", NULL) == 0 &&
		    n > 0)
			lease_restore(o, (int)i, luid, n, lease_now_ms());
		const char *img = json_str(p, "lastReadyImage", NULL);
		snprintf(o->pods[i].served_image, sizeof(o->pods[i].served_image), "%s",
		         img ? img : "");
		img = json_str(p, "prevImage", NULL);
		snprintf(o->pods[i].prev_image, sizeof(o->pods[i].prev_image), "%s",
		         img ? img : "");
		o->pods[i].role = intended == NULL                   ? ROLE_NONE
		                  : strcmp(intended, "Active") == 0  ? ROLE_ACTIVE
		                  : strcmp(intended, "Standby") == 0 ? ROLE_STANDBY
		                                                     : ROLE_NONE;
		if (o->pods[i].role == ROLE_ACTIVE)
			o->active = (int)i;
		if (json_int(p, &n, "podStatus", "lastTimeReachable", NULL) == 0)
			o->pods[i].last_reachable = o->pods[i].shown_reachable = (time_t)n;
		const char *node = json_str(p, "podStatus", "nodeName", NULL);
		snprintf(o->pods[i].node, sizeof(o->pods[i].node), "%s", node ? node : "");
		o->pods[i].node_not_ready_since =
		    notready_parse_time(json_str(p, "podStatus", "nodeNotReadySince", NULL));
	}
	if (o->active >= 0) {
		const char *peer = json_str(json_at(pods, (size_t)o->active), "replicationStatus",
		                            "repPeerPState", NULL);
		o->peer_failed = peer != NULL && strcasecmp(peer, "failed") == 0;
	}
	return 0;
}
