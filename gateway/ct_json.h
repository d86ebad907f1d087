/*
 * The bodies of the RFC 6962 read API (RFC 6962 §4), appended to a buffer.
 * Like the writer's SCT and get-roots bodies they are written by hand: every
 * value is a number or standard base64, so nothing needs escaping.
 *
 * And extra_data (§4.6), the chain a log entry carries, rebuilt from the
 * issuer files a TileLeaf names by fingerprint:
 *   x509:    certificate_chain             = vec24<vec24 ASN.1Cert>
 *   precert: PrecertChainEntry             = vec24 pre_certificate || vec24<vec24 ASN.1Cert>
 */
#ifndef FARO_GATEWAY_CT_JSON_H
#define FARO_GATEWAY_CT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/buf.h"
#include "tlog/ctentry.h"
#include "tlog/hash.h"

typedef struct ct_cert {
    const uint8_t *der;
    size_t len;
} ct_cert_t;

/* {"tree_size":N,"timestamp":T,"sha256_root_hash":"<b64>","tree_head_signature":"<b64 digitally-signed>"} */
void ct_json_sth(uint64_t size, uint64_t timestamp_ms, const tlog_hash_t *root, const uint8_t *signature, size_t signature_len,
                 tlog_buf_t *out);
/* {"consistency":["<b64>",...]} */
void ct_json_consistency(const tlog_hash_t *proof, size_t len, tlog_buf_t *out);
/* {"leaf_index":N,"audit_path":["<b64>",...]} */
void ct_json_proof_by_hash(uint64_t leaf_index, const tlog_hash_t *proof, size_t len, tlog_buf_t *out);
/*
 * {"leaf_input":"<b64>","extra_data":"<b64>"}, one get-entries entry; with
 * audit_path not NULL, {..., "audit_path":[...]} as get-entry-and-proof.
 */
void ct_json_entry(const tlog_buf_t *leaf_input, const tlog_buf_t *extra_data, const tlog_hash_t *audit_path, size_t audit_len,
                   tlog_buf_t *out);

/* Appends entry's extra_data with chain (the certificates after the first, root last); -1 with err if over 2^24 bytes. */
int ct_extra_data(const tlog_ct_entry_t *entry, const ct_cert_t *chain, size_t n, tlog_buf_t *out, char *err);

#endif
