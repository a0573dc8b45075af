/*
 * The asynchronous HTTP(S) client (see ttc/https.h): clients and the life of a request. A
 * request runs on a connection (https_conn.c) made for it or, on a keep-alive client, one
 * an earlier request left open; connections are released from a deferred event, never from
 * inside an evhttp callback, and the caller's done callback always runs from that event
 * too, so it may free anything.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "https_int.h"
#include "ttc/log.h"

static const char *const err_names[] = {
#define X(e, s) s,
    HTTPS_ERRORS(X)
#undef X
};

const char *
https_err_name(enum https_err e)
{
	if ((size_t)e >= sizeof(err_names) / sizeof(err_names[0]))
		return "unknown error";
	return err_names[e];
}

/* -- clients ------------------------------------------------------------------------------ */

static int
is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Splits "scheme://host[:port][/prefix]" into the client's fields. */
static int
parse_url(struct https_client *c, const char *url, int *tls, char *err, size_t errlen)
{
	const char *p, *host, *end;
	size_t hostlen;
	long port;

	if (url == NULL || *url == '\0') {
		snprintf(err, errlen, "no server URL");
		return -1;
	}
	if (strncasecmp(url, "https://", 8) == 0) {
		*tls = 1;
		p = url + 8;
		c->port = 443;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		*tls = 0;
		p = url + 7;
		c->port = 80;
	} else {
		snprintf(err, errlen, "server URL %s: the scheme must be https:// or http://", url);
		return -1;
	}
	if (strpbrk(p, "@?#") != NULL || strpbrk(p, " \t\r\n") != NULL) {
		snprintf(err, errlen,
		         "server URL %s: user info, queries and fragments are not allowed", url);
		return -1;
	}
	if (*p == '[') {
		host = p + 1;
		if ((end = strchr(host, ']')) == NULL) {
			snprintf(err, errlen, "server URL %s: unterminated IPv6 address", url);
			return -1;
		}
		hostlen = (size_t)(end - host);
		p = end + 1;
	} else {
		host = p;
		hostlen = strcspn(p, ":/");
		p += hostlen;
	}
	if (hostlen == 0 || hostlen > 253) {
		snprintf(err, errlen, "server URL %s: no host", url);
		return -1;
	}
	if (*p == ':') {
		char *e;
		port = strtol(p + 1, &e, 10);
		if (e == p + 1 || port < 1 || port > 65535 || (*e != '\0' && *e != '/')) {
			snprintf(err, errlen, "server URL %s: bad port", url);
			return -1;
		}
		c->port = (int)port;
		p = e;
	} else if (*p != '\0' && *p != '/') {
		snprintf(err, errlen, "server URL %s: unexpected text after the host", url);
		return -1;
	}
	c->host = strndup(host, hostlen);
	c->prefix = strdup(p);
	if (c->host == NULL || c->prefix == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A trailing slash would double the one every request path starts with. */
	for (size_t n = strlen(c->prefix); n > 0 && c->prefix[n - 1] == '/'; n--)
		c->prefix[n - 1] = '\0';
	if (strchr(c->host, ':') != NULL && inet_pton(AF_INET6, c->host, (char[16]){0}) != 1) {
		snprintf(err, errlen, "server URL %s: bad IPv6 address", url);
		return -1;
	}
	return 0;
}

struct https_client *
https_client_new(struct event_base *base, const struct https_client_opts *o, char *err,
                 size_t errlen)
{
	struct https_client *c = calloc(1, sizeof(*c));
	int tls = 0;
	int v6;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->base = base;
	TAILQ_INIT(&c->reqs);
	TAILQ_INIT(&c->idle);
	c->keepalive_ms = o->keepalive_ms > 0 ? o->keepalive_ms : 0;
	if (parse_url(c, o->url, &tls, err, errlen) < 0)
		goto fail;
	v6 = strchr(c->host, ':') != NULL;
	snprintf(c->authority, sizeof(c->authority), "%s%s%s", v6 ? "[" : "", c->host,
	         v6 ? "]" : "");
	if (c->port != (tls ? 443 : 80))
		snprintf(c->authority + strlen(c->authority),
		         sizeof(c->authority) - strlen(c->authority), ":%d", c->port);
	c->identity = strdup(o->server_name && *o->server_name ? o->server_name : c->host);
	if (c->identity == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->identity_is_ip = is_ip_literal(c->identity);
	if (tls) {
		if (o->ssl_ctx != NULL) {
			SSL_CTX_up_ref(o->ssl_ctx);
			c->ctx = o->ssl_ctx;
		} else if ((c->ctx = https_ctx_new(NULL, err, errlen)) == NULL) {
			goto fail;
		}
	}
	if (!is_ip_literal(c->host)) {
		if (o->dns != NULL) {
			c->dns = o->dns;
		} else {
			/* Reads resolv.conf and hosts once, here at set-up; lookups are
			 * asynchronous from then on. */
			c->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
			                                  EVDNS_BASE_DISABLE_WHEN_INACTIVE);
			if (c->dns == NULL) {
				snprintf(err, errlen, "cannot set up the DNS resolver");
				goto fail;
			}
			c->own_dns = 1;
		}
	}
	return c;
fail:
	https_client_free(c);
	return NULL;
}

const char *
https_client_authority(const struct https_client *c)
{
	return c->authority;
}

unsigned long
https_client_connections(const struct https_client *c)
{
	return c->connections;
}

static void request_free(struct https_request *r);

void
https_client_free(struct https_client *c)
{
	struct https_request *r;

	if (c == NULL)
		return;
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		TAILQ_REMOVE(&c->reqs, r, link);
		r->c = NULL;
		request_free(r);
	}
	while (!TAILQ_EMPTY(&c->idle))
		https_conn_free(TAILQ_FIRST(&c->idle));
	if (c->own_dns)
		evdns_base_free(c->dns, 0);
	SSL_CTX_free(c->ctx);
	free(c->host);
	free(c->prefix);
	free(c->identity);
	free(c);
}

