/*
 * One witness of the coordinator: its libcurl handle, the add-checkpoint
 * request about a checkpoint, and what its reply teaches.
 *
 * A witness has at most one request in flight. Its easy handle is reused, so
 * libcurl keeps the connection alive between checkpoints. The request carries
 * the size the witness last cosigned and the consistency proof from it, which
 * the checkpoint computes once per distinct old size from the log's tiles. A
 * 409 naming a size no larger than the checkpoint's is retried once from that
 * size; any other failure leaves the witness out until the next checkpoint.
 * The size a witness cosigned is stored through the host between collections
 * (a store is a lock DB commit, and a size stored late costs at most one 409).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/log.h"
#include "tlog/error.h"
#include "witness/internal.h"

static size_t on_reply_bytes(char *data, size_t size, size_t n, void *arg)
{
    witness_endpoint_t *e = arg;
    size_t len = size * n;
    if (e->reply.len + len > WITNESS_REPLY_MAX) {
        e->reply_too_long = 1;
        return 0;
    }
    tlog_buf_append(&e->reply, data, len);
    return len;
}

static int endpoint_init(witness_endpoint_t *e, witness_t *w, const char *url, char *err)
{
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    e->w = w;
    e->url = strdup(url);
    if (e->url == NULL || asprintf(&e->add_url, "%.*s/add-checkpoint", (int)len, url) < 0 || (e->curl = curl_easy_init()) == NULL)
        return tlog_errorf(err, "out of memory");
    e->headers = curl_slist_append(NULL, "Content-Type: text/plain");
    e->headers = curl_slist_append(e->headers, "Expect:");
    CURL *c = e->curl;
    long timeout = (long)w->config->witness_timeout_ms;
    if (e->headers == NULL || curl_easy_setopt(c, CURLOPT_URL, e->add_url) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, e->headers) != CURLE_OK || curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_USERAGENT, "faro-writer/0.1.0") != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply_bytes) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, e) != CURLE_OK || curl_easy_setopt(c, CURLOPT_PRIVATE, e) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, e->curl_err) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK)
        return tlog_errorf(err, "witness %s: libcurl refuses the options", url);
    return 0;
}

int witness_endpoints_init(witness_t *w, char *err)
{
    const policy_t *policy = w->policy;
    size_t n = policy_witness_count(policy);

    if ((w->endpoints = calloc(n, sizeof(*w->endpoints))) == NULL)
        return tlog_errorf(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *url = policy_witness_url(policy, i);
        witness_endpoint_t *e = NULL;
        for (size_t j = 0; j < w->nendpoints && e == NULL; j++)
            if (strcmp(w->endpoints[j].url, url) == 0)
                e = &w->endpoints[j];
        if (e == NULL) {
            e = &w->endpoints[w->nendpoints++];
            e->label = policy_witness_name(policy, i);
            if (endpoint_init(e, w, url, err) != 0)
                return -1;
        }
        size_t *members = realloc(e->members, (e->nkeys + 1) * sizeof(*members));
        tlog_verifier_t **keys = realloc(e->keys, (e->nkeys + 1) * sizeof(*keys));
        if (members != NULL)
            e->members = members;
        if (keys != NULL)
            e->keys = keys;
        if (members == NULL || keys == NULL)
            return tlog_errorf(err, "out of memory");
        e->members[e->nkeys] = i;
        e->keys[e->nkeys++] = policy_witness_verifier(policy, i);
    }
    return 0;
}

void witness_endpoints_free(witness_t *w)
{
    for (size_t i = 0; i < w->nendpoints; i++) {
        witness_endpoint_t *e = &w->endpoints[i];
        if (e->checkpoint != NULL) {
            curl_multi_remove_handle(w->multi, e->curl);
            witness_checkpoint_release(e->checkpoint);
        }
        curl_easy_cleanup(e->curl);
        curl_slist_free_all(e->headers);
        tlog_buf_free(&e->request);
        tlog_buf_free(&e->reply);
        free(e->members);
        free(e->keys);
        free(e->add_url);
        free(e->url);
    }
    free(w->endpoints);
    w->endpoints = NULL;
    w->nendpoints = 0;
}

/* The consistency proof from old to cp's size, read from the log's tiles once per old size. */
static const witness_proof_t *checkpoint_proof(witness_t *w, witness_checkpoint_t *cp, uint64_t old, char *err)
{
    for (size_t i = 0; i < cp->nproofs; i++)
        if (cp->proofs[i].old == old)
            return &cp->proofs[i];
    if (w->reader_size != cp->size) {
        tlog_tile_reader_init(w->reader, cp->size, w->host.read_tile, w->host.ctx);
        w->reader_size = cp->size;
    }
    witness_proof_t *proofs = realloc(cp->proofs, (cp->nproofs + 1) * sizeof(*proofs));
    if (proofs == NULL)
        abort();
    cp->proofs = proofs;
    witness_proof_t *p = &proofs[cp->nproofs];
    tlog_node_reader_t nodes = tlog_tile_reader_nodes(w->reader);
    p->old = old;
    if (tlog_consistency_proof(&nodes, old, cp->size, p->hashes, &p->len, err) != 0)
        return NULL;
    cp->nproofs++;
    return p;
}

