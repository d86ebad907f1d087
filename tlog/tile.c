/*
 * Tile paths, a node reader over stored tiles, and the writer's right edge.
 *
 * Path grammar (tlog-tiles, static-ct-api):
 *   tile/<L>/<N>[.p/<W>]   L in 0..5, one digit
 *   tile/data/<N>[.p/<W>]  W in 1..255, no leading zeros
 *   <N> = N in decimal, left-padded to a multiple of three digits, split into
 *         groups of three, every group but the last prefixed with 'x'; no
 *         redundant leading "x000/" group.
 *
 * Reading a node of height h means reading level h / 8 and hashing the
 * 2^(h % 8) entries below it: at most 127 node hashes and one tile read.
 *
 * The edge keeps, at every level, the entries of the rightmost tile that is
 * not yet full; a node completed by an append whose height is a multiple of 8
 * is exactly the next entry of the tile above, so tiles cost no hashing
 * beyond the compact range's.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "tlog/error.h"
#include "tlog/tile.h"

/* Enough three-digit groups for any uint64_t. */
#define INDEX_MAX_GROUPS 7

static size_t index_format(uint64_t n, char *buf)
{
    unsigned groups[INDEX_MAX_GROUPS];
    size_t count = 0, len = 0;
    do {
        groups[count++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n > 0);
    while (count-- > 1)
        len += (size_t)sprintf(buf + len, "x%03u/", groups[count]);
    len += (size_t)sprintf(buf + len, "%03u", groups[0]);
    return len;
}

size_t tlog_tile_path_format(const tlog_tile_t *tile, char *buf)
{
    size_t len;
    assert(tile->width >= 1 && tile->width <= TLOG_TILE_WIDTH);
    if (tile->level == TLOG_TILE_DATA)
        len = (size_t)sprintf(buf, "tile/data/");
    else
        len = (size_t)sprintf(buf, "tile/%d/", tile->level);
    len += index_format(tile->index, buf + len);
    if (tile->width < TLOG_TILE_WIDTH)
        len += (size_t)sprintf(buf + len, ".p/%u", tile->width);
    return len;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int three_digits(const char *p, const char *end, unsigned *out)
{
    if (end - p < 3 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]))
        return -1;
    *out = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
    return 0;
}

static int parse_index(const char **pp, const char *end, uint64_t *out, char *err)
{
    const char *p = *pp;
    uint64_t n = 0;
    for (size_t group = 0;; group++) {
        if (group == INDEX_MAX_GROUPS)
            return tlog_errorf(err, "tile index has too many digit groups");
        int more = p < end && *p == 'x';
        unsigned value;
        if (three_digits(p + more, end, &value) != 0)
            return tlog_errorf(err, "tile index group %zu is not three digits", group + 1);
        if (more && group == 0 && value == 0)
            return tlog_errorf(err, "tile index has a redundant leading x000 group");
        if (n > (UINT64_MAX - value) / 1000)
            return tlog_errorf(err, "tile index is too large");
        n = n * 1000 + value;
        p += more + 3;
        if (!more)
            break;
        if (p == end || *p != '/')
            return tlog_errorf(err, "tile index group %zu is not followed by '/'", group + 1);
        p++;
    }
    *pp = p;
    *out = n;
    return 0;
}

int tlog_tile_path_parse(const char *path, size_t len, tlog_tile_t *out, char *err)
{
    const char *p = path, *end = path + len;
    tlog_tile_t tile = {0, 0, TLOG_TILE_WIDTH};

    if (len < 5 || memcmp(p, "tile/", 5) != 0)
        return tlog_errorf(err, "tile path does not start with tile/");
    p += 5;
    if (end - p >= 5 && memcmp(p, "data/", 5) == 0) {
        tile.level = TLOG_TILE_DATA;
        p += 5;
    } else if (end - p >= 2 && p[0] >= '0' && p[0] <= '0' + TLOG_TILE_MAX_LEVEL && p[1] == '/') {
        tile.level = p[0] - '0';
        p += 2;
    } else {
        return tlog_errorf(err, "tile level is not data or a digit from 0 to %d followed by '/'", TLOG_TILE_MAX_LEVEL);
    }
    if (parse_index(&p, end, &tile.index, err) != 0)
        return -1;
    if (p != end) {
        if (end - p < 4 || memcmp(p, ".p/", 3) != 0)
            return tlog_errorf(err, "tile path has trailing bytes after the index");
        p += 3;
        if (*p == '0')
            return tlog_errorf(err, "partial tile width has a leading zero");
        unsigned width = 0;
        for (; p < end; p++) {
            if (!is_digit(*p))
                return tlog_errorf(err, "partial tile width is not a decimal number");
            width = width * 10 + (unsigned)(*p - '0');
            if (width >= TLOG_TILE_WIDTH)
                return tlog_errorf(err, "partial tile width must be below %d", TLOG_TILE_WIDTH);
        }
        tile.width = width;
    }
    *out = tile;
    return 0;
}

