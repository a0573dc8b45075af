/*
 * Unit tests for src/common/tls.c, the TLS set-up the agent and the operator share:
 * certificates made in memory, chains checked without sockets, and handshakes between
 * the server and client contexts over in-memory BIO pairs.
 */
#include "config.h"

#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tap.h"
#include "ttc/tls.h"

struct pair {
	char *cert, *key;
};

static void
pair_free(struct pair *p)
{
	free(p->cert);
	free(p->key);
}

/* Runs a handshake between fresh SSLs of the two contexts; 0 when both sides finish. */
static int
handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx, const char *host)
{
	SSL *s = SSL_new(server_ctx), *c = SSL_new(client_ctx);
	BIO *sb, *cb;
	int s_done = 0, c_done = 0, rc = -1;
	char err[256];

	BIO_new_bio_pair(&sb, 0, &cb, 0);
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	if (host != NULL && tls_client_set_peer(c, host, err, sizeof(err)) < 0)
		goto out;
	for (int i = 0; i < 100 && !(s_done && c_done); i++) {
		int r;
		if (!c_done) {
			r = SSL_do_handshake(c);
			if (r == 1)
				c_done = 1;
			else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
				goto out;
		}
		if (!s_done) {
			r = SSL_do_handshake(s);
			if (r == 1)
				s_done = 1;
			else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
				goto out;
		}
	}
	/* With TLS 1.3 the server checks the client's certificate after the client thinks
	 * it is done: exchange a byte each way to see the verdict. */
	char byte = 'x';
	if (SSL_write(c, &byte, 1) != 1 || SSL_read(s, &byte, 1) != 1)
		goto out;
	if (SSL_write(s, &byte, 1) != 1 || SSL_read(c, &byte, 1) != 1)
		goto out;
	rc = 0;
out:
	SSL_free(s);
	SSL_free(c);
	ERR_clear_error();
	return rc;
}

