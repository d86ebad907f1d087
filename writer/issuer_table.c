/*
 * Issuer key tables (see issuer_table.h).
 *
 * ECDSA verification computes u1·G + u2·Q. OpenSSL has a table of the
 * multiples of G, so u1·G costs about 12 µs on the benchmark machine, but
 * multiplies the issuer's key Q from scratch, which is most of a
 * verification's 85 µs. Its P-256 code builds the same kind of table for
 * any group generator, so the table here is a copy of the P-256 group whose
 * generator is Q: u2·Q then costs what u1·G does. Building it is
 * EC_GROUP_precompute_mult, deprecated in OpenSSL 3.0 but not removed, so
 * this file alone opts out of the deprecation warnings. The table only
 * speeds the multiplication up: u2 times the group's generator is u2·Q
 * whether or not the table is there.
 *
 * The other large costs were s⁻¹ mod n (BN_mod_inverse took about 14 µs,
 * a binary extended Euclid 12 with random inputs; modinv.c takes 3) and the
 * conversion of u1·G + u2·Q to affine coordinates, a field inversion of
 * about 5 µs, which the check avoids by comparing in Jacobian coordinates.
 * Neither need run in constant time: everything here is public.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/sha.h>

#include "writer/chain_der.h"
#include "writer/issuer_table.h"
#include "writer/modinv.h"

#define P256_POINT_MAX 65 /* uncompressed */

struct issuer_table {
    EC_GROUP *curve;           /* P-256, generator G */
    EC_GROUP *by_key;          /* P-256, generator Q, with its multiples precomputed */
    uint64_t order[4];         /* n, least significant limb first */
    BIGNUM *field;             /* p */
    BIGNUM *field_minus_order; /* p − n: r + n is below p only for r below this */
};

/* For values below 2^256. */
static void limbs_from_bn(uint64_t out[4], const BIGNUM *bn)
{
    uint8_t bytes[32];
    BN_bn2lebinpad(bn, bytes, sizeof(bytes));
    for (int i = 0; i < 4; i++) {
        out[i] = 0;
        for (int j = 7; j >= 0; j--)
            out[i] = out[i] << 8 | bytes[8 * i + j];
    }
}

static BIGNUM *limbs_to_bn(const uint64_t in[4], BIGNUM *bn)
{
    uint8_t bytes[32];
    for (int i = 0; i < 32; i++)
        bytes[i] = (uint8_t)(in[i / 8] >> (8 * (i % 8)));
    return BN_lebin2bn(bytes, sizeof(bytes), bn);
}

void issuer_table_free(issuer_table_t *table)
{
    if (table == NULL)
        return;
    EC_GROUP_free(table->curve);
    EC_GROUP_free(table->by_key);
    BN_free(table->field);
    BN_free(table->field_minus_order);
    free(table);
}

