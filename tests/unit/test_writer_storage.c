/* The writer's storage directory and staging bundles on a real file system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/memtiles.h"
#include "tests/unit/testutil.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "writer/storage.h"

static storage_t *open_storage(const char *name, int create)
{
    char root[256], state[256], err[TLOG_ERR_MAX];
    snprintf(root, sizeof(root), "%s/%s/data", testutil_dir(), name);
    snprintf(state, sizeof(state), "%s/%s/state", testutil_dir(), name);
    storage_t *storage = NULL;
    if (storage_open(root, state, create, &storage, err) != 0)
        return NULL;
    return storage;
}

static void test_writer_storage_open_requires_existing_root(void **state)
{
    (void)state;
    char root[256], st[256], err[TLOG_ERR_MAX];
    snprintf(root, sizeof(root), "%s/absent/data", testutil_dir());
    snprintf(st, sizeof(st), "%s/absent/state", testutil_dir());
    storage_t *storage = NULL;
    assert_int_equal(storage_open(root, st, 0, &storage, err), -1);
    assert_non_null(strstr(err, "No such file"));
    storage = open_storage("created", 1);
    assert_non_null(storage);
    storage_free(storage);
    storage = open_storage("created", 0);
    assert_non_null(storage);
    storage_free(storage);
}

/* A staged bundle survives "a crash" (a new storage_t), publishes every file, and is dropped afterwards. */
static void test_writer_storage_bundle_round_trip(void **state)
{
    (void)state;
    storage_t *storage = open_storage("bundle", 1);
    char err[TLOG_ERR_MAX];
    storage_bundle_t bundle;
    storage_bundle_init(&bundle);
    uint8_t tile[TLOG_TILE_BYTES];
    memset(tile, 7, sizeof(tile));
    storage_bundle_add(&bundle, "tile/0/000", tile, sizeof(tile), TLOG_DURABLE_IMMUTABLE);
    storage_bundle_add(&bundle, "tile/0/001.p/3", tile, 96, TLOG_DURABLE_IMMUTABLE);
    storage_bundle_add(&bundle, "issuer/abcd", "der", 3, TLOG_DURABLE_IMMUTABLE);
    tlog_hash_t root;
    memset(&root, 9, sizeof(root));
    assert_int_equal(storage_bundle_stage(storage, &bundle, 259, &root, err), 0);
    storage_bundle_free(&bundle);
    storage_free(storage);

    storage = open_storage("bundle", 0);
    storage_bundle_t loaded;
    assert_int_equal(storage_bundle_load(storage, 259, &root, &loaded, err), 0);
    assert_int_equal(loaded.files, 3);
    assert_int_equal(storage_bundle_publish(storage, &loaded, err), 0);
    /* Publishing again (a replay after a crash during publication) is harmless. */
    assert_int_equal(storage_bundle_publish(storage, &loaded, err), 0);
    storage_bundle_free(&loaded);

    uint8_t got[TLOG_TILE_BYTES];
    tlog_tile_t full = {0, 0, 256}, partial = {0, 1, 3}, older = {0, 0, 17};
    assert_int_equal(storage_read_tile(storage, &full, got, err), 0);
    assert_memory_equal(got, tile, sizeof(tile));
    assert_int_equal(storage_read_tile(storage, &partial, got, err), 0);
    assert_memory_equal(got, tile, 96);
    /* A partial tile that is gone is read from its full tile. */
    assert_int_equal(storage_read_tile(storage, &older, got, err), 0);
    assert_memory_equal(got, tile, 17 * 32);

    assert_int_equal(storage_bundle_drop(storage, 259, &root, err), 0);
    assert_int_equal(storage_bundle_load(storage, 259, &root, &loaded, err), 1);
    storage_free(storage);
}

static void test_writer_storage_rejects_corrupt_bundle(void **state)
{
    (void)state;
    storage_t *storage = open_storage("corrupt", 1);
    char err[TLOG_ERR_MAX], path[512], hex[65];
    storage_bundle_t bundle;
    storage_bundle_init(&bundle);
    storage_bundle_add(&bundle, "issuer/ab", "x", 1, TLOG_DURABLE_IMMUTABLE);
    tlog_hash_t root;
    memset(&root, 1, sizeof(root));
    assert_int_equal(storage_bundle_stage(storage, &bundle, 5, &root, err), 0);
    storage_bundle_free(&bundle);

    tlog_hex_encode(root.bytes, 32, hex);
    snprintf(path, sizeof(path), "%s/corrupt/state/staging/5-%s", testutil_dir(), hex);
    char *data;
    size_t len;
    assert_int_equal(tlog_read_file(path, 1 << 20, &data, &len, err), 0);
    for (size_t i = 0; i < len; i++) {
        data[i] ^= 0x20;
        assert_int_equal(tlog_durable_write(path, data, len, TLOG_DURABLE_MUTABLE, err), 0);
        storage_bundle_t loaded;
        assert_int_equal(storage_bundle_load(storage, 5, &root, &loaded, err), -1);
        assert_true(strstr(err, "checksum") != NULL || strstr(err, "not a faro bundle") != NULL);
        data[i] ^= 0x20;
    }
    /* A bundle truncated anywhere is refused too. */
    for (size_t cut = 0; cut < len; cut += 7) {
        assert_int_equal(tlog_durable_write(path, data, cut, TLOG_DURABLE_MUTABLE, err), 0);
        storage_bundle_t loaded;
        assert_int_equal(storage_bundle_load(storage, 5, &root, &loaded, err), -1);
    }
    free(data);
    storage_free(storage);
}

