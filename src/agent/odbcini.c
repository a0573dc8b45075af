/*
 * The instance's sys.odbc.ini: setting one DSN (its line under [ODBC Data Sources] and its
 * own section) while keeping the others, and finding a DSN's DataStore.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "agent.h"

#define ODBCINI_SOURCES "ODBC Data Sources"

/* If line (without newline) is "[name]", the name into buf (n bytes); else NULL. */
static const char *
section_name(const char *line, size_t len, char *buf, size_t n)
{
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	if (len < 2 || line[0] != '[' || line[len - 1] != ']' || len - 2 >= n)
		return NULL;
	memcpy(buf, line + 1, len - 2);
	buf[len - 2] = '\0';
	return buf;
}

/* Whether line is "key = ..." for key (case-insensitive); *value points past the '='. */
static int
line_key_is(const char *line, size_t len, const char *key, const char **value, size_t *vlen)
{
	size_t kl = strlen(key), i = 0;

	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (len - i < kl || strncasecmp(line + i, key, kl) != 0)
		return 0;
	i += kl;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] != '=')
		return 0;
	i++;
	while (i < len && isspace((unsigned char)line[i]))
		i++;
	while (len > i && isspace((unsigned char)line[len - 1]))
		len--;
	if (value) {
		*value = line + i;
		*vlen = len - i;
	}
	return 1;
}

static int
valid_dsn(const char *dsn)
{
	if (!isalpha((unsigned char)*dsn) || strlen(dsn) > 32)
		return 0;
	for (; *dsn; dsn++)
		if (!isalnum((unsigned char)*dsn) && *dsn != '_' && *dsn != '-')
			return 0;
	return 1;
}

char *
odbcini_set_dsn(const char *old, const char *dsn, const char *driver, const struct kv *kvs,
                size_t n, char *err, size_t errlen)
{
	struct evbuffer *b = evbuffer_new();
	const char *p = old ? old : "";
	char name[128];
	int in_sources = 0, in_dsn = 0, saw_sources = 0;
	char *out = NULL;

	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!valid_dsn(dsn)) {
		snprintf(err, errlen, "invalid DSN \"%.64s\"", dsn);
		evbuffer_free(b);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strpbrk(kvs[i].value, "\r\n") || strpbrk(kvs[i].key, "\r\n=[]")) {
			snprintf(err, errlen, "attribute %.64s has a line break", kvs[i].key);
			evbuffer_free(b);
			return NULL;
		}
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *next = nl ? nl + 1 : p + len;

		if (section_name(p, len, name, sizeof(name)) != NULL) {
			int was_sources = in_sources;
			in_sources = strcasecmp(name, ODBCINI_SOURCES) == 0;
			in_dsn = strcasecmp(name, dsn) == 0;
			if (was_sources && !in_sources) /* close the list with our entry */
				evbuffer_add_printf(b, "%s=%s\n", dsn, driver);
			if (in_sources)
				saw_sources = 1;
			if (in_dsn) {
				p = next;
				continue;
			}
		} else if (in_dsn || (in_sources && line_key_is(p, len, dsn, NULL, NULL))) {
			p = next;
			continue;
		}
		if (in_sources && len == 0) { /* keep our entry before the blank line */
			evbuffer_add_printf(b, "%s=%s\n", dsn, driver);
			in_sources = 0;
		}
		evbuffer_add(b, p, len);
		evbuffer_add(b, "\n", 1);
		p = next;
	}
	if (in_sources)
		evbuffer_add_printf(b, "%s=%s\n", dsn, driver);
	if (!saw_sources) {
		/* Put the list first, as TimesTen's own file does. */
		struct evbuffer *head = evbuffer_new();
		if (head == NULL) {
			evbuffer_free(b);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		evbuffer_add_printf(head, "[" ODBCINI_SOURCES "]\n%s=%s\n\n", dsn, driver);
		evbuffer_prepend_buffer(b, head);
		evbuffer_free(head);
	}
	size_t len = evbuffer_get_length(b);
	if (len > 0) {
		/* One blank line before our section. */
		unsigned char *all = evbuffer_pullup(b, -1);
		if (all[len - 1] != '\n')
			evbuffer_add(b, "\n", 1);
		if (len < 2 || all[len - 2] != '\n' || all[len - 1] != '\n')
			evbuffer_add(b, "\n", 1);
	}
	evbuffer_add_printf(b, "[%s]\n", dsn);
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(b, "%s=%s\n", kvs[i].key, kvs[i].value);
	len = evbuffer_get_length(b);
	if ((out = malloc(len + 1)) != NULL) {
		evbuffer_remove(b, out, len);
		out[len] = '\0';
	} else {
		snprintf(err, errlen, "out of memory");
	}
	evbuffer_free(b);
	return out;
}

/* Calls fn for each "key=value" line of section sect; stops when fn returns nonzero. */
static int
each_in_section(const char *text, const char *sect,
                int (*fn)(const char *k, size_t kl, const char *v, size_t vl, void *arg), void *arg)
{
	const char *p = text;
	char name[128];
	int in = 0;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *eq = memchr(p, '=', len);

		if (section_name(p, len, name, sizeof(name)) != NULL) {
			in = strcasecmp(name, sect) == 0;
		} else if (in && eq != NULL && *p != '#' && *p != ';') {
			const char *k = p, *v = eq + 1;
			size_t kl = (size_t)(eq - p), vl = len - kl - 1;
			while (kl > 0 && isspace((unsigned char)*k)) {
				k++;
				kl--;
			}
			while (kl > 0 && isspace((unsigned char)k[kl - 1]))
				kl--;
			while (vl > 0 && isspace((unsigned char)*v)) {
				v++;
				vl--;
			}
			while (vl > 0 && isspace((unsigned char)v[vl - 1]))
				vl--;
			if (fn(k, kl, v, vl, arg))
				return 1;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

struct find {
	const char *key;
	char *out;
	size_t n;
};

static int
find_value(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct find *f = arg;

	if (kl != strlen(f->key) || strncasecmp(k, f->key, kl) != 0 || vl >= f->n)
		return 0;
	memcpy(f->out, v, vl);
	f->out[vl] = '\0';
	return 1;
}

int
odbcini_datastore(const char *text, const char *dsn, char *datastore, size_t dslen)
{
	struct find f = {"DataStore", datastore, dslen};

	return text && each_in_section(text, dsn, find_value, &f) ? 0 : -1;
}
