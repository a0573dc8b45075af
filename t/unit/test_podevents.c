/* Tests for src/operator/podevents.c: the guide's per-pod Event messages. */
#include "config.h"

#include "../../src/operator/agentc.h"
#include "../../src/operator/object.h"
#include "../../src/operator/podevents.h"
#include "tap.h"

static char seen[2048];

static void
collect(void *arg, const char *msg)
{
	(void)arg;
	snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s|", msg);
}

int
main(void)
{
	struct agent_state a, b;

	agent_state_unknown(&a);
	b = a;
	b.daemon = DAEMON_UP;
	strcpy(b.release, "22.1.1.9.0");
	is_int(podevents_diff("sample-0", 0, &a, 1, &b, collect, NULL), 3, "three changes");
	is_str(seen,
	       "Pod sample-0 Agent Up|Pod sample-0 Release 22.1.1.9.0|Pod sample-0 Daemon Up|",
	       "worded as in the guide");

	a = b;
	seen[0] = '\0';
	b.db = DB_LOADED;
	b.updatable = UPDATABLE_YES;
	b.rep_state = REP_ACTIVE;
	b.rep_agent = RUNNING_NO;
	podevents_diff("sample-0", 1, &a, 1, &b, collect, NULL);
	is_str(seen,
	       "Pod sample-0 Database Loaded|Pod sample-0 Database Updatable|"
	       "Pod sample-0 RepAgent Not Running|Pod sample-0 RepState ACTIVE|",
	       "database, updatable, rep agent and rep state");
	a = b;
	seen[0] = '\0';
	b.updatable = UPDATABLE_NO;
	podevents_diff("sample-1", 1, &a, 1, &b, collect, NULL);
	is_str(seen, "Pod sample-1 Database Not Updatable|", "not updatable");
	seen[0] = '\0';
	is_int(podevents_diff("sample-1", 1, &b, 1, &b, collect, NULL), 0,
	       "nothing changed, no Event");

	/* The agent's state document is parsed once into the enumerations. */
	static const char doc[] =
	    "{\"instance\":\"Exists\",\"daemon\":\"Up\",\"release\":\"22.1.1.31.0\","
	    "\"database\":\"Loaded\",\"updatable\":\"No\",\"repAgent\":\"Not Running\","
	    "\"repScheme\":\"Exists\",\"repState\":\"STANDBY\",\"peerState\":\"start\","
	    "\"cacheAgent\":\"Sleeping\",\"active\":false,\"ready\":true,\"dbId\":35426,"
	    "\"configFiles\":[\"db.ini\",\"adminUser\",\"cachegroups.sql\"]}";
	char err[128];
	struct agent_state st;
	agent_state_unknown(&st);
	is_int(agentc_parse_state(doc, sizeof(doc) - 1, &st, err, sizeof(err)), 0, "state parsed");
	ok(st.instance == INSTANCE_EXISTS && st.daemon == DAEMON_UP && st.db == DB_LOADED &&
	       st.updatable == UPDATABLE_NO && st.rep_agent == RUNNING_NO &&
	       st.rep_scheme == SCHEME_EXISTS && st.rep_state == REP_STANDBY,
	   "each word becomes its enumeration value");
	is_str(st.release, "22.1.1.31.0", "the release is kept as written");
	is_str(st.rep_peer, "start", "the peer state is kept as written");
	ok(st.cache_agent == RUNNING_UNKNOWN, "a word not known reads as Unknown");
	ok(!st.active_marker && st.ready_marker, "both readiness files are read");
	ok(st.db_id == 35426, "the database's shared memory ID");
	ok(st.admin_user_file && !st.schema_file && !st.cache_user_file && st.cg_file,
	   "the files in /ttconfig");
	static const char unknown_id[] = "{\"dbId\":\"Unknown\"}";
	agentc_parse_state(unknown_id, sizeof(unknown_id) - 1, &st, err, sizeof(err));
	ok(st.db_id == -1, "dbId Unknown reads as not known");
	ok(agentc_parse_state("[1]", 3, &st, err, sizeof(err)) < 0, "a non-object is refused");
	return done_testing();
}
