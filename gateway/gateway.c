/*
 * Building and tearing down faro-gateway (see gateway.h): one h2o
 * globalconf with two hosts, "public" for gateway.listen and "admin" for
 * gateway.admin_listen, served by the same threads. Everything that can be
 * refused (a storage directory that is missing, two logs on one path, a bad
 * TLS certificate, a port in use) is refused here, before a thread starts.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/log.h"
#include "gateway/ct_log.h"
#include "gateway/files.h"
#include "gateway/internal.h"
#include "tlog/error.h"

/* Buckets per table of per-client limits: fixed memory whatever the number of clients. */
#define CLIENT_TABLE_SLOTS 65536

/*
 * The gateway never needs a signing key, so a key it could open for writing
 * is a deployment mistake: refused. Root passes permission checks, so for
 * root the key's mode bits decide.
 */
static int check_key_not_writable(const char *path, const char *key_name, size_t i, char *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0; /* absent or unreadable to us: the best case */
    int writable = geteuid() == 0 ? (st.st_mode & 0222) != 0 : access(path, W_OK) == 0;
    if (writable)
        return tlog_errorf(err,
                           "logs[%zu].%s: faro-gateway could open this signing key for writing (%s, mode %04o), and it never "
                           "needs it: run the gateway as a user that cannot write it, or chmod 400 %s",
                           i, key_name, path, (unsigned)(st.st_mode & 07777), path);
    return 0;
}

/* The log's witness policy, for /health; the gateway never calls the witnesses, so URLs are optional here. */
static int load_policy(gateway_log_t *log, size_t i, char *err)
{
    char why[TLOG_ERR_MAX];
    if (log->config->witness_policy != NULL && policy_load(log->config->witness_policy, 0, &log->witness_policy, why) != 0)
        return tlog_errorf(err, "logs[%zu].witness_policy: %s", i, why);
    return 0;
}

static int open_logs(gateway_t *gw, char *err)
{
    const faro_config_t *config = gw->config;
    if ((gw->logs = calloc(config->logs_count, sizeof(*gw->logs))) == NULL)
        abort();
    for (size_t i = 0; i < config->logs_count; i++)
        gw->logs[i].storage_fd = -1;
    gw->nlogs = config->logs_count;
    for (size_t i = 0; i < config->logs_count; i++) {
        gateway_log_t *log = &gw->logs[i];
        char why[TLOG_ERR_MAX];
        log->config = &config->logs[i];
        log->path = server_url_path(log->config->monitoring_prefix);
        log->path_len = strlen(log->path);
        log->status_memo = gateway_status_memo_new();
        for (size_t j = 0; j < i; j++)
            if (strcmp(gw->logs[j].path, log->path) == 0)
                return tlog_errorf(err, "logs[%zu].monitoring_prefix: path \"%s\" is already the path of log %s", i, log->path,
                                   gw->logs[j].config->name);
        if ((log->storage_fd = gateway_files_open_dir(log->config->storage, why)) < 0)
            return tlog_errorf(err, "logs[%zu].storage: %s", i, why);
        if (check_key_not_writable(log->config->key, "key", i, err) != 0 ||
            check_key_not_writable(log->config->ed25519_key, "ed25519_key", i, err) != 0 || load_policy(log, i, err) != 0)
            return -1;
    }
    return 0;
}

static int tls_start(gateway_t *gw, char *err)
{
    const char *cert = gw->config->gateway.tls_cert, *key = gw->config->gateway.tls_key;
    if (cert == NULL && key == NULL)
        return 0;
    if (cert == NULL || key == NULL)
        return tlog_errorf(err, "gateway.%s: needed with gateway.%s", cert == NULL ? "tls_cert" : "tls_key",
                           cert == NULL ? "tls_key" : "tls_cert");
    return (gw->tls = gateway_tls_new(cert, key, err)) != NULL ? 0 : -1;
}

void gateway_reload(gateway_t *gw)
{
    char about[512], err[TLOG_ERR_MAX];
    if (gw->tls == NULL)
        faro_log(FARO_LOG_INFO, "faro-gateway",
                 "SIGHUP: nothing to reload (storage is read as it changes); restart to apply a new faro.yaml");
    else if (gateway_tls_reload(gw->tls, about, sizeof(about), err) != 0)
        faro_log(FARO_LOG_ERROR, "faro-gateway", "SIGHUP: keeping the current TLS certificate: %s", err);
    else
        faro_log(FARO_LOG_INFO, "faro-gateway", "SIGHUP: TLS certificate reloaded for new connections: %s", about);
}

/*
 * Every connection and every data tile kept open is a descriptor: the soft
 * limit is raised to the hard one, as nginx and h2o do, and open_tiles may
 * take at most half of it, leaving the rest to connections.
 */
