/* Chain validation, filters, precertificates and the add-chain request body, on a PKI generated per run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "tests/unit/testpki.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "writer/chain.h"
#include "writer/chain_paths.h"

/* One root with one intermediate, shared by the tests; each test issues its own leaves. */
typedef struct pki {
    testpki_cert_t *root, *inter;
    chain_roots_t *roots;
} pki_t;

static int pki_setup(void **state)
{
    pki_t *pki = calloc(1, sizeof(*pki));
    pki->root = testpki_root("faro test root");
    pki->inter = testpki_intermediate("faro test intermediate", pki->root);
    if (chain_roots_new(&pki->roots, NULL) != 0 || chain_roots_add_der(pki->roots, pki->root->der, pki->root->der_len, NULL) != 0)
        return -1;
    *state = pki;
    return 0;
}

static int pki_teardown(void **state)
{
    pki_t *pki = *state;
    chain_roots_free(pki->roots);
    testpki_free(pki->inter);
    testpki_free(pki->root);
    free(pki);
    return 0;
}

static const chain_policy_t no_filters = {0};

static int validate_at(const chain_roots_t *roots, const chain_policy_t *policy, int precert, testpki_cert_t *const *certs,
                       size_t n, time_t now, chain_result_t *out, char *err)
{
    const uint8_t *ders[CHAIN_MAX_CERTS + 1];
    size_t lens[CHAIN_MAX_CERTS + 1];
    assert_true(n <= CHAIN_MAX_CERTS + 1);
    for (size_t i = 0; i < n; i++) {
        ders[i] = certs[i]->der;
        lens[i] = certs[i]->der_len;
    }
    return chain_validate(roots, policy, precert, ders, lens, n, now, out, err);
}

static int validate(const chain_roots_t *roots, const chain_policy_t *policy, int precert, testpki_cert_t *const *certs, size_t n,
                    chain_result_t *out, char *err)
{
    return validate_at(roots, policy, precert, certs, n, time(NULL), out, err);
}

/* Refused with 400, and the message says want. */
static void expect_rejected(const chain_roots_t *roots, const chain_policy_t *policy, int precert, testpki_cert_t *const *certs,
                            size_t n, const char *want)
{
    chain_result_t result;
    char err[TLOG_ERR_MAX] = "";
    int ret = validate(roots, policy, precert, certs, n, &result, err);
    if (ret != CHAIN_REJECTED || strstr(err, want) == NULL)
        fail_msg("validate returned %d, error \"%s\", want \"%s\"", ret, err, want);
    assert_int_equal(result.chain_count, 0);
    assert_null(result.certificate);
}

static void expect_ok(const chain_roots_t *roots, const chain_policy_t *policy, int precert, testpki_cert_t *const *certs, size_t n)
{
    chain_result_t result;
    char err[TLOG_ERR_MAX] = "";
    if (validate(roots, policy, precert, certs, n, &result, err) != CHAIN_OK)
        fail_msg("validate failed: %s", err);
    chain_result_free(&result);
}

static void assert_fingerprint(const chain_result_t *r, size_t i, const testpki_cert_t *cert)
{
    tlog_hash_t h;
    tlog_sha256(cert->der, cert->der_len, &h);
    assert_int_equal(r->issuer_lens[i], cert->der_len);
    assert_memory_equal(r->issuers[i], cert->der, cert->der_len);
    assert_memory_equal(r->fingerprints + 32 * i, h.bytes, 32);
}

static void test_writer_chain_accepts_paths_with_and_without_root(void **state)
{
    pki_t *pki = *state;
    testpki_cert_t *leaf = testpki_leaf("leaf.example", pki->inter);
    testpki_cert_t *full[] = {leaf, pki->inter, pki->root};
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    for (size_t n = 2; n <= 3; n++) {
        assert_int_equal(validate(pki->roots, &no_filters, 0, full, n, &r, err), CHAIN_OK);
        assert_false(r.is_precert);
        assert_int_equal(r.certificate_len, leaf->der_len);
        assert_memory_equal(r.certificate, leaf->der, leaf->der_len);
        assert_null(r.precertificate);
        assert_int_equal(r.chain_count, 2);
        assert_fingerprint(&r, 0, pki->inter);
        assert_fingerprint(&r, 1, pki->root);
        assert_true(r.not_before < time(NULL) && r.not_after > time(NULL));

        /* The entry it makes round-trips as a TileLeaf. */
        tlog_ct_entry_t entry, parsed;
        tlog_buf_t tile = TLOG_BUF_INIT;
        size_t consumed;
        chain_result_entry(&r, 1767225600123, 42, &entry);
        tlog_ct_tile_leaf(&entry, &tile);
        assert_int_equal(tlog_ct_tile_leaf_parse(tile.data, tile.len, &parsed, &consumed, err), 0);
        assert_int_equal(parsed.leaf_index, 42);
        assert_int_equal(parsed.chain_count, 2);
        assert_memory_equal(parsed.chain_fingerprints, r.fingerprints, 64);
        tlog_buf_free(&tile);
        chain_result_free(&r);
    }
    chain_result_free(&r); /* twice is harmless */
    chain_result_free(NULL);

    /* A leaf issued by the root itself, with and without the root. */
    testpki_cert_t *direct = testpki_leaf("direct.example", pki->root);
    testpki_cert_t *chain[] = {direct, pki->root};
    for (size_t n = 1; n <= 2; n++) {
        assert_int_equal(validate(pki->roots, &no_filters, 0, chain, n, &r, err), CHAIN_OK);
        assert_int_equal(r.chain_count, 1);
        assert_fingerprint(&r, 0, pki->root);
        chain_result_free(&r);
    }
    testpki_free(direct);
    testpki_free(leaf);
}

