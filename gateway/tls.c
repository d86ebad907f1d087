/* The gateway's reloadable TLS identity (tls.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <h2o.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gateway/tls.h"
#include "tlog/error.h"
#include "tlog/keys.h"

typedef struct identity {
    X509 *cert;
    STACK_OF(X509) * chain; /* the certificates after the first in tls_cert */
    EVP_PKEY *key;
} identity_t;

struct gateway_tls {
    char *cert_path, *key_path;
    SSL_CTX *ctx;
    pthread_mutex_t lock; /* guards current */
    identity_t current;
};

static void identity_clear(identity_t *id)
{
    X509_free(id->cert);
    sk_X509_pop_free(id->chain, X509_free);
    EVP_PKEY_free(id->key);
    *id = (identity_t){NULL, NULL, NULL};
}

static const char *openssl_reason(void)
{
    const char *reason = ERR_reason_error_string(ERR_peek_last_error());
    return reason != NULL ? reason : "unknown error";
}

static int identity_load(const char *cert_path, const char *key_path, identity_t *out, char *err)
{
    char why[TLOG_ERR_MAX];
    identity_t id = {NULL, sk_X509_new_null(), NULL};
    BIO *bio = BIO_new_file(cert_path, "r");
    X509 *extra;
    int ret = -1;

    if (id.chain == NULL)
        abort();
    ERR_clear_error();
    if (bio == NULL || (id.cert = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) == NULL) {
        tlog_errorf(err, "gateway.tls_cert: %s: no PEM certificate (%s)", cert_path, openssl_reason());
        goto done;
    }
    while ((extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(id.chain, extra))
            abort();
    if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
        tlog_errorf(err, "gateway.tls_cert: %s: a certificate after the first does not parse (%s)", cert_path, openssl_reason());
        goto done;
    }
    ERR_clear_error();
    if (tlog_key_load_private(key_path, EVP_PKEY_NONE, &id.key, why) != 0) {
        tlog_errorf(err, "gateway.tls_key: %s", why);
        goto done;
    }
    if (X509_check_private_key(id.cert, id.key) != 1) {
        tlog_errorf(err, "gateway.tls_key: %s: is not the PEM private key of the certificate in gateway.tls_cert (%s)", key_path,
                    openssl_reason());
        goto done;
    }
    *out = id;
    id = (identity_t){NULL, NULL, NULL};
    ret = 0;
done:
    ERR_clear_error();
    BIO_free(bio);
    identity_clear(&id);
    return ret;
}

/* Every handshake: the identity loaded last. */
static int on_certificate(SSL *ssl, void *arg)
{
    gateway_tls_t *tls = arg;
    pthread_mutex_lock(&tls->lock);
    int ok = SSL_use_cert_and_key(ssl, tls->current.cert, tls->current.key, tls->current.chain, 1) == 1;
    pthread_mutex_unlock(&tls->lock);
    return ok;
}

gateway_tls_t *gateway_tls_new(const char *cert_path, const char *key_path, char *err)
{
    gateway_tls_t *tls = calloc(1, sizeof(*tls));
    if (tls == NULL || (tls->cert_path = strdup(cert_path)) == NULL || (tls->key_path = strdup(key_path)) == NULL ||
        (tls->ctx = SSL_CTX_new(TLS_server_method())) == NULL)
        abort();
    pthread_mutex_init(&tls->lock, NULL);
    if (identity_load(cert_path, key_path, &tls->current, err) != 0) {
        gateway_tls_free(tls);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(tls->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_cert_cb(tls->ctx, on_certificate, tls);
    h2o_ssl_register_alpn_protocols(tls->ctx, h2o_http2_alpn_protocols);
    return tls;
}

void gateway_tls_free(gateway_tls_t *tls)
{
    if (tls == NULL)
        return;
    SSL_CTX_free(tls->ctx);
    identity_clear(&tls->current);
    pthread_mutex_destroy(&tls->lock);
    free(tls->cert_path);
    free(tls->key_path);
    free(tls);
}

SSL_CTX *gateway_tls_context(gateway_tls_t *tls)
{
    return tls->ctx;
}

int gateway_tls_reload(gateway_tls_t *tls, char *about, size_t about_size, char *err)
{
    identity_t fresh, old;
    if (identity_load(tls->cert_path, tls->key_path, &fresh, err) != 0)
        return -1;
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(fresh.cert), subject, sizeof(subject));
    char not_after[64];
    BIO *mem = BIO_new(BIO_s_mem());
    int n = mem != NULL && ASN1_TIME_print(mem, X509_get0_notAfter(fresh.cert)) == 1
                ? BIO_read(mem, not_after, sizeof(not_after) - 1)
                : 0;
    not_after[n > 0 ? n : 0] = '\0';
    BIO_free(mem);
    pthread_mutex_lock(&tls->lock);
    old = tls->current;
    tls->current = fresh;
    pthread_mutex_unlock(&tls->lock);
    identity_clear(&old);
    snprintf(about, about_size, "%s, valid until %s", subject, not_after);
    return 0;
}
