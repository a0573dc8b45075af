/*
 * The pod's TimesTen state as GET /v1/state reports it: probed with ttVersion (once),
 * ttStatus and, when the database is loaded, one ttIsql session; cached for a short time
 * so that frequent polls stay cheap, and one probe serves every GET waiting for it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "agent.h"
#include "ttc/json.h"

const char *const agent_config_files[] = {
    "db.ini",          "adminUser",         "schema.sql", "cacheUser",
    "cachegroups.sql", "tnsnames.ora",      "sqlnet.ora", "epilog.sql",
    "csWallet",        "replicationWallet", "testUser",   NULL,
};

enum probe_step {
	PROBE_VERSION,
	PROBE_STATUS,
	PROBE_ISQL,
	PROBE_DONE,
};

struct probe {
	struct agent *a;
	struct state st;
	unsigned gen;
	enum probe_step step;
	char datastore[1024];
	char sqlfile[512]; /* host path of the probe's SQL file */
	struct child *child;
	struct tt_status tts;
};

struct state_cache {
	struct state cur;
	int valid;        /* a probe has completed */
	unsigned gen;     /* bumped by every invalidation */
	unsigned cur_gen; /* the generation cur was probed at */
	char release[32]; /* ttVersion's answer, kept while the instance exists */
	struct probe *probe;
	struct hold_list waiters;
	int nwaiters;
	unsigned long probes; /* for tests and logs */
};

static void probe_next(struct probe *p);

static void
set(char *dst, const char *v)
{
	snprintf(dst, 16, "%.15s", v);
}

static int
pod_file_exists(struct agent *a, const char *pod_path)
{
	char host[4200];

	return access(agent_path(a, pod_path, host, sizeof(host)), F_OK) == 0;
}

/* A number from a cgroup file: bytes, -2 for "max" (or v1's huge no-limit value), -1. */
static long long
cgroup_value(struct agent *a, const char *pod_path)
{
	char host[4200], *text;
	long long v = -1;

	agent_path(a, pod_path, host, sizeof(host));
	if ((text = agent_read_file(host, 256, NULL)) == NULL)
		return -1;
	if (strncmp(text, "max", 3) == 0) {
		v = -2;
	} else {
		char *end;
		errno = 0;
		unsigned long long u = strtoull(text, &end, 10);
		if (errno == 0 && end != text)
			v = u >= (1ULL << 62) ? -2 : (long long)u;
	}
	free(text);
	return v;
}

/* The agent's resident set (VmRSS of /proc/self/status), in KB; -1 when unreadable. */
static long long
own_rss_kb(void)
{
	char *text = agent_read_file("/proc/self/status", 8192, NULL), *line;
	long long kb = -1;

	if (text != NULL && (line = strstr(text, "\nVmRSS:")) != NULL)
		kb = strtoll(line + 8, NULL, 10);
	free(text);
	return kb;
}

static void
read_memory(struct agent *a, struct state *st)
{
	st->rss_kb = own_rss_kb();
	st->mem_limit = cgroup_value(a, "/sys/fs/cgroup/memory.max");
	st->mem_usage = cgroup_value(a, "/sys/fs/cgroup/memory.current");
	if (st->mem_limit == -1 && st->mem_usage == -1) { /* cgroup v1 */
		st->mem_limit = cgroup_value(a, "/sys/fs/cgroup/memory/memory.limit_in_bytes");
		st->mem_usage = cgroup_value(a, "/sys/fs/cgroup/memory/memory.usage_in_bytes");
	}
}

/* The database this pod holds: the object's DSN, when sys.odbc.ini has it, and its
 * DataStore. Other DSNs the file may list are not this pod's database. */
