/*
 * Space Saving: the textbook takeover, the guarantees on skewed streams for
 * one summary and for the merge of per-thread summaries (filled by real
 * threads), "latest" across threads, truncation, fixed memory, and reports
 * that escape everything (JSON and HTML).
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

#include <cmocka.h>
#include <jansson.h>

#include "gateway/heavy_hitters.h"

#define S(s) s, strlen(s)

static void add(heavy_hitters_t *hh, unsigned thread, const char *value, const char *latest, uint64_t now)
{
    heavy_hitters_add(hh, thread, S(value), S(latest), now);
}

/* The entry of report whose value is value, or NULL. */
static json_t *find(json_t *report, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(report, "entries"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "value")), value) == 0)
            return e;
    }
    return NULL;
}

static uint64_t field(json_t *object, const char *name)
{
    json_t *v = json_object_get(object, name);
    assert_true(json_is_integer(v));
    return (uint64_t)json_integer_value(v);
}

static void assert_entry(json_t *report, const char *value, uint64_t count, uint64_t error, const char *latest)
{
    json_t *e = find(report, value);
    if (e == NULL)
        fail_msg("%s is not reported", value);
    assert_int_equal(field(e, "count"), count);
    assert_int_equal(field(e, "error"), error);
    assert_int_equal(field(e, "guaranteed"), count - error);
    assert_string_equal(json_string_value(json_object_get(e, "latest")), latest);
}

