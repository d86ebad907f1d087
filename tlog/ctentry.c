/*
 * static-ct-api entries: the TimestampedEntry / MerkleTreeLeaf / TileLeaf
 * encodings, their strict parser, the dedup key and the add-chain SCT JSON;
 * and the strict DER parse of a certificate an entry carries.
 *
 * Encoding appends to a tlog_buf_t (growth failure aborts), so it cannot
 * fail; the caller guarantees the lengths fit their vectors (asserted, see
 * ctentry.h). Cost: one pass over the entry's bytes.
 *
 * Parsing accepts exactly what encoding produces, so parse-then-encode
 * returns the input bytes: entry_type 0 or 1, non-empty certificate / TBS /
 * precertificate, an extensions vector holding exactly one leaf_index
 * extension and nothing else, a chain vector of whole 32-byte fingerprints.
 * The parsed entry points into the caller's buffer.
 *
 * The SCT JSON is built with snprintf (every value is a number or base64);
 * verifying one parses it with jansson and checks every field against the
 * entry, then the signature over the MerkleTreeLeaf.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>

#include "tlog/ctentry.h"
#include "tlog/dsig.h"
#include "tlog/error.h"

enum {
    CT_ENTRY_X509 = 0,
    CT_ENTRY_PRECERT = 1,
    CT_EXT_LEAF_INDEX = 0,
    CT_LEAF_INDEX_LEN = 5,
    CT_VEC24_MAX = 0xffffff,
    CT_DSIG_MAX = 4 + 1024, /* digitally-signed struct with an RSA key of up to 8192 bits */
};

void tlog_ct_extensions(uint64_t leaf_index, uint8_t out[TLOG_CT_EXTENSIONS_LEN])
{
    assert(leaf_index <= TLOG_CT_MAX_LEAF_INDEX);
    out[0] = CT_EXT_LEAF_INDEX;
    out[1] = 0;
    out[2] = CT_LEAF_INDEX_LEN;
    for (int i = 0; i < CT_LEAF_INDEX_LEN; i++)
        out[3 + i] = (uint8_t)(leaf_index >> (8 * (CT_LEAF_INDEX_LEN - 1 - i)));
}

/* u16 entry_type || (x509: vec24 certificate | precert: issuer_key_hash || vec24 tbs_certificate) */
static void ct_signed_entry(const tlog_ct_entry_t *entry, tlog_buf_t *out)
{
    assert(entry->certificate_len <= CT_VEC24_MAX);
    tlog_buf_append_uint(out, entry->is_precert ? CT_ENTRY_PRECERT : CT_ENTRY_X509, 2);
    if (entry->is_precert)
        tlog_buf_append(out, entry->issuer_key_hash, sizeof(entry->issuer_key_hash));
    tlog_buf_append_uint(out, entry->certificate_len, 3);
    tlog_buf_append(out, entry->certificate, entry->certificate_len);
}

X509 *tlog_ct_certificate_parse(const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    X509 *x;
    if (len == 0 || len > CT_VEC24_MAX)
        return NULL;
    if ((x = d2i_X509(NULL, &p, (long)len)) != NULL && p != der + len) {
        X509_free(x);
        x = NULL;
    }
    ERR_clear_error();
    return x;
}

void tlog_ct_timestamped_entry(const tlog_ct_entry_t *entry, tlog_buf_t *out)
{
    uint8_t ext[TLOG_CT_EXTENSIONS_LEN];
    tlog_ct_extensions(entry->leaf_index, ext);
    tlog_buf_append_uint(out, entry->timestamp, 8);
    ct_signed_entry(entry, out);
    tlog_buf_append_uint(out, sizeof(ext), 2);
    tlog_buf_append(out, ext, sizeof(ext));
}

void tlog_ct_merkle_tree_leaf(const tlog_ct_entry_t *entry, tlog_buf_t *out)
{
    tlog_buf_append_uint(out, 0, 1); /* version v1 */
    tlog_buf_append_uint(out, 0, 1); /* leaf_type timestamped_entry (= signature_type certificate_timestamp) */
    tlog_ct_timestamped_entry(entry, out);
}

