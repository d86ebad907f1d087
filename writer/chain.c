/*
 * Chain validation for add-chain and add-pre-chain (spec/static-ct.md §2.1,
 * §2.3; RFC 6962 §3.1), in the order Sunlight's checks run:
 *
 *   1. parse each DER certificate (no trailing bytes, under 2^24 bytes);
 *   2. the poison extension on chain[0]: critical with an ASN.1 NULL value
 *      for add-pre-chain, absent for add-chain;
 *   3. the log's filters on chain[0]: NotAfter window, expired/unexpired,
 *      SHA-1 signature, refused extensions, extended key usages;
 *   4. X509_verify_cert with the roots as trust anchors (any root, self-signed
 *      or not: X509_V_FLAG_PARTIAL_CHAIN), chain[1..] as untrusted
 *      certificates tried before the store (so the path follows the
 *      submitter's order, cross-signed intermediates included), no time
 *      checks, no purpose; a verify callback lets the poison extension, and
 *      only it, be an unhandled critical extension of chain[0];
 *   5. the path OpenSSL built must be the submitted chain in order, plus the
 *      root when the submitter left it out;
 *   6. the result: the path's DERs and fingerprints after chain[0], and for a
 *      precertificate the issuer key hash and the defanged TBSCertificate
 *      (poison removed; issued through a Precertificate Signing Certificate,
 *      also the PSC's issuer name and authority key identifier).
 *
 * Cost: one signature verification per certificate on the path, plus a
 * re-encoding of the TBSCertificate for precertificates; a chain[1..] that
 * verified before costs only chain[0]'s parse and signature (chain_paths.c,
 * chain_verify_known; with the issuer's key table, issuer_table.c, that
 * signature costs half), and chain[0] is parsed in a lean library context
 * (chain_lean.c). The roots are a tlog_ctroots_t (tlog/ctroots.c: the DER
 * each was read as, duplicates skipped) beside an X509_STORE holding each of
 * them as a trust anchor; a root added later goes into both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tlog/ctroots.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "writer/chain.h"
#include "writer/chain_lean.h"
#include "writer/chain_paths.h"

#define CHAIN_MAX_DER 0xffffff /* a vec24 */
#define CHAIN_OID_MAX 100      /* characters of a dotted OID in a policy */

struct chain_roots {
    tlog_ctroots_t *certs;
    X509_STORE *store;    /* certs, as trust anchors */
    chain_paths_t *paths; /* issuer paths verified against these roots */
};

/*
 * chain[0], parsed in the lean library context (chain_lean.c) when its key
 * decodes there, else as any certificate: the same X509 either way.
 */
static X509 *chain_parse_leaf(const uint8_t *der, size_t len)
{
    OSSL_LIB_CTX *normal = chain_lean_enter();
    if (normal == NULL)
        return tlog_ct_certificate_parse(der, len);
    X509 *x = tlog_ct_certificate_parse(der, len);
    OSSL_LIB_CTX_set0_default(normal);
    if (x != NULL && X509_get0_pubkey(x) != NULL)
        return x;
    X509_free(x);
    ERR_clear_error();
    return tlog_ct_certificate_parse(der, len);
}

static const char *chain_openssl_reason(void)
{
    const char *reason = ERR_reason_error_string(ERR_peek_last_error());
    return reason != NULL ? reason : "no reason given";
}

/* For failures that are not the submission's fault (500). */
static int chain_internal(char *err, const char *what)
{
    tlog_errorf(err, "chain: %s", what);
    return CHAIN_INTERNAL;
}

/* ---- roots ---- */

/* Takes certs; every one of them becomes a trust anchor. */
static int chain_roots_wrap(tlog_ctroots_t *certs, chain_roots_t **out, char *err)
{
    chain_roots_t *roots = calloc(1, sizeof(*roots));
    if (roots == NULL || (roots->store = X509_STORE_new()) == NULL || (roots->paths = chain_paths_new()) == NULL) {
        tlog_ctroots_free(certs);
        chain_roots_free(roots);
        return tlog_errorf(err, "roots: out of memory");
    }
    roots->certs = certs;
    for (size_t i = 0; i < tlog_ctroots_count(certs); i++)
        if (X509_STORE_add_cert(roots->store, tlog_ctroots_x509(certs, i)) != 1) {
            tlog_errorf(err, "roots: cannot add a root: %s", chain_openssl_reason());
            ERR_clear_error();
            chain_roots_free(roots);
            return -1;
        }
    *out = roots;
    return 0;
}

