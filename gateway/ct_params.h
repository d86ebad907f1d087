/*
 * The query parameters of the RFC 6962 read endpoints (RFC 6962 §4): whole
 * numbers and a base64 leaf hash, found by name in a query string
 * ("start=0&end=255"), and the checks of one request's numbers against the
 * tree size the gateway publishes. Pure functions of their arguments, safe
 * from any thread (fuzzed by tests/fuzz/fuzz_ct_params.c).
 *
 * Query syntax: "&"-separated name=value pairs. A value may be
 * percent-encoded (clients encode base64's "+", "/" and "="); a raw "+"
 * stays "+", since a leaf hash never holds a space. Parameters the endpoint
 * does not use are ignored; each one it uses must appear exactly once.
 * Numbers are decimal digits only (no sign, no spaces), at most 2^63 - 1.
 * Every error is one line naming the parameter, for a 400 body.
 */
#ifndef FARO_GATEWAY_CT_PARAMS_H
#define FARO_GATEWAY_CT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/hash.h"
#include "tlog/tile.h"

/* One bit per parameter, for the wanted mask. */
enum {
    CT_PARAM_FIRST = 1 << 0,
    CT_PARAM_SECOND = 1 << 1,
    CT_PARAM_START = 1 << 2,
    CT_PARAM_END = 1 << 3,
    CT_PARAM_HASH = 1 << 4,
    CT_PARAM_TREE_SIZE = 1 << 5,
    CT_PARAM_LEAF_INDEX = 1 << 6,
};

/* get-entries answers at most this many entries, and never past the end of the first one's data tile. */
#define CT_ENTRIES_MAX TLOG_TILE_WIDTH

typedef struct ct_params {
    uint64_t first, second; /* get-sth-consistency */
    uint64_t start, end;    /* get-entries */
    tlog_hash_t hash;       /* get-proof-by-hash */
    uint64_t tree_size;     /* get-proof-by-hash, get-entry-and-proof */
    uint64_t leaf_index;    /* get-entry-and-proof */
} ct_params_t;

/* Fills the parameters named by wanted from query[0..len) (without the '?'); 0, or -1 with err. */
int ct_params_parse(const char *query, size_t len, unsigned wanted, ct_params_t *out, char *err);

/*
 * Checks the wanted parameters against each other and against size, the
 * published tree size: start <= end < size; first <= second <= size;
 * 1 <= tree_size <= size; leaf_index < tree_size. 0, or -1 with err.
 */
int ct_params_check(const ct_params_t *params, unsigned wanted, uint64_t size, char *err);

/* The last entry get-entries returns for [start, end]: end, or the end of start's data tile if sooner. */
uint64_t ct_entries_last(uint64_t start, uint64_t end);

#endif
