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

#include <event2/event.h>
#include <openssl/crypto.h>

#include "operator.h"
#include "ttc/httpd.h"
#include "ttc/log.h"
#include "ttc/metrics.h"
#include "ttc/selfmon.h"

#define LAG_INTERVAL_MS 100

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct operator *op = arg;

	(void)what;
	if (sig == SIGHUP)
		operator_reload(op);
	else
		operator_stop(op, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int
register_metrics(struct operator *op)
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
	    procstats_register(op->metrics) < 0)
		return -1;
	op->lag = looplag_start(op->base, op->metrics, P, LAG_INTERVAL_MS);
	return op->lag ? 0 : -1;
}

int
operator_init(struct operator *op)
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

void
operator_run(struct operator *op)
{
	log_info("operator", "started", "version", PACKAGE_VERSION, "config",
		 op->config_path ? op->config_path : "", "namespace", op->config->namespace,
		 "metrics", httpd_address(op->httpd), NULL);
	event_base_dispatch(op->base);
	log_info("operator", "stopped", NULL);
}

static void
reload_failed(struct operator *op, const char *err)
{
	log_error("config", "reload rejected; the running configuration stays", "error", err,
		  NULL);
	metric_add(op->reloads_failed, 1);
	metric_set(op->last_reload_ok, 0);
}

void
operator_reload(struct operator *op)
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
	int changes = config_log_changes(op->config, next);
	config_free(op->config);
	op->config = next;
	log_set_level(next->log_level);
	log_set_format(next->log_format);
	metric_add(op->reloads_ok, 1);
	metric_set(op->last_reload_ok, 1);
	metric_set(op->last_reload_time, (double)time(NULL));
	log_info("config", "reloaded", "file", op->config_path, "changes", LOG_I(changes), NULL);
}

void
operator_stop(struct operator *op, const char *why)
{
	log_info("operator", "stopping", "reason", why, NULL);
	op->ready = 0;
	httpd_close(op->httpd);
	event_base_loopexit(op->base, NULL);
}

void
operator_cleanup(struct operator *op)
{
	if (op->sig_term)
		event_free(op->sig_term);
	if (op->sig_int)
		event_free(op->sig_int);
	if (op->sig_hup)
		event_free(op->sig_hup);
	looplag_free(op->lag);
	httpd_free(op->httpd);
	metrics_free(op->metrics);
	config_free(op->config);
	if (op->base)
		event_base_free(op->base);
	memset(op, 0, sizeof(*op));
}
