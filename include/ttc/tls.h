/*
 * TLS with OpenSSL 3: making a CA and leaf certificates as PEM in memory, TLS contexts for
 * a server that requires client certificates and for a client that verifies its server by
 * DNS name or IP address, and chain checks without sockets.
 */
#ifndef TTC_TLS_H
#define TTC_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* What a leaf certificate may be used for (its extended key usage). */
#define TLS_USAGE_SERVER 1u /* serverAuth */
#define TLS_USAGE_CLIENT 2u /* clientAuth */

struct tls_leaf_req {
	const char *common_name;
	const char *const *dns; /* subjectAltName DNS names, NULL-terminated (may be NULL) */
	const char *const *ips; /* subjectAltName IP addresses, NULL-terminated (may be NULL) */
	int days;               /* validity from now (backdated 5 minutes for clock skew) */
	unsigned usage;         /* TLS_USAGE_SERVER and/or TLS_USAGE_CLIENT */
};

/*
 * A self-signed CA (EC P-256, CA:TRUE, pathlen 0, keyCertSign+cRLSign) valid for days.
 * On success *cert_pem and *key_pem are malloc'd PEM strings. 0 or -1 with err.
 */
int tls_make_ca(const char *common_name, int days, char **cert_pem, char **key_pem, char *err,
                size_t errlen);
/* A leaf (EC P-256, CA:FALSE, digitalSignature, EKU per usage, SANs) signed by the CA. */
int tls_make_leaf(const char *ca_cert_pem, const char *ca_key_pem, const struct tls_leaf_req *req,
                  char **cert_pem, char **key_pem, char *err, size_t errlen);

/*
 * A server context (TLS >= 1.2) presenting cert/key and requiring a client certificate
 * issued by the CA in ca_pem, valid for client authentication. NULL with err.
 */
SSL_CTX *tls_server_ctx(const char *ca_pem, const char *cert_pem, const char *key_pem, char *err,
                        size_t errlen);
/*
 * Replaces the CA, certificate and key of a context made by tls_server_ctx or
 * tls_client_ctx (certificate rotation). Everything is checked first (PEM parses, key
 * matches certificate, certificate chains to the CA); on any failure the context is left
 * as it was. Connections already open keep their credentials.
 */
int tls_ctx_update(SSL_CTX *ctx, const char *ca_pem, const char *cert_pem, const char *key_pem,
                   char *err, size_t errlen);
/*
 * A client context (TLS >= 1.2) trusting only the CA in ca_pem; cert_pem/key_pem (both or
 * neither) are presented when the server asks. NULL with err.
 */
SSL_CTX *tls_client_ctx(const char *ca_pem, const char *cert_pem, const char *key_pem, char *err,
                        size_t errlen);
/*
 * Prepares a client SSL for the peer named host: a DNS name is checked against the
 * certificate's DNS SANs and sent as SNI; an IP literal is checked against its IP SANs.
 */
int tls_client_set_peer(SSL *ssl, const char *host, char *err, size_t errlen);

/*
 * Verifies cert_pem against the CA in ca_pem without a connection: the chain, the
 * validity period, the purpose (TLS_USAGE_SERVER or TLS_USAGE_CLIENT) and, when host is
 * not NULL, the DNS name or IP address. 0, or -1 with the reason in err.
 */
int tls_verify(const char *ca_pem, const char *cert_pem, unsigned usage, const char *host,
               char *err, size_t errlen);

/* The subject's common name of the peer certificate of ssl into buf ("" when none). */
const char *tls_peer_name(SSL *ssl, char *buf, size_t n);

#endif
