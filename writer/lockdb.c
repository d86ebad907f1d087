/*
 * The lock database (see lockdb.h for the contract; spec/skylight.md §B.4).
 *
 * One SQLite file, two STRICT tables:
 *   checkpoints(log_id BLOB[32] PRIMARY KEY, body BLOB): each log's latest signed checkpoint;
 *   witnesses(log_id, witness TEXT, size INTEGER): the size each witness last cosigned.
 * The file is marked with PRAGMA application_id LOCKDB_APP_ID and user_version
 * LOCKDB_VERSION, and on open its schema must be exactly the one below, so a
 * dedup index, another program's database or a file of random bytes is refused
 * before anything is written to it (writer/sqlite_file.c opens and checks it).
 *
 * Operations: get, create, replace (compare-and-swap) and the witness get/set
 * are each one prepared statement on a primary key: O(log n) page reads, and
 * for a write one commit (one fsync of the WAL, below). open costs a few
 * reads of the schema and, for a new file, one schema transaction.
 *
 * Journal: WAL with synchronous=FULL. A commit appends the changed pages to the
 * -wal file and fsyncs it before returning, so a returned lockdb_replace
 * survives power loss; that is one fsync per commit, where the rollback
 * journal needs three (journal, database, journal header) and makes readers
 * wait for writers. The cost is two companion files (-wal, -shm) that must sit
 * beside the database on a local file system; back the file up with the
 * sqlite3 .backup command, not cp. (fullfsync, as §B.4 asks, only changes
 * anything on macOS.)
 *
 * Invariants: a checkpoint row only changes through the UPDATE ... WHERE body =
 * old of lockdb_replace, so a stored checkpoint is always the one the last
 * successful caller extended; log_id is always 32 bytes (a CHECK constraint).
 *
 * Threading: a lockdb_t is one connection (opened SQLITE_OPEN_NOMUTEX) with its
 * statements; use it from one thread at a time. Handles on the same file take
 * SQLite's file locks; a writer waits up to LOCKDB_BUSY_MS for another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/error.h"
#include "writer/lockdb.h"
#include "sqlite/sqlite_file.h"

#define LOCKDB_APP_ID 0x46614c6b /* "FaLk" */
#define LOCKDB_VERSION 1
#define LOCKDB_BUSY_MS 5000

/* The schema, in sqlite_schema name order, exactly as SQLite stores it. */
static const char *const schema[] = {
    "CREATE TABLE checkpoints (log_id BLOB NOT NULL PRIMARY KEY CHECK (length(log_id) = 32), body BLOB NOT NULL) STRICT",
    "CREATE TABLE witnesses (log_id BLOB NOT NULL CHECK (length(log_id) = 32), witness TEXT NOT NULL, "
    "size INTEGER NOT NULL CHECK (size >= 0), PRIMARY KEY (log_id, witness)) STRICT",
};

static const sqlite_file_kind_t lockdb_kind = {
    .name = "lock database",
    .application_id = LOCKDB_APP_ID,
    .user_version = LOCKDB_VERSION,
    .schema = schema,
    .schema_len = sizeof(schema) / sizeof(schema[0]),
    .pragmas = "PRAGMA synchronous = FULL; PRAGMA fullfsync = ON",
    .busy_ms = LOCKDB_BUSY_MS,
};

struct lockdb {
    sqlite_file_t super;
    sqlite3_stmt *get;
    sqlite3_stmt *create;
    sqlite3_stmt *replace;
    sqlite3_stmt *witness_get;
    sqlite3_stmt *witness_set;
};

/* The first 8 bytes of a log ID in hex, enough to tell logs apart in a message. */
static void short_id(const uint8_t log_id[32], char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", log_id[i]);
}

int lockdb_open(const char *path, int create, lockdb_t **out, char *err)
{
    lockdb_t *db = calloc(1, sizeof(*db));
    *out = NULL;
    if (db == NULL)
        return tlog_errorf(err, "lock database %s: out of memory", path);
    if (sqlite_file_open(&db->super, &lockdb_kind, path, create, err) != 0)
        goto fail;
    const sqlite_file_statement_t statements[] = {
        {&db->get, "SELECT body FROM checkpoints WHERE log_id = ?1"},
        {&db->create, "INSERT INTO checkpoints (log_id, body) VALUES (?1, ?2) ON CONFLICT (log_id) DO NOTHING"},
        {&db->replace, "UPDATE checkpoints SET body = ?3 WHERE log_id = ?1 AND body = ?2"},
        {&db->witness_get, "SELECT size FROM witnesses WHERE log_id = ?1 AND witness = ?2"},
        {&db->witness_set, "INSERT INTO witnesses (log_id, witness, size) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT (log_id, witness) DO UPDATE SET size = excluded.size"},
    };
    if (sqlite_file_prepare(&db->super, statements, sizeof(statements) / sizeof(statements[0]), err) != 0)
        goto fail;
    *out = db;
    return 0;
fail:
    lockdb_close(db);
    return -1;
}

