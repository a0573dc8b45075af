/*
 * Unit tests for src/agent/parse.c, odbcini.c and sqltpl.c: the agent's reading of
 * TimesTen utility output (samples as TimesTen's documentation prints them), of the
 * /ttconfig files, and the SQL and sys.odbc.ini it writes.
 */
#include "config.h"

#include <stdlib.h>

#include "../../src/agent/agent.h"
#include "tap.h"

static const char status_down[] = "ttStatus: Could not connect to the TimesTen daemon.\n"
                                  "If the TimesTen daemon is not running, please start it\n"
                                  "by running \"ttDaemonAdmin -start\".\n";

static const char status_empty[] =
    "TimesTen status report as of Thu May 26 14:02:13 2022\n"
    "\n"
    "Daemon pid 706 port 6624 instance ttinst\n"
    "TimesTen server pid 713 started on port 6625\n"
    "------------------------------------------------------------------------\n"
    "------------------------------------------------------------------------\n"
    "Accessible by group oinstall\n"
    "End of report\n";

static const char status_loaded[] =
    "TimesTen status report as of Wed Oct 11 23:36:38 2023\n"
    "\n"
    "Daemon pid 407 port 6624 instance ttinst\n"
    "TimesTen server pid 414 started on port 6625\n"
    "------------------------------------------------------------------------\n"
    "------------------------------------------------------------------------\n"
    "Data store /tt/db/otherdb\n"
    "Daemon pid 407 port 6624 instance ttinst\n"
    "TimesTen server pid 414 started on port 6625\n"
    "There are no connections to the data store\n"
    "Open for user connections\n"
    "Replication policy  : Manual\n"
    "Cache Agent policy  : Manual\n"
    "PL/SQL enabled.\n"
    "------------------------------------------------------------------------\n"
    "Data store /tt/db/sampledb\n"
    "Daemon pid 407 port 6624 instance ttinst\n"
    "TimesTen server pid 414 started on port 6625\n"
    "There are 20 connections to the data store\n"
    "Shared Memory Key 0x0f00307d ID 8\n"
    "PL/SQL Memory Key 0x0e00307d ID 7 Address 0x5000000000\n"
    "Type            PID     Context             Connection Name              ConnID\n"
    "Cache Agent     1146    0x00007f932401f740  Timer                             3\n"
    "Replication     20676   0x0000000008996738  LOGFORCE                          5\n"
    "Replication     20676   0x00000000089b69a0  REPHOLD                           2\n"
    "Replication     20676   0x0000000008a7cd70  REPLISTENER                       4\n"
    "Subdaemon       411     0x0000000002666fc0  Manager                        2047\n"
    "Subdaemon       411     0x00007f5bdc000b60  Checkpoint                     2042\n"
    "Open for user connections\n"
    "Replication policy  : Manual\n"
    "Cache Agent policy  : Always\n"
    "Cache agent is running.\n"
    "PL/SQL enabled.\n"
    "------------------------------------------------------------------------\n"
    "Accessible by group oinstall\n"
    "End of report\n";

/* The block as the 22.1 troubleshooting guide prints it ("KEY", a user's Process row), closed
 * (the closed line as the simulator prints it: TimesTen's own wording is not documented). */
static const char status_closed[] =
    "TimesTen status report as of Tue Mar 19 10:16:07 2021\n"
    "\n"
    "Daemon pid 26251 port 6624 instance instance1\n"
    "TimesTen server pid 26258 started on port 6625\n"
    "------------------------------------------------------------------------\n"
    "------------------------------------------------------------------------\n"
    "Data store /scratch/testuser/database1\n"
    "Daemon pid 26251 port 6624 instance instance1\n"
    "TimesTen server pid 26258 started on port 6625\n"
    "There are 14 connections to the data store\n"
    "Shared Memory KEY 0x021001b9 ID 10813443\n"
    "PL/SQL Memory KEY 0x031001b9 ID 10846212 Address 0x5000000000\n"
    "Type            PID     Context             Connection Name              ConnID\n"
    "Process         26291   0x00007f5975c07010  database1                         1\n"
    "Server          26258   0x00007f5975c07a00  database1                         2\n"
    "Subdaemon       26256   0x00007fe2000008c0  Deadlock Detector              2038\n"
    "Closed to user connections\n"
    "Replication policy  : Manual\n"
    "Cache Agent policy  : Manual\n"
    "PL/SQL enabled.\n"
    "------------------------------------------------------------------------\n"
    "Accessible by group timesten\n"
    "End of report\n";

