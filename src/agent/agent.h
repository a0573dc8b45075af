/*
 * ttagent's world: the agent context, the child processes that run TimesTen utilities,
 * the parsed state of TimesTen in this pod, and the operations the operator can order.
 */
#ifndef AGENT_H
#define AGENT_H

#include <stddef.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <time.h>

#include <evhtp.h>

#include "ttc/log.h"

#define AGENT_NAME "ttagent"
#define AGENT_DEFAULT_PORT 8443
#define AGENT_MAX_BODY (64 * 1024)       /* request bodies larger than this get 413 */
#define AGENT_MAX_OUTPUT (64 * 1024)     /* bytes of a utility's output kept */
#define AGENT_MAX_FILE (4 * 1024 * 1024) /* largest /ttconfig file read */
#define AGENT_ASYNC_KEEP 8               /* finished asynchronous operations remembered */

/* The agent's settings: from flags and the environment, fixed after start-up. */
struct agent_config {
	char *listen;                 /* "HOST:PORT" */
	char *pod_root;               /* host directory standing for "/" in the pod ("" on a pod) */
	char *timesten_home;          /* in-pod path of the instance */
	char *installation;           /* in-pod path of the installation (bin/ttInstanceCreate) */
	char *cert_dir;               /* in-pod path of the agent Secret */
	char *config_dir;             /* in-pod path of the metadata files */
	char *sql_dir;                /* host path of the SQL templates */
	char *hostname;               /* the pod's host name */
	char dsn[64];                 /* the object's DSN: $TT_DSN, else from the host name */
	long long state_max_age_ms;   /* how long a probed state is served from the cache */
	long long cert_check_ms;      /* how often the certificate files are looked at */
	long long utility_timeout_ms; /* default time limit of one utility */
	long long async_timeout_ms;   /* time limit of the duplicate */
	long long stop_timeout_ms;    /* SIGTERM: how long stopping TimesTen may take; 0 none */
	int daemon_port, server_port;
};

/* ---- child.c: TimesTen utilities run as child processes ---- */

struct child_result {
	char *command;    /* for display: program name and arguments, secrets redacted */
	int exit_code;    /* exit status, or -1 when killed by a signal */
	int signal;       /* the signal that ended it, 0 if none */
	int timed_out;    /* killed because it ran past its time limit */
	int spawn_failed; /* could not be started at all (output says why) */
	char *output;     /* stdout and stderr as they came, NUL-terminated, secrets scrubbed */
	size_t len;
	int truncated; /* output was longer than AGENT_MAX_OUTPUT */
	double seconds;
};

struct child;
struct agent;
typedef void (*child_done_fn)(struct child_result *res, void *arg);

/*
 * Runs exe (a host path) with argv (argv[0] is the utility's name) and the agent's
 * environment, its standard input reading input (NULL: /dev/null; at most PIPE_BUF
 * bytes). Strings in secrets (NULL-terminated, may be NULL) are replaced by
 * "[redacted]" in the command shown and in the output. done is called once, from the
 * loop, with a result it must free with child_result_free(). NULL if it cannot start.
 */
struct child *child_run(struct agent *a, const char *exe, const char *const *argv,
                        const char *const *secrets, const char *input, long long timeout_ms,
                        child_done_fn done, void *arg);
/* Kills a running child; its done callback is not called. */
void child_cancel(struct child *c);
void child_result_free(struct child_result *r);
int child_init(struct agent *a);
void child_shutdown(struct agent *a);
/* One line saying how a utility ended: "exited with 1", "killed after 120 s"... */
const char *child_describe(const struct child_result *r, char *buf, size_t n);

/* ---- parse.c: what TimesTen utilities print ---- */

#define AGENT_TRI_UNKNOWN (-1)

/* What ttStatus says about the daemon and one database. */
struct tt_status {
	int daemon_up; /* 1, 0, or AGENT_TRI_UNKNOWN when the output is not understood */
	long daemon_pid;
	int daemon_port;
	char instance[64];
	int db_found;    /* a "Data store <path>" block for the database */
	int db_loaded;   /* the block shows shared memory or subdaemons */
	int db_open;     /* "Open for user connections" 1, "Closed to user connections" 0 */
	int rep_agent;   /* Replication rows */
	int cache_agent; /* Cache Agent rows or "Cache agent is running." */
	int connections; /* "There are N connections", 0 for "no connections" */
	int app_connections; /* Process (direct) and Server (client/server) rows */
	long shm_id;         /* "Shared Memory Key 0x0f00307d ID 8": 8; -1 when not said */
	char rep_policy[16];
	char cache_policy[16];
};