tlog_tile_t tlog_tile_for_entry(int level, uint64_t index, uint64_t size)
{
    unsigned shift = level == TLOG_TILE_DATA ? 0 : (unsigned)level * TLOG_TILE_HEIGHT;
    uint64_t entries = shift >= 64 ? 0 : size >> shift;
    tlog_tile_t tile = {level, index / TLOG_TILE_WIDTH, TLOG_TILE_WIDTH};
    uint64_t first = tile.index * TLOG_TILE_WIDTH;
    if (entries < first + TLOG_TILE_WIDTH)
        tile.width = (unsigned)(entries - first);
    return tile;
}

void tlog_tile_reader_init(tlog_tile_reader_t *reader, uint64_t size, tlog_tile_read_fn read, void *ctx)
{
    reader->size = size;
    reader->read = read;
    reader->ctx = ctx;
    for (int i = 0; i <= TLOG_TILE_MAX_LEVEL; i++)
        reader->cache[i].valid = 0;
}

/* Root of a complete subtree given its 2^k leaves-level hashes (k <= 7), in place. */
static void perfect_root(tlog_hash_t *hashes, size_t count, tlog_hash_t *out)
{
    for (; count > 1; count /= 2)
        for (size_t i = 0; i < count / 2; i++)
            tlog_node_hash(&hashes[2 * i], &hashes[2 * i + 1], &hashes[i]);
    *out = hashes[0];
}

/* Field by field: the struct has padding that memcmp would compare. */
static int tile_equal(const tlog_tile_t *a, const tlog_tile_t *b)
{
    return a->level == b->level && a->index == b->index && a->width == b->width;
}

static int tile_reader_node(void *ctx, unsigned height, uint64_t index, tlog_hash_t *out, char *err)
{
    tlog_tile_reader_t *reader = ctx;
    int level = (int)(height / TLOG_TILE_HEIGHT);
    unsigned below = height % TLOG_TILE_HEIGHT;
    uint64_t count = UINT64_C(1) << below;

    if (level > TLOG_TILE_MAX_LEVEL || index > (UINT64_MAX >> below) / 2)
        return tlog_errorf(err, "node at height %u index %llu is beyond the largest tree", height, (unsigned long long)index);
    uint64_t first = index << below;
    tlog_tile_t tile = tlog_tile_for_entry(level, first, reader->size);
    uint64_t offset = first - tile.index * TLOG_TILE_WIDTH;
    if (first >= (reader->size >> (level * TLOG_TILE_HEIGHT)) || offset + count > tile.width)
        return tlog_errorf(err, "node at height %u index %llu is not complete in a tree of size %llu", height,
                           (unsigned long long)index, (unsigned long long)reader->size);

    typeof(reader->cache[0]) *slot = &reader->cache[level];
    if (!slot->valid || !tile_equal(&slot->tile, &tile)) {
        slot->valid = 0;
        if (reader->read(reader->ctx, &tile, slot->bytes, err) != 0)
            return -1;
        slot->tile = tile;
        slot->valid = 1;
    }
    tlog_hash_t hashes[TLOG_TILE_WIDTH / 2];
    memcpy(hashes, slot->bytes + offset * TLOG_HASH_SIZE, count * TLOG_HASH_SIZE);
    perfect_root(hashes, count, out);
    return 0;
}

tlog_node_reader_t tlog_tile_reader_nodes(tlog_tile_reader_t *reader)
{
    tlog_node_reader_t nodes = {tile_reader_node, reader};
    return nodes;
}

void tlog_edge_init(tlog_edge_t *edge)
{
    tlog_range_init(&edge->range);
    memset(edge->width, 0, sizeof(edge->width));
}

