/*
 * faro-writer's HTTP server on libh2o's evloop: one loop per thread, each on
 * its own dup of the listening socket.
 *
 * A queued submission becomes a ticket: the log's sequencer calls the
 * ticket's waiter from its own thread, which copies the answer and posts the
 * ticket to the request's loop; that loop answers the request if it still
 * exists. The request's memory pool holds a link back to the ticket whose
 * dispose callback clears the ticket's request pointer, so a client that
 * hangs up never leaves the answer writing to freed memory. Both the
 * dispose callback and the answer run on the request's loop thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "config/log.h"
#include "tlog/error.h"
#include "server/server.h"
#include "writer/http.h"

#define BODY_MAX (512 * 1024)

typedef struct http_thread {
    writer_http_t *http;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t answers;
    dedup_t **readers; /* one per log */
} http_thread_t;

struct writer_http {
    h2o_globalconf_t globalconf;
    writer_log_t **logs;
    size_t nlogs;
    char **paths; /* each log's submission path, without trailing slash ("" for the root) */
    server_t *server;
    http_thread_t *threads; /* one per server thread, by index */
    unsigned nthreads;
    atomic_long pending; /* tickets not yet answered */
};

typedef struct writer_handler {
    h2o_handler_t super;
    writer_http_t *http;
} writer_handler_t;

typedef struct ticket_link ticket_link_t;

typedef struct ticket {
    writer_waiter_t waiter; /* first, so the waiter is the ticket */
    h2o_multithread_message_t message;
    http_thread_t *thread;
    h2o_req_t *req; /* NULL once the request is gone */
    ticket_link_t *link;
    writer_log_t *log;
    int precert;
    int status;
    char *body;
    size_t len;
} ticket_t;

struct ticket_link {
    ticket_t *ticket;
};

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, strlen(value));
}

/* For headers h2o 2.2 has no token for. */
static void add_header_by_name(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, value, strlen(value));
}

static void respond(h2o_req_t *req, int status, const char *reason, const char *content_type, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason;
    add_header(req, H2O_TOKEN_CONTENT_TYPE, content_type);
    add_header(req, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    h2o_send_inline(req, body, len);
}

/* A plain-text error: the message and a newline. */
static void respond_error(h2o_req_t *req, int status, const char *reason, const char *message)
{
    size_t len = strlen(message);
    char *body = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(body, message, len);
    body[len] = '\n';
    respond(req, status, reason, "text/plain; charset=utf-8", body, len + 1);
}

static void respond_unavailable(h2o_req_t *req, const char *message)
{
    char seconds[8];
    snprintf(seconds, sizeof(seconds), "%d", 1 + rand() % 5);
    add_header(req, H2O_TOKEN_RETRY_AFTER, seconds);
    respond_error(req, 503, "Service Unavailable", message);
}

static void on_link_dispose(void *p)
{
    ticket_link_t *link = p;
    if (link->ticket != NULL)
        link->ticket->req = NULL;
}

/* Sequencer thread: keep the answer and hand the ticket to the request's loop. */
static void on_waiter_result(writer_waiter_t *waiter, int status, const char *body, size_t len)
{
    ticket_t *t = (ticket_t *)waiter;
    t->status = status;
    t->body = malloc(len ? len : 1);
    if (t->body == NULL)
        abort();
    memcpy(t->body, body, len);
    t->len = len;
    h2o_multithread_send_message(&t->thread->answers, &t->message);
}

/* The request's loop thread. */
static void on_answers(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *message = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&message->link);
        ticket_t *t = H2O_STRUCT_FROM_MEMBER(ticket_t, message, message);
        int accepted = t->status == 200;
        writer_log_count_submission(t->log, t->precert, accepted ? WRITER_OUTCOME_ACCEPTED : WRITER_OUTCOME_UNAVAILABLE);
        if (t->req != NULL) {
            t->link->ticket = NULL;
            if (accepted) {
                char *body = h2o_mem_alloc_pool(&t->req->pool, t->len);
                memcpy(body, t->body, t->len);
                respond(t->req, 200, "OK", "application/json", body, t->len);
            } else {
                char *message_text = h2o_mem_alloc_pool(&t->req->pool, t->len + 1);
                memcpy(message_text, t->body, t->len);
                message_text[t->len] = '\0';
                respond_unavailable(t->req, message_text);
            }
        }
        atomic_fetch_sub(&t->thread->http->pending, 1);
        free(t->body);
        free(t);
    }
}