static void test_writer_chain_rejects_bad_paths(void **state)
{
    pki_t *pki = *state;
    testpki_cert_t *other_root = testpki_root("other root");
    testpki_cert_t *other_inter = testpki_intermediate("other intermediate", other_root);
    testpki_cert_t *leaf = testpki_leaf("leaf.example", pki->inter);
    testpki_cert_t *stranger = testpki_leaf("stranger.example", other_inter);

    testpki_cert_t *unknown[] = {stranger, other_inter, other_root};
    expect_rejected(pki->roots, &no_filters, 0, unknown, 3, "does not verify to a root");
    expect_rejected(pki->roots, &no_filters, 0, unknown, 1, "unable to get local issuer");
    testpki_cert_t *no_inter[] = {leaf, pki->root};
    expect_rejected(pki->roots, &no_filters, 0, no_inter, 2, "does not verify");
    testpki_cert_t *wrong_order[] = {leaf, pki->root, pki->inter};
    expect_rejected(pki->roots, &no_filters, 0, wrong_order, 3, "chain[1] is not on the path");
    testpki_cert_t *extra[] = {leaf, pki->inter, pki->root, other_root};
    expect_rejected(pki->roots, &no_filters, 0, extra, 4, "chain[3] is not on the path");
    testpki_cert_t *detour[] = {leaf, other_inter, pki->inter, pki->root};
    expect_rejected(pki->roots, &no_filters, 0, detour, 4, "chain[1] is not on the path");

    /* A broken signature on the leaf, then on the intermediate. */
    testpki_cert_t *good[] = {leaf, pki->inter, pki->root};
    leaf->der[leaf->der_len - 3] ^= 0x01;
    expect_rejected(pki->roots, &no_filters, 0, good, 3, "signature failure (at depth 0)");
    leaf->der[leaf->der_len - 3] ^= 0x01;
    expect_ok(pki->roots, &no_filters, 0, good, 3);
    pki->inter->der[pki->inter->der_len - 3] ^= 0x01;
    expect_rejected(pki->roots, &no_filters, 0, good, 3, "signature failure (at depth 1)");
    pki->inter->der[pki->inter->der_len - 3] ^= 0x01;

    /* Not certificates, trailing bytes, too many. */
    static uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    const uint8_t *ders[] = {leaf->der, junk};
    size_t lens[] = {leaf->der_len, sizeof(junk)};
    chain_result_t r;
    char err[TLOG_ERR_MAX];
    assert_int_equal(chain_validate(pki->roots, &no_filters, 0, ders, lens, 2, time(NULL), &r, err), CHAIN_REJECTED);
    assert_string_equal(err, "chain[1]: not a DER X.509 certificate");
    uint8_t *padded = malloc(leaf->der_len + 1);
    memcpy(padded, leaf->der, leaf->der_len);
    padded[leaf->der_len] = 0;
    ders[0] = padded;
    lens[0] = leaf->der_len + 1;
    assert_int_equal(chain_validate(pki->roots, &no_filters, 0, ders, lens, 1, time(NULL), &r, err), CHAIN_REJECTED);
    assert_string_equal(err, "chain[0]: not a DER X.509 certificate");
    lens[0] = 0;
    assert_int_equal(chain_validate(pki->roots, &no_filters, 0, ders, lens, 1, time(NULL), &r, err), CHAIN_REJECTED);
    assert_int_equal(chain_validate(pki->roots, &no_filters, 0, ders, lens, 0, time(NULL), &r, err), CHAIN_REJECTED);
    assert_string_equal(err, "chain: empty");
    free(padded);
    testpki_cert_t *eleven[CHAIN_MAX_CERTS + 1] = {leaf, pki->inter};
    for (size_t i = 2; i < CHAIN_MAX_CERTS + 1; i++)
        eleven[i] = pki->root;
    expect_rejected(pki->roots, &no_filters, 0, eleven, CHAIN_MAX_CERTS + 1, "11 certificates, at most 10");

    testpki_free(stranger);
    testpki_free(leaf);
    testpki_free(other_inter);
    testpki_free(other_root);
}

/*
 * A chain[1..] verified once is not verified again (writer/chain_paths.c),
 * yet every answer is the one full verification gives: the leaf's own
 * signature and chain[1]'s name constraints are still checked, constraints
 * above chain[1] keep the path from being reused, and adding a root starts
 * over.
 */
static void test_writer_chain_reuses_verified_paths(void **state)
{
    pki_t *pki = *state;
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    /* Same intermediate name, another key: a leaf it signs must fail against the known path. */
    testpki_cert_t *impostor = testpki_intermediate("faro test intermediate", pki->root);
    testpki_cert_t *forged = testpki_issue(&(testpki_opts_t){.cn = "forged.example", .no_aki = 1}, impostor);
    testpki_cert_t *first = testpki_leaf("first.example", pki->inter), *second = testpki_leaf("second.example", pki->inter);
    for (int round = 0; round < 2; round++) {
        testpki_cert_t *chains[][2] = {{first, pki->inter}, {second, pki->inter}};
        for (size_t i = 0; i < 2; i++) {
            assert_int_equal(validate(pki->roots, &no_filters, 0, chains[i], 2, &r, err), CHAIN_OK);
            assert_int_equal(r.chain_count, 2);
            assert_fingerprint(&r, 0, pki->inter);
            assert_fingerprint(&r, 1, pki->root);
            chain_result_free(&r);
        }
        testpki_cert_t *bad[] = {forged, pki->inter};
        expect_rejected(pki->roots, &no_filters, 0, bad, 2, "signature failure (at depth 0)");
    }

    /* Name constraints (permitted dNSName allowed.example) on the root, then on chain[1]. */
    static const uint8_t permitted[] = {0x30, 0x15, 0xa0, 0x13, 0x30, 0x11, 0x82, 0x0f, 'a', 'l', 'l', 'o',
                                        'w',  'e',  'd',  '.',  'e',  'x',  'a',  'm',  'p', 'l', 'e'};
    const testpki_ext_t nc = {.oid = "2.5.29.30", .critical = 1, .value = permitted, .value_len = sizeof(permitted)};
    testpki_cert_t *nc_root =
        testpki_issue(&(testpki_opts_t){.cn = "constrained root", .ca = 1, .exts = &nc, .ext_count = 1}, NULL);
    testpki_cert_t *nc_root_inter = testpki_intermediate("under a constrained root", nc_root);
    testpki_cert_t *nc_inter =
        testpki_issue(&(testpki_opts_t){.cn = "constrained intermediate", .ca = 1, .exts = &nc, .ext_count = 1}, pki->root);
    chain_roots_t *roots;
    assert_int_equal(chain_roots_new(&roots, err), 0);
    assert_int_equal(chain_roots_add_der(roots, nc_root->der, nc_root->der_len, err), 0);
    assert_int_equal(chain_roots_add_der(roots, pki->root->der, pki->root->der_len, err), 0);
    testpki_cert_t *issuers[] = {nc_root_inter, nc_inter};
    for (size_t i = 0; i < 2; i++) {
        testpki_cert_t *inside = testpki_leaf("www.allowed.example", issuers[i]);
        testpki_cert_t *outside = testpki_leaf("www.elsewhere.example", issuers[i]);
        testpki_cert_t *ok[] = {inside, issuers[i]}, *violating[] = {outside, issuers[i]};
        for (int round = 0; round < 2; round++) {
            expect_ok(roots, &no_filters, 0, ok, 2);
            expect_rejected(roots, &no_filters, 0, violating, 2, "permitted subtree violation (at depth 0)");
        }
        testpki_free(inside);
        testpki_free(outside);
    }

    /* Adding a root starts over: the answer is that of roots that never saw the chain. */
    testpki_cert_t *chain[] = {first, pki->inter};
    chain_roots_t *fresh;
    chain_result_t want;
    chain_roots_free(roots);
    assert_int_equal(chain_roots_new(&roots, err), 0);
    assert_int_equal(chain_roots_new(&fresh, err), 0);
    assert_int_equal(chain_roots_add_der(roots, pki->root->der, pki->root->der_len, err), 0);
    expect_ok(roots, &no_filters, 0, chain, 2);
    assert_int_equal(chain_roots_add_der(roots, pki->inter->der, pki->inter->der_len, err), 0);
    assert_int_equal(chain_roots_add_der(fresh, pki->inter->der, pki->inter->der_len, err), 0);
    assert_int_equal(chain_roots_add_der(fresh, pki->root->der, pki->root->der_len, err), 0);
    assert_int_equal(validate(roots, &no_filters, 0, chain, 2, &r, err), CHAIN_OK);
    assert_int_equal(validate(fresh, &no_filters, 0, chain, 2, &want, err), CHAIN_OK);
    assert_int_equal(r.chain_count, want.chain_count);
    assert_memory_equal(r.fingerprints, want.fingerprints, 32 * want.chain_count);
    chain_result_free(&r);
    chain_result_free(&want);
    chain_roots_free(fresh);

    chain_roots_free(roots);
    testpki_free(nc_inter);
    testpki_free(nc_root_inter);
    testpki_free(nc_root);
    testpki_free(first);
    testpki_free(second);
    testpki_free(forged);
    testpki_free(impostor);
}

