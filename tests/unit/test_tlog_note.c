/*
 * tlog/note: signed notes, vkeys, Ed25519 / cosignature / RFC 6962 note
 * signatures, against signed-note.json, signed-note-checkpoint-8.txt,
 * cosignature.json, cosignature-sunlight-crosscheck.json, static-ct.json and
 * external.json; and the negative cases (forgeries, malformed notes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/testkeys.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"
#include "tlog/checkpoint.h"
#include "tlog/dsig.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/keys.h"
#include "tlog/note.h"

/* ---- helpers ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static tlog_signer_t *ed25519_signer(json_t *v, const char *name, int type)
{
    size_t len;
    uint8_t *seed = vectors_hex(v, "ed25519_seed_hex", &len);
    tlog_signer_t *s = NULL;
    char err[TLOG_ERR_MAX];

    assert_int_equal(len, 32);
    if (tlog_signer_ed25519(name, seed, type, &s, err) != 0)
        fail_msg("%s", err);
    free(seed);
    return s;
}

static tlog_verifier_t *vkey_verifier(const char *vkey)
{
    tlog_verifier_t *v = NULL;
    char err[TLOG_ERR_MAX];

    if (tlog_verifier_from_vkey(vkey, strlen(vkey), &v, err) != 0)
        fail_msg("%s: %s", vkey, err);
    return v;
}

static tlog_verifier_t *rfc6962_verifier(const char *origin, EVP_PKEY *key)
{
    tlog_verifier_t *v = NULL;
    char err[TLOG_ERR_MAX];

    if (tlog_verifier_rfc6962(origin, key, &v, err) != 0)
        fail_msg("%s", err);
    return v;
}

static tlog_note_t *parse_ok(const char *note, size_t len)
{
    tlog_note_t *n = NULL;
    char err[TLOG_ERR_MAX];

    if (tlog_note_parse(note, len, &n, err) != 0)
        fail_msg("parse: %s", err);
    return n;
}

/* Parses and verifies note; 0 only if it parses, verifies, and every verifier signed. */
static int verify_all(const char *note, size_t len, tlog_verifier_t *const *verifiers, size_t n, tlog_note_result_t *results,
                      char *err)
{
    tlog_note_t *parsed = NULL;
    tlog_note_result_t local[8];
    int rc;

    assert_true(n <= 8);
    if (results == NULL)
        results = local;
    if (tlog_note_parse(note, len, &parsed, err) != 0)
        return -1;
    rc = tlog_note_verify(parsed, verifiers, n, results, err);
    tlog_note_free(parsed);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!results[i].signed_ok)
            rc = tlog_errorf(err, "verifier %zu did not sign", i);
    return rc;
}

static void assert_verifies(const char *note, tlog_verifier_t *const *verifiers, size_t n, tlog_note_result_t *results)
{
    char err[TLOG_ERR_MAX];
    if (verify_all(note, strlen(note), verifiers, n, results, err) != 0)
        fail_msg("%s", err);
}

static void assert_verify_fails(const char *note, tlog_verifier_t *const *verifiers, size_t n, const char *needle)
{
    char err[TLOG_ERR_MAX] = "";
    assert_int_equal(verify_all(note, strlen(note), verifiers, n, NULL, err), -1);
    testutil_assert_mentions(err, needle);
}

static void assert_parse_fails(const char *note, size_t len, const char *needle)
{
    tlog_note_t *n = NULL;
    char err[TLOG_ERR_MAX] = "";

    assert_int_equal(tlog_note_parse(note, len, &n, err), -1);
    if (strstr(err, needle) == NULL)
        fail_msg("parsing \"%.*s\": error \"%s\" does not mention \"%s\"", (int)len, note, err, needle);
}

/* Every one-byte change and every truncation of note must stop it verifying with all of verifiers. */
static void assert_every_change_fails(const char *note, tlog_verifier_t *const *verifiers, size_t n)
{
    static const uint8_t masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
    size_t len = strlen(note);
    char *copy = malloc(len + 1), err[TLOG_ERR_MAX];

    assert_verifies(note, verifiers, n, NULL);
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof(masks); m++) {
            memcpy(copy, note, len + 1);
            copy[i] = (char)(copy[i] ^ masks[m]);
            if (verify_all(copy, len, verifiers, n, NULL, err) == 0)
                fail_msg("byte %zu ^ 0x%02x still verifies", i, masks[m]);
        }
        if (verify_all(note, i, verifiers, n, NULL, err) == 0)
            fail_msg("the first %zu bytes still verify", i);
    }
    free(copy);
}

static char *note_text_of(const char *note)
{
    const char *split = strstr(note, "\n\n");
    assert_non_null(split);
    return strndup(note, (size_t)(split + 1 - note));
}

/* ---- Ed25519 (0x01) ---- */

static void test_tlog_note_key_id_vector(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    const char *name = vectors_string(v, "key_name");
    size_t input_len, pub_len, id_len;
    uint8_t *input = vectors_hex(v, "key_id_input_hex", &input_len);
    uint8_t *pub = vectors_hex(v, "ed25519_public_key_hex", &pub_len);
    uint8_t *id = vectors_hex(v, "key_id_hex", &id_len);
    tlog_signer_t *signer = ed25519_signer(v, name, TLOG_SIG_ED25519);
    tlog_verifier_t *verifier = NULL;
    uint8_t built[128];
    tlog_hash_t hash;
    char err[TLOG_ERR_MAX];
    (void)state;

    /* key ID input = name || '\n' || 0x01 || public key */
    memcpy(built, name, strlen(name));
    built[strlen(name)] = '\n';
    built[strlen(name) + 1] = TLOG_SIG_ED25519;
    memcpy(built + strlen(name) + 2, pub, 32);
    assert_int_equal(input_len, strlen(name) + 2 + 32);
    assert_memory_equal(built, input, input_len);
    tlog_sha256(input, input_len, &hash);
    assert_memory_equal(hash.bytes, id, 4);
    assert_int_equal(id_len, 4);

    assert_int_equal(tlog_signer_verifier(signer, &verifier, err), 0);
    assert_int_equal(tlog_verifier_key_id(verifier), 0xf55dacaa);
    assert_int_equal(tlog_verifier_type(verifier), TLOG_SIG_ED25519);
    assert_string_equal(tlog_verifier_name(verifier), name);
    assert_string_equal(tlog_signer_name(signer), name);
    tlog_verifier_free(verifier);
    tlog_signer_free(signer);
    free(input);
    free(pub);
    free(id);
    json_decref(v);
}

