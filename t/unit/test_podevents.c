/* Tests for src/operator/podevents.c: the guide's per-pod Event messages. */
#include "config.h"

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
	strcpy(b.daemon, "Up");
	strcpy(b.release, "22.1.1.9.0");
	is_int(podevents_diff("sample-0", 0, &a, 1, &b, collect, NULL), 3, "three changes");
	is_str(seen,
	       "Pod sample-0 Agent Up|Pod sample-0 Release 22.1.1.9.0|Pod sample-0 Daemon Up|",
	       "worded as in the guide");

	a = b;
	seen[0] = '\0';
	strcpy(b.db, "Loaded");
	strcpy(b.updatable, "Yes");
	strcpy(b.rep_state, "ACTIVE");
	strcpy(b.rep_agent, "Not Running");
	podevents_diff("sample-0", 1, &a, 1, &b, collect, NULL);
	is_str(seen,
	       "Pod sample-0 Database Loaded|Pod sample-0 Database Updatable|"
	       "Pod sample-0 RepAgent Not Running|Pod sample-0 RepState ACTIVE|",
	       "database, updatable, rep agent and rep state");
	a = b;
	seen[0] = '\0';
	strcpy(b.updatable, "No");
	podevents_diff("sample-1", 1, &a, 1, &b, collect, NULL);
	is_str(seen, "Pod sample-1 Database Not Updatable|", "not updatable");
	seen[0] = '\0';
	is_int(podevents_diff("sample-1", 1, &b, 1, &b, collect, NULL), 0,
	       "nothing changed, no Event");
	return done_testing();
}
