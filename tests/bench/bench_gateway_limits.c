/*
 * The gateway's per-request limit work, in ns per request, on 1 and 2
 * threads: classification + prefix + key, the shared GCRA bucket, the keyed
 * table, and heavy-hitter updates (UA and prefix tables) with one summary
 * per thread against both threads sharing one summary (one mutex). Requests
 * come from 1000 UAs in 250 networks, skewed (Zipf); every request reads
 * CLOCK_MONOTONIC, whose cost the first line measures alone.
 * Usage: bench_gateway_limits [seconds per measurement]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/client.h"
#include "gateway/gcra.h"
#include "gateway/heavy_hitters.h"

#define CLIENTS 1000

typedef struct client {
    char ua[96];
    size_t ua_len;
    struct sockaddr_in addr;
} client_t;

static client_t clients[CLIENTS];
static unsigned order[1 << 16]; /* client of the i-th request, Zipf-distributed */

enum { OP_CLOCK, OP_CLIENT, OP_SHARED_BUCKET, OP_KEYED_TABLE, OP_HH_PER_THREAD, OP_HH_ONE_SUMMARY };

typedef struct run {
    int op;
    unsigned threads;
    double seconds;
    gcra_t *bucket;
    gcra_table_t *table;
    heavy_hitters_t *uas, *prefixes;
} run_t;

typedef struct worker {
    const run_t *run;
    unsigned id;
    unsigned long requests;
    double elapsed;
} worker_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void one_request(const run_t *run, unsigned thread, const client_t *c, uint64_t now, unsigned long *sink)
{
    uint8_t key[GCRA_KEY_BYTES];
    char prefix[CLIENT_PREFIX_MAX];

    switch (run->op) {
    case OP_CLOCK:
        *sink += now & 1;
        break;
    case OP_CLIENT:
        client_prefix((const struct sockaddr *)&c->addr, prefix);
        client_key(c->ua, c->ua_len, (const struct sockaddr *)&c->addr, key);
        *sink += client_classify(c->ua, c->ua_len) + (unsigned)prefix[0] + key[0];
        break;
    case OP_SHARED_BUCKET:
        *sink += gcra_admit(run->bucket, now) == 0;
        break;
    case OP_KEYED_TABLE:
        client_key(c->ua, c->ua_len, (const struct sockaddr *)&c->addr, key);
        *sink += gcra_table_admit(run->table, key, now) == 0;
        break;
    default:
        client_prefix((const struct sockaddr *)&c->addr, prefix);
        thread = run->op == OP_HH_PER_THREAD ? thread : 0;
        heavy_hitters_add(run->uas, thread, c->ua, c->ua_len, prefix, strlen(prefix), now);
        heavy_hitters_add(run->prefixes, thread, prefix, strlen(prefix), c->ua, c->ua_len, now);
        break;
    }
}

static void *work(void *p)
{
    worker_t *w = p;
    unsigned long sink = 0, i = w->id * 7919;
    uint64_t start = now_ns(), now;
    do {
        for (int j = 0; j < 1000; j++, i++) {
            now = now_ns();
            one_request(w->run, w->id, &clients[order[i % (sizeof(order) / sizeof(order[0]))]], now, &sink);
        }
        w->requests += 1000;
    } while ((now = now_ns()) - start < (uint64_t)(w->run->seconds * 1e9));
    w->elapsed = (double)(now - start) / 1e9;
    return sink == 42 ? p : NULL;
}

/* Prints the mean ns per request per thread, and requests per second over all threads. */
static void measure(const char *name, run_t *run)
{
    pthread_t threads[2];
    worker_t workers[2] = {{run, 0, 0, 0}, {run, 1, 0, 0}};
    double rate = 0, ns = 0;
    for (unsigned t = 0; t < run->threads; t++)
        pthread_create(&threads[t], NULL, work, &workers[t]);
    for (unsigned t = 0; t < run->threads; t++) {
        pthread_join(threads[t], NULL);
        rate += (double)workers[t].requests / workers[t].elapsed;
        ns += workers[t].elapsed * 1e9 / (double)workers[t].requests / run->threads;
    }
    printf("%-44s %u thread%s %8.0f ns/request %12.0f requests/s\n", name, run->threads, run->threads > 1 ? "s" : " ", ns, rate);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0, cdf[CLIENTS], sum = 0;
    uint64_t rng = 1;

    for (unsigned i = 0; i < CLIENTS; i++) {
        client_t *c = &clients[i];
        c->ua_len = (size_t)snprintf(c->ua, sizeof(c->ua),
                                     "ct-monitor-%u/1.%u (+https://monitor-%u.invalid; ops@monitor-%u.invalid)", i, i % 10, i, i);
        c->addr.sin_family = AF_INET;
        c->addr.sin_addr.s_addr = htonl(0xc6330000u | ((i % 250) << 8) | (i % 200));
        cdf[i] = sum += 1.0 / (i + 1);
    }
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        double u = (double)(rng >> 11) / (double)(UINT64_C(1) << 53) * sum;
        unsigned c = 0;
        while (c < CLIENTS - 1 && cdf[c] < u)
            c++;
        order[i] = c;
    }

    run_t run = {.seconds = seconds};
    run.bucket = gcra_new(75, 10);
    run.table = gcra_table_new(10, 20, 8192);
    run.uas = heavy_hitters_new(100, 2);
    run.prefixes = heavy_hitters_new(100, 2);
    static const struct {
        int op;
        const char *name;
    } ops[] = {
        {OP_CLOCK, "clock_gettime only (in every line below)"},
        {OP_CLIENT, "classify + prefix + key"},
        {OP_SHARED_BUCKET, "shared GCRA bucket (lock-free)"},
        {OP_KEYED_TABLE, "key + keyed GCRA table (8192 slots)"},
        {OP_HH_PER_THREAD, "heavy hitters, UA + prefix, summary/thread"},
        {OP_HH_ONE_SUMMARY, "heavy hitters, UA + prefix, one summary"},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        for (run.threads = 1; run.threads <= 2; run.threads++) {
            if (ops[i].op == OP_HH_ONE_SUMMARY && run.threads == 1)
                continue;
            run.op = ops[i].op;
            measure(ops[i].name, &run);
        }
    gcra_free(run.bucket);
    gcra_table_free(run.table);
    heavy_hitters_free(run.uas);
    heavy_hitters_free(run.prefixes);
    return 0;
}
