/*
 * The pool and the sequencing round of one log (design.md, "One sequencing
 * round"):
 *
 *   1. swap the pool for an empty one;
 *   2. assign indices and one timestamp, never earlier than the last
 *      checkpoint's; extend the data tile, the hash tiles and the issuers in
 *      memory from the cached right edge;
 *   3. stage them as one bundle, durably;
 *   4. sign the checkpoint and compare-and-swap it into the lock DB: from here
 *      the round is committed;
 *   5. publish the bundle's files and the checkpoint into storage (with
 *      witnessing, hand the checkpoint to the coordinator, which publishes it);
 *   6. sign each entry's SCT once, record it in the dedup index, answer.
 *
 * A failure before 4 restores the edge and answers every waiter 503, so
 * nothing is acknowledged; a failure at or after 4 (or any fsync error) is
 * fatal, and the next start replays the staged bundle.
 *
 * Pool lookups and inserts are O(1) under the log's lock: an open-addressing
 * table keyed by the first bytes of the dedup key. Duplicates that arrive
 * while their entry waits (in the pool or in the round being sequenced)
 * join its waiters and get the same SCT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/clock.h"
#include "config/log.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/gzip.h"
#include "writer/log_internal.h"

static size_t key_slot(const tlog_hash_t *key, size_t nslots)
{
    uint64_t h;
    memcpy(&h, key->bytes, sizeof(h));
    return (size_t)(h & (nslots - 1));
}

pool_t *pool_new(size_t capacity)
{
    pool_t *pool = calloc(1, sizeof(*pool));
    size_t nslots = 16;
    while (nslots < 2 * capacity)
        nslots *= 2;
    pool->entries = calloc(capacity, sizeof(*pool->entries));
    pool->slots = calloc(nslots, sizeof(*pool->slots));
    if (pool == NULL || pool->entries == NULL || pool->slots == NULL)
        abort();
    pool->nslots = nslots;
    return pool;
}

void pool_free(pool_t *pool)
{
    if (pool == NULL)
        return;
    for (size_t i = 0; i < pool->count; i++) {
        free(pool->entries[i]->sct);
        free(pool->entries[i]);
    }
    free(pool->entries);
    free(pool->slots);
    free(pool);
}

static pool_entry_t *pool_find(const pool_t *pool, const tlog_hash_t *key)
{
    for (size_t i = key_slot(key, pool->nslots);; i = (i + 1) & (pool->nslots - 1)) {
        pool_entry_t *e = pool->slots[i];
        if (e == NULL || tlog_hash_equal(&e->key, key))
            return e;
    }
}

static void pool_add(pool_t *pool, pool_entry_t *entry)
{
    size_t i = key_slot(&entry->key, pool->nslots);
    while (pool->slots[i] != NULL)
        i = (i + 1) & (pool->nslots - 1);
    pool->slots[i] = entry;
    pool->entries[pool->count++] = entry;
}

/* Copies what a round needs out of a validated chain into one allocation. */
static pool_entry_t *pool_entry_new(const chain_result_t *chain, const tlog_hash_t *key)
{
    size_t bytes = sizeof(pool_entry_t) + chain->certificate_len + chain->precertificate_len + chain->chain_count * 32;
    for (size_t i = 0; i < chain->chain_count; i++)
        bytes += chain->issuer_lens[i];
    pool_entry_t *e = calloc(1, bytes);
    if (e == NULL)
        abort();
    uint8_t *p = (uint8_t *)(e + 1);
    chain_result_entry(chain, 0, 0, &e->entry);
    e->key = *key;
#define COPY_INTO(field, src, len)                                                                                                 \
    do {                                                                                                                           \
        memcpy(p, (src), (len));                                                                                                   \
        field = p;                                                                                                                 \
        p += (len);                                                                                                                \
    } while (0)
    COPY_INTO(e->entry.certificate, chain->certificate, chain->certificate_len);
    if (chain->is_precert)
        COPY_INTO(e->entry.precertificate, chain->precertificate, chain->precertificate_len);
    COPY_INTO(e->entry.chain_fingerprints, chain->fingerprints, chain->chain_count * 32);
    e->issuers_count = chain->chain_count;
    for (size_t i = 0; i < chain->chain_count; i++) {
        COPY_INTO(e->issuers[i], chain->issuers[i], chain->issuer_lens[i]);
        e->issuer_lens[i] = chain->issuer_lens[i];
    }
#undef COPY_INTO
    return e;
}

