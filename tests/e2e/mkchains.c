/*
 * mkchains DIR CERTS PRECERTS: the test PKI of the writer's end-to-end tests,
 * made with tests/unit/testpki.c (one process, a few ms per hundred chains).
 * mkchains --stream DIR: DIR/root.pem, then submissions on stdout (nine
 * certificates to one precertificate) until stdout is closed.
 *
 *   DIR/root.pem       the root every log of the tests accepts
 *   DIR/chains.jsonl   CERTS add-chain then PRECERTS add-pre-chain submissions,
 *                      one {"endpoint":..., "chain":["<b64 DER>", ...]} a line,
 *                      all distinct: leaves under an intermediate, sent with
 *                      and without the root; precertificates issued by the
 *                      intermediate or through a Precertificate Signing
 *                      Certificate (some without an authority key identifier)
 *   DIR/cases.json     named chains for the error paths and the filters, and
 *                      the not_after window ("not_after_start"/"limit", RFC
 *                      3339) that the filter cases are cut for
 *
 * Leaves share one key pair (a new key per leaf would only cost time); each
 * has its own serial number and subject, so every submission is distinct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/objects.h>

#include "tests/unit/testpki.h"
#include "tlog/hash.h"

#define DAY (24 * 60 * 60)

static json_t *chain_array(testpki_cert_t *const *certs, size_t n)
{
    json_t *array = json_array();
    for (size_t i = 0; i < n; i++) {
        char *b64 = malloc(TLOG_BASE64_LEN(certs[i]->der_len) + 1);
        if (b64 == NULL)
            abort();
        tlog_base64_encode(certs[i]->der, certs[i]->der_len, b64);
        json_array_append_new(array, json_string(b64));
        free(b64);
    }
    return array;
}

static json_t *submission(const char *endpoint, testpki_cert_t *const *certs, size_t n)
{
    return json_pack("{s:s, s:o}", "endpoint", endpoint, "chain", chain_array(certs, n));
}

static void write_line(FILE *f, json_t *object)
{
    char *text = json_dumps(object, JSON_COMPACT);
    if (text == NULL)
        abort();
    if (fprintf(f, "%s\n", text) < 0)
        exit(1);
    free(text);
    json_decref(object);
}

static void rfc3339(time_t t, char out[32])
{
    struct tm tm;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

/* A leaf under issuer with the shared key and the given tweaks; NULL ekus means serverAuth. */
static testpki_cert_t *leaf(EVP_PKEY *key, const char *cn, const testpki_cert_t *issuer, testpki_opts_t opts)
{
    static const int server_auth[] = {NID_server_auth};
    opts.cn = cn;
    opts.key = key;
    if (opts.ekus == NULL && opts.eku_count == 0) {
        opts.ekus = server_auth;
        opts.eku_count = 1;
    }
    return testpki_issue(&opts, issuer);
}

/* The named cases: each breaks one rule (or, "filter_good", none) of the filter log the tests configure. */
static json_t *cases(EVP_PKEY *key, testpki_cert_t *root, testpki_cert_t *inter, time_t now)
{
    static const int client_auth[] = {NID_client_auth};
    static const testpki_ext_t refused[] = {{.oid = "1.3.6.1.4.1.55555.1.2", .critical = 0}};
    time_t start = now - 30 * DAY, limit = now + 180 * DAY;
    char start_text[32], limit_text[32];
    rfc3339(start, start_text);
    rfc3339(limit, limit_text);
    json_t *out = json_pack("{s:s, s:s}", "not_after_start", start_text, "not_after_limit", limit_text);

    struct {
        const char *name, *endpoint;
        testpki_opts_t opts;
        int precert;
    } filters[] = {
        {"filter_good", "add-chain", {.not_after = now + 90 * DAY}, 0},
        {"filter_good_precert", "add-pre-chain", {.not_after = now + 90 * DAY, .poison = TESTPKI_POISON_CRITICAL}, 1},
        {"not_after_early", "add-chain", {.not_before = now - 400 * DAY, .not_after = start - DAY}, 0},
        {"not_after_late", "add-chain", {.not_after = limit + DAY}, 0},
        {"expired", "add-chain", {.not_before = now - 100 * DAY, .not_after = now - DAY}, 0},
        {"client_auth_only", "add-chain", {.ekus = client_auth, .eku_count = 1}, 0},
        {"refused_extension", "add-chain", {.exts = refused, .ext_count = 1}, 0},
        {"sha1", "add-chain", {.sha1 = 1}, 0},
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        char cn[64];
        snprintf(cn, sizeof(cn), "%s.filters.example", filters[i].name);
        testpki_cert_t *c = leaf(key, cn, inter, filters[i].opts);
        testpki_cert_t *chain[] = {c, inter, root};
        json_object_set_new(out, filters[i].name, submission(filters[i].endpoint, chain, 3));
        testpki_free(c);
    }
    /* The same shape of chain, under a root no log of the tests accepts. */
    testpki_cert_t *other_root = testpki_root("faro e2e other root");
    testpki_cert_t *other_inter = testpki_intermediate("faro e2e other intermediate", other_root);
    testpki_cert_t *stranger = leaf(key, "stranger.example", other_inter, (testpki_opts_t){0});
    testpki_cert_t *unknown[] = {stranger, other_inter, other_root};
    json_object_set_new(out, "unknown_root", submission("add-chain", unknown, 3));
    /* A precertificate and a certificate for the wrong endpoints. */
    testpki_cert_t *pre = leaf(key, "wrong-endpoint-pre.example", inter, (testpki_opts_t){.poison = TESTPKI_POISON_CRITICAL});
    testpki_cert_t *plain = leaf(key, "wrong-endpoint.example", inter, (testpki_opts_t){0});
    testpki_cert_t *pre_chain[] = {pre, inter, root}, *plain_chain[] = {plain, inter, root};
    json_object_set_new(out, "precert_to_add_chain", submission("add-chain", pre_chain, 3));
    json_object_set_new(out, "cert_to_add_pre_chain", submission("add-pre-chain", plain_chain, 3));
    testpki_free(pre);
    testpki_free(plain);
    testpki_free(stranger);
    testpki_free(other_inter);
    testpki_free(other_root);
    return out;
}

