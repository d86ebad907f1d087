/* Tile paths, tile contents and the writer's edge, against the shared vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/memtiles.h"
#include "tests/unit/vectors.h"
#include "tlog/error.h"
#include "tlog/tile.h"

static void assert_path_round_trip(const char *path, int level, uint64_t index, unsigned width)
{
    tlog_tile_t tile;
    char err[TLOG_ERR_MAX], buf[TLOG_TILE_PATH_MAX];
    assert_int_equal(tlog_tile_path_parse(path, strlen(path), &tile, err), 0);
    assert_int_equal(tile.level, level);
    assert_int_equal(tile.index, index);
    assert_int_equal(tile.width, width);
    assert_int_equal(tlog_tile_path_format(&tile, buf), strlen(path));
    assert_string_equal(buf, path);
}

static void test_tlog_tile_paths_match_vectors(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("tile-paths.json"), *p;
    size_t i;
    json_array_foreach(json_object_get(v, "paths"), i, p)
    {
        uint64_t n = (uint64_t)json_integer_value(json_object_get(p, "tile_index"));
        assert_path_round_trip(vectors_string(p, "level0_full"), 0, n, 256);
        assert_path_round_trip(vectors_string(p, "level0_partial_w17"), 0, n, 17);
        assert_path_round_trip(vectors_string(p, "level2_full"), 2, n, 256);
        assert_path_round_trip(vectors_string(p, "data_full"), TLOG_TILE_DATA, n, 256);
        assert_path_round_trip(vectors_string(p, "data_partial_w1"), TLOG_TILE_DATA, n, 1);
    }
    json_array_foreach(json_object_get(v, "leaf_to_tile"), i, p)
    {
        uint64_t leaf = (uint64_t)json_integer_value(json_object_get(p, "leaf_index"));
        uint64_t size = (uint64_t)json_integer_value(json_object_get(p, "tree_size"));
        char buf[TLOG_TILE_PATH_MAX];
        tlog_tile_t tile = tlog_tile_for_entry(0, leaf, size);
        tlog_tile_path_format(&tile, buf);
        assert_string_equal(buf, vectors_string(p, "level0_tile_holding_leaf"));
        tile = tlog_tile_for_entry(TLOG_TILE_DATA, leaf, size);
        tlog_tile_path_format(&tile, buf);
        assert_string_equal(buf, vectors_string(p, "data_tile_holding_leaf"));
        assert_int_equal(leaf - tile.index * 256, json_integer_value(json_object_get(p, "position_in_tile")));
    }
    json_decref(v);
}

static void test_tlog_tile_path_parse_rejects_noncanonical(void **state)
{
    (void)state;
    static const char *const bad[] = {"tile/0/1",
                                      "tile/0/01",
                                      "tile/0/0001",
                                      "tile/0/001/002",
                                      "tile/0/x001002",
                                      "tile/0/x000/001",
                                      "tile/0/001.p/0",
                                      "tile/0/001.p/256",
                                      "tile/0/001.p/017",
                                      "tile/0/001.p/",
                                      "tile/0/001.p/1x",
                                      "tile/00/001",
                                      "tile/6/001",
                                      "tile/-1/001",
                                      "tile/data/1",
                                      "tile/data/",
                                      "tile/0/",
                                      "tile/",
                                      "tiles/0/001",
                                      "tile/0/001/",
                                      "tile/0/x001/",
                                      "tile/0/X001/000",
                                      "tile/0/x1/000",
                                      "tile/0/001.p/5/",
                                      "tile/0/../001",
                                      "tile/0/%30%30%31",
                                      "tile/names/000",
                                      "tile/0/001 ",
                                      "tile/0/x999/x999/x999/x999/x999/x999/999",
                                      "tile/0/001.p/1.p/2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tlog_tile_t tile;
        char err[TLOG_ERR_MAX] = "";
        assert_int_equal(tlog_tile_path_parse(bad[i], strlen(bad[i]), &tile, err), -1);
        assert_true(strlen(err) > 0);
    }
    /* The parser reads only the bytes it is given. */
    tlog_tile_t tile;
    assert_int_equal(tlog_tile_path_parse("tile/0/001.p/12", 12, &tile, NULL), -1);
    assert_int_equal(tlog_tile_path_parse("tile/0/0019", 10, &tile, NULL), 0);
    assert_int_equal(tile.index, 1);
}

