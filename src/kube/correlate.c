/*
 * Event correlation as Kubernetes' recorder does it, without I/O: a per-object spam
 * filter (token bucket), the combining of many different messages for one reason, and the
 * deduplication of repeats into one Event whose count grows.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "internal.h"

#define COMBINED_PREFIX "(combined from similar events): "

/* One Event object we posted and may count repeats on. */
struct ev_entry {
	char *key; /* object | type | reason | message (or the combined key) */
	char *name;
	long long count;
	char first_ts[32];
	double last;
};

/* The distinct messages seen for one object, type and reason. */
struct ev_group {
	char *key;
	uint32_t msgs[KUBE_EV_SIMILAR_MAX];
	int nmsgs;
	double last;
};

/* The spam filter's bucket for one object. */
struct ev_bucket {
	char *key;
	struct kube_ratelimit rl;
	double last;
};

struct kube_correlator {
	int burst, refill_s, combine;
	struct ev_entry *entries;
	size_t nentries;
	struct ev_group *groups;
	size_t ngroups;
	struct ev_bucket *buckets;
	size_t nbuckets;
	struct kube_ev_decision d;
	char *msgbuf;
	unsigned long long last_nanos;
};

struct kube_correlator *
kube_correlator_new(int burst, int refill_s, int combine)
{
	struct kube_correlator *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->burst = burst > 0 ? burst : 25;
	k->refill_s = refill_s > 0 ? refill_s : 300;
	k->combine = combine;
	k->entries = calloc(KUBE_EV_CACHE_MAX, sizeof(*k->entries));
	k->groups = calloc(KUBE_EV_CACHE_MAX, sizeof(*k->groups));
	k->buckets = calloc(KUBE_EV_CACHE_MAX, sizeof(*k->buckets));
	if (k->entries == NULL || k->groups == NULL || k->buckets == NULL) {
		kube_correlator_free(k);
		return NULL;
	}
	return k;
}

void
kube_correlator_free(struct kube_correlator *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->nentries; i++) {
		free(k->entries[i].key);
		free(k->entries[i].name);
	}
	for (size_t i = 0; i < k->ngroups; i++)
		free(k->groups[i].key);
	for (size_t i = 0; i < k->nbuckets; i++)
		free(k->buckets[i].key);
	free(k->entries);
	free(k->groups);
	free(k->buckets);
	free(k->msgbuf);
	free(k);
}

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/*
 * The tables are small (KUBE_EV_CACHE_MAX) and Events rare, so they are plain arrays
 * searched linearly; when one is full the least recently used row makes room.
 */
#define FIND(arr, n, k)                                                                            \
	({                                                                                         \
		ssize_t found_ = -1;                                                               \
		for (size_t i_ = 0; i_ < (n); i_++)                                                \
			if (strcmp((arr)[i_].key, (k)) == 0) {                                     \
				found_ = (ssize_t)i_;                                              \
				break;                                                             \
			}                                                                          \
		found_;                                                                            \
	})

#define OLDEST(arr, n)                                                                             \
	({                                                                                         \
		size_t o_ = 0;                                                                     \
		for (size_t i_ = 1; i_ < (n); i_++)                                                \
			if ((arr)[i_].last < (arr)[o_].last)                                       \
				o_ = i_;                                                           \
		o_;                                                                                \
	})

static struct ev_bucket *
bucket(struct kube_correlator *k, const char *key, double now)
{
	ssize_t i = FIND(k->buckets, k->nbuckets, key);
	struct ev_bucket *b;
	char *copy;

	if (i >= 0)
		return &k->buckets[i];
	if ((copy = strdup(key)) == NULL)
		return NULL;
	if (k->nbuckets < KUBE_EV_CACHE_MAX) {
		b = &k->buckets[k->nbuckets++];
	} else {
		b = &k->buckets[OLDEST(k->buckets, k->nbuckets)];
		free(b->key);
	}
	b->key = copy;
	kube_ratelimit_init(&b->rl, 1.0 / k->refill_s, k->burst, now);
	return b;
}

static struct ev_group *
group(struct kube_correlator *k, const char *key, double now)
{
	ssize_t i = FIND(k->groups, k->ngroups, key);
	struct ev_group *g;
	char *copy;

	if (i >= 0) {
		g = &k->groups[i];
		if (now - g->last > KUBE_EV_WINDOW_S)
			g->nmsgs = 0;
		return g;
	}
	if ((copy = strdup(key)) == NULL)
		return NULL;
	if (k->ngroups < KUBE_EV_CACHE_MAX) {
		g = &k->groups[k->ngroups++];
	} else {
		g = &k->groups[OLDEST(k->groups, k->ngroups)];
		free(g->key);
	}
	g->key = copy;
	g->nmsgs = 0;
	return g;
}