static void test_tlog_note_vkey_vector(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    const char *vkey = vectors_string(v, "vkey");
    tlog_signer_t *signer = ed25519_signer(v, vectors_string(v, "key_name"), TLOG_SIG_ED25519);
    tlog_verifier_t *from_signer = NULL, *parsed = vkey_verifier(vkey);
    size_t pub_len;
    uint8_t *pub = vectors_hex(v, "ed25519_public_key_hex", &pub_len);
    tlog_verifier_t *from_pub = NULL;
    char out[512], err[TLOG_ERR_MAX];
    (void)state;

    assert_int_equal(tlog_signer_verifier(signer, &from_signer, err), 0);
    assert_int_equal(tlog_verifier_vkey(from_signer, out, sizeof(out)), 0);
    assert_string_equal(out, vkey);
    assert_int_equal(tlog_verifier_vkey(parsed, out, sizeof(out)), 0);
    assert_string_equal(out, vkey);
    assert_int_equal(tlog_verifier_ed25519("example.com/vector-log", pub, TLOG_SIG_ED25519, &from_pub, err), 0);
    assert_int_equal(tlog_verifier_vkey(from_pub, out, sizeof(out)), 0);
    assert_string_equal(out, vkey);
    assert_int_equal(tlog_verifier_key_id(parsed), 0xf55dacaa);
    assert_string_equal(tlog_verifier_name(parsed), "example.com/vector-log");
    assert_int_equal(tlog_verifier_vkey(parsed, out, strlen(vkey)), -1); /* no room for the NUL */

    tlog_verifier_free(from_pub);
    tlog_verifier_free(from_signer);
    tlog_verifier_free(parsed);
    tlog_signer_free(signer);
    free(pub);
    json_decref(v);
}

static void test_tlog_note_sign_ed25519_matches_vectors(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    tlog_signer_t *signer = ed25519_signer(v, vectors_string(v, "key_name"), TLOG_SIG_ED25519);
    const char *text = vectors_string(v, "note_text");
    const char *signed8 = vectors_string(v, "signed_note"), *signed1000 = vectors_string(v, "signed_note_1000");
    char *file = vectors_read_file("signed-note-checkpoint-8.txt", NULL), *text1000 = note_text_of(signed1000), *out,
         err[TLOG_ERR_MAX];
    size_t out_len, sig_len;
    uint8_t *sig = vectors_hex(v, "ed25519_signature_hex", &sig_len);
    tlog_note_t *parsed;
    (void)state;

    assert_int_equal(tlog_note_sign(text, strlen(text), &signer, 1, 0, &out, &out_len, err), 0);
    assert_int_equal(out_len, strlen(signed8));
    assert_string_equal(out, signed8);
    assert_string_equal(file, signed8);
    free(out);
    assert_int_equal(tlog_note_sign(text1000, strlen(text1000), &signer, 1, 123456, &out, &out_len, err), 0);
    assert_string_equal(out, signed1000);
    free(out);

    parsed = parse_ok(signed8, strlen(signed8));
    assert_int_equal(parsed->nsigs, 1);
    assert_int_equal(parsed->text_len, strlen(text));
    assert_memory_equal(parsed->text, text, strlen(text));
    assert_int_equal(parsed->sigs[0].key_id, 0xf55dacaa);
    assert_int_equal(parsed->sigs[0].payload_len, sig_len);
    assert_memory_equal(parsed->sigs[0].payload, sig, sig_len);
    assert_int_equal(parsed->sigs[0].name_len, strlen("example.com/vector-log"));
    assert_memory_equal(parsed->sigs[0].name, "example.com/vector-log", parsed->sigs[0].name_len);
    assert_int_equal(parsed->sigs[0].line_len, strlen(signed8) - strlen(text) - 1);
    assert_memory_equal(parsed->sigs[0].line, signed8 + strlen(text) + 1, parsed->sigs[0].line_len);
    tlog_note_free(parsed);

    tlog_signer_free(signer);
    free(file);
    free(text1000);
    free(sig);
    json_decref(v);
}

static void test_tlog_note_verify_ed25519_vectors(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    tlog_verifier_t *log = vkey_verifier(vectors_string(v, "vkey"));
    tlog_verifier_t *c2sp = vkey_verifier(vectors_string(v, "c2sp_example_vkey"));
    char *file = vectors_read_file("signed-note-checkpoint-8.txt", NULL);
    tlog_note_result_t result;
    (void)state;

    assert_verifies(vectors_string(v, "signed_note"), &log, 1, &result);
    assert_int_equal(result.sig_index, 0);
    assert_int_equal(result.timestamp, 0);
    assert_verifies(vectors_string(v, "signed_note_1000"), &log, 1, NULL);
    assert_verifies(file, &log, 1, NULL);
    assert_true(json_is_true(json_object_get(v, "c2sp_example_verifies")));
    assert_verifies(vectors_string(v, "c2sp_example_note"), &c2sp, 1, NULL);
    assert_every_change_fails(vectors_string(v, "signed_note"), &log, 1);
    assert_every_change_fails(vectors_string(v, "c2sp_example_note"), &c2sp, 1);
    assert_int_equal(tlog_verifier_key_id(c2sp), 0x530d903a);
    /* each key is unknown to the other's note */
    assert_verify_fails(vectors_string(v, "c2sp_example_note"), &log, 1, "no signature line from any of the 1 known keys");
    assert_verify_fails(vectors_string(v, "signed_note"), &c2sp, 1, "no signature line");

    tlog_verifier_free(log);
    tlog_verifier_free(c2sp);
    free(file);
    json_decref(v);
}

/* ---- cosignatures (0x04) ---- */

