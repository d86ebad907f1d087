/*
 * tlog/keys and tlog/dsig: PEM key files (permissions, types), SPKI and
 * LogID against static-ct.json, raw Ed25519 keys, and digitally-signed
 * against certificate-transparency-go's SCT and STH vectors (external.json).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "tests/unit/testkeys.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"
#include "tlog/dsig.h"
#include "tlog/error.h"
#include "tlog/keys.h"

/* Writes name in the scratch directory with exactly mode: private_key as PEM, or else text. Returns its path (testutil_path). */
static const char *write_file(const char *name, mode_t mode, EVP_PKEY *private_key, const char *text)
{
    char *path = testutil_path(name);
    FILE *fp;
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, mode), 0);
    fp = fdopen(fd, "w");
    assert_non_null(fp);
    if (private_key != NULL)
        assert_int_equal(PEM_write_PrivateKey(fp, private_key, NULL, NULL, 0, NULL, NULL), 1);
    else
        fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    return path;
}

/* ---- PEM files ---- */

static void test_tlog_keys_load_private_keys(void **state)
{
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *loaded = NULL;
    char err[TLOG_ERR_MAX];
    (void)state;

    assert_int_equal(tlog_key_load_private(write_file("ec.pem", 0600, ec, NULL), EVP_PKEY_EC, &loaded, err), 0);
    assert_int_equal(EVP_PKEY_eq(loaded, ec), 1);
    EVP_PKEY_free(loaded);
    assert_int_equal(tlog_key_load_private(write_file("ed.pem", 0400, ed, NULL), EVP_PKEY_ED25519, &loaded, err), 0);
    assert_int_equal(EVP_PKEY_eq(loaded, ed), 1);
    EVP_PKEY_free(loaded);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
}

static void test_tlog_keys_refuse_private_key_others_can_read(void **state)
{
    static const mode_t modes[] = {0644, 0640, 0604, 0660, 0620, 0602, 0610};
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *loaded = NULL;
    char err[TLOG_ERR_MAX], mode[8];
    (void)state;

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        const char *path = write_file("open.pem", modes[i], ec, NULL);
        assert_int_equal(tlog_key_load_private(path, EVP_PKEY_EC, &loaded, err), -1);
        snprintf(mode, sizeof(mode), "%04o", (unsigned)modes[i]);
        testutil_assert_mentions(err, path);
        testutil_assert_mentions(err, mode);
        testutil_assert_mentions(err, "group or others can read it");
        testutil_assert_mentions(err, "chmod 600");
    }
    assert_null(loaded);
    EVP_PKEY_free(ec);
}

static void test_tlog_keys_refuse_wrong_types(void **state)
{
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), *loaded = NULL;
    const char *path;
    char err[TLOG_ERR_MAX];
    (void)state;

    assert_int_equal(tlog_key_load_private(write_file("ed.pem", 0600, ed, NULL), EVP_PKEY_EC, &loaded, err), -1);
    testutil_assert_mentions(err, "ed.pem: the key is ED25519, want ECDSA P-256");
    assert_int_equal(tlog_key_load_private(write_file("ec.pem", 0600, ec, NULL), EVP_PKEY_ED25519, &loaded, err), -1);
    testutil_assert_mentions(err, "ec.pem: the key is EC, want Ed25519");
    path = write_file("p384.pem", 0600, p384, NULL);
    assert_int_equal(tlog_key_load_private(path, EVP_PKEY_EC, &loaded, err), -1);
    testutil_assert_mentions(err, "on curve secp384r1, want P-256");
    assert_int_equal(tlog_key_load_private(path, EVP_PKEY_RSA, &loaded, err), -1);
    testutil_assert_mentions(err, "neither EC nor Ed25519");
    assert_int_equal(tlog_key_check_type(ec, EVP_PKEY_EC, err), 0);
    assert_int_equal(tlog_key_check_type(ed, EVP_PKEY_ED25519, err), 0);
    assert_null(loaded);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(p384);
}

