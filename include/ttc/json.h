/*
 * JSON on yajl: parsing into trees with checked path lookups, and a writer that keeps the
 * first error so a sequence of calls is checked once, at the end.
 */
#ifndef TTC_JSON_H
#define TTC_JSON_H

#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Parses one JSON value; NULL with the reason in err. text need not end in NUL. */
yajl_val json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(yajl_val v);
/* A deep copy of v (NULL for NULL or on failure), freed with json_free. */
yajl_val json_copy(yajl_val v);
/*
 * Removes from v, in place, every member outside the given paths (NULL-terminated, at most
 * JSON_KEEP_MAX): "metadata" keeps that member whole, "spec.nodeName" only that member of
 * spec. An array is transparent: "spec.containers.image" keeps the image of each element
 * of containers. "-metadata.managedFields" removes that member even where another path
 * keeps its parent. Paths that reach a scalar early keep it. v not an object: unchanged.
 */
#define JSON_KEEP_MAX 32
void json_keep(yajl_val v, const char *const *paths);

/* The value at a path of object keys ending in NULL, or NULL: json_get(v, "a", "b", NULL). */
yajl_val json_get(yajl_val v, ...) __attribute__((sentinel));
/* The string at a path, or NULL when absent or not a string. */
const char *json_str(yajl_val v, ...) __attribute__((sentinel));
/* The integer at a path into *out: 0, or -1 when absent or not an integer. */
int json_int(yajl_val v, long long *out, ...) __attribute__((sentinel));
/* The boolean at a path: 1 or 0, or -1 when absent or not a boolean. */
int json_bool(yajl_val v, ...) __attribute__((sentinel));
/* Arrays: length (0 when not an array) and element i (NULL when out of range). */
size_t json_len(yajl_val v);
yajl_val json_at(yajl_val v, size_t i);
/* Copies the string src into dst (n bytes), cut short if it must be between two UTF-8
 * characters, never inside one: the copy stays writable (the writer validates UTF-8). */
void json_strcpy(char *dst, size_t n, const char *src);
/* Objects: number of members, and the key and value of member i. */
size_t json_nkeys(yajl_val v);
const char *json_key_at(yajl_val v, size_t i);
yajl_val json_value_at(yajl_val v, size_t i);

struct jw {
	yajl_gen g;
	int failed; /* set by the first failing call; later calls do nothing */
	int depth;  /* open objects and arrays */
};

/* Starts a writer (compact output, UTF-8 validated); 0 or -1. */
int jw_init(struct jw *w);
/* The document as a malloc'd NUL-terminated string (length in *len if not NULL), or NULL
 * if any call failed or the document is incomplete. Frees the writer either way. */
char *jw_finish(struct jw *w, size_t *len);
/* Abandons the writer. */
void jw_discard(struct jw *w);

void jw_obj(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
void jw_double(struct jw *w, double v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Writes a parsed value as it is (to pass a subtree through). Like every call, it fails
 * past a nesting depth of 128, yajl_gen's limit. */
void jw_val(struct jw *w, yajl_val v);

/* A key and its value in one call. */
void jw_kstr(struct jw *w, const char *k, const char *v);
void jw_kint(struct jw *w, const char *k, long long v);
void jw_kbool(struct jw *w, const char *k, int v);

#endif
