/*
 * timestenclassic-operator: runs TimesTenClassic objects on Kubernetes. This file reads
 * the command line and the configuration, then hands over to the event loop.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsm.h"
#include "objects.h"
#include "operator.h"
#include "topology.h"
#include "ttc/log.h"
#include "upgrade.h"

static void
usage(FILE *out)
{
	fprintf(out,
	        "Usage: " OPERATOR_NAME " [OPTION]...\n"
	        "Deploys and runs Oracle TimesTen Classic databases (TimesTenClassic objects)\n"
	        "on Kubernetes: active/standby pairs with automatic failover.\n"
	        "\n"
	        "  -c, --config FILE          YAML configuration file, reloaded on SIGHUP\n"
	        "      --metrics-addr ADDR    serve /metrics, /healthz, /readyz on HOST:PORT\n"
	        "                             (default :8080; HOST is an IP address or empty)\n"
	        "      --log-level LEVEL      debug, info, warn or error (default info)\n"
	        "      --log-format FORMAT    logfmt or json (default logfmt)\n"
	        "      --kubeconfig FILE      kubeconfig to use (default: in-cluster)\n"
	        "      --namespace NS         namespace to watch (default: $WATCH_NAMESPACE,\n"
	        "                             else the operator's own)\n"
	        "      --cluster-domain D     the cluster's DNS domain (default cluster.local);\n"
	        "                             read at start only\n"
	        "      --dump-fsm[=MACHINE]   print a state machine as Graphviz and exit: a\n"
	        "                             topology's (activeStandbyPair, the default, or\n"
	        "                             none), or the pairs' image upgrade (upgrade)\n"
	        "  -h, --help                 show this help and exit\n"
	        "  -V, --version              show the version and exit\n"
	        "\n"
	        "Flags win over the file. Signals: SIGHUP reloads the configuration,\n"
	        "SIGTERM and SIGINT stop gracefully.\n");
}

static int
lookup(const char *const *names, const char *v)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], v) == 0)
			return i;
	return -1;
}

enum {
	OPT_METRICS_ADDR = 256,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_KUBECONFIG,
	OPT_NAMESPACE,
	OPT_CLUSTER_DOMAIN,
	OPT_DUMP_FSM,
};

static const struct option options[] = {
    {"config", required_argument, NULL, 'c'},
    {"metrics-addr", required_argument, NULL, OPT_METRICS_ADDR},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"namespace", required_argument, NULL, OPT_NAMESPACE},
    {"cluster-domain", required_argument, NULL, OPT_CLUSTER_DOMAIN},
    {"dump-fsm", optional_argument, NULL, OPT_DUMP_FSM},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int
main(int argc, char **argv)
{
	struct ttc_operator op = {0};
	char err[512];
	int c;

	op.overrides.log_level = -1;
	op.overrides.log_format = -1;
	while ((c = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			op.config_path = optarg;
			break;
		case OPT_METRICS_ADDR:
			op.overrides.metrics_addr = optarg;
			break;
		case OPT_LOG_LEVEL:
			if ((op.overrides.log_level = lookup(log_level_names, optarg)) < 0) {
				fprintf(stderr, OPERATOR_NAME ": unknown log level \"%s\"\n",
				        optarg);
				return 2;
			}
			break;
		case OPT_LOG_FORMAT:
			if ((op.overrides.log_format = lookup(log_format_names, optarg)) < 0) {
				fprintf(stderr, OPERATOR_NAME ": unknown log format \"%s\"\n",
				        optarg);
				return 2;
			}
			break;
		case OPT_KUBECONFIG:
			op.overrides.kubeconfig = optarg;
			break;
		case OPT_NAMESPACE:
			op.overrides.namespace = optarg;
			break;
		case OPT_CLUSTER_DOMAIN:
			op.overrides.cluster_domain = optarg;
			break;
		case OPT_DUMP_FSM: {
			const struct topology *t =
			    topology_named(optarg ? optarg : "activeStandbyPair");
			if (optarg && strcmp(optarg, upgrade_table.name) == 0) {
				fsm_dot(&upgrade_table, stdout);
				return 0;
			}
			if (t == NULL) {
				fprintf(stderr, "--dump-fsm: no topology \"%s\"\n", optarg);
				return 2;
			}
			fsm_dot(t->table, stdout);
			return 0;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(OPERATOR_NAME " (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, OPERATOR_NAME ": unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((op.config = config_build(op.config_path, &op.overrides, err, sizeof(err))) == NULL) {
		log_error("config", "cannot start with this configuration", "error", err, NULL);
		return 1;
	}
	log_setup(2, op.config->log_level, op.config->log_format);
	objects_set_cluster_domain(op.config->cluster_domain);
	if (operator_init(&op) < 0) {
		operator_cleanup(&op);
		return 1;
	}
	operator_run(&op);
	operator_cleanup(&op);
	return 0;
}
