/*
 * The dedup index of one log (see dedup.h for the contract; spec/static-ct.md §8).
 *
 * One SQLite file, one STRICT WITHOUT ROWID table keyed by the 32-byte dedup key:
 *   dedup(key BLOB[32] PRIMARY KEY, leaf_index INTEGER, timestamp INTEGER ms, signature BLOB)
 * A row holds what an SCT does not share with every other SCT of the log:
 * with the log's ID, tlog_ct_sct_json makes the same add-chain answer from it
 * byte for byte. At about 120 bytes a row, keeping it in the key's own
 * b-tree beats a rowid table plus a key index: one b-tree to search and one
 * to insert into. (Version 1 kept the whole JSON answer, about 240 bytes;
 * halving the rows took a round's inserts from 18 to 11 µs of CPU each and
 * lookups from 5 to 4 µs, on a 600,000-row index.) The file is marked with PRAGMA
 * application_id DEDUP_APP_ID and user_version DEDUP_VERSION, and its schema
 * must be exactly the one below, so a lock DB, another program's database or
 * random bytes are refused before anything is written (writer/sqlite_file.c
 * opens and checks it).
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
#include <stdlib.h>
#include <string.h>

#include "tlog/error.h"
#include "writer/dedup.h"
#include "sqlite/sqlite_file.h"

#define DEDUP_APP_ID 0x46614464 /* "FaDd" */
#define DEDUP_VERSION 2
#define DEDUP_BUSY_MS 5000

/* The schema exactly as SQLite stores it in sqlite_schema. */
static const char *const schema[] = {
    "CREATE TABLE dedup (key BLOB NOT NULL PRIMARY KEY CHECK (length(key) = 32), "
    "leaf_index INTEGER NOT NULL, timestamp INTEGER NOT NULL, signature BLOB NOT NULL) STRICT, WITHOUT ROWID",
};

static const sqlite_file_kind_t dedup_kind = {
    .name = "dedup index",
    .application_id = DEDUP_APP_ID,
    .user_version = DEDUP_VERSION,
    .schema = schema,
    .schema_len = sizeof(schema) / sizeof(schema[0]),
    .pragmas = "PRAGMA synchronous = NORMAL",
    .busy_ms = DEDUP_BUSY_MS,
};

struct dedup {
    sqlite_file_t super;
    sqlite3_stmt *lookup;
    sqlite3_stmt *insert;
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
};

int dedup_open(const char *path, dedup_t **out, char *err)
{
    dedup_t *d = calloc(1, sizeof(*d));
    *out = NULL;
    if (d == NULL)
        return tlog_errorf(err, "dedup index %s: out of memory", path);
    if (sqlite_file_open(&d->super, &dedup_kind, path, 1, err) != 0)
        goto fail;
    const sqlite_file_statement_t statements[] = {
        {&d->lookup, "SELECT leaf_index, timestamp, signature FROM dedup WHERE key = ?1"},
        {&d->insert, "INSERT OR IGNORE INTO dedup (key, leaf_index, timestamp, signature) VALUES (?1, ?2, ?3, ?4)"},
        {&d->begin, "BEGIN IMMEDIATE"},
        {&d->commit, "COMMIT"},
        {&d->rollback, "ROLLBACK"},
    };
    if (sqlite_file_prepare(&d->super, statements, sizeof(statements) / sizeof(statements[0]), err) != 0)
        goto fail;
    *out = d;
    return 0;
fail:
    dedup_close(d);
    return -1;
}

void dedup_close(dedup_t *d)
{
    if (d == NULL)
        return;
    sqlite_file_close(&d->super);
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
        sqlite_file_error(&d->super, "looking up a key", err);
    } else if ((size_t)sqlite3_column_bytes(d->lookup, 2) > sizeof(out->signature)) {
        tlog_errorf(err, "dedup index %s: a row with a %d-byte signature", d->super.path, sqlite3_column_bytes(d->lookup, 2));
    } else {
        out->signature_len = (size_t)sqlite3_column_bytes(d->lookup, 2);
        if (out->signature_len > 0)
            memcpy(out->signature, sqlite3_column_blob(d->lookup, 2), out->signature_len);
        out->leaf_index = (uint64_t)sqlite3_column_int64(d->lookup, 0);
        out->timestamp = (uint64_t)sqlite3_column_int64(d->lookup, 1);
        found = 1;
    }
    sqlite3_reset(d->lookup);
    return found;
}

/*
 * Rows go in in key order: each insert then lands on the b-tree page the one
 * before it used, or the next, instead of a random one. Equal keys keep
 * their order, so the first of them still wins.
 */
static int row_order(const void *a, const void *b)
{
    const dedup_row_t *x = *(const dedup_row_t *const *)a, *y = *(const dedup_row_t *const *)b;
    int c = memcmp(x->key, y->key, 32);
    return c != 0 ? c : (x > y) - (x < y);
}

int dedup_put(dedup_t *d, const dedup_row_t *rows, size_t n, char *err)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].leaf_index > INT64_MAX || rows[i].timestamp > INT64_MAX || rows[i].signature_len > TLOG_DSIG_P256_MAX)
            return tlog_errorf(err, "dedup index %s: row %zu is out of range (leaf index %llu, timestamp %llu, %zu-byte signature)",
                               d->super.path, i, (unsigned long long)rows[i].leaf_index, (unsigned long long)rows[i].timestamp,
                               rows[i].signature_len);
    if (n == 0)
        return 0;
    const dedup_row_t **order = malloc(n * sizeof(*order));
    if (order == NULL)
        return tlog_errorf(err, "dedup index %s: out of memory", d->super.path);
    for (size_t i = 0; i < n; i++)
        order[i] = &rows[i];
    qsort(order, n, sizeof(*order), row_order);
    if (sqlite_file_run(&d->super, d->begin, "starting a transaction", err) != 0) {
        free(order);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const dedup_row_t *r = order[i];
        sqlite3_bind_blob(d->insert, 1, r->key, 32, SQLITE_STATIC);
        sqlite3_bind_int64(d->insert, 2, (sqlite3_int64)r->leaf_index);
        sqlite3_bind_int64(d->insert, 3, (sqlite3_int64)r->timestamp);
        sqlite3_bind_blob(d->insert, 4, r->signature_len > 0 ? r->signature : (const uint8_t *)"", (int)r->signature_len,
                          SQLITE_STATIC);
        if (sqlite_file_run(&d->super, d->insert, "inserting a row", err) != 0)
            goto fail;
    }
    if (sqlite_file_run(&d->super, d->commit, "committing", err) != 0)
        goto fail;
    free(order);
    return 0;
fail:
    if (!sqlite3_get_autocommit(d->super.db))
        sqlite_file_run(&d->super, d->rollback, "rolling back", NULL);
    free(order);
    return -1;
}
