/*
 * HTTP server glue on libevhtp: a route table (exact paths, or prefixes written with a
 * trailing "/" and "*", each with the methods it allows), 404 and 405 for the rest, a listener that
 * can move to a new address without dropping its connections, and tracking of open connections so
 * that shutdown frees them.
 */
#ifndef TTC_HTTPD_H
#define TTC_HTTPD_H

#include <stddef.h>

#include <evhtp.h>

struct httpd;
struct metrics;

#define HTTPD_GET (1u << htp_method_GET) /* also allows HEAD */
#define HTTPD_POST (1u << htp_method_POST)
#define HTTPD_PUT (1u << htp_method_PUT)
#define HTTPD_DELETE (1u << htp_method_DELETE)
#define HTTPD_PATCH (1u << htp_method_PATCH)

typedef void (*httpd_handler)(evhtp_request_t *req, void *arg);
/* Writes an error reply (404, 405, 413, ...) with a human-readable reason. */
typedef void (*httpd_error_fn)(evhtp_request_t *req, int code, const char *reason);

struct httpd *httpd_new(struct event_base *base, const char *name);
void httpd_free(struct httpd *h);

/* Adds a route: path is exact, or ends in a slash and an asterisk to match everything
 * below it. */
int httpd_route(struct httpd *h, const char *path, unsigned methods, httpd_handler fn, void *arg);
/* Replaces the plain-text error replies (e.g. by JSON ones). */
void httpd_set_error_fn(struct httpd *h, httpd_error_fn fn);
/* Idle connections are closed after this many seconds without a request (default 60). */
void httpd_set_idle_timeout(struct httpd *h, int seconds);
/* The libevhtp context, for TLS set-up and other options. */
evhtp_t *httpd_evhtp(struct httpd *h);

/*
 * Listens on addr ("HOST:PORT"). When already listening, the new socket is opened first
 * and the old one closed only on success, so a failed move leaves the server as it was.
 */
int httpd_listen(struct httpd *h, const char *addr, char *err, size_t errlen);
/* The address actually bound ("127.0.0.1:41234" when port 0 was asked), or NULL. */
const char *httpd_address(const struct httpd *h);
/* Stops accepting connections; open ones finish their requests. */
void httpd_close(struct httpd *h);

/* Replies with code and a text body (may be NULL) of the given content type. */
void httpd_reply(evhtp_request_t *req, int code, const char *content_type, const char *body);
/* Replies with code and the contents of body, which is drained. */
void httpd_reply_buffer(evhtp_request_t *req, int code, const char *content_type,
                        struct evbuffer *body);
/* The error reply of the server that req arrived on. */
void httpd_error(evhtp_request_t *req, int code, const char *reason);

#endif
