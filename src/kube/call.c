/*
 * One-shot API calls: get, create, update, merge patch (object or status), delete. Each
 * queues at the rate limiter, retries what is worth retrying (429 after Retry-After, 5xx
 * and connection failures with backoff, 401 after a token re-read, 409 on a status write
 * after re-reading the object) within one deadline, and ends in one callback.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "internal.h"
#include "ttc/https.h"
#include "ttc/json.h"
#include "ttc/log.h"

#define MAX_CONFLICT_RETRIES 5
#define RETRY_AFTER_MAX_S 30

struct kube_call {
	struct kube_part part;
	struct kube_client *c;
	struct kube_slot slot;
	enum kube_verb verb;
	char res_label[160];
	char *path;     /* with its query */
	char *obj_path; /* the object itself, for re-reads */
	char *body;
	unsigned flags;
	int timeout_ms;
	double deadline;
	struct kube_event_stamp stamp; /* the watch event it was started for, if any */
	double sent_at;
	int rereading; /* the in-flight request is the re-read after a conflict */
	struct https_request *req;
	struct event *deadline_ev, *retry_ev, *done_ev;
	struct kube_backoff backoff;
	kube_done_fn cb;
	void *arg;

	int attempts, conflicts, reauthed;
	int in_cb;
	enum kube_err err;
	int code;
	char reason[64];
	char message[512];
	yajl_val object;
};

static const char *const verb_names[] = {"GET", "LIST", "CREATE", "UPDATE", "PATCH", "DELETE"};
static const enum https_method verb_methods[] = {HTTPS_GET, HTTPS_GET,   HTTPS_POST,
                                                 HTTPS_PUT, HTTPS_PATCH, HTTPS_DELETE};

yajl_val
kube_result_take(struct kube_result *r)
{
	yajl_val v = r->object;

	r->object = NULL;
	return v;
}

static void
call_free(void *self)
{
	struct kube_call *k = self;

	if (k->req != NULL)
		https_request_cancel(k->req);
	kube_client_unwait(k->c, &k->slot);
	if (k->deadline_ev != NULL)
		event_free(k->deadline_ev);
	if (k->retry_ev != NULL)
		event_free(k->retry_ev);
	if (k->done_ev != NULL)
		event_free(k->done_ev);
	json_free(k->object);
	free(k->path);
	free(k->obj_path);
	free(k->body);
	free(k);
}

void
kube_call_cancel(struct kube_call *k)
{
	if (k == NULL || k->in_cb)
		return;
	kube_client_detach(k->c, &k->part);
	call_free(k);
}

/* Records the outcome; the callback runs from done_ev. */
static void
finish(struct kube_call *k, enum kube_err err, int code, const char *reason, const char *msg)
{
	k->err = err;
	k->code = code;
	snprintf(k->reason, sizeof(k->reason), "%s", reason ? reason : "");
	snprintf(k->message, sizeof(k->message), "%s", msg ? msg : "");
	if (k->req != NULL) {
		https_request_cancel(k->req);
		k->req = NULL;
	}
	kube_client_unwait(k->c, &k->slot);
	evtimer_del(k->deadline_ev);
	evtimer_del(k->retry_ev);
	event_active(k->done_ev, EV_TIMEOUT, 0);
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_call *k = arg;
	struct kube_result r;

	(void)fd;
	(void)what;
	kube_client_detach(k->c, &k->part);
	r.err = k->err;
	r.code = k->code;
	r.reason = k->reason;
	r.message = k->message;
	r.object = k->object;
	r.attempts = k->attempts;
	if (k->err != KUBE_ERR_OK && k->err != KUBE_ERR_NOT_FOUND &&
	    k->err != KUBE_ERR_ALREADY_EXISTS)
		log_debug("kube", "call failed", "verb", verb_names[k->verb], "path", k->path,
		          "error", kube_err_name(k->err), "code", LOG_I(k->code), "message",
		          k->message, NULL);
	/* The object moves to the result; whatever the callback leaves is freed here. */
	k->object = NULL;
	k->in_cb = 1;
	k->cb(&r, k->arg);
	json_free(r.object);
	k->object = NULL;
	call_free(k);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_call *k = arg;
	char msg[600];

	(void)fd;
	(void)what;
	snprintf(msg, sizeof(msg), "no answer within %d ms%s%s", k->timeout_ms,
	         k->message[0] ? "; last error: " : "", k->message);
	finish(k, KUBE_ERR_TIMEOUT, k->code, k->reason, msg);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kube_call *k = arg;

	(void)fd;
	(void)what;
	kube_client_wait(k->c, &k->slot);
}

