/*
 * The Kubernetes client's internals shared between its files: the pieces with no I/O
 * (line framing, backoff, rate limiting, the object cache, Event correlation, the lease
 * decision) and the client's own request plumbing.
 */
#ifndef KUBE_INTERNAL_H
#define KUBE_INTERNAL_H

#include <stddef.h>
#include <sys/queue.h>

#include "kube.h"

struct evbuffer;
struct evkeyvalq;
struct https_request;
struct metric;
struct metric_series;

/* -- ndjson.c: newline-delimited JSON framing with a line cap ----------------------------- */

struct kube_ndjson {
	struct evbuffer *buf; /* the incomplete line so far */
	size_t scanned;       /* bytes of buf known to hold no newline */
	size_t max_line;
	int skipping;   /* discarding an over-long line up to its newline */
	size_t skipped; /* its length so far */
};

/* A complete line, NUL-terminated, without its newline (text may be modified). Return 0
 * to go on, -1 to stop feeding. */
typedef int (*kube_line_fn)(char *text, size_t len, void *arg);
/* A line longer than the cap was dropped; len is its full length. */
typedef void (*kube_toolong_fn)(size_t len, void *arg);

int kube_ndjson_init(struct kube_ndjson *f, size_t max_line);
void kube_ndjson_reset(struct kube_ndjson *f);
void kube_ndjson_free(struct kube_ndjson *f);
/* Consumes in (drained) and calls line for each complete line; empty lines are ignored.
 * Returns -1 when line asked to stop (the rest stays buffered), else 0. */
int kube_ndjson_feed(struct kube_ndjson *f, struct evbuffer *in, kube_line_fn line,
                     kube_toolong_fn toolong, void *arg);
/* Bytes held for an incomplete line (a truncated last line at end of stream). */
size_t kube_ndjson_pending(const struct kube_ndjson *f);

/* -- backoff.c: exponential backoff with jitter, and a token bucket ------------------------ */

struct kube_backoff {
	int initial_ms, max_ms;
	double factor; /* growth per failure */
	double jitter; /* the delay is drawn from [base * (1 - jitter), base] */
	int base_ms;   /* the next base delay; 0 before the first failure */
	unsigned rng;
};

void kube_backoff_init(struct kube_backoff *b, int initial_ms, int max_ms, unsigned seed);
/* The delay to wait after one more failure. */
int kube_backoff_next(struct kube_backoff *b);
/* After a success: the next failure waits initial_ms again. */
void kube_backoff_reset(struct kube_backoff *b);
/* A pseudo-random number in [0, 1) from a state word. */
double kube_rand01(unsigned *state);

struct kube_ratelimit {
	double qps, burst;
	double tokens;
	double last; /* seconds, of the last refill */
};

void kube_ratelimit_init(struct kube_ratelimit *rl, double qps, double burst, double now);
/* Takes a token at now: returns 0 when one was taken, else the seconds until one is due. */
double kube_ratelimit_take(struct kube_ratelimit *rl, double now);

/* Monotonic seconds and wall-clock time in Kubernetes' formats. */
double kube_now(void);
/* "2006-01-02T15:04:05Z" and "2006-01-02T15:04:05.000000Z" for the current time. */
void kube_time_rfc3339(char buf[32]);
void kube_time_micro(char buf[40]);

/* -- cache.c: objects by key ------------------------------------------------------------------ */

struct kube_cache;

struct kube_cache *kube_cache_new(void);
void kube_cache_free(struct kube_cache *c);
size_t kube_cache_count(const struct kube_cache *c);
yajl_val kube_cache_get(const struct kube_cache *c, const char *key);
/* Stores obj (the cache owns it) under key; returns the object it replaces (the caller
 * frees it) or NULL. -1 in *failed on allocation failure (obj then stays the caller's). */
yajl_val kube_cache_put(struct kube_cache *c, const char *key, yajl_val obj, int *failed);
/* Takes the object out (the caller frees it); NULL when absent. */
yajl_val kube_cache_remove(struct kube_cache *c, const char *key);
void kube_cache_foreach(const struct kube_cache *c,
                        void (*fn)(const char *key, yajl_val obj, void *arg), void *arg);

/* A difference found when a fresh list replaces the cache. */
typedef void (*kube_diff_fn)(enum kube_event_type type, yajl_val obj, yajl_val old, void *arg);
/*
 * Makes c hold exactly the objects of next (which is emptied and may then be freed), then
 * calls diff for each object added, changed (by resourceVersion) or gone. During the calls
 * c already holds the new state. Objects that left the cache are freed afterwards.
 */
void kube_cache_replace(struct kube_cache *c, struct kube_cache *next, kube_diff_fn diff,
                        void *arg);

/* Object accessors. */
const char *kube_obj_name(yajl_val obj);
const char *kube_obj_namespace(yajl_val obj);
const char *kube_obj_rv(yajl_val obj);
/* Sets a top-level string member (adds or replaces); 0 or -1. */
int kube_obj_set_str(yajl_val obj, const char *key, const char *value);
/* Detaches the value of a member from its parent object: the caller then owns it. */
yajl_val kube_obj_steal(yajl_val parent, const char *key);

/* -- path.c: URLs, selectors, Status bodies --------------------------------------------------- */

/* "/api/v1/namespaces/ns/pods/name/status": ns NULL or "" for all namespaces or a
 * cluster-scoped resource. malloc'd, or NULL when a part is not a valid name. */
char *kube_path(const struct kube_resource *res, const char *ns, const char *name,
                const char *subresource);