/* A path in steady use gets its issuer's key table, within the budget, and answers stay the same. */
static void test_writer_chain_issuer_key_tables(void **state)
{
    pki_t *pki = *state;
    testpki_cert_t *leaf = testpki_leaf("busy.example", pki->inter), *other = testpki_leaf("other.example", pki->inter);
    testpki_cert_t *impostor = testpki_intermediate("faro test intermediate", pki->root);
    testpki_cert_t *forged = testpki_issue(&(testpki_opts_t){.cn = "forged.example", .no_aki = 1}, impostor);
    testpki_cert_t *rsa_inter =
        testpki_issue(&(testpki_opts_t){.cn = "rsa intermediate", .key_type = TESTPKI_RSA, .ca = 1}, pki->root);
    testpki_cert_t *rsa_leaf = testpki_leaf("rsa-issued.example", rsa_inter);
    const uint8_t *der = leaf->der;
    X509 *leaf_x509 = d2i_X509(NULL, &der, (long)leaf->der_len);

    /* The table is built on the CHAIN_PATHS_TABLE_AFTER-th use after the first, for P-256 issuers only. */
    chain_paths_t *paths = chain_paths_new();
    testpki_cert_t *issuers[] = {pki->inter, rsa_inter};
    chain_path_t *found[2];
    for (size_t i = 0; i < 2; i++) {
        STACK_OF(X509) *path = sk_X509_new_null();
        uint8_t key[32] = {(uint8_t)i};
        sk_X509_push(path, leaf_x509);
        sk_X509_push(path, issuers[i]->x509);
        sk_X509_push(path, pki->root->x509);
        chain_paths_add(paths, key, path);
        sk_X509_free(path);
        assert_non_null(found[i] = chain_paths_find(paths, key));
    }
    for (int use = 0; use < CHAIN_PATHS_TABLE_AFTER; use++) {
        assert_null(chain_paths_table(paths, found[0]));
        assert_null(chain_paths_table(paths, found[1]));
    }
    const issuer_table_t *table = chain_paths_table(paths, found[0]);
    assert_non_null(table);
    assert_ptr_equal(chain_paths_table(paths, found[0]), table);
    assert_null(chain_paths_table(paths, found[1]));
    assert_int_equal(issuer_table_verify(table, leaf_x509, leaf->der, leaf->der_len), 1);
    chain_paths_free(paths);

    /* Through chain_validate: good leaves pass, and a forged or damaged signature is refused as before, on both sides of the
     * threshold. */
    uint8_t *damaged = malloc(other->der_len);
    memcpy(damaged, other->der, other->der_len);
    damaged[other->der_len - 3] ^= 0x40; /* inside s */
    testpki_cert_t damaged_cert = {.der = damaged, .der_len = other->der_len};
    for (int use = 0; use < CHAIN_PATHS_TABLE_AFTER + 10; use++) {
        testpki_cert_t *good[] = {use % 2 ? leaf : other, pki->inter}, *bad[] = {forged, pki->inter},
                       *broken[] = {&damaged_cert, pki->inter};
        expect_ok(pki->roots, &no_filters, 0, good, 2);
        if (use % 100 == 0 || use >= CHAIN_PATHS_TABLE_AFTER) {
            expect_rejected(pki->roots, &no_filters, 0, bad, 2, "signature failure (at depth 0)");
            expect_rejected(pki->roots, &no_filters, 0, broken, 2, "signature failure (at depth 0)");
        }
    }
    testpki_cert_t *rsa_chain[] = {rsa_leaf, rsa_inter};
    expect_ok(pki->roots, &no_filters, 0, rsa_chain, 2);

    free(damaged);
    X509_free(leaf_x509);
    testpki_free(rsa_leaf);
    testpki_free(rsa_inter);
    testpki_free(forged);
    testpki_free(impostor);
    testpki_free(other);
    testpki_free(leaf);
}