/* -- requests ----------------------------------------------------------------------------- */

static void defer_cb(evutil_socket_t fd, short what, void *arg);
static void deadline_cb(evutil_socket_t fd, short what, void *arg);
static void phase_cb(evutil_socket_t fd, short what, void *arg);
static int tcp_connected(struct https_request *r);

struct https_request *
https_request_new(struct https_client *c, enum https_method method, const char *path)
{
	struct https_request *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->c = c;
	r->method = method;
	r->deadline_ms = HTTPS_DEFAULT_DEADLINE_MS;
	r->max_body = HTTPS_DEFAULT_MAX_BODY;
	r->evhttp_error = -1;
	TAILQ_INIT(&r->headers);
	TAILQ_INIT(&r->resp_headers);
	if (asprintf(&r->path, "%s%s", c->prefix, path) < 0) {
		r->path = NULL;
		goto fail;
	}
	r->resp_body = evbuffer_new();
	r->defer_ev = evtimer_new(c->base, defer_cb, r);
	r->deadline_ev = evtimer_new(c->base, deadline_cb, r);
	r->phase_ev = evtimer_new(c->base, phase_cb, r);
	if (r->resp_body == NULL || r->defer_ev == NULL || r->deadline_ev == NULL ||
	    r->phase_ev == NULL)
		goto fail;
	TAILQ_INSERT_TAIL(&c->reqs, r, link);
	return r;
fail:
	r->c = NULL;
	request_free(r);
	return NULL;
}

int
https_request_header(struct https_request *r, const char *name, const char *value)
{
	return evhttp_add_header(&r->headers, name, value);
}

int
https_request_body(struct https_request *r, const char *content_type, const void *data, size_t len)
{
	if (r->body == NULL && (r->body = evbuffer_new()) == NULL)
		return -1;
	evbuffer_drain(r->body, evbuffer_get_length(r->body));
	evhttp_remove_header(&r->headers, "Content-Type");
	if (content_type != NULL &&
	    evhttp_add_header(&r->headers, "Content-Type", content_type) < 0)
		return -1;
	return evbuffer_add(r->body, data, len);
}

