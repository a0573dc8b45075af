/* Tests for src/operator/spec.c and src/operator/repscheme.c. */
#include "config.h"

#include "../../src/operator/repscheme.h"
#include "../../src/operator/spec.h"
#include "tap.h"
#include "ttc/json.h"

static char err[512];

static struct ttc_spec *
parse(const char *ttspec)
{
	char text[4096], perr[128];
	yajl_val obj;
	struct ttc_spec *s;

	snprintf(text, sizeof(text),
	         "{\"apiVersion\":\"timesten.oracle.com/v1\",\"kind\":\"TimesTenClassic\","
	         "\"metadata\":{\"name\":\"sample\"},\"spec\":{\"ttspec\":%s}}",
	         ttspec);
	obj = json_parse(text, strlen(text), perr, sizeof(perr));
	if (obj == NULL) {
		snprintf(err, sizeof(err), "test JSON: %s", perr);
		return NULL;
	}
	err[0] = '\0';
	s = spec_parse(obj, err, sizeof(err));
	json_free(obj);
	return s;
}

static void
test_seed_sample(void)
{
	/* The seed's sample.yaml. */
	struct ttc_spec *s = parse("{\"storageClassName\":\"oci\",\"storageSize\":\"250G\","
	                           "\"image\":\"phx.ocir.io/youraccount/tt1814110:3\","
	                           "\"imagePullSecret\":\"sekret\",\"dbConfigMap\":[\"sample\"]}");
	ok(s != NULL, "the seed's sample spec is valid: %s", err);
	if (s == NULL)
		return;
	is_str(s->image, "phx.ocir.io/youraccount/tt1814110:3", "image");
	is_str(s->storage_size, "250G", "storageSize");
	is_int(s->n_db_config_maps, 1, "one ConfigMap");
	is_str(s->db_config_maps[0], "sample", "named sample");
	is_int(s->n_db_secrets, 0, "no Secrets");
	is_int(s->topology, TOPO_PAIR, "default topology: active standby pair");
	is_int(s->rep_port, 4444, "default repPort 4444");
	is_int(s->polling_interval, 5, "default pollingInterval 5 s");
	is_int(s->unreachable_timeout, 30, "default unreachableTimeout 30 s");
	is_int(s->agent_get_timeout, 60, "default agentGetTimeout 60 s");
	is_int(s->agent_post_timeout, 600, "default agentPostTimeout 600 s");
	is_int(s->agent_async_timeout, 600, "default agentAsyncTimeout 600 s");
	is_int(s->agent_tcp_timeout, 10, "default agentTcpTimeout 10 s");
	is_int(s->image_pull_policy, PULL_ALWAYS, "default imagePullPolicy Always");
	is_int(s->both_down_behavior, BOTHDOWN_BEST, "default bothDownBehavior Best");
	is_int(s->daemon_log_sidecar, 1, "daemonlog sidecar by default");

	char *stmt = repscheme_statement(s, "sample", "mynamespace", err, sizeof(err));
	is_str(stmt,
	       "create active standby pair \"sample\" on "
	       "\"sample-0.sample.mynamespace.svc.cluster.local\", \"sample\" on "
	       "\"sample-1.sample.mynamespace.svc.cluster.local\" NO RETURN store \"sample\" on "
	       "\"sample-0.sample.mynamespace.svc.cluster.local\" PORT 4444 FAILTHRESHOLD 0 "
	       "store \"sample\" on \"sample-1.sample.mynamespace.svc.cluster.local\" PORT 4444 "
	       "FAILTHRESHOLD 0",
	       "the generated scheme is the seed's, word for word");
	free(stmt);
	spec_free(s);
}

