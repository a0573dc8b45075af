/*
 * Running operations: the request body checked against the operation's fields, one
 * operation at a time (a second one gets 409), each utility's result recorded, the reply
 * when it ends, and asynchronous operations kept for GET /v1/async/ID.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ops.h"

struct ops {
	struct op *running;
	struct op *done[AGENT_ASYNC_KEEP]; /* finished asynchronous operations, newest first */
	unsigned long next_id;
};

static void
op_free(struct op *op)
{
	if (op == NULL)
		return;
	if (op->timer != NULL)
		event_free(op->timer);
	for (size_t i = 0; i < op->nsteps; i++) {
		free(op->steps[i].command);
		free(op->steps[i].output);
	}
	free(op->steps);
	free(op->statement);
	json_free(op->attributes);
	free(op->user);
	if (op->password) {
		explicit_bzero(op->password, strlen(op->password));
		free(op->password);
	}
	free(op);
}

static const struct op_def *
find_def(const char *name)
{
	for (size_t i = 0; ops_table[i].name; i++)
		if (strcmp(ops_table[i].name, name) == 0)
			return &ops_table[i];
	return NULL;
}

/* ---- JSON of an operation ---- */

static void
jw_time(struct jw *w, const char *k, time_t t)
{
	char buf[32];
	struct tm tm;

	if (t == 0) {
		jw_key(w, k);
		jw_null(w);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_kstr(w, k, buf);
}

static void
op_json_body(struct op *op, struct jw *w, int with_steps)
{
	const char *status = !op->finished         ? "Running"
	                     : op->http_code < 300 ? "Succeeded"
	                                           : "Failed";

	jw_kstr(w, "operation", op->def->name);
	if (op->def->flags & OP_ASYNC)
		jw_kstr(w, "id", op->id);
	jw_kstr(w, "status", status);
	jw_kbool(w, "running", !op->finished);
	jw_kbool(w, "complete", op->finished);
	if (op->finished) {
		jw_kbool(w, "changed", op->changed);
		jw_kstr(w, "message", op->message);
	}
	if (op->def->flags & OP_ASYNC) {
		jw_kint(w, "errno",
		        op->finished && op->http_code >= 300 ? (op->tt_errno ? op->tt_errno : 1)
		                                             : 0);
		jw_kstr(w, "errmsg", op->finished && op->http_code >= 300 ? op->message : "");
		if (op->host[0])
			jw_kstr(w, "host", op->host);
		jw_kstr(w, "podName", op->a->cfg.hostname);
	}
	jw_time(w, "started", op->started);
	jw_time(w, "updated", op->updated);
	jw_time(w, "ended", op->ended);
	if (!with_steps)
		return;
	jw_key(w, "steps");
	jw_arr(w);
	for (size_t i = 0; i < op->nsteps; i++) {
		struct op_step_rec *s = &op->steps[i];
		jw_obj(w);
		jw_kstr(w, "command", s->command);
		jw_kint(w, "exitCode", s->exit_code);
		jw_kbool(w, "timedOut", s->timed_out);
		jw_kint(w, "milliseconds", (long long)(s->seconds * 1000));
		jw_kstr(w, "output", s->output);
		jw_kbool(w, "truncated", s->truncated);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
reply_op(evhtp_request_t *req, struct op *op, int code)
{
	struct jw w;
	size_t len;
	char *json;

	if (jw_init(&w) < 0) {
		api_error(req, 500, NULL, "out of memory");
		return;
	}
	jw_obj(&w);
	if (code >= 300) {
		jw_kint(&w, "code", code);
		jw_kstr(&w, "reason", op->reason);
	}
	op_json_body(op, &w, 1);
	jw_obj_end(&w);
	if ((json = jw_finish(&w, &len)) == NULL)
		api_error(req, 500, NULL, "cannot write the reply");
	else
		api_reply_json(req, code, json, len);
}

int
ops_running(struct agent *a)
{
	return a->ops != NULL && a->ops->running != NULL;
}

int
ops_probe_kept_out(struct agent *a)
{
	return a->ops != NULL && a->ops->running != NULL &&
	       (a->ops->running->def->flags & OP_NO_PROBE) != 0;
}

double
op_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
ops_state_json(struct agent *a, struct jw *w)
{
	struct op *op = a->ops->running;

	jw_key(w, "operation");
	if (op == NULL) {
		jw_null(w);
	} else {
		jw_obj(w);
		op_json_body(op, w, 0);
		jw_obj_end(w);
	}
	/* The newest asynchronous operation, running or finished. */
	if (op == NULL || !(op->def->flags & OP_ASYNC))
		op = a->ops->done[0];
	jw_key(w, "async");
	if (op == NULL) {
		jw_null(w);
	} else {
		jw_obj(w);
		op_json_body(op, w, 0);
		jw_obj_end(w);
	}
}

/* ---- the end of an operation ---- */

static void
op_end(struct op *op)
{
	struct agent *a = op->a;
	struct ops *o = a->ops;

	op->finished = 1;
	op->ended = op->updated = time(NULL);
	if (op->sqlfile[0])
		unlink(op->sqlfile);
	o->running = NULL;
	state_invalidate(a);
	if (op->http_code < 300)
		log_info("ops", "operation succeeded", "operation", op->def->name, "id", op->id,
		         "changed", op->changed ? "true" : "false", "message", op->message, NULL);
	else
		log_warn("ops", "operation failed", "operation", op->def->name, "id", op->id,
		         "code", LOG_I(op->http_code), "message", op->message, NULL);
	if (op->hold != NULL) {
		evhtp_request_t *req = hold_release(op->hold);
		op->hold = NULL;
		reply_op(req, op, op->http_code);
	}
	if (op->def->flags & OP_ASYNC) {
		op_free(o->done[AGENT_ASYNC_KEEP - 1]);
		memmove(&o->done[1], &o->done[0], (AGENT_ASYNC_KEEP - 1) * sizeof(o->done[0]));
		o->done[0] = op;
	} else {
		void (*on_end)(struct agent *) = op->on_end;
		op_free(op);
		if (on_end != NULL)
			on_end(a);
	}
}

void
op_succeed(struct op *op, int changed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->message, sizeof(op->message), fmt, ap);
	va_end(ap);
	op->changed = changed;
	op->http_code = 200;
	snprintf(op->reason, sizeof(op->reason), "Succeeded");
	op_end(op);
}

void
op_fail(struct op *op, int http_code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->message, sizeof(op->message), fmt, ap);
	va_end(ap);
	op->http_code = http_code;
	snprintf(op->reason, sizeof(op->reason), "%s", reason);
	op_end(op);
}

int
op_check(struct op *op, const struct child_result *r, int isql)
{
	char msg[512];
	int code;
	const char *reason = op_failure(op, r, isql, &code, msg, sizeof(msg));

	if (reason == NULL)
		return 1;
	op_fail(op, code, reason, "%s", msg);
	return 0;
}

const char *
op_failure(struct op *op, const struct child_result *r, int isql, int *code, char *msg, size_t n)
{
	char how[128], err[300] = "";

	if (!r->spawn_failed && !r->timed_out && r->exit_code == 0 &&
	    !(isql && parse_isql_failed(r->output)))
		return NULL;
	if (parse_tt_error(r->output, err, sizeof(err)) == 0)
		op->tt_errno = atoi(err[0] == 'T' && err[1] == 'T' ? err + 2 : err);
	else {
		/* No TimesTen error line: the first line of the output says why. */
		const char *p = r->output;
		while (*p == '\n' || *p == ' ')
			p++;
		snprintf(err, sizeof(err), "%.*s", (int)strcspn(p, "\n"), p);
	}
	child_describe(r, how, sizeof(how));
	if (r->timed_out) {
		*code = 504;
		snprintf(msg, n, "%s %s", r->command, how);
		return "Timeout";
	}
	*code = 500;
	snprintf(msg, n, "%s %s%s%s", r->command, how, err[0] ? ": " : "", err);
	return "UtilityFailed";
}

int
op_tt_error_is(const struct child_result *r, int tt_errno)
{
	char err[300];

	if (r->timed_out || r->exit_code == 0 || r->output == NULL ||
	    parse_tt_error(r->output, err, sizeof(err)) < 0)
		return 0;
	return atoi(err[0] == 'T' ? err + 2 : err) == tt_errno;
}

void
op_confirm(struct op *op)
{
	const char *argv[] = {"ttStatus", NULL};

	op->confirming = 1;
	op_run(op, NULL, argv, NULL, 0);
}

int
op_confirmed(struct op *op, const struct child_result *status,
             int (*wanted)(const struct tt_status *st))
{
	struct tt_status st;

	op->confirming = 0;
	if (parse_ttstatus(status->output, op->datastore, &st) == 0 && wanted(&st))
		return 1;
	if (op->nsteps >= 2) { /* the utility before ttStatus: its failure is the answer */
		const struct op_step_rec *rec = &op->steps[op->nsteps - 2];
		struct child_result r = {.command = rec->command,
		                         .exit_code = rec->exit_code,
		                         .timed_out = rec->timed_out,
		                         .output = rec->output,
		                         .len = rec->output ? strlen(rec->output) : 0,
		                         .truncated = rec->truncated};
		if (!op_check(op, &r, 0))
			return 0;
	}
	op_fail(op, 500, "UtilityFailed", "%s failed", op->def->name);
	return 0;
}

int
tt_daemon_up(const struct tt_status *st)
{
	return st->daemon_up == 1;
}

int
tt_daemon_down(const struct tt_status *st)
{
	return st->daemon_up == 0;
}

int
tt_db_loaded(const struct tt_status *st)
{
	return st->daemon_up == 1 && st->db_loaded == 1;
}

int
tt_db_unloaded(const struct tt_status *st)
{
	return st->daemon_up == 1 && st->db_loaded == 0;
}

static void
op_child_done(struct child_result *r, void *arg)
{
	struct op *op = arg;
	struct op_step_rec *grown = realloc(op->steps, (op->nsteps + 1) * sizeof(*op->steps));

	op->child = NULL;
	op->updated = time(NULL);
	if (grown != NULL) {
		op->steps = grown;
		op->steps[op->nsteps++] = (struct op_step_rec){
		    .command = r->command,
		    .exit_code = r->exit_code,
		    .timed_out = r->timed_out,
		    .truncated = r->truncated,
		    .seconds = r->seconds,
		    .output = r->output,
		};
		/* The record owns the strings now; the result keeps its pointers for the step. */
	}
	op->stage++;
	op->def->step(op, r);
	if (grown != NULL)
		r->command = r->output = NULL;
	child_result_free(r);
}

void
op_run_input(struct op *op, const char *exe, const char *const *argv, const char *const *secrets,
             const char *input, long long timeout_ms)
{
	char path[4200];

	if (exe == NULL)
		exe = agent_utility(op->a, argv[0], path, sizeof(path));
	op->child = child_run(op->a, exe, argv, secrets, input,
	                      timeout_ms > 0 ? timeout_ms : op->timeout_ms, op_child_done, op);
	if (op->child == NULL)
		op_fail(op, 500, "InternalError", "cannot start %s", argv[0]);
}

void
op_run(struct op *op, const char *exe, const char *const *argv, const char *const *secrets,
       long long timeout_ms)
{
	op_run_input(op, exe, argv, secrets, NULL, timeout_ms);
}

void
op_ttadmin(struct op *op, const char *opt, const char *arg)
{
	const char *argv[] = {"ttAdmin", opt, arg, op->dsn, NULL};

	if (arg == NULL) {
		argv[2] = op->dsn;
		argv[3] = NULL;
	}
	op_run(op, NULL, argv, NULL, 0);
}

static void
op_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct op *op = arg;

	(void)fd;
	(void)what;
	op->updated = time(NULL);
	op->def->step(op, NULL);
}

