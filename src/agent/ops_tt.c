/*
 * The operations, each a short sequence of TimesTen utility invocations (see API.md), and
 * the table that names them. A step function is called with last == NULL to start, then
 * after each utility with op->stage counting the utilities that have ended.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"

/* The first line of the output, for a success message. */
static const char *
first_line(const struct child_result *r, char *buf, size_t n)
{
	const char *p = r->output;

	while (*p == '\n' || *p == ' ')
		p++;
	snprintf(buf, n, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/* mkdir -p for a host path. */
static int
mkdirs(const char *path)
{
	char buf[4200];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* ---- instance and daemon ---- */

static void
step_create_instance(struct op *op, const struct child_result *last)
{
	struct agent *a = op->a;
	char pod[4200], host[4300], exe[4300], dir[4200], port[16], csport[16];
	const char *name;

	if (last == NULL) {
		snprintf(pod, sizeof(pod), "%s/conf/timesten.conf", a->cfg.timesten_home);
		if (op_pod_exists(op, pod)) {
			op_succeed(op, 0, "the instance %s exists", a->cfg.timesten_home);
			return;
		}
		snprintf(dir, sizeof(dir), "%s", a->cfg.timesten_home);
		char *slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir || slash[1] == '\0') {
			op_fail(op, 412, "PreconditionFailed",
			        "TIMESTEN_HOME %s is not of the form LOCATION/NAME",
			        a->cfg.timesten_home);
			return;
		}
		*slash = '\0';
		name = slash + 1;
		if (mkdirs(agent_path(a, dir, host, sizeof(host))) < 0) {
			op_fail(op, 500, "InternalError", "cannot make %s: %s", dir,
			        strerror(errno));
			return;
		}
		snprintf(pod, sizeof(pod), "%s/bin/ttInstanceCreate", a->cfg.installation);
		agent_path(a, pod, exe, sizeof(exe));
		snprintf(port, sizeof(port), "%d",
		         op->daemon_port ? op->daemon_port : a->cfg.daemon_port);
		snprintf(csport, sizeof(csport), "%d",
		         op->server_port ? op->server_port : a->cfg.server_port);
		const char *argv[12] = {"ttInstanceCreate", "-location", dir,       "-name", name,
		                        "-daemonport",      port,        "-csport", csport,  NULL};
		char tnsadmin[4200];
		snprintf(tnsadmin, sizeof(tnsadmin), "%s/tnsnames.ora", a->cfg.config_dir);
		if (op_pod_exists(op, tnsadmin)) { /* TimesTen Cache finds Oracle Net here */
			argv[9] = "-tnsadmin";
			argv[10] = a->cfg.config_dir;
		}
		op_run(op, exe, argv, NULL, 0);
		return;
	}
	if (op_check(op, last, 0))
		op_succeed(op, 1, "instance %s created", a->cfg.timesten_home);
}

static void
step_start_daemon(struct op *op, const struct child_result *last)
{
	char line[200];

	if (last == NULL) {
		const char *argv[] = {"ttDaemonAdmin", "-start", NULL};
		op_run(op, NULL, argv, NULL, 0);
		return;
	}
	/* Oracle documents no text for a daemon already running: ttStatus decides. */
	if (op->confirming) {
		if (op_confirmed(op, last, tt_daemon_up))
			op_succeed(op, 0, "the daemon is already running");
	} else if (last->exit_code != 0 && !last->timed_out) {
		op_confirm(op);
	} else if (op_check(op, last, 0)) {
		op_succeed(op, 1, "%s", first_line(last, line, sizeof(line)));
	}
}

static void
step_stop_daemon(struct op *op, const struct child_result *last)
{
	char line[200];

	if (last == NULL) {
		const char *argv[] = {"ttDaemonAdmin", "-stop", NULL, NULL};
		if (op->force) {
			argv[1] = "-force";
			argv[2] = "-stop";
		}
		op_run(op, NULL, argv, NULL, 0);
		return;
	}
	/* Nor for one not running. */
	if (op->confirming) {
		if (op_confirmed(op, last, tt_daemon_down))
			op_succeed(op, 0, "the daemon is not running");
	} else if (last->exit_code != 0 && !last->timed_out) {
		op_confirm(op);
	} else if (op_check(op, last, 0)) {
		op_succeed(op, 1, "%s", first_line(last, line, sizeof(line)));
	}
}

/* ---- the database ---- */

/* The DSN when the request names none: the object's (cfg.dsn), never another DSN the
 * instance's sys.odbc.ini may list. */
static int
default_dsn(struct op *op)
{
	if (op->dsn[0])
		return 0;
	if (op->a->cfg.dsn[0] == '\0') {
		op_fail(op, 400, "BadRequest",
		        "no dsn given, TT_DSN is not set and none can be derived from the "
		        "host name");
		return -1;
	}
	snprintf(op->dsn, sizeof(op->dsn), "%s", op->a->cfg.dsn);
	return 0;
}

/* DataStore: <instances' parent>/datastore/<dsn>, beside the instances directory. */
static void
default_datastore(struct op *op)
{
	char home[900];
	char *s;

	snprintf(home, sizeof(home), "%s", op->a->cfg.timesten_home);
	for (int i = 0; i < 2 && (s = strrchr(home, '/')) != NULL && s != home; i++)
		*s = '\0';
	snprintf(op->datastore, sizeof(op->datastore), "%s/datastore/%s", home, op->dsn);
}

static int
kv_add(struct kv **kvs, size_t *n, const char *k, const char *v)
{
	for (size_t i = 0; i < *n; i++)
		if (strcasecmp((*kvs)[i].key, k) == 0) {
			char *nv = strdup(v);
			if (nv == NULL)
				return -1;
			free((*kvs)[i].value);
			(*kvs)[i].value = nv;
			return 0;
		}
	struct kv *g = realloc(*kvs, (*n + 1) * sizeof(**kvs));
	if (g == NULL)
		return -1;
	*kvs = g;
	g[*n].key = strdup(k);
	g[*n].value = strdup(v);
	(*n)++;
	return g[*n - 1].key && g[*n - 1].value ? 0 : -1;
}

/* Writes the DSN from db.ini and the request's attributes into sys.odbc.ini and makes the
 * database directory. 0, or -1 after failing op. */
static int
write_dsn(struct op *op)
{
	struct agent *a = op->a;
	struct kv *kvs = NULL, *ini = NULL;
	size_t n = 0, nini = 0;
	char pod[4200], host[4300], err[512], driver[64], dir[1100];
	char *text, *old, *out = NULL;
	int missing, rc = -1;

	if ((text = op_read_config(op, "db.ini", &missing)) == NULL && !missing)
		return -1;
	if (text != NULL && dbini_parse(text, &ini, &nini, err, sizeof(err)) < 0) {
		free(text);
		op_fail(op, 412, "PreconditionFailed", "%s", err);
		return -1;
	}
	free(text);
	if (kv_add(&kvs, &n, "DataStore", op->datastore) < 0 ||
	    kv_add(&kvs, &n, "DatabaseCharacterSet", "AL32UTF8") < 0 ||
	    kv_add(&kvs, &n, "ConnectionCharacterSet", "AL32UTF8") < 0)
		goto oom;
	for (size_t i = 0; i < nini; i++)
		if (kv_add(&kvs, &n, ini[i].key, ini[i].value) < 0)
			goto oom;
	for (size_t i = 0; i < json_nkeys(op->attributes); i++) {
		yajl_val v = json_value_at(op->attributes, i);
		const char *k = json_key_at(op->attributes, i);
		if (strcasecmp(k, "DataStore") == 0 || strcasecmp(k, "LogDir") == 0)
			continue;
		if (kv_add(&kvs, &n, k, YAJL_IS_STRING(v) ? v->u.string : v->u.number.r) < 0)
			goto oom;
	}
	/* The driver name of the release: "TimesTen 22.1 Driver". */
	int maj = 0, min = 0;
	if (sscanf(op->release, "%d.%d", &maj, &min) == 2)
		snprintf(driver, sizeof(driver), "TimesTen %d.%d Driver", maj, min);
	else
		snprintf(driver, sizeof(driver), "TimesTen Driver");
	snprintf(pod, sizeof(pod), "%s/conf/sys.odbc.ini", a->cfg.timesten_home);
	agent_path(a, pod, host, sizeof(host));
	old = agent_read_file(host, AGENT_MAX_FILE, NULL);
	out = odbcini_set_dsn(old, op->dsn, driver, kvs, n, err, sizeof(err));
	free(old);
	if (out == NULL) {
		op_fail(op, 400, "BadRequest", "%s", err);
		goto done;
	}
	if (agent_write_file(host, out, strlen(out), 0644, err, sizeof(err)) < 0) {
		op_fail(op, 500, "InternalError", "%s", err);
		goto done;
	}
	snprintf(dir, sizeof(dir), "%s", op->datastore);
	*strrchr(dir, '/') = '\0';
	if (mkdirs(agent_path(a, dir, host, sizeof(host))) < 0) {
		op_fail(op, 500, "InternalError", "cannot make %s: %s", dir, strerror(errno));
		goto done;
	}
	rc = 0;
	goto done;
oom:
	op_fail(op, 500, "InternalError", "out of memory");
done:
	free(out);
	kv_free(kvs, n);
	kv_free(ini, nini);
	return rc;
}

/* After ttAdmin -ramLoad: 1 when the database is loaded. Oracle documents no text for
 * loading a loaded database, so a failure is confirmed with ttStatus (0 meanwhile, and
 * 0 after failing op when it is not loaded). */
static int
ram_loaded(struct op *op, const struct child_result *last)
{
	if (op->confirming)
		return op_confirmed(op, last, tt_db_loaded);
	if (last->exit_code != 0 && !last->timed_out) {
		op_confirm(op);
		return 0;
	}
	return op_check(op, last, 0);
}

static void
step_create_database(struct op *op, const struct child_result *last)
{
	char connstr[128];

	switch (op->stage) {
	case 0: {
		if (default_dsn(op) < 0)
			return;
		default_datastore(op);
		const char *argv[] = {"ttVersion", NULL};
		op_run(op, NULL, argv, NULL, 0);
		return;
	}
	case 1:
		parse_ttversion(last->output, op->release, sizeof(op->release));
		if (write_dsn(op) < 0)
			return;
		if (op_db_files_exist(op)) {
			op_succeed(op, 0, "the database %s exists (DSN %s written)", op->datastore,
			           op->dsn);
			return;
		}
		snprintf(connstr, sizeof(connstr), "DSN=%s;AutoCreate=1", op->dsn);
		const char *argv[] = {"ttIsql", "-v1", "-e", "exit", "-connStr", connstr, NULL};
		op_run(op, NULL, argv, NULL, 0);
		return;
	case 2:
		if (op_check(op, last, 1))
			op_ttadmin(op, "-ramPolicy", "manual");
		return;
	case 3:
		if (op_check(op, last, 0))
			op_ttadmin(op, "-ramLoad", NULL);
		return;
	default:
		if (ram_loaded(op, last))
			op_succeed(op, 1, "database %s created and loaded", op->dsn);
	}
}

static void
step_load(struct op *op, const struct child_result *last)
{
	int confirmed = op->confirming;

	if (last == NULL)
		op_ttadmin(op, "-ramLoad", NULL);
	else if (ram_loaded(op, last))
		op_succeed(op, !confirmed,
		           confirmed ? "database %s is already loaded" : "database %s loaded",
		           op->dsn);
}

static void
step_unload(struct op *op, const struct child_result *last)
{
	if (last == NULL)
		op_ttadmin(op, "-ramUnload", NULL);
	else if (op->confirming) {
		if (op_confirmed(op, last, tt_db_unloaded))
			op_succeed(op, 0, "the database is not loaded");
	} else if (last->exit_code != 0 && !last->timed_out)
		op_confirm(op);
	else if (op_check(op, last, 0))
		op_succeed(op, 1, "database %s unloaded", op->dsn);
}

/* How often destroyDatabase asks ttStatus whether the connections are gone. */
#define DESTROY_POLL_MS 250

static void
step_destroy(struct op *op, const struct child_result *last)
{
	switch (op->stage) {
	case 0:
		if (!op_db_files_exist(op)) {
			op_succeed(op, 0, "there is no database %s", op->datastore);
			return;
		}
		/* The replication agent holds a connection; stop it first (it may not run). */
		op_ttadmin(op, "-repStop", NULL);
		return;
	case 1:
		/* Applications may hold connections too: no new ones, then force the rest
		 * off (the DSN has ForceDisconnectEnabled); the database is being thrown
		 * away. Both may fail when it is not loaded. */
		op_ttadmin(op, "-close", NULL);
		return;
	case 2: {
		const char *argv[] = {"ttAdmin", "-disconnect", "-immediate", "-unload", op->dsn, NULL};
		op->deadline = op_now_s() + (double)op->timeout_ms / 1000;
		op_run(op, NULL, argv, NULL, 0);
		return;
	}
	case 3: {
		/* -disconnect returns at once; the connections end later (Oracle: "seconds
		 * to minutes"), and a database is not unloaded or destroyed under them. */
		const char *argv[] = {"ttStatus", NULL};
		op_run(op, NULL, argv, NULL, 0);
		return;
	}
	case 4: {
		struct tt_status st;
		if (parse_ttstatus(last->output, op->datastore, &st) == 0 && st.db_loaded &&
		    st.app_connections > 0) {
			if (op_now_s() < op->deadline) {
				op->stage = 3;
				op_later(op, DESTROY_POLL_MS);
				return;
			}
			op_fail(op, 504, "Timeout",
			        "%d connection%s of database %s still open %lld s after ttAdmin "
			        "-disconnect -immediate; it was not destroyed",
			        st.app_connections, st.app_connections == 1 ? " is" : "s are",
			        op->dsn, op->timeout_ms / 1000);
			return;
		}
		op_ttadmin(op, "-ramUnload", NULL); /* it may not be loaded */
		return;
	}
	case 5: {
		const char *argv[] = {"ttDestroy", op->dsn, NULL};
		op_run(op, NULL, argv, NULL, 0);
		return;
	}
	default:
		if (op_check(op, last, 0))
			op_succeed(op, 1, "database %s destroyed", op->dsn);
	}
}

/* ---- SQL from /ttconfig and from the operator ---- */

static void
step_admin_user(struct op *op, const struct child_result *last)
{
	char *text, *sql, *pw, err[256];
	int missing;

	if (last != NULL) {
		if (op_check(op, last, 1))
			op_succeed(op, 1, "user %s created with ADMIN", op->user);
		return;
	}
	if ((text = op_read_config(op, "adminUser", &missing)) == NULL) {
		if (missing)
			op_fail(op, 412, "PreconditionFailed", "there is no %s/adminUser",
			        op->a->cfg.config_dir);
		return;
	}
	int rc = userfile_parse(text, &op->user, &op->password, err, sizeof(err));
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc < 0) {
		op_fail(op, 412, "PreconditionFailed", "adminUser: %s", err);
		return;
	}
	if ((pw = sql_quote_ident(op->password)) == NULL ||
	    (sql = sqltpl_render(op->a, "adminuser.sql", "user", op->user, "password", pw, NULL)) ==
	        NULL) {
		free(pw);
		op_fail(op, 500, "InternalError", "out of memory");
		return;
	}
	const char *secrets[] = {op->password, pw, NULL};
	op_isql(op, sql, secrets, 0);
	explicit_bzero(sql, strlen(sql));
	free(sql);
	explicit_bzero(pw, strlen(pw));
	free(pw);
}

static void
run_script(struct op *op, const struct child_result *last, const char *file)
{
	char *text, *sql;
	int missing;

	if (last != NULL) {
		if (op_check(op, last, 1))
			op_succeed(op, 1, "%s/%s ran", op->a->cfg.config_dir, file);
		return;
	}
	if ((text = op_read_config(op, file, &missing)) == NULL) {
		if (missing)
			op_succeed(op, 0, "there is no %s/%s: nothing to run",
			           op->a->cfg.config_dir, file);
		return;
	}
	sql = sqltpl_render(op->a, "runscript.sql", "script", text, NULL);
	free(text);
	if (sql == NULL) {
		op_fail(op, 500, "InternalError", "out of memory");
		return;
	}
	op_isql(op, sql, NULL, 0);
	free(sql);
}

static void
step_schema(struct op *op, const struct child_result *last)
{
	run_script(op, last, "schema.sql");
}

static void
step_epilog(struct op *op, const struct child_result *last)
{
	run_script(op, last, "epilog.sql");
}

/* The statement as one statement: CREATE ACTIVE STANDBY PAIR ..., no ';' inside. */
static int
check_statement(struct op *op)
{
	char *s = op->statement, *e;
	int quote = 0;

	if (s == NULL) {
		op_fail(op, 400, "BadRequest", "field statement is required");
		return -1;
	}
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && (isspace((unsigned char)e[-1]) || e[-1] == ';'))
		*--e = '\0';
	const char *want[] = {"CREATE", "ACTIVE", "STANDBY", "PAIR"};
	const char *p = s;
	for (size_t i = 0; i < 4; i++) {
		size_t n = strlen(want[i]);
		if (strncasecmp(p, want[i], n) != 0 || !isspace((unsigned char)p[n])) {
			op_fail(op, 400, "BadRequest",
			        "field statement must be a CREATE ACTIVE STANDBY PAIR statement");
			return -1;
		}
		p += n;
		while (isspace((unsigned char)*p))
			p++;
	}
	for (p = s; *p; p++) {
		if (*p == '\'' || *p == '"')
			quote = quote == *p ? 0 : quote ? quote : *p;
		if ((*p == ';' && !quote) || (unsigned char)*p < ' ') {
			if (*p == '\n' || *p == '\t' || *p == '\r')
				continue;
			op_fail(op, 400, "BadRequest", "field statement must be one statement");
			return -1;
		}
	}
	memmove(op->statement, s, strlen(s) + 1);
	return 0;
}