static void test_writer_chain_follows_the_submitted_path(void **state)
{
    pki_t *pki = *state;
    /* The intermediate's key and name, also cross-signed by a second trusted root. */
    testpki_cert_t *root_b = testpki_root("faro test root B");
    testpki_opts_t cross_opts = {.cn = "faro test intermediate", .key = pki->inter->key, .ca = 1};
    testpki_cert_t *cross = testpki_issue(&cross_opts, root_b);
    testpki_cert_t *leaf = testpki_leaf("leaf.example", pki->inter);
    chain_roots_t *roots;
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    assert_int_equal(chain_roots_new(&roots, err), 0);
    assert_int_equal(chain_roots_add_der(roots, pki->root->der, pki->root->der_len, err), 0);
    assert_int_equal(chain_roots_add_der(roots, root_b->der, root_b->der_len, err), 0);
    testpki_cert_t *via_a[] = {leaf, pki->inter}, *via_b[] = {leaf, cross};
    assert_int_equal(validate(roots, &no_filters, 0, via_a, 2, &r, err), CHAIN_OK);
    assert_fingerprint(&r, 1, pki->root);
    chain_result_free(&r);
    assert_int_equal(validate(roots, &no_filters, 0, via_b, 2, &r, err), CHAIN_OK);
    assert_fingerprint(&r, 0, cross);
    assert_fingerprint(&r, 1, root_b);
    chain_result_free(&r);

    /* The root cross-signed by root B, submitted last: the path goes through it to B, not to the root of that name. */
    testpki_opts_t cross_root_opts = {.cn = "faro test root", .key = pki->root->key, .ca = 1};
    testpki_cert_t *cross_root = testpki_issue(&cross_root_opts, root_b);
    testpki_cert_t *via_cross[] = {leaf, pki->inter, cross_root};
    assert_int_equal(validate(roots, &no_filters, 0, via_cross, 3, &r, err), CHAIN_OK);
    assert_int_equal(r.chain_count, 3);
    assert_fingerprint(&r, 1, cross_root);
    assert_fingerprint(&r, 2, root_b);
    chain_result_free(&r);
    chain_roots_free(roots);
    /* Without B among the roots, that path ends nowhere, and the one to the root skips a submitted certificate. */
    expect_rejected(pki->roots, &no_filters, 0, via_cross, 3, "chain[2] is not on the path");
    testpki_free(cross_root);

    /* Any configured certificate is a trust anchor, an intermediate too. */
    assert_int_equal(chain_roots_new(&roots, err), 0);
    assert_int_equal(chain_roots_add_der(roots, pki->inter->der, pki->inter->der_len, err), 0);
    for (size_t n = 1; n <= 2; n++) {
        assert_int_equal(validate(roots, &no_filters, 0, via_a, n, &r, err), CHAIN_OK);
        assert_int_equal(r.chain_count, 1);
        assert_fingerprint(&r, 0, pki->inter);
        chain_result_free(&r);
    }
    chain_roots_free(roots);
    testpki_free(leaf);
    testpki_free(cross);
    testpki_free(root_b);
}

/* Parses a TBSCertificate by wrapping it in a certificate with the precertificate's signature fields. */
static X509 *tbs_as_x509(const chain_result_t *r, const testpki_cert_t *precert)
{
    const ASN1_BIT_STRING *sig;
    const X509_ALGOR *alg;
    unsigned char *alg_der = NULL, *sig_der = NULL;
    X509_get0_signature(&sig, &alg, precert->x509);
    int alg_len = i2d_X509_ALGOR(alg, &alg_der), sig_len = i2d_ASN1_BIT_STRING(sig, &sig_der);
    size_t body = r->certificate_len + (size_t)alg_len + (size_t)sig_len, len = 0;
    uint8_t *der = malloc(body + 4);
    assert_true(body < 65536);
    der[len++] = 0x30;
    der[len++] = 0x82;
    der[len++] = (uint8_t)(body >> 8);
    der[len++] = (uint8_t)body;
    memcpy(der + len, r->certificate, r->certificate_len);
    memcpy(der + len + r->certificate_len, alg_der, (size_t)alg_len);
    memcpy(der + len + r->certificate_len + alg_len, sig_der, (size_t)sig_len);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)(body + 4));
    assert_non_null(x);
    OPENSSL_free(alg_der);
    OPENSSL_free(sig_der);
    free(der);
    return x;
}

static void assert_key_hash(const chain_result_t *r, const testpki_cert_t *issuer)
{
    unsigned char *spki = NULL;
    int len = i2d_PUBKEY(issuer->key, &spki);
    tlog_hash_t h;
    tlog_sha256(spki, (size_t)len, &h);
    assert_memory_equal(r->issuer_key_hash, h.bytes, 32);
    OPENSSL_free(spki);
}

/* DER tag and length octets (short form, or long form of one or two bytes, as test certificates have). */
static size_t der_header_len(const uint8_t *p)
{
    return p[1] < 0x80 ? 2 : 2 + (p[1] & 0x7f);
}

static size_t der_content_len(const uint8_t *p)
{
    return p[1] < 0x80 ? p[1] : p[1] == 0x81 ? p[2] : (size_t)p[2] << 8 | p[3];
}

/* The defanged TBS equals the TBS of the same certificate issued by real_issuer without the poison. */
static void assert_defanged(const chain_result_t *r, const testpki_opts_t *precert_opts, const testpki_cert_t *real_issuer,
                            const testpki_cert_t *precert)
{
    testpki_opts_t twin_opts = *precert_opts;
    struct tm tm;
    twin_opts.poison = TESTPKI_POISON_NONE;
    twin_opts.key = precert->key;
    twin_opts.serial = (uint64_t)ASN1_INTEGER_get(X509_get0_serialNumber(precert->x509));
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notBefore(precert->x509), &tm), 1);
    twin_opts.not_before = timegm(&tm);
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(precert->x509), &tm), 1);
    twin_opts.not_after = timegm(&tm);
    testpki_cert_t *twin = testpki_issue(&twin_opts, real_issuer);
    size_t off = der_header_len(twin->der), len = der_header_len(twin->der + off) + der_content_len(twin->der + off);
    assert_int_equal(r->certificate_len, len);
    assert_memory_equal(r->certificate, twin->der + off, len);

    X509 *parsed = tbs_as_x509(r, precert);
    assert_int_equal(X509_get_ext_by_NID(parsed, NID_ct_precert_poison, -1), -1);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(parsed), X509_get_subject_name(real_issuer->x509)), 0);
    assert_int_equal(X509_get_ext_count(parsed), X509_get_ext_count(precert->x509) - 1);
    X509_free(parsed);
    testpki_free(twin);
}

