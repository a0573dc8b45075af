/*
 * The operator's reading of its agents' replies (src/operator/agentc.c): the state
 * document of GET /v1/state, and the bodies of orders, of an asynchronous operation's
 * progress and of errors. What is read is an enumeration within its range or text that
 * the status and Events can carry (valid UTF-8), and an asynchronous id fit for a path.
 */
#include "config.h"

#include "fuzz.h"
#include "operator/agentc.h"
#include "ttc/json.h"
#include "ttc/log.h"

static size_t
count(const char *const *names)
{
	size_t n = 0;

	while (names[n] != NULL)
		n++;
	return n;
}

/* Whether s can be written into a JSON document as it is. */
static int
writable(const char *s)
{
	struct jw w;
	char *out;

	if (jw_init(&w) < 0)
		abort();
	jw_str(&w, s);
	out = jw_finish(&w, NULL);
	free(out);
	return out != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct agent_state st;
	struct agentc_reply r;
	char err[256];

	log_set_level(LOG_ERROR);
	agent_state_unknown(&st);
	if (agentc_parse_state(text, size, &st, err, sizeof(err)) == 0) {
		FUZZ_CHECK(st.instance >= 0 && (size_t)st.instance < count(tt_instance_names));
		FUZZ_CHECK(st.daemon >= 0 && (size_t)st.daemon < count(tt_daemon_names));
		FUZZ_CHECK(st.db >= 0 && (size_t)st.db < count(tt_db_names));
		FUZZ_CHECK(st.updatable >= 0 && (size_t)st.updatable < count(tt_updatable_names));
		FUZZ_CHECK(st.open >= 0 && (size_t)st.open < count(tt_updatable_names));
		FUZZ_CHECK(st.rep_agent >= 0 && (size_t)st.rep_agent < count(tt_running_names));
		FUZZ_CHECK(st.cache_agent >= 0 && (size_t)st.cache_agent < count(tt_running_names));
		FUZZ_CHECK(st.rep_scheme >= 0 && (size_t)st.rep_scheme < count(tt_scheme_names));
		FUZZ_CHECK(st.rep_state >= 0 && (size_t)st.rep_state < count(tt_rep_state_names));
		FUZZ_CHECK(st.db_id >= -1 && st.mem_usage >= -1 && st.mem_limit >= -1 &&
		           st.rss_kb >= -1 && st.mem_limit != 0);
		FUZZ_CHECK(st.release[0] != '\0' && writable(st.release));
		FUZZ_CHECK(st.rep_peer[0] != '\0' && writable(st.rep_peer));
	}
	if (agentc_parse_reply(text, size, &r) == 0) {
		FUZZ_CHECK(writable(r.message) && writable(r.errmsg));
		for (const char *p = r.id; *p; p++)
			FUZZ_CHECK(strchr("/?#% ", *p) == NULL && (unsigned char)*p > 0x20 &&
			           (unsigned char)*p < 0x7f);
		FUZZ_CHECK(r.complete == 0 || r.complete == 1);
	} else {
		FUZZ_CHECK(r.message[0] == '\0' && r.id[0] == '\0' && !r.complete);
	}
	return 0;
}
