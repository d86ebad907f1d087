/*
 * Inverses modulo a 256-bit odd number: the same answers as BN_mod_inverse
 * for random numbers and for the ones at the edges (1, m − 1, single bits,
 * long runs of ones), modulo P-256's order and field prime, a modulus with
 * its top bit set, and a small one; -1 for numbers that share a factor with
 * the modulus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "writer/modinv.h"

#define RANDOM_PER_MODULUS 20000

static void limbs_from_bn(uint64_t out[4], const BIGNUM *bn)
{
    uint8_t bytes[32];
    assert_int_equal(BN_bn2lebinpad(bn, bytes, sizeof(bytes)), 32);
    memcpy(out, bytes, 32); /* the build machines are little-endian, as the limb order is */
}

/* a⁻¹ mod m as modinv_var gives it, checked against BN_mod_inverse. */
static void assert_inverse(const BIGNUM *a, const BIGNUM *m, BN_CTX *ctx)
{
    uint64_t a_limbs[4], m_limbs[4], got[4], want[4];
    BIGNUM *inverse = BN_new();
    limbs_from_bn(a_limbs, a);
    limbs_from_bn(m_limbs, m);
    assert_int_equal(modinv_var(got, a_limbs, m_limbs), 0);
    assert_non_null(BN_mod_inverse(inverse, a, m, ctx));
    limbs_from_bn(want, inverse);
    assert_memory_equal(got, want, sizeof(got));
    BN_free(inverse);
}

static void assert_inverses(const BIGNUM *m, BN_CTX *ctx)
{
    BIGNUM *a = BN_new();
    for (int i = 0; i < RANDOM_PER_MODULUS; i++) {
        assert_true(BN_rand_range(a, m));
        if (!BN_is_zero(a))
            assert_inverse(a, m, ctx);
    }
    assert_true(BN_one(a));
    assert_inverse(a, m, ctx);
    assert_non_null(BN_sub(a, m, BN_value_one()));
    assert_inverse(a, m, ctx);
    for (int bit = 1; bit < BN_num_bits(m) - 1; bit++) {
        BN_zero(a);
        assert_true(BN_set_bit(a, bit));
        assert_inverse(a, m, ctx); /* 2^bit, all trailing zeros */
        assert_non_null(BN_sub(a, a, BN_value_one()));
        assert_inverse(a, m, ctx); /* 2^bit − 1, all ones */
    }
    BN_free(a);
}

static void test_writer_modinv_p256(void **state)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = BN_new();
    (void)state;

    assert_true(EC_GROUP_get_curve(group, p, NULL, NULL, ctx));
    assert_inverses(EC_GROUP_get0_order(group), ctx);
    assert_inverses(p, ctx);
    BN_free(p);
    BN_CTX_free(ctx);
    EC_GROUP_free(group);
}

static void test_writer_modinv_other_moduli(void **state)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *m = NULL;
    (void)state;

    assert_true(BN_hex2bn(&m, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF43")); /* 2^256 − 189, prime */
    assert_inverses(m, ctx);
    assert_true(BN_set_word(m, 1000003)); /* prime */
    assert_inverses(m, ctx);
    BN_free(m);
    BN_CTX_free(ctx);
}

static void test_writer_modinv_no_inverse(void **state)
{
    const uint64_t m[4] = {3 * 5 * 7 * 11, 0, 0, 0}, three[4] = {3, 0, 0, 0}, twenty_two[4] = {22, 0, 0, 0};
    const uint64_t big[4] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}; /* 2^256 − 1 = 3 · 5 · 17 · … */
    const uint64_t five[4] = {5, 0, 0, 0}, four[4] = {4, 0, 0, 0};
    uint64_t out[4];
    (void)state;

    assert_int_equal(modinv_var(out, three, m), -1);
    assert_int_equal(modinv_var(out, twenty_two, m), -1);
    assert_int_equal(modinv_var(out, five, big), -1);
    assert_int_equal(modinv_var(out, four, big), 0);
    /* 4 · out ≡ 1 (mod 2^256 − 1): out = (2^256 − 1 + 1) / 4 = 2^254 */
    assert_true(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == (uint64_t)1 << 62);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_modinv_p256),
        cmocka_unit_test(test_writer_modinv_other_moduli),
        cmocka_unit_test(test_writer_modinv_no_inverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
