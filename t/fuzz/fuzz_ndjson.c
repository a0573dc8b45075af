/*
 * The watch stream framer (src/kube/ndjson.c) on a stream cut into chunks as a server
 * may send them. The first byte picks the line cap, the second how the rest is cut.
 * Whatever the cut, the framer hands over exactly the lines a plain split at newlines
 * gives: one '\r' before the newline dropped, empty lines skipped, lines over the cap
 * reported too long with their length.
 */
#include "config.h"

#include <event2/buffer.h>

#include "fuzz.h"
#include "kube/internal.h"
#include "ttc/json.h"

/* The stream as a plain split at newlines reads it. */
struct model {
	const uint8_t *p, *end;
	size_t max_line;
};

enum { MODEL_END, MODEL_LINE, MODEL_TOOLONG };

static int
model_next(struct model *m, const uint8_t **line, size_t *len)
{
	for (;;) {
		const uint8_t *nl = memchr(m->p, '\n', (size_t)(m->end - m->p));
		const uint8_t *s = m->p;
		size_t n;

		if (nl == NULL)
			return MODEL_END;
		n = (size_t)(nl - s);
		m->p = nl + 1;
		if (n > m->max_line) {
			*len = n;
			return MODEL_TOOLONG;
		}
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > 0) {
			*line = s;
			*len = n;
			return MODEL_LINE;
		}
	}
}

static int
on_line(char *text, size_t len, void *arg)
{
	struct model *m = arg;
	const uint8_t *want;
	size_t wlen;
	char err[128];

	FUZZ_CHECK(model_next(m, &want, &wlen) == MODEL_LINE);
	FUZZ_CHECK(len == wlen && memcmp(text, want, len) == 0);
	FUZZ_CHECK(text[len] == '\0');
	/* What the informer does with a line next. */
	json_free(json_parse(text, len, err, sizeof(err)));
	return 0;
}

static void
on_toolong(size_t len, void *arg)
{
	struct model *m = arg;
	const uint8_t *want;
	size_t wlen;

	FUZZ_CHECK(model_next(m, &want, &wlen) == MODEL_TOOLONG);
	FUZZ_CHECK(len == wlen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_ndjson f;
	struct evbuffer *in;
	struct model m;
	const uint8_t *line;
	size_t len;
	unsigned cut;

	if (size < 2)
		return 0;
	m.max_line = 1 + (size_t)data[0] * 8;
	cut = data[1];
	data += 2;
	size -= 2;
	m.p = data;
	m.end = data + size;
	if (kube_ndjson_init(&f, m.max_line) < 0 || (in = evbuffer_new()) == NULL)
		abort();
	for (size_t off = 0; off < size;) {
		/* Chunks of 1 to 256 bytes, in a sequence the cut byte seeds. */
		size_t n = 1 + (cut & 0xff);
		cut = cut * 1103515245u + 12345u;
		cut ^= cut >> 16;
		if (n > size - off)
			n = size - off;
		evbuffer_add(in, data + off, n);
		FUZZ_CHECK(kube_ndjson_feed(&f, in, on_line, on_toolong, &m) == 0);
		FUZZ_CHECK(evbuffer_get_length(in) == 0);
		/* What is held back is one partial line, within the cap. */
		FUZZ_CHECK(f.skipping || evbuffer_get_length(f.buf) <= m.max_line);
		off += n;
	}
	FUZZ_CHECK(model_next(&m, &line, &len) == MODEL_END);
	kube_ndjson_reset(&f);
	FUZZ_CHECK(kube_ndjson_pending(&f) == 0);
	evbuffer_free(in);
	kube_ndjson_free(&f);
	return 0;
}
