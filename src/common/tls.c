/*
 * TLS with OpenSSL 3 (see ttc/tls.h): certificates made in memory, server and client
 * contexts for mutual TLS, chain checks without sockets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ttc/tls.h"

#define TLS_CLOCK_SKEW_SECONDS 300

/* Writes what and OpenSSL's last error into err, and clears OpenSSL's error queue. */
static int
fail(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char reason[256] = "";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	if (reason[0] != '\0')
		snprintf(err, errlen, "%s: %s", what, reason);
	else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
	return -1;
}

static X509 *
cert_from_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

static EVP_PKEY *
key_from_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

/* Every certificate in pem (a bundle may hold several); NULL when there is none. */
static STACK_OF(X509) * certs_from_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;

	if (b == NULL || sk == NULL) {
		BIO_free(b);
		sk_X509_free(sk);
		return NULL;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	}
	ERR_clear_error(); /* the read past the last certificate */
	BIO_free(b);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

static char *
bio_to_string(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;

	if (s != NULL) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	return s;
}

static char *
cert_to_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b != NULL && PEM_write_bio_X509(b, x))
		s = bio_to_string(b);
	BIO_free(b);
	return s;
}

static char *
key_to_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b != NULL && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		s = bio_to_string(b);
	BIO_free(b);
	return s;
}

static int
add_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
	X509V3_CTX c;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&c, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &c, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int
random_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	int ok = 0;

	if (bn != NULL && BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL)
		ok = X509_set_serialNumber(x, serial);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok ? 0 : -1;
}

/* A new certificate for key with subject CN, valid for days, issued by issuer_name. */
static X509 *
new_cert(EVP_PKEY *key, const char *cn, int days, const X509_NAME *issuer_name)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (x == NULL)
		return NULL;
	if (!X509_set_version(x, X509_VERSION_3) || random_serial(x) < 0 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -TLS_CLOCK_SKEW_SECONDS) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ||
	    !X509_set_pubkey(x, key) || (name = X509_get_subject_name(x)) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	                                -1, 0) ||
	    !X509_set_issuer_name(x, issuer_name ? issuer_name : name)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
check_name(const char *what, const char *s, char *err, size_t errlen)
{
	if (s == NULL || *s == '\0' || strlen(s) > 253 || strpbrk(s, ",\n\r") != NULL) {
		snprintf(err, errlen, "invalid %s \"%s\"", what, s ? s : "");
		return -1;
	}
	return 0;
}

/* The certificate and its key as malloc'd PEM strings: 0, or -1 with both NULL. */
static int
to_pem_pair(X509 *x, EVP_PKEY *key, char **cert_pem, char **key_pem, char *err, size_t errlen)
{
	*cert_pem = cert_to_pem(x);
	*key_pem = key_to_pem(key);
	if (*cert_pem == NULL || *key_pem == NULL) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
		return fail(err, errlen, "cannot write PEM");
	}
	return 0;
}

int
tls_make_ca(const char *common_name, int days, char **cert_pem, char **key_pem, char *err,
            size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rc = -1;

	*cert_pem = *key_pem = NULL;
	if (check_name("common name", common_name, err, errlen) < 0)
		return -1;
	if (days <= 0) {
		snprintf(err, errlen, "invalid validity of %d days", days);
		return -1;
	}
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		fail(err, errlen, "cannot make a key");
		goto out;
	}
	if ((x = new_cert(key, common_name, days, NULL)) == NULL ||
	    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, x, NID_authority_key_identifier, "keyid:always") < 0 ||
	    !X509_sign(x, key, EVP_sha256())) {
		fail(err, errlen, "cannot make the CA certificate");
		goto out;
	}
	rc = to_pem_pair(x, key, cert_pem, key_pem, err, errlen);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* "DNS:a,DNS:b,IP:1.2.3.4" for the request's names, or NULL (and err) when one is bad. */
