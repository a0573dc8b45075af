/*
 * Self-monitoring (see ttc/selfmon.h). The lag timer is re-armed each time it fires and
 * records how far past its due time it ran: a loop that never blocks keeps this near 0.
 */
#include "config.h"

#include <dirent.h>
#if defined(HAVE_MALLINFO2) || defined(HAVE_MALLOC_TRIM)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ttc/metrics.h"
#include "ttc/selfmon.h"

struct looplag {
	struct event *timer;
	struct timeval interval;
	struct timespec due;
	struct metric_series *hist;
	unsigned long samples;
	double max;
};

static const double lag_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,   0.25,   0.5,   1,    2.5};

static void
due_after(struct timespec *due, const struct timeval *tv)
{
	clock_gettime(CLOCK_MONOTONIC, due);
	due->tv_sec += tv->tv_sec;
	due->tv_nsec += tv->tv_usec * 1000L;
	if (due->tv_nsec >= 1000000000L) {
		due->tv_sec++;
		due->tv_nsec -= 1000000000L;
	}
}

static void
lag_tick(evutil_socket_t fd, short what, void *arg)
{
	struct looplag *l = arg;
	struct timespec now;
	double lag;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC, &now);
	lag = (double)(now.tv_sec - l->due.tv_sec) + (double)(now.tv_nsec - l->due.tv_nsec) / 1e9;
	if (lag < 0)
		lag = 0;
	metric_observe(l->hist, lag);
	l->samples++;
	if (lag > l->max)
		l->max = lag;
	due_after(&l->due, &l->interval);
	evtimer_add(l->timer, &l->interval);
}

struct looplag *
looplag_start(struct event_base *base, struct metrics *reg, const char *prefix, int interval_ms)
{
	struct looplag *l = calloc(1, sizeof(*l));
	char name[128];

	if (l == NULL)
		return NULL;
	snprintf(name, sizeof(name), "%s_event_loop_lag_seconds", prefix);
	l->hist = metric_series(
	    metrics_histogram(reg, name, "How late the event loop ran a periodic timer.", NULL,
	                      lag_bounds, sizeof(lag_bounds) / sizeof(lag_bounds[0])),
	    NULL);
	l->interval.tv_sec = interval_ms / 1000;
	l->interval.tv_usec = (interval_ms % 1000) * 1000;
	if ((l->timer = evtimer_new(base, lag_tick, l)) == NULL) {
		free(l);
		return NULL;
	}
	due_after(&l->due, &l->interval);
	evtimer_add(l->timer, &l->interval);
	return l;
}

void
looplag_free(struct looplag *l)
{
	if (l == NULL)
		return;
	event_free(l->timer);
	free(l);
}

unsigned long
looplag_samples(const struct looplag *l)
{
	return l->samples;
}

double
looplag_max(const struct looplag *l)
{
	return l->max;
}

/* Fields of /proc/self/stat after the command name: utime is 14, stime 15, starttime 22,
 * vsize 23, rss 24 (in pages). Returns the number of fields read. */
static int
read_stat(unsigned long long f[25])
{
	char buf[1024], *p;
	FILE *fp = fopen("/proc/self/stat", "r");
	size_t n;
	int i;

	if (fp == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p += 2; /* field 3, the state letter */
	p += 2;
	for (i = 4; i < 25 && *p; i++) {
		char *end;
		f[i] = strtoull(p, &end, 10);
		if (end == p)
			break;
		p = end + (*end == ' ');
	}
	return i;
}

static double
cpu_seconds(void *arg)
{
	unsigned long long f[25] = {0};

	(void)arg;
	if (read_stat(f) < 16)
		return 0;
	return (double)(f[14] + f[15]) / (double)sysconf(_SC_CLK_TCK);
}

static double
resident_bytes(void *arg)
{
	unsigned long long f[25] = {0};

	(void)arg;
	if (read_stat(f) < 25)
		return 0;
	return (double)f[24] * (double)sysconf(_SC_PAGESIZE);
}

static double
virtual_bytes(void *arg)
{
	unsigned long long f[25] = {0};

	(void)arg;
	if (read_stat(f) < 24)
		return 0;
	return (double)f[23];
}

static double
open_fds(void *arg)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;

	(void)arg;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream itself */
}

