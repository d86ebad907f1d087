/*
 * Test helpers: OpenSSL keys from the bytes the spec vectors give (a P-256
 * private scalar, a PEM or DER SubjectPublicKeyInfo). A key that does not
 * decode fails the running test. Free each with EVP_PKEY_free.
 */
#ifndef FARO_TEST_TESTKEYS_H
#define FARO_TEST_TESTKEYS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* A P-256 private key from its scalar (OpenSSL derives the public key). */
EVP_PKEY *testkeys_p256_private(const uint8_t scalar[32]);
/* The log key of static-ct.json (log_key.ecdsa_p256_private_scalar_hex). */
EVP_PKEY *testkeys_static_ct_private(void);
/* A public key from a PEM "PUBLIC KEY" block. */
EVP_PKEY *testkeys_pem_public(const char *pem);
/* A public key from a DER SubjectPublicKeyInfo. */
EVP_PKEY *testkeys_spki_public(const uint8_t *der, size_t len);

#endif
