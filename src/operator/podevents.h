/* Events describing what changed in a pod's TimesTen. */
#ifndef PODEVENTS_H
#define PODEVENTS_H

struct agent_state;

typedef void (*podevents_fn)(void *arg, const char *message);

/* Calls emit once per changed attribute of pod between two observations; returns how many. */
int podevents_diff(const char *pod, int was_reachable, const struct agent_state *old, int reachable,
                   const struct agent_state *now, podevents_fn emit, void *arg);

#endif