void
op_later(struct op *op, long long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	if (op->timer == NULL &&
	    (op->timer = evtimer_new(op->a->base, op_timer_fired, op)) == NULL) {
		op_fail(op, 500, "InternalError", "out of memory");
		return;
	}
	if (evtimer_add(op->timer, &tv) < 0)
		op_fail(op, 500, "InternalError", "cannot arm the timer of operation %s",
		        op->def->name);
}

void
op_isql(struct op *op, const char *sql, const char *const *secrets, long long timeout_ms)
{
	char pod[600], connstr[128], err[256];

	snprintf(pod, sizeof(pod), "%s/op.sql", op->a->tmpdir);
	agent_path(op->a, pod, op->sqlfile, sizeof(op->sqlfile));
	if (agent_write_file(op->sqlfile, sql, strlen(sql), 0600, err, sizeof(err)) < 0) {
		op->sqlfile[0] = '\0';
		op_fail(op, 500, "InternalError", "%s", err);
		return;
	}
	snprintf(connstr, sizeof(connstr), "DSN=%s", op->dsn);
	const char *argv[] = {"ttIsql", "-v1", "-f", pod, "-connStr", connstr, NULL};
	op_run(op, NULL, argv, secrets, timeout_ms);
}

int
op_pod_exists(struct op *op, const char *pod_path)
{
	char host[4200];

	return access(agent_path(op->a, pod_path, host, sizeof(host)), F_OK) == 0;
}

