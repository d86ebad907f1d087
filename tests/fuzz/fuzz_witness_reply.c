/*
 * The coordinator's reading of add-checkpoint replies. The first input byte
 * picks the HTTP status and how many of the witness's keys are known, the
 * rest is the body, answered to a request about the vectors' size-1000
 * checkpoint sent with old size 8. Whatever the bytes: an outcome in range;
 * kept lines only when cosigned, and then they verify, appended to the
 * checkpoint, with the keys marked as having signed; a 409 size is set only
 * for a conflict (not above the checkpoint's size) or an alarm (above it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/error.h"
#include "witness/protocol.h"

static const char checkpoint[] = "example.com/vector-log\n1000\nhEU7UV2yIeAVJB+Rd41UGpHidHKjy71JIrAjsYBFY1k=\n\n"
                                 "\xe2\x80\x94 example.com/vector-log "
                                 "9V2sqhy8UP/Yx/jTkE/B1PINMA4gbN38UrhQNPPnydSCEelbjpmRhWaQQLpdOtO8D6lXFDVOlzpatTZLF2p+onx2/Qk=\n";
static const char *const vkeys[] = {
    "witness.example.com/w1+969980cf+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X",
    "witness.example.org/w2+82091286+BCVDuS/xCVURR2rcg2nbbdyTNmWhGXjdoUBO4QZsqVWd",
};
static const long statuses[] = {200, 409, 400, 403, 404, 422, 500, 503, 204, 301};
static tlog_verifier_t *keys[2];

/* Whether the checkpoint with lines appended verifies with the keys marked in key_signed. */
static int lines_verify(const tlog_buf_t *lines, const uint8_t *key_signed, size_t nkeys)
{
    tlog_buf_t note_bytes = {NULL, 0, 0};
    tlog_note_t *note = NULL;
    tlog_note_result_t results[2];
    int ok = 0;
    tlog_buf_append(&note_bytes, checkpoint, sizeof(checkpoint) - 1);
    tlog_buf_append(&note_bytes, lines->data, lines->len);
    if (tlog_note_parse((const char *)note_bytes.data, note_bytes.len, &note, NULL) == 0 &&
        tlog_note_verify(note, keys, nkeys, results, NULL) == 0) {
        ok = note->nsigs == 1 + (size_t)key_signed[0] + (nkeys > 1 ? key_signed[1] : 0);
        for (size_t k = 0; k < nkeys; k++)
            ok &= results[k].signed_ok == key_signed[k];
    }
    tlog_note_free(note);
    tlog_buf_free(&note_bytes);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (keys[0] == NULL)
        for (size_t k = 0; k < 2; k++)
            if (tlog_verifier_from_vkey(vkeys[k], strlen(vkeys[k]), &keys[k], NULL) != 0)
                abort();
    if (size == 0)
        return 0;
    /* A copy of exactly the body, so ASan catches any read past it. */
    char *body = malloc(size - 1 ? size - 1 : 1);
    memcpy(body, data + 1, size - 1);
    witness_expect_t expect = {
        .checkpoint = checkpoint,
        .checkpoint_len = sizeof(checkpoint) - 1,
        .text_len = (size_t)(strstr(checkpoint, "\n\n") + 1 - checkpoint),
        .size = 1000,
        .old_size = 8,
        .keys = keys,
        .nkeys = 1 + (data[0] >> 7),
        .not_before_s = 1600000000,
        .not_after_s = 1800000000,
    };
    witness_reply_t reply;
    uint8_t key_signed[2] = {7, 7};
    long status = statuses[(data[0] & 0x7f) % (sizeof(statuses) / sizeof(statuses[0]))];

    witness_reply_read(&expect, status, body, size - 1, &reply, key_signed);
    if (reply.outcome < 0 || reply.outcome >= WITNESS_OUTCOMES)
        abort();
    if (reply.outcome == WITNESS_COSIGNED) {
        if (reply.lines.len == 0 || !(key_signed[0] || key_signed[1]) || !lines_verify(&reply.lines, key_signed, expect.nkeys))
            abort();
    } else if (reply.lines.len != 0 || reply.why[0] == '\0' || key_signed[0] != 0 || (expect.nkeys > 1 && key_signed[1] != 0)) {
        abort();
    }
    if ((reply.outcome == WITNESS_CONFLICT && (reply.size > 1000 || reply.size == 8)) ||
        (reply.outcome == WITNESS_AHEAD && reply.size <= 1000) ||
        (reply.size != 0 && reply.outcome != WITNESS_CONFLICT && reply.outcome != WITNESS_AHEAD))
        abort();
    tlog_buf_free(&reply.lines);
    free(body);
    return 0;
}
