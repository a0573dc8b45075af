/*
 * The Event recorder: turns the correlator's decisions into API writes (POST a new Event,
 * merge-patch count, lastTimestamp and message of a repeated one), one write at a time per
 * Event so repeats that arrive meanwhile are folded into the next patch.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "internal.h"
#include "ttc/json.h"
#include "ttc/log.h"
#include "ttc/metrics.h"

/* A write to one Event object, in flight, with what to send after it. */
struct ev_write {
	LIST_ENTRY(ev_write) link;
	struct kube_recorder *rec;
	struct kube_call *call;
	char *name, *ns;
	int creating;
	/* The latest state to send, and whether it is newer than what is in flight. */
	long long count;
	char last_ts[32];
	char *message;
	char *create_body;
	int dirty;
};

struct kube_recorder {
	struct kube_part part;
	struct kube_client *c;
	char *component, *host;
	struct kube_correlator *k;
	LIST_HEAD(, ev_write) writes;
};

static void write_free(struct ev_write *w);
static void write_send(struct ev_write *w);

static void
count(struct kube_recorder *r, const char *result)
{
	metric_add(metric_series(kube_client_m(r->c)->events, result, NULL), 1);
}

static void
rec_destroy(void *self)
{
	struct kube_recorder *r = self;
	struct ev_write *w;

	while ((w = LIST_FIRST(&r->writes)) != NULL)
		write_free(w);
	kube_correlator_free(r->k);
	free(r->component);
	free(r->host);
	free(r);
}

