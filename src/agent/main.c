/*
 * ttagent: runs in each TimesTen pod's tt container, reports TimesTen's state to the
 * operator and carries out its orders. This file reads the command line and environment.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ttc/netaddr.h"

#ifndef TTAGENT_SQL_DIR
#define TTAGENT_SQL_DIR "/usr/share/ttclassic/ttimage"
#endif

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: " AGENT_NAME " [OPTION]...\n"
	    "Reports the TimesTen state of this pod to the TimesTen operator and\n"
	    "carries out its orders, over HTTPS with client certificates.\n"
	    "\n"
	    "  -l, --listen HOST:PORT     where to serve (default $POD_IP:8443, else :8443)\n"
	    "      --cert-dir DIR         the agent Secret: ca.crt, tls.crt, tls.key\n"
	    "                             (default /ttagent)\n"
	    "      --config-dir DIR       the metadata files (default /ttconfig)\n"
	    "      --sql-dir DIR          the SQL templates of the image (default " TTAGENT_SQL_DIR
	    ")\n"
	    "      --installation DIR     the TimesTen installation (default $TT_INSTALLATION,\n"
	    "                             else /tt/home/timesten/installation)\n"
	    "      --state-max-age MS     serve a probed state this long (default 1000)\n"
	    "      --utility-timeout S    time limit of one utility (default 120)\n"
	    "      --async-timeout S      time limit of a duplicate (default 600)\n"
	    "      --cert-check S         how often to look for new certificates (default 10)\n"
	    "      --stop-timeout S       on SIGTERM, how long stopping TimesTen may take before\n"
	    "                             the agent exits anyway; 0: exit at once (default 20)\n"
	    "      --log-level LEVEL      debug, info, warn, error (default info)\n"
	    "      --log-format FORMAT    logfmt, json (default logfmt)\n"
	    "  -h, --help                 show this help and exit\n"
	    "  -V, --version              show the version and exit\n"
	    "\n"
	    "In-pod paths (DIRs above, TIMESTEN_HOME, /tmp/active...) are taken below\n"
	    "$POD_ROOT when it is set. TIMESTEN_HOME defaults to\n"
	    "/tt/home/timesten/instances/instance1.\n");
}

static int
name_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static int
number(const char *opt, const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, AGENT_NAME ": %s: expected a number from %lld to %lld\n", opt, min,
		        max);
		return -1;
	}
	*out = v;
	return 0;
}

static char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return strdup(v && *v ? v : dflt);
}

/*
 * The object's DSN: $TT_DSN (the operator sets it to the TimesTenClassic's name), else the
 * pod's host name without its StatefulSet ordinal ("sample-1" -> "sample"). Empty when
 * neither gives a DSN TimesTen takes (a letter, then letters, digits, '_' and '-', at most 32).
 */
