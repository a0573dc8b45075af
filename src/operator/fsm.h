/*
 * A table-driven finite-state machine: rows {from, event, guard, action, to}. The first
 * row matching the state and event whose guard passes runs its action and moves to its
 * target. The same table is checked by tests and drawn as Graphviz.
 */
#ifndef FSM_H
#define FSM_H

#include <stdio.h>

#define FSM_ANY (-1)  /* from: any non-terminal state (tried after the exact rows) */
#define FSM_SAME (-2) /* to: stay in the current state */

typedef int (*fsm_guard)(void *ctx);
/* An action returns 0, or -1 when it could not start: the transition is then not taken. */
typedef int (*fsm_action)(void *ctx);

struct fsm_row {
	int from;
	int event;
	fsm_guard guard;
	const char *guard_name;
	fsm_action action;
	const char *action_name;
	int to;
};

/* Fills a row's function and its name together: FSM_FN(is_ready). */
#define FSM_FN(f) (f), #f
#define FSM_NONE NULL, NULL

struct fsm_table {
	const char *name;
	const struct fsm_row *rows;
	size_t nrows;
	const char *const *state_names; /* nstates entries */
	int nstates;
	const char *const *event_names; /* nevents entries */
	int nevents;
	int initial;
	unsigned long long states;   /* bit per state this table uses (others are ignored) */
	unsigned long long terminal; /* bit per state allowed to have no way out */
};

/*
 * Looks up (state, event) and runs the row. Returns the new state (the same one for a
 * row staying put), or -1 when no row matched or its action failed. *row is set to the
 * row taken (NULL if none).
 */
int fsm_step(const struct fsm_table *t, int state, int event, void *ctx,
             const struct fsm_row **row);

/*
 * Checks the table: names and ranges are valid, every state is reachable from the initial
 * one, every state that is not terminal has a way out, and no two rows for the same
 * (state, event) are indistinguishable (same guard, or an unguarded row shadowing a later
 * one). Returns the number of problems, each described in err (the first one).
 */
int fsm_check(const struct fsm_table *t, char *err, size_t errlen);

/* Prints the table as a Graphviz digraph. */
void fsm_dot(const struct fsm_table *t, FILE *out);

#endif
