/*
 * The informer's cache: parsed objects by "namespace/name" in a chained hash table, the
 * replacement of the whole content by a fresh list with the differences reported, and
 * small accessors and edits of yajl objects.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ttc/json.h"

struct cache_ent {
	struct cache_ent *next;
	uint32_t hash;
	char *key;
	yajl_val obj;
};

struct kube_cache {
	struct cache_ent **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

static uint32_t
hash_key(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct kube_cache *
kube_cache_new(void)
{
	struct kube_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->nbuckets = 64;
	if ((c->buckets = calloc(c->nbuckets, sizeof(*c->buckets))) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void
clear(struct kube_cache *c)
{
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct cache_ent *e, *next;
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->next;
			json_free(e->obj);
			free(e->key);
			free(e);
		}
		c->buckets[i] = NULL;
	}
	c->count = 0;
}

void
kube_cache_free(struct kube_cache *c)
{
	if (c == NULL)
		return;
	clear(c);
	free(c->buckets);
	free(c);
}

size_t
kube_cache_count(const struct kube_cache *c)
{
	return c->count;
}

static struct cache_ent **
slot(const struct kube_cache *c, const char *key, uint32_t h)
{
	struct cache_ent **pe = &c->buckets[h & (c->nbuckets - 1)];

	while (*pe != NULL && ((*pe)->hash != h || strcmp((*pe)->key, key) != 0))
		pe = &(*pe)->next;
	return pe;
}

yajl_val
kube_cache_get(const struct kube_cache *c, const char *key)
{
	struct cache_ent *e = *slot(c, key, hash_key(key));

	return e ? e->obj : NULL;
}

static void
grow(struct kube_cache *c)
{
	size_t n = c->nbuckets * 2;
	struct cache_ent **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct cache_ent *e, *next;
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

yajl_val
kube_cache_put(struct kube_cache *c, const char *key, yajl_val obj, int *failed)
{
	uint32_t h = hash_key(key);
	struct cache_ent **pe = slot(c, key, h), *e;
	yajl_val old;

	*failed = 0;
	if ((e = *pe) != NULL) {
		old = e->obj;
		e->obj = obj;
		return old;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		*failed = 1;
		return NULL;
	}
	e->hash = h;
	e->obj = obj;
	*pe = e;
	if (++c->count > c->nbuckets)
		grow(c);
	return NULL;
}

yajl_val
kube_cache_remove(struct kube_cache *c, const char *key)
{
	struct cache_ent **pe = slot(c, key, hash_key(key)), *e = *pe;
	yajl_val obj;

	if (e == NULL)
		return NULL;
	*pe = e->next;
	obj = e->obj;
	free(e->key);
	free(e);
	c->count--;
	return obj;
}

void
kube_cache_foreach(const struct kube_cache *c, void (*fn)(const char *key, yajl_val obj, void *arg),
                   void *arg)
{
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct cache_ent *e = c->buckets[i]; e != NULL; e = e->next)
			fn(e->key, e->obj, arg);
}

static int
same_rv(yajl_val a, yajl_val b)
{
	const char *ra = kube_obj_rv(a), *rb = kube_obj_rv(b);

	return ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
}

void
kube_cache_replace(struct kube_cache *c, struct kube_cache *next, kube_diff_fn diff, void *arg)
{
	struct kube_cache tmp = *c;

	/* Swap: c takes the fresh content, next the old one. */
	*c = *next;
	*next = tmp;
	for (size_t i = 0; i < c->nbuckets; i++) {
		for (struct cache_ent *e = c->buckets[i]; e != NULL; e = e->next) {
			yajl_val old = kube_cache_get(next, e->key);
			if (old == NULL)
				diff(KUBE_ADDED, e->obj, NULL, arg);
			else if (!same_rv(old, e->obj))
				diff(KUBE_UPDATED, e->obj, old, arg);
		}
	}
	for (size_t i = 0; i < next->nbuckets; i++)
		for (struct cache_ent *e = next->buckets[i]; e != NULL; e = e->next)
			if (kube_cache_get(c, e->key) == NULL)
				diff(KUBE_DELETED, e->obj, e->obj, arg);
	clear(next);
}

/* -- objects ------------------------------------------------------------------------------ */

const char *
kube_obj_name(yajl_val obj)
{
	return json_str(obj, "metadata", "name", NULL);
}

const char *
kube_obj_namespace(yajl_val obj)
{
	return json_str(obj, "metadata", "namespace", NULL);
}

const char *
kube_obj_rv(yajl_val obj)
{
	return json_str(obj, "metadata", "resourceVersion", NULL);
}

const char *
kube_obj_key(yajl_val obj, char *buf, size_t len)
{
	const char *ns = kube_obj_namespace(obj), *name = kube_obj_name(obj);

	if (name == NULL)
		return NULL;
	if (ns != NULL && *ns != '\0')
		snprintf(buf, len, "%s/%s", ns, name);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

int
kube_obj_set_str(yajl_val obj, const char *key, const char *value)
{
	yajl_val v;
	size_t i, n;

	if (!YAJL_IS_OBJECT(obj))
		return -1;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -1;
	v->type = yajl_t_string;
	if ((v->u.string = strdup(value)) == NULL) {
		free(v);
		return -1;
	}
	n = obj->u.object.len;
	for (i = 0; i < n; i++) {
		if (strcmp(obj->u.object.keys[i], key) == 0) {
			yajl_tree_free(obj->u.object.values[i]);
			obj->u.object.values[i] = v;
			return 0;
		}
	}
	/* yajl frees keys and values with free(): grow them with realloc. */
	const char **keys = realloc(obj->u.object.keys, (n + 1) * sizeof(*keys));
	if (keys != NULL)
		obj->u.object.keys = keys;
	yajl_val *values = realloc(obj->u.object.values, (n + 1) * sizeof(*values));
	if (values != NULL)
		obj->u.object.values = values;
	char *k = strdup(key);
	if (keys == NULL || values == NULL || k == NULL) {
		free(k);
		yajl_tree_free(v);
		return -1;
	}
	obj->u.object.keys[n] = k;
	obj->u.object.values[n] = v;
	obj->u.object.len = n + 1;
	return 0;
}

yajl_val
kube_obj_steal(yajl_val parent, const char *key)
{
	if (!YAJL_IS_OBJECT(parent))
		return NULL;
	for (size_t i = 0; i < parent->u.object.len; i++) {
		if (strcmp(parent->u.object.keys[i], key) == 0) {
			yajl_val v = parent->u.object.values[i];
			/* yajl_tree_free() skips NULL values. */
			parent->u.object.values[i] = NULL;
			return v;
		}
	}
	return NULL;
}
