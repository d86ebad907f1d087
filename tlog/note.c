/*
 * Signed notes (c2sp.org/signed-note): parsing, formatting, and the
 * note-level rules of verifying and signing. What a signature of each type
 * covers lives in note_keys.c.
 *
 * A parsed note is one allocation: the header, the sigs array, then every
 * decoded signature; text, names and lines point into the caller's buffer.
 * Parsing is linear in the note's size, which is capped at TLOG_NOTE_MAX_SIZE,
 * and reads nothing past it. Verifying costs one signature check per known
 * key that has a line, whatever the number of lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>

#include "tlog/checkpoint.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/note.h"

#define NOTE_DASH "\xe2\x80\x94 " /* U+2014 EM DASH and a space start every signature line */
#define NOTE_DASH_LEN 4
#define NOTE_KEY_ID_LEN 4
/* "— " name " " base64(signature) "\n" */
#define NOTE_LINE_MAX (NOTE_DASH_LEN + TLOG_NOTE_NAME_MAX + 1 + TLOG_BASE64_LEN(TLOG_NOTE_SIG_MAX) + 1)

/* Valid UTF-8 with no control characters but '\n'; errors name the line. */
static int note_check_chars(const char *buf, size_t len, char *err)
{
    const unsigned char *p = (const unsigned char *)buf, *end = p + len;
    size_t line = 1;

    while (p < end) {
        unsigned long c;
        int n;
        if (*p == '\n') {
            line++;
            p++;
            continue;
        }
        if (*p < 0x20)
            return tlog_errorf(err, "line %zu: control character 0x%02x (only \\n may end a line)", line, *p);
        if (*p < 0x80) {
            p++;
            continue;
        }
        n = UTF8_getc(p, end - p < 4 ? (int)(end - p) : 4, &c);
        if (n <= 0 || c > 0x10ffff)
            return tlog_errorf(err, "line %zu: invalid UTF-8", line);
        p += n;
    }
    return 0;
}

/* The last "\n\n" in buf, or NULL. */
static const char *note_split(const char *buf, size_t len)
{
    for (size_t i = len; i >= 2; i--)
        if (buf[i - 2] == '\n' && buf[i - 1] == '\n')
            return buf + i - 2;
    return NULL;
}

/*
 * Parses "— name base64" (line_len bytes, the '\n' excluded), decoding into
 * payload, which has room for line_len bytes. Returns the decoded length or -1.
 */
static int note_parse_sig(const char *line, size_t line_len, size_t number, tlog_note_sig_t *sig, uint8_t *payload, char *err)
{
    const char *name, *space, *b64;
    size_t b64_len, n;

    if (line_len < NOTE_DASH_LEN || memcmp(line, NOTE_DASH, NOTE_DASH_LEN) != 0)
        return tlog_errorf(err, "signature line %zu: does not start with an em dash (U+2014) and a space", number);
    name = line + NOTE_DASH_LEN;
    if ((space = memchr(name, ' ', line_len - NOTE_DASH_LEN)) == NULL)
        return tlog_errorf(err, "signature line %zu: no space between the key name and the signature", number);
    if (!tlog_origin_valid(name, (size_t)(space - name)))
        return tlog_errorf(err, "signature line %zu: key name is empty or has white space, '+' or a control character", number);
    b64 = space + 1;
    b64_len = (size_t)(line + line_len - b64);
    if (tlog_base64_decode(b64, b64_len, payload, b64_len / 4 * 3, &n) != 0)
        return tlog_errorf(err, "signature line %zu: base64 does not decode", number);
    if (n <= NOTE_KEY_ID_LEN)
        return tlog_errorf(err, "signature line %zu: signature is %zu bytes, too short for a key ID and a signature", number, n);
    sig->name = name;
    sig->name_len = (size_t)(space - name);
    sig->key_id = (uint32_t)payload[0] << 24 | (uint32_t)payload[1] << 16 | (uint32_t)payload[2] << 8 | payload[3];
    sig->payload = payload + NOTE_KEY_ID_LEN;
    sig->payload_len = n - NOTE_KEY_ID_LEN;
    sig->line = line;
    sig->line_len = line_len + 1;
    return (int)n;
}

