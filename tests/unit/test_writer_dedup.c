/* The dedup index: put and lookup, first SCT wins, large batches (rate printed), WAL readers, bad files and rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tests/unit/testutil.h"
#include "tlog/error.h"
#include "writer/dedup.h"
#include "writer/lockdb.h"

#define BATCH 10000
#define BATCHES 5

static dedup_t *open_index(const char *name)
{
    char err[TLOG_ERR_MAX];
    dedup_t *d;
    if (dedup_open(testutil_path(name), &d, err) != 0)
        fail_msg("%s", err);
    return d;
}

/* A well-spread key from a counter (splitmix64), as SHA-256 keys are. */
static void make_key(uint64_t n, uint8_t key[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (n * 4 + (uint64_t)i + 1) * UINT64_C(0x9e3779b97f4a7c15);
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        z ^= z >> 31;
        memcpy(key + 8 * i, &z, 8);
    }
}

/* A P-256 SCT signature's shape and size (digitally-signed, 70-72 bytes of DER), its bytes from index. */
static size_t make_signature(uint64_t index, uint8_t out[TLOG_DSIG_P256_MAX])
{
    size_t len = 74 + index % 3;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(index >> (8 * (i % 8))) ^ (uint8_t)i;
    memcpy(out, "\x04\x03\x00", 3);
    out[3] = (uint8_t)(len - 4);
    return len;
}

static void assert_hit(dedup_t *d, const uint8_t key[32], uint64_t index, uint64_t ts, const void *signature, size_t signature_len)
{
    char err[TLOG_ERR_MAX];
    dedup_hit_t hit;
    if (dedup_lookup(d, key, &hit, err) != 1)
        fail_msg("lookup missed: %s", err);
    assert_int_equal(hit.leaf_index, index);
    assert_int_equal(hit.timestamp, ts);
    assert_int_equal(hit.signature_len, signature_len);
    assert_memory_equal(hit.signature, signature, signature_len);
}

