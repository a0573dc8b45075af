/*
 * quiesce: the database closed to new user connections, its applications' connections
 * ended, then ttRepSubscriberWait until the peer acknowledged every commit, so that the pod
 * can go with nothing lost; opened again when that fails. openDatabase opens it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops.h"

#define QUIESCE_POLL_MS 500 /* how often ttStatus is asked whether the connections are gone */

/* Where a quiesce is (op->quiesce.phase). */
enum quiesce_phase {
	Q_CLOSE,      /* ttAdmin -close: no new user connections */
	Q_DISCONNECT, /* ttAdmin -disconnect -transactional, or -immediate for those left */
	Q_DRAIN,      /* ttStatus until no application connection is left (it is asynchronous) */
	Q_WAIT,       /* ttRepSubscriberWait */
	Q_REOPEN,     /* ttAdmin -open after a failure, then the failure */
};

/* Whether ttAdmin -open or -close said that the database was already in the state asked
 * for. Oracle documents only that "trying to close a closed database or open an open
 * database returns an error" (ttAdmin, "Open or Close a Database"), not its number;
 * 12332 and 12333 are the simulator's, and a real one that differs makes the order fail
 * with TimesTen's message rather than pass unnoticed. */
static int
already(const struct child_result *r, int tt_errno)
{
	return op_tt_error_is(r, tt_errno);
}

/* Ends a quiesce that failed after the database was closed: it is opened first, and the
 * failure told with how that went. */
static void reopen_and_fail(struct op *op, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
reopen_and_fail(struct op *op, int code, const char *reason, const char *fmt, ...)
{
	struct op_quiesce *q = &op->quiesce;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->message, sizeof(q->message), fmt, ap);
	va_end(ap);
	q->code = code;
	snprintf(q->reason, sizeof(q->reason), "%s", reason);
	q->phase = Q_REOPEN;
	op_ttadmin(op, "-open", NULL);
}

static void
disconnect(struct op *op, const char *urgency)
{
	const char *argv[] = {"ttAdmin", "-disconnect", urgency, op->dsn, NULL};

	op->quiesce.phase = Q_DISCONNECT;
	op_run(op, NULL, argv, NULL, 0);
}

static void
run_status(struct op *op)
{
	const char *argv[] = {"ttStatus", NULL};

	op->quiesce.phase = Q_DRAIN;
	op_run(op, NULL, argv, NULL, 0);
}

static void
run_wait(struct op *op)
{
	char secs[24], *sql;

	snprintf(secs, sizeof(secs), "%lld", op->quiesce.wait_s);
	if ((sql = sqltpl_render(op->a, "repwait.sql", "seconds", secs, NULL)) == NULL) {
		reopen_and_fail(op, 500, "InternalError", "out of memory");
		return;
	}
	op->quiesce.phase = Q_WAIT;
	/* Connecting takes the usual time limit; the wait itself adds its own. */
	op_isql(op, sql, NULL, op->timeout_ms + op->quiesce.wait_s * 1000);
	free(sql);
}

/* Another look at the applications' connections: none left, wait for the peer; some, look
 * again until the deadline, then force them off once (-immediate: what they have open is
 * rolled back, nothing committed is lost), then give up. */
static void
drained(struct op *op, const struct child_result *last)
{
	struct op_quiesce *q = &op->quiesce;
	struct tt_status st;
	char how[96];

	if (parse_ttstatus(last->output, op->datastore, &st) < 0 || st.daemon_up != 1) {
		reopen_and_fail(op, 500, "UtilityFailed",
		                "ttStatus %s; whether applications are still connected is unknown",
		                child_describe(last, how, sizeof(how)));
		return;
	}
	if (st.app_connections <= 0) {
		run_wait(op);
		return;
	}
	if (op_now_s() < q->deadline) {
		op_later(op, QUIESCE_POLL_MS);
		return;
	}
	if (!q->immediate) {
		log_info("ops", "connections still open; forcing them off", "operation",
		         op->def->name, "id", op->id, "connections", LOG_I(st.app_connections),
		         NULL);
		q->immediate = 1;
		disconnect(op, "-immediate");
		return;
	}
	reopen_and_fail(op, 504, "Timeout",
	                "%d application connection%s of database %s still open %lld s after "
	                "ttAdmin -disconnect -immediate",
	                st.app_connections, st.app_connections == 1 ? " is" : "s are", op->dsn,
	                q->wait_s);
}

