/*
 * One faro SQLite file (see sqlite_file.h for the contract): the plumbing the
 * lock DB, the dedup index and the gateway's leaf index share.
 *
 * Open, in this order: refuse a missing file unless create is set; open the
 * connection (SQLITE_OPEN_NOMUTEX, CREATE only with create); set the busy
 * timeout and the kind's pragmas; then, in one BEGIN IMMEDIATE transaction,
 * give an empty file (application_id 0, no objects) the schema and the marks
 * (PRAGMA application_id and user_version), and check application_id,
 * user_version and that the objects with SQL in sqlite_schema, in name order,
 * are exactly the kind's schema; last, switch to WAL and check that it took.
 * A foreign file is refused before anything is written to it. The cost is a
 * few reads of the first pages and, for a new file, one commit.
 *
 * Invariant: a file this module has opened carries its kind's marks and
 * schema, so a lock DB is never read as a dedup index nor the reverse.
 * Every message names the kind and the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tlog/error.h"
#include "sqlite/sqlite_file.h"

int sqlite_file_error(sqlite_file_t *f, const char *what, char *err)
{
    return tlog_errorf(err, "%s %s: %s: %s", f->kind->name, f->path, what, sqlite3_errmsg(f->db));
}

/* Runs a one-row integer query (a PRAGMA or a count) into *value. */
static int query_int(sqlite_file_t *f, const char *sql, int *value, char *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        sqlite_file_error(f, "reading the schema", err);
        sqlite3_finalize(st);
        return -1;
    }
    *value = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Inside a write transaction: gives an empty file the schema and the faro marks. */
