/*
 * Precomputed ECDSA nonces (see nonces.h).
 *
 * OpenSSL 3.0's providers cannot sign with a nonce computed beforehand; its
 * EC_KEY interface can (ECDSA_do_sign_ex), and is only deprecated, not
 * removed, so this file alone opts out of the deprecation warnings. The
 * EC_KEY is OpenSSL's own copy of the EVP_PKEY's key. A nonce is the pair
 * (k⁻¹ mod n, r = x(k·G) mod n) for a k from OpenSSL's private random
 * generator; ECDSA_do_sign_ex completes the signature s = k⁻¹(H(m) + r·d),
 * and the pair is then wiped and freed.
 *
 * Nonces are made a batch at a time, which is what makes them cheap: one
 * pass of EC_POINTs_make_affine turns every k·G of the batch into affine
 * coordinates with one field inversion, and Montgomery's trick gives every
 * k⁻¹ from one inversion of their product. ECDSA_sign_setup, one nonce at
 * a time, pays both inversions for each: 26 µs a nonce on the benchmark
 * machine, against 14-16 µs in batches of 32. The inversions are the ones
 * OpenSSL itself uses for secrets (Fermat's little theorem, a public
 * exponent, BN_mod_exp_mont), and so are the multiplications (Montgomery,
 * BN_mod_mul_montgomery).
 *
 * A batch is computed outside the lock, from the key's group alone; the
 * reserve is a stack of pairs under one mutex, which is also held for every
 * use of the EC_KEY, so the key is never used by two threads at once.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <pthread.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include "tlog/error.h"
#include "tlog/nonces.h"

#define NONCES_BATCH_MAX 64

typedef struct nonce {
    BIGNUM *kinv, *r;
} nonce_t;

struct tlog_nonces {
    pthread_mutex_t lock;
    EC_KEY *key;
    const EC_GROUP *group;
    BN_MONT_CTX *order_mont; /* Montgomery arithmetic modulo the group order n */
    BIGNUM *order_minus_2;   /* the exponent that inverts modulo n */
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
    n->group = EC_KEY_get0_group(n->key);
    BN_CTX *ctx = BN_CTX_new();
    const BIGNUM *order = EC_GROUP_get0_order(n->group);
    if (ctx == NULL || (n->order_mont = BN_MONT_CTX_new()) == NULL || !BN_MONT_CTX_set(n->order_mont, order, ctx) ||
        (n->order_minus_2 = BN_dup(order)) == NULL || !BN_sub_word(n->order_minus_2, 2)) {
        BN_CTX_free(ctx);
        ERR_clear_error();
        tlog_errorf(err, "nonces: out of memory");
        tlog_nonces_free(n);
        return NULL;
    }
    BN_CTX_free(ctx);
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
    BN_MONT_CTX_free(n->order_mont);
    BN_free(n->order_minus_2);
    free(n->reserve);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

/* A secret k in [1, n), its point k·G (not yet affine), and k in Montgomery form modulo n. */
static int nonce_secret(tlog_nonces_t *n, BIGNUM *k, EC_POINT *point, BN_CTX *ctx)
{
    do
        if (!BN_priv_rand_range(k, EC_GROUP_get0_order(n->group)))
            return 0;
    while (BN_is_zero(k));
    return EC_POINT_mul(n->group, point, k, NULL, NULL, ctx) && BN_to_montgomery(k, k, n->order_mont, ctx);
}

/* inverse = x⁻¹ mod n, both in Montgomery form. */
static int order_inverse(tlog_nonces_t *n, BIGNUM *inverse, const BIGNUM *x, BN_CTX *ctx)
{
    return BN_from_montgomery(inverse, x, n->order_mont, ctx) &&
           BN_mod_exp_mont(inverse, inverse, n->order_minus_2, EC_GROUP_get0_order(n->group), ctx, n->order_mont) &&
           BN_to_montgomery(inverse, inverse, n->order_mont, ctx);
}

