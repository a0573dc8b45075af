/*
 * HTTP server glue on libevhtp (see ttc/httpd.h). All requests go through one generic
 * callback that looks the path up in a small route table, so 404 and 405 are decided in
 * one place and every reply carries a clear reason.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/listener.h>

#include "ttc/httpd.h"
#include "ttc/log.h"
#include "ttc/netaddr.h"

#define HTTPD_BACKLOG 128

struct route {
	TAILQ_ENTRY(route) entry;
	char *path;
	size_t prefix; /* length of the prefix for prefix routes, 0 for exact ones */
	unsigned methods;
	httpd_handler fn;
	void *arg;
};

struct conn {
	TAILQ_ENTRY(conn) entry;
	evhtp_connection_t *c;
};

struct httpd {
	char *name;
	evhtp_t *htp;
	TAILQ_HEAD(, route) routes;
	TAILQ_HEAD(, conn) conns;
	httpd_error_fn error_fn;
	char address[64];
	int listening;
};

static void
plain_error(evhtp_request_t *req, int code, const char *reason)
{
	char body[256];

	snprintf(body, sizeof(body), "%s\n", reason);
	httpd_reply(req, code, "text/plain; charset=utf-8", body);
}

void
httpd_reply_buffer(evhtp_request_t *req, int code, const char *content_type, struct evbuffer *body)
{
	if (content_type != NULL)
		evhtp_headers_add_header(req->headers_out,
		                         evhtp_header_new("Content-Type", content_type, 0, 1));
	if (body != NULL)
		evbuffer_add_buffer(req->buffer_out, body);
	evhtp_send_reply(req, code);
}

void
httpd_reply(evhtp_request_t *req, int code, const char *content_type, const char *body)
{
	if (body != NULL)
		evbuffer_add(req->buffer_out, body, strlen(body));
	httpd_reply_buffer(req, code, content_type, NULL);
}

void
httpd_error(evhtp_request_t *req, int code, const char *reason)
{
	struct httpd *h = req->htp->arg;

	h->error_fn(req, code, reason);
}

static struct route *
find_route(struct httpd *h, const char *path)
{
	struct route *r;

	TAILQ_FOREACH(r, &h->routes, entry)
	{
		if (r->prefix == 0 ? strcmp(r->path, path) == 0
		                   : strncmp(r->path, path, r->prefix) == 0)
			return r;
	}
	return NULL;
}

static void
allow_header(evhtp_request_t *req, unsigned methods)
{
	char allow[128] = "";

	for (int m = 0; m < htp_method_UNKNOWN; m++) {
		if (!(methods & (1u << m)))
			continue;
		if (*allow)
			strcat(allow, ", ");
		strcat(allow, htparser_get_methodstr_m(m));
		if (m == htp_method_GET)
			strcat(allow, ", HEAD");
	}
	evhtp_headers_add_header(req->headers_out, evhtp_header_new("Allow", allow, 0, 1));
}

static void
dispatch(evhtp_request_t *req, void *arg)
{
	struct httpd *h = arg;
	const char *path = req->uri && req->uri->path ? req->uri->path->full : "/";
	htp_method method = evhtp_request_get_method(req);
	struct route *r = find_route(h, path);
	unsigned bit = method == htp_method_HEAD ? HTTPD_GET : 1u << method;

	log_debug("httpd", "request", "server", h->name, "method", htparser_get_methodstr_m(method),
	          "path", path, NULL);
	if (r == NULL) {
		h->error_fn(req, EVHTP_RES_NOTFOUND, "not found");
		return;
	}
	if (method >= htp_method_UNKNOWN || !(r->methods & bit)) {
		allow_header(req, r->methods);
		h->error_fn(req, EVHTP_RES_METHNALLOWED, "method not allowed");
		return;
	}
	r->fn(req, r->arg);
}

static evhtp_res
conn_fini(evhtp_connection_t *c, void *arg)
{
	struct httpd *h = arg;
	struct conn *k;

	TAILQ_FOREACH(k, &h->conns, entry)
	if (k->c == c) {
		TAILQ_REMOVE(&h->conns, k, entry);
		free(k);
		break;
	}
	return EVHTP_RES_OK;
}

