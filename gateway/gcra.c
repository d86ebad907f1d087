/*
 * GCRA buckets (gcra.h). Both kinds share rate_t and rate_step(), the whole
 * algorithm; they differ only in how a bucket's TAT is found and updated:
 * a compare-and-swap loop for the shared bucket, a slot under its set's
 * mutex for the keyed table.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gateway/gcra.h"

#define INTERVAL_MAX_NS (3600 * UINT64_C(1000000000))
#define TOLERANCE_MAX_NS (UINT64_C(1) << 61)

typedef struct rate {
    uint64_t interval_ns;  /* T, between two admissions at the steady rate; 0 = admit everything */
    uint64_t tolerance_ns; /* (burst - 1) * T: how far ahead of now TAT may be */
} rate_t;

static rate_t rate_of(double rps, unsigned burst)
{
    rate_t r = {0, 0};
    if (!(rps > 0))
        return r;
    double interval = 1e9 / rps;
    r.interval_ns = interval < 1 ? 1 : interval > (double)INTERVAL_MAX_NS ? INTERVAL_MAX_NS : (uint64_t)llround(interval);
    uint64_t extra = burst > 1 ? burst - 1 : 0;
    r.tolerance_ns = extra > TOLERANCE_MAX_NS / r.interval_ns ? TOLERANCE_MAX_NS : extra * r.interval_ns;
    return r;
}

/* 0 with *tat moved on if a request at now is admitted, else the wait in ns (TAT unchanged). */
static uint64_t rate_step(const rate_t *r, uint64_t *tat, uint64_t now)
{
    uint64_t base = *tat > now ? *tat : now;
    if (base - now > r->tolerance_ns)
        return base - now - r->tolerance_ns;
    *tat = base + r->interval_ns;
    return 0;
}

struct gcra {
    _Atomic uint64_t tat;
    rate_t rate;
};

gcra_t *gcra_new(double rps, unsigned burst)
{
    gcra_t *g = calloc(1, sizeof(*g));
    if (g == NULL)
        abort();
    atomic_init(&g->tat, 0);
    g->rate = rate_of(rps, burst);
    return g;
}

void gcra_free(gcra_t *g)
{
    free(g);
}

uint64_t gcra_admit(gcra_t *g, uint64_t now_ns)
{
    if (g->rate.interval_ns == 0)
        return 0;
    uint64_t seen = atomic_load_explicit(&g->tat, memory_order_relaxed);
    for (;;) {
        uint64_t tat = seen;
        uint64_t wait = rate_step(&g->rate, &tat, now_ns);
        if (wait != 0)
            return wait;
        /* On failure seen is reloaded with the TAT another thread just stored: step again from it. */
        if (atomic_compare_exchange_weak_explicit(&g->tat, &seen, tat, memory_order_relaxed, memory_order_relaxed))
            return 0;
    }
}

typedef struct slot {
    uint8_t key[GCRA_KEY_BYTES];
    uint64_t tat; /* ns; not after now = free */
} slot_t;

typedef struct set {
    pthread_mutex_t lock;
    slot_t slots[GCRA_TABLE_WAYS];
} set_t;

struct gcra_table {
    rate_t rate;
    uint8_t secret[crypto_shorthash_KEYBYTES];
    uint64_t set_mask; /* sets - 1, a power of two minus one */
    set_t *sets;
};

gcra_table_t *gcra_table_new(double rps, unsigned burst, size_t slots)
{
    gcra_table_t *t = calloc(1, sizeof(*t));
    size_t sets = 1;
    if (t == NULL || sodium_init() < 0)
        abort();
    t->rate = rate_of(rps, burst);
    if (t->rate.interval_ns == 0)
        return t;
    while (sets * GCRA_TABLE_WAYS < slots)
        sets *= 2;
    if ((t->sets = calloc(sets, sizeof(*t->sets))) == NULL)
        abort();
    for (size_t i = 0; i < sets; i++)
        pthread_mutex_init(&t->sets[i].lock, NULL);
    t->set_mask = sets - 1;
    randombytes_buf(t->secret, sizeof(t->secret));
    return t;
}

void gcra_table_free(gcra_table_t *t)
{
    if (t == NULL)
        return;
    if (t->sets != NULL)
        for (uint64_t i = 0; i <= t->set_mask; i++)
            pthread_mutex_destroy(&t->sets[i].lock);
    free(t->sets);
    free(t);
}

/* The key's slot in the set: its own if present, else a free one, else the one closest to expiry (taken over). */
static slot_t *set_slot(set_t *set, const uint8_t key[GCRA_KEY_BYTES], uint64_t now)
{
    slot_t *free_slot = NULL, *oldest = &set->slots[0];
    for (slot_t *s = set->slots; s < set->slots + GCRA_TABLE_WAYS; s++) {
        if (memcmp(s->key, key, GCRA_KEY_BYTES) == 0)
            return s;
        if (free_slot == NULL && s->tat <= now)
            free_slot = s;
        if (s->tat < oldest->tat)
            oldest = s;
    }
    slot_t *s = free_slot != NULL ? free_slot : oldest;
    memcpy(s->key, key, GCRA_KEY_BYTES);
    s->tat = 0;
    return s;
}

uint64_t gcra_table_admit(gcra_table_t *t, const uint8_t key[GCRA_KEY_BYTES], uint64_t now_ns)
{
    uint8_t hash[crypto_shorthash_BYTES];
    uint64_t index;

    if (t->rate.interval_ns == 0)
        return 0;
    crypto_shorthash(hash, key, GCRA_KEY_BYTES, t->secret);
    memcpy(&index, hash, sizeof(index));
    set_t *set = &t->sets[index & t->set_mask];
    pthread_mutex_lock(&set->lock);
    uint64_t wait = rate_step(&t->rate, &set_slot(set, key, now_ns)->tat, now_ns);
    pthread_mutex_unlock(&set->lock);
    return wait;
}
