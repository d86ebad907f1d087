/*
 * gateway/leaf_index.c: appends and lookups (rate printed), candidates for
 * duplicates and 8-byte prefix collisions, progress across reopen, a file
 * shared with another process, reset, and files that are not a leaf index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "gateway/leaf_index.h"
#include "tests/unit/testutil.h"
#include "tlog/error.h"

#define READERS 2
#define LARGE 200000

static leaf_index_t *open_index(const char *name)
{
    char err[TLOG_ERR_MAX];
    leaf_index_t *index;
    if (leaf_index_open(testutil_path(name), READERS, &index, err) != 0)
        fail_msg("%s", err);
    return index;
}

static tlog_hash_t leaf(uint64_t i)
{
    tlog_hash_t h;
    char text[32];
    int n = snprintf(text, sizeof(text), "leaf-%llu", (unsigned long long)i);
    tlog_leaf_hash(text, (size_t)n, &h);
    return h;
}

static tlog_hash_t *leaves(uint64_t from, size_t n)
{
    tlog_hash_t *h = calloc(n, sizeof(*h));
    assert_non_null(h);
    for (size_t i = 0; i < n; i++)
        h[i] = leaf(from + i);
    return h;
}

/* The candidates for hash through reader, as a count and the first one. */
static size_t lookup(leaf_index_t *index, unsigned reader, const tlog_hash_t *hash, uint64_t *out, size_t max)
{
    char err[TLOG_ERR_MAX];
    size_t count;
    if (leaf_index_lookup(index, reader, hash, out, max, &count, err) != 0)
        fail_msg("%s", err);
    return count;
}

static void assert_progress(leaf_index_t *index, uint64_t size, const tlog_hash_t *root)
{
    uint64_t got;
    tlog_hash_t got_root;
    leaf_index_progress(index, &got, &got_root);
    assert_int_equal(got, size);
    assert_memory_equal(got_root.bytes, root->bytes, TLOG_HASH_SIZE);
}

static void test_gateway_leaf_index_append_lookup(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    uint64_t found[4];
    tlog_hash_t empty, root = leaf(123456);
    tlog_empty_root(&empty);
    leaf_index_t *index = open_index("a.db");
    assert_progress(index, 0, &empty);

    tlog_hash_t *h = leaves(0, 1000);
    assert_int_equal(leaf_index_append(index, 0, h, 600, &root, err), 0);
    assert_int_equal(leaf_index_append(index, 600, h + 600, 400, &root, err), 0);
    assert_progress(index, 1000, &root);
    for (uint64_t i = 0; i < 1000; i++) {
        assert_int_equal(lookup(index, (unsigned)(i % READERS), &h[i], found, 4), 1);
        assert_int_equal(found[0], i);
    }
    tlog_hash_t absent = leaf(5000);
    assert_int_equal(lookup(index, 0, &absent, found, 4), 0);

    /* An append that does not start at the size held changes nothing. */
    assert_int_equal(leaf_index_append(index, 999, &absent, 1, &root, err), 1);
    assert_int_equal(leaf_index_append(index, 1001, &absent, 1, &root, err), 1);
    assert_progress(index, 1000, &root);
    assert_int_equal(lookup(index, 0, &absent, found, 4), 0);
    free(h);
    leaf_index_free(index);

    /* Reopened, it holds what was committed. */
    index = open_index("a.db");
    assert_progress(index, 1000, &root);
    tlog_hash_t l7 = leaf(7);
    assert_int_equal(lookup(index, 1, &l7, found, 4), 1);
    assert_int_equal(found[0], 7);
    leaf_index_free(index);
}

static void test_gateway_leaf_index_candidates(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    uint64_t found[8];
    leaf_index_t *index = open_index("c.db");
    tlog_hash_t h[6] = {leaf(0), leaf(1), leaf(0), leaf(3), leaf(0), leaf(1)};
    /* leaf 3's hash shares leaf 0's first 8 bytes only. */
    memcpy(h[3].bytes, h[0].bytes, 8);
    assert_int_equal(leaf_index_append(index, 0, h, 6, &h[5], err), 0);
    assert_int_equal(lookup(index, 0, &h[0], found, 8), 4);
    assert_int_equal(found[0], 0);
    assert_int_equal(found[1], 2);
    assert_int_equal(found[2], 3); /* the collision: the caller confirms against the tile */
    assert_int_equal(found[3], 4);
    assert_int_equal(lookup(index, 0, &h[0], found, 2), 2);
    assert_int_equal(found[1], 2);
    assert_int_equal(lookup(index, 1, &h[1], found, 8), 2);
    assert_int_equal(found[1], 5);
    leaf_index_free(index);
}