static void test_writer_chain_precertificates(void **state)
{
    pki_t *pki = *state;
    static const int server_auth[] = {NID_server_auth};
    time_t now = time(NULL);
    testpki_opts_t opts = {.cn = "pre.example",
                           .ekus = server_auth,
                           .eku_count = 1,
                           .poison = TESTPKI_POISON_CRITICAL,
                           .not_before = now - 3600,
                           .not_after = now + 86400 * 30};
    testpki_cert_t *precert = testpki_issue(&opts, pki->inter);
    testpki_cert_t *leaf = testpki_leaf("leaf.example", pki->inter);
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    testpki_cert_t *chain[] = {precert, pki->inter, pki->root};
    assert_int_equal(validate(pki->roots, &no_filters, 1, chain, 3, &r, err), CHAIN_OK);
    assert_true(r.is_precert);
    assert_int_equal(r.precertificate_len, precert->der_len);
    assert_memory_equal(r.precertificate, precert->der, precert->der_len);
    assert_key_hash(&r, pki->inter);
    assert_defanged(&r, &opts, pki->inter, precert);
    assert_int_equal(r.chain_count, 2);
    assert_int_equal(r.not_after, opts.not_after);
    assert_int_equal(r.not_before, opts.not_before);
    chain_result_free(&r);

    /* The wrong endpoint either way. */
    expect_rejected(pki->roots, &no_filters, 0, chain, 3, "add-chain: chain[0] is a precertificate");
    testpki_cert_t *cert_chain[] = {leaf, pki->inter};
    expect_rejected(pki->roots, &no_filters, 1, cert_chain, 2, "add-pre-chain: chain[0] is not a precertificate");

    /* Malformed poison. */
    int kinds[] = {TESTPKI_POISON_NONCRITICAL, TESTPKI_POISON_NOT_NULL};
    const char *wants[] = {"is not critical", "is not an ASN.1 NULL"};
    for (size_t i = 0; i < 2; i++) {
        testpki_opts_t bad_opts = opts;
        bad_opts.poison = kinds[i];
        testpki_cert_t *bad = testpki_issue(&bad_opts, pki->inter);
        testpki_cert_t *bad_chain[] = {bad, pki->inter};
        expect_rejected(pki->roots, &no_filters, 1, bad_chain, 2, wants[i]);
        testpki_free(bad);
    }

    /* Another unknown critical extension still fails verification. */
    testpki_ext_t crit = {.oid = "1.3.6.1.4.1.99999.1", .critical = 1};
    testpki_opts_t crit_opts = opts;
    crit_opts.exts = &crit;
    crit_opts.ext_count = 1;
    testpki_cert_t *crit_pre = testpki_issue(&crit_opts, pki->inter);
    testpki_cert_t *crit_chain[] = {crit_pre, pki->inter};
    expect_rejected(pki->roots, &no_filters, 1, crit_chain, 2, "unhandled critical extension");
    crit_opts.poison = TESTPKI_POISON_NONE;
    testpki_cert_t *crit_leaf = testpki_issue(&crit_opts, pki->inter);
    crit_chain[0] = crit_leaf;
    expect_rejected(pki->roots, &no_filters, 0, crit_chain, 2, "unhandled critical extension");
    testpki_free(crit_leaf);
    testpki_free(crit_pre);

    /* Issued by the root, which the submitter left out: the root is the issuer. */
    testpki_cert_t *direct = testpki_issue(&opts, pki->root);
    testpki_cert_t *direct_chain[] = {direct};
    assert_int_equal(validate(pki->roots, &no_filters, 1, direct_chain, 1, &r, err), CHAIN_OK);
    assert_key_hash(&r, pki->root);
    assert_defanged(&r, &opts, pki->root, direct);
    chain_result_free(&r);
    testpki_free(direct);

    /* A precertificate that is itself a root has no issuer. */
    testpki_opts_t self_opts = opts;
    self_opts.ca = 1;
    testpki_cert_t *self = testpki_issue(&self_opts, NULL);
    chain_roots_t *roots;
    assert_int_equal(chain_roots_new(&roots, err), 0);
    assert_int_equal(chain_roots_add_der(roots, self->der, self->der_len, err), 0);
    testpki_cert_t *self_chain[] = {self};
    expect_rejected(roots, &no_filters, 1, self_chain, 1, "has no issuer in the chain");
    chain_roots_free(roots);
    testpki_free(self);

    testpki_free(leaf);
    testpki_free(precert);
}

static void test_writer_chain_precert_signing_certificate(void **state)
{
    pki_t *pki = *state;
    static const int server_auth[] = {NID_server_auth};
    testpki_cert_t *psc = testpki_psc("faro test PSC", pki->inter);
    testpki_opts_t opts = {.cn = "pre.example", .ekus = server_auth, .eku_count = 1, .poison = TESTPKI_POISON_CRITICAL};
    testpki_cert_t *precert = testpki_issue(&opts, psc);
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    /* The real issuer is the PSC's issuer: its key hash, its name and key identifier in the TBS. */
    testpki_cert_t *chain[] = {precert, psc, pki->inter, pki->root};
    for (size_t n = 3; n <= 4; n++) {
        assert_int_equal(validate(pki->roots, &no_filters, 1, chain, n, &r, err), CHAIN_OK);
        assert_key_hash(&r, pki->inter);
        assert_defanged(&r, &opts, pki->inter, precert);
        assert_int_equal(r.chain_count, 3);
        assert_fingerprint(&r, 0, psc);
        chain_result_free(&r);
    }

    /* A PSC issued by the root, which was left out: the root is the real issuer. */
    testpki_cert_t *root_psc = testpki_psc("faro test root PSC", pki->root);
    testpki_cert_t *root_pre = testpki_issue(&opts, root_psc);
    testpki_cert_t *short_chain[] = {root_pre, root_psc};
    assert_int_equal(validate(pki->roots, &no_filters, 1, short_chain, 2, &r, err), CHAIN_OK);
    assert_key_hash(&r, pki->root);
    assert_defanged(&r, &opts, pki->root, root_pre);
    chain_result_free(&r);

    /* A PSC that is itself the trust anchor leaves no real issuer. */
    chain_roots_t *roots;
    assert_int_equal(chain_roots_new(&roots, err), 0);
    assert_int_equal(chain_roots_add_der(roots, psc->der, psc->der_len, err), 0);
    expect_rejected(roots, &no_filters, 1, chain, 2, "Precertificate Signing Certificate, and nothing issued it");
    expect_rejected(roots, &no_filters, 1, chain, 1, "Precertificate Signing Certificate, and nothing issued it");
    chain_roots_free(roots);

    /* A precertificate without an AKI gets the PSC's; a PSC without one removes the precertificate's. */
    testpki_opts_t no_aki = opts;
    no_aki.no_aki = 1;
    testpki_cert_t *pre_no_aki = testpki_issue(&no_aki, psc);
    testpki_cert_t *chain2[] = {pre_no_aki, psc, pki->inter};
    assert_int_equal(validate(pki->roots, &no_filters, 1, chain2, 3, &r, err), CHAIN_OK);
    X509 *parsed = tbs_as_x509(&r, pre_no_aki);
    const ASN1_OCTET_STRING *kid = X509_get0_authority_key_id(parsed);
    assert_non_null(kid);
    assert_int_equal(ASN1_OCTET_STRING_cmp(kid, X509_get0_subject_key_id(pki->inter->x509)), 0);
    X509_free(parsed);
    chain_result_free(&r);

    testpki_opts_t psc_opts = {.cn = "faro test PSC without AKI", .ca = 1, .no_aki = 1};
    static const int signer[] = {NID_ct_precert_signer};
    psc_opts.ekus = signer;
    psc_opts.eku_count = 1;
    testpki_cert_t *bare_psc = testpki_issue(&psc_opts, pki->inter);
    testpki_cert_t *pre_bare = testpki_issue(&opts, bare_psc);
    testpki_cert_t *chain3[] = {pre_bare, bare_psc, pki->inter};
    assert_int_equal(validate(pki->roots, &no_filters, 1, chain3, 3, &r, err), CHAIN_OK);
    parsed = tbs_as_x509(&r, pre_bare);
    assert_int_equal(X509_get_ext_by_NID(parsed, NID_authority_key_identifier, -1), -1);
    X509_free(parsed);
    chain_result_free(&r);

    testpki_free(pre_bare);
    testpki_free(bare_psc);
    testpki_free(pre_no_aki);
    testpki_free(root_pre);
    testpki_free(root_psc);
    testpki_free(precert);
    testpki_free(psc);
}