static const char version[] =
    "TimesTen Release 22.1.1.18.0 (64 bit Linux/x86_64) (ttinst:6624) 2023-09-07T15:13:39Z\n"
    "  Instance admin: oracle\n"
    "  Instance home directory: /tt/inst/ttinst\n"
    "  Group owner: oinstall\n"
    "  Daemon home directory: /tt/inst/ttinst/info\n"
    "  PL/SQL enabled.\n";

static const char isql_session[] =
    "\n"
    "Copyright (c) 1996, 2021, Oracle and/or its affiliates. All rights reserved.\n"
    "Type ? or \"help\" for help, type \"exit\" to quit ttIsql.\n"
    "\n"
    "connect \"DSN=sample;uid=appuser;pwd=********\";\n"
    "Connection successful: DSN=sample;UID=appuser;DataStore=/tt/home/oracle/datastore/sample;\n"
    "(Default setting AutoCommit=1)\n"
    "Command> call ttRepStateGet;\n"
    "< ACTIVE >\n"
    "1 row found.\n"
    "Command> select * from testtab;\n"
    "< 1, Row 1 >\n"
    "< 2, Row 2 >\n"
    "2 rows found.\n";

static const char isql_error[] = "Command> CREATE TABLE test (id TT_INTEGER);\n"
                                 " 2207: Table TEST already exists\n"
                                 "The command failed.\n";

static const char isql_standby[] =
    "16265: This database is currently the STANDBY.  Change to APPUSER.TESTTAB not permitted.\n"
    "The command failed.\n";

static const char admin_error[] =
    "*** [TimesTen][TimesTen 22.1.1.21 ODBC Driver][TimesTen]TT8191: This store (repl1 on "
    "my_host) is not involved in a replication scheme -- file \"eeProc.c\", lineno 11016, "
    "procedure \"RepAdmin()\"\n"
    "*** ODBC Error = S1000, TimesTen Error = 8191\n";

static const char repschemes[] = "\n"
                                 "Replication Scheme Active Standby:\n"
                                 "\n"
                                 "  Master Store: REP1 on xxx\n"
                                 "  Master Store: REP2 on xxx\n"
                                 "\n"
                                 "  Excluded Tables:\n"
                                 "    None\n"
                                 "\n"
                                 "1 replication scheme found.\n";

static const char repstatus[] = "< SUBSCRIBERDS, MYHOST, 0, failed, 1, 10, REPSCHEME, REPL >\n"
                                "1 row found.\n";

static void
test_ttstatus(void)
{
	struct tt_status st;

	ok(parse_ttstatus(status_down, "/tt/db/sampledb", &st) == 0 && st.daemon_up == 0,
	   "ttStatus: the daemon is down");
	ok(!st.db_found, "ttStatus: with the daemon down there is no database block");
	ok(parse_ttstatus(status_empty, "/tt/db/sampledb", &st) == 0 && st.daemon_up == 1,
	   "ttStatus: an empty instance has its daemon up");
	is_int(st.daemon_pid, 706, "ttStatus: the daemon pid");
	is_int(st.daemon_port, 6624, "ttStatus: the daemon port");
	is_str(st.instance, "ttinst", "ttStatus: the instance name");
	ok(!st.db_found, "ttStatus: no database in an empty instance");

	ok(parse_ttstatus(status_loaded, "/tt/db/sampledb", &st) == 0, "ttStatus: loaded sample");
	ok(st.db_found && st.db_loaded == 1, "ttStatus: the database is loaded");
	ok(st.db_open == 1, "ttStatus: open for user connections");
	ok(st.rep_agent == 1, "ttStatus: Replication rows mean the rep agent runs");
	ok(st.cache_agent == 1, "ttStatus: the cache agent runs");
	is_int(st.connections, 20, "ttStatus: connections counted");
	is_str(st.rep_policy, "Manual", "ttStatus: replication policy");
	is_str(st.cache_policy, "Always", "ttStatus: cache agent policy (of the right block)");

	is_int(st.shm_id, 8, "ttStatus: the ID of \"Shared Memory Key 0x0f00307d ID 8\"");
	is_int(st.app_connections, 0, "ttStatus: no Process or Server rows: no application");

	ok(parse_ttstatus(status_closed, "/scratch/testuser/database1", &st) == 0 && st.db_found,
	   "ttStatus: the reference's sample");
	ok(st.db_loaded == 1, "ttStatus: \"Shared Memory KEY\" means loaded too");
	is_int(st.shm_id, 10813443, "ttStatus: the ID of \"Shared Memory KEY ... ID 10813443\"");
	ok(st.db_open == 0, "ttStatus: closed to user connections");
	is_int(st.app_connections, 2, "ttStatus: a Process and a Server row are applications");

	ok(parse_ttstatus(status_loaded, "/tt/db/otherdb", &st) == 0 && st.db_found,
	   "ttStatus: the other database is found by its path");
	is_int(st.shm_id, -1, "ttStatus: no shared memory ID when unloaded");
	ok(st.db_loaded == 0, "ttStatus: no shared memory and no subdaemons: unloaded");
	ok(st.rep_agent == 0 && st.cache_agent == 0,
	   "ttStatus: its policy lines are not agent rows");
	is_int(st.connections, 0, "ttStatus: no connections");
	ok(parse_ttstatus(status_loaded, "/tt/db/nosuch", &st) == 0 && !st.db_found,
	   "ttStatus: an unknown path is not found");
	ok(parse_ttstatus("garbage\n", "/x", &st) < 0 && st.daemon_up == AGENT_TRI_UNKNOWN,
	   "ttStatus: output not understood is unknown");
	ok(parse_ttstatus("", NULL, &st) < 0, "ttStatus: empty output is unknown");
}

