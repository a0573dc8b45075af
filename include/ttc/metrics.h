/*
 * A small Prometheus metrics registry: counters, gauges and histograms with labels,
 * written in the text exposition format 0.0.4.
 */
#ifndef TTC_METRICS_H
#define TTC_METRICS_H

#include <stddef.h>

struct evbuffer;

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct metrics;       /* a registry */
struct metric;        /* a family: name, help, type, label names */
struct metric_series; /* one member of a family, for one set of label values */

struct metrics *metrics_new(void);
void metrics_free(struct metrics *reg);

/*
 * Registers a family. labels is a comma-separated list of label names ("verb,code") or
 * NULL. Returns NULL (and logs why) for an invalid or duplicate name: a programming error.
 */
struct metric *metrics_counter(struct metrics *reg, const char *name, const char *help,
                               const char *labels);
struct metric *metrics_gauge(struct metrics *reg, const char *name, const char *help,
                             const char *labels);
/* bounds: finite, strictly increasing upper bounds; the +Inf bucket is implicit. */
struct metric *metrics_histogram(struct metrics *reg, const char *name, const char *help,
                                 const char *labels, const double *bounds, size_t nbounds);
/* An unlabelled counter or gauge whose value fn(arg) computes at each scrape. */
struct metric *metrics_func(struct metrics *reg, enum metric_type type, const char *name,
                            const char *help, double (*fn)(void *), void *arg);

/*
 * The member of a family for the given label values (as many as the family has label
 * names, then NULL), created on first use. Returns NULL on a count mismatch. The pointer
 * stays valid until metric_series_remove() or metrics_free(), so callers may keep it.
 */
struct metric_series *metric_series(struct metric *m, ...) __attribute__((sentinel));
void metric_series_remove(struct metric_series *s);

/* All accept NULL (a failed registration) and then do nothing. */
void metric_add(struct metric_series *s, double v);     /* counters: v >= 0; gauges */
void metric_set(struct metric_series *s, double v);     /* gauges */
void metric_observe(struct metric_series *s, double v); /* histograms */
double metric_value(const struct metric_series *s);     /* counter/gauge value; histogram count */

/* Writes the whole registry in text format 0.0.4; returns 0 or -1. */
int metrics_write(struct metrics *reg, struct evbuffer *out);

/* Formats a sample value as Prometheus spells it (+Inf, -Inf, NaN, shortest round trip). */
const char *metrics_format_value(char *buf, size_t n, double v);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
