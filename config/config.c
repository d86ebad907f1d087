/*
 * faro.yaml: the schema and the walk that fills a faro_config_t from the YAML
 * tree (yaml.c), checking every value (values.c).
 *
 * The schema is one table of settings, each named by its dotted path
 * ("gateway.rate_limits.anonymous_rps", "logs[].pool_size"), with its type,
 * where it lands in faro_config_t or faro_log_config_t, its bounds, and its
 * default written as YAML text. Defaults go through the same checks as the
 * file's values, before the file is read: top-level ones once, a log's ones
 * for each log. The walk of a mapping looks every key up in the table, so an
 * unknown or repeated key, or a missing required one, is found in the same
 * place for every section. After the walk come the checks across settings:
 * TLS files in pairs, NotAfter windows, and no two logs with the same name,
 * origin or storage (O(logs^2), logs <= CONFIG_MAX_LOGS).
 *
 * Every message reads "<file>: <key path>: <reason>", the key path written
 * with indices ("logs[1].roots").
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/internal.h"
#include "tlog/checkpoint.h"
#include "tlog/error.h"

#define CONFIG_MAX_LOGS 1024
#define CONFIG_MAX_LIST 64
#define CONFIG_MAX_FILE (1024 * 1024)
#define PATH_TEXT 160 /* a key path as shown in messages */

#define MS_HOUR 3600000u
#define MS_DAY (24u * MS_HOUR)

typedef enum setting_type {
    T_SECTION,        /* a mapping of further settings */
    T_LOGS,           /* the list of logs */
    T_NAME,           /* char *, config_name_valid */
    T_PREFIX,         /* char *, http(s) URL; trailing slashes dropped */
    T_URL,            /* char *, http(s) URL that may have a query */
    T_PATH,           /* char *, resolved against the file's directory */
    T_LISTEN,         /* char *, host:port */
    T_BOOL,           /* int */
    T_UINT,           /* unsigned or uint64_t (by size), min..max */
    T_RATE,           /* double, 0..max */
    T_DURATION,       /* uint64_t ms, min..max */
    T_TIME,           /* time_t, with its has_ flag at aux */
    T_EKUS,           /* char **, with its count at aux */
    T_OIDS,           /* char **, with its count at aux */
    T_OLD_NOT_BEFORE, /* uint64_t age in ms, with the uint64_t rate at aux */
    T_WITNESS_MODE,   /* int: 1 for fail-open */
} setting_type_t;

#define F_REQUIRED 1 /* must be in the file */
#define F_OPTIONAL 2 /* "" (or null) leaves it unset */

typedef struct setting {
    const char *path;
    setting_type_t type;
    size_t offset, size; /* of the field in faro_config_t, or in faro_log_config_t for "logs[]." paths */
    size_t aux;          /* see setting_type_t */
    uint64_t min, max;
    int flags;
    const char *fallback; /* the default as YAML text; NULL leaves the field zero */
} setting_t;

#define TOP(m) offsetof(faro_config_t, m), sizeof(((faro_config_t *)0)->m)
#define LOG(m) offsetof(faro_log_config_t, m), sizeof(((faro_log_config_t *)0)->m)
#define LOG_AUX(m) offsetof(faro_log_config_t, m)
#define NONE 0, 0

