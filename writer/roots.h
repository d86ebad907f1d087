/*
 * The roots one log trusts: those of its roots file, and every root ever
 * fetched from its roots_remote_fetch_url (writer/roots_fetch.c).
 *
 * A fetched root is backed up durably as <storage>/roots/<hex SHA-256 of its
 * DER>.pem before it is trusted, and the backups are loaded with the roots
 * file at every open and reload (tlog_ctroots_load, which faro-gateway's
 * get-roots reads them with too), so a fetched root survives restarts and an
 * unreachable URL. Nothing removes one (an operator deletes its file and
 * sends SIGHUP). A fetched bundle is all or nothing: every block must be a CA
 * certificate (X509_check_ca), or none of it is trusted.
 *
 * Threads: validation and get-roots hold a read lock on the set; a merge or
 * reload does its file I/O under a mutex of its own and takes the write lock
 * only to add a root or swap the set, so submissions never wait for a disk
 * or a download.
 */
#ifndef FARO_WRITER_ROOTS_H
#define FARO_WRITER_ROOTS_H

#include <stddef.h>
#include <time.h>

#include "writer/chain.h"

typedef struct roots roots_t;

/* roots_merge_pem failures, besides TLOG_DURABLE_FATAL (an fsync error while backing up: stop). */
enum {
    ROOTS_BUNDLE_INVALID = -1, /* not PEM certificates, or one is not a CA: nothing was added */
    ROOTS_BACKUP_FAILED = -3,  /* a backup could not be written: the roots backed up before it were added */
};

/* Loads the roots file and the backups under storage; refuses a backup that does not parse, naming it. */
int roots_open(const char *roots_file, const char *storage, roots_t **out, char *err);
void roots_free(roots_t *roots);
/* Rereads the roots file and the backups (SIGHUP); the old set stays if that fails. */
int roots_reload(roots_t *roots, char *err);
/* Adds the CA certificates of a PEM bundle that are not trusted yet, each backed up first; *added says how many. */
int roots_merge_pem(roots_t *roots, const char *pem, size_t len, size_t *added, char *err);

size_t roots_count(roots_t *roots);
/* The get-roots response body, malloc'd; its length in *len. */
char *roots_json(roots_t *roots, size_t *len);
/* chain_validate against the current set. */
int roots_validate(roots_t *roots, const chain_policy_t *policy, int precert, const chain_request_t *request, time_t now,
                   chain_result_t *out, char *err);

#endif
