/*
 * Issuer key tables: every answer is X509_verify's, on good signatures, on
 * every one-byte change of a certificate, and on hand-made bad signatures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "tests/unit/testpki.h"
#include "writer/issuer_table.h"

typedef struct pki {
    testpki_cert_t *root, *inter, *other;
    issuer_table_t *table; /* inter's key */
} pki_t;

static int pki_setup(void **state)
{
    pki_t *pki = calloc(1, sizeof(*pki));
    pki->root = testpki_root("issuer table root");
    pki->inter = testpki_intermediate("issuer table intermediate", pki->root);
    pki->other = testpki_intermediate("issuer table intermediate", pki->root);
    if ((pki->table = issuer_table_new(pki->inter->key)) == NULL)
        return -1;
    *state = pki;
    return 0;
}

static int pki_teardown(void **state)
{
    pki_t *pki = *state;
    issuer_table_free(pki->table);
    testpki_free(pki->other);
    testpki_free(pki->inter);
    testpki_free(pki->root);
    free(pki);
    return 0;
}

/* The table's answer on der, asserted equal to X509_verify's; -1 if der does not parse (nothing to compare). */
static int check_agrees(const pki_t *pki, const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || p != der + len) {
        X509_free(x);
        return -1;
    }
    int table = issuer_table_verify(pki->table, x, der, len);
    int openssl = X509_verify(x, pki->inter->key) == 1;
    X509_free(x);
    if (table != openssl)
        fail_msg("issuer table says %d, X509_verify %d", table, openssl);
    return table;
}

/* der of leaf signed again by key with md, malloc'd. */
static uint8_t *signed_again(const testpki_cert_t *leaf, EVP_PKEY *key, const EVP_MD *md, size_t *len)
{
    X509 *x = X509_dup(leaf->x509);
    uint8_t *der = NULL;
    assert_non_null(x);
    assert_true(X509_sign(x, key, md) > 0);
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    X509_free(x);
    *len = (size_t)n;
    return der;
}

static size_t der_length_put(uint8_t *out, size_t len)
{
    if (len < 0x80) {
        out[0] = (uint8_t)len;
        return 1;
    }
    size_t bytes = len > 0xff ? 2 : 1;
    out[0] = (uint8_t)(0x80 | bytes);
    for (size_t i = 0; i < bytes; i++)
        out[1 + i] = (uint8_t)(len >> (8 * (bytes - 1 - i)));
    return 1 + bytes;
}

/* A certificate of the given TBS and algorithm elements (taken from a real one) and BIT STRING contents. */
static size_t certificate_build(uint8_t *out, const uint8_t *signed_part, size_t signed_len, const uint8_t *bits, size_t bits_len)
{
    uint8_t body[4096];
    size_t n = 0, m = 0;
    memcpy(body, signed_part, signed_len);
    n = signed_len;
    body[n++] = 0x03;
    n += der_length_put(body + n, bits_len);
    memcpy(body + n, bits, bits_len);
    n += bits_len;
    out[m++] = 0x30;
    m += der_length_put(out + m, n);
    memcpy(out + m, body, n);
    return m + n;
}

/* An ECDSA-Sig-Value of r and s as big-endian bytes, each given as its INTEGER contents (so non-minimal ones can be made). */
static size_t signature_build(uint8_t *out, const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len)
{
    size_t n = 0;
    out[n++] = 0x30;
    out[n++] = (uint8_t)(4 + r_len + s_len);
    out[n++] = 0x02;
    out[n++] = (uint8_t)r_len;
    memcpy(out + n, r, r_len);
    n += r_len;
    out[n++] = 0x02;
    out[n++] = (uint8_t)s_len;
    memcpy(out + n, s, s_len);
    return n + s_len;
}

static void test_writer_issuer_table_only_p256(void **state)
{
    (void)state;
    testpki_cert_t *rsa = testpki_issue(&(testpki_opts_t){.cn = "rsa", .key_type = TESTPKI_RSA, .ca = 1}, NULL);
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    assert_non_null(p384);
    assert_null(issuer_table_new(rsa->key));
    assert_null(issuer_table_new(p384));
    assert_null(issuer_table_new(NULL));
    EVP_PKEY_free(p384);
    testpki_free(rsa);
}

static void test_writer_issuer_table_good_signatures(void **state)
{
    pki_t *pki = *state;
    testpki_cert_t *leaf = testpki_leaf("good.example", pki->inter);
    const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512()};
    assert_int_equal(check_agrees(pki, leaf->der, leaf->der_len), 1);
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        uint8_t *der = signed_again(leaf, pki->inter->key, mds[i], &len);
        assert_int_equal(check_agrees(pki, der, len), 1);
        OPENSSL_free(der);
        /* Signed by another key under the same name. */
        der = signed_again(leaf, pki->other->key, mds[i], &len);
        assert_int_equal(check_agrees(pki, der, len), 0);
        OPENSSL_free(der);
    }
    /* Fresh nonces, so many values of s (whose inverse the check computes itself). */
    for (int i = 0; i < 300; i++) {
        size_t len;
        uint8_t *der = signed_again(leaf, pki->inter->key, EVP_sha256(), &len);
        assert_int_equal(check_agrees(pki, der, len), 1);
        OPENSSL_free(der);
    }
    /* ECDSA with SHA-1 is left to X509_verify. */
    testpki_cert_t *sha1 = testpki_issue(&(testpki_opts_t){.cn = "sha1.example", .sha1 = 1}, pki->inter);
    const uint8_t *p = sha1->der;
    X509 *x = d2i_X509(NULL, &p, (long)sha1->der_len);
    assert_int_equal(issuer_table_verify(pki->table, x, sha1->der, sha1->der_len), -1);
    X509_free(x);
    testpki_free(sha1);
    testpki_free(leaf);
}

