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

/* The attributes in the order the guide's Events give them; names NULL: a string. */
static const struct {
	const char *label;
	size_t offset;
	const char *const *names;
} attributes[] = {
    {"Instance", offsetof(struct agent_state, instance), tt_instance_names},
    {"Release", offsetof(struct agent_state, release), NULL},
    {"Daemon", offsetof(struct agent_state, daemon), tt_daemon_names},
    {"Database", offsetof(struct agent_state, db), tt_db_names},
    {"Database", offsetof(struct agent_state, updatable), NULL},
    {"RepScheme", offsetof(struct agent_state, rep_scheme), tt_scheme_names},
    {"RepAgent", offsetof(struct agent_state, rep_agent), tt_running_names},
    {"RepState", offsetof(struct agent_state, rep_state), tt_rep_state_names},
    {"CacheAgent", offsetof(struct agent_state, cache_agent), tt_running_names},
};

/* The attribute's word in st: "Database Updatable" / "Database Not Updatable" rather than
 * "Database Yes". */
static const char *
wording(size_t i, const struct agent_state *st)
{
	const char *base = (const char *)st + attributes[i].offset;

	if (attributes[i].offset == offsetof(struct agent_state, updatable)) {
		static const char *const words[] = {"Updatable Unknown", "Updatable",
		                                    "Not Updatable"};
		return words[st->updatable];
	}
	if (attributes[i].names == NULL)
		return base;
	return attributes[i].names[*(const int *)base];
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
		const char *b = wording(i, now);

		if (strcmp(wording(i, old), b) == 0)
			continue;
		snprintf(msg, sizeof(msg), "Pod %s %s %s", pod, attributes[i].label, b);
		emit(arg, msg);
		n++;
	}
	return n;
}