static void
find_database(struct agent *a, struct probe *p)
{
	char pod[4200], host[4300], *text;

	snprintf(pod, sizeof(pod), "%s/conf/sys.odbc.ini", a->cfg.timesten_home);
	agent_path(a, pod, host, sizeof(host));
	text = agent_read_file(host, AGENT_MAX_FILE, NULL);
	snprintf(p->st.dsn, sizeof(p->st.dsn), "%s", a->cfg.dsn);
	if (text == NULL || !a->cfg.dsn[0] ||
	    odbcini_datastore(text, a->cfg.dsn, p->datastore, sizeof(p->datastore)) < 0) {
		p->st.dsn[0] = '\0';
		p->datastore[0] = '\0';
	}
	free(text);
}

static void
probe_start_cheap(struct probe *p)
{
	struct agent *a = p->a;
	struct state *st = &p->st;
	char pod[4200];

	clock_gettime(CLOCK_MONOTONIC, &st->probed);
	st->probed_wall = time(NULL);
	set(st->daemon, "Unknown");
	set(st->database, "Unknown");
	set(st->open, "Unknown");
	st->db_id = -1;
	set(st->updatable, "Unknown");
	set(st->rep_agent, "Unknown");
	set(st->rep_scheme, "Unknown");
	set(st->rep_state, "Unknown");
	set(st->peer_state, "Unknown");
	set(st->cache_agent, "Unknown");
	snprintf(st->release, sizeof(st->release), "Unknown");
	for (size_t i = 0; agent_config_files[i]; i++) {
		snprintf(pod, sizeof(pod), "%s/%s", a->cfg.config_dir, agent_config_files[i]);
		if (pod_file_exists(a, pod))
			st->config_files |= 1u << i;
	}
	st->active_file = pod_file_exists(a, "/tmp/active");
	st->ready_file = pod_file_exists(a, "/tmp/readiness");
	read_memory(a, st);

	snprintf(pod, sizeof(pod), "%s/conf/timesten.conf", a->cfg.timesten_home);
	int conf = pod_file_exists(a, pod);
	snprintf(pod, sizeof(pod), "%s/bin/ttenv.sh", a->cfg.timesten_home);
	if (!conf || !pod_file_exists(a, pod)) {
		/* No instance: nothing of TimesTen can run here. */
		set(st->instance, "None");
		set(st->daemon, "Down");
		set(st->database, "None");
		set(st->updatable, "No");
		set(st->rep_agent, "Not Running");
		set(st->rep_scheme, "None");
		set(st->cache_agent, "Not Running");
		a->state->release[0] = '\0';
		p->step = PROBE_DONE;
		return;
	}
	set(st->instance, "Exists");
	find_database(a, p);
	p->step = a->state->release[0] ? PROBE_STATUS : PROBE_VERSION;
	if (a->state->release[0])
		snprintf(st->release, sizeof(st->release), "%s", a->state->release);
}

/* Fills the state from ttStatus's answer; says whether the database can be queried. */
static int
apply_ttstatus(struct probe *p, const struct child_result *r)
{
	struct state *st = &p->st;
	struct tt_status *t = &p->tts;
	char host[4200];

	if (parse_ttstatus(r->output, p->datastore[0] ? p->datastore : NULL, t) < 0) {
		char how[96];
		snprintf(st->error, sizeof(st->error), "ttStatus %s; its output was not understood",
		         child_describe(r, how, sizeof(how)));
		return 0;
	}
	set(st->daemon, t->daemon_up ? "Up" : "Down");
	if (!t->daemon_up || st->dsn[0] == '\0' || !t->db_found) {
		/* Without a daemon, or with no block for it, a database is only its files. */
		int files = 0;
		if (p->datastore[0]) {
			char pod[1100];
			snprintf(pod, sizeof(pod), "%s.ds0", p->datastore);
			files = access(agent_path(p->a, pod, host, sizeof(host)), F_OK) == 0;
			snprintf(pod, sizeof(pod), "%s.ds1", p->datastore);
			files =
			    files || access(agent_path(p->a, pod, host, sizeof(host)), F_OK) == 0;
		}
		set(st->database, files ? "Unloaded" : "None");
		set(st->updatable, "No");
		set(st->rep_agent, "Not Running");
		set(st->cache_agent, "Not Running");
		if (!files)
			set(st->rep_scheme, "None");
		return 0;
	}
	set(st->database, t->db_loaded ? "Loaded" : "Unloaded");
	if (t->db_loaded) {
		set(st->open, t->db_open == 1 ? "Yes" : t->db_open == 0 ? "No" : "Unknown");
		st->db_id = t->shm_id;
	}
	set(st->rep_agent, t->rep_agent == 1 ? "Running" : "Not Running");
	set(st->cache_agent, t->cache_agent == 1 ? "Running" : "Not Running");
	if (!t->db_loaded)
		set(st->updatable, "No");
	if (t->db_loaded && ops_probe_kept_out(p->a)) {
		/* A connection of ours would hold up the destroy waiting for the last one. */
		set(st->updatable, "No");
		return 0;
	}
	return t->db_loaded;
}

