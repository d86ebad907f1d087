/*
 * The dedup index of one log (see dedup.h for the contract; spec/static-ct.md §8).
 *
 * One SQLite file, one STRICT WITHOUT ROWID table keyed by the 32-byte dedup key:
 *   dedup(key BLOB[32] PRIMARY KEY, leaf_index INTEGER, timestamp INTEGER ms, sct BLOB)
 * A row is about 250 bytes (the SCT JSON is most of it), small enough that
 * keeping it in the key's own b-tree beats a rowid table plus a key index:
 * one b-tree to search and one to insert into. The file is marked with PRAGMA
 * application_id DEDUP_APP_ID and user_version DEDUP_VERSION, and its schema
 * must be exactly the one below, so a lock DB, another program's database or
 * random bytes are refused before anything is written.
 *
 * Operations: lookup is one primary-key search, O(log n) pages. put inserts a
 * batch in one transaction (INSERT OR IGNORE, so the first SCT for a key
 * wins): O(n log n) pages and one commit; measured at well over 10,000 rows/s
 * (tests/unit/test_writer_dedup.c prints the rate). open reads the schema and,
 * for a new file, writes it in one transaction.
 *
 * Journal: WAL with synchronous=NORMAL. Readers see the last committed batch
 * and never block the writer nor wait for it. A commit is not fsynced (only
 * WAL checkpoints are): power loss may drop the last batches, which only costs
 * duplicate entries, and never corrupts the file.
 *
 * Invariants: a key's row never changes once stored; key is always 32 bytes
 * (a CHECK constraint); leaf_index and timestamp fit in SQLite's signed 64 bits.
 *
 * Threading: a dedup_t is one connection (opened SQLITE_OPEN_NOMUTEX) with its
 * prepared statements; use it from one thread at a time. A writer waits up to
 * DEDUP_BUSY_MS for another writer on the same file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tlog/error.h"
#include "writer/dedup.h"

#define DEDUP_APP_ID 0x46614464 /* "FaDd" */
#define DEDUP_VERSION 1
#define DEDUP_BUSY_MS 5000

/* The schema exactly as SQLite stores it in sqlite_schema. */
static const char schema[] = "CREATE TABLE dedup (key BLOB NOT NULL PRIMARY KEY CHECK (length(key) = 32), "
                             "leaf_index INTEGER NOT NULL, timestamp INTEGER NOT NULL, sct BLOB NOT NULL) STRICT, WITHOUT ROWID";

struct dedup {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *lookup;
    sqlite3_stmt *insert;
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
};

/* Reports the connection's last SQLite error about what, naming the file. */
static int fail_sql(sqlite3 *db, const char *path, const char *what, char *err)
{
    return tlog_errorf(err, "dedup index %s: %s: %s", path, what, sqlite3_errmsg(db));
}

