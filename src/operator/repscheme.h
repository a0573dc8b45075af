/* The replication scheme statement of an active/standby pair. */
#ifndef REPSCHEME_H
#define REPSCHEME_H

#include <stddef.h>

struct ttc_spec;

/* The DNS name of pod <name>-<ordinal> behind the headless Service <name>. */
void repscheme_host(char *buf, size_t n, const char *name, int ordinal, const char *ns);

/* The statement for object name in namespace ns, malloc'd; NULL with err on a bad token. */
char *repscheme_statement(const struct ttc_spec *spec, const char *name, const char *ns, char *err,
                          size_t errlen);

#endif
