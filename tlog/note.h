/*
 * Signed notes (c2sp.org/signed-note) and the three signature kinds faro
 * uses on checkpoints:
 *
 *   0x01 Ed25519 over the note text (the log's key for witnesses),
 *   0x04 cosignature/v1: timestamped Ed25519 by a witness,
 *   0x05 RFC6962NoteSignature: the log's ECDSA P-256 TreeHeadSignature.
 *
 * A parsed note points into the caller's buffer, which must outlive it.
 * Signature lines whose (name, key ID) no verifier knows are kept, in order,
 * and come back unchanged from tlog_note_format.
 */
#ifndef TLOG_NOTE_H
#define TLOG_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define TLOG_NOTE_MAX_SIGS 100
#define TLOG_NOTE_MAX_SIZE (1 << 20)
#define TLOG_NOTE_NAME_MAX 256 /* a verifier's or signer's key name, with its NUL */
/* A decoded signature (key ID and payload) that tlog_signer_sign makes is at most this long. */
#define TLOG_NOTE_SIG_MAX 128

enum {
    TLOG_SIG_ED25519 = 0x01,
    TLOG_SIG_COSIGNATURE = 0x04,
    TLOG_SIG_RFC6962 = 0x05,
};

typedef struct tlog_note_sig {
    const char *name; /* key name, not NUL-terminated */
    size_t name_len;
    uint32_t key_id;
    uint8_t *payload; /* the decoded signature after the 4-byte key ID */
    size_t payload_len;
    const char *line; /* the whole line: "— name base64\n" */
    size_t line_len;
} tlog_note_sig_t;

typedef struct tlog_note {
    const char *text; /* up to and including the last newline before the blank line */
    size_t text_len;
    size_t nsigs;
    tlog_note_sig_t sigs[]; /* nsigs entries */
} tlog_note_t;

/* Parses a note (text, blank line, >= 1 signature lines); 0 or -1 with err. */
int tlog_note_parse(const char *buf, size_t len, tlog_note_t **out, char *err);
void tlog_note_free(tlog_note_t *note);
/*
 * The note again: text, blank line, the signature lines in order, a line
 * byte-identical to an earlier one left out; into a malloc'd buffer. -1 only if out of memory.
 */
int tlog_note_format(const tlog_note_t *note, char **out, size_t *out_len);

/* A key that can check signature lines: opaque; tlog_verifier_free(NULL) is a no-op. */
typedef struct tlog_verifier tlog_verifier_t;

/* "<name>+<hex key ID>+<base64(type || key)>" for types 0x01 and 0x04; split on the first two '+' only. */
int tlog_verifier_from_vkey(const char *vkey, size_t len, tlog_verifier_t **out, char *err);
int tlog_verifier_ed25519(const char *name, const uint8_t public_key[32], int type, tlog_verifier_t **out, char *err);
/* RFC 6962 key for origin: key ID = SHA-256(origin || 0x0A || 0x05 || SHA-256(SPKI))[0:4]. The key is up-referenced. */
int tlog_verifier_rfc6962(const char *origin, EVP_PKEY *public_key, tlog_verifier_t **out, char *err);
void tlog_verifier_free(tlog_verifier_t *verifier);
const char *tlog_verifier_name(const tlog_verifier_t *verifier);
uint32_t tlog_verifier_key_id(const tlog_verifier_t *verifier);
int tlog_verifier_type(const tlog_verifier_t *verifier);
/* The vkey string for 0x01/0x04 keys into out (at least 512 bytes); -1 for other types. */
int tlog_verifier_vkey(const tlog_verifier_t *verifier, char *out, size_t cap);

/*
 * Checks one signature line's payload (the decoded signature after the key ID)
 * over text; the caller has matched the name and key ID. timestamp as in
 * tlog_note_result_t below.
 */
int tlog_verifier_check(const tlog_verifier_t *verifier, const char *text, size_t text_len, const uint8_t *payload,
                        size_t payload_len, uint64_t *timestamp, char *err);

/* What verification learned about one verifier. */
typedef struct tlog_note_result {
    int signed_ok;      /* a line of this key verified */
    uint64_t timestamp; /* 0x05: TreeHeadSignature ms; 0x04: cosignature seconds; 0x01: 0 */
    size_t sig_index;   /* which of note->sigs it was */
} tlog_note_result_t;

/*
 * Checks every line whose (name, key ID) matches one of verifiers. A matching
 * line that does not verify rejects the whole note. Succeeds when at least one
 * verifier signed; results (nverifiers entries, may be NULL) says which.
 * A repeated line of one key counts once (the first).
 */
int tlog_note_verify(const tlog_note_t *note, tlog_verifier_t *const *verifiers, size_t nverifiers, tlog_note_result_t *results,
                     char *err);

/* A key that can sign; opaque; the private key bytes are wiped on free. */
typedef struct tlog_signer tlog_signer_t;

int tlog_signer_ed25519(const char *name, const uint8_t seed[32], int type, tlog_signer_t **out, char *err);
/* The key is up-referenced; it must be an ECDSA P-256 private key. */
int tlog_signer_rfc6962(const char *origin, EVP_PKEY *private_key, tlog_signer_t **out, char *err);
void tlog_signer_free(tlog_signer_t *signer);
/* The verifier for the same key. */
int tlog_signer_verifier(const tlog_signer_t *signer, tlog_verifier_t **out, char *err);
const char *tlog_signer_name(const tlog_signer_t *signer);
/* The decoded signature (key ID || payload) of text, as tlog_note_sign puts in a line; timestamp_ms as there. */
int tlog_signer_sign(const tlog_signer_t *signer, const char *text, size_t text_len, uint64_t timestamp_ms,
                     uint8_t out[TLOG_NOTE_SIG_MAX], size_t *out_len, char *err);

/*
 * Signs text (which must be a valid note text, ending in '\n') with each
 * signer, timestamp_ms being the RFC 6962 timestamp (cosignatures use
 * timestamp_ms / 1000 seconds), and writes the complete note into a malloc'd
 * buffer. RFC 6962 signing needs the text to be a checkpoint.
 */
int tlog_note_sign(const char *text, size_t text_len, tlog_signer_t *const *signers, size_t nsigners, uint64_t timestamp_ms,
                   char **out, size_t *out_len, char *err);

/* One signature line "— name base64\n" for text by signer, into a malloc'd buffer (witnesses answer with these). */
int tlog_note_sign_line(const char *text, size_t text_len, const tlog_signer_t *signer, uint64_t timestamp_ms, char **out,
                        size_t *out_len, char *err);

/* The message cosignature/v1 signs: "cosignature/v1\ntime <t>\n" + text, into a malloc'd buffer. */
int tlog_cosignature_message(const char *text, size_t text_len, uint64_t timestamp_s, char **out, size_t *out_len);

#endif