int chain_roots_new(chain_roots_t **out, char *err)
{
    tlog_ctroots_t *certs;
    return tlog_ctroots_new(&certs, err) != 0 ? -1 : chain_roots_wrap(certs, out, err);
}

int chain_roots_open(const char *roots_file, const char *storage, chain_roots_t **out, char *err)
{
    tlog_ctroots_t *certs;
    return tlog_ctroots_load(roots_file, storage, &certs, err) != 0 ? -1 : chain_roots_wrap(certs, out, err);
}

void chain_roots_free(chain_roots_t *roots)
{
    if (roots == NULL)
        return;
    tlog_ctroots_free(roots->certs);
    X509_STORE_free(roots->store);
    chain_paths_free(roots->paths);
    free(roots);
}

int chain_roots_add_der(chain_roots_t *roots, const uint8_t *der, size_t len, char *err)
{
    size_t before = tlog_ctroots_count(roots->certs);
    if (tlog_ctroots_add_der(roots->certs, der, len, err) != 0)
        return -1;
    /* Fails only out of memory (a root already in the store is no error): stop rather than list a root that is not trusted. */
    if (tlog_ctroots_count(roots->certs) > before &&
        X509_STORE_add_cert(roots->store, tlog_ctroots_x509(roots->certs, before)) != 1)
        abort();
    return 0;
}

const tlog_ctroots_t *chain_roots_certs(const chain_roots_t *roots)
{
    return roots->certs;
}

/* ---- policy ---- */

/* Go's x509.ExtKeyUsage names and their OIDs. */
static const struct {
    const char *name, *oid;
} chain_ekus[] = {
    {"Any", "2.5.29.37.0"},
    {"ServerAuth", "1.3.6.1.5.5.7.3.1"},
    {"ClientAuth", "1.3.6.1.5.5.7.3.2"},
    {"CodeSigning", "1.3.6.1.5.5.7.3.3"},
    {"EmailProtection", "1.3.6.1.5.5.7.3.4"},
    {"IPSECEndSystem", "1.3.6.1.5.5.7.3.5"},
    {"IPSECTunnel", "1.3.6.1.5.5.7.3.6"},
    {"IPSECUser", "1.3.6.1.5.5.7.3.7"},
    {"TimeStamping", "1.3.6.1.5.5.7.3.8"},
    {"OCSPSigning", "1.3.6.1.5.5.7.3.9"},
    {"MicrosoftServerGatedCrypto", "1.3.6.1.4.1.311.10.3.3"},
    {"NetscapeServerGatedCrypto", "2.16.840.1.113730.4.1"},
    {"MicrosoftCommercialCodeSigning", "1.3.6.1.4.1.311.2.1.22"},
    {"MicrosoftKernelCodeSigning", "1.3.6.1.4.1.311.61.1.1"},
};

static const char *chain_eku_oid(const char *name)
{
    for (size_t i = 0; i < sizeof(chain_ekus) / sizeof(chain_ekus[0]); i++)
        if (strcasecmp(chain_ekus[i].name, name) == 0)
            return chain_ekus[i].oid;
    return NULL;
}

/* The dotted form of obj into buf; 0, or -1 if it does not fit. */
static int chain_oid_text(const ASN1_OBJECT *obj, char buf[CHAIN_OID_MAX + 1])
{
    int n = OBJ_obj2txt(buf, CHAIN_OID_MAX + 1, obj, 1);
    return n > 0 && n <= CHAIN_OID_MAX ? 0 : -1;
}

