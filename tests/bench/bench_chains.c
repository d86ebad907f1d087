/*
 * bench_chains DIR COUNT [ec|rsa] [THREADS]: the submissions of the add-chain
 * benchmark, made before any clock starts.
 *
 *   DIR/root.pem     the root both logs of the benchmark accept
 *   DIR/chains.bin   COUNT distinct leaves under one intermediate (see below)
 *   stdout           "not_after_start <RFC 3339>" and "not_after_limit <RFC 3339>":
 *                    a window the leaves' NotAfter falls in, for the logs' filters
 *
 * Root and intermediate get EC P-256 keys (ec, the default) or RSA-2048 keys
 * (rsa): the intermediate's key type is what the logs pay for in verifying
 * each leaf. Every leaf is a serverAuth certificate with the same key pair,
 * made from one template (tests/unit/testpki.c) by patching its serial number
 * and the digits of its commonName into the TBSCertificate and signing that
 * with the intermediate's key: one signature per leaf, no X.509 building, so
 * a million EC leaves take seconds. THREADS (default 2) sign in parallel.
 *
 * chains.bin: "faro-bench-chains-v1\n", then u32 record size, u32 count,
 * u32 intermediate length and the intermediate's DER, then COUNT records of
 * record size bytes: u16 DER length, DER, zero padding. Integers big-endian.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include "tests/unit/testpki.h"

#define DAY (24 * 60 * 60)
#define MAGIC "faro-bench-chains-v1\n"
#define CN_TEMPLATE "leaf-0000000000.bench.faro.test"
#define CN_DIGITS 10
#define SERIAL_TEMPLATE UINT64_C(0x5a5a5a5a5a5a5a5a)

typedef struct template
{
    const uint8_t *tbs; /* the TBSCertificate, header included */
    size_t tbs_len;
    const uint8_t *sig_alg; /* the signatureAlgorithm, header included */
    size_t sig_alg_len;
    size_t serial_at, cn_at; /* offsets in tbs of the 8 serial bytes and the CN digits */
    uint64_t serial_base;
    size_t record;
    EVP_PKEY *issuer_key;
}
template_t;

typedef struct job {
    const template_t *t;
    int fd;
    off_t file_at; /* where record 0 starts */
    long first, end;
} job_t;

static void die(const char *what)
{
    fprintf(stderr, "bench_chains: %s\n", what);
    exit(1);
}

/* The length of a DER header at p and the content length after it (definite lengths up to 4 bytes). */
static size_t der_header(const uint8_t *p, size_t *content)
{
    if (p[1] < 0x80) {
        *content = p[1];
        return 2;
    }
    size_t n = p[1] & 0x7f, len = 0;
    for (size_t i = 0; i < n; i++)
        len = len << 8 | p[2 + i];
    *content = len;
    return 2 + n;
}

static size_t der_put_header(uint8_t *p, uint8_t tag, size_t len)
{
    p[0] = tag;
    if (len < 0x80) {
        p[1] = (uint8_t)len;
        return 2;
    }
    if (len < 0x100) {
        p[1] = 0x81;
        p[2] = (uint8_t)len;
        return 3;
    }
    p[1] = 0x82;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    return 4;
}

static size_t find(const uint8_t *hay, size_t len, const void *needle, size_t nlen)
{
    const uint8_t *at = memmem(hay, len, needle, nlen);
    if (at == NULL || memmem(at + 1, len - (size_t)(at + 1 - hay), needle, nlen) != NULL)
        die("the template leaf does not hold its serial or commonName exactly once");
    return (size_t)(at - hay);
}

/* Leaf i into one record at out: u16 length, DER, zero padding. */
static void make_leaf(const template_t *t, EVP_MD_CTX *md, uint8_t *tbs, long i, uint8_t *out)
{
    uint64_t serial = t->serial_base + (uint64_t)i;
    for (int b = 0; b < 8; b++)
        tbs[t->serial_at + (size_t)b] = (uint8_t)(serial >> (56 - 8 * b));
    char digits[CN_DIGITS + 1];
    snprintf(digits, sizeof(digits), "%0*ld", CN_DIGITS, i);
    memcpy(tbs + t->cn_at, digits, CN_DIGITS);

    uint8_t sig[512];
    size_t sig_len = sizeof(sig);
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, t->issuer_key) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, tbs, t->tbs_len) != 1)
        die("signing a leaf failed");
    uint8_t bits[8];
    size_t bits_hdr = der_put_header(bits, 0x03, sig_len + 1);
    size_t body = t->tbs_len + t->sig_alg_len + bits_hdr + 1 + sig_len;
    uint8_t *p = out + 2;
    p += der_put_header(p, 0x30, body);
    memcpy(p, tbs, t->tbs_len);
    p += t->tbs_len;
    memcpy(p, t->sig_alg, t->sig_alg_len);
    p += t->sig_alg_len;
    memcpy(p, bits, bits_hdr);
    p += bits_hdr;
    *p++ = 0; /* no unused bits */
    memcpy(p, sig, sig_len);
    p += sig_len;
    size_t der_len = (size_t)(p - out) - 2;
    if (der_len + 2 > t->record)
        die("a leaf does not fit its record");
    out[0] = (uint8_t)(der_len >> 8);
    out[1] = (uint8_t)der_len;
    memset(p, 0, t->record - der_len - 2);
}

