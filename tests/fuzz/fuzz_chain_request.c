/*
 * add-chain / add-pre-chain bodies: chain_request_parse, then chain_validate
 * for both endpoints, without and with filters, against one root. Any
 * accepted chain must make an entry that survives the TileLeaf encoding.
 *
 * The root's key is fixed (below; a test key, nothing else uses it), so the
 * seed corpus, whose chains omit the root, verifies against the root made at
 * start-up. FARO_FUZZ_SEEDS=<dir> ./fuzz_chain_request writes that corpus
 * (valid chains of several shapes, and broken bodies) and exits.
 *
 * Whatever chain_request_parse accepts, jansson must read as a JSON object
 * whose "chain" strings decode to the same certificates (it reads the usual
 * form of a body without jansson).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tests/unit/testpki.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "writer/chain.h"

static const char root_key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                                   "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwj7VeDYC5Z0z8j0y\n"
                                   "cL70sVMkNGS1FyUQ4hDHjsajd4yhRANCAAQ5vkZaLp/FEQHs4PgNfQdAeDPDHeUz\n"
                                   "IyEE6iFnZDE0Gk2imjIH7MYF+dclzNo78q/kqFmNT/bkB+hb2j3AEz23\n"
                                   "-----END PRIVATE KEY-----\n";

static testpki_cert_t *root;
static chain_roots_t *roots;
static char *server_auth[] = {"ServerAuth"}, *refused[] = {"1.3.6.1.4.1.99999.7"};
static const chain_policy_t no_filters = {0};
static const chain_policy_t filters = {.has_not_after_start = 1,
                                       .not_after_start = 946684800, /* 2000 */
                                       .has_not_after_limit = 1,
                                       .not_after_limit = 4102444800, /* 2100 */
                                       .ext_key_usages = server_auth,
                                       .ext_key_usages_count = 1,
                                       .reject_extensions = refused,
                                       .reject_extensions_count = 1};

static void write_seed(const char *dir, const char *name, const char *body)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(body, f) < 0 || fclose(f) != 0)
        abort();
}

static void write_chain_seed(const char *dir, const char *name, testpki_cert_t *const *certs, size_t n)
{
    char *body = testpki_chain_json(certs, n);
    write_seed(dir, name, body);
    free(body);
}

static void write_seeds(const char *dir)
{
    testpki_cert_t *inter = testpki_intermediate("faro fuzz intermediate", root);
    testpki_cert_t *leaf = testpki_leaf("leaf.example", inter);
    testpki_cert_t *precert = testpki_precert("pre.example", inter);
    testpki_cert_t *psc = testpki_psc("faro fuzz PSC", inter);
    testpki_cert_t *psc_precert = testpki_precert("psc.example", psc);
    testpki_cert_t *direct = testpki_precert("direct.example", root);

    testpki_cert_t *c1[] = {leaf, inter}, *c2[] = {precert, inter}, *c3[] = {psc_precert, psc, inter}, *c4[] = {direct};
    write_chain_seed(dir, "valid-leaf", c1, 2);
    write_chain_seed(dir, "valid-precert", c2, 2);
    write_chain_seed(dir, "valid-precert-psc", c3, 3);
    write_chain_seed(dir, "valid-precert-by-root", c4, 1);
    write_seed(dir, "invalid-not-json", "{\"chain\":[");
    write_seed(dir, "invalid-empty", "{\"chain\":[]}");
    write_seed(dir, "invalid-base64", "{\"chain\":[\"AAA\"]}");
    write_seed(dir, "invalid-not-der", "{\"Chain\":[\"MAMCAQA=\"]}");
    testpki_free(direct);
    testpki_free(psc_precert);
    testpki_free(psc);
    testpki_free(precert);
    testpki_free(leaf);
    testpki_free(inter);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    BIO *bio = BIO_new_mem_buf(root_key_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    testpki_opts_t opts = {
        .cn = "faro fuzz root", .key = key, .serial = 1, .ca = 1, .not_before = 946684800, .not_after = 4102444800};
    char err[TLOG_ERR_MAX];

    if (key == NULL)
        abort();
    root = testpki_issue(&opts, NULL);
    if (chain_roots_new(&roots, err) != 0 || chain_roots_add_der(roots, root->der, root->der_len, err) != 0)
        abort();
    EVP_PKEY_free(key);
    BIO_free(bio);
    if (getenv("FARO_FUZZ_SEEDS") != NULL) {
        write_seeds(getenv("FARO_FUZZ_SEEDS"));
        exit(0);
    }
    return 0;
}

/* An accepted chain's entry encodes and parses back to the same fields. */
static void check_result(const chain_result_t *r, int precert)
{
    tlog_ct_entry_t entry, parsed;
    tlog_buf_t tile = TLOG_BUF_INIT;
    size_t consumed;

    if (r->is_precert != precert || r->certificate_len == 0 || r->chain_count > CHAIN_MAX_CERTS ||
        (precert && r->precertificate_len == 0))
        abort();
    chain_result_entry(r, 1, 2, &entry);
    tlog_ct_tile_leaf(&entry, &tile);
    if (tlog_ct_tile_leaf_parse(tile.data, tile.len, &parsed, &consumed, NULL) != 0 || consumed != tile.len ||
        parsed.certificate_len != r->certificate_len || parsed.chain_count != r->chain_count)
        abort();
    tlog_buf_free(&tile);
}

/* The body as jansson reads it agrees with req (when its member is spelled "chain"). */
static void check_jansson_agrees(const uint8_t *data, size_t size, const chain_request_t *req)
{
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    json_t *chain = json_object_get(root, "chain");
    if (!json_is_object(root))
        abort();
    if (chain != NULL) {
        if (json_array_size(chain) != req->count)
            abort();
        for (size_t i = 0; i < req->count; i++) {
            json_t *item = json_array_get(chain, i);
            uint8_t der[65536];
            size_t len;
            if (!json_is_string(item) ||
                tlog_base64_decode(json_string_value(item), json_string_length(item), der, sizeof(der), &len) != 0 ||
                len != req->lens[i] || memcmp(der, req->ders[i], len) != 0)
                abort();
        }
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chain_request_t req;
    char err[TLOG_ERR_MAX];
    const chain_policy_t *policies[] = {&no_filters, &filters};

    if (chain_request_parse((const char *)data, size, &req, err) != CHAIN_OK)
        return 0;
    if (req.count == 0 || req.count > CHAIN_MAX_CERTS)
        abort();
    check_jansson_agrees(data, size, &req);
    for (int precert = 0; precert < 2; precert++)
        for (size_t p = 0; p < 2; p++) {
            chain_result_t r;
            int ret = chain_validate(roots, policies[p], precert, req.ders, req.lens, req.count, 1767225600, &r, err);
            if (ret == CHAIN_OK)
                check_result(&r, precert);
            else if (ret != CHAIN_REJECTED)
                abort();
            chain_result_free(&r);
        }
    chain_request_free(&req);
    return 0;
}
