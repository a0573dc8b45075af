/* Tests for src/operator/objects.c: the Secret, Service and StatefulSet bodies. */
#include "config.h"

#include "../../src/operator/objects.h"
#include "../../src/operator/spec.h"
#include "tap.h"
#include "ttc/json.h"

static char err[512];

/* Parses and frees a body made by objects.c. */
static yajl_val
parse_body(char *text)
{
	yajl_val v = text ? json_parse(text, strlen(text), err, sizeof(err)) : NULL;
	if (v == NULL)
		diag("not JSON: %s", text ? err : "(null)");
	free(text);
	return v;
}

/* The names of the members of an array of objects, joined with commas. */
static const char *
names(yajl_val arr, const char *key)
{
	static char buf[512];

	buf[0] = '\0';
	for (size_t i = 0; i < json_len(arr); i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "",
		         json_str(json_at(arr, i), key, NULL) ? json_str(json_at(arr, i), key, NULL)
		                                              : "?");
	return buf;
}

static yajl_val
find(yajl_val arr, const char *key, const char *value)
{
	for (size_t i = 0; i < json_len(arr); i++) {
		const char *v = json_str(json_at(arr, i), key, NULL);
		if (v && strcmp(v, value) == 0)
			return json_at(arr, i);
	}
	return NULL;
}

static const char sample[] =
    "{\"apiVersion\":\"timesten.oracle.com/v1\",\"kind\":\"TimesTenClassic\","
    "\"metadata\":{\"name\":\"sample\",\"namespace\":\"mynamespace\",\"uid\":\"517a8646\","
    "\"labels\":{\"team\":\"db\",\"app\":\"ignored\"},\"annotations\":{\"note\":\"x\","
    "\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"}},"
    "\"spec\":{\"ttspec\":{\"storageClassName\":\"oci\",\"storageSize\":\"250G\","
    "\"image\":\"phx.ocir.io/youraccount/tt1814110:3\",\"imagePullSecret\":\"sekret\","
    "\"dbConfigMap\":[\"sample\"],\"dbSecret\":[\"sample-secret\"],"
    "\"databaseMemorySize\":\"1Gi\",\"additionalMemoryRequest\":\"512Mi\"},"
    "\"template\":{\"metadata\":{\"labels\":{\"tier\":\"data\"}},\"spec\":{"
    "\"containers\":[{\"name\":\"app\",\"image\":\"myapp:1\"}],"
    "\"nodeSelector\":{\"disk\":\"ssd\"}}}}}";