typedef struct edge_append_ctx {
    tlog_edge_t *edge;
    tlog_tile_cb on_full_tile;
    void *ctx;
} edge_append_ctx_t;

static void edge_on_node(void *ctx, unsigned height, uint64_t index, const tlog_hash_t *hash)
{
    edge_append_ctx_t *a = ctx;
    if (height % TLOG_TILE_HEIGHT != 0 || height / TLOG_TILE_HEIGHT > TLOG_TILE_MAX_LEVEL)
        return;
    unsigned level = height / TLOG_TILE_HEIGHT;
    tlog_edge_t *edge = a->edge;
    memcpy(edge->tiles[level] + edge->width[level] * TLOG_HASH_SIZE, hash->bytes, TLOG_HASH_SIZE);
    if (++edge->width[level] == TLOG_TILE_WIDTH) {
        tlog_tile_t tile = {(int)level, index / TLOG_TILE_WIDTH, TLOG_TILE_WIDTH};
        if (a->on_full_tile != NULL)
            a->on_full_tile(a->ctx, &tile, edge->tiles[level]);
        edge->width[level] = 0;
    }
}

void tlog_edge_append(tlog_edge_t *edge, const tlog_hash_t *leaf, tlog_tile_cb on_full_tile, void *ctx)
{
    edge_append_ctx_t a = {edge, on_full_tile, ctx};
    tlog_range_append(&edge->range, leaf, edge_on_node, &a);
}

void tlog_edge_partial_tiles(const tlog_edge_t *edge, tlog_tile_cb cb, void *ctx)
{
    for (int level = 0; level <= TLOG_TILE_MAX_LEVEL; level++) {
        if (edge->width[level] == 0)
            continue;
        uint64_t entries = edge->range.size >> (level * TLOG_TILE_HEIGHT);
        tlog_tile_t tile = {level, entries / TLOG_TILE_WIDTH, edge->width[level]};
        assert(entries % TLOG_TILE_WIDTH == edge->width[level]);
        cb(ctx, &tile, edge->tiles[level]);
    }
}

const tlog_hash_t *tlog_edge_leaf(const tlog_edge_t *edge, unsigned i)
{
    assert(i < edge->width[0]);
    return (const tlog_hash_t *)(edge->tiles[0] + i * TLOG_HASH_SIZE);
}

int tlog_edge_load(tlog_edge_t *edge, uint64_t size, const tlog_hash_t *root, tlog_tile_read_fn read, void *ctx, char *err)
{
    if (size >> ((TLOG_TILE_MAX_LEVEL + 1) * TLOG_TILE_HEIGHT) != 0)
        return tlog_errorf(err, "tree size %llu is beyond the largest supported tree", (unsigned long long)size);
    tlog_edge_init(edge);
    for (int level = 0; level <= TLOG_TILE_MAX_LEVEL; level++) {
        uint64_t entries = size >> (level * TLOG_TILE_HEIGHT);
        tlog_tile_t tile = {level, entries / TLOG_TILE_WIDTH, (unsigned)(entries % TLOG_TILE_WIDTH)};
        if (tile.width == 0)
            continue;
        if (read(ctx, &tile, edge->tiles[level], err) != 0)
            return -1;
        edge->width[level] = tile.width;
    }

    /* One node per set bit of size, tallest first, each inside the edge tile of its level. */
    tlog_range_t *range = &edge->range;
    for (int height = 63; height >= 0; height--) {
        if (!(size >> height & 1))
            continue;
        unsigned level = (unsigned)height / TLOG_TILE_HEIGHT, below = (unsigned)height % TLOG_TILE_HEIGHT;
        uint64_t first = (size >> height & ~UINT64_C(1)) << below;
        uint64_t offset = first % TLOG_TILE_WIDTH;
        tlog_hash_t hashes[TLOG_TILE_WIDTH / 2];
        memcpy(hashes, edge->tiles[level] + offset * TLOG_HASH_SIZE, (UINT64_C(1) << below) * TLOG_HASH_SIZE);
        perfect_root(hashes, UINT64_C(1) << below, &range->nodes[range->count++]);
    }
    range->size = size;

    tlog_hash_t computed;
    tlog_range_root(range, &computed);
    if (!tlog_hash_equal(&computed, root))
        return tlog_errorf(err, "the right-edge tiles of size %llu do not hash to the checkpoint's root", (unsigned long long)size);
    return 0;
}