/*
 * chain[0]'s key is parsed in the lean library context when it is EC or RSA
 * (writer/chain_lean.c) and normally otherwise: certificates and
 * precertificates with each kind of key give the same results.
 */
static void test_writer_chain_leaf_key_types(void **state)
{
    pki_t *pki = *state;
    static const int server_auth[] = {NID_server_auth};
    EVP_PKEY *keys[] = {EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048),
                        EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384")};
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        assert_non_null(keys[i]);
        testpki_opts_t opts = {.cn = "keys.example", .key = keys[i], .ekus = server_auth, .eku_count = 1};
        testpki_cert_t *leaf = testpki_issue(&opts, pki->inter);
        testpki_cert_t *chain[] = {leaf, pki->inter};
        assert_int_equal(validate(pki->roots, &no_filters, 0, chain, 2, &r, err), CHAIN_OK);
        assert_memory_equal(r.certificate, leaf->der, leaf->der_len);
        assert_fingerprint(&r, 0, pki->inter);
        chain_result_free(&r);

        opts.poison = TESTPKI_POISON_CRITICAL;
        testpki_cert_t *precert = testpki_issue(&opts, pki->inter);
        chain[0] = precert;
        assert_int_equal(validate(pki->roots, &no_filters, 1, chain, 2, &r, err), CHAIN_OK);
        assert_key_hash(&r, pki->inter);
        assert_defanged(&r, &opts, pki->inter, precert);
        chain_result_free(&r);

        /* A broken signature is caught whichever way the leaf was parsed. */
        leaf->der[leaf->der_len - 3] ^= 0x01;
        chain[0] = leaf;
        expect_rejected(pki->roots, &no_filters, 0, chain, 2, "signature failure (at depth 0)");
        testpki_free(precert);
        testpki_free(leaf);
        EVP_PKEY_free(keys[i]);
    }
}

/* cert with byte at of its public key's bits xored with mask, signed again by issuer. */
static void corrupt_key_bits(testpki_cert_t *cert, const testpki_cert_t *issuer, size_t at, uint8_t mask)
{
    ASN1_BIT_STRING *bits = (ASN1_BIT_STRING *)X509_get0_pubkey_bitstr(cert->x509);
    assert_true(at < (size_t)ASN1_STRING_length(bits));
    ((uint8_t *)ASN1_STRING_get0_data(bits))[at] ^= mask;
    assert_true(X509_sign(cert->x509, issuer->key, EVP_sha256()) > 0);
    OPENSSL_free(cert->der);
    cert->der = NULL;
    int len = i2d_X509(cert->x509, &cert->der);
    assert_true(len > 0);
    cert->der_len = (size_t)len;
}

/*
 * A leaf key that OpenSSL does not decode (an EC point off its curve, RSA
 * bits that are not an RSAPublicKey) is refused however chain[0] was parsed.
 */
static void test_writer_chain_refuses_broken_leaf_keys(void **state)
{
    pki_t *pki = *state;
    static const int server_auth[] = {NID_server_auth};
    const struct {
        EVP_PKEY *key;
        size_t at; /* from the end of the key's bits, or from the start */
        int from_end;
    } cases[] = {
        {EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), 1, 1}, /* the point's last byte */
        {EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), 1, 1},
        {EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), 0, 0}, /* the SEQUENCE tag */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_non_null(cases[i].key);
        testpki_opts_t opts = {.cn = "broken-key.example", .key = cases[i].key, .ekus = server_auth, .eku_count = 1};
        testpki_cert_t *leaf = testpki_issue(&opts, pki->inter);
        testpki_cert_t *chain[] = {leaf, pki->inter};
        size_t len = (size_t)ASN1_STRING_length(X509_get0_pubkey_bitstr(leaf->x509));
        corrupt_key_bits(leaf, pki->inter, cases[i].from_end ? len - cases[i].at : cases[i].at, 0x01);
        expect_rejected(pki->roots, &no_filters, 0, chain, 2, "chain[0]: its public key does not decode");
        testpki_free(leaf);
        EVP_PKEY_free(cases[i].key);
    }
}

static void test_writer_chain_rsa_and_sha1(void **state)
{
    pki_t *pki = *state;
    testpki_opts_t rsa_opts = {.cn = "faro test RSA intermediate", .ca = 1, .key_type = TESTPKI_RSA};
    testpki_cert_t *rsa_inter = testpki_issue(&rsa_opts, pki->root);
    testpki_cert_t *precert = testpki_precert("pre.example", rsa_inter);
    testpki_opts_t sha1_opts = {.cn = "sha1.example", .sha1 = 1};
    testpki_cert_t *sha1_leaf = testpki_issue(&sha1_opts, pki->inter);
    testpki_opts_t sha1_ca_opts = {.cn = "faro test SHA-1 intermediate", .ca = 1, .sha1 = 1};
    testpki_cert_t *sha1_inter = testpki_issue(&sha1_ca_opts, pki->root);
    testpki_cert_t *leaf = testpki_leaf("leaf.example", sha1_inter);
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    testpki_cert_t *rsa_chain[] = {precert, rsa_inter};
    assert_int_equal(validate(pki->roots, &no_filters, 1, rsa_chain, 2, &r, err), CHAIN_OK);
    assert_key_hash(&r, rsa_inter);
    chain_result_free(&r);

    /* SHA-1 on the leaf is refused unless accepted; on an intermediate it is not the filter's business. */
    testpki_cert_t *sha1_chain[] = {sha1_leaf, pki->inter};
    expect_rejected(pki->roots, &no_filters, 0, sha1_chain, 2, "signed with SHA-1");
    chain_policy_t accept = {.accept_sha1_signing_algorithms = 1};
    expect_ok(pki->roots, &accept, 0, sha1_chain, 2);
    testpki_cert_t *inter_chain[] = {leaf, sha1_inter};
    expect_ok(pki->roots, &no_filters, 0, inter_chain, 2);

    testpki_free(leaf);
    testpki_free(sha1_inter);
    testpki_free(sha1_leaf);
    testpki_free(precert);
    testpki_free(rsa_inter);
}

