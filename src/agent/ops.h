/*
 * Operations inside the agent: how one is described (a table row), how it runs (a step
 * function called again after each utility ends) and the helpers its steps use.
 */
#ifndef AGENT_OPS_H
#define AGENT_OPS_H

#include "agent.h"
#include "ttc/json.h"

struct op;

/* Called first with last == NULL, then after each utility with its result (freed by the
 * caller afterwards). Each call either starts one utility or ends the operation. */
typedef void (*op_step_fn)(struct op *op, const struct child_result *last);

/* What an operation needs before it starts. */
#define OP_NEEDS_INSTANCE 1u /* $TIMESTEN_HOME/conf/timesten.conf exists */
#define OP_NEEDS_DSN 2u      /* sys.odbc.ini names the pod's database */
#define OP_ASYNC 4u          /* answers 202 at once; progress through /v1/async/ID */
#define OP_NO_PROBE 8u       /* while it runs, the state probe does not connect to the database */

struct op_def {
	const char *name;
	unsigned flags;
	const char *const *fields; /* request body fields it accepts, NULL-terminated */
	op_step_fn step;
	const char *summary; /* for GET /v1/ops */
};

#define QUIESCE_DEFAULT_WAIT 60 /* seconds: waitSeconds when not given */

/* A quiesce on its way (ops_quiesce.c). */
struct op_quiesce {
	int phase;        /* enum quiesce_phase */
	long long wait_s; /* waitSeconds: for the connections to end, and for the peer */
	int was_closed;   /* ttAdmin -close found the database closed already */
	int immediate;    /* ttAdmin -disconnect -immediate has run */
	double deadline;  /* CLOCK_MONOTONIC seconds by which the connections must be gone */
	int code;         /* the failure told once the database is open again */
	char reason[32];
	char message[512];
};

/* A stop on its way (ops_stop.c). */
struct op_stop {
	int phase;                            /* enum stop_phase */
	int loaded;                           /* ttStatus showed the database loaded */
	int immediate;                        /* ttAdmin -disconnect -immediate has run */
	double transactional_until, deadline; /* op_now_s(): then -immediate; then give up */
};

struct op_step_rec {
	char *command;
	int exit_code, timed_out, truncated;
	double seconds;
	char *output;
};

struct op {
	struct agent *a;
	const struct op_def *def;
	char id[40];
	struct hold *hold; /* the waiting request of a synchronous operation */
	int stage;         /* where the step function is */
	struct child *child;
	struct event *timer; /* op_later: the step function called again, NULL until used */
	struct op_step_rec *steps;
	size_t nsteps;
	long long timeout_ms;
	double deadline; /* op_now_s() by which a wait of the step function ends */

	/* Parameters, from the request body and the pod. */
	char dsn[64];
	char datastore[1024];
	char release[32];
	char *statement;
	char state[16];
	char peer[256], host[256], from[64], local_ip[64], remote_ip[64];
	int force, daemon_port, server_port;
	yajl_val attributes; /* createDatabase: extra DSN attributes (owned) */
	char *user, *password;
	char sqlfile[512]; /* host path of this operation's SQL file, "" when none */
	struct op_quiesce quiesce;
	struct op_stop stop;
	void (*on_end)(struct agent *a); /* an operation of the agent's own: told its end */

	/* Outcome. */
	int finished, http_code, changed, tt_errno;
	int confirming; /* op_confirm's ttStatus is running */
	char reason[32];
	char message[512];
	time_t started, updated, ended;
};

/* Runs utility (looked up in the instance, or exe when not NULL) with argv; the step
 * function is called again with its result. secrets are redacted everywhere. */
void op_run(struct op *op, const char *exe, const char *const *argv, const char *const *secrets,
            long long timeout_ms);
/* op_run with input on the utility's standard input (what it prompts for). */
void op_run_input(struct op *op, const char *exe, const char *const *argv,
                  const char *const *secrets, const char *input, long long timeout_ms);
/* ttAdmin OPT [ARG] DSN. */
void op_ttadmin(struct op *op, const char *opt, const char *arg);
/* Writes sql to the operation's private file and runs ttIsql -v1 -f on it against the
 * DSN, with a time limit of timeout_ms (0: the operation's). secrets are redacted from
 * what is shown. */
void op_isql(struct op *op, const char *sql, const char *const *secrets, long long timeout_ms);
/* CLOCK_MONOTONIC in seconds. */
double op_now_s(void);
/* Calls the step function again, with last == NULL, after ms milliseconds. */
void op_later(struct op *op, long long ms);
/* Ends the operation. */
void op_succeed(struct op *op, int changed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void op_fail(struct op *op, int http_code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whether the utility's result is a success; if not, fails op with its error and
 * returns 0. isql: also look for "The command failed.". */
int op_check(struct op *op, const struct child_result *r, int isql);
/* As op_check without ending the operation: NULL for a success, else the reason of the
 * failure, with its HTTP status in *code and what failed in msg (op->tt_errno set). */
const char *op_failure(struct op *op, const struct child_result *r, int isql, int *code, char *msg,
                       size_t n);
/* Whether a failed utility reported TimesTen error tt_errno (its first "TTnnnnn" or
 * "nnnnn:"), for the "already so" errors whose numbers Oracle documents. */
int op_tt_error_is(const struct child_result *r, int tt_errno);
/*
 * For a utility that failed where TimesTen's message for "it was so already" is not
 * documented (ttDaemonAdmin -start on a running daemon, ttAdmin -ramLoad on a loaded
 * database...): op_confirm runs ttStatus, and the step function, called again with its
 * result while op->confirming, asks op_confirmed whether what was wanted holds. If it
 * does not, op_confirmed fails op with the earlier utility's error and returns 0.
 */
void op_confirm(struct op *op);
int op_confirmed(struct op *op, const struct child_result *status,
                 int (*wanted)(const struct tt_status *st));
int tt_daemon_up(const struct tt_status *st);
int tt_daemon_down(const struct tt_status *st);
int tt_db_loaded(const struct tt_status *st);
int tt_db_unloaded(const struct tt_status *st);

/* Pod facts for steps. */
int op_pod_exists(struct op *op, const char *pod_path);
int op_db_files_exist(struct op *op);
/* Reads a /ttconfig file; NULL with *missing set when absent, or NULL after failing op. */
char *op_read_config(struct op *op, const char *name, int *missing);

extern const struct op_def ops_table[];

/*
 * A request for operation name with its body (len bytes, as it came) read and checked into
 * a new operation, not started: NULL with the HTTP status in *code (404 no such operation,
 * 400, 413) and the reason in err. Freed with ops_request_free unless it runs.
 */
struct op *ops_request(struct agent *a, const char *name, const char *text, size_t len, int *code,
                       char *err, size_t errlen);
void ops_request_free(struct op *op);

/* Starts an operation of the agent's own (no request; def is in no table), for the
 * object's DSN, after cancelling the running one; on_end is called when it ends. 0, or -1
 * when it cannot start (logged; on_end is not called). */
int ops_start_own(struct agent *a, const struct op_def *def, long long timeout_ms,
                  void (*on_end)(struct agent *a));

/* ops_stop.c */
extern const struct op_def ops_stop_def;

/* ops_quiesce.c */
void step_quiesce(struct op *op, const struct child_result *last);
void step_open_database(struct op *op, const struct child_result *last);

#endif
