/*
 * The keys behind note signature lines: what each signature type signs and
 * how its key ID is made.
 *
 *   0x01 Ed25519      payload = sig[64] over the note text
 *   0x04 cosignature  payload = u64 seconds || sig[64] over tlog_cosignature_message
 *   0x05 RFC 6962     payload = u64 ms || digitally-signed(TreeHeadSignature input),
 *                     the text must be a checkpoint with no extension lines
 *
 * Key IDs are SHA-256(name || '\n' || type || key)[0:4], big-endian, where key
 * is the 32-byte Ed25519 public key, or for 0x05 the 32-byte LogID.
 *
 * Ed25519 is libsodium's; ECDSA is OpenSSL's through tlog/dsig.c. A signer
 * extends a verifier with its secret key, which is wiped when freed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <sodium.h>

#include "tlog/checkpoint.h"
#include "tlog/dsig.h"
#include "tlog/error.h"
#include "tlog/keys.h"
#include "tlog/note.h"

#define KEYS_ED25519_SIG crypto_sign_BYTES                 /* 64 */
#define KEYS_COSIG_PAYLOAD (8 + crypto_sign_BYTES)         /* 72 */
#define KEYS_TIMESTAMP_MAX ((uint64_t)INT64_MAX)           /* timestamps are at most 2^63 - 1 */
#define KEYS_VKEY_KEY_LEN (1 + crypto_sign_PUBLICKEYBYTES) /* type byte || public key */

struct tlog_verifier {
    int type; /* TLOG_SIG_* */
    uint32_t key_id;
    char name[TLOG_NOTE_NAME_MAX];                  /* NUL-terminated key name */
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES]; /* 0x01 and 0x04 */
    EVP_PKEY *pkey;                                 /* 0x05: ECDSA P-256, up-referenced */
};

struct tlog_signer {
    tlog_verifier_t super;
    uint8_t secret_key[crypto_sign_SECRETKEYBYTES]; /* 0x01 and 0x04: libsodium's seed || public key */
};

static uint64_t keys_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void keys_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint32_t keys_key_id(const char *name, size_t name_len, int type, const uint8_t key[32])
{
    uint8_t buf[TLOG_NOTE_NAME_MAX + 2 + 32];
    tlog_hash_t hash;

    memcpy(buf, name, name_len);
    buf[name_len] = '\n';
    buf[name_len + 1] = (uint8_t)type;
    memcpy(buf + name_len + 2, key, 32);
    tlog_sha256(buf, name_len + 2 + 32, &hash);
    return (uint32_t)hash.bytes[0] << 24 | (uint32_t)hash.bytes[1] << 16 | (uint32_t)hash.bytes[2] << 8 | hash.bytes[3];
}

static int keys_set_name(tlog_verifier_t *v, const char *name, size_t len, char *err)
{
    if (!tlog_origin_valid(name, len))
        return tlog_errorf(err, "key name is empty or has white space, '+', a control character or invalid UTF-8");
    if (len >= TLOG_NOTE_NAME_MAX)
        return tlog_errorf(err, "key name is %zu bytes, longer than %d", len, TLOG_NOTE_NAME_MAX - 1);
    memcpy(v->name, name, len);
    v->name[len] = '\0';
    return 0;
}

static int keys_init_ed25519(tlog_verifier_t *v, const char *name, size_t name_len, const uint8_t public_key[32], int type,
                             char *err)
{
    if (type != TLOG_SIG_ED25519 && type != TLOG_SIG_COSIGNATURE)
        return tlog_errorf(err, "signature type 0x%02x is not an Ed25519 type (0x01 or 0x04)", (unsigned)type);
    if (sodium_init() < 0)
        return tlog_errorf(err, "libsodium cannot be initialised");
    if (keys_set_name(v, name, name_len, err) != 0)
        return -1;
    v->type = type;
    memcpy(v->public_key, public_key, sizeof(v->public_key));
    v->key_id = keys_key_id(v->name, name_len, type, public_key);
    return 0;
}

static int keys_init_rfc6962(tlog_verifier_t *v, const char *origin, EVP_PKEY *key, char *err)
{
    uint8_t log_id[32];

    if (keys_set_name(v, origin, strlen(origin), err) != 0 || tlog_key_check_type(key, EVP_PKEY_EC, err) != 0 ||
        tlog_key_log_id(key, log_id, err) != 0)
        return -1;
    if (EVP_PKEY_up_ref(key) != 1)
        return tlog_errorf(err, "cannot take a reference to the key");
    v->type = TLOG_SIG_RFC6962;
    v->pkey = key;
    v->key_id = keys_key_id(v->name, strlen(v->name), TLOG_SIG_RFC6962, log_id);
    return 0;
}

