/* Durable writes: atomic replacement, write-once files, and every fault point failing cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/testutil.h"
#include "tlog/durable.h"
#include "tlog/error.h"

static void assert_file(const char *path, const char *want)
{
    char *data;
    size_t len;
    assert_int_equal(tlog_read_file(path, 1 << 20, &data, &len, NULL), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(data, want, len);
    free(data);
}

/* No temporary files left behind in dir. */
static void assert_no_temporaries(const char *d)
{
    DIR *h = opendir(d);
    struct dirent *e;
    while ((e = readdir(h)) != NULL)
        assert_false(e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0);
    closedir(h);
}

static void test_tlog_durable_mutable_replaces(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    char *p = testutil_path("checkpoint");
    assert_int_equal(tlog_durable_write(p, "one\n", 4, TLOG_DURABLE_MUTABLE, err), 0);
    assert_int_equal(tlog_durable_write(p, "two\n", 4, TLOG_DURABLE_MUTABLE, err), 0);
    assert_file(p, "two\n");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_no_temporaries(testutil_dir());
}

static void test_tlog_durable_immutable_is_write_once(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    char *p = testutil_path("tile");
    assert_int_equal(tlog_durable_write(p, "abc", 3, TLOG_DURABLE_IMMUTABLE, err), 0);
    assert_int_equal(tlog_durable_write(p, "abc", 3, TLOG_DURABLE_IMMUTABLE, err), 0);
    assert_int_equal(tlog_durable_write(p, "abd", 3, TLOG_DURABLE_IMMUTABLE, err), -1);
    assert_non_null(strstr(err, "different contents"));
    assert_file(p, "abc");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0444);
}

static void test_tlog_durable_mkdirs_creates_parents(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    assert_int_equal(tlog_durable_mkdirs(testutil_path("a/b/c"), err), 0);
    assert_int_equal(tlog_durable_mkdirs(testutil_path("a/b/c"), err), 0);
    assert_int_equal(tlog_durable_write(testutil_path("a/b/c/f"), "x", 1, 0, err), 0);
    assert_int_equal(tlog_durable_mkdirs(testutil_path("a/b/c/f"), err), -1);
    assert_non_null(strstr(err, "not a directory"));
}

/* Each fault point fails the write, leaves the old contents, and says whether the failure is fatal. */
static void test_tlog_durable_faults_change_nothing(void **state)
{
    (void)state;
    static const struct {
        int op;
        int want;
        int replaced;
    } cases[] = {
        {TLOG_FAULT_WRITE, -1, 0},
        {TLOG_FAULT_FSYNC, TLOG_DURABLE_FATAL, 0},
        {TLOG_FAULT_RENAME, -1, 0},
        {TLOG_FAULT_DIRSYNC, TLOG_DURABLE_FATAL, 1},
    };
    char err[TLOG_ERR_MAX];
    char *p = testutil_path("faulty");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tlog_durable_fault_arm(TLOG_FAULT_NONE, 0);
        assert_int_equal(tlog_durable_write(p, "old", 3, 0, err), 0);
        tlog_durable_fault_arm(cases[i].op, 1);
        err[0] = '\0';
        assert_int_equal(tlog_durable_write(p, "new", 3, 0, err), cases[i].want);
        assert_non_null(strstr(err, "Input/output error"));
        /* A failed directory fsync happens after the rename: the caller must stop, not retry. */
        assert_file(p, cases[i].replaced ? "new" : "old");
        assert_no_temporaries(testutil_dir());
    }
    tlog_durable_fault_arm(TLOG_FAULT_NONE, 0);
}

/*
 * A batch writes every file (more of them than threads, in two directories,
 * an identical write-once file among them), and a fault anywhere leaves
 * each file either as before or whole and new, with no temporary files.
 */
static void test_tlog_durable_batches(void **state)
{
    (void)state;
    enum { N = 3 * TLOG_DURABLE_THREADS };
    char err[TLOG_ERR_MAX], *paths[N], contents[N][16];
    tlog_durable_file_t files[N];
    assert_int_equal(tlog_durable_mkdirs(testutil_path("batch/a"), err), 0);
    assert_int_equal(tlog_durable_mkdirs(testutil_path("batch/b"), err), 0);
    assert_int_equal(tlog_durable_write(testutil_path("batch/a/f0"), "0", 1, TLOG_DURABLE_IMMUTABLE, err), 0);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "batch/%c/f%d", i % 2 ? 'b' : 'a', i);
        paths[i] = strdup(testutil_path(name));
        snprintf(contents[i], sizeof(contents[i]), "%d", i);
        files[i] = (tlog_durable_file_t){paths[i], contents[i], strlen(contents[i]),
                                         i % 3 ? TLOG_DURABLE_MUTABLE : TLOG_DURABLE_IMMUTABLE};
    }
    assert_int_equal(tlog_durable_write_all(files, N, err), 0);
    for (int i = 0; i < N; i++)
        assert_file(paths[i], contents[i]);

    /* Each fault point, at a file in the middle of the batch, with new contents for the mutable files. */
    static const struct {
        int op, want;
        int renamed; /* -1: none, 1: all, 0: some */
    } cases[] = {
        {TLOG_FAULT_WRITE, -1, -1},
        {TLOG_FAULT_FSYNC, TLOG_DURABLE_FATAL, -1},
        {TLOG_FAULT_RENAME, -1, 0},
        {TLOG_FAULT_DIRSYNC, TLOG_DURABLE_FATAL, 1},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char *before[N];
        size_t len;
        for (int i = 0; i < N; i++) {
            assert_int_equal(tlog_read_file(paths[i], 64, &before[i], &len, NULL), 0);
            if (i % 3 != 0)
                snprintf(contents[i], sizeof(contents[i]), "%d-%zu", i, c);
            files[i].len = strlen(contents[i]);
        }
        tlog_durable_fault_arm(cases[c].op, cases[c].op == TLOG_FAULT_DIRSYNC ? 2 : N / 2);
        err[0] = '\0';
        assert_int_equal(tlog_durable_write_all(files, N, err), cases[c].want);
        assert_non_null(strstr(err, "Input/output error"));
        for (int i = 0; i < N; i++) {
            char *now;
            assert_int_equal(tlog_read_file(paths[i], 64, &now, &len, NULL), 0);
            int is_old = strcmp(now, before[i]) == 0, is_new = strcmp(now, contents[i]) == 0;
            assert_true(cases[c].renamed < 0 ? is_old : cases[c].renamed > 0 ? is_new : is_old || is_new);
            free(now);
            free(before[i]);
        }
        assert_no_temporaries(testutil_path("batch/a"));
        assert_no_temporaries(testutil_path("batch/b"));
    }
    tlog_durable_fault_arm(TLOG_FAULT_NONE, 0);
    for (int i = 0; i < N; i++)
        free(paths[i]);
}

