/*
 * gateway/tree_read.c: hash tiles (a gone partial tile read from the full
 * one), data tiles plain and gzip (corrupt and truncated ones refused), and
 * issuers by fingerprint (cached per request, checked against their name).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "gateway/files.h"
#include "gateway/tree_read.h"
#include "tests/unit/testutil.h"
#include "tlog/durable.h"
#include "tlog/error.h"

static int storage;

static void put(const char *rel, const void *data, size_t len)
{
    char err[TLOG_ERR_MAX];
    char *path = testutil_format("%s/%s", testutil_dir(), rel);
    char *dir = strdup(path);
    *strrchr(dir, '/') = '\0';
    if (tlog_durable_mkdirs(dir, err) != 0 || tlog_durable_write(path, data, len, TLOG_DURABLE_MUTABLE, err) != 0)
        fail_msg("%s", err);
    free(dir);
    free(path);
}

static void drop(const char *rel)
{
    char *path = testutil_format("%s/%s", testutil_dir(), rel);
    assert_int_equal(unlink(path), 0);
    free(path);
}

static int setup(void **state)
{
    char err[TLOG_ERR_MAX];
    if (testutil_dir_setup(state) != 0)
        return -1;
    storage = gateway_files_open_dir(testutil_dir(), err);
    return storage < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    close(storage);
    return testutil_dir_teardown(state);
}

static void test_gateway_tree_read_hash_tiles(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    uint8_t full[TLOG_TILE_BYTES], out[TLOG_TILE_BYTES];
    for (size_t i = 0; i < sizeof(full); i++)
        full[i] = (uint8_t)(i * 31);
    tlog_tile_t partial = {1, 3, 5};
    put("tile/1/003.p/5", full, 5 * TLOG_HASH_SIZE);
    assert_int_equal(tree_read_hash_tile(&storage, &partial, out, err), 0);
    assert_memory_equal(out, full, 5 * TLOG_HASH_SIZE);

    /* Once the full tile exists a writer may delete the partial one: its prefix answers. */
    put("tile/1/003", full, sizeof(full));
    drop("tile/1/003.p/5");
    memset(out, 0, sizeof(out));
    assert_int_equal(tree_read_hash_tile(&storage, &partial, out, err), 0);
    assert_memory_equal(out, full, 5 * TLOG_HASH_SIZE);

    tlog_tile_t missing = {0, 7, 9};
    assert_int_equal(tree_read_hash_tile(&storage, &missing, out, err), -1);
    testutil_assert_mentions(err, "tile/0/007.p/9");
    put("tile/0/007.p/9", full, 8 * TLOG_HASH_SIZE);
    assert_int_equal(tree_read_hash_tile(&storage, &missing, out, err), -1);
    testutil_assert_mentions(err, "256 bytes, not 288");
}

static size_t gzip_bytes(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

/* Reads data tile N (full) through tree_open_data_tile and tree_read_data_tile; 0 or -1 with err. */
static int read_data(uint64_t n, uint8_t **out, size_t *len, char *err)
{
    struct stat st;
    tlog_tile_t tile = {TLOG_TILE_DATA, n, TLOG_TILE_WIDTH};
    int fd = tree_open_data_tile(storage, &tile, &st, err);
    if (fd < 0)
        return -1;
    int rc = tree_read_data_tile(fd, &st, out, len, err);
    close(fd);
    return rc;
}

static void test_gateway_tree_read_data_tiles(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    size_t raw_len = 300000, len;
    uint8_t *raw = malloc(raw_len), *gz = malloc(raw_len + 1024), *out;
    assert_non_null(raw);
    assert_non_null(gz);
    for (size_t i = 0; i < raw_len; i++)
        raw[i] = (uint8_t)((i / 7) ^ (i % 13)); /* compresses more than four times: the buffer grows */
    put("tile/data/000", raw, raw_len);
    assert_int_equal(read_data(0, &out, &len, err), 0);
    assert_int_equal(len, raw_len);
    assert_memory_equal(out, raw, raw_len);
    free(out);

    size_t gz_len = gzip_bytes(raw, raw_len, gz, raw_len + 1024);
    assert_true(gz_len * 4 < raw_len);
    put("tile/data/001", gz, gz_len);
    assert_int_equal(read_data(1, &out, &len, err), 0);
    assert_int_equal(len, raw_len);
    assert_memory_equal(out, raw, raw_len);
    free(out);

    put("tile/data/002", gz, gz_len / 2);
    assert_int_equal(read_data(2, &out, &len, err), -1);
    testutil_assert_mentions(err, "gzip is truncated");
    gz[gz_len / 2] ^= 0xff;
    gz[gz_len / 2 + 1] ^= 0xff;
    put("tile/data/003", gz, gz_len);
    assert_int_equal(read_data(3, &out, &len, err), -1);
    testutil_assert_mentions(err, "gzip does not inflate");
    assert_int_equal(read_data(4, &out, &len, err), -1);
    testutil_assert_mentions(err, "tile/data/004");
    free(raw);
    free(gz);
}

static void test_gateway_tree_read_issuers(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX], hex[2 * TLOG_HASH_SIZE + 1];
    const char der[] = "0\x03\x02\x01\x05";
    tlog_hash_t fp;
    tlog_sha256(der, sizeof(der) - 1, &fp);
    tlog_hex_encode(fp.bytes, TLOG_HASH_SIZE, hex);
    char *rel = testutil_format("issuer/%s", hex);
    put(rel, der, sizeof(der) - 1);

    tree_issuers_t cache = TREE_ISSUERS_INIT;
    ct_cert_t cert;
    assert_int_equal(tree_issuer(storage, &cache, fp.bytes, &cert, err), 0);
    assert_int_equal(cert.len, sizeof(der) - 1);
    assert_memory_equal(cert.der, der, cert.len);
    /* Read once per cache: gone from storage, still answered. */
    drop(rel);
    assert_int_equal(tree_issuer(storage, &cache, fp.bytes, &cert, err), 0);
    assert_memory_equal(cert.der, der, cert.len);
    tree_issuers_free(&cache);
    assert_int_equal(tree_issuer(storage, &cache, fp.bytes, &cert, err), -1);
    testutil_assert_mentions(err, hex);

    /* A file whose bytes are not its name's. */
    put(rel, "other", 5);
    assert_int_equal(tree_issuer(storage, &cache, fp.bytes, &cert, err), -1);
    testutil_assert_mentions(err, "do not hash to its name");
    assert_int_equal(cache.count, 0);
    tree_issuers_free(&cache);
    free(rel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_tree_read_hash_tiles),
        cmocka_unit_test(test_gateway_tree_read_data_tiles),
        cmocka_unit_test(test_gateway_tree_read_issuers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