static int method_is(h2o_req_t *req, const char *method)
{
    return h2o_memis(req->method.base, req->method.len, method, strlen(method));
}

/* A submission says it is JSON, or says nothing (RFC 6962 clients that omit the header still work). */
static int content_type_is_json(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return 1;
    h2o_iovec_t type = req->headers.entries[i].value;
    static const char json[] = "application/json";
    return type.len >= sizeof(json) - 1 && h2o_lcstris(type.base, sizeof(json) - 1, json, sizeof(json) - 1) &&
           (type.len == sizeof(json) - 1 || type.base[sizeof(json) - 1] == ';' || type.base[sizeof(json) - 1] == ' ');
}

static size_t log_index(http_thread_t *thread, writer_log_t *log)
{
    size_t i = 0;
    while (thread->http->logs[i] != log)
        i++;
    return i;
}

static void submit_or_reply(http_thread_t *thread, writer_log_t *log, int precert, h2o_req_t *req)
{
    char err[TLOG_ERR_MAX];
    chain_request_t request;
    chain_result_t chain;

    if (req->entity.base == NULL) {
        writer_log_count_submission(log, precert, WRITER_OUTCOME_REJECTED);
        respond_error(req, 400, "Bad Request", "the request has no body; send {\"chain\":[...]}");
        return;
    }
    if (chain_request_parse(req->entity.base, req->entity.len, &request, err) != CHAIN_OK) {
        writer_log_count_submission(log, precert, WRITER_OUTCOME_REJECTED);
        respond_error(req, 400, "Bad Request", err);
        return;
    }
    int valid = writer_log_validate(log, precert, &request, time(NULL), &chain, err);
    chain_request_free(&request);
    if (valid != CHAIN_OK) {
        int internal = valid == CHAIN_INTERNAL;
        writer_log_count_submission(log, precert, internal ? WRITER_OUTCOME_FAILED : WRITER_OUTCOME_REJECTED);
        if (internal)
            faro_log(FARO_LOG_ERROR, writer_log_config(log)->name, "validating a chain: %s", err);
        respond_error(req, internal ? 500 : 400, internal ? "Internal Server Error" : "Bad Request", err);
        return;
    }

    ticket_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    t->waiter.on_result = on_waiter_result;
    t->thread = thread;
    t->req = req;
    t->log = log;
    t->precert = precert;
    t->link = h2o_mem_alloc_shared(&req->pool, sizeof(*t->link), on_link_dispose);
    t->link->ticket = t;
    atomic_fetch_add(&thread->http->pending, 1);

    char *sct = NULL;
    size_t sct_len;
    int queued = writer_log_submit(log, thread->readers[log_index(thread, log)], &chain, &t->waiter, &sct, &sct_len, err);
    chain_result_free(&chain);
    if (queued == WRITER_QUEUED)
        return;
    /* Answered here: the ticket was never handed to the log. */
    t->link->ticket = NULL;
    atomic_fetch_sub(&thread->http->pending, 1);
    free(t);
    switch (queued) {
    case WRITER_DUPLICATE:
        writer_log_count_submission(log, precert, WRITER_OUTCOME_DUPLICATE);
        respond(req, 200, "OK", "application/json", h2o_strdup(&req->pool, sct, sct_len).base, sct_len);
        free(sct);
        break;
    case WRITER_POOL_FULL:
        writer_log_count_submission(log, precert, WRITER_OUTCOME_UNAVAILABLE);
        respond_unavailable(req, "the log's pool is full; retry after the next sequencing round");
        break;
    case WRITER_STOPPING:
        writer_log_count_submission(log, precert, WRITER_OUTCOME_UNAVAILABLE);
        respond_unavailable(req, "the log is shutting down");
        break;
    case WRITER_THROTTLED:
        writer_log_count_submission(log, precert, WRITER_OUTCOME_UNAVAILABLE);
        respond_unavailable(req, "too many submissions of long-issued certificates (rate_limit_old_not_before); retry later");
        break;
    default:
        writer_log_count_submission(log, precert, WRITER_OUTCOME_FAILED);
        faro_log(FARO_LOG_ERROR, writer_log_config(log)->name, "queueing a submission: %s", err);
        respond_error(req, 500, "Internal Server Error", "internal error; nothing was logged");
        break;
    }
}

