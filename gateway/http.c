/*
 * faro-gateway's public request path: find the log, name the resource by
 * the static-ct-api grammar, apply the rate limits, and answer from
 * storage with the headers monitors and browsers rely on.
 *
 * Files come whole from the thread's file cache (file_cache.h) and are sent
 * in one piece: tiles are at most a few hundred KiB, and a file the writer
 * renames into place is complete, so nothing is served half-written. Every
 * response, errors included, carries CORS; errors are never cacheable, so a
 * 404 for a tile that does not exist yet is not remembered by a CDN.
 *
 * Metrics are taken by an h2o logger when the response is done, which is
 * the only point where its full duration and size are known.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/clock.h"
#include "config/log.h"
#include "gateway/client.h"
#include "gateway/file_cache.h"
#include "gateway/files.h"
#include "gateway/ct_api.h"
#include "gateway/gateway.h"
#include "gateway/internal.h"
#include "gateway/route.h"
#include "gateway/send_file.h"

typedef struct gateway_logger {
    h2o_logger_t super;
    gateway_t *gw;
} gateway_logger_t;

/* A request as the handler and the logger both see it. */
typedef struct request_view {
    h2o_iovec_t path; /* without the query */
    gateway_log_t *log;
    const char *rel; /* the path after the log's prefix */
    size_t rel_len;
    gateway_kind_t kind;
    tlog_tile_t tile;
    h2o_iovec_t user_agent; /* {NULL, 0} when absent */
} request_view_t;

gateway_log_t *gateway_find_log(gateway_t *gw, const char *path, size_t len, const char **rel, size_t *rel_len)
{
    gateway_log_t *best = NULL;
    for (size_t i = 0; i < gw->nlogs; i++) {
        gateway_log_t *log = &gw->logs[i];
        if (len >= log->path_len && memcmp(path, log->path, log->path_len) == 0 &&
            (len == log->path_len || path[log->path_len] == '/') && (best == NULL || log->path_len > best->path_len))
            best = log;
    }
    if (best != NULL) {
        *rel = path + best->path_len;
        *rel_len = len - best->path_len;
    }
    return best;
}

static request_view_t view_request(gateway_t *gw, h2o_req_t *req)
{
    request_view_t v = {.kind = GATEWAY_KIND_OTHER};
    v.path = h2o_iovec_init(req->path.base, req->query_at != SIZE_MAX ? req->query_at : req->path.len);
    ssize_t ua = h2o_find_header(&req->headers, H2O_TOKEN_USER_AGENT, -1);
    if (ua >= 0)
        v.user_agent = req->headers.entries[ua].value;
    if (h2o_memis(v.path.base, v.path.len, H2O_STRLIT("/health")))
        v.kind = GATEWAY_KIND_HEALTH;
    else if (h2o_memis(v.path.base, v.path.len, H2O_STRLIT("/metrics")))
        v.kind = GATEWAY_KIND_METRICS;
    else if ((v.log = gateway_find_log(gw, v.path.base, v.path.len, &v.rel, &v.rel_len)) != NULL) {
        gateway_route_t route = gateway_route(v.rel, v.rel_len);
        v.kind = route.kind;
        v.tile = route.tile;
    } else if (h2o_memis(v.path.base, v.path.len, H2O_STRLIT("/")))
        v.kind = GATEWAY_KIND_PAGE;
    return v;
}

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, strlen(value));
}

/* For headers h2o 2.2 has no token for. */
static void add_header_by_name(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, value, strlen(value));
}