/* Checks the signature block (after the blank line) and counts its lines. */
static int note_count_sigs(const char *sigs, size_t len, size_t *count, char *err)
{
    size_t n = 0;

    if (len == 0)
        return tlog_errorf(err, "no signature lines after the blank line");
    if (sigs[len - 1] != '\n')
        return tlog_errorf(err, "the last signature line does not end in a newline");
    for (size_t i = 0; i < len; i++)
        n += sigs[i] == '\n';
    if (n > TLOG_NOTE_MAX_SIGS)
        return tlog_errorf(err, "%zu signature lines, more than %d", n, TLOG_NOTE_MAX_SIGS);
    *count = n;
    return 0;
}

int tlog_note_parse(const char *buf, size_t len, tlog_note_t **out, char *err)
{
    tlog_note_t *note = NULL;
    const char *split, *sigs, *end = buf + len;
    size_t nsigs = 0;
    uint8_t *payload;

    if (len > TLOG_NOTE_MAX_SIZE)
        return tlog_errorf(err, "note is %zu bytes, more than %d", len, TLOG_NOTE_MAX_SIZE);
    if (note_check_chars(buf, len, err) != 0)
        return -1;
    if ((split = note_split(buf, len)) == NULL)
        return tlog_errorf(err, "no blank line between the text and the signatures");
    sigs = split + 2;
    if (note_count_sigs(sigs, (size_t)(end - sigs), &nsigs, err) != 0)
        return -1;
    if ((note = malloc(sizeof(*note) + nsigs * sizeof(note->sigs[0]) + (size_t)(end - sigs))) == NULL)
        return tlog_errorf(err, "out of memory");
    note->text = buf;
    note->text_len = (size_t)(split + 1 - buf);
    note->nsigs = nsigs;
    payload = (uint8_t *)&note->sigs[nsigs];
    for (size_t i = 0; i < nsigs; i++) {
        const char *nl = memchr(sigs, '\n', (size_t)(end - sigs));
        int n = note_parse_sig(sigs, (size_t)(nl - sigs), i + 1, &note->sigs[i], payload, err);
        if (n < 0)
            goto fail;
        payload += n;
        sigs = nl + 1;
    }
    *out = note;
    return 0;

fail:
    free(note);
    return -1;
}

void tlog_note_free(tlog_note_t *note)
{
    free(note);
}

static int note_line_repeated(const tlog_note_t *note, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (note->sigs[j].line_len == note->sigs[i].line_len &&
            memcmp(note->sigs[j].line, note->sigs[i].line, note->sigs[i].line_len) == 0)
            return 1;
    return 0;
}

int tlog_note_format(const tlog_note_t *note, char **out, size_t *out_len)
{
    size_t len = note->text_len + 1;
    char *buf, *p;

    for (size_t i = 0; i < note->nsigs; i++)
        len += note->sigs[i].line_len;
    if ((buf = malloc(len + 1)) == NULL)
        return -1;
    memcpy(buf, note->text, note->text_len);
    p = buf + note->text_len;
    *p++ = '\n';
    for (size_t i = 0; i < note->nsigs; i++) {
        if (note_line_repeated(note, i))
            continue;
        memcpy(p, note->sigs[i].line, note->sigs[i].line_len);
        p += note->sigs[i].line_len;
    }
    *p = '\0';
    *out = buf;
    *out_len = (size_t)(p - buf);
    return 0;
}

/* The first line carrying verifier's (name, key ID), or note->nsigs. */
static size_t note_find_sig(const tlog_note_t *note, const tlog_verifier_t *verifier)
{
    const char *name = tlog_verifier_name(verifier);
    size_t name_len = strlen(name);

    for (size_t i = 0; i < note->nsigs; i++) {
        const tlog_note_sig_t *sig = &note->sigs[i];
        if (sig->key_id == tlog_verifier_key_id(verifier) && sig->name_len == name_len && memcmp(sig->name, name, name_len) == 0)
            return i;
    }
    return note->nsigs;
}