static void
test_others(void)
{
	char buf[128];

	ok(parse_ttversion(version, buf, sizeof(buf)) == 0, "ttVersion parses");
	is_str(buf, "22.1.1.18.0", "ttVersion: the release");
	ok(parse_ttversion("TimesTen Release x\n", buf, sizeof(buf)) < 0,
	   "ttVersion: no number, no release");
	ok(parse_ttversion("TimesTen Release 22.1.1.18.0 (64", buf, 4) < 0,
	   "ttVersion: a release too long for the buffer is refused");
	/* Found by t/fuzz/fuzz_tt_output: ".1" was taken for a release. */
	ok(parse_ttversion("TimesTen Release .1\n", buf, sizeof(buf)) < 0,
	   "ttVersion: a release starts with a digit");

	ok(parse_isql_failed(isql_error), "ttIsql: a failed command is seen");
	ok(!parse_isql_failed(isql_session), "ttIsql: a good session has no failure");
	ok(parse_isql_failed("WHENEVER SQLERROR exiting.\n"), "ttIsql: WHENEVER SQLERROR exit");
	ok(parse_tt_error(isql_error, buf, sizeof(buf)) == 0, "ttIsql error line found");
	is_str(buf, "2207: Table TEST already exists", "ttIsql: the error as printed");
	parse_tt_error(isql_standby, buf, sizeof(buf));
	like(buf, "16265: This database is currently the STANDBY", "ttIsql: standby refusal");
	ok(parse_tt_error(admin_error, buf, sizeof(buf)) == 0, "ttAdmin error found");
	is_str(buf, "TT8191: This store (repl1 on my_host) is not involved in a replication scheme",
	       "ttAdmin: the error without the source location");
	ok(parse_tt_error("all good\n", buf, sizeof(buf)) < 0, "no error in plain output");

	ok(parse_repstate(isql_session, buf, sizeof(buf)) == 0, "rep state found");
	is_str(buf, "ACTIVE", "rep state ACTIVE");
	ok(parse_repstate("< STANDBY, NO GRID >\n", buf, sizeof(buf)) == 0 &&
	       strcmp(buf, "STANDBY") == 0,
	   "rep state with the 11.2 second column");
	ok(parse_repstate("< 1, Row 1 >\n< BOGUS >\n", buf, sizeof(buf)) < 0,
	   "rows that are no rep state are ignored");
	is_int(parse_repschemes(repschemes), 1, "repschemes: one scheme");
	is_int(parse_repschemes("0 replication schemes found.\n"), 0, "repschemes: none");
	is_int(parse_repschemes("Command> \n"), -1, "repschemes: not said");
	is_int(parse_repschemes("< IDLE >\n1 row found.\n0 replication schemes found.\n"), 0,
	       "repschemes: other summaries are not the count");
	/* Found by t/fuzz/fuzz_tt_output: a count past an int came out negative. */
	ok(parse_repschemes("11111111115 replication schemes found.\n") == -1,
	   "repschemes: a count past an int is not a count");
	is_int(parse_repschemes("  2 replication schemes found.\n"), 2, "repschemes: two");
	ok(parse_repstatus(repstatus, buf, sizeof(buf)) == 0 && strcmp(buf, "failed") == 0,
	   "ttReplicationStatus: the peer failed");
	ok(parse_repstatus(isql_session, buf, sizeof(buf)) < 0,
	   "ttReplicationStatus: short rows are not status rows");
	is_int(parse_repwait("< 00 >\n"), 0, "ttRepSubscriberWait: < 00 > is acknowledged");
	is_int(parse_repwait("< 01 >\n1 row found.\n"), 1, "ttRepSubscriberWait: < 01 > timed out");
	is_int(parse_repwait("< 1, Row 1 >\n< 02 >\n"), -1,
	       "ttRepSubscriberWait: other rows are not its answer");
}

