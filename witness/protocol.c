/*
 * add-checkpoint requests and replies (see protocol.h).
 *
 * A 200 reply is checked as lines first (each "— ...\n", none empty), so that
 * appending it to the checkpoint cannot move the note's text/signature split;
 * then the checkpoint and the reply are parsed together as one note and
 * verified with the witness's keys, exactly as a reader of the published
 * checkpoint will. Only the lines of those keys are kept.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "witness/protocol.h"

#define EM_DASH_SPACE "\xe2\x80\x94 "
#define EXCERPT_MAX 120

static const char *const outcome_names[WITNESS_OUTCOMES] = {
    "cosigned", "conflict", "ahead", "rejected", "server_error", "invalid", "bad_signature", "timeout", "unreachable",
};

const char *witness_outcome_name(int outcome)
{
    return outcome >= 0 && outcome < WITNESS_OUTCOMES ? outcome_names[outcome] : "unknown";
}

void witness_request_body(uint64_t old_size, const tlog_hash_t *proof, size_t proof_len, const char *checkpoint, size_t len,
                          tlog_buf_t *out)
{
    char b64[TLOG_BASE64_LEN(TLOG_HASH_SIZE) + 1];
    tlog_buf_appendf(out, "old %" PRIu64 "\n", old_size);
    for (size_t i = 0; i < proof_len; i++) {
        size_t n = tlog_base64_encode(proof[i].bytes, TLOG_HASH_SIZE, b64);
        b64[n++] = '\n';
        tlog_buf_append(out, b64, n);
    }
    tlog_buf_append(out, "\n", 1);
    tlog_buf_append(out, checkpoint, len);
}

/* The first line of a reply body, shortened, with anything unprintable as '?': for messages. */
static void excerpt(const char *body, size_t len, char out[EXCERPT_MAX + 1])
{
    size_t n = 0;
    while (n < len && n < EXCERPT_MAX && body[n] != '\n') {
        unsigned char c = (unsigned char)body[n];
        out[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        n++;
    }
    out[n] = '\0';
}

/* A 409 body: a decimal size without leading zeros, then at most one newline. */
static void read_size(const witness_expect_t *expect, const char *body, size_t len, witness_reply_t *reply)
{
    size_t digits = 0;
    uint64_t size = 0;
    char text[EXCERPT_MAX + 1];

    while (digits < len && body[digits] >= '0' && body[digits] <= '9' && digits < 19)
        size = size * 10 + (uint64_t)(body[digits++] - '0');
    if (digits == 0 || (digits > 1 && body[0] == '0') || size > INT64_MAX ||
        !(digits == len || (digits + 1 == len && body[digits] == '\n'))) {
        excerpt(body, len, text);
        reply->outcome = WITNESS_INVALID;
        tlog_errorf(reply->why, "409 whose body is not a tree size: \"%s\"", text);
        return;
    }
    if (size > expect->size) {
        reply->size = size;
        reply->outcome = WITNESS_AHEAD;
        tlog_errorf(reply->why, "the witness claims to have cosigned size %" PRIu64 ", larger than the log's %" PRIu64, size,
                    expect->size);
    } else if (size == expect->old_size) {
        reply->outcome = WITNESS_INVALID;
        tlog_errorf(reply->why, "409 naming the old size the request sent (%" PRIu64 ")", size);
    } else {
        reply->size = size;
        reply->outcome = WITNESS_CONFLICT;
        tlog_errorf(reply->why, "the witness last cosigned size %" PRIu64 ", not %" PRIu64, size, expect->old_size);
    }
}

/* Whether body is one or more whole signature lines: each starts with an em dash and a space, and ends in '\n'. */
static int signature_lines(const char *body, size_t len, char *err)
{
    size_t count = 0;
    for (size_t at = 0; at < len; count++) {
        const char *nl = memchr(body + at, '\n', len - at);
        if (nl == NULL)
            return tlog_errorf(err, "reply line %zu does not end in a newline", count + 1);
        if ((size_t)(nl - body) - at < sizeof(EM_DASH_SPACE) || memcmp(body + at, EM_DASH_SPACE, sizeof(EM_DASH_SPACE) - 1) != 0)
            return tlog_errorf(err, "reply line %zu is not a signature line", count + 1);
        at = (size_t)(nl - body) + 1;
    }
    if (count == 0)
        return tlog_errorf(err, "the reply is empty");
    return 0;
}

/* Keeps what verifies; everything else is BAD_SIGNATURE or INVALID. */
static void verify_cosignatures(const witness_expect_t *expect, const tlog_note_t *note, witness_reply_t *reply,
                                uint8_t *key_signed)
{
    tlog_note_result_t *results = calloc(expect->nkeys > 0 ? expect->nkeys : 1, sizeof(*results));
    if (results == NULL)
        abort();
    reply->outcome = WITNESS_BAD_SIGNATURE;
    if (tlog_note_verify(note, expect->keys, expect->nkeys, results, reply->why) != 0)
        goto done;
    for (size_t k = 0; k < expect->nkeys; k++) {
        uint64_t t = results[k].timestamp;
        if (results[k].signed_ok && (t < expect->not_before_s || t > expect->not_after_s)) {
            tlog_errorf(reply->why, "the cosignature by %s is timestamped %" PRIu64 ", outside [%" PRIu64 ", %" PRIu64 "]",
                        tlog_verifier_name(expect->keys[k]), t, expect->not_before_s, expect->not_after_s);
            goto done;
        }
    }
    for (size_t k = 0; k < expect->nkeys; k++)
        if (results[k].signed_ok) {
            const tlog_note_sig_t *sig = &note->sigs[results[k].sig_index];
            tlog_buf_append(&reply->lines, sig->line, sig->line_len);
            key_signed[k] = 1;
        }
    reply->outcome = WITNESS_COSIGNED;
done:
    free(results);
}

static void read_cosignatures(const witness_expect_t *expect, const char *body, size_t len, witness_reply_t *reply,
                              uint8_t *key_signed)
{
    tlog_buf_t note_bytes = TLOG_BUF_INIT;
    tlog_note_t *note = NULL;
    char why[TLOG_ERR_MAX];

    reply->outcome = WITNESS_INVALID;
    if (signature_lines(body, len, why) != 0) {
        tlog_errorf(reply->why, "200 without cosignature lines: %s", why);
        return;
    }
    tlog_buf_append(&note_bytes, expect->checkpoint, expect->checkpoint_len);
    tlog_buf_append(&note_bytes, body, len);
    if (tlog_note_parse((const char *)note_bytes.data, note_bytes.len, &note, why) != 0)
        tlog_errorf(reply->why, "the checkpoint with the reply's lines is not a signed note: %s", why);
    else if (note->text_len != expect->text_len)
        tlog_errorf(reply->why, "the reply's lines change the checkpoint's text");
    else
        verify_cosignatures(expect, note, reply, key_signed);
    tlog_note_free(note);
    tlog_buf_free(&note_bytes);
}

void witness_reply_read(const witness_expect_t *expect, long status, const char *body, size_t len, witness_reply_t *reply,
                        uint8_t *key_signed)
{
    char text[EXCERPT_MAX + 1];
    tlog_buf_t empty = TLOG_BUF_INIT;

    reply->size = 0;
    reply->lines = empty;
    reply->why[0] = '\0';
    memset(key_signed, 0, expect->nkeys);
    if (status == 200) {
        read_cosignatures(expect, body, len, reply, key_signed);
    } else if (status == 409) {
        read_size(expect, body, len, reply);
    } else if (status >= 400 && status < 600) {
        excerpt(body, len, text);
        reply->outcome = status < 500 ? WITNESS_REJECTED : WITNESS_SERVER_ERROR;
        tlog_errorf(reply->why, "status %ld: %s", status, text);
    } else {
        reply->outcome = WITNESS_INVALID;
        tlog_errorf(reply->why, "status %ld is not one add-checkpoint answers with", status);
    }
}
