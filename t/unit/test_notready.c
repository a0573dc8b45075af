/*
 * Tests for src/operator/notready.c (deleteDbOnNotReadyNode): the field's parsing, a Node's
 * readiness, the time limit, what holds a pair's pod back, and refused reads (403).
 */
#include "config.h"

#include "../../src/operator/lease.h"
#include "../../src/operator/notready.h"
#include "../../src/operator/object.h"
#include "../../src/operator/topology.h"
#include "../../src/operator/upgrade.h"
#include "tap.h"
#include "ttc/json.h"

#define T0 1000000

static struct ttc_spec *
parse(const char *extra, char *err, size_t errlen)
{
	char text[1024], perr[128];
	yajl_val obj;
	struct ttc_spec *s;

	snprintf(text, sizeof(text),
	         "{\"metadata\":{\"name\":\"sample\"},\"spec\":{\"ttspec\":{\"image\":\"i\","
	         "\"storageClassName\":\"c\"%s}}}",
	         extra);
	obj = json_parse(text, strlen(text), perr, sizeof(perr));
	s = obj ? spec_parse(obj, err, errlen) : NULL;
	json_free(obj);
	return s;
}

static void
test_spec(void)
{
	char err[512] = "";
	struct ttc_spec *s = parse("", err, sizeof(err));

	ok(s != NULL && spec_seconds(s, TIMER_NOT_READY_NODE) == 0, "unset: off");
	spec_free(s);
	s = parse(",\"deleteDbOnNotReadyNode\":90", err, sizeof(err));
	ok(s != NULL && spec_seconds(s, TIMER_NOT_READY_NODE) == 90, "90 s: %s", err);
	spec_free(s);
	for (const char *bad = ",\"deleteDbOnNotReadyNode\":0"; bad; bad = NULL) {
		ok(parse(bad, err, sizeof(err)) == NULL, "0 refused");
		ok(strstr(err, "spec.ttspec.deleteDbOnNotReadyNode") != NULL, "named: %s", err);
	}
	ok(parse(",\"deleteDbOnNotReadyNode\":-5", err, sizeof(err)) == NULL, "negative refused");
	ok(parse(",\"deleteDbOnNotReadyNode\":\"60\"", err, sizeof(err)) == NULL,
	   "a string refused: %s", err);
}

static void
test_condition(void)
{
	static const struct {
		const char *json;
		enum node_ready want;
		const char *what;
	} cases[] = {
	    {"{\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
	     "{\"type\":\"Ready\",\"status\":\"True\"}]}}",
	     NODE_READY, "Ready True"},
	    {"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
	     NODE_NOT_READY, "Ready False"},
	    {"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}",
	     NODE_NOT_READY, "Ready Unknown"},
	    {"{\"status\":{}}", NODE_NOT_READY, "no Ready condition"},
	};
	char perr[128];

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		yajl_val v = json_parse(cases[k].json, strlen(cases[k].json), perr, sizeof(perr));
		is_int(notready_node_condition(v), cases[k].want, "%s", cases[k].what);
		json_free(v);
	}
}

static struct pod_view pods[3];

/* A healthy pair: pod 0 the ACTIVE, pod 1 the STANDBY; limit 60 s. */
static void
pair(struct ttc_object *o, struct ttc_spec *s)
{
	memset(o, 0, sizeof(*o));
	memset(pods, 0, sizeof(pods));
	o->pods = pods;
	o->npods = 2;
	o->topo = &pair_topology;
	o->spec = s;
	o->name = "sample";
	o->fence = -1;
	o->state = TTC_ST_NORMAL;
	for (int i = 0; i < 2; i++) {
		struct agent_state *st = &pods[i].st;
		pods[i].exists = pods[i].reachable = 1;
		snprintf(pods[i].uid, sizeof(pods[i].uid), "uid-%d", i);
		snprintf(pods[i].node, sizeof(pods[i].node), "node-%d", i);
		st->daemon = DAEMON_UP;
		st->db = DB_LOADED;
		st->rep_agent = RUNNING_YES;
		st->rep_state = i == 0 ? REP_ACTIVE : REP_STANDBY;
		st->updatable = i == 0 ? UPDATABLE_YES : UPDATABLE_NO;
	}
	object_set_roles(o, 0);
	o->now = T0;
	o->now_ms = 5000000;
}

