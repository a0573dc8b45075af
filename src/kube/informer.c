/*
 * Informers: list a collection page by page into a fresh cache, replace the cache with it
 * (reporting the differences), then watch from the list's resourceVersion. A watch that
 * ends is resumed from the last resourceVersion seen; 410 Expired means relist; errors
 * back off with jitter. Bad lines and objects are logged and skipped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "internal.h"
#include "ttc/https.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

#define INF_DEFAULT_MAX_LINE (4u << 20) /* an object is at most ~1.5 MiB in etcd */
#define INF_DEFAULT_PAGE 500
#define INF_LIST_TIMEOUT_MS 60000
#define INF_WATCH_SLACK_S 30
#define INF_ERR_BODY_MAX 65536

#define INF_STATES(X)                                                                              \
	X(LISTING, "listing")   /* a list page is queued or in flight */                           \
	X(WATCHING, "watching") /* a watch is queued or streaming */                               \
	X(BACKOFF, "backoff")   /* waiting before listing or watching again */

enum inf_state {
#define X(e, s) INF_##e,
	INF_STATES(X)
#undef X
};

static const char *const inf_state_names[] = {
#define X(e, s) s,
    INF_STATES(X)
#undef X
};

struct kube_informer {
	struct kube_part part;
	struct kube_client *c;
	struct kube_resource res; /* strings owned below */
	char *group, *version, *plural, *kind;
	char *ns, *label_selector, *field_selector;
	kube_handler_fn handler;
	void (*synced_fn)(struct kube_informer *inf, void *arg);
	void *arg;
	int watch_timeout_s;
	size_t max_line;
	int page_size;
	/* json_keep() paths: kind, apiVersion, metadata, the caller's; never managedFields. */
	const char *keep[JSON_KEEP_MAX + 1];
	char res_label[160];
	char api_version[160]; /* of the objects: "v1", "apps/v1" */

	enum inf_state state;
	int synced;
	int lists; /* complete lists so far */
	char rv[64];
	struct kube_cache *cache;
	struct kube_cache *next; /* the list being gathered */
	char *cont;              /* its continue token */
	char item_kind[128];

	struct kube_slot slot;
	int watch_next; /* what the backoff timer starts: 1 a watch, 0 a list */
	struct kube_call *list_call;
	struct https_request *watch;
	struct kube_ndjson framer;
	int watch_status;
	struct evbuffer *err_body;
	long watch_events;
	double watch_started;
	struct event *timer;
	struct kube_backoff backoff;

	int busy, dying;
	struct metric_series *objects;
};

static void start_list(struct kube_informer *inf);
static void start_watch_soon(struct kube_informer *inf);
static void inf_destroy(void *self);

static void
set_state(struct kube_informer *inf, enum inf_state st, const char *why)
{
	if (inf->state != st)
		log_debug("kube", "informer state", "resource", inf->res_label, "from",
		          inf_state_names[inf->state], "to", inf_state_names[st], "why", why, NULL);
	inf->state = st;
}

/* Entry and exit of every callback into the informer: a free requested by a handler
 * happens only when the outermost one returns. */
static void
enter(struct kube_informer *inf)
{
	inf->busy++;
}

static int
leave(struct kube_informer *inf)
{
	if (--inf->busy == 0 && inf->dying) {
		inf_destroy(inf);
		return 1;
	}
	return 0;
}

static void
count_restart(struct kube_informer *inf, const char *reason)
{
	metric_add(
	    metric_series(kube_client_m(inf->c)->watch_restarts, inf->res_label, reason, NULL), 1);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_informer *inf = arg;

	(void)fd;
	(void)what;
	enter(inf);
	if (inf->watch_next)
		start_watch_soon(inf);
	else
		start_list(inf);
	leave(inf);
}

/* Waits, then lists again (watch_next 0) or watches again (1). */
static void
back_off(struct kube_informer *inf, int watch_next, int delay_ms, const char *why)
{
	struct timeval tv;

	if (delay_ms <= 0)
		delay_ms = kube_backoff_next(&inf->backoff);
	tv.tv_sec = delay_ms / 1000;
	tv.tv_usec = (delay_ms % 1000) * 1000;
	inf->watch_next = watch_next;
	set_state(inf, INF_BACKOFF, why);
	log_debug("kube", "informer backing off", "resource", inf->res_label, "ms", LOG_I(delay_ms),
	          "then", watch_next ? "watch" : "list", NULL);
	evtimer_add(inf->timer, &tv);
}