static void test_tlog_keys_refuse_unreadable_files(void **state)
{
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *loaded = NULL;
    char err[TLOG_ERR_MAX], path[160];
    FILE *fp;
    (void)state;

    snprintf(path, sizeof(path), "%s/missing.pem", testutil_dir());
    assert_int_equal(tlog_key_load_private(path, EVP_PKEY_EC, &loaded, err), -1);
    testutil_assert_mentions(err, "missing.pem: cannot open: No such file or directory");
    assert_int_equal(tlog_key_load_private(testutil_dir(), EVP_PKEY_EC, &loaded, err), -1);
    testutil_assert_mentions(err, "not a regular file");
    assert_int_equal(tlog_key_load_private(write_file("junk.pem", 0600, NULL, "not a key\n"), EVP_PKEY_EC, &loaded, err), -1);
    testutil_assert_mentions(err, "junk.pem: not an unencrypted PEM private key: the file has no PEM block");
    assert_int_equal(tlog_key_load_private(write_file("cut.pem", 0600, NULL, "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n"),
                                           EVP_PKEY_EC, &loaded, err),
                     -1);
    testutil_assert_mentions(err, "cut.pem: not an unencrypted PEM private key: its PEM block is cut short or malformed");
    assert_int_equal(
        tlog_key_load_private(
            write_file("bad.pem", 0600, NULL, "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"),
            EVP_PKEY_EC, &loaded, err),
        -1);
    testutil_assert_mentions(err, "bad.pem: not an unencrypted PEM private key: its PRIVATE KEY block does not decode");
    assert_null(strstr(err, "MIGH")); /* the block's bytes are never quoted */

    /* a public key where the private one belongs, and the other way round */
    snprintf(path, sizeof(path), "%s/public.pem", testutil_dir());
    fp = fopen(path, "w");
    assert_int_equal(PEM_write_PUBKEY(fp, ec), 1);
    fclose(fp);
    chmod(path, 0600);
    assert_int_equal(tlog_key_load_private(path, EVP_PKEY_EC, &loaded, err), -1);
    testutil_assert_mentions(err, "not an unencrypted PEM private key: the file holds a PUBLIC KEY block, not a private key");
    assert_int_equal(tlog_key_load_public(write_file("private.pem", 0600, ec, NULL), EVP_PKEY_EC, &loaded, err), -1);
    testutil_assert_mentions(err, "not an unencrypted PEM public key: the file holds a PRIVATE KEY block, not a PUBLIC KEY");

    /* an encrypted key is refused, not prompted for */
    snprintf(path, sizeof(path), "%s/encrypted.pem", testutil_dir());
    fp = fopen(path, "w");
    assert_int_equal(PEM_write_PKCS8PrivateKey(fp, ec, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)"secret"), 1);
    fclose(fp);
    chmod(path, 0600);
    assert_int_equal(tlog_key_load_private(path, EVP_PKEY_EC, &loaded, err), -1);
    testutil_assert_mentions(err, "not an unencrypted PEM private key: the ENCRYPTED PRIVATE KEY block is encrypted");
    assert_null(loaded);
    EVP_PKEY_free(ec);
}

/* Checks that key is the log key of static-ct.json: its SPKI DER and its LogID. */
static void assert_static_ct_log_key(EVP_PKEY *key)
{
    json_t *v = vectors_load_json("static-ct.json"), *lk = json_object_get(v, "log_key");
    size_t spki_len, log_id_len, der_len;
    uint8_t *spki = vectors_hex(lk, "spki_der_hex", &spki_len), *log_id = vectors_hex(lk, "log_id_hex", &log_id_len), *der;
    uint8_t id[32];
    char err[TLOG_ERR_MAX];

    assert_int_equal(tlog_key_spki(key, &der, &der_len, err), 0);
    assert_int_equal(der_len, spki_len);
    assert_memory_equal(der, spki, spki_len);
    assert_int_equal(tlog_key_log_id(key, id, err), 0);
    assert_int_equal(log_id_len, 32);
    assert_memory_equal(id, log_id, 32);
    free(der);
    free(spki);
    free(log_id);
    json_decref(v);
}

