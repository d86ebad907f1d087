/*
 * TileLeaf parser: reads a data tile's worth of TileLeafs until one fails to
 * parse; every entry that parses must re-encode to exactly the bytes it
 * consumed, and its hashes must be computable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/ctentry.h"
#include "tlog/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan catches any read past the input. */
    uint8_t *tile = malloc(size ? size : 1);
    memcpy(tile, data, size);
    size_t off = 0;
    while (off < size) {
        tlog_ct_entry_t entry;
        size_t consumed;
        char err[TLOG_ERR_MAX];
        if (tlog_ct_tile_leaf_parse(tile + off, size - off, &entry, &consumed, err) != 0)
            break;
        if (consumed == 0 || consumed > size - off)
            abort();
        tlog_buf_t again = TLOG_BUF_INIT;
        tlog_ct_tile_leaf(&entry, &again);
        if (again.len != consumed || memcmp(again.data, tile + off, consumed) != 0)
            abort();
        tlog_buf_free(&again);
        tlog_hash_t hash;
        tlog_ct_leaf_hash(&entry, &hash);
        tlog_ct_dedup_key(&entry, &hash);
        off += consumed;
    }
    free(tile);
    return 0;
}
