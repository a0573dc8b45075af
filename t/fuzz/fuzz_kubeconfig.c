/*
 * The kubeconfig reader: YAML to a JSON tree (src/kube/yaml.c), then the context, cluster
 * and user found in it (src/kube/config.c). A tree the YAML reader returns is one the JSON
 * writer can write back; a configuration read has a server and a namespace.
 */
#include "config.h"

#include "fuzz.h"
#include "kube/internal.h"
#include "ttc/json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char err[512];
	yajl_val v;
	struct kube_config *cfg;

	err[0] = '\0';
	if ((v = kube_yaml_parse(text, size, err, sizeof(err))) != NULL) {
		yajl_val copy = json_copy(v);
		FUZZ_CHECK(copy != NULL);
		json_free(copy);
		json_free(v);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	/* Paths in the file stay relative to the working directory: the run's own. */
	err[0] = '\0';
	cfg = kube_config_from_text("fuzz", text, size, NULL, 1, err, sizeof(err));
	if (cfg != NULL) {
		FUZZ_CHECK(cfg->server != NULL && cfg->server[0] != '\0');
		FUZZ_CHECK(cfg->namespace != NULL && cfg->namespace[0] != '\0');
		FUZZ_CHECK(!cfg->insecure || cfg->ca_pem == NULL);
		FUZZ_CHECK((cfg->cert_pem == NULL) == (cfg->key_pem == NULL));
		kube_config_free(cfg);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	return 0;
}