int gateway_request_is_head(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

void gateway_respond_start(h2o_req_t *req, int status, const char *reason, const char *content_type, const char *cache_control,
                           size_t len, h2o_generator_t *generator)
{
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = len;
    add_header(req, H2O_TOKEN_CONTENT_TYPE, content_type);
    add_header(req, H2O_TOKEN_CACHE_CONTROL, cache_control);
    add_header(req, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    add_header_by_name(req, "x-content-type-options", "nosniff");
    h2o_start_response(req, generator);
}

void gateway_respond(h2o_req_t *req, int status, const char *reason, const char *content_type, const char *cache_control,
                     const char *body, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    gateway_respond_start(req, status, reason, content_type, cache_control, len, &generator);
    h2o_iovec_t buf = h2o_iovec_init(body, len);
    /* h2o 2.2 sends whatever it is given; a HEAD answer has the length and no body. */
    h2o_send(req, &buf, gateway_request_is_head(req) ? 0 : 1, H2O_SEND_STATE_FINAL);
}

void gateway_respond_text(h2o_req_t *req, int status, const char *reason, const char *message)
{
    size_t len = strlen(message);
    char *body = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(body, message, len);
    body[len] = '\n';
    gateway_respond(req, status, reason, "text/plain; charset=utf-8", "no-store", body, len + 1);
}

void gateway_respond_buf(h2o_req_t *req, int status, const char *reason, const char *content_type, tlog_buf_t *text)
{
    char *body = h2o_mem_alloc_pool(&req->pool, text->len ? text->len : 1);
    memcpy(body, text->data, text->len);
    gateway_respond(req, status, reason, content_type, "no-store", body, text->len);
    tlog_buf_free(text);
}

static void respond_not_found(h2o_req_t *req)
{
    gateway_respond_text(req, 404, "Not Found", "not found");
}

static void respond_limited(h2o_req_t *req, uint64_t wait_ns, const char *message)
{
    char seconds[24];
    snprintf(seconds, sizeof(seconds), "%lu", (unsigned long)((wait_ns + 999999999u) / 1000000000u));
    add_header(req, H2O_TOKEN_RETRY_AFTER, seconds);
    gateway_respond_text(req, 429, "Too Many Requests", message);
}

static const char *content_type_of(gateway_kind_t kind)
{
    switch (kind) {
    case GATEWAY_KIND_CHECKPOINT:
        return "text/plain; charset=utf-8";
    case GATEWAY_KIND_LOG_JSON:
        return "application/json";
    case GATEWAY_KIND_ISSUER:
        return "application/pkix-cert";
    default:
        return "application/octet-stream";
    }
}

static const char *cache_control_of(gateway_kind_t kind)
{
    switch (kind) {
    case GATEWAY_KIND_CHECKPOINT:
        return "no-store";
    case GATEWAY_KIND_LOG_JSON:
    case GATEWAY_KIND_PARTIAL_TILE:
        return GATEWAY_CACHE_SHORT;
    default:
        return GATEWAY_CACHE_IMMUTABLE;
    }
}

/* Whether a partial tile last modified at mtime is still inside partial_tile_grace. */
static int partial_tile_is_new(gateway_t *gw, const struct timespec *mtime)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t age_ms = (int64_t)(wall.tv_sec - mtime->tv_sec) * 1000 + (wall.tv_nsec - mtime->tv_nsec) / 1000000;
    return age_ms < (int64_t)gw->config->gateway.partial_tile_grace_ms;
}

/*
 * The rate limits of a resource of kind (checkpoint and log.v3.json have
 * none); mtime is the file's, for partial tiles. 0 if admitted, else the
 * nanoseconds to wait and *message set.
 */
static uint64_t rate_limit(gateway_t *gw, h2o_req_t *req, gateway_kind_t kind, const struct timespec *mtime, unsigned thread,
                           const char **message)
{
    if (kind == GATEWAY_KIND_CHECKPOINT || kind == GATEWAY_KIND_LOG_JSON)
        return 0;
    uint64_t now = faro_monotonic_ns(), wait;
    int new_partial = kind == GATEWAY_KIND_PARTIAL_TILE && mtime != NULL && partial_tile_is_new(gw, mtime);
    ssize_t ua = h2o_find_header(&req->headers, H2O_TOKEN_USER_AGENT, -1);
    h2o_iovec_t agent = ua >= 0 ? req->headers.entries[ua].value : h2o_iovec_init(NULL, 0);
    uint8_t key[GCRA_KEY_BYTES];
    if (gw->per_client != NULL || new_partial) {
        struct sockaddr_storage peer;
        socklen_t peer_len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&peer);
        client_key(agent.base, agent.len, peer_len > 0 ? (const struct sockaddr *)&peer : NULL, key);
    }

    if (gw->per_client != NULL && (wait = gcra_table_admit(gw->per_client, key, now)) != 0) {
        gateway_metrics_limited(gw->metrics, thread, GATEWAY_LIMIT_PER_CLIENT);
        *message = "rate limited: too many requests from this client (User-Agent and network); slow down";
        return wait;
    }
    if (client_classify(agent.base, agent.len) == CLIENT_ANONYMOUS && (wait = gcra_admit(gw->anonymous, now)) != 0) {
        gateway_metrics_limited(gw->metrics, thread, GATEWAY_LIMIT_ANONYMOUS);
        *message = "rate limited: put a contact (an e-mail address or an https:// URL) in your User-Agent for unthrottled access";
        return wait;
    }
    if (new_partial && (wait = gcra_table_admit(gw->partial, key, now)) != 0) {
        gateway_metrics_limited(gw->metrics, thread, GATEWAY_LIMIT_PARTIAL_TILE);
        *message = "rate limited: this partial tile is new; poll it less often, or fetch the full tile once it exists";
        return wait;
    }
    return 0;
}

