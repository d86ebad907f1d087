/* faro-writer's Prometheus metrics: per log (counters kept as atomics in writer_log_t), and the process's durable writes. */
#include <stdio.h>
#include <string.h>

#include "config/clock.h"
#include "tlog/durable.h"
#include "writer/log_internal.h"

void writer_log_count_submission(writer_log_t *log, int precert, int outcome)
{
    atomic_fetch_add(&log->metrics.submissions[precert != 0][outcome], 1);
}

#define ROUND_BOUNDS_N(bounds) (sizeof(bounds) / sizeof(bounds[0]))

/* A histogram of n bounds whose n + 1 buckets are atomics. */
static void histogram(tlog_buf_t *out, const char *name, const char *labels, const uint64_t *bounds, double scale,
                      const atomic_ulong *buckets, size_t n, double sum)
{
    uint64_t counts[16];
    for (size_t b = 0; b <= n; b++)
        counts[b] = atomic_load(&buckets[b]);
    tlog_buf_histogram(out, name, labels, bounds, scale, counts, n, sum);
}

void writer_log_metrics(writer_log_t *log, tlog_buf_t *out)
{
    static const char *const kinds[] = {"add-chain", "add-pre-chain"};
    static const char *const outcomes[] = {"accepted", "duplicate", "rejected", "unavailable", "failed"};
    static const uint64_t ms_bounds[] = ROUND_MS_BOUNDS, entry_bounds[] = ROUND_ENTRIES_BOUNDS;
    const char *name = log->config->name;
    _Static_assert(ROUND_BOUNDS_N(ms_bounds) < 16 && ROUND_BOUNDS_N(entry_bounds) < 16, "histogram() holds 16 buckets");

    for (int k = 0; k < 2; k++)
        for (int o = 0; o < WRITER_OUTCOME_COUNT; o++)
            tlog_buf_appendf(out, "faro_writer_submissions_total{log=\"%s\",kind=\"%s\",outcome=\"%s\"} %lu\n", name, kinds[k],
                             outcomes[o], atomic_load(&log->metrics.submissions[k][o]));
    tlog_buf_appendf(out, "faro_writer_dedup_hits_total{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.dedup_hits));
    tlog_buf_appendf(out, "faro_writer_pool_length{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.pool_length));
    tlog_buf_appendf(out, "faro_writer_tree_size{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.tree_size));
    tlog_buf_appendf(out, "faro_writer_entries_sequenced_total{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.entries));
    tlog_buf_appendf(out, "faro_writer_rounds_failed_total{log=\"%s\"} %lu\n", name, atomic_load(&log->metrics.rounds_failed));
    char labels[128];
    snprintf(labels, sizeof(labels), "log=\"%s\"", name);
    histogram(out, "faro_writer_round_duration_seconds", labels, ms_bounds, 1000.0, log->metrics.round_ms_buckets,
              ROUND_BOUNDS_N(ms_bounds), atomic_load(&log->metrics.round_ms_sum) / 1000.0);
    histogram(out, "faro_writer_round_entries", labels, entry_bounds, 1.0, log->metrics.round_entries_buckets,
              ROUND_BOUNDS_N(entry_bounds), (double)atomic_load(&log->metrics.entries));
    tlog_buf_appendf(out, "faro_writer_checkpoint_age_seconds{log=\"%s\"} %.3f\n", name,
                     ((double)faro_realtime_ms() - (double)atomic_load(&log->metrics.checkpoint_ms)) / 1000.0);
    tlog_buf_appendf(out, "faro_writer_roots{log=\"%s\"} %zu\n", name, roots_count(log->roots));
    static const char *const fetch_outcomes[] = {"ok", "download_failed", "invalid_bundle", "backup_failed"};
    for (int o = 0; log->roots_fetch != NULL && o < ROOTS_FETCH_OUTCOMES; o++)
        tlog_buf_appendf(out, "faro_writer_roots_fetches_total{log=\"%s\",outcome=\"%s\"} %lu\n", name, fetch_outcomes[o],
                         roots_fetch_count(log->roots_fetch, o));
    if (log->witness != NULL)
        witness_metrics(log->witness, out);
}

void writer_process_metrics(tlog_buf_t *out)
{
    static const char *const calls[] = {"", "write", "fsync", "rename", "dirsync"};
    for (int op = TLOG_FAULT_WRITE; op <= TLOG_FAULT_DIRSYNC; op++)
        tlog_buf_appendf(out, "faro_writer_durable_calls_total{call=\"%s\"} %lu\n", calls[op], tlog_durable_calls(op));
}