/*
 * rate_limit_old_not_before "<age>:<rate>": chains whose leaf was issued more
 * than age ago (backfill, not new issuance) share a bucket of rate per second,
 * so they cannot crowd out fresh certificates. Called under the log's lock.
 */
static int old_certificate_throttled(writer_log_t *log, const chain_result_t *chain)
{
    const faro_log_config_t *config = log->config;
    uint64_t now = faro_realtime_ms();
    if (config->rate_limit_old_not_before_rate == 0 || chain->not_before < 0 ||
        (uint64_t)chain->not_before * 1000 + config->rate_limit_old_not_before_age_ms > now)
        return 0;
    double rate = (double)config->rate_limit_old_not_before_rate;
    log->old_tokens += (double)(now - log->old_refill_ms) * rate / 1000.0;
    if (log->old_tokens > rate)
        log->old_tokens = rate;
    log->old_refill_ms = now;
    if (log->old_tokens < 1.0)
        return 1;
    log->old_tokens -= 1.0;
    return 0;
}

int writer_log_submit(writer_log_t *log, dedup_t *reader, const chain_result_t *chain, writer_waiter_t *waiter, char **sct,
                      size_t *sct_len, char *err)
{
    tlog_ct_entry_t entry;
    tlog_hash_t key;
    dedup_hit_t hit;

    chain_result_entry(chain, 0, 0, &entry);
    tlog_ct_dedup_key(&entry, &key);
    pool_entry_t *fresh = NULL;
retry:;
    /*
     * A round that ends between this lookup and the lock below moves its
     * entries from sequencing into the dedup index after the lookup looked:
     * then look again, or a duplicate would become a second entry.
     */
    unsigned long rounds = atomic_load(&log->rounds_answered);
    int found = dedup_lookup(reader, key.bytes, &hit, err);
    if (found != 0)
        free(fresh);
    if (found < 0)
        return WRITER_ERROR;
    if (found) {
        if (tlog_ct_sct_json(log->log_id, hit.timestamp, hit.leaf_index, hit.signature, hit.signature_len, sct, sct_len, err) != 0)
            return WRITER_ERROR;
        atomic_fetch_add(&log->metrics.dedup_hits, 1);
        return WRITER_DUPLICATE;
    }

    if (fresh == NULL)
        fresh = pool_entry_new(chain, &key);
    int ret = WRITER_QUEUED;
    pthread_mutex_lock(&log->lock);
    pool_entry_t *existing = pool_find(log->pool, &key);
    int answered = 0;
    if (existing == NULL && log->sequencing != NULL) {
        existing = pool_find(log->sequencing, &key);
        answered = log->sequencing_answered;
    }
    if (existing == NULL && atomic_load(&log->rounds_answered) != rounds) {
        pthread_mutex_unlock(&log->lock);
        goto retry;
    }
    if (log->stopping) {
        ret = WRITER_STOPPING;
    } else if (existing != NULL && answered && existing->sct == NULL) {
        tlog_errorf(err, "entry %llu has no SCT (signing failed)", (unsigned long long)existing->entry.leaf_index);
        ret = WRITER_ERROR;
    } else if (existing != NULL && answered) {
        /* Sequenced and answered, not yet in the dedup index: the SCT is here. */
        if ((*sct = strndup(existing->sct, existing->sct_len)) == NULL)
            abort();
        *sct_len = existing->sct_len;
        atomic_fetch_add(&log->metrics.dedup_hits, 1);
        ret = WRITER_DUPLICATE;
    } else if (existing != NULL) {
        waiter->next = existing->waiters;
        existing->waiters = waiter;
        atomic_fetch_add(&log->metrics.dedup_hits, 1);
    } else if (log->pool->count >= log->config->pool_size) {
        ret = WRITER_POOL_FULL;
    } else if (old_certificate_throttled(log, chain)) {
        ret = WRITER_THROTTLED;
    } else {
        waiter->next = NULL;
        fresh->waiters = waiter;
        pool_add(log->pool, fresh);
        atomic_store(&log->metrics.pool_length, log->pool->count);
        fresh = NULL;
    }
    pthread_mutex_unlock(&log->lock);
    free(fresh);
    return ret;
}

