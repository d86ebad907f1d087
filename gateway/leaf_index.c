/*
 * The leaf-hash index (see leaf_index.h) in one SQLite file:
 *
 *   leaves(prefix INTEGER, leaf_index INTEGER, PRIMARY KEY (prefix, leaf_index)) WITHOUT ROWID
 *   progress(id 0, size INTEGER, root BLOB[32])   -- one row: the prefix held, and its root
 *
 * prefix is the leaf hash's first 8 bytes as a big-endian signed 64-bit
 * integer. Rows are found by one primary-key search, O(log n) pages;
 * collisions of 64-bit prefixes are rare but possible in a large log, which
 * is why a lookup returns every candidate. The file carries PRAGMA
 * application_id LEAF_INDEX_APP_ID and its exact schema, so a file of
 * anything else is refused untouched (sqlite/sqlite_file.c).
 *
 * Journal: WAL with synchronous=NORMAL. An append (leaves and progress
 * together) is one transaction: power loss may drop the last appends, never
 * split one, so the progress row always describes exactly the rows present,
 * and the indexer just goes on from it. Readers never wait for the indexer.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/leaf_index.h"
#include "tlog/error.h"
#include "sqlite/sqlite_file.h"

#define LEAF_INDEX_APP_ID 0x46614c69 /* "FaLi" */
#define LEAF_INDEX_VERSION 1
#define LEAF_INDEX_BUSY_MS 5000
/* The indexer gives up on a locked file sooner: it retries on its next visit, and must not hold up tree heads. */
#define LEAF_INDEX_APPEND_BUSY_MS 100

/* The schema exactly as SQLite stores it in sqlite_schema, in name order. */
static const char *const schema[] = {
    "CREATE TABLE leaves (prefix INTEGER NOT NULL, leaf_index INTEGER NOT NULL, PRIMARY KEY (prefix, leaf_index)) STRICT, "
    "WITHOUT ROWID",
    "CREATE TABLE progress (id INTEGER PRIMARY KEY CHECK (id = 0), size INTEGER NOT NULL, "
    "root BLOB NOT NULL CHECK (length(root) = 32)) STRICT",
};

static const sqlite_file_kind_t leaf_index_kind = {
    .name = "leaf index",
    .application_id = LEAF_INDEX_APP_ID,
    .user_version = LEAF_INDEX_VERSION,
    .schema = schema,
    .schema_len = sizeof(schema) / sizeof(schema[0]),
    .pragmas = "PRAGMA synchronous = NORMAL",
    .busy_ms = LEAF_INDEX_BUSY_MS,
};

typedef struct reader {
    sqlite_file_t super;
    sqlite3_stmt *lookup;
} reader_t;

struct leaf_index {
    sqlite_file_t super; /* the indexer's connection */
    sqlite3_stmt *begin, *commit, *rollback, *insert, *read_progress, *write_progress, *clear;
    uint64_t size; /* as of the last transaction of this connection */
    tlog_hash_t root;
    reader_t *readers;
    unsigned nreaders;
};

static sqlite3_int64 prefix_of(const tlog_hash_t *hash)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | hash->bytes[i];
    return (sqlite3_int64)v;
}

/* Reads the progress row into index->size and index->root. */
static int load_progress(leaf_index_t *index, char *err)
{
    int rc = sqlite3_step(index->read_progress);
    int ok = rc == SQLITE_ROW && sqlite3_column_bytes(index->read_progress, 1) == TLOG_HASH_SIZE &&
             sqlite3_column_int64(index->read_progress, 0) >= 0;
    if (ok) {
        index->size = (uint64_t)sqlite3_column_int64(index->read_progress, 0);
        memcpy(index->root.bytes, sqlite3_column_blob(index->read_progress, 1), TLOG_HASH_SIZE);
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        tlog_errorf(err, "leaf index %s: its progress row is missing or malformed", index->super.path);
    } else {
        sqlite_file_error(&index->super, "reading the progress", err);
    }
    sqlite3_reset(index->read_progress);
    return ok ? 0 : -1;
}

static int write_progress(leaf_index_t *index, uint64_t size, const tlog_hash_t *root, char *err)
{
    sqlite3_bind_int64(index->write_progress, 1, (sqlite3_int64)size);
    sqlite3_bind_blob(index->write_progress, 2, root->bytes, TLOG_HASH_SIZE, SQLITE_STATIC);
    return sqlite_file_run(&index->super, index->write_progress, "writing the progress", err);
}

/* Ends a failed transaction, if one is open; returns -1. */
static int abort_transaction(leaf_index_t *index)
{
    if (!sqlite3_get_autocommit(index->super.db))
        sqlite_file_run(&index->super, index->rollback, "rolling back", NULL);
    return -1;
}

static int open_reader(reader_t *r, const char *path, char *err)
{
    if (sqlite_file_open(&r->super, &leaf_index_kind, path, 0, err) != 0)
        return -1;
    const sqlite_file_statement_t statements[] = {
        {&r->lookup, "SELECT leaf_index FROM leaves WHERE prefix = ?1 ORDER BY leaf_index LIMIT ?2"},
    };
    return sqlite_file_prepare(&r->super, statements, 1, err);
}

