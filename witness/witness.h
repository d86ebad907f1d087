/*
 * The witness coordinator of one log (design.md "Witnessing", spec/witness.md
 * §2): it takes each checkpoint the log commits, gathers cosignatures for it
 * from the witnesses of the log's trust policy, and publishes it with them.
 *
 * A thread of its own drives every witness in parallel with libcurl multi,
 * so witness latency never reaches the sequencer: witness_submit only copies
 * the checkpoint and wakes the thread. Each witness gets add-checkpoint with
 * the size it last cosigned (kept through the host, in the lock DB) and the
 * consistency proof from it, read from the log's tiles; a 409 teaches that
 * size and is retried once. A checkpoint is published, cosignature lines
 * appended, as soon as its cosignatures meet the policy's quorum (with
 * witness_greedy, once every witness has answered or a newer checkpoint
 * waits), or at the latest when
 * witness_timeout has passed since it was sent out: with the cosignatures it
 * has in fail-open mode, not at all in fail-closed mode (the previous
 * published checkpoint stays and the next one tries again). Checkpoints are
 * gathered one at a time; one submitted meanwhile waits, and a newer one
 * replaces it. A witness still busy with an older checkpoint joins the
 * current one when it answers; a dead one costs at most witness_timeout.
 *
 * Threads: witness_submit and witness_metrics may be called from any thread;
 * the host's functions are called only from the coordinator's thread.
 */
#ifndef WITNESS_WITNESS_H
#define WITNESS_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "tlog/buf.h"
#include "tlog/note.h"
#include "tlog/tile.h"

/* What the coordinator needs from the log it serves; ctx is passed to each. */
typedef struct witness_host {
    void *ctx;
    /* Reads a hash tile of the log's storage (tlog_tile_read_fn), for consistency proofs. */
    int (*read_tile)(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err);
    /* Durably replaces the published checkpoint; 0, -1, or TLOG_DURABLE_FATAL (the coordinator then stops the process). */
    int (*publish)(void *ctx, const char *checkpoint, size_t len, char *err);
    /* The size the witness at url last cosigned: 1 found, 0 never recorded, -1 error. */
    int (*load_size)(void *ctx, const char *url, uint64_t *size, char *err);
    int (*store_size)(void *ctx, const char *url, uint64_t size, char *err);
} witness_host_t;

typedef struct witness witness_t;

/*
 * Reads config->witness_policy (every witness must have a URL; if the policy
 * lists logs, log_key, the log's Ed25519 key, must be one of them) and
 * prepares the coordinator. A policy whose quorum is "none" gathers nothing:
 * then *out is NULL and the log publishes as without a policy.
 */
int witness_open(const faro_log_config_t *config, const tlog_verifier_t *log_key, const witness_host_t *host, witness_t **out,
                 char *err);
int witness_start(witness_t *w, char *err);
/* Hands over a checkpoint note the log has committed (its tiles are in storage); returns at once. */
void witness_submit(witness_t *w, const char *checkpoint, size_t len);
/* Finishes the checkpoint being gathered and the one waiting (each within witness_timeout), then stops the thread. */
void witness_stop(witness_t *w);
/* Stops if needed and frees; NULL is a no-op. */
void witness_free(witness_t *w);
/* Appends the coordinator's Prometheus metrics. */
void witness_metrics(witness_t *w, tlog_buf_t *out);

#endif