/* a a b c d with 3 counters: d takes over one of the two smallest (b or c), inheriting its count as error. */
static void test_gateway_heavy_hitters_takeover(void **state)
{
    heavy_hitters_t *hh = heavy_hitters_new(3, 1);
    (void)state;
    add(hh, 0, "a", "1", 1);
    add(hh, 0, "a", "2", 2);
    add(hh, 0, "b", "3", 3);
    add(hh, 0, "c", "4", 4);
    add(hh, 0, "d", "5", 5);
    json_t *r = heavy_hitters_json(hh, 10);
    assert_int_equal(field(r, "capacity"), 3);
    assert_int_equal(field(r, "threads"), 1);
    assert_int_equal(field(r, "observations"), 5);
    assert_int_equal(field(r, "max_error"), 1);
    assert_int_equal(json_array_size(json_object_get(r, "entries")), 3);
    assert_entry(r, "a", 2, 0, "2");
    assert_entry(r, "d", 2, 1, "5");
    assert_true((find(r, "b") == NULL) != (find(r, "c") == NULL));
    /* Most counted first; equal counts by smaller error. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "entries"), 0), "value")), "a");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "entries"), 1), "value")), "d");
    json_decref(r);

    r = heavy_hitters_json(hh, 1);
    assert_int_equal(json_array_size(json_object_get(r, "entries")), 1);
    json_decref(r);
    heavy_hitters_free(hh);
}

/*
 * A skewed stream: N observations over DISTINCT values, value v drawn with
 * weight about 1 / (v + 1) (Zipf), in a fixed pseudo-random order.
 */
#define N 300000
#define DISTINCT 20000
#define K 64

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

static uint32_t zipf_value(uint64_t *rng, const double *cdf)
{
    double u = (double)rng_next(rng) / (double)(UINT64_C(1) << 31);
    size_t lo = 0, hi = DISTINCT - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

typedef struct stream {
    uint32_t values[N];
    uint64_t truth[DISTINCT];
} stream_t;

static stream_t *make_stream(uint64_t seed)
{
    stream_t *s = calloc(1, sizeof(*s));
    double *cdf = malloc(DISTINCT * sizeof(double)), sum = 0;
    assert_non_null(s);
    assert_non_null(cdf);
    for (size_t v = 0; v < DISTINCT; v++)
        cdf[v] = sum += 1.0 / (double)(v + 1);
    for (size_t v = 0; v < DISTINCT; v++)
        cdf[v] /= sum;
    for (size_t i = 0; i < N; i++) {
        s->values[i] = zipf_value(&seed, cdf);
        s->truth[s->values[i]]++;
    }
    free(cdf);
    return s;
}

static void value_name(uint32_t v, char out[32])
{
    snprintf(out, 32, "client-%u", v);
}

/* count - error <= true <= count for every entry; every value seen more than n/k times is among the top k. */
static void assert_guarantees(heavy_hitters_t *hh, const stream_t *s, size_t k)
{
    json_t *r = heavy_hitters_json(hh, k);
    json_t *e;
    size_t i, heavy = 0;
    uint64_t max_error = field(r, "max_error"), previous = UINT64_MAX;

    assert_int_equal(field(r, "observations"), N);
    assert_true(max_error <= N / k);
    json_array_foreach(json_object_get(r, "entries"), i, e)
    {
        unsigned v;
        assert_int_equal(sscanf(json_string_value(json_object_get(e, "value")), "client-%u", &v), 1);
        uint64_t count = field(e, "count"), error = field(e, "error");
        assert_true(count <= previous);
        previous = count;
        assert_true(error <= max_error);
        if (!(count - error <= s->truth[v] && s->truth[v] <= count))
            fail_msg("client-%u: count %llu error %llu, true %llu", v, (unsigned long long)count, (unsigned long long)error,
                     (unsigned long long)s->truth[v]);
    }
    for (uint32_t v = 0; v < DISTINCT; v++) {
        char name[32];
        if (s->truth[v] * k <= N)
            continue;
        heavy++;
        value_name(v, name);
        if (find(r, name) == NULL)
            fail_msg("%s seen %llu > n/k = %d times is not reported", name, (unsigned long long)s->truth[v], N / (int)k);
    }
    printf("k = %zu: %zu values above n/k, all reported; max error %llu (n/k = %zu)\n", k, heavy, (unsigned long long)max_error,
           N / k);
    assert_true(heavy > 3); /* the stream is skewed enough to test something */
    json_decref(r);
}

static void test_gateway_heavy_hitters_guarantees(void **state)
{
    stream_t *s = make_stream(42);
    heavy_hitters_t *hh = heavy_hitters_new(K, 1);
    char name[32];
    (void)state;
    for (size_t i = 0; i < N; i++) {
        value_name(s->values[i], name);
        add(hh, 0, name, "203.0.113.0/24", i);
    }
    assert_guarantees(hh, s, K);
    heavy_hitters_free(hh);
    free(s);
}

/* Four threads add interleaved slices of one stream, each skewed differently, while reports are taken. */
#define THREADS 4

typedef struct feeder {
    heavy_hitters_t *hh;
    const stream_t *s;
    unsigned thread;
} feeder_t;

static void *feed(void *p)
{
    feeder_t *f = p;
    char name[32];
    for (size_t i = 0; i < N; i++) {
        /* Thread t takes the observations of values v with (v / 7 + i / 1000) % THREADS == t: disjoint, uneven slices. */
        uint32_t v = f->s->values[i];
        if ((v / 7 + i / 1000) % THREADS != f->thread)
            continue;
        value_name(v, name);
        add(f->hh, f->thread, name, "latest", i);
    }
    return NULL;
}

static void test_gateway_heavy_hitters_merge(void **state)
{
    stream_t *s = make_stream(7);
    heavy_hitters_t *hh = heavy_hitters_new(K, THREADS);
    pthread_t threads[THREADS];
    feeder_t feeders[THREADS];
    (void)state;
    for (unsigned t = 0; t < THREADS; t++) {
        feeders[t] = (feeder_t){hh, s, t};
        assert_int_equal(pthread_create(&threads[t], NULL, feed, &feeders[t]), 0);
    }
    for (int i = 0; i < 20; i++) {
        char *html = heavy_hitters_html(hh, K, "during");
        json_decref(heavy_hitters_json(hh, K));
        free(html);
    }
    for (unsigned t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    assert_guarantees(hh, s, K);
    heavy_hitters_free(hh);
    free(s);
}

/*
 * A value counted on several threads: counts add up, a full summary that
 * does not hold it adds its smallest count to both count and error, and
 * latest is the attribute given with the latest time.
 */
static void test_gateway_heavy_hitters_merge_latest(void **state)
{
    heavy_hitters_t *hh = heavy_hitters_new(2, 3);
    (void)state;
    add(hh, 0, "ua", "192.0.2.0/24", 10);
    add(hh, 1, "ua", "198.51.100.0/24", 30);
    add(hh, 1, "third", "198.51.100.0/24", 31);
    add(hh, 2, "other", "203.0.113.0/24", 40);
    add(hh, 2, "other", "203.0.113.0/24", 41);
    add(hh, 2, "third", "203.0.113.0/24", 20);
    json_t *r = heavy_hitters_json(hh, 10);
    assert_int_equal(field(r, "max_error"), 2); /* threads 1 and 2 are full, each with a smallest count of 1 */
    assert_entry(r, "ua", 3, 1, "198.51.100.0/24");
    assert_entry(r, "third", 2, 0, "198.51.100.0/24");
    assert_entry(r, "other", 3, 1, "203.0.113.0/24");
    json_decref(r);

    add(hh, 0, "ua", "192.0.2.128/25", 100);
    r = heavy_hitters_json(hh, 10);
    assert_entry(r, "ua", 4, 1, "192.0.2.128/25");
    json_decref(r);
    heavy_hitters_free(hh);
}

/* Values count by their first HEAVY_HITTERS_STRING_MAX bytes; NUL bytes and absent strings are values too. */
static void test_gateway_heavy_hitters_truncation(void **state)
{
    heavy_hitters_t *hh = heavy_hitters_new(8, 1);
    char a[1000], b[1000];
    (void)state;
    memset(a, 'u', sizeof(a));
    memcpy(b, a, sizeof(b));
    b[HEAVY_HITTERS_STRING_MAX] = 'v';
    heavy_hitters_add(hh, 0, a, sizeof(a), a, sizeof(a), 1);
    heavy_hitters_add(hh, 0, b, sizeof(b), "", 0, 2);
    heavy_hitters_add(hh, 0, "x\0y", 3, NULL, 0, 3);
    heavy_hitters_add(hh, 0, "x", 1, NULL, 0, 4);
    heavy_hitters_add(hh, 0, NULL, 0, NULL, 0, 5);
    heavy_hitters_add(hh, 0, "", 0, NULL, 0, 6);
    json_t *r = heavy_hitters_json(hh, 10);
    a[HEAVY_HITTERS_STRING_MAX] = '\0';
    assert_entry(r, a, 2, 0, "");
    assert_entry(r, "x\\x00y", 1, 0, "");
    assert_entry(r, "x", 1, 0, "");
    assert_entry(r, "", 2, 0, "");
    assert_int_equal(json_array_size(json_object_get(r, "entries")), 4);
    json_decref(r);
    heavy_hitters_free(hh);
}

/* 100,000 distinct values through 100 counters on 2 threads allocate nothing. */
static void test_gateway_heavy_hitters_bounded(void **state)
{
    heavy_hitters_t *hh = heavy_hitters_new(100, 2);
    char name[32];
    (void)state;
    struct mallinfo2 before = mallinfo2();
    for (uint32_t v = 0; v < 100000; v++) {
        value_name(v, name);
        add(hh, v % 2, name, name, v);
    }
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(after.uordblks, before.uordblks);
    assert_int_equal(after.hblkhd, before.hblkhd);
    json_t *r = heavy_hitters_json(hh, 1000);
    assert_int_equal(json_array_size(json_object_get(r, "entries")), 200); /* each thread holds 100 values of its own */
    assert_int_equal(field(r, "observations"), 100000);
    json_decref(r);
    heavy_hitters_free(hh);
}

static void test_gateway_heavy_hitters_off(void **state)
{
    heavy_hitters_t *hh = heavy_hitters_new(0, 2);
    (void)state;
    add(hh, 1, "ua", "192.0.2.0/24", 1);
    json_t *r = heavy_hitters_json(hh, 100);
    assert_int_equal(field(r, "observations"), 0);
    assert_int_equal(json_array_size(json_object_get(r, "entries")), 0);
    json_decref(r);
    char *html = heavy_hitters_html(hh, 100, "off");
    assert_null(strstr(html, "<td>"));
    free(html);
    heavy_hitters_free(hh);
    heavy_hitters_free(NULL);
}

/* Attacker-controlled UAs: markup, quotes, backslashes, control bytes and invalid UTF-8 come out inert. */
static void test_gateway_heavy_hitters_escaping(void **state)
{
    static const char ua[] = "<script>alert(\"x&'y\")</script>\\\0\n\xff\xc3\xa9";
    heavy_hitters_t *hh = heavy_hitters_new(4, 1);
    (void)state;
    heavy_hitters_add(hh, 0, ua, sizeof(ua) - 1, S("<b>prefix</b>"), 1);

    json_t *r = heavy_hitters_json(hh, 10);
    assert_entry(r, "<script>alert(\"x&'y\")</script>\\\\\\x00\\x0a\\xff\\xc3\\xa9", 1, 0, "<b>prefix</b>");
    char *text = json_dumps(r, 0);
    assert_non_null(text);
    free(text);
    json_decref(r);

    char *html = heavy_hitters_html(hh, 10, "User-Agents <&>");
    assert_non_null(strstr(html, "<caption>User-Agents &lt;&amp;&gt;: 1 observations"));
    assert_non_null(strstr(html,
                           "<td>&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;\\\\\\x00\\x0a\\xff\\xc3\\xa9</td>"
                           "<td>&lt;b&gt;prefix&lt;/b&gt;</td>"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<b>"));
    for (const char *p = html; *p; p++)
        assert_true((*p >= 0x20 && *p < 0x7f) || *p == '\n');
    free(html);
    heavy_hitters_free(hh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_heavy_hitters_takeover),   cmocka_unit_test(test_gateway_heavy_hitters_guarantees),
        cmocka_unit_test(test_gateway_heavy_hitters_merge),      cmocka_unit_test(test_gateway_heavy_hitters_merge_latest),
        cmocka_unit_test(test_gateway_heavy_hitters_truncation), cmocka_unit_test(test_gateway_heavy_hitters_bounded),
        cmocka_unit_test(test_gateway_heavy_hitters_off),        cmocka_unit_test(test_gateway_heavy_hitters_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
