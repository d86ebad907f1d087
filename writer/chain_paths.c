/*
 * Verified issuer paths (see chain_paths.h): an open-addressing table of
 * 2 * CHAIN_PATHS_MAX slots indexed by the first bytes of the key, under one
 * mutex. A full table refuses new paths rather than evicting: entries are
 * handed out without references, so they must outlive every lookup.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "tlog/hash.h"
#include "writer/chain.h"
#include "writer/chain_paths.h"

#define SLOTS (2 * CHAIN_PATHS_MAX)

struct chain_paths {
    pthread_mutex_t lock;
    chain_path_t *slots[SLOTS];
    size_t count;
    atomic_uint tables; /* built, or being built */
};

chain_paths_t *chain_paths_new(void)
{
    chain_paths_t *paths = calloc(1, sizeof(*paths));
    if (paths != NULL)
        pthread_mutex_init(&paths->lock, NULL);
    return paths;
}

static void path_free(chain_path_t *path)
{
    issuer_table_free(atomic_load(&path->table));
    X509_STORE_free(path->anchor);
    sk_X509_pop_free(path->above, X509_free);
    free(path);
}

void chain_paths_free(chain_paths_t *paths)
{
    if (paths == NULL)
        return;
    for (size_t i = 0; i < SLOTS; i++)
        if (paths->slots[i] != NULL)
            path_free(paths->slots[i]);
    pthread_mutex_destroy(&paths->lock);
    free(paths);
}

void chain_paths_key(uint64_t generation, const uint8_t *const *ders, const size_t *lens, size_t n, uint8_t key[32])
{
    uint8_t input[8 + 32 * CHAIN_MAX_CERTS];
    tlog_hash_t h;
    if (n > CHAIN_MAX_CERTS)
        n = CHAIN_MAX_CERTS; /* callers refuse longer chains first */
    memcpy(input, &generation, 8);
    for (size_t i = 0; i < n; i++) {
        tlog_sha256(ders[i], lens[i], &h);
        memcpy(input + 8 + 32 * i, h.bytes, 32);
    }
    tlog_sha256(input, 8 + 32 * n, &h);
    memcpy(key, h.bytes, 32);
}

/* The slot holding key, or the empty slot where it would go. Called under the lock. */
static size_t slot_of(const chain_paths_t *paths, const uint8_t key[32])
{
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    size_t i = (size_t)h % SLOTS;
    while (paths->slots[i] != NULL && memcmp(paths->slots[i]->key, key, 32) != 0)
        i = (i + 1) % SLOTS;
    return i;
}

chain_path_t *chain_paths_find(chain_paths_t *paths, const uint8_t key[32])
{
    pthread_mutex_lock(&paths->lock);
    chain_path_t *found = paths->slots[slot_of(paths, key)];
    pthread_mutex_unlock(&paths->lock);
    return found;
}

const issuer_table_t *chain_paths_table(chain_paths_t *paths, chain_path_t *path)
{
    issuer_table_t *table = atomic_load_explicit(&path->table, memory_order_acquire);
    /* Exactly one lookup sees the count reach the threshold, so one thread builds. */
    if (table != NULL || atomic_fetch_add_explicit(&path->uses, 1, memory_order_relaxed) != CHAIN_PATHS_TABLE_AFTER)
        return table;
    if (atomic_fetch_add(&paths->tables, 1) >= CHAIN_PATHS_TABLES_MAX ||
        (table = issuer_table_new(X509_get0_pubkey(sk_X509_value(path->above, 0)))) == NULL) {
        atomic_fetch_sub(&paths->tables, 1);
        return NULL;
    }
    atomic_store_explicit(&path->table, table, memory_order_release);
    return table;
}

void chain_paths_add(chain_paths_t *paths, const uint8_t key[32], STACK_OF(X509) * path)
{
    chain_path_t *entry = calloc(1, sizeof(*entry));
    int n = sk_X509_num(path);
    if (entry == NULL || n < 2 || (entry->anchor = X509_STORE_new()) == NULL || (entry->above = sk_X509_new_null()) == NULL ||
        X509_STORE_add_cert(entry->anchor, sk_X509_value(path, 1)) != 1)
        goto drop;
    for (int i = 1; i < n; i++) {
        X509 *x = sk_X509_value(path, i);
        if (!X509_up_ref(x))
            goto drop;
        if (!sk_X509_push(entry->above, x)) {
            X509_free(x);
            goto drop;
        }
    }
    memcpy(entry->key, key, 32);
    pthread_mutex_lock(&paths->lock);
    size_t slot = slot_of(paths, key);
    if (paths->slots[slot] == NULL && paths->count < CHAIN_PATHS_MAX) {
        paths->slots[slot] = entry;
        paths->count++;
        entry = NULL;
    }
    pthread_mutex_unlock(&paths->lock);
drop:
    /* Out of memory only costs the next chain with this path a full verification. */
    ERR_clear_error();
    if (entry != NULL)
        path_free(entry);
}
