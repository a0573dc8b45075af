/*
 * The agent's reading of what TimesTen utilities print and of the /ttconfig files
 * (src/agent/parse.c), and its sys.odbc.ini editing (src/agent/odbcini.c). The input's
 * first line names a database (its DataStore path, whose last part is the DSN); the rest is
 * a utility's output, a db.ini, an adminUser or an old sys.odbc.ini. A DSN written into a
 * sys.odbc.ini reads back with its DataStore, and any other DSN keeps its own.
 */
#include "config.h"

#include <ctype.h>

#include "agent/agent.h"
#include "fuzz.h"

#define FUZZ_DSN "fuzzdsn"
#define FUZZ_DATASTORE "/tt/home/datastore/fuzzdsn"

static int
valid_dsn(const char *s)
{
	if (!isalpha((unsigned char)*s) || strlen(s) > 32)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static void
check_odbcini(const char *old, const char *other, const struct kv *ini, size_t nini)
{
	struct kv kvs[258];
	size_t n = 0;
	char err[256], before[1024], after[1024], *out;
	int had;

	kvs[n++] = (struct kv){"DataStore", FUZZ_DATASTORE};
	kvs[n++] = (struct kv){"DatabaseCharacterSet", "AL32UTF8"};
	for (size_t i = 0; i < nini && n < sizeof(kvs) / sizeof(kvs[0]); i++)
		kvs[n++] = ini[i];
	had = other != NULL && odbcini_datastore(old, other, before, sizeof(before)) == 0;
	if ((out = odbcini_set_dsn(old, FUZZ_DSN, "TimesTen 22.1 Driver", kvs, n, err,
	                           sizeof(err))) == NULL)
		return;
	FUZZ_CHECK(odbcini_datastore(out, FUZZ_DSN, after, sizeof(after)) == 0);
	FUZZ_CHECK(strcmp(after, FUZZ_DATASTORE) == 0);
	if (had) {
		FUZZ_CHECK(odbcini_datastore(out, other, after, sizeof(after)) == 0);
		FUZZ_CHECK(strcmp(before, after) == 0);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *all = fuzz_cstr(data, size), *out = strchr(all, '\n');
	const char *datastore = all, *dsn;
	struct tt_status st;
	struct kv *kvs;
	size_t n;
	char buf[128], err[256], *user, *password;

	if (out == NULL) {
		free(all);
		return 0;
	}
	*out++ = '\0';
	dsn = strrchr(datastore, '/') ? strrchr(datastore, '/') + 1 : datastore;

	if (parse_ttstatus(out, datastore, &st) == 0) {
		FUZZ_CHECK(st.daemon_up == 0 || st.daemon_up == 1);
		FUZZ_CHECK(st.db_found || st.db_loaded == AGENT_TRI_UNKNOWN);
		FUZZ_CHECK(!st.db_found || st.connections >= 0);
		FUZZ_CHECK(st.app_connections >= 0);
	}
	if (parse_ttversion(out, buf, sizeof(buf)) == 0)
		FUZZ_CHECK(isdigit((unsigned char)buf[0]) &&
		           strspn(buf, "0123456789.") == strlen(buf));
	(void)parse_isql_failed(out);
	if (parse_tt_error(out, buf, sizeof(buf)) == 0)
		FUZZ_CHECK(buf[0] != '\0');
	if (parse_repstate(out, buf, sizeof(buf)) == 0)
		FUZZ_CHECK(strstr("ACTIVE STANDBY IDLE FAILED RECOVERING", buf) != NULL);
	FUZZ_CHECK(parse_repschemes(out) >= -1);
	if (parse_repstatus(out, buf, sizeof(buf)) == 0)
		FUZZ_CHECK(strstr("start pause stop failed", buf) != NULL);
	int w = parse_repwait(out);
	FUZZ_CHECK(w >= -1 && w <= 1);

	if (userfile_parse(out, &user, &password, err, sizeof(err)) == 0) {
		FUZZ_CHECK(user[0] != '\0' && strlen(user) <= 30 &&
		           strpbrk(user, "/ \t\r\n") == NULL);
		FUZZ_CHECK(password[0] != '\0' && strchr(password, '\n') == NULL);
		free(user);
		free(password);
	} else {
		FUZZ_CHECK(user == NULL && password == NULL);
	}
	if (dbini_parse(out, &kvs, &n, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(strpbrk(kvs[i].key, "=[]\r\n") == NULL && kvs[i].key[0] != '\0');
		check_odbcini(out, valid_dsn(dsn) ? dsn : NULL, kvs, n);
		kv_free(kvs, n);
	} else {
		check_odbcini(out, valid_dsn(dsn) ? dsn : NULL, NULL, 0);
	}
	free(all);
	return 0;
}