int tlog_note_verify(const tlog_note_t *note, tlog_verifier_t *const *verifiers, size_t nverifiers, tlog_note_result_t *results,
                     char *err)
{
    size_t nsigned = 0;
    char why[TLOG_ERR_MAX];

    if (results != NULL)
        memset(results, 0, nverifiers * sizeof(*results));
    for (size_t j = 0; j < nverifiers; j++) {
        size_t i = note_find_sig(note, verifiers[j]);
        uint64_t timestamp;
        if (i == note->nsigs)
            continue;
        if (tlog_verifier_check(verifiers[j], note->text, note->text_len, note->sigs[i].payload, note->sigs[i].payload_len,
                                &timestamp, why) != 0)
            return tlog_errorf(err, "signature line %zu (%s): %s", i + 1, tlog_verifier_name(verifiers[j]), why);
        nsigned++;
        if (results != NULL) {
            results[j].signed_ok = 1;
            results[j].timestamp = timestamp;
            results[j].sig_index = i;
        }
    }
    if (nsigned == 0)
        return tlog_errorf(err, "no signature line from any of the %zu known keys", nverifiers);
    return 0;
}

/* Text a signer may sign: non-empty, ends in '\n', valid note characters. */
static int note_check_text(const char *text, size_t len, char *err)
{
    if (len == 0 || text[len - 1] != '\n')
        return tlog_errorf(err, "note text must end in a newline");
    if (len > TLOG_NOTE_MAX_SIZE)
        return tlog_errorf(err, "note text is %zu bytes, more than %d", len, TLOG_NOTE_MAX_SIZE);
    return note_check_chars(text, len, err);
}

/* Writes the signature line of text by signer into out (NOTE_LINE_MAX bytes); returns its length or -1. */
static int note_write_line(const char *text, size_t len, const tlog_signer_t *signer, uint64_t timestamp_ms, char *out, char *err)
{
    uint8_t sig[TLOG_NOTE_SIG_MAX];
    size_t sig_len, name_len = strlen(tlog_signer_name(signer)), n = 0;

    if (tlog_signer_sign(signer, text, len, timestamp_ms, sig, &sig_len, err) != 0)
        return -1;
    memcpy(out, NOTE_DASH, NOTE_DASH_LEN);
    n += NOTE_DASH_LEN;
    memcpy(out + n, tlog_signer_name(signer), name_len);
    n += name_len;
    out[n++] = ' ';
    n += tlog_base64_encode(sig, sig_len, out + n);
    out[n++] = '\n';
    return (int)n;
}

int tlog_note_sign(const char *text, size_t text_len, tlog_signer_t *const *signers, size_t nsigners, uint64_t timestamp_ms,
                   char **out, size_t *out_len, char *err)
{
    char *buf = NULL;
    size_t len;

    if (note_check_text(text, text_len, err) != 0)
        return -1;
    if (nsigners == 0 || nsigners > TLOG_NOTE_MAX_SIGS)
        return tlog_errorf(err, "a note needs 1 to %d signers, not %zu", TLOG_NOTE_MAX_SIGS, nsigners);
    if ((buf = malloc(text_len + 1 + nsigners * NOTE_LINE_MAX + 1)) == NULL)
        return tlog_errorf(err, "out of memory");
    memcpy(buf, text, text_len);
    buf[text_len] = '\n';
    len = text_len + 1;
    for (size_t i = 0; i < nsigners; i++) {
        int n = note_write_line(text, text_len, signers[i], timestamp_ms, buf + len, err);
        if (n < 0)
            goto fail;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;

fail:
    free(buf);
    return -1;
}

int tlog_note_sign_line(const char *text, size_t text_len, const tlog_signer_t *signer, uint64_t timestamp_ms, char **out,
                        size_t *out_len, char *err)
{
    char *buf = NULL;
    int n;

    if (note_check_text(text, text_len, err) != 0)
        return -1;
    if ((buf = malloc(NOTE_LINE_MAX + 1)) == NULL)
        return tlog_errorf(err, "out of memory");
    if ((n = note_write_line(text, text_len, signer, timestamp_ms, buf, err)) < 0)
        goto fail;
    buf[n] = '\0';
    *out = buf;
    *out_len = (size_t)n;
    return 0;

fail:
    free(buf);
    return -1;
}

int tlog_cosignature_message(const char *text, size_t text_len, uint64_t timestamp_s, char **out, size_t *out_len)
{
    char head[64];
    int n = snprintf(head, sizeof(head), "cosignature/v1\ntime %" PRIu64 "\n", timestamp_s);
    char *buf = malloc((size_t)n + text_len + 1);

    if (buf == NULL)
        return -1;
    memcpy(buf, head, (size_t)n);
    memcpy(buf + n, text, text_len);
    buf[(size_t)n + text_len] = '\0';
    *out = buf;
    *out_len = (size_t)n + text_len;
    return 0;
}
