/* SHA-256 Merkle primitives and the hex/base64 codecs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/vectors.h"
#include "tlog/hash.h"

static void test_tlog_hash_leaf_and_node_rules(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("static-ct.json");
    json_t *entry = json_object_get(v, "entry0_x509");
    size_t leaf_len, want_len;
    uint8_t *leaf = vectors_hex(entry, "merkle_tree_leaf_hex", &leaf_len);
    uint8_t *want = vectors_hex(entry, "leaf_hash_hex", &want_len);
    tlog_hash_t got;
    tlog_leaf_hash(leaf, leaf_len, &got);
    assert_memory_equal(got.bytes, want, TLOG_HASH_SIZE);

    /* The size-2 root is the node of the two entries' leaf hashes. */
    tlog_hash_t left, right, root;
    uint8_t *h1 = vectors_hex(json_object_get(v, "entry1_precert"), "leaf_hash_hex", NULL);
    uint8_t *r = vectors_hex(json_object_get(v, "tree_size_2"), "root_hash_hex", NULL);
    memcpy(left.bytes, want, TLOG_HASH_SIZE);
    memcpy(right.bytes, h1, TLOG_HASH_SIZE);
    tlog_node_hash(&left, &right, &root);
    assert_memory_equal(root.bytes, r, TLOG_HASH_SIZE);
    free(leaf);
    free(want);
    free(h1);
    free(r);
    json_decref(v);
}

static void test_tlog_hash_base64_is_strict(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t n;
    char enc[TLOG_BASE64_LEN(32) + 1];
    tlog_hash_t h;
    tlog_sha256("", 0, &h);
    assert_int_equal(tlog_base64_encode(h.bytes, 32, enc), 44);
    assert_string_equal(enc, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    assert_int_equal(tlog_base64_decode(enc, 44, out, sizeof(out), &n), 0);
    assert_int_equal(n, 32);
    assert_memory_equal(out, h.bytes, 32);

    assert_int_equal(tlog_base64_decode("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", 43, out, sizeof(out), &n), -1);
    assert_int_equal(tlog_base64_decode("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=", 44, out, sizeof(out), &n), -1);
    assert_int_equal(tlog_base64_decode("47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 44, out, sizeof(out), &n), -1);
    assert_int_equal(tlog_base64_decode("47DE Qpj8", 9, out, sizeof(out), &n), -1);
    /* Bytes above 0x7f are not '/' (libsodium 1.0.18 would decode them so). */
    assert_int_equal(tlog_base64_decode("47DEQpj8HBSa+\xffTImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 44, out, sizeof(out), &n), -1);
    assert_int_equal(tlog_base64_decode(enc, 44, out, 31, &n), -1);
    assert_int_equal(tlog_base64_decode("", 0, out, sizeof(out), &n), 0);
    assert_int_equal(n, 0);

    /* Padding only at the end, and the bits it drops zero. */
    assert_int_equal(tlog_base64_decode("AQ==", 4, out, sizeof(out), &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 1);
    assert_int_equal(tlog_base64_decode("AQE=", 4, out, sizeof(out), &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(tlog_base64_decode("AQ==", 4, out, 0, &n), -1);
    static const char *const refused[] = {"AR==", "AQF=", "A===", "====", "AQ=E", "A=QE", "AQ==AQ==", "=AQE", "AQ=\n"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_int_equal(tlog_base64_decode(refused[i], strlen(refused[i]), out, sizeof(out), &n), -1);
}

/* Decoding inverts encoding for every length and byte value. */
static void test_tlog_hash_base64_round_trips(void **state)
{
    (void)state;
    uint8_t in[64], out[64];
    char enc[TLOG_BASE64_LEN(64) + 1];
    for (size_t len = 0; len <= sizeof(in); len++) {
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)(len * 37 + i * 101);
        size_t enc_len = tlog_base64_encode(in, len, enc), n;
        assert_int_equal(tlog_base64_decode(enc, enc_len, out, len, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, in, len);
    }
    for (int byte = 0; byte < 256; byte++) {
        in[0] = (uint8_t)byte;
        size_t n, enc_len = tlog_base64_encode(in, 1, enc);
        assert_int_equal(tlog_base64_decode(enc, enc_len, out, 1, &n), 0);
        assert_int_equal(out[0], byte);
    }
}

static void test_tlog_hash_hex_is_exact(void **state)
{
    (void)state;
    uint8_t out[2];
    char hex[5];
    assert_int_equal(tlog_hex_decode("0aFf", 4, out, 2), 0);
    assert_int_equal(out[0], 0x0a);
    assert_int_equal(out[1], 0xff);
    tlog_hex_encode(out, 2, hex);
    assert_string_equal(hex, "0aff");
    assert_int_equal(tlog_hex_decode("0aF", 3, out, 2), -1);
    assert_int_equal(tlog_hex_decode("0aFg", 4, out, 2), -1);
    assert_int_equal(tlog_hex_decode("0a:f", 4, out, 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_hash_leaf_and_node_rules),
        cmocka_unit_test(test_tlog_hash_base64_is_strict),
        cmocka_unit_test(test_tlog_hash_base64_round_trips),
        cmocka_unit_test(test_tlog_hash_hex_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