static double
max_fds(void *arg)
{
	struct rlimit rl;

	(void)arg;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	return (double)rl.rlim_cur;
}

int
procstats_register(struct metrics *reg)
{
	struct timespec rt, mono;
	unsigned long long f[25] = {0};
	double boot, start;

	/* Start time: boot time (realtime - monotonic-since-boot) + starttime ticks. */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &mono);
	boot = (double)(rt.tv_sec - mono.tv_sec) + (double)(rt.tv_nsec - mono.tv_nsec) / 1e9;
	start = read_stat(f) >= 23 ? boot + (double)f[22] / (double)sysconf(_SC_CLK_TCK)
	                           : (double)rt.tv_sec;
	metric_set(metric_series(metrics_gauge(reg, "process_start_time_seconds",
	                                       "Start time of the process since the Unix epoch in "
	                                       "seconds.",
	                                       NULL),
	                         NULL),
	           start);
	if (metrics_func(reg, METRIC_COUNTER, "process_cpu_seconds_total",
	                 "Total user and system CPU time spent in seconds.", cpu_seconds,
	                 NULL) == NULL ||
	    metrics_func(reg, METRIC_GAUGE, "process_resident_memory_bytes",
	                 "Resident memory size in bytes.", resident_bytes, NULL) == NULL ||
	    metrics_func(reg, METRIC_GAUGE, "process_virtual_memory_bytes",
	                 "Virtual memory size in bytes.", virtual_bytes, NULL) == NULL ||
	    metrics_func(reg, METRIC_GAUGE, "process_open_fds", "Number of open file descriptors.",
	                 open_fds, NULL) == NULL ||
	    metrics_func(reg, METRIC_GAUGE, "process_max_fds",
	                 "Maximum number of open file descriptors.", max_fds, NULL) == NULL)
		return -1;
	return 0;
}

#ifdef HAVE_MALLINFO2
static double
heap_inuse(void *arg)
{
	struct mallinfo2 mi = mallinfo2();

	(void)arg;
	return (double)mi.uordblks + (double)mi.hblkhd;
}

static double
heap_free(void *arg)
{
	struct mallinfo2 mi = mallinfo2();

	(void)arg;
	return (double)mi.fordblks;
}
#endif

int
heapstats_register(struct metrics *reg, const char *prefix)
{
#ifdef HAVE_MALLINFO2
	char name[160];

	snprintf(name, sizeof(name), "%s_heap_inuse_bytes", prefix);
	if (metrics_func(reg, METRIC_GAUGE, name,
	                 "Bytes malloc has handed out and not had back (mallinfo2).", heap_inuse,
	                 NULL) == NULL)
		return -1;
	snprintf(name, sizeof(name), "%s_heap_free_bytes", prefix);
	if (metrics_func(reg, METRIC_GAUGE, name,
	                 "Bytes malloc holds free for later allocations (mallinfo2).", heap_free,
	                 NULL) == NULL)
		return -1;
#else
	(void)reg;
	(void)prefix;
#endif
	return 0;
}

struct heaptrim {
	struct event *timer;
};

#ifdef HAVE_MALLOC_TRIM
static void
trim_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	malloc_trim(0);
}
#endif

struct heaptrim *
heaptrim_start(struct event_base *base, int interval_ms)
{
#ifdef HAVE_MALLOC_TRIM
	struct heaptrim *t = calloc(1, sizeof(*t));
	struct timeval tv = {interval_ms / 1000, (interval_ms % 1000) * 1000};

	if (t == NULL || (t->timer = event_new(base, -1, EV_PERSIST, trim_tick, t)) == NULL) {
		free(t);
		return NULL;
	}
	evtimer_add(t->timer, &tv);
	return t;
#else
	(void)base;
	(void)interval_ms;
	return NULL;
#endif
}

void
heaptrim_free(struct heaptrim *t)
{
	if (t == NULL)
		return;
	event_free(t->timer);
	free(t);
}
