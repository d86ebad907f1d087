/*
 * RFC 6962 signatures: the TLS digitally-signed struct (RFC 5246 §4.7) over
 * SHA-256, as SCTs and tree heads carry it,
 *
 *   u8 hash_algorithm (4 = sha256) || u8 signature_algorithm (3 = ecdsa, 1 = rsa)
 *   || u16 length || signature (for ECDSA the DER SEQUENCE{r, s})
 *
 * and the 50-byte TreeHeadSignature input a checkpoint's 0x05 note
 * signature covers. ECDSA in OpenSSL 3.0 is randomised: sign twice, get two
 * different (both valid) signatures.
 */
#ifndef TLOG_DSIG_H
#define TLOG_DSIG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tlog/hash.h"
#include "tlog/nonces.h"

/* A digitally-signed struct with an ECDSA P-256 signature is at most this long. */
#define TLOG_DSIG_P256_MAX (4 + 72)
#define TLOG_TREE_HEAD_INPUT_SIZE 50

/* version 0 || signature_type 1 (tree_hash) || u64 timestamp || u64 tree_size || root[32]. */
void tlog_tree_head_input(uint64_t timestamp_ms, uint64_t size, const tlog_hash_t *root, uint8_t out[TLOG_TREE_HEAD_INPUT_SIZE]);

/*
 * Signs msg with an EC or RSA private key; writes the struct into out (cap
 * bytes) and its length into out_len. With nonces (tlog/nonces.h, made for
 * this EC key) a reserved nonce is used when one is left.
 */
int tlog_digitally_signed_sign(EVP_PKEY *key, tlog_nonces_t *nonces, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
                               size_t *out_len, char *err);
/* Checks a digitally-signed struct of exactly ds_len bytes over msg: algorithms matching the key, length, signature. */
int tlog_digitally_signed_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *ds, size_t ds_len, char *err);

#endif