static void test_tlog_note_cosignature_message_vector(void **state)
{
    json_t *v = vectors_load_json("cosignature.json");
    const char *body = vectors_string(v, "checkpoint_body");
    size_t hex_len, len;
    uint8_t *hex = vectors_hex(v, "signed_message_hex", &hex_len);
    char *msg;
    (void)state;

    assert_int_equal(tlog_cosignature_message(body, strlen(body), 1700000000, &msg, &len), 0);
    assert_int_equal(len, hex_len);
    assert_memory_equal(msg, hex, hex_len);
    assert_string_equal(msg, vectors_string(v, "signed_message"));
    free(msg);
    assert_int_equal(tlog_cosignature_message(body, strlen(body), 0, &msg, &len), 0);
    assert_int_equal(strncmp(msg, "cosignature/v1\ntime 0\nexample.com/", 34), 0);
    free(msg);
    free(hex);
    json_decref(v);
}

static void test_tlog_note_cosignature_vectors(void **state)
{
    json_t *cv = vectors_load_json("cosignature.json"), *nv = vectors_load_json("signed-note.json");
    const char *body = vectors_string(cv, "checkpoint_body"), *cosigned = vectors_string(cv, "cosigned_checkpoint");
    tlog_signer_t *signers[2] = {ed25519_signer(nv, "example.com/vector-log", TLOG_SIG_ED25519),
                                 ed25519_signer(cv, vectors_string(cv, "cosigner_name"), TLOG_SIG_COSIGNATURE)};
    tlog_verifier_t *verifiers[2] = {vkey_verifier(vectors_string(nv, "vkey")), NULL};
    tlog_note_result_t results[2];
    size_t len, bytes_len, input_len;
    uint8_t *bytes = vectors_hex(cv, "signature_bytes_hex", &bytes_len), *input = vectors_hex(cv, "key_id_input_hex", &input_len);
    char *line, *note, err[TLOG_ERR_MAX], vkey[512];
    tlog_note_t *parsed;
    tlog_hash_t hash;
    (void)state;

    assert_int_equal(tlog_signer_verifier(signers[1], &verifiers[1], err), 0);
    assert_int_equal(tlog_verifier_key_id(verifiers[1]), 0x969980cf);
    tlog_sha256(input, input_len, &hash);
    assert_int_equal(be32(hash.bytes), 0x969980cf);
    assert_int_equal(input[input_len - 33], TLOG_SIG_COSIGNATURE);
    assert_int_equal(tlog_verifier_vkey(verifiers[1], vkey, sizeof(vkey)), 0);
    assert_string_equal(vkey, vectors_string(cv, "vkey_type_0x04"));

    /* the line a witness answers with; timestamps are given in ms and truncated to seconds */
    assert_int_equal(tlog_note_sign_line(body, strlen(body), signers[1], 1700000000999ull, &line, &len, err), 0);
    assert_int_equal(len, strlen(vectors_string(cv, "signature_line")));
    assert_string_equal(line, vectors_string(cv, "signature_line"));
    free(line);

    /* the whole cosigned checkpoint, byte for byte */
    assert_int_equal(tlog_note_sign(body, strlen(body), signers, 2, 1700000000000ull, &note, &len, err), 0);
    assert_string_equal(note, cosigned);
    free(note);

    parsed = parse_ok(cosigned, strlen(cosigned));
    assert_int_equal(parsed->nsigs, 2);
    assert_int_equal(parsed->sigs[1].payload_len + 4, bytes_len);
    assert_memory_equal(parsed->sigs[1].payload, bytes + 4, bytes_len - 4);
    assert_int_equal(parsed->sigs[1].key_id, 0x969980cf);
    tlog_note_free(parsed);

    assert_verifies(cosigned, verifiers, 2, results);
    assert_int_equal(results[0].sig_index, 0);
    assert_int_equal(results[0].timestamp, 0);
    assert_int_equal(results[1].sig_index, 1);
    assert_int_equal(results[1].timestamp, json_integer_value(json_object_get(cv, "timestamp")));
    assert_every_change_fails(cosigned, verifiers, 2);

    for (int i = 0; i < 2; i++) {
        tlog_signer_free(signers[i]);
        tlog_verifier_free(verifiers[i]);
    }
    free(bytes);
    free(input);
    json_decref(cv);
    json_decref(nv);
}

static void test_tlog_note_cosignature_sunlight_crosscheck(void **state)
{
    json_t *v = vectors_load_json("cosignature-sunlight-crosscheck.json"), *ct = vectors_load_json("static-ct.json");
    json_t *sl = json_object_get(ct, "sunlight_testdata_crosscheck");
    const char *spki_b64 = vectors_string(sl, "spki_base64");
    uint8_t spki[128];
    size_t spki_len;
    EVP_PKEY *key;
    tlog_verifier_t *verifiers[2];
    tlog_note_result_t results[2];
    (void)state;

    assert_true(json_is_true(json_object_get(v, "verifies")));
    assert_int_equal(tlog_base64_decode(spki_b64, strlen(spki_b64), spki, sizeof(spki), &spki_len), 0);
    key = testkeys_spki_public(spki, spki_len);
    verifiers[0] = rfc6962_verifier("rome2026h1.example.org", key);
    verifiers[1] = vkey_verifier(vectors_string(v, "witness_vkey"));
    assert_int_equal(tlog_verifier_type(verifiers[1]), TLOG_SIG_COSIGNATURE);
    assert_verifies(vectors_string(v, "cosigned_checkpoint"), verifiers, 2, results);
    assert_int_equal(results[0].timestamp, json_integer_value(json_object_get(sl, "sth_timestamp_ms")));
    assert_int_equal(results[1].timestamp, json_integer_value(json_object_get(v, "cosignature_timestamp")));
    assert_int_equal(results[1].sig_index, 1);
    assert_every_change_fails(vectors_string(v, "cosigned_checkpoint"), verifiers, 2);

    tlog_verifier_free(verifiers[0]);
    tlog_verifier_free(verifiers[1]);
    EVP_PKEY_free(key);
    json_decref(v);
    json_decref(ct);
}

/* ---- RFC 6962 (0x05) ---- */