/* Gives an object from the API the kind and apiVersion its list may have left out, and
 * leaves it what the cache keeps. */
static int
complete_object(struct kube_informer *inf, yajl_val obj)
{
	json_keep(obj, inf->keep);
	if (json_str(obj, "kind", NULL) == NULL && inf->item_kind[0] != '\0' &&
	    kube_obj_set_str(obj, "kind", inf->item_kind) < 0)
		return -1;
	if (json_str(obj, "apiVersion", NULL) == NULL &&
	    kube_obj_set_str(obj, "apiVersion", inf->api_version) < 0)
		return -1;
	return 0;
}

/* Checks what every cached object needs; NULL when fine, else what is wrong. */
static const char *
object_problem(const struct kube_informer *inf, yajl_val obj)
{
	const char *ns;

	if (!YAJL_IS_OBJECT(obj))
		return "not a JSON object";
	if (!YAJL_IS_OBJECT(json_get(obj, "metadata", NULL)))
		return "no metadata";
	if (kube_obj_name(obj) == NULL || *kube_obj_name(obj) == '\0')
		return "no metadata.name";
	if (kube_obj_rv(obj) == NULL || *kube_obj_rv(obj) == '\0')
		return "no metadata.resourceVersion";
	ns = kube_obj_namespace(obj);
	if (inf->res.namespaced && (ns == NULL || *ns == '\0'))
		return "no metadata.namespace";
	if (inf->ns != NULL && ns != NULL && strcmp(ns, inf->ns) != 0)
		return "from another namespace";
	return NULL;
}

static void
set_rv(struct kube_informer *inf, const char *rv)
{
	if (rv != NULL && *rv != '\0')
		snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
}

/* -- listing ------------------------------------------------------------------------------- */

static void
deliver_diff(enum kube_event_type type, yajl_val obj, yajl_val old, void *arg)
{
	struct kube_informer *inf = arg;

	if (!inf->dying && inf->handler != NULL)
		inf->handler(inf, type, obj, old, inf->arg);
}