/* A set of issuer fingerprints already published; open addressing, grown at half load. */
typedef struct fingerprint_set {
    uint8_t (*keys)[32];
    uint8_t *used;
    size_t count, cap;
} fingerprint_set_t;

static int fingerprint_find(const fingerprint_set_t *set, const uint8_t *fp, size_t *slot)
{
    if (set->cap == 0)
        return 0;
    uint64_t h;
    memcpy(&h, fp, sizeof(h));
    for (size_t i = (size_t)h & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (!set->used[i]) {
            *slot = i;
            return 0;
        }
        if (memcmp(set->keys[i], fp, 32) == 0)
            return 1;
    }
}

static void fingerprint_add(fingerprint_set_t *set, const uint8_t *fp)
{
    size_t slot;
    if (2 * (set->count + 1) > set->cap) {
        fingerprint_set_t grown = {NULL, NULL, 0, set->cap ? set->cap * 2 : 64};
        grown.keys = calloc(grown.cap, 32);
        grown.used = calloc(grown.cap, 1);
        if (grown.keys == NULL || grown.used == NULL)
            abort();
        for (size_t i = 0; i < set->cap; i++)
            if (set->used[i])
                fingerprint_add(&grown, set->keys[i]);
        free(set->keys);
        free(set->used);
        *set = grown;
    }
    if (fingerprint_find(set, fp, &slot))
        return;
    memcpy(set->keys[slot], fp, 32);
    set->used[slot] = 1;
    set->count++;
}

/* Adds every fingerprint of src to dst. */
static void fingerprint_merge(fingerprint_set_t *dst, const fingerprint_set_t *src)
{
    for (size_t i = 0; i < src->cap; i++)
        if (src->used[i])
            fingerprint_add(dst, src->keys[i]);
}

static void fingerprint_set_clear(fingerprint_set_t *set)
{
    free(set->keys);
    free(set->used);
    set->keys = NULL;
    set->used = NULL;
    set->count = set->cap = 0;
}

static void fingerprint_set_free(fingerprint_set_t *set)
{
    if (set == NULL)
        return;
    fingerprint_set_clear(set);
    free(set);
}

static void bundle_add_tile(void *ctx, const tlog_tile_t *tile, const uint8_t *hashes)
{
    char path[TLOG_TILE_PATH_MAX];
    tlog_tile_path_format(tile, path);
    storage_bundle_add(ctx, path, hashes, tile->width * TLOG_HASH_SIZE, TLOG_DURABLE_IMMUTABLE);
}

/* Data tiles are stored gzipped, as monitors fetch them (served with Content-Encoding: gzip). */
static void bundle_add_data_tile(storage_bundle_t *bundle, uint64_t index, unsigned width, const tlog_buf_t *data)
{
    tlog_tile_t tile = {TLOG_TILE_DATA, index, width};
    char path[TLOG_TILE_PATH_MAX];
    tlog_buf_t gzipped = TLOG_BUF_INIT;
    tlog_tile_path_format(&tile, path);
    tlog_gzip(data->data, data->len, &gzipped);
    storage_bundle_add(bundle, path, gzipped.data, gzipped.len, TLOG_DURABLE_IMMUTABLE);
    tlog_buf_free(&gzipped);
}

/* Calls every waiter of batch: 200 with its entry's SCT, or 503 with reason (also for an entry whose SCT is missing). */
static void answer_all(pool_t *batch, int status, const char *reason)
{
    for (size_t i = 0; i < batch->count; i++) {
        pool_entry_t *e = batch->entries[i];
        int ok = status == 200 && e->sct != NULL;
        for (writer_waiter_t *w = e->waiters, *next; w != NULL; w = next) {
            next = w->next;
            if (ok)
                w->on_result(w, 200, e->sct, e->sct_len);
            else
                w->on_result(w, 503, reason, strlen(reason));
        }
    }
}

