/* Test helper: an in-memory tile store fed by tlog_edge_append, read back through tlog_tile_read_fn. */
#ifndef FARO_TEST_MEMTILES_H
#define FARO_TEST_MEMTILES_H

#include "tlog/tile.h"

typedef struct memtiles memtiles_t;

memtiles_t *memtiles_new(void);
void memtiles_free(memtiles_t *store);
/* Appends leaf hashes to the store's edge, keeping every full tile and the partial tiles of every size published. */
void memtiles_append(memtiles_t *store, const tlog_hash_t *leaf);
/* Records the partial tiles of the current size, as a writer publishing a checkpoint does. */
void memtiles_publish(memtiles_t *store);
const tlog_edge_t *memtiles_edge(const memtiles_t *store);
/* tlog_tile_read_fn over the store; ctx is the store. */
int memtiles_read(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err);
/* Leaf data rule of merkle-roots.json: "leaf-<i>". */
void memtiles_vector_leaf(uint64_t i, tlog_hash_t *out);

#endif
