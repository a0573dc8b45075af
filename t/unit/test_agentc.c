/*
 * Tests for the parsing of an agent's replies in src/operator/agentc.c (src/agent/API.md):
 * the state of GET /v1/state, the fields the operator keeps and what an agent that cannot
 * tell leaves Unknown; and the bodies of orders and of asynchronous operations.
 */
#include "config.h"

#include <string.h>

#include "../../src/operator/agentc.h"
#include "tap.h"

int
main(void)
{
	struct agent_state st;
	char err[256];
	const char *full =
	    "{\"apiVersion\":\"v1\",\"instance\":\"Exists\",\"daemon\":\"Up\",\"release\":\"22.1.1."
	    "9.0\","
	    "\"database\":\"Loaded\",\"dbId\":8,\"open\":\"Yes\",\"updatable\":\"Yes\","
	    "\"repAgent\":\"Running\",\"repScheme\":\"Exists\",\"repState\":\"ACTIVE\","
	    "\"memory\":{\"limitBytes\":4294967296,\"usageBytes\":1234567,\"agentRssKB\":3120},"
	    "\"active\":true,\"ready\":false}";
	const char *unknown = "{\"apiVersion\":\"v1\",\"memory\":{\"limitBytes\":\"Unknown\","
	                      "\"usageBytes\":\"Unknown\",\"agentRssKB\":\"Unknown\"}}";

	ok(agentc_parse_state(full, strlen(full), &st, err, sizeof(err)) == 0, "a state parses");
	is_str(st.release, "22.1.1.9.0", "its release");
	ok(st.db_id == 8 && st.active_marker == 1, "its database ID and active marker");
	ok(st.mem_usage == 1234567, "memory.usageBytes: the pod's memory in use (%lld)",
	   st.mem_usage);
	ok(st.rss_kb == 3120, "memory.agentRssKB: the agent's resident set (%lld)", st.rss_kb);
	ok(agentc_parse_state(unknown, strlen(unknown), &st, err, sizeof(err)) == 0,
	   "a state that knows little parses");
	ok(st.mem_usage == -1 && st.rss_kb == -1 && st.db_id == -1,
	   "Unknown memory and database ID: -1");
	ok(agentc_parse_state("[1]", 3, &st, err, sizeof(err)) < 0, "not an object: refused (%s)",
	   err);

	struct agentc_reply r;
	const char *accepted = "{\"operation\":\"duplicate\",\"id\":\"6570a1b2-7\","
	                       "\"status\":\"Running\",\"complete\":false}";
	const char *failed = "{\"id\":\"6570a1b2-7\",\"status\":\"Failed\",\"complete\":true,"
	                     "\"errmsg\":\"TT8110: Connection not permitted\"}";
	ok(agentc_parse_reply(accepted, strlen(accepted), &r) == 0, "a 202 reply parses");
	is_str(r.id, "6570a1b2-7", "its id");
	ok(!r.complete && !r.succeeded, "running");
	ok(agentc_parse_reply(failed, strlen(failed), &r) == 0 && r.complete && !r.succeeded,
	   "an operation that failed");
	is_str(r.errmsg, "TT8110: Connection not permitted", "its error");
	ok(agentc_parse_reply("not json", 8, &r) < 0 && r.id[0] == '\0', "a body not JSON");
	/* The id goes into the path of the next request. */
	const char *bad_id = "{\"id\":\"1 HTTP/1.1\\r\\nX: y\"}";
	ok(agentc_parse_reply(bad_id, strlen(bad_id), &r) == 0 && r.id[0] == '\0',
	   "an id that is not one plain path segment is not taken");

	/* The text of a state goes into the status, whose writer refuses invalid UTF-8: cut
	 * short, a release or a message stays whole characters (the property
	 * t/fuzz/fuzz_agent_reply checks). 30 bytes, then a character of 2. */
	const char *wide = "{\"release\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\"}";
	ok(agentc_parse_state(wide, strlen(wide), &st, err, sizeof(err)) == 0,
	   "a release too long for its field parses");
	is_str(st.release, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	       "cut before the character that does not fit");
	return done_testing();
}
