/*
 * The client: the connection to the API server, credentials (a token file re-read every
 * minute and after a 401), the client-side rate limiter every request queues at, the
 * metrics, and the parts (calls, informers, recorders, electors) freed with it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "internal.h"
#include "ttc/https.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

#define TOKEN_REREAD_S 60
#define REAUTH_MIN_INTERVAL_S 1
#define MAX_TOKEN (64u << 10)

struct kube_client {
	struct event_base *base;
	struct https_client *https;
	char *token;
	char *token_file;
	char *ns;
	char *user_agent;
	double last_reauth;
	struct event *token_timer;

	struct kube_ratelimit rl;
	TAILQ_HEAD(, kube_slot) waiting;
	struct event *rl_timer;

	int timeout_ms;
	struct kube_metrics m;
	unsigned long long event_seq;  /* watch events handled so far */
	unsigned long long event_sent; /* the latest of them whose first request went */
	int in_event;                  /* event_seq's handler is running */
	double event_at;               /* when its line was read */
	TAILQ_HEAD(, kube_part) parts;
	unsigned seed;
};

static const double latency_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1,    2.5,   5,    10,  30};
static const double event_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

static void
register_metrics(struct kube_client *c, struct metrics *reg, const char *prefix)
{
	char n[160];
	const char *p = prefix && *prefix ? prefix : "kube";

#define NAME(s) (snprintf(n, sizeof(n), "%s_%s", p, s), n)
	c->m.requests = metrics_counter(reg, NAME("kube_requests_total"),
	                                "Kubernetes API requests by verb, resource and HTTP code "
	                                "(or the error that left no code).",
	                                "verb,resource,code");
	c->m.latency = metrics_histogram(reg, NAME("kube_request_duration_seconds"),
	                                 "Latency of Kubernetes API requests (watches excluded).",
	                                 "verb,resource", latency_bounds,
	                                 sizeof(latency_bounds) / sizeof(latency_bounds[0]));
	c->m.watch_restarts =
	    metrics_counter(reg, NAME("kube_watch_restarts_total"),
	                    "Watches started again, by why the last one ended.", "resource,reason");
	c->m.relists =
	    metrics_counter(reg, NAME("kube_relists_total"),
	                    "Full lists after the first (410 Expired, or errors).", "resource");
	c->m.watch_events = metrics_counter(reg, NAME("kube_watch_events_total"),
	                                    "Watch events received, by type.", "resource,type");
	c->m.cache_objects = metrics_gauge(reg, NAME("kube_cache_objects"),
	                                   "Objects in the informers' caches.", "resource");
	c->m.events = metrics_counter(reg, NAME("kube_events_total"),
	                              "Kubernetes Events recorded: created, aggregated into an "
	                              "existing one, dropped by the rate limit, or failed.",
	                              "result");
	c->m.leader =
	    metrics_gauge(reg, NAME("leader"),
	                  "Whether this process holds the leader Lease (1) or not (0).", "lease");
	c->m.leader_transitions =
	    metrics_counter(reg, NAME("leader_transitions_total"),
	                    "Times this process became or stopped being the leader.", "lease");
	c->m.event_to_request = metric_series(
	    metrics_histogram(reg, NAME("event_to_request_seconds"),
	                      "From a watch event read off its stream to the first request sent "
	                      "because of it (to the API server or an agent).",
	                      NULL, event_bounds, sizeof(event_bounds) / sizeof(event_bounds[0])),
	    NULL);
#undef NAME
}

static void
token_tick(evutil_socket_t fd, short what, void *arg)
{
	struct kube_client *c = arg;

	(void)fd;
	(void)what;
	kube_client_reauth(c);
	c->last_reauth = 0; /* a 401 right after may read it again */
}

static int
copy_str(char **dst, const char *s)
{
	if (s == NULL) {
		*dst = NULL;
		return 0;
	}
	return (*dst = strdup(s)) ? 0 : -1;
}

static void rl_tick(evutil_socket_t fd, short what, void *arg);

