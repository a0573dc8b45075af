/*
 * ktool's long-running commands: watch (an informer that prints every handler call and
 * dumps its cache, loop lag and delivery latencies on SIGUSR1), elect (a leader election
 * candidate) and event (records Events and waits for them to be written).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "kube/internal.h"
#include "kube/kube.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/selfmon.h"

#include "ktool.h"

static struct kube_informer *inf;
static struct kube_elector *el;
static struct kube_recorder *rec;
static struct event *poll_ev;
static const char *stamp_key;
static int quiet; /* count and time events, but do not print each one */
static double *lat;
static size_t nlat, caplat;
static yajl_val event_obj;
static int events_left;
static const char *ev_args[3];

/* -- watch ---------------------------------------------------------------------------------- */

static void
note_latency(yajl_val obj)
{
	const char *s = json_str(obj, "metadata", "annotations", stamp_key, NULL);
	struct timeval tv;
	double now_us;

	if (s == NULL)
		return;
	gettimeofday(&tv, NULL);
	now_us = (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
	if (nlat == caplat) {
		size_t n = caplat ? caplat * 2 : 1024;
		double *p = realloc(lat, n * sizeof(*p));
		if (p == NULL)
			return;
		lat = p;
		caplat = n;
	}
	lat[nlat++] = (now_us - strtod(s, NULL)) / 1000.0;
}

static void
handler(struct kube_informer *i, enum kube_event_type type, yajl_val obj, yajl_val old, void *arg)
{
	static const char *const names[] = {"ADDED", "UPDATED", "DELETED"};
	char key[600];

	(void)i;
	(void)old;
	(void)arg;
	if (stamp_key != NULL && type != KUBE_DELETED)
		note_latency(obj);
	if (quiet)
		return;
	kt_say("%s %s %s", names[type], kube_obj_key(obj, key, sizeof(key)), kube_obj_rv(obj));
}

static void
synced(struct kube_informer *i, void *arg)
{
	(void)arg;
	kt_say("SYNCED %zu %s", kube_informer_count(i), kube_informer_resource_version(i));
}

int
kt_watch(int argc, char **argv)
{
	static const struct option lo[] = {{"namespace", 1, 0, 'n'}, {"selector", 1, 0, 'l'},
	                                   {"fields", 1, 0, 'f'},    {"watch-timeout", 1, 0, 't'},
	                                   {"max-line", 1, 0, 'm'},  {"stamp", 1, 0, 's'},
	                                   {"quiet", 0, 0, 'q'},     {0, 0, 0, 0}};
	struct kube_informer_opts o = {0};
	int ch;

	optind = 0; /* GNU getopt: start over completely */
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o.ns = optarg;
			break;
		case 'l':
			o.label_selector = optarg;
			break;
		case 'f':
			o.field_selector = optarg;
			break;
		case 't':
			o.watch_timeout_s = atoi(optarg);
			break;
		case 'm':
			o.max_line = strtoul(optarg, NULL, 10);
			break;
		case 's':
			stamp_key = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			return -1;
		}
	}
	if (optind + 1 != argc || (o.res = kt_resource(argv[optind])) == NULL)
		return -1;
	o.handler = handler;
	o.synced = synced;
	if ((inf = kube_informer_new(kt.client, &o)) == NULL) {
		kt.status = 1;
		return 1;
	}
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
dump_entry(yajl_val obj, void *arg)
{
	struct jw *w = arg;
	char key[600];

	jw_kstr(w, kube_obj_key(obj, key, sizeof(key)), kube_obj_rv(obj));
}

static long
rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Writes DIR/cache.json ({key: resourceVersion}) and DIR/stats.json, then says DUMPED. */
static void
dump_watch(void)
{
	struct jw w;
	char *out, path[4096], tmp[4200];
	FILE *f;
	double p50 = 0, p99 = 0, pmax = 0;

	if (jw_init(&w) < 0)
		return;
	jw_obj(&w);
	kube_informer_foreach(inf, dump_entry, &w);
	jw_obj_end(&w);
	if ((out = jw_finish(&w, NULL)) != NULL) {
		snprintf(path, sizeof(path), "%s/cache.json", kt.dump_dir);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		if ((f = fopen(tmp, "w")) != NULL) {
			fputs(out, f);
			fclose(f);
			rename(tmp, path);
		}
		free(out);
	}
	if (nlat > 0) {
		double *s = malloc(nlat * sizeof(*s));
		if (s != NULL) {
			memcpy(s, lat, nlat * sizeof(*s));
			qsort(s, nlat, sizeof(*s), cmp_double);
			p50 = s[nlat / 2];
			p99 = s[(size_t)((double)(nlat - 1) * 0.99)];
			pmax = s[nlat - 1];
			free(s);
		}
	}
	snprintf(path, sizeof(path), "%s/stats.json", kt.dump_dir);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f,
		        "{\"objects\":%zu,\"synced\":%d,\"rss_kib\":%ld,\"lag_samples\":%lu,"
		        "\"lag_max_ms\":%.3f,\"latency_n\":%zu,\"latency_p50_ms\":%.3f,"
		        "\"latency_p99_ms\":%.3f,\"latency_max_ms\":%.3f}\n",
		        kube_informer_count(inf), kube_informer_synced(inf), rss_kib(),
		        looplag_samples(kt.lag), looplag_max(kt.lag) * 1000, nlat, p50, p99, pmax);
		fclose(f);
	}
	nlat = 0; /* each dump reports the latencies since the last one */
}