static void
step_rep_scheme(struct op *op, const struct child_result *last)
{
	char *sql;

	if (last != NULL) {
		if (op_check(op, last, 1))
			op_succeed(op, 1, "replication scheme created");
		return;
	}
	if (check_statement(op) < 0)
		return;
	if ((sql = sqltpl_render(op->a, "repcreate.sql", "statement", op->statement, NULL)) ==
	    NULL) {
		op_fail(op, 500, "InternalError", "out of memory");
		return;
	}
	op_isql(op, sql, NULL, 0);
	free(sql);
}

/*
 * ttRepStateSet('ACTIVE') or ttRepDeactivate. With a statement, a database TimesTen refuses
 * to set ACTIVE (TT8141: deactivated, or a recovered ex-standby) becomes the ACTIVE of a
 * scheme made anew, as TimesTen's recovery from a dual failure does: its replication agent
 * stopped, DROP ACTIVE STANDBY PAIR, the statement, ttRepStateSet('ACTIVE'). Whether that
 * is safe (no other database may take writes) is for the operator to know.
 */
static void
step_rep_state(struct op *op, const struct child_result *last)
{
	int active = strcmp(op->state, "ACTIVE") == 0;
	char *sql;

	switch (op->stage) {
	case 0:
		if (op->state[0] == '\0') {
			op_fail(op, 400, "BadRequest", "field state is required (ACTIVE or IDLE)");
			return;
		}
		if (op->statement != NULL && (!active || check_statement(op) < 0)) {
			if (!active)
				op_fail(op, 400, "BadRequest",
				        "field statement goes with state ACTIVE only");
			return;
		}
		sql = sqltpl_render(op->a, active ? "repactive.sql" : "repidle.sql", NULL);
		break;
	case 1:
		if (op->statement != NULL && op_tt_error_is(last, 8141)) {
			log_warn("op",
			         "TimesTen will not set the database ACTIVE (TT8141): making "
			         "its replication scheme anew",
			         "dsn", op->dsn, NULL);
			op_ttadmin(op, "-repStop", NULL);
			return;
		}
		if (op_check(op, last, 1))
			op_succeed(op, 1, "rep state set to %s", op->state);
		return;
	case 2:
		/* Whatever -repStop said: with the agent still running the DROP fails (5245). */
		sql = sqltpl_render(op->a, "repanew.sql", "statement", op->statement, NULL);
		break;
	default:
		if (op_check(op, last, 1))
			op_succeed(op, 1,
			           "rep state set to ACTIVE under a replication scheme made anew: "
			           "TimesTen would not set the database ACTIVE under the old one "
			           "(TT8141)");
		return;
	}
	if (sql == NULL) {
		op_fail(op, 500, "InternalError", "out of memory");
		return;
	}
	op_isql(op, sql, NULL, 0);
	free(sql);
}

