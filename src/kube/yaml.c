/*
 * YAML to a yajl tree for kubeconfig files: libyaml events drive the JSON writer, with
 * plain scalars typed as kubectl's YAML 1.1 reader types them. Aliases, merge keys,
 * non-scalar and duplicate keys are refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "internal.h"
#include "ttc/json.h"

#define YAML_MAX_DEPTH 64

/* The keys seen so far in each open mapping, to refuse duplicates. */
struct frame {
	int is_map;
	int expect_key;
	char **keys;
	size_t nkeys;
};

static void
frame_clear(struct frame *f)
{
	for (size_t i = 0; i < f->nkeys; i++)
		free(f->keys[i]);
	free(f->keys);
	f->keys = NULL;
	f->nkeys = 0;
}

static int
frame_add_key(struct frame *f, const char *k)
{
	char **keys;

	for (size_t i = 0; i < f->nkeys; i++)
		if (strcmp(f->keys[i], k) == 0)
			return -1;
	if ((keys = realloc(f->keys, (f->nkeys + 1) * sizeof(*keys))) == NULL)
		return -1;
	f->keys = keys;
	if ((f->keys[f->nkeys] = strdup(k)) == NULL)
		return -1;
	f->nkeys++;
	return 0;
}

static int
is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

/* Writes a plain (unquoted, untagged) scalar with its YAML 1.1 type. */
static void
write_plain(struct jw *w, const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
	                                    "True", "TRUE", "on",  "On",  "ON",  NULL};
	static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
	                                     "False", "FALSE", "off", "Off", "OFF", NULL};
	char *end;
	long long n;
	double d;

	if (is_one_of(s, nulls)) {
		jw_null(w);
		return;
	}
	if (is_one_of(s, trues) || is_one_of(s, falses)) {
		jw_bool(w, is_one_of(s, trues));
		return;
	}
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		n = strtoll(s + 2, &end, 16);
	else if (s[0] == '0' && s[1] != '\0' && s[1] != '.')
		n = strtoll(s, &end, 8); /* YAML 1.1: 0644 is octal */
	else
		n = strtoll(s, &end, 10);
	if (*end == '\0' && errno == 0 && end != s) {
		jw_int(w, n);
		return;
	}
	d = strtod(s, &end);
	if (*end == '\0' && end != s && strpbrk(s, ".eE") != NULL && strpbrk(s, "nN") == NULL) {
		jw_double(w, d);
		return;
	}
	jw_str(w, s);
}

yajl_val
kube_yaml_parse(const char *text, size_t len, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct jw w;
	struct frame stack[YAML_MAX_DEPTH];
	int depth = 0, docs = 0, done = 0, failed = 0;
	char *json = NULL;
	size_t jlen;
	yajl_val v = NULL;

	memset(stack, 0, sizeof(stack));
	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "cannot start the YAML parser");
		return NULL;
	}
	if (jw_init(&w) < 0) {
		yaml_parser_delete(&p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && !failed) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(err, errlen, "line %zu column %zu: %s", p.problem_mark.line + 1,
			         p.problem_mark.column + 1, p.problem ? p.problem : "invalid YAML");
			failed = 1;
			break;
		}
		struct frame *top = depth > 0 ? &stack[depth - 1] : NULL;
		int is_key = top && top->is_map && top->expect_key;
		size_t line = ev.start_mark.line + 1;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				snprintf(err, errlen, "line %zu: more than one document", line);
				failed = 1;
			}
			break;
		case YAML_ALIAS_EVENT:
			snprintf(err, errlen, "line %zu: aliases are not supported", line);
			failed = 1;
			break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;
			if (is_key) {
				if (strcmp(s, "<<") == 0 &&
				    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
					snprintf(err, errlen,
					         "line %zu: merge keys are not supported", line);
					failed = 1;
				} else if (frame_add_key(top, s) < 0) {
					snprintf(err, errlen, "line %zu: duplicate key \"%s\"",
					         line, s);
					failed = 1;
				} else {
					jw_key(&w, s);
					top->expect_key = 0;
				}
				break;
			}
			const char *tag = (const char *)ev.data.scalar.tag;
			if (ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
			    (tag && strcmp(tag, YAML_STR_TAG) == 0))
				jw_strn(&w, s, ev.data.scalar.length);
			else
				write_plain(&w, s);
			if (top && top->is_map)
				top->expect_key = 1;
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (is_key) {
				snprintf(err, errlen, "line %zu: keys must be scalars", line);
				failed = 1;
				break;
			}
			if (depth == YAML_MAX_DEPTH) {
				snprintf(err, errlen, "line %zu: nested too deeply", line);
				failed = 1;
				break;
			}
			stack[depth].is_map = ev.type == YAML_MAPPING_START_EVENT;
			stack[depth].expect_key = 1;
			depth++;
			if (ev.type == YAML_MAPPING_START_EVENT)
				jw_obj(&w);
			else
				jw_arr(&w);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			frame_clear(&stack[depth]);
			if (ev.type == YAML_MAPPING_END_EVENT)
				jw_obj_end(&w);
			else
				jw_arr_end(&w);
			if (depth > 0 && stack[depth - 1].is_map)
				stack[depth - 1].expect_key = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	for (int i = 0; i < depth; i++)
		frame_clear(&stack[i]);
	yaml_parser_delete(&p);
	if (failed) {
		jw_discard(&w);
		return NULL;
	}
	if (docs == 0) {
		jw_discard(&w);
		snprintf(err, errlen, "the document is empty");
		return NULL;
	}
	if ((json = jw_finish(&w, &jlen)) == NULL) {
		snprintf(err, errlen, "the document cannot be represented as JSON");
		return NULL;
	}
	v = json_parse(json, jlen, err, errlen);
	free(json);
	return v;
}