/* Tries again after delay_ms, unless that passes the deadline. */
static void
retry(struct kube_call *k, int delay_ms, enum kube_err err, int code, const char *reason,
      const char *msg)
{
	struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};

	/* Keep the reason: it is what the caller sees if the deadline comes first. */
	k->code = code;
	snprintf(k->reason, sizeof(k->reason), "%s", reason ? reason : "");
	snprintf(k->message, sizeof(k->message), "%s", msg ? msg : "");
	if ((k->flags & KUBE_REQ_NO_RETRY) || kube_now() + delay_ms / 1000.0 >= k->deadline) {
		finish(k, err, code, reason, msg);
		return;
	}
	evtimer_add(k->retry_ev, &tv);
}

/* Puts the re-read resourceVersion into the body's metadata.resourceVersion, if any. */
static int
refresh_precondition(struct kube_call *k, const char *rv)
{
	char err[128];
	yajl_val body = json_parse(k->body, strlen(k->body), err, sizeof(err));
	yajl_val meta = json_get(body, "metadata", NULL);
	struct jw w;
	char *out;

	if (body == NULL)
		return -1;
	if (!YAJL_IS_OBJECT(meta) || json_get(meta, "resourceVersion", NULL) == NULL) {
		json_free(body);
		return 0;
	}
	if (kube_obj_set_str(meta, "resourceVersion", rv) < 0 || jw_init(&w) < 0) {
		json_free(body);
		return -1;
	}
	jw_val(&w, body);
	out = jw_finish(&w, NULL);
	json_free(body);
	if (out == NULL)
		return -1;
	free(k->body);
	k->body = out;
	return 0;
}

static void
on_response(struct https_request *req, const struct https_response *resp, void *arg)
{
	struct kube_call *k = arg;
	const char *ctype;
	yajl_val v = NULL;
	struct kube_status st;
	char perr[128];
	size_t len;
	enum kube_err err;

	(void)req;
	k->req = NULL;
	kube_client_observe(k->c, k->rereading ? "GET" : verb_names[k->verb], k->res_label,
	                    resp->status, kube_now() - k->sent_at);
	if (resp->err != HTTPS_ERR_OK) {
		if (resp->err == HTTPS_ERR_TLS) {
			finish(k, KUBE_ERR_TLS, 0, "", resp->errmsg);
		} else if (resp->err == HTTPS_ERR_PROTOCOL || resp->err == HTTPS_ERR_TOO_LARGE) {
			finish(k, KUBE_ERR_PROTOCOL, 0, "", resp->errmsg);
		} else {
			retry(k, kube_backoff_next(&k->backoff), KUBE_ERR_UNAVAILABLE, 0, "",
			      resp->errmsg);
		}
		return;
	}
	ctype = https_response_header(resp, "Content-Type");
	len = evbuffer_get_length(resp->body);
	if (len > 0 && kube_is_json_type(ctype)) {
		v = json_parse((const char *)evbuffer_pullup(resp->body, -1), len, perr,
		               sizeof(perr));
		if (v == NULL && resp->status < 300) {
			char msg[256];
			snprintf(msg, sizeof(msg), "unreadable JSON from the server: %s", perr);
			finish(k, KUBE_ERR_PROTOCOL, resp->status, "", msg);
			return;
		}
	} else if (resp->status < 300 && len > 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "the server answered %s instead of JSON",
		         ctype ? ctype : "no content type");
		finish(k, KUBE_ERR_PROTOCOL, resp->status, "", msg);
		return;
	}
	if (resp->status >= 200 && resp->status < 300) {
		kube_backoff_reset(&k->backoff);
		if (k->rereading) {
			const char *rv = kube_obj_rv(v);
			k->rereading = 0;
			if (rv == NULL || refresh_precondition(k, rv) < 0) {
				json_free(v);
				finish(k, KUBE_ERR_PROTOCOL, resp->status, "",
				       "the re-read object has no usable resourceVersion");
				return;
			}
			json_free(v);
			kube_client_wait(k->c, &k->slot);
			return;
		}
		k->object = v;
		finish(k, KUBE_ERR_OK, resp->status, "", "");
		return;
	}
	kube_status_parse(v, &st);
	json_free(v);
	if (st.message[0] == '\0')
		snprintf(st.message, sizeof(st.message), "HTTP %d", resp->status);
	err = kube_err_from_http(resp->status, st.reason);
	if (resp->status == 401 && !k->reauthed && kube_client_reauth(k->c)) {
		k->reauthed = 1;
		kube_client_wait(k->c, &k->slot);
		return;
	}
	if (err == KUBE_ERR_CONFLICT && (k->flags & KUBE_REQ_REAPPLY) && !k->rereading &&
	    k->obj_path != NULL && k->conflicts < MAX_CONFLICT_RETRIES) {
		k->conflicts++;
		k->rereading = 1;
		log_debug("kube", "conflict: reading the object again", "path", k->obj_path, NULL);
		kube_client_wait(k->c, &k->slot);
		return;
	}
	const char *ra = https_response_header(resp, "Retry-After");
	if (resp->status == 429 || (resp->status >= 500 && ra != NULL)) {
		long s = ra ? strtol(ra, NULL, 10) : 1;
		if (s < 1)
			s = 1;
		if (s > RETRY_AFTER_MAX_S)
			s = RETRY_AFTER_MAX_S;
		retry(k, (int)s * 1000, err, resp->status, st.reason, st.message);
		return;
	}
	if (resp->status >= 500) {
		retry(k, kube_backoff_next(&k->backoff), err, resp->status, st.reason, st.message);
		return;
	}
	finish(k, err, resp->status, st.reason, st.message);
}

