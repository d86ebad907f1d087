/*
 * faro-gateway --config FILE [--log-format text|json]
 *
 * Serves every log of the configuration read-only from its storage. It
 * needs no key: the public key comes from each log's log.v3.json.
 * SIGTERM/SIGINT: stop accepting, let requests in flight finish, exit 0.
 * SIGHUP: reload the TLS certificate and key (gateway.tls_cert, tls_key).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/log.h"
#include "gateway/gateway.h"
#include "server/server.h"
#include "tlog/error.h"

static void usage(void)
{
    fprintf(stderr, "usage: faro-gateway --config FILE [--log-format text|json]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"log-format", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int opt;
    char err[TLOG_ERR_MAX];

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'l':
            if (faro_log_set_format(optarg) != 0)
                usage();
            break;
        default:
            usage();
        }
    }
    if (config_path == NULL || optind != argc)
        usage();

    sigset_t signals;
    server_take_signals(&signals, 1);

    faro_config_t *config;
    if (faro_config_load(config_path, &config, err) != 0)
        faro_fatal("faro-gateway", "%s", err);
    gateway_t *gw;
    if (gateway_start(config, &gw, err) != 0)
        faro_fatal("faro-gateway", "refusing to start: %s", err);
    int sig;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP)
        gateway_reload(gw);
    faro_log(FARO_LOG_INFO, "faro-gateway", "stopping");
    gateway_stop(gw);
    faro_config_free(config);
    faro_log(FARO_LOG_INFO, "faro-gateway", "stopped");
    return 0;
}
