/*
 * Heavy hitters: the values (User-Agents, or client network prefixes) seen
 * most often, by Space Saving (Metwally, Agrawal, El Abbadi, 2005), each
 * with the latest attribute seen with it (a UA's latest prefix, a prefix's
 * latest UA). The report is private (UAs carry e-mail addresses): serve it
 * only on admin_listen.
 *
 * Space Saving keeps k counters. A value already counted gets +1; a new one
 * takes a free counter (count 1, error 0) or, when all k are taken, the
 * smallest counter: its count + 1, and the old count as its error. For every
 * counted value, count - error <= true count <= count; every value seen more
 * than n/k times in n observations is counted; error <= n/k.
 *
 * Threads: one summary per gateway thread, each behind its own mutex, which
 * only a report ever contends for; an observation costs a SipHash, a hash
 * table probe and O(log k) heap steps. A report snapshots each summary and
 * merges them (Agarwal et al., "Mergeable summaries", 2012): a value's merged
 * count is the sum over summaries of its count there, or that summary's
 * smallest count when it is full and does not hold the value (0 when it is
 * not full); likewise its error. The guarantees above hold for the merge with
 * n the total over threads (error <= n/k), and fewer than k values have a
 * merged count above n/k, so the top k include every value seen more than
 * n/k times.
 *
 * Memory: values and attributes are kept to their first
 * HEAVY_HITTERS_STRING_MAX bytes (longer ones count as that prefix); about
 * 0.6 KiB per counter, k counters per thread, fixed at creation. A report
 * briefly needs as much again.
 *
 * Reports show strings with every byte outside printable ASCII, and "\",
 * written as \xNN (and \\), so they are always valid UTF-8, unambiguous, and
 * escaped again for HTML.
 */
#ifndef GATEWAY_HEAVY_HITTERS_H
#define GATEWAY_HEAVY_HITTERS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define HEAVY_HITTERS_STRING_MAX 256

typedef struct heavy_hitters heavy_hitters_t;

/* k = capacity counters per thread (0: observations are ignored); aborts if out of memory. */
heavy_hitters_t *heavy_hitters_new(size_t capacity, unsigned threads);
void heavy_hitters_free(heavy_hitters_t *hh);

/*
 * Counts one observation of value on the caller's thread (0 <= thread <
 * threads; one thread index per OS thread), remembering latest with it.
 * Either string may be NULL with length 0. now_ns orders "latest" across
 * threads (CLOCK_MONOTONIC).
 */
void heavy_hitters_add(heavy_hitters_t *hh, unsigned thread, const char *value, size_t value_len, const char *latest,
                       size_t latest_len, uint64_t now_ns);

/*
 * The top values, most counted first, as
 *   {"capacity": k, "threads": t, "observations": n, "max_error": e,
 *    "entries": [{"value": "...", "count": c, "error": e, "guaranteed": c - e, "latest": "..."}, ...]}
 * with at most top entries; max_error bounds the error of any value, counted or not. Free with json_decref.
 */
json_t *heavy_hitters_json(heavy_hitters_t *hh, size_t top);
/* The same as an HTML <table> with title as its caption, everything escaped: a malloc'd string. */
char *heavy_hitters_html(heavy_hitters_t *hh, size_t top, const char *title);

#endif
