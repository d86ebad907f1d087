/* Progress lines of long operations (see progress.h). */
#include <stdio.h>
#include <time.h>

#include "config/log.h"
#include "config/progress.h"

/* Counted since the start; 0 if the count went back (an operation that began again). */
static uint64_t progress_made(const faro_progress_t *p, uint64_t done)
{
    return done > p->from ? done - p->from : 0;
}

/* "about 7 s left", "about 12 min left", "about 3.5 h left", or "time left unknown" when nothing moved. */
static void progress_time_left(uint64_t remaining, double rate, char *out, size_t size)
{
    double seconds = rate > 0 ? (double)remaining / rate : 0;
    if (rate <= 0)
        snprintf(out, size, "time left unknown");
    else if (seconds < 120)
        snprintf(out, size, "about %.0f s left", seconds);
    else if (seconds < 2 * 3600)
        snprintf(out, size, "about %.0f min left", seconds / 60);
    else
        snprintf(out, size, "about %.1f h left", seconds / 3600);
}

void faro_progress_start(faro_progress_t *p, uint64_t from, uint64_t now_ms)
{
    p->from = from;
    p->started_ms = p->reported_ms = now_ms;
    p->reported = 0;
    if (!p->announce)
        return;
    faro_log(FARO_LOG_INFO, p->subject, "%s: %s%llu %s to do, from %llu", p->what, p->estimated ? "about " : "",
             (unsigned long long)(p->total > from ? p->total - from : 0), p->unit, (unsigned long long)from);
}

void faro_progress_update(faro_progress_t *p, uint64_t done, uint64_t now_ms)
{
    if (now_ms - p->reported_ms < FARO_PROGRESS_INTERVAL_MS)
        return;
    p->reported_ms = now_ms;
    p->reported = 1;
    double seconds = (double)(now_ms - p->started_ms) / 1000, rate = (double)progress_made(p, done) / seconds;
    const char *about = p->estimated ? "about " : "";
    if (done >= p->total) {
        faro_log(FARO_LOG_INFO, p->subject, "%s: %llu %s so far (%s%llu expected), %.0f %s/s", p->what, (unsigned long long)done,
                 p->unit, about, (unsigned long long)p->total, rate, p->unit);
        return;
    }
    char left[64];
    progress_time_left(p->total - done, rate, left, sizeof(left));
    faro_log(FARO_LOG_INFO, p->subject, "%s: %llu of %s%llu %s (%.0f%%), %.0f %s/s, %s", p->what, (unsigned long long)done, about,
             (unsigned long long)p->total, p->unit, 100.0 * (double)done / (double)p->total, rate, p->unit, left);
}

void faro_progress_finish(faro_progress_t *p, uint64_t done, uint64_t now_ms)
{
    uint64_t elapsed_ms = now_ms - p->started_ms;
    if (!p->announce && !p->reported && elapsed_ms < FARO_PROGRESS_INTERVAL_MS)
        return;
    char rate[48] = "";
    if (elapsed_ms > 0)
        snprintf(rate, sizeof(rate), ", %.0f %s/s", (double)progress_made(p, done) * 1000 / (double)elapsed_ms, p->unit);
    faro_log(FARO_LOG_INFO, p->subject, "%s: finished at %llu %s: %llu in %.1f s%s", p->what, (unsigned long long)done, p->unit,
             (unsigned long long)progress_made(p, done), (double)elapsed_ms / 1000, rate);
}
