/*
 * The agent's own stop, on SIGTERM (the pod is deleted, or its container stopped): TimesTen
 * is shut down the documented way, so that the next start is a load, not a recovery. The
 * replication agent is stopped (it holds a connection), the database closed to new
 * connections, its applications disconnected (-transactional, then after at most two
 * seconds -immediate for those left, idle ones too), the database unloaded (a checkpoint), and the
 * daemon stopped. Without that, the container's end kills the daemon with the database loaded, and
 * the next load recovers it from its last checkpoint and the transaction log.
 *
 * Each step may find nothing to do or fail; the stop goes on with the next one either
 * way, and the daemon is stopped last whatever happened before. The whole stop is bounded
 * by --stop-timeout, which is less than the pod's terminationGracePeriodSeconds.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ops.h"

#define STOP_POLL_MS 250         /* how often ttStatus is asked whether the connections are gone */
#define STOP_TRANSACTIONAL_S 2.0 /* at most this long for transactions to end by themselves */

enum stop_phase {
	S_STATUS,     /* ttStatus: is the daemon up, the database loaded, the agents running? */
	S_REP_STOP,   /* ttAdmin -repStop */
	S_CLOSE,      /* ttAdmin -close: no new connections */
	S_DISCONNECT, /* ttAdmin -disconnect -transactional|-immediate -unload */
	S_DRAIN,      /* ttStatus until no application connection is left */
	S_UNLOAD,     /* ttAdmin -ramUnload (RAM policy manual: -unload does not unload it) */
	S_DAEMON,     /* ttDaemonAdmin -stop */
	S_DONE,
};

static void
run_status(struct op *op, int phase)
{
	const char *argv[] = {"ttStatus", NULL};

	op->stop.phase = phase;
	op_run(op, NULL, argv, NULL, 0);
}

static void
run_disconnect(struct op *op, const char *urgency)
{
	const char *argv[] = {"ttAdmin", "-disconnect", urgency, "-unload", op->dsn, NULL};

	op->stop.phase = S_DISCONNECT;
	op_run(op, NULL, argv, NULL, 0);
}

static void
run_daemon_stop(struct op *op)
{
	const char *argv[] = {"ttDaemonAdmin", "-stop", NULL};

	op->stop.phase = S_DAEMON;
	op_run(op, NULL, argv, NULL, 0);
}

/* A step that failed is logged; the stop goes on. */
static void
note_failure(const struct child_result *r)
{
	char how[96];

	if (r->exit_code == 0 && !r->timed_out)
		return;
	log_info("ops", "stopping: a step did not succeed; going on", "command", r->command,
	         "result", child_describe(r, how, sizeof(how)), NULL);
}

static void
first_status(struct op *op, const struct child_result *last)
{
	struct tt_status st;
	int parsed = parse_ttstatus(last->output, op->datastore, &st) == 0;

	if (parsed && st.daemon_up == 0) {
		op_succeed(op, 0, "the TimesTen daemon is not running");
		return;
	}
	op->stop.loaded = !parsed || (op->datastore[0] && st.db_loaded);
	if (!op->stop.loaded || op->dsn[0] == '\0') {
		run_daemon_stop(op);
		return;
	}
	op->stop.phase = S_REP_STOP;
	op_ttadmin(op, "-repStop", NULL); /* it may not run: then it says so, and we go on */
}

/* Are the applications gone? Then unload; else look again, force them off once the
 * transactional part of the time is over, and stop the daemon when all of it is. */
static void
drained(struct op *op, const struct child_result *last)
{
	struct op_stop *s = &op->stop;
	struct tt_status st;
	double now = op_now_s();

	if (parse_ttstatus(last->output, op->datastore, &st) < 0 || st.daemon_up != 1) {
		run_daemon_stop(op);
		return;
	}
	if (!st.db_loaded) { /* -disconnect -unload unloaded it */
		run_daemon_stop(op);
		return;
	}
	if (st.app_connections <= 0) {
		s->phase = S_UNLOAD;
		op_ttadmin(op, "-ramUnload", NULL);
		return;
	}
	if (!s->immediate && now >= s->transactional_until) {
		log_info("ops", "stopping: connections still open; forcing them off", "connections",
		         LOG_I(st.app_connections), NULL);
		s->immediate = 1;
		run_disconnect(op, "-immediate");
		return;
	}
	if (now >= s->deadline) {
		log_warn("ops",
		         "stopping: connections still open; the daemon is stopped under them",
		         "connections", LOG_I(st.app_connections), NULL);
		run_daemon_stop(op);
		return;
	}
	s->phase = S_DRAIN;
	op_later(op, STOP_POLL_MS);
}

static void
step_stop(struct op *op, const struct child_result *last)
{
	struct op_stop *s = &op->stop;
	double budget = (double)op->timeout_ms / 1000;

	if (last == NULL && s->phase == S_STATUS) {
		char conf[4200];
		snprintf(conf, sizeof(conf), "%s/conf/timesten.conf", op->a->cfg.timesten_home);
		if (!op_pod_exists(op, conf))
			op_succeed(op, 0, "there is no TimesTen instance");
		else
			run_status(op, S_STATUS);
		return;
	}
	switch (s->phase) {
	case S_STATUS:
		first_status(op, last);
		return;
	case S_REP_STOP:
		note_failure(last);
		s->phase = S_CLOSE;
		op_ttadmin(op, "-close", NULL);
		return;
	case S_CLOSE:
		note_failure(last);
		/* Transactions are given a short time to end (TimesTen's are short); idle
		 * connections, which -transactional leaves alone, wait for -immediate. Most of
		 * the rest of the time is for those to go. */
		s->transactional_until =
		    op_now_s() +
		    (budget / 2 < STOP_TRANSACTIONAL_S ? budget / 2 : STOP_TRANSACTIONAL_S);
		s->deadline = op_now_s() + budget * 0.8;
		run_disconnect(op, "-transactional");
		return;
	case S_DISCONNECT:
		note_failure(last);
		run_status(op, S_DRAIN);
		return;
	case S_DRAIN:
		if (last == NULL) /* op_later */
			run_status(op, S_DRAIN);
		else
			drained(op, last);
		return;
	case S_UNLOAD:
		note_failure(last);
		run_daemon_stop(op);
		return;
	case S_DAEMON:
		s->phase = S_DONE;
		if (op_check(op, last, 0))
			op_succeed(op, 1, "TimesTen stopped%s",
			           s->loaded ? ": replication agent, database and daemon" : "");
		return;
	}
}

const struct op_def ops_stop_def = {
    "stop", OP_NO_PROBE, NULL, step_stop,
    "on SIGTERM: stop replication, disconnect, unload the database, stop the daemon"};

int
ops_stop(struct agent *a, void (*done)(struct agent *a))
{
	long long t = a->cfg.stop_timeout_ms;

	return ops_start_own(a, &ops_stop_def,
	                     t < a->cfg.utility_timeout_ms ? t : a->cfg.utility_timeout_ms, done);
}