static void
test_files(void)
{
	struct kv *kvs;
	size_t n;
	char err[256], *user, *pw;

	ok(dbini_parse("# sizes\nPermSize=200\n ; comment\n\nTempSize = 100\r\n"
	               "DatabaseCharacterSet=AL32UTF8\n",
	               &kvs, &n, err, sizeof(err)) == 0,
	   "db.ini parses");
	is_int(n, 3, "db.ini: three attributes");
	is_str(kvs[1].key, "TempSize", "db.ini: key trimmed");
	is_str(kvs[1].value, "100", "db.ini: value trimmed, CR dropped");
	kv_free(kvs, n);
	ok(dbini_parse("DataStore=/tmp/x\n", &kvs, &n, err, sizeof(err)) < 0,
	   "db.ini: DataStore refused");
	like(err, "DataStore is set by the agent", "db.ini: saying why");
	ok(dbini_parse("PermSize=1\npermsize=2\n", &kvs, &n, err, sizeof(err)) < 0,
	   "db.ini: a repeated attribute is refused");
	ok(dbini_parse("PermSize 200\n", &kvs, &n, err, sizeof(err)) < 0, "db.ini: no '='");
	like(err, "line 1", "db.ini: the line is named");
	ok(dbini_parse("1bad=2\n", &kvs, &n, err, sizeof(err)) < 0, "db.ini: a bad name");

	ok(userfile_parse("scott/tiger\n", &user, &pw, err, sizeof(err)) == 0, "adminUser parses");
	is_str(user, "scott", "adminUser: user");
	is_str(pw, "tiger", "adminUser: password");
	free(user);
	free(pw);
	ok(userfile_parse("scott/ti/ger\n", &user, &pw, err, sizeof(err)) == 0 &&
	       strcmp(pw, "ti/ger") == 0,
	   "adminUser: a slash in the password");
	free(user);
	free(pw);
	ok(userfile_parse("scotttiger\n", &user, &pw, err, sizeof(err)) < 0, "adminUser: no slash");
	ok(userfile_parse("bad name/secretpw\n", &user, &pw, err, sizeof(err)) < 0,
	   "adminUser: a bad user name");
	ok(strstr(err, "secretpw") == NULL, "adminUser: the error does not show the password");
	ok(userfile_parse("\n\n", &user, &pw, err, sizeof(err)) < 0, "adminUser: empty");

	/* A password past 511 bytes was cut where the line buffer ended (found by
	 * t/fuzz/fuzz_configmap, which holds the operator's check to the agent's reading). */
	char text[700];
	snprintf(text, sizeof(text), "scott/%0600d\n", 7);
	ok(userfile_parse(text, &user, &pw, err, sizeof(err)) < 0 && user == NULL,
	   "adminUser: a line longer than 511 bytes is refused, not cut");
	is_str(err, "a line is longer than 511 bytes", "adminUser: saying why");
	ok(strstr(err, "0000") == NULL, "adminUser: without the password");
}

