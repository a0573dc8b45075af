/* The replication scheme statement of an active/standby pair. */
#ifndef REPSCHEME_H
#define REPSCHEME_H

#include <stddef.h>

struct ttc_spec;

/* The statement for object name in namespace ns, malloc'd; NULL with err on a bad token. */
char *repscheme_statement(const struct ttc_spec *spec, const char *name, const char *ns, char *err,
                          size_t errlen);

#endif
