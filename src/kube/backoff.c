/*
 * Pacing without I/O: exponential backoff with jitter for retries and re-watches, a token
 * bucket for the client-side request rate, and the clocks and time formats the API uses.
 */
#include "config.h"

#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "internal.h"

double
kube_rand01(unsigned *state)
{
	/* xorshift32: enough to spread retries; not for secrets. */
	unsigned x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return (double)(x >> 8) / (double)(1u << 24);
}

void
kube_backoff_init(struct kube_backoff *b, int initial_ms, int max_ms, unsigned seed)
{
	b->initial_ms = initial_ms > 0 ? initial_ms : 1;
	b->max_ms = max_ms >= b->initial_ms ? max_ms : b->initial_ms;
	b->factor = 2.0;
	b->jitter = 0.5;
	b->base_ms = 0;
	b->rng = seed ? seed : 1;
}

int
kube_backoff_next(struct kube_backoff *b)
{
	double d;

	if (b->base_ms == 0) {
		b->base_ms = b->initial_ms;
	} else {
		d = b->base_ms * b->factor;
		b->base_ms = d > b->max_ms ? b->max_ms : (int)d;
	}
	/* Jitter spreads the retries of many clients that failed together. */
	d = b->base_ms * (1.0 - b->jitter * kube_rand01(&b->rng));
	return d < 1 ? 1 : (int)d;
}

void
kube_backoff_reset(struct kube_backoff *b)
{
	b->base_ms = 0;
}

void
kube_ratelimit_init(struct kube_ratelimit *rl, double qps, double burst, double now)
{
	rl->qps = qps > 0 ? qps : 1e9;
	rl->burst = burst >= 1 ? burst : 1;
	rl->tokens = rl->burst;
	rl->last = now;
}

double
kube_ratelimit_take(struct kube_ratelimit *rl, double now)
{
	if (now > rl->last) {
		rl->tokens += (now - rl->last) * rl->qps;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last = now;
	}
	if (rl->tokens >= 1 - 1e-9) { /* no token lost to rounding */
		rl->tokens -= 1;
		return 0;
	}
	return (1 - rl->tokens) / rl->qps;
}

double
kube_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
kube_time_rfc3339(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
kube_time_micro(char buf[40])
{
	struct timeval tv;
	struct tm tm;
	char s[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, 40, "%s.%06ldZ", s, (long)tv.tv_usec);
}
