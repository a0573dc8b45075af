/*
 * Tests for the keep-alive connections of src/common/https.c, over mutual TLS as the
 * operator talks to its agents: a server in a child process answers each request with the
 * number of the connection it came on, so that reuse is seen from the server's side.
 */
#include "config.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tap.h"
#include "ttc/https.h"
#include "ttc/tls.h"

/* -- the server (child process, blocking) ------------------------------------------------ */

static int to_parent = -1; /* the child writes a byte here once it closed a connection */

/* Reads one request's head and body from ssl; its path in path. 0, or -1 at the end. */
static int
read_request(SSL *ssl, char *path, size_t n)
{
	char buf[4096];
	size_t len = 0;
	char *end;
	long body = 0;

	while ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL) {
		int got =
		    len < sizeof(buf) ? SSL_read(ssl, buf + len, (int)(sizeof(buf) - len)) : -1;
		if (got <= 0)
			return -1;
		len += (size_t)got;
	}
	char *cl = memmem(buf, (size_t)(end - buf), "Content-Length: ", 16);
	if (cl != NULL)
		body = strtol(cl + 16, NULL, 10);
	size_t have = len - (size_t)(end + 4 - buf);
	while ((long)have < body) {
		char skip[512];
		int got = SSL_read(ssl, skip, sizeof(skip));
		if (got <= 0)
			return -1;
		have += (size_t)got;
	}
	if (sscanf(buf, "%*s %255s", path) != 1 || n < 256)
		return -1;
	return 0;
}

/*
 * Each connection is served by a process of its own, numbered in the order accepted.
 * Paths: /hello answers; /close answers with "Connection: close" and closes; /gone answers,
 * then closes without saying so (an idle timeout, a restart) and tells the parent; /slow
 * answers after 600 ms.
 */
static void
serve_one(int fd, int serial, SSL_CTX *ctx)
{
	char path[256], resp[256], body[64];
	SSL *ssl = SSL_new(ctx);

	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		return;
	while (read_request(ssl, path, sizeof(path)) == 0) {
		int close_it = strcmp(path, "/close") == 0, gone = strcmp(path, "/gone") == 0;

		if (strcmp(path, "/slow") == 0)
			usleep(600 * 1000);
		snprintf(body, sizeof(body), "connection %d", serial);
		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n%s\r\n%s",
		         strlen(body), close_it ? "Connection: close\r\n" : "", body);
		if (SSL_write(ssl, resp, (int)strlen(resp)) <= 0 || close_it)
			return;
		if (gone) {
			close(fd);
			(void)!write(to_parent, "x", 1);
			return;
		}
	}
}

static void
serve(int lfd, SSL_CTX *ctx)
{
	int serial = 0;

	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		serial++;
		if (fork() == 0) {
			close(lfd);
			serve_one(fd, serial, ctx);
			_exit(0);
		}
		close(fd);
	}
}

/* -- the client ---------------------------------------------------------------------------- */

static struct event_base *base;
static int finished, status;
static enum https_err err;
static char body[128];

static void
on_done(struct https_request *r, const struct https_response *resp, void *arg)
{
	size_t n = resp->body ? evbuffer_get_length(resp->body) : 0;

	(void)r;
	(void)arg;
	finished = 1;
	status = resp->status;
	err = resp->err;
	if (n >= sizeof(body))
		n = sizeof(body) - 1;
	if (resp->err == HTTPS_ERR_OK)
		evbuffer_copyout(resp->body, body, n);
	else
		n = (size_t)snprintf(body, sizeof(body), "%s", resp->errmsg);
	body[n] = 0;
	event_base_loopbreak(base);
}

/* One request, run to its end; the connection number the server answered from (0: none). */
static int request_within(struct https_client *c, enum https_method m, const char *path, int keep,
                          int tls_ms, int deadline_ms);

static int
request(struct https_client *c, enum https_method m, const char *path, int keep, int tls_ms)
{
	return request_within(c, m, path, keep, tls_ms, 10000);
}

