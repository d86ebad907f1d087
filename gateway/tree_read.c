/*
 * Tree reads beneath a log's storage (see tree_read.h). Costs: a hash tile
 * is one open and one pread of width * 32 bytes; a data tile one open and
 * one pread of the file, plus inflate when it is gzip; an issuer one open
 * and one SHA-256 per request that needs it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/files.h"
#include "gateway/tree_read.h"
#include "tlog/error.h"
#include "tlog/gzip.h"

/* A certificate's DER is a vec24. */
#define ISSUER_MAX (1 << 24)

struct tree_issuer {
    uint8_t fingerprint[TLOG_HASH_SIZE];
    char *der;
    size_t len;
};

/* Opens tile, or the full tile when the partial one is gone; the fd, or -1 with err. */
static int open_tile(int storage_fd, const tlog_tile_t *tile, struct stat *st, char *err)
{
    char path[TLOG_TILE_PATH_MAX], full_path[TLOG_TILE_PATH_MAX];
    tlog_tile_path_format(tile, path);
    int fd = gateway_files_open(storage_fd, path, st);
    if (fd < 0 && errno == ENOENT && tile->width < TLOG_TILE_WIDTH) {
        tlog_tile_t full = {tile->level, tile->index, TLOG_TILE_WIDTH};
        tlog_tile_path_format(&full, full_path);
        fd = gateway_files_open(storage_fd, full_path, st);
    }
    if (fd < 0)
        return tlog_errorf(err, "%s: %s", path, strerror(errno));
    return fd;
}

int tree_read_hash_tile(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err)
{
    struct stat st;
    size_t len = (size_t)tile->width * TLOG_HASH_SIZE;
    int fd = open_tile(*(const int *)ctx, tile, &st, err);
    if (fd < 0)
        return -1;
    int ret = 0;
    if ((size_t)st.st_size != len && (size_t)st.st_size != TLOG_TILE_BYTES)
        ret = tlog_errorf(err, "hash tile %d/%llu: %lld bytes, not %zu", tile->level, (unsigned long long)tile->index,
                          (long long)st.st_size, len);
    else if (gateway_files_read(fd, (char *)out, len) != 0)
        ret = tlog_errorf(err, "hash tile %d/%llu: %s", tile->level, (unsigned long long)tile->index, strerror(errno));
    close(fd);
    return ret;
}

int tree_open_data_tile(int storage_fd, const tlog_tile_t *tile, struct stat *st, char *err)
{
    return open_tile(storage_fd, tile, st, err);
}

int tree_read_data_tile(int fd, const struct stat *st, uint8_t **out, size_t *out_len, char *err)
{
    size_t len = (size_t)st->st_size;
    if (st->st_size > GATEWAY_FILE_MAX)
        return tlog_errorf(err, "data tile is larger than %d bytes", GATEWAY_FILE_MAX);
    uint8_t *raw = malloc(len ? len : 1);
    if (raw == NULL)
        abort();
    if (gateway_files_read(fd, (char *)raw, len) != 0) {
        free(raw);
        return tlog_errorf(err, "reading a data tile: %s", strerror(errno));
    }
    return tlog_data_tile_inflate(raw, len, GATEWAY_FILE_MAX, "data tile", out, out_len, err);
}

int tree_issuer(int storage_fd, tree_issuers_t *cache, const uint8_t fingerprint[TLOG_HASH_SIZE], ct_cert_t *out, char *err)
{
    for (size_t i = 0; i < cache->count; i++)
        if (memcmp(cache->items[i].fingerprint, fingerprint, TLOG_HASH_SIZE) == 0) {
            *out = (ct_cert_t){(const uint8_t *)cache->items[i].der, cache->items[i].len};
            return 0;
        }
    char path[8 + 2 * TLOG_HASH_SIZE + 1] = "issuer/";
    tlog_hex_encode(fingerprint, TLOG_HASH_SIZE, path + 7);
    struct tree_issuer item;
    tlog_hash_t digest;
    memcpy(item.fingerprint, fingerprint, TLOG_HASH_SIZE);
    if (gateway_files_slurp(storage_fd, path, ISSUER_MAX, &item.der, &item.len, err) != 0)
        return -1;
    tlog_sha256(item.der, item.len, &digest);
    if (memcmp(digest.bytes, fingerprint, TLOG_HASH_SIZE) != 0) {
        free(item.der);
        return tlog_errorf(err, "%s: its bytes do not hash to its name", path);
    }
    if (cache->count == cache->cap) {
        cache->cap = cache->cap ? 2 * cache->cap : 8;
        if ((cache->items = realloc(cache->items, cache->cap * sizeof(*cache->items))) == NULL)
            abort();
    }
    cache->items[cache->count++] = item;
    *out = (ct_cert_t){(const uint8_t *)item.der, item.len};
    return 0;
}

void tree_issuers_free(tree_issuers_t *cache)
{
    for (size_t i = 0; i < cache->count; i++)
        free(cache->items[i].der);
    free(cache->items);
    cache->count = cache->cap = 0;
    cache->items = NULL;
}
