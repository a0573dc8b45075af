/*
 * The agent's life: set-up (TLS from the agent Secret, the HTTPS listener, the private
 * directory for SQL files), the one event loop, certificate rotation without restart, and
 * a clean stop on SIGTERM/SIGINT. Also the helpers every part uses: in-pod paths, files.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "agent.h"
#include "ttc/httpd.h"
#include "ttc/tls.h"

/* The agent Secret's files, in the directory mounted at /ttagent. */
#define AGENT_CA_FILE "ca.crt"
#define AGENT_CERT_FILE "tls.crt"
#define AGENT_KEY_FILE "tls.key"
#define AGENT_PEM_MAX (256 * 1024)

const char *
agent_path(const struct agent *a, const char *pod_path, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", a->cfg.pod_root, pod_path);
	return buf;
}

char *
agent_read_file(const char *host_path, size_t max, size_t *len)
{
	int fd = open(host_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t have = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (!S_ISREG(st.st_mode))
			errno = EISDIR;
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	/* Files of /proc and cgroupfs say they are empty: read those up to max, to the end. */
	size_t want = st.st_size > 0 ? (size_t)st.st_size : max;
	if ((buf = malloc(want + 1)) == NULL)
		goto fail;
	while (have < want) {
		ssize_t r = read(fd, buf + have, want - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	buf[have] = '\0';
	if (memchr(buf, '\0', have) != NULL) {
		errno = EINVAL; /* binary: not a text file we can use */
		goto fail;
	}
	close(fd);
	if (len)
		*len = have;
	return buf;
fail:
	free(buf);
	int e = errno;
	close(fd);
	errno = e;
	return NULL;
}

int
agent_write_file(const char *host_path, const char *data, size_t len, int mode, char *err,
                 size_t errlen)
{
	char tmp[4200];
	int fd;
	size_t done = 0;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", host_path);
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "cannot create a file beside %s: %s", host_path,
		         strerror(errno));
		return -1;
	}
	fchmod(fd, (mode_t)mode);
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0 || rename(tmp, host_path) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", host_path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

const char *
agent_utility(const struct agent *a, const char *name, char *buf, size_t n)
{
	char pod[4096];

	/* The order of ttenv.sh's PATH. */
	snprintf(pod, sizeof(pod), "%s/bin/%s", a->cfg.timesten_home, name);
	agent_path(a, pod, buf, n);
	if (access(buf, X_OK) == 0)
		return buf;
	snprintf(pod, sizeof(pod), "%s/install/bin/%s", a->cfg.timesten_home, name);
	return agent_path(a, pod, buf, n);
}

/* ---- TLS from the agent Secret ---- */

/* A string that changes when any of the three files changes (Secret updates swap a
 * symlink, so the inode changes too). */
static void
cert_stamp(struct agent *a, char *buf, size_t n)
{
	static const char *const files[] = {AGENT_CA_FILE, AGENT_CERT_FILE, AGENT_KEY_FILE};
	char pod[4096], host[4200];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < 3 && off < n; i++) {
		struct stat st;
		snprintf(pod, sizeof(pod), "%s/%s", a->cfg.cert_dir, files[i]);
		agent_path(a, pod, host, sizeof(host));
		if (stat(host, &st) < 0)
			memset(&st, 0, sizeof(st));
		off += (size_t)snprintf(buf + off, n - off, "%lu:%lld:%lld.%ld;",
		                        (unsigned long)st.st_ino, (long long)st.st_size,
		                        (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
}

struct pems {
	char *ca, *cert, *key;
};

static void
pems_free(struct pems *p)
{
	free(p->ca);
	free(p->cert);
	if (p->key)
		explicit_bzero(p->key, strlen(p->key));
	free(p->key);
}

static int
pems_read(struct agent *a, struct pems *p, char *err, size_t errlen)
{
	const char *names[] = {AGENT_CA_FILE, AGENT_CERT_FILE, AGENT_KEY_FILE};
	char **dst[] = {&p->ca, &p->cert, &p->key};
	char pod[4096], host[4200];

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < 3; i++) {
		snprintf(pod, sizeof(pod), "%s/%s", a->cfg.cert_dir, names[i]);
		agent_path(a, pod, host, sizeof(host));
		if ((*dst[i] = agent_read_file(host, AGENT_PEM_MAX, NULL)) == NULL) {
			snprintf(err, errlen, "cannot read %.300s: %s", pod, strerror(errno));
			pems_free(p);
			return -1;
		}
	}
	return 0;
}

static int
verify_cb(int preverify_ok, X509_STORE_CTX *ctx)
{
	if (!preverify_ok) {
		X509 *x = X509_STORE_CTX_get_current_cert(ctx);
		char subject[256] = "";
		if (x != NULL)
			X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
		log_warn("tls", "client certificate refused", "subject", subject, "error",
		         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)), NULL);
	}
	return preverify_ok;
}

static int
tls_setup(struct agent *a)
{
	struct pems p;
	char err[512];

	cert_stamp(a, a->cert_stamp, sizeof(a->cert_stamp));
	if (pems_read(a, &p, err, sizeof(err)) < 0) {
		log_error("tls", "cannot read the agent certificates", "error", err, NULL);
		return -1;
	}
	a->ssl_ctx = tls_server_ctx(p.ca, p.cert, p.key, err, sizeof(err));
	pems_free(&p);
	if (a->ssl_ctx == NULL) {
		log_error("tls", "cannot use the agent certificates", "dir", a->cfg.cert_dir,
		          "error", err, NULL);
		return -1;
	}
	SSL_CTX_set_verify(a->ssl_ctx, SSL_CTX_get_verify_mode(a->ssl_ctx), verify_cb);
	httpd_evhtp(a->httpd)->ssl_ctx = a->ssl_ctx;
	return 0;
}

static void
cert_check(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	char stamp[sizeof(a->cert_stamp)], err[512];
	struct pems p;

	(void)fd;
	(void)what;
	cert_stamp(a, stamp, sizeof(stamp));
	if (strcmp(stamp, a->cert_stamp) == 0)
		return;
	/* Remember the stamp either way: a bad set is reported once, not every check. */
	memcpy(a->cert_stamp, stamp, sizeof(stamp));
	if (pems_read(a, &p, err, sizeof(err)) < 0 ||
	    tls_ctx_update(a->ssl_ctx, p.ca, p.cert, p.key, err, sizeof(err)) < 0) {
		log_error("tls", "new certificates refused; the old ones stay", "error", err, NULL);
		if (p.ca || p.cert || p.key)
			pems_free(&p);
		return;
	}
	pems_free(&p);
	log_info("tls", "certificates reloaded", "dir", a->cfg.cert_dir, NULL);
}

/* ---- life ---- */

static void
stopped(struct agent *a)
{
	event_base_loopexit(a->base, NULL);
}

static void
stop_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;

	(void)fd;
	(void)what;
	log_warn("agent", "stopping TimesTen takes too long; exiting anyway", "stop_timeout_s",
	         LOG_I(a->cfg.stop_timeout_ms / 1000), NULL);
	event_base_loopexit(a->base, NULL);
}

