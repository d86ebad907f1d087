/*
 * tlog/gzip.c: data tiles compress to the same bytes every time, inflate back
 * exactly, and anything but one whole gzip member within the limit is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tlog/error.h"
#include "tlog/gzip.h"

/* len bytes that compress somewhat, like certificates: repeated structure with varying bytes in it. */
static uint8_t *sample(size_t len)
{
    uint8_t *data = malloc(len ? len : 1);
    uint32_t x = 2463534242u;
    assert_non_null(data);
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        data[i] = i % 64 < 40 ? (uint8_t)(i % 64) : (uint8_t)x;
    }
    return data;
}

static void test_tlog_gzip_round_trip_is_deterministic(void **state)
{
    (void)state;
    const size_t lens[] = {0, 1, 100, 140 * 1024};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        uint8_t *data = sample(lens[k]), *back;
        size_t back_len;
        tlog_buf_t a = TLOG_BUF_INIT, b = TLOG_BUF_INIT;
        char err[TLOG_ERR_MAX];
        tlog_gzip(data, lens[k], &a);
        tlog_gzip(data, lens[k], &b);
        assert_true(tlog_is_gzip(a.data, a.len));
        assert_true(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        assert_int_equal(a.data[4] | a.data[5] | a.data[6] | a.data[7], 0); /* mtime 0 */
        if (lens[k] == 140 * 1024)
            assert_true(a.len < lens[k] * 3 / 4);
        assert_int_equal(tlog_gunzip(a.data, a.len, lens[k], &back, &back_len, err), 0);
        assert_int_equal(back_len, lens[k]);
        if (lens[k] > 0)
            assert_memory_equal(back, data, lens[k]);
        free(back);
        tlog_buf_free(&a);
        tlog_buf_free(&b);
        free(data);
    }
}

/* gunzip of in fails with a message containing want. */
static void refused(const uint8_t *in, size_t len, size_t max, const char *want)
{
    uint8_t *out = NULL;
    size_t out_len;
    char err[TLOG_ERR_MAX] = "";
    assert_int_equal(tlog_gunzip(in, len, max, &out, &out_len, err), -1);
    assert_null(out);
    if (strstr(err, want) == NULL)
        fail_msg("error %s, want %s", err, want);
}

static void test_tlog_gzip_refusals(void **state)
{
    (void)state;
    uint8_t *data = sample(10000);
    tlog_buf_t z = TLOG_BUF_INIT;
    tlog_gzip(data, 10000, &z);

    refused(data, 10000, 1 << 20, "does not inflate");    /* not gzip at all */
    refused(z.data, z.len - 1, 1 << 20, "truncated");     /* the trailer cut short */
    refused(z.data, z.len / 2, 1 << 20, "truncated");     /* half the stream */
    refused(z.data, 0, 1 << 20, "truncated");             /* nothing */
    refused(z.data, z.len, 9999, "more than 9999 bytes"); /* over the limit */
    tlog_buf_t extra = TLOG_BUF_INIT;
    tlog_buf_append(&extra, z.data, z.len);
    tlog_buf_append(&extra, z.data, z.len); /* a second member */
    refused(extra.data, extra.len, 1 << 20, "follow the gzip member");
    z.data[z.len - 5] ^= 1; /* the CRC-32 */
    refused(z.data, z.len, 1 << 20, "does not inflate");

    assert_false(tlog_is_gzip("\x1f", 1));
    assert_false(tlog_is_gzip("\x00\x00\x01\x93", 4)); /* a data tile's first timestamp bytes */
    tlog_buf_free(&extra);
    tlog_buf_free(&z);
    free(data);
}

/* A stored tile is taken as it is when it is not gzip, inflated when it is, and its name is in any error. */
static void test_tlog_gzip_data_tile_inflate(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    uint8_t *plain = sample(1000), *out;
    size_t out_len;
    assert_int_equal(tlog_data_tile_inflate(plain, 1000, 1 << 20, "tile/data/000", &out, &out_len, err), 0);
    assert_ptr_equal(out, plain);
    assert_int_equal(out_len, 1000);

    tlog_buf_t z = TLOG_BUF_INIT;
    tlog_gzip(plain, 1000, &z);
    uint8_t *stored = malloc(z.len);
    assert_non_null(stored);
    memcpy(stored, z.data, z.len);
    uint8_t *back;
    size_t back_len;
    assert_int_equal(tlog_data_tile_inflate(stored, z.len, 1 << 20, "tile/data/001", &back, &back_len, err), 0);
    assert_int_equal(back_len, 1000);
    assert_memory_equal(back, plain, 1000);
    free(back);

    stored = malloc(z.len);
    assert_non_null(stored);
    memcpy(stored, z.data, z.len - 1);
    assert_int_equal(tlog_data_tile_inflate(stored, z.len - 1, 1 << 20, "tile/data/002", &back, &back_len, err), -1);
    assert_non_null(strstr(err, "tile/data/002: gzip is truncated"));
    tlog_buf_free(&z);
    free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_gzip_round_trip_is_deterministic),
        cmocka_unit_test(test_tlog_gzip_refusals),
        cmocka_unit_test(test_tlog_gzip_data_tile_inflate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