static void
test_rep_statements(void)
{
	struct ttc_spec *s = parse("{\"storageClassName\":\"x\",\"image\":\"i\",\"repPort\":5555,"
	                           "\"repReturnServiceAttribute\":\"RETURN TWOSAFE\","
	                           "\"repStoreAttribute\":\"FAILTHRESHOLD 0 TIMEOUT 999\"}");
	char *stmt = s ? repscheme_statement(s, "db", "ns", err, sizeof(err)) : NULL;
	like(stmt, "\"db-1.db.ns.svc.cluster.local\" RETURN TWOSAFE store",
	     "the return service clause replaces NO RETURN");
	like(stmt, "PORT 5555 FAILTHRESHOLD 0 TIMEOUT 999 store",
	     "the store clause follows the port");
	free(stmt);
	spec_free(s);

	s = parse("{\"storageClassName\":\"x\",\"image\":\"i\",\"repCreateStatement\":"
	          "\"create active standby pair \\\"{{tt-name}}\\\" on \\\"{{tt-node-0}}\\\", "
	          "\\\"{{tt-name}}\\\" on \\\"{{tt-node-1}}\\\" RETURN TWOSAFE store "
	          "\\\"{{tt-name}}\\\" on \\\"{{tt-node-0}}\\\" PORT {{tt-rep-port}}\"}");
	stmt = s ? repscheme_statement(s, "db", "ns", err, sizeof(err)) : NULL;
	is_str(stmt,
	       "create active standby pair \"db\" on \"db-0.db.ns.svc.cluster.local\", \"db\" on "
	       "\"db-1.db.ns.svc.cluster.local\" RETURN TWOSAFE store \"db\" on "
	       "\"db-0.db.ns.svc.cluster.local\" PORT 4444",
	       "the user's statement has its tokens replaced");
	free(stmt);
	spec_free(s);

	s = parse("{\"storageClassName\":\"x\",\"image\":\"i\",\"repCreateStatement\":"
	          "\"create active standby pair {{tt-nme}}\"}");
	stmt = s ? repscheme_statement(s, "db", "ns", err, sizeof(err)) : NULL;
	ok(s != NULL && stmt == NULL, "an unknown token is refused");
	like(err, "spec.ttspec.repCreateStatement: unknown token \"{{tt-nme}}\"", "and named");
	spec_free(s);
}

static const struct {
	const char *ttspec;
	const char *error;
} invalid[] = {
    {"{\"storageClassName\":\"oci\"}", "spec.ttspec.image: required"},
    {"{\"storageClassName\":\"oci\",\"image\":\"\"}", "spec.ttspec.image: must not be empty"},
    {"{\"image\":\"i\"}", "spec.ttspec.storageClassName: required"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"storageSize\":\"lots\"}",
     "spec.ttspec.storageSize: \"lots\" is not a quantity such as 250G, 2Gi or 200m"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"bothDownBehavior\":\"Sometimes\"}",
     "spec.ttspec.bothDownBehavior: \"Sometimes\" is not one of Best, Manual"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"replicationTopology\":\"ring\"}",
     "spec.ttspec.replicationTopology: \"ring\" is not one of activeStandbyPair, none"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"imagePullPolicy\":\"Sometimes\"}",
     "spec.ttspec.imagePullPolicy: \"Sometimes\" is not one of Always, IfNotPresent, Never"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"repPort\":70000}",
     "spec.ttspec.repPort: 70000 is outside [1, 65535]"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"pollingInterval\":0}",
     "spec.ttspec.pollingInterval: 0 is outside [1, 3600]"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"pollingInterval\":\"5\"}",
     "spec.ttspec.pollingInterval: must be an integer"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"dbConfigMap\":\"sample\"}",
     "spec.ttspec.dbConfigMap: must be a list of names"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"dbConfigMap\":[\"a\",3]}",
     "spec.ttspec.dbConfigMap: item 1 must be a name"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"daemonLogSidecar\":\"yes\"}",
     "spec.ttspec.daemonLogSidecar: must be true or false"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"replicas\":2}",
     "spec.ttspec.replicas: applies only to replicationTopology none"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"replicationTopology\":\"none\",\"replicas\":0}",
     "spec.ttspec.replicas: 0 is outside [1, 100]"},
    {"{\"image\":\"i\",\"storageClassName\":\"c\",\"replicationTopology\":\"none\",\"replicas\":-"
     "1}",
     "spec.ttspec.replicas: -1 is outside [1, 100]"},
};

static void
test_invalid(void)
{
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		struct ttc_spec *s = parse(invalid[i].ttspec);
		ok(s == NULL, "refused: %s", invalid[i].ttspec);
		is_str(err, invalid[i].error, "naming the field");
		spec_free(s);
	}

	char perr[64];
	yajl_val obj = json_parse("{\"spec\":{}}", 11, perr, sizeof(perr));
	ok(spec_parse(obj, err, sizeof(err)) == NULL, "a spec without ttspec is refused");
	like(err, "spec.ttspec: missing", "saying so");
	json_free(obj);
}

