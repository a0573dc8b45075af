/*
 * Tests for src/operator/config.c and the reload in src/operator/operator.c: defaults,
 * file, environment and flags in the right order; a good reload swaps, a bad one keeps.
 */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "../../src/operator/operator.h"
#include "tap.h"
#include "ttc/httpd.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

static char dir[] = "/tmp/test-config-XXXXXX";
static char path[600];
static char err[512];

static void
write_file(const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return;
	fputs(text, fp);
	fclose(fp);
}

static const struct config_overrides none = {-1, -1, NULL, NULL, NULL, NULL};

static void
test_build(void)
{
	struct operator_config *c;

	unsetenv("WATCH_NAMESPACE");
	c = config_build(NULL, &none, err, sizeof(err));
	ok(c != NULL, "defaults alone make a configuration");
	if (c) {
		is_int(c->log_level, LOG_INFO, "default log level is info");
		is_int(c->log_format, LOG_FMT_LOGFMT, "default log format is logfmt");
		is_str(c->metrics_addr, ":8080", "default metrics address is :8080");
		is_str(c->namespace, "", "no namespace by default");
		is_str(c->kubeconfig, "", "in-cluster by default");
		is_str(c->cluster_domain, "cluster.local",
		       "cluster domain cluster.local by default");
	}
	config_free(c);

	setenv("WATCH_NAMESPACE", "ttns", 1);
	c = config_build(NULL, &none, err, sizeof(err));
	is_str(c ? c->namespace : NULL, "ttns", "WATCH_NAMESPACE gives the default namespace");
	config_free(c);

	write_file("log: {level: debug, format: json}\n"
	           "metrics: {address: \"127.0.0.1:9090\"}\n"
	           "kubernetes: {namespace: fromfile, kubeconfig: /k/config, "
	           "clusterDomain: corp.example}\n");
	c = config_build(path, &none, err, sizeof(err));
	ok(c != NULL, "a full file loads");
	if (c) {
		is_int(c->log_level, LOG_DEBUG, "log level from the file");
		is_int(c->log_format, LOG_FMT_JSON, "log format from the file");
		is_str(c->metrics_addr, "127.0.0.1:9090", "metrics address from the file");
		is_str(c->namespace, "fromfile", "the file's namespace wins over WATCH_NAMESPACE");
		is_str(c->kubeconfig, "/k/config", "kubeconfig from the file");
		is_str(c->cluster_domain, "corp.example", "cluster domain from the file");
	}
	config_free(c);

	struct config_overrides ov = {LOG_ERROR,  LOG_FMT_LOGFMT, "[::1]:7070",
	                              "fromflag", "/f",           "k8s.internal"};
	c = config_build(path, &ov, err, sizeof(err));
	ok(c != NULL, "flags with a file load");
	if (c) {
		is_int(c->log_level, LOG_ERROR, "--log-level wins over the file");
		is_int(c->log_format, LOG_FMT_LOGFMT, "--log-format wins over the file");
		is_str(c->metrics_addr, "[::1]:7070", "--metrics-addr wins over the file");
		is_str(c->namespace, "fromflag", "--namespace wins over the file");
		is_str(c->kubeconfig, "/f", "--kubeconfig wins over the file");
		is_str(c->cluster_domain, "k8s.internal", "--cluster-domain wins over the file");
	}
	config_free(c);

	ov = none;
	ov.metrics_addr = "nohost:1";
	c = config_build(NULL, &ov, err, sizeof(err));
	ok(c == NULL, "a bad --metrics-addr is refused");
	like(err, "nohost", "naming the bad address");

	ov = none;
	ov.namespace = "Not_Valid";
	c = config_build(NULL, &ov, err, sizeof(err));
	ok(c == NULL, "an invalid namespace name is refused");
	like(err, "Not_Valid", "naming it");

	const char *bad_domains[] = {
	    "Cluster.Local", "cluster..local", "-a.b", "a-.b", "a_b", "", NULL};
	for (int i = 0; bad_domains[i]; i++) {
		ov = none;
		ov.cluster_domain = bad_domains[i];
		c = config_build(NULL, &ov, err, sizeof(err));
		ok(c == NULL && strstr(err, "is not a DNS name") != NULL,
		   "cluster domain \"%s\" is refused", bad_domains[i]);
		config_free(c);
	}

	write_file("log:\n  level: loud\n");
	c = config_build(path, &none, err, sizeof(err));
	ok(c == NULL, "a bad file is refused");
	like(err, ":2:10: log.level: \"loud\" is not one of debug, info, warn, error",
	     "with file, line and column");
	unsetenv("WATCH_NAMESPACE");
}

