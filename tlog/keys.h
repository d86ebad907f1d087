/*
 * Log keys on disk: ECDSA P-256 (RFC 6962 signatures, the log ID) and
 * Ed25519 (the checkpoint note signature witnesses check), as PEM files.
 */
#ifndef TLOG_KEYS_H
#define TLOG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/*
 * Loads a private key PEM of type EVP_PKEY_EC (must be P-256) or
 * EVP_PKEY_ED25519, or of any type with EVP_PKEY_NONE (a TLS key). Refuses
 * a file that group or others can read.
 */
int tlog_key_load_private(const char *path, int type, EVP_PKEY **out, char *err);
/* 0 if key is of type: EVP_PKEY_EC on the P-256 curve, EVP_PKEY_ED25519, or anything for EVP_PKEY_NONE; otherwise -1 saying what it
 * is. */
int tlog_key_check_type(EVP_PKEY *key, int type, char *err);
/* Loads a public key PEM (SubjectPublicKeyInfo) of the given type. */
int tlog_key_load_public(const char *path, int type, EVP_PKEY **out, char *err);
/* DER SubjectPublicKeyInfo into a malloc'd buffer. */
int tlog_key_spki(EVP_PKEY *key, uint8_t **der, size_t *len, char *err);
/* LogID = SHA-256(DER SubjectPublicKeyInfo). */
int tlog_key_log_id(EVP_PKEY *key, uint8_t out[32], char *err);
/* Raw 32-byte Ed25519 seed (wipe it after use) and public key. */
int tlog_key_ed25519_seed(EVP_PKEY *key, uint8_t out[32], char *err);
int tlog_key_ed25519_public(EVP_PKEY *key, uint8_t out[32], char *err);

#endif
