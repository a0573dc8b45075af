/*
 * The self-fencing lease of the active (docs/fencing.md). POST /v1/lease {"seconds": L}
 * grants it for L seconds from its receipt (agent's monotonic clock). If no renewal comes,
 * at F seconds before it runs out (F = min(5, L/2)) the agent makes the database stop
 * taking writes by itself, unless its state shows it is not the active: /tmp/active
 * removed, ttRepDeactivate, ttAdmin -close, ttAdmin -disconnect -immediate. If
 * ttRepDeactivate has not succeeded by F/2 before the end, the daemon is killed. A lease
 * never granted never runs out: the agent behaves as without one.
 *
 * The agent's own timers cannot act while the agent is stopped (SIGSTOP, a hang) and the
 * daemon runs on. So a watchdog process, forked at start, holds the latest deadline too
 * (F/4 before the end) and kills the daemon when the agent has not told it, by then, that
 * the database took no writes any more (deactivated, killed, not the active, withdrawn).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <event2/event.h>

#include "ops.h"
#include "ttc/json.h"

#define LEASE_MAX_S 3600
#define LEASE_FENCE_S 5.0 /* fencing starts this long before the end, at most L/2 */

struct lease {
	long long seconds; /* the last grant; 0: never granted */
	double expiry;     /* op_now_s() at which it runs out */
	int fencing;       /* the self-fence of this expiry started */
	int fence_running; /* its operation has not ended yet */
	int deactivated;   /* ttRepDeactivate succeeded */
	int killed;        /* the daemon was killed */
	struct event *fence_timer, *force_timer;
	char outcome[256];
	pid_t watchdog;  /* the watchdog process; 0: none */
	int watchdog_fd; /* the write end of its pipe; -1: none */
};

static void watchdog_set(struct agent *a, double deadline);
static int watchdog_start(struct agent *a);

static double
fence_lead(const struct lease *l)
{
	double half = (double)l->seconds / 2;

	return half < LEASE_FENCE_S ? half : LEASE_FENCE_S;
}

static void
arm(struct event *ev, double at)
{
	double d = at - op_now_s();
	struct timeval tv;

	if (d < 0)
		d = 0;
	tv.tv_sec = (time_t)d;
	tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev, &tv);
}

/* ---- the self-fence: an operation of the agent's own ---- */

static void
step_self_fence(struct op *op, const struct child_result *last)
{
	struct lease *l = op->a->lease;
	char pod[600], host[4200], *sql;

	switch (op->stage) {
	case 0:
		snprintf(pod, sizeof(pod), "/tmp/active");
		agent_path(op->a, pod, host, sizeof(host));
		if (unlink(host) < 0 && errno != ENOENT)
			log_warn("lease", "cannot remove /tmp/active", "error", strerror(errno),
			         NULL);
		if ((sql = sqltpl_render(op->a, "repidle.sql", NULL)) == NULL) {
			op_fail(op, 500, "InternalError", "out of memory");
			return;
		}
		op_isql(op, sql, NULL, 0);
		free(sql);
		return;
	case 1:
		if (last->exit_code == 0 && !last->timed_out && !parse_isql_failed(last->output)) {
			l->deactivated = 1;
			watchdog_set(op->a, 0);
		}
		op_ttadmin(op, "-close", NULL);
		return;
	case 2: {
		const char *argv[] = {"ttAdmin", "-disconnect", "-immediate", op->dsn, NULL};
		op_run(op, NULL, argv, NULL, 0);
		return;
	}
	default:
		op_succeed(op, 1, "%s",
		           l->deactivated ? "the database was deactivated (IDLE)"
		                          : "ttRepDeactivate failed");
	}
}

static const struct op_def self_fence_def = {
    "selfFence", OP_NO_PROBE, NULL, step_self_fence,
    "the lease ran out: /tmp/active removed, ttRepDeactivate, close, disconnect"};

static void
self_fence_done(struct agent *a)
{
	struct lease *l = a->lease;

	l->fence_running = 0;
	snprintf(l->outcome, sizeof(l->outcome), "%s",
	         l->killed ? "the daemon was killed"
	         : l->deactivated
	             ? "the database was deactivated: it takes no writes until it is made ACTIVE"
	             : "ttRepDeactivate failed; the daemon is killed at the deadline");
	log_warn("lease", "self-fence done", "outcome", l->outcome, NULL);
}

/* The daemon killed (its pid from $TIMESTEN_HOME/info/timestend.pid, a process named
 * timestend): its pid, or -1. */