static void test_tlog_keys_public_key_vector(void **state)
{
    json_t *v = vectors_load_json("static-ct.json"), *lk = json_object_get(v, "log_key");
    uint8_t id[32];
    EVP_PKEY *key = NULL, *ed = NULL;
    const char *path = write_file("pub.pem", 0644, NULL, vectors_string(lk, "spki_pem"));
    char err[TLOG_ERR_MAX], b64[64];
    (void)state;

    assert_int_equal(tlog_key_load_public(path, EVP_PKEY_EC, &key, err), 0);
    assert_static_ct_log_key(key);
    assert_int_equal(tlog_key_log_id(key, id, err), 0);
    tlog_base64_encode(id, 32, b64);
    assert_string_equal(b64, vectors_string(lk, "log_id_base64"));
    assert_int_equal(tlog_key_load_public(path, EVP_PKEY_ED25519, &ed, err), -1);
    testutil_assert_mentions(err, "want Ed25519");
    assert_int_equal(tlog_key_load_private(path, EVP_PKEY_EC, &ed, err), -1); /* 0644 and not private */
    assert_null(ed);

    EVP_PKEY_free(key);
    json_decref(v);
}

static void test_tlog_keys_log_id_from_private_scalar(void **state)
{
    EVP_PKEY *key = testkeys_static_ct_private(), *loaded = NULL;
    char err[TLOG_ERR_MAX];
    (void)state;

    assert_static_ct_log_key(key);
    /* and through a PEM file */
    assert_int_equal(tlog_key_load_private(write_file("log.pem", 0600, key, NULL), EVP_PKEY_EC, &loaded, err), 0);
    assert_static_ct_log_key(loaded);

    EVP_PKEY_free(loaded);
    EVP_PKEY_free(key);
}

static void test_tlog_keys_ed25519_raw(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    size_t seed_len, pub_len;
    uint8_t *seed = vectors_hex(v, "ed25519_seed_hex", &seed_len), *pub = vectors_hex(v, "ed25519_public_key_hex", &pub_len);
    uint8_t out[32];
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_PKEY *public_only = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char err[TLOG_ERR_MAX];
    (void)state;

    assert_int_equal(tlog_key_ed25519_seed(key, out, err), 0);
    assert_memory_equal(out, seed, 32);
    assert_int_equal(tlog_key_ed25519_public(key, out, err), 0);
    assert_memory_equal(out, pub, 32);
    assert_int_equal(tlog_key_ed25519_public(public_only, out, err), 0);
    assert_memory_equal(out, pub, 32);
    assert_int_equal(tlog_key_ed25519_seed(public_only, out, err), -1);
    testutil_assert_mentions(err, "no private part");
    assert_int_equal(tlog_key_ed25519_seed(ec, out, err), -1);
    testutil_assert_mentions(err, "want Ed25519");
    assert_int_equal(tlog_key_ed25519_public(ec, out, err), -1);

    EVP_PKEY_free(key);
    EVP_PKEY_free(public_only);
    EVP_PKEY_free(ec);
    free(seed);
    free(pub);
    json_decref(v);
}

/* ---- digitally-signed ---- */

