/*
 * static-ct-api log entries (spec/static-ct.md §4, §5, §7.3, §8):
 *
 *   TimestampedEntry = u64 timestamp || u16 entry_type ||
 *                      (x509: vec24 certificate | precert: issuer_key_hash[32] || vec24 tbs_certificate) ||
 *                      vec16 extensions (one leaf_index extension: 00 0005 <u40 index>)
 *   MerkleTreeLeaf   = 0x00 0x00 || TimestampedEntry  (= the SCT signature input)
 *   TileLeaf         = TimestampedEntry || (precert: vec24 pre_certificate) || vec16 chain fingerprints
 *
 * An entry points into buffers owned by the caller. The encoders assert what
 * the writer's chain checks already guarantee: certificate and precertificate
 * shorter than 2^24 bytes, at most TLOG_CT_MAX_CHAIN fingerprints, leaf index
 * at most TLOG_CT_MAX_LEAF_INDEX.
 */
#ifndef TLOG_CTENTRY_H
#define TLOG_CTENTRY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tlog/buf.h"
#include "tlog/dsig.h"
#include "tlog/hash.h"
#include "tlog/nonces.h"

#define TLOG_CT_MAX_LEAF_INDEX ((UINT64_C(1) << 40) - 1)
#define TLOG_CT_EXTENSIONS_LEN 8
#define TLOG_CT_MAX_CHAIN (0xffff / TLOG_HASH_SIZE)

typedef struct tlog_ct_entry {
    uint64_t timestamp; /* ms */
    uint64_t leaf_index;
    int is_precert;
    const uint8_t *certificate; /* x509: the certificate DER; precert: the defanged TBSCertificate DER */
    size_t certificate_len;
    uint8_t issuer_key_hash[32];   /* precert only */
    const uint8_t *precertificate; /* precert only: the submitted precertificate DER */
    size_t precertificate_len;
    const uint8_t *chain_fingerprints; /* SHA-256 of each chain certificate after the first, root last */
    size_t chain_count;
} tlog_ct_entry_t;

/* The 8 bytes of the leaf_index extension (the SCT's "extensions" field). */
void tlog_ct_extensions(uint64_t leaf_index, uint8_t out[TLOG_CT_EXTENSIONS_LEN]);
void tlog_ct_timestamped_entry(const tlog_ct_entry_t *entry, tlog_buf_t *out);
void tlog_ct_merkle_tree_leaf(const tlog_ct_entry_t *entry, tlog_buf_t *out);
void tlog_ct_leaf_hash(const tlog_ct_entry_t *entry, tlog_hash_t *out);
void tlog_ct_tile_leaf(const tlog_ct_entry_t *entry, tlog_buf_t *out);
/*
 * Parses the TileLeaf at data[0..len) into entry (pointing into data) and
 * its length into *consumed. Accepts only what tlog_ct_tile_leaf writes:
 * entry_type 0 or 1, non-empty certificate / TBS / precertificate, exactly
 * one leaf_index extension and no other, whole 32-byte fingerprints.
 */
int tlog_ct_tile_leaf_parse(const uint8_t *data, size_t len, tlog_ct_entry_t *entry, size_t *consumed, char *err);
/*
 * Parses a DER certificate of the size an entry can carry: 1 to 2^24-1 bytes
 * (a vec24), nothing after it. NULL if it is not one; free with X509_free.
 */
X509 *tlog_ct_certificate_parse(const uint8_t *der, size_t len);
/* Dedup key: SHA-256(u16 entry_type || [issuer_key_hash] || vec24 certificate). */
void tlog_ct_dedup_key(const tlog_ct_entry_t *entry, tlog_hash_t *out);

/*
 * An SCT's signature: the digitally-signed struct over entry's
 * MerkleTreeLeaf, made with the log's ECDSA P-256 key (and a reserved nonce
 * when nonces has one; NULL for none), into sig.
 */
int tlog_ct_sct_sign(const tlog_ct_entry_t *entry, EVP_PKEY *key, tlog_nonces_t *nonces, uint8_t sig[TLOG_DSIG_P256_MAX],
                     size_t *sig_len, char *err);
/*
 * The add-chain JSON response for the SCT with this timestamp, leaf index
 * and signature, {"sct_version":0,"id":...,"timestamp":...,"extensions":...,
 * "signature":...}, into out (NUL-terminated, malloc'd): the same bytes
 * every time for the same arguments.
 */
int tlog_ct_sct_json(const uint8_t log_id[32], uint64_t timestamp, uint64_t leaf_index, const uint8_t *sig, size_t sig_len,
                     char **out, size_t *out_len, char *err);
/* Verifies an add-chain JSON response for entry against the log's public key. */
int tlog_ct_sct_json_verify(const tlog_ct_entry_t *entry, EVP_PKEY *key, const uint8_t log_id[32], const char *json, size_t len,
                            char *err);

#endif
