/* Tests for src/operator/provision.c: the checks of a dbConfigMap's data. */
#include "config.h"

#include "../../src/operator/ctl.h"
#include "tap.h"
#include "ttc/json.h"

/* The problem provision_check_configmap() finds in a ConfigMap with data, or NULL. */
static const char *
check(const char *data, char *why, size_t n)
{
	char text[2048], err[128];
	yajl_val cm;
	const char *problem;

	snprintf(text, sizeof(text), "{\"kind\":\"ConfigMap\",\"data\":%s}", data);
	if ((cm = json_parse(text, strlen(text), err, sizeof(err))) == NULL) {
		snprintf(why, n, "test data: %s", err);
		return why;
	}
	problem = provision_check_configmap(cm, why, n);
	json_free(cm);
	return problem;
}

int
main(void)
{
	char why[256];

	ok(check("{\"adminUser\":\"scott/tiger\\n\",\"db.ini\":\"PermSize=200\\n\","
	         "\"schema.sql\":\"create table t (a int);\"}",
	         why, sizeof(why)) == NULL,
	   "the guide's sample ConfigMap");
	ok(check("{\"adminUser\":\"\\n  scott/tiger  \\n\"}", why, sizeof(why)) == NULL,
	   "adminUser after a blank line, with spaces around");
	ok(check("{\"notes.txt\":\"x\"}", why, sizeof(why)) != NULL, "an unknown file");
	like(why, "notes.txt is not a TimesTen metadata file", "is named");
	ok(check("{\"db.ini\":\"DataStore=/x\"}", why, sizeof(why)) != NULL,
	   "db.ini sets DataStore");
	ok(check("{\"adminUser\":\"scott\"}", why, sizeof(why)) != NULL, "adminUser without '/'");

	/* Found by t/fuzz/fuzz_configmap: a blank first line made the length of the line
	 * wrap around, and any '/' later passed; the agent then refused the file. */
	ok(check("{\"adminUser\":\"\\nscott\\ntt/tiger\"}", why, sizeof(why)) != NULL,
	   "adminUser whose first line is not user/password");
	like(why, "adminUser must be one line \"user/password\"", "is told");
	ok(check("{\"cacheUser\":\" /tiger\"}", why, sizeof(why)) != NULL,
	   "cacheUser without a user once trimmed");
	ok(check("{\"adminUser\":\"scott/  \\r\\n\"}", why, sizeof(why)) != NULL,
	   "adminUser without a password once trimmed");

	/* Found by t/fuzz/fuzz_configmap: a line longer than the agent reads passed here, and
	 * the agent, which cut it, found no '/' in what it kept. */
	char data[1200], pad[600];
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	snprintf(data, sizeof(data), "{\"adminUser\":\"scott%s/tiger\"}", pad);
	ok(check(data, why, sizeof(why)) != NULL, "adminUser of a line longer than 511 bytes");
	like(why, "adminUser has a line longer than 511 bytes", "is told");
	memset(pad, ' ', sizeof(pad) - 1);
	snprintf(data, sizeof(data), "{\"adminUser\":\"%s\\nscott/tiger\"}", pad);
	ok(check(data, why, sizeof(why)) != NULL, "a blank line longer than 511 bytes before it");
	return done_testing();
}