static void test_tlog_note_rfc6962_vectors(void **state)
{
    json_t *v = vectors_load_json("static-ct.json"), *ck = json_object_get(v, "checkpoint"), *lk = json_object_get(v, "log_key");
    const char *note = vectors_string(ck, "signed_checkpoint"), *origin = vectors_string(ck, "origin");
    size_t spki_len, log_id_len, input_len, thi_len, sig_len, ds_len;
    uint8_t *spki = vectors_hex(lk, "spki_der_hex", &spki_len), *log_id = vectors_hex(lk, "log_id_hex", &log_id_len);
    uint8_t *input = vectors_hex(ck, "key_id_input_hex", &input_len),
            *thi = vectors_hex(ck, "tree_head_signature_input_hex", &thi_len);
    uint8_t *sig = vectors_hex(ck, "note_signature_bytes_hex", &sig_len), *ds = vectors_hex(ck, "digitally_signed_hex", &ds_len);
    uint8_t built[TLOG_TREE_HEAD_INPUT_SIZE], id[32];
    EVP_PKEY *key = testkeys_spki_public(spki, spki_len);
    tlog_verifier_t *verifier = rfc6962_verifier(origin, key);
    tlog_checkpoint_t cp;
    tlog_note_t *parsed;
    tlog_note_result_t result;
    tlog_hash_t hash;
    char err[TLOG_ERR_MAX], vkey[512];
    uint64_t ts = (uint64_t)json_integer_value(json_object_get(ck, "sth_timestamp_ms"));
    (void)state;

    /* key ID = SHA-256(origin || '\n' || 0x05 || LogID)[0:4] */
    assert_int_equal(tlog_key_log_id(key, id, err), 0);
    assert_memory_equal(id, log_id, 32);
    assert_int_equal(input_len, strlen(origin) + 2 + 32);
    assert_memory_equal(input, origin, strlen(origin));
    assert_int_equal(input[strlen(origin)], '\n');
    assert_int_equal(input[strlen(origin) + 1], TLOG_SIG_RFC6962);
    assert_memory_equal(input + strlen(origin) + 2, log_id, 32);
    tlog_sha256(input, input_len, &hash);
    assert_int_equal(tlog_verifier_key_id(verifier), 0xc8a7ab48);
    assert_int_equal(be32(hash.bytes), 0xc8a7ab48);
    assert_int_equal(tlog_verifier_type(verifier), TLOG_SIG_RFC6962);
    assert_int_equal(tlog_verifier_vkey(verifier, vkey, sizeof(vkey)), -1);

    /* TreeHeadSignature input, from the checkpoint text */
    parsed = parse_ok(note, strlen(note));
    assert_int_equal(tlog_checkpoint_parse(parsed->text, parsed->text_len, &cp, err), 0);
    tlog_tree_head_input(ts, cp.size, &cp.root, built);
    assert_int_equal(thi_len, sizeof(built));
    assert_memory_equal(built, thi, thi_len);
    assert_int_equal(tlog_digitally_signed_verify(key, thi, thi_len, ds, ds_len, err), 0);

    /* the line's bytes: key ID || u64 timestamp || digitally-signed */
    assert_int_equal(parsed->nsigs, 1);
    assert_int_equal(parsed->sigs[0].key_id, 0xc8a7ab48);
    assert_int_equal(parsed->sigs[0].payload_len + 4, sig_len);
    assert_memory_equal(parsed->sigs[0].payload, sig + 4, sig_len - 4);
    assert_memory_equal(sig + 12, ds, ds_len);
    tlog_note_free(parsed);

    assert_verifies(note, &verifier, 1, &result);
    assert_int_equal(result.timestamp, ts);
    assert_every_change_fails(note, &verifier, 1);

    tlog_verifier_free(verifier);
    EVP_PKEY_free(key);
    free(spki);
    free(log_id);
    free(input);
    free(thi);
    free(sig);
    free(ds);
    json_decref(v);
}

static void test_tlog_note_rfc6962_sign_with_vector_key(void **state)
{
    json_t *v = vectors_load_json("static-ct.json"), *nv = vectors_load_json("signed-note.json");
    json_t *ck = json_object_get(v, "checkpoint");
    const char *origin = vectors_string(ck, "origin");
    char *text = note_text_of(vectors_string(ck, "signed_checkpoint")), *note, err[TLOG_ERR_MAX];
    EVP_PKEY *key = testkeys_static_ct_private();
    size_t spki_len, len;
    uint8_t *spki = vectors_hex(json_object_get(v, "log_key"), "spki_der_hex", &spki_len);
    EVP_PKEY *public_key = testkeys_spki_public(spki, spki_len);
    tlog_signer_t *signers[2] = {NULL, ed25519_signer(nv, origin, TLOG_SIG_ED25519)};
    tlog_verifier_t *verifiers[2] = {rfc6962_verifier(origin, public_key), NULL};
    tlog_note_result_t results[2];
    tlog_note_t *parsed;
    (void)state;

    assert_int_equal(tlog_signer_rfc6962(origin, key, &signers[0], err), 0);
    assert_int_equal(tlog_signer_verifier(signers[1], &verifiers[1], err), 0);
    assert_int_equal(tlog_note_sign(text, strlen(text), signers, 2, 1767225600500ull, &note, &len, err), 0);
    assert_int_equal(strlen(note), len);
    parsed = parse_ok(note, len);
    assert_int_equal(parsed->sigs[0].key_id, 0xc8a7ab48);
    /* 8-byte timestamp, then 04 03 and the DER length */
    assert_int_equal(parsed->sigs[0].payload[8], 4);
    assert_int_equal(parsed->sigs[0].payload[9], 3);
    assert_int_equal(parsed->sigs[0].payload_len, 12 + (parsed->sigs[0].payload[10] << 8 | parsed->sigs[0].payload[11]));
    tlog_note_free(parsed);
    assert_verifies(note, verifiers, 2, results);
    assert_int_equal(results[0].timestamp, 1767225600500ull);
    assert_every_change_fails(note, verifiers, 2);
    free(note);

    /* the signer's own verifier is the vector key */
    tlog_verifier_free(verifiers[1]);
    assert_int_equal(tlog_signer_verifier(signers[0], &verifiers[1], err), 0);
    assert_int_equal(tlog_verifier_key_id(verifiers[1]), 0xc8a7ab48);
    assert_verifies(vectors_string(ck, "signed_checkpoint"), &verifiers[1], 1, NULL);

    tlog_signer_free(signers[0]);
    tlog_signer_free(signers[1]);
    tlog_verifier_free(verifiers[0]);
    tlog_verifier_free(verifiers[1]);
    EVP_PKEY_free(key); /* the signer held its own reference */
    EVP_PKEY_free(public_key);
    free(spki);
    free(text);
    json_decref(v);
    json_decref(nv);
}

