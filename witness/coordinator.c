/*
 * The coordinator's thread: collections and publication (see witness.h).
 *
 * The thread loops: take the pending checkpoint when no collection runs and
 * begin collecting it; send it to every idle witness that has not answered
 * it; wait in curl_multi_poll (witness_submit and witness_stop wake it) until
 * a transfer moves or the collection's deadline; read the finished
 * transfers; end the collection when its quorum is met (greedy: and a newer
 * checkpoint waits), every witness has answered, or its deadline has passed;
 * between collections, store the sizes witnesses cosigned.
 *
 * A collection counts each witness once, through policy_eval_add, so a reply
 * costs the groups it newly satisfies. Before a checkpoint is published with
 * a quorum, the bytes about to be published are checked once more with
 * policy_note_meets_quorum, the check the gateway's /health makes.
 *
 * Invariants: at most one collection; a witness (endpoint) has at most one
 * transfer; checkpoints are published in the order they were handed over,
 * so the published tree never shrinks.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/log.h"
#include "tlog/checkpoint.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "witness/internal.h"

#define IDLE_WAIT_MS 1000

void witness_checkpoint_release(witness_checkpoint_t *cp)
{
    if (cp == NULL || --cp->refs > 0)
        return;
    free(cp->note);
    free(cp->proofs);
    free(cp);
}

static void on_curl_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int witness_open(const faro_log_config_t *config, const tlog_verifier_t *log_key, const witness_host_t *host, witness_t **out,
                 char *err)
{
    static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
    char why[TLOG_ERR_MAX], vkey[512];
    witness_t *w = NULL;
    int rc = -1;

    *out = NULL;
    if ((w = calloc(1, sizeof(*w))) == NULL) {
        tlog_errorf(err, "out of memory");
        goto done;
    }
    w->config = config;
    w->host = *host;
    pthread_mutex_init(&w->lock, NULL);
    if (policy_load(config->witness_policy, POLICY_REQUIRE_URLS, &w->policy, why) != 0) {
        tlog_errorf(err, "witness_policy: %s", why);
        goto done;
    }
    if (policy_quorum_is_none(w->policy)) {
        faro_log(FARO_LOG_INFO, config->name, "witness_policy %s: quorum none, so no witnessing", config->witness_policy);
        rc = 0;
        goto done;
    }
    if (policy_log_count(w->policy) > 0 && policy_log_index(w->policy, log_key) < 0) {
        tlog_verifier_vkey(log_key, vkey, sizeof(vkey));
        tlog_errorf(err, "witness_policy %s lists logs, but not this log's key %s", config->witness_policy, vkey);
        goto done;
    }
    pthread_once(&curl_once, on_curl_once);
    if ((w->multi = curl_multi_init()) == NULL || (w->reader = malloc(sizeof(*w->reader))) == NULL) {
        tlog_errorf(err, "out of memory");
        goto done;
    }
    if (witness_endpoints_init(w, why) != 0) {
        tlog_errorf(err, "witness_policy %s: %s", config->witness_policy, why);
        goto done;
    }
    *out = w;
    w = NULL;
    rc = 0;

done:
    witness_free(w);
    return rc;
}

void witness_submit(witness_t *w, const char *checkpoint, size_t len)
{
    witness_checkpoint_t *cp = calloc(1, sizeof(*cp));
    if (cp == NULL || (cp->note = malloc(len)) == NULL)
        abort();
    memcpy(cp->note, checkpoint, len);
    cp->len = len;
    cp->refs = 1;
    cp->handed_ms = faro_monotonic_ms();
    cp->handed_s = (uint64_t)time(NULL);
    pthread_mutex_lock(&w->lock);
    witness_checkpoint_t *old = w->pending;
    w->pending = cp;
    pthread_mutex_unlock(&w->lock);
    if (old != NULL) {
        atomic_fetch_add(&w->metrics.checkpoints[WITNESS_SUPERSEDED], 1);
        witness_checkpoint_release(old);
    }
    curl_multi_wakeup(w->multi);
}

/* Parses the note handed over; 0, or -1 if it is not a checkpoint (never for the log's own). */
static int checkpoint_read(witness_checkpoint_t *cp, char *err)
{
    tlog_note_t *note;
    tlog_checkpoint_t parsed;
    if (tlog_note_parse(cp->note, cp->len, &note, err) != 0)
        return -1;
    int rc = tlog_checkpoint_parse(note->text, note->text_len, &parsed, err);
    cp->text_len = note->text_len;
    cp->size = parsed.size;
    tlog_note_free(note);
    return rc;
}