static void
list_done(struct kube_result *r, void *arg)
{
	struct kube_informer *inf = arg;
	yajl_val list = r->object, items;
	const char *kind, *s;
	char key[600];
	size_t before;

	enter(inf);
	inf->list_call = NULL;
	if (r->err == KUBE_ERR_GONE && inf->cont != NULL) {
		log_info("kube", "list continuation expired; listing from the start", "resource",
		         inf->res_label, NULL);
		kube_cache_free(inf->next);
		inf->next = NULL;
		free(inf->cont);
		inf->cont = NULL;
		start_list(inf);
		goto out;
	}
	if (r->err != KUBE_ERR_OK) {
		log_warn("kube", "list failed", "resource", inf->res_label, "error",
		         kube_err_name(r->err), "code", LOG_I(r->code), "message", r->message,
		         NULL);
		goto retry;
	}
	items = json_get(list, "items", NULL);
	s = json_str(list, "metadata", "resourceVersion", NULL);
	if ((items != NULL && !YAJL_IS_ARRAY(items) && !YAJL_IS_NULL(items)) || s == NULL ||
	    *s == '\0') {
		log_warn("kube", "the list response is not a list (no items or resourceVersion)",
		         "resource", inf->res_label, NULL);
		goto retry;
	}
	if (inf->item_kind[0] == '\0' && (kind = json_str(list, "kind", NULL)) != NULL) {
		size_t n = strlen(kind);
		if (n > 4 && strcmp(kind + n - 4, "List") == 0)
			snprintf(inf->item_kind, sizeof(inf->item_kind), "%.*s", (int)(n - 4),
			         kind);
	}
	for (size_t i = 0; i < json_len(items); i++) {
		yajl_val obj = json_at(items, i);
		const char *why = object_problem(inf, obj);
		int failed;
		if (why != NULL) {
			log_warn("kube", "list item skipped", "resource", inf->res_label, "problem",
			         why, NULL);
			continue;
		}
		if (complete_object(inf, obj) < 0)
			goto retry;
		kube_obj_key(obj, key, sizeof(key));
		items->u.array.values[i] = NULL; /* the cache takes it */
		json_free(kube_cache_put(inf->next, key, obj, &failed));
		if (failed) {
			json_free(obj);
			goto retry;
		}
	}
	s = json_str(list, "metadata", "continue", NULL);
	if (s != NULL && *s != '\0') {
		free(inf->cont);
		if ((inf->cont = strdup(s)) == NULL)
			goto retry;
		start_list(inf);
		goto out;
	}
	/* The list is complete: it becomes the cache. */
	set_rv(inf, json_str(list, "metadata", "resourceVersion", NULL));
	free(inf->cont);
	inf->cont = NULL;
	if (inf->lists++ > 0)
		metric_add(metric_series(kube_client_m(inf->c)->relists, inf->res_label, NULL), 1);
	before = kube_cache_count(inf->cache);
	kube_cache_replace(inf->cache, inf->next, deliver_diff, inf);
	kube_cache_free(inf->next);
	inf->next = NULL;
	metric_add(inf->objects, (double)kube_cache_count(inf->cache) - (double)before);
	log_info("kube", "listed", "resource", inf->res_label, "objects",
	         LOG_I(kube_cache_count(inf->cache)), "resourceVersion", inf->rv, NULL);
	if (!inf->synced && !inf->dying) {
		inf->synced = 1;
		if (inf->synced_fn != NULL)
			inf->synced_fn(inf, inf->arg);
	}
	kube_backoff_reset(&inf->backoff);
	if (!inf->dying)
		start_watch_soon(inf);
	goto out;
retry:
	kube_cache_free(inf->next);
	inf->next = NULL;
	free(inf->cont);
	inf->cont = NULL;
	back_off(inf, 0, 0, "list failed");
out:
	leave(inf);
}

static void
start_list(struct kube_informer *inf)
{
	struct evbuffer *q = evbuffer_new();
	struct kube_request rq = {0};
	char limit[16];
	char *query = NULL;

	set_state(inf, INF_LISTING, inf->cont ? "next page" : "list");
	if (inf->next == NULL && (inf->next = kube_cache_new()) == NULL)
		goto fail;
	snprintf(limit, sizeof(limit), "%d", inf->page_size);
	if (q == NULL || kube_query_add(q, "limit", limit) < 0 ||
	    (inf->cont && kube_query_add(q, "continue", inf->cont) < 0) ||
	    (inf->label_selector && kube_query_add(q, "labelSelector", inf->label_selector) < 0) ||
	    (inf->field_selector && kube_query_add(q, "fieldSelector", inf->field_selector) < 0) ||
	    evbuffer_add(q, "", 1) < 0)
		goto fail;
	query = (char *)evbuffer_pullup(q, -1);
	rq.verb = KUBE_LIST;
	rq.res = &inf->res;
	rq.ns = inf->ns ? inf->ns : "";
	rq.query = query;
	rq.timeout_ms = INF_LIST_TIMEOUT_MS;
	inf->list_call = kube_request(inf->c, &rq, list_done, inf);
	evbuffer_free(q);
	if (inf->list_call == NULL)
		back_off(inf, 0, 0, "cannot start a list");
	return;
fail:
	if (q != NULL)
		evbuffer_free(q);
	back_off(inf, 0, 0, "out of memory");
}

/* -- watching ------------------------------------------------------------------------------ */

static void
watch_ended(struct kube_informer *inf, const char *reason)
{
	inf->watch = NULL;
	count_restart(inf, reason);
}

