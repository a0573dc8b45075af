/*
 * The TimesTenClassic spec reader (src/operator/spec.c) on an object as JSON. A spec read
 * holds every required field, values within their limits, quantities that are
 * quantities, and copies of the template and claims when the object has them.
 */
#include "config.h"

#include "fuzz.h"
#include "operator/spec.h"
#include "ttc/json.h"

static void
check(const struct ttc_spec *s, yajl_val obj)
{
	const char *qty[] = {s->storage_size,
	                     s->log_storage_size,
	                     s->additional_memory_request,
	                     s->database_memory_size,
	                     s->database_cpu_request,
	                     s->daemon_log_cpu_request,
	                     s->daemon_log_memory_request};

	FUZZ_CHECK(s->image != NULL && s->image[0] != '\0');
	FUZZ_CHECK(s->storage_class != NULL && s->storage_class[0] != '\0');
	FUZZ_CHECK(s->topology == TOPO_PAIR || s->topology == TOPO_NONE);
	FUZZ_CHECK(s->replicas >= 1 && s->replicas <= SPEC_MAX_REPLICAS);
	FUZZ_CHECK(s->topology == TOPO_NONE || s->replicas == 1);
	FUZZ_CHECK(s->rep_port >= 1 && s->rep_port <= 65535);
	for (size_t i = 0; i < sizeof(qty) / sizeof(qty[0]); i++)
		FUZZ_CHECK(qty[i] != NULL && (qty[i][0] == '\0' || spec_is_quantity(qty[i])));
	for (int t = 0; t < SPEC_NTIMERS; t++) {
		long long sec = spec_seconds(s, (enum spec_timer)t);
		FUZZ_CHECK(sec >= 0 && sec <= SPEC_DAY);
		FUZZ_CHECK(spec_timeout_ms(s, (enum spec_timer)t) >= 0);
	}
	for (size_t i = 0; i < s->n_db_config_maps; i++)
		FUZZ_CHECK(s->db_config_maps[i] != NULL && s->db_config_maps[i][0] != '\0');
	FUZZ_CHECK(s->n_db_config_maps == 0 || s->db_config_maps[s->n_db_config_maps] == NULL);
	/* The pod template and the claims go into the StatefulSet as they were written. */
	FUZZ_CHECK((json_get(obj, "spec", "template", NULL) == NULL) == (s->template == NULL));
	FUZZ_CHECK((json_get(obj, "spec", "volumeClaimTemplates", NULL) == NULL) ==
	           (s->volume_claim_templates == NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	yajl_val obj = json_parse((const char *)data, size, err, sizeof(err));
	struct ttc_spec *s;

	if (obj == NULL)
		return 0;
	err[0] = '\0';
	if ((s = spec_parse(obj, err, sizeof(err))) != NULL) {
		check(s, obj);
		spec_free(s);
	} else {
		FUZZ_CHECK(strncmp(err, "spec.ttspec", 11) == 0 ||
		           strncmp(err, "metadata.name", 13) == 0);
	}
	/* Quantities alone: every string of ttspec. */
	yajl_val ttspec = json_get(obj, "spec", "ttspec", NULL);
	for (size_t i = 0; i < json_nkeys(ttspec); i++) {
		const char *q = YAJL_GET_STRING(json_value_at(ttspec, i));
		if (q != NULL && spec_is_quantity(q))
			FUZZ_CHECK(spec_quantity_bytes(q) >= -1);
	}
	json_free(obj);
	return 0;
}
