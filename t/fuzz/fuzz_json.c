/*
 * The JSON helpers (src/common/json.c): parsing, the deep copy, the pruning the informers
 * apply to every object they cache, and the writer. A parsed value copies, and writes back
 * as the same document unless it is nested deeper than the writer goes (yajl_gen's 127);
 * pruned, it still writes.
 */
#include "config.h"

#include "fuzz.h"
#include "ttc/json.h"

/* yajl_gen refuses a 128th nested level (YAJL_MAX_DEPTH 128 counts from 0): 127 write. */
#define WRITER_MAX_DEPTH 127

static size_t
depth(yajl_val v)
{
	size_t d = 0, sub;

	if (YAJL_IS_ARRAY(v) || YAJL_IS_OBJECT(v))
		d = 1;
	for (size_t i = 0; i < json_len(v); i++)
		if ((sub = 1 + depth(json_at(v, i))) > d)
			d = sub;
	for (size_t i = 0; i < json_nkeys(v); i++)
		if ((sub = 1 + depth(json_value_at(v, i))) > d)
			d = sub;
	return d;
}

static char *
text_of(yajl_val v)
{
	struct jw w;

	if (jw_init(&w) < 0)
		abort();
	jw_val(&w, v);
	return jw_finish(&w, NULL);
}

/* What an informer keeps of a pod. */
static const char *const pod_paths[] = {"apiVersion",
                                        "kind",
                                        "metadata",
                                        "-metadata.managedFields",
                                        "spec.nodeName",
                                        "spec.containers.image",
                                        "status.phase",
                                        "status.conditions.type",
                                        "status.conditions.status",
                                        "status.podIP",
                                        NULL};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	yajl_val v = json_parse((const char *)data, size, err, sizeof(err));
	char *a, *b;
	long long n;

	if (v == NULL) {
		FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
		return 0;
	}
	yajl_val copy = json_copy(v);
	FUZZ_CHECK(copy != NULL);
	a = text_of(v);
	b = text_of(copy);
	if (depth(v) <= WRITER_MAX_DEPTH)
		FUZZ_CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
	else
		FUZZ_CHECK(a == NULL && b == NULL);
	free(a);
	free(b);
	json_free(copy);

	/* Lookups as the controllers make them. */
	(void)json_str(v, "metadata", "name", NULL);
	(void)json_int(v, &n, "metadata", "generation", NULL);
	(void)json_bool(v, "spec", "suspend", NULL);
	for (size_t i = 0; i < json_nkeys(v); i++) {
		FUZZ_CHECK(json_key_at(v, i) != NULL && json_value_at(v, i) != NULL);
		yajl_val m = json_value_at(v, i);
		for (size_t k = 0; k < json_len(m); k++)
			FUZZ_CHECK(json_at(m, k) != NULL);
	}
	FUZZ_CHECK(json_key_at(v, json_nkeys(v)) == NULL && json_at(v, json_len(v)) == NULL);

	json_keep(v, pod_paths);
	a = text_of(v);
	FUZZ_CHECK(a != NULL || depth(v) > WRITER_MAX_DEPTH);
	free(a);
	json_free(v);
	return 0;
}
