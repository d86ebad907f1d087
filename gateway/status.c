/*
 * Reading a log's status from storage (see status.h). The key comes from
 * log.v3.json because the gateway never opens a private key; the origin
 * comes from the configuration, so a checkpoint of another log under this
 * log's prefix fails even if it carries a valid signature.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "config/clock.h"
#include "gateway/files.h"
#include "gateway/status.h"
#include "tlog/checkpoint.h"
#include "tlog/error.h"
#include "tlog/note.h"

#define LOG_JSON_MAX (64 * 1024)
#define KEY_DER_MAX 1024

static int load_key(const gateway_status_t *status, EVP_PKEY **out, char *err)
{
    const char *b64 = gateway_status_field(status, "key");
    uint8_t der[KEY_DER_MAX];
    size_t der_len;
    if (b64 == NULL)
        return tlog_errorf(err, "log.v3.json: no \"key\"");
    if (tlog_base64_decode(b64, strlen(b64), der, sizeof(der), &der_len) != 0)
        return tlog_errorf(err, "log.v3.json: \"key\" is not base64 of a public key");
    const unsigned char *p = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)der_len);
    if (key == NULL || p != der + der_len) {
        EVP_PKEY_free(key);
        return tlog_errorf(err, "log.v3.json: \"key\" is not a DER SubjectPublicKeyInfo");
    }
    *out = key;
    return 0;
}

static int verify_checkpoint(const faro_log_config_t *config, EVP_PKEY *key, gateway_status_t *status, char *err)
{
    char why[TLOG_ERR_MAX];
    tlog_verifier_t *verifier = NULL;
    tlog_note_t *note = NULL;
    tlog_note_result_t result;
    tlog_checkpoint_t checkpoint;
    int ret = -1;

    if (tlog_verifier_rfc6962(config->origin, key, &verifier, why) != 0) {
        tlog_errorf(err, "log.v3.json: \"key\": %s", why);
        goto done;
    }
    if (tlog_note_parse(status->checkpoint, status->checkpoint_len, &note, why) != 0) {
        tlog_errorf(err, "checkpoint: %s", why);
        goto done;
    }
    if (tlog_checkpoint_parse(note->text, note->text_len, &checkpoint, why) != 0) {
        tlog_errorf(err, "checkpoint: %s", why);
        goto done;
    }
    if (strcmp(checkpoint.origin, config->origin) != 0) {
        tlog_errorf(err, "checkpoint: origin is %s, not this log's %s", checkpoint.origin, config->origin);
        goto done;
    }
    if (tlog_note_verify(note, &verifier, 1, &result, why) != 0) {
        tlog_errorf(err, "checkpoint: no valid signature by the key in log.v3.json (%s)", why);
        goto done;
    }
    /* The 0x05 payload is the TreeHeadSignature: u64 timestamp || digitally-signed. */
    const tlog_note_sig_t *sig = &note->sigs[result.sig_index];
    if (sig->payload_len - 8 > sizeof(status->signature)) {
        tlog_errorf(err, "checkpoint: its RFC 6962 signature is longer than a P-256 one");
        goto done;
    }
    status->signature_len = sig->payload_len - 8;
    memcpy(status->signature, sig->payload + 8, status->signature_len);
    status->verified = 1;
    status->size = checkpoint.size;
    status->root = checkpoint.root;
    status->timestamp_ms = result.timestamp;
    ret = 0;
done:
    tlog_note_free(note);
    tlog_verifier_free(verifier);
    return ret;
}

struct gateway_status_memo {
    pthread_mutex_t lock;
    char *key; /* log.v3.json's "key" the outcome is for; NULL before the first */
    char *checkpoint;
    size_t checkpoint_len;
    int ret;
    char err[TLOG_ERR_MAX];
    gateway_status_t verified; /* the fields verify_checkpoint sets; no log_json or checkpoint */
};

gateway_status_memo_t *gateway_status_memo_new(void)
{
    gateway_status_memo_t *memo = calloc(1, sizeof(*memo));
    if (memo == NULL)
        abort();
    pthread_mutex_init(&memo->lock, NULL);
    return memo;
}

