/*
 * The per-pod Events users read in `kubectl describe ttc`: one message per attribute of a
 * pod's TimesTen that changed, worded as in the guide ("Pod sample-0 Daemon Up").
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "object.h"
#include "podevents.h"

static const struct {
	const char *label;
	size_t offset;
} attributes[] = {
    {"Instance", offsetof(struct agent_state, instance)},
    {"Release", offsetof(struct agent_state, release)},
    {"Daemon", offsetof(struct agent_state, daemon)},
    {"Database", offsetof(struct agent_state, db)},
    {"Database", offsetof(struct agent_state, updatable)},
    {"RepScheme", offsetof(struct agent_state, rep_scheme)},
    {"RepAgent", offsetof(struct agent_state, rep_agent)},
    {"RepState", offsetof(struct agent_state, rep_state)},
    {"CacheAgent", offsetof(struct agent_state, cache_agent)},
};

/* "Database Updatable" / "Database Not Updatable" rather than "Database Yes". */
static const char *
wording(size_t offset, const char *value)
{
	if (offset == offsetof(struct agent_state, updatable)) {
		if (strcmp(value, "Yes") == 0)
			return "Updatable";
		if (strcmp(value, "No") == 0)
			return "Not Updatable";
		return "Updatable Unknown";
	}
	return value;
}

int
podevents_diff(const char *pod, int was_reachable, const struct agent_state *old, int reachable,
               const struct agent_state *now, podevents_fn emit, void *arg)
{
	char msg[256];
	int n = 0;

	if (was_reachable != reachable) {
		snprintf(msg, sizeof(msg), "Pod %s Agent %s", pod, reachable ? "Up" : "Down");
		emit(arg, msg);
		n++;
	}
	for (size_t i = 0; i < sizeof(attributes) / sizeof(attributes[0]); i++) {
		const char *a = (const char *)old + attributes[i].offset;
		const char *b = (const char *)now + attributes[i].offset;

		if (strcmp(a, b) == 0)
			continue;
		snprintf(msg, sizeof(msg), "Pod %s %s %s", pod, attributes[i].label,
		         wording(attributes[i].offset, b));
		emit(arg, msg);
		n++;
	}
	return n;
}
