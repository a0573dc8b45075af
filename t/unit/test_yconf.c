/* Tests for src/common/yconf.c: each value type, and each kind of invalid file. */
#include "config.h"

#include <stddef.h>
#include <unistd.h>

#include "tap.h"
#include "ttc/yconf.h"

struct sample {
	char *name;
	int color;
	int enabled;
	long long count;
	long long timeout;
	char *addr;
};

static const char *const colors[] = {"red", "green", "blue", NULL};

static const struct yconf_field fields[] = {
    {"name", YCONF_STRING, offsetof(struct sample, name), NULL, 0, 0},
    {"look.color", YCONF_ENUM, offsetof(struct sample, color), colors, 0, 0},
    {"look.enabled", YCONF_BOOL, offsetof(struct sample, enabled), NULL, 0, 0},
    {"limits.count", YCONF_INT, offsetof(struct sample, count), NULL, 1, 100},
    {"limits.timeout", YCONF_DURATION, offsetof(struct sample, timeout), NULL, 100, 3600000},
    {"listen", YCONF_ADDR, offsetof(struct sample, addr), NULL, 0, 0},
    {NULL, 0, 0, NULL, 0, 0},
};

static char err[512];

static int
load(const char *text, struct sample *s)
{
	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	return yconf_load_string("t.yaml", text, strlen(text), fields, s, err, sizeof(err));
}

static void
release(struct sample *s)
{
	free(s->name);
	free(s->addr);
}

static void
test_valid(void)
{
	struct sample s;
	int rc = load("# comment\n"
	              "name: \"db one\"\n"
	              "look:\n"
	              "  color: blue\n"
	              "  enabled: true\n"
	              "limits: {count: 42, timeout: 1m30s}\n"
	              "listen: '127.0.0.1:8080'\n",
	              &s);
	is_int(rc, 0, "a valid file loads");
	is_str(s.name, "db one", "a quoted string");
	is_int(s.color, 2, "an enum becomes its index");
	is_int(s.enabled, 1, "a boolean");
	is_int(s.count, 42, "an integer");
	is_int(s.timeout, 90000, "a duration in milliseconds");
	is_str(s.addr, "127.0.0.1:8080", "an address");
	release(&s);

	rc = load("", &s);
	ok(rc == 0 && s.name == NULL, "an empty file sets nothing");
	rc = load("# only comments\n", &s);
	ok(rc == 0 && s.name == NULL, "a file of comments sets nothing");
	rc = load("name: ~\nlook:\nlisten: '[::1]:0'\n", &s);
	ok(rc == 0 && s.name && *s.name == '\0', "a null string becomes empty");
	is_str(s.addr, "[::1]:0", "an IPv6 address");
	release(&s);
	rc = load("name: 123\n", &s);
	is_str(s.name, "123", "a number is accepted as a string");
	release(&s);
	rc = load("name: a\nname2: b\n", &s);
	ok(rc < 0, "keys are matched whole");
	release(&s);
}