int
op_db_files_exist(struct op *op)
{
	char pod[1100];

	snprintf(pod, sizeof(pod), "%s.ds0", op->datastore);
	if (op_pod_exists(op, pod))
		return 1;
	snprintf(pod, sizeof(pod), "%s.ds1", op->datastore);
	return op_pod_exists(op, pod);
}

char *
op_read_config(struct op *op, const char *name, int *missing)
{
	char pod[4200], host[4300];
	char *text;

	*missing = 0;
	snprintf(pod, sizeof(pod), "%s/%s", op->a->cfg.config_dir, name);
	agent_path(op->a, pod, host, sizeof(host));
	if ((text = agent_read_file(host, AGENT_MAX_FILE, NULL)) != NULL)
		return text;
	if (errno == ENOENT) {
		*missing = 1;
		return NULL;
	}
	op_fail(op, 412, "PreconditionFailed", "cannot read %s: %s", pod,
	        errno == EFBIG ? "larger than 4 MiB" : strerror(errno));
	return NULL;
}

/* ---- the request ---- */

static int
valid_name(const char *s, size_t max, int dots)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && !(dots && *s == '.'))
			return 0;
	return 1;
}

static int
valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Copies a string field after checking it with check; 0, or -1 with err. */
static int
str_field(yajl_val v, const char *k, char *dst, size_t n, int (*check)(const char *), char *err,
          size_t errlen)
{
	if (!YAJL_IS_STRING(v) || strlen(v->u.string) >= n ||
	    (check != NULL && !check(v->u.string))) {
		snprintf(err, errlen, "field %s: invalid value", k);
		return -1;
	}
	snprintf(dst, n, "%s", v->u.string);
	return 0;
}

