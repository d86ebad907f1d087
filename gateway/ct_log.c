/*
 * Per-log RFC 6962 state and its follower thread (see ct_log.h).
 *
 * A visit to a log: read the checkpoint file and, only if its bytes
 * changed, verify it (gateway_status_read) and publish the tree head; stat
 * the roots file and, only if it changed, rebuild the get-roots body; then
 * index up to CT_INDEX_BATCH new leaves, read through a tile reader over
 * the hash tiles (each tile read once per batch), and commit them with the
 * root of the new prefix (tlog_tree_hash over the same tiles: O(log n) node
 * reads). An idle visit costs one small file read and one stat.
 *
 * A backlog of more than a batch is announced, reported every few seconds
 * and its end logged (config/progress.h).
 *
 * Errors (a checkpoint that does not verify, a missing tile, SQLite) are
 * logged once per distinct message and retried on the next visit; nothing
 * is published from a failed step.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config/log.h"
#include "config/clock.h"
#include "config/progress.h"
#include "gateway/ct_log.h"
#include "gateway/files.h"
#include "gateway/internal.h"
#include "gateway/status.h"
#include "gateway/tree_read.h"
#include "tlog/ctroots.h"
#include "tlog/durable.h"
#include "tlog/error.h"

/* Leaves per index transaction: 64 full tiles, 512 KiB of hashes. */
#define CT_INDEX_BATCH (64 * TLOG_TILE_WIDTH)

typedef struct ct_log {
    const faro_log_config_t *config;
    int storage_fd;
    gateway_status_memo_t *memo; /* shared with /health, /metrics and the pages */
    pthread_mutex_t lock;        /* guards sth, have_sth, roots_json, roots_len, roots_count */
    ct_sth_t sth;
    int have_sth;
    char *roots_json;
    size_t roots_len, roots_count;
    leaf_index_t *index;
    _Atomic uint64_t indexed; /* leaves of the index checked against storage */

    /* The follower's own. */
    char *checkpoint; /* the bytes of the checkpoint last verified */
    size_t checkpoint_len;
    struct stat roots_st[2]; /* of the roots file and the backups folder last loaded */
    int prefix_checked;
    tlog_tile_reader_t reader;
    char last_error[TLOG_ERR_MAX];
    int catching_up;
    faro_progress_t backlog; /* while catching_up */
} ct_log_t;

struct ct_logs {
    ct_log_t *logs;
    size_t count;
    tlog_hash_t *batch; /* CT_INDEX_BATCH hashes */
    pthread_t thread;
    int started;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    int stopping;
};

/* Logs err unless it is the message logged last for this log. */
static void report(ct_log_t *log, const char *err)
{
    if (strcmp(log->last_error, err) == 0)
        return;
    faro_log(FARO_LOG_ERROR, log->config->name, "RFC 6962 API: %s", err);
    snprintf(log->last_error, sizeof(log->last_error), "%s", err);
}

static int refresh_sth(ct_log_t *log, char *err)
{
    char *text;
    size_t len;
    if (gateway_files_slurp(log->storage_fd, "checkpoint", TLOG_NOTE_MAX_SIZE, &text, &len, err) != 0)
        return -1;
    int same = log->checkpoint != NULL && len == log->checkpoint_len && memcmp(text, log->checkpoint, len) == 0;
    free(text);
    if (same)
        return 0;
    gateway_status_t status;
    if (gateway_status_read(log->config, log->storage_fd, log->memo, &status, err) != 0) {
        gateway_status_free(&status);
        return -1;
    }
    ct_sth_t sth = {.size = status.size, .timestamp_ms = status.timestamp_ms, .root = status.root};
    memcpy(sth.signature, status.signature, status.signature_len);
    sth.signature_len = status.signature_len;
    pthread_mutex_lock(&log->lock);
    if (log->have_sth && sth.size < log->sth.size)
        faro_log(FARO_LOG_WARN, log->config->name, "RFC 6962 API: the checkpoint went back from tree size %llu to %llu",
                 (unsigned long long)log->sth.size, (unsigned long long)sth.size);
    log->sth = sth;
    log->have_sth = 1;
    pthread_mutex_unlock(&log->lock);
    free(log->checkpoint);
    log->checkpoint = status.checkpoint; /* keep the bytes that verified */
    log->checkpoint_len = status.checkpoint_len;
    status.checkpoint = NULL;
    gateway_status_free(&status);
    return 0;
}