static int raise_open_file_limit(const faro_config_t *config, char *err)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return tlog_errorf(err, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
            return tlog_errorf(err, "setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)limit.rlim_max, strerror(errno));
    }
    if (limit.rlim_cur != RLIM_INFINITY && config->gateway.open_tiles > limit.rlim_cur / 2)
        return tlog_errorf(err,
                           "gateway.open_tiles: %u descriptors is more than half of the open-file limit (%llu), which connections "
                           "need too: lower it, or raise the limit (LimitNOFILE= under systemd, ulimit -Hn in a shell)",
                           config->gateway.open_tiles, (unsigned long long)limit.rlim_cur);
    return 0;
}

static void free_gateway(gateway_t *gw)
{
    ct_logs_stop(gw->ct); /* its thread reads the logs' storage directories */
    for (size_t i = 0; i < gw->nlogs; i++) {
        free(gw->logs[i].path);
        policy_free(gw->logs[i].witness_policy);
        gateway_status_memo_free(gw->logs[i].status_memo);
        if (gw->logs[i].storage_fd >= 0)
            close(gw->logs[i].storage_fd);
    }
    free(gw->logs);
    gateway_tls_free(gw->tls);
    gcra_free(gw->anonymous);
    gcra_table_free(gw->per_client);
    gcra_table_free(gw->partial);
    heavy_hitters_free(gw->by_agent);
    heavy_hitters_free(gw->by_prefix);
    gateway_metrics_free(gw->metrics);
    for (unsigned i = 0; gw->file_caches != NULL && i < gw->config->gateway.threads; i++)
        file_cache_free(gw->file_caches[i]);
    free(gw->file_caches);
    free(gw);
}

int gateway_start(const faro_config_t *config, gateway_t **out, char *err)
{
    const unsigned threads = config->gateway.threads;
    int public_fd = -1, admin_fd = -1;
    gateway_t *gw = calloc(1, sizeof(*gw));
    if (gw == NULL)
        abort();
    gw->config = config;
    if (raise_open_file_limit(config, err) != 0 || open_logs(gw, err) != 0 || tls_start(gw, err) != 0 ||
        ct_logs_start(gw, &gw->ct, err) != 0)
        goto fail;
    if ((public_fd = server_listen(config->gateway.listen, "gateway.listen", err)) < 0 ||
        (admin_fd = server_listen(config->gateway.admin_listen, "gateway.admin_listen", err)) < 0)
        goto fail;

    gw->anonymous = gcra_new(config->gateway.anonymous_rps, config->gateway.anonymous_burst);
    if (config->gateway.per_client_rps > 0)
        gw->per_client = gcra_table_new(config->gateway.per_client_rps, config->gateway.anonymous_burst, CLIENT_TABLE_SLOTS);
    gw->partial = gcra_table_new(config->gateway.partial_tile_rps, config->gateway.anonymous_burst, CLIENT_TABLE_SLOTS);
    gw->by_agent = heavy_hitters_new(config->gateway.heavy_hitters, threads);
    gw->by_prefix = heavy_hitters_new(config->gateway.heavy_hitters, threads);
    gw->metrics = gateway_metrics_new(gw->nlogs, threads);
    if ((gw->file_caches = calloc(threads, sizeof(*gw->file_caches))) == NULL)
        abort();
    for (unsigned i = 0; i < threads; i++)
        gw->file_caches[i] =
            file_cache_new((size_t)config->gateway.file_cache_mib * 1024 * 1024 / threads, config->gateway.open_tiles / threads);

    h2o_config_init(&gw->globalconf);
    h2o_hostconf_t *public_host = h2o_config_register_host(&gw->globalconf, h2o_iovec_init(H2O_STRLIT("public")), 65535);
    h2o_hostconf_t *admin_host = h2o_config_register_host(&gw->globalconf, h2o_iovec_init(H2O_STRLIT("admin")), 65535);
    if (gateway_proxy_register(gw, public_host, err) != 0) {
        h2o_config_dispose(&gw->globalconf);
        goto fail;
    }
    gateway_http_register(gw, public_host);
    gateway_admin_register(gw, admin_host);
    gw->public_hosts[0] = public_host;
    gw->admin_hosts[0] = admin_host;
    server_listener_t listeners[2] = {
        {.fd = public_fd, .hosts = gw->public_hosts, .ssl_ctx = gw->tls != NULL ? gateway_tls_context(gw->tls) : NULL},
        {.fd = admin_fd, .hosts = gw->admin_hosts},
    };
    gw->server = server_new(&gw->globalconf, listeners, 2, threads);
    server_run(gw->server, NULL, NULL);
    faro_log(FARO_LOG_INFO, "faro-gateway", "serving %zu logs on %s (%s) with %u threads; admin on %s", gw->nlogs,
             config->gateway.listen, gw->tls != NULL ? "HTTPS, HTTP/2" : "HTTP", threads, config->gateway.admin_listen);
    *out = gw;
    return 0;
fail:
    if (public_fd >= 0)
        close(public_fd);
    if (admin_fd >= 0)
        close(admin_fd);
    free_gateway(gw);
    return -1;
}

void gateway_stop(gateway_t *gw)
{
    if (gw == NULL)
        return;
    server_close_listeners(gw->server);
    usleep(200 * 1000);
    server_free(gw->server);
    h2o_config_dispose(&gw->globalconf);
    free_gateway(gw);
}
