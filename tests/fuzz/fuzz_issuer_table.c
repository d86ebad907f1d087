/*
 * Issuer key tables (writer/issuer_table.c) against X509_verify: any bytes
 * as a certificate signed by one fixed P-256 key. Wherever the table gives
 * an answer it must be OpenSSL's, so the fast check never accepts a leaf
 * OpenSSL would refuse, nor refuses one it would accept. The seeds are
 * certificates that key (private scalar: SHA-256 of "faro fuzz_issuer_table
 * issuer") signed with SHA-256, SHA-384, SHA-512 and SHA-1, made with
 * tests/unit/testpki.c.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "writer/issuer_table.h"

/* The issuer's SubjectPublicKeyInfo. */
static const uint8_t issuer_spki[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0xf0, 0x69, 0xd7, 0xfb, 0x03, 0xb8, 0xe4, 0x73, 0xf2, 0x01, 0x33,
    0x92, 0xe0, 0x13, 0x2d, 0x54, 0x5a, 0xa4, 0x7e, 0x1b, 0xd4, 0x6c, 0xab, 0xa6, 0xe9, 0xe1, 0x80, 0x1d, 0x4a, 0xf1,
    0x6e, 0x26, 0x64, 0x9d, 0xb0, 0x4f, 0x5c, 0x02, 0xf9, 0x07, 0x81, 0xf0, 0x91, 0x5c, 0xb9, 0x6f, 0x47, 0xae, 0xd4,
    0x11, 0x67, 0xf6, 0x4f, 0x55, 0x7b, 0x98, 0xd2, 0x45, 0x32, 0x07, 0xe3, 0x17, 0x9c, 0x57,
};

static EVP_PKEY *issuer;
static issuer_table_t *table;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = issuer_spki;
    if (table == NULL &&
        ((issuer = d2i_PUBKEY(NULL, &p, sizeof(issuer_spki))) == NULL || (table = issuer_table_new(issuer)) == NULL))
        abort();
    p = data;
    X509 *cert = d2i_X509(NULL, &p, (long)size);
    if (cert != NULL && p == data + size) {
        int fast = issuer_table_verify(table, cert, data, size);
        if (fast >= 0 && fast != (X509_verify(cert, issuer) == 1))
            abort();
    }
    X509_free(cert);
    ERR_clear_error();
    return 0;
}