static void test_writer_chain_validity_filters(void **state)
{
    pki_t *pki = *state;
    time_t now = time(NULL), t = now + 30 * 86400;
    testpki_opts_t opts = {.cn = "leaf.example", .not_after = t};
    testpki_cert_t *leaf = testpki_issue(&opts, pki->inter);
    testpki_opts_t old_opts = {.cn = "old.example", .not_before = now - 10 * 86400, .not_after = now - 86400};
    testpki_cert_t *expired = testpki_issue(&old_opts, pki->inter);
    testpki_cert_t *chain[] = {leaf, pki->inter}, *old_chain[] = {expired, pki->inter};
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    /* [start, limit) on NotAfter, at its edges. */
    chain_policy_t p = {.has_not_after_start = 1, .not_after_start = t};
    expect_ok(pki->roots, &p, 0, chain, 2);
    p.not_after_start = t + 1;
    expect_rejected(pki->roots, &p, 0, chain, 2, "is before this log's not_after_start");
    p = (chain_policy_t){.has_not_after_limit = 1, .not_after_limit = t + 1};
    expect_ok(pki->roots, &p, 0, chain, 2);
    p.not_after_limit = t;
    expect_rejected(pki->roots, &p, 0, chain, 2, "is not before this log's not_after_limit");
    p = (chain_policy_t){.has_not_after_start = 1, .not_after_start = t - 1, .has_not_after_limit = 1, .not_after_limit = t + 1};
    expect_ok(pki->roots, &p, 0, chain, 2);

    /* Time is not checked unless a filter says so. */
    expect_ok(pki->roots, &no_filters, 0, old_chain, 2);
    p = (chain_policy_t){.reject_expired = 1};
    expect_ok(pki->roots, &p, 0, chain, 2);
    expect_rejected(pki->roots, &p, 0, old_chain, 2, "expired at");
    assert_int_equal(validate_at(pki->roots, &p, 0, chain, 2, t, &r, err), CHAIN_OK);
    chain_result_free(&r);
    assert_int_equal(validate_at(pki->roots, &p, 0, chain, 2, t + 1, &r, err), CHAIN_REJECTED);
    p = (chain_policy_t){.reject_unexpired = 1};
    expect_ok(pki->roots, &p, 0, old_chain, 2);
    expect_rejected(pki->roots, &p, 0, chain, 2, "only takes expired certificates");
    assert_int_equal(validate_at(pki->roots, &p, 0, chain, 2, t, &r, err), CHAIN_REJECTED);
    assert_int_equal(validate_at(pki->roots, &p, 0, chain, 2, t + 1, &r, err), CHAIN_OK);
    chain_result_free(&r);

    testpki_free(expired);
    testpki_free(leaf);
}

static void test_writer_chain_extension_filters(void **state)
{
    pki_t *pki = *state;
    static const int server[] = {NID_server_auth}, client[] = {NID_client_auth}, any[] = {NID_anyExtendedKeyUsage};
    testpki_opts_t o_server = {.ekus = server, .eku_count = 1}, o_client = {.ekus = client, .eku_count = 1}, o_none = {0},
                   o_any = {.ekus = any, .eku_count = 1};
    testpki_cert_t *c_server = testpki_issue(&o_server, pki->inter), *c_client = testpki_issue(&o_client, pki->inter);
    testpki_cert_t *c_none = testpki_issue(&o_none, pki->inter), *c_any = testpki_issue(&o_any, pki->inter);
    testpki_cert_t *s[] = {c_server, pki->inter}, *c[] = {c_client, pki->inter}, *n[] = {c_none, pki->inter},
                   *a[] = {c_any, pki->inter};

    char *server_only[] = {"ServerAuth"}, *client_or_code[] = {"ClientAuth", "CodeSigning"}, *any_name[] = {"Any"};
    chain_policy_t p = {.ext_key_usages = server_only, .ext_key_usages_count = 1};
    expect_ok(pki->roots, &p, 0, s, 2);
    expect_rejected(pki->roots, &p, 0, c, 2, "none of the extended key usages");
    expect_rejected(pki->roots, &p, 0, n, 2, "none of the extended key usages");
    expect_rejected(pki->roots, &p, 0, a, 2, "none of the extended key usages");
    p.ext_key_usages = client_or_code;
    p.ext_key_usages_count = 2;
    expect_ok(pki->roots, &p, 0, c, 2);
    expect_rejected(pki->roots, &p, 0, s, 2, "none of the extended key usages");
    p.ext_key_usages = any_name;
    p.ext_key_usages_count = 1;
    expect_ok(pki->roots, &p, 0, s, 2);
    expect_ok(pki->roots, &p, 0, c, 2);
    expect_ok(pki->roots, &p, 0, n, 2);
    expect_ok(pki->roots, &no_filters, 0, n, 2);

    /* Refused extensions, by dotted OID. */
    testpki_ext_t ext = {.oid = "1.3.6.1.4.1.99999.7"};
    testpki_opts_t o_ext = {.exts = &ext, .ext_count = 1};
    testpki_cert_t *c_ext = testpki_issue(&o_ext, pki->inter);
    testpki_cert_t *e[] = {c_ext, pki->inter};
    char *refuse[] = {"1.2.3.4", "1.3.6.1.4.1.99999.7"}, *refuse_san[] = {"2.5.29.17"};
    chain_policy_t q = {.reject_extensions = refuse, .reject_extensions_count = 2};
    expect_rejected(pki->roots, &q, 0, e, 2, "has extension 1.3.6.1.4.1.99999.7, which this log refuses");
    expect_ok(pki->roots, &q, 0, s, 2);
    expect_ok(pki->roots, &no_filters, 0, e, 2);
    q.reject_extensions = refuse_san;
    q.reject_extensions_count = 1;
    expect_ok(pki->roots, &q, 0, e, 2);

    testpki_free(c_ext);
    testpki_free(c_any);
    testpki_free(c_none);
    testpki_free(c_client);
    testpki_free(c_server);
}

static void test_writer_chain_policy_check(void **state)
{
    (void)state;
    char err[TLOG_ERR_MAX];
    char *good_ekus[] = {"ServerAuth", "Any", "clientauth", "MicrosoftKernelCodeSigning"}, *bad_ekus[] = {"ServerAuth", "Web"};
    char *good_oids[] = {"2.5.29.17", "1.3.6.1.4.1.11129.2.4.3"};
    char *bad_oids[][1] = {{"2.5.29.x"}, {"2.5.029.17"}, {"2.5.29.17 "}, {""}, {"SAN"}, {"subjectAltName"}};
    chain_policy_t p = {
        .ext_key_usages = good_ekus, .ext_key_usages_count = 4, .reject_extensions = good_oids, .reject_extensions_count = 2};
    assert_int_equal(chain_policy_check(&p, err), 0);
    p.ext_key_usages = bad_ekus;
    p.ext_key_usages_count = 2;
    assert_int_equal(chain_policy_check(&p, err), -1);
    assert_string_equal(err, "ext_key_usages: unknown extended key usage \"Web\"");
    p.ext_key_usages_count = 0;
    for (size_t i = 0; i < sizeof(bad_oids) / sizeof(bad_oids[0]); i++) {
        p.reject_extensions = bad_oids[i];
        p.reject_extensions_count = 1;
        assert_int_equal(chain_policy_check(&p, err), -1);
        assert_non_null(strstr(err, "is not a dotted OID"));
    }
    p = (chain_policy_t){.has_not_after_start = 1, .has_not_after_limit = 1, .not_after_start = 10, .not_after_limit = 10};
    assert_int_equal(chain_policy_check(&p, err), -1);

    /* chain_validate refuses an unchecked bad policy as an internal error, before looking at the chain. */
    chain_result_t r;
    const uint8_t *ders[] = {(const uint8_t *)"x"};
    size_t lens[] = {1};
    assert_int_equal(chain_validate(NULL, &p, 0, ders, lens, 1, 0, &r, err), CHAIN_INTERNAL);
}

