/* Tests for src/common/log.c: line layout, escaping in logfmt and JSON, redaction, levels. */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "tap.h"
#include "ttc/log.h"

static int pipefd[2];

/* Reads what the logger wrote since the last call. */
static char *
drain(void)
{
	static char buf[65536];
	ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_logfmt(void)
{
	log_setup(pipefd[1], LOG_DEBUG, LOG_FMT_LOGFMT);
	log_info("config", "reloaded", "file", "/etc/x.yaml", "changes", LOG_I(3), NULL);
	char *line = drain();
	ok(strncmp(line, "time=", 5) == 0, "a logfmt line starts with the time");
	like(line, " level=info module=config msg=reloaded file=/etc/x.yaml changes=3\n",
	     "level, module, message and pairs follow in order");
	ok(strchr(line, '\n') == line + strlen(line) - 1, "one message is one line");

	log_warn("x", "two words", "q", "say \"hi\"", "nl", "a\nb", "eq", "k=v", "empty", "",
	         "null", NULL, NULL);
	line = drain();
	like(line, "msg=\"two words\"", "a message with a space is quoted");
	like(line, "q=\"say \\\"hi\\\"\"", "quotes inside a value are escaped");
	like(line, "nl=\"a\\nb\"", "a newline inside a value is escaped, the line stays one line");
	like(line, "eq=\"k=v\"", "a value with = is quoted");
	like(line, "empty=\"\"", "an empty value is shown as \"\"");
	like(line, "null=\"\"", "a NULL value is shown as \"\"");

	log_info("x", "ctl", "c", "a\001b\tc", "bad", "\xff\xfeok", "utf", "caf\xc3\xa9", NULL);
	line = drain();
	like(line, "c=\"a\\u0001b\\tc\"", "control characters are escaped");
	like(line, "bad=\"\\ufffd\\ufffdok\"", "invalid UTF-8 bytes become \\ufffd");
	like(line, "utf=\"caf\xc3\xa9\"", "valid UTF-8 passes through");

	log_info("x", "k", "bad key!", "v", NULL);
	like(drain(), " bad_key_=v", "characters not allowed in keys are replaced");
}

static void
test_redaction(void)
{
	log_setup(pipefd[1], LOG_DEBUG, LOG_FMT_LOGFMT);
	log_info("agent", "user", "user", "scott", "password", "tiger", "adminPwd", "x1", "token",
	         "eyJ", "Authorization", "Bearer abc", "tlsPrivateKey", "k", NULL);
	char *line = drain();
	ok(strstr(line, "tiger") == NULL && strstr(line, "x1") == NULL &&
	       strstr(line, "eyJ") == NULL && strstr(line, "Bearer") == NULL &&
	       strstr(line, "=k") == NULL,
	   "secret values never appear");
	like(line, " password=[redacted] ", "a secret shows as [redacted]");
	like(line, "user=scott", "other values stay");
	ok(log_is_secret_key("cacheUserPassword") && !log_is_secret_key("resourceVersion") &&
	       !log_is_secret_key("key"),
	   "secret keys are recognised by name");
}

static void
test_levels(void)
{
	log_setup(pipefd[1], LOG_WARN, LOG_FMT_LOGFMT);
	log_info("x", "hidden", NULL);
	log_debug("x", "hidden too", NULL);
	log_error("x", "shown", NULL);
	char *out = drain();
	ok(strstr(out, "hidden") == NULL, "messages below the level are dropped");
	like(out, "level=error", "messages at or above the level are written");
}

static void
test_json(void)
{
	char errbuf[256];

	log_setup(pipefd[1], LOG_DEBUG, LOG_FMT_JSON);
	log_info("httpd", "listen \"x\"", "addr", "127.0.0.1:80", "nl", "a\nb\x01", "bad", "\xff",
	         "pwd", "secret", NULL);
	char *line = drain();
	ok(line[0] == '{' && strcmp(line + strlen(line) - 2, "}\n") == 0,
	   "a JSON line is one object");
	yajl_val v = yajl_tree_parse(line, errbuf, sizeof(errbuf));
	ok(v != NULL, "the JSON line parses");
	if (v != NULL) {
		const char *msg[] = {"msg", NULL}, *nl[] = {"nl", NULL}, *lvl[] = {"level", NULL},
		           *pwd[] = {"pwd", NULL};
		is_str(YAJL_GET_STRING(yajl_tree_get(v, msg, yajl_t_string)), "listen \"x\"",
		       "the message round-trips");
		is_str(YAJL_GET_STRING(yajl_tree_get(v, nl, yajl_t_string)), "a\nb\x01",
		       "control characters round-trip");
		is_str(YAJL_GET_STRING(yajl_tree_get(v, lvl, yajl_t_string)), "info",
		       "the level is a field");
		is_str(YAJL_GET_STRING(yajl_tree_get(v, pwd, yajl_t_string)), "[redacted]",
		       "secrets are redacted in JSON too");
		yajl_tree_free(v);
	} else {
		diag("%s", errbuf);
	}
}

int
main(void)
{
	if (pipe(pipefd) < 0)
		return 1;
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	test_logfmt();
	test_redaction();
	test_levels();
	test_json();
	close(pipefd[0]);
	close(pipefd[1]);
	return done_testing();
}
