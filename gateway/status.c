/*
 * Reading a log's status from storage (see status.h). The key comes from
 * log.v3.json because the gateway never opens a private key; the origin
 * comes from the configuration, so a checkpoint of another log under this
 * log's prefix fails even if it carries a valid signature.
 */
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

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

int gateway_status_read(const faro_log_config_t *config, int storage_fd, gateway_status_t *out, char *err)
{
    char *text;
    size_t len;
    json_error_t json_err;
    EVP_PKEY *key = NULL;

    memset(out, 0, sizeof(*out));
    if (gateway_files_slurp(storage_fd, "log.v3.json", LOG_JSON_MAX, &text, &len, err) != 0)
        return -1;
    out->log_json = json_loadb(text, len, 0, &json_err);
    free(text);
    if (!json_is_object(out->log_json))
        return tlog_errorf(err, "log.v3.json: not a JSON object");
    if (gateway_files_slurp(storage_fd, "checkpoint", TLOG_NOTE_MAX_SIZE, &out->checkpoint, &out->checkpoint_len, err) != 0)
        return -1;
    if (load_key(out, &key, err) != 0)
        return -1;
    int ret = verify_checkpoint(config, key, out, err);
    EVP_PKEY_free(key);
    return ret;
}

void gateway_status_free(gateway_status_t *status)
{
    json_decref(status->log_json);
    free(status->checkpoint);
    memset(status, 0, sizeof(*status));
}

const char *gateway_status_field(const gateway_status_t *status, const char *key)
{
    return json_string_value(json_object_get(status->log_json, key));
}