void gateway_status_memo_free(gateway_status_memo_t *memo)
{
    if (memo == NULL)
        return;
    pthread_mutex_destroy(&memo->lock);
    free(memo->key);
    free(memo->checkpoint);
    free(memo);
}

/* Copies what verify_checkpoint sets from one status to another, leaving the files' bytes alone. */
static void copy_verified(gateway_status_t *to, const gateway_status_t *from)
{
    to->verified = from->verified;
    to->size = from->size;
    to->timestamp_ms = from->timestamp_ms;
    to->root = from->root;
    memcpy(to->signature, from->signature, from->signature_len);
    to->signature_len = from->signature_len;
}

/* 1 with out and *ret filled from memo if it is for this key and checkpoint, else 0. */
static int memo_recall(gateway_status_memo_t *memo, const char *key, gateway_status_t *out, int *ret, char *err)
{
    pthread_mutex_lock(&memo->lock);
    int hit = memo->key != NULL && strcmp(memo->key, key) == 0 && memo->checkpoint_len == out->checkpoint_len &&
              memcmp(memo->checkpoint, out->checkpoint, out->checkpoint_len) == 0;
    if (hit) {
        copy_verified(out, &memo->verified);
        *ret = memo->ret;
        if (*ret != 0)
            tlog_errorf(err, "%s", memo->err);
    }
    pthread_mutex_unlock(&memo->lock);
    return hit;
}

static void memo_store(gateway_status_memo_t *memo, const char *key, const gateway_status_t *status, int ret, const char *err)
{
    char *key_copy = strdup(key), *checkpoint_copy = malloc(status->checkpoint_len ? status->checkpoint_len : 1);
    if (key_copy == NULL || checkpoint_copy == NULL)
        abort();
    memcpy(checkpoint_copy, status->checkpoint, status->checkpoint_len);
    pthread_mutex_lock(&memo->lock);
    free(memo->key);
    free(memo->checkpoint);
    memo->key = key_copy;
    memo->checkpoint = checkpoint_copy;
    memo->checkpoint_len = status->checkpoint_len;
    memo->ret = ret;
    snprintf(memo->err, sizeof(memo->err), "%s", ret != 0 ? err : "");
    copy_verified(&memo->verified, status);
    pthread_mutex_unlock(&memo->lock);
}

int gateway_status_read(const faro_log_config_t *config, int storage_fd, gateway_status_memo_t *memo, gateway_status_t *out,
                        char *err)
{
    char *text, why[TLOG_ERR_MAX];
    size_t len;
    json_error_t json_err;
    EVP_PKEY *key = NULL;
    int ret;

    memset(out, 0, sizeof(*out));
    if (gateway_files_slurp(storage_fd, "log.v3.json", LOG_JSON_MAX, &text, &len, err) != 0)
        return -1;
    out->log_json = json_loadb(text, len, 0, &json_err);
    free(text);
    if (!json_is_object(out->log_json))
        return tlog_errorf(err, "log.v3.json: not a JSON object");
    if (gateway_files_slurp(storage_fd, "checkpoint", TLOG_NOTE_MAX_SIZE, &out->checkpoint, &out->checkpoint_len, err) != 0)
        return -1;
    const char *key_b64 = gateway_status_field(out, "key");
    if (memo != NULL && key_b64 != NULL && memo_recall(memo, key_b64, out, &ret, err))
        return ret;
    ret = load_key(out, &key, why) == 0 ? verify_checkpoint(config, key, out, why) : -1;
    EVP_PKEY_free(key);
    if (memo != NULL && key_b64 != NULL)
        memo_store(memo, key_b64, out, ret, why);
    return ret == 0 ? 0 : tlog_errorf(err, "%s", why);
}

void gateway_status_free(gateway_status_t *status)
{
    json_decref(status->log_json);
    free(status->checkpoint);
    memset(status, 0, sizeof(*status));
}

double gateway_status_age_seconds(const gateway_status_t *status)
{
    return ((double)faro_realtime_ms() - (double)status->timestamp_ms) / 1000.0;
}

const char *gateway_status_field(const gateway_status_t *status, const char *key)
{
    return json_string_value(json_object_get(status->log_json, key));
}