/* A token is ours: send the request (or the re-read). */
static void
send_now(struct kube_slot *s, void *arg)
{
	struct kube_call *k = arg;
	int remaining = (int)((k->deadline - kube_now()) * 1000);
	int method = k->rereading ? HTTPS_GET : verb_methods[k->verb];
	static const char *const ctypes[] = {NULL,
	                                     NULL,
	                                     "application/json",
	                                     "application/json",
	                                     "application/merge-patch+json",
	                                     "application/json"};

	(void)s;
	if (remaining <= 0) {
		deadline_cb(-1, 0, k);
		return;
	}
	k->req = kube_client_http(k->c, method, k->rereading ? k->obj_path : k->path);
	if (k->req == NULL) {
		retry(k, kube_backoff_next(&k->backoff), KUBE_ERR_UNAVAILABLE, 0, "",
		      "cannot make a request");
		return;
	}
	if (!k->rereading && k->body != NULL)
		https_request_body(k->req, ctypes[k->verb], k->body, strlen(k->body));
	https_request_timeouts(k->req, remaining, 0);
	if (k->attempts++ == 0)
		kube_event_request_sent(k->c, &k->stamp);
	k->sent_at = kube_now();
	https_request_send(k->req, on_response, k);
}

struct kube_call *
kube_request(struct kube_client *c, const struct kube_request *rq, kube_done_fn cb, void *arg)
{
	struct kube_call *k;
	const char *ns = rq->ns;
	struct timeval tv;
	struct event_base *base = kube_client_base(c);
	int needs_name = rq->verb != KUBE_LIST && rq->verb != KUBE_CREATE;
	int needs_body =
	    rq->verb == KUBE_CREATE || rq->verb == KUBE_UPDATE || rq->verb == KUBE_PATCH;

	if (rq->res == NULL || cb == NULL || (unsigned)rq->verb > KUBE_DELETE ||
	    (needs_name && (rq->name == NULL || *rq->name == '\0')) ||
	    (needs_body && rq->body == NULL)) {
		log_error("kube", "invalid request: resource, callback, name or body missing",
		          "verb", (unsigned)rq->verb <= KUBE_DELETE ? verb_names[rq->verb] : "?",
		          NULL);
		return NULL;
	}
	/* NULL is the client's namespace; "" all namespaces, which only a list can span. */
	if (rq->res->namespaced && (ns == NULL || (*ns == '\0' && rq->verb != KUBE_LIST)))
		ns = kube_client_namespace(c);
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->c = c;
	k->verb = rq->verb;
	k->flags = rq->flags;
	k->cb = cb;
	k->arg = arg;
	k->timeout_ms = rq->timeout_ms > 0 ? rq->timeout_ms : 0;
	kube_event_stamp(c, &k->stamp);
	k->path = kube_path(rq->res, ns, needs_name ? rq->name : NULL, rq->subresource);
	if (k->path == NULL) {
		log_error("kube", "invalid request: bad namespace, name or resource", "name",
		          rq->name, "namespace", ns, "resource", rq->res->plural, NULL);
		free(k);
		return NULL;
	}
	if (rq->query != NULL && *rq->query != '\0') {
		char *p;
		if (asprintf(&p, "%s?%s", k->path, rq->query) < 0)
			goto oom;
		free(k->path);
		k->path = p;
	}
	if (needs_name && (k->flags & KUBE_REQ_REAPPLY) &&
	    (k->obj_path = kube_path(rq->res, ns, rq->name, NULL)) == NULL)
		goto oom;
	if (rq->body != NULL && (k->body = strdup(rq->body)) == NULL)
		goto oom;
	kube_res_label(rq->res, k->res_label, sizeof(k->res_label));
	k->slot.go = send_now;
	k->slot.arg = k;
	k->slot.priority = (k->flags & KUBE_REQ_PRIORITY) != 0;
	kube_backoff_init(&k->backoff, 200, 5000, kube_client_seed(c));
	k->deadline_ev = evtimer_new(base, deadline_cb, k);
	k->retry_ev = evtimer_new(base, retry_cb, k);
	k->done_ev = evtimer_new(base, done_cb, k);
	if (k->deadline_ev == NULL || k->retry_ev == NULL || k->done_ev == NULL)
		goto oom;
	k->part.free = call_free;
	k->part.self = k;
	kube_client_attach(c, &k->part);
	if (k->timeout_ms == 0)
		k->timeout_ms = kube_client_timeout_ms(c);
	k->deadline = kube_now() + k->timeout_ms / 1000.0;
	tv.tv_sec = k->timeout_ms / 1000;
	tv.tv_usec = (k->timeout_ms % 1000) * 1000;
	evtimer_add(k->deadline_ev, &tv);
	kube_client_wait(c, &k->slot);
	return k;
oom:
	log_error("kube", "out of memory", NULL);
	if (k->deadline_ev)
		event_free(k->deadline_ev);
	if (k->retry_ev)
		event_free(k->retry_ev);
	if (k->done_ev)
		event_free(k->done_ev);
	free(k->path);
	free(k->obj_path);
	free(k->body);
	free(k);
	return NULL;
}

