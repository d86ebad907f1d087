/*
 * Space Saving summaries and their merged reports (heavy_hitters.h).
 *
 * A summary holds k entries in a fixed array. Two structures index them:
 * a min-heap on count (heap[0] is the counter a new value takes over when
 * the summary is full; an increment sifts its entry down) and an
 * open-addressing hash table (linear probing, at most half full, backward
 * shift on removal) from a value's SipHash to its entry. The hash key is
 * secret, so clients cannot aim their UAs at one probe chain.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gateway/heavy_hitters.h"
#include "tlog/buf.h"

typedef struct entry {
    uint64_t count, error; /* observations */
    uint64_t seen_ns;      /* the caller's clock at the latest observation */
    uint64_t hash;         /* of value */
    uint32_t heap_pos;
    uint16_t value_len, latest_len;
    char value[HEAVY_HITTERS_STRING_MAX];
    char latest[HEAVY_HITTERS_STRING_MAX];
} entry_t;

typedef struct summary {
    _Alignas(64) pthread_mutex_t lock; /* one cache line apart from the next thread's */
    size_t used;                       /* entries taken, at most capacity */
    uint64_t observations;
    entry_t *entries;
    uint32_t *heap;  /* entry indices, a min-heap on count */
    uint32_t *index; /* hash table slots: entry index + 1, 0 = empty */
    size_t index_mask;
} summary_t;

struct heavy_hitters {
    size_t capacity;
    unsigned threads;
    uint8_t secret[crypto_shorthash_KEYBYTES];
    summary_t *summaries;
};

heavy_hitters_t *heavy_hitters_new(size_t capacity, unsigned threads)
{
    heavy_hitters_t *hh = calloc(1, sizeof(*hh));
    size_t slots = 2;

    assert(threads >= 1 && capacity < UINT32_MAX / 2);
    while (slots < 2 * capacity)
        slots *= 2;
    if (hh == NULL || sodium_init() < 0 ||
        (hh->summaries = aligned_alloc(_Alignof(summary_t), threads * sizeof(summary_t))) == NULL)
        abort();
    hh->capacity = capacity;
    hh->threads = threads;
    randombytes_buf(hh->secret, sizeof(hh->secret));
    memset(hh->summaries, 0, threads * sizeof(summary_t));
    for (unsigned i = 0; i < threads; i++) {
        summary_t *s = &hh->summaries[i];
        pthread_mutex_init(&s->lock, NULL);
        s->entries = calloc(capacity ? capacity : 1, sizeof(entry_t));
        s->heap = calloc(capacity ? capacity : 1, sizeof(uint32_t));
        s->index = calloc(slots, sizeof(uint32_t));
        if (s->entries == NULL || s->heap == NULL || s->index == NULL)
            abort();
        s->index_mask = slots - 1;
    }
    return hh;
}

void heavy_hitters_free(heavy_hitters_t *hh)
{
    if (hh == NULL)
        return;
    for (unsigned i = 0; i < hh->threads; i++) {
        summary_t *s = &hh->summaries[i];
        pthread_mutex_destroy(&s->lock);
        free(s->entries);
        free(s->heap);
        free(s->index);
    }
    free(hh->summaries);
    free(hh);
}

static uint64_t count_at(const summary_t *s, size_t heap_pos)
{
    return s->entries[s->heap[heap_pos]].count;
}

static void heap_swap(summary_t *s, size_t a, size_t b)
{
    uint32_t ea = s->heap[a], eb = s->heap[b];
    s->heap[a] = eb;
    s->heap[b] = ea;
    s->entries[eb].heap_pos = (uint32_t)a;
    s->entries[ea].heap_pos = (uint32_t)b;
}

static void sift_up(summary_t *s, size_t pos)
{
    while (pos > 0 && count_at(s, (pos - 1) / 2) > count_at(s, pos)) {
        heap_swap(s, pos, (pos - 1) / 2);
        pos = (pos - 1) / 2;
    }
}

static void sift_down(summary_t *s, size_t pos)
{
    for (;;) {
        size_t least = pos, left = 2 * pos + 1, right = left + 1;
        if (left < s->used && count_at(s, left) < count_at(s, least))
            least = left;
        if (right < s->used && count_at(s, right) < count_at(s, least))
            least = right;
        if (least == pos)
            return;
        heap_swap(s, pos, least);
        pos = least;
    }
}

/* The slot holding value, or the empty slot where it belongs. */
static size_t index_find(const summary_t *s, uint64_t hash, const char *value, size_t len)
{
    for (size_t i = hash & s->index_mask;; i = (i + 1) & s->index_mask) {
        if (s->index[i] == 0)
            return i;
        const entry_t *e = &s->entries[s->index[i] - 1];
        if (e->hash == hash && e->value_len == len && memcmp(e->value, value, len) == 0)
            return i;
    }
}

