/*
 * What faro-gateway keeps for each log to answer the RFC 6962 read API,
 * and the one background thread (the follower) that keeps it current:
 *
 *   - the latest tree head that verified (gateway/status.h): get-sth answers
 *     it and every other endpoint bounds its parameters by its size;
 *   - the get-roots body, rebuilt when the log's roots file changes;
 *   - the leaf index (gateway/leaf_index.h) under gateway.index_dir, extended
 *     from the level-0 hash tiles as the tree grows.
 *
 * The follower visits the logs in turn, each visit indexing at most one
 * batch of leaves, so one log's backlog never holds back another log's
 * tree head; with nothing to do it sleeps CT_FOLLOW_INTERVAL_MS. A backlog
 * is reported every few seconds. On its first visit to a log it checks that
 * the index's prefix still hashes to the root it recorded (else it
 * rebuilds); the leaves it has checked are the "indexed" count below.
 *
 * Threads: start and stop from the main thread; the getters from any thread
 * (a tree head and the roots are copied under a per-log mutex).
 */
#ifndef FARO_GATEWAY_CT_LOG_H
#define FARO_GATEWAY_CT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#include "gateway/leaf_index.h"
#include "tlog/buf.h"
#include "tlog/hash.h"
#include "tlog/note.h"

#define CT_FOLLOW_INTERVAL_MS 100

typedef struct gateway gateway_t;
typedef struct ct_logs ct_logs_t;

/* A verified tree head, as RFC 6962 get-sth shows it. */
typedef struct ct_sth {
    uint64_t size;
    uint64_t timestamp_ms;
    tlog_hash_t root;
    uint8_t signature[TLOG_NOTE_SIG_MAX]; /* the TreeHeadSignature's digitally-signed struct */
    size_t signature_len;
} ct_sth_t;

/*
 * For every log of gw: loads the roots (a roots file that does not load is
 * refused), opens or creates its leaf index (one reader per server thread),
 * reads its tree head if one verifies, and starts the follower. 0, or -1
 * with err.
 */
int ct_logs_start(gateway_t *gw, ct_logs_t **out, char *err);
/* Stops the follower and closes everything; NULL is a no-op. */
void ct_logs_stop(ct_logs_t *logs);

/* Log number `log`'s latest verified tree head: 0, or -1 if none has verified yet. */
int ct_logs_sth(ct_logs_t *logs, size_t log, ct_sth_t *out);
/* A copy of its get-roots body in pool. */
h2o_iovec_t ct_logs_roots(ct_logs_t *logs, size_t log, h2o_mem_pool_t *pool);
/* How many roots get-roots lists; -1 before the roots file was first read. */
long ct_logs_roots_count(ct_logs_t *logs, size_t log);
/* Its leaf index, and into *indexed how many leaves of it are checked against storage. */
leaf_index_t *ct_logs_index(ct_logs_t *logs, size_t log, uint64_t *indexed);
/* Prometheus text: faro_gateway_leaf_index_leaves by log (names has one name per log). */
void ct_logs_metrics(ct_logs_t *logs, const char *const *names, tlog_buf_t *out);

#endif