static void metrics_reply(writer_http_t *http, h2o_req_t *req)
{
    tlog_buf_t text = TLOG_BUF_INIT;
    for (size_t i = 0; i < http->nlogs; i++)
        writer_log_metrics(http->logs[i], &text);
    writer_process_metrics(&text);
    char *body = h2o_mem_alloc_pool(&req->pool, text.len ? text.len : 1);
    memcpy(body, text.data, text.len);
    respond(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, text.len);
    tlog_buf_free(&text);
}

/* Routes and answers one log's /ct/v1/<endpoint>. */
static void ct_endpoint_reply(http_thread_t *thread, writer_log_t *log, const char *endpoint, size_t len, h2o_req_t *req)
{
    int add_chain = h2o_memis(endpoint, len, H2O_STRLIT("add-chain"));
    int add_pre_chain = h2o_memis(endpoint, len, H2O_STRLIT("add-pre-chain"));
    if (add_chain || add_pre_chain) {
        if (method_is(req, "OPTIONS")) {
            add_header_by_name(req, "access-control-allow-headers", "Content-Type");
            add_header_by_name(req, "access-control-allow-methods", "POST, OPTIONS");
            respond(req, 204, "No Content", "text/plain", "", 0);
        } else if (!method_is(req, "POST")) {
            add_header(req, H2O_TOKEN_ALLOW, "POST, OPTIONS");
            respond_error(req, 405, "Method Not Allowed", "use POST");
        } else if (!content_type_is_json(req)) {
            writer_log_count_submission(log, add_pre_chain, WRITER_OUTCOME_REJECTED);
            respond_error(req, 415, "Unsupported Media Type", "the body must be JSON: send Content-Type: application/json");
        } else {
            submit_or_reply(thread, log, add_pre_chain, req);
        }
        return;
    }
    if (h2o_memis(endpoint, len, H2O_STRLIT("get-roots"))) {
        if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
            add_header(req, H2O_TOKEN_ALLOW, "GET, HEAD");
            respond_error(req, 405, "Method Not Allowed", "use GET");
            return;
        }
        size_t json_len;
        char *json = writer_log_roots_json(log, &json_len);
        respond(req, 200, "OK", "application/json", h2o_strdup(&req->pool, json, json_len).base, json_len);
        free(json);
        return;
    }
    respond_error(req, 404, "Not Found", "no such endpoint: faro-writer serves add-chain, add-pre-chain and get-roots");
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    writer_http_t *http = ((writer_handler_t *)self)->http;
    server_thread_t *server_thread = H2O_STRUCT_FROM_MEMBER(server_thread_t, ctx, req->conn->ctx);
    http_thread_t *thread = &http->threads[server_thread->index];
    h2o_iovec_t path = req->path_normalized;

    if (h2o_memis(path.base, path.len, H2O_STRLIT("/metrics"))) {
        metrics_reply(http, req);
        return 0;
    }
    for (size_t i = 0; i < http->nlogs; i++) {
        size_t prefix_len = strlen(http->paths[i]);
        static const char ct[] = "/ct/v1/";
        if (path.len > prefix_len + sizeof(ct) - 1 && memcmp(path.base, http->paths[i], prefix_len) == 0 &&
            memcmp(path.base + prefix_len, ct, sizeof(ct) - 1) == 0) {
            size_t skip = prefix_len + sizeof(ct) - 1;
            ct_endpoint_reply(thread, http->logs[i], path.base + skip, path.len - skip, req);
            return 0;
        }
    }
    respond_error(req, 404, "Not Found", "not found");
    return 0;
}

