/*
 * The gateway's request-path grammar: any bytes name nothing, or name a
 * resource whose storage path is exactly the input's canonical spelling
 * (so no other spelling can reach a file).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = malloc(size ? size : 1);
    memcpy(path, data, size);
    gateway_route_t route = gateway_route(path, size);
    char canonical[TLOG_TILE_PATH_MAX + 1];
    switch (route.kind) {
    case GATEWAY_KIND_HASH_TILE:
    case GATEWAY_KIND_DATA_TILE:
    case GATEWAY_KIND_PARTIAL_TILE:
        canonical[0] = '/';
        if (tlog_tile_path_format(&route.tile, canonical + 1) + 1 != size || memcmp(canonical, path, size) != 0)
            abort();
        if ((route.kind == GATEWAY_KIND_PARTIAL_TILE) != (route.tile.width < TLOG_TILE_WIDTH))
            abort();
        break;
    case GATEWAY_KIND_ISSUER:
        if (size != strlen("/issuer/") + 64 || memchr(path, '.', size) != NULL)
            abort();
        break;
    case GATEWAY_KIND_CT_GET_STH:
    case GATEWAY_KIND_CT_GET_STH_CONSISTENCY:
    case GATEWAY_KIND_CT_GET_PROOF_BY_HASH:
    case GATEWAY_KIND_CT_GET_ENTRIES:
    case GATEWAY_KIND_CT_GET_ENTRY_AND_PROOF:
    case GATEWAY_KIND_CT_GET_ROOTS:
        /* "/ct/v1/get-<name>", nothing after the name */
        if (size < 11 || memcmp(path, "/ct/v1/get-", 11) != 0 || memchr(path + 7, '/', size - 7) != NULL ||
            memchr(path, '.', size) != NULL)
            abort();
        break;
    case GATEWAY_KIND_CHECKPOINT:
    case GATEWAY_KIND_LOG_JSON:
    case GATEWAY_KIND_PAGE:
    case GATEWAY_KIND_OTHER:
        break;
    default:
        abort(); /* health and metrics are not names under a log */
    }
    free(path);
    return 0;
}