/* Each invalid text and the exact error it must give. */
static const struct {
	const char *text;
	const char *error;
	const char *what;
} invalid[] = {
    {"name: a\nbogus: 1\n", "t.yaml:2:1: unknown key \"bogus\"", "an unknown key"},
    {"look:\n  colour: red\n", "t.yaml:2:3: unknown key \"look.colour\"",
     "an unknown key in a section"},
    {"look:\n  color: purple\n",
     "t.yaml:2:10: look.color: \"purple\" is not one of red, green, blue",
     "a value outside an enum"},
    {"look:\n  enabled: maybe\n", "t.yaml:2:12: look.enabled: \"maybe\" is not true or false",
     "a bad boolean"},
    {"limits:\n  count: 1000\n", "t.yaml:2:10: limits.count: 1000 is outside [1, 100]",
     "an integer out of range"},
    {"limits:\n  count: 12abc\n", "t.yaml:2:10: limits.count: \"12abc\" is not an integer",
     "a malformed integer"},
    {"limits:\n  timeout: 5 seconds\n",
     "t.yaml:2:12: limits.timeout: \"5 seconds\" is not a duration such as 500ms, 5s or 1m",
     "a malformed duration"},
    {"limits:\n  timeout: 10ms\n",
     "t.yaml:2:12: limits.timeout: 10ms is outside [100ms, 3600000ms]", "a duration out of range"},
    {"listen: localhost:80\n",
     "t.yaml:1:9: listen: \"localhost\" is not an IP address (names are not resolved here)",
     "a host name where an address is needed"},
    {"listen: 1.2.3.4:99999\n",
     "t.yaml:1:9: listen: \"1.2.3.4:99999\": port must be a number from 0 to 65535",
     "a port out of range"},
    {"name: [a, b]\n", "t.yaml:1:7: name: expected a single value, not a list",
     "a list for a value"},
    {"look: red\n", "t.yaml:1:7: look: expected a mapping of settings", "a value for a section"},
    {"name: a\nname: b\n", "t.yaml:2:1: duplicate key \"name\"", "a duplicate key"},
    {"- a\n- b\n", "t.yaml:1:1: the configuration must be a mapping of settings",
     "a list at the top"},
    {"name: a\n---\nname: b\n", "t.yaml:3:1: only one YAML document is allowed", "two documents"},
    {"name: \"unterminated\n",
     "t.yaml:2:1: found unexpected end of stream while scanning a quoted scalar", "a syntax error"},
    {"look:\n  color: red\n bad: x\n",
     "t.yaml:3:2: did not find expected key while parsing a block mapping", "bad indentation"},
    {"? [a]\n: b\n", "t.yaml:1:3: keys must be plain names", "a complex key"},
};

static void
test_invalid(void)
{
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		struct sample s;
		int rc = load(invalid[i].text, &s);
		ok(rc == -1, "rejected: %s", invalid[i].what);
		is_str(err, invalid[i].error, "error names file, line and column: %s",
		       invalid[i].what);
		release(&s);
	}
}

static void
test_file(void)
{
	struct sample s = {0};
	char path[] = "/tmp/yconf-XXXXXX";
	int fd = mkstemp(path);

	ok(yconf_load_file("/nonexistent/x.yaml", fields, &s, err, sizeof(err)) < 0,
	   "a missing file is an error");
	is_str(err, "/nonexistent/x.yaml: No such file or directory", "which says why");
	if (fd < 0) {
		skip("cannot create a temporary file");
		return;
	}
	ok(write(fd, "name: x\nbogus: 1\n", 17) == 17, "wrote a file");
	close(fd);
	ok(yconf_load_file(path, fields, &s, err, sizeof(err)) < 0, "a bad file is rejected");
	char want[600];
	snprintf(want, sizeof(want), "%s:2:1: unknown key \"bogus\"", path);
	is_str(err, want, "the error names the file");
	release(&s);
	ok(yconf_load_file("/tmp", fields, &s, err, sizeof(err)) < 0, "a directory is refused");
	unlink(path);
}

static void
test_durations(void)
{
	is_int(yconf_parse_duration("250ms"), 250, "250ms");
	is_int(yconf_parse_duration("5s"), 5000, "5s");
	is_int(yconf_parse_duration("2m"), 120000, "2m");
	is_int(yconf_parse_duration("1h2m3s4ms"), 3723004, "1h2m3s4ms");
	is_int(yconf_parse_duration("0s"), 0, "0s");
	is_int(yconf_parse_duration("5"), -1, "a number without unit is refused");
	is_int(yconf_parse_duration("-5s"), -1, "a negative duration is refused");
	is_int(yconf_parse_duration(""), -1, "an empty duration is refused");
	is_int(yconf_parse_duration("5d"), -1, "an unknown unit is refused");
	is_int(yconf_parse_duration("99999999999999h"), -1, "an overflowing duration is refused");
}

int
main(void)
{
	test_valid();
	test_invalid();
	test_file();
	test_durations();
	return done_testing();
}
