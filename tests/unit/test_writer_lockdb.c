/* The lock DB: refusing missing and foreign files, create, compare-and-swap, two handles, witness sizes, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tests/unit/testutil.h"
#include "tlog/error.h"
#include "writer/dedup.h"
#include "writer/lockdb.h"

static const uint8_t log_a[32] = {0xaa, 1, 2, 3};
static const uint8_t log_b[32] = {0xbb, 1, 2, 3};
static const char cp1[] = "example.com/log\n1\nAAAA\n\n— example.com/log sig1\n";
static const char cp2[] = "example.com/log\n2\nBBBB\n\n— example.com/log sig2\n";
static const char cp3[] = "example.com/log\n3\nCCCC\n\n— example.com/log sig3\n";

static lockdb_t *open_new(const char *name)
{
    char err[TLOG_ERR_MAX];
    lockdb_t *db;
    if (lockdb_open(testutil_path(name), 1, &db, err) != 0)
        fail_msg("%s", err);
    return db;
}

static void assert_stored(lockdb_t *db, const uint8_t *log_id, const char *want)
{
    char err[TLOG_ERR_MAX];
    char *body;
    size_t len;
    assert_int_equal(lockdb_get(db, log_id, &body, &len, err), 1);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(body, want, len);
    assert_int_equal(body[len], '\0');
    free(body);
}

/* Makes an ordinary SQLite database with one table of its own. */
static void make_foreign_db(const char *path)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

static void test_writer_lockdb_missing_file_refused(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    lockdb_t *db = (lockdb_t *)1;
    char *p = testutil_path("missing.db");
    assert_int_equal(lockdb_open(p, 0, &db, err), -1);
    assert_null(db);
    testutil_assert_mentions(err, "does not exist");
    testutil_assert_mentions(err, "--create-missing");
    assert_int_equal(access(p, F_OK), -1);
    lockdb_close(NULL);
}

static void test_writer_lockdb_create_and_get(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    char *body = (char *)1;
    size_t len = 1;
    lockdb_t *db = open_new("create.db");
    assert_int_equal(lockdb_get(db, log_a, &body, &len, err), 0);
    assert_null(body);
    assert_int_equal(len, 0);
    assert_int_equal(lockdb_create(db, log_a, cp1, strlen(cp1), err), 0);
    assert_stored(db, log_a, cp1);
    assert_int_equal(lockdb_get(db, log_b, &body, &len, err), 0);
    lockdb_close(db);

    /* Reopened without create: the schema is recognised and the row is there. */
    assert_int_equal(lockdb_open(testutil_path("create.db"), 0, &db, err), 0);
    assert_stored(db, log_a, cp1);
    lockdb_close(db);
}

static void test_writer_lockdb_create_twice_fails(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    lockdb_t *db = open_new("twice.db");
    assert_int_equal(lockdb_create(db, log_a, cp1, strlen(cp1), err), 0);
    assert_int_equal(lockdb_create(db, log_a, cp2, strlen(cp2), err), -1);
    testutil_assert_mentions(err, "already has a checkpoint for log aa010203");
    assert_stored(db, log_a, cp1);
    lockdb_close(db);
}

static void test_writer_lockdb_replace_swaps(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    lockdb_t *db = open_new("cas.db");
    assert_int_equal(lockdb_create(db, log_a, cp1, strlen(cp1), err), 0);
    assert_int_equal(lockdb_create(db, log_b, cp1, strlen(cp1), err), 0);
    assert_int_equal(lockdb_replace(db, log_a, cp1, strlen(cp1), cp2, strlen(cp2), err), 0);
    assert_stored(db, log_a, cp2);
    assert_stored(db, log_b, cp1);
    assert_int_equal(lockdb_replace(db, log_a, cp2, strlen(cp2), cp3, strlen(cp3), err), 0);
    assert_stored(db, log_a, cp3);
    lockdb_close(db);
}

