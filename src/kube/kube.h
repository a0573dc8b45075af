/*
 * An asynchronous Kubernetes API client for a program with one event loop: connection
 * set-up (kubeconfig or in-cluster), informers (list + watch into a local cache), writes
 * with retries and deadlines, an Event recorder and Lease leader election. Nothing here
 * blocks; every outcome arrives through a callback. See src/kube/README.md.
 */
#ifndef KUBE_H
#define KUBE_H

#include <stddef.h>

#include <yajl/yajl_tree.h>

struct event_base;
struct evdns_base;
struct metrics;

struct kube_config;
struct kube_client;
struct kube_call;
struct kube_informer;
struct kube_recorder;
struct kube_elector;

/* -- resources ---------------------------------------------------------------------------- */

/* A kind of object as the API addresses it: /api/v1/... or /apis/GROUP/VERSION/... */
struct kube_resource {
	const char *group;   /* "" for the core group */
	const char *version; /* "v1" */
	const char *plural;  /* "pods" */
	const char *kind;    /* "Pod": set on cached objects whose list items lack it */
	int namespaced;
};

extern const struct kube_resource kube_res_pods, kube_res_services, kube_res_secrets,
    kube_res_configmaps, kube_res_events, kube_res_statefulsets, kube_res_leases, kube_res_pvcs,
    kube_res_namespaces, kube_res_nodes;

/* -- configuration ------------------------------------------------------------------------ */

/* Where the API server is and how to authenticate, whichever way it was found. */
struct kube_config {
	char *server;   /* "https://host:port" */
	char *ca_pem;   /* trusted CA certificates; NULL: the system trust store */
	char *cert_pem; /* client certificate and key (PEM), or NULL */
	char *key_pem;
	char *token;           /* bearer token, or NULL */
	char *token_file;      /* a token file, re-read every minute and after a 401 */
	char *tls_server_name; /* identity expected of the server instead of its host */
	char *namespace;       /* the context's or the pod's namespace ("default" if none) */
	int insecure;          /* verification off: only with allow_insecure */
};

/*
 * Reads a kubeconfig file: the named context (NULL: current-context) with its cluster and
 * user. Certificates and keys given as files are read now. insecure-skip-tls-verify is
 * refused unless allow_insecure. NULL with the reason in err.
 */
struct kube_config *kube_config_from_file(const char *path, const char *context, int allow_insecure,
                                          char *err, size_t errlen);
/* The same from kubeconfig text in memory; name stands for the file in errors. */
struct kube_config *kube_config_from_text(const char *name, const char *text, size_t len,
                                          const char *context, int allow_insecure, char *err,
                                          size_t errlen);
/*
 * The pod's service account: KUBERNETES_SERVICE_HOST/PORT and
 * <root>/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}. root NULL
 * means $POD_ROOT, or "" when unset (a real pod).
 */
struct kube_config *kube_config_in_cluster(const char *root, char *err, size_t errlen);
void kube_config_free(struct kube_config *cfg);

/* -- the client --------------------------------------------------------------------------- */

struct kube_client_opts {
	const struct kube_config *config; /* copied; may be freed after kube_client_new */
	struct metrics *metrics;          /* registry for the client's metrics, or NULL */
	const char *metrics_prefix;       /* e.g. "timesten_operator": <prefix>_kube_... */
	double qps;                       /* client-side request rate limit (default 20/s) */
	int burst;                        /* ... and burst (default 30) */
	int timeout_ms;                   /* deadline of a call, retries included (default 30 s) */
	const char *user_agent;           /* default "ttclassic" */
	struct evdns_base *dns;           /* resolver for a server given by name, or NULL */
};

struct kube_client *kube_client_new(struct event_base *base, const struct kube_client_opts *o,
                                    char *err, size_t errlen);
/*
 * Frees the client: cancels every call, informer, recorder and elector still attached
 * (no callbacks follow; an elector does not release its lease: release it first). Not
 * from inside one of the client's callbacks.
 */
void kube_client_free(struct kube_client *c);
const char *kube_client_namespace(const struct kube_client *c);
/* The client-side request rate limit, requests per second. */
double kube_client_qps(const struct kube_client *c);
struct event_base *kube_client_base(const struct kube_client *c);

/*
 * From a watch event to the first request sent because of it. While an informer's
 * handler runs for a watch event, the client knows that event (its sequence number and
 * the time its line was read off the stream, before its JSON was parsed); a request
 * started meanwhile carries that stamp, and the first request of an event to be sent
 * (an API call once the rate limit lets it go; any other request of the program when it
 * says so with kube_event_request_sent()) observes the time since into the histogram
 * <prefix>_event_to_request_seconds. Events that cause no request observe nothing.
 */
struct kube_event_stamp {
	unsigned long long seq; /* 0: made outside any watch event */
	double at;              /* kube's monotonic clock, seconds */
};

/* The stamp of the watch event being handled now, or a zero stamp. */
void kube_event_stamp(const struct kube_client *c, struct kube_event_stamp *s);
/* A request carrying the stamp s was sent now. */
void kube_event_request_sent(struct kube_client *c, const struct kube_event_stamp *s);

