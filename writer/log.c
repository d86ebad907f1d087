/*
 * Opening a log: keys, roots, filters, storage, and the start-up checks that
 * keep a log from ever rolling back.
 *
 * The lock DB holds the authoritative checkpoint L, storage holds the
 * published one S. On start:
 *   no L, no S          new log: created only with --create-missing
 *   L.size == S.size    same root required (S is rewritten from L if older)
 *   L.size >  S.size    a crash between commit and publication: replay the
 *                       staged bundle of L, then publish L; with witnessing,
 *                       where S may lag L (fail-closed) and only the witness
 *                       coordinator publishes, S must instead be a prefix of
 *                       L's tree, proved from the tiles, and L goes to the
 *                       coordinator (no S at all is the empty prefix)
 *   anything else       refused, saying what disagrees
 * Then the right edge (hash tiles at every level, the partial data tile) is
 * read from storage and checked against L's root before any round runs.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "config/log.h"
#include "config/clock.h"
#include "config/progress.h"
#include "tlog/checkpoint.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/keys.h"
#include "writer/log_internal.h"

#define NONCES_MAX 50000

/* Errors name the setting: "key: /etc/faro/log.pem: private key file has mode 0644, ...". */
static int load_keys(writer_log_t *log, char *err)
{
    const faro_log_config_t *config = log->config;
    EVP_PKEY *ed25519 = NULL;
    uint8_t seed[32];
    char why[TLOG_ERR_MAX];
    int ret = -1;

    if (tlog_key_load_private(config->key, EVP_PKEY_EC, &log->key, why) != 0)
        return tlog_errorf(err, "key: %s", why);
    if (tlog_key_log_id(log->key, log->log_id, err) != 0)
        return -1;
    /* A round's worth of nonces, within reason: beyond it SCTs are signed the ordinary way. */
    if ((log->nonces = tlog_nonces_new(log->key, config->pool_size < NONCES_MAX ? config->pool_size : NONCES_MAX, err)) == NULL)
        return -1;
    if (tlog_key_load_private(config->ed25519_key, EVP_PKEY_ED25519, &ed25519, why) != 0)
        return tlog_errorf(err, "ed25519_key: %s", why);
    if (tlog_key_ed25519_seed(ed25519, seed, why) != 0) {
        tlog_errorf(err, "ed25519_key: %s", why);
        goto done;
    }
    if (tlog_signer_rfc6962(config->origin, log->key, &log->signers[0], err) != 0 ||
        tlog_signer_ed25519(config->origin, seed, TLOG_SIG_ED25519, &log->signers[1], err) != 0)
        goto done;
    for (int i = 0; i < 2; i++)
        if (tlog_signer_verifier(log->signers[i], &log->verifiers[i], err) != 0)
            goto done;
    ret = 0;
done:
    OPENSSL_cleanse(seed, sizeof(seed));
    EVP_PKEY_free(ed25519);
    return ret;
}

int writer_log_sign_checkpoint(writer_log_t *log, uint64_t size, const tlog_hash_t *root, uint64_t timestamp_ms, char **out,
                               size_t *out_len, char *err)
{
    tlog_checkpoint_t checkpoint = {.size = size, .root = *root};
    char text[TLOG_ORIGIN_MAX + 128];
    snprintf(checkpoint.origin, sizeof(checkpoint.origin), "%s", log->config->origin);
    size_t len = tlog_checkpoint_format(&checkpoint, text, sizeof(text));
    if (len == 0)
        return tlog_errorf(err, "checkpoint text does not fit");
    return tlog_note_sign(text, len, log->signers, 2, timestamp_ms, out, out_len, err);
}