static void test_writer_storage_checkpoint(void **state)
{
    (void)state;
    storage_t *storage = open_storage("checkpoint", 1);
    char err[TLOG_ERR_MAX], *body;
    size_t len;
    assert_int_equal(storage_read_checkpoint(storage, &body, &len, err), 0);
    assert_int_equal(storage_write_checkpoint(storage, "a\n1\n", 4, err), 0);
    assert_int_equal(storage_read_checkpoint(storage, &body, &len, err), 1);
    assert_int_equal(len, 4);
    free(body);
    storage_free(storage);
}

static void plant(const char *relative)
{
    FILE *f = fopen(testutil_path(relative), "w");
    assert_non_null(f);
    fclose(f);
}

static int exists(const char *relative)
{
    return access(testutil_path(relative), F_OK) == 0;
}

/* The sweep takes the fixed folders, and with a bundle its folders; not other tile folders, not other names. */
static void test_writer_storage_sweeps_temporaries(void **state)
{
    (void)state;
    storage_t *storage = open_storage("sweep", 1);
    char err[TLOG_ERR_MAX];
    storage_bundle_t bundle;
    storage_bundle_init(&bundle);
    storage_bundle_add(&bundle, "tile/0/001.p/3", "h", 1, TLOG_DURABLE_IMMUTABLE);
    storage_bundle_add(&bundle, "tile/data/001.p/3", "d", 1, TLOG_DURABLE_IMMUTABLE);
    storage_bundle_add(&bundle, "tile/0/002.p/1", "h", 1, TLOG_DURABLE_IMMUTABLE);
    storage_bundle_add(&bundle, "tile/data/001.p/4", "d", 1, TLOG_DURABLE_IMMUTABLE);
    assert_int_equal(storage_bundle_publish(storage, &bundle, err), 0);
    assert_int_equal(tlog_durable_mkdirs(testutil_path("sweep/data/roots"), err), 0);
    assert_int_equal(tlog_durable_mkdirs(testutil_path("sweep/data/tile/0/000.p"), err), 0);
    static const char *const fixed[] = {"sweep/data/.checkpoint.AAAAAA", "sweep/data/roots/.x.pem.BBBBBB",
                                        "sweep/state/.dedup.db.CCCCCC", "sweep/state/staging/.1-ab.DDDDDD"};
    static const char *const in_bundle[] = {"sweep/data/tile/0/001.p/.3.EEEEEE", "sweep/data/tile/data/001.p/.4.FFFFFF",
                                            "sweep/data/tile/0/002.p/.1.GGGGGG"};
    for (size_t i = 0; i < 4; i++)
        plant(fixed[i]);
    for (size_t i = 0; i < 3; i++)
        plant(in_bundle[i]);
    plant("sweep/data/tile/0/000.p/.7.HHHHHH"); /* no round that could be replayed writes there */
    plant("sweep/data/checkpoint.IIIIII");

    size_t removed = 0;
    assert_int_equal(storage_sweep(storage, &removed, err), 0);
    assert_int_equal(removed, 4);
    for (size_t i = 0; i < 4; i++)
        assert_false(exists(fixed[i]));
    assert_true(exists(in_bundle[0]));
    assert_int_equal(storage_bundle_sweep(storage, &bundle, &removed, err), 0);
    assert_int_equal(removed, 4 + 3);
    for (size_t i = 0; i < 3; i++)
        assert_false(exists(in_bundle[i]));
    assert_true(exists("sweep/data/tile/0/000.p/.7.HHHHHH"));
    assert_true(exists("sweep/data/checkpoint.IIIIII"));
    assert_true(exists("sweep/data/tile/data/001.p/4"));
    storage_bundle_free(&bundle);
    storage_free(storage);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_storage_open_requires_existing_root), cmocka_unit_test(test_writer_storage_bundle_round_trip),
        cmocka_unit_test(test_writer_storage_rejects_corrupt_bundle),      cmocka_unit_test(test_writer_storage_checkpoint),
        cmocka_unit_test(test_writer_storage_sweeps_temporaries),
    };
    return cmocka_run_group_tests(tests, testutil_dir_setup, testutil_dir_teardown);
}
