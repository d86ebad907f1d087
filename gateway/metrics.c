/*
 * Per-thread slabs of counters (see metrics.h). A counter is written only by
 * its thread, with a relaxed load and store (no lock prefix); a scrape reads
 * each with a relaxed load, so it may miss increments in flight, never tear.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway/client.h"
#include "gateway/metrics.h"

#define CLASSES 4
static const int status_codes[] = {200, 204, 301, 304, 400, 404, 405, 413, 429, 500, 503};
#define STATUSES (sizeof(status_codes) / sizeof(status_codes[0]) + 1) /* the last one is "other" */
/* Upper bounds of the latency histogram, in seconds. */
static const uint64_t latency_bounds_us[] = {100,   250,   500,    1000,   2500,    5000,   10000,
                                             25000, 50000, 100000, 250000, 1000000, 5000000};
#define LATENCY_BUCKETS (sizeof(latency_bounds_us) / sizeof(latency_bounds_us[0]) + 1)
static const char *const limit_names[GATEWAY_LIMIT_COUNT] = {"anonymous", "per_client", "partial_tile"};

typedef _Atomic uint64_t counter_t;

/*
 * Each thread's counters are one slab of per_thread counters, laid out as
 * requests [log][kind][class][status], bytes [log][kind], latency
 * [kind][bucket], latency sum [kind], reused [2], limited [bucket]; the
 * *_at fields are where each section starts. Slabs are whole cache lines
 * apart, so threads never share one.
 */
struct gateway_metrics {
    size_t nlogs;
    unsigned threads;
    size_t bytes_at, latency_at, latency_ns_at, reused_at, limited_at, per_thread;
    counter_t *counters; /* threads * per_thread */
};

#define COUNTERS_PER_LINE (64 / sizeof(counter_t))

static void bump(gateway_metrics_t *m, unsigned thread, size_t i, uint64_t n)
{
    counter_t *c = &m->counters[thread * m->per_thread + i];
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static uint64_t sum(const gateway_metrics_t *m, size_t i)
{
    uint64_t total = 0;
    for (unsigned t = 0; t < m->threads; t++)
        total += atomic_load_explicit(&m->counters[t * m->per_thread + i], memory_order_relaxed);
    return total;
}

gateway_metrics_t *gateway_metrics_new(size_t nlogs, unsigned threads)
{
    gateway_metrics_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        abort();
    m->nlogs = nlogs;
    m->threads = threads;
    m->bytes_at = (nlogs + 1) * GATEWAY_KIND_COUNT * CLASSES * STATUSES;
    m->latency_at = m->bytes_at + (nlogs + 1) * GATEWAY_KIND_COUNT;
    m->latency_ns_at = m->latency_at + GATEWAY_KIND_COUNT * LATENCY_BUCKETS;
    m->reused_at = m->latency_ns_at + GATEWAY_KIND_COUNT;
    m->limited_at = m->reused_at + 2;
    m->per_thread = (m->limited_at + GATEWAY_LIMIT_COUNT + COUNTERS_PER_LINE - 1) / COUNTERS_PER_LINE * COUNTERS_PER_LINE;
    if ((m->counters = aligned_alloc(64, threads * m->per_thread * sizeof(counter_t))) == NULL)
        abort();
    for (size_t i = 0; i < threads * m->per_thread; i++)
        atomic_init(&m->counters[i], 0);
    return m;
}

void gateway_metrics_free(gateway_metrics_t *m)
{
    if (m == NULL)
        return;
    free(m->counters);
    free(m);
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < STATUSES - 1; i++)
        if (status_codes[i] == status)
            return i;
    return STATUSES - 1;
}

void gateway_metrics_record(gateway_metrics_t *m, unsigned thread, const gateway_request_record_t *r)
{
    size_t log_kind = r->log * GATEWAY_KIND_COUNT + r->kind;
    bump(m, thread, (log_kind * CLASSES + (size_t)r->client_class) * STATUSES + status_index(r->status), 1);
    bump(m, thread, m->bytes_at + log_kind, r->bytes);
    size_t b = 0;
    while (b < LATENCY_BUCKETS - 1 && r->duration_ns > latency_bounds_us[b] * 1000)
        b++;
    bump(m, thread, m->latency_at + r->kind * LATENCY_BUCKETS + b, 1);
    bump(m, thread, m->latency_ns_at + r->kind, r->duration_ns);
    bump(m, thread, m->reused_at + (r->reused != 0), 1);
}