/* The i-th add-chain submission: a leaf under the intermediate, every third one sent with the root. */
static json_t *cert_submission(EVP_PKEY *key, testpki_cert_t *root, testpki_cert_t *inter, long i)
{
    char cn[64];
    snprintf(cn, sizeof(cn), "leaf-%ld.e2e.example", i);
    testpki_cert_t *c = leaf(key, cn, inter, (testpki_opts_t){0});
    testpki_cert_t *chain[] = {c, inter, root};
    json_t *out = submission("add-chain", chain, i % 3 == 0 ? 3 : 2);
    testpki_free(c);
    return out;
}

/*
 * The i-th add-pre-chain submission: half issued through the PSC (one in four
 * of those without an authority key identifier), half by the intermediate;
 * every other one sent with the root.
 */
static json_t *precert_submission(EVP_PKEY *key, testpki_cert_t *root, testpki_cert_t *inter, testpki_cert_t *psc, long i)
{
    char cn[64];
    int via_psc = i % 4 < 2;
    snprintf(cn, sizeof(cn), "pre-%ld.e2e.example", i);
    testpki_opts_t opts = {.poison = TESTPKI_POISON_CRITICAL, .no_aki = via_psc && i % 8 == 0};
    testpki_cert_t *c = leaf(key, cn, via_psc ? psc : inter, opts);
    testpki_cert_t *direct[] = {c, inter, root}, *through[] = {c, psc, inter, root};
    json_t *out = via_psc ? submission("add-pre-chain", through, i % 2 == 0 ? 4 : 3)
                          : submission("add-pre-chain", direct, i % 2 == 0 ? 3 : 2);
    testpki_free(c);
    return out;
}

int main(int argc, char **argv)
{
    int stream = argc == 3 && strcmp(argv[1], "--stream") == 0;
    if (argc != 4 && !stream) {
        fprintf(stderr, "usage: mkchains DIR CERTS PRECERTS | mkchains --stream DIR\n");
        return 2;
    }
    const char *dir = argv[stream ? 2 : 1];
    long certs = stream ? 0 : atol(argv[2]), precerts = stream ? 0 : atol(argv[3]);
    char path[4096];
    time_t now = time(NULL);

    testpki_cert_t *root = testpki_root("faro e2e root");
    testpki_cert_t *inter = testpki_intermediate("faro e2e intermediate", root);
    testpki_cert_t *psc = testpki_psc("faro e2e precertificate signer", inter);
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (key == NULL)
        abort();

    snprintf(path, sizeof(path), "%s/root.pem", dir);
    if (testpki_write_pem(path, &root, 1) != 0) {
        perror(path);
        return 1;
    }
    if (stream) {
        /* Ends when the reader closes the pipe (SIGPIPE, or EPIPE in write_line). */
        for (long i = 0;; i++)
            write_line(stdout, i % 10 == 9 ? precert_submission(key, root, inter, psc, i / 10)
                                           : cert_submission(key, root, inter, i - i / 10));
    }

    snprintf(path, sizeof(path), "%s/chains.jsonl", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    for (long i = 0; i < certs; i++)
        write_line(f, cert_submission(key, root, inter, i));
    for (long i = 0; i < precerts; i++)
        write_line(f, precert_submission(key, root, inter, psc, i));
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }

    snprintf(path, sizeof(path), "%s/cases.json", dir);
    json_t *named = cases(key, root, inter, now);
    if (json_dump_file(named, path, JSON_INDENT(1)) != 0) {
        fprintf(stderr, "%s: cannot write\n", path);
        return 1;
    }
    json_decref(named);
    EVP_PKEY_free(key);
    testpki_free(psc);
    testpki_free(inter);
    testpki_free(root);
    return 0;
}
