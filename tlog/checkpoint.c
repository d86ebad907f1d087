/*
 * Checkpoint note text (c2sp.org/tlog-checkpoint): three lines, then
 * optional extension lines, each ending in '\n'.
 *
 * Parsing is one pass over the text with no allocation; the result keeps a
 * pointer to the extension lines, so the text must outlive it. Every value has
 * one accepted spelling (no leading zeros, canonical base64), so
 * tlog_checkpoint_format of a parsed checkpoint gives back the text it came from.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>

#include "tlog/checkpoint.h"
#include "tlog/error.h"

#define CHECKPOINT_SIZE_MAX INT64_MAX /* 2^63 - 1 */

/* Unicode White_Space above ASCII (Go's unicode.IsSpace, which note key names must avoid). */
static int checkpoint_is_space(unsigned long c)
{
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

int tlog_origin_valid(const char *origin, size_t len)
{
    const unsigned char *p = (const unsigned char *)origin, *end = p + len;

    if (len == 0)
        return 0;
    while (p < end) {
        unsigned long c;
        int n;
        if (*p < 0x80) {
            if (*p <= 0x20 || *p == 0x7f || *p == '+')
                return 0;
            p++;
            continue;
        }
        n = UTF8_getc(p, end - p < 4 ? (int)(end - p) : 4, &c);
        if (n <= 0 || c > 0x10ffff || checkpoint_is_space(c))
            return 0;
        p += n;
    }
    return 1;
}

/* The line starting at *pos (without its '\n'); advances *pos past the newline. 0, or -1 if no newline is left. */
static int checkpoint_line(const char *text, size_t len, size_t *pos, const char **line, size_t *line_len)
{
    const char *nl = memchr(text + *pos, '\n', len - *pos);
    if (nl == NULL)
        return -1;
    *line = text + *pos;
    *line_len = (size_t)(nl - *line);
    *pos += *line_len + 1;
    return 0;
}

static int checkpoint_parse_size(const char *s, size_t len, uint64_t *out, char *err)
{
    uint64_t v = 0;
    if (len == 0)
        return tlog_errorf(err, "checkpoint: tree size line is empty");
    if (len > 1 && s[0] == '0')
        return tlog_errorf(err, "checkpoint: tree size %.*s has a leading zero", (int)len, s);
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return tlog_errorf(err, "checkpoint: tree size %.*s is not a decimal number", (int)(len > 32 ? 32 : len), s);
        if (v > (CHECKPOINT_SIZE_MAX - (uint64_t)(s[i] - '0')) / 10)
            return tlog_errorf(err, "checkpoint: tree size %.*s is above 2^63 - 1", (int)(len > 32 ? 32 : len), s);
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static int checkpoint_parse_extensions(const char *text, size_t len, size_t pos, tlog_checkpoint_t *out, char *err)
{
    out->extensions = text + pos;
    out->extensions_len = len - pos;
    while (pos < len) {
        const char *line;
        size_t line_len;
        if (checkpoint_line(text, len, &pos, &line, &line_len) != 0)
            return tlog_errorf(err, "checkpoint: the last line does not end in a newline");
        if (line_len == 0)
            return tlog_errorf(err, "checkpoint: empty extension line");
    }
    return 0;
}

int tlog_checkpoint_parse(const char *text, size_t len, tlog_checkpoint_t *out, char *err)
{
    const char *origin, *size, *root;
    size_t origin_len, size_len, root_len, root_bytes, pos = 0;

    if (checkpoint_line(text, len, &pos, &origin, &origin_len) != 0)
        return tlog_errorf(err, "checkpoint: no origin line");
    if (checkpoint_line(text, len, &pos, &size, &size_len) != 0)
        return tlog_errorf(err, "checkpoint: no tree size line");
    if (checkpoint_line(text, len, &pos, &root, &root_len) != 0)
        return tlog_errorf(err, "checkpoint: no root hash line");
    if (!tlog_origin_valid(origin, origin_len))
        return tlog_errorf(err, "checkpoint: origin is empty or has white space, '+', a control character or invalid UTF-8");
    if (origin_len >= TLOG_ORIGIN_MAX)
        return tlog_errorf(err, "checkpoint: origin is %zu bytes, longer than %d", origin_len, TLOG_ORIGIN_MAX - 1);
    if (checkpoint_parse_size(size, size_len, &out->size, err) != 0)
        return -1;
    if (tlog_base64_decode(root, root_len, out->root.bytes, TLOG_HASH_SIZE, &root_bytes) != 0 || root_bytes != TLOG_HASH_SIZE)
        return tlog_errorf(err, "checkpoint: root hash is not the canonical base64 of 32 bytes");
    memcpy(out->origin, origin, origin_len);
    out->origin[origin_len] = '\0';
    return checkpoint_parse_extensions(text, len, pos, out, err);
}

size_t tlog_checkpoint_format(const tlog_checkpoint_t *checkpoint, char *buf, size_t cap)
{
    char root[TLOG_BASE64_LEN(TLOG_HASH_SIZE) + 1];
    int n;

    tlog_base64_encode(checkpoint->root.bytes, TLOG_HASH_SIZE, root);
    n = snprintf(buf, cap, "%s\n%" PRIu64 "\n%s\n", checkpoint->origin, checkpoint->size, root);
    if (n < 0 || (size_t)n >= cap || checkpoint->extensions_len >= cap - (size_t)n)
        return 0;
    if (checkpoint->extensions_len > 0)
        memcpy(buf + n, checkpoint->extensions, checkpoint->extensions_len);
    buf[n + checkpoint->extensions_len] = '\0';
    return (size_t)n + checkpoint->extensions_len;
}