static evhtp_res
conn_accepted(evhtp_connection_t *c, void *arg)
{
	struct httpd *h = arg;
	struct conn *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return EVHTP_RES_ERROR;
	k->c = c;
	TAILQ_INSERT_TAIL(&h->conns, k, entry);
	evhtp_connection_set_hook(c, evhtp_hook_on_connection_fini, (evhtp_hook)conn_fini, h);
	return EVHTP_RES_OK;
}

struct httpd *
httpd_new(struct event_base *base, const char *name)
{
	struct httpd *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	TAILQ_INIT(&h->routes);
	TAILQ_INIT(&h->conns);
	h->error_fn = plain_error;
	h->name = strdup(name);
	if (h->name == NULL || (h->htp = evhtp_new(base, h)) == NULL) {
		free(h->name);
		free(h);
		return NULL;
	}
	evhtp_set_gencb(h->htp, dispatch, h);
	evhtp_set_post_accept_cb(h->htp, conn_accepted, h);
	evhtp_set_max_body_size(h->htp, 1024 * 1024);
	httpd_set_idle_timeout(h, 60);
	return h;
}

void
httpd_set_idle_timeout(struct httpd *h, int seconds)
{
	struct timeval tv = {seconds, 0};

	evhtp_set_timeouts(h->htp, &tv, &tv);
}

void
httpd_set_error_fn(struct httpd *h, httpd_error_fn fn)
{
	h->error_fn = fn ? fn : plain_error;
}

evhtp_t *
httpd_evhtp(struct httpd *h)
{
	return h->htp;
}

int
httpd_route(struct httpd *h, const char *path, unsigned methods, httpd_handler fn, void *arg)
{
	struct route *r = calloc(1, sizeof(*r));
	size_t n = strlen(path);

	if (r == NULL || (r->path = strdup(path)) == NULL) {
		free(r);
		return -1;
	}
	if (n >= 2 && strcmp(path + n - 2, "/*") == 0) {
		r->prefix = n - 1; /* keep the slash: "/x/" + "*" matches "/x/..." */
		r->path[n - 1] = '\0';
	}
	r->methods = methods;
	r->fn = fn;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&h->routes, r, entry);
	return 0;
}

int
httpd_listen(struct httpd *h, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = netaddr_listen(addr, HTTPD_BACKLOG, err, errlen);

	if (fd < 0)
		return -1;
	if (h->listening)
		evhtp_unbind_socket(h->htp);
	h->listening = 0;
	if (evhtp_accept_socket(h->htp, fd, HTTPD_BACKLOG) < 0) {
		snprintf(err, errlen, "cannot accept on %s", addr);
		close(fd);
		return -1;
	}
	h->listening = 1;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		netaddr_format((struct sockaddr *)&ss, h->address, sizeof(h->address));
	else
		snprintf(h->address, sizeof(h->address), "%s", addr);
	log_info("httpd", "listening", "server", h->name, "addr", h->address, NULL);
	return 0;
}

const char *
httpd_address(const struct httpd *h)
{
	return h->listening ? h->address : NULL;
}

void
httpd_close(struct httpd *h)
{
	if (h->listening) {
		evhtp_unbind_socket(h->htp);
		h->listening = 0;
		log_info("httpd", "stopped listening", "server", h->name, "addr", h->address, NULL);
	}
}

void
httpd_free(struct httpd *h)
{
	struct route *r;
	struct conn *k;

	if (h == NULL)
		return;
	httpd_close(h);
	/* Freeing a connection runs conn_fini, which unlinks it. */
	while ((k = TAILQ_FIRST(&h->conns)) != NULL)
		evhtp_connection_free(k->c);
	while ((r = TAILQ_FIRST(&h->routes)) != NULL) {
		TAILQ_REMOVE(&h->routes, r, entry);
		free(r->path);
		free(r);
	}
	evhtp_free(h->htp);
	free(h->name);
	free(h);
}