int gateway_admit_or_reply(gateway_t *gw, h2o_req_t *req, gateway_kind_t as, const struct timespec *mtime, unsigned thread)
{
    const char *message;
    uint64_t wait = rate_limit(gw, req, as, mtime, thread, &message);
    if (wait != 0)
        respond_limited(req, wait, message);
    return wait == 0;
}

static void respond_read_error(h2o_req_t *req, const request_view_t *v, int error)
{
    faro_log(FARO_LOG_ERROR, v->log->config->name, "reading %.*s: %s", (int)v->rel_len, v->rel, strerror(error));
    gateway_respond_text(req, 500, "Internal Server Error", "internal error");
}

static void serve_file_or_reply(gateway_t *gw, h2o_req_t *req, const request_view_t *v, unsigned thread)
{
    h2o_iovec_t path = h2o_strdup(&req->pool, v->rel + 1, v->rel_len - 1); /* NUL-terminated */
    int immutable = v->kind == GATEWAY_KIND_HASH_TILE || v->kind == GATEWAY_KIND_DATA_TILE || v->kind == GATEWAY_KIND_ISSUER;
    file_cache_file_t file;
    /* Limits come before the read, so a refused request costs no disk, pool or cache; a partial tile's needs its mtime. */
    int partial = v->kind == GATEWAY_KIND_PARTIAL_TILE;
    if (!partial && !gateway_admit_or_reply(gw, req, v->kind, NULL, thread))
        return;
    if (file_cache_get(gw->file_caches[thread], &req->pool, (size_t)(v->log - gw->logs), v->log->storage_fd, path.base, immutable,
                       GATEWAY_FILE_MAX, &file) != 0) {
        if (errno == ENOENT)
            respond_not_found(req);
        else
            respond_read_error(req, v, errno);
        return;
    }
    if (partial && !gateway_admit_or_reply(gw, req, v->kind, &file.mtime, thread))
        return;
    int data_tile = v->kind == GATEWAY_KIND_DATA_TILE || (partial && v->tile.level == TLOG_TILE_DATA);
    if (data_tile && file.gzip)
        add_header(req, H2O_TOKEN_CONTENT_ENCODING, "gzip");
    if (file.body != NULL)
        gateway_respond(req, 200, "OK", content_type_of(v->kind), cache_control_of(v->kind), file.body, file.len);
    else if (gateway_respond_file(req, 200, "OK", content_type_of(v->kind), cache_control_of(v->kind), file.fd, file.len) != 0)
        respond_read_error(req, v, errno);
}