int tlog_verifier_ed25519(const char *name, const uint8_t public_key[32], int type, tlog_verifier_t **out, char *err)
{
    tlog_verifier_t *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return tlog_errorf(err, "out of memory");
    if (keys_init_ed25519(v, name, strlen(name), public_key, type, err) != 0) {
        free(v);
        return -1;
    }
    *out = v;
    return 0;
}

int tlog_verifier_rfc6962(const char *origin, EVP_PKEY *public_key, tlog_verifier_t **out, char *err)
{
    tlog_verifier_t *v = calloc(1, sizeof(*v));

    if (v == NULL)
        return tlog_errorf(err, "out of memory");
    if (keys_init_rfc6962(v, origin, public_key, err) != 0) {
        free(v);
        return -1;
    }
    *out = v;
    return 0;
}

/* vkey = name '+' 8 hex digits '+' base64(type || key); the base64 may itself hold '+'. */
int tlog_verifier_from_vkey(const char *vkey, size_t len, tlog_verifier_t **out, char *err)
{
    const char *end = vkey + len, *plus1, *plus2;
    uint8_t id[4], key[64];
    size_t key_len;
    tlog_verifier_t *v = NULL;
    uint32_t key_id;

    if ((plus1 = memchr(vkey, '+', len)) == NULL)
        return tlog_errorf(err, "vkey: no '+' after the key name");
    if ((plus2 = memchr(plus1 + 1, '+', (size_t)(end - plus1 - 1))) == NULL)
        return tlog_errorf(err, "vkey: no '+' after the key ID");
    if (plus2 - plus1 - 1 != 8 || tlog_hex_decode(plus1 + 1, 8, id, sizeof(id)) != 0)
        return tlog_errorf(err, "vkey: the key ID is not 8 hex digits");
    if (tlog_base64_decode(plus2 + 1, (size_t)(end - plus2 - 1), key, sizeof(key), &key_len) != 0 || key_len == 0)
        return tlog_errorf(err, "vkey: the key is not canonical base64 of a type byte and a public key");
    if (key[0] != TLOG_SIG_ED25519 && key[0] != TLOG_SIG_COSIGNATURE)
        return tlog_errorf(err, "vkey: key type 0x%02x is not supported (0x01 Ed25519 or 0x04 cosignature)", key[0]);
    if (key_len != KEYS_VKEY_KEY_LEN)
        return tlog_errorf(err, "vkey: the key is %zu bytes, want %d (type byte and Ed25519 public key)", key_len,
                           KEYS_VKEY_KEY_LEN);
    if ((v = calloc(1, sizeof(*v))) == NULL)
        return tlog_errorf(err, "out of memory");
    if (keys_init_ed25519(v, vkey, (size_t)(plus1 - vkey), key + 1, key[0], err) != 0)
        goto fail;
    key_id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    if (key_id != v->key_id) {
        tlog_errorf(err, "vkey: key ID %08" PRIx32 " does not match the name and key (%08" PRIx32 ")", key_id, v->key_id);
        goto fail;
    }
    *out = v;
    return 0;

fail:
    free(v);
    return -1;
}

void tlog_verifier_free(tlog_verifier_t *verifier)
{
    if (verifier == NULL)
        return;
    EVP_PKEY_free(verifier->pkey);
    free(verifier);
}

const char *tlog_verifier_name(const tlog_verifier_t *verifier)
{
    return verifier->name;
}

uint32_t tlog_verifier_key_id(const tlog_verifier_t *verifier)
{
    return verifier->key_id;
}

int tlog_verifier_type(const tlog_verifier_t *verifier)
{
    return verifier->type;
}