/* Verifies ds over msg, then checks that every one-byte change to either is rejected. */
static void assert_dsig_verifies_only_as_given(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *ds, size_t ds_len)
{
    uint8_t *m = malloc(len), *d = malloc(ds_len + 1);
    char err[TLOG_ERR_MAX];

    if (tlog_digitally_signed_verify(key, msg, len, ds, ds_len, err) != 0)
        fail_msg("%s", err);
    for (size_t i = 0; i < ds_len; i++) {
        for (unsigned mask = 1; mask < 256; mask <<= 1) {
            memcpy(d, ds, ds_len);
            d[i] ^= (uint8_t)mask;
            if (tlog_digitally_signed_verify(key, msg, len, d, ds_len, err) == 0)
                fail_msg("signature byte %zu ^ 0x%02x still verifies", i, mask);
        }
    }
    for (size_t i = 0; i < len; i++) {
        memcpy(m, msg, len);
        m[i] ^= 0x01;
        assert_int_equal(tlog_digitally_signed_verify(key, m, len, ds, ds_len, err), -1);
    }
    memcpy(d, ds, ds_len);
    d[ds_len] = 0;
    assert_int_equal(tlog_digitally_signed_verify(key, msg, len, d, ds_len + 1, err), -1);
    testutil_assert_mentions(err, "bytes follow");
    assert_int_equal(tlog_digitally_signed_verify(key, msg, len, ds, ds_len - 1, err), -1);
    free(m);
    free(d);
}

static void test_tlog_keys_dsig_external_sct(void **state)
{
    json_t *v = vectors_load_json("external.json"), *e = json_object_get(v, "vectors");
    size_t cert_len, sig_len, n = 0;
    uint8_t *cert = vectors_hex(e, "vecCert", &cert_len), *sig = vectors_hex(e, "vecSCTSigEC", &sig_len);
    uint64_t ts = (uint64_t)json_integer_value(json_object_get(e, "vecSCTTimestamp"));
    uint8_t *input = malloc(cert_len + 17);
    EVP_PKEY *key = testkeys_pem_public(vectors_string(e, "vecECPub"));
    (void)state;

    /* version 0, signature_type 0 (certificate_timestamp), u64 timestamp, u16 entry_type 0 (x509), vec24 cert, vec16 extensions */
    input[n++] = 0;
    input[n++] = 0;
    for (int i = 7; i >= 0; i--)
        input[n++] = (uint8_t)(ts >> (8 * i));
    input[n++] = 0;
    input[n++] = 0;
    input[n++] = (uint8_t)(cert_len >> 16);
    input[n++] = (uint8_t)(cert_len >> 8);
    input[n++] = (uint8_t)cert_len;
    memcpy(input + n, cert, cert_len);
    n += cert_len;
    input[n++] = 0;
    input[n++] = 0;
    assert_dsig_verifies_only_as_given(key, input, n, sig, sig_len);

    EVP_PKEY_free(key);
    free(input);
    free(cert);
    free(sig);
    json_decref(v);
}

static void test_tlog_keys_dsig_external_sth(void **state)
{
    json_t *v = vectors_load_json("external.json"), *e = json_object_get(v, "vectors");
    size_t sth_len, sig_len, root_len;
    uint8_t *sth = vectors_hex(e, "vecSTHSerialized", &sth_len), *sig = vectors_hex(e, "vecSTHSig", &sig_len);
    uint8_t *root = vectors_hex(e, "vecSTHRoot", &root_len);
    uint8_t built[TLOG_TREE_HEAD_INPUT_SIZE];
    tlog_hash_t root_hash;
    EVP_PKEY *key = testkeys_pem_public(vectors_string(e, "vecECPub"));
    (void)state;

    memcpy(root_hash.bytes, root, 32);
    tlog_tree_head_input((uint64_t)json_integer_value(json_object_get(e, "vecSTHTimestamp")), 42, &root_hash, built);
    assert_int_equal(sth_len, sizeof(built));
    assert_memory_equal(built, sth, sth_len);
    assert_dsig_verifies_only_as_given(key, sth, sth_len, sig, sig_len);

    EVP_PKEY_free(key);
    free(sth);
    free(sig);
    free(root);
    json_decref(v);
}