/* SIGTERM (the pod is going) or SIGINT: no more orders; TimesTen stopped cleanly within
 * --stop-timeout, then exit. A second signal exits at once.
 *
 * Not when the database may be a pair's active (its state, probed since the last order,
 * does not show otherwise; or an order is running): then the agent exits at once, as the
 * container's process, so that the container's end takes the daemon and the database
 * with it. The operator promotes the standby as soon as this pod is gone from the API;
 * a clean stop would keep the old active open to its applications meanwhile. Its
 * database is duplicated again from the new active anyway. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;
	const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
	struct timeval tv = {.tv_sec = a->cfg.stop_timeout_ms / 1000,
	                     .tv_usec = (a->cfg.stop_timeout_ms % 1000) * 1000};

	(void)what;
	if (a->stopping || a->cfg.stop_timeout_ms == 0) {
		log_info("agent", "stopping at once", "signal", name, NULL);
		event_base_loopexit(a->base, NULL);
		return;
	}
	if (ops_running(a) || !state_known_passive(a)) {
		log_info(
		    "agent",
		    "stopping at once: the database may be the active, it goes with the container",
		    "signal", name, NULL);
		event_base_loopexit(a->base, NULL);
		return;
	}
	a->stopping = 1;
	log_info("agent", "stopping TimesTen, then exiting", "signal", name, NULL);
	httpd_close(a->httpd);
	if ((a->stop_timer = evtimer_new(a->base, stop_timed_out, a)) == NULL ||
	    evtimer_add(a->stop_timer, &tv) < 0 || ops_stop(a, stopped) < 0)
		event_base_loopexit(a->base, NULL);
}

static int
make_tmpdir(struct agent *a)
{
	char host[4200];
	size_t root = strlen(a->cfg.pod_root);

	agent_path(a, "/tmp/" AGENT_NAME ".XXXXXX", host, sizeof(host));
	if (mkdtemp(host) == NULL) {
		log_error("agent", "cannot make a private directory under /tmp", "error",
		          strerror(errno), NULL);
		return -1;
	}
	snprintf(a->tmpdir, sizeof(a->tmpdir), "%s", host + root);
	return 0;
}

static void
remove_tmpdir(struct agent *a)
{
	char host[4200], f[4500];
	DIR *d;
	struct dirent *e;

	if (a->tmpdir[0] == '\0')
		return;
	agent_path(a, a->tmpdir, host, sizeof(host));
	if ((d = opendir(host)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(f, sizeof(f), "%s/%s", host, e->d_name);
			unlink(f);
		}
		closedir(d);
	}
	rmdir(host);
	a->tmpdir[0] = '\0';
}

int
agent_init(struct agent *a)
{
	char err[512];
	struct timeval tv;

	a->started = time(NULL);
	snprintf(a->boot_id, sizeof(a->boot_id), "%lx", (unsigned long)a->started);
	signal(SIGPIPE, SIG_IGN);
	/* The utilities find their instance through TIMESTEN_HOME, as after ttenv.sh. */
	setenv("TIMESTEN_HOME", a->cfg.timesten_home, 1);
	if ((a->base = event_base_new()) == NULL) {
		log_error("agent", "cannot create the event loop", NULL);
		return -1;
	}
	if (sqltpl_load(a, a->cfg.sql_dir) < 0 || child_init(a) < 0 || make_tmpdir(a) < 0 ||
	    state_init(a) < 0 || ops_init(a) < 0 || lease_init(a) < 0)
		return -1;
	if ((a->httpd = httpd_new(a->base, "api")) == NULL || api_init(a) < 0) {
		log_error("agent", "cannot set up the HTTPS server", NULL);
		return -1;
	}
	if (tls_setup(a) < 0)
		return -1;
	if (httpd_listen(a->httpd, a->cfg.listen, err, sizeof(err)) < 0) {
		log_error("agent", "cannot listen", "addr", a->cfg.listen, "error", err, NULL);
		return -1;
	}
	/* Replies go out in several TLS records: without this, Nagle's algorithm and the
	 * client's delayed ACK add 40 ms to every request. Accepted sockets inherit it. */
	int one = 1;
	setsockopt(evconnlistener_get_fd(httpd_evhtp(a->httpd)->server), IPPROTO_TCP, TCP_NODELAY,
	           &one, sizeof(one));
	a->sig_term = evsignal_new(a->base, SIGTERM, on_signal, a);
	a->sig_int = evsignal_new(a->base, SIGINT, on_signal, a);
	a->cert_timer = event_new(a->base, -1, EV_PERSIST, cert_check, a);
	tv.tv_sec = a->cfg.cert_check_ms / 1000;
	tv.tv_usec = (a->cfg.cert_check_ms % 1000) * 1000;
	if (a->sig_term == NULL || a->sig_int == NULL || a->cert_timer == NULL ||
	    evsignal_add(a->sig_term, NULL) < 0 || evsignal_add(a->sig_int, NULL) < 0 ||
	    evtimer_add(a->cert_timer, &tv) < 0) {
		log_error("agent", "cannot handle signals and timers", NULL);
		return -1;
	}
	return 0;
}

