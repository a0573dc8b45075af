/* Tests for src/kube/config.c and yaml.c: kubeconfig files, in-cluster configuration. */
#include "config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/internal.h"
#include "tap.h"
#include "ttc/json.h"

static char dir[256];

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static struct kube_config *
load(const char *text, const char *ctx, int allow_insecure, char *err)
{
	return kube_config_from_text("kc", text, strlen(text), ctx, allow_insecure, err, 512);
}

/* "Q0EgUEVN" is base64 for "CA PEM". */
static const char *const two_contexts =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: dev\n"
    "clusters:\n"
    "- name: c1\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443\n"
    "    certificate-authority-data: Q0EgUEVN\n"
    "    tls-server-name: kubernetes\n"
    "- name: c2\n"
    "  cluster: {server: 'https://[fd00::1]:443', insecure-skip-tls-verify: yes}\n"
    "users:\n"
    "- name: u1\n"
    "  user:\n"
    "    token: abc.def\n"
    "- name: u2\n"
    "  user: {}\n"
    "contexts:\n"
    "- name: dev\n"
    "  context: {cluster: c1, user: u1, namespace: team}\n"
    "- name: lab\n"
    "  context: {cluster: c2, user: u2}\n";

static void
test_kubeconfig(void)
{
	char err[512];
	struct kube_config *c = load(two_contexts, NULL, 0, err);

	ok(c != NULL, "a kubeconfig with two contexts loads");
	if (c == NULL) {
		diag("%s", err);
		return;
	}
	is_str(c->server, "https://10.0.0.1:6443", "the current context's server");
	is_str(c->ca_pem, "CA PEM", "its CA from base64 data");
	is_str(c->token, "abc.def", "the user's token");
	is_str(c->namespace, "team", "the context's namespace");
	is_str(c->tls_server_name, "kubernetes", "tls-server-name");
	ok(!c->insecure, "verification on");
	kube_config_free(c);

	c = load(two_contexts, "lab", 0, err);
	ok(c == NULL, "insecure-skip-tls-verify is refused by default");
	like(err, "insecure-skip-tls-verify: refused", "saying why: %s", err);
	c = load(two_contexts, "lab", 1, err);
	ok(c != NULL && c->insecure, "and accepted when allowed");
	if (c != NULL) {
		is_str(c->namespace, "default", "a context without namespace gets default");
		ok(c->token == NULL && c->cert_pem == NULL, "a user with no credentials");
	}
	kube_config_free(c);

	ok(load(two_contexts, "nope", 0, err) == NULL, "an unknown context");
	like(err, "context \"nope\" not found", "is named");
	ok(load("clusters: []\n", NULL, 0, err) == NULL, "no current context");
	like(err, "no context given", "is reported");
	ok(load("current-context: x\ncontexts:\n- name: x\n  context: {cluster: gone}\n", NULL, 0,
	        err) == NULL,
	   "a missing cluster");
	like(err, "cluster \"gone\"", "is named");
	ok(load("a: [1, 2\n", NULL, 0, err) == NULL, "broken YAML");
	like(err, "kc: line 2 column", "is reported with its place: %s", err);
	ok(load("a: 1\na: 2\n", NULL, 0, err) == NULL, "a duplicate key");
	like(err, "duplicate key \"a\"", "is refused");
	ok(load("a: &x 1\nb: *x\n", NULL, 0, err) == NULL, "aliases are refused");

	const char *execuser = "current-context: x\n"
	                       "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
	                       "users: [{name: u, user: {exec: {command: aws}}}]\n"
	                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n";
	ok(load(execuser, NULL, 0, err) == NULL, "exec credentials are refused");
	like(err, "exec and auth-provider credentials are not supported", "clearly");
	const char *both =
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h', "
	    "certificate-authority-data: Q0EgUEVN, insecure-skip-tls-verify: true}}]\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n";
	ok(load(both, NULL, 1, err) == NULL, "a CA together with insecure-skip-tls-verify");
	like(err, "sets both", "is an error");
	const char *badb64 = "current-context: x\n"
	                     "clusters: [{name: c, cluster: {server: 'https://h', "
	                     "certificate-authority-data: '%%%'}}]\n"
	                     "contexts: [{name: x, context: {cluster: c}}]\n";
	ok(load(badb64, NULL, 0, err) == NULL, "bad base64");
	like(err, "not valid base64", "is reported");
}

static void
test_files(void)
{
	char err[512], path[512];
	struct kube_config *c;

	write_file("ca.crt", "FILE CA\n");
	write_file("client.crt", "CLIENT CERT\n");
	write_file("client.key", "CLIENT KEY\n");
	write_file("token", "  tok-from-file\n");
	write_file(
	    "kubeconfig",
	    "{\"current-context\":\"x\",\n"
	    " \"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":\"https://127.0.0.1:1\","
	    "\"certificate-authority\":\"ca.crt\"}}],\n"
	    " \"users\":[{\"name\":\"u\",\"user\":{\"client-certificate\":\"client.crt\","
	    "\"client-key\":\"client.key\",\"tokenFile\":\"token\"}}],\n"
	    " \"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"c\",\"user\":\"u\"}}]}\n");
	snprintf(path, sizeof(path), "%s/kubeconfig", dir);
	c = kube_config_from_file(path, NULL, 0, err, sizeof(err));
	ok(c != NULL, "a JSON kubeconfig with file references loads");
	if (c == NULL) {
		diag("%s", err);
		return;
	}
	is_str(c->ca_pem, "FILE CA\n", "the CA file, relative to the kubeconfig");
	is_str(c->cert_pem, "CLIENT CERT\n", "the client certificate");
	is_str(c->key_pem, "CLIENT KEY\n", "and key");
	is_str(c->token, "tok-from-file", "the token file's content, trimmed");
	like(c->token_file, "/token", "whose path is kept for re-reading");
	kube_config_free(c);

	write_file("kc2",
	           "current-context: x\n"
	           "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority: "
	           "missing.crt}}]\n"
	           "contexts: [{name: x, context: {cluster: c}}]\n");
	snprintf(path, sizeof(path), "%s/kc2", dir);
	ok(kube_config_from_file(path, NULL, 0, err, sizeof(err)) == NULL, "a missing CA file");
	like(err, "missing.crt", "is named: %s", err);
	snprintf(path, sizeof(path), "%s/none", dir);
	ok(kube_config_from_file(path, NULL, 0, err, sizeof(err)) == NULL, "a missing kubeconfig");
	like(err, "No such file", "says so");
}

