/*
 * Metrics registry and text exposition (format 0.0.4). Families keep their registration
 * order and members their creation order, so the output is stable for golden tests.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>

#include "ttc/log.h"
#include "ttc/metrics.h"

#define MAX_LABELS 8

struct metric_series {
	TAILQ_ENTRY(metric_series) entry;
	struct metric *family;
	char *values[MAX_LABELS];
	double value;      /* counter, gauge; histogram sum */
	uint64_t count;    /* histogram */
	uint64_t *buckets; /* histogram, per bound, not cumulative */
};

TAILQ_HEAD(series_list, metric_series);

struct metric {
	TAILQ_ENTRY(metric) entry;
	char *name;
	char *help;
	enum metric_type type;
	size_t nlabels;
	char *labels[MAX_LABELS];
	double *bounds;
	size_t nbounds;
	double (*fn)(void *);
	void *fn_arg;
	struct series_list series;
};

TAILQ_HEAD(metric_list, metric);

struct metrics {
	struct metric_list families;
};

struct metrics *
metrics_new(void)
{
	struct metrics *reg = calloc(1, sizeof(*reg));

	if (reg != NULL)
		TAILQ_INIT(&reg->families);
	return reg;
}

static void
series_free(struct metric_series *s)
{
	for (size_t i = 0; i < MAX_LABELS; i++)
		free(s->values[i]);
	free(s->buckets);
	free(s);
}

static void
family_free(struct metric *m)
{
	struct metric_series *s;

	while ((s = TAILQ_FIRST(&m->series)) != NULL) {
		TAILQ_REMOVE(&m->series, s, entry);
		series_free(s);
	}
	for (size_t i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->name);
	free(m->help);
	free(m->bounds);
	free(m);
}

void
metrics_free(struct metrics *reg)
{
	struct metric *m;

	if (reg == NULL)
		return;
	while ((m = TAILQ_FIRST(&reg->families)) != NULL) {
		TAILQ_REMOVE(&reg->families, m, entry);
		family_free(m);
	}
	free(reg);
}

static int
valid_name(const char *s, int colon_ok)
{
	if (*s == '\0')
		return 0;
	for (const char *p = s; *p; p++) {
		int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		            (colon_ok && *p == ':');
		if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
			return 0;
	}
	return 1;
}

