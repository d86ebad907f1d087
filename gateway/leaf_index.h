/*
 * A log's leaf-hash index for get-proof-by-hash: which leaf indexes have a
 * given leaf hash. faro-gateway builds it itself from the level-0 hash tiles
 * (gateway/ct_log.c) into an SQLite file of its own, so it needs nothing
 * from the writer and works over any static-ct-api storage.
 *
 * The index holds the first `size` leaves of the tree, and the root of that
 * prefix, so that a restart can check the prefix still matches storage and
 * go on from there. It keys each leaf by the first 8 bytes of its hash only:
 * a lookup returns candidates, which the caller confirms against the hash
 * tile it reads for the proof anyway. That keeps a row at about 16 bytes and
 * lets one hash appear at several indexes (a duplicate entry).
 *
 * Threads: append and reset from one thread (the indexer); lookup from any
 * number of threads, each through its own reader connection (0 .. readers-1).
 * Several processes may share the file: an append that finds the stored
 * size moved on does nothing and takes the stored progress.
 */
#ifndef FARO_GATEWAY_LEAF_INDEX_H
#define FARO_GATEWAY_LEAF_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/hash.h"

typedef struct leaf_index leaf_index_t;

/* Opens path, creating it if missing, with `readers` connections for lookups; 0, or -1 with err. */
int leaf_index_open(const char *path, unsigned readers, leaf_index_t **out, char *err);
/* NULL is a no-op. */
void leaf_index_free(leaf_index_t *index);

/* The leaves held, [0, *size), and the root of that prefix (the empty-tree hash for 0). Indexer thread. */
void leaf_index_progress(const leaf_index_t *index, uint64_t *size, tlog_hash_t *root);
/*
 * Adds leaf hashes [from, from + n), with root, the tree hash of the first
 * from + n leaves, in one transaction. Returns 0 when added, 1 when the
 * file no longer holds exactly `from` leaves (another process added them:
 * the progress is reloaded and nothing changes), -1 with err.
 */
int leaf_index_append(leaf_index_t *index, uint64_t from, const tlog_hash_t *hashes, size_t n, const tlog_hash_t *root, char *err);
/* Forgets every leaf (for storage that no longer matches the index); 0 or -1 with err. */
int leaf_index_reset(leaf_index_t *index, char *err);

/*
 * The leaf indexes, ascending, whose hash may be `hash` (same first 8
 * bytes), at most max of them, through reader connection `reader`: their
 * count into *count. 0, or -1 with err.
 */
int leaf_index_lookup(leaf_index_t *index, unsigned reader, const tlog_hash_t *hash, uint64_t *out, size_t max, size_t *count,
                      char *err);

#endif
