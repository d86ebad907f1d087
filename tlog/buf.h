/*
 * A growable byte buffer for building wire encodings. Growth failure is
 * fatal (abort), so appends cannot fail; tlog_buf_free releases the bytes.
 */
#ifndef TLOG_BUF_H
#define TLOG_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct tlog_buf {
    uint8_t *data;
    size_t len, cap;
} tlog_buf_t;

#define TLOG_BUF_INIT                                                                                                              \
    {                                                                                                                              \
        NULL, 0, 0                                                                                                                 \
    }

void tlog_buf_reserve(tlog_buf_t *buf, size_t extra);
void tlog_buf_append(tlog_buf_t *buf, const void *data, size_t len);
/* Big-endian unsigned integer of width bytes (1..8). */
void tlog_buf_append_uint(tlog_buf_t *buf, uint64_t value, unsigned width);
/* printf-style text, without the NUL. */
void tlog_buf_appendf(tlog_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A Prometheus histogram: name_bucket{labels,le="…"} for each of the n bounds
 * (integers in units of 1/scale: milliseconds with scale 1000 give seconds)
 * and +Inf, then name_sum and name_count. counts[0..n] are per bucket, not
 * cumulative; labels (e.g. log="x") may be empty.
 */
void tlog_buf_histogram(tlog_buf_t *buf, const char *name, const char *labels, const uint64_t *bounds, double scale,
                        const uint64_t *counts, size_t n, double sum);
void tlog_buf_free(tlog_buf_t *buf);

#endif
