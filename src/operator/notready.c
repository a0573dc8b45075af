/* deleteDbOnNotReadyNode's decisions (notready.h): node readiness and the safety of a deletion. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lease.h"
#include "notready.h"
#include "object.h"
#include "topology.h"
#include "ttc.h"
#include "ttc/json.h"
#include "upgrade.h"

enum node_ready
notready_node_condition(yajl_val node)
{
	yajl_val conds = json_get(node, "status", "conditions", NULL);

	for (size_t k = 0; k < json_len(conds); k++) {
		const char *type = json_str(json_at(conds, k), "type", NULL);
		const char *status = json_str(json_at(conds, k), "status", NULL);
		if (type && status && strcmp(type, "Ready") == 0)
			return strcmp(status, "True") == 0 ? NODE_READY : NODE_NOT_READY;
	}
	return NODE_NOT_READY; /* a node that never said it is ready is not */
}

void
notready_observe(struct ttc_object *o, int i, enum node_ready r, time_t now)
{
	struct pod_view *p = &o->pods[i];

	if (r == NODE_READY)
		p->node_not_ready_since = 0;
	else if (p->node_not_ready_since == 0)
		p->node_not_ready_since = now;
}

enum notready_verdict
notready_decide(const struct ttc_object *o, int i, time_t now, const char **why)
{
	const struct pod_view *p = &o->pods[i];
	long long limit = o->spec ? spec_seconds(o->spec, TIMER_NOT_READY_NODE) : 0;

	*why = "";
	if (limit <= 0 || o->nodes.unreadable)
		return NR_OFF;
	if (!p->exists || !*p->uid || p->node_not_ready_since == 0)
		return NR_READY;
	if (now < p->node_not_ready_since + (time_t)limit)
		return NR_WAITING;
	if (o->state == TTC_ST_NEW || ttc_state_hands_off(o->state)) {
		*why = "the object is not being managed";
		return NR_HELD;
	}
	if (!o->topo->has_active)
		return NR_DELETE; /* databases of their own: the guide's data loss, accepted */
	int j = o->npods == 2 ? 1 - i : -1;
	if (o->fence >= 0) {
		*why = "a failover is fencing the old active";
		return NR_HELD;
	}
	if (o->up.state != UPG_NONE && o->up.state != UPG_FAILED) {
		*why = "an upgrade is under way";
		return NR_HELD;
	}
	if (j < 0 || o->active != j || object_pod_class(o, j, now) != POD_HEALTHY) {
		*why = "the other pod is not the healthy active";
		return NR_HELD;
	}
	if (p->lease.held && strcmp(p->lease.uid, p->uid) == 0 && !lease_ran_out(o, i, p->uid)) {
		*why = "its database may still take writes: its self-fencing lease has not run out";
		return NR_HELD;
	}
	return NR_DELETE;
}

int
notready_should_read(const struct ttc_object *o, time_t now)
{
	if (o->spec == NULL || spec_seconds(o->spec, TIMER_NOT_READY_NODE) <= 0)
		return 0;
	return !o->nodes.unreadable || now >= o->nodes.retry_at;
}

int
notready_refused(struct ttc_object *o, time_t now)
{
	int news = !o->nodes.unreadable;

	o->nodes.unreadable = 1;
	o->nodes.retry_at = now + NOTREADY_RETRY_SECONDS;
	for (int i = 0; i < o->npods; i++)
		o->pods[i].node_not_ready_since =
		    0; /* not known: counted again from the next read */
	return news;
}

int
notready_readable(struct ttc_object *o)
{
	int news = o->nodes.unreadable;

	o->nodes.unreadable = 0;
	o->nodes.retry_at = 0;
	return news;
}

void
notready_format_time(char buf[32], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t
notready_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z") != 0)
		return 0;
	return timegm(&tm);
}
