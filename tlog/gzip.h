/*
 * gzip (RFC 1952) for data tiles, which static-ct-api logs store compressed
 * and serve with Content-Encoding: gzip (spec/static-ct.md §7.3).
 *
 * tlog_gzip is deterministic: one member, no name, mtime 0, the same level
 * always, so the same tile compresses to the same bytes with the same zlib
 * (a full tile is written once, and a rewrite must match it byte for byte).
 * tlog_gunzip accepts exactly one member and nothing after it.
 */
#ifndef TLOG_GZIP_H
#define TLOG_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/buf.h"

/* Whether the len bytes at data start as gzip does (a data tile's own first bytes, a timestamp, never do). */
int tlog_is_gzip(const void *data, size_t len);
/* Appends the gzip of the len bytes at in to out. */
void tlog_gzip(const void *in, size_t len, tlog_buf_t *out);
/* Inflates one gzip member of at most max bytes into a malloc'd *out; 0, or -1 with err. */
int tlog_gunzip(const void *in, size_t len, size_t max, uint8_t **out, size_t *out_len, char *err);
/*
 * A data tile's entries from its file's len bytes at raw (malloc'd; taken):
 * raw itself if it is not gzip (a tile stored before faro compressed them),
 * else its inflation of at most max bytes. 0, or -1 with err naming name.
 */
int tlog_data_tile_inflate(uint8_t *raw, size_t len, size_t max, const char *name, uint8_t **out, size_t *out_len, char *err);

#endif
