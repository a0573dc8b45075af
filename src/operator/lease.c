/* The operator's side of the self-fencing lease: see lease.h and docs/fencing.md. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lease.h"
#include "spec.h"

long long
lease_seconds(const struct ttc_spec *s)
{
	long long poll = spec_seconds(s, TIMER_POLLING_INTERVAL);
	long long l = 2 * poll + (LEASE_REQUEST_MS + 999) / 1000;

	return l < LEASE_MIN_SECONDS ? LEASE_MIN_SECONDS : l;
}

long long
lease_bound_ms(long long sent_ms, long long seconds)
{
	long long span = seconds * 1000;

	return sent_ms + LEASE_REQUEST_MS + LEASE_NET_MS + span +
	       (span * LEASE_RATE_PERMILLE + 999) / 1000 + LEASE_LATE_MS;
}

long long
lease_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
lease_sent(struct ttc_object *o, int i, long long seconds, long long now_ms)
{
	struct pod_lease *l = &o->pods[i].lease;
	long long bound = lease_bound_ms(now_ms, seconds);

	if (strcmp(l->uid, o->pods[i].uid) != 0) {
		/* Another pod: what was known of the old one's lease is replaced. */
		snprintf(l->uid, sizeof(l->uid), "%s", o->pods[i].uid);
		l->held = 0;
		l->bound_ms = 0;
	}
	l->seconds = seconds;
	if (bound > l->bound_ms)
		l->bound_ms = bound;
}

void
lease_acknowledged(struct ttc_object *o, int i)
{
	struct pod_lease *l = &o->pods[i].lease;

	if (strcmp(l->uid, o->pods[i].uid) == 0)
		l->held = 1;
}

void
lease_forget(struct ttc_object *o, int i)
{
	memset(&o->pods[i].lease, 0, sizeof(o->pods[i].lease));
}

void
lease_restore(struct ttc_object *o, int i, const char *uid, long long seconds, long long now_ms)
{
	struct pod_lease *l = &o->pods[i].lease;

	snprintf(l->uid, sizeof(l->uid), "%s", uid);
	l->seconds = seconds;
	l->bound_ms = lease_bound_ms(now_ms, seconds);
	l->held = 1;
}

static const struct pod_lease *
bound_lease(const struct ttc_object *o, int i, const char *uid)
{
	const struct pod_lease *l = &o->pods[i].lease;

	return l->held && *uid && strcmp(l->uid, uid) == 0 ? l : NULL;
}

int
lease_ran_out(const struct ttc_object *o, int i, const char *uid)
{
	const struct pod_lease *l = bound_lease(o, i, uid);

	return l != NULL && o->now_ms >= l->bound_ms;
}

time_t
lease_runs_out_at(const struct ttc_object *o, int i, const char *uid)
{
	const struct pod_lease *l = bound_lease(o, i, uid);
	long long left = l ? l->bound_ms - o->now_ms : 0;

	return l == NULL ? 0 : o->now + (time_t)(left > 0 ? (left + 999) / 1000 : 0);
}