int parse_ttstatus(const char *out, const char *datastore, struct tt_status *st);
/* "22.1.1.18.0" from ttVersion's first line into buf; 0 or -1. */
int parse_ttversion(const char *out, char *buf, size_t n);
/* Whether ttIsql output reports a failed command ("The command failed."). */
int parse_isql_failed(const char *out);
/* The first TimesTen error of ttIsql or ttAdmin output ("8191: This store ...") into buf. */
int parse_tt_error(const char *out, char *buf, size_t n);
/* The rep state from "< ACTIVE >" rows into buf; 0 or -1. */
int parse_repstate(const char *out, char *buf, size_t n);
/* The number of replication schemes "repschemes;" found; -1 when not said. */
int parse_repschemes(const char *out);
/* The peer's state from ttReplicationStatus rows ("start", "failed"...); 0 or -1. */
int parse_repstatus(const char *out, char *buf, size_t n);
/* ttRepSubscriberWait's row: 0 for "< 00 >" (every commit acknowledged), 1 for "< 01 >"
 * (the wait ran out), -1 when there is no such row. */
int parse_repwait(const char *out);

/* One attribute line of db.ini or a DSN. */
struct kv {
	char *key, *value;
};

/* Parses db.ini text: "Key=Value" lines, ';' or '#' comments, blank lines. The keys
 * DataStore and LogDir are refused (the agent places the database). */
int dbini_parse(const char *text, struct kv **out, size_t *n, char *err, size_t errlen);
void kv_free(struct kv *kvs, size_t n);
/* "user/password" of adminUser into malloc'd strings. */
int userfile_parse(const char *text, char **user, char **password, char *err, size_t errlen);

/* ---- odbcini.c: the instance's sys.odbc.ini ---- */

/* Text of sys.odbc.ini with the DSN dsn set to these attributes, from the old text
 * (may be NULL): other DSNs are kept. Malloc'd, or NULL with err. */
char *odbcini_set_dsn(const char *old, const char *dsn, const char *driver, const struct kv *kvs,
                      size_t n, char *err, size_t errlen);
/* The DataStore of the named DSN; 0 or -1. */
int odbcini_datastore(const char *text, const char *dsn, char *datastore, size_t dslen);

/* ---- sqltpl.c: SQL templates from the image ---- */

/* Reads every template the agent needs from dir; -1 (logged) when one is missing. */
int sqltpl_load(struct agent *a, const char *dir);
void sqltpl_free(struct agent *a);
/*
 * Renders template name with {{key}} replaced by values (pairs of key, value ending in
 * NULL). Values are inserted as they are: callers quote them (sql_quote). Malloc'd.
 */
char *sqltpl_render(struct agent *a, const char *name, ...) __attribute__((sentinel));
/* 'text' as an SQL string literal, quotes doubled; "name" as a quoted identifier. */
char *sql_quote(const char *text);
char *sql_quote_ident(const char *name);

/* ---- state.c: the pod's TimesTen state, probed and cached ---- */

#define STATE_WAITERS_MAX 1024

struct state {
	struct timespec probed; /* when (CLOCK_MONOTONIC) */
	time_t probed_wall;
	char instance[16];              /* Exists, None */
	char daemon[16];                /* Up, Down, Unknown */
	char release[32];               /* 22.1.1.18.0 or Unknown */
	char database[16];              /* None, Loaded, Unloaded, Unknown */
	char dsn[64];                   /* the database's DSN, "" when none */
	long long db_id;                /* its shared memory segment's ID; -1 unknown */
	char open[16];                  /* Yes, No (closed to user connections), Unknown */
	char updatable[16];             /* Yes, No, Unknown */
	char rep_agent[16];             /* Running, Not Running, Unknown */
	char rep_scheme[16];            /* Exists, None, Unknown */
	char rep_state[16];             /* IDLE, ACTIVE, STANDBY, FAILED, RECOVERING, Unknown */
	char peer_state[16];            /* start, pause, stop, failed, Unknown */
	char cache_agent[16];           /* Running, Not Running, Unknown */
	long long mem_limit, mem_usage; /* bytes; -1 unknown, -2 unlimited */
	long long rss_kb;               /* the agent's own VmRSS; -1 unknown */
	unsigned config_files;          /* bit i: agent_config_files[i] exists */
	int active_file, ready_file;
	char error[256]; /* why something is Unknown, for the curious */
};

extern const char *const agent_config_files[];

int state_init(struct agent *a);
void state_shutdown(struct agent *a);
/* Answers req with the state, probing first when the cached one is too old. */
void state_get(struct agent *a, evhtp_request_t *req);
/* Marks the cache stale (after an operation changed TimesTen). */
void state_invalidate(struct agent *a);
/* Whether the state probed since the last order shows a database that cannot be a pair's
 * active: no instance, daemon or loaded database, no replication scheme (a database of
 * its own), or a rep state other than ACTIVE. 0 when not known. */
int state_known_passive(struct agent *a);
/* Whether an operation is running. */
int ops_running(struct agent *a);
/* Writes the state as JSON (used by the GET and by tests). */
char *state_json(struct agent *a, const struct state *s, size_t *len);

