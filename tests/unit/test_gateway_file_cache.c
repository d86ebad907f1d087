/*
 * gateway/file_cache.c on real files: what a hit serves, when a changed file
 * is read again, the limits on what is kept, and that a body outlives its
 * eviction while a request still holds it.
 *
 * A hit is told from a read by rewriting a file in place (same inode):
 * a kept copy still shows the old bytes, a read shows the new ones. A file
 * kept open shows an in-place rewrite, so for open files the file is
 * replaced by rename instead (as the writer does): the descriptor keeps the
 * old inode's bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/file_cache.h"
#include "tests/unit/testutil.h"

#define KIB 1024

/* Writes len bytes of c at name in the scratch directory (and its parents), in place if it exists (its inode stays). */
static void put(const char *name, int c, size_t len)
{
    char *path = strdup(testutil_path(name)), *data = malloc(len ? len : 1);
    assert_non_null(path);
    assert_non_null(data);
    for (char *slash = path + strlen(testutil_dir()) + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
    memset(data, c, len);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    free(data);
    free(path);
}

/* Replaces name with len bytes of c by rename, as tlog_durable_write does: a new inode. */
static void replace(const char *name, int c, size_t len)
{
    char temp[64];
    snprintf(temp, sizeof(temp), "%s.new", name);
    put(temp, c, len);
    char *from = strdup(testutil_path(temp));
    assert_non_null(from);
    assert_int_equal(rename(from, testutil_path(name)), 0);
    free(from);
}

/* The bytes f serves, read from its open file if it has no body in memory (into the pool). */
static const char *served(h2o_mem_pool_t *pool, const file_cache_file_t *f)
{
    if (f->body != NULL) {
        assert_int_equal(f->fd, -1);
        return f->body;
    }
    assert_true(f->fd >= 0);
    char *bytes = h2o_mem_alloc_pool(pool, f->len + 1);
    assert_int_equal(pread(f->fd, bytes, f->len + 1, 0), (ssize_t)f->len);
    return bytes;
}

/* The first byte file_cache_get serves for name (-1 for an empty file), checking every byte and the length. */
static int first_byte(file_cache_t *cache, h2o_mem_pool_t *pool, int dir, const char *name, int immutable, size_t len)
{
    file_cache_file_t f;
    assert_int_equal(file_cache_get(cache, pool, 0, dir, name, immutable, 1 << 20, &f), 0);
    assert_int_equal(f.len, len);
    const char *body = served(pool, &f);
    for (size_t i = 1; i < len; i++)
        assert_int_equal(body[i], body[0]);
    return len > 0 ? body[0] : -1;
}

static int open_dir(void)
{
    int dir = open(testutil_dir(), O_RDONLY | O_DIRECTORY);
    assert_true(dir >= 0);
    return dir;
}

static void test_gateway_file_cache_immutable_files_are_kept(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    int dir = open_dir();
    file_cache_t *cache = file_cache_new(1 << 20, 0);
    put("tile/0/000", 'a', 8 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/0/000", 1, 8 * KIB), 'a');
    put("tile/0/000", 'b', 8 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/0/000", 1, 8 * KIB), 'a');
    /* The same path under another log is another file. */
    file_cache_file_t f;
    assert_int_equal(file_cache_get(cache, &pool, 1, dir, "tile/0/000", 1, 1 << 20, &f), 0);
    assert_int_equal(f.body[0], 'b');
    file_cache_free(cache);
    h2o_mem_clear_pool(&pool);
    close(dir);
}

static void test_gateway_file_cache_mutable_files_are_revalidated(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    int dir = open_dir();
    file_cache_t *cache = file_cache_new(1 << 20, 0);
    put("checkpoint", 'a', 300);
    assert_int_equal(first_byte(cache, &pool, dir, "checkpoint", 0, 300), 'a');
    assert_int_equal(first_byte(cache, &pool, dir, "checkpoint", 0, 300), 'a');
    /* Replaced the way the writer does it: a new file renamed over the old one. */
    put("checkpoint.new", 'b', 310);
    char *fresh = strdup(testutil_path("checkpoint.new"));
    assert_int_equal(rename(fresh, testutil_path("checkpoint")), 0);
    free(fresh);
    assert_int_equal(first_byte(cache, &pool, dir, "checkpoint", 0, 310), 'b');
    /* Rewritten in place with the same size: the new mtime tells. */
    usleep(20 * 1000);
    put("checkpoint", 'c', 310);
    assert_int_equal(first_byte(cache, &pool, dir, "checkpoint", 0, 310), 'c');
    /* Removed: gone from the cache too. */
    unlink(testutil_path("checkpoint"));
    file_cache_file_t f;
    assert_int_equal(file_cache_get(cache, &pool, 0, dir, "checkpoint", 0, 1 << 20, &f), -1);
    assert_int_equal(errno, ENOENT);
    file_cache_free(cache);
    h2o_mem_clear_pool(&pool);
    close(dir);
}

static void test_gateway_file_cache_refusals(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    int dir = open_dir();
    file_cache_t *cache = file_cache_new(1 << 20, 0);
    file_cache_file_t f;
    assert_int_equal(file_cache_get(cache, &pool, 0, dir, "tile/0/999", 1, 1 << 20, &f), -1);
    assert_int_equal(errno, ENOENT);
    put("tile/0/001", 'a', 8 * KIB);
    assert_int_equal(file_cache_get(cache, &pool, 0, dir, "tile/0/001", 1, 4 * KIB, &f), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(symlink("/etc/passwd", testutil_path("tile/0/002")), 0);
    assert_int_equal(file_cache_get(cache, &pool, 0, dir, "tile/0/002", 1, 1 << 20, &f), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(file_cache_get(cache, &pool, 0, dir, "tile", 1, 1 << 20, &f), -1);
    assert_int_equal(errno, ENOENT);
    file_cache_free(cache);
    h2o_mem_clear_pool(&pool);
    close(dir);
}

/* A large file is kept on a second read soon after its first, not on its first; a small cache keeps none of them. */
static void test_gateway_file_cache_large_files_kept_when_read_again(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    int dir = open_dir();
    file_cache_t *cache = file_cache_new(4 << 20, 0), *small = file_cache_new(512 * KIB, 0);
    put("tile/data/000", 'a', 140 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/data/000", 1, 140 * KIB), 'a');
    put("tile/data/000", 'b', 140 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/data/000", 1, 140 * KIB), 'b');
    put("tile/data/000", 'c', 140 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/data/000", 1, 140 * KIB), 'b');

    /* Read again only after more other large files than a quarter of the cache holds (7 here): not kept. */
    char name[32];
    put("tile/data/100", 'a', 140 * KIB);
    first_byte(cache, &pool, dir, "tile/data/100", 1, 140 * KIB);
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "tile/data/%03d", 200 + i);
        put(name, 'x', 140 * KIB);
        first_byte(cache, &pool, dir, name, 1, 140 * KIB);
    }
    assert_int_equal(first_byte(cache, &pool, dir, "tile/data/100", 1, 140 * KIB), 'a');
    put("tile/data/100", 'b', 140 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/data/100", 1, 140 * KIB), 'b');

    for (int c = 'd'; c < 'h'; c++) { /* above an eighth of the small cache: never kept */
        put("tile/data/000", c, 140 * KIB);
        assert_int_equal(first_byte(small, &pool, dir, "tile/data/000", 1, 140 * KIB), c);
    }
    file_cache_free(cache);
    file_cache_free(small);
    h2o_mem_clear_pool(&pool);
    close(dir);
}

/* Memory stays bounded: old files go, and files read twice outlast a stream of files read once. */
static void test_gateway_file_cache_evicts_within_its_bound(void **state)
{
    (void)state;
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    int dir = open_dir();
    file_cache_t *cache = file_cache_new(256 * KIB, 0); /* room for about 30 tiles of 8 KiB */
    char name[32];
    put("tile/1/000", 'h', 8 * KIB);
    first_byte(cache, &pool, dir, "tile/1/000", 1, 8 * KIB);
    first_byte(cache, &pool, dir, "tile/1/000", 1, 8 * KIB); /* protected now */
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "tile/0/%03d", i);
        put(name, 'a', 8 * KIB);
        first_byte(cache, &pool, dir, name, 1, 8 * KIB);
    }
    put("tile/1/000", 'i', 8 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/1/000", 1, 8 * KIB), 'h');
    put("tile/0/000", 'b', 8 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/0/000", 1, 8 * KIB), 'b');
    file_cache_free(cache);
    h2o_mem_clear_pool(&pool);
    close(dir);
}

/* A request's pool keeps the body it was given, through eviction and the end of the cache. */
static void test_gateway_file_cache_body_outlives_eviction(void **state)
{
    (void)state;
    h2o_mem_pool_t request, other;
    h2o_mem_init_pool(&request);
    h2o_mem_init_pool(&other);
    int dir = open_dir();
    file_cache_t *cache = file_cache_new(128 * KIB, 0);
    file_cache_file_t held;
    char name[32];
    put("tile/0/000", 'z', 8 * KIB);
    assert_int_equal(file_cache_get(cache, &request, 0, dir, "tile/0/000", 1, 1 << 20, &held), 0);
    for (int i = 1; i < 40; i++) {
        snprintf(name, sizeof(name), "tile/0/%03d", i);
        put(name, 'a', 8 * KIB);
        first_byte(cache, &other, dir, name, 1, 8 * KIB);
    }
    file_cache_free(cache);
    h2o_mem_clear_pool(&other);
    for (size_t i = 0; i < held.len; i++)
        assert_int_equal(held.body[i], 'z');
    h2o_mem_clear_pool(&request);
    close(dir);
}

/*
 * With no room for copies, a large immutable file is kept open from its
 * first read, so a file renamed over it later is not seen; open files are
 * bounded in number; a mutable file is never kept open; and a request
 * holding an open file keeps it open after its eviction and the cache's end,
 * and no longer.
 */
static void test_gateway_file_cache_keeps_large_immutable_files_open(void **state)
{
    (void)state;
    h2o_mem_pool_t pool, request;
    h2o_mem_init_pool(&pool);
    h2o_mem_init_pool(&request);
    int dir = open_dir();
    file_cache_t *cache = file_cache_new(0, 2);
    replace("tile/data/000", 'a', 140 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/data/000", 1, 140 * KIB), 'a');
    replace("tile/data/000", 'b', 140 * KIB);
    file_cache_file_t held;
    assert_int_equal(file_cache_get(cache, &request, 0, dir, "tile/data/000", 1, 1 << 20, &held), 0);
    assert_null(held.body);
    assert_int_equal(served(&pool, &held)[0], 'a');

    /*
     * Two more open tiles, the first used a third time: the least recently
     * used of the two used more than once, the first, is closed by the cache
     * (not by the request).
     */
    char name[32];
    for (int i = 1; i <= 2; i++) {
        snprintf(name, sizeof(name), "tile/data/%03d", i);
        replace(name, 'x', 140 * KIB);
        for (int uses = 0; uses < 4 - i; uses++)
            first_byte(cache, &pool, dir, name, 1, 140 * KIB);
    }
    replace(name, 'y', 140 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, name, 1, 140 * KIB), 'x'); /* still open */
    assert_int_equal(first_byte(cache, &pool, dir, "tile/data/000", 1, 140 * KIB), 'b');

    replace("tile/data/100.p", 'a', 140 * KIB); /* mutable: read each time */
    file_cache_file_t partial;
    assert_int_equal(file_cache_get(cache, &pool, 0, dir, "tile/data/100.p", 0, 1 << 20, &partial), 0);
    assert_non_null(partial.body);
    replace("tile/data/100.p", 'b', 140 * KIB);
    assert_int_equal(first_byte(cache, &pool, dir, "tile/data/100.p", 0, 140 * KIB), 'b');

    file_cache_free(cache);
    h2o_mem_clear_pool(&pool);
    assert_int_equal(served(&pool, &held)[0], 'a');
    h2o_mem_clear_pool(&pool);
    h2o_mem_clear_pool(&request);
    assert_int_equal(fcntl(held.fd, F_GETFD), -1); /* closed with the last reference */
    assert_int_equal(errno, EBADF);
    close(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gateway_file_cache_immutable_files_are_kept, testutil_dir_setup,
                                        testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_gateway_file_cache_mutable_files_are_revalidated, testutil_dir_setup,
                                        testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_gateway_file_cache_refusals, testutil_dir_setup, testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_gateway_file_cache_large_files_kept_when_read_again, testutil_dir_setup,
                                        testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_gateway_file_cache_evicts_within_its_bound, testutil_dir_setup, testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_gateway_file_cache_body_outlives_eviction, testutil_dir_setup, testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_gateway_file_cache_keeps_large_immutable_files_open, testutil_dir_setup,
                                        testutil_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
