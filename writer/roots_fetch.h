/*
 * The fetcher of one log's roots_remote_fetch_url: a thread of its own that
 * downloads the PEM bundle with libcurl at start and then every interval and
 * merges it into the log's roots (roots_merge_pem), so no download ever holds
 * up a submission or a round.
 *
 * A download may take at most ROOTS_FETCH_MAX_BYTES and the shorter of the
 * interval and ROOTS_FETCH_TIMEOUT_MS; http and https only, at most five
 * redirects. A failed fetch (transfer error or timeout, a status other than
 * 200, a bundle that does not parse or holds a certificate that is not a CA,
 * a backup that cannot be written) logs one line and keeps every root
 * already trusted; an fsync error while backing up a root stops the writer,
 * as any fsync error does. Stopping wakes the thread and aborts a transfer.
 * The URL is never logged (it may carry a token).
 */
#ifndef FARO_WRITER_ROOTS_FETCH_H
#define FARO_WRITER_ROOTS_FETCH_H

#include <stdint.h>

#include "writer/roots.h"

#define ROOTS_FETCH_MAX_BYTES (16 << 20)
#define ROOTS_FETCH_TIMEOUT_MS 60000

typedef struct roots_fetch roots_fetch_t;

/* How a fetch ended, for metrics. */
enum { ROOTS_FETCH_OK, ROOTS_FETCH_DOWNLOAD_FAILED, ROOTS_FETCH_INVALID_BUNDLE, ROOTS_FETCH_BACKUP_FAILED, ROOTS_FETCH_OUTCOMES };

/* Starts the thread; log_name labels its event lines. libcurl must be initialised (curl_global_init). */
int roots_fetch_start(roots_t *roots, const char *log_name, const char *url, uint64_t interval_ms, roots_fetch_t **out, char *err);
/* Stops and joins the thread (again: a no-op); the counts stay readable until roots_fetch_free. NULL is a no-op. */
void roots_fetch_stop(roots_fetch_t *fetch);
void roots_fetch_free(roots_fetch_t *fetch);
/* Fetches that ended with outcome (ROOTS_FETCH_*). */
unsigned long roots_fetch_count(roots_fetch_t *fetch, int outcome);

#endif