/* Verifies a stored checkpoint with the log's own keys and parses it. */
static int checkpoint_open(writer_log_t *log, const char *where, const char *body, size_t len, tlog_checkpoint_t *out,
                           uint64_t *timestamp_ms, char *err)
{
    tlog_note_t *note = NULL;
    tlog_note_result_t results[2];
    char why[TLOG_ERR_MAX];
    int ret = -1;

    if (tlog_note_parse(body, len, &note, why) != 0 || tlog_note_verify(note, log->verifiers, 1, results, why) != 0 ||
        tlog_checkpoint_parse(note->text, note->text_len, out, why) != 0) {
        tlog_errorf(err, "the checkpoint in %s does not verify with this log's key: %s", where, why);
        goto done;
    }
    if (strcmp(out->origin, log->config->origin) != 0) {
        tlog_errorf(err, "the checkpoint in %s is for origin %s, not %s", where, out->origin, log->config->origin);
        goto done;
    }
    *timestamp_ms = results[0].timestamp;
    ret = 0;
done:
    tlog_note_free(note);
    return ret;
}

static int create_log(writer_log_t *log, char *err)
{
    tlog_hash_t empty;
    tlog_empty_root(&empty);
    uint64_t now = faro_realtime_ms();
    if (writer_log_sign_checkpoint(log, 0, &empty, now, &log->checkpoint, &log->checkpoint_len, err) != 0)
        return -1;
    if (lockdb_create(log->lockdb, log->log_id, log->checkpoint, log->checkpoint_len, err) != 0)
        return -1;
    if (log->witness == NULL && storage_write_checkpoint(log->storage, log->checkpoint, log->checkpoint_len, err) != 0)
        return -1;
    faro_log(FARO_LOG_INFO, log->config->name, "created the log (empty tree) in %s", storage_root(log->storage));
    return 0;
}

/* Whether published is a prefix of lock's tree: a consistency proof read from the tiles verifies between their roots. */
static int check_prefix(writer_log_t *log, const tlog_checkpoint_t *published, const tlog_checkpoint_t *lock, char *err)
{
    tlog_tile_reader_t *reader = malloc(sizeof(*reader));
    tlog_hash_t proof[TLOG_MAX_PROOF];
    size_t len;
    char why[TLOG_ERR_MAX];
    if (reader == NULL)
        abort();
    tlog_tile_reader_init(reader, lock->size, storage_read_tile, log->storage);
    tlog_node_reader_t nodes = tlog_tile_reader_nodes(reader);
    int ret = tlog_consistency_proof(&nodes, published->size, lock->size, proof, &len, why);
    if (ret == 0)
        ret = tlog_consistency_verify(published->size, lock->size, &published->root, &lock->root, proof, len, why);
    free(reader);
    if (ret != 0)
        return tlog_errorf(err, "the published checkpoint (size %llu) is not a prefix of the lock DB's tree (size %llu): %s",
                           (unsigned long long)published->size, (unsigned long long)lock->size, why);
    return 0;
}