/* The stat of path, or zeros if it does not exist (the backups folder before the first remote root). */
static int stat_or_absent(const char *path, struct stat *st, char *err)
{
    if (stat(path, st) == 0)
        return 0;
    memset(st, 0, sizeof(*st));
    return errno == ENOENT ? 0 : tlog_errorf(err, "%s: %s", path, strerror(errno));
}

/* get-roots lists what the writer trusts (tlog_ctroots_load): the roots file and the remote roots it backed up. */
static int refresh_roots(ct_log_t *log, char *err)
{
    struct stat st[2];
    tlog_ctroots_t *roots;
    char why[TLOG_ERR_MAX], backups[PATH_MAX];
    snprintf(backups, sizeof(backups), "%s/%s", log->config->storage, TLOG_CTROOTS_DIR);
    if (stat(log->config->roots, &st[0]) != 0)
        return tlog_errorf(err, "roots %s: %s", log->config->roots, strerror(errno));
    if (stat_or_absent(backups, &st[1], err) != 0)
        return -1;
    if (log->roots_json != NULL && gateway_files_unchanged(&st[0], &log->roots_st[0]) &&
        gateway_files_unchanged(&st[1], &log->roots_st[1]))
        return 0;
    if (tlog_ctroots_load(log->config->roots, log->config->storage, &roots, why) != 0)
        return tlog_errorf(err, "roots: %s", why);
    size_t len;
    char *json = tlog_ctroots_json(roots, &len), *old;
    size_t count = tlog_ctroots_count(roots);
    tlog_ctroots_free(roots);
    pthread_mutex_lock(&log->lock);
    old = log->roots_json;
    log->roots_json = json;
    log->roots_len = len;
    log->roots_count = count;
    pthread_mutex_unlock(&log->lock);
    free(old);
    memcpy(log->roots_st, st, sizeof(st));
    return 0;
}

/* Reports a backlog of more than a batch from its start to its end (every few seconds); this batch began at started_ms. */
static void report_progress(ct_log_t *log, uint64_t started_ms, uint64_t before, uint64_t indexed, uint64_t size)
{
    uint64_t now = faro_monotonic_ms();
    if (!log->catching_up && size - before > CT_INDEX_BATCH) {
        log->catching_up = 1;
        log->backlog =
            (faro_progress_t){.subject = log->config->name, .what = "leaf index", .unit = "leaves", .total = size, .announce = 1};
        faro_progress_start(&log->backlog, before, started_ms);
    }
    if (!log->catching_up)
        return;
    log->backlog.total = size; /* the tree grows meanwhile */
    if (indexed == size) {
        log->catching_up = 0;
        faro_progress_finish(&log->backlog, indexed, now);
    } else {
        faro_progress_update(&log->backlog, indexed, now);
    }
}

/* Rebuilds the index if its prefix is not the tree's (another log's storage, or a tree that went back). */
static int check_prefix(ct_log_t *log, const tlog_node_reader_t *nodes, uint64_t tree_size, char *err)
{
    uint64_t size;
    tlog_hash_t root, actual;
    leaf_index_progress(log->index, &size, &root);
    if (size <= tree_size && tlog_tree_hash(nodes, size, &actual, err) != 0)
        return -1;
    if (size > tree_size || !tlog_hash_equal(&root, &actual)) {
        faro_log(FARO_LOG_WARN, log->config->name,
                 "leaf index: its %llu leaves are not the first of this tree (size %llu); rebuilding it", (unsigned long long)size,
                 (unsigned long long)tree_size);
        if (leaf_index_reset(log->index, err) != 0)
            return -1;
        size = 0;
    }
    log->prefix_checked = 1;
    atomic_store(&log->indexed, size);
    return 0;
}

