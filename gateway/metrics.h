/*
 * faro-gateway's request counters. Each thread writes only its own slab
 * (plain relaxed stores, no shared cache lines on the request path); a
 * scrape sums the slabs. Every label takes a bounded set of values: log
 * (configured logs, or "" for paths outside every log), resource kind,
 * client class, and status code (the codes the gateway answers, or "other").
 */
#ifndef FARO_GATEWAY_METRICS_H
#define FARO_GATEWAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/route.h"
#include "tlog/buf.h"

typedef struct gateway_metrics gateway_metrics_t;

enum { GATEWAY_LIMIT_ANONYMOUS, GATEWAY_LIMIT_PER_CLIENT, GATEWAY_LIMIT_PARTIAL_TILE, GATEWAY_LIMIT_COUNT };

typedef struct gateway_request_record {
    size_t log; /* index of the log, or nlogs for none */
    gateway_kind_t kind;
    int client_class; /* client_class_t */
    int status;
    uint64_t bytes;       /* body bytes sent */
    uint64_t duration_ns; /* from the request's first byte to its last response byte */
    int reused;           /* not the connection's first request */
} gateway_request_record_t;

gateway_metrics_t *gateway_metrics_new(size_t nlogs, unsigned threads);
void gateway_metrics_free(gateway_metrics_t *m);
void gateway_metrics_record(gateway_metrics_t *m, unsigned thread, const gateway_request_record_t *r);
void gateway_metrics_limited(gateway_metrics_t *m, unsigned thread, int bucket);
/* Appends the request metrics; log_names has nlogs entries. */
void gateway_metrics_render(gateway_metrics_t *m, const char *const *log_names, tlog_buf_t *out);

#endif
