/*
 * faro.yaml: the one configuration file both daemons read; each takes the
 * sections it needs. Loading validates everything and refuses the file with
 * a message naming the key and the reason ("faro.yaml: logs[0].pool_size:
 * must be a whole number from 1 to 10000000"). Unknown keys are refused.
 * Relative paths are resolved against the directory of the file.
 * Durations are strings like "500ms", "1s", "28h". An optional string
 * given as "" (or null) is left NULL. configs/faro.example.yaml lists every
 * setting with its default.
 */
#ifndef FARO_CONFIG_H
#define FARO_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct faro_log_config {
    char *name;                    /* short name used in logs, metrics and paths; [A-Za-z0-9._-]+ */
    char *submission_prefix;       /* http(s) URL without trailing slash */
    char *monitoring_prefix;       /* http(s) URL without trailing slash */
    char *origin;                  /* derived: submission_prefix without scheme */
    char *key;                     /* ECDSA P-256 private key, PEM */
    char *ed25519_key;             /* Ed25519 private key, PEM */
    char *roots;                   /* PEM bundle of accepted roots */
    char *storage;                 /* the static-ct-api tree */
    uint64_t sequence_interval_ms; /* default 1000 */
    uint64_t pool_size;            /* default 4000 */
    int has_not_after_start, has_not_after_limit;
    time_t not_after_start, not_after_limit; /* [start, limit) on the leaf's NotAfter */
    int reject_expired, reject_unexpired;
    char **ext_key_usages; /* names: ServerAuth, ClientAuth, CodeSigning, EmailProtection, ... */
    size_t ext_key_usages_count;
    char **reject_extensions; /* dotted OIDs */
    size_t reject_extensions_count;
    int accept_sha1_signing_algorithms;
    uint64_t rate_limit_old_not_before_age_ms; /* "28h:500": certificates older than 28 h ... */
    uint64_t rate_limit_old_not_before_rate;   /* ... at most 500 per second; 0 = off */
    uint64_t checkpoint_republish_interval_ms; /* default 1000 */
    char *roots_remote_fetch_url;              /* NULL = off */
    uint64_t roots_remote_fetch_interval_ms;   /* default 3600000 */
    char *witness_policy;                      /* NULL = no witnessing */
    uint64_t witness_timeout_ms;               /* default 1000 */
    int witness_fail_open;                     /* default 0: fail-closed */
    int witness_greedy;                        /* default 0 */
} faro_log_config_t;

typedef struct faro_config {
    char *path; /* the file it was read from */
    struct {
        char *listen;  /* host:port, default 127.0.0.1:6962 */
        char *lock_db; /* default state/lock.db */
    } writer;
    struct {
        char *listen;       /* default 127.0.0.1:6963 */
        char *admin_listen; /* default 127.0.0.1:6964 */
        unsigned threads;   /* default 2 */
        char *tls_cert, *tls_key;
        int proxy_submissions;
        double anonymous_rps;           /* default 75 */
        unsigned anonymous_burst;       /* default 10 */
        double per_client_rps;          /* default 0 = off */
        double partial_tile_rps;        /* default 75 */
        uint64_t partial_tile_grace_ms; /* default 60000 */
        unsigned heavy_hitters;         /* default 100 */
        uint64_t health_max_age_ms;     /* default 5000 */
        unsigned file_cache_mib;        /* default 64, shared out among the threads; 0 = off */
        unsigned open_tiles;            /* default 8192 full data tiles kept open, shared out among the threads; 0 = off */
        char *index_dir;                /* the RFC 6962 leaf-hash indexes, default state/gateway */
    } gateway;
    faro_log_config_t *logs;
    size_t logs_count;
} faro_config_t;

/*
 * Reads and checks the file (at most 1 MiB): 0 with *out set, or -1 with *out
 * NULL and a message in err (TLOG_ERR_MAX bytes). Relative paths in it resolve
 * against the absolute directory of the file; path is kept as given.
 */
int faro_config_load(const char *path, faro_config_t **out, char *err);
/*
 * The same from a buffer; name (may be NULL) starts every message and becomes
 * config->path; relative paths resolve against base_dir, or stay as written
 * when base_dir is NULL or "".
 */
int faro_config_parse(const char *text, size_t len, const char *name, const char *base_dir, faro_config_t **out, char *err);
/* Frees everything the config holds; NULL is a no-op. */
void faro_config_free(faro_config_t *config);
/* "1s", "250ms", "28h", "1m30s" into milliseconds; 0 or -1. */
int faro_duration_parse(const char *s, uint64_t *out_ms);
/*
 * The i-th setting the parser knows, as a dotted path ("writer", "writer.listen",
 * "gateway.rate_limits.anonymous_rps", "logs", "logs[].pool_size"); NULL past the
 * last. Lets tests hold configs/faro.example.yaml to the parser.
 */
const char *faro_config_known_key(size_t i);

#endif