/* Each call is counted by kind, failing or not: a write is one write, one fsync, one rename, one directory fsync. */
static void test_tlog_durable_counts_calls(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    tlog_durable_fault_arm(TLOG_FAULT_RENAME, 2);
    assert_int_equal(tlog_durable_write(testutil_path("counted"), "1", 1, 0, err), 0);
    assert_int_equal(tlog_durable_write(testutil_path("counted"), "2", 1, 0, err), -1);
    assert_int_equal(tlog_durable_calls(TLOG_FAULT_WRITE), 2);
    assert_int_equal(tlog_durable_calls(TLOG_FAULT_FSYNC), 2);
    assert_int_equal(tlog_durable_calls(TLOG_FAULT_RENAME), 2);
    assert_int_equal(tlog_durable_calls(TLOG_FAULT_DIRSYNC), 1);
    assert_int_equal(tlog_durable_calls(TLOG_FAULT_NONE), 0);
    tlog_durable_fault_arm(TLOG_FAULT_NONE, 0);
    assert_int_equal(tlog_durable_calls(TLOG_FAULT_WRITE), 0);
}

/* testutil_path of sweep/name (the same static buffer). */
static char *in_sweep(const char *name)
{
    char relative[64];
    snprintf(relative, sizeof(relative), "sweep/%s", name);
    return testutil_path(relative);
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

/* Only regular files named exactly like a temporary file go; everything else stays. */
static void test_tlog_durable_sweep_removes_only_temporaries(void **state)
{
    (void)state;
    static const char *const temporaries[] = {".checkpoint.a1B2c3", ".000.ZZZZZZ", ".x.000000"};
    static const char *const kept[] = {"checkpoint",          ".checkpoint",        "checkpoint.a1B2c3", ".checkpoint.a1B2c",
                                       ".checkpoint.a1B2c3d", ".checkpoint.a1B2-3", "..a1B2c3",          ".checkpoint_a1B2c3"};
    char err[TLOG_ERR_MAX];
    size_t removed = 7;
    assert_int_equal(tlog_durable_mkdirs(testutil_path("sweep"), err), 0);
    for (size_t i = 0; i < sizeof(temporaries) / sizeof(temporaries[0]); i++)
        touch(in_sweep(temporaries[i]));
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        touch(in_sweep(kept[i]));
    assert_int_equal(mkdir(in_sweep(".dir.abcdef"), 0755), 0);
    assert_int_equal(symlink("checkpoint", in_sweep(".link.abcdef")), 0);

    assert_int_equal(tlog_durable_sweep(testutil_path("sweep"), &removed, err), 0);
    assert_int_equal(removed, 7 + 3);
    for (size_t i = 0; i < sizeof(temporaries) / sizeof(temporaries[0]); i++)
        assert_int_equal(access(in_sweep(temporaries[i]), F_OK), -1);
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        assert_int_equal(access(in_sweep(kept[i]), F_OK), 0);
    assert_int_equal(access(in_sweep(".dir.abcdef"), F_OK), 0);
    struct stat st;
    assert_int_equal(lstat(in_sweep(".link.abcdef"), &st), 0);

    removed = 0;
    assert_int_equal(tlog_durable_sweep(testutil_path("sweep"), &removed, err), 0);
    assert_int_equal(tlog_durable_sweep(testutil_path("missing"), &removed, err), 0);
    assert_int_equal(removed, 0);
}

static void test_tlog_durable_read_file_limits(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX], *data;
    size_t len;
    assert_int_equal(tlog_durable_write(testutil_path("big"), "0123456789", 10, 0, err), 0);
    assert_int_equal(tlog_read_file(testutil_path("big"), 9, &data, &len, err), -1);
    assert_non_null(strstr(err, "larger than"));
    assert_int_equal(tlog_read_file(testutil_path("missing"), 9, &data, &len, err), -1);
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(tlog_durable_remove(testutil_path("big"), err), 0);
    assert_int_equal(tlog_durable_remove(testutil_path("big"), err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_durable_mutable_replaces),
        cmocka_unit_test(test_tlog_durable_immutable_is_write_once),
        cmocka_unit_test(test_tlog_durable_mkdirs_creates_parents),
        cmocka_unit_test(test_tlog_durable_faults_change_nothing),
        cmocka_unit_test(test_tlog_durable_batches),
        cmocka_unit_test(test_tlog_durable_read_file_limits),
        cmocka_unit_test(test_tlog_durable_counts_calls),
        cmocka_unit_test(test_tlog_durable_sweep_removes_only_temporaries),
    };
    return cmocka_run_group_tests(tests, testutil_dir_setup, testutil_dir_teardown);
}
