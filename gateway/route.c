/*
 * The resource grammar under a monitoring prefix (see route.h), checked
 * byte by byte: tile paths by tlog_tile_path_parse, issuers as exactly 64
 * lowercase hex digits (the SHA-256 the writer names them by).
 */
#include <string.h>

#include "gateway/route.h"
#include "tlog/error.h"

const char *const gateway_kind_names[GATEWAY_KIND_COUNT] = {
    "checkpoint", "log_json", "hash_tile", "data_tile", "partial_tile", "issuer", "page", "health", "metrics", "other",
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
    else if (path[0] == '/' && tlog_tile_path_parse(path + 1, len - 1, &route.tile, err) == 0)
        route.kind = route.tile.width < TLOG_TILE_WIDTH   ? GATEWAY_KIND_PARTIAL_TILE
                     : route.tile.level == TLOG_TILE_DATA ? GATEWAY_KIND_DATA_TILE
                                                          : GATEWAY_KIND_HASH_TILE;
    return route;
}
