/*
 * What faro-writer accepts into a log: the add-chain / add-pre-chain request
 * body, the log's roots, and the chain checks and filters (spec/static-ct.md
 * §2.1, §2.3; RFC 6962 §3.1).
 *
 * A chain is accepted when OpenSSL verifies chain[0] up to a configured root
 * through the submitted certificates, in the submitted order (the last one may
 * be the root or be issued by one), with no time checks (the filters below
 * decide on time) and no purpose checks (a CT log takes any chain to a
 * root). Every configured root is a trust anchor, self-signed or not.
 * add-pre-chain wants the critical poison extension on chain[0], add-chain
 * refuses it. A Precertificate Signing Certificate at chain[1] is followed to
 * the real issuer after it.
 *
 * Roots are read-only once built and may be shared between threads; the rest
 * holds no state.
 */
#ifndef FARO_WRITER_CHAIN_H
#define FARO_WRITER_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tlog/ctentry.h"
#include "tlog/ctroots.h"

/* At most this many certificates in a submitted chain (a longer one is refused with 400). */
#define CHAIN_MAX_CERTS 10

enum {
    CHAIN_OK = 0,
    CHAIN_REJECTED = -1, /* 400: the submission is refused; err says why in one line */
    CHAIN_INTERNAL = -2, /* 500: OpenSSL or memory failed; nothing about the submission is known */
};

/* The request body {"chain":["<base64 DER>", ...]}. */
typedef struct chain_request {
    const uint8_t *ders[CHAIN_MAX_CERTS]; /* point into blob */
    size_t lens[CHAIN_MAX_CERTS];
    size_t count;
    uint8_t *blob;
} chain_request_t;

/*
 * Parses a body: a JSON object whose member "chain" (matched without regard
 * to case, like Go; other members are ignored) is an array of 1 to
 * CHAIN_MAX_CERTS strings of strict, padded, non-empty base64. CHAIN_OK or
 * CHAIN_REJECTED; free the result with chain_request_free.
 */
int chain_request_parse(const char *body, size_t len, chain_request_t *out, char *err);
void chain_request_free(chain_request_t *req);

/* A log's roots as trust anchors: a tlog_ctroots_t and an X509_STORE of the same roots. */
typedef struct chain_roots chain_roots_t;

/* No roots yet. */
int chain_roots_new(chain_roots_t **out, char *err);
/* The roots file and the backups under storage (tlog_ctroots_load). */
int chain_roots_open(const char *roots_file, const char *storage, chain_roots_t **out, char *err);
void chain_roots_free(chain_roots_t *roots);
/* Adds one DER root; a root already present is skipped (returns 0). */
int chain_roots_add_der(chain_roots_t *roots, const uint8_t *der, size_t len, char *err);
/* The certificates, for get-roots and counting; valid until roots changes. */
const tlog_ctroots_t *chain_roots_certs(const chain_roots_t *roots);

/* A log's filters on chain[0] (faro.yaml's logs[] settings of the same names). */
typedef struct chain_policy {
    int has_not_after_start, has_not_after_limit;
    time_t not_after_start, not_after_limit; /* NotAfter must be in [start, limit) */
    int reject_expired;                      /* refuse NotAfter before now */
    int reject_unexpired;                    /* refuse NotAfter at or after now */
    /*
     * Go x509.ExtKeyUsage names without the prefix ("ServerAuth", "ClientAuth",
     * "CodeSigning", "EmailProtection", "IPSECEndSystem", "IPSECTunnel",
     * "IPSECUser", "TimeStamping", "OCSPSigning", "MicrosoftServerGatedCrypto",
     * "NetscapeServerGatedCrypto", "MicrosoftCommercialCodeSigning",
     * "MicrosoftKernelCodeSigning", "Any"), matched without regard to case.
     * If the list is non-empty and has no "Any", chain[0] must list one of
     * them in its EKU extension (as in Sunlight: no extension, or only
     * anyExtendedKeyUsage, is refused).
     */
    char *const *ext_key_usages;
    size_t ext_key_usages_count;
    char *const *reject_extensions; /* dotted OIDs: chain[0] carrying any of them is refused */
    size_t reject_extensions_count;
    int accept_sha1_signing_algorithms; /* otherwise chain[0] signed with SHA-1 is refused */
} chain_policy_t;

/* Checks the EKU names and OIDs of a policy, so a configuration can be refused at load time. */
int chain_policy_check(const chain_policy_t *policy, char *err);

/* What the writer needs to build the entry and publish the issuers. */
typedef struct chain_result {
    int is_precert;
    uint8_t *certificate; /* x509: chain[0] as submitted; precert: the defanged TBSCertificate */
    size_t certificate_len;
    uint8_t issuer_key_hash[32]; /* precert: SHA-256 of the real issuer's SubjectPublicKeyInfo */
    uint8_t *precertificate;     /* precert: chain[0] as submitted */
    size_t precertificate_len;
    /*
     * The validated path after chain[0], root last (appended when the
     * submitter left it out): each certificate's DER, exactly as submitted
     * or as configured, and its SHA-256.
     */
    size_t chain_count;
    uint8_t *issuers[CHAIN_MAX_CERTS];
    size_t issuer_lens[CHAIN_MAX_CERTS];
    uint8_t fingerprints[CHAIN_MAX_CERTS * 32];
    time_t not_before, not_after; /* chain[0]'s validity */
} chain_result_t;

/*
 * Validates ders[0..n) for add-pre-chain (precert set) or add-chain at time
 * now. CHAIN_OK fills out (free it with chain_result_free); CHAIN_REJECTED and
 * CHAIN_INTERNAL leave it empty and say why in err.
 */
int chain_validate(const chain_roots_t *roots, const chain_policy_t *policy, int precert, const uint8_t *const *ders,
                   const size_t *lens, size_t n, time_t now, chain_result_t *out, char *err);
void chain_result_free(chain_result_t *result);

/* The log entry of a validated chain at (timestamp, leaf_index); it points into result. */
void chain_result_entry(const chain_result_t *result, uint64_t timestamp_ms, uint64_t leaf_index, tlog_ct_entry_t *out);

#endif
