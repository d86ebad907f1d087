/*
 * The log's side of c2sp.org/tlog-witness add-checkpoint (spec/witness.md
 * §1): the request body a log sends, and what a witness's reply means.
 *
 *   request  "old <N>\n" <base64 proof hash>\n ... "\n" <the log-signed checkpoint note>
 *   200      one or more cosignature lines "— <name> <base64>\n" over the checkpoint
 *   409      "<size the witness last cosigned>\n" (text/x.tlog.size)
 *
 * No I/O and no state: the coordinator (coordinator.c) drives these, the unit
 * tests feed them the spec's vectors and the fuzz target arbitrary replies.
 * Reading a reply costs one note parse of checkpoint + reply and one Ed25519
 * verification per witness key with a line in it.
 */
#ifndef WITNESS_PROTOCOL_H
#define WITNESS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/buf.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/note.h"

/* Replies longer than this are not read to the end, and are invalid. */
#define WITNESS_REPLY_MAX (64 * 1024)

/* What came of one add-checkpoint request; the names label the requests metric. */
enum {
    WITNESS_COSIGNED,      /* 200 with cosignatures that verify with the witness's keys */
    WITNESS_CONFLICT,      /* 409: the witness last cosigned another size, at most the checkpoint's: retry from it */
    WITNESS_AHEAD,         /* 409 with a size larger than the log's: an alarm, never believed */
    WITNESS_REJECTED,      /* another 4xx: 400, 403 (log key unknown), 404 (origin unknown), 422 (proof: a fork?) */
    WITNESS_SERVER_ERROR,  /* 5xx */
    WITNESS_INVALID,       /* a reply the protocol does not allow (garbage, a wrong status, too long) */
    WITNESS_BAD_SIGNATURE, /* 200 without a valid cosignature by the witness's key with a sane timestamp */
    WITNESS_TIMEOUT,       /* no whole reply within witness_timeout */
    WITNESS_UNREACHABLE,   /* no connection, or it broke */
    WITNESS_OUTCOMES
};

/* "cosigned", "conflict", ... */
const char *witness_outcome_name(int outcome);

/* Appends the add-checkpoint body for old_size, its consistency proof and the signed checkpoint note. */
void witness_request_body(uint64_t old_size, const tlog_hash_t *proof, size_t proof_len, const char *checkpoint, size_t len,
                          tlog_buf_t *out);

/* The request a reply answers, and what its cosignatures must satisfy. */
typedef struct witness_expect {
    const char *checkpoint; /* the log-signed note that was sent */
    size_t checkpoint_len;
    size_t text_len;              /* its text is checkpoint[0, text_len) */
    uint64_t size;                /* its tree size */
    uint64_t old_size;            /* the old size that was sent */
    tlog_verifier_t *const *keys; /* the witness's cosignature (0x04) keys */
    size_t nkeys;
    uint64_t not_before_s, not_after_s; /* cosignature timestamps must fall in [not_before_s, not_after_s] */
} witness_expect_t;

typedef struct witness_reply {
    int outcome;
    uint64_t size;          /* WITNESS_CONFLICT, WITNESS_AHEAD: the size the witness reported */
    tlog_buf_t lines;       /* WITNESS_COSIGNED: the verified cosignature lines, one per key that signed */
    char why[TLOG_ERR_MAX]; /* every other outcome: what was wrong */
} witness_reply_t;

/*
 * Reads a reply of HTTP status to the request expect describes. key_signed
 * (expect->nkeys flags) says which keys cosigned. Lines of keys the witness
 * has not in the policy are dropped: what is kept has been verified. The
 * caller frees reply->lines (tlog_buf_free) whatever the outcome.
 */
void witness_reply_read(const witness_expect_t *expect, long status, const char *body, size_t len, witness_reply_t *reply,
                        uint8_t *key_signed);

#endif