static void assert_miss(dedup_t *d, const uint8_t key[32])
{
    char err[TLOG_ERR_MAX];
    dedup_hit_t hit;
    assert_int_equal(dedup_lookup(d, key, &hit, err), 0);
    assert_int_equal(hit.signature_len, 0);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_writer_dedup_put_lookup(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    dedup_row_t rows[3];
    uint8_t signatures[3][TLOG_DSIG_P256_MAX];
    dedup_t *d = open_index("basic.db");
    memset(rows, 0, sizeof(rows));
    for (int i = 0; i < 3; i++) {
        make_key((uint64_t)i, rows[i].key);
        rows[i].leaf_index = (uint64_t)i;
        rows[i].timestamp = 1700000000000 + (uint64_t)i;
        rows[i].signature_len = make_signature((uint64_t)i, signatures[i]);
        rows[i].signature = signatures[i];
        assert_miss(d, rows[i].key);
    }
    assert_int_equal(dedup_put(d, rows, 3, err), 0);
    assert_int_equal(dedup_put(d, rows, 0, err), 0);
    for (int i = 0; i < 3; i++)
        assert_hit(d, rows[i].key, rows[i].leaf_index, rows[i].timestamp, signatures[i], rows[i].signature_len);
    uint8_t other[32];
    make_key(3, other);
    assert_miss(d, other);
    dedup_close(d);

    /* Reopened: the rows are on disk. */
    d = open_index("basic.db");
    assert_hit(d, rows[1].key, 1, rows[1].timestamp, signatures[1], rows[1].signature_len);
    dedup_close(d);
    dedup_close(NULL);
}

static void test_writer_dedup_first_sct_wins(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    dedup_row_t first = {.leaf_index = 5, .timestamp = 100, .signature = (const uint8_t *)"first", .signature_len = 5};
    dedup_row_t again[2] = {
        {.leaf_index = 9, .timestamp = 200, .signature = (const uint8_t *)"second", .signature_len = 6},
        {.leaf_index = 10, .timestamp = 300, .signature = (const uint8_t *)"new", .signature_len = 3},
    };
    dedup_t *d = open_index("first.db");
    make_key(1, first.key);
    make_key(1, again[0].key);
    make_key(2, again[1].key);
    assert_int_equal(dedup_put(d, &first, 1, err), 0);
    assert_int_equal(dedup_put(d, again, 2, err), 0);
    assert_hit(d, first.key, 5, 100, "first", 5);
    assert_hit(d, again[1].key, 10, 300, "new", 3);

    /* Within one batch, too, the first row for a key wins. */
    dedup_row_t same[2] = {
        {.leaf_index = 20, .timestamp = 400, .signature = (const uint8_t *)"A", .signature_len = 1},
        {.leaf_index = 21, .timestamp = 400, .signature = (const uint8_t *)"B", .signature_len = 1},
    };
    make_key(3, same[0].key);
    make_key(3, same[1].key);
    assert_int_equal(dedup_put(d, same, 2, err), 0);
    assert_hit(d, same[0].key, 20, 400, "A", 1);
    dedup_close(d);
}

static void test_writer_dedup_out_of_range_batch_refused(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    dedup_row_t rows[2] = {
        {.leaf_index = 1, .timestamp = 1, .signature = (const uint8_t *)"ok", .signature_len = 2},
        {.leaf_index = (uint64_t)INT64_MAX + 1, .timestamp = 1, .signature = (const uint8_t *)"bad", .signature_len = 3},
    };
    dedup_t *d = open_index("range.db");
    make_key(1, rows[0].key);
    make_key(2, rows[1].key);
    assert_int_equal(dedup_put(d, rows, 2, err), -1);
    testutil_assert_mentions(err, "row 1 is out of range");
    assert_miss(d, rows[0].key);
    dedup_close(d);
}

static void test_writer_dedup_large_batches(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    dedup_row_t *rows = calloc(BATCH, sizeof(*rows));
    uint8_t(*signatures)[TLOG_DSIG_P256_MAX] = calloc(BATCH, TLOG_DSIG_P256_MAX);
    struct timespec t0;
    double put_s = 0;
    assert_non_null(rows);
    assert_non_null(signatures);
    dedup_t *d = open_index("large.db");
    for (uint64_t b = 0; b < BATCHES; b++) {
        for (uint64_t i = 0; i < BATCH; i++) {
            uint64_t index = b * BATCH + i;
            make_key(index, rows[i].key);
            rows[i].leaf_index = index;
            rows[i].timestamp = 1700000000000 + b;
            rows[i].signature_len = make_signature(index, signatures[i]);
            rows[i].signature = signatures[i];
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(dedup_put(d, rows, BATCH, err), 0);
        double s = seconds_since(&t0);
        put_s += s;
        if (b == 0)
            printf("dedup_put: first batch of %d rows in %.1f ms (%.0f rows/s)\n", BATCH, s * 1e3, BATCH / s);
    }
    printf("dedup_put: %d batches of %d rows: %.0f rows/s\n", BATCHES, BATCH, BATCHES * BATCH / put_s);

    /* Every row of the last batch comes back exactly; every earlier key hits. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t i = 0; i < BATCH; i++)
        assert_hit(d, rows[i].key, rows[i].leaf_index, rows[i].timestamp, rows[i].signature, rows[i].signature_len);
    printf("dedup_lookup: %.0f hits/s over %d rows\n", BATCH / seconds_since(&t0), BATCHES * BATCH);
    dedup_hit_t hit;
    uint8_t key[32];
    for (uint64_t n = 0; n < (BATCHES - 1) * BATCH; n += 97) {
        make_key(n, key);
        assert_int_equal(dedup_lookup(d, key, &hit, err), 1);
        assert_int_equal(hit.leaf_index, n);
    }
    make_key(BATCHES * BATCH, key);
    assert_miss(d, key);
    dedup_close(d);
    free(signatures);
    free(rows);
}

/* WAL: while another connection holds an open write transaction, lookups answer at once from the last commit. */
static void test_writer_dedup_readers_during_write(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    dedup_row_t row = {.leaf_index = 1, .timestamp = 2, .signature = (const uint8_t *)"committed", .signature_len = 9};
    uint8_t pending[32];
    dedup_t *writer = open_index("wal.db"), *reader = open_index("wal.db");
    make_key(1, row.key);
    make_key(2, pending);
    assert_int_equal(dedup_put(writer, &row, 1, err), 0);

    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(testutil_path("wal.db"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "INSERT INTO dedup VALUES (?1, 7, 8, x'00')", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, pending, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_hit(reader, row.key, 1, 2, "committed", 9);
    assert_miss(reader, pending);
    assert_true(seconds_since(&t0) < 1.0);

    assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_hit(reader, pending, 7, 8, "\0", 1);

    /* And a reader in the middle of a read transaction does not hold back a put. */
    assert_int_equal(sqlite3_exec(h, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM dedup", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    make_key(3, row.key);
    assert_int_equal(dedup_put(writer, &row, 1, err), 0);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_hit(reader, row.key, 1, 2, "committed", 9);
    dedup_close(reader);
    dedup_close(writer);
}

static void write_random(const char *path, long offset, size_t len, unsigned seed)
{
    FILE *f = fopen(path, offset == 0 ? "wb" : "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, offset, SEEK_SET), 0);
    srand(seed);
    for (size_t i = 0; i < len; i++)
        fputc(rand() & 0xff, f);
    fclose(f);
}

static void test_writer_dedup_bad_files_refused(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    dedup_t *d = (dedup_t *)1;
    lockdb_t *lock;

    char *p = testutil_path("random.db");
    write_random(p, 0, 16384, 11);
    assert_int_equal(dedup_open(p, &d, err), -1);
    assert_null(d);
    testutil_assert_mentions(err, "random.db");
    testutil_assert_mentions(err, "not a database");

    /* A lock DB is not a dedup index. */
    assert_int_equal(lockdb_open(testutil_path("lock.db"), 1, &lock, err), 0);
    lockdb_close(lock);
    assert_int_equal(dedup_open(testutil_path("lock.db"), &d, err), -1);
    testutil_assert_mentions(err, "is not a faro dedup index");

    /* Another program's database is left alone. */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(testutil_path("foreign.db"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE dedup (key BLOB PRIMARY KEY)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(dedup_open(testutil_path("foreign.db"), &d, err), -1);
    testutil_assert_mentions(err, "is not a faro dedup index");

    /* Version 1, which kept whole JSON answers, is named as such and left as it is. */
    assert_int_equal(sqlite3_open(testutil_path("v1.db"), &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(h,
                     "PRAGMA application_id = 1180779620; PRAGMA user_version = 1; "
                     "CREATE TABLE dedup (key BLOB NOT NULL PRIMARY KEY CHECK (length(key) = 32), "
                     "leaf_index INTEGER NOT NULL, timestamp INTEGER NOT NULL, sct BLOB NOT NULL) STRICT, WITHOUT ROWID",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(dedup_open(testutil_path("v1.db"), &d, err), -1);
    testutil_assert_mentions(err, "has schema version 1; this faro reads version 2");
}

/* A row whose signature is longer than any P-256 one (written by something else) fails its lookup cleanly. */
static void test_writer_dedup_oversized_signature_refused(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    dedup_hit_t hit;
    uint8_t key[32];
    dedup_t *d = open_index("oversized.db");
    make_key(1, key);
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(testutil_path("oversized.db"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "INSERT INTO dedup VALUES (?1, 7, 8, zeroblob(100))", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
    assert_int_equal(dedup_lookup(d, key, &hit, err), -1);
    testutil_assert_mentions(err, "a row with a 100-byte signature");
    dedup_close(d);
}

/* A real index whose pages after the first are overwritten: opens or not, but every lookup fails cleanly. */
static void test_writer_dedup_corrupt_pages_fail_cleanly(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    dedup_row_t *rows = calloc(2000, sizeof(*rows));
    assert_non_null(rows);
    dedup_t *d = open_index("corrupt.db");
    for (uint64_t i = 0; i < 2000; i++) {
        make_key(i, rows[i].key);
        rows[i].leaf_index = i;
        rows[i].signature = (const uint8_t *)"\x04\x03\x00\x00";
        rows[i].signature_len = 4;
    }
    assert_int_equal(dedup_put(d, rows, 2000, err), 0);
    dedup_close(d); /* the last connection checkpoints the WAL into the file */
    write_random(testutil_path("corrupt.db"), 4096, 64 * 4096, 12);

    int failed = 0;
    if (dedup_open(testutil_path("corrupt.db"), &d, err) != 0) {
        testutil_assert_mentions(err, "corrupt.db");
    } else {
        dedup_hit_t hit;
        for (uint64_t i = 0; i < 2000; i++) {
            int rc = dedup_lookup(d, rows[i].key, &hit, err);
            assert_true(rc >= -1 && rc <= 1);
            failed += rc == -1;
        }
        dedup_close(d);
        assert_true(failed > 0);
        testutil_assert_mentions(err, "malformed");
    }
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_dedup_put_lookup),
        cmocka_unit_test(test_writer_dedup_first_sct_wins),
        cmocka_unit_test(test_writer_dedup_oversized_signature_refused),
        cmocka_unit_test(test_writer_dedup_out_of_range_batch_refused),
        cmocka_unit_test(test_writer_dedup_large_batches),
        cmocka_unit_test(test_writer_dedup_readers_during_write),
        cmocka_unit_test(test_writer_dedup_bad_files_refused),
        cmocka_unit_test(test_writer_dedup_corrupt_pages_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, testutil_dir_setup, testutil_dir_teardown);
}
