/*
 * The agent's HTTP API (documented in API.md): its routes, JSON error replies with a
 * code, a reason and a message, and the checks every request body goes through.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "agent.h"
#include "ttc/httpd.h"
#include "ttc/json.h"

#define API_JSON "application/json"

static const char *
reason_of(int code)
{
	switch (code) {
	case 400:
		return "BadRequest";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 409:
		return "Conflict";
	case 412:
		return "PreconditionFailed";
	case 413:
		return "RequestEntityTooLarge";
	case 500:
		return "InternalError";
	case 503:
		return "ServiceUnavailable";
	case 504:
		return "Timeout";
	default:
		return "Error";
	}
}

void
api_reply_json(evhtp_request_t *req, int code, char *json, size_t len)
{
	evbuffer_add(req->buffer_out, json, len);
	evbuffer_add(req->buffer_out, "\n", 1);
	free(json);
	httpd_reply_buffer(req, code, API_JSON, NULL);
}

void
api_error(evhtp_request_t *req, int code, const char *reason, const char *message)
{
	struct jw w;
	size_t len;
	char *json;

	if (jw_init(&w) == 0) {
		jw_obj(&w);
		jw_kint(&w, "code", code);
		jw_kstr(&w, "reason", reason ? reason : reason_of(code));
		jw_kstr(&w, "message", message);
		jw_obj_end(&w);
		if ((json = jw_finish(&w, &len)) != NULL) {
			api_reply_json(req, code, json, len);
			return;
		}
	}
	httpd_reply(req, code, API_JSON, "{\"code\":500,\"reason\":\"InternalError\"}\n");
}

/* The error replies of the HTTP glue (404, 405, ...) in the same JSON shape. */
static void
json_error_fn(evhtp_request_t *req, int code, const char *reason)
{
	api_error(req, code, NULL, reason);
}

yajl_val
api_parse_body(const char *text, size_t n, int *code, char *msg, size_t msglen)
{
	char err[256];
	size_t i = 0;
	yajl_val v;

	if (n > AGENT_MAX_BODY) {
		*code = 413;
		snprintf(msg, msglen, "the request body is larger than %d bytes", AGENT_MAX_BODY);
		return NULL;
	}
	while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i == n)
		text = "{}", n = 2, i = 0;
	if ((v = json_parse(text + i, n - i, err, sizeof(err))) == NULL) {
		*code = 400;
		snprintf(msg, msglen, "the request body is not valid JSON: %s", err);
		return NULL;
	}
	if (!YAJL_IS_OBJECT(v)) {
		json_free(v);
		*code = 400;
		snprintf(msg, msglen, "the request body must be a JSON object");
		return NULL;
	}
	return v;
}

yajl_val
api_body(evhtp_request_t *req)
{
	size_t n = evbuffer_get_length(req->buffer_in);
	const char *text =
	    n > AGENT_MAX_BODY ? "" : (const char *)evbuffer_pullup(req->buffer_in, -1);
	char msg[320];
	int code;
	yajl_val v = api_parse_body(text, n, &code, msg, sizeof(msg));

	if (v == NULL)
		api_error(req, code, NULL, msg);
	return v;
}

/* The last path segment after prefix, when it is one plain segment; else NULL. */
static const char *
segment(evhtp_request_t *req, const char *prefix)
{
	const char *path = req->uri && req->uri->path ? req->uri->path->full : "";
	size_t pl = strlen(prefix);

	if (strncmp(path, prefix, pl) != 0 || path[pl] == '\0' || strchr(path + pl, '/'))
		return NULL;
	return path + pl;
}

/* Whether the agent is stopping TimesTen (SIGTERM): then it takes no orders and runs no
 * probes, answering 503 instead. */
static int
refused_while_stopping(evhtp_request_t *req, const struct agent *a)
{
	if (!a->stopping)
		return 0;
	api_error(req, 503, "ShuttingDown", "the agent is stopping TimesTen: its pod is going");
	return 1;
}

static void
on_state(evhtp_request_t *req, void *arg)
{
	if (!refused_while_stopping(req, arg))
		state_get(arg, req);
}

static void
on_ops_list(evhtp_request_t *req, void *arg)
{
	ops_list(arg, req);
}

static void
on_op(evhtp_request_t *req, void *arg)
{
	const char *name = segment(req, "/v1/ops/");

	if (name == NULL) {
		api_error(req, 404, NULL, "not found");
		return;
	}
	if (!refused_while_stopping(req, arg))
		ops_post(arg, req, name);
}

static void
on_lease(evhtp_request_t *req, void *arg)
{
	if (!refused_while_stopping(req, arg))
		lease_post(arg, req);
}

static void
on_async(evhtp_request_t *req, void *arg)
{
	const char *id = segment(req, "/v1/async/");

	if (id == NULL) {
		api_error(req, 404, NULL, "not found");
		return;
	}
	ops_async_get(arg, req, id);
}

int
api_init(struct agent *a)
{
	evhtp_t *htp = httpd_evhtp(a->httpd);

	httpd_set_error_fn(a->httpd, json_error_fn);
	/* Bodies up to the limit are read whole; a larger one is refused with 413 by the
	 * handler (evhtp itself drops the connection only far beyond it). */
	evhtp_set_max_body_size(htp, AGENT_MAX_BODY * 16);
	if (httpd_route(a->httpd, "/v1/state", HTTPD_GET, on_state, a) < 0 ||
	    httpd_route(a->httpd, "/v1/ops", HTTPD_GET, on_ops_list, a) < 0 ||
	    httpd_route(a->httpd, "/v1/ops/*", HTTPD_POST, on_op, a) < 0 ||
	    httpd_route(a->httpd, "/v1/async/*", HTTPD_GET, on_async, a) < 0 ||
	    httpd_route(a->httpd, "/v1/lease", HTTPD_POST, on_lease, a) < 0)
		return -1;
	return 0;
}