/* Empties slot i and moves later entries of its probe chain back, so every entry stays reachable from its home. */
static void index_remove(summary_t *s, size_t i)
{
    for (size_t j = (i + 1) & s->index_mask; s->index[j] != 0; j = (j + 1) & s->index_mask) {
        size_t home = s->entries[s->index[j] - 1].hash & s->index_mask;
        if (((j - home) & s->index_mask) >= ((j - i) & s->index_mask)) {
            s->index[i] = s->index[j];
            i = j;
        }
    }
    s->index[i] = 0;
}

static void set_string(char *dst, uint16_t *dst_len, const char *src, size_t len)
{
    if (len > 0)
        memcpy(dst, src, len);
    *dst_len = (uint16_t)len;
}

/* The entry counting value from now on: its own, a free one, or the smallest, taken over (Space Saving). */
static entry_t *summary_entry(summary_t *s, size_t capacity, uint64_t hash, const char *value, size_t len)
{
    size_t slot = index_find(s, hash, value, len);
    entry_t *e;

    if (s->index[slot] != 0) {
        e = &s->entries[s->index[slot] - 1];
        e->count++;
        sift_down(s, e->heap_pos);
        return e;
    }
    if (s->used < capacity) {
        uint32_t n = (uint32_t)s->used++;
        e = &s->entries[n];
        s->heap[n] = n;
        e->heap_pos = n;
        e->count = 1;
        e->error = 0;
        sift_up(s, n);
    } else {
        e = &s->entries[s->heap[0]];
        index_remove(s, index_find(s, e->hash, e->value, e->value_len));
        slot = index_find(s, hash, value, len);
        e->error = e->count;
        e->count++;
        sift_down(s, 0);
    }
    e->hash = hash;
    set_string(e->value, &e->value_len, value, len);
    s->index[slot] = (uint32_t)(e - s->entries) + 1;
    return e;
}

void heavy_hitters_add(heavy_hitters_t *hh, unsigned thread, const char *value, size_t value_len, const char *latest,
                       size_t latest_len, uint64_t now_ns)
{
    uint8_t hash[crypto_shorthash_BYTES];
    uint64_t h;

    assert(thread < hh->threads);
    if (hh->capacity == 0)
        return;
    value = value != NULL ? value : "";
    latest = latest != NULL ? latest : "";
    value_len = value_len < HEAVY_HITTERS_STRING_MAX ? value_len : HEAVY_HITTERS_STRING_MAX;
    latest_len = latest_len < HEAVY_HITTERS_STRING_MAX ? latest_len : HEAVY_HITTERS_STRING_MAX;
    crypto_shorthash(hash, (const uint8_t *)value, value_len, hh->secret);
    memcpy(&h, hash, sizeof(h));

    summary_t *s = &hh->summaries[thread];
    pthread_mutex_lock(&s->lock);
    s->observations++;
    entry_t *e = summary_entry(s, hh->capacity, h, value, value_len);
    set_string(e->latest, &e->latest_len, latest, latest_len);
    e->seen_ns = now_ns;
    pthread_mutex_unlock(&s->lock);
}

/* A snapshot row: an entry and, until the rows are merged, the smallest count of its summary (0 if not full). */
typedef struct row {
    entry_t entry;
    uint64_t source_min;
} row_t;

/* A merged report: rows most counted first. */
typedef struct report {
    row_t *rows;
    size_t count;
    uint64_t observations;
    uint64_t max_error; /* the sum of the full summaries' smallest counts */
} report_t;

static int by_value(const void *a, const void *b)
{
    const entry_t *x = &((const row_t *)a)->entry, *y = &((const row_t *)b)->entry;
    if (x->value_len != y->value_len)
        return x->value_len < y->value_len ? -1 : 1;
    return memcmp(x->value, y->value, x->value_len);
}

static int by_count(const void *a, const void *b)
{
    const entry_t *x = &((const row_t *)a)->entry, *y = &((const row_t *)b)->entry;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->error != y->error)
        return x->error < y->error ? -1 : 1;
    return by_value(a, b);
}

