/*
 * The remote roots fetcher (see roots_fetch.h): one thread per log with a
 * roots_remote_fetch_url, sleeping in poll(2) on a pipe between fetches so
 * that roots_fetch_stop can wake it, and checking a flag in libcurl's
 * progress callback so that it can abort a transfer. Each fetch is a fresh
 * easy handle: one request an interval needs no connection reuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config/log.h"
#include "tlog/buf.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "writer/roots_fetch.h"

struct roots_fetch {
    roots_t *roots;
    char *name; /* the log's, for event lines */
    char *url;
    uint64_t interval_ms;
    int wake[2]; /* a pipe: roots_fetch_stop writes a byte */
    atomic_int stopping;
    int started;
    pthread_t thread;
    atomic_ulong outcomes[ROOTS_FETCH_OUTCOMES];
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    tlog_buf_t *body = ctx;
    size_t len = size * n;
    if (body->len + len > ROOTS_FETCH_MAX_BYTES)
        return 0; /* libcurl fails the transfer with CURLE_WRITE_ERROR */
    tlog_buf_append(body, data, len);
    return len;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(&((roots_fetch_t *)ctx)->stopping);
}

/* GETs the URL into body; 0 on a 200 within the limits, else -1 with the reason. */
static int download(roots_fetch_t *fetch, tlog_buf_t *body, char *err)
{
    char curl_err[CURL_ERROR_SIZE] = "";
    long status = 0;
    long timeout = fetch->interval_ms < ROOTS_FETCH_TIMEOUT_MS ? (long)fetch->interval_ms : ROOTS_FETCH_TIMEOUT_MS;
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return tlog_errorf(err, "libcurl cannot start a transfer");
    curl_easy_setopt(curl, CURLOPT_URL, fetch->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Fetched roots are trusted for good: an https URL may not be redirected to plain http. */
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, strncasecmp(fetch->url, "https:", 6) == 0 ? "https" : "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ROOTS_FETCH_MAX_BYTES);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "faro-writer (roots_remote_fetch_url)");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, fetch);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED)
        return tlog_errorf(err, "the bundle is larger than %d bytes", ROOTS_FETCH_MAX_BYTES);
    if (rc != CURLE_OK)
        return tlog_errorf(err, "%s", curl_err[0] != '\0' ? curl_err : curl_easy_strerror(rc));
    if (status != 200)
        return tlog_errorf(err, "HTTP status %ld", status);
    return 0;
}

static void fetch_once(roots_fetch_t *fetch)
{
    tlog_buf_t body = TLOG_BUF_INIT;
    char err[TLOG_ERR_MAX];
    size_t added = 0;
    int outcome = ROOTS_FETCH_OK;

    if (download(fetch, &body, err) != 0) {
        outcome = ROOTS_FETCH_DOWNLOAD_FAILED;
    } else {
        int merged = roots_merge_pem(fetch->roots, (const char *)body.data, body.len, &added, err);
        if (merged == TLOG_DURABLE_FATAL)
            faro_fatal(fetch->name, "backing up a fetched root: %s", err);
        if (merged != 0)
            outcome = merged == ROOTS_BACKUP_FAILED ? ROOTS_FETCH_BACKUP_FAILED : ROOTS_FETCH_INVALID_BUNDLE;
    }
    tlog_buf_free(&body);
    if (atomic_load(&fetch->stopping))
        return; /* aborted, or finished while stopping: not worth a line */
    atomic_fetch_add(&fetch->outcomes[outcome], 1);
    if (outcome != ROOTS_FETCH_OK)
        faro_log(FARO_LOG_WARN, fetch->name, "fetching roots_remote_fetch_url failed: %s; keeping the %zu roots already trusted",
                 err, roots_count(fetch->roots));
    else if (added > 0)
        faro_log(FARO_LOG_INFO, fetch->name, "fetched roots_remote_fetch_url: %zu new roots backed up and trusted, %zu in all",
                 added, roots_count(fetch->roots));
}

static void *fetch_main(void *arg)
{
    roots_fetch_t *fetch = arg;
    while (!atomic_load(&fetch->stopping)) {
        fetch_once(fetch);
        struct pollfd wake = {fetch->wake[0], POLLIN, 0};
        while (poll(&wake, 1, (int)fetch->interval_ms) < 0 && errno == EINTR)
            ;
    }
    return NULL;
}

int roots_fetch_start(roots_t *roots, const char *log_name, const char *url, uint64_t interval_ms, roots_fetch_t **out, char *err)
{
    roots_fetch_t *fetch = calloc(1, sizeof(*fetch));
    if (fetch == NULL || (fetch->name = strdup(log_name)) == NULL || (fetch->url = strdup(url)) == NULL)
        abort();
    fetch->roots = roots;
    fetch->interval_ms = interval_ms; /* at most 7 days (config), so poll's int milliseconds hold it */
    fetch->wake[0] = fetch->wake[1] = -1;
    if (pipe2(fetch->wake, O_CLOEXEC) != 0) {
        tlog_errorf(err, "cannot make the roots fetcher's pipe: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&fetch->thread, NULL, fetch_main, fetch) != 0) {
        tlog_errorf(err, "cannot start the roots fetcher thread");
        goto fail;
    }
    fetch->started = 1;
    *out = fetch;
    return 0;
fail:
    roots_fetch_free(fetch);
    return -1;
}

void roots_fetch_stop(roots_fetch_t *fetch)
{
    if (fetch == NULL || !fetch->started)
        return;
    atomic_store(&fetch->stopping, 1);
    ssize_t written = write(fetch->wake[1], "", 1);
    (void)written; /* a full pipe is awake already */
    pthread_join(fetch->thread, NULL);
    fetch->started = 0;
}

void roots_fetch_free(roots_fetch_t *fetch)
{
    if (fetch == NULL)
        return;
    roots_fetch_stop(fetch);
    for (int i = 0; i < 2; i++)
        if (fetch->wake[i] >= 0)
            close(fetch->wake[i]);
    free(fetch->url);
    free(fetch->name);
    free(fetch);
}

unsigned long roots_fetch_count(roots_fetch_t *fetch, int outcome)
{
    return atomic_load(&fetch->outcomes[outcome]);
}