int tlog_verifier_vkey(const tlog_verifier_t *verifier, char *out, size_t cap)
{
    uint8_t key[KEYS_VKEY_KEY_LEN];
    char b64[TLOG_BASE64_LEN(KEYS_VKEY_KEY_LEN) + 1];
    int n;

    if (verifier->type != TLOG_SIG_ED25519 && verifier->type != TLOG_SIG_COSIGNATURE)
        return -1;
    key[0] = (uint8_t)verifier->type;
    memcpy(key + 1, verifier->public_key, sizeof(verifier->public_key));
    tlog_base64_encode(key, sizeof(key), b64);
    n = snprintf(out, cap, "%s+%08" PRIx32 "+%s", verifier->name, verifier->key_id, b64);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int keys_cosignature_message(const char *text, size_t text_len, uint64_t timestamp_s, char **msg, size_t *msg_len, char *err)
{
    if (tlog_cosignature_message(text, text_len, timestamp_s, msg, msg_len) != 0)
        return tlog_errorf(err, "out of memory");
    return 0;
}

/* The TreeHeadSignature input for a 0x05 signature by v over text. */
static int keys_tree_head_input(const tlog_verifier_t *v, const char *text, size_t text_len, uint64_t timestamp_ms,
                                uint8_t input[TLOG_TREE_HEAD_INPUT_SIZE], char *err)
{
    tlog_checkpoint_t checkpoint;
    char why[TLOG_ERR_MAX];

    if (tlog_checkpoint_parse(text, text_len, &checkpoint, why) != 0)
        return tlog_errorf(err, "RFC 6962 signature over text that is not a checkpoint (%s)", why);
    if (checkpoint.extensions_len != 0)
        return tlog_errorf(err, "RFC 6962 signature over a checkpoint with extension lines");
    if (strcmp(checkpoint.origin, v->name) != 0)
        return tlog_errorf(err, "RFC 6962 key %s cannot sign a checkpoint of origin %s", v->name, checkpoint.origin);
    tlog_tree_head_input(timestamp_ms, checkpoint.size, &checkpoint.root, input);
    return 0;
}

static int keys_check_ed25519(const tlog_verifier_t *v, const char *text, size_t text_len, const uint8_t *payload,
                              size_t payload_len, char *err)
{
    if (payload_len != KEYS_ED25519_SIG)
        return tlog_errorf(err, "Ed25519 signature is %zu bytes, want %d", payload_len, KEYS_ED25519_SIG);
    if (crypto_sign_verify_detached(payload, (const unsigned char *)text, text_len, v->public_key) != 0)
        return tlog_errorf(err, "Ed25519 signature does not verify");
    return 0;
}

static int keys_check_cosignature(const tlog_verifier_t *v, const char *text, size_t text_len, const uint8_t *payload,
                                  size_t payload_len, uint64_t *timestamp, char *err)
{
    char *msg = NULL;
    size_t msg_len;
    int ok;

    if (payload_len != KEYS_COSIG_PAYLOAD)
        return tlog_errorf(err, "cosignature is %zu bytes, want %d (timestamp and Ed25519 signature)", payload_len,
                           KEYS_COSIG_PAYLOAD);
    *timestamp = keys_get_u64(payload);
    if (*timestamp > KEYS_TIMESTAMP_MAX)
        return tlog_errorf(err, "cosignature timestamp %" PRIu64 " is above 2^63 - 1", *timestamp);
    if (keys_cosignature_message(text, text_len, *timestamp, &msg, &msg_len, err) != 0)
        return -1;
    ok = crypto_sign_verify_detached(payload + 8, (const unsigned char *)msg, msg_len, v->public_key) == 0;
    free(msg);
    return ok ? 0 : tlog_errorf(err, "cosignature does not verify");
}

static int keys_check_rfc6962(const tlog_verifier_t *v, const char *text, size_t text_len, const uint8_t *payload,
                              size_t payload_len, uint64_t *timestamp, char *err)
{
    uint8_t input[TLOG_TREE_HEAD_INPUT_SIZE];
    char why[TLOG_ERR_MAX];

    if (payload_len < 8)
        return tlog_errorf(err, "RFC 6962 signature is %zu bytes, shorter than its timestamp", payload_len);
    *timestamp = keys_get_u64(payload);
    if (keys_tree_head_input(v, text, text_len, *timestamp, input, err) != 0)
        return -1;
    if (tlog_digitally_signed_verify(v->pkey, input, sizeof(input), payload + 8, payload_len - 8, why) != 0)
        return tlog_errorf(err, "RFC 6962 signature: %s", why);
    return 0;
}

int tlog_verifier_check(const tlog_verifier_t *verifier, const char *text, size_t text_len, const uint8_t *payload,
                        size_t payload_len, uint64_t *timestamp, char *err)
{
    *timestamp = 0;
    switch (verifier->type) {
    case TLOG_SIG_ED25519:
        return keys_check_ed25519(verifier, text, text_len, payload, payload_len, err);
    case TLOG_SIG_COSIGNATURE:
        return keys_check_cosignature(verifier, text, text_len, payload, payload_len, timestamp, err);
    default:
        return keys_check_rfc6962(verifier, text, text_len, payload, payload_len, timestamp, err);
    }
}

int tlog_signer_ed25519(const char *name, const uint8_t seed[32], int type, tlog_signer_t **out, char *err)
{
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
    tlog_signer_t *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return tlog_errorf(err, "out of memory");
    if (sodium_init() < 0) {
        tlog_errorf(err, "libsodium cannot be initialised");
        goto fail;
    }
    crypto_sign_seed_keypair(public_key, s->secret_key, seed);
    if (keys_init_ed25519(&s->super, name, strlen(name), public_key, type, err) != 0)
        goto fail;
    *out = s;
    return 0;

fail:
    tlog_signer_free(s);
    return -1;
}

static int keys_check_private(EVP_PKEY *key, char *err)
{
    BIGNUM *scalar = NULL;

    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &scalar) != 1)
        return tlog_errorf(err, "the ECDSA key has no private part");
    BN_clear_free(scalar);
    return 0;
}