/* Handles one watch event line; -1 stops the stream (relist or error). */
static int
on_line(char *text, size_t len, void *arg)
{
	struct kube_informer *inf = arg;
	char err[200], key[600];
	yajl_val ev, obj, old;
	const char *type, *why;
	enum kube_event_type et;
	int failed, rc = 0;
	double read_at = kube_now();

	if (memchr(text, '\0', len) != NULL ||
	    (ev = yajl_tree_parse(text, err, sizeof(err))) == NULL) {
		char *nl = strchr(err, '\n');
		if (nl != NULL)
			*nl = '\0';
		log_warn("kube", "watch event skipped: not JSON", "resource", inf->res_label,
		         "error", err, "bytes", LOG_I(len), NULL);
		return 0;
	}
	type = json_str(ev, "type", NULL);
	obj = json_get(ev, "object", NULL);
	if (type == NULL || !YAJL_IS_OBJECT(obj)) {
		log_warn("kube", "watch event skipped: no type or object", "resource",
		         inf->res_label, NULL);
		goto out;
	}
	metric_add(metric_series(kube_client_m(inf->c)->watch_events, inf->res_label, type, NULL),
	           1);
	inf->watch_events++;
	if (strcmp(type, "BOOKMARK") == 0) {
		set_rv(inf, kube_obj_rv(obj));
		goto out;
	}
	if (strcmp(type, "ERROR") == 0) {
		struct kube_status st;
		kube_status_parse(obj, &st);
		if (st.code == 410 || strcmp(st.reason, "Expired") == 0 ||
		    strcmp(st.reason, "Gone") == 0) {
			log_info("kube", "watch history expired; listing again", "resource",
			         inf->res_label, "message", st.message, NULL);
			watch_ended(inf, "expired");
			inf->rv[0] = '\0';
			start_list(inf);
		} else {
			log_warn("kube", "watch error event", "resource", inf->res_label, "code",
			         LOG_I(st.code), "reason", st.reason, "message", st.message, NULL);
			watch_ended(inf, "error");
			back_off(inf, 1, 0, "watch error event");
		}
		rc = -1;
		goto out;
	}
	if (strcmp(type, "ADDED") != 0 && strcmp(type, "MODIFIED") != 0 &&
	    strcmp(type, "DELETED") != 0) {
		log_warn("kube", "watch event skipped: unknown type", "resource", inf->res_label,
		         "type", type, NULL);
		goto out;
	}
	if ((why = object_problem(inf, obj)) != NULL) {
		log_warn("kube", "watch event skipped", "resource", inf->res_label, "type", type,
		         "problem", why, NULL);
		goto out;
	}
	if (complete_object(inf, obj) < 0)
		goto out;
	obj = kube_obj_steal(ev, "object");
	kube_obj_key(obj, key, sizeof(key));
	set_rv(inf, kube_obj_rv(obj));
	if (strcmp(type, "DELETED") == 0) {
		old = kube_cache_remove(inf->cache, key);
		if (old != NULL) {
			metric_add(inf->objects, -1);
			if (inf->handler != NULL) {
				kube_client_event_begin(inf->c, read_at);
				inf->handler(inf, KUBE_DELETED, obj, old, inf->arg);
				kube_client_event_end(inf->c);
			}
		}
		json_free(old);
		json_free(obj);
		goto out;
	}
	old = kube_cache_put(inf->cache, key, obj, &failed);
	if (failed) {
		json_free(obj);
		goto out;
	}
	if (old == NULL)
		metric_add(inf->objects, 1);
	et = old == NULL ? KUBE_ADDED : KUBE_UPDATED;
	if (inf->handler != NULL) {
		kube_client_event_begin(inf->c, read_at);
		inf->handler(inf, et, obj, old, inf->arg);
		kube_client_event_end(inf->c);
	}
	json_free(old);
out:
	yajl_tree_free(ev);
	return inf->dying ? -1 : rc;
}

static void
on_too_long(size_t len, void *arg)
{
	struct kube_informer *inf = arg;

	log_error("kube", "watch event skipped: longer than the line limit", "resource",
	          inf->res_label, "bytes", LOG_I(len), "limit", LOG_I(inf->max_line), NULL);
}

static int
watch_head(struct https_request *r, int status, struct evkeyvalq *headers, void *arg)
{
	struct kube_informer *inf = arg;
	const char *ctype = evhttp_find_header(headers, "Content-Type");
	int rc = 0;

	(void)r;
	enter(inf);
	inf->watch_status = status;
	if (status == 200 && !kube_is_json_type(ctype)) {
		log_error("kube", "watch answered with the wrong content type", "resource",
		          inf->res_label, "content_type", ctype ? ctype : "", NULL);
		watch_ended(inf, "error");
		back_off(inf, 1, 0, "wrong content type");
		rc = -1;
	}
	return leave(inf) ? -1 : rc;
}