/* Indexes one batch; 1 if more is waiting, 0 if caught up, -1 with err. */
static int index_step(ct_log_t *log, tlog_hash_t *batch, char *err)
{
    ct_sth_t sth;
    uint64_t size;
    tlog_hash_t root;
    pthread_mutex_lock(&log->lock);
    sth = log->sth;
    int have = log->have_sth;
    pthread_mutex_unlock(&log->lock);
    if (!have)
        return 0;
    tlog_tile_reader_init(&log->reader, sth.size, tree_read_hash_tile, &log->storage_fd);
    tlog_node_reader_t nodes = tlog_tile_reader_nodes(&log->reader);
    leaf_index_progress(log->index, &size, &root);
    if (!log->prefix_checked || size > sth.size) {
        if (check_prefix(log, &nodes, sth.size, err) != 0)
            return -1;
        leaf_index_progress(log->index, &size, &root);
    }
    if (size == sth.size)
        return 0;
    uint64_t started_ms = faro_monotonic_ms();
    size_t n = sth.size - size < CT_INDEX_BATCH ? (size_t)(sth.size - size) : CT_INDEX_BATCH;
    for (size_t i = 0; i < n; i++)
        if (nodes.read(nodes.ctx, 0, size + i, &batch[i], err) != 0)
            return -1;
    if (tlog_tree_hash(&nodes, size + n, &root, err) != 0)
        return -1;
    int rc = leaf_index_append(log->index, size, batch, n, &root, err);
    if (rc < 0)
        return -1;
    if (rc == 1) { /* another gateway moved the shared file on: check what it wrote */
        log->prefix_checked = 0;
        return 1;
    }
    atomic_store(&log->indexed, size + n);
    report_progress(log, started_ms, size, size + n, sth.size);
    return size + n < sth.size;
}

/* One visit; 1 if the log has more indexing waiting. */
static int visit(ct_log_t *log, tlog_hash_t *batch)
{
    char err[TLOG_ERR_MAX];
    int busy = 0;
    if (refresh_sth(log, err) != 0 || refresh_roots(log, err) != 0 || (busy = index_step(log, batch, err)) < 0) {
        report(log, err);
        return 0;
    }
    log->last_error[0] = '\0';
    return busy;
}

static void *follow(void *arg)
{
    ct_logs_t *logs = arg;
    pthread_mutex_lock(&logs->stop_lock);
    while (!logs->stopping) {
        pthread_mutex_unlock(&logs->stop_lock);
        int busy = 0;
        for (size_t i = 0; i < logs->count; i++)
            busy |= visit(&logs->logs[i], logs->batch);
        pthread_mutex_lock(&logs->stop_lock);
        if (!busy && !logs->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += CT_FOLLOW_INTERVAL_MS * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&logs->stop_cond, &logs->stop_lock, &until);
        }
    }
    pthread_mutex_unlock(&logs->stop_lock);
    return NULL;
}

static int open_log(gateway_t *gw, size_t i, ct_log_t *log, char *err)
{
    char why[TLOG_ERR_MAX];
    log->config = gw->logs[i].config;
    log->storage_fd = gw->logs[i].storage_fd;
    log->memo = gw->logs[i].status_memo;
    if (refresh_roots(log, why) != 0)
        return tlog_errorf(err, "logs[%zu].%s", i, why);
    char *path = NULL;
    if (asprintf(&path, "%s/%s.db", gw->config->gateway.index_dir, log->config->name) < 0)
        abort();
    int rc = leaf_index_open(path, gw->config->gateway.threads, &log->index, why);
    free(path);
    if (rc != 0)
        return tlog_errorf(err, "gateway.index_dir: %s", why);
    if (refresh_sth(log, why) != 0)
        faro_log(FARO_LOG_WARN, log->config->name, "RFC 6962 API: no tree head yet: %s", why);
    return 0;
}