static void
test_in_cluster(void)
{
	char err[512], sa[512];
	struct kube_config *c;

	unsetenv("KUBERNETES_SERVICE_HOST");
	ok(kube_config_in_cluster(dir, err, sizeof(err)) == NULL, "outside a cluster");
	like(err, "KUBERNETES_SERVICE_HOST", "the variables are named");
	setenv("KUBERNETES_SERVICE_HOST", "fd00::10", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ok(kube_config_in_cluster(dir, err, sizeof(err)) == NULL, "without a service account");
	like(err, "service account token", "the token is missing");
	snprintf(sa, sizeof(sa), "%s/var", dir);
	mkdir(sa, 0700);
	strcat(sa, "/run");
	mkdir(sa, 0700);
	strcat(sa, "/secrets");
	mkdir(sa, 0700);
	strcat(sa, "/kubernetes.io");
	mkdir(sa, 0700);
	strcat(sa, "/serviceaccount");
	mkdir(sa, 0700);
	write_file("var/run/secrets/kubernetes.io/serviceaccount/token", "sa-token\n");
	write_file("var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "SA CA\n");
	write_file("var/run/secrets/kubernetes.io/serviceaccount/namespace", "ops\n");
	setenv("POD_ROOT", dir, 1);
	c = kube_config_in_cluster(NULL, err, sizeof(err));
	ok(c != NULL, "the pod's service account (under $POD_ROOT)");
	if (c != NULL) {
		is_str(c->server, "https://[fd00::10]:443", "an IPv6 service address is bracketed");
		is_str(c->token, "sa-token", "the token");
		is_str(c->ca_pem, "SA CA\n", "the CA");
		is_str(c->namespace, "ops", "the namespace");
		ok(c->token_file != NULL, "the token file is re-read later");
	}
	kube_config_free(c);
	setenv("KUBERNETES_SERVICE_PORT", "http", 1);
	ok(kube_config_in_cluster(NULL, err, sizeof(err)) == NULL, "a port that is not a number");
}

static void
test_yaml(void)
{
	char err[256];
	const char *text =
	    "a: yes\nb: 'yes'\nc: 0644\nd: 12\ne: ~\nf: 1.5\ng: !!str 5\nh: |\n  x\n";
	yajl_val v = kube_yaml_parse(text, strlen(text), err, sizeof(err));
	long long n = 0;

	ok(v != NULL, "YAML 1.1 scalars");
	is_int(json_bool(v, "a", NULL), 1, "yes is a boolean");
	is_str(json_str(v, "b", NULL), "yes", "'yes' is a string");
	ok(json_int(v, &n, "c", NULL) == 0 && n == 420, "0644 is octal");
	ok(json_int(v, &n, "d", NULL) == 0 && n == 12, "12 is an integer");
	ok(YAJL_IS_NULL(json_get(v, "e", NULL)), "~ is null");
	ok(YAJL_IS_DOUBLE(json_get(v, "f", NULL)), "1.5 is a number");
	is_str(json_str(v, "g", NULL), "5", "!!str keeps a string");
	is_str(json_str(v, "h", NULL), "x\n", "a block scalar keeps its newline");
	json_free(v);
	ok(kube_yaml_parse("", 0, err, sizeof(err)) == NULL, "an empty document is refused");
	ok(kube_yaml_parse("a: 1\n---\nb: 2\n", 14, err, sizeof(err)) == NULL,
	   "two documents are refused");
	ok(kube_yaml_parse("<<: {a: 1}\n", 11, err, sizeof(err)) == NULL, "merge keys are refused");
	ok(kube_yaml_parse("? [a]\n: 1\n", 10, err, sizeof(err)) == NULL,
	   "non-scalar keys are refused");
}

/* Damaged kubeconfigs (bytes changed, cut short) are refused or read, never a crash. */
static void
test_damaged(void)
{
	size_t n = strlen(two_contexts);
	char *text = malloc(n + 1), err[512];
	unsigned seed = 99;
	int loaded = 0, refused = 0;

	for (int round = 0; round < 3000; round++) {
		memcpy(text, two_contexts, n + 1);
		for (int k = 0; k < 1 + round % 4; k++) {
			size_t at = (size_t)(kube_rand01(&seed) * (double)n);
			text[at] = " :-[]{}'\"\n\tax0!&*|>#,?"[(int)(kube_rand01(&seed) * 22)];
		}
		size_t len = round % 5 == 0 ? (size_t)(kube_rand01(&seed) * (double)n) : n;
		struct kube_config *c =
		    kube_config_from_text("kc", text, len, NULL, round % 2, err, sizeof(err));
		if (c != NULL)
			loaded++;
		else
			refused++;
		kube_config_free(c);
	}
	ok(loaded > 0 && refused > 0, "3000 damaged kubeconfigs: %d read, %d refused, no crash",
	   loaded, refused);
	free(text);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(dir, sizeof(dir), "%s/test_kube_config.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_kubeconfig();
	test_files();
	test_in_cluster();
	test_yaml();
	test_damaged();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