static void test_writer_lockdb_replace_stale_conflicts(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    lockdb_t *db = open_new("stale.db");
    assert_int_equal(lockdb_create(db, log_a, cp1, strlen(cp1), err), 0);
    assert_int_equal(lockdb_replace(db, log_a, cp1, strlen(cp1), cp2, strlen(cp2), err), 0);
    /* A writer that still believes cp1 is current. */
    err[0] = '\0';
    assert_int_equal(lockdb_replace(db, log_a, cp1, strlen(cp1), cp3, strlen(cp3), err), LOCKDB_CONFLICT);
    testutil_assert_mentions(err, "not the one this writer extended: another writer or a rollback");
    assert_stored(db, log_a, cp2);
    /* A prefix of the stored body is not the stored body. */
    assert_int_equal(lockdb_replace(db, log_a, cp2, strlen(cp2) - 1, cp3, strlen(cp3), err), LOCKDB_CONFLICT);
    assert_stored(db, log_a, cp2);
    /* A log the lock DB does not know cannot be advanced. */
    assert_int_equal(lockdb_replace(db, log_b, cp1, strlen(cp1), cp2, strlen(cp2), err), LOCKDB_CONFLICT);
    char *body;
    size_t len;
    assert_int_equal(lockdb_get(db, log_b, &body, &len, err), 0);
    lockdb_close(db);
}

static void test_writer_lockdb_second_handle_sees_update(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    lockdb_t *one = open_new("two.db"), *two;
    assert_int_equal(lockdb_open(testutil_path("two.db"), 0, &two, err), 0);
    assert_int_equal(lockdb_create(one, log_a, cp1, strlen(cp1), err), 0);
    assert_stored(two, log_a, cp1);
    assert_int_equal(lockdb_replace(one, log_a, cp1, strlen(cp1), cp2, strlen(cp2), err), 0);
    assert_stored(two, log_a, cp2);
    /* The second writer extended cp1 too: it must not be able to store its branch. */
    assert_int_equal(lockdb_replace(two, log_a, cp1, strlen(cp1), cp3, strlen(cp3), err), LOCKDB_CONFLICT);
    assert_stored(one, log_a, cp2);
    lockdb_close(two);
    lockdb_close(one);
}

