/*
 * Test PKI (see testpki.h): each certificate is built field by field with
 * the X509 API and signed by its issuer's key. Serial numbers come from a
 * counter started at a random point, so two runs never share one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tests/unit/testpki.h"
#include "tlog/buf.h"
#include "tlog/hash.h"

#define TESTPKI_CHECK(x)                                                                                                           \
    do {                                                                                                                           \
        if (!(x))                                                                                                                  \
            testpki_die(#x);                                                                                                       \
    } while (0)

__attribute__((noreturn)) static void testpki_die(const char *what)
{
    fprintf(stderr, "testpki: failed: %s\n", what);
    ERR_print_errors_fp(stderr);
    abort();
}

static uint64_t testpki_serial(void)
{
    static uint64_t next;
    if (next == 0) {
        TESTPKI_CHECK(RAND_bytes((unsigned char *)&next, sizeof(next)) == 1);
        next = (next >> 2) | 1; /* positive, well below 2^63 */
    }
    return next++;
}

static void testpki_add_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    TESTPKI_CHECK(ext != NULL);
    TESTPKI_CHECK(X509_add_ext(x, ext, -1) == 1);
    X509_EXTENSION_free(ext);
}

static void testpki_add_raw(X509 *x, ASN1_OBJECT *obj, int critical, const uint8_t *value, size_t len)
{
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext;
    TESTPKI_CHECK(os != NULL && ASN1_OCTET_STRING_set(os, value, (int)len) == 1);
    TESTPKI_CHECK((ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os)) != NULL);
    TESTPKI_CHECK(X509_add_ext(x, ext, -1) == 1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
}

static void testpki_add_ekus(X509 *x, const int *nids, size_t n)
{
    EXTENDED_KEY_USAGE *ekus = sk_ASN1_OBJECT_new_null();
    TESTPKI_CHECK(ekus != NULL);
    for (size_t i = 0; i < n; i++)
        TESTPKI_CHECK(sk_ASN1_OBJECT_push(ekus, OBJ_nid2obj(nids[i])) > 0);
    TESTPKI_CHECK(X509_add1_ext_i2d(x, NID_ext_key_usage, ekus, 0, X509V3_ADD_APPEND) == 1);
    sk_ASN1_OBJECT_free(ekus); /* the objects are OpenSSL's static ones */
}

static void testpki_add_extensions(X509 *x, const testpki_opts_t *opts, const testpki_cert_t *issuer)
{
    static const uint8_t null[] = {0x05, 0x00}, integer[] = {0x02, 0x01, 0x00};
    X509V3_CTX ctx;

    X509V3_set_ctx(&ctx, issuer != NULL ? issuer->x509 : x, x, NULL, NULL, 0);
    testpki_add_conf(x, &ctx, NID_subject_key_identifier, "hash");
    if (!opts->no_aki)
        testpki_add_conf(x, &ctx, NID_authority_key_identifier, "keyid:always");
    testpki_add_conf(x, &ctx, NID_basic_constraints, opts->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    testpki_add_conf(x, &ctx, NID_key_usage, opts->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    if (opts->eku_count > 0)
        testpki_add_ekus(x, opts->ekus, opts->eku_count);
    for (size_t i = 0; i < opts->ext_count; i++) {
        const testpki_ext_t *e = &opts->exts[i];
        ASN1_OBJECT *obj = OBJ_txt2obj(e->oid, 1);
        TESTPKI_CHECK(obj != NULL);
        testpki_add_raw(x, obj, e->critical, e->value != NULL ? e->value : null, e->value != NULL ? e->value_len : sizeof(null));
        ASN1_OBJECT_free(obj);
    }
    if (opts->poison != TESTPKI_POISON_NONE) {
        int not_null = opts->poison == TESTPKI_POISON_NOT_NULL;
        testpki_add_raw(x, OBJ_nid2obj(NID_ct_precert_poison), opts->poison != TESTPKI_POISON_NONCRITICAL,
                        not_null ? integer : null, not_null ? sizeof(integer) : sizeof(null));
    }
}

testpki_cert_t *testpki_issue(const testpki_opts_t *opts, const testpki_cert_t *issuer)
{
    testpki_cert_t *cert = calloc(1, sizeof(*cert));
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    time_t now = time(NULL);
    int len;

    TESTPKI_CHECK(cert != NULL && x != NULL && name != NULL);
    if (opts->key != NULL) {
        TESTPKI_CHECK(EVP_PKEY_up_ref(opts->key) == 1);
        cert->key = opts->key;
    } else if (opts->key_type == TESTPKI_RSA) {
        cert->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    } else {
        cert->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
    TESTPKI_CHECK(cert->key != NULL);
    TESTPKI_CHECK(X509_set_version(x, X509_VERSION_3) == 1);
    TESTPKI_CHECK(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), opts->serial ? opts->serial : testpki_serial()) == 1);
    TESTPKI_CHECK(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"faro test", -1, -1, 0) == 1);
    TESTPKI_CHECK(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)(opts->cn ? opts->cn : "faro test"),
                                             -1, -1, 0) == 1);
    TESTPKI_CHECK(X509_set_subject_name(x, name) == 1);
    TESTPKI_CHECK(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer->x509) : name) == 1);
    TESTPKI_CHECK(ASN1_TIME_set(X509_getm_notBefore(x), opts->not_before ? opts->not_before : now - 86400) != NULL);
    TESTPKI_CHECK(ASN1_TIME_set(X509_getm_notAfter(x), opts->not_after ? opts->not_after : now + 90 * 86400) != NULL);
    TESTPKI_CHECK(X509_set_pubkey(x, cert->key) == 1);
    testpki_add_extensions(x, opts, issuer);
    TESTPKI_CHECK(X509_sign(x, issuer != NULL ? issuer->key : cert->key, opts->sha1 ? EVP_sha1() : EVP_sha256()) > 0);

    TESTPKI_CHECK((len = i2d_X509(x, NULL)) > 0);
    TESTPKI_CHECK((cert->der = malloc((size_t)len)) != NULL);
    unsigned char *p = cert->der;
    TESTPKI_CHECK(i2d_X509(x, &p) == len);
    cert->der_len = (size_t)len;
    cert->x509 = x;
    X509_NAME_free(name);
    return cert;
}