/*
 * Event lines only when something changes: a failure of a new kind (outcome or
 * HTTP status), a recovery, a new size claimed ahead. A 409 retried is no failure.
 */
static void note_outcome(witness_endpoint_t *e, int outcome, long status, const witness_reply_t *reply, uint64_t size)
{
    const char *log = e->w->config->name;
    int failed = outcome != WITNESS_COSIGNED && (outcome != WITNESS_CONFLICT || e->retried);
    if (outcome == WITNESS_AHEAD && reply->size != e->alarm_size) {
        e->alarm_size = reply->size;
        faro_log(FARO_LOG_ERROR, log, "ALARM: witness %s (%s): %s; not believed", e->label, e->url, reply->why);
    } else if (outcome == WITNESS_COSIGNED && e->last_outcome != WITNESS_COSIGNED) {
        faro_log(FARO_LOG_INFO, log, "witness %s cosigned size %" PRIu64, e->label, size);
    } else if (failed && (outcome != e->last_outcome || status != e->last_status)) {
        faro_log(FARO_LOG_WARN, log, "witness %s (%s) failed (%s): %s", e->label, e->url, witness_outcome_name(outcome),
                 reply->why);
    }
    if (outcome == WITNESS_COSIGNED || failed) {
        e->last_outcome = outcome;
        e->last_status = status;
    }
}

void witness_endpoint_store_size(witness_endpoint_t *e)
{
    witness_t *w = e->w;
    char err[TLOG_ERR_MAX];
    if (e->old_size == e->stored_size)
        return;
    if (w->host.store_size(w->host.ctx, e->url, e->old_size, err) != 0) {
        faro_log(FARO_LOG_WARN, w->config->name, "recording the size witness %s cosigned: %s", e->label, err);
        return;
    }
    e->stored_size = e->old_size;
}