static char *
san_value(const struct tls_leaf_req *req, char *err, size_t errlen)
{
	size_t n = 1;
	char *s, *p;

	for (int pass = 0; pass < 2; pass++) {
		const char *const *list = pass ? req->ips : req->dns;
		for (size_t i = 0; list && list[i]; i++) {
			if (check_name(pass ? "IP address" : "DNS name", list[i], err, errlen) < 0)
				return NULL;
			n += strlen(list[i]) + 5;
		}
	}
	if ((s = p = calloc(1, n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *const *list = pass ? req->ips : req->dns;
		for (size_t i = 0; list && list[i]; i++)
			p += sprintf(p, "%s%s:%s", p == s ? "" : ",", pass ? "IP" : "DNS", list[i]);
	}
	return s;
}

int
tls_make_leaf(const char *ca_cert_pem, const char *ca_key_pem, const struct tls_leaf_req *req,
              char **cert_pem, char **key_pem, char *err, size_t errlen)
{
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	char *san = NULL, eku[64] = "";
	int rc = -1;

	*cert_pem = *key_pem = NULL;
	if (check_name("common name", req->common_name, err, errlen) < 0)
		return -1;
	if (req->days <= 0 || (req->usage & (TLS_USAGE_SERVER | TLS_USAGE_CLIENT)) == 0) {
		snprintf(err, errlen, "a leaf needs a positive validity and a usage");
		return -1;
	}
	if ((ca = cert_from_pem(ca_cert_pem)) == NULL ||
	    (ca_key = key_from_pem(ca_key_pem)) == NULL) {
		fail(err, errlen, "cannot read the CA certificate or key");
		goto out;
	}
	if (!X509_check_private_key(ca, ca_key)) {
		fail(err, errlen, "the CA key does not match the CA certificate");
		goto out;
	}
	if ((san = san_value(req, err, errlen)) == NULL)
		goto out;
	snprintf(eku, sizeof(eku), "%s%s%s", req->usage & TLS_USAGE_SERVER ? "serverAuth" : "",
	         req->usage == (TLS_USAGE_SERVER | TLS_USAGE_CLIENT) ? "," : "",
	         req->usage & TLS_USAGE_CLIENT ? "clientAuth" : "");
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		fail(err, errlen, "cannot make a key");
		goto out;
	}
	if ((x = new_cert(key, req->common_name, req->days, X509_get_subject_name(ca))) == NULL ||
	    add_ext(ca, x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(ca, x, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(ca, x, NID_ext_key_usage, eku) < 0 ||
	    (san[0] != '\0' && add_ext(ca, x, NID_subject_alt_name, san) < 0) ||
	    add_ext(ca, x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(ca, x, NID_authority_key_identifier, "keyid:always") < 0 ||
	    !X509_sign(x, ca_key, EVP_sha256())) {
		fail(err, errlen, "cannot make the certificate");
		goto out;
	}
	rc = to_pem_pair(x, key, cert_pem, key_pem, err, errlen);
out:
	free(san);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rc;
}

/* A trust store holding every certificate of ca_pem. */
static X509_STORE *
store_from_pem(const char *ca_pem, char *err, size_t errlen)
{
	STACK_OF(X509) *cas = certs_from_pem(ca_pem);
	X509_STORE *store = cas ? X509_STORE_new() : NULL;

	if (store == NULL) {
		fail(err, errlen, "cannot read the CA certificate");
		sk_X509_pop_free(cas, X509_free);
		return NULL;
	}
	for (int i = 0; i < sk_X509_num(cas); i++) {
		if (!X509_STORE_add_cert(store, sk_X509_value(cas, i))) {
			fail(err, errlen, "cannot trust the CA certificate");
			X509_STORE_free(store);
			store = NULL;
			break;
		}
	}
	sk_X509_pop_free(cas, X509_free);
	return store;
}

/* Verifies x against store for purpose (X509_PURPOSE_*) and an optional host. */
static int
verify_cert(X509_STORE *store, X509 *x, int purpose, const char *host, char *err, size_t errlen)
{
	X509_STORE_CTX *c = X509_STORE_CTX_new();
	int rc = -1;

	if (c == NULL || !X509_STORE_CTX_init(c, store, x, NULL)) {
		fail(err, errlen, "cannot verify");
		X509_STORE_CTX_free(c);
		return -1;
	}
	X509_STORE_CTX_set_purpose(c, purpose);
	if (host != NULL) {
		X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(c);
		/* An IP literal is checked against IP SANs, anything else against DNS SANs. */
		if (!X509_VERIFY_PARAM_set1_ip_asc(p, host)) {
			ERR_clear_error();
			X509_VERIFY_PARAM_set1_host(p, host, 0);
		}
	}
	if (X509_verify_cert(c) == 1)
		rc = 0;
	else
		snprintf(err, errlen, "certificate verification failed: %s",
		         X509_verify_cert_error_string(X509_STORE_CTX_get_error(c)));
	X509_STORE_CTX_free(c);
	ERR_clear_error();
	return rc;
}

int
tls_verify(const char *ca_pem, const char *cert_pem, unsigned usage, const char *host, char *err,
           size_t errlen)
{
	X509_STORE *store = store_from_pem(ca_pem, err, errlen);
	X509 *x;
	int rc;

	if (store == NULL)
		return -1;
	if ((x = cert_from_pem(cert_pem)) == NULL) {
		X509_STORE_free(store);
		return fail(err, errlen, "cannot read the certificate");
	}
	rc = verify_cert(
	    store, x, usage == TLS_USAGE_CLIENT ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER,
	    host, err, errlen);
	X509_free(x);
	X509_STORE_free(store);
	return rc;
}

/* Checks a set of credentials: each part parses, the key fits, the chain verifies. */
struct creds {
	X509_STORE *store;
	X509 *cert;
	EVP_PKEY *key;
};

static void
creds_free(struct creds *c)
{
	X509_STORE_free(c->store);
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

static int
creds_load(struct creds *c, const char *ca_pem, const char *cert_pem, const char *key_pem,
           int purpose, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if ((cert_pem == NULL) != (key_pem == NULL)) {
		snprintf(err, errlen, "a certificate needs its key and a key its certificate");
		return -1;
	}
	if ((c->store = store_from_pem(ca_pem, err, errlen)) == NULL)
		return -1;
	if (cert_pem == NULL)
		return 0;
	if ((c->cert = cert_from_pem(cert_pem)) == NULL) {
		creds_free(c);
		return fail(err, errlen, "cannot read the certificate");
	}
	if ((c->key = key_from_pem(key_pem)) == NULL) {
		creds_free(c);
		return fail(err, errlen, "cannot read the private key");
	}
	if (!X509_check_private_key(c->cert, c->key)) {
		creds_free(c);
		return fail(err, errlen, "the private key does not match the certificate");
	}
	if (verify_cert(c->store, c->cert, purpose, NULL, err, errlen) < 0) {
		creds_free(c);
		return -1;
	}
	return 0;
}

/* Installs checked credentials into ctx; the context takes the store. */
static int
creds_install(SSL_CTX *ctx, struct creds *c, char *err, size_t errlen)
{
	if (c->cert != NULL &&
	    (!SSL_CTX_use_certificate(ctx, c->cert) || !SSL_CTX_use_PrivateKey(ctx, c->key) ||
	     !SSL_CTX_check_private_key(ctx))) {
		creds_free(c);
		return fail(err, errlen, "cannot use the certificate and key");
	}
	SSL_CTX_set_cert_store(ctx, c->store); /* frees the old store */
	c->store = NULL;
	creds_free(c);
	ERR_clear_error();
	return 0;
}

static SSL_CTX *
new_ctx(const SSL_METHOD *method, int verify_mode, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL) {
		fail(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		fail(err, errlen, "cannot require TLS 1.2");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, verify_mode, NULL);
	SSL_CTX_set_verify_depth(ctx, 2);
	/* A connection kept open between requests holds no TLS record buffers while idle
	 * (some 34 KB each way otherwise): the operator keeps two per pair. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

SSL_CTX *
tls_server_ctx(const char *ca_pem, const char *cert_pem, const char *key_pem, char *err,
               size_t errlen)
{
	struct creds c;
	SSL_CTX *ctx;

	if (cert_pem == NULL || key_pem == NULL) {
		snprintf(err, errlen, "a server needs a certificate and a key");
		return NULL;
	}
	if (creds_load(&c, ca_pem, cert_pem, key_pem, X509_PURPOSE_SSL_SERVER, err, errlen) < 0)
		return NULL;
	if ((ctx = new_ctx(TLS_server_method(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
	                   err, errlen)) == NULL) {
		creds_free(&c);
		return NULL;
	}
	/* Verify client certificates for client authentication (their EKU). */
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	/* No session resumption: every connection shows its certificate again. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (creds_install(ctx, &c, err, errlen) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *
tls_client_ctx(const char *ca_pem, const char *cert_pem, const char *key_pem, char *err,
               size_t errlen)
{
	struct creds c;
	SSL_CTX *ctx;

	if (creds_load(&c, ca_pem, cert_pem, key_pem, X509_PURPOSE_SSL_CLIENT, err, errlen) < 0)
		return NULL;
	if ((ctx = new_ctx(TLS_client_method(), SSL_VERIFY_PEER, err, errlen)) == NULL) {
		creds_free(&c);
		return NULL;
	}
	SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	/* OpenSSL 3 reports a missing close_notify as an error; HTTP framing finds
	 * truncation anyway (see the libevent notes). */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (creds_install(ctx, &c, err, errlen) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
tls_ctx_update(SSL_CTX *ctx, const char *ca_pem, const char *cert_pem, const char *key_pem,
               char *err, size_t errlen)
{
	struct creds c;
	int server = SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_FAIL_IF_NO_PEER_CERT;

	if (creds_load(&c, ca_pem, cert_pem, key_pem,
	               server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT, err, errlen) < 0)
		return -1;
	return creds_install(ctx, &c, err, errlen);
}

int
tls_client_set_peer(SSL *ssl, const char *host, char *err, size_t errlen)
{
	X509_VERIFY_PARAM *p = SSL_get0_param(ssl);

	if (host == NULL || *host == '\0') {
		snprintf(err, errlen, "no peer name");
		return -1;
	}
	if (X509_VERIFY_PARAM_set1_ip_asc(p, host))
		return 0; /* no SNI for IP literals (RFC 6066) */
	ERR_clear_error();
	if (!SSL_set_tlsext_host_name(ssl, host) || !SSL_set1_host(ssl, host))
		return fail(err, errlen, "cannot set the peer name");
	return 0;
}

const char *
tls_peer_name(SSL *ssl, char *buf, size_t n)
{
	X509 *x = ssl ? SSL_get1_peer_certificate(ssl) : NULL;

	if (n > 0)
		buf[0] = '\0';
	if (x != NULL) {
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
		                              (int)n) < 0 &&
		    n > 0)
			buf[0] = '\0';
		X509_free(x);
	}
	ERR_clear_error();
	return buf;
}