static int
watch_data(struct https_request *r, struct evbuffer *data, void *arg)
{
	struct kube_informer *inf = arg;
	int rc = 0;

	(void)r;
	enter(inf);
	if (inf->watch_status != 200) {
		/* An error answer: keep its Status for the log. */
		if (evbuffer_get_length(inf->err_body) < INF_ERR_BODY_MAX)
			evbuffer_add_buffer(inf->err_body, data);
		else
			evbuffer_drain(data, evbuffer_get_length(data));
	} else {
		rc = kube_ndjson_feed(&inf->framer, data, on_line, on_too_long, inf);
	}
	return leave(inf) ? -1 : rc;
}

static void
watch_done(struct https_request *r, const struct https_response *resp, void *arg)
{
	struct kube_informer *inf = arg;
	double lasted = kube_now() - inf->watch_started;
	int code = resp->status;

	(void)r;
	enter(inf);
	inf->watch = NULL;
	kube_client_observe(inf->c, "WATCH", inf->res_label, code, -1);
	if (kube_ndjson_pending(&inf->framer) > 0)
		log_warn("kube", "watch stream ended in the middle of an event", "resource",
		         inf->res_label, "bytes", LOG_I(kube_ndjson_pending(&inf->framer)), NULL);
	if (resp->err != HTTPS_ERR_OK) {
		int timeout = resp->err == HTTPS_ERR_TIMEOUT;
		log_info("kube", "watch ended", "resource", inf->res_label, "error", resp->errmsg,
		         NULL);
		count_restart(inf, timeout ? "timeout" : "error");
		/* A stream that worked for a while resumes at once; one that never did
		 * backs off. */
		if (inf->watch_events > 0 || lasted >= 1.0) {
			kube_backoff_reset(&inf->backoff);
			start_watch_soon(inf);
		} else {
			back_off(inf, 1, 0, "watch failed");
		}
	} else if (code == 200) {
		count_restart(inf, "closed");
		if (inf->watch_events > 0 || lasted >= 1.0) {
			kube_backoff_reset(&inf->backoff);
			start_watch_soon(inf);
		} else {
			back_off(inf, 1, 0, "watch closed at once");
		}
	} else {
		char perr[64];
		struct kube_status st;
		size_t n = evbuffer_get_length(inf->err_body);
		yajl_val v = n ? json_parse((const char *)evbuffer_pullup(inf->err_body, -1), n,
		                            perr, sizeof(perr))
		               : NULL;
		kube_status_parse(v, &st);
		json_free(v);
		evbuffer_drain(inf->err_body, n);
		if (code == 410) {
			log_info("kube", "watch history expired; listing again", "resource",
			         inf->res_label, NULL);
			count_restart(inf, "expired");
			inf->rv[0] = '\0';
			start_list(inf);
		} else {
			const char *ra = https_response_header(resp, "Retry-After");
			int delay = 0;
			log_warn("kube", "watch refused", "resource", inf->res_label, "code",
			         LOG_I(code), "reason", st.reason, "message", st.message, NULL);
			count_restart(inf, code == 429 ? "throttled" : "error");
			if (code == 401)
				kube_client_reauth(inf->c);
			if (ra != NULL && (code == 429 || code >= 500))
				delay = (int)strtol(ra, NULL, 10) * 1000;
			back_off(inf, 1, delay > 0 && delay <= 30000 ? delay : 0, "watch refused");
		}
	}
	leave(inf);
}