static int create_schema(sqlite_file_t *f, char *err)
{
    const sqlite_file_kind_t *kind = f->kind;
    char marks[96];
    for (size_t i = 0; i < kind->schema_len; i++)
        if (sqlite3_exec(f->db, kind->schema[i], NULL, NULL, NULL) != SQLITE_OK)
            return sqlite_file_error(f, "creating the schema", err);
    snprintf(marks, sizeof(marks), "PRAGMA application_id = %d; PRAGMA user_version = %d", kind->application_id,
             kind->user_version);
    if (sqlite3_exec(f->db, marks, NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_file_error(f, "creating the schema", err);
    return 0;
}

/* Inside a transaction: refuses anything but a faro file of this kind and version. */
static int check_schema(sqlite_file_t *f, char *err)
{
    const sqlite_file_kind_t *kind = f->kind;
    int app_id, version, rc;
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    if (query_int(f, "PRAGMA application_id", &app_id, err) != 0 || query_int(f, "PRAGMA user_version", &version, err) != 0)
        return -1;
    if (app_id != kind->application_id)
        return tlog_errorf(err, "%s is not a faro %s (SQLite application_id 0x%08x, expected 0x%08x)", f->path, kind->name,
                           (unsigned)app_id, (unsigned)kind->application_id);
    if (version != kind->user_version)
        return tlog_errorf(err, "%s %s has schema version %d; this faro reads version %d", kind->name, f->path, version,
                           kind->user_version);
    if (sqlite3_prepare_v2(f->db, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name", -1, &st, NULL) != SQLITE_OK)
        goto fail_sql;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(st, 0);
        if (n >= kind->schema_len || sql == NULL || strcmp(sql, kind->schema[n]) != 0) {
            tlog_errorf(err, "%s %s: its schema is not faro's (unexpected \"%.80s\")", kind->name, f->path, sql ? sql : "");
            goto fail;
        }
        n++;
    }
    if (rc != SQLITE_DONE)
        goto fail_sql;
    if (n != kind->schema_len) {
        tlog_errorf(err, "%s %s: its schema is not faro's (missing \"%.60s\")", kind->name, f->path, kind->schema[n]);
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail_sql:
    sqlite_file_error(f, "reading the schema", err);
fail:
    sqlite3_finalize(st);
    return -1;
}

/*
 * In one write transaction: creates the schema if the file is empty and
 * create is set, then checks it. A foreign file is left untouched.
 */
static int prepare_file(sqlite_file_t *f, int create, char *err)
{
    int app_id, objects;
    if (sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_file_error(f, "opening", err);
    if (query_int(f, "PRAGMA application_id", &app_id, err) != 0 ||
        query_int(f, "SELECT count(*) FROM sqlite_schema", &objects, err) != 0)
        goto fail;
    if (app_id == 0 && objects == 0) {
        if (!create) {
            tlog_errorf(err, "%s %s is an empty file; run with --create-missing to create its schema", f->kind->name, f->path);
            goto fail;
        }
        if (create_schema(f, err) != 0)
            goto fail;
    }
    if (check_schema(f, err) != 0)
        goto fail;
    if (sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite_file_error(f, "committing the schema", err);
        goto fail;
    }
    return 0;
fail:
    sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Switches to WAL (a no-op once the file is in WAL mode) and checks that it took. */
static int set_wal(sqlite_file_t *f, char *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        sqlite_file_error(f, "setting journal_mode=WAL", err);
        goto fail;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0) {
        tlog_errorf(err, "%s %s: journal_mode stays \"%s\", not \"wal\"", f->kind->name, f->path, mode ? mode : "");
        goto fail;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

int sqlite_file_open(sqlite_file_t *f, const sqlite_file_kind_t *kind, const char *path, int create, char *err)
{
    struct stat sb;
    f->kind = kind;
    if (!create && stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return tlog_errorf(err, "%s %s does not exist; run with --create-missing to create it", kind->name, path);
        return tlog_errorf(err, "%s %s: %s", kind->name, path, strerror(errno));
    }
    if (sqlite3_threadsafe() == 0)
        return tlog_errorf(err, "%s %s: the SQLite library was built without thread support", kind->name, path);
    if ((f->path = strdup(path)) == NULL)
        return tlog_errorf(err, "%s %s: out of memory", kind->name, path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &f->db, flags, NULL) != SQLITE_OK) {
        if (f->db == NULL)
            return tlog_errorf(err, "%s %s: out of memory", kind->name, path);
        return sqlite_file_error(f, "opening", err);
    }
    if (sqlite3_busy_timeout(f->db, kind->busy_ms) != SQLITE_OK ||
        sqlite3_exec(f->db, kind->pragmas, NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_file_error(f, "opening", err);
    if (prepare_file(f, create, err) != 0 || set_wal(f, err) != 0)
        return -1;
    return 0;
}

void sqlite_file_close(sqlite_file_t *f)
{
    sqlite3_stmt *st;
    if (f->db != NULL)
        while ((st = sqlite3_next_stmt(f->db, NULL)) != NULL)
            sqlite3_finalize(st);
    sqlite3_close(f->db);
    free(f->path);
}

int sqlite_file_prepare(sqlite_file_t *f, const sqlite_file_statement_t *list, size_t n, char *err)
{
    for (size_t i = 0; i < n; i++)
        if (sqlite3_prepare_v3(f->db, list[i].sql, -1, SQLITE_PREPARE_PERSISTENT, list[i].st, NULL) != SQLITE_OK)
            return sqlite_file_error(f, "preparing a statement", err);
    return 0;
}

int sqlite_file_run(sqlite_file_t *f, sqlite3_stmt *st, const char *what, char *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        sqlite_file_error(f, what, err);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int sqlite_file_copy_blob(sqlite_file_t *f, sqlite3_stmt *st, int col, char **out, size_t *len, char *err)
{
    const void *data = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if ((*out = malloc(n + 1)) == NULL)
        return tlog_errorf(err, "%s %s: out of memory", f->kind->name, f->path);
    if (n > 0)
        memcpy(*out, data, n);
    (*out)[n] = '\0';
    *len = n;
    return 0;
}