static void collection_begin(witness_t *w, witness_checkpoint_t *cp)
{
    char err[TLOG_ERR_MAX];
    if (checkpoint_read(cp, err) != 0) {
        faro_log(FARO_LOG_ERROR, w->config->name, "a checkpoint handed to the witness coordinator: %s", err);
        witness_checkpoint_release(cp);
        return;
    }
    witness_collection_t *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->eval = policy_eval_new(w->policy)) == NULL || (c->answered = calloc(w->nendpoints, 1)) == NULL)
        abort();
    c->checkpoint = cp;
    c->deadline_ms = faro_monotonic_ms() + w->config->witness_timeout_ms;
    w->collection = c;
}

/* Whether body, about to be published with a quorum, passes the check the gateway makes. */
static int quorum_confirmed(witness_t *w, const char *body, size_t len, char *err)
{
    tlog_note_t *note;
    if (tlog_note_parse(body, len, &note, err) != 0)
        return 0;
    int met = policy_note_meets_quorum(w->policy, note, (uint64_t)time(NULL), err);
    tlog_note_free(note);
    return met == 1;
}

static int publish(witness_t *w, const witness_collection_t *c, const tlog_buf_t *body, char *err)
{
    int rc = w->host.publish(w->host.ctx, (const char *)body->data, body->len, err);
    if (rc == TLOG_DURABLE_FATAL)
        faro_fatal(w->config->name, "publishing the cosigned checkpoint of size %" PRIu64 ": %s", c->checkpoint->size, err);
    if (rc != 0)
        return -1;
    witness_histogram_observe(&w->metrics.delay, faro_monotonic_ms() - c->checkpoint->handed_ms);
    atomic_store(&w->metrics.published_size, c->checkpoint->size);
    return 0;
}

static void collection_end(witness_t *w)
{
    witness_collection_t *c = w->collection;
    const witness_checkpoint_t *cp = c->checkpoint;
    tlog_buf_t body = TLOG_BUF_INIT;
    char err[TLOG_ERR_MAX] = "";
    int outcome = WITNESS_WITHHELD;

    tlog_buf_append(&body, cp->note, cp->len);
    tlog_buf_append(&body, c->lines.data, c->lines.len);
    int met = policy_eval_met(c->eval);
    if (met && !quorum_confirmed(w, (const char *)body.data, body.len, err)) {
        faro_log(FARO_LOG_ERROR, w->config->name, "checkpoint %" PRIu64 ": the gathered cosignatures fail the quorum check: %s",
                 cp->size, err);
        met = 0;
    }
    if (met || w->config->witness_fail_open) {
        if (publish(w, c, &body, err) == 0)
            outcome = met ? WITNESS_PUBLISHED_QUORUM : WITNESS_PUBLISHED_NO_QUORUM;
        else
            faro_log(FARO_LOG_ERROR, w->config->name, "publishing checkpoint %" PRIu64 ": %s", cp->size, err);
    }
    atomic_fetch_add(&w->metrics.checkpoints[outcome], 1);
    if (!met && !w->quorum_lost)
        faro_log(FARO_LOG_WARN, w->config->name, "checkpoint %" PRIu64 ": %zu of %zu witnesses cosigned, short of the quorum: %s",
                 cp->size, c->ncosigned, w->nendpoints,
                 w->config->witness_fail_open ? "fail-open, published without it" : "fail-closed, the older checkpoint stays");
    else if (met && w->quorum_lost)
        faro_log(FARO_LOG_INFO, w->config->name, "checkpoint %" PRIu64 ": the quorum is met again (%zu of %zu witnesses)", cp->size,
                 c->ncosigned, w->nendpoints);
    w->quorum_lost = !met;
    tlog_buf_free(&body);
    tlog_buf_free(&c->lines);
    policy_eval_free(c->eval);
    free(c->answered);
    witness_checkpoint_release(c->checkpoint);
    free(c);
    w->collection = NULL;
}

