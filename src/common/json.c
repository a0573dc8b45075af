/*
 * JSON helpers (see ttc/json.h): tree lookups that check types, and a yajl_gen writer
 * whose errors are checked once when the document is finished.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttc/json.h"

yajl_val
json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	char *copy = malloc(len + 1);
	yajl_val v;

	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte in JSON text");
		free(copy);
		return NULL;
	}
	err[0] = '\0';
	v = yajl_tree_parse(copy, err, errlen);
	if (v == NULL && err[0] == '\0')
		snprintf(err, errlen, "invalid JSON");
	/* yajl's messages span lines; keep the first. */
	char *nl = strchr(err, '\n');
	if (nl != NULL)
		*nl = '\0';
	free(copy);
	return v;
}

void
json_free(yajl_val v)
{
	if (v != NULL)
		yajl_tree_free(v);
}

yajl_val
json_copy(yajl_val v)
{
	struct jw w;
	char *text, err[64];
	size_t len;
	yajl_val copy;

	if (v == NULL || jw_init(&w) < 0)
		return NULL;
	jw_val(&w, v);
	if ((text = jw_finish(&w, &len)) == NULL)
		return NULL;
	copy = json_parse(text, len, err, sizeof(err));
	free(text);
	return copy;
}

static yajl_val
vget(yajl_val v, va_list ap)
{
	const char *k;

	while ((k = va_arg(ap, const char *)) != NULL) {
		size_t i;
		if (!YAJL_IS_OBJECT(v))
			return NULL;
		for (i = 0; i < v->u.object.len && strcmp(v->u.object.keys[i], k) != 0; i++)
			;
		if (i == v->u.object.len)
			return NULL;
		v = v->u.object.values[i];
	}
	return v;
}

yajl_val
json_get(yajl_val v, ...)
{
	va_list ap;

	va_start(ap, v);
	v = vget(v, ap);
	va_end(ap);
	return v;
}

const char *
json_str(yajl_val v, ...)
{
	va_list ap;

	va_start(ap, v);
	v = vget(v, ap);
	va_end(ap);
	return YAJL_GET_STRING(v);
}

int
json_int(yajl_val v, long long *out, ...)
{
	va_list ap;

	va_start(ap, out);
	v = vget(v, ap);
	va_end(ap);
	if (!YAJL_IS_INTEGER(v))
		return -1;
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

int
json_bool(yajl_val v, ...)
{
	va_list ap;

	va_start(ap, v);
	v = vget(v, ap);
	va_end(ap);
	return YAJL_IS_TRUE(v) ? 1 : YAJL_IS_FALSE(v) ? 0 : -1;
}

size_t
json_len(yajl_val v)
{
	return YAJL_IS_ARRAY(v) ? v->u.array.len : 0;
}

yajl_val
json_at(yajl_val v, size_t i)
{
	return i < json_len(v) ? v->u.array.values[i] : NULL;
}

size_t
json_nkeys(yajl_val v)
{
	return YAJL_IS_OBJECT(v) ? v->u.object.len : 0;
}

const char *
json_key_at(yajl_val v, size_t i)
{
	return i < json_nkeys(v) ? v->u.object.keys[i] : NULL;
}

yajl_val
json_value_at(yajl_val v, size_t i)
{
	return i < json_nkeys(v) ? v->u.object.values[i] : NULL;
}

int
jw_init(struct jw *w)
{
	w->failed = 0;
	w->depth = 0;
	if ((w->g = yajl_gen_alloc(NULL)) == NULL)
		return -1;
	yajl_gen_config(w->g, yajl_gen_validate_utf8, 1);
	return 0;
}

#define JW_CALL(w, call)                                                                           \
	do {                                                                                       \
		if (!(w)->failed && (call) != yajl_gen_status_ok)                                  \
			(w)->failed = 1;                                                           \
	} while (0)

char *
jw_finish(struct jw *w, size_t *len)
{
	const unsigned char *buf;
	size_t n;
	char *out = NULL;

	/* An unfinished document (an object or array left open) is a failure too. */
	if (!w->failed && w->depth == 0 && yajl_gen_get_buf(w->g, &buf, &n) == yajl_gen_status_ok &&
	    n > 0 && (out = malloc(n + 1)) != NULL) {
		memcpy(out, buf, n);
		out[n] = '\0';
		if (len != NULL)
			*len = n;
	}
	jw_discard(w);
	return out;
}

void
jw_discard(struct jw *w)
{
	if (w->g != NULL)
		yajl_gen_free(w->g);
	w->g = NULL;
	w->failed = 1;
}

void
jw_obj(struct jw *w)
{
	JW_CALL(w, yajl_gen_map_open(w->g));
	w->depth++;
}

void
jw_obj_end(struct jw *w)
{
	JW_CALL(w, yajl_gen_map_close(w->g));
	w->depth--;
}

void
jw_arr(struct jw *w)
{
	JW_CALL(w, yajl_gen_array_open(w->g));
	w->depth++;
}

void
jw_arr_end(struct jw *w)
{
	JW_CALL(w, yajl_gen_array_close(w->g));
	w->depth--;
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	JW_CALL(w, yajl_gen_string(w->g, (const unsigned char *)s, n));
}

void
jw_key(struct jw *w, const char *k)
{
	jw_strn(w, k, strlen(k));
}

void
jw_str(struct jw *w, const char *s)
{
	if (s == NULL)
		jw_null(w);
	else
		jw_strn(w, s, strlen(s));
}

void
jw_int(struct jw *w, long long v)
{
	JW_CALL(w, yajl_gen_integer(w->g, v));
}

void
jw_double(struct jw *w, double v)
{
	JW_CALL(w, yajl_gen_double(w->g, v));
}

void
jw_bool(struct jw *w, int v)
{
	JW_CALL(w, yajl_gen_bool(w->g, v));
}

void
jw_null(struct jw *w)
{
	JW_CALL(w, yajl_gen_null(w->g));
}

void
jw_val(struct jw *w, yajl_val v)
{
	if (v == NULL) {
		jw_null(w);
		return;
	}
	switch (v->type) {
	case yajl_t_string:
		jw_str(w, v->u.string);
		break;
	case yajl_t_number:
		/* The raw text keeps integers beyond long long and exact decimals. */
		JW_CALL(w, yajl_gen_number(w->g, v->u.number.r, strlen(v->u.number.r)));
		break;
	case yajl_t_object:
		jw_obj(w);
		for (size_t i = 0; i < v->u.object.len; i++) {
			jw_key(w, v->u.object.keys[i]);
			jw_val(w, v->u.object.values[i]);
		}
		jw_obj_end(w);
		break;
	case yajl_t_array:
		jw_arr(w);
		for (size_t i = 0; i < v->u.array.len; i++)
			jw_val(w, v->u.array.values[i]);
		jw_arr_end(w);
		break;
	case yajl_t_true:
		jw_bool(w, 1);
		break;
	case yajl_t_false:
		jw_bool(w, 0);
		break;
	default:
		jw_null(w);
	}
}

void
jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_str(w, v);
}

void
jw_kint(struct jw *w, const char *k, long long v)
{
	jw_key(w, k);
	jw_int(w, v);
}

void
jw_kbool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	jw_bool(w, v);
}