/*
 * One round. An idle round (empty pool) only re-signs the checkpoint: it has
 * no snapshot, no bundle and nothing to roll back.
 */
typedef struct round {
    pool_t *batch;
    uint64_t timestamp;
    tlog_edge_t *saved_edge;    /* the edge before the round, to roll back to; NULL when idle */
    tlog_buf_t saved_data_tile; /* likewise: a round that completes the tile reuses the buffer for the next */
    fingerprint_set_t issuers;  /* issuers this round publishes; known to the log only once it commits */
    storage_bundle_t bundle;
    uint64_t ms[5]; /* monotonic ms at: start, staged, committed, published, answered */
} round_t;

/* Step 2: everything in memory. */
static void round_build(writer_log_t *log, round_t *r)
{
    const fingerprint_set_t *known = log->issuers_known;
    uint64_t first = log->edge->range.size;
    for (size_t i = 0; i < r->batch->count; i++) {
        pool_entry_t *e = r->batch->entries[i];
        uint64_t index = first + i;
        tlog_hash_t leaf;
        e->entry.leaf_index = index;
        e->entry.timestamp = r->timestamp;
        tlog_ct_tile_leaf(&e->entry, &log->data_tile);
        tlog_ct_leaf_hash(&e->entry, &leaf);
        tlog_edge_append(log->edge, &leaf, bundle_add_tile, &r->bundle);
        if ((index + 1) % TLOG_TILE_WIDTH == 0) {
            bundle_add_data_tile(&r->bundle, index / TLOG_TILE_WIDTH, TLOG_TILE_WIDTH, &log->data_tile);
            log->data_tile.len = 0;
        }
        for (size_t j = 0; j < e->issuers_count; j++) {
            const uint8_t *fp = e->entry.chain_fingerprints + 32 * j;
            size_t slot;
            if (fingerprint_find(known, fp, &slot) || fingerprint_find(&r->issuers, fp, &slot))
                continue;
            fingerprint_add(&r->issuers, fp);
            char path[16 + 2 * 32];
            memcpy(path, "issuer/", 7);
            tlog_hex_encode(fp, 32, path + 7);
            storage_bundle_add(&r->bundle, path, e->issuers[j], e->issuer_lens[j], TLOG_DURABLE_IMMUTABLE);
        }
    }
    tlog_edge_partial_tiles(log->edge, bundle_add_tile, &r->bundle);
    uint64_t size = log->edge->range.size;
    if (size % TLOG_TILE_WIDTH != 0)
        bundle_add_data_tile(&r->bundle, size / TLOG_TILE_WIDTH, (unsigned)(size % TLOG_TILE_WIDTH), &log->data_tile);
}

static void round_rollback(writer_log_t *log, round_t *r)
{
    if (r->saved_edge == NULL)
        return;
    memcpy(log->edge, r->saved_edge, sizeof(*log->edge));
    log->data_tile.len = 0;
    tlog_buf_append(&log->data_tile, r->saved_data_tile.data, r->saved_data_tile.len);
}

/*
 * The SCTs of a round are signed by helper threads while the sequencer
 * thread writes the round (steps 3-5): signing is most of a large round's
 * CPU, the writes are mostly waiting for fsync. An SCT only leaves the batch
 * in step 6, after the commit; a failed round frees them unsent.
 */
#define SIGNERS_MAX 8
#define SIGNER_MIN_ENTRIES 256 /* a thread per this many entries, at least one */

typedef struct signer {
    writer_log_t *log;
    pool_t *batch;
    size_t first, end;
    pthread_t tid;
    int started;
} signer_t;

