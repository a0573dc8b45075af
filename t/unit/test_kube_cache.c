/* Tests for src/kube/cache.c: the object cache, list replacement and object edits. */
#include "config.h"

#include "kube/internal.h"
#include "tap.h"
#include "ttc/json.h"

static yajl_val
obj(const char *ns, const char *name, const char *rv)
{
	char text[256], err[128];

	snprintf(text, sizeof(text),
	         "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":\"%s\"}}",
	         ns, name, rv);
	return json_parse(text, strlen(text), err, sizeof(err));
}

static void
put(struct kube_cache *c, const char *ns, const char *name, const char *rv)
{
	char key[128];
	int failed;
	yajl_val o = obj(ns, name, rv);

	json_free(kube_cache_put(c, kube_obj_key(o, key, sizeof(key)), o, &failed));
}

struct diffs {
	char text[1024];
	int added, updated, deleted;
	struct kube_cache *c;
	int cache_was_new;
};

static void
diff(enum kube_event_type t, yajl_val o, yajl_val old, void *arg)
{
	struct diffs *d = arg;
	char key[128], line[200];
	static const char *const names[] = {"ADDED", "UPDATED", "DELETED"};

	kube_obj_key(o, key, sizeof(key));
	if (t == KUBE_ADDED)
		d->added++;
	if (t == KUBE_UPDATED) {
		d->updated++;
		if (strcmp(kube_obj_rv(old), kube_obj_rv(o)) == 0)
			d->cache_was_new = -100;
	}
	if (t == KUBE_DELETED)
		d->deleted++;
	/* The cache holds the new state while the differences are reported. */
	if ((kube_cache_get(d->c, key) != NULL) != (t != KUBE_DELETED))
		d->cache_was_new = -1000;
	else
		d->cache_was_new++;
	snprintf(line, sizeof(line), "%s %s %s;", names[t], key, kube_obj_rv(o));
	strncat(d->text, line, sizeof(d->text) - strlen(d->text) - 1);
}

static void
test_basics(void)
{
	struct kube_cache *c = kube_cache_new();
	char key[64];
	int failed;
	yajl_val o;

	put(c, "ns", "a", "1");
	put(c, "ns", "b", "2");
	is_int(kube_cache_count(c), 2, "two objects");
	is_str(kube_obj_rv(kube_cache_get(c, "ns/a")), "1", "found by namespace/name");
	put(c, "ns", "a", "3");
	is_int(kube_cache_count(c), 2, "a put on the same key replaces");
	is_str(kube_obj_rv(kube_cache_get(c, "ns/a")), "3", "with the new object");
	o = kube_cache_remove(c, "ns/a");
	ok(o != NULL && kube_cache_get(c, "ns/a") == NULL, "remove hands the object back");
	json_free(o);
	ok(kube_cache_remove(c, "ns/zz") == NULL, "removing a missing key gives NULL");

	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "o%d", i);
		put(c, "big", key, "7");
	}
	is_int(kube_cache_count(c), 10001, "ten thousand objects (the table grows)");
	ok(kube_cache_get(c, "big/o9999") != NULL && kube_cache_get(c, "big/o0") != NULL,
	   "all still found");
	o = obj("", "cluster-wide", "1");
	is_str(kube_obj_key(o, key, sizeof(key)), "cluster-wide",
	       "no namespace: the key is the name");
	json_free(kube_cache_put(c, key, o, &failed));
	ok(kube_cache_get(c, "cluster-wide") == o, "cluster-scoped objects by name");
	kube_cache_free(c);
}

static void
test_replace(void)
{
	struct kube_cache *c = kube_cache_new(), *next = kube_cache_new();
	struct diffs d = {.c = c};

	put(c, "n", "same", "1");
	put(c, "n", "changed", "1");
	put(c, "n", "gone", "1");
	put(next, "n", "same", "1");
	put(next, "n", "changed", "5");
	put(next, "n", "new", "6");
	kube_cache_replace(c, next, diff, &d);
	is_int(d.added, 1, "one added");
	is_int(d.updated, 1, "one changed");
	is_int(d.deleted, 1, "one gone");
	like(d.text, "ADDED n/new 6;", "the new object");
	like(d.text, "UPDATED n/changed 5;", "the changed one with its new version");
	like(d.text, "DELETED n/gone 1;", "the gone one with its last state");
	is_int(d.cache_was_new, 3, "handlers see the cache already replaced");
	is_int(kube_cache_count(c), 3, "the cache holds exactly the new list");
	ok(kube_cache_get(c, "n/gone") == NULL, "without the gone object");
	is_int(kube_cache_count(next), 0, "the list's cache is emptied");
	kube_cache_free(next);

	next = kube_cache_new();
	memset(&d, 0, sizeof(d));
	d.c = c;
	kube_cache_replace(c, next, diff, &d);
	is_int(d.deleted, 3, "an empty list deletes everything");
	is_int(kube_cache_count(c), 0, "leaving the cache empty");
	kube_cache_free(next);
	kube_cache_free(c);
}

static void
test_objects(void)
{
	char err[128];
	const char *text = "{\"metadata\":{\"name\":\"x\"},\"object\":{\"k\":[1,2]}}";
	yajl_val v = json_parse(text, strlen(text), err, sizeof(err)), taken;
	struct jw w;
	char *out;

	ok(kube_obj_set_str(v, "kind", "Pod") == 0, "a member is added");
	ok(kube_obj_set_str(v, "kind", "Service") == 0, "and replaced");
	is_str(json_str(v, "kind", NULL), "Service", "holding the last value");
	ok(kube_obj_set_str(json_get(v, "metadata", NULL), "namespace", "ns") == 0,
	   "nested objects too");
	is_str(kube_obj_namespace(v), "ns", "read back");
	taken = kube_obj_steal(v, "object");
	ok(YAJL_IS_OBJECT(taken), "a member's value is detached");
	ok(kube_obj_steal(v, "missing") == NULL, "a missing member gives NULL");
	jw_init(&w);
	jw_val(&w, taken);
	out = jw_finish(&w, NULL);
	is_str(out, "{\"k\":[1,2]}", "the detached value is whole");
	free(out);
	json_free(taken);
	json_free(v); /* the parent frees cleanly without it */
	ok(kube_obj_set_str(NULL, "a", "b") < 0, "not on a non-object");
}

int
main(void)
{
	test_basics();
	test_replace();
	test_objects();
	return done_testing();
}