/*
 * One batch of size nonces into out: 0, or -1 with out holding nothing.
 * prefix[i] is k[0]·…·k[i]; walking back from the inverse of the whole
 * product, k[i]⁻¹ is the running inverse times prefix[i-1], and multiplying
 * the running inverse by k[i] then drops k[i] from it.
 */
static int nonces_batch(tlog_nonces_t *n, nonce_t *out, size_t size)
{
    BIGNUM *k[NONCES_BATCH_MAX] = {0}, *prefix[NONCES_BATCH_MAX] = {0};
    EC_POINT *point[NONCES_BATCH_MAX] = {0};
    BN_CTX *ctx = BN_CTX_secure_new();
    if (ctx == NULL)
        return -1;
    BN_CTX_start(ctx);
    BIGNUM *inverse = BN_CTX_get(ctx), *x = BN_CTX_get(ctx);
    int ok = x != NULL;
    for (size_t i = 0; ok && i < size; i++) {
        ok = (k[i] = BN_secure_new()) != NULL && (prefix[i] = BN_secure_new()) != NULL &&
             (point[i] = EC_POINT_new(n->group)) != NULL && nonce_secret(n, k[i], point[i], ctx);
        if (ok)
            ok = i == 0 ? BN_copy(prefix[0], k[0]) != NULL
                        : BN_mod_mul_montgomery(prefix[i], prefix[i - 1], k[i], n->order_mont, ctx);
    }
    ok = ok && EC_POINTs_make_affine(n->group, size, point, ctx) && order_inverse(n, inverse, prefix[size - 1], ctx);
    for (size_t i = size; ok && i-- > 0;) {
        BIGNUM *kinv = out[i].kinv = BN_secure_new(), *r = out[i].r = BN_new();
        ok = kinv != NULL && r != NULL;
        if (ok && i > 0)
            ok = BN_mod_mul_montgomery(kinv, inverse, prefix[i - 1], n->order_mont, ctx) &&
                 BN_mod_mul_montgomery(inverse, inverse, k[i], n->order_mont, ctx);
        else if (ok)
            ok = BN_copy(kinv, inverse) != NULL;
        /* The point is affine now (Z = 1), so its X is x(k·G). */
        ok = ok && BN_from_montgomery(kinv, kinv, n->order_mont, ctx) &&
             EC_POINT_get_Jprojective_coordinates_GFp(n->group, point[i], x, NULL, NULL, ctx) &&
             BN_nnmod(r, x, EC_GROUP_get0_order(n->group), ctx) && !BN_is_zero(r);
    }
    for (size_t i = 0; i < size; i++) {
        BN_clear_free(k[i]);
        BN_clear_free(prefix[i]);
        EC_POINT_clear_free(point[i]);
        if (!ok)
            nonce_clear(&out[i]);
    }
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return ok ? 0 : -1;
}

int tlog_nonces_fill(tlog_nonces_t *n, size_t want)
{
    int added = 0;
    while ((size_t)added < want) {
        pthread_mutex_lock(&n->lock);
        size_t room = n->capacity - n->count;
        pthread_mutex_unlock(&n->lock);
        size_t size = want - (size_t)added;
        size = size < room ? size : room;
        size = size < NONCES_BATCH_MAX ? size : NONCES_BATCH_MAX;
        if (size == 0)
            break;
        nonce_t batch[NONCES_BATCH_MAX] = {0};
        if (nonces_batch(n, batch, size) != 0) {
            ERR_clear_error();
            return -1;
        }
        pthread_mutex_lock(&n->lock);
        size_t i = 0;
        for (; i < size && n->count < n->capacity; i++)
            n->reserve[n->count++] = batch[i];
        pthread_mutex_unlock(&n->lock);
        added += (int)i;
        for (; i < size; i++)
            nonce_clear(&batch[i]);
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
