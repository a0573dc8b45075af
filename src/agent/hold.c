/*
 * Requests answered later: paused while a probe or an operation runs, and forgotten
 * safely when the client closes its connection before the answer is ready.
 */
#include "config.h"

#include <stdlib.h>

#include "agent.h"

static evhtp_res
hold_fini(evhtp_request_t *req, void *arg)
{
	struct hold *h = arg;

	(void)req;
	h->gone(h->arg, h);
	free(h);
	return EVHTP_RES_OK;
}

struct hold *
hold_request(evhtp_request_t *req, void (*gone)(void *arg, struct hold *h), void *arg)
{
	struct hold *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->req = req;
	h->gone = gone;
	h->arg = arg;
	evhtp_request_set_hook(req, evhtp_hook_on_request_fini, (evhtp_hook)hold_fini, h);
	evhtp_request_pause(req);
	return h;
}

evhtp_request_t *
hold_release(struct hold *h)
{
	evhtp_request_t *req = h->req;

	evhtp_request_unset_hook(req, evhtp_hook_on_request_fini);
	free(h);
	evhtp_request_resume(req);
	return req;
}
