/*
 * The issuer paths a chain_roots_t has verified, so that a chain whose
 * chain[1..] was seen before costs one parse and one signature check
 * (chain[0]'s) instead of one of each per certificate. Internal to the chain
 * module: chain.c decides what may be kept (see chain_validate there).
 *
 * A path is keyed by the SHA-256 of the SHA-256s of chain[1..n]'s DER, in
 * order, and holds the verified certificates after chain[0] (root last) and
 * an X509_STORE whose only trust anchor is chain[1]. Paths are added, never
 * changed or removed, until the table is freed with its roots; at most
 * CHAIN_PATHS_MAX are kept (later ones are verified in full every time).
 * Lookups and inserts take a mutex for a hash-table probe; a path returned
 * stays valid, and may be used from any thread, while its table lives.
 *
 * A path in steady use also gets a table of its issuer's key
 * (issuer_table.h) for checking chain[0]'s signature, built by the lookup
 * that uses it the CHAIN_PATHS_TABLE_AFTER-th time (about 40 ms, what that
 * many checks save), for at most CHAIN_PATHS_TABLES_MAX paths (150 KiB each).
 */
#ifndef FARO_WRITER_CHAIN_PATHS_H
#define FARO_WRITER_CHAIN_PATHS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "writer/issuer_table.h"

#define CHAIN_PATHS_MAX 4096
#define CHAIN_PATHS_TABLE_AFTER 1000
#define CHAIN_PATHS_TABLES_MAX 64

typedef struct chain_path {
    uint8_t key[32];
    X509_STORE *anchor;     /* above[0] as the only trust anchor */
    STACK_OF(X509) * above; /* chain[1..], root last */
    atomic_uint_fast64_t uses;
    _Atomic(issuer_table_t *) table; /* above[0]'s key, once in steady use and P-256 */
} chain_path_t;

typedef struct chain_paths chain_paths_t;

/* NULL if out of memory. */
chain_paths_t *chain_paths_new(void);
void chain_paths_free(chain_paths_t *paths);
/* The key of the certificates ders[0..n) (at most CHAIN_MAX_CERTS) under roots of this generation. */
void chain_paths_key(uint64_t generation, const uint8_t *const *ders, const size_t *lens, size_t n, uint8_t key[32]);
chain_path_t *chain_paths_find(chain_paths_t *paths, const uint8_t key[32]);
/* Counts a use of path; its issuer's key table, or NULL (not yet built, not P-256, over the budget). */
const issuer_table_t *chain_paths_table(chain_paths_t *paths, chain_path_t *path);
/* Keeps path[1..] (path is chain[0] first), unless the key is known or the table is full. */
void chain_paths_add(chain_paths_t *paths, const uint8_t key[32], STACK_OF(X509) * path);

#endif
