/*
 * A log's witness coordinator (witness/witness.h), when its configuration
 * names a witness_policy, and the host the coordinator works through.
 *
 * The coordinator runs on its own thread, so it gets its own storage handle
 * (hash tiles for consistency proofs; the checkpoint file, which with
 * witnessing only the coordinator writes) and its own lock DB connection
 * (the witnesses table: the size each witness last cosigned, keyed by URL).
 */
#include <stdlib.h>

#include "tlog/error.h"
#include "writer/log_internal.h"

struct writer_witness_host {
    storage_t *storage;
    lockdb_t *lockdb;
    const uint8_t *log_id;
};

static int host_read_tile(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err)
{
    writer_witness_host_t *host = ctx;
    return storage_read_tile(host->storage, tile, out, err);
}

static int host_publish(void *ctx, const char *checkpoint, size_t len, char *err)
{
    writer_witness_host_t *host = ctx;
    return storage_write_checkpoint(host->storage, checkpoint, len, err);
}

static int host_load_size(void *ctx, const char *url, uint64_t *size, char *err)
{
    writer_witness_host_t *host = ctx;
    return lockdb_witness_get(host->lockdb, host->log_id, url, size, err);
}

static int host_store_size(void *ctx, const char *url, uint64_t size, char *err)
{
    writer_witness_host_t *host = ctx;
    return lockdb_witness_set(host->lockdb, host->log_id, url, size, err);
}

int writer_witness_open(writer_log_t *log, const char *lock_db, char *err)
{
    const faro_log_config_t *config = log->config;
    writer_witness_host_t *host;

    if (config->witness_policy == NULL)
        return 0;
    if ((host = calloc(1, sizeof(*host))) == NULL)
        return tlog_errorf(err, "out of memory");
    log->witness_host = host;
    host->log_id = log->log_id;
    if (storage_open(config->storage, log->state_dir, 0, &host->storage, err) != 0 ||
        lockdb_open(lock_db, 0, &host->lockdb, err) != 0)
        return -1;
    witness_host_t calls = {
        .ctx = host,
        .read_tile = host_read_tile,
        .publish = host_publish,
        .load_size = host_load_size,
        .store_size = host_store_size,
    };
    if (witness_open(config, log->verifiers[1], &calls, &log->witness, err) != 0)
        return -1;
    if (log->witness == NULL)
        writer_witness_close(log); /* quorum none: nothing to gather */
    return 0;
}

void writer_witness_close(writer_log_t *log)
{
    witness_free(log->witness);
    log->witness = NULL;
    if (log->witness_host != NULL) {
        storage_free(log->witness_host->storage);
        lockdb_close(log->witness_host->lockdb);
        free(log->witness_host);
        log->witness_host = NULL;
    }
}
