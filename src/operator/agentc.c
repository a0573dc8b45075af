/*
 * The operator's client for one pod's agent (see agentc.h). Every request carries its
 * own deadline; an asynchronous order is followed by a small poller of its own.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "agentc.h"
#include "ttc/https.h"
#include "ttc/json.h"
#include "ttc/log.h"

#define ASYNC_POLL_MS 250
/* How long a connection to an agent stays open between requests: past a few polling
 * intervals, below the agent's idle timeout (60 s, src/common/httpd.c). */
#define AGENT_KEEPALIVE_MS 30000

struct pending {
	TAILQ_ENTRY(pending) entry;
	struct agentc *c;
	struct https_request *req; /* the request out, or NULL while waiting to poll */
	struct event *timer;       /* async: the next poll */
	agentc_state_fn state_done;
	agentc_order_fn order_done;
	agentc_lease_fn lease_done;
	void *arg;
	char op[32];
	char id[64];
	const char *what;         /* for the done hook: "state", "lease" or op */
	struct timespec started;  /* when it first went out (tv_sec 0: not yet) */
	struct timespec deadline; /* async: give up then (tv_sec 0: never) */
	struct agentc_limits lim;
};

struct agentc {
	struct event_base *base;
	struct https_client *http;
	TAILQ_HEAD(, pending) pending;
	struct agentc_hooks hooks;
};