static void
test_statefulset(yajl_val obj, struct ttc_spec *spec, const struct owner *o)
{
	yajl_val sts = parse_body(objects_statefulset(o, spec, 1));
	if (sts == NULL) {
		ok(0, "the StatefulSet body is JSON");
		return;
	}
	(void)obj;
	is_str(json_str(sts, "metadata", "name", NULL), "sample",
	       "StatefulSet named after the object");
	is_str(json_str(sts, "metadata", "labels", "app", NULL), "sample", "labelled app=sample");
	is_str(json_str(sts, "metadata", "labels", "team", NULL), "db", "with the object's labels");
	is_str(json_str(sts, "metadata", "annotations", "note", NULL), "x", "and annotations");
	ok(json_get(sts, "metadata", "annotations",
	            "kubectl.kubernetes.io/last-applied-configuration", NULL) == NULL,
	   "but not kubectl's last-applied record");
	yajl_val ref = json_at(json_get(sts, "metadata", "ownerReferences", NULL), 0);
	ok(json_str(ref, "uid", NULL) && strcmp(json_str(ref, "uid", NULL), "517a8646") == 0 &&
	       json_bool(ref, "controller", NULL) == 1,
	   "owned by the TimesTenClassic (controller reference)");
	long long n = 0;
	ok(json_int(sts, &n, "spec", "replicas", NULL) == 0 && n == 2, "2 replicas");
	is_str(json_str(sts, "spec", "updateStrategy", "type", NULL), "OnDelete",
	       "update strategy OnDelete");
	is_str(json_str(sts, "spec", "serviceName", NULL), "sample", "behind the Service sample");
	is_str(json_str(sts, "spec", "selector", "matchLabels", "app", NULL), "sample",
	       "selector app=sample");

	yajl_val pod = json_get(sts, "spec", "template", "spec", NULL);
	is_str(json_str(sts, "spec", "template", "metadata", "labels", "app", NULL), "sample",
	       "pods labelled app=sample");
	is_str(json_str(sts, "spec", "template", "metadata", "labels", "tier", NULL), "data",
	       "with the template's labels");
	is_str(json_str(sts, "spec", "template", "metadata", "labels", OBJECT_LABEL, NULL),
	       "sample", "and the operator's own label, by which it watches them");
	is_str(json_str(sts, "metadata", "labels", OBJECT_LABEL, NULL), "sample",
	       "the StatefulSet carries it too");
	is_str(names(json_get(pod, "initContainers", NULL), "name"), "ttinit",
	       "init container ttinit");
	is_str(names(json_get(pod, "containers", NULL), "name"), "tt,daemonlog,app",
	       "containers tt, daemonlog, then the user's");
	is_str(json_str(pod, "nodeSelector", "disk", NULL), "ssd",
	       "the template's pod settings pass through");
	ok(json_bool(pod, "automountServiceAccountToken", NULL) == 0,
	   "no service-account token in the database pods (the agent never calls the API)");
	yajl_val spread = json_at(json_get(pod, "affinity", "podAntiAffinity",
	                                   "preferredDuringSchedulingIgnoredDuringExecution", NULL),
	                          0);
	long long weight = 0;
	ok(json_int(spread, &weight, "weight", NULL) == 0 && weight == 100 &&
	       json_str(spread, "podAffinityTerm", "topologyKey", NULL) &&
	       strcmp(json_str(spread, "podAffinityTerm", "topologyKey", NULL),
	              "kubernetes.io/hostname") == 0,
	   "the pods prefer different nodes (preferred anti-affinity on the host name)");
	is_str(
	    json_str(spread, "podAffinityTerm", "labelSelector", "matchLabels", OBJECT_LABEL, NULL),
	    "sample", "from the object's other pods");
	yajl_val tt = find(json_get(pod, "containers", NULL), "name", "tt");
	is_str(json_str(tt, "image", NULL), "phx.ocir.io/youraccount/tt1814110:3",
	       "tt runs the image");
	is_str(json_str(tt, "imagePullPolicy", NULL), "Always", "pull policy Always");
	is_str(names(json_get(tt, "ports", NULL), "name"), "agent,daemon,cs,replication",
	       "ports named");
	long long p[4] = {0};
	for (int i = 0; i < 4; i++)
		json_int(json_at(json_get(tt, "ports", NULL), i), &p[i], "containerPort", NULL);
	ok(p[0] == 8443 && p[1] == 6624 && p[2] == 6625 && p[3] == 4444, "8443, 6624, 6625, 4444");
	is_str(names(json_get(tt, "volumeMounts", NULL), "mountPath"), "/tt,/ttagent,/ttconfig",
	       "mounts /tt, /ttagent, /ttconfig");
	is_str(YAJL_GET_STRING(json_at(json_get(tt, "readinessProbe", "exec", "command", NULL), 1)),
	       "/tmp/active", "ready when /tmp/active exists");
	is_str(json_str(find(json_get(tt, "env", NULL), "name", "TIMESTEN_HOME"), "value", NULL),
	       TT_INSTANCE_HOME, "TIMESTEN_HOME");
	is_str(json_str(tt, "resources", "limits", "memory", NULL), "1536Mi",
	       "memory = databaseMemorySize + additionalMemoryRequest, as limit");
	yajl_val init = json_at(json_get(pod, "initContainers", NULL), 0);
	is_str(
	    json_str(find(json_get(init, "env", NULL), "name", "TT_INIT_CONTAINER"), "value", NULL),
	    "1", "ttinit runs with TT_INIT_CONTAINER=1");
	is_str(names(json_get(pod, "volumes", NULL), "name"), "tt-agent,tt-config", "volumes");
	yajl_val agent = find(json_get(pod, "volumes", NULL), "name", "tt-agent");
	is_str(json_str(agent, "secret", "secretName", NULL), "tt517a8646",
	       "tt-agent from Secret tt<uid>");
	is_str(names(json_get(agent, "secret", "items", NULL), "key"), "ca.crt,tls.crt,tls.key",
	       "only the agent's certificate, key and the CA are mounted");
	yajl_val cfg = find(json_get(pod, "volumes", NULL), "name", "tt-config");
	yajl_val src = json_get(cfg, "projected", "sources", NULL);
	ok(json_len(src) == 2 &&
	       strcmp(json_str(json_at(src, 0), "configMap", "name", NULL), "sample") == 0 &&
	       strcmp(json_str(json_at(src, 1), "secret", "name", NULL), "sample-secret") == 0,
	   "tt-config projects the ConfigMaps and Secrets");
	is_str(names(json_get(pod, "imagePullSecrets", NULL), "name"), "sekret",
	       "image pull secret");
	yajl_val claims = json_get(sts, "spec", "volumeClaimTemplates", NULL);
	is_str(json_str(json_at(claims, 0), "metadata", "name", NULL), "tt-persistent",
	       "claim tt-persistent");
	is_str(json_str(json_at(claims, 0), "spec", "storageClassName", NULL), "oci",
	       "of class oci");
	is_str(json_str(json_at(claims, 0), "spec", "resources", "requests", "storage", NULL),
	       "250G", "of 250G");
	json_free(sts);
}

