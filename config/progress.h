/*
 * Progress of a long operation (indexing a tree, replaying a bundle) in the
 * event log (config/log.h), one line every FARO_PROGRESS_INTERVAL_MS while it
 * runs:
 *   leaf index: 412000 of 1000000 leaves (41%), 82000 leaves/s, about 7 s left
 * and, once it has logged anything, one line when it finishes:
 *   leaf index: finished at 1000000 leaves: 1000000 in 12.2 s, 81967 leaves/s
 * An operation over within the interval logs nothing, unless the caller
 * announces it: then it logs a start line at once and the finish line
 * however quick.
 *
 * The clock is the caller's (now_ms: faro_monotonic_ms from config/clock.h, or a test's), so
 * nothing here sleeps or reads the time. An update that logs nothing costs a
 * comparison. One operation is driven from one thread.
 */
#ifndef FARO_PROGRESS_H
#define FARO_PROGRESS_H

#include <stdint.h>

#define FARO_PROGRESS_INTERVAL_MS 5000

typedef struct faro_progress {
    /* The caller's, set before faro_progress_start. */
    const char *subject; /* as faro_log's: the log's name */
    const char *what;    /* starts every line: "leaf index" */
    const char *unit;    /* what is counted, plural: "leaves" */
    uint64_t total;      /* the count when done; may change while running (a tree that grows, a better estimate) */
    int estimated;       /* total is an estimate: lines say "about" */
    int announce;        /* log a start line, and the finish line however quick */
    /* The module's. */
    uint64_t from;        /* the count at the start (an operation resumed part way) */
    uint64_t started_ms;  /* now_ms at the start */
    uint64_t reported_ms; /* now_ms of the last line */
    int reported;         /* a line was logged, so the finish line will be too */
} faro_progress_t;

/* Starts counting from `from` (logging the start line if p->announce). */
void faro_progress_start(faro_progress_t *p, uint64_t from, uint64_t now_ms);
/* done is the count so far; logs a line if the last one (or the start) is FARO_PROGRESS_INTERVAL_MS old. */
void faro_progress_update(faro_progress_t *p, uint64_t done, uint64_t now_ms);
/* Logs the count and the duration if the operation announced itself, reported, or took at least the interval. */
void faro_progress_finish(faro_progress_t *p, uint64_t done, uint64_t now_ms);

#endif
