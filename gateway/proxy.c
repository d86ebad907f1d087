/*
 * gateway.proxy_submissions: the gateway passes each log's add-chain and
 * add-pre-chain on to faro-writer (writer.listen), so one public address can
 * take both submissions and reads. libh2o's reverse proxy does the work;
 * these paths are registered before the read path's "/" because h2o takes
 * the first path that matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"
#include "tlog/error.h"

/* A submission waits for its sequencing round; give it far more than one. */
#define PROXY_IO_TIMEOUT_MS (60 * 1000)

int gateway_proxy_register(gateway_t *gw, h2o_hostconf_t *host, char *err)
{
    static const char *const endpoints[] = {"add-chain", "add-pre-chain"};
    if (!gw->config->gateway.proxy_submissions)
        return 0;
    h2o_proxy_config_vars_t vars = {
        .io_timeout = PROXY_IO_TIMEOUT_MS,
        .preserve_host = 1,
        .keepalive_timeout = 2000,
    };
    for (size_t i = 0; i < gw->nlogs; i++) {
        char *path = server_url_path(gw->logs[i].config->submission_prefix);
        for (size_t e = 0; e < sizeof(endpoints) / sizeof(endpoints[0]); e++) {
            char local[1024], upstream[1200];
            snprintf(local, sizeof(local), "%s/ct/v1/%s", path, endpoints[e]);
            snprintf(upstream, sizeof(upstream), "http://%s%s", gw->config->writer.listen, local);
            h2o_url_t url;
            if (h2o_url_parse(upstream, SIZE_MAX, &url) != 0) {
                free(path);
                return tlog_errorf(err, "gateway.proxy_submissions: writer.listen %s does not make a URL",
                                   gw->config->writer.listen);
            }
            h2o_proxy_register_reverse_proxy(h2o_config_register_path(host, local, 0), &url, &vars);
        }
        free(path);
    }
    return 0;
}
