/* The replication scheme statement of an active/standby pair. */
#ifndef REPSCHEME_H
#define REPSCHEME_H

#include <stddef.h>

struct ttc_spec;

/* The statement for object name in namespace ns, malloc'd; NULL with err on a bad token. */
char *repscheme_statement(const struct ttc_spec *spec, const char *name, const char *ns, char *err,
                          size_t errlen);

/* What a scheme's statement says of where a commit lands first (bothDownBehavior). */
struct rep_returns {
	int twosafe;        /* RETURN TWOSAFE (with or without BY REQUEST) */
	int by_request;     /* ... BY REQUEST: only some transactions wait for the standby */
	int disable_return; /* DISABLE RETURN: the active may stop waiting for the standby */
	int local_commit;   /* LOCAL COMMIT ACTION COMMIT: a timed-out commit is kept locally */
};

/* Reads statement (NULL: none, all zero); words inside quotes are not taken. */
struct rep_returns repscheme_returns(const char *statement);

#endif