static void test_tlog_note_rfc6962_sunlight_crosscheck(void **state)
{
    json_t *v = vectors_load_json("static-ct.json"), *sl = json_object_get(v, "sunlight_testdata_crosscheck");
    const char *spki_b64 = vectors_string(sl, "spki_base64"), *log_id_b64 = vectors_string(sl, "log_id_base64");
    uint8_t spki[128], log_id[32], want[32];
    size_t spki_len, n;
    EVP_PKEY *key;
    tlog_verifier_t *verifier;
    tlog_note_result_t result;
    char err[TLOG_ERR_MAX];
    (void)state;

    assert_true(json_is_true(json_object_get(sl, "verifies")));
    assert_int_equal(tlog_base64_decode(spki_b64, strlen(spki_b64), spki, sizeof(spki), &spki_len), 0);
    assert_int_equal(tlog_base64_decode(log_id_b64, strlen(log_id_b64), want, sizeof(want), &n), 0);
    key = testkeys_spki_public(spki, spki_len);
    assert_int_equal(tlog_key_log_id(key, log_id, err), 0);
    assert_memory_equal(log_id, want, 32);
    verifier = rfc6962_verifier("rome2026h1.example.org", key);
    assert_int_equal(tlog_verifier_key_id(verifier), 0x91507526);
    assert_verifies(vectors_string(sl, "signed_checkpoint"), &verifier, 1, &result);
    assert_int_equal(result.timestamp, json_integer_value(json_object_get(sl, "sth_timestamp_ms")));
    tlog_verifier_free(verifier);

    /* the same key under another name is another key ID: unknown line */
    verifier = rfc6962_verifier("rome2026h2.example.org", key);
    assert_verify_fails(vectors_string(sl, "signed_checkpoint"), &verifier, 1, "no signature line");
    tlog_verifier_free(verifier);
    EVP_PKEY_free(key);
    json_decref(v);
}

static void test_tlog_note_external_sunlight_checkpoint(void **state)
{
    json_t *v = vectors_load_json("external.json"), *e = json_object_get(v, "vectors");
    EVP_PKEY *key = testkeys_pem_public(vectors_string(e, "sunlightKey"));
    tlog_verifier_t *verifier = rfc6962_verifier("rome2026h1.example.org", key);
    (void)state;

    assert_verifies(vectors_string(e, "sunlightCkpt"), &verifier, 1, NULL);
    assert_every_change_fails(vectors_string(e, "sunlightCkpt"), &verifier, 1);
    tlog_verifier_free(verifier);
    EVP_PKEY_free(key);
    json_decref(v);
}

static void test_tlog_note_rfc6962_needs_plain_checkpoint(void **state)
{
    EVP_PKEY *key = testkeys_static_ct_private();
    tlog_signer_t *signer = NULL;
    char *out = NULL, err[TLOG_ERR_MAX];
    size_t len;
    static const char ext[] = "ct.example.com/vector2026h1\n2\nhhj5+D5CC3Zjzw3L97nrztk1WjGARy6k60Pve3LUdrY=\nextension\n";
    static const char other[] = "ct.example.com/other\n2\nhhj5+D5CC3Zjzw3L97nrztk1WjGARy6k60Pve3LUdrY=\n";
    static const char prose[] = "Just some text.\n";
    (void)state;

    assert_int_equal(tlog_signer_rfc6962("ct.example.com/vector2026h1", key, &signer, err), 0);
    assert_int_equal(tlog_note_sign(ext, strlen(ext), &signer, 1, 1, &out, &len, err), -1);
    assert_non_null(strstr(err, "extension lines"));
    assert_int_equal(tlog_note_sign(other, strlen(other), &signer, 1, 1, &out, &len, err), -1);
    assert_non_null(strstr(err, "origin ct.example.com/other"));
    assert_int_equal(tlog_note_sign_line(prose, strlen(prose), signer, 1, &out, &len, err), -1);
    assert_non_null(strstr(err, "not a checkpoint"));
    assert_null(out);
    tlog_signer_free(signer);
    EVP_PKEY_free(key);
}

static void test_tlog_note_rfc6962_refuses_other_keys(void **state)
{
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    json_t *v = vectors_load_json("static-ct.json");
    size_t spki_len;
    uint8_t *spki = vectors_hex(json_object_get(v, "log_key"), "spki_der_hex", &spki_len);
    EVP_PKEY *public_key = testkeys_spki_public(spki, spki_len);
    tlog_verifier_t *verifier = NULL;
    tlog_signer_t *signer = NULL;
    char err[TLOG_ERR_MAX];
    (void)state;

    assert_int_equal(tlog_verifier_rfc6962("o", ed, &verifier, err), -1);
    assert_non_null(strstr(err, "want ECDSA P-256"));
    assert_int_equal(tlog_verifier_rfc6962("o", p384, &verifier, err), -1);
    assert_non_null(strstr(err, "secp384r1"));
    assert_int_equal(tlog_signer_rfc6962("o", public_key, &signer, err), -1);
    assert_non_null(strstr(err, "no private part"));
    assert_int_equal(tlog_verifier_rfc6962("bad origin", public_key, &verifier, err), -1);
    assert_non_null(strstr(err, "key name"));
    assert_null(verifier);
    assert_null(signer);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(public_key);
    free(spki);
    json_decref(v);
}

/* ---- verification rules ---- */

