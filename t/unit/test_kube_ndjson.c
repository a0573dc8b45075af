/* Tests for src/kube/ndjson.c: watch stream framing across chunks, and the line cap. */
#include "config.h"

#include <event2/buffer.h>

#include "kube/internal.h"
#include "tap.h"

struct seen {
	char lines[16][64];
	int n;
	int toolong;
	size_t toolong_len;
	int stop_after;
};

static int
on_line(char *text, size_t len, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16)
		snprintf(s->lines[s->n], sizeof(s->lines[0]), "%.*s", (int)len, text);
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? -1 : 0;
}

static void
on_toolong(size_t len, void *arg)
{
	struct seen *s = arg;

	s->toolong++;
	s->toolong_len = len;
}

static void
feed(struct kube_ndjson *f, const char *text, struct seen *s)
{
	struct evbuffer *in = evbuffer_new();

	evbuffer_add(in, text, strlen(text));
	kube_ndjson_feed(f, in, on_line, on_toolong, s);
	is_int(evbuffer_get_length(in), 0, "the input is consumed");
	evbuffer_free(in);
}

static void
test_framing(void)
{
	struct kube_ndjson f;
	struct seen s = {0};

	kube_ndjson_init(&f, 1024);
	feed(&f, "{\"type\":\"ADD", &s);
	is_int(s.n, 0, "half an event is held back");
	is_int(kube_ndjson_pending(&f), 12, "and counted as pending");
	feed(&f, "ED\"}\n{\"a\":1}\n{\"b\"", &s);
	is_int(s.n, 2, "an event split across chunks, then a whole one");
	is_str(s.lines[0], "{\"type\":\"ADDED\"}", "the split event is rebuilt");
	is_str(s.lines[1], "{\"a\":1}", "the next one follows");
	feed(&f, ":2}\r\n\n\n", &s);
	is_int(s.n, 3, "empty lines are ignored");
	is_str(s.lines[2], "{\"b\":2}", "a CRLF ending is trimmed");
	is_int(kube_ndjson_pending(&f), 0, "nothing pending at a line end");
	kube_ndjson_reset(&f);
	feed(&f, "x", &s);
	kube_ndjson_reset(&f);
	is_int(kube_ndjson_pending(&f), 0, "reset drops a partial line");
	kube_ndjson_free(&f);
}

static void
test_cap(void)
{
	struct kube_ndjson f;
	struct seen s = {0};
	char chunk[301];
	size_t max_held = 0;

	kube_ndjson_init(&f, 100);
	memset(chunk, 'x', 300);
	chunk[300] = '\0';
	feed(&f, "{\"ok\":1}\n", &s);
	for (int i = 0; i < 50; i++) {
		feed(&f, chunk, &s);
		if (evbuffer_get_length(f.buf) > max_held)
			max_held = evbuffer_get_length(f.buf);
	}
	ok(max_held <= 100, "an over-long line is not kept in memory (held at most %zu)", max_held);
	is_int(s.toolong, 0, "its end is not reached yet");
	feed(&f, "yyy\n{\"after\":1}\n", &s);
	is_int(s.toolong, 1, "the over-long line is reported once");
	is_int(s.toolong_len, 50 * 300 + 3, "with its full length");
	is_int(s.n, 2, "and skipped; the lines around it arrive");
	is_str(s.lines[1], "{\"after\":1}", "the next event is intact");

	char exact[102];
	memset(exact, 'z', 101);
	exact[101] = '\0';
	feed(&f, exact, &s);
	feed(&f, "\n", &s);
	is_int(s.toolong, 2, "a line one byte over the cap, complete in the buffer, is skipped");
	memset(exact, 'w', 100);
	exact[100] = '\n';
	exact[101] = '\0';
	feed(&f, exact, &s);
	is_int(s.n, 3, "a line exactly at the cap is delivered");
	kube_ndjson_free(&f);
}

static void
test_stop(void)
{
	struct kube_ndjson f;
	struct seen s = {.stop_after = 1};
	struct evbuffer *in = evbuffer_new();

	kube_ndjson_init(&f, 1024);
	evbuffer_add(in, "a\nb\nc\n", 6);
	is_int(kube_ndjson_feed(&f, in, on_line, on_toolong, &s), -1, "a line can stop the feed");
	is_int(s.n, 1, "no line after the stop");
	is_int(kube_ndjson_pending(&f), 4, "the rest stays buffered");
	evbuffer_free(in);
	kube_ndjson_free(&f);
}

/* However a stream is cut into chunks, the same lines come out. */
static void
test_random_chunks(void)
{
	char stream[4096];
	size_t n = 0;
	int lines = 0, same = 1;
	unsigned seed = 12345;

	while (n < sizeof(stream) - 64) {
		n += (size_t)snprintf(stream + n, sizeof(stream) - n,
		                      "{\"n\":%d,\"pad\":\"%.*s\"}\n", lines, lines % 40,
		                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		lines++;
	}
	for (int round = 0; round < 200; round++) {
		struct kube_ndjson f;
		struct seen s = {0};
		struct evbuffer *in = evbuffer_new();
		size_t at = 0;

		kube_ndjson_init(&f, 1024);
		while (at < n) {
			size_t k = 1 + (size_t)(kube_rand01(&seed) * 300);
			if (k > n - at)
				k = n - at;
			evbuffer_add(in, stream + at, k);
			at += k;
			kube_ndjson_feed(&f, in, on_line, on_toolong, &s);
		}
		same &= s.n == lines && strncmp(s.lines[3], "{\"n\":3,", 7) == 0 &&
		        s.toolong == 0 && kube_ndjson_pending(&f) == 0;
		evbuffer_free(in);
		kube_ndjson_free(&f);
	}
	ok(same, "a stream of %d lines cut at random 200 times gives the same lines", lines);
}

int
main(void)
{
	test_framing();
	test_random_chunks();
	test_cap();
	test_stop();
	return done_testing();
}