/* Brings storage up to the lock DB's checkpoint, or refuses; counts the temporary files it swept into *swept. */
static int reconcile(writer_log_t *log, int create_missing, tlog_checkpoint_t *lock, size_t *swept, char *err)
{
    const char *name = log->config->name;
    char *stored = NULL;
    size_t stored_len;
    int have_lock = lockdb_get(log->lockdb, log->log_id, &log->checkpoint, &log->checkpoint_len, err);
    int have_storage = storage_read_checkpoint(log->storage, &stored, &stored_len, err);
    int ret = -1;

    if (have_lock < 0 || have_storage < 0)
        goto done;
    if (!have_lock && !have_storage) {
        if (!create_missing) {
            tlog_errorf(err, "log %s has no state (no lock DB row, no checkpoint in %s): start with --create-missing to create it",
                        name, storage_root(log->storage));
            goto done;
        }
        if (create_log(log, err) != 0)
            goto done;
        ret = checkpoint_open(log, "the lock DB", log->checkpoint, log->checkpoint_len, lock, &log->checkpoint_ms, err);
        goto done;
    }
    if (!have_lock) {
        tlog_errorf(err, "%s has a checkpoint but the lock DB has no row for log %s: is lock_db the right file?",
                    storage_root(log->storage), name);
        goto done;
    }
    if (checkpoint_open(log, "the lock DB", log->checkpoint, log->checkpoint_len, lock, &log->checkpoint_ms, err) != 0)
        goto done;
    tlog_checkpoint_t published = {.size = 0};
    uint64_t published_ms = 0;
    if (have_storage && checkpoint_open(log, "storage", stored, stored_len, &published, &published_ms, err) != 0)
        goto done;
    if (!have_storage && lock->size > 0 && log->witness == NULL) {
        tlog_errorf(err, "the lock DB has log %s at size %llu but %s has no checkpoint", name, (unsigned long long)lock->size,
                    storage_root(log->storage));
        goto done;
    }
    if (published.size > lock->size) {
        tlog_errorf(err, "storage is at size %llu, ahead of the lock DB's %llu: refusing to guess which is right",
                    (unsigned long long)published.size, (unsigned long long)lock->size);
        goto done;
    }
    if (published.size == lock->size && have_storage && !tlog_hash_equal(&published.root, &lock->root)) {
        tlog_errorf(err, "storage and the lock DB disagree on the root hash at size %llu", (unsigned long long)lock->size);
        goto done;
    }
    if (published.size < lock->size) {
        storage_bundle_t bundle;
        int found = storage_bundle_load(log->storage, lock->size, &lock->root, &bundle, err);
        if (found < 0)
            goto done;
        if (found == 1 && log->witness == NULL) {
            tlog_errorf(err,
                        "the lock DB is at size %llu, storage at %llu, and no staged bundle can close the gap "
                        "(if a fail-closed witness_policy left it behind, start with that policy)",
                        (unsigned long long)lock->size, (unsigned long long)published.size);
            goto done;
        }
        if (found == 1) {
            if (check_prefix(log, &published, lock, err) != 0)
                goto done;
            faro_log(FARO_LOG_INFO, name, "the published checkpoint (size %llu) lags the lock DB's (%llu); witnessing goes on",
                     (unsigned long long)published.size, (unsigned long long)lock->size);
        } else {
            faro_log(FARO_LOG_WARN, name, "replaying the staged bundle of size %llu (%zu files) after a crash before publication",
                     (unsigned long long)lock->size, bundle.files);
            /* Publishing is one call, so a long replay reports only its end (at most a round's files: pool_size entries). */
            faro_progress_t replay = {.subject = name, .what = "bundle replay", .unit = "files", .total = bundle.files};
            faro_progress_start(&replay, 0, faro_monotonic_ms());
            int published_ok = storage_bundle_sweep(log->storage, &bundle, swept, err);
            if (published_ok == 0)
                published_ok = storage_bundle_publish(log->storage, &bundle, err);
            if (published_ok == 0)
                faro_progress_finish(&replay, bundle.files, faro_monotonic_ms());
            storage_bundle_free(&bundle);
            if (published_ok != 0)
                goto done;
        }
    }
    if (log->witness == NULL &&
        (!have_storage || stored_len != log->checkpoint_len || memcmp(stored, log->checkpoint, stored_len) != 0))
        if (storage_write_checkpoint(log->storage, log->checkpoint, log->checkpoint_len, err) != 0)
            goto done;
    int dropped = storage_bundle_drop(log->storage, lock->size, &lock->root, err);
    if (dropped == TLOG_DURABLE_FATAL)
        goto done;
    if (dropped != 0)
        faro_log(FARO_LOG_WARN, name, "could not remove old staging bundles: %s", err);
    ret = 0;
done:
    free(stored);
    return ret;
}

/* The rightmost data tile must hash, entry by entry, to the level-0 edge tile. */
static int load_data_tile(writer_log_t *log, uint64_t size, char *err)
{
    unsigned width = (unsigned)(size % TLOG_TILE_WIDTH);
    if (width == 0)
        return 0;
    tlog_tile_t tile = {TLOG_TILE_DATA, size / TLOG_TILE_WIDTH, width};
    uint8_t *data;
    size_t len, offset = 0;
    if (storage_read_data_tile(log->storage, &tile, &data, &len, err) != 0)
        return -1;
    int ret = 0;
    for (unsigned i = 0; i < width && ret == 0; i++) {
        tlog_ct_entry_t entry;
        size_t consumed;
        tlog_hash_t leaf;
        if (tlog_ct_tile_leaf_parse(data + offset, len - offset, &entry, &consumed, err) != 0) {
            ret = -1;
            break;
        }
        tlog_ct_leaf_hash(&entry, &leaf);
        if (entry.leaf_index != tile.index * TLOG_TILE_WIDTH + i || !tlog_hash_equal(&leaf, tlog_edge_leaf(log->edge, i)))
            ret = tlog_errorf(err, "entry %u of the rightmost data tile does not match the tree", i);
        offset += consumed;
    }
    if (ret == 0 && offset != len)
        ret = tlog_errorf(err, "the rightmost data tile has %zu bytes after its %u entries", len - offset, width);
    if (ret == 0)
        tlog_buf_append(&log->data_tile, data, len);
    free(data);
    return ret;
}