/* -- elect ---------------------------------------------------------------------------------- */

static void
el_started(struct kube_elector *e, void *arg)
{
	(void)e;
	(void)arg;
	kt_say("LEADING");
}

static void
el_stopped(struct kube_elector *e, void *arg)
{
	(void)e;
	(void)arg;
	kt_say("STOPPED");
}

static void
el_new_leader(struct kube_elector *e, const char *id, void *arg)
{
	(void)e;
	(void)arg;
	kt_say("NEWLEADER %s", *id ? id : "-");
}

int
kt_elect(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"identity", 1, 0, 'i'}, {"durations", 1, 0, 'd'}, {0, 0, 0, 0}};
	struct kube_elector_opts o = {0};
	int ch;

	optind = 0; /* GNU getopt: start over completely */
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'i':
			o.identity = optarg;
			break;
		case 'd':
			if (sscanf(optarg, "%d,%d,%d", &o.lease_duration_ms, &o.renew_deadline_ms,
			           &o.retry_period_ms) != 3)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind + 2 != argc)
		return -1;
	o.ns = argv[optind];
	o.name = argv[optind + 1];
	o.started = el_started;
	o.stopped = el_stopped;
	o.new_leader = el_new_leader;
	if ((el = kube_elector_new(kt.client, &o)) == NULL) {
		kt.status = 1;
		return 1;
	}
	kt_say("CANDIDATE %s", kube_elector_identity(el));
	return 0;
}

static void
released(void *arg)
{
	(void)arg;
	kt_say("RELEASED");
	kt_stop(0);
}

/* -- event ---------------------------------------------------------------------------------- */

static void
poll_events(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = {0, 50000};

	(void)fd;
	(void)what;
	(void)arg;
	while (events_left > 0) {
		events_left--;
		kube_event(rec, event_obj, ev_args[0], ev_args[1], "%s", ev_args[2]);
	}
	if (kube_recorder_pending(rec) == 0) {
		kt_say("EVENTS WRITTEN");
		kt_stop(0);
		return;
	}
	evtimer_add(poll_ev, &tv);
}

static void
got_object(struct kube_result *r, void *arg)
{
	struct timeval tv = {0, 0};

	(void)arg;
	if (r->err != KUBE_ERR_OK) {
		kt_say("ERROR %s %s", kube_err_name(r->err), r->message);
		kt_stop(1);
		return;
	}
	event_obj = kube_result_take(r);
	poll_ev = evtimer_new(kt.base, poll_events, NULL);
	evtimer_add(poll_ev, &tv);
}

int
kt_event(int argc, char **argv)
{
	const struct kube_resource *res = argc > 0 ? kt_resource(argv[0]) : NULL;
	struct kube_recorder_opts ro = {.component = "ktool", .host = "test-host"};

	if (res == NULL || argc < 6)
		return -1;
	ev_args[0] = argv[3];
	ev_args[1] = argv[4];
	ev_args[2] = argv[5];
	events_left = argc > 6 ? atoi(argv[6]) : 1;
	if ((rec = kube_recorder_new(kt.client, &ro)) == NULL ||
	    kube_get(kt.client, res, argv[1], argv[2], got_object, NULL) == NULL) {
		kt.status = 1;
		return 1;
	}
	return 0;
}

/* -- signals and the end -------------------------------------------------------------------- */

void
kt_dump(void)
{
	if (kt.dump_dir == NULL)
		return;
	if (inf != NULL)
		dump_watch();
	kt_dump_metrics();
	kt_say("DUMPED");
}

void
kt_shutdown(void)
{
	if (el != NULL) {
		kube_elector_release(el, released, NULL);
		return;
	}
	kt_stop(0);
}

void
kt_cleanup(void)
{
	kube_informer_free(inf);
	kube_elector_free(el);
	kube_recorder_free(rec);
	if (poll_ev != NULL)
		event_free(poll_ev);
	json_free(event_obj);
	free(lat);
}
