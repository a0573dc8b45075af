/*
 * Schema-driven YAML configuration loading (see ttc/yconf.h), on libyaml's document
 * loader. The whole document is checked; the first error is reported with its position.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "ttc/netaddr.h"
#include "ttc/yconf.h"

#define YCONF_MAX_FILE (1024 * 1024)
#define YCONF_MAX_KEY 256

struct walk {
	const char *name;
	yaml_document_t *doc;
	const struct yconf_field *fields;
	char *target;
	char *err;
	size_t errlen;
};

static int fail(struct walk *w, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct walk *w, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(w->err, w->errlen, "%s:%zu:%zu: ", w->name, node->start_mark.line + 1,
	                 node->start_mark.column + 1);

	if (n >= 0 && (size_t)n < w->errlen) {
		va_start(ap, fmt);
		vsnprintf(w->err + n, w->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *
scalar(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* A plain (unquoted) scalar spelling YAML's null: "", "~", "null". */
static int
is_null(const yaml_node_t *node)
{
	const char *s = scalar(node);

	return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	        strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

long long
yconf_parse_duration(const char *s)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	long long total = 0;

	if (*s == '\0')
		return -1;
	while (*s) {
		char *end;
		size_t i;

		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno != 0 || end == s)
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);
			if (strncmp(end, units[i].unit, n) == 0)
				break; /* "ms" is tried before "m" and "s" */
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		if (v > (1LL << 40) / units[i].ms)
			return -1;
		total += v * units[i].ms;
		s = end + strlen(units[i].unit);
	}
	return total;
}

static int
set_value(struct walk *w, const struct yconf_field *f, const yaml_node_t *node)
{
	void *slot = w->target + f->offset;
	const char *s;
	char *end;

	if (node->type != YAML_SCALAR_NODE)
		return fail(w, node, "%s: expected a single value, not a %s", f->path,
		            node->type == YAML_MAPPING_NODE ? "mapping" : "list");
	s = is_null(node) ? "" : scalar(node);
	switch (f->type) {
	case YCONF_ADDR: {
		struct sockaddr_storage ss;
		socklen_t len;
		char why[128];

		if (netaddr_parse(s, &ss, &len, why, sizeof(why)) < 0)
			return fail(w, node, "%s: %s", f->path, why);
	}
		/* FALLTHROUGH */
	case YCONF_STRING: {
		char **p = slot, *copy = strdup(s);

		if (copy == NULL)
			return fail(w, node, "%s: out of memory", f->path);
		free(*p);
		*p = copy;
		return 0;
	}
	case YCONF_ENUM:
		for (int i = 0; f->names[i] != NULL; i++)
			if (strcmp(s, f->names[i]) == 0) {
				*(int *)slot = i;
				return 0;
			}
		{
			char allowed[256] = "";
			for (int i = 0; f->names[i] != NULL; i++) {
				strncat(allowed, i ? ", " : "",
				        sizeof(allowed) - strlen(allowed) - 1);
				strncat(allowed, f->names[i],
				        sizeof(allowed) - strlen(allowed) - 1);
			}
			return fail(w, node, "%s: \"%s\" is not one of %s", f->path, s, allowed);
		}
	case YCONF_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0)
			*(int *)slot = 1;
		else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0)
			*(int *)slot = 0;
		else
			return fail(w, node, "%s: \"%s\" is not true or false", f->path, s);
		return 0;
	case YCONF_INT: {
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0)
			return fail(w, node, "%s: \"%s\" is not an integer", f->path, s);
		if (v < f->min || v > f->max)
			return fail(w, node, "%s: %lld is outside [%lld, %lld]", f->path, v, f->min,
			            f->max);
		*(long long *)slot = v;
		return 0;
	}
	case YCONF_DURATION: {
		long long v = yconf_parse_duration(s);
		if (v < 0)
			return fail(w, node, "%s: \"%s\" is not a duration such as 500ms, 5s or 1m",
			            f->path, s);
		if (v < f->min || v > f->max)
			return fail(w, node, "%s: %s is outside [%lldms, %lldms]", f->path, s,
			            f->min, f->max);
		*(long long *)slot = v;
		return 0;
	}
	}
	return fail(w, node, "%s: unsupported type", f->path);
}

/* Whether some field lies below path (path is a section). */
static int
is_section(const struct yconf_field *fields, const char *path)
{
	size_t n = strlen(path);

	for (const struct yconf_field *f = fields; f->path; f++)
		if (strncmp(f->path, path, n) == 0 && f->path[n] == '.')
			return 1;
	return 0;
}

static int
walk_mapping(struct walk *w, yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const struct yconf_field *f;
		char path[YCONF_MAX_KEY];

		if (k == NULL || v == NULL)
			return fail(w, map, "malformed mapping");
		if (k->type != YAML_SCALAR_NODE)
			return fail(w, k, "keys must be plain names");
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *qk = yaml_document_get_node(w->doc, q->key);
			if (qk->type == YAML_SCALAR_NODE && strcmp(scalar(qk), scalar(k)) == 0)
				return fail(w, k, "duplicate key \"%s%s%s\"", prefix,
				            *prefix ? "." : "", scalar(k));
		}
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
		                     scalar(k)) >= sizeof(path))
			return fail(w, k, "key too long");
		for (f = w->fields; f->path && strcmp(f->path, path) != 0; f++)
			;
		if (f->path != NULL) {
			if (set_value(w, f, v) < 0)
				return -1;
			continue;
		}
		if (!is_section(w->fields, path))
			return fail(w, k, "unknown key \"%s\"", path);
		if (v->type == YAML_SCALAR_NODE && is_null(v))
			continue; /* an empty section */
		if (v->type != YAML_MAPPING_NODE)
			return fail(w, v, "%s: expected a mapping of settings", path);
		if (walk_mapping(w, v, path) < 0)
			return -1;
	}
	return 0;
}

int
yconf_load_string(const char *name, const char *text, size_t len, const struct yconf_field *fields,
                  void *target, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	struct walk w = {name, &doc, fields, target, err, errlen};
	int rc = 0;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", name, parser.problem_mark.line + 1,
		         parser.problem_mark.column + 1,
		         parser.problem ? parser.problem : "syntax error",
		         parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL) {
		if (root->type == YAML_SCALAR_NODE && is_null(root))
			; /* an empty document: nothing set */
		else if (root->type != YAML_MAPPING_NODE)
			rc = fail(&w, root, "the configuration must be a mapping of settings");
		else
			rc = walk_mapping(&w, root, "");
		/* A second document in the file is refused rather than silently ignored. */
		if (rc == 0) {
			if (!yaml_parser_load(&parser, &extra)) {
				snprintf(err, errlen, "%s:%zu:%zu: %s", name,
				         parser.problem_mark.line + 1,
				         parser.problem_mark.column + 1,
				         parser.problem ? parser.problem : "syntax error");
				rc = -1;
			} else {
				yaml_node_t *r2 = yaml_document_get_root_node(&extra);
				if (r2 != NULL)
					rc = fail(&w, r2, "only one YAML document is allowed");
				yaml_document_delete(&extra);
			}
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int
yconf_load_file(const char *path, const struct yconf_field *fields, void *target, char *err,
                size_t errlen)
{
	FILE *fp;
	char *text;
	struct stat st;
	size_t n;
	int rc;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > YCONF_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path,
		         YCONF_MAX_FILE);
		fclose(fp);
		return -1;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(fp);
		return -1;
	}
	n = fread(text, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		free(text);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	text[n] = '\0';
	rc = yconf_load_string(path, text, n, fields, target, err, errlen);
	free(text);
	return rc;
}