static void *signer_main(void *arg)
{
    signer_t *s = arg;
    char err[TLOG_ERR_MAX];
    for (size_t i = s->first; i < s->end; i++) {
        pool_entry_t *e = s->batch->entries[i];
        if (tlog_ct_sct_sign(&e->entry, s->log->key, s->log->nonces, e->signature, &e->signature_len, err) != 0 ||
            tlog_ct_sct_json(s->log->log_id, e->entry.timestamp, e->entry.leaf_index, e->signature, e->signature_len, &e->sct,
                             &e->sct_len, err) != 0)
            faro_log(FARO_LOG_ERROR, s->log->config->name, "signing the SCT of entry %llu: %s",
                     (unsigned long long)e->entry.leaf_index, err);
    }
    return NULL;
}

/* Starts signing every entry of batch (whose indices and timestamp are set) on up to SIGNERS_MAX threads. */
static void signers_start(writer_log_t *log, pool_t *batch, signer_t signers[SIGNERS_MAX])
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = (batch->count + SIGNER_MIN_ENTRIES - 1) / SIGNER_MIN_ENTRIES;
    if (n > (size_t)(cpus > 0 ? cpus : 1))
        n = (size_t)(cpus > 0 ? cpus : 1);
    if (n > SIGNERS_MAX)
        n = SIGNERS_MAX;
    for (size_t i = 0; i < SIGNERS_MAX; i++) {
        signers[i] = (signer_t){log, batch, batch->count * i / n, batch->count * (i + 1) / n, 0, 0};
        if (i < n)
            signers[i].started = pthread_create(&signers[i].tid, NULL, signer_main, &signers[i]) == 0;
        if (i < n && !signers[i].started)
            signer_main(&signers[i]); /* no thread to be had: sign here */
    }
}

static void signers_join(signer_t signers[SIGNERS_MAX])
{
    for (size_t i = 0; i < SIGNERS_MAX; i++)
        if (signers[i].started)
            pthread_join(signers[i].tid, NULL);
}

/* Step 6: the signed entries in the dedup index before anyone can miss the pool. */
static void round_record(writer_log_t *log, pool_t *batch)
{
    dedup_row_t *rows = calloc(batch->count ? batch->count : 1, sizeof(*rows));
    size_t nrows = 0;
    char err[TLOG_ERR_MAX];
    if (rows == NULL)
        abort();
    for (size_t i = 0; i < batch->count; i++) {
        pool_entry_t *e = batch->entries[i];
        if (e->sct == NULL)
            continue;
        dedup_row_t *row = &rows[nrows++];
        memcpy(row->key, e->key.bytes, 32);
        row->leaf_index = e->entry.leaf_index;
        row->timestamp = e->entry.timestamp;
        row->signature = e->signature;
        row->signature_len = e->signature_len;
    }
    /* A lost dedup row only costs a duplicate entry later. */
    if (nrows > 0 && dedup_put(log->dedup, rows, nrows, err) != 0)
        faro_log(FARO_LOG_WARN, log->config->name, "recording %zu entries in the dedup index: %s", nrows, err);
    free(rows);
}

/* The histogram bucket of value: the first bound at or above it, or the +Inf one after them. */
static size_t bucket_of(const uint64_t *bounds, size_t n, uint64_t value)
{
    size_t b = 0;
    while (b < n && value > bounds[b])
        b++;
    return b;
}

static void observe_round(writer_log_t *log, uint64_t ms, size_t entries)
{
    static const uint64_t bounds[] = ROUND_MS_BOUNDS, entry_bounds[] = ROUND_ENTRIES_BOUNDS;
    atomic_fetch_add(&log->metrics.round_ms_buckets[bucket_of(bounds, sizeof(bounds) / sizeof(bounds[0]), ms)], 1);
    atomic_fetch_add(
        &log->metrics.round_entries_buckets[bucket_of(entry_bounds, sizeof(entry_bounds) / sizeof(entry_bounds[0]), entries)], 1);
    atomic_fetch_add(&log->metrics.round_ms_sum, ms);
    atomic_fetch_add(&log->metrics.rounds, 1);
    atomic_fetch_add(&log->metrics.entries, entries);
}