static void test_tlog_note_forged_signature_rejects_note(void **state)
{
    json_t *v = vectors_load_json("signed-note.json"), *cv = vectors_load_json("cosignature.json");
    const char *cosigned = vectors_string(cv, "cosigned_checkpoint");
    const char *line1000 = strstr(vectors_string(v, "signed_note_1000"), "\n\n") + 2;
    tlog_verifier_t *verifiers[2] = {vkey_verifier(vectors_string(v, "vkey")), vkey_verifier(vectors_string(cv, "vkey_type_0x04"))};
    char forged[1024], *wline;
    (void)state;

    /* the size-1000 signature (same key ID) pasted under the size-8 text */
    snprintf(forged, sizeof(forged), "%s\n%s", vectors_string(v, "note_text"), line1000);
    assert_verify_fails(forged, verifiers, 1, "signature line 1 (example.com/vector-log): Ed25519 signature does not verify");

    /* a forged witness line rejects the note even though the log's line verifies */
    snprintf(forged, sizeof(forged), "%s", cosigned);
    wline = strstr(forged, "\xe2\x80\x94 witness");
    wline[40] = wline[40] == 'A' ? 'B' : 'A';
    assert_verify_fails(forged, verifiers, 2, "signature line 2 (witness.example.com/w1): cosignature does not verify");
    assert_verifies(forged, verifiers, 1, NULL); /* to a client that knows only the log's key it is an unknown line */

    tlog_verifier_free(verifiers[0]);
    tlog_verifier_free(verifiers[1]);
    json_decref(v);
    json_decref(cv);
}

static void test_tlog_note_unknown_lines_ignored_and_preserved(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    const char *text = vectors_string(v, "note_text"), *signed8 = vectors_string(v, "signed_note");
    const char *line = signed8 + strlen(text) + 1;
    tlog_verifier_t *verifier = vkey_verifier(vectors_string(v, "vkey"));
    tlog_note_result_t result;
    tlog_note_t *parsed;
    char note[2048], *out;
    size_t out_len;
    (void)state;

    /* grease: an unknown name, the log's name with another key ID, a short payload, an ML-DSA-sized type */
    snprintf(note, sizeof(note),
             "%s\n\xe2\x80\x94 grease.invalid AAAAAAAAAA==\n"
             "\xe2\x80\x94 example.com/vector-log AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"
             "%s"
             "\xe2\x80\x94 witness.example/x 9V2sqgE=\n",
             text, line);
    assert_verifies(note, &verifier, 1, &result);
    assert_int_equal(result.sig_index, 2);
    parsed = parse_ok(note, strlen(note));
    assert_int_equal(parsed->nsigs, 4);
    assert_int_equal(tlog_note_format(parsed, &out, &out_len), 0);
    assert_int_equal(out_len, strlen(note));
    assert_string_equal(out, note);
    free(out);
    tlog_note_free(parsed);

    tlog_verifier_free(verifier);
    json_decref(v);
}

static void test_tlog_note_duplicate_lines_count_once(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    const char *text = vectors_string(v, "note_text"), *signed8 = vectors_string(v, "signed_note");
    const char *line = signed8 + strlen(text) + 1, *line1000 = strstr(vectors_string(v, "signed_note_1000"), "\n\n") + 2;
    tlog_verifier_t *verifiers[2] = {vkey_verifier(vectors_string(v, "vkey")), vkey_verifier(vectors_string(v, "vkey"))};
    tlog_note_result_t results[2];
    tlog_note_t *parsed;
    char note[2048], *out;
    size_t out_len;
    (void)state;

    snprintf(note, sizeof(note), "%s\n%s%s", text, line, line);
    assert_verifies(note, verifiers, 1, results);
    assert_int_equal(results[0].sig_index, 0);
    parsed = parse_ok(note, strlen(note));
    assert_int_equal(parsed->nsigs, 2);
    assert_int_equal(tlog_note_format(parsed, &out, &out_len), 0);
    assert_string_equal(out, signed8); /* the repeated line is dropped */
    free(out);
    tlog_note_free(parsed);

    /* the first line of a key is the one checked; a later one of the same key is ignored */
    snprintf(note, sizeof(note), "%s\n%s%s", text, line, line1000);
    assert_verifies(note, verifiers, 1, NULL);
    snprintf(note, sizeof(note), "%s\n%s%s", text, line1000, line);
    assert_verify_fails(note, verifiers, 1, "signature line 1");

    /* the same key given twice: each result points at the one line */
    snprintf(note, sizeof(note), "%s\n%s", text, line);
    assert_verifies(note, verifiers, 2, results);
    assert_int_equal(results[1].sig_index, 0);

    tlog_verifier_free(verifiers[0]);
    tlog_verifier_free(verifiers[1]);
    json_decref(v);
}

static void test_tlog_note_cosignature_timestamp_limit(void **state)
{
    json_t *cv = vectors_load_json("cosignature.json");
    tlog_verifier_t *verifier = vkey_verifier(vectors_string(cv, "vkey_type_0x04"));
    uint8_t sig[77] = {0x96, 0x99, 0x80, 0xcf, 0x80};
    char b64[TLOG_BASE64_LEN(77) + 1], note[512];
    (void)state;

    tlog_base64_encode(sig, 76, b64);
    snprintf(note, sizeof(note), "%s\n\xe2\x80\x94 witness.example.com/w1 %s\n", vectors_string(cv, "checkpoint_body"), b64);
    assert_verify_fails(note, &verifier, 1, "above 2^63 - 1");
    tlog_base64_encode(sig, 77, b64);
    snprintf(note, sizeof(note), "%s\n\xe2\x80\x94 witness.example.com/w1 %s\n", vectors_string(cv, "checkpoint_body"), b64);
    assert_verify_fails(note, &verifier, 1, "cosignature is 73 bytes");
    tlog_verifier_free(verifier);
    json_decref(cv);
}

