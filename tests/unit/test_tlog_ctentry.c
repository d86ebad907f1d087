/* static-ct-api entries against spec/vectors/static-ct.json, the strict TileLeaf parser, and the SCT JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "tests/unit/vectors.h"
#include "tlog/ctentry.h"
#include "tlog/dsig.h"
#include "tlog/error.h"

/* The vector entries' fields, decoded; the entry points into them. */
typedef struct vec_entry {
    json_t *json;
    tlog_ct_entry_t entry;
    uint8_t chain[64];
} vec_entry_t;

static void vec_entry_load(json_t *v, const char *name, vec_entry_t *out)
{
    json_t *e = json_object_get(v, name);
    uint8_t *issuer_fp = vectors_hex(v, "issuer_fingerprint_hex", NULL);
    uint8_t *root_fp = vectors_hex(v, "root_fingerprint_hex", NULL);

    memset(out, 0, sizeof(*out));
    out->json = e;
    out->entry.timestamp = (uint64_t)json_integer_value(json_object_get(e, "timestamp"));
    out->entry.leaf_index = (uint64_t)json_integer_value(json_object_get(e, "leaf_index"));
    if (json_object_get(e, "pre_certificate_ascii") != NULL) {
        uint8_t *ikh = vectors_hex(e, "issuer_key_hash_hex", NULL);
        out->entry.is_precert = 1;
        memcpy(out->entry.issuer_key_hash, ikh, 32);
        free(ikh);
        out->entry.certificate = (const uint8_t *)vectors_string(e, "tbs_certificate_ascii");
        out->entry.precertificate = (const uint8_t *)vectors_string(e, "pre_certificate_ascii");
        out->entry.precertificate_len = strlen((const char *)out->entry.precertificate);
    } else {
        out->entry.certificate = (const uint8_t *)vectors_string(e, "certificate_ascii");
    }
    out->entry.certificate_len = strlen((const char *)out->entry.certificate);
    memcpy(out->chain, issuer_fp, 32);
    memcpy(out->chain + 32, root_fp, 32);
    out->entry.chain_fingerprints = out->chain;
    out->entry.chain_count = 2;
    free(issuer_fp);
    free(root_fp);
}

static void assert_buf_hex(const tlog_buf_t *buf, json_t *obj, const char *key)
{
    size_t len;
    uint8_t *want = vectors_hex(obj, key, &len);
    assert_int_equal(buf->len, len);
    assert_memory_equal(buf->data, want, len);
    free(want);
}

static void assert_entries_equal(const tlog_ct_entry_t *a, const tlog_ct_entry_t *b)
{
    assert_int_equal(a->timestamp, b->timestamp);
    assert_int_equal(a->leaf_index, b->leaf_index);
    assert_int_equal(a->is_precert, b->is_precert);
    assert_int_equal(a->certificate_len, b->certificate_len);
    assert_memory_equal(a->certificate, b->certificate, a->certificate_len);
    assert_int_equal(a->precertificate_len, b->precertificate_len);
    if (a->is_precert) {
        assert_memory_equal(a->issuer_key_hash, b->issuer_key_hash, 32);
        assert_memory_equal(a->precertificate, b->precertificate, a->precertificate_len);
    }
    assert_int_equal(a->chain_count, b->chain_count);
    assert_memory_equal(a->chain_fingerprints, b->chain_fingerprints, a->chain_count * 32);
}

static void test_tlog_ctentry_extensions_match_vectors(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("static-ct.json");
    json_t *ext = json_object_get(v, "extensions_leaf_index");
    const char *key;
    json_t *value;
    size_t n = 0;
    json_object_foreach(ext, key, value)
    {
        uint8_t got[TLOG_CT_EXTENSIONS_LEN];
        uint8_t *want = vectors_hex(ext, key, NULL);
        tlog_ct_extensions(strtoull(key, NULL, 10), got);
        assert_memory_equal(got, want, sizeof(got));
        free(want);
        n++;
    }
    assert_int_equal(n, 5);
    json_decref(v);
}