static void
test_quantities(void)
{
	const char *good[] = {"250G", "2Gi", "200m", "20Mi", "1.5", "1e3", "100", "0.5Ti", "+1k"};
	const char *bad[] = {"", "G", "2 Gi", "2GB", "1.2.3", "1e", "Mi2", "-"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(spec_is_quantity(good[i]), "\"%s\" is a quantity", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!spec_is_quantity(bad[i]), "\"%s\" is not a quantity", bad[i]);
}

static void
test_spellings(void)
{
	struct ttc_spec *s = parse("{\"storageClassName\":\"oci\",\"image\":\"tt:1\","
	                           "\"imageUpgradeStrategy\":\"manual\",\"replicationTopology\":"
	                           "\"NONE\",\"bothDownBehavior\":\"best\",\"replicas\":3}");

	ok(s != NULL, "enumerations as the guide's samples spell them: %s", err);
	if (s == NULL)
		return;
	is_str(upgrade_strategy_names[s->image_upgrade_strategy], "Manual", "manual is Manual");
	is_str(topology_names[s->topology], "none", "NONE is none");
	is_str(both_down_names[s->both_down_behavior], "Best", "best is Best");
	is_int(s->replicas, 3, "three replicas");
	spec_free(s);
}

static void
test_timers(void)
{
	struct ttc_spec *s = parse("{\"storageClassName\":\"oci\",\"image\":\"tt:1\","
	                           "\"agentGetTimeout\":0,\"unreachableTimeout\":7}");

	ok(s != NULL, "a spec with timers: %s", err);
	if (s == NULL)
		return;
	is_int(spec_seconds(s, TIMER_UNREACHABLE), 7, "a timer as written");
	is_int(spec_seconds(s, TIMER_POLLING_INTERVAL), 5, "a timer not written: its default");
	is_int(spec_seconds(NULL, TIMER_AGENT_POST), 600, "no valid spec: the defaults");
	is_int(spec_seconds(NULL, TIMER_WAITING_FOR_ACTIVE), 0, "waitingForActiveTimeout: none");
	is_int((long long)spec_deadline(s, TIMER_UNREACHABLE, 1000), 1007, "a deadline");
	is_int((long long)spec_deadline(s, TIMER_AGENT_GET, 1000), 0, "0 is no deadline");
	is_int((long long)spec_deadline(NULL, TIMER_WAITING_FOR_ACTIVE, 1000), 0,
	       "for every timer");
	is_int(spec_timeout_ms(s, TIMER_AGENT_TLS), 10000, "milliseconds for requests");
	is_int(spec_timeout_ms(s, TIMER_AGENT_GET), 0, "and 0 for none");
	spec_free(s);
	s = parse("{\"storageClassName\":\"oci\",\"image\":\"tt:1\",\"agentTlsTimeout\":0}");
	ok(s == NULL, "a timer that cannot be none refuses 0");
	like(err, "spec.ttspec.agentTlsTimeout: 0 is outside [1, 3600]", "naming its range");
	spec_free(s);
}

static struct ttc_spec *
parse_named(const char *name)
{
	char text[512], perr[128];
	snprintf(text, sizeof(text),
	         "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"ttspec\":"
	         "{\"storageClassName\":\"x\",\"image\":\"i\"}}}",
	         name);
	yajl_val obj = json_parse(text, strlen(text), perr, sizeof(perr));
	struct ttc_spec *s = obj ? spec_parse(obj, err, sizeof(err)) : NULL;
	json_free(obj);
	return s;
}

static void
test_names(void)
{
	/* "s" and 31 zeros: 32 characters */
	char longest[64], longer[64];
	snprintf(longest, sizeof(longest), "s%031d", 0);
	snprintf(longer, sizeof(longer), "s%032d", 0);
	struct ttc_spec *s = parse_named(longest);
	ok(s != NULL, "a name of %d characters is usable", SPEC_NAME_MAX);
	spec_free(s);
	s = parse_named(longer);
	ok(s == NULL, "one of %d is not", SPEC_NAME_MAX + 1);
	like(err,
	     "metadata.name: 33 characters, at most 32: it is the database's DSN, which "
	     "TimesTen limits to 32 characters",
	     "the limit named, and why");
	spec_free(s);
	s = parse_named("a.b");
	ok(s == NULL, "a name with a dot (a DNS subdomain, fine for the object) is refused");
	like(err, "names the Service, a DNS-1035 label", "saying why");
	s = parse_named("1abc");
	ok(s == NULL, "as is one starting with a digit");
	s = parse_named("abc-");
	ok(s == NULL && strstr(err, "must not end with '-'") != NULL, "or ending with '-'");
	s = parse_named("db-2");
	ok(s != NULL, "db-2 is fine");
	spec_free(s);
}

int
main(void)
{
	test_names();
	test_timers();
	test_spellings();
	test_seed_sample();
	test_rep_statements();
	test_invalid();
	test_quantities();
	return done_testing();
}
