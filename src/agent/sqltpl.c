/*
 * The SQL the agent gives ttIsql comes from templates shipped in the image (the ttimage directory),
 * read once at start-up, with {{name}} placeholders filled by quoted values.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "agent.h"

/* Every template the agent uses; a missing one stops the start-up. */
static const char *const sqltpl_names[] = {
    "state.sql",         /* the probe: rep state, rep schemes, peer status */
    "adminuser.sql",     /* the admin user of /ttconfig/adminUser */
    "repcreate.sql",     /* the replication scheme the operator sends */
    "repactive.sql",     /* rep state ACTIVE */
    "repidle.sql",       /* rep state IDLE (ttRepDeactivate) */
    "repanew.sql",       /* rep state ACTIVE under a scheme made anew (after TT8141) */
    "reppeerfailed.sql", /* the peer recorded as FAILED */
    "runscript.sql",     /* wraps schema.sql and epilog.sql */
    "repwait.sql",       /* quiesce: ttRepSubscriberWait */
    NULL,
};

struct sqltpl {
	char *text[sizeof(sqltpl_names) / sizeof(sqltpl_names[0])];
};

int
sqltpl_load(struct agent *a, const char *dir)
{
	char path[4096];

	if ((a->sql = calloc(1, sizeof(*a->sql))) == NULL)
		return -1;
	for (size_t i = 0; sqltpl_names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sqltpl_names[i]);
		if ((a->sql->text[i] = agent_read_file(path, 64 * 1024, NULL)) == NULL) {
			log_error("sql", "cannot read an SQL template", "file", path, "error",
			          strerror(errno), NULL);
			return -1;
		}
	}
	return 0;
}

void
sqltpl_free(struct agent *a)
{
	if (a->sql == NULL)
		return;
	for (size_t i = 0; sqltpl_names[i]; i++)
		free(a->sql->text[i]);
	free(a->sql);
	a->sql = NULL;
}

char *
sqltpl_render(struct agent *a, const char *name, ...)
{
	const char *text = NULL, *p;
	struct evbuffer *b;
	char *out = NULL;
	va_list ap;

	for (size_t i = 0; sqltpl_names[i]; i++)
		if (strcmp(sqltpl_names[i], name) == 0)
			text = a->sql->text[i];
	if (text == NULL || (b = evbuffer_new()) == NULL)
		return NULL;
	for (p = text; *p;) {
		const char *open = strstr(p, "{{"), *close;
		if (open == NULL || (close = strstr(open, "}}")) == NULL) {
			evbuffer_add(b, p, strlen(p));
			break;
		}
		evbuffer_add(b, p, (size_t)(open - p));
		const char *key = open + 2, *val = NULL, *k;
		size_t kl = (size_t)(close - key);
		va_start(ap, name);
		while ((k = va_arg(ap, const char *)) != NULL) {
			const char *v = va_arg(ap, const char *);
			if (strlen(k) == kl && strncmp(k, key, kl) == 0)
				val = v;
		}
		va_end(ap);
		if (val != NULL)
			evbuffer_add(b, val, strlen(val));
		else /* an unknown placeholder stays, and ttIsql will say what is wrong */
			evbuffer_add(b, open, (size_t)(close + 2 - open));
		p = close + 2;
	}
	size_t n = evbuffer_get_length(b);
	if ((out = malloc(n + 1)) != NULL) {
		evbuffer_remove(b, out, n);
		out[n] = '\0';
	}
	evbuffer_free(b);
	return out;
}

static char *
quote(const char *s, char q)
{
	size_t n = 2;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += *p == q ? 2 : 1;
	if ((out = o = malloc(n + 1)) == NULL)
		return NULL;
	*o++ = q;
	for (const char *p = s; *p; p++) {
		if (*p == q)
			*o++ = q;
		*o++ = *p;
	}
	*o++ = q;
	*o = '\0';
	return out;
}

char *
sql_quote(const char *text)
{
	return quote(text, '\'');
}

char *
sql_quote_ident(const char *name)
{
	return quote(name, '"');
}