struct kube_recorder *
kube_recorder_new(struct kube_client *c, const struct kube_recorder_opts *o)
{
	struct kube_recorder *r;

	if (o->component == NULL || *o->component == '\0') {
		log_error("kube", "event recorder: a source component is required", NULL);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->c = c;
	LIST_INIT(&r->writes);
	r->component = strdup(o->component);
	r->host = o->host ? strdup(o->host) : NULL;
	r->k = kube_correlator_new(o->burst, o->refill_s, !o->no_combine);
	if (r->component == NULL || (o->host && r->host == NULL) || r->k == NULL) {
		rec_destroy(r);
		return NULL;
	}
	r->part.free = rec_destroy;
	r->part.self = r;
	kube_client_attach(c, &r->part);
	return r;
}

void
kube_recorder_free(struct kube_recorder *r)
{
	if (r == NULL)
		return;
	kube_client_detach(r->c, &r->part);
	rec_destroy(r);
}

size_t
kube_recorder_pending(const struct kube_recorder *r)
{
	const struct ev_write *w;
	size_t n = 0;

	LIST_FOREACH(w, &r->writes, link)
	n++;
	return n;
}

static void
write_free(struct ev_write *w)
{
	LIST_REMOVE(w, link);
	kube_call_cancel(w->call);
	free(w->name);
	free(w->ns);
	free(w->message);
	free(w->create_body);
	free(w);
}

static struct ev_write *
write_find(struct kube_recorder *r, const char *name)
{
	struct ev_write *w;

	LIST_FOREACH(w, &r->writes, link)
	if (strcmp(w->name, name) == 0)
		return w;
	return NULL;
}

static void
write_done(struct kube_result *res, void *arg)
{
	struct ev_write *w = arg;
	struct kube_recorder *r = w->rec;

	w->call = NULL;
	if (res->err == KUBE_ERR_OK) {
		count(r, w->creating ? "created" : "aggregated");
		w->creating = 0; /* repeats from now on are patches */
	} else if (!w->creating && res->err == KUBE_ERR_NOT_FOUND && w->create_body != NULL) {
		/* The Event expired on the server: make it again with the current count. */
		w->creating = 1;
		w->dirty = 1;
	} else {
		count(r, "failed");
		log_warn("kube", "cannot record an Event", "event", w->name, "namespace", w->ns,
		         "error", kube_err_name(res->err), "message", res->message, NULL);
		if (w->creating)
			kube_correlator_forget(r->k, w->name);
	}
	if (w->dirty) {
		write_send(w);
		return;
	}
	write_free(w);
}

static char *
patch_body(struct ev_write *w)
{
	struct jw j;

	if (jw_init(&j) < 0)
		return NULL;
	jw_obj(&j);
	jw_kint(&j, "count", w->count);
	jw_kstr(&j, "lastTimestamp", w->last_ts);
	jw_kstr(&j, "message", w->message);
	jw_obj_end(&j);
	return jw_finish(&j, NULL);
}

/* A create body with the current count and times (after a 404 the count goes on). */
static char *
create_body(struct ev_write *w)
{
	char err[64];
	yajl_val v = json_parse(w->create_body, strlen(w->create_body), err, sizeof(err));
	struct jw j;
	char *out;

	if (v == NULL || jw_init(&j) < 0) {
		json_free(v);
		return NULL;
	}
	jw_obj(&j);
	for (size_t i = 0; i < json_nkeys(v); i++) {
		const char *key = json_key_at(v, i);
		if (strcmp(key, "count") == 0 || strcmp(key, "lastTimestamp") == 0 ||
		    strcmp(key, "message") == 0)
			continue;
		jw_key(&j, key);
		jw_val(&j, json_value_at(v, i));
	}
	jw_kint(&j, "count", w->count);
	jw_kstr(&j, "lastTimestamp", w->last_ts);
	jw_kstr(&j, "message", w->message);
	jw_obj_end(&j);
	out = jw_finish(&j, NULL);
	json_free(v);
	return out;
}

static void
write_send(struct ev_write *w)
{
	char *body = w->creating ? create_body(w) : patch_body(w);

	w->dirty = 0;
	if (body == NULL) {
		count(w->rec, "failed");
		write_free(w);
		return;
	}
	if (w->creating)
		w->call = kube_create(w->rec->c, &kube_res_events, w->ns, body, write_done, w);
	else
		w->call =
		    kube_patch(w->rec->c, &kube_res_events, w->ns, w->name, body, write_done, w);
	free(body);
	if (w->call == NULL) {
		count(w->rec, "failed");
		write_free(w);
	}
}

static char *
event_json(struct kube_recorder *r, yajl_val obj, const char *name, const char *ns,
           const char *type, const char *reason, const char *message, const char *ts)
{
	struct jw j;
	static const char *const ref_keys[] = {"name", "namespace", "uid", "resourceVersion"};

	if (jw_init(&j) < 0)
		return NULL;
	jw_obj(&j);
	jw_kstr(&j, "apiVersion", "v1");
	jw_kstr(&j, "kind", "Event");
	jw_key(&j, "metadata");
	jw_obj(&j);
	jw_kstr(&j, "name", name);
	jw_kstr(&j, "namespace", ns);
	jw_obj_end(&j);
	jw_key(&j, "involvedObject");
	jw_obj(&j);
	jw_kstr(&j, "apiVersion", json_str(obj, "apiVersion", NULL));
	jw_kstr(&j, "kind", json_str(obj, "kind", NULL));
	for (size_t i = 0; i < sizeof(ref_keys) / sizeof(ref_keys[0]); i++) {
		const char *v = json_str(obj, "metadata", ref_keys[i], NULL);
		if (v != NULL)
			jw_kstr(&j, ref_keys[i], v);
	}
	jw_obj_end(&j);
	jw_kstr(&j, "type", type);
	jw_kstr(&j, "reason", reason);
	jw_kstr(&j, "message", message);
	jw_key(&j, "source");
	jw_obj(&j);
	jw_kstr(&j, "component", r->component);
	if (r->host != NULL)
		jw_kstr(&j, "host", r->host);
	jw_obj_end(&j);
	jw_kstr(&j, "firstTimestamp", ts);
	jw_kstr(&j, "lastTimestamp", ts);
	jw_kint(&j, "count", 1);
	jw_kstr(&j, "reportingComponent", r->component);
	jw_kstr(&j, "reportingInstance", r->host ? r->host : "");
	jw_obj_end(&j);
	return jw_finish(&j, NULL);
}

void
kube_event(struct kube_recorder *r, yajl_val obj, const char *type, const char *reason,
           const char *fmt, ...)
{
	const char *kind = json_str(obj, "kind", NULL), *name = kube_obj_name(obj);
	const char *ns = kube_obj_namespace(obj), *uid = json_str(obj, "metadata", "uid", NULL);
	const struct kube_ev_decision *d;
	struct ev_write *w;
	char objkey[800], ts[32];
	char *message = NULL;
	va_list ap;

	if (r == NULL || kind == NULL || name == NULL ||
	    json_str(obj, "apiVersion", NULL) == NULL || type == NULL || reason == NULL ||
	    *reason == '\0') {
		log_error("kube",
		          "Event not recorded: the object lacks kind, apiVersion or name, "
		          "or no type or reason was given",
		          "reason", reason, NULL);
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	if (message == NULL)
		return;
	/* Cluster-scoped objects' Events go to "default", as client-go files them. */
	if (ns == NULL || *ns == '\0')
		ns = "default";
	snprintf(objkey, sizeof(objkey), "%s\x1f%s\x1f%s\x1f%s", kind, ns, name, uid ? uid : "");
	kube_time_rfc3339(ts);
	d = kube_correlate(r->k, kube_now(), objkey, name, type, reason, message, ts);
	log_debug("kube", "event", "object", name, "type", type, "reason", reason, "message",
	          message, NULL);
	if (d->action == KUBE_EV_DROP) {
		count(r, "dropped");
		free(message);
		return;
	}
	if ((w = write_find(r, d->name)) != NULL) {
		/* A write to this Event is under way: the next patch carries the latest. */
		w->count = d->count;
		snprintf(w->last_ts, sizeof(w->last_ts), "%s", ts);
		free(w->message);
		w->message = strdup(d->message);
		w->dirty = 1;
		free(message);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto fail;
	w->rec = r;
	LIST_INSERT_HEAD(&r->writes, w, link);
	w->name = strdup(d->name);
	w->ns = strdup(ns);
	w->message = strdup(d->message);
	w->count = d->count;
	snprintf(w->last_ts, sizeof(w->last_ts), "%s", ts);
	w->create_body = event_json(r, obj, d->name, ns, type, reason, d->message, d->first_ts);
	if (w->name == NULL || w->ns == NULL || w->message == NULL || w->create_body == NULL)
		goto fail;
	w->creating = d->action == KUBE_EV_CREATE;
	free(message);
	write_send(w);
	return;
fail:
	if (w != NULL)
		write_free(w);
	count(r, "failed");
	free(message);
}
