/*
 * Tests for the limits on making a connection in src/common/https.c: a server whose
 * kernel accepts the TCP connection but which never answers the TLS handshake (a frozen
 * agent) is given up after the TLS limit, not after the request's deadline.
 */
#include "config.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "tap.h"
#include "ttc/https.h"

static struct https_response got;
static char got_msg[256];
static int finished;
static struct timespec t0;

static double
elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
}

static void
on_done(struct https_request *r, const struct https_response *resp, void *arg)
{
	struct event_base *base = arg;

	(void)r;
	got = *resp;
	snprintf(got_msg, sizeof(got_msg), "%s", resp->errmsg ? resp->errmsg : "");
	finished = 1;
	event_base_loopbreak(base);
}

/* A listening socket on 127.0.0.1 that never accepts; its port in *port. */
static int
silent_listener(int *port)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* Runs one GET against the silent server with the given limits; the seconds it took. */
static double
run(struct event_base *base, SSL_CTX *ctx, int port, int deadline_ms, int tcp_ms, int tls_ms)
{
	char url[64], err[256];
	struct https_client *c;
	struct https_request *r;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
	struct https_client_opts o = {url, ctx, "agent.example", NULL, 0};
	if ((c = https_client_new(base, &o, err, sizeof(err))) == NULL) {
		diag("client: %s", err);
		return -1;
	}
	r = https_request_new(c, HTTPS_GET, "/v1/state");
	https_request_timeouts(r, deadline_ms, 0);
	https_request_connect_timeouts(r, tcp_ms, tls_ms);
	finished = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	https_request_send(r, on_done, base);
	event_base_dispatch(base);
	double t = elapsed();
	https_client_free(c);
	/* The connection's buffers are freed by the loop once it is torn down. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return finished ? t : -1;
}

int
main(void)
{
	struct event_base *base = event_base_new();
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int port = 0, fd = silent_listener(&port);
	double t;

	ok(base && ctx && fd >= 0, "a silent server listens");

	t = run(base, ctx, port, 20000, 200, 300);
	ok(t >= 0 && got.err == HTTPS_ERR_TLS, "no handshake: a TLS error (%s)", got_msg);
	ok(strstr(got_msg, "no TLS handshake") != NULL && strstr(got_msg, "300 ms") != NULL,
	   "the message names the TLS limit");
	/* Timers count from the loop's cached time, which can be a few ms older than t0. */
	ok(t >= 0.28 && t < 5, "given up after the TLS limit, not the deadline (%.2f s)", t);

	t = run(base, ctx, port, 20000, 0, 250);
	ok(t >= 0 && got.err == HTTPS_ERR_TLS && t >= 0.2 && t < 5,
	   "with no TCP limit too (%.2f s)", t);

	t = run(base, ctx, port, 400, 0, 0);
	ok(t >= 0 && got.err == HTTPS_ERR_TIMEOUT && t < 5,
	   "without connection limits the deadline ends it (%.2f s: %s)", t, got_msg);

	close(fd);
	SSL_CTX_free(ctx);
	event_base_free(base);
	return done_testing();
}