/* A DSN attribute's name, as db.ini's (a letter, then letters, digits and '_'): it becomes
 * a line of sys.odbc.ini. */
static int
valid_attribute(const char *s)
{
	return isalpha((unsigned char)*s) && valid_name(s, 64, 0) && !strchr(s, '-');
}

static int
check_dsn(const char *s)
{
	return isalpha((unsigned char)*s) && valid_name(s, 32, 0);
}

static int
check_host(const char *s)
{
	return valid_name(s, 253, 1) || valid_ip(s);
}

static int
check_state(const char *s)
{
	return strcmp(s, "ACTIVE") == 0 || strcmp(s, "IDLE") == 0;
}

static int
int_field(yajl_val v, const char *k, long long min, long long max, long long *out, char *err,
          size_t errlen)
{
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max) {
		snprintf(err, errlen, "field %s: expected an integer from %lld to %lld", k, min,
		         max);
		return -1;
	}
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

static int
parse_body(struct op *op, yajl_val body, char *err, size_t errlen)
{
	for (size_t i = 0; i < json_nkeys(body); i++) {
		const char *k = json_key_at(body, i);
		yajl_val v = json_value_at(body, i);
		const char *const *f = op->def->fields;
		long long n;
		while (f && *f && strcmp(*f, k) != 0)
			f++;
		if (f == NULL || *f == NULL) {
			snprintf(err, errlen, "operation %s takes no field \"%.64s\"",
			         op->def->name, k);
			return -1;
		}
		/* A field given twice is refused: which one counts would be a guess. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(json_key_at(body, j), k) == 0) {
				snprintf(err, errlen, "field %s given twice", k);
				return -1;
			}
		if (strcmp(k, "dsn") == 0) {
			if (str_field(v, k, op->dsn, sizeof(op->dsn), check_dsn, err, errlen) < 0)
				return -1;
		} else if (strcmp(k, "from") == 0) {
			if (str_field(v, k, op->from, sizeof(op->from), check_dsn, err, errlen) < 0)
				return -1;
		} else if (strcmp(k, "host") == 0 || strcmp(k, "peer") == 0) {
			char *dst = k[0] == 'h' ? op->host : op->peer;
			if (str_field(v, k, dst, sizeof(op->host), check_host, err, errlen) < 0)
				return -1;
		} else if (strcmp(k, "localIP") == 0 || strcmp(k, "remoteIP") == 0) {
			char *dst = k[0] == 'l' ? op->local_ip : op->remote_ip;
			if (str_field(v, k, dst, sizeof(op->local_ip), valid_ip, err, errlen) < 0)
				return -1;
		} else if (strcmp(k, "state") == 0) {
			if (str_field(v, k, op->state, sizeof(op->state), check_state, err,
			              errlen) < 0) {
				snprintf(err, errlen, "field state: expected ACTIVE or IDLE");
				return -1;
			}
		} else if (strcmp(k, "statement") == 0) {
			if (!YAJL_IS_STRING(v) || strlen(v->u.string) > 16384) {
				snprintf(err, errlen, "field statement: expected a string");
				return -1;
			}
			free(op->statement);
			if ((op->statement = strdup(v->u.string)) == NULL)
				return -1;
		} else if (strcmp(k, "force") == 0) {
			if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
				snprintf(err, errlen, "field force: expected true or false");
				return -1;
			}
			op->force = YAJL_IS_TRUE(v);
		} else if (strcmp(k, "daemonPort") == 0 || strcmp(k, "serverPort") == 0) {
			if (int_field(v, k, 1, 65535, &n, err, errlen) < 0)
				return -1;
			*(k[0] == 'd' ? &op->daemon_port : &op->server_port) = (int)n;
		} else if (strcmp(k, "waitSeconds") == 0) {
			if (int_field(v, k, 1, 86400, &n, err, errlen) < 0)
				return -1;
			op->quiesce.wait_s = n;
		} else if (strcmp(k, "timeoutSeconds") == 0) {
			if (int_field(v, k, 1, 86400, &n, err, errlen) < 0)
				return -1;
			op->timeout_ms = n * 1000;
		} else if (strcmp(k, "attributes") == 0) {
			if (!YAJL_IS_OBJECT(v)) {
				snprintf(err, errlen, "field attributes: expected an object");
				return -1;
			}
			for (size_t j = 0; j < json_nkeys(v); j++) {
				yajl_val a = json_value_at(v, j);
				if (!valid_attribute(json_key_at(v, j))) {
					snprintf(err, errlen,
					         "field attributes: %.64s is not an attribute name",
					         json_key_at(v, j));
					return -1;
				}
				if (!(YAJL_IS_STRING(a) && !strpbrk(a->u.string, "\r\n")) &&
				    !YAJL_IS_INTEGER(a)) {
					snprintf(err, errlen,
					         "field attributes: %.64s must be an integer or a "
					         "string of one line",
					         json_key_at(v, j));
					return -1;
				}
			}
			/* Keep a private copy: the body tree is freed after the request. */
			struct jw w;
			char *copy, perr[128];
			size_t len;
			if (jw_init(&w) < 0)
				return -1;
			jw_val(&w, v);
			if ((copy = jw_finish(&w, &len)) == NULL)
				return -1;
			json_free(op->attributes);
			op->attributes = json_parse(copy, len, perr, sizeof(perr));
			free(copy);
		}
	}
	return 0;
}

