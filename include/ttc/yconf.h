/*
 * YAML configuration files read against a schema: a table of dotted key paths, each
 * with a type and where its value goes in the caller's struct. Unknown keys, duplicate
 * keys and ill-typed values are errors reported as "file:line:column: reason".
 */
#ifndef TTC_YCONF_H
#define TTC_YCONF_H

#include <stddef.h>

enum yconf_type {
	YCONF_STRING,   /* char * (malloc'd; the old value is freed); null or empty -> "" */
	YCONF_ENUM,     /* int: index of the value in names */
	YCONF_BOOL,     /* int: 0 or 1 */
	YCONF_INT,      /* long long within [min, max] */
	YCONF_DURATION, /* long long milliseconds within [min, max]: "250ms", "5s", "1m30s" */
	YCONF_ADDR,     /* char *: "HOST:PORT" with HOST an IP literal ("[::1]:80", ":8080") */
};

struct yconf_field {
	const char *path; /* dotted key path: "log.level" */
	enum yconf_type type;
	size_t offset;            /* of the value in the target struct */
	const char *const *names; /* YCONF_ENUM: NULL-terminated names */
	long long min, max;       /* YCONF_INT, YCONF_DURATION */
};

/*
 * Reads the YAML file at path into target according to fields (ended by a row with a
 * NULL path). Keys absent from the file leave target untouched. Returns 0, or -1 with
 * the first error in err. target may be partly written on failure: load into a copy.
 */
int yconf_load_file(const char *path, const struct yconf_field *fields, void *target, char *err,
                    size_t errlen);
/* The same for YAML text in memory; name stands for the file name in errors. */
int yconf_load_string(const char *name, const char *text, size_t len,
                      const struct yconf_field *fields, void *target, char *err, size_t errlen);

/* Parses "250ms", "5s", "1m30s", "2h" into milliseconds; -1 when malformed. */
long long yconf_parse_duration(const char *s);

#endif
