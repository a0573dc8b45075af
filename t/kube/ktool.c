/*
 * ktool: drives the Kubernetes client and the HTTPS client from test scripts. One command
 * per run (a call, an informer, an election, Events, a raw HTTPS request); results are
 * printed as lines that scripts parse. See usage().
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "kube/internal.h"
#include "kube/kube.h"
#include "ttc/https.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/metrics.h"
#include "ttc/selfmon.h"

#include "ktool.h"

struct ktool kt;

static void
usage(FILE *f)
{
	fprintf(f, "usage: ktool [options] COMMAND ARGS...\n"
	           "options: --kubeconfig FILE (else in-cluster) --context NAME --allow-insecure\n"
	           "         --timeout MS --qps N --burst N --log-level LEVEL --dump DIR\n"
	           "commands:\n"
	           "  get RES NS NAME | delete RES NS NAME [background|foreground|orphan]\n"
	           "  create RES NS JSON | update RES NS NAME JSON | patch RES NS NAME JSON\n"
	           "  patch-status RES NS NAME JSON\n"
	           "  watch RES [--namespace NS] [--selector S] [--fields S] [--watch-timeout S]\n"
	           "        [--max-line BYTES] [--stamp ANNOTATION] [--quiet]\n"
	           "  elect NS NAME [--identity ID] [--durations LEASE,RENEW,RETRY]\n"
	           "  event RES NS NAME TYPE REASON MESSAGE [COUNT]\n"
	           "  https URL [--ca FILE] [--cert FILE --key FILE] [--server-name NAME]\n"
	           "        [--method M] [--body TEXT] [--stream]\n"
	           "RES: pods, configmaps, secrets, services, events, leases, statefulsets, or\n"
	           "     GROUP/VERSION/PLURAL/KIND (e.g. timesten.oracle.com/v2/timestenclassics/"
	           "TimesTenClassic)\n");
}

/* Milliseconds since start, printed with lines so scripts can time things. */
double
kt_ms(void)
{
	return (kube_now() - kt.t0) * 1000;
}

void
kt_say(const char *fmt, ...)
{
	va_list ap;

	printf("%.1f ", kt_ms());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static struct kube_resource custom_res;
static char custom_buf[512];

const struct kube_resource *
kt_resource(const char *s)
{
	static const struct {
		const char *name;
		const struct kube_resource *res;
	} known[] = {
	    {"pods", &kube_res_pods},
	    {"configmaps", &kube_res_configmaps},
	    {"secrets", &kube_res_secrets},
	    {"services", &kube_res_services},
	    {"events", &kube_res_events},
	    {"leases", &kube_res_leases},
	    {"statefulsets", &kube_res_statefulsets},
	};
	char *parts[4], *save = NULL;
	int n = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(s, known[i].name) == 0)
			return known[i].res;
	snprintf(custom_buf, sizeof(custom_buf), "%s", s);
	for (char *p = strtok_r(custom_buf, "/", &save); p && n < 4; p = strtok_r(NULL, "/", &save))
		parts[n++] = p;
	if (n != 4)
		return NULL;
	custom_res.group = parts[0];
	custom_res.version = parts[1];
	custom_res.plural = parts[2];
	custom_res.kind = parts[3];
	custom_res.namespaced = 1;
	return &custom_res;
}