void gateway_metrics_limited(gateway_metrics_t *m, unsigned thread, int bucket)
{
    bump(m, thread, m->limited_at + (size_t)bucket, 1);
}

static void render_requests(gateway_metrics_t *m, const char *const *log_names, tlog_buf_t *out)
{
    tlog_buf_appendf(out, "# HELP faro_gateway_requests_total Requests answered, by log, resource kind, client class and status.\n"
                          "# TYPE faro_gateway_requests_total counter\n");
    for (size_t log = 0; log <= m->nlogs; log++)
        for (size_t kind = 0; kind < GATEWAY_KIND_COUNT; kind++)
            for (size_t class = 0; class < CLASSES; class ++)
                for (size_t status = 0; status < STATUSES; status++) {
                    size_t i = ((log * GATEWAY_KIND_COUNT + kind) * CLASSES + class) * STATUSES + status;
                    uint64_t n = sum(m, i);
                    if (n == 0)
                        continue;
                    char code[8] = "other";
                    if (status < STATUSES - 1)
                        snprintf(code, sizeof(code), "%d", status_codes[status]);
                    tlog_buf_appendf(out, "faro_gateway_requests_total{log=\"%s\",kind=\"%s\",client=\"%s\",code=\"%s\"} %lu\n",
                                     log < m->nlogs ? log_names[log] : "", gateway_kind_names[kind],
                                     client_class_name((client_class_t) class), code, n);
                }
    tlog_buf_appendf(out, "# HELP faro_gateway_response_bytes_total Response body bytes sent, by log and resource kind.\n"
                          "# TYPE faro_gateway_response_bytes_total counter\n");
    for (size_t log = 0; log <= m->nlogs; log++)
        for (size_t kind = 0; kind < GATEWAY_KIND_COUNT; kind++) {
            uint64_t n = sum(m, m->bytes_at + log * GATEWAY_KIND_COUNT + kind);
            if (n > 0)
                tlog_buf_appendf(out, "faro_gateway_response_bytes_total{log=\"%s\",kind=\"%s\"} %lu\n",
                                 log < m->nlogs ? log_names[log] : "", gateway_kind_names[kind], n);
        }
}

static void render_latency(gateway_metrics_t *m, tlog_buf_t *out)
{
    tlog_buf_appendf(out, "# HELP faro_gateway_request_duration_seconds Time from a request's first byte to its response's last.\n"
                          "# TYPE faro_gateway_request_duration_seconds histogram\n");
    for (size_t kind = 0; kind < GATEWAY_KIND_COUNT; kind++) {
        uint64_t counts[LATENCY_BUCKETS];
        char labels[64];
        for (size_t b = 0; b < LATENCY_BUCKETS; b++)
            counts[b] = sum(m, m->latency_at + kind * LATENCY_BUCKETS + b);
        snprintf(labels, sizeof(labels), "kind=\"%s\"", gateway_kind_names[kind]);
        tlog_buf_histogram(out, "faro_gateway_request_duration_seconds", labels, latency_bounds_us, 1e6, counts,
                           LATENCY_BUCKETS - 1, (double)sum(m, m->latency_ns_at + kind) / 1e9);
    }
}

void gateway_metrics_render(gateway_metrics_t *m, const char *const *log_names, tlog_buf_t *out)
{
    render_requests(m, log_names, out);
    render_latency(m, out);
    tlog_buf_appendf(out,
                     "# HELP faro_gateway_connection_requests_total Requests by whether their connection had served one before.\n"
                     "# TYPE faro_gateway_connection_requests_total counter\n"
                     "faro_gateway_connection_requests_total{reused=\"false\"} %lu\n"
                     "faro_gateway_connection_requests_total{reused=\"true\"} %lu\n",
                     sum(m, m->reused_at), sum(m, m->reused_at + 1));
    tlog_buf_appendf(out, "# HELP faro_gateway_rate_limited_total Requests refused with 429, by bucket.\n"
                          "# TYPE faro_gateway_rate_limited_total counter\n");
    for (int i = 0; i < GATEWAY_LIMIT_COUNT; i++)
        tlog_buf_appendf(out, "faro_gateway_rate_limited_total{bucket=\"%s\"} %lu\n", limit_names[i],
                         sum(m, m->limited_at + (size_t)i));
}