/* log.v3.json in storage: what monitors and the gateway (which never reads a private key) learn the log from. */
static int write_log_json(writer_log_t *log, char *err)
{
    const faro_log_config_t *c = log->config;
    uint8_t *spki = NULL;
    size_t spki_len;
    if (tlog_key_spki(log->key, &spki, &spki_len, err) != 0)
        return -1;
    char key_b64[TLOG_BASE64_LEN(512) + 1], id_b64[TLOG_BASE64_LEN(32) + 1], vkey[512];
    tlog_base64_encode(spki, spki_len, key_b64);
    tlog_base64_encode(log->log_id, 32, id_b64);
    free(spki);
    tlog_verifier_vkey(log->verifiers[1], vkey, sizeof(vkey));

    json_t *root =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:{s:s}, s:{s:s}, s:s, s:{s:s, s:s}}", "description", c->origin,
                  "log_id", id_b64, "key", key_b64, "verifier_key", vkey, "mmd", 60, "mmd_seconds", 60, "log_spec", "static-ct-api",
                  "status", "active", "submission_endpoint", "url", c->submission_prefix, "monitoring_endpoint", "url",
                  c->monitoring_prefix, "submission_url", c->submission_prefix, "log_software", "name", "faro", "version", "0.1.0");
    if (root == NULL)
        return tlog_errorf(err, "building log.v3.json failed");
    json_object_set_new(root, "monitoring_url", json_string(c->monitoring_prefix));
    if (c->has_not_after_start || c->has_not_after_limit) {
        char start[32] = "", limit[32] = "";
        struct tm tm;
        if (c->has_not_after_start)
            strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&c->not_after_start, &tm));
        if (c->has_not_after_limit)
            strftime(limit, sizeof(limit), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&c->not_after_limit, &tm));
        json_object_set_new(root, "temporal_interval", json_pack("{s:s, s:s}", "start_inclusive", start, "end_exclusive", limit));
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    int ret = storage_write_file(log->storage, "log.v3.json", text, strlen(text), TLOG_DURABLE_MUTABLE, err);
    free(text);
    return ret;
}

static void chain_policy_from_config(const faro_log_config_t *c, chain_policy_t *p)
{
    p->has_not_after_start = c->has_not_after_start;
    p->has_not_after_limit = c->has_not_after_limit;
    p->not_after_start = c->not_after_start;
    p->not_after_limit = c->not_after_limit;
    p->reject_expired = c->reject_expired;
    p->reject_unexpired = c->reject_unexpired;
    p->ext_key_usages = c->ext_key_usages;
    p->ext_key_usages_count = c->ext_key_usages_count;
    p->reject_extensions = c->reject_extensions;
    p->reject_extensions_count = c->reject_extensions_count;
    p->accept_sha1_signing_algorithms = c->accept_sha1_signing_algorithms;
}

static char *state_dir_for(const char *lock_db, const char *name)
{
    char *copy = strdup(lock_db), *dir;
    if (asprintf(&dir, "%s/%s", dirname(copy), name) < 0)
        abort();
    free(copy);
    return dir;
}

