/*
 * The agent's reading of request bodies (src/agent/api.c, src/agent/ops.c): the input is
 * "<operation>\n<body>", read as POST /v1/ops/<operation> reads it. An operation read
 * holds only fields it takes, each within its rules: names, addresses, ports, states, and
 * attributes fit for a line of sys.odbc.ini.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>

#include "agent/ops.h"
#include "fuzz.h"
#include "ttc/log.h"

static int
takes(const struct op_def *def, const char *field)
{
	for (const char *const *f = def->fields; f && *f; f++)
		if (strcmp(*f, field) == 0)
			return 1;
	return 0;
}

static int
is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int
is_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

/* A DSN attribute as db.ini names them: a letter, then letters, digits and '_'. */
static int
is_attribute(const char *s)
{
	if (!isalpha((unsigned char)*s) || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static void
check(const struct op *op)
{
	const struct op_def *def = op->def;

	FUZZ_CHECK(op->dsn[0] == '\0' || (takes(def, "dsn") && isalpha((unsigned char)op->dsn[0]) &&
	                                  is_name(op->dsn, 32) && !strchr(op->dsn, '.')));
	FUZZ_CHECK(op->from[0] == '\0' || (takes(def, "from") && is_name(op->from, 32)));
	FUZZ_CHECK(op->host[0] == '\0' ||
	           (takes(def, "host") && (is_name(op->host, 253) || is_ip(op->host))));
	FUZZ_CHECK(op->peer[0] == '\0' ||
	           (takes(def, "peer") && (is_name(op->peer, 253) || is_ip(op->peer))));
	FUZZ_CHECK(op->local_ip[0] == '\0' || (takes(def, "localIP") && is_ip(op->local_ip)));
	FUZZ_CHECK(op->remote_ip[0] == '\0' || (takes(def, "remoteIP") && is_ip(op->remote_ip)));
	FUZZ_CHECK(op->state[0] == '\0' || strcmp(op->state, "ACTIVE") == 0 ||
	           strcmp(op->state, "IDLE") == 0);
	FUZZ_CHECK(op->statement == NULL ||
	           (takes(def, "statement") && strlen(op->statement) <= 16384));
	FUZZ_CHECK(op->daemon_port >= 0 && op->daemon_port <= 65535);
	FUZZ_CHECK(op->server_port >= 0 && op->server_port <= 65535);
	FUZZ_CHECK(op->timeout_ms > 0 && op->timeout_ms <= 86400000LL);
	FUZZ_CHECK(op->attributes == NULL || takes(def, "attributes"));
	for (size_t i = 0; i < json_nkeys(op->attributes); i++) {
		yajl_val v = json_value_at(op->attributes, i);
		FUZZ_CHECK(is_attribute(json_key_at(op->attributes, i)));
		FUZZ_CHECK(YAJL_IS_INTEGER(v) ||
		           (YAJL_IS_STRING(v) && strpbrk(YAJL_GET_STRING(v), "\r\n") == NULL));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agent a;
	const uint8_t *nl = memchr(data, '\n', size);
	char name[65], err[512];
	struct op *op;
	size_t n;
	int code = 0;

	log_set_level(LOG_ERROR);
	a.cfg.utility_timeout_ms = 120000;
	a.cfg.async_timeout_ms = 600000;
	n = nl ? (size_t)(nl - data) : size;
	if (n >= sizeof(name))
		return 0;
	memcpy(name, data, n);
	name[n] = '\0';
	data += nl ? n + 1 : n;
	size -= nl ? n + 1 : n;
	err[0] = '\0';
	if ((op = ops_request(&a, name, (const char *)data, size, &code, err, sizeof(err))) !=
	    NULL) {
		check(op);
		ops_request_free(op);
	} else {
		FUZZ_CHECK(code == 400 || code == 404 || code == 413);
		FUZZ_CHECK(err[0] != '\0');
	}
	return 0;
}