/* Appends "k=<escaped v>" to a query string under construction (with & as needed). */
int kube_query_add(struct evbuffer *q, const char *k, const char *v);
/* "pods" or "timestenclassics.timesten.oracle.com", for logs and metric labels. */
const char *kube_res_label(const struct kube_resource *res, char *buf, size_t len);
/* Whether s is a valid object name (DNS subdomain) or namespace (DNS label). */
int kube_valid_name(const char *s);

/* The reason, message and code of a Status object; empty strings when absent. */
struct kube_status {
	char reason[64];
	char message[512];
	long long code;
};
void kube_status_parse(yajl_val v, struct kube_status *st);
/* The error a non-2xx HTTP status (with its Status reason) stands for. */
enum kube_err kube_err_from_http(int code, const char *reason);
/* Whether a Content-Type header names JSON (application/json with any parameters). */
int kube_is_json_type(const char *ctype);

/* -- events_key.c: the correlation of Events (no I/O) ----------------------------------------- */

#define KUBE_EV_WINDOW_S 600   /* how long a repeat is recognised as one */
#define KUBE_EV_SIMILAR_MAX 10 /* distinct messages per reason before combining */
#define KUBE_EV_CACHE_MAX 4096 /* remembered events */

struct kube_correlator;

enum kube_ev_action {
	KUBE_EV_CREATE, /* a new Event object (name chosen by the correlator) */
	KUBE_EV_UPDATE, /* the same Event again: patch count and lastTimestamp */
	KUBE_EV_DROP,   /* over the rate limit for this object */
};

struct kube_ev_decision {
	enum kube_ev_action action;
	const char *name;     /* the Event object's name */
	const char *message;  /* the message to post (may be the combined form) */
	long long count;      /* the count to post */
	const char *first_ts; /* firstTimestamp of the Event */
};

/* combine: after KUBE_EV_SIMILAR_MAX different messages for one reason, post them as one. */
struct kube_correlator *kube_correlator_new(int burst, int refill_s, int combine);
void kube_correlator_free(struct kube_correlator *k);
/*
 * Decides what to post for an Event at time now (monotonic seconds): obj_key identifies
 * the involved object (kind/namespace/name/uid), the rest the Event. The decision's
 * strings live until the next call.
 */
const struct kube_ev_decision *kube_correlate(struct kube_correlator *k, double now,
                                              const char *obj_key, const char *involved_name,
                                              const char *type, const char *reason,
                                              const char *message, const char *timestamp);
/* The server lost the Event (404 on patch): the next repeat creates it anew. */
void kube_correlator_forget(struct kube_correlator *k, const char *event_name);

/* -- lease decision (elector.c) ---------------------------------------------------------------- */

struct kube_lease_view {
	int exists;
	const char *holder; /* "" when released */
	long long duration_s;
	long long transitions;
	const char *rv;
	double observed_at; /* when this record (holder/renewTime) was first seen unchanged */
};

enum kube_lease_action {
	KUBE_LEASE_CREATE,  /* no Lease: create it holding it */
	KUBE_LEASE_ACQUIRE, /* free or expired: take it over (transitions + 1) */
	KUBE_LEASE_RENEW,   /* ours: renew it */
	KUBE_LEASE_WAIT,    /* someone else holds it validly */
};

enum kube_lease_action kube_lease_decide(const struct kube_lease_view *v, const char *me,
                                         double now);

/* -- client.c: plumbing for the client's parts ------------------------------------------------ */

/* A place in the rate limiter's queue. */
struct kube_slot {
	TAILQ_ENTRY(kube_slot) link;
	void (*go)(struct kube_slot *s, void *arg); /* a token is ours: send now */
	void *arg;
	int priority;
	int queued;
};

void kube_client_wait(struct kube_client *c, struct kube_slot *s);
void kube_client_unwait(struct kube_client *c, struct kube_slot *s);
/* An HTTPS request to path with the client's headers (auth, user agent, accept). */
struct https_request *kube_client_http(struct kube_client *c, int method, const char *path);
/* Records a finished request in the metrics: code 0 stands for an error without response. */
void kube_client_observe(struct kube_client *c, const char *verb, const char *res_label, int code,
                         double seconds);
/* Re-reads the token file after a 401 (at most once a second); 1 if the token changed. */
int kube_client_reauth(struct kube_client *c);
unsigned kube_client_seed(struct kube_client *c);
/* The default deadline of a call. */
int kube_client_timeout_ms(const struct kube_client *c);

/* The client's metric families (members are NULL without a registry: metric_* accept it). */
struct kube_metrics {
	struct metric *requests;           /* counter {verb,resource,code} */
	struct metric *latency;            /* histogram {verb,resource} */
	struct metric *watch_restarts;     /* counter {resource,reason} */
	struct metric *relists;            /* counter {resource} */
	struct metric *watch_events;       /* counter {resource,type} */
	struct metric *cache_objects;      /* gauge {resource} */
	struct metric *events;             /* counter {result} */
	struct metric *leader;             /* gauge {lease} */
	struct metric *leader_transitions; /* counter {lease} */
	struct metric_series *event_to_request; /* histogram */
};

const struct kube_metrics *kube_client_m(const struct kube_client *c);
/* A watch event's line was read at time at (kube_now()); its handler runs until the end. */
void kube_client_event_begin(struct kube_client *c, double at);
void kube_client_event_end(struct kube_client *c);

/* Parts attached to a client, freed with it. */
struct kube_part {
	TAILQ_ENTRY(kube_part) link;
	void (*free)(void *self);
	void *self;
};

void kube_client_attach(struct kube_client *c, struct kube_part *p);
void kube_client_detach(struct kube_client *c, struct kube_part *p);

/* yaml.c: YAML (1.1 scalars, as kubectl reads them) into a yajl tree. */
yajl_val kube_yaml_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
