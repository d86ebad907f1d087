/* Tile path parser: any bytes either fail or round-trip exactly through the formatter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/error.h"
#include "tlog/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan catches any read past the input. */
    char *path = malloc(size ? size : 1);
    memcpy(path, data, size);
    tlog_tile_t tile;
    char err[TLOG_ERR_MAX];
    if (tlog_tile_path_parse(path, size, &tile, err) == 0) {
        char again[TLOG_TILE_PATH_MAX];
        size_t len = tlog_tile_path_format(&tile, again);
        if (len != size || memcmp(again, path, size) != 0)
            abort();
    }
    free(path);
    return 0;
}