struct kube_client *
kube_client_new(struct event_base *base, const struct kube_client_opts *o, char *err, size_t errlen)
{
	const struct kube_config *cfg = o->config;
	struct kube_client *c;
	struct https_tls tls = {0};
	struct https_client_opts ho = {0};
	SSL_CTX *ctx = NULL;

	if (cfg == NULL || cfg->server == NULL) {
		snprintf(err, errlen, "no API server configured");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->base = base;
	TAILQ_INIT(&c->waiting);
	TAILQ_INIT(&c->parts);
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	c->seed = (unsigned)getpid() ^ (unsigned)(kube_now() * 1e6);
	kube_ratelimit_init(&c->rl, o->qps > 0 ? o->qps : 20, o->burst > 0 ? o->burst : 30,
	                    kube_now());
	if (copy_str(&c->token, cfg->token) < 0 || copy_str(&c->token_file, cfg->token_file) < 0 ||
	    copy_str(&c->ns, cfg->namespace ? cfg->namespace : "default") < 0 ||
	    copy_str(&c->user_agent, o->user_agent ? o->user_agent : "ttclassic") < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (strncmp(cfg->server, "https:", 6) == 0) {
		tls.ca_pem = cfg->ca_pem;
		tls.cert_pem = cfg->cert_pem;
		tls.key_pem = cfg->key_pem;
		tls.insecure = cfg->insecure;
		if ((ctx = https_ctx_new(&tls, err, errlen)) == NULL)
			goto fail;
	}
	ho.url = cfg->server;
	ho.ssl_ctx = ctx;
	ho.server_name = cfg->tls_server_name;
	ho.dns = o->dns;
	c->https = https_client_new(base, &ho, err, errlen);
	SSL_CTX_free(ctx); /* the https client holds its own reference */
	if (c->https == NULL)
		goto fail;
	c->rl_timer = evtimer_new(base, rl_tick, c);
	if (c->rl_timer == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (c->token_file != NULL) {
		struct timeval tv = {TOKEN_REREAD_S, 0};
		c->token_timer = event_new(base, -1, EV_PERSIST, token_tick, c);
		if (c->token_timer == NULL || evtimer_add(c->token_timer, &tv) < 0) {
			snprintf(err, errlen, "cannot schedule the token re-read");
			goto fail;
		}
	}
	if (o->metrics != NULL)
		register_metrics(c, o->metrics, o->metrics_prefix);
	log_info("kube", "API client ready", "server", cfg->server, "namespace", c->ns, "auth",
	         cfg->cert_pem ? "client certificate"
	         : c->token    ? "bearer token"
	                       : "none",
	         NULL);
	return c;
fail:
	kube_client_free(c);
	return NULL;
}

void
kube_client_free(struct kube_client *c)
{
	struct kube_part *p;

	if (c == NULL)
		return;
	while ((p = TAILQ_FIRST(&c->parts)) != NULL) {
		TAILQ_REMOVE(&c->parts, p, link);
		p->free(p->self);
	}
	if (c->token_timer != NULL)
		event_free(c->token_timer);
	if (c->rl_timer != NULL)
		event_free(c->rl_timer);
	https_client_free(c->https);
	if (c->token != NULL)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	free(c->token_file);
	free(c->ns);
	free(c->user_agent);
	free(c);
}

const char *
kube_client_namespace(const struct kube_client *c)
{
	return c->ns;
}

double
kube_client_qps(const struct kube_client *c)
{
	return c->rl.qps;
}

struct event_base *
kube_client_base(const struct kube_client *c)
{
	return c->base;
}

int
kube_client_timeout_ms(const struct kube_client *c)
{
	return c->timeout_ms;
}

const struct kube_metrics *
kube_client_m(const struct kube_client *c)
{
	return &c->m;
}

void
kube_client_event_begin(struct kube_client *c, double at)
{
	c->event_seq++;
	c->event_at = at;
	c->in_event = 1;
}

void
kube_client_event_end(struct kube_client *c)
{
	c->in_event = 0;
}

void
kube_event_stamp(const struct kube_client *c, struct kube_event_stamp *s)
{
	s->seq = c->in_event ? c->event_seq : 0;
	s->at = c->in_event ? c->event_at : 0;
}

void
kube_event_request_sent(struct kube_client *c, const struct kube_event_stamp *s)
{
	if (s->seq == 0 || s->seq <= c->event_sent)
		return; /* not from an event, or not its first request */
	c->event_sent = s->seq;
	metric_observe(c->m.event_to_request, kube_now() - s->at);
}

unsigned
kube_client_seed(struct kube_client *c)
{
	return (unsigned)(kube_rand01(&c->seed) * 4294967295.0) | 1u;
}

void
kube_client_attach(struct kube_client *c, struct kube_part *p)
{
	TAILQ_INSERT_TAIL(&c->parts, p, link);
}

void
kube_client_detach(struct kube_client *c, struct kube_part *p)
{
	TAILQ_REMOVE(&c->parts, p, link);
}

int
kube_client_reauth(struct kube_client *c)
{
	char *tok;
	FILE *f;
	size_t n;
	double now = kube_now();

	if (c->token_file == NULL || now - c->last_reauth < REAUTH_MIN_INTERVAL_S)
		return 0;
	c->last_reauth = now;
	/* A small local file (tmpfs in a pod): read directly, it cannot stall the loop. */
	if ((f = fopen(c->token_file, "rb")) == NULL) {
		log_warn("kube", "cannot re-read the token file; keeping the current token", "file",
		         c->token_file, "error", strerror(errno), NULL);
		return 0;
	}
	tok = calloc(1, MAX_TOKEN + 1);
	n = tok ? fread(tok, 1, MAX_TOKEN, f) : 0;
	fclose(f);
	if (tok == NULL)
		return 0;
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		tok[--n] = '\0';
	if (n == 0 || strpbrk(tok, "\r\n") != NULL) {
		log_warn("kube", "the token file is empty or malformed; keeping the current token",
		         "file", c->token_file, NULL);
		free(tok);
		return 0;
	}
	if (c->token != NULL && strcmp(tok, c->token) == 0) {
		free(tok);
		return 0;
	}
	log_info("kube", "bearer token re-read", "file", c->token_file, NULL);
	free(c->token);
	c->token = tok;
	return 1;
}

struct https_request *
kube_client_http(struct kube_client *c, int method, const char *path)
{
	struct https_request *r = https_request_new(c->https, (enum https_method)method, path);
	char *auth = NULL;
	int rc = 0;

	if (r == NULL)
		return NULL;
	https_request_header(r, "Accept", "application/json");
	https_request_header(r, "User-Agent", c->user_agent);
	if (c->token != NULL && *c->token != '\0') {
		rc = asprintf(&auth, "Bearer %s", c->token) < 0
		         ? -1
		         : https_request_header(r, "Authorization", auth);
		if (auth != NULL) {
			memset(auth, 0, strlen(auth));
			free(auth);
		}
	}
	if (rc < 0) {
		https_request_cancel(r);
		return NULL;
	}
	return r;
}

void
kube_client_observe(struct kube_client *c, const char *verb, const char *res_label, int code,
                    double seconds)
{
	char cs[16];

	snprintf(cs, sizeof(cs), "%d", code);
	metric_add(metric_series(c->m.requests, verb, res_label, code > 0 ? cs : "error", NULL), 1);
	if (seconds >= 0)
		metric_observe(metric_series(c->m.latency, verb, res_label, NULL), seconds);
}

/* -- the rate limiter's queue ------------------------------------------------------------- */

/* Grants tokens to waiting slots in order until the bucket is empty. */
static void
pump(struct kube_client *c)
{
	struct kube_slot *s;

	while ((s = TAILQ_FIRST(&c->waiting)) != NULL) {
		double wait = kube_ratelimit_take(&c->rl, kube_now());
		if (wait > 0) {
			struct timeval tv = {(time_t)wait,
			                     (suseconds_t)((wait - (long)wait) * 1e6)};
			if (!evtimer_pending(c->rl_timer, NULL))
				evtimer_add(c->rl_timer, &tv);
			return;
		}
		TAILQ_REMOVE(&c->waiting, s, link);
		s->queued = 0;
		s->go(s, s->arg);
	}
}

static void
rl_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

void
kube_client_wait(struct kube_client *c, struct kube_slot *s)
{
	struct kube_slot *at;

	if (s->queued)
		return;
	s->queued = 1;
	if (s->priority) {
		TAILQ_FOREACH(at, &c->waiting, link)
		if (!at->priority)
			break;
		if (at != NULL)
			TAILQ_INSERT_BEFORE(at, s, link);
		else
			TAILQ_INSERT_TAIL(&c->waiting, s, link);
	} else {
		TAILQ_INSERT_TAIL(&c->waiting, s, link);
	}
	/* Only the head may go now; the others wait for the timer. */
	if (TAILQ_FIRST(&c->waiting) == s && !evtimer_pending(c->rl_timer, NULL))
		pump(c);
}

void
kube_client_unwait(struct kube_client *c, struct kube_slot *s)
{
	if (!s->queued)
		return;
	TAILQ_REMOVE(&c->waiting, s, link);
	s->queued = 0;
}