issuer_table_t *issuer_table_new(EVP_PKEY *key)
{
    uint8_t point[P256_POINT_MAX];
    char curve_name[32];
    size_t point_len = 0;
    issuer_table_t *table = NULL;
    EC_POINT *q = NULL;
    BN_CTX *bn = NULL;

    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve_name, sizeof(curve_name), NULL) ||
        OBJ_sn2nid(curve_name) != NID_X9_62_prime256v1 ||
        !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &point_len))
        goto fail;
    if ((table = calloc(1, sizeof(*table))) == NULL || (bn = BN_CTX_new()) == NULL ||
        (table->curve = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
        (table->by_key = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL || (q = EC_POINT_new(table->curve)) == NULL ||
        EC_POINT_oct2point(table->curve, q, point, point_len, bn) != 1 || EC_POINT_is_at_infinity(table->curve, q) ||
        EC_GROUP_set_generator(table->by_key, q, EC_GROUP_get0_order(table->curve), EC_GROUP_get0_cofactor(table->curve)) != 1 ||
        EC_GROUP_precompute_mult(table->by_key, bn) != 1 || (table->field = BN_new()) == NULL ||
        (table->field_minus_order = BN_new()) == NULL || !EC_GROUP_get_curve(table->curve, table->field, NULL, NULL, bn) ||
        !BN_sub(table->field_minus_order, table->field, EC_GROUP_get0_order(table->curve)))
        goto fail;
    limbs_from_bn(table->order, EC_GROUP_get0_order(table->curve));
    EC_POINT_free(q);
    BN_CTX_free(bn);
    return table;

fail:
    ERR_clear_error();
    EC_POINT_free(q);
    BN_CTX_free(bn);
    issuer_table_free(table);
    return NULL;
}

/*
 * The parts of a Certificate a signature check reads: the TBSCertificate
 * element as signed and the signature's BIT STRING contents. -1 unless der
 * is exactly SEQUENCE { SEQUENCE, SEQUENCE, BIT STRING } of definite lengths.
 */
static int certificate_split(const uint8_t *der, size_t len, const uint8_t **tbs, size_t *tbs_len, const uint8_t **bits,
                             size_t *bits_len)
{
    const uint8_t *p = der, *end = der + len, *body, *signed_start;
    long body_len;

    if (chain_der_take(&p, end, V_ASN1_SEQUENCE, &body, &body_len) != 0 || p != end)
        return -1;
    p = body;
    end = body + body_len;
    signed_start = p;
    if (chain_der_take(&p, end, V_ASN1_SEQUENCE, &body, &body_len) != 0)
        return -1;
    *tbs = signed_start;
    *tbs_len = (size_t)(p - signed_start);
    if (chain_der_take(&p, end, V_ASN1_SEQUENCE, &body, &body_len) != 0 ||
        chain_der_take(&p, end, V_ASN1_BIT_STRING, &body, &body_len) != 0 || p != end)
        return -1;
    *bits = body;
    *bits_len = (size_t)body_len;
    return 0;
}

/* The leftmost 256 bits of the TBSCertificate's digest, as ECDSA takes it; 0, or -1 for another algorithm. */
static int certificate_digest(int signature_nid, const uint8_t *tbs, size_t tbs_len, uint8_t digest[32])
{
    uint8_t full[SHA512_DIGEST_LENGTH];
    switch (signature_nid) {
    case NID_ecdsa_with_SHA256:
        SHA256(tbs, tbs_len, full);
        break;
    case NID_ecdsa_with_SHA384:
        SHA384(tbs, tbs_len, full);
        break;
    case NID_ecdsa_with_SHA512:
        SHA512(tbs, tbs_len, full);
        break;
    default:
        return -1;
    }
    memcpy(digest, full, 32);
    return 0;
}

/* Strict DER, as OpenSSL's ECDSA verification requires: the encoding must be what i2d makes of what d2i read. */
static ECDSA_SIG *signature_decode(const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    uint8_t *again = NULL;
    ECDSA_SIG *sig = len <= 0xffff ? d2i_ECDSA_SIG(NULL, &p, (long)len) : NULL;
    int again_len = sig != NULL ? i2d_ECDSA_SIG(sig, &again) : -1;
    if (sig != NULL && (again_len < 0 || (size_t)again_len != len || memcmp(again, der, len) != 0)) {
        ECDSA_SIG_free(sig);
        sig = NULL;
    }
    OPENSSL_free(again);
    return sig;
}

/*
 * x(u1·G + u2·Q) mod n == r, with w = s⁻¹: 1, 0, or -1 if OpenSSL failed.
 * In Jacobian coordinates x = X/Z², and x mod n == r when X = r·Z², or
 * X = (r + n)·Z² where r + n is still below p.
 */
static int signature_check(const issuer_table_t *table, const uint8_t digest[32], const BIGNUM *r, const BIGNUM *s)
{
    const BIGNUM *order = EC_GROUP_get0_order(table->curve);
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *w, *u1, *u2, *m, *x, *z, *rz;
    uint64_t s_limbs[4], w_limbs[4];
    int ret = -1;

    if (bn == NULL)
        return -1;
    BN_CTX_start(bn); /* before any goto done, which ends it */
    EC_POINT *by_g = EC_POINT_new(table->curve), *by_q = EC_POINT_new(table->by_key);
    if (by_g == NULL || by_q == NULL)
        goto done;
    w = BN_CTX_get(bn);
    u1 = BN_CTX_get(bn);
    u2 = BN_CTX_get(bn);
    m = BN_CTX_get(bn);
    x = BN_CTX_get(bn);
    z = BN_CTX_get(bn);
    if ((rz = BN_CTX_get(bn)) == NULL)
        goto done;
    if (BN_is_zero(r) || BN_is_negative(r) || BN_ucmp(r, order) >= 0 || BN_is_zero(s) || BN_is_negative(s) ||
        BN_ucmp(s, order) >= 0) {
        ret = 0;
        goto done;
    }
    limbs_from_bn(s_limbs, s);
    if (modinv_var(w_limbs, s_limbs, table->order) != 0 || limbs_to_bn(w_limbs, w) == NULL || BN_bin2bn(digest, 32, m) == NULL ||
        !BN_mod_mul(u1, m, w, order, bn) || !BN_mod_mul(u2, r, w, order, bn) ||
        !EC_POINT_mul(table->curve, by_g, u1, NULL, NULL, bn) || !EC_POINT_mul(table->by_key, by_q, u2, NULL, NULL, bn) ||
        !EC_POINT_add(table->curve, by_g, by_g, by_q, bn))
        goto done;
    if (EC_POINT_is_at_infinity(table->curve, by_g)) {
        ret = 0;
        goto done;
    }
    if (!EC_POINT_get_Jprojective_coordinates_GFp(table->curve, by_g, x, NULL, z, bn) || !BN_mod_sqr(z, z, table->field, bn) ||
        !BN_mod_mul(rz, r, z, table->field, bn))
        goto done;
    ret = BN_cmp(rz, x) == 0;
    if (!ret && BN_cmp(r, table->field_minus_order) < 0) {
        if (!BN_add(rz, r, order) || !BN_mod_mul(rz, rz, z, table->field, bn)) {
            ret = -1;
            goto done;
        }
        ret = BN_cmp(rz, x) == 0;
    }

done:
    BN_CTX_end(bn);
    BN_CTX_free(bn);
    EC_POINT_free(by_g);
    EC_POINT_free(by_q);
    return ret;
}

int issuer_table_verify(const issuer_table_t *table, X509 *cert, const uint8_t *der, size_t len)
{
    const X509_ALGOR *outer;
    const uint8_t *tbs, *bits;
    size_t tbs_len, bits_len;
    uint8_t digest[32];
    const BIGNUM *r, *s;
    ECDSA_SIG *sig;
    int ret;

    X509_get0_signature(NULL, &outer, cert);
    if (X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(cert)) != 0)
        return 0;
    if (certificate_split(der, len, &tbs, &tbs_len, &bits, &bits_len) != 0 ||
        certificate_digest(X509_get_signature_nid(cert), tbs, tbs_len, digest) != 0)
        return -1;
    /* The first byte counts the unused bits at the end, which a signature may not have. */
    if (bits_len == 0 || bits[0] != 0 || (sig = signature_decode(bits + 1, bits_len - 1)) == NULL) {
        ERR_clear_error();
        return 0;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    ret = signature_check(table, digest, r, s);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return ret;
}
