/*
 * The operator's world: its configuration, and the one context struct that holds the
 * event loop and everything hanging off it.
 */
#ifndef OPERATOR_H
#define OPERATOR_H

#include <stddef.h>

struct event;
struct event_base;
struct controller;
struct httpd;
struct kube_client;
struct kube_elector;
struct looplag;
struct metric_series;
struct metrics;

#define OPERATOR_NAME "timestenclassic-operator"
#define OPERATOR_METRICS_PREFIX "timesten_operator"

/* What the operator runs with. Strings are malloc'd; "" means unset. */
struct operator_config {
	int log_level;      /* enum log_level */
	int log_format;     /* enum log_format */
	char *metrics_addr; /* HOST:PORT of /metrics, /healthz, /readyz */
	char *namespace;    /* namespace watched; "" = the operator's own */
	char *kubeconfig;   /* path; "" = in-cluster configuration */
	char *cluster_domain; /* the cluster's DNS domain, "cluster.local" by default */
};

/* Command-line settings, which win over the file: -1 / NULL where not given. */
struct config_overrides {
	int log_level;
	int log_format;
	const char *metrics_addr;
	const char *namespace;
	const char *kubeconfig;
	const char *cluster_domain;
};

struct ttc_operator {
	struct event_base *base;
	const char *config_path; /* NULL: no file, defaults and flags only */
	struct config_overrides overrides;
	struct operator_config *config;

	struct metrics *metrics;
	struct httpd *httpd;
	struct looplag *lag;
	struct heaptrim *trim;
	struct event *sig_term, *sig_int, *sig_hup;
	struct metric_series *reloads_ok, *reloads_failed, *last_reload_ok, *last_reload_time;
	int ready;

	/* Kubernetes: the client, leader election, and the controller while leading. */
	struct kube_client *kube;
	struct kube_elector *elector;
	struct controller *controller;
	struct controller_metrics *ctl_metrics;
	char *namespace; /* watched */
	int stopping;
	struct event *stop_timer; /* the exit deadline of a graceful stop */
	struct event *kube_retry; /* the next try to connect after a failure */
};

/* config.c */
struct operator_config *config_build(const char *path, const struct config_overrides *ov, char *err,
                                     size_t errlen);
/* The same with the YAML text in memory (not NUL-terminated), named name in errors. */
struct operator_config *config_build_text(const char *name, const char *text, size_t len,
                                          const struct config_overrides *ov, char *err,
                                          size_t errlen);
void config_free(struct operator_config *c);
/* Logs each setting that differs between old and new; returns how many differ. */
int config_log_changes(const struct operator_config *old, const struct operator_config *new);

/* operator.c */
int operator_init(struct ttc_operator *op);
/* Connects to Kubernetes and campaigns for leadership; on failure (logged) tries again
 * every few seconds. */
void operator_kube_start(struct ttc_operator *op);
/* Drops the controller, the election and the client. */
void operator_kube_stop(struct ttc_operator *op);
void operator_run(struct ttc_operator *op);
void operator_reload(struct ttc_operator *op);
void operator_stop(struct ttc_operator *op, const char *why);
void operator_cleanup(struct ttc_operator *op);

/* endpoints.c */
int endpoints_register(struct ttc_operator *op);

#endif
