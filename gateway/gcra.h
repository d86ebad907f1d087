/*
 * Rate limits by the Generic Cell Rate Algorithm (spec/skylight.md A.2).
 * A limit of rps requests per second and a burst of b keeps one number per
 * bucket, the theoretical arrival time (TAT, ns): a request at now is
 * admitted when TAT <= now + (b - 1) * T (T = 1 s / rps), and then moves TAT
 * to max(TAT, now) + T; otherwise it is refused, changes nothing, and would
 * be admitted after TAT - (b - 1) * T - now. So an idle bucket admits b
 * requests at once and then one every T: over any closed window of w seconds
 * at most b + rps * w requests.
 *
 * rps <= 0 admits everything. A burst of 0 counts as 1. T is rounded to
 * whole nanoseconds and capped at one hour; (b - 1) * T at 2^61 ns.
 *
 * Time is CLOCK_MONOTONIC in nanoseconds, read by the caller, so
 * tests can drive a fake clock. Every call is thread-safe.
 *
 * gcra_t is one shared bucket (the anonymous limit):
 * lock-free, one compare-and-swap on TAT per admitted request.
 *
 * gcra_table_t is a bucket per client key in fixed memory: a set-associative
 * table of GCRA_TABLE_WAYS slots per set, one mutex per set, the set chosen
 * by a SipHash of the key under a secret drawn at creation (clients cannot
 * aim at a set). A slot whose TAT is not after now is exactly a fresh
 * bucket, so it is free for any key. When every slot of the set is still
 * live, the newcomer takes the slot closest to expiry: the client it
 * displaces loses the least remaining debt in the set, and heavy clients
 * (far-future TATs) are displaced last. Under a flood of keys the limit thus
 * errs towards admitting, never towards refusing a client for another's
 * requests; memory never grows after gcra_table_new.
 */
#ifndef GATEWAY_GCRA_H
#define GATEWAY_GCRA_H

#include <stddef.h>
#include <stdint.h>

#define GCRA_KEY_BYTES 16
#define GCRA_TABLE_WAYS 8

typedef struct gcra gcra_t;
typedef struct gcra_table gcra_table_t;

/* One shared bucket; aborts if out of memory. */
gcra_t *gcra_new(double rps, unsigned burst);
void gcra_free(gcra_t *g);
/* 0: admitted (and counted). Otherwise refused: the nanoseconds until a request would be admitted (>= 1). */
uint64_t gcra_admit(gcra_t *g, uint64_t now_ns);

/* A bucket per key in slots (rounded up to a power of two, at least GCRA_TABLE_WAYS); aborts if out of memory. */
gcra_table_t *gcra_table_new(double rps, unsigned burst, size_t slots);
void gcra_table_free(gcra_table_t *t);
/* As gcra_admit, on the key's own bucket. */
uint64_t gcra_table_admit(gcra_table_t *t, const uint8_t key[GCRA_KEY_BYTES], uint64_t now_ns);

#endif