void
https_request_timeouts(struct https_request *r, int deadline_ms, int idle_ms)
{
	r->deadline_ms = deadline_ms > 0 || deadline_ms == HTTPS_NO_DEADLINE
	                     ? deadline_ms
	                     : HTTPS_DEFAULT_DEADLINE_MS;
	r->idle_ms = idle_ms > 0 ? idle_ms : 0;
}

void
https_request_connect_timeouts(struct https_request *r, int connect_ms, int tls_ms)
{
	r->connect_ms = connect_ms > 0 ? connect_ms : 0;
	r->tls_ms = tls_ms > 0 ? tls_ms : 0;
}

void
https_request_max_body(struct https_request *r, size_t bytes)
{
	r->max_body = bytes;
}

void
https_request_keepalive(struct https_request *r)
{
	r->keepalive = 1;
}

void
https_request_stream(struct https_request *r, https_head_fn head, https_data_fn data)
{
	r->head = head;
	r->data = data;
}

/* Marks the outcome known and lets the deferred event finish the request. */
static void
finish(struct https_request *r)
{
	if (r->state == REQ_FINISHED)
		return;
	r->state = REQ_FINISHED;
	event_active(r->defer_ev, EV_TIMEOUT, 0);
}

static void fail(struct https_request *r, enum https_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
fail(struct https_request *r, enum https_err e, const char *fmt, ...)
{
	va_list ap;

	if (r->state == REQ_FINISHED)
		return;
	r->status = 0;
	r->err = e;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	finish(r);
}

int
https_request_send(struct https_request *r, https_done_fn done, void *arg)
{
	struct timeval tv;

	if (r->state != REQ_NEW)
		return -1;
	r->done = done;
	r->arg = arg;
	r->state = REQ_STARTING;
	if (r->deadline_ms != HTTPS_NO_DEADLINE) {
		https_ms_to_tv(r->deadline_ms, &tv);
		evtimer_add(r->deadline_ev, &tv);
	}
	event_active(r->defer_ev, EV_TIMEOUT, 0);
	return 0;
}

void
https_request_cancel(struct https_request *r)
{
	if (r == NULL || r->in_done)
		return;
	if (r->state == REQ_NEW) {
		if (r->c != NULL)
			TAILQ_REMOVE(&r->c->reqs, r, link);
		request_free(r);
		return;
	}
	/* Torn down from the deferred event: we may be inside one of evhttp's callbacks. */
	r->cancelled = 1;
	r->state = REQ_FINISHED;
	event_active(r->defer_ev, EV_TIMEOUT, 0);
}

/* Why the connection produced no response, from what TLS, DNS and the socket say. */
static void
explain_failure(struct https_request *r)
{
	struct bufferevent *bev = r->evcon ? evhttp_connection_get_bufferevent(r->evcon) : NULL;
	int dns_err = bev ? bufferevent_socket_get_dns_error(bev) : 0;
	unsigned long ssl_err = (bev && r->ssl) ? bufferevent_get_openssl_error(bev) : 0;
	/* libevent also queues bare SSL_get_error() codes (lib 0), e.g. for a refused
	 * connection: those are not TLS problems. */
	if (ERR_GET_LIB(ssl_err) == 0)
		ssl_err = 0;
	long verify = r->ssl ? SSL_get_verify_result(r->ssl) : X509_V_OK;
	int handshaken = r->ssl ? SSL_is_init_finished(r->ssl) : 1;

	if (dns_err != 0) {
		fail(r, HTTPS_ERR_DNS, "cannot resolve %s: %s", r->c->host,
		     evutil_gai_strerror(dns_err));
	} else if (verify != X509_V_OK) {
		fail(r, HTTPS_ERR_TLS, "the server's certificate is not trusted for %s: %s",
		     r->c->identity, X509_verify_cert_error_string(verify));
	} else if (ssl_err != 0) {
		char buf[200];
		ERR_error_string_n(ssl_err, buf, sizeof(buf));
		fail(r, HTTPS_ERR_TLS, "TLS with %s: %s", r->c->authority, buf);
	} else if (r->evhttp_error == EVREQ_HTTP_TIMEOUT) {
		fail(r, HTTPS_ERR_TIMEOUT, "no progress from %s for %d ms", r->c->authority,
		     r->idle_ms                            ? r->idle_ms
		     : r->deadline_ms == HTTPS_NO_DEADLINE ? 86400000
		                                           : r->deadline_ms);
	} else if (r->evhttp_error == EVREQ_HTTP_INVALID_HEADER) {
		fail(r, HTTPS_ERR_PROTOCOL, "invalid response headers from %s", r->c->authority);
	} else if (r->evhttp_error == EVREQ_HTTP_DATA_TOO_LONG) {
		fail(r, HTTPS_ERR_TOO_LARGE, "the response from %s exceeds %zu bytes",
		     r->c->authority, r->max_body);
	} else if (r->head_seen) {
		fail(r, HTTPS_ERR_EOF, "%s closed the connection in the middle of the response",
		     r->c->authority);
	} else if (r->reused) {
		fail(r, HTTPS_ERR_EOF, "%s closed the connection kept open before responding",
		     r->c->authority);
	} else if ((r->ssl && !handshaken) || r->evhttp_error == -1) {
		/* evhttp closes the socket before telling us, so errno is gone; name it only
		 * when it still says something about connecting. */
		int e = r->sock_errno;
		int telling = e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
		              e == ETIMEDOUT || e == ECONNRESET;
		fail(r, HTTPS_ERR_CONNECT, "cannot connect to %s: %s", r->c->authority,
		     telling ? strerror(e) : "refused, unreachable or closed");
	} else {
		fail(r, HTTPS_ERR_EOF, "%s closed the connection before responding",
		     r->c->authority);
	}
}

/* Sends a request that ran on a connection kept open once more, on a new connection, from
 * the deferred event (we may be inside evhttp); -1 when it was sent again already. */
static int
retry_fresh(struct https_request *r)
{
	if (r->retried)
		return -1;
	r->retried = 1;
	r->evhttp_error = -1;
	r->state = REQ_STARTING;
	event_active(r->defer_ev, EV_TIMEOUT, 0);
	return 0;
}

static void
on_error(enum evhttp_request_error e, void *arg)
{
	struct https_request *r = arg;

	r->evhttp_error = (int)e;
	r->sock_errno = errno;
}

static int
on_header(struct evhttp_request *ereq, void *arg)
{
	struct https_request *r = arg;

	if (r->state == REQ_FINISHED)
		return -1;
	r->head_seen = 1;
	r->status = evhttp_request_get_response_code(ereq);
	if (r->head != NULL &&
	    r->head(r, r->status, evhttp_request_get_input_headers(ereq), r->arg) < 0) {
		https_request_cancel(r);
		return -1;
	}
	return r->state == REQ_FINISHED ? -1 : 0;
}

static void
on_chunk(struct evhttp_request *ereq, void *arg)
{
	struct https_request *r = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(ereq);

	if (r->state == REQ_FINISHED || r->data == NULL)
		return;
	if (r->data(r, in, r->arg) < 0)
		https_request_cancel(r);
	/* evhttp drains what is left after this callback. */
}

static void
on_done(struct evhttp_request *ereq, void *arg)
{
	struct https_request *r = arg;
	struct evkeyval *h;

	if (r->state == REQ_FINISHED)
		return;
	if (ereq == NULL || evhttp_request_get_response_code(ereq) == 0) {
		if (r->evhttp_error == -1)
			r->sock_errno = errno;
		/* The server closed the connection kept open as we sent on it: a GET is sent
		 * once more. Nothing else is, as the server may have acted on it. */
		if (r->reused && !r->head_seen && r->method == HTTPS_GET &&
		    r->evhttp_error != EVREQ_HTTP_TIMEOUT && retry_fresh(r) == 0)
			return;
		explain_failure(r);
		return;
	}
	r->status = evhttp_request_get_response_code(ereq);
	r->err = HTTPS_ERR_OK;
	TAILQ_FOREACH(h, evhttp_request_get_input_headers(ereq), next)
	evhttp_add_header(&r->resp_headers, h->key, h->value);
	evbuffer_add_buffer(r->resp_body, evhttp_request_get_input_buffer(ereq));
	finish(r);
}

static const enum evhttp_cmd_type method_types[] = {
    [HTTPS_GET] = EVHTTP_REQ_GET,       [HTTPS_POST] = EVHTTP_REQ_POST,
    [HTTPS_PUT] = EVHTTP_REQ_PUT,       [HTTPS_PATCH] = EVHTTP_REQ_PATCH,
    [HTTPS_DELETE] = EVHTTP_REQ_DELETE,
};

/* -- running a request -------------------------------------------------------------------- */

static void
start(struct https_request *r)
{
	struct https_client *c = r->c;
	struct evhttp_request *ereq;
	struct evkeyval *h;
	struct timeval tv;
	const char *why = NULL;
	char len[32];

	r->reused = 0;
	r->handshaking = 0;
	if (c->keepalive_ms > 0 && r->keepalive && r->data == NULL && !r->retried &&
	    (r->conn = https_conn_take(c)) != NULL) {
		r->reused = 1;
	} else if ((r->conn = https_conn_new(c, &why)) == NULL) {
		fail(r, HTTPS_ERR_INTERNAL, "%s for %s", why, c->authority);
		return;
	}
	r->evcon = r->conn->evcon;
	r->ssl = r->conn->ssl;
	/* evhttp always has a limit of its own; "no deadline" leaves it at a day. */
	https_ms_to_tv(r->idle_ms                            ? r->idle_ms
	               : r->deadline_ms == HTTPS_NO_DEADLINE ? 86400000
	                                                     : r->deadline_ms,
	               &tv);
	evhttp_connection_set_timeout_tv(r->evcon, &tv);
	if (r->data == NULL)
		evhttp_connection_set_max_body_size(r->evcon, (ev_ssize_t)r->max_body);
	if ((ereq = evhttp_request_new(on_done, r)) == NULL) {
		fail(r, HTTPS_ERR_INTERNAL, "cannot make a request");
		return;
	}
	evhttp_request_set_error_cb(ereq, on_error);
	evhttp_request_set_header_cb(ereq, on_header);
	if (r->data != NULL)
		evhttp_request_set_chunked_cb(ereq, on_chunk);
	evhttp_add_header(evhttp_request_get_output_headers(ereq), "Host", c->authority);
	TAILQ_FOREACH(h, &r->headers, next)
	evhttp_add_header(evhttp_request_get_output_headers(ereq), h->key, h->value);
	/* evhttp adds Content-Length for POST and PUT only. */
	if (r->body != NULL || r->method != HTTPS_GET) {
		size_t n = r->body ? evbuffer_get_length(r->body) : 0;
		snprintf(len, sizeof(len), "%zu", n);
		evhttp_add_header(evhttp_request_get_output_headers(ereq), "Content-Length", len);
		/* Copied, not moved: a retry sends it again. */
		if (n > 0)
			evbuffer_add(evhttp_request_get_output_buffer(ereq),
			             evbuffer_pullup(r->body, -1), n);
	}
	r->state = REQ_RUNNING;
	/* On failure evhttp has already reported to on_done (or freed the request). */
	if (evhttp_make_request(r->evcon, ereq, method_types[r->method], r->path) < 0) {
		fail(r, HTTPS_ERR_INTERNAL, "cannot send the request to %s", c->authority);
		return;
	}
	if (r->connect_ms > 0 || (r->ssl != NULL && r->tls_ms > 0)) {
		clock_gettime(CLOCK_MONOTONIC, &r->phase_start);
		r->handshaking = 0;
		phase_cb(-1, 0, r);
	}
}

/* Whether the request's TCP connection is up. */
static int
tcp_connected(struct https_request *r)
{
	struct bufferevent *bev = r->evcon ? evhttp_connection_get_bufferevent(r->evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	return fd >= 0 && getpeername(fd, (struct sockaddr *)&peer, &len) == 0;
}

static int
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int)((now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000);
}

/*
 * Watches the connection's making: every PHASE_TICK_MS until the TCP connection is up
 * (failing past connect_ms), then once more tls_ms after it was seen up (failing if the
 * TLS handshake is not done by then).
 */
static void
phase_cb(evutil_socket_t fd, short what, void *arg)
{
	struct https_request *r = arg;
	struct timeval tv;
	int waited = ms_since(&r->phase_start);

	(void)fd;
	(void)what;
	if (r->state != REQ_RUNNING || r->head_seen)
		return;
	if (r->reused) {
		/* Nothing to make, so nothing shows a frozen server but the wait. Past the
		 * limit a new connection's handshake would have had, a GET is sent again on a
		 * new one: its handshake tells a frozen server from a slow answer (which the
		 * server gives both requests at once, if it coalesces them as the agent does). */
		int limit = r->ssl != NULL && r->tls_ms > 0 ? r->tls_ms : r->connect_ms;

		if (r->method != HTTPS_GET || limit <= 0)
			return;
		if (!r->handshaking) {
			r->handshaking = 1;
			https_ms_to_tv(limit, &tv);
			evtimer_add(r->phase_ev, &tv);
			return;
		}
		retry_fresh(r);
		return;
	}
	if (r->handshaking) {
		if (r->ssl != NULL && !SSL_is_init_finished(r->ssl))
			fail(r, HTTPS_ERR_TLS, "no TLS handshake with %s within %d ms",
			     r->c->authority, r->tls_ms);
		return;
	}
	if (!tcp_connected(r)) {
		if (r->connect_ms > 0 && waited >= r->connect_ms) {
			fail(r, HTTPS_ERR_CONNECT, "no TCP connection to %s within %d ms",
			     r->c->authority, r->connect_ms);
			return;
		}
		https_ms_to_tv(r->connect_ms > 0 && r->connect_ms - waited < PHASE_TICK_MS
		                   ? r->connect_ms - waited
		                   : PHASE_TICK_MS,
		               &tv);
		evtimer_add(r->phase_ev, &tv);
		return;
	}
	if (r->ssl == NULL || r->tls_ms == 0 || SSL_is_init_finished(r->ssl))
		return;
	r->handshaking = 1;
	https_ms_to_tv(r->tls_ms, &tv);
	evtimer_add(r->phase_ev, &tv);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct https_request *r = arg;

	(void)fd;
	(void)what;
	fail(r, HTTPS_ERR_TIMEOUT, "no complete response from %s within %d ms", r->c->authority,
	     r->deadline_ms);
}

/* Starts a sent request, or finishes one whose outcome is known. */
static void
defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct https_request *r = arg;
	struct https_response resp;

	(void)fd;
	(void)what;
	if (r->state == REQ_STARTING) {
		https_conn_release(r); /* a retry's: the connection it failed on */
		evtimer_del(r->phase_ev);
		start(r);
		return;
	}
	if (r->state != REQ_FINISHED)
		return;
	/* Tear down first: done may free the client, and it can then no longer reach us. */
	https_conn_release(r);
	evtimer_del(r->deadline_ev);
	evtimer_del(r->phase_ev);
	if (r->c != NULL) {
		TAILQ_REMOVE(&r->c->reqs, r, link);
		r->c = NULL;
	}
	if (!r->cancelled && r->done != NULL) {
		resp.status = r->err == HTTPS_ERR_OK ? r->status : 0;
		resp.err = r->err;
		resp.errmsg = r->err == HTTPS_ERR_OK ? "" : r->errmsg;
		resp.headers = &r->resp_headers;
		resp.body = r->resp_body;
		r->in_done = 1;
		r->done(r, &resp, r->arg);
	}
	request_free(r);
}

static void
request_free(struct https_request *r)
{
	if (r->conn != NULL) {
		r->cancelled = 1;
		https_conn_release(r);
	}
	if (r->defer_ev != NULL)
		event_free(r->defer_ev);
	if (r->deadline_ev != NULL)
		event_free(r->deadline_ev);
	if (r->phase_ev != NULL)
		event_free(r->phase_ev);
	evhttp_clear_headers(&r->headers);
	evhttp_clear_headers(&r->resp_headers);
	if (r->body != NULL)
		evbuffer_free(r->body);
	if (r->resp_body != NULL)
		evbuffer_free(r->resp_body);
	free(r->path);
	free(r);
}

const char *
https_response_header(const struct https_response *resp, const char *name)
{
	if (resp->headers == NULL)
		return NULL;
	return evhttp_find_header(resp->headers, name);
}