void
agent_run(struct agent *a)
{
	log_info("agent", "started", "version", PACKAGE_VERSION, "addr", httpd_address(a->httpd),
	         "timesten_home", a->cfg.timesten_home, "pod_root", a->cfg.pod_root, NULL);
	event_base_dispatch(a->base);
	log_info("agent", "stopped", NULL);
}

void
agent_cleanup(struct agent *a)
{
	if (a->sig_term)
		event_free(a->sig_term);
	if (a->sig_int)
		event_free(a->sig_int);
	if (a->cert_timer)
		event_free(a->cert_timer);
	if (a->stop_timer)
		event_free(a->stop_timer);
	ops_shutdown(a);
	lease_free(a);
	state_shutdown(a);
	child_shutdown(a);
	if (a->httpd) {
		httpd_evhtp(a->httpd)->ssl_ctx = NULL; /* ours to free, below */
		httpd_free(a->httpd);
	}
	SSL_CTX_free(a->ssl_ctx);
	remove_tmpdir(a);
	sqltpl_free(a);
	if (a->base)
		event_base_free(a->base);
	free(a->cfg.listen);
	free(a->cfg.pod_root);
	free(a->cfg.timesten_home);
	free(a->cfg.installation);
	free(a->cfg.cert_dir);
	free(a->cfg.config_dir);
	free(a->cfg.sql_dir);
	free(a->cfg.hostname);
	memset(a, 0, sizeof(*a));
}
