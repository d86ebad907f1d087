/* gateway/ct_params.c: RFC 6962 query parameters, their checks against the tree size, and the get-entries range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/ct_params.h"
#include "tests/unit/testutil.h"
#include "tlog/error.h"

/* Parses query for wanted; the parameters, or the test fails with the error. */
static ct_params_t parse_ok(const char *query, unsigned wanted)
{
    ct_params_t p;
    char err[TLOG_ERR_MAX] = "";
    if (ct_params_parse(query, strlen(query), wanted, &p, err) != 0)
        fail_msg("%s: %s", query, err);
    return p;
}

static void expect_parse_error(const char *query, unsigned wanted, const char *needle)
{
    ct_params_t p;
    char err[TLOG_ERR_MAX] = "";
    if (ct_params_parse(query, strlen(query), wanted, &p, err) == 0)
        fail_msg("%s: accepted", query);
    testutil_assert_mentions(err, needle);
    assert_null(strchr(err, '\n'));
}

static void expect_check_error(ct_params_t p, unsigned wanted, uint64_t size, const char *needle)
{
    char err[TLOG_ERR_MAX] = "";
    assert_int_equal(ct_params_check(&p, wanted, size, err), -1);
    testutil_assert_mentions(err, needle);
}

static void test_gateway_ct_params_numbers(void **state)
{
    (void)state;
    ct_params_t p = parse_ok("start=0&end=255", CT_PARAM_START | CT_PARAM_END);
    assert_int_equal(p.start, 0);
    assert_int_equal(p.end, 255);
    p = parse_ok("end=9223372036854775807&start=007&cachebust=1", CT_PARAM_START | CT_PARAM_END);
    assert_int_equal(p.start, 7);
    assert_true(p.end == INT64_MAX);
    p = parse_ok("first=1&second=2&tree_size=3&leaf_index=%34",
                 CT_PARAM_FIRST | CT_PARAM_SECOND | CT_PARAM_TREE_SIZE | CT_PARAM_LEAF_INDEX);
    assert_int_equal(p.first, 1);
    assert_int_equal(p.second, 2);
    assert_int_equal(p.tree_size, 3);
    assert_int_equal(p.leaf_index, 4);
    /* Parameters the endpoint does not use are ignored, even malformed or repeated ones. */
    p = parse_ok("start=1&end=2&start_x=zz&x=%&first=a&first=b", CT_PARAM_START | CT_PARAM_END);
    assert_int_equal(p.end, 2);
    /* No parameters wanted: any query. */
    parse_ok("%%%&&&", 0);
}

static void test_gateway_ct_params_bad_numbers(void **state)
{
    (void)state;
    unsigned se = CT_PARAM_START | CT_PARAM_END;
    expect_parse_error("", se, "missing parameter \"start\"");
    expect_parse_error("start=1", se, "missing parameter \"end\"");
    expect_parse_error("start", se, "\"start\" must be a whole number");
    expect_parse_error("start=&end=1", se, "\"start\" must be a whole number");
    expect_parse_error("start=-1&end=1", se, "\"start\" must be a whole number from 0 to 9223372036854775807");
    expect_parse_error("start=+1&end=1", se, "\"start\" must be a whole number");
    expect_parse_error("start=1&end= 2", se, "\"end\" must be a whole number");
    expect_parse_error("start=0x10&end=1", se, "\"start\" must be a whole number");
    expect_parse_error("start=1.0&end=1", se, "\"start\" must be a whole number");
    expect_parse_error("start=9223372036854775808&end=1", se, "\"start\" must be a whole number");
    expect_parse_error("start=99999999999999999999999&end=1", se, "\"start\" must be a whole number");
    expect_parse_error("start=1&end=2&start=1", se, "\"start\" is given more than once");
    expect_parse_error("start=%4&end=1", se, "\"start\" has a malformed percent-encoding");
    expect_parse_error("start=%g1&end=1", se, "\"start\" has a malformed percent-encoding");
    expect_parse_error("start=1&end=%", se, "\"end\" has a malformed percent-encoding");
    expect_parse_error("start=%0a&end=1", se, "\"start\" must be a whole number");
    char long_query[200];
    snprintf(long_query, sizeof(long_query), "start=1&end=%0100d", 1);
    expect_parse_error(long_query, se, "\"end\" is too long");
}