static void test_tlog_ctentry_entries_match_vectors(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("static-ct.json");
    const char *names[] = {"entry0_x509", "entry1_precert"};
    for (size_t i = 0; i < 2; i++) {
        vec_entry_t ve;
        tlog_buf_t te = TLOG_BUF_INIT, mtl = TLOG_BUF_INIT, tile = TLOG_BUF_INIT, again = TLOG_BUF_INIT;
        tlog_hash_t hash;
        tlog_ct_entry_t parsed;
        size_t consumed;
        char err[TLOG_ERR_MAX];

        vec_entry_load(v, names[i], &ve);
        tlog_ct_timestamped_entry(&ve.entry, &te);
        assert_buf_hex(&te, ve.json, "timestamped_entry_hex");
        tlog_ct_merkle_tree_leaf(&ve.entry, &mtl);
        assert_buf_hex(&mtl, ve.json, "merkle_tree_leaf_hex");
        tlog_ct_leaf_hash(&ve.entry, &hash);
        uint8_t *want = vectors_hex(ve.json, "leaf_hash_hex", NULL);
        assert_memory_equal(hash.bytes, want, 32);
        free(want);
        tlog_ct_tile_leaf(&ve.entry, &tile);
        assert_buf_hex(&tile, ve.json, "tile_leaf_hex");

        assert_int_equal(tlog_ct_tile_leaf_parse(tile.data, tile.len, &parsed, &consumed, err), 0);
        assert_int_equal(consumed, tile.len);
        assert_entries_equal(&parsed, &ve.entry);
        tlog_ct_tile_leaf(&parsed, &again);
        assert_int_equal(again.len, tile.len);
        assert_memory_equal(again.data, tile.data, tile.len);

        tlog_buf_free(&te);
        tlog_buf_free(&mtl);
        tlog_buf_free(&tile);
        tlog_buf_free(&again);
    }
    json_decref(v);
}

static void test_tlog_ctentry_tree_size_2_tiles_match_vectors(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("static-ct.json");
    json_t *tree = json_object_get(v, "tree_size_2");
    vec_entry_t e0, e1;
    tlog_buf_t data = TLOG_BUF_INIT, hashes = TLOG_BUF_INIT;
    tlog_hash_t h;

    vec_entry_load(v, "entry0_x509", &e0);
    vec_entry_load(v, "entry1_precert", &e1);
    tlog_ct_tile_leaf(&e0.entry, &data);
    tlog_ct_tile_leaf(&e1.entry, &data);
    assert_buf_hex(&data, tree, "data_tile_hex");
    tlog_ct_leaf_hash(&e0.entry, &h);
    tlog_buf_append(&hashes, h.bytes, 32);
    tlog_ct_leaf_hash(&e1.entry, &h);
    tlog_buf_append(&hashes, h.bytes, 32);
    assert_buf_hex(&hashes, tree, "hash_tile_hex");

    /* Reading the data tile back: each entry's leaf index is its position, its leaf hash the hash tile's entry. */
    size_t off = 0, i = 0;
    while (off < data.len) {
        tlog_ct_entry_t entry;
        size_t consumed;
        char err[TLOG_ERR_MAX];
        assert_int_equal(tlog_ct_tile_leaf_parse(data.data + off, data.len - off, &entry, &consumed, err), 0);
        assert_int_equal(entry.leaf_index, i);
        tlog_ct_leaf_hash(&entry, &h);
        assert_memory_equal(h.bytes, hashes.data + 32 * i, 32);
        off += consumed;
        i++;
    }
    assert_int_equal(i, 2);
    tlog_buf_free(&data);
    tlog_buf_free(&hashes);
    json_decref(v);
}

static void test_tlog_ctentry_dedup_key_covers_the_signed_entry(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("static-ct.json");
    vec_entry_t e0, e1;
    tlog_buf_t want = TLOG_BUF_INIT;
    tlog_hash_t got, expect, other;

    vec_entry_load(v, "entry1_precert", &e1);
    tlog_buf_append_uint(&want, 1, 2);
    tlog_buf_append(&want, e1.entry.issuer_key_hash, 32);
    tlog_buf_append_uint(&want, e1.entry.certificate_len, 3);
    tlog_buf_append(&want, e1.entry.certificate, e1.entry.certificate_len);
    tlog_sha256(want.data, want.len, &expect);
    tlog_ct_dedup_key(&e1.entry, &got);
    assert_true(tlog_hash_equal(&got, &expect));

    /* Timestamp, index and chain do not change the key; the entry does. */
    e1.entry.timestamp++;
    e1.entry.leaf_index = 77;
    e1.entry.chain_count = 1;
    tlog_ct_dedup_key(&e1.entry, &other);
    assert_true(tlog_hash_equal(&got, &other));
    e1.entry.issuer_key_hash[0] ^= 1;
    tlog_ct_dedup_key(&e1.entry, &other);
    assert_false(tlog_hash_equal(&got, &other));
    vec_entry_load(v, "entry0_x509", &e0);
    tlog_ct_dedup_key(&e0.entry, &other);
    assert_false(tlog_hash_equal(&got, &other));
    tlog_buf_free(&want);
    json_decref(v);
}