static void
config_dsn(struct agent_config *cfg)
{
	const char *v = getenv("TT_DSN"), *dash;
	size_t n;

	if (v == NULL || *v == '\0') {
		v = cfg->hostname;
		n = strlen(v);
		dash = strrchr(v, '-');
		if (dash != NULL && dash > v && dash[1] != '\0' &&
		    strspn(dash + 1, "0123456789") == strlen(dash + 1))
			n = (size_t)(dash - v);
	} else {
		n = strlen(v);
	}
	cfg->dsn[0] = '\0';
	if (n == 0 || n > 32 || n >= sizeof(cfg->dsn) || !isalpha((unsigned char)v[0]))
		return;
	memcpy(cfg->dsn, v, n);
	cfg->dsn[n] = '\0';
	for (char *p = cfg->dsn; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			*p = '_';
}

/* An in-pod absolute path without a trailing slash. */
static int
pod_path(const char *what, char *p)
{
	size_t n = strlen(p);

	if (p[0] != '/') {
		fprintf(stderr, AGENT_NAME ": %s must be an absolute path: %s\n", what, p);
		return -1;
	}
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	return 0;
}

int
main(int argc, char **argv)
{
	enum {
		O_CERT = 256,
		O_CONFIG,
		O_SQL,
		O_INST,
		O_AGE,
		O_UTIL,
		O_ASYNC,
		O_CHECK,
		O_STOP,
		O_LEVEL,
		O_FORMAT
	};
	static const struct option options[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"cert-dir", required_argument, NULL, O_CERT},
	    {"config-dir", required_argument, NULL, O_CONFIG},
	    {"sql-dir", required_argument, NULL, O_SQL},
	    {"installation", required_argument, NULL, O_INST},
	    {"state-max-age", required_argument, NULL, O_AGE},
	    {"utility-timeout", required_argument, NULL, O_UTIL},
	    {"async-timeout", required_argument, NULL, O_ASYNC},
	    {"cert-check", required_argument, NULL, O_CHECK},
	    {"stop-timeout", required_argument, NULL, O_STOP},
	    {"log-level", required_argument, NULL, O_LEVEL},
	    {"log-format", required_argument, NULL, O_FORMAT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct agent a;
	struct agent_config *cfg = &a.cfg;
	int c, level = LOG_INFO, format = LOG_FMT_LOGFMT, rc = 1;
	long long v;

	memset(&a, 0, sizeof(a));
	cfg->state_max_age_ms = 1000;
	cfg->utility_timeout_ms = 120 * 1000;
	cfg->async_timeout_ms = 600 * 1000;
	cfg->cert_check_ms = 10 * 1000;
	cfg->stop_timeout_ms = 20 * 1000;
	cfg->daemon_port = 6624;
	cfg->server_port = 6625;
	cfg->cert_dir = strdup("/ttagent");
	cfg->config_dir = strdup("/ttconfig");
	cfg->sql_dir = strdup(TTAGENT_SQL_DIR);
	cfg->installation = env_or("TT_INSTALLATION", "/tt/home/timesten/installation");
	cfg->timesten_home = env_or("TIMESTEN_HOME", "/tt/home/timesten/instances/instance1");
	cfg->pod_root = env_or("POD_ROOT", "");
	cfg->hostname = env_or("HOSTNAME", "");
	config_dsn(cfg);

	while ((c = getopt_long(argc, argv, "l:hV", options, NULL)) != -1) {
		char **dst = NULL;
		switch (c) {
		case 'l':
			dst = &cfg->listen;
			break;
		case O_CERT:
			dst = &cfg->cert_dir;
			break;
		case O_CONFIG:
			dst = &cfg->config_dir;
			break;
		case O_SQL:
			dst = &cfg->sql_dir;
			break;
		case O_INST:
			dst = &cfg->installation;
			break;
		case O_AGE:
			if (number("--state-max-age", optarg, 0, 3600 * 1000, &v) < 0)
				goto usage;
			cfg->state_max_age_ms = v;
			break;
		case O_UTIL:
		case O_ASYNC:
		case O_CHECK:
			if (number(c == O_UTIL    ? "--utility-timeout"
			           : c == O_ASYNC ? "--async-timeout"
			                          : "--cert-check",
			           optarg, 1, 86400, &v) < 0)
				goto usage;
			*(c == O_UTIL    ? &cfg->utility_timeout_ms
			  : c == O_ASYNC ? &cfg->async_timeout_ms
			                 : &cfg->cert_check_ms) = v * 1000;
			break;
		case O_STOP:
			if (number("--stop-timeout", optarg, 0, 3600, &v) < 0)
				goto usage;
			cfg->stop_timeout_ms = v * 1000;
			break;
		case O_LEVEL:
			if ((level = name_index(log_level_names, optarg)) < 0) {
				fprintf(stderr, AGENT_NAME ": unknown log level %s\n", optarg);
				goto usage;
			}
			break;
		case O_FORMAT:
			if ((format = name_index(log_format_names, optarg)) < 0) {
				fprintf(stderr, AGENT_NAME ": unknown log format %s\n", optarg);
				goto usage;
			}
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case 'V':
			printf(AGENT_NAME " (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
			rc = 0;
			goto out;
		default:
			goto usage;
		}
		if (dst != NULL) {
			free(*dst);
			*dst = strdup(optarg);
		}
	}
	if (optind < argc) {
		fprintf(stderr, AGENT_NAME ": unexpected argument %s\n", argv[optind]);
		goto usage;
	}
	if (cfg->listen == NULL) {
		const char *ip = getenv("POD_IP");
		char buf[128];
		if (ip == NULL || *ip == '\0')
			snprintf(buf, sizeof(buf), ":%d", AGENT_DEFAULT_PORT);
		else if (strchr(ip, ':') != NULL)
			snprintf(buf, sizeof(buf), "[%s]:%d", ip, AGENT_DEFAULT_PORT);
		else
			snprintf(buf, sizeof(buf), "%s:%d", ip, AGENT_DEFAULT_PORT);
		cfg->listen = strdup(buf);
	}
	/* POD_ROOT "/" is the real root. */
	size_t rl = strlen(cfg->pod_root);
	while (rl > 0 && cfg->pod_root[rl - 1] == '/')
		cfg->pod_root[--rl] = '\0';
	if (pod_path("--cert-dir", cfg->cert_dir) < 0 ||
	    pod_path("--config-dir", cfg->config_dir) < 0 ||
	    pod_path("--installation", cfg->installation) < 0 ||
	    pod_path("TIMESTEN_HOME", cfg->timesten_home) < 0)
		goto usage;
	{
		struct sockaddr_storage ss;
		socklen_t len;
		char err[256];
		if (netaddr_parse(cfg->listen, &ss, &len, err, sizeof(err)) < 0) {
			fprintf(stderr, AGENT_NAME ": --listen: %s\n", err);
			goto usage;
		}
	}
	log_setup(2, level, format);
	if (agent_init(&a) == 0) {
		agent_run(&a);
		rc = 0;
	}
	goto out;
usage:
	usage(stderr);
	rc = 2;
out:
	agent_cleanup(&a);
	return rc;
}
