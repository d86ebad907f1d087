/* faro-writer's Prometheus metrics for one log (counters kept as atomics in writer_log_t). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "writer/log_internal.h"

void writer_log_count_submission(writer_log_t *log, int precert, int outcome)
{
    atomic_fetch_add(&log->metrics.submissions[precert != 0][outcome], 1);
}

static void appendf(tlog_buf_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void appendf(tlog_buf_t *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    tlog_buf_append(out, line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void writer_log_metrics(writer_log_t *log, tlog_buf_t *out)
{
    static const char *const kinds[] = {"add-chain", "add-pre-chain"};
    static const char *const outcomes[] = {"accepted", "duplicate", "rejected", "unavailable", "failed"};
    static const uint64_t bounds[] = ROUND_MS_BOUNDS;
    const char *name = log->config->name;

    for (int k = 0; k < 2; k++)
        for (int o = 0; o < WRITER_OUTCOME_COUNT; o++)
            appendf(out, "faro_writer_submissions_total{log=\"%s\",kind=\"%s\",outcome=\"%s\"} %lu\n", name, kinds[k], outcomes[o],
                    atomic_load(&log->metrics.submissions[k][o]));
    appendf(out, "faro_writer_dedup_hits_total{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.dedup_hits));
    appendf(out, "faro_writer_pool_length{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.pool_length));
    appendf(out, "faro_writer_tree_size{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.tree_size));
    appendf(out, "faro_writer_entries_sequenced_total{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.entries));
    appendf(out, "faro_writer_rounds_failed_total{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.rounds_failed));
    unsigned long cumulative = 0;
    for (size_t b = 0; b <= sizeof(bounds) / sizeof(bounds[0]); b++) {
        cumulative += atomic_load(&log->metrics.round_ms_buckets[b]);
        if (b < sizeof(bounds) / sizeof(bounds[0]))
            appendf(out, "faro_writer_round_duration_seconds_bucket{log=\"%s\",le=\"%g\"} %lu\n", name, bounds[b] / 1000.0,
                    cumulative);
        else
            appendf(out, "faro_writer_round_duration_seconds_bucket{log=\"%s\",le=\"+Inf\"} %lu\n", name, cumulative);
    }
    appendf(out, "faro_writer_round_duration_seconds_sum{log=\"%s\"} %g\n", name, atomic_load(&log->metrics.round_ms_sum) / 1000.0);
    appendf(out, "faro_writer_round_duration_seconds_count{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.rounds));
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double now_ms = (double)now.tv_sec * 1000 + (double)now.tv_nsec / 1e6;
    appendf(out, "faro_writer_checkpoint_age_seconds{log=\"%s\"} %.3f\n", name,
            (now_ms - (double)atomic_load(&log->metrics.checkpoint_ms)) / 1000.0);
    if (log->witness != NULL)
        witness_metrics(log->witness, out);
}