/* Writes the metrics registry to DIR/metrics.txt (atomically). */
void
kt_dump_metrics(void)
{
	struct evbuffer *b = evbuffer_new();
	char path[4096], tmp[4200];
	FILE *f;

	if (kt.dump_dir == NULL || b == NULL || metrics_write(kt.metrics, b) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/metrics.txt", kt.dump_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		goto out;
	fwrite(evbuffer_pullup(b, -1), 1, evbuffer_get_length(b), f);
	fclose(f);
	rename(tmp, path);
out:
	if (b != NULL)
		evbuffer_free(b);
}

void
kt_stop(int status)
{
	kt.status = status;
	event_base_loopexit(kt.base, NULL);
}

/* -- one call ------------------------------------------------------------------------------ */

static void
call_done(struct kube_result *r, void *arg)
{
	struct jw w;
	char *out;

	(void)arg;
	if (jw_init(&w) == 0) {
		jw_obj(&w);
		jw_kstr(&w, "err", kube_err_name(r->err));
		jw_kint(&w, "code", r->code);
		jw_kstr(&w, "reason", r->reason);
		jw_kstr(&w, "message", r->message);
		jw_kint(&w, "attempts", r->attempts);
		jw_key(&w, "object");
		if (r->object)
			jw_val(&w, r->object);
		else
			jw_null(&w);
		jw_obj_end(&w);
		if ((out = jw_finish(&w, NULL)) != NULL) {
			printf("%s\n", out);
			free(out);
		}
	}
	fflush(stdout);
	kt_stop(r->err == KUBE_ERR_OK ? 0 : 1);
}

static int
cmd_call(const char *cmd, int argc, char **argv)
{
	const struct kube_resource *res = argc > 0 ? kt_resource(argv[0]) : NULL;
	struct kube_request rq = {0};
	static const char *const props[] = {"background", "foreground", "orphan"};
	struct kube_call *call = NULL;

	if (res == NULL || argc < 3)
		return -1;
	rq.res = res;
	rq.ns = argv[1];
	if (strcmp(cmd, "get") == 0) {
		call = kube_get(kt.client, res, argv[1], argv[2], call_done, NULL);
	} else if (strcmp(cmd, "create") == 0) {
		call = kube_create(kt.client, res, argv[1], argv[2], call_done, NULL);
	} else if (strcmp(cmd, "patch") == 0 && argc == 4) {
		call = kube_patch(kt.client, res, argv[1], argv[2], argv[3], call_done, NULL);
	} else if (strcmp(cmd, "patch-status") == 0 && argc == 4) {
		call =
		    kube_patch_status(kt.client, res, argv[1], argv[2], argv[3], call_done, NULL);
	} else if (strcmp(cmd, "update") == 0 && argc == 4) {
		rq.verb = KUBE_UPDATE;
		rq.name = argv[2];
		rq.body = argv[3];
		call = kube_request(kt.client, &rq, call_done, NULL);
	} else if (strcmp(cmd, "delete") == 0) {
		enum kube_propagation p = KUBE_PROPAGATE_BACKGROUND;
		for (int i = 0; argc > 3 && i < 3; i++)
			if (strcmp(argv[3], props[i]) == 0)
				p = (enum kube_propagation)i;
		call = kube_delete(kt.client, res, argv[1], argv[2], p, call_done, NULL);
	} else {
		return -1;
	}
	if (call == NULL) {
		printf("{\"err\":\"rejected\"}\n");
		kt.status = 2;
		return 1;
	}
	return 0;
}

/* -- raw HTTPS ------------------------------------------------------------------------------ */

static struct https_client *https_c;

static int
https_head(struct https_request *r, int status, struct evkeyvalq *headers, void *arg)
{
	(void)r;
	(void)headers;
	(void)arg;
	kt_say("HEAD %d", status);
	return 0;
}

static int
https_data(struct https_request *r, struct evbuffer *data, void *arg)
{
	(void)r;
	(void)arg;
	kt_say("DATA %zu", evbuffer_get_length(data));
	evbuffer_drain(data, evbuffer_get_length(data));
	return 0;
}

static void
https_done(struct https_request *r, const struct https_response *resp, void *arg)
{
	size_t n = resp->body ? evbuffer_get_length(resp->body) : 0;

	(void)r;
	(void)arg;
	if (resp->err != HTTPS_ERR_OK) {
		kt_say("ERROR %s: %s", https_err_name(resp->err), resp->errmsg);
		kt_stop(1);
		return;
	}
	kt_say("STATUS %d", resp->status);
	if (n > 0) {
		fwrite(evbuffer_pullup(resp->body, -1), 1, n, stdout);
		printf("\n");
	}
	fflush(stdout);
	kt_stop(0);
}

static char *
slurp(const char *path)
{
	char err[256];
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0 || (buf = calloc(1, (size_t)n + 1)) == NULL) {
		snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
		fprintf(stderr, "ktool: %s\n", err);
		if (f)
			fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static int
cmd_https(int argc, char **argv)
{
	static const struct option lo[] = {{"ca", 1, 0, 'a'},     {"cert", 1, 0, 'c'},
	                                   {"key", 1, 0, 'k'},    {"server-name", 1, 0, 'n'},
	                                   {"method", 1, 0, 'm'}, {"body", 1, 0, 'b'},
	                                   {"stream", 0, 0, 's'}, {0, 0, 0, 0}};
	struct https_tls tls = {0};
	struct https_client_opts o = {0};
	char *ca = NULL, *cert = NULL, *key = NULL, *body = NULL, err[512], *path;
	const char *method = "GET";
	int stream = 0, ch, rc = -1;
	SSL_CTX *ctx = NULL;
	struct https_request *r;
	enum https_method m = HTTPS_GET;

	optind = 0; /* GNU getopt: start over completely */
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'a':
			ca = slurp(optarg);
			break;
		case 'c':
			cert = slurp(optarg);
			break;
		case 'k':
			key = slurp(optarg);
			break;
		case 'n':
			o.server_name = optarg;
			break;
		case 'm':
			method = optarg;
			break;
		case 'b':
			body = optarg;
			break;
		case 's':
			stream = 1;
			break;
		default:
			goto out;
		}
	}
	if (optind + 1 != argc)
		goto out;
	/* The URL's path goes to the request; the client gets scheme://authority. */
	char *url = strdup(argv[optind]);
	char *p = strstr(url, "://");
	path = p ? strchr(p + 3, '/') : NULL;
	char *rpath = strdup(path ? path : "/");
	if (path)
		*path = '\0';
	tls.ca_pem = ca;
	tls.cert_pem = cert;
	tls.key_pem = key;
	if (strncmp(url, "https", 5) == 0 &&
	    (ctx = https_ctx_new(&tls, err, sizeof(err))) == NULL) {
		kt_say("ERROR context: %s", err);
		kt.status = 1;
		rc = 1;
		free(url);
		free(rpath);
		goto out;
	}
	o.url = url;
	o.ssl_ctx = ctx;
	https_c = https_client_new(kt.base, &o, err, sizeof(err));
	SSL_CTX_free(ctx);
	free(url);
	if (https_c == NULL) {
		kt_say("ERROR client: %s", err);
		kt.status = 1;
		free(rpath);
		rc = 1;
		goto out;
	}
	if (strcmp(method, "POST") == 0)
		m = HTTPS_POST;
	else if (strcmp(method, "PUT") == 0)
		m = HTTPS_PUT;
	else if (strcmp(method, "PATCH") == 0)
		m = HTTPS_PATCH;
	else if (strcmp(method, "DELETE") == 0)
		m = HTTPS_DELETE;
	r = https_request_new(https_c, m, rpath);
	free(rpath);
	if (body)
		https_request_body(r, "application/json", body, strlen(body));
	https_request_timeouts(r, kt.timeout_ms ? kt.timeout_ms : 10000, 0);
	if (stream)
		https_request_stream(r, https_head, https_data);
	https_request_send(r, https_done, NULL);
	rc = 0;
out:
	free(ca);
	free(cert);
	free(key);
	return rc;
}