static void
apply_isql(struct probe *p, const struct child_result *r)
{
	struct state *st = &p->st;
	char buf[32];
	int schemes = parse_repschemes(r->output);

	if (parse_repstate(r->output, buf, sizeof(buf)) == 0)
		set(st->rep_state, buf);
	if (schemes >= 0)
		set(st->rep_scheme, schemes > 0 ? "Exists" : "None");
	if (schemes > 0 && parse_repstatus(r->output, buf, sizeof(buf)) == 0)
		set(st->peer_state, buf);
	if (schemes == 0)
		set(st->peer_state, "Unknown");
	if (schemes < 0 || strcmp(st->rep_state, "Unknown") == 0) {
		char err[200] = "";
		parse_tt_error(r->output, err, sizeof(err));
		snprintf(st->error, sizeof(st->error), "ttIsql: %s",
		         err[0] ? err : "the replication state was not understood");
	}
	/* Updatable: a loaded, open database with no scheme, or the ACTIVE of a pair. */
	if (p->tts.db_open != 1)
		set(st->updatable, "No");
	else if (schemes == 0)
		set(st->updatable, "Yes");
	else if (schemes > 0 && strcmp(st->rep_state, "Unknown") != 0)
		set(st->updatable, strcmp(st->rep_state, "ACTIVE") == 0 ? "Yes" : "No");
}

static void
probe_done(struct child_result *r, void *arg)
{
	struct probe *p = arg;
	struct agent *a = p->a;

	p->child = NULL;
	switch (p->step) {
	case PROBE_VERSION:
		if (parse_ttversion(r->output, a->state->release, sizeof(a->state->release)) == 0)
			snprintf(p->st.release, sizeof(p->st.release), "%s", a->state->release);
		p->step = PROBE_STATUS;
		break;
	case PROBE_STATUS:
		p->step = apply_ttstatus(p, r) ? PROBE_ISQL : PROBE_DONE;
		break;
	case PROBE_ISQL:
		apply_isql(p, r);
		unlink(p->sqlfile);
		p->step = PROBE_DONE;
		break;
	case PROBE_DONE:
		break;
	}
	child_result_free(r);
	probe_next(p);
}

static void
probe_finish(struct probe *p)
{
	struct agent *a = p->a;
	struct state_cache *sc = a->state;
	struct hold *h;

	sc->probe = NULL;
	sc->cur = p->st;
	sc->cur_gen = p->gen;
	sc->valid = 1;
	sc->probes++;
	log_debug("state", "probed", "daemon", p->st.daemon, "database", p->st.database,
	          "rep_state", p->st.rep_state, NULL);
	free(p);
	while ((h = TAILQ_FIRST(&sc->waiters)) != NULL) {
		TAILQ_REMOVE(&sc->waiters, h, entry);
		sc->nwaiters--;
		evhtp_request_t *req = hold_release(h);
		size_t len;
		char *json = state_json(a, &sc->cur, &len);
		if (json == NULL)
			api_error(req, 500, "InternalError", "cannot write the state");
		else
			api_reply_json(req, 200, json, len);
	}
}