void witness_endpoint_send(witness_endpoint_t *e, witness_checkpoint_t *cp, int retry)
{
    witness_t *w = e->w;
    char err[TLOG_ERR_MAX];
    uint64_t old = e->old_size;

    if (old > cp->size) {
        faro_log(FARO_LOG_WARN, w->config->name,
                 "witness %s: recorded as having cosigned size %" PRIu64 ", beyond the log's %" PRIu64 "; asking from 0", e->label,
                 old, cp->size);
        old = e->old_size = 0;
    }
    const witness_proof_t *proof = checkpoint_proof(w, cp, old, err);
    if (proof == NULL) {
        faro_log(FARO_LOG_ERROR, w->config->name, "the consistency proof from %" PRIu64 " to %" PRIu64 " for witness %s: %s", old,
                 cp->size, e->label, err);
        witness_collection_answer(w, e, cp, NULL, NULL);
        return;
    }
    e->request.len = 0;
    witness_request_body(old, proof->hashes, proof->len, cp->note, cp->len, &e->request);
    e->reply.len = 0;
    e->reply_too_long = 0;
    e->curl_err[0] = '\0';
    curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, (const char *)e->request.data);
    curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)e->request.len);
    e->checkpoint = cp;
    cp->refs++;
    e->sent_old = old;
    e->retried = retry;
    e->started_ms = faro_monotonic_ms();
    CURLMcode rc = curl_multi_add_handle(w->multi, e->curl);
    if (rc != CURLM_OK) {
        faro_log(FARO_LOG_ERROR, w->config->name, "witness %s: libcurl: %s", e->label, curl_multi_strerror(rc));
        e->checkpoint = NULL;
        witness_collection_answer(w, e, cp, NULL, NULL);
        witness_checkpoint_release(cp);
    }
}

/* A transfer that did not give a reply to read. */
static void transfer_failure(witness_endpoint_t *e, CURLcode result, witness_reply_t *reply)
{
    if (e->reply_too_long) {
        reply->outcome = WITNESS_INVALID;
        tlog_errorf(reply->why, "a reply longer than %d bytes", WITNESS_REPLY_MAX);
        return;
    }
    reply->outcome = result == CURLE_OPERATION_TIMEDOUT ? WITNESS_TIMEOUT : WITNESS_UNREACHABLE;
    tlog_errorf(reply->why, "%s", e->curl_err[0] != '\0' ? e->curl_err : curl_easy_strerror(result));
}

void witness_endpoint_done(witness_endpoint_t *e, CURLcode result)
{
    witness_t *w = e->w;
    witness_checkpoint_t *cp = e->checkpoint;
    witness_reply_t reply = {.lines = TLOG_BUF_INIT};
    uint8_t *key_signed = calloc(e->nkeys, 1);
    long status = 0;
    uint64_t now_s = (uint64_t)time(NULL);

    if (key_signed == NULL)
        abort();
    curl_multi_remove_handle(w->multi, e->curl);
    e->checkpoint = NULL;
    witness_histogram_observe(&e->metrics.latency, faro_monotonic_ms() - e->started_ms);
    if (result == CURLE_OK) {
        witness_expect_t expect = {
            .checkpoint = cp->note,
            .checkpoint_len = cp->len,
            .text_len = cp->text_len,
            .size = cp->size,
            .old_size = e->sent_old,
            .keys = e->keys,
            .nkeys = e->nkeys,
            .not_before_s = cp->handed_s > POLICY_CLOCK_SKEW_S ? cp->handed_s - POLICY_CLOCK_SKEW_S : 0,
            .not_after_s = now_s + POLICY_CLOCK_SKEW_S,
        };
        curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
        witness_reply_read(&expect, status, (const char *)e->reply.data, e->reply.len, &reply, key_signed);
    } else {
        transfer_failure(e, result, &reply);
    }
    atomic_fetch_add(&e->metrics.outcomes[reply.outcome], 1);
    note_outcome(e, reply.outcome, status, &reply, cp->size);
    if (reply.outcome == WITNESS_COSIGNED) {
        e->old_size = cp->size;
        atomic_store(&e->metrics.cosigned_size, cp->size);
        witness_collection_answer(w, e, cp, &reply.lines, key_signed);
    } else if (reply.outcome == WITNESS_CONFLICT) {
        e->old_size = reply.size;
        /* Retried only while cp is still being collected; otherwise dispatch sends the current one from old_size. */
        if (!e->retried && w->collection != NULL && w->collection->checkpoint == cp)
            witness_endpoint_send(e, cp, 1);
        else
            witness_collection_answer(w, e, cp, NULL, NULL);
    } else {
        witness_collection_answer(w, e, cp, NULL, NULL);
    }
    tlog_buf_free(&reply.lines);
    free(key_signed);
    witness_checkpoint_release(cp);
}
