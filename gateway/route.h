/*
 * What a request path names under a log's monitoring prefix. Only the
 * static-ct-api grammar is recognised: a path that is not exactly one of
 * these spellings names nothing and is never looked up on disk, so "..",
 * percent-encodings, doubled slashes and query tricks cannot reach a file.
 */
#ifndef FARO_GATEWAY_ROUTE_H
#define FARO_GATEWAY_ROUTE_H

#include <stddef.h>

#include "tlog/tile.h"

typedef enum gateway_kind {
    GATEWAY_KIND_CHECKPOINT,
    GATEWAY_KIND_LOG_JSON,     /* log.v3.json */
    GATEWAY_KIND_HASH_TILE,    /* full hash tile */
    GATEWAY_KIND_DATA_TILE,    /* full data tile */
    GATEWAY_KIND_PARTIAL_TILE, /* partial hash or data tile */
    GATEWAY_KIND_ISSUER,
    GATEWAY_KIND_CT_GET_STH, /* the RFC 6962 read API under ct/v1/ (gateway/ct_api.h) */
    GATEWAY_KIND_CT_GET_STH_CONSISTENCY,
    GATEWAY_KIND_CT_GET_PROOF_BY_HASH,
    GATEWAY_KIND_CT_GET_ENTRIES,
    GATEWAY_KIND_CT_GET_ENTRY_AND_PROOF,
    GATEWAY_KIND_CT_GET_ROOTS,
    GATEWAY_KIND_PAGE, /* the log's page (its prefix with or without "/"), or the index */
    GATEWAY_KIND_HEALTH,
    GATEWAY_KIND_METRICS,
    GATEWAY_KIND_OTHER, /* anything else: 404 */
    GATEWAY_KIND_COUNT
} gateway_kind_t;

/* Label values for metrics: "checkpoint", "log_json", "hash_tile", ..., "get_sth", ... */
extern const char *const gateway_kind_names[GATEWAY_KIND_COUNT];

/* Whether kind is one of the RFC 6962 read endpoints. */
static inline int gateway_kind_is_ct(gateway_kind_t kind)
{
    return kind >= GATEWAY_KIND_CT_GET_STH && kind <= GATEWAY_KIND_CT_GET_ROOTS;
}

typedef struct gateway_route {
    gateway_kind_t kind;
    tlog_tile_t tile; /* for tile kinds */
} gateway_route_t;

/*
 * Names the resource at path, the part of the request path after the log's
 * prefix (so "" or "/" is the log's page, "/checkpoint" its checkpoint,
 * "/ct/v1/get-sth" its RFC 6962 tree head). A file kind's storage path is
 * path + 1.
 */
gateway_route_t gateway_route(const char *path, size_t len);

#endif
