/*
 * digitally-signed (RFC 5246 §4.7) with SHA-256, through OpenSSL's one-shot
 * EVP_DigestSign/EVP_DigestVerify. The signature algorithm byte follows the
 * key: 3 for EC, 1 for RSA (PKCS #1 v1.5); other keys are refused.
 *
 * Verification accepts one encoding only: the length field must match the
 * bytes given, and OpenSSL rejects ECDSA signatures that are not strict DER.
 * Failed checks clear OpenSSL's error queue so it does not leak into later calls.
 */
#include <string.h>

#include <openssl/err.h>

#include "tlog/dsig.h"
#include "tlog/error.h"
#include "tlog/nonces.h"

enum {
    DSIG_HASH_SHA256 = 4,
    DSIG_SIG_RSA = 1,
    DSIG_SIG_ECDSA = 3,
    DSIG_HEADER = 4, /* hash_algorithm, signature_algorithm, u16 length */
};

static void dsig_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

void tlog_tree_head_input(uint64_t timestamp_ms, uint64_t size, const tlog_hash_t *root, uint8_t out[TLOG_TREE_HEAD_INPUT_SIZE])
{
    out[0] = 0; /* version v1 */
    out[1] = 1; /* signature_type tree_hash */
    dsig_put_u64(out + 2, timestamp_ms);
    dsig_put_u64(out + 10, size);
    memcpy(out + 18, root->bytes, TLOG_HASH_SIZE);
}

static const char *dsig_key_type(EVP_PKEY *key)
{
    const char *name = EVP_PKEY_get0_type_name(key);
    return name != NULL ? name : "(unknown)";
}

static const char *dsig_openssl_reason(void)
{
    const char *reason = ERR_reason_error_string(ERR_peek_last_error());
    return reason != NULL ? reason : "no reason given";
}

/* Frees ctx and returns rc; a failure (rc != 0) also clears OpenSSL's error queue, as the top of the file promises. */
static int dsig_finish(EVP_MD_CTX *ctx, int rc)
{
    if (rc != 0)
        ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return rc;
}

static int dsig_algorithm(EVP_PKEY *key, char *err)
{
    if (EVP_PKEY_is_a(key, "EC"))
        return DSIG_SIG_ECDSA;
    if (EVP_PKEY_is_a(key, "RSA"))
        return DSIG_SIG_RSA;
    return tlog_errorf(err, "digitally-signed: unsupported key type %s (want EC or RSA)", dsig_key_type(key));
}

int tlog_digitally_signed_sign(EVP_PKEY *key, tlog_nonces_t *nonces, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
                               size_t *out_len, char *err)
{
    EVP_MD_CTX *ctx = NULL;
    int alg = dsig_algorithm(key, err);
    size_t sig_len;

    if (alg < 0)
        return -1;
    if (cap < DSIG_HEADER || (size_t)EVP_PKEY_get_size(key) > cap - DSIG_HEADER)
        return tlog_errorf(err, "digitally-signed: %zu bytes of room, a %s signature needs up to %d", cap, dsig_key_type(key),
                           DSIG_HEADER + EVP_PKEY_get_size(key));
    sig_len = cap - DSIG_HEADER;
    if (sig_len > 0xffff)
        sig_len = 0xffff;
    tlog_hash_t digest;
    if (nonces != NULL && alg == DSIG_SIG_ECDSA)
        tlog_sha256(msg, len, &digest);
    if (nonces != NULL && alg == DSIG_SIG_ECDSA && tlog_nonces_sign(nonces, digest.bytes, out + DSIG_HEADER, sig_len, &sig_len)) {
        /* signed with a reserved nonce */
    } else if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
               EVP_DigestSign(ctx, out + DSIG_HEADER, &sig_len, msg, len) != 1) {
        return dsig_finish(ctx, tlog_errorf(err, "digitally-signed: signing failed: %s", dsig_openssl_reason()));
    }
    out[0] = DSIG_HASH_SHA256;
    out[1] = (uint8_t)alg;
    out[2] = (uint8_t)(sig_len >> 8);
    out[3] = (uint8_t)sig_len;
    *out_len = DSIG_HEADER + sig_len;
    return dsig_finish(ctx, 0);
}

static int dsig_check_header(int alg, const uint8_t *ds, size_t ds_len, char *err)
{
    if (ds_len < DSIG_HEADER)
        return tlog_errorf(err, "digitally-signed: %zu bytes, shorter than its 4-byte header", ds_len);
    if (ds[0] != DSIG_HASH_SHA256)
        return tlog_errorf(err, "digitally-signed: hash algorithm %u, want 4 (sha256)", ds[0]);
    if (ds[1] != alg)
        return tlog_errorf(err, "digitally-signed: signature algorithm %u, the key needs %d", ds[1], alg);
    if (((size_t)ds[2] << 8 | ds[3]) != ds_len - DSIG_HEADER)
        return tlog_errorf(err, "digitally-signed: signature length %u, but %zu bytes follow", (unsigned)ds[2] << 8 | ds[3],
                           ds_len - DSIG_HEADER);
    return 0;
}

int tlog_digitally_signed_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *ds, size_t ds_len, char *err)
{
    EVP_MD_CTX *ctx = NULL;
    int alg = dsig_algorithm(key, err);

    if (alg < 0 || dsig_check_header(alg, ds, ds_len, err) != 0)
        return -1;
    if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, key, NULL) != 1)
        return dsig_finish(ctx, tlog_errorf(err, "digitally-signed: cannot set up verification: %s", dsig_openssl_reason()));
    if (EVP_DigestVerify(ctx, ds + DSIG_HEADER, ds_len - DSIG_HEADER, msg, len) != 1)
        return dsig_finish(ctx, tlog_errorf(err, "digitally-signed: signature does not verify"));
    return dsig_finish(ctx, 0);
}