static void test_tlog_keys_dsig_static_ct_sct(void **state)
{
    json_t *v = vectors_load_json("static-ct.json"), *sct = json_object_get(v, "sct_for_entry0");
    size_t spki_len, in_len, ds_len;
    uint8_t *spki = vectors_hex(json_object_get(v, "log_key"), "spki_der_hex", &spki_len);
    uint8_t *in = vectors_hex(sct, "signature_input_hex", &in_len), *ds = vectors_hex(sct, "digitally_signed_hex", &ds_len);
    EVP_PKEY *key = testkeys_spki_public(spki, spki_len);
    (void)state;

    assert_dsig_verifies_only_as_given(key, in, in_len, ds, ds_len);
    EVP_PKEY_free(key);
    free(spki);
    free(in);
    free(ds);
    json_decref(v);
}

/* Signatures with reserved nonces verify, use each nonce once, and fall back to ordinary signing when none is left. */
static void test_tlog_keys_dsig_reserved_nonces(void **state)
{
    EVP_PKEY *key = testkeys_static_ct_private(), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    static const uint8_t msg[] = "a message";
    uint8_t ds[4][TLOG_DSIG_P256_MAX];
    size_t ds_len[4];
    char err[TLOG_ERR_MAX];
    (void)state;

    assert_null(tlog_nonces_new(ed, 4, err));
    testutil_assert_mentions(err, "not an EC key");
    tlog_nonces_t *nonces = tlog_nonces_new(key, 3, err);
    assert_non_null(nonces);
    assert_int_equal(tlog_nonces_fill(nonces, 2), 2);
    assert_int_equal(tlog_nonces_fill(nonces, 5), 1); /* up to the capacity */
    assert_int_equal(tlog_nonces_fill(nonces, 5), 0);
    assert_int_equal(tlog_nonces_count(nonces), 3);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(tlog_digitally_signed_sign(key, nonces, msg, sizeof(msg), ds[i], sizeof(ds[i]), &ds_len[i], err), 0);
        assert_int_equal(tlog_nonces_count(nonces), i < 3 ? 2 - i : 0);
        assert_dsig_verifies_only_as_given(key, msg, sizeof(msg), ds[i], ds_len[i]);
        /* A new nonce each time: the r values (and so the signatures) all differ. */
        for (int j = 0; j < i; j++)
            assert_false(ds_len[i] == ds_len[j] && memcmp(ds[i], ds[j], ds_len[i]) == 0);
    }
    tlog_nonces_free(nonces);
    tlog_nonces_free(NULL);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(key);
}

/*
 * Nonces are made in batches (each k⁻¹ from one inversion of the batch's
 * product): a reserve filled by one call that spans several batches and a
 * short last one gives a verifying signature, with its own r, for every
 * nonce.
 */
static void test_tlog_keys_dsig_reserved_nonce_batches(void **state)
{
    enum { N = 150 };
    EVP_PKEY *key = testkeys_static_ct_private();
    static uint8_t r[N][32];
    char err[TLOG_ERR_MAX];
    (void)state;

    tlog_nonces_t *nonces = tlog_nonces_new(key, N, err);
    assert_non_null(nonces);
    assert_int_equal(tlog_nonces_fill(nonces, N + 10), N);
    for (int i = 0; i < N; i++) {
        uint8_t msg[8] = {(uint8_t)i}, ds[TLOG_DSIG_P256_MAX];
        size_t ds_len;
        assert_int_equal(tlog_digitally_signed_sign(key, nonces, msg, sizeof(msg), ds, sizeof(ds), &ds_len, err), 0);
        assert_int_equal(tlog_nonces_count(nonces), N - 1 - i);
        if (tlog_digitally_signed_verify(key, msg, sizeof(msg), ds, ds_len, err) != 0)
            fail_msg("signature %d: %s", i, err);
        const uint8_t *p = ds + 4; /* the DER ECDSA-Sig-Value after the digitally-signed header */
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)(ds_len - 4));
        assert_non_null(sig);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), r[i], 32), 32);
        ECDSA_SIG_free(sig);
        for (int j = 0; j < i; j++)
            assert_memory_not_equal(r[i], r[j], 32);
    }
    tlog_nonces_free(nonces);
    EVP_PKEY_free(key);
}