static const setting_t settings[] = {
    /* path, type, field, aux, min, max, flags, default */
    {"writer", T_SECTION, NONE, 0, 0, 0, 0, NULL},
    {"writer.listen", T_LISTEN, TOP(writer.listen), 0, 0, 0, 0, "127.0.0.1:6962"},
    {"writer.lock_db", T_PATH, TOP(writer.lock_db), 0, 0, 0, 0, "state/lock.db"},
    {"gateway", T_SECTION, NONE, 0, 0, 0, 0, NULL},
    {"gateway.listen", T_LISTEN, TOP(gateway.listen), 0, 0, 0, 0, "127.0.0.1:6963"},
    {"gateway.admin_listen", T_LISTEN, TOP(gateway.admin_listen), 0, 0, 0, 0, "127.0.0.1:6964"},
    {"gateway.threads", T_UINT, TOP(gateway.threads), 0, 1, 64, 0, "2"},
    {"gateway.tls_cert", T_PATH, TOP(gateway.tls_cert), 0, 0, 0, F_OPTIONAL, NULL},
    {"gateway.tls_key", T_PATH, TOP(gateway.tls_key), 0, 0, 0, F_OPTIONAL, NULL},
    {"gateway.proxy_submissions", T_BOOL, TOP(gateway.proxy_submissions), 0, 0, 0, 0, NULL},
    {"gateway.rate_limits", T_SECTION, NONE, 0, 0, 0, 0, NULL},
    {"gateway.rate_limits.anonymous_rps", T_RATE, TOP(gateway.anonymous_rps), 0, 0, 1000000, 0, "75"},
    {"gateway.rate_limits.anonymous_burst", T_UINT, TOP(gateway.anonymous_burst), 0, 0, 1000000, 0, "10"},
    {"gateway.rate_limits.per_client_rps", T_RATE, TOP(gateway.per_client_rps), 0, 0, 1000000, 0, NULL},
    {"gateway.rate_limits.partial_tile_rps", T_RATE, TOP(gateway.partial_tile_rps), 0, 0, 1000000, 0, "75"},
    {"gateway.rate_limits.partial_tile_grace", T_DURATION, TOP(gateway.partial_tile_grace_ms), 0, 0, MS_DAY, 0, "60s"},
    {"gateway.heavy_hitters", T_UINT, TOP(gateway.heavy_hitters), 0, 0, 100000, 0, "100"},
    {"gateway.health_max_age", T_DURATION, TOP(gateway.health_max_age_ms), 0, 1, MS_DAY, 0, "5s"},
    {"gateway.file_cache_mib", T_UINT, TOP(gateway.file_cache_mib), 0, 0, 1048576, 0, "64"},
    {"gateway.open_tiles", T_UINT, TOP(gateway.open_tiles), 0, 0, 1048576, 0, "8192"},
    {"gateway.index_dir", T_PATH, TOP(gateway.index_dir), 0, 0, 0, 0, "state/gateway"},
    {"logs", T_LOGS, NONE, 0, 0, 0, F_REQUIRED, NULL},
    {"logs[].name", T_NAME, LOG(name), 0, 0, 0, F_REQUIRED, NULL},
    {"logs[].submission_prefix", T_PREFIX, LOG(submission_prefix), 0, 0, 0, F_REQUIRED, NULL},
    {"logs[].monitoring_prefix", T_PREFIX, LOG(monitoring_prefix), 0, 0, 0, F_REQUIRED, NULL},
    {"logs[].key", T_PATH, LOG(key), 0, 0, 0, F_REQUIRED, NULL},
    {"logs[].ed25519_key", T_PATH, LOG(ed25519_key), 0, 0, 0, F_REQUIRED, NULL},
    {"logs[].roots", T_PATH, LOG(roots), 0, 0, 0, F_REQUIRED, NULL},
    {"logs[].storage", T_PATH, LOG(storage), 0, 0, 0, F_REQUIRED, NULL},
    {"logs[].sequence_interval", T_DURATION, LOG(sequence_interval_ms), 0, 1, MS_HOUR, 0, "1s"},
    {"logs[].pool_size", T_UINT, LOG(pool_size), 0, 1, 10000000, 0, "4000"},
    {"logs[].not_after_start", T_TIME, LOG(not_after_start), LOG_AUX(has_not_after_start), 0, 0, F_OPTIONAL, NULL},
    {"logs[].not_after_limit", T_TIME, LOG(not_after_limit), LOG_AUX(has_not_after_limit), 0, 0, F_OPTIONAL, NULL},
    {"logs[].reject_expired", T_BOOL, LOG(reject_expired), 0, 0, 0, 0, NULL},
    {"logs[].reject_unexpired", T_BOOL, LOG(reject_unexpired), 0, 0, 0, 0, NULL},
    {"logs[].ext_key_usages", T_EKUS, LOG(ext_key_usages), LOG_AUX(ext_key_usages_count), 0, 0, 0, NULL},
    {"logs[].reject_extensions", T_OIDS, LOG(reject_extensions), LOG_AUX(reject_extensions_count), 0, 0, 0, NULL},
    {"logs[].accept_sha1_signing_algorithms", T_BOOL, LOG(accept_sha1_signing_algorithms), 0, 0, 0, 0, NULL},
    {"logs[].rate_limit_old_not_before", T_OLD_NOT_BEFORE, LOG(rate_limit_old_not_before_age_ms),
     LOG_AUX(rate_limit_old_not_before_rate), 0, 0, F_OPTIONAL, NULL},
    {"logs[].checkpoint_republish_interval", T_DURATION, LOG(checkpoint_republish_interval_ms), 0, 1, MS_DAY, 0, "1s"},
    {"logs[].roots_remote_fetch_url", T_URL, LOG(roots_remote_fetch_url), 0, 0, 0, F_OPTIONAL, NULL},
    {"logs[].roots_remote_fetch_interval", T_DURATION, LOG(roots_remote_fetch_interval_ms), 0, 1000, 7 * MS_DAY, 0, "1h"},
    {"logs[].witness_policy", T_PATH, LOG(witness_policy), 0, 0, 0, F_OPTIONAL, NULL},
    {"logs[].witness_timeout", T_DURATION, LOG(witness_timeout_ms), 0, 1, MS_HOUR, 0, "1s"},
    {"logs[].witness_mode", T_WITNESS_MODE, LOG(witness_fail_open), 0, 0, 0, 0, "fail-closed"},
    {"logs[].witness_greedy", T_BOOL, LOG(witness_greedy), 0, 0, 0, 0, NULL},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))