void tlog_ct_leaf_hash(const tlog_ct_entry_t *entry, tlog_hash_t *out)
{
    tlog_buf_t leaf = TLOG_BUF_INIT;
    tlog_ct_merkle_tree_leaf(entry, &leaf);
    tlog_leaf_hash(leaf.data, leaf.len, out);
    tlog_buf_free(&leaf);
}

void tlog_ct_tile_leaf(const tlog_ct_entry_t *entry, tlog_buf_t *out)
{
    assert(entry->chain_count <= TLOG_CT_MAX_CHAIN);
    tlog_ct_timestamped_entry(entry, out);
    if (entry->is_precert) {
        assert(entry->precertificate_len <= CT_VEC24_MAX);
        tlog_buf_append_uint(out, entry->precertificate_len, 3);
        tlog_buf_append(out, entry->precertificate, entry->precertificate_len);
    }
    tlog_buf_append_uint(out, entry->chain_count * TLOG_HASH_SIZE, 2);
    tlog_buf_append(out, entry->chain_fingerprints, entry->chain_count * TLOG_HASH_SIZE);
}

void tlog_ct_dedup_key(const tlog_ct_entry_t *entry, tlog_hash_t *out)
{
    tlog_buf_t key = TLOG_BUF_INIT;
    ct_signed_entry(entry, &key);
    tlog_sha256(key.data, key.len, out);
    tlog_buf_free(&key);
}

/* A bounds-checked reader over the TileLeaf bytes; every read names the field for the error. */
typedef struct ct_reader {
    const uint8_t *p;
    size_t left;
    char *err;
} ct_reader_t;

static int ct_read_uint(ct_reader_t *r, unsigned width, uint64_t *out, const char *field)
{
    if (r->left < width)
        return tlog_errorf(r->err, "TileLeaf: truncated in %s", field);
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v = v << 8 | r->p[i];
    r->p += width;
    r->left -= width;
    *out = v;
    return 0;
}

static int ct_read_bytes(ct_reader_t *r, size_t len, const uint8_t **out, const char *field)
{
    if (r->left < len)
        return tlog_errorf(r->err, "TileLeaf: truncated in %s", field);
    *out = r->p;
    r->p += len;
    r->left -= len;
    return 0;
}

/* A non-empty vector with a width-byte length prefix. */
static int ct_read_vec(ct_reader_t *r, unsigned width, const uint8_t **out, size_t *len, const char *field)
{
    uint64_t n = 0;
    if (ct_read_uint(r, width, &n, field) != 0 || ct_read_bytes(r, n, out, field) != 0)
        return -1;
    if (n == 0)
        return tlog_errorf(r->err, "TileLeaf: empty %s", field);
    *len = n;
    return 0;
}

/* The extensions vector must hold one leaf_index extension and nothing else. */
static int ct_read_extensions(ct_reader_t *r, uint64_t *leaf_index)
{
    uint64_t len = 0;
    const uint8_t *ext = NULL;
    int found = 0;

    if (ct_read_uint(r, 2, &len, "extensions") != 0 || ct_read_bytes(r, len, &ext, "extensions") != 0)
        return -1;
    ct_reader_t er = {ext, len, r->err};
    while (er.left > 0) {
        uint64_t type = 0, data_len = 0;
        const uint8_t *data = NULL;
        if (ct_read_uint(&er, 1, &type, "extension type") != 0 || ct_read_uint(&er, 2, &data_len, "extension length") != 0 ||
            ct_read_bytes(&er, data_len, &data, "extension data") != 0)
            return -1;
        if (type != CT_EXT_LEAF_INDEX)
            return tlog_errorf(r->err, "TileLeaf: unexpected extension type %u", (unsigned)type);
        if (found)
            return tlog_errorf(r->err, "TileLeaf: duplicate leaf_index extension");
        if (data_len != CT_LEAF_INDEX_LEN)
            return tlog_errorf(r->err, "TileLeaf: leaf_index extension of %u bytes, want 5", (unsigned)data_len);
        *leaf_index = 0;
        for (int i = 0; i < CT_LEAF_INDEX_LEN; i++)
            *leaf_index = *leaf_index << 8 | data[i];
        found = 1;
    }
    if (!found)
        return tlog_errorf(r->err, "TileLeaf: no leaf_index extension");
    return 0;
}