static void
step_peer_failed(struct op *op, const struct child_result *last)
{
	char *peer, *host, *sql = NULL;

	if (last != NULL) {
		if (op_check(op, last, 1))
			op_succeed(op, 1, "peer %s on %s recorded as FAILED", op->peer, op->host);
		return;
	}
	if (op->peer[0] == '\0' || op->host[0] == '\0') {
		op_fail(op, 400, "BadRequest", "fields peer and host are required");
		return;
	}
	peer = sql_quote(op->peer);
	host = sql_quote(op->host);
	if (peer && host)
		sql = sqltpl_render(op->a, "reppeerfailed.sql", "peer", peer, "host", host, NULL);
	free(peer);
	free(host);
	if (sql == NULL) {
		op_fail(op, 500, "InternalError", "out of memory");
		return;
	}
	op_isql(op, sql, NULL, 0);
	free(sql);
}

static void
step_rep_start(struct op *op, const struct child_result *last)
{
	/* TT12026 "The agent is already running for the database" (Oracle's TimesTen error
	 * messages, tt-12026). */
	if (last == NULL)
		op_ttadmin(op, "-repStart", NULL);
	else if (op_tt_error_is(last, 12026))
		op_succeed(op, 0, "the replication agent is already running");
	else if (op_check(op, last, 0))
		op_succeed(op, 1, "replication agent started");
}

