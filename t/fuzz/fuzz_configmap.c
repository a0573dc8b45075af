/*
 * The operator's checks of a dbConfigMap's data (src/operator/provision.c) on a ConfigMap
 * as JSON. What they accept, the agent must be able to use: a db.ini its parser reads
 * (src/agent/parse.c) apart from the attribute rules only the agent knows, and an
 * adminUser or cacheUser it reads as user/password.
 */
#include "config.h"

#include "agent/agent.h"
#include "fuzz.h"
#include "operator/ctl.h"
#include "ttc/json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], why[256];
	yajl_val cm = json_parse((const char *)data, size, err, sizeof(err));
	yajl_val files;

	if (cm == NULL)
		return 0;
	why[0] = '\0';
	if (provision_check_configmap(cm, why, sizeof(why)) != NULL) {
		FUZZ_CHECK(why[0] != '\0');
		json_free(cm);
		return 0;
	}
	files = json_get(cm, "data", NULL);
	for (size_t i = 0; i < json_nkeys(files); i++) {
		const char *k = json_key_at(files, i);
		const char *v = YAJL_GET_STRING(json_value_at(files, i));
		char *user, *password;

		if (v == NULL)
			continue;
		if (strcmp(k, "adminUser") == 0 || strcmp(k, "cacheUser") == 0) {
			FUZZ_CHECK(strchr(v, '/') != NULL);
			if (userfile_parse(v, &user, &password, err, sizeof(err)) == 0) {
				free(user);
				free(password);
			} else {
				/* The agent's own rule on user names is its to tell. */
				FUZZ_CHECK(strstr(err, "invalid user name") != NULL);
			}
		}
	}
	json_free(cm);
	return 0;
}
