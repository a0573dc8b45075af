/* Tests for src/kube/correlate.c: Event deduplication, combining and the spam filter. */
#include "config.h"

#include "kube/internal.h"
#include "tap.h"

#define TS "2025-01-01T00:00:00Z"

static const struct kube_ev_decision *
ev(struct kube_correlator *k, double now, const char *obj, const char *reason, const char *msg)
{
	return kube_correlate(k, now, obj, "db1", "Normal", reason, msg, TS);
}

static void
test_repeats(void)
{
	struct kube_correlator *k = kube_correlator_new(100, 1, 1);
	const struct kube_ev_decision *d;
	char first[300];

	d = ev(k, 0, "o1", "StateChange", "Active");
	is_int(d->action, KUBE_EV_CREATE, "a new event is created");
	is_int(d->count, 1, "with count 1");
	ok(strncmp(d->name, "db1.", 4) == 0, "named after the object: %s", d->name);
	snprintf(first, sizeof(first), "%s", d->name);
	d = ev(k, 10, "o1", "StateChange", "Active");
	is_int(d->action, KUBE_EV_UPDATE, "the same event again is an update");
	is_str(d->name, first, "of the same Event");
	is_int(d->count, 2, "with count 2");
	is_str(d->first_ts, TS, "keeping its first timestamp");
	d = ev(k, 11, "o1", "StateChange", "Standby");
	is_int(d->action, KUBE_EV_CREATE, "another message is another Event");
	ok(strcmp(d->name, first) != 0, "with another name");
	d = ev(k, 12, "o2", "StateChange", "Active");
	is_int(d->action, KUBE_EV_CREATE, "the same message about another object too");
	d = ev(k, 10 + KUBE_EV_WINDOW_S + 1, "o1", "StateChange", "Active");
	is_int(d->action, KUBE_EV_CREATE, "a repeat after the window starts over");
	snprintf(first, sizeof(first), "%s", d->name);
	kube_correlator_forget(k, first);
	d = ev(k, 10 + KUBE_EV_WINDOW_S + 2, "o1", "StateChange", "Active");
	is_int(d->action, KUBE_EV_CREATE, "an Event the server lost is made again");
	kube_correlator_free(k);
}

static void
test_combining(void)
{
	struct kube_correlator *k = kube_correlator_new(100, 1, 1);
	const struct kube_ev_decision *d = NULL;
	char msg[32], name[300] = "";
	int creates = 0;

	for (int i = 0; i < KUBE_EV_SIMILAR_MAX - 1; i++) {
		snprintf(msg, sizeof(msg), "message %d", i);
		d = ev(k, i, "o1", "Probe", msg);
		creates += d->action == KUBE_EV_CREATE;
	}
	is_int(creates, KUBE_EV_SIMILAR_MAX - 1, "nine different messages: nine Events");
	d = ev(k, 20, "o1", "Probe", "message 9");
	is_int(d->action, KUBE_EV_CREATE, "the tenth makes the combined Event");
	like(d->message, "(combined from similar events): message 9", "with the combined message");
	snprintf(name, sizeof(name), "%s", d->name);
	d = ev(k, 21, "o1", "Probe", "message 10");
	is_int(d->action, KUBE_EV_UPDATE, "further ones update it");
	is_str(d->name, name, "the same Event");
	is_int(d->count, 2, "counting");
	like(d->message, "message 10", "carrying the latest message");
	d = ev(k, 22, "o1", "Other", "message 0");
	is_int(d->action, KUBE_EV_CREATE, "another reason is not combined");
	kube_correlator_free(k);

	/* Without combining, every distinct message stays its own Event. */
	k = kube_correlator_new(100, 1, 0);
	creates = 0;
	for (int i = 0; i < 3 * KUBE_EV_SIMILAR_MAX; i++) {
		snprintf(msg, sizeof(msg), "message %d", i);
		d = ev(k, i, "o1", "Probe", msg);
		creates += d->action == KUBE_EV_CREATE && strstr(d->message, "combined") == NULL;
	}
	is_int(creates, 3 * KUBE_EV_SIMILAR_MAX, "without combining: an Event per distinct message");
	kube_correlator_free(k);
}

static void
test_spam_filter(void)
{
	struct kube_correlator *k = kube_correlator_new(25, 300, 1);
	int created = 0, dropped = 0;
	char msg[32];

	for (int i = 0; i < 30; i++) {
		snprintf(msg, sizeof(msg), "m%d", i % 3);
		const struct kube_ev_decision *d = ev(k, 1, "o1", "R", msg);
		if (d->action == KUBE_EV_DROP)
			dropped++;
		else
			created++;
	}
	is_int(created, 25, "a burst of 25 Events per object passes");
	is_int(dropped, 5, "the rest are dropped");
	is_int(ev(k, 1, "o2", "R", "m")->action, KUBE_EV_CREATE, "other objects are not affected");
	is_int(ev(k, 200, "o1", "R", "m0")->action, KUBE_EV_DROP, "no token before the refill");
	ok(ev(k, 302, "o1", "R", "m0")->action != KUBE_EV_DROP, "one more after 300 s");
	kube_correlator_free(k);
}

int
main(void)
{
	test_repeats();
	test_combining();
	test_spam_filter();
	return done_testing();
}