void testpki_free(testpki_cert_t *cert)
{
    if (cert == NULL)
        return;
    X509_free(cert->x509);
    EVP_PKEY_free(cert->key);
    free(cert->der);
    free(cert);
}

testpki_cert_t *testpki_root(const char *cn)
{
    testpki_opts_t opts = {.cn = cn, .ca = 1};
    return testpki_issue(&opts, NULL);
}

testpki_cert_t *testpki_intermediate(const char *cn, const testpki_cert_t *issuer)
{
    testpki_opts_t opts = {.cn = cn, .ca = 1};
    return testpki_issue(&opts, issuer);
}

testpki_cert_t *testpki_leaf(const char *cn, const testpki_cert_t *issuer)
{
    static const int server_auth[] = {NID_server_auth};
    testpki_opts_t opts = {.cn = cn, .ekus = server_auth, .eku_count = 1};
    return testpki_issue(&opts, issuer);
}

testpki_cert_t *testpki_precert(const char *cn, const testpki_cert_t *issuer)
{
    static const int server_auth[] = {NID_server_auth};
    testpki_opts_t opts = {.cn = cn, .ekus = server_auth, .eku_count = 1, .poison = TESTPKI_POISON_CRITICAL};
    return testpki_issue(&opts, issuer);
}

testpki_cert_t *testpki_psc(const char *cn, const testpki_cert_t *issuer)
{
    static const int precert_signer[] = {NID_ct_precert_signer};
    testpki_opts_t opts = {.cn = cn, .ca = 1, .ekus = precert_signer, .eku_count = 1};
    return testpki_issue(&opts, issuer);
}

char *testpki_chain_json(testpki_cert_t *const *certs, size_t n)
{
    tlog_buf_t json = TLOG_BUF_INIT;
    tlog_buf_append(&json, "{\"chain\":[", 10);
    for (size_t i = 0; i < n; i++) {
        tlog_buf_append(&json, i > 0 ? ",\"" : "\"", i > 0 ? 2 : 1);
        tlog_buf_reserve(&json, TLOG_BASE64_LEN(certs[i]->der_len) + 1);
        json.len += tlog_base64_encode(certs[i]->der, certs[i]->der_len, (char *)json.data + json.len);
        tlog_buf_append(&json, "\"", 1);
    }
    tlog_buf_append(&json, "]}", 3);
    return (char *)json.data;
}

char *testpki_pem(testpki_cert_t *const *certs, size_t n)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long len;
    TESTPKI_CHECK(bio != NULL);
    for (size_t i = 0; i < n; i++)
        TESTPKI_CHECK(PEM_write_bio_X509(bio, certs[i]->x509) == 1);
    len = BIO_get_mem_data(bio, &data);
    TESTPKI_CHECK(len > 0 && (pem = malloc((size_t)len + 1)) != NULL);
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    BIO_free(bio);
    return pem;
}

int testpki_write_pem(const char *path, testpki_cert_t *const *certs, size_t n)
{
    char *pem = testpki_pem(certs, n);
    FILE *f = fopen(path, "w");
    int ret = -1;
    if (f != NULL && fputs(pem, f) >= 0)
        ret = 0;
    if (f != NULL && fclose(f) != 0)
        ret = -1;
    free(pem);
    return ret;
}
