/*
 * A log's storage directory, the static-ct-api tree the gateway serves
 * (checkpoint, tile/..., issuer/...), and the staging bundles in the log's
 * state folder.
 *
 * A staging bundle holds every file one sequencing round publishes, so the
 * round is made durable with a single file before the lock DB commits it,
 * and can be replayed if the writer dies before publishing. Layout:
 *
 *   "faro-bundle-v1\n"
 *   repeated: u16 path_len || path || u8 flags (TLOG_DURABLE_*) || u32 len || bytes
 *   SHA-256 of everything before it
 *
 * Storage is not thread-safe; each log's sequencer owns its storage_t.
 */
#ifndef FARO_WRITER_STORAGE_H
#define FARO_WRITER_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/buf.h"
#include "tlog/hash.h"
#include "tlog/tile.h"

typedef struct storage storage_t;

/* Opens (creating them durably when create is set) the storage and state directories. */
int storage_open(const char *root, const char *state_dir, int create, storage_t **out, char *err);
void storage_free(storage_t *storage);
const char *storage_root(const storage_t *storage);

/* tlog_tile_read_fn for hash and data tiles; ctx is the storage_t. A missing partial tile is read from its full tile. */
int storage_read_tile(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err);
/* Reads a data tile, inflated if stored gzipped, into a malloc'd buffer (data tiles have no fixed size). */
int storage_read_data_tile(storage_t *storage, const tlog_tile_t *tile, uint8_t **out, size_t *out_len, char *err);
/* 1 and the body when the checkpoint exists, 0 when it does not, -1 on error. */
int storage_read_checkpoint(storage_t *storage, char **body, size_t *len, char *err);
/* Durably replaces the checkpoint; TLOG_DURABLE_FATAL after an fsync error. */
int storage_write_checkpoint(storage_t *storage, const char *body, size_t len, char *err);
/* Durably writes a mutable file at a storage-relative path (log.v3.json, roots backups). */
int storage_write_file(storage_t *storage, const char *path, const void *data, size_t len, int flags, char *err);

/*
 * Removes the temporary files (tlog_durable_sweep) an interrupted write left
 * in the storage root, its roots folder, the state folder and staging; adds
 * the count to *removed. Tile and issuer folders need storage_bundle_sweep.
 */
int storage_sweep(storage_t *storage, size_t *removed, char *err);

/* The files of one round, in memory. */
typedef struct storage_bundle {
    tlog_buf_t bytes; /* the serialised bundle being built */
    size_t files;
} storage_bundle_t;

void storage_bundle_init(storage_bundle_t *bundle);
void storage_bundle_add(storage_bundle_t *bundle, const char *path, const void *data, size_t len, int flags);
void storage_bundle_free(storage_bundle_t *bundle);
/* Durably writes the bundle for the tree (size, root) into the state folder. */
int storage_bundle_stage(storage_t *storage, storage_bundle_t *bundle, uint64_t size, const tlog_hash_t *root, char *err);
/* Loads the staged bundle of (size, root); 0 found, 1 none staged, -1 error (corrupt or unreadable). */
int storage_bundle_load(storage_t *storage, uint64_t size, const tlog_hash_t *root, storage_bundle_t *out, char *err);
/* Writes every file of the bundle durably into storage (idempotent: immutable files already there must match). */
int storage_bundle_publish(storage_t *storage, const storage_bundle_t *bundle, char *err);
/*
 * The same in every folder the bundle writes to. Only the round whose bundle
 * is replayed can have been publishing when the writer died (one sequencer
 * per log, and every start sweeps), so these are the only tile and issuer
 * folders that can hold temporary files.
 */
int storage_bundle_sweep(storage_t *storage, const storage_bundle_t *bundle, size_t *removed, char *err);
/* Removes the staged bundle of (size, root) and any older ones; TLOG_DURABLE_FATAL after an fsync error. */
int storage_bundle_drop(storage_t *storage, uint64_t size, const tlog_hash_t *root, char *err);

#endif