void lockdb_close(lockdb_t *db)
{
    if (db == NULL)
        return;
    sqlite_file_close(&db->super);
    free(db);
}

int lockdb_get(lockdb_t *db, const uint8_t log_id[32], char **body, size_t *len, char *err)
{
    int found = -1;
    *body = NULL;
    *len = 0;
    sqlite3_bind_blob(db->get, 1, log_id, 32, SQLITE_STATIC);
    int rc = sqlite3_step(db->get);
    if (rc == SQLITE_DONE) {
        found = 0;
    } else if (rc != SQLITE_ROW) {
        sqlite_file_error(&db->super, "reading a checkpoint", err);
    } else if (sqlite_file_copy_blob(&db->super, db->get, 0, body, len, err) == 0) {
        found = 1;
    }
    sqlite3_reset(db->get);
    return found;
}

int lockdb_create(lockdb_t *db, const uint8_t log_id[32], const char *body, size_t len, char *err)
{
    char id[17];
    if (len > INT32_MAX)
        return tlog_errorf(err, "lock database %s: a checkpoint of %zu bytes is too large", db->super.path, len);
    sqlite3_bind_blob(db->create, 1, log_id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(db->create, 2, len > 0 ? body : "", (int)len, SQLITE_STATIC);
    if (sqlite_file_run(&db->super, db->create, "creating a log", err) != 0)
        return -1;
    if (sqlite3_changes(db->super.db) == 0) {
        short_id(log_id, id);
        return tlog_errorf(err, "lock database %s already has a checkpoint for log %s...", db->super.path, id);
    }
    return 0;
}

int lockdb_replace(lockdb_t *db, const uint8_t log_id[32], const char *old_body, size_t old_len, const char *new_body,
                   size_t new_len, char *err)
{
    char id[17];
    if (old_len > INT32_MAX || new_len > INT32_MAX)
        return tlog_errorf(err, "lock database %s: a checkpoint of %zu bytes is too large", db->super.path,
                           old_len > new_len ? old_len : new_len);
    sqlite3_bind_blob(db->replace, 1, log_id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(db->replace, 2, old_len > 0 ? old_body : "", (int)old_len, SQLITE_STATIC);
    sqlite3_bind_blob(db->replace, 3, new_len > 0 ? new_body : "", (int)new_len, SQLITE_STATIC);
    if (sqlite_file_run(&db->super, db->replace, "replacing a checkpoint", err) != 0)
        return -1;
    if (sqlite3_changes(db->super.db) == 0) {
        short_id(log_id, id);
        tlog_errorf(err,
                    "lock database %s: the stored checkpoint of log %s... is not the one this writer extended: "
                    "another writer or a rollback",
                    db->super.path, id);
        return LOCKDB_CONFLICT;
    }
    return 0;
}

int lockdb_witness_get(lockdb_t *db, const uint8_t log_id[32], const char *witness, uint64_t *size, char *err)
{
    int found = -1;
    sqlite3_bind_blob(db->witness_get, 1, log_id, 32, SQLITE_STATIC);
    sqlite3_bind_text(db->witness_get, 2, witness, -1, SQLITE_STATIC);
    int rc = sqlite3_step(db->witness_get);
    if (rc == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(db->witness_get, 0);
        found = 1;
    } else if (rc == SQLITE_DONE) {
        found = 0;
    } else {
        sqlite_file_error(&db->super, "reading a witness size", err);
    }
    sqlite3_reset(db->witness_get);
    return found;
}

int lockdb_witness_set(lockdb_t *db, const uint8_t log_id[32], const char *witness, uint64_t size, char *err)
{
    if (size > INT64_MAX)
        return tlog_errorf(err, "lock database %s: witness size %llu is out of range", db->super.path, (unsigned long long)size);
    sqlite3_bind_blob(db->witness_set, 1, log_id, 32, SQLITE_STATIC);
    sqlite3_bind_text(db->witness_set, 2, witness, -1, SQLITE_STATIC);
    sqlite3_bind_int64(db->witness_set, 3, (sqlite3_int64)size);
    return sqlite_file_run(&db->super, db->witness_set, "recording a witness size", err);
}
