/*
 * Tiles (c2sp.org/tlog-tiles, static-ct-api): paths, reading node hashes from
 * stored hash tiles, and the right edge a writer keeps to assemble new tiles.
 *
 * Tile (level L, index N) holds up to 256 hashes: entry i is the node of
 * height 8 * L at index N * 256 + i. A partial tile, width W < 256, is the
 * rightmost tile of its level for some tree size and is never hashed into
 * the level above. Data tiles ("tile/data/...") are numbered like level 0.
 */
#ifndef TLOG_TILE_H
#define TLOG_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/hash.h"
#include "tlog/merkle.h"

#define TLOG_TILE_HEIGHT 8
#define TLOG_TILE_WIDTH 256
#define TLOG_TILE_BYTES (TLOG_TILE_WIDTH * TLOG_HASH_SIZE)
/* Highest level a path may name: level 5 already spans 2^48 leaves, more than the 2^40 of static-ct. */
#define TLOG_TILE_MAX_LEVEL 5
#define TLOG_TILE_DATA (-1)
#define TLOG_TILE_PATH_MAX 64

typedef struct tlog_tile {
    int level;      /* 0..TLOG_TILE_MAX_LEVEL, or TLOG_TILE_DATA */
    uint64_t index; /* N */
    unsigned width; /* 1..256; 256 means full */
} tlog_tile_t;

/* "tile/<L>/<N>[.p/<W>]" or "tile/data/<N>[.p/<W>]" into buf (TLOG_TILE_PATH_MAX); returns its length. */
size_t tlog_tile_path_format(const tlog_tile_t *tile, char *buf);
/* Parses exactly the grammar above, rejecting every non-canonical spelling; 0 or -1 with err. */
int tlog_tile_path_parse(const char *path, size_t len, tlog_tile_t *out, char *err);

/* The tile at level that holds entry index (in units of that level) in a tree of size leaves. */
tlog_tile_t tlog_tile_for_entry(int level, uint64_t index, uint64_t size);

/* Reads the bytes of tile (width * 32 for hash tiles) into out; 0 or -1 with err. */
typedef int (*tlog_tile_read_fn)(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err);

/*
 * A node reader over stored hash tiles for a tree of a given size; keeps the
 * tile it read last at each level, so a proof reads each tile at most once.
 */
typedef struct tlog_tile_reader {
    uint64_t size;
    tlog_tile_read_fn read;
    void *ctx;
    struct {
        tlog_tile_t tile;
        int valid;
        uint8_t bytes[TLOG_TILE_BYTES];
    } cache[TLOG_TILE_MAX_LEVEL + 1];
} tlog_tile_reader_t;

void tlog_tile_reader_init(tlog_tile_reader_t *reader, uint64_t size, tlog_tile_read_fn read, void *ctx);
tlog_node_reader_t tlog_tile_reader_nodes(tlog_tile_reader_t *reader);

/*
 * The right edge of a tree as a writer holds it: the compact range plus the
 * rightmost (partial) hash tile at every level. Appending a leaf hash may
 * complete full tiles, which are reported through on_full_tile; the partial
 * tiles of the current size are listed with tlog_edge_partial_tiles.
 * Plain data: copy it with memcpy/assignment to snapshot and roll back.
 */
typedef struct tlog_edge {
    tlog_range_t range;
    unsigned width[TLOG_TILE_MAX_LEVEL + 1];
    uint8_t tiles[TLOG_TILE_MAX_LEVEL + 1][TLOG_TILE_BYTES];
} tlog_edge_t;

typedef void (*tlog_tile_cb)(void *ctx, const tlog_tile_t *tile, const uint8_t *hashes);

void tlog_edge_init(tlog_edge_t *edge);
/* Loads the edge of a stored tree of size leaves and checks it hashes to root; 0 or -1 with err. */
int tlog_edge_load(tlog_edge_t *edge, uint64_t size, const tlog_hash_t *root, tlog_tile_read_fn read, void *ctx, char *err);
void tlog_edge_append(tlog_edge_t *edge, const tlog_hash_t *leaf, tlog_tile_cb on_full_tile, void *ctx);
void tlog_edge_partial_tiles(const tlog_edge_t *edge, tlog_tile_cb cb, void *ctx);
/* Leaf hash at position i of the current level-0 edge tile (i < width[0]). */
const tlog_hash_t *tlog_edge_leaf(const tlog_edge_t *edge, unsigned i);

#endif
