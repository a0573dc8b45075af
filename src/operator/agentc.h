/*
 * The operator's client for one pod's agent: HTTPS with the object's client certificate,
 * the server checked against the pod's DNS name while connecting to its IP address.
 * State reads and orders (see src/agent/API.md), each with its own deadline.
 */
#ifndef AGENTC_H
#define AGENTC_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "object.h"
#include "proc.h"

struct event_base;
struct agentc;

struct agentc *agentc_new(struct event_base *base, SSL_CTX *ctx, const char *ip, int port,
                          const char *server_name, char *err, size_t errlen);
/* Drops every request under way (no callbacks follow) and frees the client. */
void agentc_free(struct agentc *c);
/* What the client reports of its requests: sent(arg) each time one goes out; done(arg,
 * request, seconds) when one ends, answered or not: "state", "lease" or the order's
 * operation, and the time since it first went out (an order's, with its progress polls). */
struct agentc_hooks {
	void (*sent)(void *arg);
	void (*done)(void *arg, const char *request, double seconds);
	void *arg;
};
void agentc_set_hooks(struct agentc *c, const struct agentc_hooks *h);
/* TLS connections the client has made to the agent (requests share them, see agentc.c). */
unsigned long agentc_connections(const struct agentc *c);

/* The limits of one request, in milliseconds; 0: none (see spec_timeout_ms()). */
struct agentc_limits {
	int request_ms; /* the whole exchange (agentGetTimeout, agentPostTimeout) */
	int tcp_ms;     /* the TCP connection up (agentTcpTimeout) */
	int tls_ms;     /* then the TLS handshake done (agentTlsTimeout) */
	int async_ms;   /* an asynchronous operation's end (agentAsyncTimeout) */
};

/* A state read ended: ok with the state, or not with why. */
typedef void (*agentc_state_fn)(void *arg, int ok, const struct agent_state *st, const char *error);
/* Reads GET /v1/state within the limits; 0, or -1 when it cannot be sent. */
int agentc_get_state(struct agentc *c, const struct agentc_limits *lim, agentc_state_fn done,
                     void *arg);

/* An order ended. */
typedef void (*agentc_order_fn)(void *arg, enum order_result r, const char *message);
/*
 * Sends POST /v1/ops/<op> with body (JSON or NULL) within the limits. An asynchronous
 * operation (202) is then followed through GET /v1/async/<id> until it ends or its
 * async_ms limit passes. 0, or -1 when it cannot be sent.
 */
int agentc_order(struct agentc *c, const char *op, const char *body,
                 const struct agentc_limits *lim, agentc_order_fn done, void *arg);

/* A lease grant ended: ok (the agent holds the lease), or not with why. */
typedef void (*agentc_lease_fn)(void *arg, int ok, const char *error);
/* Sends POST /v1/lease {"seconds": seconds} (0 withdraws the lease) within request_ms, the
 * connection reset if it is not answered by then; 0, or -1 when it cannot be sent. */
int agentc_lease(struct agentc *c, long long seconds, int request_ms, agentc_lease_fn done,
                 void *arg);

/* Parses a state document into st (absent fields "Unknown"); 0, or -1 with err. */
int agentc_parse_state(const char *json, size_t len, struct agent_state *st, char *err,
                       size_t errlen);

/* What the body of an agent's other replies says (an order's, an asynchronous operation's
 * progress, an error), read once where it enters. Absent or ill-typed members stay empty. */
struct agentc_reply {
	char message[512]; /* "message" */
	char errmsg[512];  /* "errmsg": TimesTen's error */
	char id[64];       /* "id" of an asynchronous operation; "" unless one plain path segment */
	int complete;      /* "complete": true */
	int succeeded;     /* "status": "Succeeded" */
};
/* Reads body (not NUL-terminated, may be anything) into r; -1 when it is not JSON. */
int agentc_parse_reply(const char *body, size_t len, struct agentc_reply *r);

#endif
