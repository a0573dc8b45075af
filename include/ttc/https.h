/*
 * An asynchronous HTTP(S) client on libevent's evhttp and bufferevent_openssl: a
 * connection per request or, for requests that ask, HTTP/1.1 keep-alive connections; a
 * deadline per request, whole or streamed response bodies, and the server's identity (DNS
 * name or IP address) checked against its certificate.
 */
#ifndef TTC_HTTPS_H
#define TTC_HTTPS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct event_base;
struct evdns_base;
struct evbuffer;
struct evkeyvalq;

struct https_client;  /* one server: where it is, how to trust it, how to present ourselves */
struct https_request; /* one exchange with it */

enum https_method {
	HTTPS_GET,
	HTTPS_POST,
	HTTPS_PUT,
	HTTPS_PATCH,
	HTTPS_DELETE,
};

/* Why a request produced no HTTP response. */
#define HTTPS_ERRORS(X)                                                                            \
	X(OK, "ok")                                                                                \
	X(DNS, "name resolution failed")                                                           \
	X(CONNECT, "connection failed")                                                            \
	X(TLS, "TLS failed")                                                                       \
	X(TIMEOUT, "deadline exceeded")                                                            \
	X(EOF, "connection closed before the response ended")                                      \
	X(PROTOCOL, "invalid HTTP response")                                                       \
	X(TOO_LARGE, "response too large")                                                         \
	X(INTERNAL, "internal error")

enum https_err {
#define X(e, s) HTTPS_ERR_##e,
	HTTPS_ERRORS(X)
#undef X
};

/* "deadline exceeded", ... for logs. */
const char *https_err_name(enum https_err e);

/*
 * Trust and identity for TLS clients. PEM text, NUL-terminated; any may be NULL. Without a
 * CA the system's trust store is used. insecure turns server verification off entirely
 * (only for callers that were explicitly told so).
 */
struct https_tls {
	const char *ca_pem;
	const char *cert_pem; /* client certificate (chain), with key_pem */
	const char *key_pem;
	int insecure;
};

/* A client TLS context: TLS >= 1.2, peer verification on, OpenSSL 3's unexpected-EOF
 * error turned off (HTTP framing detects truncation). NULL with the reason in err. */
SSL_CTX *https_ctx_new(const struct https_tls *tls, char *err, size_t errlen);

struct https_client_opts {
	/* "https://HOST[:PORT][/PREFIX]" or "http://..."; HOST a DNS name, an IPv4 literal or
	 * a bracketed IPv6 literal. PREFIX is put before every request path. */
	const char *url;
	/* For https: the context requests use (a reference is taken); NULL makes a default
	 * one that trusts the system store. */
	SSL_CTX *ssl_ctx;
	/* The identity the server's certificate must carry (DNS name or IP address); default
	 * the URL's host. Also sent as SNI when it is a name. */
	const char *server_name;
	/* Resolver for host names; NULL: the client makes its own when the host is a name. */
	struct evdns_base *dns;
	/* How long a connection is kept open after a keep-alive request (see
	 * https_request_keepalive()) for the next one; 0: never. Keep it below the server's
	 * idle timeout. */
	int keepalive_ms;
};

struct https_client *https_client_new(struct event_base *base, const struct https_client_opts *o,
                                      char *err, size_t errlen);
/* Cancels every pending request (no callbacks) and frees the client. */
void https_client_free(struct https_client *c);
/* "host:port" as connected to, for logs and metrics. */
const char *https_client_authority(const struct https_client *c);
/* How many connections the client has made (TCP connects, TLS handshakes). */
unsigned long https_client_connections(const struct https_client *c);

/* What a request produced: an HTTP response (status > 0, err OK), or an error. */
struct https_response {
	int status;                /* HTTP status code; 0 when no response arrived */
	enum https_err err;        /* HTTPS_ERR_OK when status > 0 */
	const char *errmsg;        /* human-readable detail of err */
	struct evkeyvalq *headers; /* response headers (NULL when none) */
	struct evbuffer *body;     /* the whole body; empty when streamed */
};

/* Looks up a response header (case-insensitive); NULL when absent. */
const char *https_response_header(const struct https_response *resp, const char *name);

/*
 * Callbacks. done is called exactly once per sent request, unless the request is
 * cancelled (no callback at all after https_request_cancel or a head/data callback that
 * returns -1). The request is freed when done returns; the response lives until then.
 * Callbacks may start new requests and cancel other ones, and may free the client only
 * from done.
 */
typedef void (*https_done_fn)(struct https_request *r, const struct https_response *resp,
                              void *arg);
/* Streaming: the status line and headers arrived. Return 0 to go on, -1 to cancel. */
typedef int (*https_head_fn)(struct https_request *r, int status, struct evkeyvalq *headers,
                             void *arg);
/* Streaming: a piece of the body (not aligned to anything); consume it from data. Return
 * 0 to go on, -1 to cancel. */
typedef int (*https_data_fn)(struct https_request *r, struct evbuffer *data, void *arg);

/* A request for path ("/api/v1/pods?watch=1"); NULL on allocation failure. */
struct https_request *https_request_new(struct https_client *c, enum https_method method,
                                        const char *path);
/* Adds a request header; 0 or -1 (bad characters). Host and Content-Length are set by the
 * client. */
int https_request_header(struct https_request *r, const char *name, const char *value);
/* Sets the request body (copied) and its content type. */
int https_request_body(struct https_request *r, const char *content_type, const void *data,
                       size_t len);
/*
 * deadline_ms bounds the whole exchange (connect, TLS, request, response), or is
 * HTTPS_NO_DEADLINE; idle_ms the time without any progress (0: same as the deadline).
 * Defaults: 30 s, 0.
 */
#define HTTPS_NO_DEADLINE (-1)
void https_request_timeouts(struct https_request *r, int deadline_ms, int idle_ms);
/*
 * Bounds the connection's making, within the deadline: the TCP connection must be up
 * connect_ms after the request starts (else HTTPS_ERR_CONNECT), and the TLS handshake done
 * tls_ms after the connection was seen up, which is looked at every 100 ms (else
 * HTTPS_ERR_TLS). 0 leaves a phase to the deadline alone.
 */
void https_request_connect_timeouts(struct https_request *r, int connect_ms, int tls_ms);
/* Largest whole body accepted (default 64 MiB); not applied to streamed bodies. */
void https_request_max_body(struct https_request *r, size_t bytes);
/*
 * The request may run on a connection an earlier one left open, and leaves its own open
 * for the next (on a client with keepalive_ms, after a whole response that did not ask to
 * close). For requests the server answers at once: on a connection kept open, the limits
 * of https_request_connect_timeouts() together bound the wait for the response's start, as
 * a new connection's handshake would show a frozen server. A GET that finds the kept
 * connection closed by the server before any response is sent once more on a new one;
 * other methods fail, since the server may have acted.
 */
void https_request_keepalive(struct https_request *r);
/* Streams the body through data instead of collecting it for done. */
void https_request_stream(struct https_request *r, https_head_fn head, https_data_fn data);
/*
 * Sends the request; the outcome reaches done from the event loop (never from inside
 * this call). From here the request belongs to the client. Returns -1 only when r
 * was already sent.
 */
int https_request_send(struct https_request *r, https_done_fn done, void *arg);
/* Abandons a request (sent or not): no callback will follow; frees it. A no-op from
 * inside done. */
void https_request_cancel(struct https_request *r);

#endif
