/*
 * One faro SQLite file (the lock DB, a dedup index, a leaf index): opening
 * it with or without creating it, refusing a file that is not faro's of the
 * expected kind and version, WAL, prepared statements and messages that name
 * the file. Used by the writer's lockdb.c and dedup.c and by faro-gateway's
 * leaf_index.c (so it lives beside config/ and server/, not in either
 * daemon's folder): each puts a sqlite_file_t first in its handle, as super,
 * and describes its file with a sqlite_file_kind_t.
 *
 * Threading: a sqlite_file_t is one connection opened SQLITE_OPEN_NOMUTEX;
 * use it from one thread at a time.
 */
#ifndef FARO_SQLITE_FILE_H
#define FARO_SQLITE_FILE_H

#include <stddef.h>

#include <sqlite3.h>

/* What sets one kind of faro SQLite file apart. */
typedef struct sqlite_file_kind {
    const char *name;          /* in messages: "lock database", "dedup index" */
    int application_id;        /* PRAGMA application_id of the kind's files */
    int user_version;          /* the schema version this faro reads and writes */
    const char *const *schema; /* every CREATE statement, in sqlite_schema name order, exactly as SQLite stores it */
    size_t schema_len;
    const char *pragmas; /* run on every open before anything is read: synchronous (and fullfsync) */
    int busy_ms;         /* how long a writer waits for another writer on the same file, in ms */
} sqlite_file_kind_t;

typedef struct sqlite_file {
    sqlite3 *db;
    char *path; /* malloc'd copy, for messages */
    const sqlite_file_kind_t *kind;
} sqlite_file_t;

/* One statement for sqlite_file_prepare: where to put it, and its SQL. */
typedef struct sqlite_file_statement {
    sqlite3_stmt **st;
    const char *sql;
} sqlite_file_statement_t;

/*
 * Opens path into f (zeroed by the caller) as a file of kind, in WAL mode.
 * With create=0 a missing or empty file is refused (the message says to use
 * --create-missing); with create=1 either gets the schema and the marks. A
 * file that is not of kind, or of another version, is refused untouched.
 * On failure f holds what was opened: release it with sqlite_file_close.
 */
int sqlite_file_open(sqlite_file_t *f, const sqlite_file_kind_t *kind, const char *path, int create, char *err);
/* Finalizes every statement of the connection, closes it and frees the path; f may be partly opened. */
void sqlite_file_close(sqlite_file_t *f);

/* Prepares the n statements of list, each to be kept for the life of the connection. */
int sqlite_file_prepare(sqlite_file_t *f, const sqlite_file_statement_t *list, size_t n, char *err);
/* Steps st, a statement that returns no rows, to completion and resets it; sqlite3_changes tells the rows it changed. */
int sqlite_file_run(sqlite_file_t *f, sqlite3_stmt *st, const char *what, char *err);
/* Copies the blob of column col of st's current row into *out (malloc'd, NUL-terminated, not counted in *len). */
int sqlite_file_copy_blob(sqlite_file_t *f, sqlite3_stmt *st, int col, char **out, size_t *len, char *err);
/* Writes "<kind> <path>: <what>: <SQLite's last error>" into err and returns -1. */
int sqlite_file_error(sqlite_file_t *f, const char *what, char *err);

#endif