static int
request_within(struct https_client *c, enum https_method m, const char *path, int keep, int tls_ms,
               int deadline_ms)
{
	struct https_request *r = https_request_new(c, m, path);

	if (r == NULL)
		return 0;
	if (keep)
		https_request_keepalive(r);
	if (m == HTTPS_POST)
		https_request_body(r, "application/json", "{}", 2);
	https_request_timeouts(r, deadline_ms, 0);
	https_request_connect_timeouts(r, tls_ms, tls_ms);
	finished = 0;
	body[0] = 0;
	https_request_send(r, on_done, NULL);
	event_base_dispatch(base);
	int n = 0;
	if (finished && status == 200)
		sscanf(body, "connection %d", &n);
	return n;
}

/* Runs the loop for ms without anything to wait for but time. */
static void
run_for(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
cancelled(struct https_request *r, const struct https_response *resp, void *arg)
{
	(void)r;
	(void)resp;
	(void)arg;
	ok(0, "a cancelled request calls no callback");
}

static int
fail_setup(const char *what, const char *why)
{
	ok(0, "set-up: %s %s", what, why);
	return done_testing();
}

int
main(void)
{
	char *ca, *ca_key, *srv, *srv_key, *cli, *cli_key, e[512], url[64];
	const char *ips[] = {"127.0.0.1", NULL};
	const char *none[] = {NULL};
	struct tls_leaf_req sreq = {"ttagent", none, ips, 30, TLS_USAGE_SERVER};
	struct tls_leaf_req creq = {"timesten-operator", none, NULL, 30, TLS_USAGE_CLIENT};
	struct sockaddr_in a = {0};
	socklen_t alen = sizeof(a);
	int lfd, pipefd[2];
	pid_t child;

	signal(SIGPIPE, SIG_IGN);
	if (tls_make_ca("keepalive CA", 1, &ca, &ca_key, e, sizeof(e)) < 0 ||
	    tls_make_leaf(ca, ca_key, &sreq, &srv, &srv_key, e, sizeof(e)) < 0 ||
	    tls_make_leaf(ca, ca_key, &creq, &cli, &cli_key, e, sizeof(e)) < 0)
		return fail_setup("certificates", e);
	SSL_CTX *sctx = tls_server_ctx(ca, srv, srv_key, e, sizeof(e));
	SSL_CTX *cctx = tls_client_ctx(ca, cli, cli_key, e, sizeof(e));
	if (sctx == NULL || cctx == NULL)
		return fail_setup("contexts", e);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0 || pipe(pipefd) < 0)
		return fail_setup("listening socket", "");
	if ((child = fork()) == 0) {
		setpgid(0, 0); /* its connections' processes are stopped with it */
		close(pipefd[0]);
		to_parent = pipefd[1];
		serve(lfd, sctx);
		_exit(0);
	}
	setpgid(child, child);
	close(pipefd[1]);
	close(lfd);

	base = event_base_new();
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", ntohs(a.sin_port));
	struct https_client_opts o = {url, cctx, "127.0.0.1", NULL, 5000};
	struct https_client *c = https_client_new(base, &o, e, sizeof(e));
	if (c == NULL)
		return fail_setup("client", e);

	int n1 = request(c, HTTPS_GET, "/hello", 1, 0);
	int n2 = request(c, HTTPS_GET, "/hello", 1, 0);
	int n3 = request(c, HTTPS_POST, "/hello", 1, 0);
	ok(n1 > 0 && n2 == n1 && n3 == n1 && https_client_connections(c) == 1,
	   "keep-alive requests share one connection (the server saw connection %d, %d, %d)", n1,
	   n2, n3);

	int n4 = request(c, HTTPS_GET, "/hello", 0, 0);
	int n5 = request(c, HTTPS_GET, "/hello", 1, 0);
	ok(n4 > n3 && n5 == n1,
	   "a request that does not ask gets a connection of its own "
	   "(%d), and leaves the kept one alone (%d)",
	   n4, n5);

	int n6 = request(c, HTTPS_GET, "/close", 1, 0);
	int n7 = request(c, HTTPS_GET, "/hello", 1, 0);
	ok(n6 == n1 && n7 > n6, "after a response with Connection: close, a new connection (%d)",
	   n7);

	/* The server closes the kept connection while the client is not looking: the next GET
	 * is sent on it (or the close is seen first) and still gets its answer. */
	int n8 = request(c, HTTPS_GET, "/gone", 1, 0);
	char byte;
	ok(n8 == n7 && read(pipefd[0], &byte, 1) == 1, "the server closed connection %d", n8);
	unsigned long before = https_client_connections(c);
	int n9 = request(c, HTTPS_GET, "/hello", 1, 0);
	ok(n9 > n8 && https_client_connections(c) == before + 1,
	   "a GET on a connection the server closed is answered on a new one (%d; %s)", n9, body);

	/* A request that ends without its response leaves no connection to reuse. */
	struct https_request *r = https_request_new(c, HTTPS_GET, "/slow");
	https_request_keepalive(r);
	https_request_send(r, cancelled, NULL);
	run_for(100);
	https_request_cancel(r);
	run_for(50);
	int n10 = request(c, HTTPS_GET, "/hello", 1, 0);
	ok(n10 > n9, "after a cancelled request, a new connection (%d)", n10);

	/* A kept connection on which the answer is slower than a handshake would be: the GET
	 * goes again on a new connection, whose handshake shows the server alive. */
	before = https_client_connections(c);
	int n11 = request(c, HTTPS_GET, "/slow", 1, 200);
	ok(n11 > n10 && https_client_connections(c) == before + 1,
	   "a slow answer on a kept connection: the GET is sent again on a new one (%d; %s)", n11,
	   body);
	int n12 = request(c, HTTPS_POST, "/slow", 1, 200);
	ok(n12 == n11, "a POST waits for its answer on the kept connection (%d; %s)", n12, body);

	/* A kept connection outlives the limits of the request that left it (evhttp would
	 * close it when they pass): a lease grant's 5 s against a 10 s polling interval. */
	int n13 = request_within(c, HTTPS_POST, "/hello", 1, 0, 200);
	run_for(500);
	int n14 = request(c, HTTPS_GET, "/hello", 1, 0);
	ok(n13 == n12 && n14 == n13,
	   "a connection kept open outlives the deadline of the request that left it (%d, %d)", n13,
	   n14);

	/* Idle past keepalive_ms: closed by the client. */
	struct https_client_opts o2 = {url, cctx, "127.0.0.1", NULL, 150};
	struct https_client *c2 = https_client_new(base, &o2, e, sizeof(e));
	int m1 = request(c2, HTTPS_GET, "/hello", 1, 0);
	run_for(400);
	int m2 = request(c2, HTTPS_GET, "/hello", 1, 0);
	ok(m1 > 0 && m2 > m1 && https_client_connections(c2) == 2,
	   "a connection idle past keepalive_ms is closed: a new one (%d, then %d)", m1, m2);

	struct https_client_opts o3 = {url, cctx, "127.0.0.1", NULL, 0};
	struct https_client *c3 = https_client_new(base, &o3, e, sizeof(e));
	int k1 = request(c3, HTTPS_GET, "/hello", 1, 0);
	int k2 = request(c3, HTTPS_GET, "/hello", 1, 0);
	ok(k1 > 0 && k2 > k1, "a client without keepalive_ms keeps nothing (%d, %d)", k1, k2);

	https_client_free(c);
	https_client_free(c2);
	https_client_free(c3);
	event_base_loop(base, EVLOOP_NONBLOCK);
	kill(-child, SIGKILL);
	waitpid(child, NULL, 0);
	close(pipefd[0]);
	event_base_free(base);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	free(ca);
	free(ca_key);
	free(srv);
	free(srv_key);
	free(cli);
	free(cli_key);
	return done_testing();
}