/* A non-replicated object's StatefulSet, as made and as patched. */
static void
test_nonrep_statefulset(const struct owner *o)
{
	char perr[128];
	const char *text =
	    "{\"metadata\":{\"name\":\"norep\"},\"spec\":{\"ttspec\":{\"storageClassName\":\"s\","
	    "\"image\":\"tt:22.1.1.31.0\",\"replicationTopology\":\"none\",\"replicas\":3,"
	    "\"rollingUpdatePartition\":2}}}";
	yajl_val obj = json_parse(text, strlen(text), perr, sizeof(perr));
	struct ttc_spec *spec = spec_parse(obj, err, sizeof(err));
	long long n = 0;

	ok(spec != NULL, "a non-replicated spec: %s", err);
	if (spec == NULL) {
		json_free(obj);
		return;
	}
	yajl_val sts = parse_body(objects_statefulset(o, spec, 4));
	ok(json_int(sts, &n, "spec", "replicas", NULL) == 0 && n == 3, "replicas pods");
	is_str(json_str(sts, "spec", "updateStrategy", "type", NULL), "RollingUpdate",
	       "imageUpgradeStrategy Auto: Kubernetes rolls the pods");
	ok(json_int(sts, &n, "spec", "updateStrategy", "rollingUpdate", "partition", NULL) == 0 &&
	       n == 2,
	   "from rollingUpdatePartition up");
	is_str(json_str(sts, "metadata", "annotations", GENERATION_ANNOTATION, NULL), "4",
	       "the spec generation it was made from");
	json_free(sts);

	spec->image_upgrade_strategy = UPGRADE_MANUAL;
	yajl_val patch = parse_body(objects_statefulset_patch(o, spec, 5));
	is_str(json_str(patch, "spec", "updateStrategy", "type", NULL), "OnDelete",
	       "Manual: OnDelete, pods replaced only when deleted");
	yajl_val ru = json_get(patch, "spec", "updateStrategy", "rollingUpdate", NULL);
	ok(ru != NULL && YAJL_IS_NULL(ru), "the patch clears rollingUpdate");
	is_str(json_str(patch, "metadata", "annotations", GENERATION_ANNOTATION, NULL), "5",
	       "and records the new generation");
	yajl_val cs = json_get(patch, "spec", "template", "spec", "containers", NULL);
	int images = 0;
	for (size_t i = 0; i < json_len(cs); i++)
		images += strcmp(json_str(json_at(cs, i), "image", NULL), "tt:22.1.1.31.0") == 0;
	is_int(images, 2, "tt and daemonlog run the image");
	is_str(json_str(
	           json_at(json_get(patch, "spec", "template", "spec", "initContainers", NULL), 0),
	           "image", NULL),
	       "tt:22.1.1.31.0", "and so does ttinit");
	ok(json_get(patch, "spec", "volumeClaimTemplates", NULL) == NULL &&
	       json_get(patch, "spec", "selector", NULL) == NULL,
	   "no field the API server forbids changing");
	json_free(patch);
	spec_free(spec);
	json_free(obj);
}

