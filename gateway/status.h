/*
 * What the gateway can prove about a log from its storage alone: the public
 * key from log.v3.json, and the checkpoint verified with that key for the
 * configured origin. /health, the log's page and /metrics read it.
 */
#ifndef FARO_GATEWAY_STATUS_H
#define FARO_GATEWAY_STATUS_H

#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "tlog/hash.h"
#include "tlog/note.h"

typedef struct gateway_status {
    json_t *log_json;      /* parsed log.v3.json, or NULL if it could not be read */
    int verified;          /* the checkpoint verified; the fields below are set */
    uint64_t size;         /* tree size */
    uint64_t timestamp_ms; /* of the RFC 6962 signature */
    tlog_hash_t root;
    uint8_t signature[TLOG_NOTE_SIG_MAX]; /* the TreeHeadSignature's digitally-signed struct (RFC 6962 get-sth) */
    size_t signature_len;
    char *checkpoint; /* the checkpoint file, NUL-terminated */
    size_t checkpoint_len;
} gateway_status_t;

/*
 * The outcome of a log's last verification, for the checkpoint bytes and
 * log.v3.json key it was made with: /health, /metrics and the pages are
 * asked far more often than the writer signs, and a signature check costs
 * fifty tile requests. Thread-safe.
 */
typedef struct gateway_status_memo gateway_status_memo_t;

gateway_status_memo_t *gateway_status_memo_new(void);
void gateway_status_memo_free(gateway_status_memo_t *memo);

/*
 * Reads and verifies; 0 with everything set, or -1 with err saying what is
 * wrong ("checkpoint: signature does not verify ...") and whatever could be
 * read kept in out. Free out with gateway_status_free either way. Both
 * files are read every time; the signature is checked only when they differ
 * from memo's (which may be NULL: always check).
 */
int gateway_status_read(const faro_log_config_t *config, int storage_fd, gateway_status_memo_t *memo, gateway_status_t *out,
                        char *err);
void gateway_status_free(gateway_status_t *status);
/* Seconds since the verified checkpoint's timestamp; negative for a checkpoint from a clock ahead of ours. */
double gateway_status_age_seconds(const gateway_status_t *status);
/* A string field of log.v3.json, or NULL. */
const char *gateway_status_field(const gateway_status_t *status, const char *key);

#endif