struct kube_call *
kube_get(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
         kube_done_fn cb, void *arg)
{
	struct kube_request rq = {.verb = KUBE_GET, .res = res, .ns = ns, .name = name};

	return kube_request(c, &rq, cb, arg);
}

struct kube_call *
kube_create(struct kube_client *c, const struct kube_resource *res, const char *ns,
            const char *json, kube_done_fn cb, void *arg)
{
	struct kube_request rq = {.verb = KUBE_CREATE, .res = res, .ns = ns, .body = json};

	return kube_request(c, &rq, cb, arg);
}

struct kube_call *
kube_patch(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
           const char *patch, kube_done_fn cb, void *arg)
{
	struct kube_request rq = {
	    .verb = KUBE_PATCH, .res = res, .ns = ns, .name = name, .body = patch};

	return kube_request(c, &rq, cb, arg);
}

struct kube_call *
kube_patch_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                  const char *name, const char *patch, kube_done_fn cb, void *arg)
{
	struct kube_request rq = {.verb = KUBE_PATCH,
	                          .res = res,
	                          .ns = ns,
	                          .name = name,
	                          .subresource = "status",
	                          .body = patch,
	                          .flags = KUBE_REQ_REAPPLY};

	return kube_request(c, &rq, cb, arg);
}

struct kube_call *
kube_delete(struct kube_client *c, const struct kube_resource *res, const char *ns,
            const char *name, enum kube_propagation p, kube_done_fn cb, void *arg)
{
	static const char *const bodies[] = {
	    [KUBE_PROPAGATE_BACKGROUND] = "{\"propagationPolicy\":\"Background\"}",
	    [KUBE_PROPAGATE_FOREGROUND] = "{\"propagationPolicy\":\"Foreground\"}",
	    [KUBE_PROPAGATE_ORPHAN] = "{\"propagationPolicy\":\"Orphan\"}",
	};
	struct kube_request rq = {.verb = KUBE_DELETE,
	                          .res = res,
	                          .ns = ns,
	                          .name = name,
	                          .body =
	                              (unsigned)p <= KUBE_PROPAGATE_ORPHAN ? bodies[p] : bodies[0]};

	return kube_request(c, &rq, cb, arg);
}