/* A mapping's keys seen so far are bits of one uint64_t. */
_Static_assert(NSETTINGS <= 64, "settings must fit the seen mask");

#define LOG_PREFIX "logs[]."

typedef struct walk {
    const char *name; /* of the file, for messages */
    const char *base_dir;
    char *err;
} walk_t;

const char *faro_config_known_key(size_t i)
{
    return i < NSETTINGS ? settings[i].path : NULL;
}

static int key_error(walk_t *w, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int key_error(walk_t *w, const char *path, const char *fmt, ...)
{
    char reason[TLOG_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return tlog_errorf(w->err, "%s: %s: %s", w->name, path, reason);
}

/* What a setting must be, for messages: "must be a whole number from 1 to 64". */
static const char *describe(const setting_t *s, char *buf, size_t cap)
{
    char lo[32], hi[32];

    switch (s->type) {
    case T_SECTION:
        return "must be a mapping";
    case T_LOGS:
        return "must be a list of logs";
    case T_NAME:
        return "must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'";
    case T_PREFIX:
    case T_URL:
        return "must be an http:// or https:// URL";
    case T_PATH:
        return "must be a file path";
    case T_LISTEN:
        return "must be \"host:port\" like \"127.0.0.1:6962\" or \"[::1]:6962\"";
    case T_BOOL:
        return "must be true or false";
    case T_UINT:
        snprintf(buf, cap, "must be a whole number from %llu to %llu", (unsigned long long)s->min, (unsigned long long)s->max);
        return buf;
    case T_RATE:
        snprintf(buf, cap, "must be a number from 0 to %llu", (unsigned long long)s->max);
        return buf;
    case T_DURATION:
        config_format_ms(s->min, lo);
        config_format_ms(s->max, hi);
        snprintf(buf, cap, "must be a duration from %s to %s, like \"1s\", \"250ms\" or \"1m30s\"", lo, hi);
        return buf;
    case T_TIME:
        return "must be a UTC time like \"2026-01-01T00:00:00Z\", or \"\"";
    case T_EKUS:
        snprintf(buf, cap, "must be a list of extended key usages from: %s", config_eku_names);
        return buf;
    case T_OIDS:
        return "must be a list of dotted OIDs like \"1.3.6.1.4.1.11129.2.4.3\"";
    case T_OLD_NOT_BEFORE:
        return "must be \"<age>:<certificates per second>\" like \"28h:500\", or \"\"";
    case T_WITNESS_MODE:
        return "must be fail-open or fail-closed";
    }
    return "is not valid";
}

static const char *kind_name(const config_node_t *v)
{
    return v->kind == CONFIG_MAPPING ? "a mapping" : v->kind == CONFIG_SEQUENCE ? "a list" : "a single value";
}

/* "<what it must be>, not a list", for a value of the wrong kind. */
static int kind_error(walk_t *w, const char *path, const setting_t *s, const config_node_t *v)
{
    char buf[TLOG_ERR_MAX];
    return key_error(w, path, "%s, not %s", describe(s, buf, sizeof(buf)), kind_name(v));
}

static int value_error(walk_t *w, const char *path, const setting_t *s, const config_node_t *v)
{
    char buf[TLOG_ERR_MAX];
    int typed = s->type == T_BOOL || s->type == T_UINT || s->type == T_RATE;
    return key_error(w, path, "%s%s", describe(s, buf, sizeof(buf)), typed && v->quoted ? ", written without quotes" : "");
}

/* path (the file's text) against the base directory, into a new string. */
static char *resolve_path(const walk_t *w, const char *path)
{
    char *out;
    size_t n;

    if (path[0] == '/' || w->base_dir == NULL)
        return strdup(path);
    n = strlen(w->base_dir);
    if (asprintf(&out, "%s%s%s", w->base_dir, n > 0 && w->base_dir[n - 1] == '/' ? "" : "/", path) < 0)
        return NULL;
    return out;
}

/* The string to store for s (NULL: leave unset), or -1 with a message. */
static int string_value(walk_t *w, const char *path, const setting_t *s, const char *text, char **out)
{
    const char *why;
    size_t scheme_len, n = strlen(text);

    *out = NULL;
    if (n == 0) {
        if (s->flags & F_OPTIONAL)
            return 0;
        return key_error(w, path, "must not be empty");
    }
    switch (s->type) {
    case T_NAME:
        if (!config_name_valid(text))
            return key_error(w, path, "must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'");
        break;
    case T_LISTEN:
        if ((why = config_check_listen(text)) != NULL)
            return key_error(w, path, "\"%.64s\" %s", text, why);
        break;
    case T_PREFIX:
    case T_URL:
        if ((why = config_check_url(text, s->type == T_PREFIX, &scheme_len)) != NULL)
            return key_error(w, path, "%s", why);
        while (s->type == T_PREFIX && n > scheme_len && text[n - 1] == '/')
            n--;
        break;
    case T_PATH:
        if ((why = config_check_path(text)) != NULL)
            return key_error(w, path, "%s", why);
        if ((*out = resolve_path(w, text)) == NULL)
            return key_error(w, path, "out of memory");
        if (strlen(*out) >= PATH_MAX) {
            free(*out);
            *out = NULL;
            return key_error(w, path, "is longer than %d bytes once resolved", PATH_MAX - 1);
        }
        return 0;
    default:
        break;
    }
    if ((*out = strndup(text, n)) == NULL)
        return key_error(w, path, "out of memory");
    return 0;
}

static void free_list(char **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

/* A list of names or OIDs: each checked, none twice. */
static int set_list(walk_t *w, const char *path, const setting_t *s, void *base, const config_node_t *v)
{
    char ***field = (char ***)((char *)base + s->offset);
    size_t *count = (size_t *)((char *)base + s->aux);
    char **list = NULL;
    size_t n = 0;

    if (config_node_is_null(v))
        goto done;
    if (v->kind != CONFIG_SEQUENCE)
        return kind_error(w, path, s, v);
    if (v->count > CONFIG_MAX_LIST)
        return key_error(w, path, "has more than %d items", CONFIG_MAX_LIST);
    if (v->count > 0 && (list = calloc(v->count, sizeof(*list))) == NULL)
        return key_error(w, path, "out of memory");
    for (; n < v->count; n++) {
        const config_node_t *item = v->items[n];
        char item_path[PATH_TEXT], buf[TLOG_ERR_MAX];
        snprintf(item_path, sizeof(item_path), "%s[%zu]", path, n);
        if (item->kind != CONFIG_SCALAR) {
            kind_error(w, item_path, s, item);
            goto fail;
        }
        if (s->type == T_EKUS ? !config_eku_valid(item->text) : !config_oid_valid(item->text)) {
            key_error(w, item_path, "%s", describe(s, buf, sizeof(buf)));
            goto fail;
        }
        for (size_t j = 0; j < n; j++) {
            if (strcmp(list[j], item->text) == 0) {
                key_error(w, item_path, "\"%s\" is listed twice", item->text);
                goto fail;
            }
        }
        if ((list[n] = strdup(item->text)) == NULL) {
            key_error(w, item_path, "out of memory");
            goto fail;
        }
    }
done:
    free_list(*field, *count);
    *field = list;
    *count = n;
    return 0;
fail:
    free_list(list, n);
    return -1;
}

/* Checks v against setting s and stores it in its field of base. */
static int set_value(walk_t *w, const char *path, const setting_t *s, void *base, const config_node_t *v)
{
    char *field = (char *)base + s->offset, *str;
    const char *text;
    uint64_t n, rate;
    time_t t = 0;

    if (s->type == T_EKUS || s->type == T_OIDS)
        return set_list(w, path, s, base, v);
    if (v->kind != CONFIG_SCALAR)
        return kind_error(w, path, s, v);
    text = config_node_is_null(v) ? "" : v->text;
    switch (s->type) {
    case T_BOOL:
        if (v->quoted || (strcmp(text, "true") != 0 && strcmp(text, "false") != 0))
            return value_error(w, path, s, v);
        *(int *)field = text[0] == 't';
        return 0;
    case T_UINT:
        if (v->quoted || !config_parse_uint(text, s->min, s->max, &n))
            return value_error(w, path, s, v);
        if (s->size == sizeof(unsigned))
            *(unsigned *)field = (unsigned)n;
        else
            *(uint64_t *)field = n;
        return 0;
    case T_RATE:
        if (v->quoted || !config_parse_rate(text, s->max, (double *)field))
            return value_error(w, path, s, v);
        return 0;
    case T_DURATION:
        if (faro_duration_parse(text, &n) != 0 || n < s->min || n > s->max)
            return value_error(w, path, s, v);
        *(uint64_t *)field = n;
        return 0;
    case T_TIME:
        if (text[0] != '\0' && !config_parse_time(text, &t))
            return value_error(w, path, s, v);
        *(time_t *)field = t;
        *(int *)((char *)base + s->aux) = text[0] != '\0';
        return 0;
    case T_OLD_NOT_BEFORE:
        n = rate = 0;
        if (text[0] != '\0' && !config_parse_old_not_before(text, &n, &rate))
            return value_error(w, path, s, v);
        *(uint64_t *)field = n;
        *(uint64_t *)((char *)base + s->aux) = rate;
        return 0;
    case T_WITNESS_MODE:
        if (strcmp(text, "fail-open") != 0 && strcmp(text, "fail-closed") != 0)
            return value_error(w, path, s, v);
        *(int *)field = strcmp(text, "fail-open") == 0;
        return 0;
    default:
        if (string_value(w, path, s, text, &str) != 0)
            return -1;
        free(*(char **)field);
        *(char **)field = str;
        return 0;
    }
}

/* Applies the defaults of the settings under "logs[]." (log set) or of the others. */
static int apply_defaults(walk_t *w, void *base, int log)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting_t *s = &settings[i];
        config_node_t v = {.kind = CONFIG_SCALAR, .text = (char *)s->fallback};
        if (s->fallback != NULL && (strncmp(s->path, LOG_PREFIX, strlen(LOG_PREFIX)) == 0) == log &&
            set_value(w, s->path, s, base, &v) != 0)
            return -1;
    }
    return 0;
}

/* Whether setting path lies directly under the section at spath ("" for the top). */
static int is_child(const char *path, const char *spath)
{
    size_t n = strlen(spath);
    if (n == 0)
        return strchr(path, '.') == NULL;
    return strncmp(path, spath, n) == 0 && path[n] == '.' && strchr(path + n + 1, '.') == NULL;
}

/* The setting named key directly under spath, or -1; a key holding '.' names none ("writer.listen" at the top). */
static int lookup(const char *spath, const char *key)
{
    char full[PATH_TEXT];
    int n = snprintf(full, sizeof(full), "%s%s%s", spath, spath[0] != '\0' ? "." : "", key);

    if (n < 0 || (size_t)n >= sizeof(full) || strchr(key, '.') != NULL)
        return -1;
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(settings[i].path, full) == 0)
            return (int)i;
    return -1;
}

