/*
 * Checkpoint note text (c2sp.org/tlog-checkpoint):
 *
 *   <origin>\n<size in decimal>\n<base64 root hash>\n[<extension line>\n...]
 */
#ifndef TLOG_CHECKPOINT_H
#define TLOG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/hash.h"

#define TLOG_ORIGIN_MAX 256

typedef struct tlog_checkpoint {
    char origin[TLOG_ORIGIN_MAX]; /* NUL-terminated */
    uint64_t size;
    tlog_hash_t root;
    const char *extensions; /* points into the parsed text; each line ends in '\n' */
    size_t extensions_len;
} tlog_checkpoint_t;

/* Parses note text; rejects leading zeros, sizes above 2^63 - 1, roots that are not 32 bytes of canonical base64. */
int tlog_checkpoint_parse(const char *text, size_t len, tlog_checkpoint_t *out, char *err);
/* Formats the text (with its extension lines) into buf, NUL-terminated; returns its length, or 0 if it does not fit in cap. */
size_t tlog_checkpoint_format(const tlog_checkpoint_t *checkpoint, char *buf, size_t cap);
/* Whether origin is a valid key name and checkpoint origin (non-empty, no white space, no '+'). */
int tlog_origin_valid(const char *origin, size_t len);

#endif
