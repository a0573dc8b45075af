/*
 * The HTTP(S) client's connections (see https_int.h): TLS contexts, a connection made for a
 * request, and the idle list of a keep-alive client that keeps them open between requests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "https_int.h"

void
https_ms_to_tv(int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

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

/* -- connections -------------------------------------------------------------------------- */

static SSL *
new_ssl(struct https_client *c)
{
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

static void conn_idle_cb(evutil_socket_t fd, short what, void *arg);

/* evhttp closed the connection (the server closed it, or a response asked to): an idle
 * one is freed from its event, since we are inside evhttp here. */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct https_conn *k = arg;

	(void)evcon;
	k->closed = 1;
	if (k->idle)
		event_active(k->idle_ev, EV_TIMEOUT, 0);
}

/* A new connection, not yet connected (evhttp connects when the first request is made on
 * it); NULL with the reason in *why. */
struct https_conn *
https_conn_new(struct https_client *c, const char **why)
{
	struct https_conn *k = calloc(1, sizeof(*k));
	struct bufferevent *bev;

	ERR_clear_error();
	if (k == NULL || (k->idle_ev = evtimer_new(c->base, conn_idle_cb, k)) == NULL) {
		*why = "cannot make a connection";
		goto fail;
	}
	k->c = c;
	if (c->ctx != NULL) {
		if ((k->ssl = new_ssl(c)) == NULL) {
			*why = "cannot set up TLS";
			goto fail;
		}
		bev =
		    bufferevent_openssl_socket_new(c->base, -1, k->ssl, BUFFEREVENT_SSL_CONNECTING,
		                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(k->ssl);
			k->ssl = NULL;
		} else {
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		}
	} else {
		bev = bufferevent_socket_new(c->base, -1,
		                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	}
	if (bev == NULL) {
		*why = "cannot make a connection buffer";
		goto fail;
	}
	k->evcon = evhttp_connection_base_bufferevent_new(c->base, c->dns, bev, c->host,
	                                                  (unsigned short)c->port);
	if (k->evcon == NULL) {
		bufferevent_free(bev);
		*why = "cannot make a connection";
		goto fail;
	}
	evhttp_connection_set_max_headers_size(k->evcon, HTTPS_MAX_HEADERS);
	evhttp_connection_set_closecb(k->evcon, conn_closed_cb, k);
	c->connections++;
	return k;
fail:
	if (k != NULL && k->idle_ev != NULL)
		event_free(k->idle_ev);
	free(k);
	return NULL;
}

void
https_conn_free(struct https_conn *k)
{
	if (k->idle) {
		TAILQ_REMOVE(&k->c->idle, k, link);
		k->c->n_idle--;
	}
	/* evhttp_connection_free() would tell the close callback. */
	evhttp_connection_set_closecb(k->evcon, NULL, NULL);
	evhttp_connection_free(k->evcon);
	event_free(k->idle_ev);
	free(k);
}

static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	https_conn_free(arg);
}

/* An idle connection of c's for a request, or NULL; closed ones found on the way are
 * freed. */
struct https_conn *
https_conn_take(struct https_client *c)
{
	struct https_conn *k;

	while ((k = TAILQ_FIRST(&c->idle)) != NULL) {
		if (k->closed) {
			https_conn_free(k);
			continue;
		}
		TAILQ_REMOVE(&c->idle, k, link);
		c->n_idle--;
		k->idle = 0;
		evtimer_del(k->idle_ev);
		return k;
	}
	return NULL;
}

/* Whether the finished request leaves its connection open for the next: on a keep-alive
 * client, after a whole response on a connection evhttp kept (neither side asked to
 * close), and not a stream's (whose limits were set for it). */
static int
conn_reusable(const struct https_request *r, const struct https_conn *k)
{
	const char *conn = evhttp_find_header(&r->resp_headers, "Connection");

	return r->c != NULL && r->c->keepalive_ms > 0 && r->keepalive &&
	       r->c->n_idle < HTTPS_MAX_IDLE && r->state == REQ_FINISHED && !r->cancelled &&
	       r->err == HTTPS_ERR_OK && r->data == NULL && !k->closed &&
	       !(conn != NULL && strcasecmp(conn, "close") == 0);
}

/* The request is done with its connection: kept for the next request or freed. */
void
https_conn_release(struct https_request *r)
{
	struct https_conn *k = r->conn;
	struct timeval tv;

	if (k == NULL)
		return;
	r->conn = NULL;
	r->evcon = NULL;
	r->ssl = NULL;
	if (conn_reusable(r, k)) {
		TAILQ_INSERT_HEAD(&k->c->idle, k, link);
		k->c->n_idle++;
		k->idle = 1;
		https_ms_to_tv(k->c->keepalive_ms, &tv);
		evtimer_add(k->idle_ev, &tv);
		/* evhttp watches an idle connection for the server's close with the last
		 * request's timeout, and closes it when that passes: past ours instead. */
		https_ms_to_tv(k->c->keepalive_ms + 1000, &tv);
		evhttp_connection_set_timeout_tv(k->evcon, &tv);
		return;
	}
	/* A request given up (cancelled, past its deadline, failed) has its connection reset,
	 * not closed: a close leaves what is still queued to be sent for minutes of
	 * retransmissions, and a request that arrives long after it was abandoned must not
	 * act (a lease grant, docs/fencing.md). */
	if (r->cancelled || r->err != HTTPS_ERR_OK || r->state == REQ_STARTING) {
		struct bufferevent *bev = evhttp_connection_get_bufferevent(k->evcon);
		evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
		struct linger lg = {1, 0};

		if (fd >= 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	https_conn_free(k);
}
