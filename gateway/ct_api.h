/*
 * The RFC 6962 read API (RFC 6962 §4) under each log's monitoring prefix,
 * answered from the same storage as the tiles:
 *
 *   ct/v1/get-sth                          the latest verified checkpoint as a tree head
 *   ct/v1/get-sth-consistency?first&second
 *   ct/v1/get-proof-by-hash?hash&tree_size  via the gateway's leaf index
 *   ct/v1/get-entries?start&end            at most one data tile's entries per request
 *   ct/v1/get-entry-and-proof?leaf_index&tree_size
 *   ct/v1/get-roots                        the log's roots file
 *
 * Bad parameters get a 400 with a one-line message; sizes past the latest
 * verified tree head are bad parameters. Rate limits as for tiles:
 * get-entries and get-entry-and-proof count as a request for the data tile
 * they read, proofs as a hash tile; get-sth and get-roots are exempt, like
 * the checkpoint and log.v3.json.
 */
#ifndef FARO_GATEWAY_CT_API_H
#define FARO_GATEWAY_CT_API_H

#include <h2o.h>

#include "gateway/internal.h"
#include "gateway/route.h"

/* Answers req, a GET or HEAD of kind (one of GATEWAY_KIND_CT_*) under log's prefix, on server thread `thread`. */
void ct_api_reply(gateway_t *gw, h2o_req_t *req, gateway_log_t *log, gateway_kind_t kind, unsigned thread);

#endif
