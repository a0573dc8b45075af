/*
 * What the parts of the HTTP(S) client share (https.c runs requests, https_conn.c makes
 * and keeps their connections): the client, connection and request structures.
 */
#ifndef TTC_HTTPS_INT_H
#define TTC_HTTPS_INT_H

#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ttc/https.h"

#define HTTPS_DEFAULT_DEADLINE_MS 30000
#define HTTPS_DEFAULT_MAX_BODY (64u << 20)
#define HTTPS_MAX_HEADERS 65536
#define PHASE_TICK_MS 100 /* how often a connection being made is looked at */
#define HTTPS_MAX_IDLE 2  /* connections a keep-alive client keeps open between requests */

/* Where a request is in its life. */
enum req_state {
	REQ_NEW,      /* built, not sent */
	REQ_STARTING, /* sent: the connection is made from the deferred event */
	REQ_RUNNING,  /* evhttp has it */
	REQ_FINISHED, /* outcome known or cancelled: teardown and done are pending */
};

struct https_client {
	struct event_base *base;
	struct evdns_base *dns; /* NULL when the host is an IP literal */
	int own_dns;
	SSL_CTX *ctx; /* NULL for plain http */
	char *host;   /* without brackets */
	int port;
	char *prefix; /* path prefix, "" or "/x" */
	char *identity;
	int identity_is_ip;
	char authority[300]; /* the Host header */
	TAILQ_HEAD(, https_request) reqs;
	int keepalive_ms;              /* how long an idle connection is kept; 0: never */
	TAILQ_HEAD(, https_conn) idle; /* open, between requests, newest first */
	int n_idle;
	unsigned long connections; /* connections made */
};

/*
 * One connection to the server. It belongs to the request running on it, or to the
 * client's idle list in between; only requests whose response arrived whole leave it there,
 * and it leaves the list, freed, when the server closes it or keepalive_ms passes.
 */
struct https_conn {
	struct https_client *c;
	TAILQ_ENTRY(https_conn) link;
	struct evhttp_connection *evcon;
	SSL *ssl;              /* owned by the connection's bufferevent */
	struct event *idle_ev; /* idle past keepalive_ms, or closed by the server */
	int idle;              /* on the client's idle list */
	int closed;            /* evhttp closed it: the server did, or asked to */
};

struct https_request {
	struct https_client *c;
	TAILQ_ENTRY(https_request) link;
	enum https_method method;
	char *path;
	struct evkeyvalq headers;
	struct evbuffer *body;
	int deadline_ms, idle_ms;
	int connect_ms, tls_ms; /* limits on making the connection; 0 none */
	int handshaking;        /* connected: the phase timer now waits for TLS */
	struct timespec phase_start;
	size_t max_body;
	https_head_fn head;
	https_data_fn data;
	https_done_fn done;
	void *arg;

	enum req_state state;
	int cancelled, in_done, head_seen;
	struct https_conn *conn;
	int keepalive;                   /* may run on, and leave, a connection kept open */
	int reused;                      /* conn was left open by an earlier request */
	int retried;                     /* once, on a fresh connection (see on_done) */
	struct evhttp_connection *evcon; /* conn's */
	SSL *ssl;                        /* conn's */
	struct event *deadline_ev, *defer_ev, *phase_ev;

	/* The outcome, kept past evhttp's request so done can run later. */
	int status;
	enum https_err err;
	char errmsg[256];
	int evhttp_error; /* -1 when evhttp reported none */
	int sock_errno;
	struct evkeyvalq resp_headers;
	struct evbuffer *resp_body;
};

/* https_conn.c */
void https_ms_to_tv(int ms, struct timeval *tv);
struct https_conn *https_conn_new(struct https_client *c, const char **why);
struct https_conn *https_conn_take(struct https_client *c);
void https_conn_release(struct https_request *r);
void https_conn_free(struct https_conn *k);

#endif