/* One round; returns without doing anything when the pool is empty and the checkpoint is fresh. */
static void round_run(writer_log_t *log)
{
    const faro_log_config_t *config = log->config;
    uint64_t started = faro_monotonic_ms();
    char err[TLOG_ERR_MAX];
    round_t r = {.ms = {started}};
    signer_t signers[SIGNERS_MAX] = {{.started = 0}};

    pthread_mutex_lock(&log->lock);
    int idle = log->pool->count == 0;
    if (idle && started - log->published_ms < config->checkpoint_republish_interval_ms) {
        pthread_mutex_unlock(&log->lock);
        return;
    }
    r.batch = log->pool;
    if (!idle) {
        log->pool = pool_new(config->pool_size);
        log->sequencing = r.batch;
    }
    atomic_store(&log->metrics.pool_length, 0);
    pthread_mutex_unlock(&log->lock);

    uint64_t now = faro_realtime_ms();
    r.timestamp = now > log->checkpoint_ms ? now : log->checkpoint_ms + 1;
    if (!idle) {
        r.saved_edge = malloc(sizeof(*r.saved_edge));
        if (r.saved_edge == NULL)
            abort();
        memcpy(r.saved_edge, log->edge, sizeof(*log->edge));
        tlog_buf_append(&r.saved_data_tile, log->data_tile.data, log->data_tile.len);
        storage_bundle_init(&r.bundle);
        round_build(log, &r);
        signers_start(log, r.batch, signers);
    }

    tlog_hash_t root;
    tlog_range_root(&log->edge->range, &root);
    uint64_t size = log->edge->range.size;
    char *checkpoint = NULL;
    size_t checkpoint_len;
    int staged = idle ? 0 : storage_bundle_stage(log->storage, &r.bundle, size, &root, err);
    if (staged == TLOG_DURABLE_FATAL)
        faro_fatal(config->name, "staging the round of size %llu: %s", (unsigned long long)size, err);
    r.ms[1] = faro_monotonic_ms();
    if (staged != 0 || writer_log_sign_checkpoint(log, size, &root, r.timestamp, &checkpoint, &checkpoint_len, err) != 0) {
        faro_log(FARO_LOG_ERROR, config->name, "round of %zu entries failed before commit: %s", r.batch->count, err);
        signers_join(signers);
        round_rollback(log, &r);
        atomic_fetch_add(&log->metrics.rounds_failed, 1);
        pthread_mutex_lock(&log->lock);
        log->sequencing = NULL;
        pthread_mutex_unlock(&log->lock);
        answer_all(r.batch, 503, "sequencing failed; nothing was logged, please retry");
        goto done;
    }

    /* Commit: from here every failure stops the writer, and the next start finishes the round. */
    if (lockdb_replace(log->lockdb, log->log_id, log->checkpoint, log->checkpoint_len, checkpoint, checkpoint_len, err) != 0)
        faro_fatal(config->name, "storing checkpoint %llu in the lock DB: %s", (unsigned long long)size, err);
    r.ms[2] = faro_monotonic_ms();
    if ((!idle && storage_bundle_publish(log->storage, &r.bundle, err) != 0) ||
        (log->witness == NULL && storage_write_checkpoint(log->storage, checkpoint, checkpoint_len, err) != 0))
        faro_fatal(config->name, "publishing tree size %llu: %s", (unsigned long long)size, err);
    r.ms[3] = faro_monotonic_ms();
    /* With witnessing the coordinator publishes the checkpoint once cosigned; handing it over does not wait. */
    if (log->witness != NULL)
        witness_submit(log->witness, checkpoint, checkpoint_len);
    free(log->checkpoint);
    log->checkpoint = checkpoint;
    log->checkpoint_len = checkpoint_len;
    log->checkpoint_ms = r.timestamp;
    log->published_ms = faro_monotonic_ms();
    atomic_store(&log->metrics.tree_size, size);
    atomic_store(&log->metrics.checkpoint_ms, r.timestamp);
    fingerprint_merge(log->issuers_known, &r.issuers);
    int dropped = idle ? 0 : storage_bundle_drop(log->storage, size, &root, err);
    if (dropped == TLOG_DURABLE_FATAL)
        faro_fatal(config->name, "removing the staged bundle of size %llu: %s", (unsigned long long)size, err);
    if (dropped != 0)
        faro_log(FARO_LOG_WARN, config->name, "removing the staged bundle: %s", err);

    if (!idle) {
        signers_join(signers);
        /* Answered first, recorded in the dedup index after: a duplicate arriving between finds the SCT in sequencing. */
        pthread_mutex_lock(&log->lock);
        log->sequencing_answered = 1;
        pthread_mutex_unlock(&log->lock);
        answer_all(r.batch, 200, "the SCT could not be signed; please retry");
        /* The round's duration is what its submitters waited for: the dedup index is written after. */
        r.ms[4] = faro_monotonic_ms();
        observe_round(log, r.ms[4] - started, r.batch->count);
        if (r.ms[4] - started > config->sequence_interval_ms)
            faro_log(FARO_LOG_WARN, config->name,
                     "round of %zu entries took %llu ms, longer than sequence_interval: building and staging %llu ms, "
                     "checkpoint and lock DB %llu ms, publishing %llu ms, signing and answering %llu ms",
                     r.batch->count, (unsigned long long)(r.ms[4] - started), (unsigned long long)(r.ms[1] - r.ms[0]),
                     (unsigned long long)(r.ms[2] - r.ms[1]), (unsigned long long)(r.ms[3] - r.ms[2]),
                     (unsigned long long)(r.ms[4] - r.ms[3]));
        round_record(log, r.batch);
        pthread_mutex_lock(&log->lock);
        log->sequencing = NULL;
        log->sequencing_answered = 0;
        atomic_fetch_add(&log->rounds_answered, 1);
        pthread_mutex_unlock(&log->lock);
    }
done:
    if (!idle)
        pool_free(r.batch);
    storage_bundle_free(&r.bundle);
    tlog_buf_free(&r.saved_data_tile);
    fingerprint_set_clear(&r.issuers);
    free(r.saved_edge);
}

