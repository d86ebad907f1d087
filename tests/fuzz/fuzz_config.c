/*
 * faro.yaml parsing: any bytes are either refused with a message naming the
 * file, or give a configuration that keeps the parser's promises: at least
 * one log; every log has its required settings, a prefix without a trailing
 * slash, the origin that prefix implies and that checkpoints accept, and a
 * name, origin and storage no other log has; every path is resolved against
 * the base directory; NotAfter windows are non-empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "tlog/checkpoint.h"
#include "tlog/error.h"

#define BASE "/base"

static void check_path(const char *path)
{
    if (path != NULL && path[0] != '/')
        abort();
}

static void check_log(const faro_config_t *config, size_t i)
{
    const faro_log_config_t *log = &config->logs[i];
    size_t n;

    if (log->name == NULL || log->submission_prefix == NULL || log->monitoring_prefix == NULL || log->origin == NULL ||
        log->key == NULL || log->ed25519_key == NULL || log->roots == NULL || log->storage == NULL)
        abort();
    n = strlen(log->submission_prefix);
    if (log->submission_prefix[n - 1] == '/' || log->monitoring_prefix[strlen(log->monitoring_prefix) - 1] == '/')
        abort();
    if (strcmp(strstr(log->submission_prefix, "://") + 3, log->origin) != 0 ||
        !tlog_origin_valid(log->origin, strlen(log->origin)) || strlen(log->origin) >= TLOG_ORIGIN_MAX)
        abort();
    check_path(log->key);
    check_path(log->ed25519_key);
    check_path(log->roots);
    check_path(log->storage);
    check_path(log->witness_policy);
    if (log->has_not_after_start && log->has_not_after_limit && log->not_after_start >= log->not_after_limit)
        abort();
    if (log->pool_size < 1 || log->sequence_interval_ms < 1 || (log->ext_key_usages_count > 0) != (log->ext_key_usages != NULL))
        abort();
    for (size_t j = 0; j < i; j++) {
        const faro_log_config_t *other = &config->logs[j];
        if (strcmp(log->name, other->name) == 0 || strcmp(log->origin, other->origin) == 0 ||
            strcmp(log->storage, other->storage) == 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan catches any read past the input. */
    char *text = malloc(size ? size : 1);
    faro_config_t *config = NULL;
    char err[TLOG_ERR_MAX];

    memcpy(text, data, size);
    if (faro_config_parse(text, size, "fuzz.yaml", BASE, &config, err) != 0) {
        if (config != NULL || strncmp(err, "fuzz.yaml: ", 11) != 0)
            abort();
        goto out;
    }
    if (config->logs_count == 0 || config->writer.listen == NULL || config->gateway.threads < 1 ||
        (config->gateway.tls_cert == NULL) != (config->gateway.tls_key == NULL))
        abort();
    check_path(config->writer.lock_db);
    check_path(config->gateway.tls_cert);
    for (size_t i = 0; i < config->logs_count; i++)
        check_log(config, i);
out:
    faro_config_free(config);
    free(text);
    return 0;
}
