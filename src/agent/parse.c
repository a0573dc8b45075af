/*
 * Parsers for what TimesTen utilities print (ttStatus, ttVersion, ttIsql, ttAdmin) and for
 * the metadata files in /ttconfig (db.ini, adminUser). The formats are the documented
 * ones; anything not understood yields -1 so that the state says Unknown, never a guess.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"
#include "ttc/userfile.h"

/* Copies line number i of text (without its newline, at most n-1 bytes) into buf. */
static const char *
next_line(const char *p, char *buf, size_t n)
{
	const char *nl;
	size_t len;

	if (p == NULL || *p == '\0')
		return NULL;
	nl = strchr(p, '\n');
	len = nl ? (size_t)(nl - p) : strlen(p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return nl ? nl + 1 : p + strlen(p);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* The k-th (0-based) whitespace-separated word of line into buf; 0 or -1. */
static int
word(const char *line, int k, char *buf, size_t n)
{
	const char *p = line;

	for (int i = 0;; i++) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return -1;
		const char *e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		if (i == k) {
			size_t len = (size_t)(e - p) < n - 1 ? (size_t)(e - p) : n - 1;
			memcpy(buf, p, len);
			buf[len] = '\0';
			return 0;
		}
		p = e;
	}
}

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/*
 * ttStatus's report as Oracle documents and publishes it (ttStatus in the Reference, and
 * its 22.1 output in Oracle's own samples): "Could not connect to the TimesTen daemon.",
 * "Daemon pid N port N instance NAME", a "Data store PATH" block per database with "There
 * are N connections to the data store" or "There are no connections to the data store",
 * "Shared Memory Key 0x... ID N" and rows "%-16s%-8s%-20s%-30.30s%5d" (Type, PID,
 * Context, Connection Name, ConnID) when loaded, "Open for user connections", the policy
 * lines and "Cache agent is running.". The wording for a closed database is not
 * published; "Closed to user connections" is the simulator's, and any other leaves
 * db_open Unknown, never Yes.
 */
int
parse_ttstatus(const char *out, const char *datastore, struct tt_status *st)
{
	char line[512], w[64];
	const char *p = out;
	int in_block = 0, shm = 0, subdaemons = 0;

	memset(st, 0, sizeof(*st));
	st->daemon_up = AGENT_TRI_UNKNOWN;
	st->db_loaded = st->db_open = st->rep_agent = st->cache_agent = AGENT_TRI_UNKNOWN;
	st->connections = -1;
	st->shm_id = -1;
	while ((p = next_line(p, line, sizeof(line))) != NULL) {
		char *t = trim(line);
		if (strstr(t, "Could not connect to the TimesTen daemon") != NULL) {
			st->daemon_up = 0;
			continue;
		}
		if (st->daemon_up != 1 && strncmp(t, "Daemon pid ", 11) == 0) {
			char inst[64] = "";
			if (sscanf(t, "Daemon pid %ld port %d instance %63s", &st->daemon_pid,
			           &st->daemon_port, inst) >= 2) {
				st->daemon_up = 1;
				copy(st->instance, sizeof(st->instance), inst);
			}
			continue;
		}
		if (strncmp(t, "Data store ", 11) == 0) {
			in_block = datastore != NULL && strcmp(trim(t + 11), datastore) == 0;
			if (in_block) {
				st->db_found = 1;
				st->rep_agent = st->cache_agent = 0;
			}
			continue;
		}
		if (strncmp(t, "-----", 5) == 0 || strcmp(t, "End of report") == 0) {
			in_block = 0;
			continue;
		}
		if (!in_block)
			continue;
		/* "Key" in 22.1's samples, "KEY" in 11.2's and in the 22.1 reference's. */
		if (strncasecmp(t, "Shared Memory Key ", 18) == 0) {
			char *id = strstr(t + 18, " ID ");
			shm = 1;
			if (id != NULL && word(id, 1, w, sizeof(w)) == 0 && all_digits(w) &&
			    strlen(w) <= 10)
				st->shm_id = atol(w);
		} else if (strcmp(t, "There are no connections to the data store") == 0) {
			st->connections = 0;
		} else if (sscanf(t, "There are %d connections", &st->connections) == 1) {
			;
		} else if (strcmp(t, "Open for user connections") == 0) {
			st->db_open = 1;
		} else if (strcmp(t, "Closed to user connections") == 0) {
			st->db_open = 0;
		} else if ((strncmp(t, "Process ", 8) == 0 || strncmp(t, "Server ", 7) == 0) &&
		           word(t, 1, w, sizeof(w)) == 0 && all_digits(w)) {
			st->app_connections++;
		} else if (strcmp(t, "Cache agent is running.") == 0) {
			st->cache_agent = 1;
		} else if (strncmp(t, "Replication policy", 18) == 0 && strchr(t, ':')) {
			copy(st->rep_policy, sizeof(st->rep_policy), trim(strchr(t, ':') + 1));
		} else if (strncmp(t, "Cache Agent policy", 18) == 0 && strchr(t, ':')) {
			copy(st->cache_policy, sizeof(st->cache_policy), trim(strchr(t, ':') + 1));
		} else if (strncmp(t, "Subdaemon ", 10) == 0 && word(t, 1, w, sizeof(w)) == 0 &&
		           all_digits(w)) {
			subdaemons = 1;
		} else if (strncmp(t, "Replication ", 12) == 0 && word(t, 1, w, sizeof(w)) == 0 &&
		           all_digits(w)) {
			st->rep_agent = 1;
		} else if (strncmp(t, "Cache Agent ", 12) == 0 && word(t, 2, w, sizeof(w)) == 0 &&
		           all_digits(w)) {
			st->cache_agent = 1;
		}
	}
	if (st->db_found) {
		st->db_loaded = shm || subdaemons;
		if (st->connections < 0)
			st->connections = 0;
	}
	return st->daemon_up == AGENT_TRI_UNKNOWN ? -1 : 0;
}

int
parse_ttversion(const char *out, char *buf, size_t n)
{
	const char *p = out ? strstr(out, "TimesTen Release ") : NULL;
	size_t len = 0;

	if (p == NULL)
		return -1;
	p += 17;
	while (isdigit((unsigned char)p[len]) || p[len] == '.')
		len++;
	if (len == 0 || len >= n || !isdigit((unsigned char)p[0]) ||
	    !isdigit((unsigned char)p[len - 1]))
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

int
parse_isql_failed(const char *out)
{
	return out != NULL && (strstr(out, "The command failed.") != NULL ||
	                       strstr(out, "WHENEVER SQLERROR exiting.") != NULL);
}

int
parse_tt_error(const char *out, char *buf, size_t n)
{
	char line[512];
	const char *p = out;

	while ((p = next_line(p, line, sizeof(line))) != NULL) {
		char *t = trim(line), *colon = strchr(t, ':');
		char *tt;
		/* ttIsql: "2207: Table TEST already exists" */
		if (colon != NULL && colon > t) {
			*colon = '\0';
			int numeric = all_digits(t);
			*colon = ':';
			if (numeric) {
				copy(buf, n, t);
				return 0;
			}
		}
		/* ODBC style: "*** [TimesTen]...[TimesTen]TT8191: text -- file ..., lineno" */
		if (strncmp(t, "***", 3) == 0 && (tt = strstr(t, "]TT")) != NULL) {
			char *dash = strstr(tt, " -- file");
			if (dash)
				*dash = '\0';
			copy(buf, n, tt + 1);
			return 0;
		}
	}
	return -1;
}

/* The fields of an ttIsql result row "< a, b, c >" into fields (trimmed); the count. */
static int
row_fields(char *t, char **fields, int max)
{
	size_t len = strlen(t);
	int nf = 0;

	if (len < 3 || t[0] != '<' || t[len - 1] != '>')
		return 0;
	t[len - 1] = '\0';
	for (char *f = t + 1, *comma; nf < max; f = comma + 1) {
		comma = strchr(f, ',');
		if (comma)
			*comma = '\0';
		fields[nf++] = trim(f);
		if (!comma)
			break;
	}
	return nf;
}

int
parse_repstate(const char *out, char *buf, size_t n)
{
	static const char *const states[] = {"ACTIVE", "STANDBY",    "IDLE",
	                                     "FAILED", "RECOVERING", NULL};
	char line[512], *f[12];
	const char *p = out;

	while ((p = next_line(p, line, sizeof(line))) != NULL) {
		int nf = row_fields(trim(line), f, 12);
		if (nf < 1 || nf > 2) /* ttRepStateGet: one column (11.2 added a second) */
			continue;
		for (int i = 0; states[i]; i++)
			if (strcmp(f[0], states[i]) == 0) {
				copy(buf, n, states[i]);
				return 0;
			}
	}
	return -1;
}

/* ttIsql's repschemes: "1 replication scheme found." is documented; the plural and the
 * empty forms are not, so "N replication schemes found." and "No replication schemes
 * found." are both taken, and a scheme listing without a count counts as one. */
int
parse_repschemes(const char *out)
{
	char line[512];
	const char *p = out;
	int header = 0;

	while ((p = next_line(p, line, sizeof(line))) != NULL) {
		char *t = trim(line), *end = t;
		if (strncmp(t, "Replication Scheme", 18) == 0)
			header = 1;
		/* A count, then the words after it ("1 row found." is not one); a number past
		 * an int is not a count. */
		errno = 0;
		long count = isdigit((unsigned char)*t) ? strtol(t, &end, 10) : -1;
		if (count >= 0 && errno == 0 && count <= INT_MAX) {
			end += strspn(end, " \t");
			if (strncmp(end, "replication scheme", 18) == 0 && strstr(end, "found"))
				return (int)count;
		}
		if (strcmp(t, "No replication schemes found.") == 0)
			return 0;
	}
	return header ? 1 : -1;
}

int
parse_repstatus(const char *out, char *buf, size_t n)
{
	static const char *const pstates[] = {"start", "pause", "stop", "failed", NULL};
	char line[512], *f[12];
	const char *p = out;

	while ((p = next_line(p, line, sizeof(line))) != NULL) {
		int nf = row_fields(trim(line), f, 12);
		if (nf < 8)
			continue;
		for (int i = 0; pstates[i]; i++)
			if (strcasecmp(f[3], pstates[i]) == 0) {
				copy(buf, n, pstates[i]);
				return 0;
			}
	}
	return -1;
}

/* ttRepSubscriberWait's one-column row: "< 00 >" every commit acknowledged, "< 01 >" the
 * wait ran out (the built-in's documented results). */
int
parse_repwait(const char *out)
{
	char line[512], *f[2];
	const char *p = out;

	while ((p = next_line(p, line, sizeof(line))) != NULL) {
		if (row_fields(trim(line), f, 2) != 1)
			continue;
		if (strcmp(f[0], "00") == 0)
			return 0;
		if (strcmp(f[0], "01") == 0)
			return 1;
	}
	return -1;
}

void
kv_free(struct kv *kvs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

static int
valid_key(const char *k)
{
	if (!isalpha((unsigned char)*k) || strlen(k) > 64)
		return 0;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return 0;
	return 1;
}

int
dbini_parse(const char *text, struct kv **out, size_t *n, char *err, size_t errlen)
{
	char line[4096];
	const char *p = text;
	struct kv *kvs = NULL;
	size_t count = 0;
	int lineno = 0;

	*out = NULL;
	*n = 0;
	while ((p = next_line(p, line, sizeof(line))) != NULL) {
		char *t = trim(line), *eq;
		lineno++;
		if (*t == '\0' || *t == '#' || *t == ';')
			continue;
		if (*t == '[') /* a section header: the agent names the DSN itself */
			continue;
		if ((eq = strchr(t, '=')) == NULL) {
			snprintf(err, errlen, "db.ini line %d: expected Attribute=Value", lineno);
			goto fail;
		}
		*eq = '\0';
		char *k = trim(t), *v = trim(eq + 1);
		if (!valid_key(k)) {
			snprintf(err, errlen, "db.ini line %d: invalid attribute name \"%.64s\"",
			         lineno, k);
			goto fail;
		}
		if (strcasecmp(k, "DataStore") == 0 || strcasecmp(k, "LogDir") == 0) {
			snprintf(err, errlen,
			         "db.ini line %d: %s is set by the agent and may not be given",
			         lineno, k);
			goto fail;
		}
		for (size_t i = 0; i < count; i++)
			if (strcasecmp(kvs[i].key, k) == 0) {
				snprintf(err, errlen, "db.ini line %d: %s is given twice", lineno,
				         k);
				goto fail;
			}
		if (count >= 256) {
			snprintf(err, errlen, "db.ini: more than 256 attributes");
			goto fail;
		}
		struct kv *grown = realloc(kvs, (count + 1) * sizeof(*kvs));
		if (grown == NULL)
			goto oom;
		kvs = grown;
		kvs[count].key = strdup(k);
		kvs[count].value = strdup(v);
		count++;
		if (kvs[count - 1].key == NULL || kvs[count - 1].value == NULL)
			goto oom;
	}
	*out = kvs;
	*n = count;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	kv_free(kvs, count);
	return -1;
}

int
userfile_parse(const char *text, char **user, char **password, char *err, size_t errlen)
{
	char line[USERFILE_MAX_LINE + 1];
	const char *p, *q = text;
	char *t = NULL, *slash;

	*user = *password = NULL;
	while ((p = next_line(q, line, sizeof(line))) != NULL) {
		size_t len = strcspn(q, "\n");
		if (len > 0 && q[len - 1] == '\r')
			len--;
		if (len > USERFILE_MAX_LINE) {
			snprintf(err, errlen, "a line is longer than %d bytes", USERFILE_MAX_LINE);
			explicit_bzero(line, sizeof(line));
			return -1;
		}
		q = p;
		t = trim(line);
		if (*t != '\0')
			break;
	}
	if (p == NULL || t == NULL || *t == '\0') {
		snprintf(err, errlen, "the file is empty; expected user/password");
		return -1;
	}
	if ((slash = strchr(t, '/')) == NULL || slash == t || slash[1] == '\0') {
		snprintf(err, errlen, "expected user/password");
		explicit_bzero(line, sizeof(line));
		return -1;
	}
	*slash = '\0';
	if (!valid_key(t) || strlen(t) > 30) {
		snprintf(err, errlen, "invalid user name \"%.30s\"", t);
		explicit_bzero(line, sizeof(line));
		return -1;
	}
	*user = strdup(t);
	*password = strdup(slash + 1);
	explicit_bzero(line, sizeof(line));
	if (*user == NULL || *password == NULL) {
		free(*user);
		free(*password);
		*user = *password = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
