/*
 * gzip for data tiles (gzip.h), on zlib.
 *
 * Level 1 (Z_BEST_SPEED): the sequencer compresses each round's tiles on its
 * critical path, and on certificates level 1 gives up little of level 6's
 * ratio for a fraction of its time.
 */
#include <stdlib.h>

#include <zlib.h>

#include "tlog/error.h"
#include "tlog/gzip.h"

#define GZIP_LEVEL Z_BEST_SPEED
#define GZIP_WINDOW (16 + MAX_WBITS) /* 16+: a gzip wrapper, not zlib's */

int tlog_is_gzip(const void *data, size_t len)
{
    const uint8_t *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

void tlog_gzip(const void *in, size_t len, tlog_buf_t *out)
{
    z_stream z = {0};
    if (len > UINT32_MAX || deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t bound = deflateBound(&z, (uLong)len);
    tlog_buf_reserve(out, bound);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out->data + out->len;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) /* deflateBound's room always suffices */
        abort();
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

int tlog_gunzip(const void *in, size_t len, size_t max, uint8_t **out, size_t *out_len, char *err)
{
    z_stream z = {0};
    size_t room = max + 1; /* one byte more than allowed, so an output of exactly max is seen to end */
    size_t cap = len < room / 4 ? 4 * len + 4096 : room, n = 0;
    if (len > UINT32_MAX) /* zlib counts input in 32 bits */
        return tlog_errorf(err, "gzip of %zu bytes is too long", len);
    uint8_t *buf = malloc(cap);
    int rc = Z_OK;
    if (buf == NULL || inflateInit2(&z, GZIP_WINDOW) != Z_OK)
        abort();
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    while (rc != Z_STREAM_END && n <= max) {
        if (n == cap) {
            cap = cap < room / 2 ? 2 * cap : room;
            if ((buf = realloc(buf, cap)) == NULL)
                abort();
        }
        z.next_out = buf + n;
        z.avail_out = (uInt)(cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_in == 0) {
            tlog_errorf(err, "gzip is truncated");
            goto fail;
        }
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            tlog_errorf(err, "gzip does not inflate: %s", z.msg != NULL ? z.msg : "corrupt");
            goto fail;
        }
    }
    if (n > max) {
        tlog_errorf(err, "gzip inflates to more than %zu bytes", max);
        goto fail;
    }
    if (z.avail_in != 0) {
        tlog_errorf(err, "%u bytes follow the gzip member", z.avail_in);
        goto fail;
    }
    inflateEnd(&z);
    *out = buf;
    *out_len = n;
    return 0;
fail:
    inflateEnd(&z);
    free(buf);
    return -1;
}

int tlog_data_tile_inflate(uint8_t *raw, size_t len, size_t max, const char *name, uint8_t **out, size_t *out_len, char *err)
{
    char why[TLOG_ERR_MAX];
    if (!tlog_is_gzip(raw, len)) {
        *out = raw;
        *out_len = len;
        return 0;
    }
    int ret = tlog_gunzip(raw, len, max, out, out_len, why);
    free(raw);
    return ret == 0 ? 0 : tlog_errorf(err, "%s: %s", name, why);
}