static void
step_rep_stop(struct op *op, const struct child_result *last)
{
	/* TT12027 "The agent is already stopped for the database" (tt-12027). */
	if (last == NULL)
		op_ttadmin(op, "-repStop", NULL);
	else if (op_tt_error_is(last, 12027))
		op_succeed(op, 0, "the replication agent is not running");
	else if (op_check(op, last, 0))
		op_succeed(op, 1, "replication agent stopped");
}

/* ---- readiness files ---- */

static void
mark_file(struct op *op, const char *pod_path, int present)
{
	char host[4200], err[256];
	int exists = op_pod_exists(op, pod_path);

	agent_path(op->a, pod_path, host, sizeof(host));
	if (present == exists) {
		op_succeed(op, 0, "%s %s", pod_path, present ? "exists" : "does not exist");
	} else if (present) {
		if (agent_write_file(host, "1\n", 2, 0644, err, sizeof(err)) < 0)
			op_fail(op, 500, "InternalError", "%s", err);
		else
			op_succeed(op, 1, "%s created", pod_path);
	} else if (unlink(host) < 0) {
		op_fail(op, 500, "InternalError", "cannot remove %s: %s", pod_path,
		        strerror(errno));
	} else {
		op_succeed(op, 1, "%s removed", pod_path);
	}
}