/* On each server thread before its loop runs: the queue the sequencers answer through. */
static void on_thread_start(server_thread_t *server_thread, void *data)
{
    writer_http_t *http = data;
    http_thread_t *thread = &http->threads[server_thread->index];
    thread->queue = h2o_multithread_create_queue(server_thread->loop);
    h2o_multithread_register_receiver(thread->queue, &thread->answers, on_answers);
}

int writer_http_start(const faro_config_t *config, writer_log_t **logs, size_t nlogs, unsigned threads, writer_http_t **out,
                      char *err)
{
    int listen_fd = server_listen(config->writer.listen, "writer.listen", err);
    if (listen_fd < 0)
        return -1;
    writer_http_t *http = calloc(1, sizeof(*http));
    if (http == NULL || (http->paths = calloc(nlogs, sizeof(char *))) == NULL ||
        (http->threads = calloc(threads, sizeof(http_thread_t))) == NULL)
        abort();
    http->logs = logs;
    http->nlogs = nlogs;
    for (size_t i = 0; i < nlogs; i++)
        http->paths[i] = server_url_path(writer_log_config(logs[i])->submission_prefix);

    h2o_config_init(&http->globalconf);
    http->globalconf.max_request_entity_size = BODY_MAX;
    h2o_hostconf_t *host = h2o_config_register_host(&http->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *root = h2o_config_register_path(host, "/", 0);
    writer_handler_t *handler = (writer_handler_t *)h2o_create_handler(root, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->http = http;

    http->nthreads = threads;
    /* Everything that can fail happens before the first thread starts. */
    for (unsigned t = 0; t < threads; t++) {
        http_thread_t *thread = &http->threads[t];
        thread->http = http;
        thread->readers = calloc(nlogs, sizeof(dedup_t *));
        for (size_t i = 0; i < nlogs; i++)
            if (writer_log_open_reader(logs[i], &thread->readers[i], err) != 0)
                return -1; /* the caller stops the process: nothing is serving yet */
    }
    server_listener_t listener = {.fd = listen_fd, .hosts = http->globalconf.hosts};
    http->server = server_new(&http->globalconf, &listener, 1, threads);
    server_run(http->server, on_thread_start, http);
    faro_log(FARO_LOG_INFO, "faro-writer", "listening on %s with %u threads", config->writer.listen, threads);
    *out = http;
    return 0;
}

void writer_http_close_listeners(writer_http_t *http)
{
    server_close_listeners(http->server);
}

void writer_http_free(writer_http_t *http)
{
    if (http == NULL)
        return;
    server_close_listeners(http->server);
    /* Every log has stopped: its answers are queued; give the loops time to send them. */
    for (int i = 0; i < 100 && atomic_load(&http->pending) > 0; i++)
        usleep(50 * 1000);
    usleep(100 * 1000);
    server_free(http->server);
    for (unsigned t = 0; t < http->nthreads; t++) {
        for (size_t i = 0; i < http->nlogs; i++)
            dedup_close(http->threads[t].readers[i]);
        free(http->threads[t].readers);
    }
    for (size_t i = 0; i < http->nlogs; i++)
        free(http->paths[i]);
    free(http->paths);
    free(http->threads);
    free(http);
}
