/*
 * The lock database: one SQLite file per faro-writer that holds, for every
 * log it serves, the latest signed checkpoint (the authority against which
 * storage is checked, spec/skylight.md §B.4) and, per witness, the tree size
 * that witness last cosigned.
 *
 * A checkpoint only ever moves forward by compare-and-swap: lockdb_replace
 * stores the new body only if the stored one is, byte for byte, the one this
 * writer extended. Two writers pointed at the same log therefore cannot both
 * advance it, and a rolled-back lock DB is noticed on the next round.
 *
 * Threading: a lockdb_t is one SQLite connection and is not thread-safe.
 * Open one per sequencer thread; any number of handles (threads or
 * processes) may use the same file at once.
 *
 * Every function returns 0 (or 1/0 for lookups) on success and a negative
 * code on failure, with a message naming the file in err (TLOG_ERR_MAX bytes).
 */
#ifndef WRITER_LOCKDB_H
#define WRITER_LOCKDB_H

#include <stddef.h>
#include <stdint.h>

/* lockdb_replace: the stored checkpoint is not old_body (another writer, or a rollback). */
#define LOCKDB_CONFLICT (-2)

typedef struct lockdb lockdb_t;

/*
 * Opens the lock DB at path. With create=0 a missing file is refused (the
 * message says to use --create-missing); with create=1 a missing or empty
 * file gets the schema. A file that is not a faro lock DB is refused.
 */
int lockdb_open(const char *path, int create, lockdb_t **out, char *err);
void lockdb_close(lockdb_t *db);

/* The stored checkpoint of log_id into *body (malloc'd, NUL-terminated, not counted in *len): 1 found, 0 absent, -1 error. */
int lockdb_get(lockdb_t *db, const uint8_t log_id[32], char **body, size_t *len, char *err);
/* Stores the first checkpoint of log_id; fails if the log already has one. */
int lockdb_create(lockdb_t *db, const uint8_t log_id[32], const char *body, size_t len, char *err);
/*
 * Replaces log_id's checkpoint old_body by new_body if and only if old_body is
 * what is stored; otherwise nothing changes and LOCKDB_CONFLICT is returned.
 * After -1 (an I/O error, or the file stayed locked) the stored body may be
 * either one: read it back with lockdb_get before going on.
 */
int lockdb_replace(lockdb_t *db, const uint8_t log_id[32], const char *old_body, size_t old_len, const char *new_body,
                   size_t new_len, char *err);

/* The size witness last cosigned for log_id: 1 found, 0 never recorded, -1 error. */
int lockdb_witness_get(lockdb_t *db, const uint8_t log_id[32], const char *witness, uint64_t *size, char *err);
/* Records (or overwrites) the size witness last cosigned for log_id; size is at most INT64_MAX. */
int lockdb_witness_set(lockdb_t *db, const uint8_t log_id[32], const char *witness, uint64_t size, char *err);

#endif