static void
step_set_active(struct op *op, const struct child_result *last)
{
	(void)last;
	mark_file(op, "/tmp/active", 1);
}

static void
step_clear_active(struct op *op, const struct child_result *last)
{
	(void)last;
	mark_file(op, "/tmp/active", 0);
}

static void
step_set_ready(struct op *op, const struct child_result *last)
{
	(void)last;
	mark_file(op, "/tmp/readiness", 1);
}

static void
step_clear_ready(struct op *op, const struct child_result *last)
{
	(void)last;
	mark_file(op, "/tmp/readiness", 0);
}

/* ---- duplicate: the one asynchronous operation ---- */

static void
step_duplicate(struct op *op, const struct child_result *last)
{
	char err[256];
	int missing;

	switch (op->stage) {
	case 0: {
		if (op->host[0] == '\0') {
			op_fail(op, 400, "BadRequest", "field host is required");
			return;
		}
		if (default_dsn(op) < 0)
			return;
		default_datastore(op);
		if (!op->from[0])
			snprintf(op->from, sizeof(op->from), "%s", strrchr(op->datastore, '/') + 1);
		if (op_db_files_exist(op)) {
			op_fail(op, 409, "Conflict", "a database exists at %s; destroy it first",
			        op->datastore);
			return;
		}
		char *text = op_read_config(op, "adminUser", &missing);
		if (text == NULL) {
			if (missing)
				op_fail(op, 412, "PreconditionFailed",
				        "duplicate needs the ADMIN user of %s/adminUser",
				        op->a->cfg.config_dir);
			return;
		}
		int rc = userfile_parse(text, &op->user, &op->password, err, sizeof(err));
		explicit_bzero(text, strlen(text));
		free(text);
		if (rc < 0) {
			op_fail(op, 412, "PreconditionFailed", "adminUser: %s", err);
			return;
		}
		const char *argv[] = {"ttVersion", NULL};
		op_run(op, NULL, argv, NULL, op->a->cfg.utility_timeout_ms);
		return;
	}
	case 1: {
		parse_ttversion(last->output, op->release, sizeof(op->release));
		if (write_dsn(op) < 0)
			return;
		/* No -UID and -PWD: ttRepAdmin then prompts for both ("Enter internal UID at
		 * the remote datastore with ADMIN privileges:", "Enter password of the internal
		 * Uid at the remote datastore:"), which its standard input answers, so the
		 * password is never in an argument vector (/proc/PID/cmdline, readable by every
		 * process of a pod sharing its process namespace). */
		const char *argv[24] = {
		    "ttRepAdmin", "-duplicate",        "-from", op->from, "-host",
		    op->host,     "-setMasterRepStart"};
		size_t i = 7;
		if (op->local_ip[0]) {
			argv[i++] = "-localIP";
			argv[i++] = op->local_ip;
		}
		if (op->remote_ip[0]) {
			argv[i++] = "-remoteIP";
			argv[i++] = op->remote_ip;
		}
		argv[i++] = op->dsn;
		argv[i] = NULL;
		const char *secrets[] = {op->password, NULL};
		size_t n = strlen(op->user) + strlen(op->password) + 3;
		char *input = malloc(n);
		if (input == NULL) {
			op_fail(op, 500, "InternalError", "out of memory");
			return;
		}
		snprintf(input, n, "%s\n%s\n", op->user, op->password);
		op_run_input(op, NULL, argv, secrets, input, op->timeout_ms);
		explicit_bzero(input, n);
		free(input);
		return;
	}
	case 2:
		if (op_check(op, last, 0))
			op_ttadmin(op, "-ramPolicy", "manual");
		return;
	case 3:
		if (op_check(op, last, 0))
			op_ttadmin(op, "-ramLoad", NULL);
		return;
	default:
		if (ram_loaded(op, last))
			op_succeed(op, 1, "database %s duplicated from %s on %s", op->dsn, op->from,
			           op->host);
	}
}

