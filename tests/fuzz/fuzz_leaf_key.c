/*
 * chain[0]'s key decoder (writer/chain_lean.c) against OpenSSL's: any bytes
 * as a SubjectPublicKeyInfo. A key the lean context decodes must decode in
 * the normal context too, so the log never takes a leaf OpenSSL would refuse.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "writer/chain_lean.h"

static int decodes(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    X509_PUBKEY *key = d2i_X509_PUBKEY(NULL, &p, (long)size);
    int ok = key != NULL && X509_PUBKEY_get0(key) != NULL;
    X509_PUBKEY_free(key);
    ERR_clear_error();
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    OSSL_LIB_CTX *normal = chain_lean_enter();
    if (normal == NULL)
        abort(); /* the lean context must exist here */
    int lean = decodes(data, size);
    OSSL_LIB_CTX_set0_default(normal);
    if (lean && !decodes(data, size))
        abort();
    return 0;
}
