/* Tests for src/kube/backoff.c: backoff with jitter, the token bucket, time formats. */
#include "config.h"

#include "kube/internal.h"
#include "tap.h"

static void
test_backoff(void)
{
	struct kube_backoff b;
	int d, prev_base = 0, in_range = 1, capped = 1;

	kube_backoff_init(&b, 100, 3000, 42);
	for (int i = 0; i < 12; i++) {
		d = kube_backoff_next(&b);
		if (d > b.base_ms || d < b.base_ms / 2)
			in_range = 0;
		if (b.base_ms > 3000)
			capped = 0;
		if (i > 0 && i < 5 && b.base_ms != prev_base * 2)
			diag("base %d after %d", b.base_ms, prev_base);
		prev_base = b.base_ms;
	}
	ok(in_range, "delays stay within [base/2, base]");
	ok(capped, "the base never passes the maximum");
	is_int(b.base_ms, 3000, "and reaches it");
	kube_backoff_reset(&b);
	d = kube_backoff_next(&b);
	ok(d >= 50 && d <= 100, "after a reset the first delay is the initial one (%d)", d);

	struct kube_backoff a, c;
	int differ = 0;
	kube_backoff_init(&a, 1000, 60000, 1);
	kube_backoff_init(&c, 1000, 60000, 2);
	for (int i = 0; i < 5; i++)
		differ |= kube_backoff_next(&a) != kube_backoff_next(&c);
	ok(differ, "two clients with different seeds spread their retries");

	unsigned st = 7;
	int bad = 0;
	for (int i = 0; i < 10000; i++) {
		double r = kube_rand01(&st);
		bad |= r < 0 || r >= 1;
	}
	ok(!bad, "random numbers stay in [0, 1)");
}

static void
test_ratelimit(void)
{
	struct kube_ratelimit rl;
	int granted = 0;
	double w;

	kube_ratelimit_init(&rl, 10, 5, 100.0);
	while (kube_ratelimit_take(&rl, 100.0) == 0 && granted < 100)
		granted++;
	is_int(granted, 5, "a full bucket grants the burst at once");
	w = kube_ratelimit_take(&rl, 100.0);
	ok(w > 0.09 && w <= 0.1, "then the next token is 1/qps away (%.3f s)", w);
	ok(kube_ratelimit_take(&rl, 100.05) > 0, "not yet half-way");
	is_int(kube_ratelimit_take(&rl, 100.1) == 0, 1, "granted once it is due");
	granted = 0;
	while (kube_ratelimit_take(&rl, 1000.0) == 0 && granted < 100)
		granted++;
	is_int(granted, 5, "a long pause refills no more than the burst");
}

static void
test_time(void)
{
	char a[32], b[40];

	kube_time_rfc3339(a);
	kube_time_micro(b);
	is_int(strlen(a), 20, "RFC 3339 seconds: %s", a);
	ok(a[19] == 'Z' && a[10] == 'T', "in UTC");
	is_int(strlen(b), 27, "MicroTime: %s", b);
	ok(b[19] == '.' && b[26] == 'Z', "with six fractional digits");
	ok(kube_now() > 0, "a monotonic clock");
}

int
main(void)
{
	test_backoff();
	test_ratelimit();
	test_time();
	return done_testing();
}