static struct metric *
family_new(struct metrics *reg, const char *name, const char *help, enum metric_type type,
           const char *labels)
{
	struct metric *m;
	char *list, *save = NULL;

	if (reg == NULL)
		return NULL;
	if (!valid_name(name, 1)) {
		log_error("metrics", "invalid metric name", "name", name, NULL);
		return NULL;
	}
	TAILQ_FOREACH(m, &reg->families, entry)
	if (strcmp(m->name, name) == 0) {
		log_error("metrics", "metric registered twice", "name", name, NULL);
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	TAILQ_INIT(&m->series);
	m->type = type;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	if (labels != NULL && (list = strdup(labels)) != NULL) {
		for (char *l = strtok_r(list, ",", &save); l; l = strtok_r(NULL, ",", &save)) {
			if (m->nlabels == MAX_LABELS || !valid_name(l, 0) ||
			    strncmp(l, "__", 2) == 0 ||
			    (type == METRIC_HISTOGRAM && strcmp(l, "le") == 0)) {
				log_error("metrics", "invalid label name", "name", name, "label", l,
				          NULL);
				free(list);
				family_free(m);
				return NULL;
			}
			m->labels[m->nlabels++] = strdup(l);
		}
		free(list);
	}
	TAILQ_INSERT_TAIL(&reg->families, m, entry);
	return m;
}

struct metric *
metrics_counter(struct metrics *reg, const char *name, const char *help, const char *labels)
{
	return family_new(reg, name, help, METRIC_COUNTER, labels);
}

struct metric *
metrics_gauge(struct metrics *reg, const char *name, const char *help, const char *labels)
{
	return family_new(reg, name, help, METRIC_GAUGE, labels);
}

struct metric *
metrics_histogram(struct metrics *reg, const char *name, const char *help, const char *labels,
                  const double *bounds, size_t nbounds)
{
	struct metric *m;

	for (size_t i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
			log_error("metrics", "histogram bounds must increase", "name", name, NULL);
			return NULL;
		}
	if ((m = family_new(reg, name, help, METRIC_HISTOGRAM, labels)) == NULL)
		return NULL;
	m->nbounds = nbounds;
	m->bounds = calloc(nbounds ? nbounds : 1, sizeof(double));
	memcpy(m->bounds, bounds, nbounds * sizeof(double));
	return m;
}

struct metric *
metrics_func(struct metrics *reg, enum metric_type type, const char *name, const char *help,
             double (*fn)(void *), void *arg)
{
	struct metric *m = NULL;

	if (type != METRIC_HISTOGRAM)
		m = family_new(reg, name, help, type, NULL);

	if (m != NULL) {
		m->fn = fn;
		m->fn_arg = arg;
	}
	return m;
}

struct metric_series *
metric_series(struct metric *m, ...)
{
	struct metric_series *s;
	const char *values[MAX_LABELS + 1];
	size_t n = 0;
	va_list ap;

	if (m == NULL)
		return NULL;
	va_start(ap, m);
	for (const char *v; n <= MAX_LABELS && (v = va_arg(ap, const char *)) != NULL;)
		values[n++] = v;
	va_end(ap);
	if (n != m->nlabels) {
		log_error("metrics", "wrong number of label values", "name", m->name, NULL);
		return NULL;
	}
	TAILQ_FOREACH(s, &m->series, entry)
	{
		size_t i;
		for (i = 0; i < n && strcmp(s->values[i], values[i]) == 0; i++)
			;
		if (i == n)
			return s;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->family = m;
	for (size_t i = 0; i < n; i++)
		s->values[i] = strdup(values[i]);
	if (m->type == METRIC_HISTOGRAM)
		s->buckets = calloc(m->nbounds ? m->nbounds : 1, sizeof(uint64_t));
	TAILQ_INSERT_TAIL(&m->series, s, entry);
	return s;
}

void
metric_series_remove(struct metric_series *s)
{
	if (s == NULL)
		return;
	TAILQ_REMOVE(&s->family->series, s, entry);
	series_free(s);
}

void
metric_add(struct metric_series *s, double v)
{
	if (s == NULL || s->family->type == METRIC_HISTOGRAM)
		return;
	if (s->family->type == METRIC_COUNTER && !(v >= 0))
		return; /* counters only go up */
	s->value += v;
}

void
metric_set(struct metric_series *s, double v)
{
	if (s != NULL && s->family->type == METRIC_GAUGE)
		s->value = v;
}

void
metric_observe(struct metric_series *s, double v)
{
	if (s == NULL || s->family->type != METRIC_HISTOGRAM)
		return;
	for (size_t i = 0; i < s->family->nbounds; i++)
		if (v <= s->family->bounds[i]) {
			s->buckets[i]++;
			break;
		}
	s->count++;
	s->value += v;
}

double
metric_value(const struct metric_series *s)
{
	if (s == NULL)
		return NAN;
	return s->family->type == METRIC_HISTOGRAM ? (double)s->count : s->value;
}

const char *
metrics_format_value(char *buf, size_t n, double v)
{
	if (isnan(v))
		snprintf(buf, n, "NaN");
	else if (isinf(v))
		snprintf(buf, n, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, n, "%.0f", v);
	else {
		/* The shortest of %.15g .. %.17g that reads back as the same double. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, n, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
	return buf;
}

/* Escapes HELP text (\\ and \n) or, with quote set, a label value (also \"). */
static void
add_escaped(struct evbuffer *out, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			evbuffer_add(out, "\\\\", 2);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", 2);
		else if (quote && *s == '"')
			evbuffer_add(out, "\\\"", 2);
		else
			evbuffer_add(out, s, 1);
	}
}

/* name{labels[,le="x"]} value\n */
static void
add_sample(struct evbuffer *out, const struct metric *m, const char *suffix,
           const struct metric_series *s, const char *le, double v)
{
	char num[40];
	int any = 0;

	evbuffer_add_printf(out, "%s%s", m->name, suffix);
	for (size_t i = 0; s != NULL && i < m->nlabels; i++) {
		evbuffer_add_printf(out, "%s%s=\"", any++ ? "," : "{", m->labels[i]);
		add_escaped(out, s->values[i], 1);
		evbuffer_add(out, "\"", 1);
	}
	if (le != NULL)
		evbuffer_add_printf(out, "%sle=\"%s\"", any++ ? "," : "{", le);
	evbuffer_add_printf(out, "%s %s\n", any ? "}" : "",
	                    metrics_format_value(num, sizeof(num), v));
}

static void
write_family(struct evbuffer *out, const struct metric *m)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	const struct metric_series *s;
	char le[40];

	if (m->fn == NULL && TAILQ_EMPTY(&m->series))
		return; /* a family nobody has used yet has no samples to show */
	evbuffer_add_printf(out, "# HELP %s ", m->name);
	add_escaped(out, m->help, 0);
	evbuffer_add_printf(out, "\n# TYPE %s %s\n", m->name, type_names[m->type]);
	if (m->fn != NULL) {
		add_sample(out, m, "", NULL, NULL, m->fn(m->fn_arg));
		return;
	}
	TAILQ_FOREACH(s, &m->series, entry)
	{
		if (m->type != METRIC_HISTOGRAM) {
			add_sample(out, m, "", s, NULL, s->value);
			continue;
		}
		uint64_t cumulative = 0;
		for (size_t i = 0; i < m->nbounds; i++) {
			cumulative += s->buckets[i];
			metrics_format_value(le, sizeof(le), m->bounds[i]);
			add_sample(out, m, "_bucket", s, le, (double)cumulative);
		}
		add_sample(out, m, "_bucket", s, "+Inf", (double)s->count);
		add_sample(out, m, "_sum", s, NULL, s->value);
		add_sample(out, m, "_count", s, NULL, (double)s->count);
	}
}

int
metrics_write(struct metrics *reg, struct evbuffer *out)
{
	const struct metric *m;

	if (reg == NULL || out == NULL)
		return -1;
	TAILQ_FOREACH(m, &reg->families, entry)
	write_family(out, m);
	return 0;
}
