/*
 * The coordinator's state, shared by its files: coordinator.c (the thread,
 * collections, publication), endpoint.c (one witness's requests) and
 * metrics.c. Private to the witness module; others use witness/witness.h.
 *
 * Ownership: everything but the metrics and the pending slot belongs to the
 * coordinator's thread once it has started. A checkpoint is shared, by
 * reference count, between the collection gathering it and the requests
 * about it that are still in flight.
 */
#ifndef WITNESS_INTERNAL_H
#define WITNESS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <curl/curl.h>

#include "config/clock.h"
#include "policy/policy.h"
#include "tlog/merkle.h"
#include "witness/protocol.h"
#include "witness/witness.h"

/* Upper bounds, in milliseconds, of the latency and delay histograms; finer around the 120 ms publication goal. */
#define WITNESS_MS_BOUNDS                                                                                                          \
    {                                                                                                                              \
        5, 10, 25, 50, 75, 100, 105, 110, 115, 120, 130, 150, 200, 300, 500, 1000, 2500, 5000, 10000                               \
    }
#define WITNESS_MS_BUCKETS 20 /* the bounds, then +Inf */

typedef struct witness_histogram {
    atomic_ulong buckets[WITNESS_MS_BUCKETS];
    atomic_ulong sum_ms;
} witness_histogram_t;

void witness_histogram_observe(witness_histogram_t *h, uint64_t ms);

/* What became of a checkpoint handed over; the names label the checkpoints metric. */
enum {
    WITNESS_PUBLISHED_QUORUM,    /* published with cosignatures meeting the quorum */
    WITNESS_PUBLISHED_NO_QUORUM, /* fail-open: published without */
    WITNESS_WITHHELD,            /* fail-closed: not published (or its publication failed) */
    WITNESS_SUPERSEDED,          /* replaced by a newer one before it was sent out */
    WITNESS_CHECKPOINT_OUTCOMES
};

/* A consistency proof from old to a checkpoint's size. */
typedef struct witness_proof {
    uint64_t old;
    size_t len;
    tlog_hash_t hashes[TLOG_MAX_PROOF];
} witness_proof_t;

/* One checkpoint the log handed over. */
typedef struct witness_checkpoint {
    unsigned refs;
    char *note; /* the log-signed note */
    size_t len;
    size_t text_len;
    uint64_t size;
    uint64_t handed_ms;      /* monotonic clock */
    uint64_t handed_s;       /* wall clock, for the cosignature timestamp window */
    witness_proof_t *proofs; /* computed once per distinct old size */
    size_t nproofs;
} witness_checkpoint_t;

/* One witness URL of the policy; the policy's witnesses sharing it pool their keys. */
typedef struct witness_endpoint {
    witness_t *w;
    char *url;         /* the submission prefix, as in the policy */
    char *add_url;     /* <prefix>/add-checkpoint */
    const char *label; /* the policy's name for its first key: events and metrics */
    size_t *members;   /* the policy's indexes of its keys */
    tlog_verifier_t **keys;
    size_t nkeys;
    CURL *curl;
    struct curl_slist *headers;
    char curl_err[CURL_ERROR_SIZE];

    uint64_t old_size;    /* the size it last cosigned, as far as the log knows */
    uint64_t stored_size; /* what the lock DB holds (stored between collections) */
    /* The request in flight; checkpoint is NULL when the witness is idle. */
    witness_checkpoint_t *checkpoint;
    uint64_t sent_old;
    int retried; /* this request is the retry after a 409 */
    uint64_t started_ms;
    tlog_buf_t request, reply;
    int reply_too_long;
    /* For event lines on changes only: the outcome and HTTP status of the last request, the last size claimed ahead. */
    int last_outcome;
    long last_status;
    uint64_t alarm_size;

    struct {
        atomic_ulong outcomes[WITNESS_OUTCOMES];
        witness_histogram_t latency;
        atomic_ulong cosigned_size;
    } metrics;
} witness_endpoint_t;

/* The checkpoint being gathered. */
typedef struct witness_collection {
    witness_checkpoint_t *checkpoint;
    policy_eval_t *eval;
    tlog_buf_t lines;  /* verified cosignature lines */
    uint8_t *answered; /* per endpoint */
    size_t nanswered;
    size_t ncosigned; /* endpoints that cosigned */
    uint64_t deadline_ms;
} witness_collection_t;

struct witness {
    const faro_log_config_t *config; /* name, witness_timeout_ms, witness_fail_open, witness_greedy */
    witness_host_t host;
    policy_t *policy;
    witness_endpoint_t *endpoints;
    size_t nendpoints;
    CURLM *multi;
    tlog_tile_reader_t *reader; /* over the log's tiles at reader_size */
    uint64_t reader_size;
    witness_collection_t *collection;
    int quorum_lost; /* the last collection ended without a quorum */

    pthread_t thread;
    int started;
    pthread_mutex_t lock; /* guards the pending slot and stopping */
    witness_checkpoint_t *pending;
    int stopping;

    struct {
        atomic_ulong checkpoints[WITNESS_CHECKPOINT_OUTCOMES];
        witness_histogram_t delay; /* hand-over to publication */
        atomic_ulong published_size;
    } metrics;
};

void witness_checkpoint_release(witness_checkpoint_t *cp);

/* endpoint.c: sets up the endpoints of the policy's witnesses, grouped by URL. */
int witness_endpoints_init(witness_t *w, char *err);
void witness_endpoints_free(witness_t *w);
/* Sends add-checkpoint about cp (retry: after a 409); a request that cannot be built ends at once as a failure. */
void witness_endpoint_send(witness_endpoint_t *e, witness_checkpoint_t *cp, int retry);
/* A transfer of e's finished with result: reads the reply and tells the coordinator. */
void witness_endpoint_done(witness_endpoint_t *e, CURLcode result);
/* Stores through the host the size e last cosigned, if it changed. */
void witness_endpoint_store_size(witness_endpoint_t *e);

/* coordinator.c: what an endpoint learned about cp. key_signed: the endpoint's keys that cosigned (NULL on failure). */
void witness_collection_answer(witness_t *w, witness_endpoint_t *e, const witness_checkpoint_t *cp, const tlog_buf_t *lines,
                               const uint8_t *key_signed);

#endif