#define NONCES_PER_STEP 32 /* one batch, about half a millisecond of work */

static void *sequencer_main(void *arg)
{
    writer_log_t *log = arg;
    uint64_t interval = log->config->sequence_interval_ms;
    uint64_t next = faro_monotonic_ms() + interval;
    for (;;) {
        /* Until the tick, nonces for the next round's SCTs (a few at a time, to notice a stop), then a wait. */
        int more = 1;
        while (more && faro_monotonic_ms() < next) {
            more = tlog_nonces_fill(log->nonces, NONCES_PER_STEP) > 0;
            pthread_mutex_lock(&log->lock);
            more = more && !log->stopping;
            pthread_mutex_unlock(&log->lock);
        }
        pthread_mutex_lock(&log->lock);
        while (!log->stopping && faro_monotonic_ms() < next) {
            struct timespec deadline;
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            uint64_t wait = next - faro_monotonic_ms();
            deadline.tv_sec += (time_t)(wait / 1000);
            deadline.tv_nsec += (long)(wait % 1000) * 1000000;
            if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&log->wake, &log->lock, &deadline);
        }
        int stopping = log->stopping;
        pthread_mutex_unlock(&log->lock);
        round_run(log);
        if (stopping)
            return NULL;
        /* A round longer than the interval skips ticks instead of running back to back. */
        uint64_t now = faro_monotonic_ms();
        next += interval;
        if (next <= now)
            next = now + interval;
    }
}

int sequencer_start(writer_log_t *log, char *err)
{
    pthread_condattr_t attr;
    log->issuers_known = calloc(1, sizeof(fingerprint_set_t));
    log->published_ms = faro_monotonic_ms();
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&log->wake);
    pthread_cond_init(&log->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (log->witness != NULL && witness_start(log->witness, err) != 0)
        return -1;
    if (pthread_create(&log->thread, NULL, sequencer_main, log) != 0)
        return tlog_errorf(err, "log %s: cannot start the sequencer thread", log->config->name);
    log->started = 1;
    return 0;
}

void sequencer_stop(writer_log_t *log)
{
    if (!log->started)
        return;
    pthread_mutex_lock(&log->lock);
    log->stopping = 1;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->thread, NULL);
    witness_stop(log->witness);
    log->started = 0;
    fingerprint_set_free(log->issuers_known);
    log->issuers_known = NULL;
}
