/*
 * Precomputed ECDSA nonces (see nonces.h).
 *
 * OpenSSL 3.0's providers cannot sign with a nonce computed beforehand; its
 * EC_KEY interface can (ECDSA_sign_setup, ECDSA_do_sign_ex), and is only
 * deprecated, not removed, so this file alone opts out of the deprecation
 * warnings. The EC_KEY is OpenSSL's own copy of the EVP_PKEY's key. A nonce
 * is the pair (k⁻¹, r = x(k·G) mod n), made by ECDSA_sign_setup from
 * OpenSSL's random generator; ECDSA_do_sign_ex completes the signature
 * s = k⁻¹(H(m) + r·d), and the pair is then wiped and freed.
 *
 * The reserve is a stack of pairs under one mutex; the same mutex is held
 * for every use of the EC_KEY (a setup costs about 25 µs, a signature about
 * 1 µs on the benchmark machine), so the key is never used by two threads
 * at once.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <pthread.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include "tlog/error.h"
#include "tlog/nonces.h"

typedef struct nonce {
    BIGNUM *kinv, *r;
} nonce_t;

struct tlog_nonces {
    pthread_mutex_t lock;
    EC_KEY *key;
    nonce_t *reserve;
    size_t count, capacity;
};

tlog_nonces_t *tlog_nonces_new(EVP_PKEY *key, size_t capacity, char *err)
{
    tlog_nonces_t *n = calloc(1, sizeof(*n));
    if (n == NULL || (n->reserve = calloc(capacity ? capacity : 1, sizeof(nonce_t))) == NULL)
        abort();
    n->capacity = capacity;
    pthread_mutex_init(&n->lock, NULL);
    if (!EVP_PKEY_is_a(key, "EC") || (n->key = EVP_PKEY_get1_EC_KEY(key)) == NULL) {
        ERR_clear_error();
        tlog_errorf(err, "nonces: the key is not an EC key");
        tlog_nonces_free(n);
        return NULL;
    }
    return n;
}

static void nonce_clear(nonce_t *nonce)
{
    BN_clear_free(nonce->kinv);
    BN_clear_free(nonce->r);
    nonce->kinv = nonce->r = NULL;
}

void tlog_nonces_free(tlog_nonces_t *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->count; i++)
        nonce_clear(&n->reserve[i]);
    EC_KEY_free(n->key);
    free(n->reserve);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

int tlog_nonces_fill(tlog_nonces_t *n, size_t want)
{
    int added = 0;
    for (size_t i = 0; i < want; i++) {
        pthread_mutex_lock(&n->lock);
        nonce_t *slot = n->count < n->capacity ? &n->reserve[n->count] : NULL;
        int ok = slot != NULL && ECDSA_sign_setup(n->key, NULL, &slot->kinv, &slot->r) == 1;
        if (ok)
            n->count++;
        else if (slot != NULL)
            nonce_clear(slot);
        pthread_mutex_unlock(&n->lock);
        if (slot == NULL)
            break;
        if (!ok) {
            ERR_clear_error();
            return -1;
        }
        added++;
    }
    return added;
}

size_t tlog_nonces_count(tlog_nonces_t *n)
{
    pthread_mutex_lock(&n->lock);
    size_t count = n->count;
    pthread_mutex_unlock(&n->lock);
    return count;
}

int tlog_nonces_sign(tlog_nonces_t *n, const uint8_t dgst[32], uint8_t *der, size_t cap, size_t *der_len)
{
    ECDSA_SIG *sig = NULL;
    int len = -1;
    pthread_mutex_lock(&n->lock);
    if (n->count > 0) {
        nonce_t *nonce = &n->reserve[--n->count];
        sig = ECDSA_do_sign_ex(dgst, 32, nonce->kinv, nonce->r, n->key);
        nonce_clear(nonce);
    }
    pthread_mutex_unlock(&n->lock);
    if (sig != NULL && (len = i2d_ECDSA_SIG(sig, NULL)) > 0 && (size_t)len <= cap) {
        unsigned char *p = der;
        len = i2d_ECDSA_SIG(sig, &p);
    }
    ECDSA_SIG_free(sig);
    ERR_clear_error(); /* a nonce that gave s = 0 is dropped: the caller signs without one */
    if (len <= 0 || (size_t)len > cap)
        return 0;
    *der_len = (size_t)len;
    return 1;
}