/* Runs a one-row query into *value (an integer) or *text (a malloc'd copy). */
static int query_one(sqlite3 *db, const char *path, const char *sql, int *value, char **text, char *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && !(rc == SQLITE_DONE && text != NULL))
        goto fail;
    if (value != NULL)
        *value = sqlite3_column_int(st, 0);
    if (text != NULL) {
        const char *s = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        *text = strdup(s != NULL ? s : "");
        if (*text == NULL) {
            tlog_errorf(err, "dedup index %s: out of memory", path);
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return 0;
fail:
    fail_sql(db, path, "reading the schema", err);
    sqlite3_finalize(st);
    return -1;
}

/* Inside a transaction: refuses anything but a faro dedup index of this version. */
static int check_schema(sqlite3 *db, const char *path, char *err)
{
    int app_id, version, objects;
    char *sql = NULL;
    if (query_one(db, path, "PRAGMA application_id", &app_id, NULL, err) != 0 ||
        query_one(db, path, "PRAGMA user_version", &version, NULL, err) != 0 ||
        query_one(db, path, "SELECT count(*) FROM sqlite_schema", &objects, NULL, err) != 0)
        return -1;
    if (app_id != DEDUP_APP_ID)
        return tlog_errorf(err, "%s is not a faro dedup index (SQLite application_id 0x%08x, expected 0x%08x)", path,
                           (unsigned)app_id, (unsigned)DEDUP_APP_ID);
    if (version != DEDUP_VERSION)
        return tlog_errorf(err, "dedup index %s has schema version %d; this faro-writer reads version %d", path, version,
                           DEDUP_VERSION);
    if (query_one(db, path, "SELECT sql FROM sqlite_schema WHERE name = 'dedup'", NULL, &sql, err) != 0)
        return -1;
    int same = objects == 1 && strcmp(sql, schema) == 0;
    if (!same)
        tlog_errorf(err, "dedup index %s: its schema is not faro's (%d objects, table \"%.80s\")", path, objects, sql);
    free(sql);
    return same ? 0 : -1;
}

/*
 * In one write transaction: gives an empty file the schema and the faro marks,
 * then checks the schema. A foreign file is left untouched.
 */
static int prepare_file(sqlite3 *db, const char *path, char *err)
{
    int app_id, objects;
    char marks[96];
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail_sql(db, path, "opening", err);
    if (query_one(db, path, "PRAGMA application_id", &app_id, NULL, err) != 0 ||
        query_one(db, path, "SELECT count(*) FROM sqlite_schema", &objects, NULL, err) != 0)
        goto fail;
    if (app_id == 0 && objects == 0) {
        snprintf(marks, sizeof(marks), "PRAGMA application_id = %d; PRAGMA user_version = %d", DEDUP_APP_ID, DEDUP_VERSION);
        if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK || sqlite3_exec(db, marks, NULL, NULL, NULL) != SQLITE_OK) {
            fail_sql(db, path, "creating the schema", err);
            goto fail;
        }
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

static int prepare(dedup_t *d, sqlite3_stmt **st, const char *sql, char *err)
{
    if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return fail_sql(d->db, d->path, "preparing a statement", err);
    return 0;
}

int dedup_open(const char *path, dedup_t **out, char *err)
{
    dedup_t *d = NULL;
    char *mode = NULL;
    *out = NULL;
    if (sqlite3_threadsafe() == 0)
        return tlog_errorf(err, "dedup index %s: the SQLite library was built without thread support", path);
    d = calloc(1, sizeof(*d));
    if (d == NULL || (d->path = strdup(path)) == NULL) {
        tlog_errorf(err, "dedup index %s: out of memory", path);
        goto fail;
    }
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (d->db == NULL)
            tlog_errorf(err, "dedup index %s: out of memory", path);
        else
            fail_sql(d->db, path, "opening", err);
        goto fail;
    }
    if (sqlite3_busy_timeout(d->db, DEDUP_BUSY_MS) != SQLITE_OK ||
        sqlite3_exec(d->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
        fail_sql(d->db, path, "opening", err);
        goto fail;
    }
    if (prepare_file(d->db, path, err) != 0 || query_one(d->db, path, "PRAGMA journal_mode = WAL", NULL, &mode, err) != 0)
        goto fail;
    if (strcmp(mode, "wal") != 0) {
        tlog_errorf(err, "dedup index %s: journal_mode stays \"%s\", not \"wal\"", path, mode);
        goto fail;
    }
    const struct {
        sqlite3_stmt **st;
        const char *sql;
    } statements[] = {
        {&d->lookup, "SELECT leaf_index, timestamp, sct FROM dedup WHERE key = ?1"},
        {&d->insert, "INSERT OR IGNORE INTO dedup (key, leaf_index, timestamp, sct) VALUES (?1, ?2, ?3, ?4)"},
        {&d->begin, "BEGIN IMMEDIATE"},
        {&d->commit, "COMMIT"},
        {&d->rollback, "ROLLBACK"},
    };
    for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
        if (prepare(d, statements[i].st, statements[i].sql, err) != 0)
            goto fail;
    free(mode);
    *out = d;
    return 0;
fail:
    free(mode);
    dedup_close(d);
    return -1;
}

void dedup_close(dedup_t *d)
{
    if (d == NULL)
        return;
    sqlite3_finalize(d->rollback);
    sqlite3_finalize(d->commit);
    sqlite3_finalize(d->begin);
    sqlite3_finalize(d->insert);
    sqlite3_finalize(d->lookup);
    sqlite3_close(d->db);
    free(d->path);
    free(d);
}

int dedup_lookup(dedup_t *d, const uint8_t key[32], dedup_hit_t *out, char *err)
{
    int found = -1;
    memset(out, 0, sizeof(*out));
    sqlite3_bind_blob(d->lookup, 1, key, 32, SQLITE_STATIC);
    int rc = sqlite3_step(d->lookup);
    if (rc == SQLITE_DONE) {
        found = 0;
    } else if (rc != SQLITE_ROW) {
        fail_sql(d->db, d->path, "looking up a key", err);
    } else {
        const void *sct = sqlite3_column_blob(d->lookup, 2);
        size_t n = (size_t)sqlite3_column_bytes(d->lookup, 2);
        if ((out->sct = malloc(n + 1)) == NULL) {
            tlog_errorf(err, "dedup index %s: out of memory", d->path);
        } else {
            if (n > 0)
                memcpy(out->sct, sct, n);
            out->sct[n] = '\0';
            out->sct_len = n;
            out->leaf_index = (uint64_t)sqlite3_column_int64(d->lookup, 0);
            out->timestamp = (uint64_t)sqlite3_column_int64(d->lookup, 1);
            found = 1;
        }
    }
    sqlite3_reset(d->lookup);
    return found;
}

/* Steps a statement that returns no rows and resets it; on failure leaves the message in err. */
static int run(dedup_t *d, sqlite3_stmt *st, const char *what, char *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        fail_sql(d->db, d->path, what, err);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int dedup_put(dedup_t *d, const dedup_row_t *rows, size_t n, char *err)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].leaf_index > INT64_MAX || rows[i].timestamp > INT64_MAX || rows[i].sct_len > INT32_MAX)
            return tlog_errorf(err, "dedup index %s: row %zu is out of range (leaf index %llu, timestamp %llu, %zu-byte SCT)",
                               d->path, i, (unsigned long long)rows[i].leaf_index, (unsigned long long)rows[i].timestamp,
                               rows[i].sct_len);
    if (n == 0)
        return 0;
    if (run(d, d->begin, "starting a transaction", err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const dedup_row_t *r = &rows[i];
        sqlite3_bind_blob(d->insert, 1, r->key, 32, SQLITE_STATIC);
        sqlite3_bind_int64(d->insert, 2, (sqlite3_int64)r->leaf_index);
        sqlite3_bind_int64(d->insert, 3, (sqlite3_int64)r->timestamp);
        sqlite3_bind_blob(d->insert, 4, r->sct_len > 0 ? r->sct : "", (int)r->sct_len, SQLITE_STATIC);
        if (run(d, d->insert, "inserting a row", err) != 0)
            goto fail;
    }
    if (run(d, d->commit, "committing", err) != 0)
        goto fail;
    return 0;
fail:
    if (!sqlite3_get_autocommit(d->db))
        run(d, d->rollback, "rolling back", NULL);
    return -1;
}