/* Every full and partial tile of the 1000-leaf tree, byte for byte. */
static void test_tlog_tile_contents_match_tiles_1000(void **state)
{
    (void)state;
    char *text = vectors_read_file("tiles-1000.txt", NULL);
    memtiles_t *store = memtiles_new();
    for (uint64_t i = 0; i < 1000; i++) {
        tlog_hash_t leaf;
        memtiles_vector_leaf(i, &leaf);
        memtiles_append(store, &leaf);
    }
    memtiles_publish(store);

    int checked = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        static char path[TLOG_TILE_PATH_MAX];
        if (strncmp(line, "path ", 5) == 0) {
            snprintf(path, sizeof(path), "%s", line + 5);
            continue;
        }
        if (strncmp(line, "hex ", 4) != 0)
            continue;
        tlog_tile_t tile;
        assert_int_equal(tlog_tile_path_parse(path, strlen(path), &tile, NULL), 0);
        size_t len = strlen(line + 4) / 2;
        assert_int_equal(len, tile.width * TLOG_HASH_SIZE);
        uint8_t want[TLOG_TILE_BYTES], got[TLOG_TILE_BYTES];
        assert_int_equal(tlog_hex_decode(line + 4, 2 * len, want, len), 0);
        assert_int_equal(memtiles_read(store, &tile, got, NULL), 0);
        assert_memory_equal(got, want, len);
        checked++;
    }
    assert_int_equal(checked, 5);
    memtiles_free(store);
    free(text);
}

typedef struct tile_list {
    char paths[16][TLOG_TILE_PATH_MAX];
    size_t count;
} tile_list_t;

static void list_tile(void *ctx, const tlog_tile_t *tile, const uint8_t *hashes)
{
    (void)hashes;
    tile_list_t *list = ctx;
    tlog_tile_path_format(tile, list->paths[list->count++]);
}

static void test_tlog_tile_edge_lists_partial_tiles_per_size(void **state)
{
    (void)state;
    static const struct {
        uint64_t size;
        const char *partials[4];
    } cases[] = {
        {1, {"tile/0/000.p/1"}},
        {255, {"tile/0/000.p/255"}},
        {256, {"tile/1/000.p/1"}},
        {257, {"tile/0/001.p/1", "tile/1/000.p/1"}},
        {1000, {"tile/0/003.p/232", "tile/1/000.p/3"}},
        {65536, {"tile/2/000.p/1"}},
        {70000, {"tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"}},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memtiles_t *store = memtiles_new();
        for (uint64_t i = 0; i < cases[c].size; i++) {
            tlog_hash_t leaf;
            memtiles_vector_leaf(i, &leaf);
            memtiles_append(store, &leaf);
        }
        tile_list_t list = {.count = 0};
        tlog_edge_partial_tiles(memtiles_edge(store), list_tile, &list);
        size_t n = 0;
        while (n < 4 && cases[c].partials[n] != NULL)
            n++;
        assert_int_equal(list.count, n);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(list.paths[i], cases[c].partials[i]);
        memtiles_free(store);
    }
}

/* An edge loaded from stored tiles continues exactly like the one that wrote them. */
static void test_tlog_tile_edge_load_continues_the_tree(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {0, 1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 70000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        memtiles_t *store = memtiles_new();
        uint64_t size = sizes[s];
        for (uint64_t i = 0; i < size; i++) {
            tlog_hash_t leaf;
            memtiles_vector_leaf(i, &leaf);
            memtiles_append(store, &leaf);
        }
        memtiles_publish(store);
        tlog_hash_t root;
        tlog_range_root(&memtiles_edge(store)->range, &root);

        tlog_edge_t *loaded = malloc(sizeof(*loaded));
        char err[TLOG_ERR_MAX];
        assert_int_equal(tlog_edge_load(loaded, size, &root, memtiles_read, store, err), 0);
        assert_int_equal(loaded->range.size, size);
        for (uint64_t i = size; i < size + 300; i++) {
            tlog_hash_t leaf, a, b;
            memtiles_vector_leaf(i, &leaf);
            memtiles_append(store, &leaf);
            tlog_edge_append(loaded, &leaf, NULL, NULL);
            tlog_range_root(&memtiles_edge(store)->range, &a);
            tlog_range_root(&loaded->range, &b);
            assert_true(tlog_hash_equal(&a, &b));
        }
        assert_memory_equal(loaded->width, memtiles_edge(store)->width, sizeof(loaded->width));
        assert_memory_equal(loaded->tiles[0], memtiles_edge(store)->tiles[0], loaded->width[0] * TLOG_HASH_SIZE);

        if (size > 0) {
            root.bytes[5] ^= 1;
            assert_int_equal(tlog_edge_load(loaded, size, &root, memtiles_read, store, err), -1);
            assert_non_null(strstr(err, "do not hash"));
        }
        free(loaded);
        memtiles_free(store);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_tile_paths_match_vectors),
        cmocka_unit_test(test_tlog_tile_path_parse_rejects_noncanonical),
        cmocka_unit_test(test_tlog_tile_contents_match_tiles_1000),
        cmocka_unit_test(test_tlog_tile_edge_lists_partial_tiles_per_size),
        cmocka_unit_test(test_tlog_tile_edge_load_continues_the_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