/* ---- the table ---- */

static const char *const f_none[] = {"timeoutSeconds", NULL};
static const char *const f_instance[] = {"daemonPort", "serverPort", "timeoutSeconds", NULL};
static const char *const f_force[] = {"force", "timeoutSeconds", NULL};
static const char *const f_create_db[] = {"dsn", "attributes", "timeoutSeconds", NULL};
static const char *const f_scheme[] = {"statement", "timeoutSeconds", NULL};
static const char *const f_state[] = {"state", "statement", "timeoutSeconds", NULL};
static const char *const f_peer[] = {"peer", "host", "timeoutSeconds", NULL};
static const char *const f_files[] = {NULL};
static const char *const f_quiesce[] = {"waitSeconds", "timeoutSeconds", NULL};
static const char *const f_dup[] = {"host",     "from",           "dsn", "attributes", "localIP",
                                    "remoteIP", "timeoutSeconds", NULL};

#define I OP_NEEDS_INSTANCE
#define D (OP_NEEDS_INSTANCE | OP_NEEDS_DSN)

const struct op_def ops_table[] = {
    {"createInstance", 0, f_instance, step_create_instance,
     "ttInstanceCreate the instance at TIMESTEN_HOME"},
    {"startDaemon", I, f_none, step_start_daemon, "ttDaemonAdmin -start"},
    {"stopDaemon", I, f_force, step_stop_daemon, "ttDaemonAdmin -stop"},
    {"createDatabase", I, f_create_db, step_create_database,
     "write the DSN from db.ini, create the database, load it (RAM policy manual)"},
    {"createAdminUser", D, f_none, step_admin_user,
     "create the user of /ttconfig/adminUser with ADMIN"},
    {"runSchema", D, f_none, step_schema, "run /ttconfig/schema.sql"},
    {"createRepScheme", D, f_scheme, step_rep_scheme,
     "run the CREATE ACTIVE STANDBY PAIR statement given"},
    {"setRepState", D, f_state, step_rep_state,
     "ttRepStateSet('ACTIVE') (with a statement: under a scheme made anew after TT8141), "
     "or ttRepDeactivate for IDLE"},
    {"setPeerFailed", D, f_peer, step_peer_failed, "ttRepStateSave('FAILED', peer, host)"},
    {"startRepAgent", D, f_none, step_rep_start, "ttAdmin -repStart"},
    {"stopRepAgent", D, f_none, step_rep_stop, "ttAdmin -repStop"},
    {"setActive", 0, f_files, step_set_active, "create /tmp/active"},
    {"clearActive", 0, f_files, step_clear_active, "remove /tmp/active"},
    {"setReady", 0, f_files, step_set_ready, "create /tmp/readiness"},
    {"clearReady", 0, f_files, step_clear_ready, "remove /tmp/readiness"},
    {"runEpilog", D, f_none, step_epilog, "run /ttconfig/epilog.sql"},
    {"load", D, f_none, step_load, "ttAdmin -ramLoad"},
    {"unload", D, f_none, step_unload, "ttAdmin -ramUnload"},
    {"quiesce", D, f_quiesce, step_quiesce,
     "close the database to users, end their connections, wait for the peer's "
     "acknowledgements"},
    {"openDatabase", D, f_none, step_open_database, "ttAdmin -open"},
    {"destroyDatabase", D | OP_NO_PROBE, f_none, step_destroy,
     "stop replication, unload and ttDestroy the database"},
    {"duplicate", I | OP_ASYNC, f_dup, step_duplicate,
     "ttRepAdmin -duplicate from the peer, then load (asynchronous)"},
    {NULL, 0, NULL, NULL, NULL},
};