int ct_logs_start(gateway_t *gw, ct_logs_t **out, char *err)
{
    char why[TLOG_ERR_MAX];
    ct_logs_t *logs = calloc(1, sizeof(*logs));
    if (logs == NULL || (logs->logs = calloc(gw->nlogs, sizeof(*logs->logs))) == NULL ||
        (logs->batch = malloc(CT_INDEX_BATCH * sizeof(*logs->batch))) == NULL)
        abort();
    pthread_mutex_init(&logs->stop_lock, NULL);
    pthread_cond_init(&logs->stop_cond, NULL);
    for (size_t i = 0; i < gw->nlogs; i++)
        pthread_mutex_init(&logs->logs[i].lock, NULL);
    logs->count = gw->nlogs;
    if (tlog_durable_mkdirs(gw->config->gateway.index_dir, why) != 0) {
        tlog_errorf(err, "gateway.index_dir: %s", why);
        goto fail;
    }
    for (size_t i = 0; i < gw->nlogs; i++)
        if (open_log(gw, i, &logs->logs[i], err) != 0)
            goto fail;
    int rc = pthread_create(&logs->thread, NULL, follow, logs);
    if (rc != 0) {
        tlog_errorf(err, "starting the RFC 6962 follower thread: %s", strerror(rc));
        goto fail;
    }
    logs->started = 1;
    *out = logs;
    return 0;
fail:
    ct_logs_stop(logs);
    return -1;
}

void ct_logs_stop(ct_logs_t *logs)
{
    if (logs == NULL)
        return;
    if (logs->started) {
        pthread_mutex_lock(&logs->stop_lock);
        logs->stopping = 1;
        pthread_cond_signal(&logs->stop_cond);
        pthread_mutex_unlock(&logs->stop_lock);
        pthread_join(logs->thread, NULL);
    }
    for (size_t i = 0; i < logs->count; i++) {
        ct_log_t *log = &logs->logs[i];
        leaf_index_free(log->index);
        free(log->roots_json);
        free(log->checkpoint);
        pthread_mutex_destroy(&log->lock);
    }
    pthread_cond_destroy(&logs->stop_cond);
    pthread_mutex_destroy(&logs->stop_lock);
    free(logs->batch);
    free(logs->logs);
    free(logs);
}

int ct_logs_sth(ct_logs_t *logs, size_t log, ct_sth_t *out)
{
    ct_log_t *l = &logs->logs[log];
    pthread_mutex_lock(&l->lock);
    int have = l->have_sth;
    *out = l->sth;
    pthread_mutex_unlock(&l->lock);
    return have ? 0 : -1;
}

h2o_iovec_t ct_logs_roots(ct_logs_t *logs, size_t log, h2o_mem_pool_t *pool)
{
    ct_log_t *l = &logs->logs[log];
    pthread_mutex_lock(&l->lock);
    h2o_iovec_t copy = h2o_strdup(pool, l->roots_json, l->roots_len);
    pthread_mutex_unlock(&l->lock);
    return copy;
}

long ct_logs_roots_count(ct_logs_t *logs, size_t log)
{
    ct_log_t *l = &logs->logs[log];
    pthread_mutex_lock(&l->lock);
    long count = l->roots_json != NULL ? (long)l->roots_count : -1;
    pthread_mutex_unlock(&l->lock);
    return count;
}

leaf_index_t *ct_logs_index(ct_logs_t *logs, size_t log, uint64_t *indexed)
{
    *indexed = atomic_load(&logs->logs[log].indexed);
    return logs->logs[log].index;
}

void ct_logs_metrics(ct_logs_t *logs, const char *const *names, tlog_buf_t *out)
{
    tlog_buf_appendf(out,
                     "# HELP faro_gateway_leaf_index_leaves Leaves of the log in the gateway's leaf index (get-proof-by-hash).\n"
                     "# TYPE faro_gateway_leaf_index_leaves gauge\n");
    for (size_t i = 0; i < logs->count; i++)
        tlog_buf_appendf(out, "faro_gateway_leaf_index_leaves{log=\"%s\"} %llu\n", names[i],
                         (unsigned long long)atomic_load(&logs->logs[i].indexed));
}