/* Two handles on one file, as two gateways sharing an index_dir. */
static void test_gateway_leaf_index_shared_file(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    uint64_t found[2];
    tlog_hash_t r1 = leaf(1001), r2 = leaf(1002);
    leaf_index_t *a = open_index("s.db"), *b = open_index("s.db");
    tlog_hash_t *h = leaves(0, 20);
    assert_int_equal(leaf_index_append(a, 0, h, 10, &r1, err), 0);
    /* b still thinks the file is empty: its append finds the stored size moved on and takes it. */
    assert_int_equal(leaf_index_append(b, 0, h, 10, &r2, err), 1);
    assert_progress(b, 10, &r1);
    assert_int_equal(leaf_index_append(b, 10, h + 10, 10, &r2, err), 0);
    assert_int_equal(lookup(a, 0, &h[15], found, 2), 1);
    assert_int_equal(found[0], 15);
    assert_int_equal(leaf_index_append(a, 10, h + 10, 10, &r1, err), 1);
    assert_progress(a, 20, &r2);
    free(h);
    leaf_index_free(a);
    leaf_index_free(b);
}

static void test_gateway_leaf_index_reset(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    uint64_t found[2];
    tlog_hash_t empty, root = leaf(99);
    tlog_empty_root(&empty);
    leaf_index_t *index = open_index("r.db");
    tlog_hash_t *h = leaves(0, 300);
    assert_int_equal(leaf_index_append(index, 0, h, 300, &root, err), 0);
    assert_int_equal(leaf_index_reset(index, err), 0);
    assert_progress(index, 0, &empty);
    assert_int_equal(lookup(index, 0, &h[1], found, 2), 0);
    assert_int_equal(leaf_index_append(index, 0, h + 100, 1, &root, err), 0);
    assert_int_equal(lookup(index, 0, &h[100], found, 2), 1);
    assert_int_equal(found[0], 0);
    free(h);
    leaf_index_free(index);
    index = open_index("r.db");
    assert_progress(index, 1, &root);
    leaf_index_free(index);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void test_gateway_leaf_index_large(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    uint64_t found[2];
    struct timespec start;
    tlog_hash_t root = leaf(0);
    leaf_index_t *index = open_index("large.db");
    tlog_hash_t *h = leaves(0, LARGE);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (uint64_t i = 0; i < LARGE; i += 16384)
        assert_int_equal(leaf_index_append(index, i, h + i, LARGE - i < 16384 ? LARGE - i : 16384, &root, err), 0);
    double append = seconds_since(&start);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (uint64_t i = 0; i < LARGE; i += 7) {
        assert_int_equal(lookup(index, 0, &h[i], found, 2), 1);
        assert_int_equal(found[0], i);
    }
    double look = seconds_since(&start);
    printf("leaf index: %d leaves appended at %.0f/s, looked up at %.0f/s\n", LARGE, LARGE / append, LARGE / 7 / look);
    free(h);
    leaf_index_free(index);
}

static void test_gateway_leaf_index_bad_files_refused(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    leaf_index_t *index = (leaf_index_t *)1;
    FILE *f = fopen(testutil_path("random.db"), "wb");
    assert_non_null(f);
    for (int i = 0; i < 8192; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    assert_int_equal(leaf_index_open(testutil_path("random.db"), 1, &index, err), -1);
    assert_null(index);
    testutil_assert_mentions(err, "random.db");

    sqlite3 *h;
    assert_int_equal(sqlite3_open(testutil_path("foreign.db"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE leaves (prefix INTEGER)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(leaf_index_open(testutil_path("foreign.db"), 1, &index, err), -1);
    testutil_assert_mentions(err, "is not a faro leaf index");

    assert_int_equal(leaf_index_open(testutil_path("no/such/dir/x.db"), 1, &index, err), -1);
    testutil_assert_mentions(err, "no/such/dir/x.db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_leaf_index_append_lookup), cmocka_unit_test(test_gateway_leaf_index_candidates),
        cmocka_unit_test(test_gateway_leaf_index_shared_file),   cmocka_unit_test(test_gateway_leaf_index_reset),
        cmocka_unit_test(test_gateway_leaf_index_large),         cmocka_unit_test(test_gateway_leaf_index_bad_files_refused),
    };
    return cmocka_run_group_tests(tests, testutil_dir_setup, testutil_dir_teardown);
}