int chain_policy_check(const chain_policy_t *policy, char *err)
{
    for (size_t i = 0; i < policy->ext_key_usages_count; i++)
        if (chain_eku_oid(policy->ext_key_usages[i]) == NULL)
            return tlog_errorf(err, "ext_key_usages: unknown extended key usage \"%s\"", policy->ext_key_usages[i]);
    for (size_t i = 0; i < policy->reject_extensions_count; i++) {
        const char *oid = policy->reject_extensions[i];
        char text[CHAIN_OID_MAX + 1];
        ASN1_OBJECT *obj = strlen(oid) <= CHAIN_OID_MAX ? OBJ_txt2obj(oid, 1) : NULL;
        int ok = obj != NULL && chain_oid_text(obj, text) == 0 && strcmp(text, oid) == 0;
        ASN1_OBJECT_free(obj);
        ERR_clear_error();
        if (!ok)
            return tlog_errorf(err, "reject_extensions: \"%s\" is not a dotted OID like 1.3.6.1.4.1.11129.2.4.3", oid);
    }
    if (policy->has_not_after_start && policy->has_not_after_limit && policy->not_after_start >= policy->not_after_limit)
        return tlog_errorf(err, "not_after_start must be before not_after_limit");
    return 0;
}

/* ---- checks on chain[0] ---- */

static int chain_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    *out = timegm(&tm);
    return 0;
}

static const char *chain_time_text(time_t t, char buf[32])
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, 32, "%lld", (long long)t);
    return buf;
}

static int chain_check_poison(X509 *leaf, int precert, char *err)
{
    int idx = X509_get_ext_by_NID(leaf, NID_ct_precert_poison, -1);
    const ASN1_OCTET_STRING *value;

    if (!precert)
        return idx < 0 ? CHAIN_OK
                       : tlog_errorf(err, "add-chain: chain[0] is a precertificate (it has the CT poison extension); "
                                          "submit it to add-pre-chain");
    if (idx < 0)
        return tlog_errorf(err, "add-pre-chain: chain[0] is not a precertificate (no CT poison extension)");
    if (X509_get_ext_by_NID(leaf, NID_ct_precert_poison, idx) >= 0)
        return tlog_errorf(err, "add-pre-chain: chain[0] has the CT poison extension twice");
    if (!X509_EXTENSION_get_critical(X509_get_ext(leaf, idx)))
        return tlog_errorf(err, "add-pre-chain: the CT poison extension of chain[0] is not critical");
    value = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
    if (ASN1_STRING_length(value) != 2 || memcmp(ASN1_STRING_get0_data(value), "\x05\x00", 2) != 0)
        return tlog_errorf(err, "add-pre-chain: the CT poison extension of chain[0] is not an ASN.1 NULL");
    return CHAIN_OK;
}

static int chain_check_validity(const chain_policy_t *policy, X509 *leaf, time_t now, chain_result_t *out, char *err)
{
    char a[32], b[32];
    if (chain_time(X509_get0_notBefore(leaf), &out->not_before) != 0 || chain_time(X509_get0_notAfter(leaf), &out->not_after) != 0)
        return tlog_errorf(err, "chain[0]: validity dates cannot be read");
    if (policy->has_not_after_start && out->not_after < policy->not_after_start)
        return tlog_errorf(err, "chain[0]: NotAfter %s is before this log's not_after_start %s", chain_time_text(out->not_after, a),
                           chain_time_text(policy->not_after_start, b));
    if (policy->has_not_after_limit && out->not_after >= policy->not_after_limit)
        return tlog_errorf(err, "chain[0]: NotAfter %s is not before this log's not_after_limit %s",
                           chain_time_text(out->not_after, a), chain_time_text(policy->not_after_limit, b));
    if (policy->reject_expired && out->not_after < now)
        return tlog_errorf(err, "chain[0]: expired at %s, and this log refuses expired certificates",
                           chain_time_text(out->not_after, a));
    if (policy->reject_unexpired && out->not_after >= now)
        return tlog_errorf(err, "chain[0]: valid until %s, and this log only takes expired certificates",
                           chain_time_text(out->not_after, a));
    return CHAIN_OK;
}

static int chain_check_extensions(const chain_policy_t *policy, X509 *leaf, char *err)
{
    char text[CHAIN_OID_MAX + 1];
    if (policy->reject_extensions_count == 0)
        return CHAIN_OK; /* spares writing out every extension's OID */
    for (int i = 0; i < X509_get_ext_count(leaf); i++) {
        if (chain_oid_text(X509_EXTENSION_get_object(X509_get_ext(leaf, i)), text) != 0)
            continue;
        for (size_t j = 0; j < policy->reject_extensions_count; j++)
            if (strcmp(text, policy->reject_extensions[j]) == 0)
                return tlog_errorf(err, "chain[0]: has extension %s, which this log refuses", text);
    }
    return CHAIN_OK;
}