static void test_gateway_ct_params_hash(void **state)
{
    (void)state;
    /* 32 bytes 0xfb 0xef ... encode with '+' and '/': raw and percent-encoded both mean base64. */
    uint8_t bytes[TLOG_HASH_SIZE];
    char b64[TLOG_BASE64_LEN(TLOG_HASH_SIZE) + 1], query[160];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (uint8_t)(i % 2 ? 0xef : 0xfb);
    tlog_base64_encode(bytes, sizeof(bytes), b64);
    assert_non_null(strchr(b64, '+'));
    assert_non_null(strchr(b64, '/'));
    snprintf(query, sizeof(query), "hash=%s&tree_size=1", b64);
    ct_params_t p = parse_ok(query, CT_PARAM_HASH | CT_PARAM_TREE_SIZE);
    assert_memory_equal(p.hash.bytes, bytes, TLOG_HASH_SIZE);
    size_t n = 0;
    for (const char *c = b64; *c; c++)
        n += (size_t)snprintf(query + n, sizeof(query) - n, "%%%02X", (unsigned char)*c);
    char encoded[256];
    snprintf(encoded, sizeof(encoded), "tree_size=1&hash=%s", query);
    p = parse_ok(encoded, CT_PARAM_HASH | CT_PARAM_TREE_SIZE);
    assert_memory_equal(p.hash.bytes, bytes, TLOG_HASH_SIZE);

    unsigned h = CT_PARAM_HASH;
    expect_parse_error("hash=", h, "\"hash\" must be the base64 of a 32-byte leaf hash");
    expect_parse_error("hash=AAAA", h, "32-byte leaf hash");
    expect_parse_error("hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h, "32-byte leaf hash"); /* no padding */
    expect_parse_error("hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=AAAA", h, "32-byte leaf hash");
    expect_parse_error("hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=", h, "32-byte leaf hash"); /* URL alphabet */
    expect_parse_error("hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h, "32-byte leaf hash");
}

static void test_gateway_ct_params_checks(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    ct_params_t p = {.start = 0, .end = 9};
    unsigned se = CT_PARAM_START | CT_PARAM_END;
    assert_int_equal(ct_params_check(&p, se, 10, err), 0);
    expect_check_error(p, se, 9, "end (9) is beyond the tree: its size is 9");
    expect_check_error((ct_params_t){.start = 5, .end = 4}, se, 10, "start (5) is after end (4)");
    expect_check_error((ct_params_t){.start = 0, .end = 0}, se, 0, "end (0) is beyond the tree");

    unsigned fs = CT_PARAM_FIRST | CT_PARAM_SECOND;
    assert_int_equal(ct_params_check(&(ct_params_t){.first = 0, .second = 10}, fs, 10, err), 0);
    assert_int_equal(ct_params_check(&(ct_params_t){.first = 10, .second = 10}, fs, 10, err), 0);
    expect_check_error((ct_params_t){.first = 3, .second = 2}, fs, 10, "first (3) is larger than second (2)");
    expect_check_error((ct_params_t){.first = 3, .second = 11}, fs, 10, "second (11) is larger than the tree size 10");

    unsigned ht = CT_PARAM_HASH | CT_PARAM_TREE_SIZE;
    assert_int_equal(ct_params_check(&(ct_params_t){.tree_size = 10}, ht, 10, err), 0);
    expect_check_error((ct_params_t){.tree_size = 0}, ht, 10, "tree_size (0) must be from 1 to the tree size 10");
    expect_check_error((ct_params_t){.tree_size = 11}, ht, 10, "tree_size (11) must be from 1");

    unsigned lt = CT_PARAM_LEAF_INDEX | CT_PARAM_TREE_SIZE;
    assert_int_equal(ct_params_check(&(ct_params_t){.leaf_index = 9, .tree_size = 10}, lt, 10, err), 0);
    expect_check_error((ct_params_t){.leaf_index = 10, .tree_size = 10}, lt, 10, "leaf_index (10) is not below tree_size (10)");
    expect_check_error((ct_params_t){.leaf_index = 0, .tree_size = 11}, lt, 10, "tree_size (11) must be from 1");
    /* Unwanted fields are not looked at. */
    assert_int_equal(ct_params_check(&(ct_params_t){.start = 9, .end = 1, .tree_size = 0}, 0, 0, err), 0);
}

static void test_gateway_ct_params_entries_range(void **state)
{
    (void)state;
    assert_int_equal(ct_entries_last(0, 0), 0);
    assert_int_equal(ct_entries_last(0, 999), 255);
    assert_int_equal(ct_entries_last(250, 300), 255);
    assert_int_equal(ct_entries_last(256, 511), 511);
    assert_int_equal(ct_entries_last(256, 600), 511);
    assert_int_equal(ct_entries_last(511, 9999), 511);
    assert_int_equal(ct_entries_last(1000, 1003), 1003);
    assert_true(ct_entries_last(INT64_MAX - 5, INT64_MAX) == INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_ct_params_numbers),       cmocka_unit_test(test_gateway_ct_params_bad_numbers),
        cmocka_unit_test(test_gateway_ct_params_hash),          cmocka_unit_test(test_gateway_ct_params_checks),
        cmocka_unit_test(test_gateway_ct_params_entries_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