static void
probe_run(struct probe *p, const char *utility, const char *const *argv)
{
	char exe[4200];

	p->child = child_run(p->a, agent_utility(p->a, utility, exe, sizeof(exe)), argv, NULL, NULL,
	                     p->a->cfg.utility_timeout_ms, probe_done, p);
	if (p->child == NULL) {
		snprintf(p->st.error, sizeof(p->st.error), "cannot run %s", utility);
		p->step = PROBE_DONE;
		probe_next(p);
	}
}

static void
probe_next(struct probe *p)
{
	struct agent *a = p->a;

	switch (p->step) {
	case PROBE_VERSION: {
		const char *argv[] = {"ttVersion", NULL};
		probe_run(p, "ttVersion", argv);
		return;
	}
	case PROBE_STATUS: {
		const char *argv[] = {"ttStatus", NULL};
		probe_run(p, "ttStatus", argv);
		return;
	}
	case PROBE_ISQL: {
		char *sql = sqltpl_render(a, "state.sql", NULL);
		char pod[600], connstr[200], err[256];
		snprintf(pod, sizeof(pod), "%s/state.sql", a->tmpdir);
		agent_path(a, pod, p->sqlfile, sizeof(p->sqlfile));
		snprintf(connstr, sizeof(connstr), "DSN=%s;AutoCreate=0", p->st.dsn);
		if (sql == NULL ||
		    agent_write_file(p->sqlfile, sql, strlen(sql), 0600, err, sizeof(err)) < 0) {
			snprintf(p->st.error, sizeof(p->st.error), "cannot write the probe's SQL");
			free(sql);
			p->step = PROBE_DONE;
			break;
		}
		free(sql);
		/* Verbosity 2: "N replication schemes found." is a summary line. */
		const char *argv[] = {"ttIsql", "-v2", "-f", pod, "-connStr", connstr, NULL};
		probe_run(p, "ttIsql", argv);
		return;
	}
	case PROBE_DONE:
		break;
	}
	probe_finish(p);
}

static void
probe_start(struct agent *a)
{
	struct probe *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		log_error("state", "out of memory", NULL);
		return;
	}
	p->a = a;
	p->gen = a->state->gen;
	a->state->probe = p;
	probe_start_cheap(p);
	probe_next(p);
}

static double
age_seconds(const struct state *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - s->probed.tv_sec) + (now.tv_nsec - s->probed.tv_nsec) / 1e9;
}

static void
waiter_gone(void *arg, struct hold *h)
{
	struct state_cache *sc = arg;

	TAILQ_REMOVE(&sc->waiters, h, entry);
	sc->nwaiters--;
}