int tlog_ct_tile_leaf_parse(const uint8_t *data, size_t len, tlog_ct_entry_t *entry, size_t *consumed, char *err)
{
    ct_reader_t r = {data, len, err};
    tlog_ct_entry_t e = {0};
    uint64_t type = 0, chain_len = 0;
    const uint8_t *ikh = NULL, *chain = NULL;

    if (ct_read_uint(&r, 8, &e.timestamp, "timestamp") != 0 || ct_read_uint(&r, 2, &type, "entry_type") != 0)
        return -1;
    if (type != CT_ENTRY_X509 && type != CT_ENTRY_PRECERT)
        return tlog_errorf(err, "TileLeaf: entry_type %u, want 0 (x509) or 1 (precert)", (unsigned)type);
    e.is_precert = type == CT_ENTRY_PRECERT;
    if (e.is_precert) {
        if (ct_read_bytes(&r, TLOG_HASH_SIZE, &ikh, "issuer_key_hash") != 0)
            return -1;
        memcpy(e.issuer_key_hash, ikh, TLOG_HASH_SIZE);
    }
    if (ct_read_vec(&r, 3, &e.certificate, &e.certificate_len, e.is_precert ? "tbs_certificate" : "certificate") != 0 ||
        ct_read_extensions(&r, &e.leaf_index) != 0)
        return -1;
    if (e.is_precert && ct_read_vec(&r, 3, &e.precertificate, &e.precertificate_len, "pre_certificate") != 0)
        return -1;
    if (ct_read_uint(&r, 2, &chain_len, "certificate_chain") != 0 || ct_read_bytes(&r, chain_len, &chain, "certificate_chain") != 0)
        return -1;
    if (chain_len % TLOG_HASH_SIZE != 0)
        return tlog_errorf(err, "TileLeaf: certificate_chain of %u bytes, not whole 32-byte fingerprints", (unsigned)chain_len);
    e.chain_fingerprints = chain;
    e.chain_count = chain_len / TLOG_HASH_SIZE;
    *entry = e;
    *consumed = len - r.left;
    return 0;
}

int tlog_ct_sct_sign(const tlog_ct_entry_t *entry, EVP_PKEY *key, tlog_nonces_t *nonces, uint8_t sig[TLOG_DSIG_P256_MAX],
                     size_t *sig_len, char *err)
{
    tlog_buf_t leaf = TLOG_BUF_INIT;
    tlog_ct_merkle_tree_leaf(entry, &leaf);
    int ret = tlog_digitally_signed_sign(key, nonces, leaf.data, leaf.len, sig, TLOG_DSIG_P256_MAX, sig_len, err);
    tlog_buf_free(&leaf);
    return ret;
}

