/*
 * The self-fencing lease of the active (docs/fencing.md). POST /v1/lease {"seconds": L}
 * grants it for L seconds from its receipt (agent's monotonic clock). If no renewal comes,
 * at F seconds before it runs out (F = min(5, L/2)) the agent makes the database stop
 * taking writes by itself, unless its state shows it is not the active: /tmp/active
 * removed, ttRepDeactivate, ttAdmin -close, ttAdmin -disconnect -immediate. If
 * ttRepDeactivate has not succeeded by F/2 before the end, the daemon is killed. A lease
 * never granted never runs out: the agent behaves as without one.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
};

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
		if (last->exit_code == 0 && !last->timed_out && !parse_isql_failed(last->output))
			l->deactivated = 1;
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

/* The daemon killed: its pid from $TIMESTEN_HOME/info/timestend.pid. */
static void
kill_daemon(struct agent *a)
{
	struct lease *l = a->lease;
	char pod[4200], host[4300], *text;
	long pid;

	snprintf(pod, sizeof(pod), "%s/info/timestend.pid", a->cfg.timesten_home);
	agent_path(a, pod, host, sizeof(host));
	if ((text = agent_read_file(host, 64, NULL)) == NULL) {
		log_warn("lease", "no daemon pid file; nothing to kill", "path", pod, NULL);
		return;
	}
	pid = strtol(text, NULL, 10);
	free(text);
	if (pid <= 1 || kill((pid_t)pid, SIGKILL) < 0) {
		log_error("lease", "cannot kill the daemon", "pid", LOG_I(pid), "error",
		          strerror(errno), NULL);
		return;
	}
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
		} else {
			/* Withdrawn: as if never granted. */
			evtimer_del(l->fence_timer);
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
	a->lease->fence_timer = evtimer_new(a->base, fence_due, a);
	a->lease->force_timer = evtimer_new(a->base, force_due, a);
	return a->lease->fence_timer && a->lease->force_timer ? 0 : -1;
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
	free(a->lease);
	a->lease = NULL;
}
