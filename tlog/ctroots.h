/*
 * The roots a CT log lists (get-roots, RFC 6962 §4.7) and faro-writer
 * trusts: a set of root certificates, each kept as the DER it was read as
 * and parsed once. faro-writer builds its chain validation on a set
 * (writer/chain.c); faro-gateway reads one to answer get-roots.
 *
 * On disk a log's roots are its roots file (a PEM bundle) and the backups
 * faro-writer keeps of the roots it fetched (writer/roots.c), one PEM
 * certificate each under the storage directory:
 *
 *   <storage>/roots/<64 lowercase hex digits of the SHA-256 of its DER>.pem
 *
 * A set is not thread-safe; once built it may be read from any thread.
 */
#ifndef TLOG_CTROOTS_H
#define TLOG_CTROOTS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

/* The storage folder of backed-up roots. */
#define TLOG_CTROOTS_DIR "roots"

typedef struct tlog_ctroots tlog_ctroots_t;

int tlog_ctroots_new(tlog_ctroots_t **out, char *err);
/* NULL is a no-op. */
void tlog_ctroots_free(tlog_ctroots_t *roots);
/* Adds one DER root; a root already present (X509_cmp) is skipped (returns 0). */
int tlog_ctroots_add_der(tlog_ctroots_t *roots, const uint8_t *der, size_t len, char *err);
/* Adds every certificate of a PEM bundle (at least one; nothing is added if any fails to parse). */
int tlog_ctroots_add_pem(tlog_ctroots_t *roots, const char *pem, size_t len, char *err);
/*
 * A log's roots: those of roots_file (at least one), then every backup
 * under <storage>/roots (none if the folder does not exist). A backup that
 * cannot be read or parsed is refused, naming it.
 */
int tlog_ctroots_load(const char *roots_file, const char *storage, tlog_ctroots_t **out, char *err);

size_t tlog_ctroots_count(const tlog_ctroots_t *roots);
/* Root i in the order added, as DER exactly as read, and parsed; NULL if i >= count. */
const uint8_t *tlog_ctroots_der(const tlog_ctroots_t *roots, size_t i, size_t *len);
X509 *tlog_ctroots_x509(const tlog_ctroots_t *roots, size_t i);
/* The index of the root equal to x (X509_cmp) into *i: 1, or 0 if x is not one. */
int tlog_ctroots_find(const tlog_ctroots_t *roots, const X509 *x, size_t *i);
/* The get-roots body {"certificates":[...]}, malloc'd and NUL-terminated; its length without the NUL into *len. */
char *tlog_ctroots_json(const tlog_ctroots_t *roots, size_t *len);

#endif
