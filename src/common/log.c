/*
 * Structured logging (see ttc/log.h). Each line is built whole in a buffer and written
 * with one write(2), so lines from one process never interleave and need no flush.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "ttc/log.h"

const char *const log_level_names[] = {
#define X(e, s) s,
    LOG_LEVELS(X)
#undef X
        NULL};

const char *const log_format_names[] = {
#define X(e, s) s,
    LOG_FORMATS(X)
#undef X
        NULL};

static struct {
	int fd;
	enum log_level level;
	enum log_format format;
} logger = {2, LOG_INFO, LOG_FMT_LOGFMT};

void
log_setup(int fd, enum log_level level, enum log_format format)
{
	logger.fd = fd;
	logger.level = level;
	logger.format = format;
}

void
log_set_level(enum log_level level)
{
	logger.level = level;
}

void
log_set_format(enum log_format format)
{
	logger.format = format;
}

enum log_level
log_get_level(void)
{
	return logger.level;
}

const char *
log_fmt_int(char *buf, long long n)
{
	snprintf(buf, 24, "%lld", n);
	return buf;
}

const char *
log_fmt_double(char *buf, double d)
{
	snprintf(buf, 32, "%.6g", d);
	return buf;
}

int
log_is_secret_key(const char *key)
{
	static const char *const words[] = {
	    "password",      "passwd",     "pwd",        "token",       "secret",
	    "authorization", "credential", "privatekey", "private_key", NULL};

	for (const char *const *w = words; *w; w++) {
		size_t n = strlen(*w);
		for (const char *p = key; *p; p++)
			if (strncasecmp(p, *w, n) == 0)
				return 1;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned int c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)))
		return 0; /* overlong, surrogate */
	if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)))
		return 0;
	return n;
}

/*
 * Escapes s inside double quotes for both logfmt and JSON: \" \\ \n \r \t, other control
 * characters as \u00XX, invalid UTF-8 bytes as \ufffd. The output is valid JSON string
 * content and unambiguous logfmt.
 */
static void
escape_quoted(struct evbuffer *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0) {
			evbuffer_add(out, "\\ufffd", 6);
			p++;
			continue;
		}
		if (n > 1) {
			evbuffer_add(out, p, n);
			p += n;
			continue;
		}
		switch (*p) {
		case '"':
			evbuffer_add(out, "\\\"", 2);
			break;
		case '\\':
			evbuffer_add(out, "\\\\", 2);
			break;
		case '\n':
			evbuffer_add(out, "\\n", 2);
			break;
		case '\r':
			evbuffer_add(out, "\\r", 2);
			break;
		case '\t':
			evbuffer_add(out, "\\t", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				evbuffer_add_printf(out, "\\u%04x", *p);
			else
				evbuffer_add(out, p, 1);
		}
		p++;
	}
}

/* A logfmt value goes bare when it is non-empty printable ASCII without space, = or ". */
static int
logfmt_bare(const char *s)
{
	if (*s == '\0')
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '=' || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

/* A logfmt key: letters, digits, _ . - / only; anything else becomes _. */
static void
add_key(struct evbuffer *out, const char *k)
{
	for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
		char c = (char)*p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-' || c == '/'))
			c = '_';
		evbuffer_add(out, &c, 1);
	}
}

static void
add_pair(struct evbuffer *out, enum log_format fmt, int first, const char *k, const char *v)
{
	if (v == NULL)
		v = "";
	if (fmt == LOG_FMT_JSON) {
		evbuffer_add_printf(out, "%s\"", first ? "{" : ",");
		add_key(out, k);
		evbuffer_add(out, "\":\"", 3);
		escape_quoted(out, v);
		evbuffer_add(out, "\"", 1);
		return;
	}
	if (!first)
		evbuffer_add(out, " ", 1);
	add_key(out, k);
	evbuffer_add(out, "=", 1);
	if (logfmt_bare(v)) {
		evbuffer_add(out, v, strlen(v));
	} else {
		evbuffer_add(out, "\"", 1);
		escape_quoted(out, v);
		evbuffer_add(out, "\"", 1);
	}
}

static void
format_time(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

void
log_vmsg(enum log_level level, const char *module, const char *msg, va_list ap)
{
	struct evbuffer *out;
	char when[40];
	const char *k;

	if (level < logger.level)
		return;
	if ((out = evbuffer_new()) == NULL)
		return;
	format_time(when, sizeof(when));
	add_pair(out, logger.format, 1, "time", when);
	add_pair(out, logger.format, 0, "level", log_level_names[level]);
	add_pair(out, logger.format, 0, "module", module);
	add_pair(out, logger.format, 0, "msg", msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		add_pair(out, logger.format, 0, k, log_is_secret_key(k) ? "[redacted]" : v);
	}
	evbuffer_add(out, logger.format == LOG_FMT_JSON ? "}\n" : "\n",
	             logger.format == LOG_FMT_JSON ? 2 : 1);

	/* One write for the whole line; retry on EINTR and on short writes to a pipe. */
	while (evbuffer_get_length(out) > 0) {
		int n = evbuffer_write(out, logger.fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
	}
	evbuffer_free(out);
}

void
log_msg(enum log_level level, const char *module, const char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	log_vmsg(level, module, msg, ap);
	va_end(ap);
}
