/*
 * ttagent: runs in each TimesTen pod's tt container, reports TimesTen's state to the
 * operator and carries out its orders. This file reads the command line.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#define AGENT_NAME "ttagent"

static void
usage(FILE *out)
{
	fprintf(out, "Usage: " AGENT_NAME " [OPTION]...\n"
		     "Reports the TimesTen state of this pod to the TimesTen operator and\n"
		     "carries out its orders, over HTTPS with client certificates.\n"
		     "\n"
		     "  -h, --help                 show this help and exit\n"
		     "  -V, --version              show the version and exit\n");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(AGENT_NAME " (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	fprintf(stderr, AGENT_NAME ": serving is not available in this build\n");
	return 1;
}