int tlog_signer_rfc6962(const char *origin, EVP_PKEY *private_key, tlog_signer_t **out, char *err)
{
    tlog_signer_t *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return tlog_errorf(err, "out of memory");
    if (keys_init_rfc6962(&s->super, origin, private_key, err) != 0 || keys_check_private(private_key, err) != 0)
        goto fail;
    *out = s;
    return 0;

fail:
    tlog_signer_free(s);
    return -1;
}

void tlog_signer_free(tlog_signer_t *signer)
{
    if (signer == NULL)
        return;
    EVP_PKEY_free(signer->super.pkey);
    sodium_memzero(signer, sizeof(*signer));
    free(signer);
}

int tlog_signer_verifier(const tlog_signer_t *signer, tlog_verifier_t **out, char *err)
{
    if (signer->super.type == TLOG_SIG_RFC6962)
        return tlog_verifier_rfc6962(signer->super.name, signer->super.pkey, out, err);
    return tlog_verifier_ed25519(signer->super.name, signer->super.public_key, signer->super.type, out, err);
}

const char *tlog_signer_name(const tlog_signer_t *signer)
{
    return signer->super.name;
}

static int keys_sign_cosignature(const tlog_signer_t *s, const char *text, size_t text_len, uint64_t timestamp_s, uint8_t *out,
                                 char *err)
{
    char *msg;
    size_t msg_len;

    if (keys_cosignature_message(text, text_len, timestamp_s, &msg, &msg_len, err) != 0)
        return -1;
    keys_put_u64(out, timestamp_s);
    crypto_sign_detached(out + 8, NULL, (const unsigned char *)msg, msg_len, s->secret_key);
    free(msg);
    return 0;
}

static int keys_sign_rfc6962(const tlog_signer_t *s, const char *text, size_t text_len, uint64_t timestamp_ms, uint8_t *out,
                             size_t cap, size_t *out_len, char *err)
{
    uint8_t input[TLOG_TREE_HEAD_INPUT_SIZE];
    size_t ds_len;

    if (keys_tree_head_input(&s->super, text, text_len, timestamp_ms, input, err) != 0)
        return -1;
    keys_put_u64(out, timestamp_ms);
    if (tlog_digitally_signed_sign(s->super.pkey, NULL, input, sizeof(input), out + 8, cap - 8, &ds_len, err) != 0)
        return -1;
    *out_len = 8 + ds_len;
    return 0;
}

int tlog_signer_sign(const tlog_signer_t *signer, const char *text, size_t text_len, uint64_t timestamp_ms,
                     uint8_t out[TLOG_NOTE_SIG_MAX], size_t *out_len, char *err)
{
    uint8_t *payload = out + 4;
    size_t payload_len;

    out[0] = (uint8_t)(signer->super.key_id >> 24);
    out[1] = (uint8_t)(signer->super.key_id >> 16);
    out[2] = (uint8_t)(signer->super.key_id >> 8);
    out[3] = (uint8_t)signer->super.key_id;
    switch (signer->super.type) {
    case TLOG_SIG_ED25519:
        crypto_sign_detached(payload, NULL, (const unsigned char *)text, text_len, signer->secret_key);
        payload_len = KEYS_ED25519_SIG;
        break;
    case TLOG_SIG_COSIGNATURE:
        if (keys_sign_cosignature(signer, text, text_len, timestamp_ms / 1000, payload, err) != 0)
            return -1;
        payload_len = KEYS_COSIG_PAYLOAD;
        break;
    default:
        if (keys_sign_rfc6962(signer, text, text_len, timestamp_ms, payload, TLOG_NOTE_SIG_MAX - 4, &payload_len, err) != 0)
            return -1;
        break;
    }
    *out_len = 4 + payload_len;
    return 0;
}