static int method_is(h2o_req_t *req, const char *method)
{
    return h2o_memis(req->method.base, req->method.len, method, strlen(method));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    gateway_t *gw = ((gateway_handler_t *)self)->gw;
    server_thread_t *loop = H2O_STRUCT_FROM_MEMBER(server_thread_t, ctx, req->conn->ctx);
    unsigned thread = loop->index;
    request_view_t v = view_request(gw, req);

    if (method_is(req, "OPTIONS")) {
        add_header_by_name(req, "access-control-allow-methods", "GET, HEAD, OPTIONS");
        add_header_by_name(req, "access-control-allow-headers", "*");
        add_header_by_name(req, "access-control-max-age", "86400");
        gateway_respond(req, 204, "No Content", "text/plain; charset=utf-8", "no-store", "", 0);
        return 0;
    }
    if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
        add_header(req, H2O_TOKEN_ALLOW, "GET, HEAD, OPTIONS");
        gateway_respond_text(req, 405, "Method Not Allowed", "method not allowed: the gateway only reads (GET, HEAD)");
        return 0;
    }

    tlog_buf_t text = TLOG_BUF_INIT;
    switch (v.kind) {
    case GATEWAY_KIND_HEALTH: {
        int healthy = gateway_health(gw, &text);
        gateway_respond_buf(req, healthy ? 200 : 500, healthy ? "OK" : "Internal Server Error", "text/plain; charset=utf-8", &text);
        break;
    }
    case GATEWAY_KIND_METRICS:
        gateway_metrics_text(gw, loop->server, &text);
        gateway_respond_buf(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &text);
        break;
    case GATEWAY_KIND_PAGE:
        if (v.log != NULL)
            gateway_page_log(gw, v.log, &text);
        else
            gateway_page_index(gw, &text);
        gateway_respond_buf(req, 200, "OK", "text/html; charset=utf-8", &text);
        break;
    case GATEWAY_KIND_OTHER:
        respond_not_found(req);
        break;
    default:
        if (gateway_kind_is_ct(v.kind)) {
            ct_api_reply(gw, req, v.log, v.kind, thread);
            break;
        }
        serve_file_or_reply(gw, req, &v, thread);
        break;
    }
    return 0;
}

/* Whether this request is not the first on its connection. */
static int request_reused(h2o_req_t *req)
{
    const h2o_conn_callbacks_t *cb = req->conn->callbacks;
    h2o_iovec_t n;
    if (cb->log_.http1.request_index != NULL)
        n = cb->log_.http1.request_index(req);
    else if (cb->log_.http2.stream_id != NULL)
        n = cb->log_.http2.stream_id(req);
    else
        return 0;
    return !(n.len == 1 && (n.base[0] == '0' || n.base[0] == '1'));
}

static void on_log_access(h2o_logger_t *self, h2o_req_t *req)
{
    gateway_t *gw = ((gateway_logger_t *)self)->gw;
    unsigned thread = H2O_STRUCT_FROM_MEMBER(server_thread_t, ctx, req->conn->ctx)->index;
    request_view_t v = view_request(gw, req);
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t us = (int64_t)(now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1000000 +
                 (now.tv_usec - req->timestamps.request_begin_at.tv_usec);
    gateway_request_record_t record = {
        .log = v.log != NULL ? (size_t)(v.log - gw->logs) : gw->nlogs,
        .kind = v.kind,
        .client_class = client_classify(v.user_agent.base, v.user_agent.len),
        .status = req->res.status,
        .bytes = req->bytes_sent,
        .duration_ns = us > 0 ? (uint64_t)us * 1000 : 0,
        .reused = request_reused(req),
    };
    gateway_metrics_record(gw->metrics, thread, &record);

    struct sockaddr_storage peer;
    socklen_t peer_len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&peer);
    char prefix[CLIENT_PREFIX_MAX];
    client_prefix(peer_len > 0 ? (struct sockaddr *)&peer : NULL, prefix);
    uint64_t now_ns = faro_monotonic_ns();
    heavy_hitters_add(gw->by_agent, thread, v.user_agent.base, v.user_agent.len, prefix, strlen(prefix), now_ns);
    heavy_hitters_add(gw->by_prefix, thread, prefix, strlen(prefix), v.user_agent.base, v.user_agent.len, now_ns);
}

void gateway_http_register(gateway_t *gw, h2o_hostconf_t *host)
{
    h2o_pathconf_t *root = h2o_config_register_path(host, "/", 0);
    gateway_handler_t *handler = (gateway_handler_t *)h2o_create_handler(root, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->gw = gw;
    gateway_logger_t *logger = (gateway_logger_t *)h2o_create_logger(root, sizeof(*logger));
    logger->super.log_access = on_log_access;
    logger->gw = gw;
}