void
state_get(struct agent *a, evhtp_request_t *req)
{
	struct state_cache *sc = a->state;
	struct hold *h;

	if (sc->valid && sc->cur_gen == sc->gen &&
	    age_seconds(&sc->cur) * 1000 < (double)a->cfg.state_max_age_ms) {
		size_t len;
		char *json = state_json(a, &sc->cur, &len);
		if (json == NULL)
			api_error(req, 500, "InternalError", "cannot write the state");
		else
			api_reply_json(req, 200, json, len);
		return;
	}
	if (sc->nwaiters >= STATE_WAITERS_MAX) {
		api_error(req, 503, "TooManyRequests", "too many state requests are waiting");
		return;
	}
	if ((h = hold_request(req, waiter_gone, sc)) == NULL) {
		api_error(req, 500, "InternalError", "out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&sc->waiters, h, entry);
	sc->nwaiters++;
	if (sc->probe == NULL)
		probe_start(a);
}

void
state_invalidate(struct agent *a)
{
	a->state->gen++;
}

int
state_known_passive(struct agent *a)
{
	const struct state_cache *sc = a->state;
	const struct state *s;

	if (sc == NULL || !sc->valid || sc->cur_gen != sc->gen)
		return 0; /* not probed since the last order: anything may have changed */
	s = &sc->cur;
	if (strcmp(s->instance, "None") == 0 || strcmp(s->daemon, "Down") == 0 ||
	    strcmp(s->database, "None") == 0 || strcmp(s->database, "Unloaded") == 0 ||
	    strcmp(s->rep_scheme, "None") == 0)
		return 1;
	return strcmp(s->rep_state, "STANDBY") == 0 || strcmp(s->rep_state, "IDLE") == 0 ||
	       strcmp(s->rep_state, "FAILED") == 0 || strcmp(s->rep_state, "RECOVERING") == 0;
}

static void
jw_bytes(struct jw *w, const char *k, long long v)
{
	jw_key(w, k);
	if (v >= 0)
		jw_int(w, v);
	else
		jw_str(w, v == -2 ? "Unlimited" : "Unknown");
}

static void
jw_time(struct jw *w, const char *k, time_t t)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_kstr(w, k, buf);
}

char *
state_json(struct agent *a, const struct state *s, size_t *len)
{
	struct jw w;

	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "apiVersion", "v1");
	jw_key(&w, "agent");
	jw_obj(&w);
	jw_kstr(&w, "status", "Up");
	jw_kstr(&w, "version", PACKAGE_VERSION);
	jw_kint(&w, "pid", getpid());
	jw_time(&w, "started", a->started);
	jw_obj_end(&w);
	jw_time(&w, "probed", s->probed_wall);
	jw_kint(&w, "ageMilliseconds", (long long)(age_seconds(s) * 1000));
	jw_kstr(&w, "instance", s->instance);
	jw_kstr(&w, "daemon", s->daemon);
	jw_kstr(&w, "release", s->release);
	jw_kstr(&w, "dsn", s->dsn[0] ? s->dsn : "Unknown");
	jw_kstr(&w, "database", s->database);
	jw_key(&w, "dbId");
	if (s->db_id >= 0)
		jw_int(&w, s->db_id);
	else
		jw_str(&w, "Unknown");
	jw_kstr(&w, "open", s->open);
	jw_kstr(&w, "updatable", s->updatable);
	jw_kstr(&w, "repAgent", s->rep_agent);
	jw_kstr(&w, "repScheme", s->rep_scheme);
	jw_kstr(&w, "repState", s->rep_state);
	jw_kstr(&w, "peerState", s->peer_state);
	jw_kstr(&w, "cacheAgent", s->cache_agent);
	jw_key(&w, "configFiles");
	jw_arr(&w);
	for (size_t i = 0; agent_config_files[i]; i++)
		if (s->config_files & (1u << i))
			jw_str(&w, agent_config_files[i]);
	jw_arr_end(&w);
	jw_key(&w, "memory");
	jw_obj(&w);
	jw_bytes(&w, "limitBytes", s->mem_limit);
	jw_bytes(&w, "usageBytes", s->mem_usage);
	jw_bytes(&w, "agentRssKB", s->rss_kb);
	jw_obj_end(&w);
	jw_kbool(&w, "active", s->active_file);
	jw_kbool(&w, "ready", s->ready_file);
	if (s->error[0])
		jw_kstr(&w, "error", s->error);
	ops_state_json(a, &w);
	jw_key(&w, "lease");
	jw_obj(&w);
	lease_json(a, &w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, len);
}

int
state_init(struct agent *a)
{
	if ((a->state = calloc(1, sizeof(*a->state))) == NULL)
		return -1;
	TAILQ_INIT(&a->state->waiters);
	return 0;
}

void
state_shutdown(struct agent *a)
{
	struct state_cache *sc = a->state;
	struct hold *h;

	if (sc == NULL)
		return;
	if (sc->probe) {
		child_cancel(sc->probe->child);
		free(sc->probe);
	}
	while ((h = TAILQ_FIRST(&sc->waiters)) != NULL) {
		TAILQ_REMOVE(&sc->waiters, h, entry);
		evhtp_request_t *req = hold_release(h);
		api_error(req, 503, "ShuttingDown", "the agent is stopping");
	}
	free(sc);
	a->state = NULL;
}