/* A token is ours: open the watch. */
static void
slot_go(struct kube_slot *s, void *arg)
{
	struct kube_informer *inf = arg;
	struct evbuffer *q = evbuffer_new();
	char num[24], *path = NULL, *full = NULL;
	int timeout_s;

	(void)s;
	enter(inf);
	timeout_s = inf->watch_timeout_s > 0 ? inf->watch_timeout_s
	                                     : 300 + (int)(300 * kube_rand01(&inf->backoff.rng));
	snprintf(num, sizeof(num), "%d", timeout_s);
	path = kube_path(&inf->res, inf->ns, NULL, NULL);
	if (q == NULL || path == NULL || kube_query_add(q, "watch", "1") < 0 ||
	    kube_query_add(q, "resourceVersion", inf->rv) < 0 ||
	    kube_query_add(q, "allowWatchBookmarks", "true") < 0 ||
	    kube_query_add(q, "timeoutSeconds", num) < 0 ||
	    (inf->label_selector && kube_query_add(q, "labelSelector", inf->label_selector) < 0) ||
	    (inf->field_selector && kube_query_add(q, "fieldSelector", inf->field_selector) < 0) ||
	    evbuffer_add(q, "", 1) < 0 ||
	    asprintf(&full, "%s?%s", path, (char *)evbuffer_pullup(q, -1)) < 0 ||
	    (inf->watch = kube_client_http(inf->c, HTTPS_GET, full)) == NULL) {
		back_off(inf, 1, 0, "cannot make the watch request");
		goto out;
	}
	kube_ndjson_reset(&inf->framer);
	evbuffer_drain(inf->err_body, evbuffer_get_length(inf->err_body));
	inf->watch_status = 0;
	inf->watch_events = 0;
	inf->watch_started = kube_now();
	/* The server ends the watch after timeoutSeconds; our deadline is a little later. */
	https_request_timeouts(inf->watch, (timeout_s + INF_WATCH_SLACK_S) * 1000, 0);
	https_request_stream(inf->watch, watch_head, watch_data);
	https_request_send(inf->watch, watch_done, inf);
	log_debug("kube", "watching", "resource", inf->res_label, "resourceVersion", inf->rv, NULL);
out:
	if (q != NULL)
		evbuffer_free(q);
	free(path);
	free(full);
	leave(inf);
}

static void
start_watch_soon(struct kube_informer *inf)
{
	set_state(inf, INF_WATCHING, "watch");
	kube_client_wait(inf->c, &inf->slot);
}

/* -- life ---------------------------------------------------------------------------------- */

static int
dup_opt(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL || *s == '\0')
		return 0;
	return (*dst = strdup(s)) ? 0 : -1;
}

struct kube_informer *
kube_informer_new(struct kube_client *c, const struct kube_informer_opts *o)
{
	struct kube_informer *inf;
	const struct kube_resource *res = o->res;
	char *probe;

	if (res == NULL || (probe = kube_path(res, o->ns, NULL, NULL)) == NULL) {
		log_error("kube", "informer: invalid resource or namespace", NULL);
		return NULL;
	}
	free(probe);
	if ((inf = calloc(1, sizeof(*inf))) == NULL)
		return NULL;
	inf->c = c;
	if (dup_opt(&inf->group, res->group) < 0 || dup_opt(&inf->version, res->version) < 0 ||
	    dup_opt(&inf->plural, res->plural) < 0 || dup_opt(&inf->kind, res->kind) < 0 ||
	    dup_opt(&inf->ns, o->ns) < 0 || dup_opt(&inf->label_selector, o->label_selector) < 0 ||
	    dup_opt(&inf->field_selector, o->field_selector) < 0)
		goto fail;
	inf->res.group = inf->group ? inf->group : "";
	inf->res.version = inf->version;
	inf->res.plural = inf->plural;
	inf->res.kind = inf->kind;
	inf->res.namespaced = res->namespaced;
	if (inf->kind != NULL)
		snprintf(inf->item_kind, sizeof(inf->item_kind), "%s", inf->kind);
	if (inf->group != NULL)
		snprintf(inf->api_version, sizeof(inf->api_version), "%s/%s", inf->group,
		         inf->version);
	else
		snprintf(inf->api_version, sizeof(inf->api_version), "%s", inf->version);
	kube_res_label(&inf->res, inf->res_label, sizeof(inf->res_label));
	inf->handler = o->handler;
	inf->synced_fn = o->synced;
	inf->arg = o->arg;
	inf->watch_timeout_s = o->watch_timeout_s;
	inf->max_line = o->max_line > 0 ? o->max_line : INF_DEFAULT_MAX_LINE;
	inf->page_size = o->page_size > 0 ? o->page_size : INF_DEFAULT_PAGE;
	size_t nk = 0;
	inf->keep[nk++] = "-metadata.managedFields";
	if (o->keep != NULL) {
		inf->keep[nk++] = "kind";
		inf->keep[nk++] = "apiVersion";
		inf->keep[nk++] = "metadata";
		for (size_t i = 0; o->keep[i] != NULL && nk < JSON_KEEP_MAX; i++)
			inf->keep[nk++] = o->keep[i];
	}
	inf->keep[nk] = NULL;
	kube_backoff_init(&inf->backoff, 250, 30000, kube_client_seed(c));
	inf->slot.go = slot_go;
	inf->slot.arg = inf;
	if (kube_ndjson_init(&inf->framer, inf->max_line) < 0 ||
	    (inf->cache = kube_cache_new()) == NULL || (inf->err_body = evbuffer_new()) == NULL ||
	    (inf->timer = evtimer_new(kube_client_base(c), timer_cb, inf)) == NULL)
		goto fail;
	inf->objects = metric_series(kube_client_m(c)->cache_objects, inf->res_label, NULL);
	inf->part.free = inf_destroy;
	inf->part.self = inf;
	kube_client_attach(c, &inf->part);
	log_info("kube", "informer started", "resource", inf->res_label, "namespace",
	         inf->ns ? inf->ns : "(all)", "labels", inf->label_selector, NULL);
	start_list(inf);
	return inf;
fail:
	log_error("kube", "informer: out of memory", NULL);
	inf_destroy(inf);
	return NULL;
}