/* dpath.key (or key at the top) into out, with bytes that are not printable ASCII shown as '?'. */
static void child_path(char out[PATH_TEXT], const char *dpath, const char *key)
{
    int n = snprintf(out, PATH_TEXT, "%s%s%.64s", dpath, dpath[0] != '\0' ? "." : "", key);
    for (int i = 0; n > 0 && i < n && i < PATH_TEXT - 1; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
            out[i] = '?';
}

static int walk_logs(walk_t *w, faro_config_t *config, const config_node_t *v);

/* Reads the settings of one mapping: spath is its schema path ("gateway", "logs[]"), dpath as shown ("logs[2]"). */
static int walk_mapping(walk_t *w, const config_node_t *map, const char *spath, const char *dpath, void *base,
                        faro_config_t *config)
{
    uint64_t seen = 0;

    for (size_t i = 0; i + 1 < map->count; i += 2) {
        const config_node_t *key = map->items[i], *value = map->items[i + 1];
        char path[PATH_TEXT];
        const setting_t *s;
        int k;

        if (key->kind != CONFIG_SCALAR)
            return key_error(w, dpath[0] != '\0' ? dpath : "(top)", "a key is %s; keys must be names", kind_name(key));
        child_path(path, dpath, key->text);
        if ((k = lookup(spath, key->text)) < 0)
            return key_error(w, path, "unknown key");
        if (seen & ((uint64_t)1 << k))
            return key_error(w, path, "duplicate key");
        seen |= (uint64_t)1 << k;
        s = &settings[k];
        if (s->type == T_SECTION) {
            if (config_node_is_null(value))
                continue;
            if (value->kind != CONFIG_MAPPING)
                return kind_error(w, path, s, value);
            if (walk_mapping(w, value, s->path, path, base, config) != 0)
                return -1;
        } else if (s->type == T_LOGS) {
            if (walk_logs(w, config, value) != 0)
                return -1;
        } else if (set_value(w, path, s, base, value) != 0) {
            return -1;
        }
    }
    for (size_t k = 0; k < NSETTINGS; k++) {
        char path[PATH_TEXT];
        const char *leaf = strrchr(settings[k].path, '.');
        if ((settings[k].flags & F_REQUIRED) && !(seen & ((uint64_t)1 << k)) && is_child(settings[k].path, spath)) {
            child_path(path, dpath, leaf != NULL ? leaf + 1 : settings[k].path);
            return key_error(w, path, "required key is missing");
        }
    }
    return 0;
}

static int walk_logs(walk_t *w, faro_config_t *config, const config_node_t *v)
{
    if (config_node_is_null(v) || (v->kind == CONFIG_SEQUENCE && v->count == 0))
        return key_error(w, "logs", "at least one log is required");
    if (v->kind != CONFIG_SEQUENCE)
        return key_error(w, "logs", "must be a list of logs, not %s", kind_name(v));
    if (v->count > CONFIG_MAX_LOGS)
        return key_error(w, "logs", "has more than %d logs", CONFIG_MAX_LOGS);
    if ((config->logs = calloc(v->count, sizeof(*config->logs))) == NULL)
        return key_error(w, "logs", "out of memory");
    config->logs_count = v->count;
    for (size_t i = 0; i < v->count; i++) {
        faro_log_config_t *log = &config->logs[i];
        const config_node_t *item = v->items[i];
        char path[PATH_TEXT];

        snprintf(path, sizeof(path), "logs[%zu]", i);
        if (item->kind != CONFIG_MAPPING)
            return key_error(w, path, "must be a mapping of a log's settings, not %s", kind_name(item));
        if (apply_defaults(w, log, 1) != 0 || walk_mapping(w, item, "logs[]", path, log, config) != 0)
            return -1;
        if ((log->origin = strdup(log->submission_prefix + strcspn(log->submission_prefix, "/") + 2)) == NULL)
            return key_error(w, path, "out of memory");
    }
    return 0;
}

/* The checks that involve more than one setting. */
static int check_across(walk_t *w, const faro_config_t *config)
{
    const char *cert = config->gateway.tls_cert, *key = config->gateway.tls_key;

    if ((cert == NULL) != (key == NULL))
        return key_error(w, cert == NULL ? "gateway.tls_cert" : "gateway.tls_key", "must be set together with %s",
                         cert == NULL ? "gateway.tls_key" : "gateway.tls_cert");
    for (size_t i = 0; i < config->logs_count; i++) {
        const faro_log_config_t *log = &config->logs[i];
        char path[PATH_TEXT];

        if (log->has_not_after_start && log->has_not_after_limit && log->not_after_start >= log->not_after_limit) {
            snprintf(path, sizeof(path), "logs[%zu].not_after_limit", i);
            return key_error(w, path, "must be later than not_after_start");
        }
        snprintf(path, sizeof(path), "logs[%zu].submission_prefix", i);
        if (strlen(log->origin) >= TLOG_ORIGIN_MAX)
            return key_error(w, path, "gives an origin longer than %d bytes", TLOG_ORIGIN_MAX - 1);
        if (!tlog_origin_valid(log->origin, strlen(log->origin)))
            return key_error(w, path, "gives origin \"%.64s\", which is not a valid checkpoint origin (no '+')", log->origin);
        for (size_t j = 0; j < i; j++) {
            const faro_log_config_t *other = &config->logs[j];
            if (strcmp(log->name, other->name) == 0) {
                snprintf(path, sizeof(path), "logs[%zu].name", i);
                return key_error(w, path, "\"%s\" is also the name of logs[%zu]", log->name, j);
            }
            if (strcmp(log->origin, other->origin) == 0) {
                snprintf(path, sizeof(path), "logs[%zu].submission_prefix", i);
                return key_error(w, path, "origin \"%.64s\" is also the origin of logs[%zu]", log->origin, j);
            }
            if (strcmp(log->storage, other->storage) == 0) {
                snprintf(path, sizeof(path), "logs[%zu].storage", i);
                return key_error(w, path, "\"%.64s\" is also the storage of logs[%zu]", log->storage, j);
            }
        }
    }
    return 0;
}

int faro_config_parse(const char *text, size_t len, const char *name, const char *base_dir, faro_config_t **out, char *err)
{
    walk_t w = {.name = name != NULL ? name : "config", .base_dir = base_dir, .err = err};
    config_node_t *root = NULL, empty = {.kind = CONFIG_MAPPING};
    faro_config_t *config = NULL;

    *out = NULL;
    if (base_dir != NULL && base_dir[0] == '\0')
        w.base_dir = NULL;
    if (config_yaml_load(text, len, w.name, &root, err) != 0)
        return -1;
    if (root != NULL && !config_node_is_null(root) && root->kind != CONFIG_MAPPING) {
        tlog_errorf(err, "%s: the top level must be a mapping of sections, not %s", w.name, kind_name(root));
        goto fail;
    }
    if ((config = calloc(1, sizeof(*config))) == NULL || (name != NULL && (config->path = strdup(name)) == NULL)) {
        tlog_errorf(err, "%s: out of memory", w.name);
        goto fail;
    }
    if (apply_defaults(&w, config, 0) != 0)
        goto fail;
    if (walk_mapping(&w, root != NULL && root->kind == CONFIG_MAPPING ? root : &empty, "", "", config, config) != 0)
        goto fail;
    if (check_across(&w, config) != 0)
        goto fail;
    config_node_free(root);
    *out = config;
    return 0;
fail:
    faro_config_free(config);
    config_node_free(root);
    return -1;
}

/* The absolute directory holding path, into a new string. */
static char *config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir, *abs;

    if (slash == NULL)
        return realpath(".", NULL);
    if ((dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))) == NULL)
        return NULL;
    abs = realpath(dir, NULL);
    free(dir);
    return abs;
}