void witness_collection_answer(witness_t *w, witness_endpoint_t *e, const witness_checkpoint_t *cp, const tlog_buf_t *lines,
                               const uint8_t *key_signed)
{
    witness_collection_t *c = w->collection;
    size_t i = (size_t)(e - w->endpoints);
    if (c == NULL || c->checkpoint != cp || c->answered[i])
        return;
    c->answered[i] = 1;
    c->nanswered++;
    if (lines != NULL) {
        tlog_buf_append(&c->lines, lines->data, lines->len);
        c->ncosigned++;
        for (size_t k = 0; k < e->nkeys; k++)
            if (key_signed[k])
                policy_eval_add(c->eval, e->members[k]);
    }
    if ((policy_eval_met(c->eval) && !w->config->witness_greedy) || c->nanswered == w->nendpoints)
        collection_end(w);
}

/* Sends the collection's checkpoint to every idle witness that has not answered it yet. */
static void dispatch(witness_t *w)
{
    for (size_t i = 0; i < w->nendpoints && w->collection != NULL; i++) {
        witness_endpoint_t *e = &w->endpoints[i];
        if (e->checkpoint == NULL && !w->collection->answered[i])
            witness_endpoint_send(e, w->collection->checkpoint, 0);
    }
}

static void load_sizes(witness_t *w)
{
    char err[TLOG_ERR_MAX];
    for (size_t i = 0; i < w->nendpoints; i++) {
        witness_endpoint_t *e = &w->endpoints[i];
        uint64_t size = 0;
        int found = w->host.load_size(w->host.ctx, e->url, &size, err);
        if (found < 0)
            faro_log(FARO_LOG_WARN, w->config->name, "reading the size witness %s last cosigned: %s; asking from 0", e->label, err);
        e->old_size = e->stored_size = found == 1 ? size : 0;
        atomic_store(&e->metrics.cosigned_size, e->old_size);
    }
}

static void *coordinator_main(void *arg)
{
    witness_t *w = arg;
    load_sizes(w);
    for (;;) {
        pthread_mutex_lock(&w->lock);
        witness_checkpoint_t *next = NULL;
        int newer = w->pending != NULL;
        if (w->collection == NULL) {
            next = w->pending;
            w->pending = NULL;
        }
        int stopping = w->stopping;
        pthread_mutex_unlock(&w->lock);
        /* Greedy waits for every witness, but not once the quorum is met and a newer checkpoint is waiting. */
        if (w->collection != NULL && newer && policy_eval_met(w->collection->eval)) {
            collection_end(w);
            continue;
        }
        if (next != NULL)
            collection_begin(w, next);
        if (w->collection == NULL && next == NULL && stopping)
            break;
        dispatch(w);

        int wait = IDLE_WAIT_MS, running;
        uint64_t now = faro_monotonic_ms();
        if (w->collection != NULL)
            wait = w->collection->deadline_ms > now ? (int)(w->collection->deadline_ms - now) : 0;
        curl_multi_poll(w->multi, NULL, 0, wait, NULL);
        curl_multi_perform(w->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
            witness_endpoint_t *e;
            if (msg->msg != CURLMSG_DONE || curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&e) != CURLE_OK)
                continue;
            witness_endpoint_done(e, msg->data.result);
        }
        if (w->collection != NULL && faro_monotonic_ms() >= w->collection->deadline_ms)
            collection_end(w);
        for (size_t i = 0; i < w->nendpoints && w->collection == NULL; i++)
            witness_endpoint_store_size(&w->endpoints[i]);
    }
    return NULL;
}

int witness_start(witness_t *w, char *err)
{
    if (pthread_create(&w->thread, NULL, coordinator_main, w) != 0)
        return tlog_errorf(err, "cannot start the witness coordinator's thread");
    w->started = 1;
    return 0;
}

void witness_stop(witness_t *w)
{
    if (w == NULL || !w->started)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_mutex_unlock(&w->lock);
    curl_multi_wakeup(w->multi);
    pthread_join(w->thread, NULL);
    w->started = 0;
}

void witness_free(witness_t *w)
{
    if (w == NULL)
        return;
    witness_stop(w);
    witness_endpoints_free(w);
    witness_checkpoint_release(w->pending);
    curl_multi_cleanup(w->multi);
    free(w->reader);
    policy_free(w->policy);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
