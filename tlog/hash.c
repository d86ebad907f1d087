/*
 * SHA-256 through OpenSSL's EVP interface. The digest is fetched once and
 * each thread reuses one context, so a 65-byte node hash costs the
 * compression function calls and little else.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "tlog/hash.h"

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_key_t sha256_key; /* frees a thread's context when the thread exits */
static __thread EVP_MD_CTX *thread_ctx;

static void sha256_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
    thread_ctx = NULL;
}

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pthread_key_create(&sha256_key, sha256_ctx_free) != 0)
        abort();
}

static EVP_MD_CTX *sha256_begin(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    if (thread_ctx == NULL) {
        thread_ctx = EVP_MD_CTX_new();
        pthread_setspecific(sha256_key, thread_ctx);
    }
    if (sha256_md == NULL || thread_ctx == NULL || !EVP_DigestInit_ex(thread_ctx, sha256_md, NULL))
        abort(); /* out of memory or a broken libcrypto: nothing sensible to do */
    return thread_ctx;
}

static void sha256_end(EVP_MD_CTX *ctx, tlog_hash_t *out)
{
    if (!EVP_DigestFinal_ex(ctx, out->bytes, NULL))
        abort();
}

void tlog_sha256(const void *data, size_t len, tlog_hash_t *out)
{
    EVP_MD_CTX *ctx = sha256_begin();
    EVP_DigestUpdate(ctx, data, len);
    sha256_end(ctx, out);
}

void tlog_leaf_hash(const void *data, size_t len, tlog_hash_t *out)
{
    static const uint8_t prefix = 0x00;
    EVP_MD_CTX *ctx = sha256_begin();
    EVP_DigestUpdate(ctx, &prefix, 1);
    EVP_DigestUpdate(ctx, data, len);
    sha256_end(ctx, out);
}

void tlog_node_hash(const tlog_hash_t *left, const tlog_hash_t *right, tlog_hash_t *out)
{
    uint8_t buf[1 + 2 * TLOG_HASH_SIZE];
    buf[0] = 0x01;
    memcpy(buf + 1, left->bytes, TLOG_HASH_SIZE);
    memcpy(buf + 1 + TLOG_HASH_SIZE, right->bytes, TLOG_HASH_SIZE);
    EVP_MD_CTX *ctx = sha256_begin();
    EVP_DigestUpdate(ctx, buf, sizeof(buf));
    sha256_end(ctx, out);
}

void tlog_empty_root(tlog_hash_t *out)
{
    tlog_sha256("", 0, out);
}

int tlog_hash_equal(const tlog_hash_t *a, const tlog_hash_t *b)
{
    return memcmp(a->bytes, b->bytes, TLOG_HASH_SIZE) == 0;
}

void tlog_hex_encode(const uint8_t *in, size_t len, char *out)
{
    sodium_bin2hex(out, 2 * len + 1, in, len);
}

int tlog_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len)
{
    size_t bin_len;
    const char *end;
    if (in_len != 2 * out_len)
        return -1;
    if (sodium_hex2bin(out, out_len, in, in_len, NULL, &bin_len, &end) != 0 || bin_len != out_len || end != in + in_len)
        return -1;
    return 0;
}

/*
 * OpenSSL's table-driven encoder, about five times libsodium's constant-time
 * one: the RFC 6962 API encodes hundreds of KiB per get-entries answer, and
 * nothing faro encodes is secret. EVP_EncodeBlock takes an int length, so
 * long inputs go in chunks of whole 3-byte groups.
 */
size_t tlog_base64_encode(const uint8_t *in, size_t len, char *out)
{
    const size_t chunk = (size_t)3 << 28;
    size_t done = 0;
    for (; len - done > chunk; done += chunk)
        out += EVP_EncodeBlock((unsigned char *)out, in + done, (int)chunk);
    EVP_EncodeBlock((unsigned char *)out, in + done, (int)(len - done));
    return TLOG_BASE64_LEN(len);
}

static int is_base64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

int tlog_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    const char *end;
    size_t n;
    if (in_len % 4 != 0)
        return -1;
    /* libsodium 1.0.18 decodes bytes above 0x7f as '/': refuse them, so every value has one spelling. */
    for (size_t i = 0; i < in_len; i++)
        if (!is_base64_char((unsigned char)in[i]))
            return -1;
    if (in_len / 4 * 3 > out_cap + 2)
        return -1;
    if (sodium_base642bin(out, out_cap, in, in_len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    if (end != in + in_len)
        return -1;
    *out_len = n;
    return 0;
}