static void
test_pair(struct ttc_spec *s)
{
	struct ttc_object o;
	const char *why;

	pair(&o, s);
	is_int(notready_decide(&o, 1, T0, &why), NR_READY, "a ready node: nothing to do");
	notready_observe(&o, 1, NODE_NOT_READY, T0);
	is_int(o.pods[1].node_not_ready_since, T0, "not ready since the first read saying so");
	notready_observe(&o, 1, NODE_NOT_READY, T0 + 30);
	is_int(o.pods[1].node_not_ready_since, T0, "... and not moved by the next");
	is_int(notready_decide(&o, 1, T0 + 59, &why), NR_WAITING, "within the limit: waits");
	is_int(notready_decide(&o, 1, T0 + 60, &why), NR_DELETE,
	       "the standby past the limit, the active healthy: deleted");
	notready_observe(&o, 1, NODE_READY, T0 + 61);
	is_int(o.pods[1].node_not_ready_since, 0, "ready again: cleared");
	is_int(notready_decide(&o, 1, T0 + 100, &why), NR_READY, "... and nothing to do");

	/* The active's node: never while it is the intended active. */
	pair(&o, s);
	notready_observe(&o, 0, NODE_NOT_READY, T0);
	is_int(notready_decide(&o, 0, T0 + 600, &why), NR_HELD, "the intended active is held");
	ok(strstr(why, "healthy active") != NULL, "why: %s", why);

	/* The standby while the active is not healthy. */
	pair(&o, s);
	o.pods[0].st.updatable = UPDATABLE_NO;
	notready_observe(&o, 1, NODE_NOT_READY, T0);
	is_int(notready_decide(&o, 1, T0 + 600, &why), NR_HELD,
	       "the standby is held while the active does not serve");

	/* After a failover: pod 1 the active, pod 0 (the old active) on the dead node. */
	pair(&o, s);
	object_set_roles(&o, 1);
	o.state = TTC_ST_STANDBY_DOWN;
	o.pods[1].st.rep_state = REP_ACTIVE;
	o.pods[1].st.updatable = UPDATABLE_YES;
	o.pods[0].reachable = 0;
	o.pods[0].unreachable_since = T0 - 100;
	agent_state_unknown(&o.pods[0].st);
	lease_sent(&o, 0, 30, o.now_ms - 1000);
	lease_acknowledged(&o, 0);
	notready_observe(&o, 0, NODE_NOT_READY, T0 - 100);
	is_int(notready_decide(&o, 0, T0, &why), NR_HELD,
	       "an old active whose lease has not run out is held");
	ok(strstr(why, "lease") != NULL, "why: %s", why);
	o.now_ms += 60000;
	is_int(notready_decide(&o, 0, T0 + 60, &why), NR_DELETE,
	       "once its lease ran out it may go");
	o.fence = 0;
	is_int(notready_decide(&o, 0, T0 + 60, &why), NR_HELD, "not while a fencing runs");
	o.fence = -1;
	o.up.state = UPG_STANDBY;
	is_int(notready_decide(&o, 0, T0 + 60, &why), NR_HELD, "not during an upgrade");
	o.up.state = UPG_NONE;
	o.state = TTC_ST_MANUAL;
	is_int(notready_decide(&o, 0, T0 + 60, &why), NR_HELD, "not when hands off");
	o.state = TTC_ST_STANDBY_DOWN;
	o.pods[0].exists = 0;
	is_int(notready_decide(&o, 0, T0 + 60, &why), NR_READY, "a pod gone: nothing to delete");
}

static void
test_nonrep(struct ttc_spec *s)
{
	struct ttc_object o;
	const char *why;

	pair(&o, s);
	o.topo = &nonrep_topology;
	o.npods = 3;
	o.state = TTC_ST_SOME_READY;
	o.active = -1;
	pods[2].exists = 1;
	snprintf(pods[2].uid, sizeof(pods[2].uid), "uid-2");
	notready_observe(&o, 2, NODE_NOT_READY, T0);
	is_int(notready_decide(&o, 2, T0 + 60, &why), NR_DELETE,
	       "non-replicated: past the limit, deleted whatever the others do");
}

static void
test_refused(struct ttc_spec *s)
{
	struct ttc_object o;
	const char *why;

	pair(&o, s);
	ok(notready_should_read(&o, T0), "the field set: nodes are read");
	notready_observe(&o, 1, NODE_NOT_READY, T0);
	is_int(notready_refused(&o, T0 + 70), 1, "a first 403 is news");
	is_int(notready_refused(&o, T0 + 71), 0, "a second is not");
	is_int(o.pods[1].node_not_ready_since, 0, "what was seen is forgotten");
	is_int(notready_decide(&o, 1, T0 + 600, &why), NR_OFF, "unreadable: as if unset");
	ok(!notready_should_read(&o, T0 + 71 + NOTREADY_RETRY_SECONDS - 2),
	   "no read before the retry");
	ok(notready_should_read(&o, T0 + 71 + NOTREADY_RETRY_SECONDS), "one a minute later");
	is_int(notready_readable(&o), 1, "readable again is news");
	is_int(notready_readable(&o), 0, "... once");
	o.spec = NULL;
	ok(!notready_should_read(&o, T0), "no spec: no reads");
	is_int(notready_decide(&o, 1, T0, &why), NR_OFF, "no spec: off");
}

static void
test_times(void)
{
	char buf[32];

	notready_format_time(buf, 1796414147);
	is_str(buf, "2026-12-04T19:55:47Z", "RFC 3339");
	is_int(notready_parse_time(buf), 1796414147, "and back");
	is_int(notready_parse_time("2026-12-04T19:55:47.25Z"), 1796414147, "fractions");
	is_int(notready_parse_time("2026-12-04 19:55"), 0, "malformed: 0");
	is_int(notready_parse_time(NULL), 0, "none: 0");
}

int
main(void)
{
	char err[512];
	struct ttc_spec *s = parse(",\"deleteDbOnNotReadyNode\":60", err, sizeof(err));

	test_spec();
	test_condition();
	test_pair(s);
	test_nonrep(s);
	test_refused(s);
	test_times();
	spec_free(s);
	return done_testing();
}
