/*
 * The resource grammar under a monitoring prefix (see route.h), checked
 * byte by byte: tile paths by tlog_tile_path_parse, issuers as exactly 64
 * lowercase hex digits (the SHA-256 the writer names them by), the RFC 6962
 * read endpoints by name under ct/v1/ (their query is the handler's).
 */
#include <string.h>

#include "gateway/route.h"
#include "tlog/error.h"

const char *const gateway_kind_names[GATEWAY_KIND_COUNT] = {
    "checkpoint",
    "log_json",
    "hash_tile",
    "data_tile",
    "partial_tile",
    "issuer",
    "get_sth",
    "get_sth_consistency",
    "get_proof_by_hash",
    "get_entries",
    "get_entry_and_proof",
    "get_roots",
    "page",
    "health",
    "metrics",
    "other",
};

#define CT_PREFIX "/ct/v1/"

/* The RFC 6962 endpoints, in the order of their kinds. */
static const char *const ct_endpoints[] = {
    "get-sth", "get-sth-consistency", "get-proof-by-hash", "get-entries", "get-entry-and-proof", "get-roots",
};

#define ISSUER_PREFIX "/issuer/"
#define ISSUER_HEX_LEN 64

static int is_lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int path_is(const char *path, size_t len, const char *literal)
{
    return len == strlen(literal) && memcmp(path, literal, len) == 0;
}

gateway_route_t gateway_route(const char *path, size_t len)
{
    gateway_route_t route = {.kind = GATEWAY_KIND_OTHER};
    char err[TLOG_ERR_MAX];

    if (len == 0 || path_is(path, len, "/"))
        route.kind = GATEWAY_KIND_PAGE;
    else if (path_is(path, len, "/checkpoint"))
        route.kind = GATEWAY_KIND_CHECKPOINT;
    else if (path_is(path, len, "/log.v3.json"))
        route.kind = GATEWAY_KIND_LOG_JSON;
    else if (len == strlen(ISSUER_PREFIX) + ISSUER_HEX_LEN && memcmp(path, ISSUER_PREFIX, strlen(ISSUER_PREFIX)) == 0 &&
             is_lower_hex(path + strlen(ISSUER_PREFIX), ISSUER_HEX_LEN))
        route.kind = GATEWAY_KIND_ISSUER;
    else if (len > strlen(CT_PREFIX) && memcmp(path, CT_PREFIX, strlen(CT_PREFIX)) == 0) {
        for (size_t i = 0; i < sizeof(ct_endpoints) / sizeof(ct_endpoints[0]); i++)
            if (path_is(path + strlen(CT_PREFIX), len - strlen(CT_PREFIX), ct_endpoints[i]))
                route.kind = GATEWAY_KIND_CT_GET_STH + (int)i;
    } else if (path[0] == '/' && tlog_tile_path_parse(path + 1, len - 1, &route.tile, err) == 0)
        route.kind = route.tile.width < TLOG_TILE_WIDTH   ? GATEWAY_KIND_PARTIAL_TILE
                     : route.tile.level == TLOG_TILE_DATA ? GATEWAY_KIND_DATA_TILE
                                                          : GATEWAY_KIND_HASH_TILE;
    return route;
}
