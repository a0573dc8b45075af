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

/* Node by node, allocated as yajl's tree is (malloc), so that json_free frees it; a
 * partial copy counts only its members copied whole. Not through the writer: yajl_gen
 * stops at a depth of 128, which a parsed tree may pass. */
yajl_val
json_copy(yajl_val v)
{
	yajl_val c;
	size_t n;

	if (v == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->type = v->type;
	switch (v->type) {
	case yajl_t_string:
		if ((c->u.string = strdup(v->u.string)) == NULL)
			goto fail;
		break;
	case yajl_t_number:
		c->u.number = v->u.number;
		if ((c->u.number.r = strdup(v->u.number.r)) == NULL)
			goto fail;
		break;
	case yajl_t_object:
		n = v->u.object.len;
		c->u.object.keys = calloc(n ? n : 1, sizeof(c->u.object.keys[0]));
		c->u.object.values = calloc(n ? n : 1, sizeof(c->u.object.values[0]));
		if (c->u.object.keys == NULL || c->u.object.values == NULL)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			char *k = strdup(v->u.object.keys[i]);
			yajl_val e = json_copy(v->u.object.values[i]);
			if (k == NULL || e == NULL) {
				free(k);
				json_free(e);
				goto fail;
			}
			c->u.object.keys[i] = k;
			c->u.object.values[i] = e;
			c->u.object.len = i + 1;
		}
		break;
	case yajl_t_array:
		n = v->u.array.len;
		if ((c->u.array.values = calloc(n ? n : 1, sizeof(c->u.array.values[0]))) == NULL)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			if ((c->u.array.values[i] = json_copy(v->u.array.values[i])) == NULL)
				goto fail;
			c->u.array.len = i + 1;
		}
		break;
	default:
		break;
	}
	return c;
fail:
	json_free(c);
	return NULL;
}

/* The rest of a dotted path after its first segment when that is key ("" when the path
 * is key itself), or NULL when it is another. */
static const char *
path_after(const char *path, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(path, key, n) != 0 || (path[n] != '\0' && path[n] != '.'))
		return NULL;
	return path[n] == '.' ? path + n + 1 : path + n;
}

static void keep_in(yajl_val v, const char *const *keep, size_t nkeep, const char *const *drop,
                    size_t ndrop);

static void
keep_member(yajl_val obj, size_t i, const char *const *keep, size_t nkeep, const char *const *drop,
            size_t ndrop)
{
	const char *key = obj->u.object.keys[i], *rest;
	const char *subkeep[JSON_KEEP_MAX], *subdrop[JSON_KEEP_MAX];
	size_t nk = 0, nd = 0;
	int whole = 0, gone = 0;

	if (keep == NULL)
		whole = 1;
	for (size_t k = 0; keep != NULL && k < nkeep; k++)
		if ((rest = path_after(keep[k], key)) != NULL) {
			if (*rest == '\0')
				whole = 1;
			else
				subkeep[nk++] = rest;
		}
	for (size_t k = 0; k < ndrop; k++)
		if ((rest = path_after(drop[k], key)) != NULL) {
			if (*rest == '\0')
				gone = 1;
			else
				subdrop[nd++] = rest;
		}
	if (gone || (!whole && nk == 0)) {
		yajl_tree_free(obj->u.object.values[i]);
		free((char *)obj->u.object.keys[i]);
		obj->u.object.len--;
		memmove(&obj->u.object.keys[i], &obj->u.object.keys[i + 1],
		        (obj->u.object.len - i) * sizeof(obj->u.object.keys[0]));
		memmove(&obj->u.object.values[i], &obj->u.object.values[i + 1],
		        (obj->u.object.len - i) * sizeof(obj->u.object.values[0]));
		return;
	}
	/* Whole: all of it but what is dropped below it. */
	if (whole ? nd > 0 : 1)
		keep_in(obj->u.object.values[i], whole ? NULL : subkeep, whole ? 0 : nk, subdrop,
		        nd);
}

/* keep NULL: everything stays but what drop names. */
static void
keep_in(yajl_val v, const char *const *keep, size_t nkeep, const char *const *drop, size_t ndrop)
{
	if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len; i++)
			keep_in(v->u.array.values[i], keep, nkeep, drop, ndrop);
		return;
	}
	if (!YAJL_IS_OBJECT(v))
		return;
	for (size_t i = v->u.object.len; i-- > 0;)
		keep_member(v, i, keep, nkeep, drop, ndrop);
}

void
json_keep(yajl_val v, const char *const *paths)
{
	const char *keep[JSON_KEEP_MAX], *drop[JSON_KEEP_MAX];
	size_t nk = 0, nd = 0;

	for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
		if (paths[i][0] == '-' && nd < JSON_KEEP_MAX)
			drop[nd++] = paths[i] + 1;
		else if (paths[i][0] != '-' && nk < JSON_KEEP_MAX)
			keep[nk++] = paths[i];
	}
	keep_in(v, nk > 0 ? keep : NULL, nk, drop, nd);
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

void
json_strcpy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (n == 0)
		return;
	if (len >= n) {
		len = n - 1;
		/* src[len] continues a character begun before it: leave that one out. */
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
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
