/*
 * RFC 6962 Merkle hashing with SHA-256 and the small encodings every module
 * needs to move hashes around (hex, standard base64 with padding).
 *
 *   leaf  = SHA-256(0x00 || data)
 *   node  = SHA-256(0x01 || left || right)
 *   empty = SHA-256("")
 */
#ifndef TLOG_HASH_H
#define TLOG_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TLOG_HASH_SIZE 32

typedef struct tlog_hash {
    uint8_t bytes[TLOG_HASH_SIZE];
} tlog_hash_t;

void tlog_sha256(const void *data, size_t len, tlog_hash_t *out);
void tlog_leaf_hash(const void *data, size_t len, tlog_hash_t *out);
void tlog_node_hash(const tlog_hash_t *left, const tlog_hash_t *right, tlog_hash_t *out);
void tlog_empty_root(tlog_hash_t *out);
int tlog_hash_equal(const tlog_hash_t *a, const tlog_hash_t *b);

/* Lowercase hex; out must hold 2 * len + 1 bytes. */
void tlog_hex_encode(const uint8_t *in, size_t len, char *out);
/* Exactly 2 * out_len hex digits (either case); 0 or -1. */
int tlog_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len);

/* Standard base64 with padding; out must hold TLOG_BASE64_LEN(len) + 1 bytes. Returns the length written. */
#define TLOG_BASE64_LEN(n) ((((n) + 2) / 3) * 4)
size_t tlog_base64_encode(const uint8_t *in, size_t len, char *out);
/*
 * Strict decoding: padding required, no white space, canonical trailing bits.
 * Returns 0 and the decoded length, or -1 if the input is not such base64 or
 * decodes to more than out_cap bytes.
 */
int tlog_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len);

#endif
