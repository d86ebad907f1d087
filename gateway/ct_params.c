/*
 * RFC 6962 query parameters (see ct_params.h). One pass over the query per
 * wanted parameter (at most two), each value percent-decoded into a small
 * stack buffer: no allocation, O(len) per request.
 */
#include <string.h>

#include "gateway/ct_params.h"
#include "tlog/error.h"

/* Longest decoded value: a base64 hash is 44 bytes, a number at most 19 digits. */
#define VALUE_MAX 64
#define NUMBER_MAX INT64_MAX

static const struct {
    unsigned bit;
    const char *name;
} params[] = {
    {CT_PARAM_FIRST, "first"}, {CT_PARAM_SECOND, "second"},       {CT_PARAM_START, "start"},           {CT_PARAM_END, "end"},
    {CT_PARAM_HASH, "hash"},   {CT_PARAM_TREE_SIZE, "tree_size"}, {CT_PARAM_LEAF_INDEX, "leaf_index"},
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes in[0..len) into out (VALUE_MAX bytes); 0, or -1 with err. */
static int decode_value(const char *name, const char *in, size_t len, char *out, size_t *out_len, char *err)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = hex_value(in[i + 1])) < 0 || (lo = hex_value(in[i + 2])) < 0)
                return tlog_errorf(err, "parameter \"%s\" has a malformed percent-encoding", name);
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (n == VALUE_MAX)
            return tlog_errorf(err, "parameter \"%s\" is too long", name);
        out[n++] = c;
    }
    *out_len = n;
    return 0;
}

/* Finds name's one value in the query, decoded into value; 0, or -1 with err if it is missing or repeated. */
static int find_value(const char *query, size_t len, const char *name, char *value, size_t *value_len, char *err)
{
    size_t name_len = strlen(name);
    int found = 0;
    const char *p = query, *end = query + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *pair_end = amp != NULL ? amp : end;
        size_t pair_len = (size_t)(pair_end - p);
        if (pair_len >= name_len && memcmp(p, name, name_len) == 0 && (pair_len == name_len || p[name_len] == '=')) {
            if (found)
                return tlog_errorf(err, "parameter \"%s\" is given more than once", name);
            found = 1;
            const char *v = p + name_len + (pair_len > name_len);
            if (decode_value(name, v, (size_t)(pair_end - v), value, value_len, err) != 0)
                return -1;
        }
        p = pair_end + 1;
    }
    if (!found)
        return tlog_errorf(err, "missing parameter \"%s\"", name);
    return 0;
}

static int parse_number(const char *name, const char *s, size_t len, uint64_t *out, char *err)
{
    uint64_t n = 0;
    if (len == 0)
        goto fail;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || n > (NUMBER_MAX - (uint64_t)(s[i] - '0')) / 10)
            goto fail;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *out = n;
    return 0;
fail:
    return tlog_errorf(err, "parameter \"%s\" must be a whole number from 0 to %lld", name, (long long)NUMBER_MAX);
}

static uint64_t *number_field(ct_params_t *p, unsigned bit)
{
    switch (bit) {
    case CT_PARAM_FIRST:
        return &p->first;
    case CT_PARAM_SECOND:
        return &p->second;
    case CT_PARAM_START:
        return &p->start;
    case CT_PARAM_END:
        return &p->end;
    case CT_PARAM_TREE_SIZE:
        return &p->tree_size;
    default:
        return &p->leaf_index;
    }
}

int ct_params_parse(const char *query, size_t len, unsigned wanted, ct_params_t *out, char *err)
{
    char value[VALUE_MAX];
    size_t value_len = 0, hash_len;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        if (!(wanted & params[i].bit))
            continue;
        if (find_value(query, len, params[i].name, value, &value_len, err) != 0)
            return -1;
        if (params[i].bit != CT_PARAM_HASH) {
            if (parse_number(params[i].name, value, value_len, number_field(out, params[i].bit), err) != 0)
                return -1;
        } else if (tlog_base64_decode(value, value_len, out->hash.bytes, TLOG_HASH_SIZE, &hash_len) != 0 ||
                   hash_len != TLOG_HASH_SIZE) {
            return tlog_errorf(err, "parameter \"hash\" must be the base64 of a 32-byte leaf hash");
        }
    }
    return 0;
}

int ct_params_check(const ct_params_t *p, unsigned wanted, uint64_t size, char *err)
{
    if ((wanted & CT_PARAM_START) && p->start > p->end)
        return tlog_errorf(err, "start (%llu) is after end (%llu)", (unsigned long long)p->start, (unsigned long long)p->end);
    if ((wanted & CT_PARAM_END) && p->end >= size)
        return tlog_errorf(err, "end (%llu) is beyond the tree: its size is %llu", (unsigned long long)p->end,
                           (unsigned long long)size);
    if ((wanted & CT_PARAM_FIRST) && p->first > p->second)
        return tlog_errorf(err, "first (%llu) is larger than second (%llu)", (unsigned long long)p->first,
                           (unsigned long long)p->second);
    if ((wanted & CT_PARAM_SECOND) && p->second > size)
        return tlog_errorf(err, "second (%llu) is larger than the tree size %llu", (unsigned long long)p->second,
                           (unsigned long long)size);
    if ((wanted & CT_PARAM_TREE_SIZE) && (p->tree_size == 0 || p->tree_size > size))
        return tlog_errorf(err, "tree_size (%llu) must be from 1 to the tree size %llu", (unsigned long long)p->tree_size,
                           (unsigned long long)size);
    if ((wanted & CT_PARAM_LEAF_INDEX) && p->leaf_index >= p->tree_size)
        return tlog_errorf(err, "leaf_index (%llu) is not below tree_size (%llu)", (unsigned long long)p->leaf_index,
                           (unsigned long long)p->tree_size);
    return 0;
}

uint64_t ct_entries_last(uint64_t start, uint64_t end)
{
    uint64_t tile_end = start | (TLOG_TILE_WIDTH - 1);
    return end < tile_end ? end : tile_end;
}
