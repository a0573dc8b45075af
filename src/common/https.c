/*
 * The asynchronous HTTP(S) client (see ttc/https.h). Each request gets a fresh SSL,
 * bufferevent and evhttp connection, freed from a deferred event, never from inside an
 * evhttp callback; the caller's done callback always runs from that event too, so it may
 * free anything.
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

#include "ttc/https.h"
#include "ttc/log.h"

#define HTTPS_DEFAULT_DEADLINE_MS 30000
#define HTTPS_DEFAULT_MAX_BODY (64u << 20)
#define HTTPS_MAX_HEADERS 65536
#define PHASE_TICK_MS 100 /* how often a connection being made is looked at */

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
	struct evhttp_connection *evcon;
	SSL *ssl; /* owned by the connection's bufferevent */
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

/* -- TLS contexts ------------------------------------------------------------------------- */

static void
tls_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "no detail");
	ERR_clear_error();
}

static int
load_ca(SSL_CTX *ctx, const char *pem, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int n = 0;

	if (b == NULL) {
		tls_error(err, errlen, "reading the CA");
		return -1;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, x) != 1) {
			X509_free(x);
			BIO_free(b);
			tls_error(err, errlen, "adding a CA certificate");
			return -1;
		}
		X509_free(x);
		n++;
	}
	BIO_free(b);
	ERR_clear_error(); /* the end of the PEM data reads as an error */
	if (n == 0) {
		snprintf(err, errlen, "the CA data holds no PEM certificate");
		return -1;
	}
	return 0;
}

static int
load_identity(SSL_CTX *ctx, const char *cert_pem, const char *key_pem, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(cert_pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (x == NULL) {
		tls_error(err, errlen, "reading the client certificate");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		tls_error(err, errlen, "using the client certificate");
		goto out;
	}
	/* Intermediate certificates that follow the leaf. */
	for (X509 *extra; (extra = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL;) {
		if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
			X509_free(extra);
			tls_error(err, errlen, "adding a chain certificate");
			goto out;
		}
	}
	ERR_clear_error();
	BIO_free(b);
	b = BIO_new_mem_buf(key_pem, -1);
	if (b == NULL || (k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		tls_error(err, errlen, "reading the client key");
		goto out;
	}
	if (SSL_CTX_use_PrivateKey(ctx, k) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		tls_error(err, errlen, "the client key does not match its certificate");
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(b);
	return rc;
}

SSL_CTX *
https_ctx_new(const struct https_tls *tls, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		tls_error(err, errlen, "making a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* OpenSSL 3 reports a peer that closes without close_notify as an error, which
	 * libevent 2.1 does not treat as EOF; HTTP framing detects truncation anyway. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (tls != NULL && tls->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (tls != NULL && tls->ca_pem != NULL) {
			if (load_ca(ctx, tls->ca_pem, err, errlen) < 0)
				goto fail;
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			tls_error(err, errlen, "loading the system trust store");
			goto fail;
		}
	}
	if (tls != NULL && (tls->cert_pem != NULL) != (tls->key_pem != NULL)) {
		snprintf(err, errlen,
		         "a client certificate needs its key and a key its certificate");
		goto fail;
	}
	if (tls != NULL && tls->cert_pem != NULL &&
	    load_identity(ctx, tls->cert_pem, tls->key_pem, err, errlen) < 0)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
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
https_request_stream(struct https_request *r, https_head_fn head, https_data_fn data)
{
	r->head = head;
	r->data = data;
}

static void
ms_to_tv(int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
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
		ms_to_tv(r->deadline_ms, &tv);
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

static SSL *
new_ssl(struct https_request *r)
{
	struct https_client *c = r->c;
	SSL *ssl = SSL_new(c->ctx);

	if (ssl == NULL)
		return NULL;
	/* Also for contexts made elsewhere: see https_ctx_new(). */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (c->identity_is_ip) {
		/* SSL_set1_host would compare an IP with DNS names; RFC 6066 forbids IP SNI. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->identity) != 1)
			goto fail;
	} else if (SSL_set_tlsext_host_name(ssl, c->identity) != 1 ||
	           SSL_set1_host(ssl, c->identity) != 1) {
		goto fail;
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

static void
start(struct https_request *r)
{
	struct https_client *c = r->c;
	struct bufferevent *bev;
	struct evhttp_request *ereq;
	struct evkeyval *h;
	struct timeval tv;
	char len[32];

	ERR_clear_error();
	if (c->ctx != NULL) {
		if ((r->ssl = new_ssl(r)) == NULL) {
			fail(r, HTTPS_ERR_INTERNAL, "cannot set up TLS for %s", c->identity);
			return;
		}
		bev =
		    bufferevent_openssl_socket_new(c->base, -1, r->ssl, BUFFEREVENT_SSL_CONNECTING,
		                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(r->ssl);
			r->ssl = NULL;
		} else {
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		}
	} else {
		bev = bufferevent_socket_new(c->base, -1,
		                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	}
	if (bev == NULL) {
		fail(r, HTTPS_ERR_INTERNAL, "cannot make a connection buffer");
		return;
	}
	r->evcon = evhttp_connection_base_bufferevent_new(c->base, c->dns, bev, c->host,
	                                                  (unsigned short)c->port);
	if (r->evcon == NULL) {
		bufferevent_free(bev);
		fail(r, HTTPS_ERR_INTERNAL, "cannot make a connection");
		return;
	}
	/* evhttp always has a limit of its own; "no deadline" leaves it at a day. */
	ms_to_tv(r->idle_ms                            ? r->idle_ms
	         : r->deadline_ms == HTTPS_NO_DEADLINE ? 86400000
	                                               : r->deadline_ms,
	         &tv);
	evhttp_connection_set_timeout_tv(r->evcon, &tv);
	evhttp_connection_set_max_headers_size(r->evcon, HTTPS_MAX_HEADERS);
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
		if (n > 0)
			evbuffer_add_buffer(evhttp_request_get_output_buffer(ereq), r->body);
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
		ms_to_tv(r->connect_ms > 0 && r->connect_ms - waited < PHASE_TICK_MS
		             ? r->connect_ms - waited
		             : PHASE_TICK_MS,
		         &tv);
		evtimer_add(r->phase_ev, &tv);
		return;
	}
	if (r->ssl == NULL || r->tls_ms == 0 || SSL_is_init_finished(r->ssl))
		return;
	r->handshaking = 1;
	ms_to_tv(r->tls_ms, &tv);
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

/*
 * A request given up (cancelled, past its deadline, failed) has its connection reset, not
 * closed: a close leaves what is still queued to be sent for minutes of retransmissions,
 * and a request that arrives long after it was abandoned must not act (a lease grant,
 * docs/fencing.md).
 */
static void
reset_if_abandoned(struct https_request *r)
{
	struct bufferevent *bev = r->evcon ? evhttp_connection_get_bufferevent(r->evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct linger lg = {1, 0};

	if (fd >= 0 && (r->cancelled || r->err != HTTPS_ERR_OK))
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
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
		start(r);
		return;
	}
	if (r->state != REQ_FINISHED)
		return;
	/* Tear down first: done may free the client, and it can then no longer reach us. */
	if (r->evcon != NULL) {
		reset_if_abandoned(r);
		evhttp_connection_free(r->evcon);
		r->evcon = NULL;
		r->ssl = NULL;
	}
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
	if (r->evcon != NULL) {
		r->cancelled = 1;
		reset_if_abandoned(r);
		evhttp_connection_free(r->evcon);
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