/* chain[0] must list one of the policy's EKUs, unless the policy has none or "Any". */
static int chain_check_eku(const chain_policy_t *policy, X509 *leaf, char *err)
{
    EXTENDED_KEY_USAGE *ekus;
    char text[CHAIN_OID_MAX + 1];
    int crit, found = 0;

    if (policy->ext_key_usages_count == 0)
        return CHAIN_OK;
    for (size_t j = 0; j < policy->ext_key_usages_count; j++)
        if (strcasecmp(policy->ext_key_usages[j], "Any") == 0)
            return CHAIN_OK;
    ekus = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);
    if (ekus == NULL && crit != -1)
        return tlog_errorf(err, "chain[0]: malformed extended key usage extension");
    for (int i = 0; !found && i < sk_ASN1_OBJECT_num(ekus); i++) {
        if (chain_oid_text(sk_ASN1_OBJECT_value(ekus, i), text) != 0)
            continue;
        for (size_t j = 0; !found && j < policy->ext_key_usages_count; j++) {
            const char *oid = chain_eku_oid(policy->ext_key_usages[j]);
            found = oid != NULL && strcmp(oid, text) == 0;
        }
    }
    EXTENDED_KEY_USAGE_free(ekus);
    ERR_clear_error();
    return found ? CHAIN_OK : tlog_errorf(err, "chain[0]: has none of the extended key usages this log accepts");
}

static int chain_check_filters(const chain_policy_t *policy, X509 *leaf, time_t now, chain_result_t *out, char *err)
{
    int md_nid = NID_undef;
    if (chain_check_validity(policy, leaf, now, out, err) != CHAIN_OK)
        return CHAIN_REJECTED;
    if (!policy->accept_sha1_signing_algorithms && OBJ_find_sigid_algs(X509_get_signature_nid(leaf), &md_nid, NULL) &&
        md_nid == NID_sha1)
        return tlog_errorf(err, "chain[0]: signed with SHA-1, which this log refuses");
    if (chain_check_extensions(policy, leaf, err) != CHAIN_OK || chain_check_eku(policy, leaf, err) != CHAIN_OK)
        return CHAIN_REJECTED;
    return CHAIN_OK;
}

/* ---- verification ---- */

/* The only unhandled critical extension the leaf may have is the poison (checked before verification). */
static int chain_verify_cb(int ok, X509_STORE_CTX *ctx)
{
    X509 *x = X509_STORE_CTX_get_current_cert(ctx);
    if (ok || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION ||
        X509_STORE_CTX_get_error_depth(ctx) != 0 || x == NULL)
        return ok;
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *ext = X509_get_ext(x, i);
        if (X509_EXTENSION_get_critical(ext) && !X509_supported_extension(ext) &&
            OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_ct_precert_poison)
            return 0;
    }
    return 1;
}

/* A leaf's signature to check with its issuer's key table (chain_verify_signatures). */
typedef struct leaf_check {
    const issuer_table_t *table;
    X509 *issuer;
    const uint8_t *der;
    size_t len;
    X509_STORE_CTX_verify_fn openssl_verify;
} leaf_check_t;

/*
 * X509_verify_cert's signature checks (its ctx->verify) for a leaf on a
 * known path. With the flags of chain_verify_with (no time checks, none of
 * self-signatures) and a leaf that is no proxy certificate (refused before
 * this runs), OpenSSL's own checks on [leaf, chain[1]] only that chain[1]'s
 * key usage allows signing certificates, then the leaf's signature; here the
 * signature is checked with chain[1]'s key table. Any other path, or a
 * signature the table does not handle, goes to OpenSSL's.
 */
