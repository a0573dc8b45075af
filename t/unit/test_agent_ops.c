/* Tests for src/agent/ops.c: a request read and checked into an operation, before it runs. */
#include "config.h"

#include "../../src/agent/ops.h"
#include "tap.h"

static struct agent a;

/* The status of the request for op with body: 200 when it reads into an operation. */
static int
request(const char *op, const char *body, char *err, size_t errlen)
{
	int code = 0;
	struct op *o = ops_request(&a, op, body, strlen(body), &code, err, errlen);

	if (o == NULL)
		return code;
	ops_request_free(o);
	return 200;
}

int
main(void)
{
	char err[512];

	a.cfg.utility_timeout_ms = 120000;
	a.cfg.async_timeout_ms = 600000;
	is_int(request("createDatabase",
	               "{\"dsn\":\"sample\",\"attributes\":{\"PermSize\":200,"
	               "\"DDLReplicationLevel\":\"3\"}}",
	               err, sizeof(err)),
	       200, "createDatabase with attributes");
	is_int(request("startDaemon", "  \r\n", err, sizeof(err)), 200, "an empty body is {}");
	is_int(request("startDaemon", "{\"dsn\":\"sample\"}", err, sizeof(err)), 400,
	       "a field the operation does not take");
	like(err, "takes no field \"dsn\"", "is named");
	is_int(request("noSuchOp", "{}", err, sizeof(err)), 404, "an unknown operation");
	is_int(request("startDaemon", "[1]", err, sizeof(err)), 400, "a body not an object");
	is_int(request("setRepState", "{\"state\":\"STANDBY\"}", err, sizeof(err)), 400,
	       "a state other than ACTIVE or IDLE");

	/* Found by t/fuzz/fuzz_agent_request: any name passed as an attribute of the DSN,
	 * and a value could hold a line break, both written into sys.odbc.ini. */
	is_int(request("createDatabase", "{\"attributes\":{\"DDLReplicationL%vel\":3}}", err,
	               sizeof(err)),
	       400, "an attribute name that is not one");
	like(err, "is not an attribute name", "is named");
	is_int(request("duplicate",
	               "{\"host\":\"sample-0\",\"attributes\":{\"PermSize\":\"200\\nLogDir=/x\"}}",
	               err, sizeof(err)),
	       400, "an attribute value of two lines");
	is_int(request("createDatabase", "{\"attributes\":{\"\":1}}", err, sizeof(err)), 400,
	       "an empty attribute name");
	/* Found by t/fuzz/fuzz_agent_request (LeakSanitizer): attributes given twice, the
	 * first copy lost. A field given twice is refused. */
	is_int(request("createDatabase",
	               "{\"attributes\":{\"PermSize\":1},\"attributes\":{\"PermSize\":2}}", err,
	               sizeof(err)),
	       400, "attributes given twice");
	like(err, "field attributes given twice", "is named");
	is_int(
	    request("setRepState", "{\"state\":\"ACTIVE\",\"state\":\"IDLE\"}", err, sizeof(err)),
	    400, "a field given twice");
	return done_testing();
}