/* Every byte of a certificate changed in turn: where the result still parses, the table agrees with OpenSSL. */
static void test_writer_issuer_table_every_byte_changed(void **state)
{
    pki_t *pki = *state;
    testpki_cert_t *leaf = testpki_leaf("changed.example", pki->inter);
    uint8_t *der = malloc(leaf->der_len);
    size_t compared = 0;
    for (size_t i = 0; i < leaf->der_len; i++) {
        memcpy(der, leaf->der, leaf->der_len);
        der[i] ^= 0x01;
        if (check_agrees(pki, der, leaf->der_len) >= 0)
            compared++;
    }
    assert_true(compared > leaf->der_len / 2);
    free(der);
    testpki_free(leaf);
}

static void test_writer_issuer_table_bad_signatures(void **state)
{
    pki_t *pki = *state;
    testpki_cert_t *leaf = testpki_leaf("bad.example", pki->inter);
    const uint8_t *p = leaf->der;
    long body_len;
    int tag, class;
    uint8_t n_bytes[32], one[1] = {1}, sig[80], bits[82], cert[4096];
    uint8_t r_padded[34] = {0x00, 0x00};

    /* The TBSCertificate and algorithm elements, and the real signature's r and s. */
    ASN1_get_object(&p, &body_len, &tag, &class, (long)leaf->der_len);
    const uint8_t *signed_part = p, *q = p;
    for (int i = 0; i < 2; i++) {
        ASN1_get_object(&q, &body_len, &tag, &class, (long)(leaf->der + leaf->der_len - q));
        q += body_len;
    }
    size_t signed_len = (size_t)(q - signed_part);
    ASN1_get_object(&q, &body_len, &tag, &class, (long)(leaf->der + leaf->der_len - q));
    assert_int_equal(tag, V_ASN1_BIT_STRING);
    q++; /* the unused-bits count */
    ECDSA_SIG *real = d2i_ECDSA_SIG(NULL, &q, body_len - 1);
    assert_non_null(real);
    uint8_t r[32], s[32];
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(real), r, 32), 32);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(real), s, 32), 32);
    ECDSA_SIG_free(real);
    EC_GROUP *curve = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    assert_int_equal(BN_bn2binpad(EC_GROUP_get0_order(curve), n_bytes, 32), 32);
    EC_GROUP_free(curve);

    /* Rebuilding the real signature the same way gives the original certificate, which verifies. */
    uint8_t r_int[33] = {0}, s_int[33] = {0};
    size_t r_len = (r[0] & 0x80) ? 33 : 32, s_len = (s[0] & 0x80) ? 33 : 32;
    memcpy(r_int + (r_len - 32), r, 32);
    memcpy(s_int + (s_len - 32), s, 32);
    bits[0] = 0;
    size_t sig_len = signature_build(sig, r_int, r_len, s_int, s_len);
    memcpy(bits + 1, sig, sig_len);
    size_t len = certificate_build(cert, signed_part, signed_len, bits, sig_len + 1);
    assert_int_equal(len, leaf->der_len);
    assert_memory_equal(cert, leaf->der, len);
    assert_int_equal(check_agrees(pki, cert, len), 1);

    /* An unused-bits count on the signature. */
    bits[0] = 1;
    len = certificate_build(cert, signed_part, signed_len, bits, sig_len + 1);
    assert_int_equal(check_agrees(pki, cert, len), 0);
    bits[0] = 0;

    /* r with a needless leading zero (not DER), r = 0, s = n, r = n, s = 1. */
    memcpy(r_padded + 2 - (r_len - 32), r_int, r_len);
    const struct {
        const uint8_t *r, *s;
        size_t r_len, s_len;
    } cases[] = {
        {r_padded, s_int, r_len + 1, s_len},
        {(const uint8_t *)"\x00", s_int, 1, s_len},
        {r_int, n_bytes, r_len, 32},
        {n_bytes, s_int, 32, s_len},
        {r_int, one, r_len, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sig_len = signature_build(sig, cases[i].r, cases[i].r_len, cases[i].s, cases[i].s_len);
        memcpy(bits + 1, sig, sig_len);
        len = certificate_build(cert, signed_part, signed_len, bits, sig_len + 1);
        if (check_agrees(pki, cert, len) != 0)
            fail_msg("case %zu verified", i);
    }

    /* Trailing bytes after the signature, inside the BIT STRING. */
    sig_len = signature_build(sig, r_int, r_len, s_int, s_len);
    memcpy(bits + 1, sig, sig_len);
    bits[1 + sig_len] = 0;
    len = certificate_build(cert, signed_part, signed_len, bits, sig_len + 2);
    assert_int_equal(check_agrees(pki, cert, len), 0);
    testpki_free(leaf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_issuer_table_only_p256),
        cmocka_unit_test(test_writer_issuer_table_good_signatures),
        cmocka_unit_test(test_writer_issuer_table_every_byte_changed),
        cmocka_unit_test(test_writer_issuer_table_bad_signatures),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