static void test_writer_lockdb_foreign_files_refused(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    lockdb_t *db = (lockdb_t *)1;
    dedup_t *d;

    /* Another program's database, with or without create: refused and left as it was. */
    char *p = testutil_path("foreign.db");
    make_foreign_db(p);
    assert_int_equal(lockdb_open(p, 0, &db, err), -1);
    assert_null(db);
    testutil_assert_mentions(err, "is not a faro lock database");
    assert_int_equal(lockdb_open(p, 1, &db, err), -1);
    testutil_assert_mentions(err, "is not a faro lock database");
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
    sqlite3_finalize(st);
    sqlite3_close(h);

    /* A faro dedup index is not a lock DB. */
    assert_int_equal(dedup_open(testutil_path("dedup.db"), &d, err), 0);
    dedup_close(d);
    assert_int_equal(lockdb_open(testutil_path("dedup.db"), 0, &db, err), -1);
    testutil_assert_mentions(err, "is not a faro lock database");

    /* Random bytes. */
    p = testutil_path("random.db");
    FILE *f = fopen(p, "wb");
    srand(7);
    for (int i = 0; i < 8192; i++)
        fputc(rand() & 0xff, f);
    fclose(f);
    assert_int_equal(lockdb_open(p, 0, &db, err), -1);
    testutil_assert_mentions(err, "random.db");
    testutil_assert_mentions(err, "not a database");
    assert_int_equal(lockdb_open(p, 1, &db, err), -1);

    /* An empty file exists, but holds no lock DB. */
    p = testutil_path("empty.db");
    fclose(fopen(p, "wb"));
    assert_int_equal(lockdb_open(p, 0, &db, err), -1);
    testutil_assert_mentions(err, "--create-missing");

    /* A lock DB whose schema someone changed. */
    lockdb_close(open_new("altered.db"));
    assert_int_equal(sqlite3_open(testutil_path("altered.db"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE extra (x INTEGER)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(lockdb_open(testutil_path("altered.db"), 0, &db, err), -1);
    testutil_assert_mentions(err, "schema is not faro's");
}

static void test_writer_lockdb_witness_sizes(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    uint64_t size = 99;
    lockdb_t *db = open_new("witness.db");
    assert_int_equal(lockdb_witness_get(db, log_a, "witness.example/w1", &size, err), 0);
    assert_int_equal(size, 99);
    assert_int_equal(lockdb_witness_set(db, log_a, "witness.example/w1", 10, err), 0);
    assert_int_equal(lockdb_witness_set(db, log_a, "witness.example/w2", 7, err), 0);
    assert_int_equal(lockdb_witness_set(db, log_b, "witness.example/w1", 1000, err), 0);
    assert_int_equal(lockdb_witness_get(db, log_a, "witness.example/w1", &size, err), 1);
    assert_int_equal(size, 10);
    assert_int_equal(lockdb_witness_set(db, log_a, "witness.example/w1", 20, err), 0);
    assert_int_equal(lockdb_witness_get(db, log_a, "witness.example/w1", &size, err), 1);
    assert_int_equal(size, 20);
    assert_int_equal(lockdb_witness_get(db, log_a, "witness.example/w2", &size, err), 1);
    assert_int_equal(size, 7);
    assert_int_equal(lockdb_witness_get(db, log_b, "witness.example/w1", &size, err), 1);
    assert_int_equal(size, 1000);
    assert_int_equal(lockdb_witness_get(db, log_b, "witness.example/w2", &size, err), 0);
    assert_int_equal(lockdb_witness_set(db, log_a, "witness.example/w1", (uint64_t)INT64_MAX + 1, err), -1);
    testutil_assert_mentions(err, "out of range");
    assert_int_equal(lockdb_witness_set(db, log_a, "witness.example/w1", (uint64_t)INT64_MAX, err), 0);
    assert_int_equal(lockdb_witness_get(db, log_a, "witness.example/w1", &size, err), 1);
    assert_true(size == (uint64_t)INT64_MAX);
    lockdb_close(db);

    /* Witness sizes survive a reopen, and do not touch checkpoints. */
    assert_int_equal(lockdb_open(testutil_path("witness.db"), 0, &db, err), 0);
    assert_int_equal(lockdb_witness_get(db, log_b, "witness.example/w1", &size, err), 1);
    assert_int_equal(size, 1000);
    char *body;
    size_t len;
    assert_int_equal(lockdb_get(db, log_a, &body, &len, err), 0);
    lockdb_close(db);
}

#define SEQUENCERS 4
#define ROUNDS 25

struct sequencer {
    const char *path;
    uint8_t log_id[32];
    int failures;
};

/* One sequencer thread: its own handle, ROUNDS compare-and-swaps on its own log. */
static void *run_sequencer(void *arg)
{
    struct sequencer *s = arg;
    char err[TLOG_ERR_MAX], old[32], cur[32];
    lockdb_t *db;
    if (lockdb_open(s->path, 0, &db, err) != 0) {
        s->failures++;
        return NULL;
    }
    snprintf(old, sizeof(old), "checkpoint 0");
    if (lockdb_create(db, s->log_id, old, strlen(old), err) != 0)
        s->failures++;
    for (int i = 1; i <= ROUNDS; i++) {
        snprintf(cur, sizeof(cur), "checkpoint %d", i);
        if (lockdb_replace(db, s->log_id, old, strlen(old), cur, strlen(cur), err) != 0)
            s->failures++;
        memcpy(old, cur, sizeof(old));
    }
    lockdb_close(db);
    return NULL;
}

static void test_writer_lockdb_one_handle_per_thread(void **state)
{
    (void)state;
    pthread_t threads[SEQUENCERS];
    struct sequencer seq[SEQUENCERS];
    char want[32], path[256];
    lockdb_t *db = open_new("threads.db");
    snprintf(path, sizeof(path), "%s", testutil_path("threads.db"));
    for (int i = 0; i < SEQUENCERS; i++) {
        memset(&seq[i], 0, sizeof(seq[i]));
        seq[i].path = path;
        seq[i].log_id[0] = (uint8_t)i;
        assert_int_equal(pthread_create(&threads[i], NULL, run_sequencer, &seq[i]), 0);
    }
    for (int i = 0; i < SEQUENCERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(seq[i].failures, 0);
        snprintf(want, sizeof(want), "checkpoint %d", ROUNDS);
        assert_stored(db, seq[i].log_id, want);
    }
    lockdb_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_lockdb_missing_file_refused),
        cmocka_unit_test(test_writer_lockdb_create_and_get),
        cmocka_unit_test(test_writer_lockdb_create_twice_fails),
        cmocka_unit_test(test_writer_lockdb_replace_swaps),
        cmocka_unit_test(test_writer_lockdb_replace_stale_conflicts),
        cmocka_unit_test(test_writer_lockdb_second_handle_sees_update),
        cmocka_unit_test(test_writer_lockdb_foreign_files_refused),
        cmocka_unit_test(test_writer_lockdb_witness_sizes),
        cmocka_unit_test(test_writer_lockdb_one_handle_per_thread),
    };
    return cmocka_run_group_tests(tests, testutil_dir_setup, testutil_dir_teardown);
}