/* The container named c in list of the StatefulSet's pod template. */
static yajl_val
container_of(yajl_val sts, const char *list, const char *c)
{
	yajl_val l = json_get(sts, "spec", "template", "spec", list, NULL);

	for (size_t i = 0; i < json_len(l); i++)
		if (strcmp(json_str(json_at(l, i), "name", NULL), c) == 0)
			return json_at(l, i);
	return NULL;
}

static size_t
count_named(yajl_val sts, const char *list, const char *c)
{
	yajl_val l = json_get(sts, "spec", "template", "spec", list, NULL);
	size_t n = 0;

	for (size_t i = 0; i < json_len(l); i++)
		n += strcmp(json_str(json_at(l, i), "name", NULL), c) == 0;
	return n;
}

static struct ttc_spec *
spec_with_template(const char *tmpl, yajl_val *obj)
{
	char text[4096], perr[128];

	snprintf(text, sizeof(text),
	         "{\"metadata\":{\"name\":\"merge\"},\"spec\":{\"ttspec\":{\"storageClassName\":"
	         "\"s\",\"image\":\"tt:1\",\"databaseMemorySize\":\"1Gi\"},\"template\":%s}}",
	         tmpl);
	*obj = json_parse(text, strlen(text), perr, sizeof(perr));
	return spec_parse(*obj, err, sizeof(err));
}

/* A template container named tt, daemonlog or ttinit goes into the operator's; what it
 * may not set is refused with the field named. */