int writer_log_open(const faro_log_config_t *config, const char *lock_db, int create_missing, writer_log_t **out, char *err)
{
    writer_log_t *log = calloc(1, sizeof(*log));
    char why[TLOG_ERR_MAX];
    tlog_checkpoint_t lock;
    size_t swept = 0;

    if (log == NULL)
        abort();
    log->config = config;
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->wake, NULL);
    log->edge = malloc(sizeof(*log->edge));
    tlog_edge_init(log->edge);
    log->state_dir = state_dir_for(lock_db, config->name);
    if (asprintf(&log->dedup_path, "%s/dedup.db", log->state_dir) < 0)
        abort();
    chain_policy_from_config(config, &log->policy);

    if (load_keys(log, why) != 0 || roots_open(config->roots, config->storage, &log->roots, why) != 0 ||
        chain_policy_check(&log->policy, why) != 0)
        goto fail;
    if (tlog_durable_mkdirs(log->state_dir, why) != 0 ||
        storage_open(config->storage, log->state_dir, create_missing, &log->storage, why) != 0)
        goto fail;
    if (lockdb_open(lock_db, create_missing, &log->lockdb, why) != 0 || dedup_open(log->dedup_path, &log->dedup, why) != 0 ||
        writer_witness_open(log, lock_db, why) != 0)
        goto fail;
    if (storage_sweep(log->storage, &swept, why) != 0 || reconcile(log, create_missing, &lock, &swept, why) != 0)
        goto fail;
    if (tlog_edge_load(log->edge, lock.size, &lock.root, storage_read_tile, log->storage, why) != 0 ||
        load_data_tile(log, lock.size, why) != 0)
        goto fail;
    if (write_log_json(log, why) != 0)
        goto fail;
    if (log->witness != NULL)
        witness_submit(log->witness, log->checkpoint, log->checkpoint_len);
    log->pool = pool_new(config->pool_size);
    atomic_store(&log->metrics.tree_size, lock.size);
    atomic_store(&log->metrics.checkpoint_ms, log->checkpoint_ms);
    faro_log(FARO_LOG_INFO, config->name, "opened at tree size %llu, %zu roots, %zu leftover temporary files removed",
             (unsigned long long)lock.size, roots_count(log->roots), swept);
    *out = log;
    return 0;
fail:
    tlog_errorf(err, "log %s: %s", config->name, why);
    writer_log_free(log);
    return -1;
}

void writer_log_free(writer_log_t *log)
{
    if (log == NULL)
        return;
    writer_log_stop(log);
    writer_witness_close(log);
    pool_free(log->pool);
    for (int i = 0; i < 2; i++) {
        tlog_signer_free(log->signers[i]);
        tlog_verifier_free(log->verifiers[i]);
    }
    tlog_nonces_free(log->nonces);
    EVP_PKEY_free(log->key);
    roots_fetch_free(log->roots_fetch);
    roots_free(log->roots);
    storage_free(log->storage);
    lockdb_close(log->lockdb);
    dedup_close(log->dedup);
    free(log->edge);
    tlog_buf_free(&log->data_tile);
    free(log->checkpoint);
    free(log->state_dir);
    free(log->dedup_path);
    pthread_cond_destroy(&log->wake);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

const faro_log_config_t *writer_log_config(const writer_log_t *log)
{
    return log->config;
}

int writer_log_validate(writer_log_t *log, int precert, const chain_request_t *request, time_t now, chain_result_t *out, char *err)
{
    return roots_validate(log->roots, &log->policy, precert, request, now, out, err);
}

char *writer_log_roots_json(writer_log_t *log, size_t *len)
{
    return roots_json(log->roots, len);
}

int writer_log_reload_roots(writer_log_t *log, char *err)
{
    if (roots_reload(log->roots, err) != 0)
        return -1;
    faro_log(FARO_LOG_INFO, log->config->name, "reloaded roots: %zu", roots_count(log->roots));
    return 0;
}

int writer_log_start(writer_log_t *log, char *err)
{
    const faro_log_config_t *c = log->config;
    if (sequencer_start(log, err) != 0)
        return -1;
    if (c->roots_remote_fetch_url == NULL)
        return 0;
    return roots_fetch_start(log->roots, c->name, c->roots_remote_fetch_url, c->roots_remote_fetch_interval_ms, &log->roots_fetch,
                             err);
}

void writer_log_stop(writer_log_t *log)
{
    roots_fetch_stop(log->roots_fetch);
    sequencer_stop(log);
}

int writer_log_open_reader(writer_log_t *log, dedup_t **out, char *err)
{
    return dedup_open(log->dedup_path, out, err);
}
