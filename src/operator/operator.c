/*
 * The operator's life: set-up, the one event loop, configuration reload on SIGHUP
 * (build, validate, then swap; keep the running configuration on any failure) and
 * graceful stop on SIGTERM/SIGINT.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "../kube/kube.h"
#include "controller.h"
#include "operator.h"
#include "ttc/httpd.h"
#include "ttc/log.h"
#include "ttc/metrics.h"
#include "ttc/selfmon.h"

#define LAG_INTERVAL_MS 100
#define TRIM_INTERVAL_MS 30000
#define LEASE_NAME "timestenclassic-operator"
#define STOP_DEADLINE_S 4 /* a graceful stop exits by then, lease released or not */
#define KUBE_RETRY_S 10   /* between tries to set up the Kubernetes client */

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct ttc_operator *op = arg;

	(void)what;
	if (sig == SIGHUP)
		operator_reload(op);
	else
		operator_stop(op, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int
register_metrics(struct ttc_operator *op)
{
	const char *P = OPERATOR_METRICS_PREFIX;
	char name[128];
	struct metric *m;

	snprintf(name, sizeof(name), "%s_build_info", P);
	m = metrics_gauge(op->metrics, name, "Build information; the value is always 1.",
	                  "version,libevent,openssl");
	metric_set(metric_series(m, PACKAGE_VERSION, event_get_version(),
	                         OpenSSL_version(OPENSSL_VERSION_STRING), NULL),
	           1);

	snprintf(name, sizeof(name), "%s_config_reloads_total", P);
	m = metrics_counter(op->metrics, name, "Configuration reloads by result.", "result");
	op->reloads_ok = metric_series(m, "success", NULL);
	op->reloads_failed = metric_series(m, "failure", NULL);

	snprintf(name, sizeof(name), "%s_config_last_reload_successful", P);
	op->last_reload_ok = metric_series(
	    metrics_gauge(op->metrics, name,
	                  "Whether the last configuration reload succeeded (1) or failed (0).",
	                  NULL),
	    NULL);
	metric_set(op->last_reload_ok, 1);

	snprintf(name, sizeof(name), "%s_config_last_reload_success_timestamp_seconds", P);
	op->last_reload_time = metric_series(
	    metrics_gauge(op->metrics, name,
	                  "When the configuration was last loaded successfully, since the Unix "
	                  "epoch in seconds.",
	                  NULL),
	    NULL);
	metric_set(op->last_reload_time, (double)time(NULL));

	if (op->reloads_ok == NULL || op->last_reload_ok == NULL || op->last_reload_time == NULL ||
	    procstats_register(op->metrics) < 0 || heapstats_register(op->metrics, P) < 0)
		return -1;
	if ((op->ctl_metrics = calloc(1, sizeof(*op->ctl_metrics))) == NULL ||
	    controller_metrics_register(op->metrics, op->ctl_metrics) < 0)
		return -1;
	op->lag = looplag_start(op->base, op->metrics, P, LAG_INTERVAL_MS);
	op->trim = heaptrim_start(op->base, TRIM_INTERVAL_MS);
	return op->lag ? 0 : -1;
}

int
operator_init(struct ttc_operator *op)
{
	char err[512];

	if ((op->base = event_base_new()) == NULL) {
		log_error("operator", "cannot create the event loop", NULL);
		return -1;
	}
	if ((op->metrics = metrics_new()) == NULL || register_metrics(op) < 0) {
		log_error("operator", "cannot set up metrics", NULL);
		return -1;
	}
	if ((op->httpd = httpd_new(op->base, "metrics")) == NULL || endpoints_register(op) < 0) {
		log_error("operator", "cannot set up the HTTP server", NULL);
		return -1;
	}
	if (httpd_listen(op->httpd, op->config->metrics_addr, err, sizeof(err)) < 0) {
		log_error("operator", "cannot serve metrics", "error", err, NULL);
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	op->sig_term = evsignal_new(op->base, SIGTERM, on_signal, op);
	op->sig_int = evsignal_new(op->base, SIGINT, on_signal, op);
	op->sig_hup = evsignal_new(op->base, SIGHUP, on_signal, op);
	if (op->sig_term == NULL || op->sig_int == NULL || op->sig_hup == NULL ||
	    evsignal_add(op->sig_term, NULL) < 0 || evsignal_add(op->sig_int, NULL) < 0 ||
	    evsignal_add(op->sig_hup, NULL) < 0) {
		log_error("operator", "cannot handle signals", NULL);
		return -1;
	}
	op->ready = 1;
	return 0;
}

static void
leading(struct kube_elector *e, void *arg)
{
	struct ttc_operator *op = arg;

	(void)e;
	log_info("operator", "leading: managing TimesTenClassic objects", "namespace",
	         op->namespace, NULL);
	op->controller = controller_start(op->base, op->kube, op->ctl_metrics, op->namespace);
	if (op->controller == NULL)
		log_error("operator", "cannot start the controller", NULL);
}

static void
not_leading(struct kube_elector *e, void *arg)
{
	struct ttc_operator *op = arg;

	(void)e;
	log_warn("operator", "not leading any more: hands off", NULL);
	controller_stop(op->controller);
	op->controller = NULL;
}

static void
new_leader(struct kube_elector *e, const char *identity, void *arg)
{
	(void)e;
	(void)arg;
	log_info("operator", "leader", "identity", identity, NULL);
}

static int
kube_start(struct ttc_operator *op)
{
	struct kube_config *kc;
	char err[512], identity[256];
	const char *pod = getenv("POD_NAME");

	if (op->config->kubeconfig[0] != '\0')
		kc = kube_config_from_file(op->config->kubeconfig, NULL, 0, err, sizeof(err));
	else
		kc = kube_config_in_cluster(NULL, err, sizeof(err));
	if (kc == NULL) {
		log_error("operator", "cannot configure the Kubernetes client", "error", err, NULL);
		return -1;
	}
	struct kube_client_opts ko = {0};
	ko.config = kc;
	ko.metrics = op->metrics;
	ko.metrics_prefix = OPERATOR_METRICS_PREFIX;
	ko.user_agent = OPERATOR_NAME "/" PACKAGE_VERSION;
	op->kube = kube_client_new(op->base, &ko, err, sizeof(err));
	kube_config_free(kc);
	if (op->kube == NULL) {
		log_error("operator", "cannot make the Kubernetes client", "error", err, NULL);
		return -1;
	}
	op->namespace = strdup(op->config->namespace[0] ? op->config->namespace
	                                                : kube_client_namespace(op->kube));
	snprintf(identity, sizeof(identity), "%s_%ld", pod && *pod ? pod : "operator",
	         (long)getpid());
	struct kube_elector_opts eo = {0};
	eo.ns = op->namespace;
	eo.name = LEASE_NAME;
	eo.identity = identity;
	eo.started = leading;
	eo.stopped = not_leading;
	eo.new_leader = new_leader;
	eo.arg = op;
	if ((op->elector = kube_elector_new(op->kube, &eo)) == NULL) {
		log_error("operator", "cannot campaign for leadership", NULL);
		return -1;
	}
	log_info("operator", "connected", "namespace", op->namespace, "identity", identity, NULL);
	return 0;
}

static void
kube_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	operator_kube_start(arg);
}

void
operator_kube_start(struct ttc_operator *op)
{
	struct timeval later = {KUBE_RETRY_S, 0};

	if (op->stopping || kube_start(op) == 0)
		return;
	operator_kube_stop(op);
	if (op->kube_retry == NULL)
		op->kube_retry = evtimer_new(op->base, kube_retry, op);
	if (op->kube_retry != NULL)
		evtimer_add(op->kube_retry, &later);
	log_info("operator", "will try again", "seconds", LOG_I(KUBE_RETRY_S), NULL);
}

void
operator_kube_stop(struct ttc_operator *op)
{
	controller_stop(op->controller);
	op->controller = NULL;
	if (op->elector)
		kube_elector_free(op->elector);
	op->elector = NULL;
	if (op->kube)
		kube_client_free(op->kube);
	op->kube = NULL;
	free(op->namespace);
	op->namespace = NULL;
}

void
operator_run(struct ttc_operator *op)
{
	log_info("operator", "started", "version", PACKAGE_VERSION, "config",
	         op->config_path ? op->config_path : "", "namespace", op->config->namespace,
	         "metrics", httpd_address(op->httpd), NULL);
	operator_kube_start(op);
	event_base_dispatch(op->base);
	log_info("operator", "stopped", NULL);
}

static void
reload_failed(struct ttc_operator *op, const char *err)
{
	log_error("config", "reload rejected; the running configuration stays", "error", err, NULL);
	metric_add(op->reloads_failed, 1);
	metric_set(op->last_reload_ok, 0);
}

void
operator_reload(struct ttc_operator *op)
{
	struct operator_config *next;
	char err[512];

	if (op->config_path == NULL) {
		log_info("config", "SIGHUP ignored: started without --config", NULL);
		return;
	}
	log_info("config", "reloading", "file", op->config_path, NULL);
	if ((next = config_build(op->config_path, &op->overrides, err, sizeof(err))) == NULL) {
		reload_failed(op, err);
		return;
	}
	/* The one setting that can fail to apply: move the listener before the swap. */
	if (strcmp(next->metrics_addr, op->config->metrics_addr) != 0 &&
	    httpd_listen(op->httpd, next->metrics_addr, err, sizeof(err)) < 0) {
		config_free(next);
		reload_failed(op, err);
		return;
	}
	if (strcmp(next->cluster_domain, op->config->cluster_domain) != 0) {
		/* The names in existing objects' certificates and schemes end in it. */
		log_warn("config", "kubernetes.clusterDomain changes only at the next start",
		         "running", op->config->cluster_domain, "configured", next->cluster_domain,
		         NULL);
		char *keep = strdup(op->config->cluster_domain);
		if (keep == NULL) {
			config_free(next);
			reload_failed(op, "out of memory");
			return;
		}
		free(next->cluster_domain);
		next->cluster_domain = keep;
	}
	int changes = config_log_changes(op->config, next);
	int reconnect = strcmp(next->namespace, op->config->namespace) != 0 ||
	                strcmp(next->kubeconfig, op->config->kubeconfig) != 0;
	config_free(op->config);
	op->config = next;
	if (reconnect) {
		/* Another cluster or namespace: start over there. */
		operator_kube_stop(op);
		operator_kube_start(op);
	}
	log_set_level(next->log_level);
	log_set_format(next->log_format);
	metric_add(op->reloads_ok, 1);
	metric_set(op->last_reload_ok, 1);
	metric_set(op->last_reload_time, (double)time(NULL));
	log_info("config", "reloaded", "file", op->config_path, "changes", LOG_I(changes), NULL);
}

static void
released(void *arg)
{
	struct ttc_operator *op = arg;

	event_base_loopexit(op->base, NULL);
}

static void
stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct ttc_operator *op = arg;

	(void)fd;
	(void)what;
	log_warn("operator", "stopping without releasing the lease: no answer in time", NULL);
	event_base_loopexit(op->base, NULL);
}

