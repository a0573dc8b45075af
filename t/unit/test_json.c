/* Tests for src/common/json.c: checked lookups and the writer's error handling. */
#include "config.h"

#include "tap.h"
#include "ttc/json.h"

static void
test_read(void)
{
	char err[256];
	const char *text =
	    "{\"metadata\":{\"name\":\"sample\",\"generation\":3,\"labels\":{}},"
	    "\"spec\":{\"on\":true,\"big\":18446744073709551616,\"list\":[1,\"b\"]}}";
	yajl_val v = json_parse(text, strlen(text), err, sizeof(err));
	long long n = 0;

	ok(v != NULL, "a document parses");
	is_str(json_str(v, "metadata", "name", NULL), "sample", "a string by path");
	ok(json_str(v, "metadata", "generation", NULL) == NULL, "a number is not a string");
	ok(json_int(v, &n, "metadata", "generation", NULL) == 0 && n == 3, "an integer by path");
	ok(json_int(v, &n, "spec", "big", NULL) < 0, "a number beyond long long is not an integer");
	is_int(json_bool(v, "spec", "on", NULL), 1, "a boolean by path");
	is_int(json_bool(v, "spec", "missing", NULL), -1, "a missing boolean");
	ok(json_get(v, "metadata", "name", "deeper", NULL) == NULL, "a path through a string");
	yajl_val list = json_get(v, "spec", "list", NULL);
	is_int(json_len(list), 2, "array length");
	is_str(YAJL_GET_STRING(json_at(list, 1)), "b", "array element");
	ok(json_at(list, 2) == NULL, "past the end");
	is_int(json_nkeys(json_get(v, "metadata", NULL)), 3, "object members");
	is_str(json_key_at(json_get(v, "metadata", NULL), 0), "name", "member key");

	struct jw w;
	jw_init(&w);
	jw_val(&w, v);
	char *again = jw_finish(&w, NULL);
	is_str(again, text, "a parsed value writes back unchanged, big numbers included");
	free(again);
	json_free(v);

	ok(json_parse("{\"a\":", 5, err, sizeof(err)) == NULL, "truncated JSON is refused");
	ok(err[0] != '\0' && strchr(err, '\n') == NULL, "with a one-line reason: %s", err);
	ok(json_parse("{} {}", 5, err, sizeof(err)) == NULL, "two values are refused");
	ok(json_parse("{\"a\":\"\0\"}", 8, err, sizeof(err)) == NULL, "a NUL byte is refused");
}

static void
test_write(void)
{
	struct jw w;
	char *out;

	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "name", "a\"b\n");
	jw_kint(&w, "n", -5);
	jw_kbool(&w, "ok", 0);
	jw_key(&w, "none");
	jw_str(&w, NULL);
	jw_key(&w, "list");
	jw_arr(&w);
	jw_double(&w, 0.5);
	jw_arr_end(&w);
	jw_obj_end(&w);
	out = jw_finish(&w, NULL);
	is_str(out, "{\"name\":\"a\\\"b\\n\",\"n\":-5,\"ok\":false,\"none\":null,\"list\":[0.5]}",
	       "a document is written compact and escaped");
	free(out);

	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "bad", "\xff\xfe");
	jw_obj_end(&w);
	ok(jw_finish(&w, NULL) == NULL, "invalid UTF-8 fails the document");

	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "a", "b");
	ok(jw_finish(&w, NULL) == NULL, "an unfinished document fails");

	jw_init(&w);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_obj(&w);
	ok(jw_finish(&w, NULL) == NULL, "writing past the end fails");

	jw_init(&w);
	jw_str(&w, "just a string");
	out = jw_finish(&w, NULL);
	is_str(out, "\"just a string\"", "a scalar document");
	free(out);
}

/* The document text after json_keep(paths). */
static char *
kept(const char *text, const char *const *paths)
{
	char err[256];
	yajl_val v = json_parse(text, strlen(text), err, sizeof(err));
	struct jw w;

	json_keep(v, paths);
	jw_init(&w);
	jw_val(&w, v);
	json_free(v);
	return jw_finish(&w, NULL);
}