static double
reloads(struct ttc_operator *op, int ok_series)
{
	return metric_value(ok_series ? op->reloads_ok : op->reloads_failed);
}

static void
test_reload(void)
{
	struct ttc_operator op = {0};
	int logfd = open("/dev/null", O_WRONLY);

	log_setup(logfd, LOG_ERROR, LOG_FMT_LOGFMT);
	write_file("metrics:\n  address: 127.0.0.1:0\nkubernetes:\n  namespace: one\n");
	op.config_path = path;
	op.overrides = none;
	op.config = config_build(path, &op.overrides, err, sizeof(err));
	if (op.config == NULL || operator_init(&op) < 0) {
		ok(0, "the operator initialises: %s", err);
		operator_cleanup(&op);
		return;
	}
	ok(op.ready, "the operator initialises and is ready");
	const char *first = httpd_address(op.httpd);
	like(first, "127.0.0.1:", "it listens where the file says");
	char first_addr[64];
	snprintf(first_addr, sizeof(first_addr), "%s", first);

	write_file("log:\n  level: warn\nmetrics:\n  address: 127.0.0.2:0\n"
	           "kubernetes:\n  namespace: two\n");
	struct operator_config *before = op.config;
	operator_reload(&op);
	ok(op.config != before, "a good file is swapped in");
	is_str(op.config->namespace, "two", "with its new values");
	is_int(log_get_level(), LOG_WARN, "the new log level applies at once");
	is_int(reloads(&op, 1), 1, "a successful reload is counted");
	ok(strcmp(httpd_address(op.httpd), first_addr) != 0, "a new address moves the listener");

	write_file("log:\n  level: warn\nmetrics:\n  address: 127.0.0.2:0\n"
	           "kubernetes:\n  namespace: two\n  clusterDomain: other.example\n");
	operator_reload(&op);
	is_str(op.config->cluster_domain, "cluster.local",
	       "a changed cluster domain waits for the next start (names of existing objects)");
	is_int(reloads(&op, 1), 2, "the rest of that file is taken");

	write_file("metrics:\n  address: 127.0.0.1:0\nkubernetes:\n  namespace: three\n"
	           "  unknown: 1\n");
	before = op.config;
	operator_reload(&op);
	ok(op.config == before, "a bad file leaves the running configuration in place");
	is_str(op.config->namespace, "two", "with its values untouched");
	is_int(reloads(&op, 0), 1, "the failed reload is counted");
	is_int(reloads(&op, 1), 2, "and not as a success");

	/* An address that cannot be bound fails the reload before anything is swapped. */
	char busy[64];
	snprintf(busy, sizeof(busy), "%s", httpd_address(op.httpd));
	char text[256];
	struct httpd *other = httpd_new(op.base, "other");
	char lerr[256];
	ok(other && httpd_listen(other, "127.0.0.1:0", lerr, sizeof(lerr)) == 0, "a second server");
	snprintf(text, sizeof(text), "log:\n  level: debug\nmetrics:\n  address: \"%s\"\n",
	         httpd_address(other));
	write_file(text);
	before = op.config;
	operator_reload(&op);
	ok(op.config == before, "an address in use rejects the reload");
	is_str(httpd_address(op.httpd), busy, "and the listener stays where it was");
	is_int(log_get_level(), LOG_WARN, "and the log level too");
	is_int(reloads(&op, 0), 2, "counted as a failure");
	httpd_free(other);

	unlink(path);
	operator_reload(&op);
	ok(op.config == before, "a vanished file is a failed reload too");
	is_int(reloads(&op, 0), 3, "counted");

	struct evbuffer *out = evbuffer_new();
	metrics_write(op.metrics, out);
	size_t n = evbuffer_get_length(out);
	char *text_out = calloc(1, n + 1);
	evbuffer_remove(out, text_out, n);
	like(text_out, "timesten_operator_config_reloads_total{result=\"failure\"} 3",
	     "/metrics shows the failed reloads");
	like(text_out, "timesten_operator_config_last_reload_successful 0",
	     "/metrics shows the last reload failed");
	free(text_out);
	evbuffer_free(out);
	operator_cleanup(&op);
	close(logfd);
	log_setup(2, LOG_INFO, LOG_FMT_LOGFMT);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/operator.yaml", dir);
	test_build();
	test_reload();
	unlink(path);
	rmdir(dir);
	return done_testing();
}