static int chain_verify_signatures(X509_STORE_CTX *ctx)
{
    leaf_check_t *check = X509_STORE_CTX_get_app_data(ctx);
    STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
    X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
    int ok;

    if (sk_X509_num(built) != 2 || sk_X509_value(built, 0) != leaf || X509_cmp(sk_X509_value(built, 1), check->issuer) != 0 ||
        (X509_get_extension_flags(leaf) & EXFLAG_PROXY) != 0 || (X509_get_key_usage(check->issuer) & KU_KEY_CERT_SIGN) == 0 ||
        (ok = issuer_table_verify(check->table, leaf, check->der, check->len)) < 0)
        return check->openssl_verify(ctx);
    if (ok)
        return 1;
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_SIGNATURE_FAILURE);
    X509_STORE_CTX_set_error_depth(ctx, 0);
    X509_STORE_CTX_set_current_cert(ctx, leaf);
    return X509_STORE_CTX_get_verify_cb(ctx)(0, ctx);
}

/*
 * X509_verify_cert of leaf with store's anchors and untrusted (may be NULL):
 * no time checks, partial chains, the untrusted certificates tried before the
 * store, the poison allowed; check, if not NULL, checks the leaf's signature.
 * *built gets the path OpenSSL built, leaf first.
 */
static int chain_verify_with(X509_STORE *store, X509 *leaf, STACK_OF(X509) * untrusted, leaf_check_t *check,
                             STACK_OF(X509) * *built, char *err)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_VERIFY_PARAM *param;
    int ret = CHAIN_INTERNAL, verr;

    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        chain_internal(err, "cannot set up verification");
        goto done;
    }
    param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_TRUSTED_FIRST);
    X509_STORE_CTX_set_verify_cb(ctx, chain_verify_cb);
    if (check != NULL) {
        check->openssl_verify = X509_STORE_CTX_get_verify(ctx);
        X509_STORE_CTX_set_app_data(ctx, check);
        X509_STORE_CTX_set_verify(ctx, chain_verify_signatures);
    }
    if (X509_verify_cert(ctx) != 1) {
        verr = X509_STORE_CTX_get_error(ctx);
        if (verr == X509_V_ERR_OUT_OF_MEM || verr == X509_V_OK) {
            chain_internal(err, "verification failed inside OpenSSL");
            goto done;
        }
        tlog_errorf(err, "chain: does not verify to a root of this log: %s (at depth %d)", X509_verify_cert_error_string(verr),
                    X509_STORE_CTX_get_error_depth(ctx));
        ret = CHAIN_REJECTED;
        goto done;
    }
    if ((*built = X509_STORE_CTX_get1_chain(ctx)) == NULL)
        chain_internal(err, "out of memory");
    else
        ret = CHAIN_OK;

done:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    return ret;
}

/* Verifies certs[0..n) to a root; *path gets the verified path, root last. */
static int chain_verify(const chain_roots_t *roots, X509 *const *certs, size_t n, STACK_OF(X509) * *path, char *err)
{
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int ret;
    size_t len;

    for (size_t i = 1; untrusted != NULL && i < n; i++)
        if (!sk_X509_push(untrusted, certs[i])) {
            sk_X509_free(untrusted);
            untrusted = NULL;
        }
    if (untrusted == NULL)
        return chain_internal(err, "out of memory");
    ret = chain_verify_with(roots->store, certs[0], untrusted, NULL, path, err);
    sk_X509_free(untrusted);
    if (ret != CHAIN_OK)
        return ret;
    /* RFC 6962 §3.1: the path is the submitted chain, in order, with the root appended if it was left out. */
    len = (size_t)sk_X509_num(*path);
    for (size_t i = 0; ret == CHAIN_OK && i < n; i++)
        if (i >= len || X509_cmp(sk_X509_value(*path, (int)i), certs[i]) != 0)
            ret = tlog_errorf(err, "chain: chain[%zu] is not on the path to a root (submit the path in order, leaf first)", i);
    /* OpenSSL stops at the first anchor (PARTIAL_CHAIN), so at most the root is added; the result's arrays rely on it. */
    if (ret == CHAIN_OK && len > n + 1)
        ret = chain_internal(err, "OpenSSL built a path longer than the chain and a root");
    if (ret != CHAIN_OK) {
        sk_X509_pop_free(*path, X509_free);
        *path = NULL;
    }
    return ret;
}