static void
op_req_gone(void *arg, struct hold *h)
{
	struct op *op = arg;

	(void)h;
	op->hold = NULL; /* the operation goes on; nobody hears its end */
	log_info("ops", "client went away; the operation goes on", "operation", op->def->name, "id",
	         op->id, NULL);
}

/* The DataStore of op->dsn (the object's DSN when the request names none) from
 * sys.odbc.ini; 0 or -1. */
static int
find_dsn(struct op *op)
{
	char pod[4200], host[4300], *text;
	int rc;

	snprintf(pod, sizeof(pod), "%s/conf/sys.odbc.ini", op->a->cfg.timesten_home);
	agent_path(op->a, pod, host, sizeof(host));
	if ((text = agent_read_file(host, AGENT_MAX_FILE, NULL)) == NULL)
		return -1;
	if (op->dsn[0] == '\0')
		snprintf(op->dsn, sizeof(op->dsn), "%s", op->a->cfg.dsn);
	rc = op->dsn[0] ? odbcini_datastore(text, op->dsn, op->datastore, sizeof(op->datastore))
	                : -1;
	free(text);
	return rc;
}

struct op *
ops_request(struct agent *a, const char *name, const char *text, size_t len, int *code, char *err,
            size_t errlen)
{
	const struct op_def *def = find_def(name);
	struct op *op;
	yajl_val body;

	if (def == NULL) {
		*code = 404;
		snprintf(err, errlen, "no operation \"%.64s\" (GET /v1/ops lists them)", name);
		return NULL;
	}
	if ((body = api_parse_body(text, len, code, err, errlen)) == NULL)
		return NULL;
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		json_free(body);
		*code = 500;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	op->a = a;
	op->def = def;
	op->timeout_ms =
	    def->flags & OP_ASYNC ? a->cfg.async_timeout_ms : a->cfg.utility_timeout_ms;
	if (parse_body(op, body, err, errlen) < 0) {
		json_free(body);
		op_free(op);
		*code = 400;
		return NULL;
	}
	json_free(body);
	return op;
}

