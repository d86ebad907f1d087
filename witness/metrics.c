/*
 * The coordinator's Prometheus metrics, appended to faro-writer's /metrics:
 *
 *   faro_writer_witness_requests_total{log,witness,outcome}    add-checkpoint requests by outcome (protocol.h)
 *   faro_writer_witness_request_duration_seconds{log,witness}  histogram: request to reply
 *   faro_writer_witness_cosigned_size{log,witness}             the size the witness last cosigned
 *   faro_writer_witness_checkpoints_total{log,outcome}         checkpoints published with and without quorum,
 *                                                              withheld (fail-closed), superseded
 *   faro_writer_witness_publication_delay_seconds{log}         histogram: hand-over to publication
 *   faro_writer_witness_published_size{log}                    the size of the last checkpoint published
 *
 * Counters are atomics the coordinator's thread updates; reading them needs no lock.
 */
#include <stdio.h>
#include <string.h>

#include "witness/internal.h"

static const uint64_t bounds[] = WITNESS_MS_BOUNDS;
static const char *const checkpoint_outcomes[WITNESS_CHECKPOINT_OUTCOMES] = {
    "published_with_quorum",
    "published_without_quorum",
    "withheld",
    "superseded",
};

_Static_assert(sizeof(bounds) / sizeof(bounds[0]) + 1 == WITNESS_MS_BUCKETS, "WITNESS_MS_BUCKETS is the bounds and +Inf");

void witness_histogram_observe(witness_histogram_t *h, uint64_t ms)
{
    size_t b = 0;
    while (b < WITNESS_MS_BUCKETS - 1 && ms > bounds[b])
        b++;
    atomic_fetch_add(&h->buckets[b], 1);
    atomic_fetch_add(&h->sum_ms, ms);
}

/* A label value as Prometheus wants it: backslash and double quote escaped (names have no newlines). */
static void label_value(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in != '\0' && n + 3 < cap; in++) {
        if (*in == '\\' || *in == '"')
            out[n++] = '\\';
        out[n++] = *in;
    }
    out[n] = '\0';
}

/* name_bucket{labels,le=...}, name_sum{labels}, name_count{labels}. */
static void histogram_lines(tlog_buf_t *out, const char *name, const char *labels, const witness_histogram_t *h)
{
    uint64_t counts[WITNESS_MS_BUCKETS];
    for (size_t b = 0; b < WITNESS_MS_BUCKETS; b++)
        counts[b] = atomic_load(&h->buckets[b]);
    tlog_buf_histogram(out, name, labels, bounds, 1000.0, counts, WITNESS_MS_BUCKETS - 1, (double)atomic_load(&h->sum_ms) / 1000.0);
}

void witness_metrics(witness_t *w, tlog_buf_t *out)
{
    char log[256], witness[256], labels[600];
    label_value(w->config->name, log, sizeof(log));

    for (size_t i = 0; i < w->nendpoints; i++) {
        witness_endpoint_t *e = &w->endpoints[i];
        label_value(e->label, witness, sizeof(witness));
        snprintf(labels, sizeof(labels), "log=\"%s\",witness=\"%s\"", log, witness);
        for (int o = 0; o < WITNESS_OUTCOMES; o++)
            tlog_buf_appendf(out, "faro_writer_witness_requests_total{%s,outcome=\"%s\"} %lu\n", labels, witness_outcome_name(o),
                             atomic_load(&e->metrics.outcomes[o]));
        histogram_lines(out, "faro_writer_witness_request_duration_seconds", labels, &e->metrics.latency);
        tlog_buf_appendf(out, "faro_writer_witness_cosigned_size{%s} %lu\n", labels, atomic_load(&e->metrics.cosigned_size));
    }
    snprintf(labels, sizeof(labels), "log=\"%s\"", log);
    for (int o = 0; o < WITNESS_CHECKPOINT_OUTCOMES; o++)
        tlog_buf_appendf(out, "faro_writer_witness_checkpoints_total{%s,outcome=\"%s\"} %lu\n", labels, checkpoint_outcomes[o],
                         atomic_load(&w->metrics.checkpoints[o]));
    histogram_lines(out, "faro_writer_witness_publication_delay_seconds", labels, &w->metrics.delay);
    tlog_buf_appendf(out, "faro_writer_witness_published_size{%s} %lu\n", labels, atomic_load(&w->metrics.published_size));
}
