/*
 * Tests for src/common/metrics.c: the exposition of every kind of family against a golden
 * file, the registry's refusals, and promtool's verdict on the output.
 */
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "tap.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

static double
answer(void *arg)
{
	return *(double *)arg;
}

static char *
exposition(struct metrics *reg)
{
	struct evbuffer *out = evbuffer_new();
	size_t n;
	char *text;

	metrics_write(reg, out);
	n = evbuffer_get_length(out);
	text = calloc(1, n + 1);
	evbuffer_remove(out, text, n);
	evbuffer_free(out);
	return text;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	if (fread(text, 1, (size_t)n, fp) != (size_t)n) {
		free(text);
		text = NULL;
	}
	fclose(fp);
	return text;
}

static struct metrics *
sample_registry(double *fnval)
{
	static const double bounds[] = {0.005, 0.1, 1};
	struct metrics *reg = metrics_new();
	struct metric *m;

	m = metrics_counter(reg, "test_requests_total", "Requests by verb and code.", "verb,code");
	metric_add(metric_series(m, "GET", "200", NULL), 3);
	metric_add(metric_series(m, "PATCH", "409", NULL), 1);
	metric_add(metric_series(m, "GET", "200", NULL), 2);

	m = metrics_gauge(reg, "test_temperature_celsius", "A plain gauge.", NULL);
	metric_set(metric_series(m, NULL), -3.5);

	m = metrics_gauge(reg, "test_escaping", "Help with \\ backslash\nand newline.", "path");
	metric_set(metric_series(m, "a\"b\\c\nd", NULL), 1);

	m = metrics_gauge(reg, "test_special", "Special values.", "kind");
	metric_set(metric_series(m, "nan", NULL), NAN);
	metric_set(metric_series(m, "inf", NULL), INFINITY);
	metric_set(metric_series(m, "neginf", NULL), -INFINITY);
	metric_set(metric_series(m, "big", NULL), 1e20);
	metric_set(metric_series(m, "third", NULL), 1.0 / 3.0);
	metric_set(metric_series(m, "tenth", NULL), 0.1);

	m = metrics_histogram(reg, "test_latency_seconds", "A histogram.", "op", bounds, 3);
	struct metric_series *s = metric_series(m, "list", NULL);
	metric_observe(s, 0.001);
	metric_observe(s, 0.05);
	metric_observe(s, 0.05);
	metric_observe(s, 2);
	metric_series(m, "watch", NULL); /* present, never observed */

	metrics_gauge(reg, "test_unused", "Never given a value: not shown.", "x");
	metrics_func(reg, METRIC_GAUGE, "test_computed", "Computed at scrape time.", answer, fnval);
	return reg;
}

static void
test_golden(void)
{
	double fnval = 42;
	struct metrics *reg = sample_registry(&fnval);
	char golden[1024];
	char *got = exposition(reg), *want;

	snprintf(golden, sizeof(golden), "%s/t/unit/data/metrics.golden",
	         getenv("top_srcdir") ? getenv("top_srcdir") : ".");
	want = slurp(golden);
	ok(want != NULL, "the golden file is readable");
	is_str(got, want, "the exposition matches the golden file");

	fnval = 7;
	free(got);
	got = exposition(reg);
	like(got, "\ntest_computed 7\n", "a computed gauge is read at each scrape");

	/* promtool reads the output as Prometheus would. */
	const char *promtool = getenv("PROMTOOL");
	if (promtool == NULL || *promtool == '\0') {
		skip("promtool is not installed (Debian package prometheus)");
	} else {
		char tmp[] = "/tmp/metrics-XXXXXX", cmd[1200];
		int fd = mkstemp(tmp);
		ok(fd >= 0 && write(fd, got, strlen(got)) == (ssize_t)strlen(got),
		   "wrote the exposition");
		close(fd);
		snprintf(cmd, sizeof(cmd), "'%s' check metrics < %s 2>&1", promtool, tmp);
		FILE *p = popen(cmd, "r");
		char verdict[4096] = "";
		size_t n = p ? fread(verdict, 1, sizeof(verdict) - 1, p) : 0;
		verdict[n] = '\0';
		int rc = p ? pclose(p) : -1;
		if (!ok(rc == 0, "promtool check metrics accepts the exposition"))
			diag("%s", verdict);
		unlink(tmp);
	}
	free(got);
	free(want);
	metrics_free(reg);
}

static void
test_refusals(void)
{
	static const double bad_bounds[] = {1, 0.5};
	struct metrics *reg = metrics_new();
	struct metric *m;

	ok(metrics_counter(reg, "9starts_with_digit", "x", NULL) == NULL, "a bad name is refused");
	ok(metrics_counter(reg, "has-dash", "x", NULL) == NULL, "a dash in a name is refused");
	ok(metrics_gauge(reg, "ok_name", "x", "bad-label") == NULL, "a bad label name is refused");
	ok(metrics_gauge(reg, "ok_name2", "x", "__reserved") == NULL,
	   "a reserved label name is refused");
	ok(metrics_histogram(reg, "h_seconds", "x", "le", bad_bounds, 0) == NULL,
	   "a histogram label named le is refused");
	ok(metrics_histogram(reg, "h2_seconds", "x", NULL, bad_bounds, 2) == NULL,
	   "decreasing bounds are refused");
	m = metrics_counter(reg, "c_total", "x", "a,b");
	ok(m != NULL, "a good counter registers");
	ok(metrics_gauge(reg, "c_total", "x", NULL) == NULL, "a name registered twice is refused");
	ok(metric_series(m, "only-one", NULL) == NULL, "too few label values are refused");
	ok(metric_series(m, "1", "2", "3", NULL) == NULL, "too many label values are refused");

	struct metric_series *s = metric_series(m, "x", "y", NULL);
	metric_add(s, 2);
	metric_add(s, -1);
	metric_add(s, NAN);
	is_int(metric_value(s), 2, "a counter never goes down");
	metric_set(s, 10);
	is_int(metric_value(s), 2, "a counter cannot be set");
	ok(metric_series(m, "x", "y", NULL) == s, "the same labels give the same series");
	metric_series_remove(s);
	char *text = exposition(reg);
	ok(strstr(text, "c_total") == NULL, "a removed series is gone from the output");
	free(text);

	metric_add(NULL, 1);
	metric_observe(NULL, 1);
	metric_set(NULL, 1);
	ok(1, "NULL series are ignored safely");
	metrics_free(reg);
}

static void
test_values(void)
{
	char buf[40];

	is_str(metrics_format_value(buf, sizeof(buf), 3), "3", "integers have no decimals");
	is_str(metrics_format_value(buf, sizeof(buf), -0.25), "-0.25", "fractions are exact");
	is_str(metrics_format_value(buf, sizeof(buf), INFINITY), "+Inf", "+Inf");
	is_str(metrics_format_value(buf, sizeof(buf), -INFINITY), "-Inf", "-Inf");
	is_str(metrics_format_value(buf, sizeof(buf), NAN), "NaN", "NaN");
	is_str(metrics_format_value(buf, sizeof(buf), 1e-9), "1e-09", "tiny values");
	is_str(metrics_format_value(buf, sizeof(buf), 1.7e308), "1.7e+308", "huge values");
}

int
main(void)
{
	int devnull = open("/dev/null", O_WRONLY);

	log_setup(devnull, LOG_ERROR, LOG_FMT_LOGFMT); /* refusals log errors on purpose */
	test_golden();
	test_refusals();
	test_values();
	return done_testing();
}