void
ops_request_free(struct op *op)
{
	op_free(op);
}

void
ops_post(struct agent *a, evhtp_request_t *req, const char *name)
{
	struct ops *o = a->ops;
	struct op *op;
	char err[512], pod[4200];
	size_t n = evbuffer_get_length(req->buffer_in);
	const char *text =
	    n > AGENT_MAX_BODY ? "" : (const char *)evbuffer_pullup(req->buffer_in, -1);
	int code;

	if ((op = ops_request(a, name, text, n, &code, err, sizeof(err))) == NULL) {
		api_error(req, code, NULL, err);
		return;
	}
	const struct op_def *def = op->def;
	if (o->running != NULL) {
		snprintf(err, sizeof(err), "operation %s%s%s is running; one at a time",
		         o->running->def->name, o->running->id[0] ? " " : "", o->running->id);
		op_free(op);
		api_error(req, 409, "Busy", err);
		return;
	}
	snprintf(pod, sizeof(pod), "%s/conf/timesten.conf", a->cfg.timesten_home);
	if ((def->flags & (OP_NEEDS_INSTANCE | OP_NEEDS_DSN)) && !op_pod_exists(op, pod)) {
		snprintf(err, sizeof(err), "no TimesTen instance at %s; create it first",
		         a->cfg.timesten_home);
		op_free(op);
		api_error(req, 412, NULL, err);
		return;
	}
	if ((def->flags & OP_NEEDS_DSN) && find_dsn(op) < 0) {
		snprintf(err, sizeof(err),
		         "no database is configured here (no DSN%s%s in sys.odbc.ini); create it "
		         "first",
		         op->dsn[0] ? " " : "", op->dsn);
		op_free(op);
		api_error(req, 412, NULL, err);
		return;
	}
	snprintf(op->id, sizeof(op->id), "%s-%lu", a->boot_id, ++o->next_id);
	op->started = op->updated = time(NULL);
	if (!(def->flags & OP_ASYNC) && (op->hold = hold_request(req, op_req_gone, op)) == NULL) {
		op_free(op);
		api_error(req, 500, NULL, "out of memory");
		return;
	}
	o->running = op;
	log_info("ops", "operation started", "operation", def->name, "id", op->id, NULL);
	def->step(op, NULL);
	if (def->flags & OP_ASYNC) {
		/* Ended already (a failed precondition)? Then answer as a synchronous one. */
		if (op->finished)
			reply_op(req, op, op->http_code == 200 ? 200 : op->http_code);
		else
			reply_op(req, op, 202);
	}
}

