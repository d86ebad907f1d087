/*
 * Keys from vector bytes (see testkeys.h). The P-256 private key is built as
 * SEC1 ECPrivateKey DER without its optional public key, which OpenSSL
 * derives from the scalar: no other encoding to get right.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tests/unit/testkeys.h"
#include "tests/unit/vectors.h"

EVP_PKEY *testkeys_p256_private(const uint8_t scalar[32])
{
    /* SEQUENCE { INTEGER 1, OCTET STRING scalar, [0] { OID prime256v1 } } */
    static const uint8_t head[] = {0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20};
    static const uint8_t tail[] = {0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    uint8_t der[sizeof(head) + 32 + sizeof(tail)];
    const uint8_t *p = der;
    EVP_PKEY *key;

    memcpy(der, head, sizeof(head));
    memcpy(der + sizeof(head), scalar, 32);
    memcpy(der + sizeof(head) + 32, tail, sizeof(tail));
    key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)sizeof(der));
    assert_non_null(key);
    return key;
}

EVP_PKEY *testkeys_static_ct_private(void)
{
    json_t *v = vectors_load_json("static-ct.json");
    size_t len;
    uint8_t *scalar = vectors_hex(json_object_get(v, "log_key"), "ecdsa_p256_private_scalar_hex", &len);
    EVP_PKEY *key;

    assert_int_equal(len, 32);
    key = testkeys_p256_private(scalar);
    free(scalar);
    json_decref(v);
    return key;
}

EVP_PKEY *testkeys_pem_public(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(key);
    return key;
}

EVP_PKEY *testkeys_spki_public(const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    assert_non_null(key);
    return key;
}
