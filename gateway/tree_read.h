/*
 * Reading a log's tree from its storage directory for the RFC 6962 read
 * API: hash tiles for proofs and the leaf index, data tiles (gunzipped when
 * the writer stored them compressed), and issuer certificates by
 * fingerprint. Every open goes through gateway/files.h: beneath the storage
 * directory, regular files only.
 *
 * A partial tile that is gone (a writer may delete it once the full tile
 * exists, static-ct-api §7.2) is read from the prefix of the full tile,
 * which holds the same entries.
 */
#ifndef FARO_GATEWAY_TREE_READ_H
#define FARO_GATEWAY_TREE_READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "gateway/ct_json.h"
#include "tlog/tile.h"

/* A tlog_tile_read_fn: ctx points to the storage directory's fd. */
int tree_read_hash_tile(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err);

/* Opens data tile `tile` (or the full tile in its place): the fd and its stat, or -1 with err. */
int tree_open_data_tile(int storage_fd, const tlog_tile_t *tile, struct stat *st, char *err);
/* Reads an open data tile, gunzipping it if it is gzip, into *out (malloc'd); 0 or -1 with err. */
int tree_read_data_tile(int fd, const struct stat *st, uint8_t **out, size_t *out_len, char *err);

/* Issuers read so far, by fingerprint: one request's cache. Start with TREE_ISSUERS_INIT. */
typedef struct tree_issuers {
    size_t count, cap;
    struct tree_issuer *items;
} tree_issuers_t;

#define TREE_ISSUERS_INIT                                                                                                          \
    {                                                                                                                              \
        0, 0, NULL                                                                                                                 \
    }

/*
 * The issuer named by fingerprint (issuer/<hex>), read once per cache and
 * checked to hash to its name; out points into the cache. 0 or -1 with err.
 */
int tree_issuer(int storage_fd, tree_issuers_t *cache, const uint8_t fingerprint[TLOG_HASH_SIZE], ct_cert_t *out, char *err);
void tree_issuers_free(tree_issuers_t *cache);

#endif