static long
daemon_kill(struct agent *a)
{
	char pod[4200], host[4300], *text;
	long pid;

	snprintf(pod, sizeof(pod), "%s/info/timestend.pid", a->cfg.timesten_home);
	agent_path(a, pod, host, sizeof(host));
	if ((text = agent_read_file(host, 64, NULL)) == NULL) {
		log_warn("lease", "no daemon pid file; nothing to kill", "path", pod, NULL);
		return -1;
	}
	pid = strtol(text, NULL, 10);
	free(text);
	/* A pid file outliving its daemon may name another process now. */
	snprintf(host, sizeof(host), "/proc/%ld/cmdline", pid);
	if (pid > 1 && (text = agent_read_file(host, 4096, NULL)) != NULL) {
		const char *slash = strrchr(text, '/');
		int daemon = strncmp(slash ? slash + 1 : text, "timestend", 9) == 0;
		free(text);
		if (!daemon) {
			log_warn("lease",
			         "the daemon's pid file names another process; nothing to kill",
			         "pid", LOG_I(pid), NULL);
			return -1;
		}
	}
	if (pid <= 1 || kill((pid_t)pid, SIGKILL) < 0) {
		log_error("lease", "cannot kill the daemon", "pid", LOG_I(pid), "error",
		          strerror(errno), NULL);
		return -1;
	}
	return pid;
}

/* ---- the watchdog ---- */

/* Tells the watchdog the deadline (op_now_s(); 0: none). A watchdog that does not take it
 * (gone, or stopped with its pipe full) is replaced: killed, and a new one started. */
static void
watchdog_set(struct agent *a, double deadline)
{
	struct lease *l = a->lease;

	if (l->watchdog_fd >= 0 &&
	    write(l->watchdog_fd, &deadline, sizeof(deadline)) == (ssize_t)sizeof(deadline))
		return;
	int full = l->watchdog_fd >= 0 && errno == EAGAIN;
	log_error("lease", "the lease watchdog does not take deadlines; starting it again", "error",
	          l->watchdog_fd < 0 ? "not running" : strerror(errno), NULL);
	/* Its pipe full, it lives (it alone holds the reading end): it must not act on
	 * the deadlines it holds. Gone (EPIPE), its pid may be another process's now. */
	if (full && l->watchdog > 0)
		kill(l->watchdog, SIGKILL); /* reaped with the utilities (SIGCHLD) */
	if (watchdog_start(a) == 0 &&
	    write(l->watchdog_fd, &deadline, sizeof(deadline)) != (ssize_t)sizeof(deadline))
		log_error("lease", "cannot reach the lease watchdog", "error", strerror(errno),
		          NULL);
}

/* The watchdog's loop: it keeps the last deadline the agent sent, kills the daemon when
 * it passes, and ends when the agent is gone and no deadline is pending. Every deadline
 * sent is read before one is acted on: a watchdog that was itself stopped does not act
 * on one the agent has replaced since. */
static void
watchdog_run(struct agent *a, int fd)
{
	double deadline = 0, msg;
	int gone = 0;

	for (;;) {
		while (!gone) {
			ssize_t r = read(fd, &msg, sizeof(msg));
			if (r == (ssize_t)sizeof(msg))
				deadline = msg;
			else if (r == 0)
				gone = 1; /* the agent ended: its last deadline still holds */
			else if (r < 0 && errno == EINTR)
				continue;
			else
				break; /* all read (EAGAIN) */
		}
		if (gone && deadline <= 0)
			_exit(0);
		double left = deadline > 0 ? deadline - op_now_s() : -1;
		if (deadline > 0 && left <= 0) {
			long pid = daemon_kill(a);
			if (pid > 0)
				log_warn(
				    "lease",
				    "the lease ran out and the agent did not stop the database's "
				    "writes in time (not running?): the watchdog killed the daemon",
				    "pid", LOG_I(pid), NULL);
			deadline = 0;
			continue;
		}
		struct pollfd p = {gone ? -1 : fd, POLLIN, 0};
		poll(&p, 1, left < 0 ? -1 : (int)(left * 1000) + 1);
	}
}

/* Forks the watchdog: 0, or -1 (logged). */
static int
watchdog_start(struct agent *a)
{
	struct lease *l = a->lease;
	int p[2];
	pid_t pid;

	if (l->watchdog_fd >= 0) {
		close(l->watchdog_fd);
		l->watchdog_fd = -1;
	}
	/* Neither end blocks: the agent never waits on the watchdog, which reads all. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("lease", "cannot start the lease watchdog", "error", strerror(errno),
		          NULL);
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_error("lease", "cannot start the lease watchdog", "error", strerror(errno),
		          NULL);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE};
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		prctl(PR_SET_NAME, "ttagent-lease", 0, 0, 0);
		if (p[0] != 3) {
			dup2(p[0], 3);
			p[0] = 3;
		}
		close_range(4, ~0U, 0); /* the agent's sockets, the pipe's write end */
		watchdog_run(a, p[0]);
	}
	close(p[0]);
	l->watchdog = pid;
	l->watchdog_fd = p[1];
	return 0;
}

/* The daemon killed by the agent itself. */
static void
kill_daemon(struct agent *a)
{
	struct lease *l = a->lease;
	long pid = daemon_kill(a);

	watchdog_set(a, 0);
	if (pid < 0)
		return;
	l->killed = 1;
	snprintf(l->outcome, sizeof(l->outcome), "the daemon was killed");
	log_warn("lease",
	         "the lease ran out and the database was not deactivated in time: "
	         "daemon killed",
	         "pid", LOG_I(pid), NULL);
}