struct agentc *
agentc_new(struct event_base *base, SSL_CTX *ctx, const char *ip, int port, const char *server_name,
           char *err, size_t errlen)
{
	struct agentc *c = calloc(1, sizeof(*c));
	char url[128];

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(url, sizeof(url), strchr(ip, ':') ? "https://[%s]:%d" : "https://%s:%d", ip, port);
	struct https_client_opts o = {url, ctx, server_name, NULL, AGENT_KEEPALIVE_MS};
	c->base = base;
	TAILQ_INIT(&c->pending);
	if ((c->http = https_client_new(base, &o, err, errlen)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
agentc_set_hooks(struct agentc *c, const struct agentc_hooks *h)
{
	c->hooks = *h;
}

/* The request p ended: the done hook hears of it. */
static void
timed_end(struct pending *p)
{
	struct timespec now;

	if (p->c->hooks.done == NULL || p->started.tv_sec == 0 || p->what == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	p->c->hooks.done(p->c->hooks.arg, p->what,
	                 (double)(now.tv_sec - p->started.tv_sec) +
	                     (double)(now.tv_nsec - p->started.tv_nsec) / 1e9);
}

unsigned long
agentc_connections(const struct agentc *c)
{
	return https_client_connections(c->http);
}

static void
pending_free(struct pending *p)
{
	TAILQ_REMOVE(&p->c->pending, p, entry);
	if (p->req != NULL)
		https_request_cancel(p->req);
	if (p->timer != NULL)
		event_free(p->timer);
	free(p);
}

void
agentc_free(struct agentc *c)
{
	if (c == NULL)
		return;
	while (!TAILQ_EMPTY(&c->pending))
		pending_free(TAILQ_FIRST(&c->pending));
	https_client_free(c->http);
	free(c);
}

static void
copy_field(yajl_val v, const char *key, char *dst, size_t n)
{
	const char *s = json_str(v, key, NULL);

	json_strcpy(dst, n, s && *s ? s : "Unknown");
}

/* The enumeration value of v's key among names; Unknown (0) for a word not known. */
static int
enum_field(yajl_val v, const char *key, const char *const *names)
{
	const char *s = json_str(v, key, NULL);

	if (s == NULL)
		return 0;
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	log_debug("agent", "unknown state value", "field", key, "value", s, NULL);
	return 0;
}

int
agentc_parse_state(const char *json, size_t len, struct agent_state *st, char *err, size_t errlen)
{
	yajl_val v = json_parse(json, len, err, errlen);

	if (v == NULL)
		return -1;
	if (!YAJL_IS_OBJECT(v)) {
		snprintf(err, errlen, "the state is not a JSON object");
		json_free(v);
		return -1;
	}
	st->instance = enum_field(v, "instance", tt_instance_names);
	st->daemon = enum_field(v, "daemon", tt_daemon_names);
	copy_field(v, "release", st->release, sizeof(st->release));
	st->db = enum_field(v, "database", tt_db_names);
	st->updatable = enum_field(v, "updatable", tt_updatable_names);
	st->rep_agent = enum_field(v, "repAgent", tt_running_names);
	st->rep_scheme = enum_field(v, "repScheme", tt_scheme_names);
	st->rep_state = enum_field(v, "repState", tt_rep_state_names);
	copy_field(v, "peerState", st->rep_peer, sizeof(st->rep_peer));
	st->cache_agent = enum_field(v, "cacheAgent", tt_running_names);
	st->active_marker = json_bool(v, "active", NULL) == 1;
	st->ready_marker = json_bool(v, "ready", NULL) == 1;
	st->open = enum_field(v, "open", tt_updatable_names);
	yajl_val id = json_get(v, "dbId", NULL);
	st->db_id = YAJL_IS_INTEGER(id) && YAJL_GET_INTEGER(id) >= 0 ? YAJL_GET_INTEGER(id) : -1;
	yajl_val usage = json_get(v, "memory", "usageBytes", NULL);
	yajl_val limit = json_get(v, "memory", "limitBytes", NULL);
	st->mem_limit =
	    YAJL_IS_INTEGER(limit) && YAJL_GET_INTEGER(limit) > 0 ? YAJL_GET_INTEGER(limit) : -1;
	yajl_val rss = json_get(v, "memory", "agentRssKB", NULL);
	st->mem_usage =
	    YAJL_IS_INTEGER(usage) && YAJL_GET_INTEGER(usage) >= 0 ? YAJL_GET_INTEGER(usage) : -1;
	st->rss_kb =
	    YAJL_IS_INTEGER(rss) && YAJL_GET_INTEGER(rss) >= 0 ? YAJL_GET_INTEGER(rss) : -1;
	yajl_val files = json_get(v, "configFiles", NULL);
	st->admin_user_file = st->schema_file = st->cache_user_file = st->cg_file = 0;
	for (size_t i = 0; i < json_len(files); i++) {
		const char *f = YAJL_GET_STRING(json_at(files, i));
		if (f == NULL)
			continue;
		st->admin_user_file |= strcmp(f, "adminUser") == 0;
		st->schema_file |= strcmp(f, "schema.sql") == 0;
		st->cache_user_file |= strcmp(f, "cacheUser") == 0;
		st->cg_file |= strcmp(f, "cachegroups.sql") == 0;
	}
	json_free(v);
	return 0;
}

/* The body of a response as a NUL-terminated string (in a static-free malloc'd copy). */
static char *
body_text(const struct https_response *resp, size_t *len)
{
	size_t n = resp->body ? evbuffer_get_length(resp->body) : 0;
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	if (n > 0)
		evbuffer_copyout(resp->body, s, n);
	s[n] = '\0';
	*len = n;
	return s;
}

/* An asynchronous operation's id goes into a request path: one segment of plain
 * characters, as the agent makes them ("<boot>-<n>"). */
static int
valid_async_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct agentc_reply *)NULL)->id))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

int
agentc_parse_reply(const char *body, size_t len, struct agentc_reply *r)
{
	char err[64];
	yajl_val v = json_parse(body, len, err, sizeof(err));
	const char *s;

	memset(r, 0, sizeof(*r));
	if (v == NULL)
		return -1;
	if ((s = json_str(v, "message", NULL)) != NULL)
		json_strcpy(r->message, sizeof(r->message), s);
	if ((s = json_str(v, "errmsg", NULL)) != NULL)
		json_strcpy(r->errmsg, sizeof(r->errmsg), s);
	if ((s = json_str(v, "id", NULL)) != NULL && valid_async_id(s))
		snprintf(r->id, sizeof(r->id), "%s", s);
	r->complete = json_bool(v, "complete", NULL) == 1;
	s = json_str(v, "status", NULL);
	r->succeeded = s != NULL && strcmp(s, "Succeeded") == 0;
	json_free(v);
	return 0;
}

