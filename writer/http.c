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
#include "writer/http.h"

#define BODY_MAX (512 * 1024)

typedef struct http_thread {
    writer_http_t *http;
    pthread_t tid;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int listen_fd;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t answers;
    dedup_t **readers; /* one per log */
} http_thread_t;

struct writer_http {
    h2o_globalconf_t globalconf;
    writer_log_t **logs;
    size_t nlogs;
    char **paths; /* each log's submission path, without trailing slash ("" for the root) */
    int listen_fd;
    http_thread_t *threads;
    unsigned nthreads;
    atomic_int closing, stopping;
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
    http_thread_t *thread = H2O_STRUCT_FROM_MEMBER(http_thread_t, ctx, req->conn->ctx);
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

static void on_accept(h2o_socket_t *listener, const char *err)
{
    http_thread_t *thread = listener->data;
    if (err != NULL)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock != NULL)
        h2o_accept(&thread->accept_ctx, sock);
}

static void *thread_main(void *arg)
{
    http_thread_t *thread = arg;
    writer_http_t *http = thread->http;

    thread->loop = h2o_evloop_create();
    h2o_context_init(&thread->ctx, thread->loop, &http->globalconf);
    thread->accept_ctx.ctx = &thread->ctx;
    thread->accept_ctx.hosts = http->globalconf.hosts;
    thread->queue = h2o_multithread_create_queue(thread->loop);
    h2o_multithread_register_receiver(thread->queue, &thread->answers, on_answers);
    thread->listener = h2o_evloop_socket_create(thread->loop, thread->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    thread->listener->data = thread;
    h2o_socket_read_start(thread->listener, on_accept);

    while (!atomic_load(&http->stopping)) {
        if (atomic_load(&http->closing) && thread->listener != NULL) {
            h2o_socket_read_stop(thread->listener);
            h2o_socket_close(thread->listener);
            thread->listener = NULL;
        }
        h2o_evloop_run(thread->loop, 50);
    }
    return NULL;
}

static int listen_on(const char *address, char *err)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= sizeof(host))
        return tlog_errorf(err, "writer.listen: %s is not host:port", address);
    const char *h = address;
    size_t hlen = (size_t)(colon - address);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE}, *res;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai != 0)
        return tlog_errorf(err, "writer.listen: %s: %s", address, gai_strerror(gai));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        tlog_errorf(err, "writer.listen: %s: %s", address, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* The path part of a prefix URL: "http://host:port/a/b" -> "/a/b", "http://host" -> "". */
static char *prefix_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? strchr(p + 3, '/') : NULL;
    return strdup(p != NULL ? p : "");
}

int writer_http_start(const faro_config_t *config, writer_log_t **logs, size_t nlogs, unsigned threads, writer_http_t **out,
                      char *err)
{
    writer_http_t *http = calloc(1, sizeof(*http));
    if (http == NULL)
        abort();
    http->logs = logs;
    http->nlogs = nlogs;
    http->paths = calloc(nlogs, sizeof(char *));
    for (size_t i = 0; i < nlogs; i++)
        http->paths[i] = prefix_path(writer_log_config(logs[i])->submission_prefix);
    if ((http->listen_fd = listen_on(config->writer.listen, err)) < 0) {
        for (size_t i = 0; i < nlogs; i++)
            free(http->paths[i]);
        free(http->paths);
        free(http);
        return -1;
    }

    h2o_config_init(&http->globalconf);
    http->globalconf.max_request_entity_size = BODY_MAX;
    h2o_hostconf_t *host = h2o_config_register_host(&http->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *root = h2o_config_register_path(host, "/", 0);
    writer_handler_t *handler = (writer_handler_t *)h2o_create_handler(root, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->http = http;

    http->nthreads = threads;
    http->threads = calloc(threads, sizeof(http_thread_t));
    /* Everything that can fail happens before the first thread starts. */
    for (unsigned t = 0; t < threads; t++) {
        http_thread_t *thread = &http->threads[t];
        thread->http = http;
        thread->listen_fd = dup(http->listen_fd);
        thread->readers = calloc(nlogs, sizeof(dedup_t *));
        for (size_t i = 0; i < nlogs; i++)
            if (writer_log_open_reader(logs[i], &thread->readers[i], err) != 0)
                return -1; /* the caller stops the process: nothing is serving yet */
    }
    for (unsigned t = 0; t < threads; t++)
        pthread_create(&http->threads[t].tid, NULL, thread_main, &http->threads[t]);
    faro_log(FARO_LOG_INFO, "faro-writer", "listening on %s with %u threads", config->writer.listen, threads);
    *out = http;
    return 0;
}

void writer_http_close_listeners(writer_http_t *http)
{
    atomic_store(&http->closing, 1);
}

void writer_http_free(writer_http_t *http)
{
    if (http == NULL)
        return;
    atomic_store(&http->closing, 1);
    /* Every log has stopped: its answers are queued; give the loops time to send them. */
    for (int i = 0; i < 100 && atomic_load(&http->pending) > 0; i++)
        usleep(50 * 1000);
    usleep(100 * 1000);
    atomic_store(&http->stopping, 1);
    for (unsigned t = 0; t < http->nthreads; t++) {
        http_thread_t *thread = &http->threads[t];
        pthread_join(thread->tid, NULL);
        for (size_t i = 0; i < http->nlogs; i++)
            dedup_close(thread->readers[i]);
        free(thread->readers);
    }
    close(http->listen_fd);
    for (size_t i = 0; i < http->nlogs; i++)
        free(http->paths[i]);
    free(http->paths);
    free(http->threads);
    free(http);
}