static void test_writer_chain_request_parse(void **state)
{
    pki_t *pki = *state;
    testpki_cert_t *leaf = testpki_leaf("leaf.example", pki->inter);
    testpki_cert_t *chain[] = {leaf, pki->inter};
    char *body = testpki_chain_json(chain, 2);
    chain_request_t req;
    chain_result_t r;
    char err[TLOG_ERR_MAX];

    assert_int_equal(chain_request_parse(body, strlen(body), &req, err), CHAIN_OK);
    assert_int_equal(req.count, 2);
    assert_int_equal(req.lens[0], leaf->der_len);
    assert_memory_equal(req.ders[0], leaf->der, leaf->der_len);
    assert_memory_equal(req.ders[1], pki->inter->der, pki->inter->der_len);
    assert_int_equal(chain_validate(pki->roots, &no_filters, 0, req.ders, req.lens, req.count, time(NULL), &r, err), CHAIN_OK);
    chain_result_free(&r);
    chain_request_free(&req);
    chain_request_free(&req);
    chain_request_free(NULL);

    /* The member name ignores case; other members are ignored. */
    body[2] = 'C';
    body[4] = 'A';
    assert_int_equal(chain_request_parse(body, strlen(body), &req, err), CHAIN_OK);
    chain_request_free(&req);
    /* Read directly or by jansson (whitespace, an escaped solidus), the same chain. */
    static const char *ok[] = {"{\"other\":1,\"chain\":[\"AA==\",\"AAE/\"]}", " {\"CHAIN\" : [\"AA==\",\"AAE/\"]} \n",
                               "\r\n{ \"chain\" :\n[ \"AA==\" ,\t\"AAE/\" ] }\n", "{\"chain\":[\"AA==\",\"AAE\\/\"]}"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (chain_request_parse(ok[i], strlen(ok[i]), &req, err) != CHAIN_OK)
            fail_msg("body %s: %s", ok[i], err);
        assert_int_equal(req.count, 2);
        assert_int_equal(req.lens[0], 1);
        assert_int_equal(req.lens[1], 3);
        assert_memory_equal(req.ders[1], "\x00\x01\x3f", 3);
        chain_request_free(&req);
    }

    static const struct {
        const char *body, *err;
    } bad[] = {
        {"", "not JSON"},
        {"{\"chain\":[\"AA==\"]", "not JSON"},
        {"{\"chain\":[\"AA==\"]} x", "not JSON"},
        {"{\"chain\":[\"AA==\"],\"chain\":[\"AA==\"]}", "not JSON"},
        {"[\"AA==\"]", "not a JSON object"},
        {"\"chain\"", "not a JSON object"},
        {"{}", "no \"chain\" member"},
        {"{\"chains\":[\"AA==\"]}", "no \"chain\" member"},
        {"{\"chain\":[\"AA==\"],\"Chain\":[\"AA==\"]}", "more than one \"chain\" member"},
        {"{\"chain\":\"AA==\"}", "\"chain\" is not an array"},
        {"{\"chain\":null}", "\"chain\" is not an array"},
        {"{\"chain\":{}}", "\"chain\" is not an array"},
        {"{\"chain\":[]}", "\"chain\" is empty"},
        {"{\"chain\":[\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\"]}",
         "\"chain\" has 11 certificates, at most 10"},
        {"{\"chain\":[\"AA==\",1]}", "chain[1] is not a string"},
        {"{\"chain\":[null]}", "chain[0] is not a string"},
        {"{\"chain\":[[\"AA==\"]]}", "chain[0] is not a string"},
        {"{\"chain\":[\"AA\"]}", "chain[0] is not base64"},
        {"{\"chain\":[\"AA=\"]}", "chain[0] is not base64"},
        {"{\"chain\":[\"A-_A\"]}", "chain[0] is not base64"},
        {"{\"chain\":[\"AA==\",\"AA\\n==\"]}", "chain[1] is not base64"},
        {"{\"chain\":[\"AB==\"]}", "chain[0] is not base64"},
        {"{\"chain\":[\"\"]}", "chain[0] is empty"},
        {"{\"chain\":[\"AA==\",\"\"]}", "chain[1] is empty"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&req, 0xa5, sizeof(req));
        int ret = chain_request_parse(bad[i].body, strlen(bad[i].body), &req, err);
        if (ret != CHAIN_REJECTED || strncmp(err, "request: ", 9) != 0 || strstr(err, bad[i].err) == NULL)
            fail_msg("body %zu %s: returned %d, error \"%s\", want \"%s\"", i, bad[i].body, ret, err, bad[i].err);
        assert_null(req.blob);
        assert_int_equal(req.count, 0);
        chain_request_free(&req);
    }
    /* A NUL inside the body is not JSON. */
    assert_int_equal(chain_request_parse("{\"chain\":[\"AA==\"]}\0", 19, &req, err), CHAIN_REJECTED);
    free(body);
    testpki_free(leaf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_chain_accepts_paths_with_and_without_root),
        cmocka_unit_test(test_writer_chain_rejects_bad_paths),
        cmocka_unit_test(test_writer_chain_reuses_verified_paths),
        cmocka_unit_test(test_writer_chain_issuer_key_tables),
        cmocka_unit_test(test_writer_chain_follows_the_submitted_path),
        cmocka_unit_test(test_writer_chain_precertificates),
        cmocka_unit_test(test_writer_chain_precert_signing_certificate),
        cmocka_unit_test(test_writer_chain_leaf_key_types),
        cmocka_unit_test(test_writer_chain_refuses_broken_leaf_keys),
        cmocka_unit_test(test_writer_chain_rsa_and_sha1),
        cmocka_unit_test(test_writer_chain_validity_filters),
        cmocka_unit_test(test_writer_chain_extension_filters),
        cmocka_unit_test(test_writer_chain_policy_check),
        cmocka_unit_test(test_writer_chain_request_parse),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