/*
 * Whether a verified path may stand in for verifying chain[1..] again: what
 * X509_verify_cert checks of chain[0] against certificates above chain[1]
 * is their name constraints and RFC 3779 resources, so a path is kept only
 * without any above chain[1] (nor RFC 3779 resources in chain[1], whose
 * inheritance rules span the whole path). Everything else about the path
 * does not depend on chain[0] and was verified with it in full.
 */
static int chain_path_reusable(STACK_OF(X509) * path)
{
    for (int i = 1; i < sk_X509_num(path); i++) {
        X509 *x = sk_X509_value(path, i);
        if ((i >= 2 && X509_get_ext_by_NID(x, NID_name_constraints, -1) >= 0) ||
            X509_get_ext_by_NID(x, NID_sbgp_ipAddrBlock, -1) >= 0 || X509_get_ext_by_NID(x, NID_sbgp_autonomousSysNum, -1) >= 0)
            return 0;
    }
    return 1;
}

/*
 * Verifies leaf (parsed from der[0..len)) against a known path:
 * X509_verify_cert of leaf with chain[1] as the only anchor (its signature
 * on leaf, through its key table once it has one; its name constraints; the
 * leaf's own checks), then the known path above it. *path as in
 * chain_verify.
 */
static int chain_verify_known(chain_paths_t *paths, chain_path_t *known, X509 *leaf, const uint8_t *der, size_t len,
                              STACK_OF(X509) * *path, char *err)
{
    X509 *issuer = sk_X509_value(known->above, 0);
    leaf_check_t check = {.table = chain_paths_table(paths, known), .issuer = issuer, .der = der, .len = len};
    int ret = chain_verify_with(known->anchor, leaf, NULL, check.table != NULL ? &check : NULL, path, err);
    if (ret != CHAIN_OK)
        return ret;
    if (sk_X509_num(*path) != 2 || X509_cmp(sk_X509_value(*path, 1), issuer) != 0)
        ret = tlog_errorf(err, "chain: chain[1] is not on the path to a root (submit the path in order, leaf first)");
    for (int i = 1; ret == CHAIN_OK && i < sk_X509_num(known->above); i++) {
        X509 *x = sk_X509_value(known->above, i);
        if (!X509_up_ref(x) || !sk_X509_push(*path, x)) {
            X509_free(x);
            ret = chain_internal(err, "out of memory");
        }
    }
    if (ret != CHAIN_OK) {
        sk_X509_pop_free(*path, X509_free);
        *path = NULL;
    }
    return ret;
}

/* ---- precertificates ---- */

static int chain_is_psc(X509 *x)
{
    int crit, found = 0;
    EXTENDED_KEY_USAGE *ekus = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
    for (int i = 0; !found && i < sk_ASN1_OBJECT_num(ekus); i++)
        found = OBJ_obj2nid(sk_ASN1_OBJECT_value(ekus, i)) == NID_ct_precert_signer;
    EXTENDED_KEY_USAGE_free(ekus);
    ERR_clear_error();
    return found;
}