int
main(void)
{
	struct pair ca, ca2, server, client, client2, both;
	char err[512];
	const char *dns[] = {"sample-0.sample.ns.svc.cluster.local", "localhost", NULL};
	const char *ips[] = {"127.0.0.2", "::1", NULL};
	const char *bad_dns[] = {"a,b", NULL};
	const char *none[] = {NULL};

	ok(tls_make_ca("ttclassic CA sample", 365, &ca.cert, &ca.key, err, sizeof(err)) == 0,
	   "a CA is made");
	like(ca.cert, "-----BEGIN CERTIFICATE-----", "as a PEM certificate");
	like(ca.key, "-----BEGIN PRIVATE KEY-----", "with a PEM key");
	ok(tls_make_ca("other CA", 365, &ca2.cert, &ca2.key, err, sizeof(err)) == 0,
	   "a second CA is made");
	char *bc, *bk;
	ok(tls_make_ca("", 365, &bc, &bk, err, sizeof(err)) < 0, "an empty CA name is refused");

	struct tls_leaf_req sreq = {"ttagent", dns, ips, 30, TLS_USAGE_SERVER};
	struct tls_leaf_req creq = {"timesten-operator", none, NULL, 30, TLS_USAGE_CLIENT};
	struct tls_leaf_req breq = {"both", dns, NULL, 30, TLS_USAGE_SERVER | TLS_USAGE_CLIENT};
	ok(tls_make_leaf(ca.cert, ca.key, &sreq, &server.cert, &server.key, err, sizeof(err)) == 0,
	   "a server certificate is made");
	ok(tls_make_leaf(ca.cert, ca.key, &creq, &client.cert, &client.key, err, sizeof(err)) == 0,
	   "a client certificate is made");
	ok(tls_make_leaf(ca2.cert, ca2.key, &creq, &client2.cert, &client2.key, err, sizeof(err)) ==
	       0,
	   "a client certificate of another CA is made");
	ok(tls_make_leaf(ca.cert, ca.key, &breq, &both.cert, &both.key, err, sizeof(err)) == 0,
	   "a certificate for both uses is made");

	struct tls_leaf_req badreq = {"x", bad_dns, NULL, 30, TLS_USAGE_SERVER};
	ok(tls_make_leaf(ca.cert, ca.key, &badreq, &bc, &bk, err, sizeof(err)) < 0,
	   "a DNS name with a comma is refused");
	like(err, "invalid DNS name", "saying which name");
	ok(tls_make_leaf(ca.cert, ca2.key, &sreq, &bc, &bk, err, sizeof(err)) < 0,
	   "a CA key that does not match its certificate is refused");

	/* Chains without sockets. */
	ok(tls_verify(ca.cert, server.cert, TLS_USAGE_SERVER, NULL, err, sizeof(err)) == 0,
	   "the server certificate chains to its CA");
	ok(tls_verify(ca.cert, server.cert, TLS_USAGE_SERVER, dns[0], err, sizeof(err)) == 0,
	   "and matches its DNS name");
	ok(tls_verify(ca.cert, server.cert, TLS_USAGE_SERVER, "127.0.0.2", err, sizeof(err)) == 0,
	   "and its IPv4 address");
	ok(tls_verify(ca.cert, server.cert, TLS_USAGE_SERVER, "::1", err, sizeof(err)) == 0,
	   "and its IPv6 address");
	ok(tls_verify(ca.cert, server.cert, TLS_USAGE_SERVER, "sample-1.sample.ns.svc", err,
	              sizeof(err)) < 0,
	   "but not another name");
	like(err, "hostname mismatch", "saying the host name does not match");
	ok(tls_verify(ca.cert, server.cert, TLS_USAGE_SERVER, "127.0.0.3", err, sizeof(err)) < 0,
	   "nor another address");
	ok(tls_verify(ca2.cert, server.cert, TLS_USAGE_SERVER, NULL, err, sizeof(err)) < 0,
	   "another CA does not vouch for it");
	like(err, "unable to get local issuer certificate", "saying the issuer is unknown");
	ok(tls_verify(ca.cert, server.cert, TLS_USAGE_CLIENT, NULL, err, sizeof(err)) < 0,
	   "a server certificate is not a client certificate");
	ok(tls_verify(ca.cert, client.cert, TLS_USAGE_CLIENT, NULL, err, sizeof(err)) == 0,
	   "the client certificate chains to its CA for client use");
	ok(tls_verify(ca.cert, client.cert, TLS_USAGE_SERVER, NULL, err, sizeof(err)) < 0,
	   "but is not a server certificate");
	ok(tls_verify(ca.cert, both.cert, TLS_USAGE_CLIENT, NULL, err, sizeof(err)) == 0 &&
	       tls_verify(ca.cert, both.cert, TLS_USAGE_SERVER, NULL, err, sizeof(err)) == 0,
	   "a certificate for both uses serves both");
	ok(tls_verify(ca.cert, "junk", TLS_USAGE_SERVER, NULL, err, sizeof(err)) < 0,
	   "junk is not a certificate");
	ok(tls_verify(ca.cert, ca.cert, TLS_USAGE_SERVER, NULL, err, sizeof(err)) < 0,
	   "the CA itself is not a server certificate");

	/* Contexts. */
	SSL_CTX *sctx = tls_server_ctx(ca.cert, server.cert, server.key, err, sizeof(err));
	ok(sctx != NULL, "a server context is made");
	ok(tls_server_ctx(ca.cert, server.cert, client.key, err, sizeof(err)) == NULL,
	   "a server context with a key of another certificate is refused");
	like(err, "does not match", "saying the key does not match");
	ok(tls_server_ctx(ca2.cert, server.cert, server.key, err, sizeof(err)) == NULL,
	   "a server context with a certificate of another CA is refused");
	ok(tls_server_ctx(ca.cert, client.cert, client.key, err, sizeof(err)) == NULL,
	   "a client certificate cannot serve");
	SSL_CTX *cctx = tls_client_ctx(ca.cert, client.cert, client.key, err, sizeof(err));
	SSL_CTX *nocert = tls_client_ctx(ca.cert, NULL, NULL, err, sizeof(err));
	SSL_CTX *other = tls_client_ctx(ca2.cert, client2.cert, client2.key, err, sizeof(err));
	SSL_CTX *stranger = tls_client_ctx(ca.cert, client2.cert, client2.key, err, sizeof(err));
	ok(cctx && nocert && other, "client contexts are made, with and without a certificate");
	ok(stranger == NULL, "a client certificate of another CA is refused by the client side");
	ok(tls_client_ctx(ca.cert, client.cert, NULL, err, sizeof(err)) == NULL,
	   "a certificate without its key is refused");

	ok(handshake(sctx, cctx, dns[0]) == 0, "handshake with a client certificate, by name");
	ok(handshake(sctx, cctx, "127.0.0.2") == 0, "and by IP address");
	ok(handshake(sctx, cctx, "sample-1.sample.ns.svc.cluster.local") < 0,
	   "the client refuses a server of another name");
	ok(handshake(sctx, nocert, dns[0]) < 0, "the server refuses a client without certificate");
	/* The other-CA client does not trust our server, so give it our CA to trust but its
	 * own certificate to show. */
	SSL_CTX *mixed = tls_client_ctx(ca.cert, NULL, NULL, err, sizeof(err));
	SSL_CTX_use_certificate_chain_file(mixed, "/nonexistent"); /* stays without cert */
	ERR_clear_error();
	{
		BIO *b = BIO_new_mem_buf(client2.cert, -1);
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO *kb = BIO_new_mem_buf(client2.key, -1);
		EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
		SSL_CTX_use_certificate(mixed, x);
		SSL_CTX_use_PrivateKey(mixed, k);
		X509_free(x);
		EVP_PKEY_free(k);
		BIO_free(b);
		BIO_free(kb);
	}
	ok(handshake(sctx, mixed, dns[0]) < 0,
	   "the server refuses a client certificate of another CA");
	ok(handshake(sctx, other, dns[0]) < 0, "a client trusting another CA refuses the server");

	/* Rotation: a new CA and certificates replace the old ones; bad ones change nothing. */
	struct pair ca3, server3, client3;
	tls_make_ca("rotated CA", 365, &ca3.cert, &ca3.key, err, sizeof(err));
	tls_make_leaf(ca3.cert, ca3.key, &sreq, &server3.cert, &server3.key, err, sizeof(err));
	tls_make_leaf(ca3.cert, ca3.key, &creq, &client3.cert, &client3.key, err, sizeof(err));
	ok(tls_ctx_update(sctx, ca3.cert, server3.cert, server.key, err, sizeof(err)) < 0,
	   "an update with a mismatched key is refused");
	ok(handshake(sctx, cctx, dns[0]) == 0, "and the old credentials still work");
	ok(tls_ctx_update(sctx, ca3.cert, server3.cert, server3.key, err, sizeof(err)) == 0,
	   "an update with new credentials is accepted");
	ok(handshake(sctx, cctx, dns[0]) < 0, "then the old client is refused");
	SSL_CTX *cctx3 = tls_client_ctx(ca3.cert, client3.cert, client3.key, err, sizeof(err));
	ok(handshake(sctx, cctx3, dns[0]) == 0, "and a client of the new CA is accepted");
	char name[64];
	is_str(tls_peer_name(NULL, name, sizeof(name)), "", "no SSL, no peer name");

	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	SSL_CTX_free(cctx3);
	SSL_CTX_free(nocert);
	SSL_CTX_free(other);
	SSL_CTX_free(mixed);
	pair_free(&ca);
	pair_free(&ca2);
	pair_free(&ca3);
	pair_free(&server);
	pair_free(&server3);
	pair_free(&client);
	pair_free(&client2);
	pair_free(&client3);
	pair_free(&both);
	return done_testing();
}