int faro_config_load(const char *path, faro_config_t **out, char *err)
{
    FILE *f = NULL;
    char *text = NULL, *dir = NULL;
    struct stat st;
    size_t len;
    int rc = -1;

    *out = NULL;
    if ((f = fopen(path, "rb")) == NULL) {
        tlog_errorf(err, "%s: cannot open: %m", path);
        goto fail;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        tlog_errorf(err, "%s: not a regular file", path);
        goto fail;
    }
    if (st.st_size > CONFIG_MAX_FILE) {
        tlog_errorf(err, "%s: larger than %d bytes", path, CONFIG_MAX_FILE);
        goto fail;
    }
    if ((text = malloc((size_t)st.st_size + 1)) == NULL || (dir = config_dir(path)) == NULL) {
        tlog_errorf(err, "%s: %m", path);
        goto fail;
    }
    len = fread(text, 1, (size_t)st.st_size + 1, f);
    if (ferror(f) || len > (size_t)st.st_size) {
        tlog_errorf(err, "%s: read failed or the file changed while being read", path);
        goto fail;
    }
    rc = faro_config_parse(text, len, path, dir, out, err);
fail:
    free(dir);
    free(text);
    if (f != NULL)
        fclose(f);
    return rc;
}

void faro_config_free(faro_config_t *config)
{
    if (config == NULL)
        return;
    for (size_t i = 0; i < config->logs_count; i++) {
        faro_log_config_t *log = &config->logs[i];
        free(log->name);
        free(log->submission_prefix);
        free(log->monitoring_prefix);
        free(log->origin);
        free(log->key);
        free(log->ed25519_key);
        free(log->roots);
        free(log->storage);
        free_list(log->ext_key_usages, log->ext_key_usages_count);
        free_list(log->reject_extensions, log->reject_extensions_count);
        free(log->roots_remote_fetch_url);
        free(log->witness_policy);
    }
    free(config->logs);
    free(config->path);
    free(config->writer.listen);
    free(config->writer.lock_db);
    free(config->gateway.listen);
    free(config->gateway.admin_listen);
    free(config->gateway.tls_cert);
    free(config->gateway.tls_key);
    free(config->gateway.index_dir);
    free(config);
}
