/*
 * The RFC 6962 query parameter parser and checks. Input: one byte of wanted
 * parameters, eight bytes of tree size, then the query. Whatever parses must
 * hold numbers of at most 2^63 - 1 and come back the same from its
 * canonical spelling; whatever passes the checks must be inside the tree;
 * get-entries never answers past end, its start's data tile or 256 entries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/ct_params.h"
#include "tlog/error.h"

#define ALL 0x7f

static void canonical(const ct_params_t *p, unsigned wanted, char *out, size_t cap)
{
    char hash[TLOG_BASE64_LEN(TLOG_HASH_SIZE) + 1];
    tlog_base64_encode(p->hash.bytes, TLOG_HASH_SIZE, hash);
    /* Percent-encode the base64 as a client would; the parser takes raw '+' and '/' too. */
    char encoded[3 * sizeof(hash)], *e = encoded;
    for (const char *c = hash; *c; c++)
        e += sprintf(e, *c == '+' || *c == '/' || *c == '=' ? "%%%02X" : "%c", *c);
    snprintf(out, cap, "leaf_index=%llu&tree_size=%llu&hash=%s&end=%llu&start=%llu&second=%llu&first=%llu",
             (unsigned long long)p->leaf_index, (unsigned long long)p->tree_size, wanted & CT_PARAM_HASH ? encoded : "x",
             (unsigned long long)p->end, (unsigned long long)p->start, (unsigned long long)p->second, (unsigned long long)p->first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9)
        return 0;
    unsigned wanted = data[0] & ALL;
    uint64_t tree_size = 0;
    for (int i = 1; i < 9; i++)
        tree_size = tree_size << 8 | data[i];
    tree_size &= INT64_MAX;
    const char *query = (const char *)data + 9;
    size_t len = size - 9;
    ct_params_t p, again;
    char err[TLOG_ERR_MAX], text[512];

    if (ct_params_parse(query, len, wanted, &p, err) != 0) {
        if (strlen(err) == 0 || strchr(err, '\n') != NULL)
            abort();
        return 0;
    }
    const uint64_t *numbers[] = {&p.first, &p.second, &p.start, &p.end, &p.tree_size, &p.leaf_index};
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        if (*numbers[i] > INT64_MAX)
            abort();
    canonical(&p, wanted, text, sizeof(text));
    if (ct_params_parse(text, strlen(text), wanted, &again, err) != 0 || memcmp(&p, &again, sizeof(p)) != 0)
        abort();

    if (ct_params_check(&p, wanted, tree_size, err) != 0)
        return 0;
    if ((wanted & CT_PARAM_END) && (wanted & CT_PARAM_START)) {
        uint64_t last = ct_entries_last(p.start, p.end);
        if (p.start > last || last > p.end || last >= tree_size || last - p.start >= CT_ENTRIES_MAX ||
            last / TLOG_TILE_WIDTH != p.start / TLOG_TILE_WIDTH)
            abort();
    }
    if ((wanted & CT_PARAM_SECOND) && p.second > tree_size)
        abort();
    if ((wanted & CT_PARAM_TREE_SIZE) && (p.tree_size == 0 || p.tree_size > tree_size))
        abort();
    if ((wanted & CT_PARAM_LEAF_INDEX) && (wanted & CT_PARAM_TREE_SIZE) && p.leaf_index >= p.tree_size)
        abort();
    return 0;
}