void
operator_stop(struct ttc_operator *op, const char *why)
{
	struct timeval deadline = {STOP_DEADLINE_S, 0};

	if (op->stopping)
		return;
	op->stopping = 1;
	log_info("operator", "stopping", "reason", why, NULL);
	op->ready = 0;
	httpd_close(op->httpd);
	controller_stop(op->controller);
	op->controller = NULL;
	if (op->elector == NULL) {
		event_base_loopexit(op->base, NULL);
		return;
	}
	/* Give the lease up so that another replica takes over at once. */
	op->stop_timer = evtimer_new(op->base, stop_deadline, op);
	if (op->stop_timer)
		evtimer_add(op->stop_timer, &deadline);
	kube_elector_release(op->elector, released, op);
}

void
operator_cleanup(struct ttc_operator *op)
{
	if (op->sig_term)
		event_free(op->sig_term);
	if (op->sig_int)
		event_free(op->sig_int);
	if (op->sig_hup)
		event_free(op->sig_hup);
	looplag_free(op->lag);
	heaptrim_free(op->trim);
	operator_kube_stop(op);
	if (op->stop_timer)
		event_free(op->stop_timer);
	if (op->kube_retry)
		event_free(op->kube_retry);
	free(op->ctl_metrics);
	httpd_free(op->httpd);
	metrics_free(op->metrics);
	config_free(op->config);
	if (op->base)
		event_base_free(op->base);
	memset(op, 0, sizeof(*op));
}
