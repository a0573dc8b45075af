/* Tests for src/kube/path.c: request paths, query strings, Status bodies and errors. */
#include "config.h"

#include <event2/buffer.h>

#include "kube/internal.h"
#include "tap.h"
#include "ttc/json.h"

static void
is_path(char *got, const char *want, const char *what)
{
	is_str(got, want, "%s", what);
	free(got);
}

static void
test_paths(void)
{
	const struct kube_resource ttc = {"timesten.oracle.com", "v2", "timestenclassics",
	                                  "TimesTenClassic", 1};
	char buf[128];

	is_path(kube_path(&kube_res_pods, "ns", "p-0", NULL), "/api/v1/namespaces/ns/pods/p-0",
	        "a core object");
	is_path(kube_path(&kube_res_pods, NULL, NULL, NULL), "/api/v1/pods",
	        "a core collection in all namespaces");
	is_path(kube_path(&ttc, "prod", "db1", "status"),
	        "/apis/timesten.oracle.com/v2/namespaces/prod/timestenclassics/db1/status",
	        "a custom resource's status");
	is_path(kube_path(&kube_res_leases, "kube-system", NULL, NULL),
	        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
	        "a grouped collection in one namespace");
	is_path(kube_path(&kube_res_namespaces, "ignored", "team", NULL), "/api/v1/namespaces/team",
	        "a cluster-scoped object ignores the namespace");
	is_path(kube_path(&kube_res_nodes, "default", "kubesim-node-2", NULL),
	        "/api/v1/nodes/kubesim-node-2", "a Node: cluster-scoped");
	ok(kube_path(&kube_res_pods, "ns", "../x", NULL) == NULL, "a name with a slash is refused");
	ok(kube_path(&kube_res_pods, "ns", "a?b", NULL) == NULL, "a name with a query is refused");
	ok(kube_path(&kube_res_pods, "n s", "a", NULL) == NULL, "a bad namespace is refused");
	ok(kube_path(&kube_res_pods, "ns", NULL, "status") == NULL, "a subresource needs a name");
	ok(kube_path(&kube_res_pods, "ns", "..", NULL) == NULL, "'..' is refused");
	is_str(kube_res_label(&ttc, buf, sizeof(buf)), "timestenclassics.timesten.oracle.com",
	       "metric label of a grouped resource");
	is_str(kube_res_label(&kube_res_pods, buf, sizeof(buf)), "pods", "and of a core one");
}

static void
test_query(void)
{
	struct evbuffer *q = evbuffer_new();

	kube_query_add(q, "labelSelector", "app=tt,tier in (a,b)");
	kube_query_add(q, "limit", "500");
	evbuffer_add(q, "", 1);
	is_str((char *)evbuffer_pullup(q, -1),
	       "labelSelector=app%3Dtt%2Ctier%20in%20%28a%2Cb%29&limit=500",
	       "selectors are escaped, parameters joined");
	evbuffer_free(q);
}

static void
test_status(void)
{
	char err[64];
	const char *t = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
	                "\"message\":\"configmaps \\\"x\\\" already exists\",\"reason\":"
	                "\"AlreadyExists\",\"code\":409}";
	yajl_val v = json_parse(t, strlen(t), err, sizeof(err));
	struct kube_status st;

	kube_status_parse(v, &st);
	is_str(st.reason, "AlreadyExists", "the reason");
	is_str(st.message, "configmaps \"x\" already exists", "the message");
	is_int(st.code, 409, "the code");
	json_free(v);
	kube_status_parse(NULL, &st);
	is_str(st.reason, "", "no body: empty fields");

	is_int(kube_err_from_http(200, ""), KUBE_ERR_OK, "200 is fine");
	is_int(kube_err_from_http(404, "NotFound"), KUBE_ERR_NOT_FOUND, "404");
	is_int(kube_err_from_http(409, "AlreadyExists"), KUBE_ERR_ALREADY_EXISTS,
	       "409 AlreadyExists");
	is_int(kube_err_from_http(409, "Conflict"), KUBE_ERR_CONFLICT, "409 Conflict");
	is_int(kube_err_from_http(410, "Expired"), KUBE_ERR_GONE, "410");
	is_int(kube_err_from_http(422, "Invalid"), KUBE_ERR_INVALID, "422");
	is_int(kube_err_from_http(415, ""), KUBE_ERR_INVALID, "415");
	is_int(kube_err_from_http(403, "Forbidden"), KUBE_ERR_UNAUTHORIZED, "403");
	is_int(kube_err_from_http(429, "TooManyRequests"), KUBE_ERR_UNAVAILABLE, "429");
	is_int(kube_err_from_http(503, ""), KUBE_ERR_UNAVAILABLE, "503");
	is_str(kube_err_name(KUBE_ERR_CONFLICT), "conflict", "errors have names");

	ok(kube_is_json_type("application/json"), "application/json");
	ok(kube_is_json_type("application/json; charset=utf-8"), "with parameters");
	ok(!kube_is_json_type("application/jsonx"), "not a longer type");
	ok(!kube_is_json_type("text/html"), "not HTML");
	ok(!kube_is_json_type(NULL), "not a missing type");
}

int
main(void)
{
	test_paths();
	test_query();
	test_status();
	return done_testing();
}
