/*
 * tlog micro-benchmark: node hashes/s (65-byte SHA-256 inputs, two
 * compression blocks like openssl speed's 64-byte case), Merkle appends/s
 * through the writer's edge (leaf hash + amortised node hashes + tile
 * assembly), and full hash tiles hashed to their root per second.
 * Usage: bench_tlog [seconds per measurement]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlog/tile.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_tile(void *ctx, const tlog_tile_t *tile, const uint8_t *hashes)
{
    (void)tile;
    (void)hashes;
    (*(unsigned long *)ctx)++;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    tlog_hash_t a, b;
    memset(&a, 1, sizeof(a));
    memset(&b, 2, sizeof(b));

    unsigned long n = 0;
    double start = now(), elapsed;
    do {
        for (int i = 0; i < 10000; i++)
            tlog_node_hash(&a, &b, &a);
        n += 10000;
    } while ((elapsed = now() - start) < seconds);
    printf("node_hashes_per_s %.0f\n", n / elapsed);

    tlog_edge_t *edge = malloc(sizeof(*edge));
    tlog_edge_init(edge);
    unsigned long tiles = 0;
    n = 0;
    start = now();
    do {
        for (int i = 0; i < 10000; i++) {
            uint64_t index = edge->range.size;
            tlog_leaf_hash(&index, sizeof(index), &a);
            tlog_edge_append(edge, &a, on_tile, &tiles);
        }
        n += 10000;
    } while ((elapsed = now() - start) < seconds);
    printf("merkle_appends_per_s %.0f\n", n / elapsed);
    printf("full_tiles_completed %lu\n", tiles);

    /* A full tile hashed to its root: 255 node hashes, as a reader checking a tile against the tree does. */
    tlog_hash_t tile[TLOG_TILE_WIDTH], work[TLOG_TILE_WIDTH];
    for (int i = 0; i < TLOG_TILE_WIDTH; i++)
        tlog_leaf_hash(&i, sizeof(i), &tile[i]);
    n = 0;
    start = now();
    do {
        memcpy(work, tile, sizeof(tile));
        for (int count = TLOG_TILE_WIDTH; count > 1; count /= 2)
            for (int i = 0; i < count / 2; i++)
                tlog_node_hash(&work[2 * i], &work[2 * i + 1], &work[i]);
        n++;
    } while ((elapsed = now() - start) < seconds);
    printf("tile_hashes_per_s %.0f\n", n / elapsed);
    free(edge);
    return 0;
}
