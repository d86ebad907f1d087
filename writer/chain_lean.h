/*
 * A lean OpenSSL library context for parsing submitted certificates
 * (internal to the chain module; see chain_lean.c for why it exists).
 */
#ifndef FARO_WRITER_CHAIN_LEAN_H
#define FARO_WRITER_CHAIN_LEAN_H

#include <openssl/crypto.h>

/*
 * Makes the lean context this thread's default and returns the default to
 * restore with OSSL_LIB_CTX_set0_default() right after the parse; NULL when
 * there is no lean context (nothing changed then).
 */
OSSL_LIB_CTX *chain_lean_enter(void);

#endif
