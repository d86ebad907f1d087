/*
 * Log keys as PEM files, read with OpenSSL's PEM decoders.
 *
 * A private key file must be accessible to its owner only. The mode is read
 * with fstat on the descriptor that is then parsed, so the file checked is
 * the file read. Encrypted PEM is refused instead of prompting for a pass
 * phrase. Raw Ed25519 seeds copied out are the caller's to wipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/keys.h"

static const char *keys_openssl_reason(void)
{
    const char *reason = ERR_reason_error_string(ERR_peek_last_error());
    ERR_clear_error();
    return reason != NULL ? reason : "no reason given";
}

static const char *keys_type_name(EVP_PKEY *key)
{
    const char *name = EVP_PKEY_get0_type_name(key);
    return name != NULL ? name : "of an unknown type";
}

static int keys_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf, (void)size, (void)rwflag, (void)arg;
    return -1;
}

int tlog_key_check_type(EVP_PKEY *key, int type, char *err)
{
    char group[64];
    size_t group_len;

    if (type == EVP_PKEY_NONE)
        return 0;
    if (type == EVP_PKEY_ED25519) {
        if (!EVP_PKEY_is_a(key, "ED25519"))
            return tlog_errorf(err, "the key is %s, want Ed25519", keys_type_name(key));
        return 0;
    }
    if (type != EVP_PKEY_EC)
        return tlog_errorf(err, "key type %d is neither EC nor Ed25519", type);
    if (!EVP_PKEY_is_a(key, "EC"))
        return tlog_errorf(err, "the key is %s, want ECDSA P-256", keys_type_name(key));
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len) != 1)
        return tlog_errorf(err, "the EC key has no named curve, want P-256");
    if (strcmp(group, SN_X9_62_prime256v1) != 0)
        return tlog_errorf(err, "the EC key is on curve %s, want P-256 (prime256v1)", group);
    return 0;
}

/* Opens path for PEM reading; a private key file must be a regular file with no group or other permissions. */
static BIO *keys_open(const char *path, int private_key, char *err)
{
    struct stat st;
    BIO *bio;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        tlog_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0) {
        tlog_errorf(err, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        tlog_errorf(err, "%s: not a regular file", path);
        goto fail;
    }
    if (private_key && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        tlog_errorf(err, "%s: private key file has mode %04o, so group or others can read it; run chmod 600 %s", path,
                    (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    if ((bio = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
        tlog_errorf(err, "%s: %s", path, keys_openssl_reason());
        goto fail;
    }
    return bio;

fail:
    close(fd);
    return NULL;
}

/*
 * Why a key file did not load, from the label of its first PEM block: a
 * public key or certificate where a private key belongs, an encrypted key,
 * no PEM at all, or a block that does not decode. Only the label is read
 * into the message, never the block's bytes, which may be a broken secret.
 */
static void keys_explain_refusal(BIO *bio, int private_key, char *why, size_t cap)
{
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;

    ERR_clear_error();
    if (BIO_reset(bio) < 0)
        snprintf(why, cap, "%s", keys_openssl_reason());
    else if (!PEM_read_bio(bio, &name, &header, &data, &len))
        snprintf(why, cap,
                 ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE
                     ? "the file has no PEM block (convert a DER key with openssl pkey -outform PEM)"
                     : "its PEM block is cut short or malformed");
    else if (strstr(name, "ENCRYPTED") != NULL)
        snprintf(why, cap, "the %s block is encrypted; faro reads keys unencrypted, protected by file permissions", name);
    else if (private_key && strstr(name, "PRIVATE KEY") == NULL)
        snprintf(why, cap, "the file holds a %s block, not a private key", name);
    else if (!private_key && strcmp(name, "PUBLIC KEY") != 0)
        snprintf(why, cap, "the file holds a %s block, not a PUBLIC KEY", name);
    else
        snprintf(why, cap, "its %s block does not decode (truncated or corrupted?)", name);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, len > 0 ? (size_t)len : 0);
    ERR_clear_error();
}

/* Reads one private or public key PEM from path and checks its type. */
static int keys_load(const char *path, int type, int private_key, EVP_PKEY **out, char *err)
{
    char why[TLOG_ERR_MAX];
    EVP_PKEY *key = NULL;
    BIO *bio = keys_open(path, private_key, err);

    if (bio == NULL)
        return -1;
    key = private_key ? PEM_read_bio_PrivateKey(bio, NULL, keys_no_passphrase, NULL) : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (key == NULL) {
        keys_explain_refusal(bio, private_key, why, sizeof(why));
        tlog_errorf(err, "%s: not an unencrypted PEM %s key: %s", path, private_key ? "private" : "public", why);
        goto fail;
    }
    if (tlog_key_check_type(key, type, why) != 0) {
        tlog_errorf(err, "%s: %s", path, why);
        goto fail;
    }
    BIO_free(bio);
    *out = key;
    return 0;

fail:
    EVP_PKEY_free(key);
    BIO_free(bio);
    return -1;
}

int tlog_key_load_private(const char *path, int type, EVP_PKEY **out, char *err)
{
    return keys_load(path, type, 1, out, err);
}

int tlog_key_load_public(const char *path, int type, EVP_PKEY **out, char *err)
{
    return keys_load(path, type, 0, out, err);
}

int tlog_key_spki(EVP_PKEY *key, uint8_t **der, size_t *len, char *err)
{
    int n = i2d_PUBKEY(key, NULL);
    uint8_t *buf, *p;

    if (n <= 0)
        return tlog_errorf(err, "cannot encode the public key: %s", keys_openssl_reason());
    if ((buf = malloc((size_t)n)) == NULL)
        return tlog_errorf(err, "out of memory");
    p = buf;
    if (i2d_PUBKEY(key, &p) != n) {
        free(buf);
        return tlog_errorf(err, "cannot encode the public key: %s", keys_openssl_reason());
    }
    *der = buf;
    *len = (size_t)n;
    return 0;
}

int tlog_key_log_id(EVP_PKEY *key, uint8_t out[32], char *err)
{
    uint8_t *der;
    size_t len;
    tlog_hash_t id;

    if (tlog_key_spki(key, &der, &len, err) != 0)
        return -1;
    tlog_sha256(der, len, &id);
    free(der);
    memcpy(out, id.bytes, TLOG_HASH_SIZE);
    return 0;
}

int tlog_key_ed25519_seed(EVP_PKEY *key, uint8_t out[32], char *err)
{
    size_t len = 32;
    if (tlog_key_check_type(key, EVP_PKEY_ED25519, err) != 0)
        return -1;
    if (EVP_PKEY_get_raw_private_key(key, out, &len) != 1 || len != 32)
        return tlog_errorf(err, "the Ed25519 key has no private part: %s", keys_openssl_reason());
    return 0;
}

int tlog_key_ed25519_public(EVP_PKEY *key, uint8_t out[32], char *err)
{
    size_t len = 32;
    if (tlog_key_check_type(key, EVP_PKEY_ED25519, err) != 0)
        return -1;
    if (EVP_PKEY_get_raw_public_key(key, out, &len) != 1 || len != 32)
        return tlog_errorf(err, "cannot read the Ed25519 public key: %s", keys_openssl_reason());
    return 0;
}