static void test_tlog_keys_dsig_sign_and_verify(void **state)
{
    size_t ds_len;
    EVP_PKEY *key = testkeys_static_ct_private(), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    uint8_t ds[TLOG_DSIG_P256_MAX], other[TLOG_DSIG_P256_MAX];
    static const uint8_t msg[] = "a message";
    char err[TLOG_ERR_MAX];
    size_t other_len;
    (void)state;

    assert_int_equal(tlog_digitally_signed_sign(key, NULL, msg, sizeof(msg), ds, sizeof(ds), &ds_len, err), 0);
    assert_int_equal(ds[0], 4);
    assert_int_equal(ds[1], 3);
    assert_int_equal((size_t)(ds[2] << 8 | ds[3]), ds_len - 4);
    assert_dsig_verifies_only_as_given(key, msg, sizeof(msg), ds, ds_len);
    /* randomised, yet both verify */
    assert_int_equal(tlog_digitally_signed_sign(key, NULL, msg, sizeof(msg), other, sizeof(other), &other_len, err), 0);
    assert_int_equal(tlog_digitally_signed_verify(key, msg, sizeof(msg), other, other_len, err), 0);

    assert_int_equal(tlog_digitally_signed_sign(key, NULL, msg, sizeof(msg), ds, 40, &ds_len, err), -1);
    testutil_assert_mentions(err, "40 bytes of room");
    assert_int_equal(tlog_digitally_signed_sign(ed, NULL, msg, sizeof(msg), ds, sizeof(ds), &ds_len, err), -1);
    testutil_assert_mentions(err, "unsupported key type ED25519");
    assert_int_equal(tlog_digitally_signed_verify(ed, msg, sizeof(msg), other, other_len, err), -1);

    other[0] = 5;
    assert_int_equal(tlog_digitally_signed_verify(key, msg, sizeof(msg), other, other_len, err), -1);
    testutil_assert_mentions(err, "hash algorithm 5, want 4");
    other[0] = 4;
    other[1] = 1;
    assert_int_equal(tlog_digitally_signed_verify(key, msg, sizeof(msg), other, other_len, err), -1);
    testutil_assert_mentions(err, "signature algorithm 1, the key needs 3");
    assert_int_equal(tlog_digitally_signed_verify(key, msg, sizeof(msg), other, 3, err), -1);
    testutil_assert_mentions(err, "shorter than its 4-byte header");

    EVP_PKEY_free(key);
    EVP_PKEY_free(ed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tlog_keys_load_private_keys, testutil_dir_setup, testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_tlog_keys_refuse_private_key_others_can_read, testutil_dir_setup,
                                        testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_tlog_keys_refuse_wrong_types, testutil_dir_setup, testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_tlog_keys_refuse_unreadable_files, testutil_dir_setup, testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_tlog_keys_public_key_vector, testutil_dir_setup, testutil_dir_teardown),
        cmocka_unit_test_setup_teardown(test_tlog_keys_log_id_from_private_scalar, testutil_dir_setup, testutil_dir_teardown),
        cmocka_unit_test(test_tlog_keys_ed25519_raw),
        cmocka_unit_test(test_tlog_keys_dsig_external_sct),
        cmocka_unit_test(test_tlog_keys_dsig_external_sth),
        cmocka_unit_test(test_tlog_keys_dsig_static_ct_sct),
        cmocka_unit_test(test_tlog_keys_dsig_sign_and_verify),
        cmocka_unit_test(test_tlog_keys_dsig_reserved_nonces),
        cmocka_unit_test(test_tlog_keys_dsig_reserved_nonce_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