void
ops_list(struct agent *a, evhtp_request_t *req)
{
	struct jw w;
	size_t len;
	char *json;

	(void)a;
	if (jw_init(&w) < 0) {
		api_error(req, 500, NULL, "out of memory");
		return;
	}
	jw_obj(&w);
	jw_key(&w, "operations");
	jw_arr(&w);
	for (size_t i = 0; ops_table[i].name; i++) {
		const struct op_def *d = &ops_table[i];
		jw_obj(&w);
		jw_kstr(&w, "name", d->name);
		jw_kstr(&w, "summary", d->summary);
		jw_kbool(&w, "async", (d->flags & OP_ASYNC) != 0);
		jw_key(&w, "fields");
		jw_arr(&w);
		for (const char *const *f = d->fields; f && *f; f++)
			jw_str(&w, *f);
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	if ((json = jw_finish(&w, &len)) == NULL)
		api_error(req, 500, NULL, "cannot write the reply");
	else
		api_reply_json(req, 200, json, len);
}

void
ops_async_get(struct agent *a, evhtp_request_t *req, const char *id)
{
	struct ops *o = a->ops;
	struct op *op = NULL;
	char msg[200];

	if (o->running && (o->running->def->flags & OP_ASYNC) && strcmp(o->running->id, id) == 0)
		op = o->running;
	for (size_t i = 0; op == NULL && i < AGENT_ASYNC_KEEP; i++)
		if (o->done[i] && strcmp(o->done[i]->id, id) == 0)
			op = o->done[i];
	if (op == NULL) {
		snprintf(msg, sizeof(msg), "no asynchronous operation \"%.64s\"", id);
		api_error(req, 404, NULL, msg);
		return;
	}
	reply_op(req, op, 200);
}

int
ops_init(struct agent *a)
{
	return (a->ops = calloc(1, sizeof(*a->ops))) ? 0 : -1;
}

/* Ends the running operation where it is: its utility killed, its client answered 503. */
static void
cancel_running(struct ops *o)
{
	struct op *op = o->running;

	if (op == NULL)
		return;
	log_warn("ops", "operation cancelled: the agent is stopping", "operation", op->def->name,
	         "id", op->id, NULL);
	child_cancel(op->child);
	op->child = NULL;
	if (op->hold) {
		evhtp_request_t *req = hold_release(op->hold);
		op->hold = NULL;
		api_error(req, 503, "ShuttingDown", "the agent is stopping");
	}
	if (op->sqlfile[0])
		unlink(op->sqlfile);
	o->running = NULL;
	if (op->def->flags & OP_ASYNC) {
		/* Kept, failed, for GET /v1/async/ID until the agent exits. */
		op->finished = 1;
		op->ended = op->updated = time(NULL);
		op->http_code = 503;
		snprintf(op->reason, sizeof(op->reason), "ShuttingDown");
		snprintf(op->message, sizeof(op->message), "cancelled: the agent is stopping");
		op_free(o->done[AGENT_ASYNC_KEEP - 1]);
		memmove(&o->done[1], &o->done[0], (AGENT_ASYNC_KEEP - 1) * sizeof(o->done[0]));
		o->done[0] = op;
	} else {
		op_free(op);
	}
}

int
ops_start_own(struct agent *a, const struct op_def *def, long long timeout_ms,
              void (*on_end)(struct agent *a))
{
	struct ops *o = a->ops;
	struct op *op;

	cancel_running(o);
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		log_error("ops", "out of memory", "operation", def->name, NULL);
		return -1;
	}
	op->a = a;
	op->def = def;
	op->timeout_ms = timeout_ms;
	op->on_end = on_end;
	if (find_dsn(op) < 0)
		op->datastore[0] = '\0'; /* no database here: the step function skips it */
	snprintf(op->id, sizeof(op->id), "%s-%lu", a->boot_id, ++o->next_id);
	op->started = op->updated = time(NULL);
	o->running = op;
	log_info("ops", "operation started", "operation", def->name, "id", op->id, NULL);
	def->step(op, NULL);
	return 0;
}

void
ops_shutdown(struct agent *a)
{
	struct ops *o = a->ops;

	if (o == NULL)
		return;
	if (o->running) {
		o->running->on_end = NULL; /* the agent is going; nobody is told */
		cancel_running(o);
	}
	for (size_t i = 0; i < AGENT_ASYNC_KEEP; i++)
		op_free(o->done[i]);
	free(o);
	a->ops = NULL;
}