/* A name unique to this process: <object>.<unix nanoseconds in hex>, as client-go does. */
static char *
event_name(struct kube_correlator *k, const char *involved)
{
	struct timeval tv;
	unsigned long long nanos;
	char *name;

	gettimeofday(&tv, NULL);
	nanos =
	    (unsigned long long)tv.tv_sec * 1000000000ull + (unsigned long long)tv.tv_usec * 1000;
	if (nanos <= k->last_nanos)
		nanos = k->last_nanos + 1;
	k->last_nanos = nanos;
	/* Names are at most 253 characters. */
	if (asprintf(&name, "%.*s.%llx", 236, involved, nanos) < 0)
		return NULL;
	return name;
}

const struct kube_ev_decision *
kube_correlate(struct kube_correlator *k, double now, const char *obj_key,
               const char *involved_name, const char *type, const char *reason, const char *message,
               const char *timestamp)
{
	struct ev_bucket *b = bucket(k, obj_key, now);
	struct ev_group *g;
	struct ev_entry *e;
	char *gkey = NULL, *ekey = NULL;
	uint32_t mh = hash_str(message);
	int seen = 0, combined;
	ssize_t i;

	memset(&k->d, 0, sizeof(k->d));
	k->d.action = KUBE_EV_DROP;
	if (b == NULL)
		return &k->d;
	b->last = now;
	if (kube_ratelimit_take(&b->rl, now) > 0)
		return &k->d;
	if (asprintf(&gkey, "%s\x1f%s\x1f%s", obj_key, type, reason) < 0)
		return &k->d;
	if ((g = group(k, gkey, now)) == NULL)
		goto out;
	g->last = now;
	for (int j = 0; j < g->nmsgs; j++)
		seen |= g->msgs[j] == mh;
	if (!seen && g->nmsgs < KUBE_EV_SIMILAR_MAX)
		g->msgs[g->nmsgs++] = mh;
	/* Once ten different messages came for one reason within the window, they all go
	 * to one Event, whose message is the latest. */
	combined = k->combine && g->nmsgs >= KUBE_EV_SIMILAR_MAX;
	free(k->msgbuf);
	k->msgbuf = NULL;
	if (combined) {
		if (asprintf(&k->msgbuf, COMBINED_PREFIX "%s", message) < 0 ||
		    asprintf(&ekey, "%s\x1f(combined)", gkey) < 0)
			goto out;
	} else if (asprintf(&ekey, "%s\x1f%s", gkey, message) < 0) {
		goto out;
	}
	k->d.message = combined ? k->msgbuf : message;
	i = FIND(k->entries, k->nentries, ekey);
	if (i >= 0 && now - k->entries[i].last <= KUBE_EV_WINDOW_S) {
		e = &k->entries[i];
		e->count++;
		e->last = now;
		k->d.action = KUBE_EV_UPDATE;
		k->d.name = e->name;
		k->d.count = e->count;
		k->d.first_ts = e->first_ts;
		goto out;
	}
	if (i >= 0) {
		e = &k->entries[i];
		free(e->key);
		free(e->name);
	} else if (k->nentries < KUBE_EV_CACHE_MAX) {
		e = &k->entries[k->nentries++];
	} else {
		e = &k->entries[OLDEST(k->entries, k->nentries)];
		free(e->key);
		free(e->name);
	}
	e->key = ekey;
	ekey = NULL;
	e->name = event_name(k, involved_name);
	e->count = 1;
	e->last = now;
	snprintf(e->first_ts, sizeof(e->first_ts), "%s", timestamp);
	if (e->name == NULL) {
		/* Leave a harmless row: it can never match a decision. */
		e->name = strdup("");
		goto out;
	}
	k->d.action = KUBE_EV_CREATE;
	k->d.name = e->name;
	k->d.count = 1;
	k->d.first_ts = e->first_ts;
out:
	free(gkey);
	free(ekey);
	return &k->d;
}

void
kube_correlator_forget(struct kube_correlator *k, const char *event_name)
{
	for (size_t i = 0; i < k->nentries; i++) {
		if (k->entries[i].name != NULL && strcmp(k->entries[i].name, event_name) == 0) {
			/* Expire it: the next repeat makes a new Event. */
			k->entries[i].last = -1e18;
			return;
		}
	}
}
