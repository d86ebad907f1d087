/*
 * faro-writer --config FILE [--create-missing] [--log-format text|json] [--threads N]
 *
 * Opens every log of the configuration (refusing to start if any is
 * inconsistent), serves submissions, and sequences each log on its own
 * thread. SIGTERM/SIGINT: stop accepting, finish the current rounds, answer
 * what was pooled, exit 0. SIGHUP: reload every log's roots.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config/config.h"
#include "config/log.h"
#include "server/server.h"
#include "tlog/error.h"
#include "writer/http.h"
#include "writer/log.h"

static void usage(void)
{
    fprintf(stderr, "usage: faro-writer --config FILE [--create-missing] [--log-format text|json] [--threads N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"create-missing", no_argument, NULL, 'C'},
        {"log-format", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int create_missing = 0, opt;
    unsigned threads = 2;
    char err[TLOG_ERR_MAX];

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'C':
            create_missing = 1;
            break;
        case 'l':
            if (faro_log_set_format(optarg) != 0)
                usage();
            break;
        case 't':
            threads = (unsigned)atoi(optarg);
            if (threads < 1 || threads > 64)
                usage();
            break;
        default:
            usage();
        }
    }
    if (config_path == NULL || optind != argc)
        usage();

    sigset_t signals;
    server_take_signals(&signals, 1); /* SIGHUP reloads the roots */
    /* Past RLIMIT_FSIZE a write fails with EFBIG (a failed round) instead of killing the writer. */
    signal(SIGXFSZ, SIG_IGN);

    /* Before any thread: libcurl's global state (the roots fetchers use it). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        faro_fatal("faro-writer", "libcurl cannot initialise");
    faro_config_t *config;
    if (faro_config_load(config_path, &config, err) != 0)
        faro_fatal("faro-writer", "%s", err);
    writer_log_t **logs = calloc(config->logs_count, sizeof(*logs));
    for (size_t i = 0; i < config->logs_count; i++)
        if (writer_log_open(&config->logs[i], config->writer.lock_db, create_missing, &logs[i], err) != 0)
            faro_fatal(config->logs[i].name, "refusing to start: %s", err);
    /* Logs first: the HTTP threads read what starting a log sets (its roots fetcher, for /metrics). */
    for (size_t i = 0; i < config->logs_count; i++)
        if (writer_log_start(logs[i], err) != 0)
            faro_fatal(config->logs[i].name, "%s", err);
    writer_http_t *http;
    if (writer_http_start(config, logs, config->logs_count, threads, &http, err) != 0)
        faro_fatal("faro-writer", "%s", err);

    for (;;) {
        int sig;
        sigwait(&signals, &sig);
        if (sig != SIGHUP)
            break;
        for (size_t i = 0; i < config->logs_count; i++)
            if (writer_log_reload_roots(logs[i], err) != 0)
                faro_log(FARO_LOG_ERROR, config->logs[i].name, "keeping the old roots: %s", err);
    }

    faro_log(FARO_LOG_INFO, "faro-writer", "stopping: finishing the current rounds");
    writer_http_close_listeners(http);
    for (size_t i = 0; i < config->logs_count; i++)
        writer_log_stop(logs[i]);
    writer_http_free(http);
    for (size_t i = 0; i < config->logs_count; i++)
        writer_log_free(logs[i]);
    free(logs);
    faro_config_free(config);
    curl_global_cleanup();
    faro_log(FARO_LOG_INFO, "faro-writer", "stopped");
    return 0;
}