/* -- calls: one request, one callback ------------------------------------------------------ */

#define KUBE_ERRORS(X)                                                                             \
	X(OK, "ok")                                                                                \
	X(NOT_FOUND, "not found")                                                                  \
	X(ALREADY_EXISTS, "already exists")                                                        \
	X(CONFLICT, "conflict")                                                                    \
	X(INVALID, "invalid request")                                                              \
	X(UNAUTHORIZED, "unauthorized")                                                            \
	X(GONE, "gone")                                                                            \
	X(UNAVAILABLE, "server unavailable")                                                       \
	X(TIMEOUT, "deadline exceeded")                                                            \
	X(TLS, "server not trusted")                                                               \
	X(PROTOCOL, "bad response")

enum kube_err {
#define X(e, s) KUBE_ERR_##e,
	KUBE_ERRORS(X)
#undef X
};

const char *kube_err_name(enum kube_err e);

/* What a call produced. */
struct kube_result {
	enum kube_err err;
	int code;            /* last HTTP status; 0 when no response arrived */
	const char *reason;  /* the Status reason ("NotFound", "Conflict"...), or "" */
	const char *message; /* the Status message, or what went wrong; "" when OK */
	yajl_val object;     /* the object the server returned, or NULL; owned by the
	                      * result: valid during the callback, unless taken */
	int attempts;        /* requests sent (retries + 1) */
};

/* Takes the returned object out of the result: the caller then frees it (yajl_tree_free). */
yajl_val kube_result_take(struct kube_result *r);

typedef void (*kube_done_fn)(struct kube_result *r, void *arg);

enum kube_verb {
	KUBE_GET,
	KUBE_LIST,
	KUBE_CREATE,
	KUBE_UPDATE, /* PUT */
	KUBE_PATCH,  /* JSON merge patch */
	KUBE_DELETE,
};

/* Flags of a request. */
#define KUBE_REQ_PRIORITY 0x1 /* jumps the rate limiter's queue (lease renewals) */
#define KUBE_REQ_NO_RETRY 0x2 /* one attempt: no retry on 429, 5xx or connection errors */
#define KUBE_REQ_REAPPLY 0x4  /* on 409 Conflict re-read the object and send again */

struct kube_request {
	enum kube_verb verb;
	const struct kube_resource *res;
	const char *ns;          /* NULL: the client's namespace; "": all (LIST only) */
	const char *name;        /* required but for LIST and CREATE */
	const char *subresource; /* "status", or NULL */
	const char *query;       /* extra query parameters, already escaped: "a=b&c=d" */
	const char *body;        /* JSON for CREATE, UPDATE, PATCH (and DELETE options) */
	int timeout_ms;          /* 0: the client's */
	unsigned flags;
};

/*
 * Starts a call. The callback runs exactly once, from the event loop (never from inside
 * this function), unless the call is cancelled. Retries: 429 after Retry-After; 5xx and
 * connection failures with exponential backoff; a 401 once after re-reading the token;
 * all within the deadline. Returns NULL (logged, no callback) for invalid arguments.
 */
struct kube_call *kube_request(struct kube_client *c, const struct kube_request *rq,
                               kube_done_fn cb, void *arg);
/* No callback follows; the call is freed. Not from inside its own callback. */
void kube_call_cancel(struct kube_call *call);

/* Shorthands for the common calls (ns NULL: the client's namespace). */
struct kube_call *kube_get(struct kube_client *c, const struct kube_resource *res, const char *ns,
                           const char *name, kube_done_fn cb, void *arg);
struct kube_call *kube_create(struct kube_client *c, const struct kube_resource *res,
                              const char *ns, const char *json, kube_done_fn cb, void *arg);
/* A JSON merge patch (RFC 7386) of the object. A metadata.resourceVersion in the patch is
 * a precondition: 409 Conflict when the object changed since. */
struct kube_call *kube_patch(struct kube_client *c, const struct kube_resource *res, const char *ns,
                             const char *name, const char *patch, kube_done_fn cb, void *arg);
/* A JSON merge patch of the status subresource. On 409 Conflict the object is read again
 * and the patch re-sent (with the fresh resourceVersion if it carried one), up to 5 times. */
struct kube_call *kube_patch_status(struct kube_client *c, const struct kube_resource *res,
                                    const char *ns, const char *name, const char *patch,
                                    kube_done_fn cb, void *arg);

enum kube_propagation {
	KUBE_PROPAGATE_BACKGROUND,
	KUBE_PROPAGATE_FOREGROUND,
	KUBE_PROPAGATE_ORPHAN,
};

struct kube_call *kube_delete(struct kube_client *c, const struct kube_resource *res,
                              const char *ns, const char *name, enum kube_propagation p,
                              kube_done_fn cb, void *arg);

/* -- informers: a watched, cached collection ------------------------------------------------ */

enum kube_event_type {
	KUBE_ADDED,
	KUBE_UPDATED,
	KUBE_DELETED,
};

/*
 * A change to the cache. obj is the new state (for DELETED the last state seen); old the
 * previous cached state for UPDATED and DELETED, else NULL. Both are valid during the
 * call only. The cache already holds the new state when the handler runs.
 */
