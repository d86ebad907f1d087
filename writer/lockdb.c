/*
 * The lock database (see lockdb.h for the contract; spec/skylight.md §B.4).
 *
 * One SQLite file, two STRICT tables:
 *   checkpoints(log_id BLOB[32] PRIMARY KEY, body BLOB): each log's latest signed checkpoint;
 *   witnesses(log_id, witness TEXT, size INTEGER): the size each witness last cosigned.
 * The file is marked with PRAGMA application_id LOCKDB_APP_ID and user_version
 * LOCKDB_VERSION, and on open its schema must be exactly the one below, so a
 * dedup index, another program's database or a file of random bytes is refused
 * before anything is written to it.
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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "tlog/error.h"
#include "writer/lockdb.h"

#define LOCKDB_APP_ID 0x46614c6b /* "FaLk" */
#define LOCKDB_VERSION 1
#define LOCKDB_BUSY_MS 5000

/* The schema, in sqlite_schema name order, exactly as SQLite stores it. */
static const char *const schema[] = {
    "CREATE TABLE checkpoints (log_id BLOB NOT NULL PRIMARY KEY CHECK (length(log_id) = 32), body BLOB NOT NULL) STRICT",
    "CREATE TABLE witnesses (log_id BLOB NOT NULL CHECK (length(log_id) = 32), witness TEXT NOT NULL, "
    "size INTEGER NOT NULL CHECK (size >= 0), PRIMARY KEY (log_id, witness)) STRICT",
};
#define SCHEMA_LEN (sizeof(schema) / sizeof(schema[0]))

struct lockdb {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *get;
    sqlite3_stmt *create;
    sqlite3_stmt *replace;
    sqlite3_stmt *witness_get;
    sqlite3_stmt *witness_set;
};

/* Reports the connection's last SQLite error about what, naming the file. */
static int fail_sql(sqlite3 *db, const char *path, const char *what, char *err)
{
    return tlog_errorf(err, "lock database %s: %s: %s", path, what, sqlite3_errmsg(db));
}

/* The first 8 bytes of a log ID in hex, enough to tell logs apart in a message. */
static void short_id(const uint8_t log_id[32], char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", log_id[i]);
}

/* Runs a one-row integer query (a PRAGMA or a count) into *value. */
static int query_int(sqlite3 *db, const char *path, const char *sql, int *value, char *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    *value = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
fail:
    fail_sql(db, path, "reading the schema", err);
    sqlite3_finalize(st);
    return -1;
}

/* Inside a write transaction: gives an empty database the schema and the faro marks. */
static int create_schema(sqlite3 *db, const char *path, char *err)
{
    char marks[96];
    for (size_t i = 0; i < SCHEMA_LEN; i++)
        if (sqlite3_exec(db, schema[i], NULL, NULL, NULL) != SQLITE_OK)
            return fail_sql(db, path, "creating the schema", err);
    snprintf(marks, sizeof(marks), "PRAGMA application_id = %d; PRAGMA user_version = %d", LOCKDB_APP_ID, LOCKDB_VERSION);
    if (sqlite3_exec(db, marks, NULL, NULL, NULL) != SQLITE_OK)
        return fail_sql(db, path, "creating the schema", err);
    return 0;
}

