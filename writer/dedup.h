/*
 * The dedup index of one log (spec/static-ct.md §8): maps the dedup key of an
 * entry (tlog_ct_dedup_key, 32 bytes) to where it was sequenced and the SCT it
 * was answered with, so a resubmission gets the same SCT back byte for byte
 * (OpenSSL 3 ECDSA signatures are randomised, so the SCT is stored, not
 * re-signed).
 *
 * The index is a cache, written after the round that sequenced the entries is
 * committed: a lost row only costs a duplicate entry, never a wrong SCT. It is
 * trusted: a forged row would make the log answer with an SCT for an entry it
 * does not hold, so it lives in the writer's private state folder.
 *
 * Threading: a dedup_t is one SQLite connection and is not thread-safe. Open
 * one per thread (each HTTP thread looks up, the sequencer writes); readers
 * never wait for the writer.
 */
#ifndef WRITER_DEDUP_H
#define WRITER_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/dsig.h"

typedef struct dedup dedup_t;

/* Opens the index at path, creating the file and its schema if missing; refuses a file that is not a faro dedup index. */
int dedup_open(const char *path, dedup_t **out, char *err);
void dedup_close(dedup_t *d);

/* An SCT as first issued: with the log's ID, all tlog_ct_sct_json needs to give the same answer again. */
typedef struct dedup_hit {
    uint64_t leaf_index;
    uint64_t timestamp; /* ms since the epoch, as in the SCT */
    uint8_t signature[TLOG_DSIG_P256_MAX];
    size_t signature_len;
} dedup_hit_t;

/* Looks key up: 1 hit (out filled), 0 miss, -1 error. */
int dedup_lookup(dedup_t *d, const uint8_t key[32], dedup_hit_t *out, char *err);

typedef struct dedup_row {
    uint8_t key[32];
    uint64_t leaf_index; /* at most INT64_MAX, as timestamp */
    uint64_t timestamp;
    const uint8_t *signature; /* the SCT's, at most TLOG_DSIG_P256_MAX bytes */
    size_t signature_len;
} dedup_row_t;

/* Stores rows in one transaction; a key already present keeps its first row (and SCT). All or nothing. */
int dedup_put(dedup_t *d, const dedup_row_t *rows, size_t n, char *err);

#endif
