/*
 * An issuer's ECDSA P-256 key with its multiples precomputed, to check the
 * signatures of the leaves it signed in half the time OpenSSL's general
 * verification takes (internal to the chain module; chain_paths.c builds one
 * for an issuer in steady use).
 *
 * A check is X509_verify's, decided the same way for every certificate: the
 * outer and inner signature algorithms must match, the signature must be
 * strict DER with 0 < r, s < n, and x(u1·G + u2·Q) mod n must equal r. A
 * table costs about 40 ms to build and 150 KiB; checks may run in any
 * number of threads at once.
 */
#ifndef FARO_WRITER_ISSUER_TABLE_H
#define FARO_WRITER_ISSUER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

typedef struct issuer_table issuer_table_t;

/* NULL if key is not an EC P-256 key, or out of memory. */
issuer_table_t *issuer_table_new(EVP_PKEY *key);
void issuer_table_free(issuer_table_t *table);
/*
 * Whether cert, parsed from der[0..len), is signed by the table's key: 1 yes,
 * 0 no, -1 when this check does not apply (a signature algorithm other than
 * ECDSA with SHA-256, SHA-384 or SHA-512, an encoding it does not read, out
 * of memory) and X509_verify must decide.
 */
int issuer_table_verify(const issuer_table_t *table, X509 *cert, const uint8_t *der, size_t len);

#endif