static EVP_PKEY *vector_public_key(json_t *log_key)
{
    size_t len;
    uint8_t *spki = vectors_hex(log_key, "spki_der_hex", &len);
    const uint8_t *p = spki;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    assert_non_null(key);
    free(spki);
    return key;
}

/* The private key from its scalar; the public point is the SPKI's last 65 bytes. */
static EVP_PKEY *vector_private_key(json_t *log_key)
{
    size_t spki_len;
    uint8_t *scalar = vectors_hex(log_key, "ecdsa_p256_private_scalar_hex", NULL);
    uint8_t *spki = vectors_hex(log_key, "spki_der_hex", &spki_len);
    BIGNUM *priv = BN_bin2bn(scalar, 32, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;

    assert_true(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0));
    assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv));
    assert_true(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, spki + spki_len - 65, 65));
    params = OSSL_PARAM_BLD_to_param(bld);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params), 1);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_clear_free(priv);
    free(scalar);
    free(spki);
    return key;
}

static void test_tlog_ctentry_sct_matches_vector(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("static-ct.json");
    json_t *sct = json_object_get(v, "sct_for_entry0");
    json_t *log_key = json_object_get(v, "log_key");
    EVP_PKEY *pub = vector_public_key(log_key), *priv = vector_private_key(log_key);
    uint8_t *log_id = vectors_hex(log_key, "log_id_hex", NULL);
    const char *want_json = vectors_string(sct, "add_chain_response_json");
    vec_entry_t e0;
    tlog_buf_t mtl = TLOG_BUF_INIT, serialized = TLOG_BUF_INIT;
    char err[TLOG_ERR_MAX];
    size_t ds_len;

    vec_entry_load(v, "entry0_x509", &e0);
    tlog_ct_merkle_tree_leaf(&e0.entry, &mtl);
    assert_buf_hex(&mtl, sct, "signature_input_hex");

    /* The vector's SCT verifies, as JSON and as the serialized SCT of RFC 6962 §3.3. */
    assert_int_equal(tlog_ct_sct_json_verify(&e0.entry, pub, log_id, want_json, strlen(want_json), err), 0);
    uint8_t *ds = vectors_hex(sct, "digitally_signed_hex", &ds_len);
    assert_int_equal(tlog_digitally_signed_verify(pub, mtl.data, mtl.len, ds, ds_len, err), 0);

    /* From the vector's signature, the vector's answer (its members in faro's order), the same bytes each time. */
    char *rebuilt[2];
    size_t rebuilt_len[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            tlog_ct_sct_json(log_id, e0.entry.timestamp, e0.entry.leaf_index, ds, ds_len, &rebuilt[i], &rebuilt_len[i], err), 0);
    /* Arguments no SCT can carry (from a damaged dedup row, say) are refused, not asserted. */
    char *none;
    size_t none_len;
    assert_int_equal(tlog_ct_sct_json(log_id, 1, TLOG_CT_MAX_LEAF_INDEX + 1, ds, ds_len, &none, &none_len, err), -1);
    assert_non_null(strstr(err, "does not fit the leaf_index extension"));
    assert_int_equal(tlog_ct_sct_json(log_id, 1, 1, ds, TLOG_DSIG_P256_MAX + 1, &none, &none_len, err), -1);
    assert_int_equal(rebuilt_len[0], rebuilt_len[1]);
    assert_memory_equal(rebuilt[0], rebuilt[1], rebuilt_len[0]);
    json_t *rebuilt_json = json_loads(rebuilt[0], 0, NULL), *vector_json = json_loads(want_json, 0, NULL);
    assert_true(json_equal(rebuilt_json, vector_json));
    json_decref(rebuilt_json);
    json_decref(vector_json);
    free(rebuilt[0]);
    free(rebuilt[1]);
    uint8_t ext[TLOG_CT_EXTENSIONS_LEN];
    tlog_ct_extensions(0, ext);
    tlog_buf_append_uint(&serialized, 0, 1);
    tlog_buf_append(&serialized, log_id, 32);
    tlog_buf_append_uint(&serialized, e0.entry.timestamp, 8);
    tlog_buf_append_uint(&serialized, sizeof(ext), 2);
    tlog_buf_append(&serialized, ext, sizeof(ext));
    tlog_buf_append(&serialized, ds, ds_len);
    assert_buf_hex(&serialized, sct, "serialized_sct_hex");

    /* A fresh SCT verifies and carries the same fields; only the (randomised) signature differs. */
    char *json;
    size_t json_len;
    uint8_t fresh[TLOG_DSIG_P256_MAX];
    size_t fresh_len;
    assert_int_equal(tlog_ct_sct_sign(&e0.entry, priv, NULL, fresh, &fresh_len, err), 0);
    assert_int_equal(tlog_ct_sct_json(log_id, e0.entry.timestamp, e0.entry.leaf_index, fresh, fresh_len, &json, &json_len, err), 0);
    assert_int_equal(strlen(json), json_len);
    assert_int_equal(tlog_ct_sct_json_verify(&e0.entry, pub, log_id, json, json_len, err), 0);
    json_t *got = json_loads(json, 0, NULL), *want = json_loads(want_json, 0, NULL);
    assert_int_equal(json_object_size(got), 5);
    const char *fields[] = {"sct_version", "id", "timestamp", "extensions"};
    for (size_t i = 0; i < 4; i++)
        assert_true(json_equal(json_object_get(got, fields[i]), json_object_get(want, fields[i])));
    json_decref(got);
    json_decref(want);

    /* The SCT binds the entry, the index, the timestamp and the log. */
    tlog_ct_entry_t other = e0.entry;
    other.leaf_index = 1;
    assert_int_equal(tlog_ct_sct_json_verify(&other, pub, log_id, json, json_len, err), -1);
    assert_non_null(strstr(err, "extensions"));
    other = e0.entry;
    other.timestamp++;
    assert_int_equal(tlog_ct_sct_json_verify(&other, pub, log_id, json, json_len, err), -1);
    assert_non_null(strstr(err, "timestamp"));
    other = e0.entry;
    other.certificate_len--;
    assert_int_equal(tlog_ct_sct_json_verify(&other, pub, log_id, json, json_len, err), -1);
    assert_non_null(strstr(err, "does not verify"));
    log_id[0] ^= 1;
    assert_int_equal(tlog_ct_sct_json_verify(&e0.entry, pub, log_id, json, json_len, err), -1);
    assert_non_null(strstr(err, "\"id\""));
    log_id[0] ^= 1;
    const char *bad[] = {
        "[]",
        "{",
        "{\"sct_version\":1,\"id\":\"zq4T/2B0q5NYep8zOal5wKM+1xgy8U0kAkvXAkxS3dw=\",\"timestamp\":1767225600123,"
        "\"extensions\":\"AAAFAAAAAAA=\",\"signature\":\"BAMAAA==\"}",
        "{\"sct_version\":0,\"id\":\"zq4T/2B0q5NYep8zOal5wKM+1xgy8U0kAkvXAkxS3dw\",\"timestamp\":1767225600123,"
        "\"extensions\":\"AAAFAAAAAAA=\",\"signature\":\"BAMAAA==\"}",
        "{\"sct_version\":0,\"id\":\"zq4T/2B0q5NYep8zOal5wKM+1xgy8U0kAkvXAkxS3dw=\",\"timestamp\":\"1767225600123\","
        "\"extensions\":\"AAAFAAAAAAA=\",\"signature\":\"BAMAAA==\"}",
        "{\"sct_version\":0,\"id\":\"zq4T/2B0q5NYep8zOal5wKM+1xgy8U0kAkvXAkxS3dw=\",\"timestamp\":1767225600123,"
        "\"extensions\":\"AAAFAAAAAAA=\",\"signature\":\"BAMAAA==\"}",
        "{\"sct_version\":0,\"id\":\"zq4T/2B0q5NYep8zOal5wKM+1xgy8U0kAkvXAkxS3dw=\",\"timestamp\":1767225600123,"
        "\"extensions\":\"AAAFAAAAAAA=\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tlog_ct_sct_json_verify(&e0.entry, pub, log_id, bad[i], strlen(bad[i]), err), -1);

    free(json);
    free(ds);
    free(log_id);
    tlog_buf_free(&mtl);
    tlog_buf_free(&serialized);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(priv);
    json_decref(v);
}

/* A TileLeaf with the given extensions and chain bytes around the vector entry's fields. */
static void build_leaf(const tlog_ct_entry_t *e, uint16_t type, const uint8_t *ext, size_t ext_len, size_t chain_len,
                       tlog_buf_t *out)
{
    tlog_buf_append_uint(out, e->timestamp, 8);
    tlog_buf_append_uint(out, type, 2);
    if (type == 1)
        tlog_buf_append(out, e->issuer_key_hash, 32);
    tlog_buf_append_uint(out, e->certificate_len, 3);
    tlog_buf_append(out, e->certificate, e->certificate_len);
    tlog_buf_append_uint(out, ext_len, 2);
    tlog_buf_append(out, ext, ext_len);
    if (type == 1) {
        tlog_buf_append_uint(out, e->precertificate_len, 3);
        tlog_buf_append(out, e->precertificate, e->precertificate_len);
    }
    tlog_buf_append_uint(out, chain_len, 2);
    for (size_t i = 0; i < chain_len; i++)
        tlog_buf_append_uint(out, i, 1);
}

static int parse_fails(const tlog_buf_t *leaf, const char *want_err)
{
    tlog_ct_entry_t entry;
    size_t consumed;
    char err[TLOG_ERR_MAX] = "";
    int ret = tlog_ct_tile_leaf_parse(leaf->data, leaf->len, &entry, &consumed, err);
    if (ret == 0 || strstr(err, want_err) == NULL) {
        print_error("parse returned %d, error \"%s\", want \"%s\"\n", ret, err, want_err);
        return 0;
    }
    return 1;
}

static void test_tlog_ctentry_tile_leaf_parse_is_strict(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("static-ct.json");
    const char *names[] = {"entry0_x509", "entry1_precert"};
    static const uint8_t one[] = {0, 0, 5, 0, 0, 0, 0, 7};
    static const uint8_t two[] = {0, 0, 5, 0, 0, 0, 0, 7, 0, 0, 5, 0, 0, 0, 0, 7};
    static const uint8_t unknown[] = {0, 0, 5, 0, 0, 0, 0, 7, 1, 0, 0};
    static const uint8_t only_unknown[] = {1, 0, 1, 9};
    static const uint8_t short_index[] = {0, 0, 4, 0, 0, 0, 7};
    static const uint8_t cut_ext[] = {0, 0, 5, 0, 0};

    for (size_t n = 0; n < 2; n++) {
        vec_entry_t ve;
        tlog_buf_t leaf = TLOG_BUF_INIT;
        uint16_t type = n == 0 ? 0 : 1;
        vec_entry_load(v, names[n], &ve);
        tlog_ct_tile_leaf(&ve.entry, &leaf);

        /* Every truncation fails; a TileLeaf followed by more bytes parses and reports its own length. */
        for (size_t cut = 0; cut < leaf.len; cut++) {
            tlog_ct_entry_t entry;
            size_t consumed;
            char err[TLOG_ERR_MAX];
            assert_int_equal(tlog_ct_tile_leaf_parse(leaf.data, cut, &entry, &consumed, err), -1);
            assert_non_null(strstr(err, "TileLeaf: "));
        }
        size_t full = leaf.len, consumed;
        tlog_ct_entry_t entry;
        tlog_buf_append(&leaf, "more", 4);
        assert_int_equal(tlog_ct_tile_leaf_parse(leaf.data, leaf.len, &entry, &consumed, NULL), 0);
        assert_int_equal(consumed, full);
        tlog_buf_free(&leaf);

        struct {
            uint16_t type;
            const uint8_t *ext;
            size_t ext_len, chain_len;
            const char *err;
        } cases[] = {
            {type, one, sizeof(one), 64, NULL},
            {2, one, sizeof(one), 0, "entry_type 2"},
            {0x100 | type, one, sizeof(one), 0, "entry_type 25"},
            {type, one, 0, 0, "no leaf_index extension"},
            {type, two, sizeof(two), 0, "duplicate leaf_index"},
            {type, unknown, sizeof(unknown), 0, "unexpected extension type 1"},
            {type, only_unknown, sizeof(only_unknown), 0, "unexpected extension type 1"},
            {type, short_index, sizeof(short_index), 0, "leaf_index extension of 4 bytes"},
            {type, cut_ext, sizeof(cut_ext), 0, "truncated in extension data"},
            {type, one, sizeof(one), 31, "certificate_chain of 31 bytes"},
            {type, one, sizeof(one), 33, "certificate_chain of 33 bytes"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            build_leaf(&ve.entry, cases[i].type, cases[i].ext, cases[i].ext_len, cases[i].chain_len, &leaf);
            if (cases[i].err == NULL) {
                assert_int_equal(tlog_ct_tile_leaf_parse(leaf.data, leaf.len, &entry, &consumed, NULL), 0);
                assert_int_equal(entry.leaf_index, 7);
                assert_int_equal(entry.chain_count, 2);
            } else {
                assert_true(parse_fails(&leaf, cases[i].err));
            }
            tlog_buf_free(&leaf);
        }

        /* Empty certificate, TBS or precertificate. */
        tlog_ct_entry_t empty = ve.entry;
        empty.certificate_len = 0;
        tlog_ct_tile_leaf(&empty, &leaf);
        assert_true(parse_fails(&leaf, n == 0 ? "empty certificate" : "empty tbs_certificate"));
        tlog_buf_free(&leaf);
        if (n == 1) {
            empty = ve.entry;
            empty.precertificate_len = 0;
            tlog_ct_tile_leaf(&empty, &leaf);
            assert_true(parse_fails(&leaf, "empty pre_certificate"));
            tlog_buf_free(&leaf);
        }
    }
    json_decref(v);
}

static void test_tlog_ctentry_round_trips_extremes(void **state)
{
    (void)state;
    static const uint8_t cert[] = {0x30};
    uint8_t *chain = calloc(TLOG_CT_MAX_CHAIN, 32);
    uint64_t indices[] = {0, 255, 256, TLOG_CT_MAX_LEAF_INDEX};
    for (size_t i = 0; i < sizeof(indices) / sizeof(indices[0]); i++) {
        for (int precert = 0; precert < 2; precert++) {
            tlog_ct_entry_t e = {.timestamp = UINT64_MAX - i,
                                 .leaf_index = indices[i],
                                 .is_precert = precert,
                                 .certificate = cert,
                                 .certificate_len = 1,
                                 .precertificate = cert,
                                 .precertificate_len = precert,
                                 .chain_fingerprints = chain,
                                 .chain_count = i % 2 ? TLOG_CT_MAX_CHAIN : 0},
                            parsed;
            tlog_buf_t leaf = TLOG_BUF_INIT, again = TLOG_BUF_INIT;
            size_t consumed;
            e.issuer_key_hash[31] = (uint8_t)i;
            tlog_ct_tile_leaf(&e, &leaf);
            assert_int_equal(tlog_ct_tile_leaf_parse(leaf.data, leaf.len, &parsed, &consumed, NULL), 0);
            assert_int_equal(consumed, leaf.len);
            assert_entries_equal(&parsed, &e);
            tlog_ct_tile_leaf(&parsed, &again);
            assert_int_equal(again.len, leaf.len);
            assert_memory_equal(again.data, leaf.data, leaf.len);
            tlog_buf_free(&leaf);
            tlog_buf_free(&again);
        }
    }
    free(chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_ctentry_extensions_match_vectors),
        cmocka_unit_test(test_tlog_ctentry_entries_match_vectors),
        cmocka_unit_test(test_tlog_ctentry_tree_size_2_tiles_match_vectors),
        cmocka_unit_test(test_tlog_ctentry_dedup_key_covers_the_signed_entry),
        cmocka_unit_test(test_tlog_ctentry_sct_matches_vector),
        cmocka_unit_test(test_tlog_ctentry_tile_leaf_parse_is_strict),
        cmocka_unit_test(test_tlog_ctentry_round_trips_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
