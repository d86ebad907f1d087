/*
 * GCRA limits on a fake clock: the exact admit/refuse sequence, the wait a
 * refusal names, rps 0, the default 75 rps / burst 10; the shared bucket
 * under concurrent threads; the keyed table's independence, takeover rule
 * and fixed memory under a million keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#include <cmocka.h>

#include "gateway/gcra.h"

#define MS UINT64_C(1000000)
#define SECOND (1000 * MS)
#define START (1000 * SECOND) /* a fake CLOCK_MONOTONIC reading */

static void test_gateway_gcra_sequence(void **state)
{
    gcra_t *g = gcra_new(10, 3); /* T = 100 ms, 3 at once */
    (void)state;
    assert_int_equal(gcra_admit(g, START), 0);
    assert_int_equal(gcra_admit(g, START), 0);
    assert_int_equal(gcra_admit(g, START), 0);
    assert_int_equal(gcra_admit(g, START), 100 * MS);
    assert_int_equal(gcra_admit(g, START + 40 * MS), 60 * MS); /* refusals change nothing */
    assert_int_equal(gcra_admit(g, START + 100 * MS - 1), 1);
    assert_int_equal(gcra_admit(g, START + 100 * MS), 0);
    assert_int_equal(gcra_admit(g, START + 100 * MS), 100 * MS);
    assert_int_equal(gcra_admit(g, START + 150 * MS), 50 * MS);
    assert_int_equal(gcra_admit(g, START + 200 * MS), 0);
    assert_int_equal(gcra_admit(g, START + 300 * MS), 0);
    assert_int_equal(gcra_admit(g, START + 300 * MS), 100 * MS);
    /* A clock reading from before the last admission (another thread's) only waits longer. */
    assert_int_equal(gcra_admit(g, START + 250 * MS), 150 * MS);
    /* Idle for 10 s: the full burst again, not more. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(gcra_admit(g, START + 10 * SECOND), 0);
    assert_int_equal(gcra_admit(g, START + 10 * SECOND), 100 * MS);
    gcra_free(g);
}

/* Waiting exactly the wait a refusal names is enough, one nanosecond less is not. */
static void test_gateway_gcra_wait_is_exact(void **state)
{
    gcra_t *g = gcra_new(75, 10);
    uint64_t now = START, seed = 1;
    (void)state;
    for (int i = 0; i < 100000; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        now += (seed >> 33) % (5 * MS);
        uint64_t wait = gcra_admit(g, now);
        if (wait == 0)
            continue;
        assert_true(wait <= 13333333); /* refusals change nothing, so the wait is at most one interval */
        assert_int_equal(gcra_admit(g, now + wait - 1), 1);
        assert_int_equal(gcra_admit(g, now + wait), 0);
        now += wait;
    }
    gcra_free(g);
}

/* Skylight's defaults: 10 at once, then 75 per second; a request every millisecond gets exactly 10 + 75 in [0, 1 s]. */
static void test_gateway_gcra_defaults(void **state)
{
    gcra_t *g = gcra_new(75, 10);
    uint64_t admitted = 0;
    (void)state;
    for (int i = 0; i < 10; i++)
        assert_int_equal(gcra_admit(g, START), 0);
    assert_int_equal(gcra_admit(g, START), 13333333); /* T = 1 s / 75, rounded */
    for (uint64_t t = 1; t <= 1000; t++)
        admitted += gcra_admit(g, START + t * MS) == 0;
    assert_int_equal(admitted, 75);
    gcra_free(g);
}

static void test_gateway_gcra_off_and_edges(void **state)
{
    gcra_t *off = gcra_new(0, 10), *one = gcra_new(1000, 0), *slow = gcra_new(1e-12, 1), *huge = gcra_new(1e-12, UINT32_MAX);
    uint8_t key[GCRA_KEY_BYTES] = {1};
    gcra_table_t *table_off = gcra_table_new(0, 1, 4096);
    (void)state;
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(gcra_admit(off, START), 0);
        assert_int_equal(gcra_table_admit(table_off, key, START), 0);
    }
    /* Burst 0 counts as 1. */
    assert_int_equal(gcra_admit(one, START), 0);
    assert_int_equal(gcra_admit(one, START), MS);
    assert_int_equal(gcra_admit(one, START + MS), 0);
    /* The interval is capped at an hour and the tolerance at 2^61 ns: no overflow. */
    assert_int_equal(gcra_admit(slow, START), 0);
    assert_int_equal(gcra_admit(slow, START), 3600 * SECOND);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(gcra_admit(huge, START), 0);
    gcra_free(off);
    gcra_free(one);
    gcra_free(slow);
    gcra_free(huge);
    gcra_table_free(table_off);
    gcra_free(NULL);
    gcra_table_free(NULL);
}

/*
 * Threads hammer one bucket, each call at the next microsecond of a shared
 * fake clock (so demand never stops, and a thread may step with a reading
 * older than the TAT another thread has just stored). The total admitted
 * over the closed window [0, w] must be burst + rps * w, within one.
 */
#define THREADS 4
#define RATE 1000
#define BURST 10
#define WINDOW (2 * SECOND)
#define TICK (MS / 1000)

typedef struct hammer {
    gcra_t *g;
    pthread_barrier_t start;
    _Atomic uint64_t clock;
    _Atomic uint64_t admitted;
} hammer_t;

