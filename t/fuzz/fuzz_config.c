/*
 * The operator's YAML configuration: the schema reader (src/common/yconf.c) with a table
 * of every value type, and the operator's own settings read and checked
 * (src/operator/config.c). A configuration built holds values its checks accept.
 */
#include "config.h"

#include <stddef.h>

#include "fuzz.h"
#include "operator/operator.h"
#include "ttc/netaddr.h"
#include "ttc/yconf.h"

struct every {
	char *name, *addr;
	int level, on;
	long long count, wait;
};

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};

static const struct yconf_field every_fields[] = {
    {"log.level", YCONF_ENUM, offsetof(struct every, level), levels, 0, 0},
    {"log.format", YCONF_STRING, offsetof(struct every, name), NULL, 0, 0},
    {"metrics.address", YCONF_ADDR, offsetof(struct every, addr), NULL, 0, 0},
    {"kubernetes.watch.enabled", YCONF_BOOL, offsetof(struct every, on), NULL, 0, 0},
    {"kubernetes.watch.count", YCONF_INT, offsetof(struct every, count), NULL, -5, 1000},
    {"kubernetes.watch.wait", YCONF_DURATION, offsetof(struct every, wait), NULL, 0, 86400000},
    {NULL, 0, 0, NULL, 0, 0},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct config_overrides none = {-1, -1, NULL, NULL, NULL, NULL};
	struct every e = {NULL, NULL, 1, 0, 0, 0};
	struct operator_config *c;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char err[512], why[128];

	err[0] = '\0';
	if (yconf_load_string("fuzz.yaml", text, size, every_fields, &e, err, sizeof(err)) == 0) {
		FUZZ_CHECK(e.level >= 0 && e.level <= 3);
		FUZZ_CHECK(e.on == 0 || e.on == 1);
		FUZZ_CHECK(e.count >= -5 && e.count <= 1000);
		FUZZ_CHECK(e.wait >= 0 && e.wait <= 86400000);
		FUZZ_CHECK(e.addr == NULL ||
		           netaddr_parse(e.addr, &ss, &sslen, why, sizeof(why)) == 0);
	} else {
		FUZZ_CHECK(strncmp(err, "fuzz.yaml:", 10) == 0);
	}
	free(e.name);
	free(e.addr);

	unsetenv("WATCH_NAMESPACE");
	if ((c = config_build_text("fuzz.yaml", text, size, &none, err, sizeof(err))) != NULL) {
		FUZZ_CHECK(c->log_level >= 0 && c->log_level <= 3);
		FUZZ_CHECK(c->log_format == 0 || c->log_format == 1);
		FUZZ_CHECK(netaddr_parse(c->metrics_addr, &ss, &sslen, why, sizeof(why)) == 0);
		FUZZ_CHECK(c->cluster_domain[0] != '\0' && strlen(c->cluster_domain) <= 253);
		FUZZ_CHECK(strlen(c->namespace) <= 63);
		config_free(c);
	}

	/* Durations on their own: the input up to its first NUL. */
	char *s = fuzz_cstr(data, size);
	long long ms = yconf_parse_duration(s);
	FUZZ_CHECK(ms >= -1);
	free(s);
	return 0;
}
