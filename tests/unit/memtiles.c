#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/memtiles.h"
#include "tlog/error.h"

typedef struct stored_tile {
    tlog_tile_t tile;
    uint8_t bytes[TLOG_TILE_BYTES];
} stored_tile_t;

struct memtiles {
    tlog_edge_t edge;
    stored_tile_t *tiles;
    size_t count, cap;
};

memtiles_t *memtiles_new(void)
{
    memtiles_t *store = calloc(1, sizeof(*store));
    tlog_edge_init(&store->edge);
    return store;
}

void memtiles_free(memtiles_t *store)
{
    if (store == NULL)
        return;
    free(store->tiles);
    free(store);
}

static void store_tile(void *ctx, const tlog_tile_t *tile, const uint8_t *hashes)
{
    memtiles_t *store = ctx;
    if (store->count == store->cap) {
        store->cap = store->cap ? store->cap * 2 : 64;
        store->tiles = realloc(store->tiles, store->cap * sizeof(*store->tiles));
    }
    store->tiles[store->count].tile = *tile;
    memcpy(store->tiles[store->count].bytes, hashes, tile->width * TLOG_HASH_SIZE);
    store->count++;
}

void memtiles_append(memtiles_t *store, const tlog_hash_t *leaf)
{
    tlog_edge_append(&store->edge, leaf, store_tile, store);
}

void memtiles_publish(memtiles_t *store)
{
    tlog_edge_partial_tiles(&store->edge, store_tile, store);
}

const tlog_edge_t *memtiles_edge(const memtiles_t *store)
{
    return &store->edge;
}

int memtiles_read(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err)
{
    memtiles_t *store = ctx;
    /* Newest first; a full tile also answers for any of its partial widths. */
    for (size_t i = store->count; i-- > 0;) {
        const tlog_tile_t *t = &store->tiles[i].tile;
        if (t->level == tile->level && t->index == tile->index && (t->width == tile->width || t->width == TLOG_TILE_WIDTH)) {
            memcpy(out, store->tiles[i].bytes, tile->width * TLOG_HASH_SIZE);
            return 0;
        }
    }
    char path[TLOG_TILE_PATH_MAX];
    tlog_tile_path_format(tile, path);
    return tlog_errorf(err, "no tile %s", path);
}

void memtiles_vector_leaf(uint64_t i, tlog_hash_t *out)
{
    char data[32];
    int n = snprintf(data, sizeof(data), "leaf-%llu", (unsigned long long)i);
    tlog_leaf_hash(data, (size_t)n, out);
}
