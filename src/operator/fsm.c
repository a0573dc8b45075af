/*
 * The table-driven state machine engine (see fsm.h): stepping, checking and drawing.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fsm.h"

/* Whether row r applies in state s: its own rows, and the any-state rows unless s is a
 * terminal state (a terminal state is left by no event). */
static int
applies(const struct fsm_table *t, const struct fsm_row *r, int s)
{
	return r->from == s ||
	       (r->from == FSM_ANY && (t->states & (1ULL << s)) && !(t->terminal & (1ULL << s)));
}

static const struct fsm_row *
find(const struct fsm_table *t, int state, int event, void *ctx, int any_pass)
{
	for (size_t i = 0; i < t->nrows; i++) {
		const struct fsm_row *r = &t->rows[i];

		if ((any_pass ? r->from != FSM_ANY : r->from != state) || r->event != event ||
		    !applies(t, r, state))
			continue;
		if (r->guard == NULL || r->guard(ctx))
			return r;
	}
	return NULL;
}

int
fsm_step(const struct fsm_table *t, int state, int event, void *ctx, const struct fsm_row **row)
{
	const struct fsm_row *r = find(t, state, event, ctx, 0);

	if (r == NULL)
		r = find(t, state, event, ctx, 1);
	if (row != NULL)
		*row = r;
	if (r == NULL)
		return -1;
	if (r->action != NULL && r->action(ctx) < 0)
		return -1;
	return r->to == FSM_SAME ? state : r->to;
}

/* Counts a problem; the first one is described in err. */
#define PROBLEM(n, err, errlen, ...)                                                               \
	do {                                                                                       \
		if ((n)++ == 0)                                                                    \
			snprintf(err, errlen, __VA_ARGS__);                                        \
	} while (0)

/* The target of row r taken from state s. */
static int
target(const struct fsm_row *r, int s)
{
	return r->to == FSM_SAME ? s : r->to;
}

int
fsm_check(const struct fsm_table *t, char *err, size_t errlen)
{
	unsigned long long reached = 1ULL << t->initial, frontier = reached;
	int n = 0;

	err[0] = '\0';
	if (t->nstates > 64)
		return snprintf(err, errlen, "%s: more than 64 states", t->name), 1;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct fsm_row *r = &t->rows[i];
		if ((r->from != FSM_ANY && (r->from < 0 || r->from >= t->nstates)) ||
		    (r->to != FSM_SAME && (r->to < 0 || r->to >= t->nstates)) || r->event < 0 ||
		    r->event >= t->nevents)
			PROBLEM(n, err, errlen, "%s: row %zu has a state or event out of range",
			        t->name, i);
	}
	if (n)
		return n;

	/* Reachability: a breadth-first walk over the rows. */
	while (frontier) {
		unsigned long long next = 0;
		for (int s = 0; s < t->nstates; s++) {
			if (!(frontier & (1ULL << s)))
				continue;
			for (size_t i = 0; i < t->nrows; i++)
				if (applies(t, &t->rows[i], s))
					next |= 1ULL << target(&t->rows[i], s);
		}
		frontier = next & ~reached;
		reached |= next;
	}
	for (int s = 0; s < t->nstates; s++) {
		int way_out = 0;

		if (!(t->states & (1ULL << s)))
			continue;
		if (!(reached & (1ULL << s)))
			PROBLEM(n, err, errlen, "%s: state %s is unreachable", t->name,
			        t->state_names[s]);
		for (size_t i = 0; i < t->nrows && !way_out; i++) {
			const struct fsm_row *r = &t->rows[i];
			way_out = applies(t, r, s) && target(r, s) != s;
		}
		if (!way_out && !(t->terminal & (1ULL << s)))
			PROBLEM(n, err, errlen, "%s: state %s is a dead end", t->name,
			        t->state_names[s]);
	}

	/* Ambiguity: rows for the same (from, event) must differ in guard, and an unguarded
	 * one must come last, or the later rows could never be taken. */
	for (size_t i = 0; i < t->nrows; i++)
		for (size_t j = i + 1; j < t->nrows; j++) {
			const struct fsm_row *a = &t->rows[i], *b = &t->rows[j];
			if (a->from != b->from || a->event != b->event)
				continue;
			const char *from = a->from == FSM_ANY ? "*" : t->state_names[a->from];
			if (a->guard == b->guard)
				PROBLEM(n, err, errlen,
				        "%s: two rows for %s + %s with the same guard", t->name,
				        from, t->event_names[a->event]);
			else if (a->guard == NULL)
				PROBLEM(n, err, errlen,
				        "%s: an unguarded row for %s + %s hides a later one",
				        t->name, from, t->event_names[a->event]);
		}
	return n;
}

void
fsm_dot(const struct fsm_table *t, FILE *out)
{
	fprintf(out, "digraph \"%s\" {\n\trankdir=LR;\n\tnode [shape=box, style=rounded];\n",
	        t->name);
	fprintf(out, "\t\"%s\" [style=\"rounded,bold\"];\n", t->state_names[t->initial]);
	for (int s = 0; s < t->nstates; s++)
		if ((t->states & (1ULL << s)) && (t->terminal & (1ULL << s)))
			fprintf(out, "\t\"%s\" [peripheries=2];\n", t->state_names[s]);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct fsm_row *r = &t->rows[i];
		const char *from = r->from == FSM_ANY ? "*" : t->state_names[r->from];
		const char *to = r->to == FSM_SAME ? from : t->state_names[r->to];

		fprintf(out, "\t\"%s\" -> \"%s\" [label=\"%s", from, to, t->event_names[r->event]);
		if (r->guard_name)
			fprintf(out, " [%s]", r->guard_name);
		if (r->action_name)
			fprintf(out, " / %s", r->action_name);
		fprintf(out, "\"];\n");
	}
	fprintf(out, "}\n");
}
