/*
 * The replication scheme of a pair: the generated CREATE ACTIVE STANDBY PAIR statement,
 * or the user's repCreateStatement with its {{tt-...}} tokens replaced.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "objects.h"
#include "repscheme.h"
#include "spec.h"

struct rep_returns
repscheme_returns(const char *statement)
{
	struct rep_returns r = {0, 0, 0, 0};
	char *words, *w;

	if (statement == NULL || (words = malloc(strlen(statement) + 3)) == NULL)
		return r;
	/* The statement's words, upper case, one space apart, quoted text left out: each
	 * character gives at most one, between a leading and a trailing space. */
	w = words;
	*w++ = ' ';
	for (const char *p = statement; *p;) {
		if (isalnum((unsigned char)*p) || *p == '_') {
			*w++ = (char)toupper((unsigned char)*p++);
			continue;
		}
		if (*p == '"' || *p == '\'') {
			const char *end = strchr(p + 1, *p);
			p = end ? end + 1 : p + strlen(p);
		} else {
			p++;
		}
		if (w[-1] != ' ')
			*w++ = ' ';
	}
	if (w[-1] != ' ')
		*w++ = ' ';
	*w = '\0';
	r.twosafe = strstr(words, " RETURN TWOSAFE ") != NULL;
	r.by_request = strstr(words, " RETURN TWOSAFE BY REQUEST ") != NULL;
	r.disable_return = strstr(words, " DISABLE RETURN ") != NULL;
	r.local_commit = strstr(words, " LOCAL COMMIT ACTION COMMIT ") != NULL;
	free(words);
	return r;
}

static char *
finish(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	if (s != NULL) {
		evbuffer_remove(b, s, n);
		s[n] = '\0';
	}
	evbuffer_free(b);
	return s;
}

static char *
generated(const struct ttc_spec *spec, const char *name, const char *ns)
{
	struct evbuffer *b = evbuffer_new();
	char h0[300], h1[300];
	const char *ret = *spec->rep_return_service ? spec->rep_return_service : "NO RETURN";
	const char *store =
	    *spec->rep_store_attribute ? spec->rep_store_attribute : "FAILTHRESHOLD 0";

	if (b == NULL)
		return NULL;
	objects_pod_fqdn(h0, sizeof(h0), name, ns, 0);
	objects_pod_fqdn(h1, sizeof(h1), name, ns, 1);
	evbuffer_add_printf(b, "create active standby pair \"%s\" on \"%s\", \"%s\" on \"%s\" %s",
	                    name, h0, name, h1, ret);
	evbuffer_add_printf(b, " store \"%s\" on \"%s\" PORT %lld %s", name, h0, spec->rep_port,
	                    store);
	evbuffer_add_printf(b, " store \"%s\" on \"%s\" PORT %lld %s", name, h1, spec->rep_port,
	                    store);
	return finish(b);
}

static char *
substituted(const struct ttc_spec *spec, const char *name, const char *ns, char *err, size_t errlen)
{
	struct evbuffer *b = evbuffer_new();
	const char *p = spec->rep_create_statement;
	char h0[300], h1[300], port[16];
	const struct {
		const char *token;
		const char *value;
	} tokens[] = {
	    {"{{tt-name}}", name},
	    {"{{tt-node-0}}", h0},
	    {"{{tt-node-1}}", h1},
	    {"{{tt-rep-port}}", port},
	};

	if (b == NULL)
		return NULL;
	objects_pod_fqdn(h0, sizeof(h0), name, ns, 0);
	objects_pod_fqdn(h1, sizeof(h1), name, ns, 1);
	snprintf(port, sizeof(port), "%lld", spec->rep_port);
	while (*p) {
		const char *open = strstr(p, "{{");
		size_t i;

		if (open == NULL) {
			evbuffer_add(b, p, strlen(p));
			break;
		}
		evbuffer_add(b, p, open - p);
		for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
			if (strncmp(open, tokens[i].token, strlen(tokens[i].token)) == 0)
				break;
		if (i == sizeof(tokens) / sizeof(tokens[0])) {
			const char *close = strstr(open, "}}");
			int len = close ? (int)(close - open + 2) : (int)strlen(open);
			snprintf(err, errlen,
			         "spec.ttspec.repCreateStatement: unknown token \"%.*s\" (known: "
			         "{{tt-name}}, {{tt-node-0}}, {{tt-node-1}}, {{tt-rep-port}})",
			         len > 40 ? 40 : len, open);
			evbuffer_free(b);
			return NULL;
		}
		evbuffer_add(b, tokens[i].value, strlen(tokens[i].value));
		p = open + strlen(tokens[i].token);
	}
	return finish(b);
}

char *
repscheme_statement(const struct ttc_spec *spec, const char *name, const char *ns, char *err,
                    size_t errlen)
{
	char *s;

	err[0] = '\0';
	if (*spec->rep_create_statement)
		s = substituted(spec, name, ns, err, errlen);
	else
		s = generated(spec, name, ns);
	if (s == NULL && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	return s;
}
