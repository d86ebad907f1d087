#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/buf.h"

void tlog_buf_reserve(tlog_buf_t *buf, size_t extra)
{
    if (buf->cap - buf->len >= extra)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap - buf->len < extra)
        cap *= 2;
    uint8_t *data = realloc(buf->data, cap);
    if (data == NULL)
        abort();
    buf->data = data;
    buf->cap = cap;
}

void tlog_buf_append(tlog_buf_t *buf, const void *data, size_t len)
{
    tlog_buf_reserve(buf, len);
    if (len > 0)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
}

void tlog_buf_append_uint(tlog_buf_t *buf, uint64_t value, unsigned width)
{
    tlog_buf_reserve(buf, width);
    for (unsigned i = 0; i < width; i++)
        buf->data[buf->len + i] = (uint8_t)(value >> (8 * (width - 1 - i)));
    buf->len += width;
}

void tlog_buf_appendf(tlog_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    tlog_buf_reserve(buf, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

void tlog_buf_histogram(tlog_buf_t *buf, const char *name, const char *labels, const uint64_t *bounds, double scale,
                        const uint64_t *counts, size_t n, double sum)
{
    const char *comma = labels[0] != '\0' ? "," : "";
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= n; b++) {
        cumulative += counts[b];
        if (b < n)
            tlog_buf_appendf(buf, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, comma, (double)bounds[b] / scale,
                             (unsigned long long)cumulative);
        else
            tlog_buf_appendf(buf, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, comma, (unsigned long long)cumulative);
    }
    tlog_buf_appendf(buf, "%s_sum{%s} %.15g\n", name, labels, sum);
    tlog_buf_appendf(buf, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cumulative);
}

void tlog_buf_free(tlog_buf_t *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}