static void
test_template_merge(const struct owner *o)
{
	yajl_val obj;
	struct ttc_spec *spec = spec_with_template(
	    "{\"spec\":{\"securityContext\":{\"runAsUser\":1000,\"supplementalGroups\":[5]},"
	    "\"containers\":[{\"name\":\"tt\",\"resources\":{\"requests\":{\"memory\":\"41Gi\"},"
	    "\"limits\":{\"memory\":\"41Gi\"}},\"env\":[{\"name\":\"TZ\",\"value\":\"UTC\"}],"
	    "\"volumeMounts\":[{\"name\":\"extra\",\"mountPath\":\"/extra\"}],"
	    "\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]}}},"
	    "{\"name\":\"daemonlog\",\"resources\":{\"requests\":{\"memory\":\"30Mi\"}}},"
	    "{\"name\":\"side\",\"image\":\"side:1\"}],"
	    "\"initContainers\":[{\"name\":\"ttinit\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}"
	    "],"
	    "\"volumes\":[{\"name\":\"extra\",\"emptyDir\":{}}],"
	    "\"affinity\":{\"nodeAffinity\":{}}}}",
	    &obj);

	ok(spec != NULL, "a template naming the operator's containers parses: %s", err);
	if (spec == NULL) {
		json_free(obj);
		return;
	}
	ok(objects_template_check(spec, err, sizeof(err)) == 0, "and is accepted: %s", err);
	yajl_val sts = parse_body(objects_statefulset(o, spec, 1));
	is_int(count_named(sts, "containers", "tt"), 1, "one tt container");
	is_int(count_named(sts, "containers", "daemonlog"), 1, "one daemonlog container");
	is_int(count_named(sts, "initContainers", "ttinit"), 1, "one ttinit container");
	is_int(json_len(json_get(sts, "spec", "template", "spec", "containers", NULL)), 3,
	       "and the user's own sidecar");
	yajl_val aff = json_get(sts, "spec", "template", "spec", "affinity", NULL);
	ok(json_get(aff, "nodeAffinity", NULL) != NULL &&
	       json_get(aff, "podAntiAffinity", NULL) == NULL,
	   "the template's affinity replaces the operator's spreading");
	yajl_val tt = container_of(sts, "containers", "tt");
	is_str(json_str(tt, "resources", "requests", "memory", NULL), "41Gi",
	       "the template's resources replace the operator's");
	is_str(json_str(tt, "image", NULL), "tt:1", "the image is the operator's");
	ok(json_get(tt, "livenessProbe", NULL) != NULL, "fields the operator does not set pass");
	ok(json_get(tt, "readinessProbe", NULL) != NULL, "the operator's readiness probe stays");
	is_str(names(json_get(tt, "env", NULL), "name"),
	       "TIMESTEN_HOME,LD_LIBRARY_PATH,TT_REPLICATION_TOPOLOGY,TT_DSN,TZ",
	       "env is added to the operator's");
	is_str(names(json_get(tt, "volumeMounts", NULL), "name"),
	       "tt-persistent,tt-agent,tt-config,extra", "and so are volume mounts");
	is_int(json_bool(tt, "securityContext", "allowPrivilegeEscalation", NULL), 0,
	       "no privilege escalation");
	is_str(json_str(json_at(json_get(tt, "securityContext", "capabilities", "drop", NULL), 0),
	                NULL),
	       "ALL", "every capability dropped");
	yajl_val dl = container_of(sts, "containers", "daemonlog");
	is_str(json_str(dl, "resources", "requests", "memory", NULL), "30Mi",
	       "daemonlog's resources from the template");
	is_str(json_str(container_of(sts, "initContainers", "ttinit"), "resources", "requests",
	                "cpu", NULL),
	       "1", "ttinit's too");
	yajl_val psc = json_get(sts, "spec", "template", "spec", "securityContext", NULL);
	long long v = 0;
	ok(json_int(psc, &v, "runAsUser", NULL) == 0 && v == 1000,
	   "the template's runAsUser replaces the image's user");
	ok(json_int(psc, &v, "fsGroup", NULL) == 0 && v == TT_IMAGE_GID,
	   "the volumes belong to the timesten group");
	is_str(json_str(psc, "seccompProfile", "type", NULL), "RuntimeDefault",
	       "the runtime's seccomp profile");
	is_int(json_len(json_get(psc, "supplementalGroups", NULL)), 1,
	       "and the template's other pod security fields");
	json_free(sts);
	spec_free(spec);
	json_free(obj);

	static const struct {
		const char *tmpl, *error;
	} refused[] = {
	    {"{\"spec\":{\"containers\":[{\"name\":\"tt\",\"image\":\"other:1\"}]}}",
	     "spec.template.spec.containers[0].image: the operator sets it in its tt container "
	     "(from spec.ttspec.image)"},
	    {"{\"spec\":{\"containers\":[{\"name\":\"x\",\"image\":\"x\"},{\"name\":\"tt\","
	     "\"command\":[\"sh\"]}]}}",
	     "spec.template.spec.containers[1].command: the operator sets it in its tt container"},
	    {"{\"spec\":{\"containers\":[{\"name\":\"tt\",\"env\":[{\"name\":\"TIMESTEN_HOME\","
	     "\"value\":\"/x\"}]}]}}",
	     "spec.template.spec.containers[0].env[0].name: TIMESTEN_HOME is set by the operator"},
	    {"{\"spec\":{\"containers\":[{\"name\":\"tt\",\"volumeMounts\":[{\"name\":\"v\","
	     "\"mountPath\":\"/ttconfig\"}]}]}}",
	     "spec.template.spec.containers[0].volumeMounts[0].mountPath: /ttconfig is one of the "
	     "operator's mounts (/tt, /ttagent, /ttconfig, /ttlog)"},
	    {"{\"spec\":{\"containers\":[{\"name\":\"tt\",\"ports\":[{\"containerPort\":6625}]}]}}",
	     "spec.template.spec.containers[0].ports[0]: the operator's ports are agent 8443, "
	     "daemon 6624, cs 6625 and replication 4444"},
	    {"{\"spec\":{\"containers\":[{\"name\":\"tt\"},{\"name\":\"tt\"}]}}",
	     "spec.template.spec.containers[1].name: a second container named tt"},
	    {"{\"spec\":{\"initContainers\":[{\"name\":\"tt\",\"image\":\"x\"}]}}",
	     "spec.template.spec.initContainers[0].name: tt is the operator's container in "
	     "spec.template.spec.containers; its fields go there"},
	    {"{\"spec\":{\"containers\":[{\"name\":\"ttinit\",\"image\":\"x\"}]}}",
	     "spec.template.spec.containers[0].name: ttinit is the operator's container in "
	     "spec.template.spec.initContainers; its fields go there"},
	    {"{\"spec\":{\"volumes\":[{\"name\":\"tt-agent\",\"emptyDir\":{}}]}}",
	     "spec.template.spec.volumes[0].name: tt-agent is one of the operator's volumes"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		spec = spec_with_template(refused[i].tmpl, &obj);
		ok(spec != NULL && objects_template_check(spec, err, sizeof(err)) < 0,
		   "refused: %s", refused[i].tmpl);
		is_str(err, refused[i].error, "with the field named");
		spec_free(spec);
		json_free(obj);
	}
}

static void
test_names(void)
{
	char buf[300];

	objects_pod_name(buf, sizeof(buf), "sample", 1);
	is_str(buf, "sample-1", "a pod's name");
	objects_pod_fqdn(buf, sizeof(buf), "sample", "mynamespace", 2);
	is_str(buf, "sample-2.sample.mynamespace.svc.cluster.local", "its DNS name");
	objects_service_domain(buf, sizeof(buf), "sample", "mynamespace");
	is_str(buf, "sample.mynamespace.svc.cluster.local", "the Service's domain");
	objects_set_cluster_domain("corp.example");
	objects_pod_fqdn(buf, sizeof(buf), "sample", "mynamespace", 0);
	is_str(buf, "sample-0.sample.mynamespace.svc.corp.example",
	       "in the cluster domain the operator is given");
	objects_set_cluster_domain("cluster.local");
	is_int(objects_pod_ordinal("sample", "sample-0"), 0, "ordinal 0");
	is_int(objects_pod_ordinal("sample", "sample-12"), 12, "ordinal 12");
	is_int(objects_pod_ordinal("sample", "sample-01"), -1, "no leading zero");
	is_int(objects_pod_ordinal("sample", "sample-x"), -1, "not a number");
	is_int(objects_pod_ordinal("sample", "sample-"), -1, "no ordinal");
	is_int(objects_pod_ordinal("sample", "samples-0"), -1, "another object's pod");
	is_int(objects_pod_ordinal("sample", "sample-1-0"), -1, "nor sample-1's");
}

int
main(void)
{
	test_names();
	yajl_val obj = json_parse(sample, strlen(sample), err, sizeof(err));
	struct ttc_spec *spec = spec_parse(obj, err, sizeof(err));
	struct owner o = {"sample", "mynamespace", "517a8646",
	                  json_get(obj, "metadata", "labels", NULL),
	                  json_get(obj, "metadata", "annotations", NULL)};

	ok(spec != NULL, "the sample spec parses: %s", err);
	if (spec == NULL)
		return done_testing();
	test_statefulset(obj, spec, &o);
	test_nonrep_statefulset(&o);
	test_template_merge(&o);

	yajl_val svc = parse_body(objects_service(&o, spec));
	is_str(json_str(svc, "spec", "clusterIP", NULL), "None", "the Service is headless");
	is_int(json_bool(svc, "spec", "publishNotReadyAddresses", NULL), 1,
	       "and names pods that are not Ready (the standby)");
	is_str(json_str(svc, "spec", "selector", "app", NULL), "sample", "selecting app=sample");
	long long port = 0;
	json_int(json_at(json_get(svc, "spec", "ports", NULL), 0), &port, "port", NULL);
	is_int(port, 6625, "port 6625");
	json_free(svc);

	struct agent_credentials c = {"CA", "CAKEY", "SRV", "SRVKEY", "CLI", "CLIKEY"};
	yajl_val sec = parse_body(objects_secret(&o, &c));
	is_str(json_str(sec, "metadata", "name", NULL), "tt517a8646", "the Secret is tt<uid>");
	is_str(json_str(sec, "data", "ca.crt", NULL), "Q0E=", "holding base64 PEM");
	is_str(json_str(sec, "data", "operator.key", NULL), "Q0xJS0VZ", "the operator's key too");
	json_free(sec);

	is_int(spec_quantity_bytes("1Gi"), 1073741824, "1Gi in bytes");
	is_int(spec_quantity_bytes("250G"), 250000000000LL, "250G in bytes");
	is_int(spec_quantity_bytes("1e3"), 1000, "1e3");
	is_int(spec_quantity_bytes("200m"), 1, "200m rounds up to 1");
	is_int(spec_quantity_bytes("x"), -1, "not a quantity");

	spec_free(spec);
	json_free(obj);
	return done_testing();
}
