/*
 * faro-gateway: the read path of every log in a faro.yaml, served from the
 * logs' storage directories, which it only reads; it never opens a signing
 * key. Public listener: tiles, checkpoints, issuers, log.v3.json, pages,
 * /health and /metrics. Admin listener (private): heavy hitters.
 */
#ifndef FARO_GATEWAY_H
#define FARO_GATEWAY_H

#include "config/config.h"

typedef struct gateway gateway_t;

/* Checks the configuration and storage, binds both listeners and starts serving; 0, or -1 with err. */
int gateway_start(const faro_config_t *config, gateway_t **out, char *err);
/* SIGHUP: reloads the TLS certificate and key (storage needs no reload); logs what it did. */
void gateway_reload(gateway_t *gw);
/* Stops accepting, lets requests in flight finish briefly, and frees everything; NULL is a no-op. */
void gateway_stop(gateway_t *gw);

#endif