/* -- main ----------------------------------------------------------------------------------- */

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	if (sig == SIGUSR1) {
		kt_dump();
		return;
	}
	kt_shutdown();
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {{"kubeconfig", 1, 0, 'k'},
	                                   {"context", 1, 0, 'c'},
	                                   {"allow-insecure", 0, 0, 'i'},
	                                   {"timeout", 1, 0, 't'},
	                                   {"qps", 1, 0, 'q'},
	                                   {"burst", 1, 0, 'b'},
	                                   {"log-level", 1, 0, 'l'},
	                                   {"dump", 1, 0, 'd'},
	                                   {"help", 0, 0, 'h'},
	                                   {0, 0, 0, 0}};
	const char *kubeconfig = NULL, *context = NULL;
	int allow_insecure = 0, ch, rc;
	struct kube_client_opts co = {0};
	struct kube_config *cfg;
	char err[512];
	struct event *sigs[3];

	kt.t0 = kube_now();
	log_setup(2, LOG_INFO, LOG_FMT_LOGFMT);
	{
		/* Lets scripts turn the relative times of the lines into wall-clock time. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("0.0 START %.6f\n", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	}
	while ((ch = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (ch) {
		case 'k':
			kubeconfig = optarg;
			break;
		case 'c':
			context = optarg;
			break;
		case 'i':
			allow_insecure = 1;
			break;
		case 't':
			kt.timeout_ms = atoi(optarg);
			break;
		case 'q':
			co.qps = atof(optarg);
			break;
		case 'b':
			co.burst = atoi(optarg);
			break;
		case 'l':
			for (int i = 0; log_level_names[i]; i++)
				if (strcmp(optarg, log_level_names[i]) == 0)
					log_set_level((enum log_level)i);
			break;
		case 'd':
			kt.dump_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	kt.base = event_base_new();
	kt.metrics = metrics_new();
	kt.lag = looplag_start(kt.base, kt.metrics, "ktool", 20);
	sigs[0] = evsignal_new(kt.base, SIGTERM, on_signal, NULL);
	sigs[1] = evsignal_new(kt.base, SIGINT, on_signal, NULL);
	sigs[2] = evsignal_new(kt.base, SIGUSR1, on_signal, NULL);
	for (int i = 0; i < 3; i++)
		evsignal_add(sigs[i], NULL);
	if (strcmp(argv[0], "https") == 0) {
		rc = cmd_https(argc, argv);
		goto run;
	}
	cfg = kubeconfig
	          ? kube_config_from_file(kubeconfig, context, allow_insecure, err, sizeof(err))
	          : kube_config_in_cluster(NULL, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "ktool: %s\n", err);
		kt.status = 1;
		goto out;
	}
	co.config = cfg;
	co.metrics = kt.metrics;
	co.metrics_prefix = "ktool";
	co.timeout_ms = kt.timeout_ms;
	kt.client = kube_client_new(kt.base, &co, err, sizeof(err));
	kube_config_free(cfg);
	if (kt.client == NULL) {
		fprintf(stderr, "ktool: %s\n", err);
		kt.status = 1;
		goto out;
	}
	if (strcmp(argv[0], "watch") == 0)
		rc = kt_watch(argc, argv);
	else if (strcmp(argv[0], "elect") == 0)
		rc = kt_elect(argc, argv);
	else if (strcmp(argv[0], "event") == 0)
		rc = kt_event(argc - 1, argv + 1);
	else
		rc = cmd_call(argv[0], argc - 1, argv + 1);
run:
	if (rc < 0) {
		usage(stderr);
		kt.status = 2;
	} else if (rc == 0) {
		event_base_dispatch(kt.base);
	}
out:
	kt_dump_metrics();
	kt_cleanup();
	kube_client_free(kt.client);
	https_client_free(https_c);
	for (int i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	looplag_free(kt.lag);
	metrics_free(kt.metrics);
	event_base_free(kt.base);
	return kt.status;
}