int tlog_ct_sct_json(const uint8_t log_id[32], uint64_t timestamp, uint64_t leaf_index, const uint8_t *sig, size_t sig_len,
                     char **out, size_t *out_len, char *err)
{
    uint8_t ext[TLOG_CT_EXTENSIONS_LEN];
    char id_b64[TLOG_BASE64_LEN(32) + 1], ext_b64[TLOG_BASE64_LEN(TLOG_CT_EXTENSIONS_LEN) + 1];
    char sig_b64[TLOG_BASE64_LEN(TLOG_DSIG_P256_MAX) + 1];

    if (sig_len > TLOG_DSIG_P256_MAX)
        return tlog_errorf(err, "SCT: a %zu-byte signature, more than a P-256 key makes", sig_len);
    if (leaf_index > TLOG_CT_MAX_LEAF_INDEX)
        return tlog_errorf(err, "SCT: leaf index %llu does not fit the leaf_index extension", (unsigned long long)leaf_index);
    tlog_ct_extensions(leaf_index, ext);
    tlog_base64_encode(log_id, 32, id_b64);
    tlog_base64_encode(ext, sizeof(ext), ext_b64);
    tlog_base64_encode(sig, sig_len, sig_b64);
    size_t cap = 128 + sizeof(id_b64) + sizeof(ext_b64) + sizeof(sig_b64);
    char *json = malloc(cap);
    if (json == NULL)
        return tlog_errorf(err, "SCT: out of memory");
    int n = snprintf(json, cap, "{\"sct_version\":0,\"id\":\"%s\",\"timestamp\":%llu,\"extensions\":\"%s\",\"signature\":\"%s\"}",
                     id_b64, (unsigned long long)timestamp, ext_b64, sig_b64);
    assert(n > 0 && (size_t)n < cap);
    *out = json;
    *out_len = (size_t)n;
    return 0;
}

/* Member name of obj: a string of strict base64 that decodes to exactly want_len bytes (0: any up to cap). */
static int ct_json_b64(json_t *obj, const char *name, uint8_t *out, size_t cap, size_t want_len, size_t *out_len, char *err)
{
    json_t *v = json_object_get(obj, name);
    size_t n;
    if (!json_is_string(v))
        return tlog_errorf(err, "SCT: \"%s\" missing or not a string", name);
    if (tlog_base64_decode(json_string_value(v), json_string_length(v), out, cap, &n) != 0 || (want_len && n != want_len))
        return tlog_errorf(err, "SCT: \"%s\" is not base64 of the expected length", name);
    if (out_len != NULL)
        *out_len = n;
    return 0;
}

static int ct_json_uint(json_t *obj, const char *name, uint64_t want, char *err)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return tlog_errorf(err, "SCT: \"%s\" missing or not a whole number", name);
    if ((uint64_t)json_integer_value(v) != want)
        return tlog_errorf(err, "SCT: \"%s\" is %lld, want %llu", name, (long long)json_integer_value(v), (unsigned long long)want);
    return 0;
}

int tlog_ct_sct_json_verify(const tlog_ct_entry_t *entry, EVP_PKEY *key, const uint8_t log_id[32], const char *json, size_t len,
                            char *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    tlog_buf_t leaf = TLOG_BUF_INIT;
    uint8_t id[32], ext[TLOG_CT_EXTENSIONS_LEN], want_ext[TLOG_CT_EXTENSIONS_LEN], ds[CT_DSIG_MAX];
    size_t ds_len;
    int ret = -1;

    if (!json_is_object(root)) {
        tlog_errorf(err, "SCT: not a JSON object%s%s", root == NULL ? ": " : "", root == NULL ? jerr.text : "");
        goto done;
    }
    tlog_ct_extensions(entry->leaf_index, want_ext);
    if (ct_json_uint(root, "sct_version", 0, err) != 0 || ct_json_uint(root, "timestamp", entry->timestamp, err) != 0 ||
        ct_json_b64(root, "id", id, sizeof(id), sizeof(id), NULL, err) != 0 ||
        ct_json_b64(root, "extensions", ext, sizeof(ext), sizeof(ext), NULL, err) != 0 ||
        ct_json_b64(root, "signature", ds, sizeof(ds), 0, &ds_len, err) != 0)
        goto done;
    if (memcmp(id, log_id, sizeof(id)) != 0) {
        tlog_errorf(err, "SCT: \"id\" is not this log's ID");
        goto done;
    }
    if (memcmp(ext, want_ext, sizeof(ext)) != 0) {
        tlog_errorf(err, "SCT: \"extensions\" do not carry leaf_index %llu", (unsigned long long)entry->leaf_index);
        goto done;
    }
    tlog_ct_merkle_tree_leaf(entry, &leaf);
    ret = tlog_digitally_signed_verify(key, leaf.data, leaf.len, ds, ds_len, err);

done:
    tlog_buf_free(&leaf);
    json_decref(root);
    return ret;
}