/* A signature line whose base64 "//" is spelled as one two-byte UTF-8 character must not verify (one spelling per signature). */
static void test_tlog_note_signature_base64_is_canonical(void **state)
{
    json_t *cv = vectors_load_json("cosignature.json");
    const char *body = vectors_string(cv, "checkpoint_body");
    tlog_signer_t *signer = ed25519_signer(cv, vectors_string(cv, "cosigner_name"), TLOG_SIG_COSIGNATURE);
    tlog_verifier_t *verifier = vkey_verifier(vectors_string(cv, "vkey_type_0x04"));
    char *line = NULL, note[512], *slashes = NULL, err[TLOG_ERR_MAX];
    size_t len;
    (void)state;

    for (uint64_t t = 1700000000; slashes == NULL && t < 1700010000; t++) {
        free(line);
        assert_int_equal(tlog_note_sign_line(body, strlen(body), signer, t * 1000, &line, &len, err), 0);
        slashes = strstr(line, "//");
    }
    assert_non_null(slashes);
    snprintf(note, sizeof(note), "%s\n%s", body, line);
    assert_verifies(note, &verifier, 1, NULL);
    slashes = strstr(note, "//");
    slashes[0] = (char)0xc3; /* U+00FF */
    slashes[1] = (char)0xbf;
    assert_int_equal(verify_all(note, strlen(note), &verifier, 1, NULL, err), -1);

    free(line);
    tlog_signer_free(signer);
    tlog_verifier_free(verifier);
    json_decref(cv);
}

/* ---- malformed notes ---- */

#define DASH "\xe2\x80\x94 "

