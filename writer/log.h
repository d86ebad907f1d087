/*
 * One CT log inside faro-writer: its keys, roots and filters, its storage and
 * state, the pool of accepted submissions and the sequencer thread that turns
 * the pool into durable tiles and a signed checkpoint every
 * sequence_interval (see "One sequencing round" in design.md).
 *
 * Threads: any number of HTTP threads call writer_log_submit, each with its
 * own dedup reader; one sequencer thread per log owns the tree, the storage
 * and the lock DB connection. A submitter learns its SCT through its
 * writer_waiter_t, called from the sequencer thread once the entry is durably
 * in the published tree, or with a 503 if the round failed.
 */
#ifndef FARO_WRITER_LOG_H
#define FARO_WRITER_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "writer/chain.h"
#include "writer/dedup.h"

typedef struct writer_log writer_log_t;

typedef struct writer_waiter writer_waiter_t;
struct writer_waiter {
    /* 200 with the add-chain JSON response, or 503 with a one-line reason; called exactly once. */
    void (*on_result)(writer_waiter_t *waiter, int status, const char *body, size_t len);
    writer_waiter_t *next; /* owned by the log while queued */
};

enum {
    WRITER_QUEUED = 0,     /* the waiter will be called */
    WRITER_DUPLICATE = 1,  /* answered at once with the first SCT */
    WRITER_ERROR = -1,     /* 500: err says why */
    WRITER_POOL_FULL = -2, /* 503 with Retry-After */
    WRITER_STOPPING = -3,  /* 503: shutting down */
    WRITER_THROTTLED = -4, /* 503: rate_limit_old_not_before */
};

/*
 * Opens a log: loads its keys and roots, checks the lock DB against storage
 * (replaying a staged bundle after a crash between commit and publication),
 * and loads the right edge of the tree. A log with no state is created only
 * when create_missing is set. Refuses, with a message, anything inconsistent.
 */
int writer_log_open(const faro_log_config_t *config, const char *lock_db, int create_missing, writer_log_t **out, char *err);
void writer_log_free(writer_log_t *log);
const faro_log_config_t *writer_log_config(const writer_log_t *log);
/* chain_validate against this log's roots and filters (safe against a concurrent reload). */
int writer_log_validate(writer_log_t *log, int precert, const chain_request_t *request, time_t now, chain_result_t *out, char *err);
/* The get-roots response body, malloc'd. */
char *writer_log_roots_json(writer_log_t *log, size_t *len);
/* Rereads the roots file and the backed-up fetched roots (SIGHUP); the old roots stay if it fails. */
int writer_log_reload_roots(writer_log_t *log, char *err);

/* Starts the sequencer thread, and the roots fetcher when roots_remote_fetch_url is set. */
int writer_log_start(writer_log_t *log, char *err);
/* Stops the roots fetcher; stops accepting, sequences what is pooled, and joins the sequencer thread. */
void writer_log_stop(writer_log_t *log);

/* A dedup reader for one HTTP thread. */
int writer_log_open_reader(writer_log_t *log, dedup_t **out, char *err);
/*
 * Queues a validated chain. WRITER_DUPLICATE returns the stored SCT in a
 * malloc'd *sct. Any other result but WRITER_QUEUED leaves waiter unused.
 */
int writer_log_submit(writer_log_t *log, dedup_t *reader, const chain_result_t *chain, writer_waiter_t *waiter, char **sct,
                      size_t *sct_len, char *err);

/* What became of a submission, for metrics. */
enum {
    WRITER_OUTCOME_ACCEPTED,
    WRITER_OUTCOME_DUPLICATE,
    WRITER_OUTCOME_REJECTED,    /* 4xx */
    WRITER_OUTCOME_UNAVAILABLE, /* 503: pool full, throttled, round failed, stopping */
    WRITER_OUTCOME_FAILED,      /* 500 */
    WRITER_OUTCOME_COUNT
};
void writer_log_count_submission(writer_log_t *log, int precert, int outcome);
/* Appends this log's Prometheus metrics (text exposition format). */
void writer_log_metrics(writer_log_t *log, tlog_buf_t *out);
/* Appends the metrics of the whole process: durable-write system calls by kind (fsyncs are what a disk feels). */
void writer_process_metrics(tlog_buf_t *out);

#endif