int leaf_index_open(const char *path, unsigned readers, leaf_index_t **out, char *err)
{
    leaf_index_t *index = calloc(1, sizeof(*index));
    *out = NULL;
    if (index == NULL || (index->readers = calloc(readers, sizeof(*index->readers))) == NULL)
        abort();
    index->nreaders = readers;
    if (sqlite_file_open(&index->super, &leaf_index_kind, path, 1, err) != 0)
        goto fail;
    sqlite3_busy_timeout(index->super.db, LEAF_INDEX_APPEND_BUSY_MS);
    sqlite3_stmt *init = NULL;
    const sqlite_file_statement_t statements[] = {
        {&index->begin, "BEGIN IMMEDIATE"},
        {&index->commit, "COMMIT"},
        {&index->rollback, "ROLLBACK"},
        {&index->insert, "INSERT OR IGNORE INTO leaves (prefix, leaf_index) VALUES (?1, ?2)"},
        {&index->read_progress, "SELECT size, root FROM progress WHERE id = 0"},
        {&index->write_progress, "INSERT OR REPLACE INTO progress (id, size, root) VALUES (0, ?1, ?2)"},
        {&index->clear, "DELETE FROM leaves"},
        {&init, "INSERT OR IGNORE INTO progress (id, size, root) VALUES (0, 0, ?1)"},
    };
    if (sqlite_file_prepare(&index->super, statements, sizeof(statements) / sizeof(statements[0]), err) != 0)
        goto fail;
    tlog_hash_t empty;
    tlog_empty_root(&empty);
    sqlite3_bind_blob(init, 1, empty.bytes, TLOG_HASH_SIZE, SQLITE_STATIC);
    if (sqlite_file_run(&index->super, init, "creating the progress", err) != 0 || load_progress(index, err) != 0)
        goto fail;
    for (unsigned i = 0; i < readers; i++)
        if (open_reader(&index->readers[i], path, err) != 0)
            goto fail;
    *out = index;
    return 0;
fail:
    leaf_index_free(index);
    return -1;
}

void leaf_index_free(leaf_index_t *index)
{
    if (index == NULL)
        return;
    for (unsigned i = 0; i < index->nreaders; i++)
        sqlite_file_close(&index->readers[i].super);
    free(index->readers);
    sqlite_file_close(&index->super);
    free(index);
}

void leaf_index_progress(const leaf_index_t *index, uint64_t *size, tlog_hash_t *root)
{
    *size = index->size;
    *root = index->root;
}

int leaf_index_append(leaf_index_t *index, uint64_t from, const tlog_hash_t *hashes, size_t n, const tlog_hash_t *root, char *err)
{
    if (from + n > INT64_MAX)
        return tlog_errorf(err, "leaf index %s: leaf %llu is beyond what SQLite can hold", index->super.path,
                           (unsigned long long)(from + n));
    if (sqlite_file_run(&index->super, index->begin, "starting a transaction", err) != 0)
        return -1;
    if (load_progress(index, err) != 0)
        goto fail;
    if (index->size != from) {
        abort_transaction(index);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(index->insert, 1, prefix_of(&hashes[i]));
        sqlite3_bind_int64(index->insert, 2, (sqlite3_int64)(from + i));
        if (sqlite_file_run(&index->super, index->insert, "inserting a leaf", err) != 0)
            goto fail;
    }
    if (write_progress(index, from + n, root, err) != 0 || sqlite_file_run(&index->super, index->commit, "committing", err) != 0)
        goto fail;
    index->size = from + n;
    index->root = *root;
    return 0;
fail:
    return abort_transaction(index);
}

int leaf_index_reset(leaf_index_t *index, char *err)
{
    tlog_hash_t empty;
    tlog_empty_root(&empty);
    if (sqlite_file_run(&index->super, index->begin, "starting a transaction", err) != 0)
        return -1;
    if (sqlite_file_run(&index->super, index->clear, "clearing the leaves", err) != 0 ||
        write_progress(index, 0, &empty, err) != 0 || sqlite_file_run(&index->super, index->commit, "committing", err) != 0)
        return abort_transaction(index);
    index->size = 0;
    index->root = empty;
    return 0;
}

int leaf_index_lookup(leaf_index_t *index, unsigned reader, const tlog_hash_t *hash, uint64_t *out, size_t max, size_t *count,
                      char *err)
{
    reader_t *r = &index->readers[reader];
    int rc;
    *count = 0;
    sqlite3_bind_int64(r->lookup, 1, prefix_of(hash));
    sqlite3_bind_int64(r->lookup, 2, (sqlite3_int64)max);
    while ((rc = sqlite3_step(r->lookup)) == SQLITE_ROW)
        out[(*count)++] = (uint64_t)sqlite3_column_int64(r->lookup, 0);
    sqlite3_reset(r->lookup);
    if (rc != SQLITE_DONE)
        return sqlite_file_error(&r->super, "looking up a leaf hash", err);
    return 0;
}