/* ---- ops.c: the operations ---- */

int ops_init(struct agent *a);
void ops_shutdown(struct agent *a);
/* POST /v1/ops/NAME */
void ops_post(struct agent *a, evhtp_request_t *req, const char *name);
/* GET /v1/ops: the operation names */
void ops_list(struct agent *a, evhtp_request_t *req);
/* GET /v1/async/ID */
void ops_async_get(struct agent *a, evhtp_request_t *req, const char *id);
/* Stops TimesTen cleanly (SIGTERM): the running operation is cancelled, then the replication
 * agent, the database (its applications disconnected, then unloaded) and the daemon are
 * stopped; done is called at the end. -1 (done not called) when it cannot start. */
int ops_stop(struct agent *a, void (*done)(struct agent *a));
/* Whether the running operation keeps the state probe from connecting to the database
 * (destroyDatabase waits for the last connection to end). */
int ops_probe_kept_out(struct agent *a);
/* Adds the running and last asynchronous operation to a state document. */
struct jw;
void ops_state_json(struct agent *a, struct jw *w);

/* ---- lease.c: the active's self-fencing lease (docs/fencing.md) ---- */

struct lease;
int lease_init(struct agent *a);
void lease_free(struct agent *a);
/* POST /v1/lease {"seconds": L} */
void lease_post(struct agent *a, evhtp_request_t *req);
/* Adds the lease's fields (seconds, remainingMs, selfFenced, outcome) to an object. */
void lease_json(struct agent *a, struct jw *w);

/* ---- api.c: the HTTP API ---- */

int api_init(struct agent *a);
/* Writes an error reply {"code","reason","message"}. */
void api_error(evhtp_request_t *req, int code, const char *reason, const char *message);
/* Replies with a JSON document (taken over and freed). */
void api_reply_json(evhtp_request_t *req, int code, char *json, size_t len);
/* Request bodies: the parsed JSON object of req (an empty body is {}), or NULL after
 * replying 400/413/415 itself. */
struct yajl_val_s;
struct yajl_val_s *api_body(evhtp_request_t *req);
/* The checks of api_body on text (n bytes, as it came): the object, or NULL with the HTTP
 * status (400, 413) in *code and the reason in msg. */
struct yajl_val_s *api_parse_body(const char *text, size_t n, int *code, char *msg, size_t msglen);

/* ---- hold.c: requests answered later (after a probe or an operation) ---- */

struct hold {
	TAILQ_ENTRY(hold) entry;
	evhtp_request_t *req;
	void (*gone)(void *arg, struct hold *h); /* the client went away; h is freed after */
	void *arg;
};
TAILQ_HEAD(hold_list, hold);

/* Pauses req until hold_release; gone is called if the connection closes first. */
struct hold *hold_request(evhtp_request_t *req, void (*gone)(void *arg, struct hold *h), void *arg);
/* Frees h and returns its request, resumed and ready for a reply. */
evhtp_request_t *hold_release(struct hold *h);

/* ---- agent.c: the context, paths, TLS ---- */

struct httpd;
struct sqltpl;
struct state_cache;
struct ops;
struct children;

struct agent {
	struct agent_config cfg;
	struct event_base *base;
	struct httpd *httpd;
	SSL_CTX *ssl_ctx;
	struct event *sig_term, *sig_int, *cert_timer;
	struct event *stop_timer; /* the time limit of stopping TimesTen after SIGTERM */
	int stopping;             /* a SIGTERM or SIGINT came */
	char cert_stamp[256]; /* identity of the certificate files last loaded */
	char tmpdir[256];     /* in-pod path of the private directory for SQL files */
	time_t started;
	char boot_id[16]; /* distinguishes this run's asynchronous ids */
	struct sqltpl *sql;
	struct state_cache *state;
	struct ops *ops;
	struct lease *lease;
	struct children *children;
};

/* The host path of an in-pod absolute path ($POD_ROOT + path) into buf. */
const char *agent_path(const struct agent *a, const char *pod_path, char *buf, size_t n);
/* Reads a whole file (host path) of at most max bytes; malloc'd NUL-terminated, or NULL
 * with errno set (EFBIG when larger). */
char *agent_read_file(const char *host_path, size_t max, size_t *len);
/* Writes a file atomically (temporary file + rename) with mode; 0 or -1 with err. */
int agent_write_file(const char *host_path, const char *data, size_t len, int mode, char *err,
                     size_t errlen);
/* The host path of a utility: $TIMESTEN_HOME/bin/NAME, else $TIMESTEN_HOME/install/bin. */
const char *agent_utility(const struct agent *a, const char *name, char *buf, size_t n);

int agent_init(struct agent *a);
void agent_run(struct agent *a);
void agent_cleanup(struct agent *a);

#endif