/* The PSC's issuer name and authority key identifier in place of the precertificate's (as Sunlight and ctfe do). */
static int chain_take_psc_issuer(X509 *tbs, X509 *psc)
{
    int tbs_at = X509_get_ext_by_NID(tbs, NID_authority_key_identifier, -1);
    int psc_at = X509_get_ext_by_NID(psc, NID_authority_key_identifier, -1);
    ASN1_OCTET_STRING *aki = psc_at >= 0 ? X509_EXTENSION_get_data(X509_get_ext(psc, psc_at)) : NULL;
    X509_EXTENSION *ext;

    if (X509_set_issuer_name(tbs, X509_get_issuer_name(psc)) != 1)
        return -1;
    if (tbs_at >= 0 && aki != NULL)
        return X509_EXTENSION_set_data(X509_get_ext(tbs, tbs_at), aki) == 1 ? 0 : -1;
    if (tbs_at >= 0) {
        X509_EXTENSION_free(X509_delete_ext(tbs, tbs_at));
        return 0;
    }
    if (aki == NULL)
        return 0;
    if ((ext = X509_EXTENSION_create_by_NID(NULL, NID_authority_key_identifier, 0, aki)) == NULL)
        return -1;
    int ok = X509_add_ext(tbs, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* The TBSCertificate of the precertificate without its poison (and re-issued from the PSC's issuer if psc is set). */
static int chain_defanged_tbs(X509 *precert, X509 *psc, chain_result_t *out, char *err)
{
    /* The copy's key is never used: decoding it in the lean context (or not at all) spares most of the copy's cost. */
    OSSL_LIB_CTX *normal = chain_lean_enter();
    X509 *tbs = X509_dup(precert);
    unsigned char *p;
    int len;

    if (normal != NULL)
        OSSL_LIB_CTX_set0_default(normal);
    if (tbs == NULL)
        goto fail;
    X509_EXTENSION_free(X509_delete_ext(tbs, X509_get_ext_by_NID(tbs, NID_ct_precert_poison, -1)));
    if (psc != NULL && chain_take_psc_issuer(tbs, psc) != 0)
        goto fail;
    if ((len = i2d_re_X509_tbs(tbs, NULL)) <= 0 || (size_t)len > CHAIN_MAX_DER || (out->certificate = malloc((size_t)len)) == NULL)
        goto fail;
    p = out->certificate;
    if (i2d_re_X509_tbs(tbs, &p) != len)
        goto fail;
    out->certificate_len = (size_t)len;
    X509_free(tbs);
    return CHAIN_OK;

fail:
    tlog_errorf(err, "add-pre-chain: cannot re-encode the TBSCertificate: %s", chain_openssl_reason());
    ERR_clear_error();
    X509_free(tbs);
    return CHAIN_INTERNAL;
}

static int chain_precert(X509 *precert, STACK_OF(X509) * path, chain_result_t *out, char *err)
{
    X509 *issuer, *psc = NULL;
    unsigned char *spki = NULL;
    int spki_len, n = sk_X509_num(path);
    tlog_hash_t hash;

    if (n < 2)
        return tlog_errorf(err, "add-pre-chain: the precertificate has no issuer in the chain");
    issuer = sk_X509_value(path, 1);
    if (chain_is_psc(issuer)) {
        if (n < 3)
            return tlog_errorf(err, "add-pre-chain: chain[1] is a Precertificate Signing Certificate, and nothing issued it");
        psc = issuer;
        issuer = sk_X509_value(path, 2);
    }
    if ((spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &spki)) <= 0) {
        ERR_clear_error();
        return tlog_errorf(err, "add-pre-chain: cannot encode the issuer's public key");
    }
    tlog_sha256(spki, (size_t)spki_len, &hash);
    OPENSSL_free(spki);
    memcpy(out->issuer_key_hash, hash.bytes, sizeof(out->issuer_key_hash));
    return chain_defanged_tbs(precert, psc, out, err);
}

/* ---- the whole check ---- */

static uint8_t *chain_copy(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len);
    if (copy != NULL)
        memcpy(copy, data, len);
    return copy;
}

/* The path after chain[0]: the submitted DER, and for an appended root the configured DER. */
static int chain_issuers(const chain_roots_t *roots, STACK_OF(X509) * path, const uint8_t *const *ders, const size_t *lens,
                         size_t n, chain_result_t *out, char *err)
{
    for (int i = 1; i < sk_X509_num(path); i++) {
        const uint8_t *der;
        size_t len;
        tlog_hash_t hash;
        if ((size_t)i < n) {
            der = ders[i];
            len = lens[i];
        } else {
            size_t root;
            if (!tlog_ctroots_find(roots->certs, sk_X509_value(path, i), &root))
                return chain_internal(err, "the path ends in a root this log does not list");
            der = tlog_ctroots_der(roots->certs, root, &len);
        }
        if ((out->issuers[out->chain_count] = chain_copy(der, len)) == NULL)
            return chain_internal(err, "out of memory");
        out->issuer_lens[out->chain_count] = len;
        tlog_sha256(der, len, &hash);
        memcpy(out->fingerprints + 32 * out->chain_count, hash.bytes, 32);
        out->chain_count++;
    }
    return CHAIN_OK;
}

int chain_validate(const chain_roots_t *roots, const chain_policy_t *policy, int precert, const uint8_t *const *ders,
                   const size_t *lens, size_t n, time_t now, chain_result_t *out, char *err)
{
    X509 *certs[CHAIN_MAX_CERTS] = {NULL};
    STACK_OF(X509) *path = NULL;
    chain_path_t *known = NULL;
    uint8_t key[32];
    int ret = CHAIN_REJECTED;

    memset(out, 0, sizeof(*out));
    if (chain_policy_check(policy, err) != 0)
        return CHAIN_INTERNAL;
    if (n == 0) {
        tlog_errorf(err, "chain: empty");
        goto done;
    }
    if (n > CHAIN_MAX_CERTS) {
        tlog_errorf(err, "chain: %zu certificates, at most %d are accepted", n, CHAIN_MAX_CERTS);
        goto done;
    }
    /* A submitted chain[1..] verified before (a key that counts the roots, which only grow) need not be parsed again. */
    if (n >= 2) {
        chain_paths_key(tlog_ctroots_count(roots->certs), ders + 1, lens + 1, n - 1, key);
        known = chain_paths_find(roots->paths, key);
    }
    for (size_t i = 0; i < (known != NULL ? 1 : n); i++)
        if ((certs[i] = i == 0 ? chain_parse_leaf(ders[0], lens[0]) : tlog_ct_certificate_parse(ders[i], lens[i])) == NULL) {
            tlog_errorf(err, "chain[%zu]: not a DER X.509 certificate", i);
            goto done;
        }
    if (X509_get0_pubkey(certs[0]) == NULL) { /* X509_verify_cert would only call it "unspecified" */
        ERR_clear_error();
        tlog_errorf(err, "chain[0]: its public key does not decode (a malformed key, or a type OpenSSL does not know)");
        goto done;
    }
    if ((ret = chain_check_poison(certs[0], precert, err)) != CHAIN_OK ||
        (ret = chain_check_filters(policy, certs[0], now, out, err)) != CHAIN_OK)
        goto done;
    if (known != NULL) {
        ret = chain_verify_known(roots->paths, known, certs[0], ders[0], lens[0], &path, err);
    } else if ((ret = chain_verify(roots, certs, n, &path, err)) == CHAIN_OK && n >= 2 && chain_path_reusable(path)) {
        chain_paths_add(roots->paths, key, path);
    }
    if (ret != CHAIN_OK || (ret = chain_issuers(roots, path, ders, lens, n, out, err)) != CHAIN_OK)
        goto done;
    out->is_precert = precert;
    if (precert) {
        if ((ret = chain_precert(certs[0], path, out, err)) != CHAIN_OK)
            goto done;
        if ((out->precertificate = chain_copy(ders[0], lens[0])) == NULL)
            ret = chain_internal(err, "out of memory");
        out->precertificate_len = lens[0];
    } else {
        if ((out->certificate = chain_copy(ders[0], lens[0])) == NULL)
            ret = chain_internal(err, "out of memory");
        out->certificate_len = lens[0];
    }

done:
    ERR_clear_error();
    if (ret != CHAIN_OK)
        chain_result_free(out);
    sk_X509_pop_free(path, X509_free);
    for (size_t i = 0; i < CHAIN_MAX_CERTS; i++)
        X509_free(certs[i]);
    return ret;
}

void chain_result_free(chain_result_t *result)
{
    if (result == NULL)
        return;
    free(result->certificate);
    free(result->precertificate);
    for (size_t i = 0; i < result->chain_count; i++)
        free(result->issuers[i]);
    memset(result, 0, sizeof(*result));
}

void chain_result_entry(const chain_result_t *result, uint64_t timestamp_ms, uint64_t leaf_index, tlog_ct_entry_t *out)
{
    memset(out, 0, sizeof(*out));
    out->timestamp = timestamp_ms;
    out->leaf_index = leaf_index;
    out->is_precert = result->is_precert;
    out->certificate = result->certificate;
    out->certificate_len = result->certificate_len;
    memcpy(out->issuer_key_hash, result->issuer_key_hash, sizeof(out->issuer_key_hash));
    out->precertificate = result->precertificate;
    out->precertificate_len = result->precertificate_len;
    out->chain_fingerprints = result->fingerprints;
    out->chain_count = result->chain_count;
}