static void *hammer_thread(void *p)
{
    hammer_t *h = p;
    uint64_t admitted = 0, now;
    pthread_barrier_wait(&h->start);
    while ((now = atomic_fetch_add(&h->clock, TICK)) <= START + WINDOW)
        admitted += gcra_admit(h->g, now) == 0;
    atomic_fetch_add(&h->admitted, admitted);
    return NULL;
}

static void test_gateway_gcra_concurrent(void **state)
{
    static hammer_t h;
    pthread_t threads[THREADS];
    (void)state;

    h.g = gcra_new(RATE, BURST);
    atomic_store(&h.clock, START);
    pthread_barrier_init(&h.start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, hammer_thread, &h), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&h.start);
    uint64_t want = BURST + RATE * WINDOW / SECOND, got = atomic_load(&h.admitted);
    printf("concurrent: %d threads, %llu calls, %llu admitted, want %llu +- 1\n", THREADS, (unsigned long long)(WINDOW / TICK + 1),
           (unsigned long long)got, (unsigned long long)want);
    assert_true(got + 1 >= want && got <= want + 1);
    gcra_free(h.g);
}

static void key_from(uint64_t n, uint8_t key[GCRA_KEY_BYTES])
{
    memset(key, 0, GCRA_KEY_BYTES);
    memcpy(key, &n, sizeof(n));
}

static void test_gateway_gcra_table_keys_independent(void **state)
{
    gcra_table_t *t = gcra_table_new(10, 3, 4096);
    uint8_t a[GCRA_KEY_BYTES], b[GCRA_KEY_BYTES];
    (void)state;
    key_from(1, a);
    key_from(2, b);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gcra_table_admit(t, a, START), 0);
    assert_int_equal(gcra_table_admit(t, a, START), 100 * MS);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gcra_table_admit(t, b, START + 50 * MS), 0);
    assert_int_equal(gcra_table_admit(t, b, START + 50 * MS), 100 * MS);
    assert_int_equal(gcra_table_admit(t, a, START + 50 * MS), 50 * MS);
    assert_int_equal(gcra_table_admit(t, a, START + 100 * MS), 0);
    gcra_table_free(t);
}

/* One set of 8 slots, all live: a newcomer takes the slot closest to expiry; the others keep their debt. */
static void test_gateway_gcra_table_takeover(void **state)
{
    gcra_table_t *t = gcra_table_new(1, 3, GCRA_TABLE_WAYS); /* T = 1 s */
    uint8_t key[GCRA_KEY_BYTES];
    uint64_t later = START + SECOND / 2;
    (void)state;
    key_from(0, key);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gcra_table_admit(t, key, START), 0);
    for (uint64_t k = 1; k < GCRA_TABLE_WAYS; k++) {
        key_from(k, key);
        for (int i = 0; i < 3; i++)
            assert_int_equal(gcra_table_admit(t, key, later), 0);
    }
    key_from(0, key);
    assert_int_equal(gcra_table_admit(t, key, later), SECOND / 2); /* still known: owes 0.5 s */
    key_from(100, key);
    assert_int_equal(gcra_table_admit(t, key, later), 0); /* a newcomer is admitted, taking key 0's slot */
    key_from(0, key);
    assert_int_equal(gcra_table_admit(t, key, later), 0); /* key 0 lost its debt (and took the newcomer's slot) */
    for (uint64_t k = 1; k < GCRA_TABLE_WAYS; k++) {
        key_from(k, key);
        assert_int_equal(gcra_table_admit(t, key, later), SECOND);
    }
    gcra_table_free(t);
}

/* A million distinct live keys in 4096 slots: every newcomer admitted, a heavy client still refused, no memory grows. */
static void test_gateway_gcra_table_bounded(void **state)
{
    gcra_table_t *t = gcra_table_new(10, 5, 4096);
    uint8_t heavy[GCRA_KEY_BYTES], key[GCRA_KEY_BYTES];
    (void)state;
    memset(heavy, 0xee, sizeof(heavy));
    for (int i = 0; i < 5; i++)
        assert_int_equal(gcra_table_admit(t, heavy, START), 0);
    assert_int_equal(gcra_table_admit(t, heavy, START), 100 * MS);

    struct mallinfo2 before = mallinfo2();
    for (uint64_t n = 1; n <= 1000000; n++) {
        key_from(n, key);
        if (gcra_table_admit(t, key, START + n) != 0)
            fail_msg("new key %llu refused", (unsigned long long)n);
    }
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(after.uordblks, before.uordblks);
    assert_int_equal(after.hblkhd, before.hblkhd);
    assert_int_not_equal(gcra_table_admit(t, heavy, START + 1000001), 0);
    /* Once every TAT has passed, every slot is free again and the heavy client is forgiven. */
    assert_int_equal(gcra_table_admit(t, heavy, START + 10 * SECOND), 0);
    gcra_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_gcra_sequence),       cmocka_unit_test(test_gateway_gcra_wait_is_exact),
        cmocka_unit_test(test_gateway_gcra_defaults),       cmocka_unit_test(test_gateway_gcra_off_and_edges),
        cmocka_unit_test(test_gateway_gcra_concurrent),     cmocka_unit_test(test_gateway_gcra_table_keys_independent),
        cmocka_unit_test(test_gateway_gcra_table_takeover), cmocka_unit_test(test_gateway_gcra_table_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
