/*
 * ktool's shared state and its commands that keep running (watch, elect, event).
 */
#ifndef KTOOL_H
#define KTOOL_H

struct event_base;
struct metrics;
struct looplag;
struct kube_client;
struct kube_resource;

struct ktool {
	struct event_base *base;
	struct metrics *metrics;
	struct looplag *lag;
	struct kube_client *client;
	const char *dump_dir;
	int timeout_ms;
	int status;
	double t0;
};

extern struct ktool kt;

double kt_ms(void);
void kt_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const struct kube_resource *kt_resource(const char *s);
void kt_dump_metrics(void);
void kt_stop(int status);

/* ktool_cmds.c */
int kt_watch(int argc, char **argv);
int kt_elect(int argc, char **argv);
int kt_event(int argc, char **argv);
/* SIGUSR1: write the state of the running command to the dump directory. */
void kt_dump(void);
/* SIGTERM/SIGINT: stop the running command gracefully. */
void kt_shutdown(void);
void kt_cleanup(void);

#endif
