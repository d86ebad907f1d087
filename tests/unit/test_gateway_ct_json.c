/* gateway/ct_json.c: the RFC 6962 read API's JSON bodies and extra_data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "gateway/ct_json.h"
#include "tests/unit/testutil.h"
#include "tlog/error.h"

static tlog_hash_t hash_of(uint8_t byte)
{
    tlog_hash_t h;
    memset(h.bytes, byte, sizeof(h.bytes));
    return h;
}

/* The buffer as a NUL-terminated string (the test owns it), after checking it parses as one JSON object. */
static json_t *parse(tlog_buf_t *buf)
{
    json_error_t jerr;
    json_t *v = json_loadb((const char *)buf->data, buf->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(v))
        fail_msg("not a JSON object: %s: %.*s", jerr.text, (int)buf->len, (const char *)buf->data);
    return v;
}

static void assert_b64(json_t *v, const char *expect)
{
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), expect);
}

static void test_gateway_ct_json_sth(void **state)
{
    (void)state;
    tlog_buf_t buf = TLOG_BUF_INIT;
    tlog_hash_t root = hash_of(0);
    const uint8_t sig[] = {4, 3, 0, 2, 0xab, 0xcd};
    ct_json_sth(1000, 1767225600123, &root, sig, sizeof(sig), &buf);
    const char want[] = "{\"tree_size\":1000,\"timestamp\":1767225600123,"
                        "\"sha256_root_hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
                        "\"tree_head_signature\":\"BAMAAqvN\"}";
    assert_int_equal(buf.len, strlen(want));
    assert_memory_equal(buf.data, want, buf.len);
    json_decref(parse(&buf));
    tlog_buf_free(&buf);
}

static void test_gateway_ct_json_proofs(void **state)
{
    (void)state;
    tlog_buf_t buf = TLOG_BUF_INIT;
    tlog_hash_t proof[2] = {hash_of(0xff), hash_of(0)};
    ct_json_consistency(proof, 2, &buf);
    json_t *v = parse(&buf);
    json_t *a = json_object_get(v, "consistency");
    assert_int_equal(json_array_size(a), 2);
    assert_b64(json_array_get(a, 0), "//////////////////////////////////////////8=");
    assert_b64(json_array_get(a, 1), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    json_decref(v);

    buf.len = 0;
    ct_json_consistency(NULL, 0, &buf);
    assert_int_equal(buf.len, strlen("{\"consistency\":[]}"));
    assert_memory_equal(buf.data, "{\"consistency\":[]}", buf.len);

    buf.len = 0;
    ct_json_proof_by_hash(UINT64_C(1099511627775), proof, 1, &buf);
    v = parse(&buf);
    assert_true(json_integer_value(json_object_get(v, "leaf_index")) == INT64_C(1099511627775));
    assert_int_equal(json_array_size(json_object_get(v, "audit_path")), 1);
    assert_int_equal(json_object_size(v), 2);
    json_decref(v);
    tlog_buf_free(&buf);
}

static void test_gateway_ct_json_entry(void **state)
{
    (void)state;
    tlog_buf_t buf = TLOG_BUF_INIT, leaf = TLOG_BUF_INIT, extra = TLOG_BUF_INIT;
    tlog_buf_append(&leaf, "\x00\x00\x01", 3);
    tlog_buf_append(&extra, "\x00\x00\x00", 3);
    ct_json_entry(&leaf, &extra, NULL, 0, &buf);
    const char want[] = "{\"leaf_input\":\"AAAB\",\"extra_data\":\"AAAA\"}";
    assert_int_equal(buf.len, strlen(want));
    assert_memory_equal(buf.data, want, buf.len);

    buf.len = 0;
    tlog_hash_t path[3] = {hash_of(1), hash_of(2), hash_of(3)};
    ct_json_entry(&leaf, &extra, path, 3, &buf);
    json_t *v = parse(&buf);
    assert_int_equal(json_object_size(v), 3);
    assert_int_equal(json_array_size(json_object_get(v, "audit_path")), 3);
    assert_b64(json_object_get(v, "leaf_input"), "AAAB");
    json_decref(v);
    tlog_buf_free(&buf);
    tlog_buf_free(&leaf);
    tlog_buf_free(&extra);
}

static void test_gateway_ct_json_extra_data(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    const uint8_t a[] = {0x30, 0x01, 0xaa}, b[] = {0x30, 0x00};
    ct_cert_t chain[] = {{a, sizeof(a)}, {b, sizeof(b)}};
    tlog_ct_entry_t x509 = {.leaf_index = 7};
    tlog_buf_t out = TLOG_BUF_INIT;

    /* certificate_chain: vec24 of vec24 certificates. */
    assert_int_equal(ct_extra_data(&x509, chain, 2, &out, err), 0);
    const uint8_t want_x509[] = {0, 0, 11, 0, 0, 3, 0x30, 0x01, 0xaa, 0, 0, 2, 0x30, 0x00};
    assert_int_equal(out.len, sizeof(want_x509));
    assert_memory_equal(out.data, want_x509, sizeof(want_x509));

    /* PrecertChainEntry: the precertificate, then the chain. */
    const uint8_t pre[] = {0x30, 0x02, 0x01, 0x02};
    tlog_ct_entry_t precert = {.is_precert = 1, .precertificate = pre, .precertificate_len = sizeof(pre)};
    out.len = 0;
    assert_int_equal(ct_extra_data(&precert, chain, 1, &out, err), 0);
    const uint8_t want_pre[] = {0, 0, 4, 0x30, 0x02, 0x01, 0x02, 0, 0, 6, 0, 0, 3, 0x30, 0x01, 0xaa};
    assert_int_equal(out.len, sizeof(want_pre));
    assert_memory_equal(out.data, want_pre, sizeof(want_pre));

    /* An empty chain is an empty vector. */
    out.len = 0;
    assert_int_equal(ct_extra_data(&x509, NULL, 0, &out, err), 0);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.data, "\0\0\0", 3);

    /* More than a vec24 can say is refused, not truncated. */
    size_t big = (1u << 23);
    uint8_t *huge = calloc(1, big);
    assert_non_null(huge);
    ct_cert_t two_halves[] = {{huge, big}, {huge, big}};
    out.len = 0;
    assert_int_equal(ct_extra_data(&x509, two_halves, 2, &out, err), -1);
    testutil_assert_mentions(err, "entry 7: its chain is longer than 2^24 bytes");
    free(huge);
    tlog_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_ct_json_sth),
        cmocka_unit_test(test_gateway_ct_json_proofs),
        cmocka_unit_test(test_gateway_ct_json_entry),
        cmocka_unit_test(test_gateway_ct_json_extra_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
