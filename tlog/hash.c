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

/* One more than the value of each base64 character; 0 for everything else, '=' included. */
static const uint8_t base64_digits[256] = {
    /* clang-format off */
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
    /* clang-format on */
};

/*
 * Table-driven, about ten times libsodium's constant-time decoder: every
 * submitted certificate passes through here, and nothing faro decodes is
 * secret. Only the last group may hold padding, and the bits padding drops
 * must be zero, so every byte string has exactly one accepted spelling.
 */
int tlog_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    const uint8_t *s = (const uint8_t *)in;
    if (in_len % 4 != 0)
        return -1;
    if (in_len == 0) {
        *out_len = 0;
        return 0;
    }
    size_t pad = (s[in_len - 1] == '=') + (s[in_len - 1] == '=' && s[in_len - 2] == '=');
    size_t n = in_len / 4 * 3 - pad;
    if (n > out_cap)
        return -1;
    size_t whole = in_len - (pad != 0) * 4; /* characters in groups without padding */
    for (size_t i = 0; i < whole; i += 4, out += 3) {
        uint32_t a = base64_digits[s[i]], b = base64_digits[s[i + 1]], c = base64_digits[s[i + 2]], d = base64_digits[s[i + 3]];
        if (a == 0 || b == 0 || c == 0 || d == 0)
            return -1;
        uint32_t v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
        out[0] = (uint8_t)(v >> 16);
        out[1] = (uint8_t)(v >> 8);
        out[2] = (uint8_t)v;
    }
    if (pad != 0) {
        const uint8_t *g = s + whole;
        uint32_t a = base64_digits[g[0]], b = base64_digits[g[1]], c = pad == 1 ? base64_digits[g[2]] : 1;
        if (a == 0 || b == 0 || c == 0)
            return -1;
        uint32_t v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6;
        if ((pad == 2 ? v & 0xffff : v & 0xff) != 0) /* bits no byte takes */
            return -1;
        out[0] = (uint8_t)(v >> 16);
        if (pad == 1)
            out[1] = (uint8_t)(v >> 8);
    }
    *out_len = n;
    return 0;
}
