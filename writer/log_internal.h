/* The parts of writer_log_t that log.c (opening, recovery) and sequencer.c (pool, rounds) share. */
#ifndef FARO_WRITER_LOG_INTERNAL_H
#define FARO_WRITER_LOG_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "tlog/buf.h"
#include "tlog/ctentry.h"
#include "tlog/nonces.h"
#include "tlog/note.h"
#include "tlog/tile.h"
#include "witness/witness.h"
#include "writer/lockdb.h"
#include "writer/log.h"
#include "writer/roots.h"
#include "writer/roots_fetch.h"
#include "writer/storage.h"

/* One accepted submission waiting to be sequenced; one allocation with its bytes. */
typedef struct pool_entry {
    tlog_ct_entry_t entry; /* leaf_index and timestamp set by the round */
    tlog_hash_t key;       /* dedup key */
    size_t issuers_count;
    const uint8_t *issuers[CHAIN_MAX_CERTS];
    size_t issuer_lens[CHAIN_MAX_CERTS];
    writer_waiter_t *waiters;
    uint8_t signature[TLOG_DSIG_P256_MAX]; /* the SCT's, set by the round */
    size_t signature_len;
    char *sct; /* the add-chain answer; NULL until signed, or if signing failed */
    size_t sct_len;
} pool_entry_t;

/* Entries in arrival order plus an open-addressing index on the dedup key. */
typedef struct pool {
    pool_entry_t **entries;
    size_t count;
    pool_entry_t **slots; /* nslots, a power of two at least twice the pool size */
    size_t nslots;
} pool_t;

typedef struct writer_witness_host writer_witness_host_t;

struct writer_log {
    const faro_log_config_t *config;
    char *state_dir;
    char *dedup_path;

    EVP_PKEY *key;
    tlog_nonces_t *nonces; /* for the SCTs; filled by the sequencer between rounds */
    uint8_t log_id[32];
    tlog_signer_t *signers[2]; /* RFC 6962 (0x05), Ed25519 (0x01) */
    tlog_verifier_t *verifiers[2];
    chain_policy_t policy;
    roots_t *roots;
    roots_fetch_t *roots_fetch; /* NULL without roots_remote_fetch_url */

    /* Owned by the sequencer thread once started. */
    storage_t *storage;
    lockdb_t *lockdb;
    dedup_t *dedup;
    tlog_edge_t *edge;
    tlog_buf_t data_tile; /* the entries of the rightmost, partial data tile */
    char *checkpoint;     /* the latest signed checkpoint, as stored in the lock DB */
    size_t checkpoint_len;
    uint64_t checkpoint_ms; /* its RFC 6962 timestamp */
    uint64_t published_ms;  /* when it was signed, by the monotonic clock */
    void *issuers_known;    /* fingerprints already published (a hash set) */

    /* With a witness_policy: the coordinator, which then alone publishes the checkpoint file (witnessing.c). */
    witness_t *witness;
    writer_witness_host_t *witness_host;

    /* Shared with HTTP threads under lock. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pool_t *pool;                 /* being filled */
    pool_t *sequencing;           /* being sequenced, or NULL */
    int sequencing_answered;      /* its submitters have their SCTs; it stays until the dedup index has them too */
    atomic_ulong rounds_answered; /* rounds whose entries left sequencing for the dedup index; changed under lock */
    int stopping;
    double old_tokens; /* rate_limit_old_not_before: a token bucket of one second's worth */
    uint64_t old_refill_ms;
    pthread_t thread;
    int started;

    struct {
        atomic_ulong submissions[2][WRITER_OUTCOME_COUNT]; /* [precert][outcome] */
        atomic_ulong dedup_hits;
        atomic_ulong rounds, rounds_failed, entries;
        atomic_ulong round_ms_buckets[15]; /* ROUND_MS_BOUNDS, then +Inf */
        atomic_ulong round_ms_sum;
        atomic_ulong round_entries_buckets[11]; /* ROUND_ENTRIES_BOUNDS, then +Inf */
        atomic_ulong tree_size;
        atomic_ulong pool_length;
        atomic_ulong checkpoint_ms;
    } metrics;
};

/* Upper bounds of the round duration histogram, in milliseconds. */
#define ROUND_MS_BOUNDS                                                                                                            \
    {                                                                                                                              \
        2, 5, 10, 25, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000, 10000                                                          \
    }

/* Upper bounds of the entries-per-round histogram. */
#define ROUND_ENTRIES_BOUNDS                                                                                                       \
    {                                                                                                                              \
        1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000, 100000                                                                    \
    }

/* sequencer.c */
pool_t *pool_new(size_t capacity);
void pool_free(pool_t *pool);
/* Starts the sequencer thread; stopping it sequences what is pooled first. */
int sequencer_start(writer_log_t *log, char *err);
void sequencer_stop(writer_log_t *log);

/* log.c: checks and stores a newly signed checkpoint; used by rounds and at creation. */
int writer_log_sign_checkpoint(writer_log_t *log, uint64_t size, const tlog_hash_t *root, uint64_t timestamp_ms, char **out,
                               size_t *out_len, char *err);

/* witnessing.c: opens the log's witness coordinator if its configuration names a policy (log->witness stays NULL if not). */
int writer_witness_open(writer_log_t *log, const char *lock_db, char *err);
void writer_witness_close(writer_log_t *log);

#endif
