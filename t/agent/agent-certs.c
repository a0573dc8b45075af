/*
 * Test helper: makes the certificates of the agent tests with the same code the operator
 * uses (ttc/tls.h). agent-certs DIR [NAME-OR-IP...] writes, in DIR:
 *   ca.crt ca.key              the CA of a TimesTenClassic object
 *   tls.crt tls.key            the agents' server certificate (SANs: the arguments)
 *   client.crt client.key      the operator's client certificate
 *   other-ca.crt other.crt other.key   a client certificate of another CA
 *   server-as-client.crt/.key  the server certificate, to try it as a client
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttc/tls.h"

static int
put(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char *ca, *cakey, *cert, *key, *ca2, *ca2key, err[512];
	const char *dns[64] = {NULL}, *ips[64] = {NULL};
	size_t nd = 0, ni = 0;
	unsigned char buf[16];

	if (argc < 2) {
		fprintf(stderr, "usage: agent-certs DIR [NAME-OR-IP...]\n");
		return 2;
	}
	for (int i = 2; i < argc && nd < 63 && ni < 63; i++) {
		if (inet_pton(AF_INET, argv[i], buf) == 1 || inet_pton(AF_INET6, argv[i], buf) == 1)
			ips[ni++] = argv[i];
		else
			dns[nd++] = argv[i];
	}
	struct tls_leaf_req server = {"ttagent", dns, ips, 30, TLS_USAGE_SERVER};
	struct tls_leaf_req client = {"timesten-operator", NULL, NULL, 30, TLS_USAGE_CLIENT};
	if (tls_make_ca("ttclassic test CA", 30, &ca, &cakey, err, sizeof(err)) < 0 ||
	    put(argv[1], "ca.crt", ca) < 0 || put(argv[1], "ca.key", cakey) < 0)
		goto fail;
	if (tls_make_leaf(ca, cakey, &server, &cert, &key, err, sizeof(err)) < 0 ||
	    put(argv[1], "tls.crt", cert) < 0 || put(argv[1], "tls.key", key) < 0 ||
	    put(argv[1], "server-as-client.crt", cert) < 0 ||
	    put(argv[1], "server-as-client.key", key) < 0)
		goto fail;
	free(cert);
	free(key);
	if (tls_make_leaf(ca, cakey, &client, &cert, &key, err, sizeof(err)) < 0 ||
	    put(argv[1], "client.crt", cert) < 0 || put(argv[1], "client.key", key) < 0)
		goto fail;
	free(cert);
	free(key);
	if (tls_make_ca("another CA", 30, &ca2, &ca2key, err, sizeof(err)) < 0 ||
	    put(argv[1], "other-ca.crt", ca2) < 0 ||
	    tls_make_leaf(ca2, ca2key, &client, &cert, &key, err, sizeof(err)) < 0 ||
	    put(argv[1], "other.crt", cert) < 0 || put(argv[1], "other.key", key) < 0)
		goto fail;
	free(cert);
	free(key);
	free(ca);
	free(cakey);
	free(ca2);
	free(ca2key);
	return 0;
fail:
	fprintf(stderr, "agent-certs: %s\n", err);
	return 1;
}