typedef void (*kube_handler_fn)(struct kube_informer *inf, enum kube_event_type type, yajl_val obj,
                                yajl_val old, void *arg);

struct kube_informer_opts {
	const struct kube_resource *res;
	const char *ns;             /* one namespace, or NULL/"" for all */
	const char *label_selector; /* keep the cache to what we manage: "app=x,tier!=y" */
	const char *field_selector;
	kube_handler_fn handler;
	/* Called once, when the first complete list is in the cache and handled. */
	void (*synced)(struct kube_informer *inf, void *arg);
	void *arg;
	int watch_timeout_s; /* timeoutSeconds of each watch; default random in [300, 600) */
	size_t max_line;     /* longest watch event accepted (default 4 MiB); longer are skipped */
	int page_size;       /* list page size (default 500) */
	/* What of each object the cache keeps besides kind, apiVersion and metadata, as
	 * json_keep() paths (at most JSON_KEEP_MAX - 4; the strings must outlive the
	 * informer); NULL: all of it.
	 * metadata.managedFields is never kept: the server's record of who set each field
	 * is of no use to a controller that does not apply server-side. */
	const char *const *keep;
};

/* Starts listing and watching at once. NULL (logged) for invalid options. */
struct kube_informer *kube_informer_new(struct kube_client *c, const struct kube_informer_opts *o);
/* Stops watching and frees the cache. May be called from the informer's own handler. */
void kube_informer_free(struct kube_informer *inf);
/* Whether the cache holds a complete list: act only then. Stays true across relists. */
int kube_informer_synced(const struct kube_informer *inf);
/* A cached object (borrowed: valid until control returns to the loop), or NULL. For
 * cluster-scoped resources ns is NULL. */
yajl_val kube_informer_get(const struct kube_informer *inf, const char *ns, const char *name);
size_t kube_informer_count(const struct kube_informer *inf);
/* Calls fn for every cached object, in no particular order. fn must not change the cache. */
void kube_informer_foreach(const struct kube_informer *inf, void (*fn)(yajl_val obj, void *arg),
                           void *arg);
/* The resourceVersion the cache is at. */
const char *kube_informer_resource_version(const struct kube_informer *inf);

/* The cache key of an object: "namespace/name", or "name" for cluster-scoped ones. */
const char *kube_obj_key(yajl_val obj, char *buf, size_t len);

/* -- Events -------------------------------------------------------------------------------- */

struct kube_recorder_opts {
	const char *component; /* source.component and reportingController */
	const char *host;      /* source.host and reportingInstance, or NULL */
	/* Per involved object: a burst of events, then one per refill interval (defaults 25
	 * and 300 s, as Kubernetes' spam filter). */
	int burst;
	int refill_s;
	/* Keep every distinct message its own Event, instead of combining many different
	 * messages for one reason into one as Kubernetes' recorder does. */
	int no_combine;
};

struct kube_recorder *kube_recorder_new(struct kube_client *c, const struct kube_recorder_opts *o);
void kube_recorder_free(struct kube_recorder *r);
/* Event writes under way (to wait for them before stopping). */
size_t kube_recorder_pending(const struct kube_recorder *r);
/*
 * Records an Event about obj (which must have kind, apiVersion and metadata.name): type
 * "Normal" or "Warning", a CamelCase reason, a message. A repeat of the same event within
 * 10 minutes raises its count and lastTimestamp instead of making a new one; more than 10
 * different messages with the same reason within 10 minutes are combined into one.
 */
void kube_event(struct kube_recorder *r, yajl_val obj, const char *type, const char *reason,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* -- leader election on a Lease -------------------------------------------------------------- */

struct kube_elector_opts {
	const char *ns;        /* the Lease's namespace (NULL: the client's) */
	const char *name;      /* the Lease's name */
	const char *identity;  /* this candidate (default: hostname_pid) */
	int lease_duration_ms; /* default 15000 */
	int renew_deadline_ms; /* default 10000: stop leading when no renewal succeeded for it */
	int retry_period_ms;   /* default 2000 */
	/* Now leading: start acting. */
	void (*started)(struct kube_elector *e, void *arg);
	/* No longer leading: stop acting at once. */
	void (*stopped)(struct kube_elector *e, void *arg);
	/* Another candidate (or nobody: "") holds the lease now. */
	void (*new_leader)(struct kube_elector *e, const char *identity, void *arg);
	void *arg;
};

/* Starts campaigning at once. NULL (logged) for invalid options. The elector must not be
 * freed from inside its own callbacks. */
struct kube_elector *kube_elector_new(struct kube_client *c, const struct kube_elector_opts *o);
int kube_elector_is_leader(const struct kube_elector *e);
const char *kube_elector_identity(const struct kube_elector *e);
/*
 * Stops campaigning; when leading, stops (stopped is called) and gives the lease up so
 * that another candidate takes over within its retry period. done runs once that write
 * finished or failed (or at once from the loop when not leading).
 */
void kube_elector_release(struct kube_elector *e, void (*done)(void *arg), void *arg);
void kube_elector_free(struct kube_elector *e);

#endif
