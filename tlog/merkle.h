/*
 * RFC 6962 Merkle trees: the compact right edge of a growing tree, tree
 * hashes and proofs over any store of node hashes, and proof verification.
 *
 * A node is named by (height, index): the perfect subtree of 2^height leaves
 * starting at leaf index << height. Leaves are height 0.
 *
 * tlog_range_t is the compact range [0, size): one node per set bit of size,
 * tallest first. Appending a leaf costs one node hash amortised, so N appends
 * cost O(N) hashing; the root costs popcount(size) - 1 node hashes.
 *
 * Proof generation reads only the O(log n) nodes it needs through a
 * tlog_node_reader_t (tile.h provides one over stored tiles).
 */
#ifndef TLOG_MERKLE_H
#define TLOG_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/hash.h"

#define TLOG_MAX_HEIGHT 64
/* Longest proof for any 64-bit tree size (consistency proofs can reach 2 * 64). */
#define TLOG_MAX_PROOF 128

typedef struct tlog_range {
    uint64_t size;                      /* leaves in [0, size) */
    unsigned count;                     /* nodes in use: popcount(size) */
    tlog_hash_t nodes[TLOG_MAX_HEIGHT]; /* tallest subtree first */
} tlog_range_t;

/* Called for every node that an append completes, leaves included. */
typedef void (*tlog_node_cb)(void *ctx, unsigned height, uint64_t index, const tlog_hash_t *hash);

void tlog_range_init(tlog_range_t *range);
void tlog_range_append(tlog_range_t *range, const tlog_hash_t *leaf, tlog_node_cb on_node, void *ctx);
/* Root of [0, size); the empty-tree hash for size 0. */
void tlog_range_root(const tlog_range_t *range, tlog_hash_t *out);

/* Reads the hash of the complete node (height, index); 0 or -1 with err. */
typedef struct tlog_node_reader {
    int (*read)(void *ctx, unsigned height, uint64_t index, tlog_hash_t *out, char *err);
    void *ctx;
} tlog_node_reader_t;

/* Root of the tree of the first size leaves. */
int tlog_tree_hash(const tlog_node_reader_t *reader, uint64_t size, tlog_hash_t *out, char *err);
/* Audit path for leaf index in a tree of size leaves, leaf to root; *len receives the count. */
int tlog_inclusion_proof(const tlog_node_reader_t *reader, uint64_t index, uint64_t size, tlog_hash_t *proof, size_t *len,
                         char *err);
/* RFC 6962 consistency proof from old_size to new_size (empty when old_size is 0 or equal). */
int tlog_consistency_proof(const tlog_node_reader_t *reader, uint64_t old_size, uint64_t new_size, tlog_hash_t *proof, size_t *len,
                           char *err);

/* RFC 9162 2.1.3.2; 0 if the proof shows leaf at index in the tree with this root, else -1 with err. */
int tlog_inclusion_verify(uint64_t index, uint64_t size, const tlog_hash_t *leaf, const tlog_hash_t *proof, size_t len,
                          const tlog_hash_t *root, char *err);
/* RFC 9162 2.1.4.2 (old_size 0 accepts only an empty proof); 0 or -1 with err. */
int tlog_consistency_verify(uint64_t old_size, uint64_t new_size, const tlog_hash_t *old_root, const tlog_hash_t *new_root,
                            const tlog_hash_t *proof, size_t len, char *err);

#endif