/* The body of resp read into r (empty when there is none or it is not JSON). */
static void
read_reply(const struct https_response *resp, struct agentc_reply *r)
{
	size_t len;
	char *text = body_text(resp, &len);

	if (text == NULL || agentc_parse_reply(text, len, r) < 0)
		memset(r, 0, sizeof(*r));
	free(text);
}

/* "reason: message" of an agent error reply, or the transport error. */
static void
describe_failure(const struct https_response *resp, char *buf, size_t n)
{
	struct agentc_reply r;

	if (resp->status == 0) {
		snprintf(buf, n, "%s", resp->errmsg ? resp->errmsg : https_err_name(resp->err));
		return;
	}
	read_reply(resp, &r);
	const char *detail = r.errmsg[0] ? r.errmsg : r.message[0] ? r.message : "no detail";
	/* What does not fit is cut between characters (it goes into Events). */
	int k = snprintf(buf, n, "HTTP %d: ", resp->status);
	if (k >= 0 && (size_t)k < n)
		json_strcpy(buf + k, n - (size_t)k, detail);
}

static void
state_reply(struct https_request *r, const struct https_response *resp, void *arg)
{
	struct pending *p = arg;
	struct agent_state st;
	char why[256];
	size_t len;

	(void)r;
	p->req = NULL;
	timed_end(p);
	agent_state_unknown(&st);
	if (resp->status != 200) {
		describe_failure(resp, why, sizeof(why));
		p->state_done(p->arg, 0, &st, why);
	} else {
		char *text = body_text(resp, &len);
		if (text == NULL || agentc_parse_state(text, len, &st, why, sizeof(why)) < 0)
			p->state_done(p->arg, 0, &st, text ? why : "out of memory");
		else
			p->state_done(p->arg, 1, &st, NULL);
		free(text);
	}
	pending_free(p);
}

static struct pending *
pending_new(struct agentc *c, void *arg)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->c = c;
	p->arg = arg;
	TAILQ_INSERT_TAIL(&c->pending, p, entry);
	return p;
}

/* keep: a request the agent answers at once (the state, an operation's progress, the
 * lease), which runs on a connection kept open; an order, which may take minutes, gets a
 * connection of its own (see https_request_keepalive()). */
static int
send_request(struct pending *p, enum https_method m, const char *path, const char *body, int keep,
             https_done_fn fn)
{
	p->req = https_request_new(p->c->http, m, path);
	if (p->req == NULL)
		return -1;
	if (keep)
		https_request_keepalive(p->req);
	https_request_header(p->req, "Accept", "application/json");
	if (body != NULL)
		https_request_body(p->req, "application/json", body, strlen(body));
	https_request_timeouts(p->req,
	                       p->lim.request_ms > 0 ? p->lim.request_ms : HTTPS_NO_DEADLINE, 0);
	https_request_connect_timeouts(p->req, p->lim.tcp_ms, p->lim.tls_ms);
	if (https_request_send(p->req, fn, p) < 0) {
		https_request_cancel(p->req);
		p->req = NULL;
		return -1;
	}
	if (p->started.tv_sec == 0)
		clock_gettime(CLOCK_MONOTONIC, &p->started);
	if (p->c->hooks.sent != NULL)
		p->c->hooks.sent(p->c->hooks.arg);
	return 0;
}