static void *run_job(void *arg)
{
    const job_t *job = arg;
    const template_t *t = job->t;
    enum { BATCH = 1024 };
    uint8_t *tbs = malloc(t->tbs_len), *records = malloc(BATCH * t->record);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (tbs == NULL || records == NULL || md == NULL)
        die("out of memory");
    memcpy(tbs, t->tbs, t->tbs_len);
    for (long i = job->first; i < job->end; i += BATCH) {
        long n = job->end - i < BATCH ? job->end - i : BATCH;
        for (long j = 0; j < n; j++)
            make_leaf(t, md, tbs, i + j, records + (size_t)j * t->record);
        size_t bytes = (size_t)n * t->record;
        if (pwrite(job->fd, records, bytes, job->file_at + (off_t)((size_t)i * t->record)) != (ssize_t)bytes)
            die("writing chains.bin failed");
    }
    EVP_MD_CTX_free(md);
    free(records);
    free(tbs);
    return NULL;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void rfc3339(time_t t, char out[32])
{
    struct tm tm;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5 || (argc >= 4 && strcmp(argv[3], "ec") != 0 && strcmp(argv[3], "rsa") != 0)) {
        fprintf(stderr, "usage: bench_chains DIR COUNT [ec|rsa] [THREADS]\n");
        return 2;
    }
    const char *dir = argv[1];
    long count = atol(argv[2]);
    int key_type = argc >= 4 && strcmp(argv[3], "rsa") == 0 ? TESTPKI_RSA : TESTPKI_EC;
    int threads = argc >= 5 ? atoi(argv[4]) : 2;
    if (count < 1 || count > 100000000L || threads < 1 || threads > 64)
        die("COUNT must be 1 to 100000000 and THREADS 1 to 64");
    time_t now = time(NULL);
    char path[4096];

    testpki_cert_t *root = testpki_issue(&(testpki_opts_t){.cn = "faro bench root", .ca = 1, .key_type = key_type}, NULL);
    testpki_cert_t *inter = testpki_issue(&(testpki_opts_t){.cn = "faro bench intermediate", .ca = 1, .key_type = key_type}, root);
    EVP_PKEY *leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    static const int server_auth[] = {NID_server_auth};
    testpki_opts_t opts = {.cn = CN_TEMPLATE,
                           .key = leaf_key,
                           .serial = SERIAL_TEMPLATE,
                           .not_before = now - DAY,
                           .not_after = now + 90 * DAY,
                           .ekus = server_auth,
                           .eku_count = 1};
    testpki_cert_t *model = testpki_issue(&opts, inter);
    if (leaf_key == NULL)
        die("cannot make the leaf key");

    template_t t = {.issuer_key = inter->key};
    size_t content, hdr = der_header(model->der, &content);
    t.tbs = model->der + hdr;
    t.tbs_len = der_header(t.tbs, &content) + content;
    t.sig_alg = t.tbs + t.tbs_len;
    t.sig_alg_len = der_header(t.sig_alg, &content) + content;
    static const uint8_t serial[] = {0x02, 0x08, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a};
    t.serial_at = find(t.tbs, t.tbs_len, serial, sizeof(serial)) + 2;
    t.cn_at = find(t.tbs, t.tbs_len, CN_TEMPLATE, sizeof(CN_TEMPLATE) - 1) + 5;
    /* Positive 8-byte serials: a random base below 2^62, so serial_base + COUNT stays under 2^63. */
    if (RAND_bytes((unsigned char *)&t.serial_base, sizeof(t.serial_base)) != 1)
        die("no randomness");
    t.serial_base = (t.serial_base >> 2) | (UINT64_C(1) << 56);
    t.record = 2 + model->der_len + 64; /* room for the longest signature */

    snprintf(path, sizeof(path), "%s/root.pem", dir);
    if (testpki_write_pem(path, &root, 1) != 0)
        die("cannot write root.pem");
    snprintf(path, sizeof(path), "%s/chains.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("cannot create chains.bin");
    size_t head_len = sizeof(MAGIC) - 1 + 12 + inter->der_len;
    uint8_t *head = malloc(head_len);
    memcpy(head, MAGIC, sizeof(MAGIC) - 1);
    put_u32(head + sizeof(MAGIC) - 1, (uint32_t)t.record);
    put_u32(head + sizeof(MAGIC) + 3, (uint32_t)count);
    put_u32(head + sizeof(MAGIC) + 7, (uint32_t)inter->der_len);
    memcpy(head + sizeof(MAGIC) + 11, inter->der, inter->der_len);
    if (write(fd, head, head_len) != (ssize_t)head_len)
        die("writing chains.bin failed");

    pthread_t tids[64];
    job_t jobs[64];
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job_t){&t, fd, (off_t)head_len, count * i / threads, count * (i + 1) / threads};
        if (pthread_create(&tids[i], NULL, run_job, &jobs[i]) != 0)
            die("cannot start a thread");
    }
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    /* Written back now: left to the page cache, its hundreds of MB would stall the servers' first fsyncs. */
    if (fsync(fd) != 0 || close(fd) != 0)
        die("writing chains.bin failed");

    char start[32], limit[32];
    rfc3339(now, start);
    rfc3339(now + 180 * DAY, limit);
    printf("not_after_start %s\nnot_after_limit %s\n", start, limit);
    free(head);
    testpki_free(model);
    testpki_free(inter);
    testpki_free(root);
    EVP_PKEY_free(leaf_key);
    return 0;
}