static void
test_odbcini(void)
{
	struct kv kvs[] = {{"DataStore", "/tt/home/timesten/datastore/sample"},
	                   {"PermSize", "200"}};
	char err[256], ds[256];
	const char *old = "[ODBC Data Sources]\n"
	                  "sampledb=TimesTen 22.1 Driver\n"
	                  "sample=TimesTen 18.1 Driver\n"
	                  "sampledbcs=TimesTen 22.1 Client Driver\n"
	                  "\n"
	                  "[sampledb]\n"
	                  "DataStore=/tt/db/sampledb\n"
	                  "\n"
	                  "[sample]\n"
	                  "DataStore=/old/place\n"
	                  "\n"
	                  "[sampledbcs]\n"
	                  "TTC_SERVER_DSN=SAMPLEDB\n";
	char *out =
	    odbcini_set_dsn(old, "sample", "TimesTen 22.1 Driver", kvs, 2, err, sizeof(err));

	ok(out != NULL, "sys.odbc.ini: a DSN is set");
	like(out,
	     "sampledb=TimesTen 22.1 Driver\nsampledbcs=TimesTen 22.1 Client Driver\n"
	     "sample=TimesTen 22.1 Driver\n\n[sampledb]",
	     "sys.odbc.ini: the list keeps the others and names ours once");
	like(out,
	     "[sampledbcs]\nTTC_SERVER_DSN=SAMPLEDB\n\n[sample]\n"
	     "DataStore=/tt/home/timesten/datastore/sample\nPermSize=200\n",
	     "sys.odbc.ini: our section replaces the old one, at the end");
	ok(strstr(out, "/old/place") == NULL, "sys.odbc.ini: the old section is gone");
	ok(odbcini_datastore(out, "sample", ds, sizeof(ds)) == 0 &&
	       strcmp(ds, "/tt/home/timesten/datastore/sample") == 0,
	   "sys.odbc.ini: the DataStore of a DSN");
	ok(odbcini_datastore(out, "sampledb", ds, sizeof(ds)) == 0 &&
	       strcmp(ds, "/tt/db/sampledb") == 0,
	   "sys.odbc.ini: another DSN listed first keeps its own DataStore");
	free(out);
	out = odbcini_set_dsn(NULL, "sample", "TimesTen 22.1 Driver", kvs, 2, err, sizeof(err));
	is_str(out,
	       "[ODBC Data Sources]\nsample=TimesTen 22.1 Driver\n\n[sample]\n"
	       "DataStore=/tt/home/timesten/datastore/sample\nPermSize=200\n",
	       "sys.odbc.ini: made from nothing");
	ok(odbcini_datastore(out, "sample", ds, sizeof(ds)) == 0 &&
	       strcmp(ds, "/tt/home/timesten/datastore/sample") == 0,
	   "sys.odbc.ini: read back");
	free(out);
	ok(odbcini_set_dsn(NULL, "bad dsn", "d", kvs, 2, err, sizeof(err)) == NULL,
	   "sys.odbc.ini: a bad DSN name is refused");
	struct kv bad[] = {{"PermSize", "1\n[evil]"}};
	ok(odbcini_set_dsn(NULL, "sample", "d", bad, 1, err, sizeof(err)) == NULL,
	   "sys.odbc.ini: a value with a line break is refused");
	ok(odbcini_datastore("[ODBC Data Sources]\nx=TimesTen 22.1 Client Driver\n\n[x]\n"
	                     "TTC_SERVER_DSN=X\n",
	                     "x", ds, sizeof(ds)) < 0,
	   "sys.odbc.ini: a client DSN holds no database");
}

static void
test_sql(void)
{
	struct agent a;
	char dir[4096], *s;
	const char *top = getenv("top_srcdir");

	s = sql_quote("it's");
	is_str(s, "'it''s'", "SQL string literal doubles quotes");
	free(s);
	s = sql_quote_ident("pa\"ss");
	is_str(s, "\"pa\"\"ss\"", "quoted identifier doubles quotes");
	free(s);
	memset(&a, 0, sizeof(a));
	snprintf(dir, sizeof(dir), "%s/ttimage", top ? top : "../..");
	ok(sqltpl_load(&a, dir) == 0, "the SQL templates of the image load");
	s = sqltpl_render(&a, "adminuser.sql", "user", "adm", "password", "\"pw\"", NULL);
	like(s, "create user adm identified by \"pw\";\ngrant admin to adm;",
	     "adminuser.sql is filled in");
	free(s);
	s = sqltpl_render(&a, "reppeerfailed.sql", "peer", "'sample'", NULL);
	like(s, "'sample', {{host}}", "an unknown placeholder stays as it is");
	free(s);
	s = sqltpl_render(&a, "repwait.sql", "seconds", "60", NULL);
	like(s,
	     "whenever sqlerror exit failure;\ncall ttRepSubscriberWait(NULL, NULL, NULL, NULL, "
	     "60);",
	     "repwait.sql waits for every peer, as long as it is told");
	free(s);
	ok(sqltpl_render(&a, "nosuch.sql", NULL) == NULL, "no such template");
	sqltpl_free(&a);
	memset(&a, 0, sizeof(a));
	ok(sqltpl_load(&a, "/nonexistent") < 0, "a missing template directory is an error");
	sqltpl_free(&a);
}

int
main(void)
{
	log_setup(2, LOG_ERROR, LOG_FMT_LOGFMT);
	test_ttstatus();
	test_others();
	test_files();
	test_odbcini();
	test_sql();
	return done_testing();
}
