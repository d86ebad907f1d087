/*
 * Test PKI: X.509 certificates made on the fly with OpenSSL for the chain
 * tests, the fuzz targets and the end-to-end writer tests. Roots,
 * intermediates, leaves, precertificates and Precertificate Signing
 * Certificates, with EC P-256 or RSA-2048 keys, chosen validity, EKUs, extra
 * extensions and SHA-1 or SHA-256 signatures.
 *
 * Every certificate gets a subject key identifier and (unless asked not to)
 * an authority key identifier naming its issuer's. Extensions appear in a
 * fixed order: SKI, AKI, basicConstraints, keyUsage, EKU, the extra ones,
 * the poison last. Any OpenSSL failure aborts: these are tests.
 */
#ifndef FARO_TEST_TESTPKI_H
#define FARO_TEST_TESTPKI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum {
    TESTPKI_EC = 0, /* P-256 */
    TESTPKI_RSA,    /* 2048 bits */
};

enum {
    TESTPKI_POISON_NONE = 0,
    TESTPKI_POISON_CRITICAL,    /* a precertificate (RFC 6962 §3.1) */
    TESTPKI_POISON_NONCRITICAL, /* a malformed one */
    TESTPKI_POISON_NOT_NULL,    /* critical, but the value is not ASN.1 NULL */
};

typedef struct testpki_ext {
    const char *oid; /* dotted */
    int critical;
    const uint8_t *value; /* extnValue contents; NULL: ASN.1 NULL (05 00) */
    size_t value_len;
} testpki_ext_t;

typedef struct testpki_opts {
    const char *cn;               /* subject commonName; NULL: "faro test" */
    int key_type;                 /* TESTPKI_EC or TESTPKI_RSA */
    EVP_PKEY *key;                /* use this key pair instead of a new one */
    uint64_t serial;              /* 0: a fresh one */
    int ca;                       /* basicConstraints CA:TRUE, keyUsage keyCertSign + cRLSign */
    time_t not_before, not_after; /* 0: now - 1 day, now + 90 days */
    const int *ekus;              /* NIDs: NID_server_auth, NID_ct_precert_signer, NID_anyExtendedKeyUsage, ... */
    size_t eku_count;
    const testpki_ext_t *exts;
    size_t ext_count;
    int poison; /* TESTPKI_POISON_* */
    int sha1;   /* signed with SHA-1 instead of SHA-256 */
    int no_aki; /* no authority key identifier */
} testpki_opts_t;

typedef struct testpki_cert {
    X509 *x509;
    EVP_PKEY *key; /* its key pair */
    uint8_t *der;  /* i2d of x509; tests may corrupt it */
    size_t der_len;
} testpki_cert_t;

/* Issues a certificate; issuer NULL makes it self-signed. */
testpki_cert_t *testpki_issue(const testpki_opts_t *opts, const testpki_cert_t *issuer);
void testpki_free(testpki_cert_t *cert);

/* Shorthands: a self-signed CA root; a CA issued by issuer; a serverAuth leaf; a serverAuth precertificate; a PSC. */
testpki_cert_t *testpki_root(const char *cn);
testpki_cert_t *testpki_intermediate(const char *cn, const testpki_cert_t *issuer);
testpki_cert_t *testpki_leaf(const char *cn, const testpki_cert_t *issuer);
testpki_cert_t *testpki_precert(const char *cn, const testpki_cert_t *issuer);
testpki_cert_t *testpki_psc(const char *cn, const testpki_cert_t *issuer);

/* {"chain":["<base64 DER>",...]}, malloc'd. */
char *testpki_chain_json(testpki_cert_t *const *certs, size_t n);
/* The certificates as a PEM bundle, malloc'd and NUL-terminated. */
char *testpki_pem(testpki_cert_t *const *certs, size_t n);
/* Writes that bundle to path; 0 or -1. */
int testpki_write_pem(const char *path, testpki_cert_t *const *certs, size_t n);

#endif