static void
waited(struct op *op, const struct child_result *last)
{
	struct op_quiesce *q = &op->quiesce;
	const char *reason;
	char msg[512];
	int code, acked = parse_repwait(last->output);

	if ((reason = op_failure(op, last, 1, &code, msg, sizeof(msg))) != NULL) {
		if (op->tt_errno == 8191) { /* no scheme: no peer to lose anything to */
			op->tt_errno = 0;
			op_succeed(
			    op, !q->was_closed,
			    "database %s %sclosed to user connections; it is in no replication "
			    "scheme, so there is no peer to wait for",
			    op->dsn, q->was_closed ? "was already " : "");
			return;
		}
		reopen_and_fail(op, code, reason, "%s", msg);
	} else if (acked == 0) {
		op_succeed(op, !q->was_closed,
		           "database %s %sclosed to user connections; the peer acknowledged every "
		           "commit",
		           op->dsn, q->was_closed ? "was already " : "");
	} else if (acked == 1) {
		reopen_and_fail(op, 504, "Timeout",
		                "the peer did not acknowledge every commit of database %s within "
		                "%lld s",
		                op->dsn, q->wait_s);
	} else {
		reopen_and_fail(op, 500, "UtilityFailed", "%s: ttRepSubscriberWait gave no answer",
		                last->command);
	}
}

static void
reopened(struct op *op, const struct child_result *last)
{
	struct op_quiesce *q = &op->quiesce;
	char msg[512];
	int code;

	if (already(last, 12332) || op_failure(op, last, 0, &code, msg, sizeof(msg)) == NULL)
		op_fail(op, q->code, q->reason, "%s; database %s is open to connections again",
		        q->message, op->dsn);
	else
		op_fail(op, q->code, q->reason,
		        "%s; opening database %s again failed too, it stays closed: %s", q->message,
		        op->dsn, msg);
}

void
step_quiesce(struct op *op, const struct child_result *last)
{
	struct op_quiesce *q = &op->quiesce;
	const char *reason;
	char msg[512];
	int code;

	switch (q->phase) {
	case Q_CLOSE:
		if (last == NULL) {
			if (q->wait_s == 0)
				q->wait_s = QUIESCE_DEFAULT_WAIT;
			op_ttadmin(op, "-close", NULL);
			return;
		}
		/* Sent again (an operator restarted half-way): it goes on from here. */
		if (already(last, 12333))
			q->was_closed = 1;
		else if (!op_check(op, last, 0))
			return;
		disconnect(op, "-transactional");
		return;
	case Q_DISCONNECT:
		if ((reason = op_failure(op, last, 0, &code, msg, sizeof(msg))) != NULL) {
			reopen_and_fail(op, code, reason, "%s", msg);
			return;
		}
		q->deadline = op_now_s() + (double)q->wait_s;
		run_status(op);
		return;
	case Q_DRAIN:
		if (last == NULL) /* op_later */
			run_status(op);
		else
			drained(op, last);
		return;
	case Q_WAIT:
		waited(op, last);
		return;
	case Q_REOPEN:
		reopened(op, last);
		return;
	}
}

void
step_open_database(struct op *op, const struct child_result *last)
{
	if (last == NULL)
		op_ttadmin(op, "-open", NULL);
	else if (already(last, 12332))
		op_succeed(op, 0, "database %s is already open to user connections", op->dsn);
	else if (op_check(op, last, 0))
		op_succeed(op, 1, "database %s opened to user connections", op->dsn);
}