/* Inside a transaction: refuses anything but a faro lock DB of this version. */
static int check_schema(sqlite3 *db, const char *path, char *err)
{
    int app_id, version;
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    if (query_int(db, path, "PRAGMA application_id", &app_id, err) != 0 ||
        query_int(db, path, "PRAGMA user_version", &version, err) != 0)
        return -1;
    if (app_id != LOCKDB_APP_ID)
        return tlog_errorf(err, "%s is not a faro lock database (SQLite application_id 0x%08x, expected 0x%08x)", path,
                           (unsigned)app_id, (unsigned)LOCKDB_APP_ID);
    if (version != LOCKDB_VERSION)
        return tlog_errorf(err, "lock database %s has schema version %d; this faro-writer reads version %d", path, version,
                           LOCKDB_VERSION);
    if (sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name", -1, &st, NULL) != SQLITE_OK)
        goto fail_sql;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(st, 0);
        if (n >= SCHEMA_LEN || sql == NULL || strcmp(sql, schema[n]) != 0) {
            tlog_errorf(err, "lock database %s: its schema is not faro's (unexpected \"%.80s\")", path, sql ? sql : "");
            goto fail;
        }
        n++;
    }
    if (rc != SQLITE_DONE)
        goto fail_sql;
    if (n != SCHEMA_LEN) {
        tlog_errorf(err, "lock database %s: its schema is not faro's (missing \"%.60s\")", path, schema[n]);
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail_sql:
    fail_sql(db, path, "reading the schema", err);
fail:
    sqlite3_finalize(st);
    return -1;
}

/*
 * In one write transaction: creates the schema if the file is empty and
 * create is set, then checks it. A foreign file is left untouched.
 */
static int prepare_file(sqlite3 *db, const char *path, int create, char *err)
{
    int app_id, tables;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail_sql(db, path, "opening", err);
    if (query_int(db, path, "PRAGMA application_id", &app_id, err) != 0 ||
        query_int(db, path, "SELECT count(*) FROM sqlite_schema", &tables, err) != 0)
        goto fail;
    if (app_id == 0 && tables == 0) {
        if (!create) {
            tlog_errorf(err, "lock database %s is an empty file; run with --create-missing to create its schema", path);
            goto fail;
        }
        if (create_schema(db, path, err) != 0)
            goto fail;
    }
    if (check_schema(db, path, err) != 0)
        goto fail;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fail_sql(db, path, "committing the schema", err);
        goto fail;
    }
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Switches to WAL (a no-op once the file is in WAL mode) and checks that it took. */
static int set_wal(sqlite3 *db, const char *path, char *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        fail_sql(db, path, "setting journal_mode=WAL", err);
        goto fail;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0) {
        tlog_errorf(err, "lock database %s: journal_mode stays \"%s\", not \"wal\"", path, mode ? mode : "");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

static int prepare(lockdb_t *db, sqlite3_stmt **st, const char *sql, char *err)
{
    if (sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return fail_sql(db->db, db->path, "preparing a statement", err);
    return 0;
}

int lockdb_open(const char *path, int create, lockdb_t **out, char *err)
{
    lockdb_t *db = NULL;
    struct stat sb;
    *out = NULL;
    if (!create && stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return tlog_errorf(err, "lock database %s does not exist; run with --create-missing to create it", path);
        return tlog_errorf(err, "lock database %s: %s", path, strerror(errno));
    }
    if (sqlite3_threadsafe() == 0)
        return tlog_errorf(err, "lock database %s: the SQLite library was built without thread support", path);
    db = calloc(1, sizeof(*db));
    if (db == NULL || (db->path = strdup(path)) == NULL) {
        tlog_errorf(err, "lock database %s: out of memory", path);
        goto fail;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db->db, flags, NULL) != SQLITE_OK) {
        if (db->db == NULL)
            tlog_errorf(err, "lock database %s: out of memory", path);
        else
            fail_sql(db->db, path, "opening", err);
        goto fail;
    }
    if (sqlite3_busy_timeout(db->db, LOCKDB_BUSY_MS) != SQLITE_OK ||
        sqlite3_exec(db->db, "PRAGMA synchronous = FULL; PRAGMA fullfsync = ON", NULL, NULL, NULL) != SQLITE_OK) {
        fail_sql(db->db, path, "opening", err);
        goto fail;
    }
    if (prepare_file(db->db, path, create, err) != 0 || set_wal(db->db, path, err) != 0)
        goto fail;
    const struct {
        sqlite3_stmt **st;
        const char *sql;
    } statements[] = {
        {&db->get, "SELECT body FROM checkpoints WHERE log_id = ?1"},
        {&db->create, "INSERT INTO checkpoints (log_id, body) VALUES (?1, ?2) ON CONFLICT (log_id) DO NOTHING"},
        {&db->replace, "UPDATE checkpoints SET body = ?3 WHERE log_id = ?1 AND body = ?2"},
        {&db->witness_get, "SELECT size FROM witnesses WHERE log_id = ?1 AND witness = ?2"},
        {&db->witness_set, "INSERT INTO witnesses (log_id, witness, size) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT (log_id, witness) DO UPDATE SET size = excluded.size"},
    };
    for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
        if (prepare(db, statements[i].st, statements[i].sql, err) != 0)
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
    sqlite3_finalize(db->witness_set);
    sqlite3_finalize(db->witness_get);
    sqlite3_finalize(db->replace);
    sqlite3_finalize(db->create);
    sqlite3_finalize(db->get);
    sqlite3_close(db->db);
    free(db->path);
    free(db);
}

/* Steps a write statement to completion and resets it; *changes gets the rows it changed. */
static int run(lockdb_t *db, sqlite3_stmt *st, const char *what, int *changes, char *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        fail_sql(db->db, db->path, what, err);
    else
        *changes = sqlite3_changes(db->db);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
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
        fail_sql(db->db, db->path, "reading a checkpoint", err);
    } else {
        const void *data = sqlite3_column_blob(db->get, 0);
        size_t n = (size_t)sqlite3_column_bytes(db->get, 0);
        if ((*body = malloc(n + 1)) == NULL) {
            tlog_errorf(err, "lock database %s: out of memory", db->path);
        } else {
            if (n > 0)
                memcpy(*body, data, n);
            (*body)[n] = '\0';
            *len = n;
            found = 1;
        }
    }
    sqlite3_reset(db->get);
    return found;
}

int lockdb_create(lockdb_t *db, const uint8_t log_id[32], const char *body, size_t len, char *err)
{
    char id[17];
    int changes;
    if (len > INT32_MAX)
        return tlog_errorf(err, "lock database %s: a checkpoint of %zu bytes is too large", db->path, len);
    sqlite3_bind_blob(db->create, 1, log_id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(db->create, 2, len > 0 ? body : "", (int)len, SQLITE_STATIC);
    if (run(db, db->create, "creating a log", &changes, err) != 0)
        return -1;
    if (changes == 0) {
        short_id(log_id, id);
        return tlog_errorf(err, "lock database %s already has a checkpoint for log %s...", db->path, id);
    }
    return 0;
}

int lockdb_replace(lockdb_t *db, const uint8_t log_id[32], const char *old_body, size_t old_len, const char *new_body,
                   size_t new_len, char *err)
{
    char id[17];
    int changes;
    if (old_len > INT32_MAX || new_len > INT32_MAX)
        return tlog_errorf(err, "lock database %s: a checkpoint of %zu bytes is too large", db->path,
                           old_len > new_len ? old_len : new_len);
    sqlite3_bind_blob(db->replace, 1, log_id, 32, SQLITE_STATIC);
    sqlite3_bind_blob(db->replace, 2, old_len > 0 ? old_body : "", (int)old_len, SQLITE_STATIC);
    sqlite3_bind_blob(db->replace, 3, new_len > 0 ? new_body : "", (int)new_len, SQLITE_STATIC);
    if (run(db, db->replace, "replacing a checkpoint", &changes, err) != 0)
        return -1;
    if (changes == 0) {
        short_id(log_id, id);
        tlog_errorf(err,
                    "lock database %s: the stored checkpoint of log %s... is not the one this writer extended: "
                    "another writer or a rollback",
                    db->path, id);
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
        fail_sql(db->db, db->path, "reading a witness size", err);
    }
    sqlite3_reset(db->witness_get);
    return found;
}

int lockdb_witness_set(lockdb_t *db, const uint8_t log_id[32], const char *witness, uint64_t size, char *err)
{
    int changes;
    if (size > INT64_MAX)
        return tlog_errorf(err, "lock database %s: witness size %llu is out of range", db->path, (unsigned long long)size);
    sqlite3_bind_blob(db->witness_set, 1, log_id, 32, SQLITE_STATIC);
    sqlite3_bind_text(db->witness_set, 2, witness, -1, SQLITE_STATIC);
    sqlite3_bind_int64(db->witness_set, 3, (sqlite3_int64)size);
    return run(db, db->witness_set, "recording a witness size", &changes, err);
}