int
agentc_get_state(struct agentc *c, const struct agentc_limits *lim, agentc_state_fn done, void *arg)
{
	struct pending *p = pending_new(c, arg);

	if (p == NULL)
		return -1;
	p->state_done = done;
	p->what = "state";
	p->lim = *lim;
	if (send_request(p, HTTPS_GET, "/v1/state", NULL, 1, state_reply) < 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}

static void
lease_reply(struct https_request *r, const struct https_response *resp, void *arg)
{
	struct pending *p = arg;
	char why[256];

	(void)r;
	p->req = NULL;
	timed_end(p);
	if (resp->status == 200) {
		p->lease_done(p->arg, 1, NULL);
	} else {
		describe_failure(resp, why, sizeof(why));
		p->lease_done(p->arg, 0, why);
	}
	pending_free(p);
}

int
agentc_lease(struct agentc *c, long long seconds, int request_ms, agentc_lease_fn done, void *arg)
{
	struct pending *p = pending_new(c, arg);
	char body[64];

	if (p == NULL)
		return -1;
	p->lease_done = done;
	p->what = "lease";
	p->lim.request_ms = request_ms;
	p->lim.tcp_ms = p->lim.tls_ms = request_ms;
	snprintf(body, sizeof(body), "{\"seconds\":%lld}", seconds);
	if (send_request(p, HTTPS_POST, "/v1/lease", body, 1, lease_reply) < 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}

/* Ends an order: the callback, then the pending record. */
static void
order_end(struct pending *p, enum order_result r, const char *message)
{
	timed_end(p);
	p->order_done(p->arg, r, message);
	pending_free(p);
}

static void async_poll(evutil_socket_t fd, short what, void *arg);

static void
async_reply(struct https_request *r, const struct https_response *resp, void *arg)
{
	struct pending *p = arg;
	struct timespec now;
	struct agentc_reply reply;

	(void)r;
	p->req = NULL;
	if (resp->status == 200) {
		read_reply(resp, &reply);
		if (reply.complete) {
			order_end(p, reply.succeeded ? ORDER_OK : ORDER_FAILED,
			          reply.succeeded   ? NULL
			          : reply.errmsg[0] ? reply.errmsg
			                            : "failed");
			return;
		}
	} else if (resp->status == 404) {
		order_end(p, ORDER_TRANSIENT, "the agent forgot the operation (restarted?)");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->deadline.tv_sec != 0 && now.tv_sec > p->deadline.tv_sec) {
		order_end(p, ORDER_TRANSIENT, "the operation ran past agentAsyncTimeout");
		return;
	}
	struct timeval tv = {0, ASYNC_POLL_MS * 1000};
	if (p->timer == NULL)
		p->timer = evtimer_new(p->c->base, async_poll, p);
	if (p->timer == NULL || evtimer_add(p->timer, &tv) < 0)
		order_end(p, ORDER_TRANSIENT, "cannot follow the operation");
}

static void
async_poll(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	char path[128];

	(void)fd;
	(void)what;
	snprintf(path, sizeof(path), "/v1/async/%s", p->id);
	if (send_request(p, HTTPS_GET, path, NULL, 1, async_reply) < 0)
		order_end(p, ORDER_TRANSIENT, "cannot follow the operation");
}

static void
order_reply(struct https_request *r, const struct https_response *resp, void *arg)
{
	struct pending *p = arg;
	struct agentc_reply reply;
	char why[512];

	(void)r;
	p->req = NULL;
	if (resp->status == 200 || resp->status == 201) {
		/* What the agent says it did goes to the log and the procedure. */
		read_reply(resp, &reply);
		order_end(p, ORDER_OK, reply.message[0] ? reply.message : NULL);
		return;
	}
	if (resp->status == 202) {
		read_reply(resp, &reply);
		snprintf(p->id, sizeof(p->id), "%s", reply.id);
		if (p->id[0] == '\0') {
			order_end(p, ORDER_FAILED,
			          "the agent accepted the operation without a usable id");
			return;
		}
		async_poll(-1, 0, p);
		return;
	}
	describe_failure(resp, why, sizeof(why));
	/* No answer, busy (409), a utility past its time limit (504), or an agent that is
	 * shutting down (503) may go better later; anything else is TimesTen's answer. */
	if (resp->status == 0 || resp->status == 409 || resp->status == 503 || resp->status == 504)
		order_end(p, ORDER_TRANSIENT, why);
	else
		order_end(p, ORDER_FAILED, why);
}

int
agentc_order(struct agentc *c, const char *op, const char *body, const struct agentc_limits *lim,
             agentc_order_fn done, void *arg)
{
	struct pending *p = pending_new(c, arg);
	char path[96];

	if (p == NULL)
		return -1;
	p->order_done = done;
	p->lim = *lim;
	snprintf(p->op, sizeof(p->op), "%s", op);
	p->what = p->op;
	if (lim->async_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &p->deadline);
		p->deadline.tv_sec += (lim->async_ms + 999) / 1000;
	}
	snprintf(path, sizeof(path), "/v1/ops/%s", op);
	if (send_request(p, HTTPS_POST, path, body ? body : "{}", 0, order_reply) < 0) {
		pending_free(p);
		return -1;
	}
	return 0;
}