static void
force_due(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	struct lease *l = a->lease;

	(void)fd;
	(void)what;
	log_debug("lease", "force deadline", "fencing", LOG_I(l->fencing), "deactivated",
	          LOG_I(l->deactivated), "killed", LOG_I(l->killed), NULL);
	if (l->fencing && !l->deactivated && !l->killed)
		kill_daemon(a);
}

static void
fence_due(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	struct lease *l = a->lease;

	(void)fd;
	(void)what;
	if (l->fencing || a->stopping)
		return;
	if (!ops_running(a) && state_known_passive(a)) {
		snprintf(l->outcome, sizeof(l->outcome),
		         "the lease ran out; the database is not the active, nothing to do");
		log_info("lease", "lease ran out; the database is not the active", NULL);
		watchdog_set(a, 0);
		return;
	}
	l->fencing = 1;
	log_warn("lease",
	         "the lease is running out without renewal: the database stops taking "
	         "writes",
	         "seconds", LOG_I(l->seconds), NULL);
	arm(l->force_timer, l->expiry - fence_lead(l) / 2);
	l->fence_running = 1;
	if (ops_start_own(a, &self_fence_def, a->cfg.utility_timeout_ms, self_fence_done) < 0) {
		l->fence_running = 0;
		kill_daemon(a);
	}
}

/* ---- API ---- */

void
lease_post(struct agent *a, evhtp_request_t *req)
{
	struct lease *l = a->lease;
	yajl_val body, v;
	struct jw w;
	size_t len;
	char *json, msg[128];

	if ((body = api_body(req)) == NULL)
		return;
	for (size_t i = 0; i < json_nkeys(body); i++)
		if (strcmp(json_key_at(body, i), "seconds") != 0) {
			snprintf(msg, sizeof(msg), "unknown field %.64s", json_key_at(body, i));
			json_free(body);
			api_error(req, 400, NULL, msg);
			return;
		}
	v = json_get(body, "seconds", NULL);
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > LEASE_MAX_S) {
		json_free(body);
		snprintf(msg, sizeof(msg), "field seconds: expected an integer from 0 to %d",
		         LEASE_MAX_S);
		api_error(req, 400, NULL, msg);
		return;
	}
	long long seconds = YAJL_GET_INTEGER(v);
	json_free(body);
	/* A grant while the self-fence runs changes nothing; one after it renews the lease
	 * for a database made the active again. */
	if (!l->fence_running) {
		l->fencing = l->deactivated = l->killed = 0;
		l->outcome[0] = '\0';
		l->seconds = seconds;
		l->expiry = op_now_s() + (double)seconds;
		evtimer_del(l->force_timer);
		if (seconds > 0) {
			arm(l->fence_timer, l->expiry - fence_lead(l));
			watchdog_set(a, l->expiry - fence_lead(l) / 4);
		} else {
			/* Withdrawn: as if never granted. */
			evtimer_del(l->fence_timer);
			watchdog_set(a, 0);
			log_info("lease", "lease withdrawn", NULL);
		}
	}
	if (jw_init(&w) < 0) {
		api_error(req, 500, NULL, "out of memory");
		return;
	}
	jw_obj(&w);
	lease_json(a, &w);
	jw_obj_end(&w);
	if ((json = jw_finish(&w, &len)) == NULL)
		api_error(req, 500, NULL, "cannot write the reply");
	else
		api_reply_json(req, 200, json, len);
}

void
lease_json(struct agent *a, struct jw *w)
{
	struct lease *l = a->lease;
	double left = l->expiry - op_now_s();

	jw_kint(w, "seconds", l->seconds);
	jw_kint(w, "remainingMs", l->seconds && left > 0 ? (long long)(left * 1000) : 0);
	jw_kbool(w, "selfFenced", l->fencing);
	jw_kstr(w, "outcome", l->outcome);
}

int
lease_init(struct agent *a)
{
	if ((a->lease = calloc(1, sizeof(*a->lease))) == NULL)
		return -1;
	a->lease->watchdog_fd = -1;
	a->lease->fence_timer = evtimer_new(a->base, fence_due, a);
	a->lease->force_timer = evtimer_new(a->base, force_due, a);
	if (a->lease->fence_timer == NULL || a->lease->force_timer == NULL)
		return -1;
	return watchdog_start(a);
}

void
lease_free(struct agent *a)
{
	if (a->lease == NULL)
		return;
	if (a->lease->fence_timer)
		event_free(a->lease->fence_timer);
	if (a->lease->force_timer)
		event_free(a->lease->force_timer);
	/* The watchdog reads the end of its pipe: it ends, or first keeps a pending deadline. */
	if (a->lease->watchdog_fd >= 0)
		close(a->lease->watchdog_fd);
	free(a->lease);
	a->lease = NULL;
}
