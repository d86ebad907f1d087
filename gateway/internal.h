/*
 * Inside faro-gateway: the state every part of the request path shares.
 * One gateway_t per process, built by gateway_new before any thread starts
 * and read-only afterwards, except for the rate limiters, heavy hitters and
 * metrics, which are made for concurrent use.
 */
#ifndef FARO_GATEWAY_INTERNAL_H
#define FARO_GATEWAY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <h2o.h>
#include <sys/stat.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/file_cache.h"
#include "gateway/gcra.h"
#include "gateway/heavy_hitters.h"
#include "gateway/metrics.h"
#include "gateway/status.h"
#include "gateway/tls.h"
#include "policy/policy.h"
#include "server/server.h"
#include "tlog/buf.h"

#define GATEWAY_CACHE_IMMUTABLE "public, max-age=604800, immutable"
#define GATEWAY_CACHE_SHORT "public, max-age=60"

typedef struct ct_logs ct_logs_t;

typedef struct gateway_log {
    const faro_log_config_t *config;
    char *path; /* the monitoring prefix's path, without trailing slash ("" for the root) */
    size_t path_len;
    int storage_fd;
    policy_t *witness_policy; /* NULL without witnessing: /health then checks no cosignatures */
    gateway_status_memo_t *status_memo;
} gateway_log_t;

struct gateway {
    const faro_config_t *config;
    gateway_log_t *logs;
    size_t nlogs;
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *public_hosts[2], *admin_hosts[2]; /* NULL-terminated: each listener serves one host */
    server_t *server;
    gateway_tls_t *tls;         /* NULL without gateway.tls_cert */
    gcra_t *anonymous;          /* shared by every client without a contact in its User-Agent */
    gcra_table_t *per_client;   /* NULL when per_client_rps is 0 */
    gcra_table_t *partial;      /* per client, for partial tiles younger than partial_tile_grace */
    heavy_hitters_t *by_agent;  /* User-Agent -> latest prefix */
    heavy_hitters_t *by_prefix; /* client prefix -> latest User-Agent */
    gateway_metrics_t *metrics;
    file_cache_t **file_caches; /* one per thread, each used by its thread only */
    ct_logs_t *ct;              /* the RFC 6962 read API's per-log state (gateway/ct_log.h) */
};

/* An h2o handler that knows its gateway. */
typedef struct gateway_handler {
    h2o_handler_t super;
    gateway_t *gw;
} gateway_handler_t;

/* Hook the request handlers into a host of the public listener and of the admin listener. */
void gateway_http_register(gateway_t *gw, h2o_hostconf_t *host);
void gateway_admin_register(gateway_t *gw, h2o_hostconf_t *host);
/* With gateway.proxy_submissions, each log's add-chain and add-pre-chain go on to the writer; call first. */
int gateway_proxy_register(gateway_t *gw, h2o_hostconf_t *host, char *err);
/*
 * Starts a response of len bytes with CORS, nosniff and the given
 * Cache-Control, whose body the generator sends.
 */
void gateway_respond_start(h2o_req_t *req, int status, const char *reason, const char *content_type, const char *cache_control,
                           size_t len, h2o_generator_t *generator);
/* Whether req is a HEAD request: its answer has a length and no body. */
int gateway_request_is_head(h2o_req_t *req);
/* Sends a whole response as gateway_respond_start does; the body must live as long as the request's pool. */
void gateway_respond(h2o_req_t *req, int status, const char *reason, const char *content_type, const char *cache_control,
                     const char *body, size_t len);
/* A one-line text/plain answer (a newline is added), not cacheable: errors. */
void gateway_respond_text(h2o_req_t *req, int status, const char *reason, const char *message);
/*
 * The rate limits of a request that reads a resource of kind `as` (mtime:
 * the file's, for a partial tile's age): 1 if admitted, else it answered 429
 * and returns 0.
 */
int gateway_admit_or_reply(gateway_t *gw, h2o_req_t *req, gateway_kind_t as, const struct timespec *mtime, unsigned thread);
/* The same, not cacheable, with a copy of text, which it frees. */
void gateway_respond_buf(h2o_req_t *req, int status, const char *reason, const char *content_type, tlog_buf_t *text);
/* The log whose monitoring path is a prefix of path (whole segments), or NULL; *rel is the rest. */
gateway_log_t *gateway_find_log(gateway_t *gw, const char *path, size_t len, const char **rel, size_t *rel_len);

/* /health: one line per log into out; returns 1 if every log is healthy. */
int gateway_health(gateway_t *gw, tlog_buf_t *out);
/* The HTML index of every log, and one log's page. */
void gateway_page_index(gateway_t *gw, tlog_buf_t *out);
void gateway_page_log(gateway_t *gw, gateway_log_t *log, tlog_buf_t *out);
/*
 * The Prometheus text of /metrics. server is the request's thread's: a
 * request can arrive before server_start has returned and set gw->server.
 */
void gateway_metrics_text(gateway_t *gw, server_t *server, tlog_buf_t *out);
/* HTML-escapes len bytes of s onto out. */
void gateway_html_escape(tlog_buf_t *out, const char *s, size_t len);

#endif
