/* Names of the object states and events, for status, Events, logs and the FSM drawing. */
#include "config.h"

#include <string.h>

#include "spec.h"
#include "ttc.h"

const char *const ttc_state_names[] = {
#define X(e, name, props, limit, meaning) name,
    TTC_STATES(X)
#undef X
};

const char *const ttc_state_meanings[] = {
#define X(e, name, props, limit, meaning) meaning,
    TTC_STATES(X)
#undef X
};

/* The property letters of TTC_STATES as bits. */
enum { W = 1, C = 2, H = 4, NO_LIMIT = -1 };

static const struct {
	unsigned props;
	int limit;
} states[] = {
#define X(e, name, props, limit, meaning) {props, limit},
    TTC_STATES(X)
#undef X
};

int
ttc_state_warning(int s)
{
	return (states[s].props & W) != 0;
}

int
ttc_state_polled_closely(int s)
{
	return (states[s].props & C) != 0;
}

int
ttc_state_hands_off(int s)
{
	return (states[s].props & H) != 0;
}

int
ttc_state_limit(int s)
{
	return states[s].limit;
}

const char *const ttc_event_names[] = {
#define X(e, meaning) #e,
    TTC_EVENTS(X)
#undef X
};

_Static_assert(sizeof(ttc_state_names) / sizeof(ttc_state_names[0]) == TTC_NSTATES,
               "a name per state");
_Static_assert(sizeof(ttc_event_names) / sizeof(ttc_event_names[0]) == TTC_NEVENTS,
               "a name per event");

int
ttc_state_from_name(const char *name)
{
	for (int s = 1; s < TTC_NSTATES; s++) /* NEW is never written to status */
		if (strcmp(ttc_state_names[s], name) == 0)
			return s;
	return -1;
}
