/*
 * Newline-delimited JSON framing for watch streams: HTTP chunks are not events, so bytes
 * are gathered until a newline. A line longer than the cap is discarded as it arrives, so
 * a hostile stream costs at most the cap in memory.
 */
#include "config.h"

#include <string.h>

#include <event2/buffer.h>

#include "internal.h"

int
kube_ndjson_init(struct kube_ndjson *f, size_t max_line)
{
	memset(f, 0, sizeof(*f));
	f->max_line = max_line;
	f->buf = evbuffer_new();
	return f->buf ? 0 : -1;
}

void
kube_ndjson_reset(struct kube_ndjson *f)
{
	evbuffer_drain(f->buf, evbuffer_get_length(f->buf));
	f->scanned = 0;
	f->skipping = 0;
	f->skipped = 0;
}

void
kube_ndjson_free(struct kube_ndjson *f)
{
	if (f->buf != NULL)
		evbuffer_free(f->buf);
	f->buf = NULL;
}

size_t
kube_ndjson_pending(const struct kube_ndjson *f)
{
	return f->skipping ? f->skipped : evbuffer_get_length(f->buf);
}

/* The offset of the first newline at or after from, or -1. */
static ssize_t
find_newline(struct evbuffer *b, size_t from)
{
	struct evbuffer_ptr start, hit;

	if (evbuffer_ptr_set(b, &start, from, EVBUFFER_PTR_SET) < 0)
		return -1;
	hit = evbuffer_search(b, "\n", 1, &start);
	return hit.pos;
}

int
kube_ndjson_feed(struct kube_ndjson *f, struct evbuffer *in, kube_line_fn line,
                 kube_toolong_fn toolong, void *arg)
{
	evbuffer_add_buffer(f->buf, in);
	for (;;) {
		size_t have = evbuffer_get_length(f->buf);
		ssize_t nl = find_newline(f->buf, f->scanned);

		if (nl < 0) {
			if (f->skipping) {
				f->skipped += have;
				evbuffer_drain(f->buf, have);
			} else if (have > f->max_line) {
				/* Drop what we hold and the rest of this line as it comes. */
				f->skipping = 1;
				f->skipped = have;
				evbuffer_drain(f->buf, have);
			}
			f->scanned = evbuffer_get_length(f->buf);
			return 0;
		}
		f->scanned = 0;
		if (f->skipping) {
			f->skipping = 0;
			evbuffer_drain(f->buf, (size_t)nl + 1);
			if (toolong != NULL)
				toolong(f->skipped + (size_t)nl, arg);
			f->skipped = 0;
			continue;
		}
		if ((size_t)nl > f->max_line) {
			evbuffer_drain(f->buf, (size_t)nl + 1);
			if (toolong != NULL)
				toolong((size_t)nl, arg);
			continue;
		}
		size_t len = (size_t)nl;
		char *text = (char *)evbuffer_pullup(f->buf, (ssize_t)len + 1);
		if (text == NULL)
			return -1;
		text[len] = '\0';
		if (len > 0 && text[len - 1] == '\r')
			text[--len] = '\0';
		int stop = 0;
		if (len > 0)
			stop = line(text, len, arg) < 0;
		evbuffer_drain(f->buf, (size_t)nl + 1);
		if (stop)
			return -1;
	}
}