static void test_tlog_note_parse_rejects_malformed(void **state)
{
    static const char nul[] = "text\0\n\n" DASH "a AAAAAAA=\n";
    static const struct {
        const char *note, *needle;
    } cases[] = {
        {"text\n" DASH "a AAAAAAA=\n", "no blank line"},
        {"text\n", "no blank line"},
        {"", "no blank line"},
        {"text\n\n", "no signature lines"},
        {"text\n\n" DASH "a AAAAAAA=", "does not end in a newline"},
        {"text\n\n- a AAAAAAA=\n", "signature line 1: does not start with an em dash"},
        {"text\n\n\xe2\x80\x93 a AAAAAAA=\n", "em dash"}, /* en dash */
        {"text\n\n\xe2\x80\x94"
         "a AAAAAAA=\n",
         "em dash"}, /* no space */
        {"text\n\n\xe2\x80\n", "invalid UTF-8"},
        {"text\r\n\n" DASH "a AAAAAAA=\n", "line 1: control character 0x0d"},
        {"text\n\n" DASH "a AAAAAAA=\r\n", "line 3: control character 0x0d"},
        {"te\txt\n\n" DASH "a AAAAAAA=\n", "control character 0x09"},
        {"te\x1bxt\n\n" DASH "a AAAAAAA=\n", "control character 0x1b"},
        {"te\xffxt\n\n" DASH "a AAAAAAA=\n", "line 1: invalid UTF-8"},
        {"te\xc0\xafxt\n\n" DASH "a AAAAAAA=\n", "invalid UTF-8"},
        {"te\xed\xa0\x80xt\n\n" DASH "a AAAAAAA=\n", "invalid UTF-8"},
        {"text\n\n" DASH "a AAAAAAA=\n" DASH "b AAAAAAA\n", "signature line 2: base64 does not decode"},
        {"text\n\n" DASH "a AAAAAAA=\n" DASH "b AAAAAAA=\n" DASH "c AAAAAAB=\n", "signature line 3: base64 does not decode"},
        {"text\n\n" DASH "a AAAA AAA=\n", "base64 does not decode"},
        {"text\n\n" DASH "a  AAAAAAA=\n", "base64 does not decode"},
        {"text\n\n" DASH "a \n", "signature is 0 bytes"},
        {"text\n\n" DASH "a AAAAAA==\n", "signature line 1: signature is 4 bytes, too short"},
        {"text\n\n" DASH " AAAAAAA=\n", "key name is empty"},
        {"text\n\n" DASH "a+b AAAAAAA=\n", "key name"},
        {"text\n\n" DASH "a\xc2\xa0"
         "b AAAAAAA=\n",
         "key name"},
        {"text\n\n" DASH "aAAAAAAA=\n", "no space between the key name and the signature"},
        {"text\n\n" DASH "a AAAAAAA=\n\n", "no signature lines"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_parse_fails(cases[i].note, strlen(cases[i].note), cases[i].needle);
    assert_parse_fails(nul, sizeof(nul) - 1, "control character 0x00");
}

static void test_tlog_note_parse_edge_cases(void **state)
{
    static const char blank_lines[] = "a\n\nb\n\n" DASH "a AAAAAAA=\n";
    tlog_note_t *n;
    (void)state;

    /* the split is at the last blank line; the text may hold blank lines */
    n = parse_ok(blank_lines, strlen(blank_lines));
    assert_int_equal(n->text_len, 5);
    assert_memory_equal(n->text, "a\n\nb\n", 5);
    assert_int_equal(n->nsigs, 1);
    assert_int_equal(n->sigs[0].key_id, 0);
    assert_int_equal(n->sigs[0].payload_len, 1);
    tlog_note_free(n);
}

static void test_tlog_note_parse_limits(void **state)
{
    size_t line_len = strlen(DASH "a AAAAAAA=\n"), len;
    char *note = malloc(TLOG_NOTE_MAX_SIZE + 2);
    tlog_note_t *n;
    (void)state;

    memcpy(note, "t\n\n", 3);
    len = 3;
    for (int i = 0; i < TLOG_NOTE_MAX_SIGS; i++, len += line_len)
        memcpy(note + len, DASH "a AAAAAAA=\n", line_len);
    n = parse_ok(note, len);
    assert_int_equal(n->nsigs, TLOG_NOTE_MAX_SIGS);
    tlog_note_free(n);
    memcpy(note + len, DASH "a AAAAAAA=\n", line_len);
    assert_parse_fails(note, len + line_len, "101 signature lines, more than 100");

    memset(note, 'x', TLOG_NOTE_MAX_SIZE + 1);
    assert_parse_fails(note, TLOG_NOTE_MAX_SIZE + 1, "more than 1048576");
    free(note);
}

static void test_tlog_note_sign_rejects_bad_text(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    tlog_signer_t *signer = ed25519_signer(v, "example.com/vector-log", TLOG_SIG_ED25519);
    char *out = NULL, err[TLOG_ERR_MAX];
    size_t len;
    (void)state;

    assert_int_equal(tlog_note_sign("no newline", 10, &signer, 1, 0, &out, &len, err), -1);
    assert_non_null(strstr(err, "end in a newline"));
    assert_int_equal(tlog_note_sign("", 0, &signer, 1, 0, &out, &len, err), -1);
    assert_int_equal(tlog_note_sign("cr\r\n", 4, &signer, 1, 0, &out, &len, err), -1);
    assert_non_null(strstr(err, "control character 0x0d"));
    assert_int_equal(tlog_note_sign("ok\n", 3, &signer, 0, 0, &out, &len, err), -1);
    assert_non_null(strstr(err, "1 to 100 signers"));
    assert_int_equal(tlog_note_sign_line("\xff\n", 2, signer, 0, &out, &len, err), -1);
    assert_non_null(strstr(err, "invalid UTF-8"));
    assert_null(out);
    tlog_signer_free(signer);
    json_decref(v);
}

/* ---- keys ---- */

static void test_tlog_note_vkey_rejects_malformed(void **state)
{
    static const struct {
        const char *vkey, *needle;
    } cases[] = {
        {"example.com/vector-log", "no '+' after the key name"},
        {"example.com/vector-log+f55dacaa", "no '+' after the key ID"},
        {"example.com/vector-log+f55daca+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "8 hex digits"},
        {"example.com/vector-log+f55dacaaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "8 hex digits"},
        {"example.com/vector-log+f55dacag+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "8 hex digits"},
        {"example.com/vector-log+f55dacab+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "key ID f55dacab does not match"},
        {"example.com/vector-lag+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "does not match"},
        {"example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG5", "does not match"},
        {"example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG", "canonical base64"},
        {"example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVT=", "canonical base64"},
        {"example.com/vector-log+f55dacaa+", "canonical base64"},
        {"example.com/vector-log+f55dacaa+AgOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "key type 0x02 is not supported"},
        {"example.com/vector-log+f55dacaa+BQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "key type 0x05 is not supported"},
        {"example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTE=", "32 bytes, want 33"},
        {"example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4AAAA", "36 bytes, want 33"},
        {"+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "key name is empty"},
        {"a b+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "key name"},
        {"example.com/vector-log+f55dacaa+AQOhB7\xafzzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "canonical base64"},
    };
    tlog_verifier_t *v = NULL;
    char err[TLOG_ERR_MAX];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;
        err[0] = '\0';
        if ((rc = tlog_verifier_from_vkey(cases[i].vkey, strlen(cases[i].vkey), &v, err)) == 0)
            tlog_verifier_free(v);
        assert_int_equal(rc, -1);
        if (strstr(err, cases[i].needle) == NULL)
            fail_msg("%s: error \"%s\" does not mention \"%s\"", cases[i].vkey, err, cases[i].needle);
    }
    /* uppercase hex is accepted, as Go does; the length given is honoured */
    v = vkey_verifier("example.com/vector-log+F55DACAA+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4");
    tlog_verifier_free(v);
    assert_int_equal(
        tlog_verifier_from_vkey("example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", 70, &v, err), -1);
}

static void test_tlog_note_key_constructors_check_arguments(void **state)
{
    uint8_t key[32] = {0};
    tlog_verifier_t *v = NULL;
    tlog_signer_t *s = NULL;
    char err[TLOG_ERR_MAX], name[300];
    (void)state;

    assert_int_equal(tlog_verifier_ed25519("o", key, TLOG_SIG_RFC6962, &v, err), -1);
    assert_non_null(strstr(err, "not an Ed25519 type"));
    assert_int_equal(tlog_signer_ed25519("o", key, 0x02, &s, err), -1);
    assert_int_equal(tlog_signer_ed25519("", key, TLOG_SIG_ED25519, &s, err), -1);
    assert_non_null(strstr(err, "key name is empty"));
    memset(name, 'n', 256);
    name[256] = '\0';
    assert_int_equal(tlog_signer_ed25519(name, key, TLOG_SIG_ED25519, &s, err), -1);
    assert_non_null(strstr(err, "longer than 255"));
    name[255] = '\0';
    assert_int_equal(tlog_signer_ed25519(name, key, TLOG_SIG_ED25519, &s, err), 0);
    assert_null(v);
    tlog_signer_free(s);
    tlog_signer_free(NULL);
    tlog_verifier_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_note_key_id_vector),
        cmocka_unit_test(test_tlog_note_vkey_vector),
        cmocka_unit_test(test_tlog_note_sign_ed25519_matches_vectors),
        cmocka_unit_test(test_tlog_note_verify_ed25519_vectors),
        cmocka_unit_test(test_tlog_note_cosignature_message_vector),
        cmocka_unit_test(test_tlog_note_cosignature_vectors),
        cmocka_unit_test(test_tlog_note_cosignature_sunlight_crosscheck),
        cmocka_unit_test(test_tlog_note_rfc6962_vectors),
        cmocka_unit_test(test_tlog_note_rfc6962_sign_with_vector_key),
        cmocka_unit_test(test_tlog_note_rfc6962_sunlight_crosscheck),
        cmocka_unit_test(test_tlog_note_external_sunlight_checkpoint),
        cmocka_unit_test(test_tlog_note_rfc6962_needs_plain_checkpoint),
        cmocka_unit_test(test_tlog_note_rfc6962_refuses_other_keys),
        cmocka_unit_test(test_tlog_note_forged_signature_rejects_note),
        cmocka_unit_test(test_tlog_note_unknown_lines_ignored_and_preserved),
        cmocka_unit_test(test_tlog_note_duplicate_lines_count_once),
        cmocka_unit_test(test_tlog_note_cosignature_timestamp_limit),
        cmocka_unit_test(test_tlog_note_signature_base64_is_canonical),
        cmocka_unit_test(test_tlog_note_parse_rejects_malformed),
        cmocka_unit_test(test_tlog_note_parse_edge_cases),
        cmocka_unit_test(test_tlog_note_parse_limits),
        cmocka_unit_test(test_tlog_note_sign_rejects_bad_text),
        cmocka_unit_test(test_tlog_note_vkey_rejects_malformed),
        cmocka_unit_test(test_tlog_note_key_constructors_check_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
