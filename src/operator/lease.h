/*
 * The operator's side of the active's self-fencing lease (docs/fencing.md): how long a
 * grant lasts, and when a database that has had no grant since a given moment has
 * provably stopped taking writes by itself.
 */
#ifndef LEASE_H
#define LEASE_H

#include "object.h"

/* A grant request is abandoned, and its connection reset, after this long: none can
 * reach the agent later than LEASE_REQUEST_MS + LEASE_NET_MS after it was sent. */
#define LEASE_REQUEST_MS 5000
/* How long a packet outlives the connection that sent it, in the network. */
#define LEASE_NET_MS 2000
/* Bound on the difference between the two machines' clock rates, per mille. */
#define LEASE_RATE_PERMILLE 10
/* The agent's lateness in applying a grant and in firing its timers. */
#define LEASE_LATE_MS 1000
/* The shortest lease granted. */
#define LEASE_MIN_SECONDS 30

/* The lease granted for a spec: long enough for two polls and a grant request to fail
 * without the database fencing itself. */
long long lease_seconds(const struct ttc_spec *s);
/* The monotonic time (ms) after which a database whose last grant (of seconds) was sent
 * at sent_ms, or earlier, no longer takes writes:
 * sent + request + net + seconds * (1 + rate) + late. */
long long lease_bound_ms(long long sent_ms, long long seconds);
/* The monotonic clock in milliseconds. */
long long lease_now_ms(void);

/* A grant of seconds to pod i is being sent at now_ms: the bound moves on. */
void lease_sent(struct ttc_object *o, int i, long long seconds, long long now_ms);
/* Pod i's agent acknowledged a grant: its database is bound by the lease. */
void lease_acknowledged(struct ttc_object *o, int i);
/* The lease of pod i's agent was withdrawn (or not known to be held): no bound. */
void lease_forget(struct ttc_object *o, int i);
/* A restarted operator (or a new leader) at now_ms, told by status that pod i (uid) held a
 * lease of seconds: the last grant was sent before now_ms. */
void lease_restore(struct ttc_object *o, int i, const char *uid, long long seconds,
                   long long now_ms);
/* Whether the database of pod uid (once pod i) provably takes no writes at o->now_ms by
 * its lease. */
int lease_ran_out(const struct ttc_object *o, int i, const char *uid);
/* When it will (o->now's clock), if it is only a matter of time; 0 if not. */
time_t lease_runs_out_at(const struct ttc_object *o, int i, const char *uid);

#endif