static void
test_keep(void)
{
	const char *pod =
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"managedFields\":[{\"m\":1}],"
	    "\"labels\":{\"a\":\"b\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":"
	    "[{\"name\":\"tt\",\"image\":\"i1\",\"env\":[{\"name\":\"X\"}]},{\"name\":"
	    "\"daemonlog\","
	    "\"image\":\"i2\",\"args\":[\"-f\"]}],\"affinity\":{\"x\":{}}},\"status\":{\"podIP\":"
	    "\"10.0.0.1\",\"phase\":\"Running\",\"hostIP\":\"1.2.3.4\"}}";
	const char *const pod_paths[] = {"kind",
	                                 "metadata",
	                                 "-metadata.managedFields",
	                                 "spec.nodeName",
	                                 "spec.containers.name",
	                                 "spec.containers.image",
	                                 "status.podIP",
	                                 "status.phase",
	                                 NULL};
	char *out = kept(pod, pod_paths);

	is_str(out,
	       "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"b\"}},\"spec\":"
	       "{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"tt\",\"image\":\"i1\"},{\"name\":"
	       "\"daemonlog\",\"image\":\"i2\"}]},\"status\":{\"podIP\":\"10.0.0.1\",\"phase\":"
	       "\"Running\"}}",
	       "json_keep: kept paths whole or in part, through arrays, one member dropped");
	free(out);
	const char *const drop_only[] = {"-metadata.managedFields", NULL};
	out = kept(pod, drop_only);
	ok(out && strstr(out, "managedFields") == NULL && strstr(out, "\"affinity\":{\"x\":{}}") &&
	       strstr(out, "\"env\":[{\"name\":\"X\"}]"),
	   "json_keep: with only a drop path, all the rest stays: %s", out ? out : "(null)");
	free(out);
	const char *const none[] = {NULL};
	out = kept(pod, none);
	ok(out && strlen(out) > 200, "json_keep: no paths, nothing removed");
	free(out);
	const char *const scalar[] = {"kind.deeper", "status.phase.x", "spec.nodeNameX", NULL};
	out = kept(pod, scalar);
	is_str(out, "{\"kind\":\"Pod\",\"spec\":{},\"status\":{\"phase\":\"Running\"}}",
	       "json_keep: a path past a scalar keeps it; a name that only starts alike does not");
	free(out);
}

/* Found by t/fuzz/fuzz_json in its 1-hour run: a document pruned to exactly 128 levels did
 * not write. The writer (yajl_gen, YAJL_MAX_DEPTH) takes 127 nested levels, not 128: the
 * harness's bound was one off. */
static void
test_writer_depth(void)
{
	char text[300], err[128];
	struct jw w;

	for (int levels = 127; levels <= 128; levels++) {
		size_t n = 0;
		for (int i = 0; i < levels; i++)
			text[n++] = '[';
		for (int i = 0; i < levels; i++)
			text[n++] = ']';
		yajl_val v = json_parse(text, n, err, sizeof(err));
		jw_init(&w);
		jw_val(&w, v);
		char *out = jw_finish(&w, NULL);
		if (levels == 127)
			ok(v != NULL && out != NULL && strlen(out) == n, "127 nested arrays write");
		else
			ok(v != NULL && out == NULL, "128 do not: the writer's limit");
		free(out);
		json_free(v);
	}
}

/* Found by reading the property t/fuzz/fuzz_json checks (a parsed value copies): the copy
 * went through the writer, which stops at a depth of 128. */
static void
test_copy_deep(void)
{
	char text[1024], err[128];
	size_t n = 0;

	/* {"k":[{"k":[ ... 1 ... ]}]} */
	for (int i = 0; i < 150; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", i % 2 ? "[" : "{\"k\":");
	text[n++] = '1';
	for (int i = 149; i >= 0; i--)
		text[n++] = i % 2 ? ']' : '}';
	yajl_val v = json_parse(text, n, err, sizeof(err));
	yajl_val c = json_copy(v);
	ok(v != NULL && c != NULL, "a value nested 150 deep copies");
	yajl_val leaf = c;
	for (int i = 0; i < 150 && leaf != NULL; i++)
		leaf = i % 2 ? json_at(leaf, 0) : json_get(leaf, "k", NULL);
	ok(YAJL_IS_INTEGER(leaf) && YAJL_GET_INTEGER(leaf) == 1, "down to its leaf");
	json_free(c);
	json_free(v);
	const char *all = "{\"a\":[\"x\",2.5,true,null,{}],\"b\":[]}";
	yajl_val s = json_parse(all, strlen(all), err, sizeof(err));
	c = json_copy(s);
	struct jw w;
	jw_init(&w);
	jw_val(&w, c);
	char *back = jw_finish(&w, NULL);
	is_str(back, all, "every type copies");
	free(back);
	json_free(c);
	json_free(s);
}

static void
test_strcpy(void)
{
	char buf[5];

	json_strcpy(buf, sizeof(buf), "abcd");
	is_str(buf, "abcd", "a string that fits is copied whole");
	json_strcpy(buf, sizeof(buf), "abcdef");
	is_str(buf, "abcd", "one too long is cut");
	json_strcpy(buf, sizeof(buf), "abc\xc3\xa9");
	is_str(buf, "abc", "not inside a character of two bytes");
	json_strcpy(buf, sizeof(buf), "a\xe2\x82\xac!");
	is_str(buf, "a\xe2\x82\xac", "a character of three bytes that fits stays");
	json_strcpy(buf, sizeof(buf), "ab\xe2\x82\xac");
	is_str(buf, "ab", "one that does not is left out whole");
}

int
main(void)
{
	test_strcpy();
	test_copy_deep();
	test_writer_depth();
	test_read();
	test_write();
	test_keep();
	return done_testing();
}