/* Copies every summary (one lock at a time), merges the rows of equal values in place, and sorts; keeps top rows. */
static void report_make(heavy_hitters_t *hh, size_t top, report_t *r)
{
    size_t n = 0, merged = 0;

    memset(r, 0, sizeof(*r));
    if ((r->rows = calloc(hh->capacity * hh->threads + 1, sizeof(row_t))) == NULL)
        abort();
    for (unsigned t = 0; t < hh->threads; t++) {
        summary_t *s = &hh->summaries[t];
        pthread_mutex_lock(&s->lock);
        uint64_t min = s->used == hh->capacity && s->used > 0 ? count_at(s, 0) : 0;
        for (size_t i = 0; i < s->used; i++, n++) {
            r->rows[n].entry = s->entries[i];
            r->rows[n].source_min = min;
        }
        r->observations += s->observations;
        r->max_error += min;
        pthread_mutex_unlock(&s->lock);
    }

    qsort(r->rows, n, sizeof(row_t), by_value);
    for (size_t i = 0, j; i < n; i = j) {
        entry_t e = r->rows[i].entry;
        uint64_t absent = r->max_error - r->rows[i].source_min; /* from the full summaries that do not hold it */
        for (j = i + 1; j < n && by_value(&r->rows[i], &r->rows[j]) == 0; j++) {
            const entry_t *other = &r->rows[j].entry;
            e.count += other->count;
            e.error += other->error;
            absent -= r->rows[j].source_min;
            if (other->seen_ns > e.seen_ns) {
                set_string(e.latest, &e.latest_len, other->latest, other->latest_len);
                e.seen_ns = other->seen_ns;
            }
        }
        e.count += absent;
        e.error += absent;
        r->rows[merged++].entry = e; /* merged <= i: only rows already read are overwritten */
    }
    qsort(r->rows, merged, sizeof(row_t), by_count);
    r->count = merged < top ? merged : top;
}

/*
 * Appends s for a report: printable ASCII as is, "\" as "\\", every other
 * byte as \xNN; with html, also & < > " ' as character references.
 */
static void append_shown(tlog_buf_t *out, const char *s, size_t len, int html)
{
    static const char *const references[] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;"};
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (html && c < sizeof(references) / sizeof(references[0]) && references[c] != NULL) {
            tlog_buf_append(out, references[c], strlen(references[c]));
        } else if (c == '\\') {
            tlog_buf_append(out, "\\\\", 2);
        } else if (c >= 0x20 && c < 0x7f) {
            tlog_buf_append(out, &s[i], 1);
        } else {
            const char hex[4] = {'\\', 'x', digits[c >> 4], digits[c & 15]};
            tlog_buf_append(out, hex, sizeof(hex));
        }
    }
}

static json_t *json_shown(const char *s, size_t len)
{
    tlog_buf_t buf = TLOG_BUF_INIT;
    append_shown(&buf, s, len, 0);
    json_t *j = json_stringn(buf.len ? (const char *)buf.data : "", buf.len);
    tlog_buf_free(&buf);
    return j;
}

json_t *heavy_hitters_json(heavy_hitters_t *hh, size_t top)
{
    report_t r;
    json_t *entries = json_array();

    report_make(hh, top, &r);
    for (size_t i = 0; i < r.count; i++) {
        const entry_t *e = &r.rows[i].entry;
        json_t *row = json_pack("{s:o, s:I, s:I, s:I, s:o}", "value", json_shown(e->value, e->value_len), "count",
                                (json_int_t)e->count, "error", (json_int_t)e->error, "guaranteed",
                                (json_int_t)(e->count - e->error), "latest", json_shown(e->latest, e->latest_len));
        if (row == NULL || json_array_append_new(entries, row) != 0)
            abort();
    }
    json_t *report =
        json_pack("{s:I, s:I, s:I, s:I, s:o}", "capacity", (json_int_t)hh->capacity, "threads", (json_int_t)hh->threads,
                  "observations", (json_int_t)r.observations, "max_error", (json_int_t)r.max_error, "entries", entries);
    free(r.rows);
    if (report == NULL)
        abort();
    return report;
}

char *heavy_hitters_html(heavy_hitters_t *hh, size_t top, const char *title)
{
    tlog_buf_t out = TLOG_BUF_INIT;
    report_t r;

    report_make(hh, top, &r);
    tlog_buf_appendf(&out, "<table>\n<caption>");
    append_shown(&out, title, strlen(title), 1);
    tlog_buf_appendf(&out, ": %llu observations, %zu counters &times; %u threads, error at most %llu</caption>\n",
                     (unsigned long long)r.observations, hh->capacity, hh->threads, (unsigned long long)r.max_error);
    tlog_buf_appendf(&out, "<thead><tr><th>count</th><th>error</th><th>guaranteed</th><th>value</th><th>latest</th></tr></thead>\n"
                           "<tbody>\n");
    for (size_t i = 0; i < r.count; i++) {
        const entry_t *e = &r.rows[i].entry;
        tlog_buf_appendf(&out, "<tr><td>%llu</td><td>%llu</td><td>%llu</td><td>", (unsigned long long)e->count,
                         (unsigned long long)e->error, (unsigned long long)(e->count - e->error));
        append_shown(&out, e->value, e->value_len, 1);
        tlog_buf_appendf(&out, "</td><td>");
        append_shown(&out, e->latest, e->latest_len, 1);
        tlog_buf_appendf(&out, "</td></tr>\n");
    }
    tlog_buf_appendf(&out, "</tbody>\n</table>\n");
    tlog_buf_append(&out, "", 1);
    free(r.rows);
    return (char *)out.data;
}