/* Frees everything; the informer must already be detached from the client or never have
 * been attached (when called through the client, it detached it). */
static void
inf_destroy(void *self)
{
	struct kube_informer *inf = self;

	if (inf->watch != NULL)
		https_request_cancel(inf->watch);
	if (inf->list_call != NULL)
		kube_call_cancel(inf->list_call);
	kube_client_unwait(inf->c, &inf->slot);
	if (inf->timer != NULL)
		event_free(inf->timer);
	if (inf->cache != NULL) {
		metric_add(inf->objects, -(double)kube_cache_count(inf->cache));
		kube_cache_free(inf->cache);
	}
	kube_cache_free(inf->next);
	kube_ndjson_free(&inf->framer);
	if (inf->err_body != NULL)
		evbuffer_free(inf->err_body);
	free(inf->cont);
	free(inf->group);
	free(inf->version);
	free(inf->plural);
	free(inf->kind);
	free(inf->ns);
	free(inf->label_selector);
	free(inf->field_selector);
	free(inf);
}

void
kube_informer_free(struct kube_informer *inf)
{
	if (inf == NULL || inf->dying)
		return;
	kube_client_detach(inf->c, &inf->part);
	if (inf->busy > 0) {
		/* Inside one of our callbacks: stop now, free when it returns. */
		inf->dying = 1;
		return;
	}
	inf_destroy(inf);
}

int
kube_informer_synced(const struct kube_informer *inf)
{
	return inf->synced;
}

yajl_val
kube_informer_get(const struct kube_informer *inf, const char *ns, const char *name)
{
	char key[600];

	if (name == NULL)
		return NULL;
	if (ns != NULL && *ns != '\0')
		snprintf(key, sizeof(key), "%s/%s", ns, name);
	else
		snprintf(key, sizeof(key), "%s", name);
	return kube_cache_get(inf->cache, key);
}

size_t
kube_informer_count(const struct kube_informer *inf)
{
	return kube_cache_count(inf->cache);
}

struct foreach_ctx {
	void (*fn)(yajl_val obj, void *arg);
	void *arg;
};

static void
foreach_one(const char *key, yajl_val obj, void *arg)
{
	struct foreach_ctx *f = arg;

	(void)key;
	f->fn(obj, f->arg);
}

void
kube_informer_foreach(const struct kube_informer *inf, void (*fn)(yajl_val obj, void *arg),
                      void *arg)
{
	struct foreach_ctx f = {fn, arg};

	kube_cache_foreach(inf->cache, foreach_one, &f);
}

const char *
kube_informer_resource_version(const struct kube_informer *inf)
{
	return inf->rv;
}
