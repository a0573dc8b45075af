/*
 * The operator's HTTP endpoints: /metrics for Prometheus, /healthz (the loop answers)
 * and /readyz (set up, not stopping, connected to Kubernetes and, when leading, its caches
 * complete).
 */
#include "config.h"

#include <event2/buffer.h>

#include "controller.h"
#include "operator.h"
#include "ttc/httpd.h"
#include "ttc/metrics.h"

static void
serve_metrics(evhtp_request_t *req, void *arg)
{
	struct ttc_operator *op = arg;
	struct evbuffer *out = evbuffer_new();

	if (out == NULL || metrics_write(op->metrics, out) < 0) {
		httpd_error(req, 500, "cannot write metrics");
	} else {
		httpd_reply_buffer(req, 200, METRICS_CONTENT_TYPE, out);
	}
	if (out != NULL)
		evbuffer_free(out);
}

static void
serve_healthz(evhtp_request_t *req, void *arg)
{
	(void)arg;
	httpd_reply(req, 200, "text/plain; charset=utf-8", "ok\n");
}

static void
serve_readyz(evhtp_request_t *req, void *arg)
{
	struct ttc_operator *op = arg;

	/* Ready: connected to Kubernetes and, when leading, with complete caches. */
	if (op->ready && op->kube != NULL &&
	    (op->controller == NULL || controller_synced(op->controller)))
		httpd_reply(req, 200, "text/plain; charset=utf-8", "ok\n");
	else
		httpd_reply(req, 503, "text/plain; charset=utf-8", "not ready\n");
}

int
endpoints_register(struct ttc_operator *op)
{
	if (httpd_route(op->httpd, "/metrics", HTTPD_GET, serve_metrics, op) < 0 ||
	    httpd_route(op->httpd, "/healthz", HTTPD_GET, serve_healthz, op) < 0 ||
	    httpd_route(op->httpd, "/readyz", HTTPD_GET, serve_readyz, op) < 0)
		return -1;
	return 0;
}
