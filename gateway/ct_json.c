/*
 * RFC 6962 read API bodies and extra_data (see ct_json.h). Each appender
 * reserves what base64 needs and encodes in place: one pass, no
 * intermediate strings.
 */
#include <inttypes.h>

#include "gateway/ct_json.h"
#include "tlog/error.h"

#define VEC24_MAX ((1u << 24) - 1)
/* Appends a string literal (get-entries appends a few per entry: no printf). */
#define APPEND_LITERAL(out, s) tlog_buf_append((out), (s), sizeof(s) - 1)

/* "<base64 of data>" */
static void append_b64(tlog_buf_t *out, const uint8_t *data, size_t len)
{
    tlog_buf_reserve(out, TLOG_BASE64_LEN(len) + 3);
    out->data[out->len++] = '"';
    out->len += tlog_base64_encode(data, len, (char *)out->data + out->len);
    out->data[out->len++] = '"';
}

/* "name":["<b64>",...] */
static void append_hashes(tlog_buf_t *out, const char *name, const tlog_hash_t *hashes, size_t n)
{
    tlog_buf_appendf(out, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            tlog_buf_append(out, ",", 1);
        append_b64(out, hashes[i].bytes, TLOG_HASH_SIZE);
    }
    tlog_buf_append(out, "]", 1);
}

void ct_json_sth(uint64_t size, uint64_t timestamp_ms, const tlog_hash_t *root, const uint8_t *signature, size_t signature_len,
                 tlog_buf_t *out)
{
    tlog_buf_appendf(out, "{\"tree_size\":%" PRIu64 ",\"timestamp\":%" PRIu64 ",\"sha256_root_hash\":", size, timestamp_ms);
    append_b64(out, root->bytes, TLOG_HASH_SIZE);
    APPEND_LITERAL(out, ",\"tree_head_signature\":");
    append_b64(out, signature, signature_len);
    tlog_buf_append(out, "}", 1);
}

void ct_json_consistency(const tlog_hash_t *proof, size_t len, tlog_buf_t *out)
{
    tlog_buf_append(out, "{", 1);
    append_hashes(out, "consistency", proof, len);
    tlog_buf_append(out, "}", 1);
}

void ct_json_proof_by_hash(uint64_t leaf_index, const tlog_hash_t *proof, size_t len, tlog_buf_t *out)
{
    tlog_buf_appendf(out, "{\"leaf_index\":%" PRIu64 ",", leaf_index);
    append_hashes(out, "audit_path", proof, len);
    tlog_buf_append(out, "}", 1);
}

void ct_json_entry(const tlog_buf_t *leaf_input, const tlog_buf_t *extra_data, const tlog_hash_t *audit_path, size_t audit_len,
                   tlog_buf_t *out)
{
    APPEND_LITERAL(out, "{\"leaf_input\":");
    append_b64(out, leaf_input->data, leaf_input->len);
    APPEND_LITERAL(out, ",\"extra_data\":");
    append_b64(out, extra_data->data, extra_data->len);
    if (audit_path != NULL) {
        APPEND_LITERAL(out, ",");
        append_hashes(out, "audit_path", audit_path, audit_len);
    }
    tlog_buf_append(out, "}", 1);
}

int ct_extra_data(const tlog_ct_entry_t *entry, const ct_cert_t *chain, size_t n, tlog_buf_t *out, char *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (chain[i].len > VEC24_MAX || (total += 3 + chain[i].len) > VEC24_MAX)
            return tlog_errorf(err, "entry %" PRIu64 ": its chain is longer than 2^24 bytes", entry->leaf_index);
    }
    if (entry->is_precert) {
        tlog_buf_append_uint(out, entry->precertificate_len, 3);
        tlog_buf_append(out, entry->precertificate, entry->precertificate_len);
    }
    tlog_buf_append_uint(out, total, 3);
    for (size_t i = 0; i < n; i++) {
        tlog_buf_append_uint(out, chain[i].len, 3);
        tlog_buf_append(out, chain[i].der, chain[i].len);
    }
    return 0;
}
