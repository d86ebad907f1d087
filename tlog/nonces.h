/*
 * A reserve of precomputed ECDSA nonces for one EC private key.
 *
 * Most of an ECDSA signature's cost is the nonce: a random k, the point k·G
 * and k's inverse, none of which depend on the message. A writer that must
 * sign a whole round of SCTs at once can compute them while it waits for the
 * next round, and then sign each SCT in about a microsecond. Each nonce is
 * used for exactly one signature and then wiped; an empty reserve only means
 * signing the ordinary way (tlog_digitally_signed_sign falls back).
 *
 * Thread-safe: one mutex guards the reserve and every use of the key.
 */
#ifndef TLOG_NONCES_H
#define TLOG_NONCES_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

typedef struct tlog_nonces tlog_nonces_t;

/* A reserve of at most capacity nonces for key (which must be EC); NULL with err otherwise. */
tlog_nonces_t *tlog_nonces_new(EVP_PKEY *key, size_t capacity, char *err);
void tlog_nonces_free(tlog_nonces_t *nonces);
/* Computes up to want nonces, fewer if the reserve fills up; how many were added (0 when full), or -1. */
int tlog_nonces_fill(tlog_nonces_t *nonces, size_t want);
/* How many nonces wait in the reserve. */
size_t tlog_nonces_count(tlog_nonces_t *nonces);
/*
 * Signs the SHA-256 digest dgst with the key and one reserved nonce: the
 * DER ECDSA-Sig-Value into der (cap bytes), its length into der_len.
 * 1 when signed, 0 when no reserved nonce could be used (sign another way).
 */
int tlog_nonces_sign(tlog_nonces_t *nonces, const uint8_t dgst[32], uint8_t *der, size_t cap, size_t *der_len);

#endif
