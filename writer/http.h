/*
 * faro-writer's HTTP server (libh2o, one event loop per thread):
 *   POST <submission path>/ct/v1/add-chain, add-pre-chain
 *   GET  <submission path>/ct/v1/get-roots
 *   GET  /metrics
 * A submission that queues is parked until its log's sequencer answers;
 * the answer crosses to the request's own loop through an h2o message queue.
 */
#ifndef FARO_WRITER_HTTP_H
#define FARO_WRITER_HTTP_H

#include "config/config.h"
#include "writer/log.h"

typedef struct writer_http writer_http_t;

/* Binds config->writer.listen and starts threads serving logs; 0 or -1 with err. */
int writer_http_start(const faro_config_t *config, writer_log_t **logs, size_t nlogs, unsigned threads, writer_http_t **out,
                      char *err);
/* Stops accepting new connections (requests already parked are still answered). */
void writer_http_close_listeners(writer_http_t *http);
/* Lets answered responses drain, then stops the threads and frees everything. */
void writer_http_free(writer_http_t *http);

#endif
