/*
 * Witness trust policies (c2sp.org/tlog-policy, the Sigsum policy format)
 * and quorum evaluation.
 *
 *   log <vkey> [<url>]                       an accepted log (Ed25519 vkey, type 0x01)
 *   witness <name> <key> [<url>]             a witness; key is a vkey of type 0x04, or of
 *                                            type 0x01 (the same key used for cosignature/v1),
 *                                            or 64 hex digits (Sigsum; name is then its key name)
 *   group <name> <k>|any|all <member>...     satisfied when k of its members are
 *   quorum <name>|none                       exactly once
 *
 * '#' starts a comment anywhere on a line. Names are defined before use.
 * Every rejection says which line and why ("line 4: group g: threshold 3 is
 * more than its 2 members").
 *
 * A policy is immutable once parsed and may be shared by threads; an
 * evaluation (policy_eval_t) belongs to one thread.
 */
#ifndef POLICY_POLICY_H
#define POLICY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/note.h"

#define POLICY_MAX_LOGS 256
#define POLICY_MAX_WITNESSES 256
#define POLICY_MAX_GROUPS 256
#define POLICY_FILE_MAX (1 << 20)

/* policy_parse flags */
enum {
    POLICY_REQUIRE_URLS = 1 << 0, /* every witness line must have a URL (the log calls every witness) */
};

typedef struct policy policy_t;

/* Parses len bytes of policy text; 0, or -1 with a message in err (TLOG_ERR_MAX bytes). */
int policy_parse(const char *text, size_t len, int flags, policy_t **out, char *err);
void policy_free(policy_t *policy);
/* Reads the policy file at path (at most POLICY_FILE_MAX bytes) and parses it; the message starts with path. */
int policy_load(const char *path, int flags, policy_t **out, char *err);

/* Logs, in file order. The verifiers are Ed25519 (0x01), named by the log's origin. */
size_t policy_log_count(const policy_t *policy);
tlog_verifier_t *policy_log_verifier(const policy_t *policy, size_t i);
const char *policy_log_url(const policy_t *policy, size_t i); /* NULL if none */
/* Index of the log line whose vkey equals that of key (a log checks it is listed), or -1. */
int policy_log_index(const policy_t *policy, const tlog_verifier_t *key);

/* Witnesses, in file order; indexes are those policy_eval_add takes. */
size_t policy_witness_count(const policy_t *policy);
const char *policy_witness_name(const policy_t *policy, size_t i); /* the policy's name for it */
const char *policy_witness_url(const policy_t *policy, size_t i);  /* NULL if none */
/* The cosignature (0x04) verifier; its name is the cosigner key name. */
tlog_verifier_t *policy_witness_verifier(const policy_t *policy, size_t i);
/* All policy_witness_count() witness verifiers, in order, as tlog_note_verify takes them. */
tlog_verifier_t *const *policy_witness_verifiers(const policy_t *policy);

/* Whether the quorum is "none": every checkpoint meets it, no witness is called. */
int policy_quorum_is_none(const policy_t *policy);

/*
 * Incremental evaluation: mark witnesses as they cosign; each mark costs the
 * groups it newly satisfies, never a walk of the whole policy. The policy
 * must outlive the evaluation; policy_eval_free(NULL) is a no-op.
 */
typedef struct policy_eval policy_eval_t;

policy_eval_t *policy_eval_new(const policy_t *policy); /* NULL when out of memory */
void policy_eval_free(policy_eval_t *eval);
/* Marks witness i as having cosigned (again is harmless); 1 if the quorum is met, 0 if not, -1 if i is out of range. */
int policy_eval_add(policy_eval_t *eval, size_t witness_index);
int policy_eval_met(const policy_eval_t *eval);
/* Forgets every mark. */
void policy_eval_reset(policy_eval_t *eval);

/* How far in the future (seconds) a cosignature's timestamp may be before it stops counting. */
#define POLICY_CLOCK_SKEW_S 300

/*
 * Whether a signed checkpoint meets the quorum. When the policy lists logs,
 * one of them must have signed it under its origin's name. Every signature
 * line of a policy key is verified (cosignatures over this text); a
 * cosignature timestamped more than POLICY_CLOCK_SKEW_S after now_s (Unix
 * seconds; 0: no clock check) does not count.
 * Returns 1 if met; 0 if not, with the reason in err; -1 with err if a line
 * of a policy key does not verify (a forged or corrupted note).
 */
int policy_note_meets_quorum(const policy_t *policy, const tlog_note_t *note, uint64_t now_s, char *err);

#endif
