/*
 * Durable file writes: the one way faro puts bytes on disk that must survive
 * a crash or power loss.
 *
 * tlog_durable_write(path) performs, in order:
 *   open(dir/.name.XXXXXX, O_CREAT|O_EXCL), fchmod, write..., fsync, close,
 *   rename(temp, path), fsync(dir)
 * so a reader sees either the old file or the whole new one. Immutable files
 * (tiles, issuers) are mode 0444 and never replaced: if path already exists
 * with the same bytes the write succeeds, with other bytes it fails.
 *
 * Failure kinds: -1 is an ordinary failure (nothing was renamed into place);
 * TLOG_DURABLE_FATAL means an fsync failed, after which the page cache cannot
 * be trusted and the caller must stop (Linux may drop the dirty pages and a
 * later fsync would succeed). Not covered: a disk that acknowledges a flush it
 * did not make, and a file system without POSIX rename and fsync (NFS).
 *
 * Tests can arm a fault with tlog_durable_fault_arm (or the environment
 * variable FARO_DURABLE_FAULT="<op>:<n>" read at first use): the n-th call
 * (1-based) of op (write, fsync, rename, dirsync) in the process fails with
 * EIO. tlog_durable_calls counts those calls (for metrics, and so a test can
 * aim a fault at the calls of one piece of work).
 *
 * A process killed mid-write leaves its temporary file, named
 * ".<name>.XXXXXX" (six characters from [A-Za-z0-9]) beside the target;
 * tlog_durable_sweep removes such files from a directory at start-up.
 */
#ifndef TLOG_DURABLE_H
#define TLOG_DURABLE_H

#include <stddef.h>

#define TLOG_DURABLE_FATAL (-2)

enum {
    TLOG_DURABLE_MUTABLE = 0,   /* 0644, replaced atomically */
    TLOG_DURABLE_IMMUTABLE = 1, /* 0444, written once */
};

int tlog_durable_write(const char *path, const void *data, size_t len, int flags, char *err);

/* One file of a batch. */
typedef struct tlog_durable_file {
    const char *path;
    const void *data;
    size_t len;
    int flags;
} tlog_durable_file_t;

#define TLOG_DURABLE_THREADS 8 /* files of a batch written and fsynced at once */

/*
 * tlog_durable_write for n files, each with the same guarantee, in fewer
 * waits: the temporary files are written and fsynced in parallel, then all
 * renamed, then each directory involved is fsynced once. The directories
 * must exist. Returns like tlog_durable_write; after a failure any of the
 * files may or may not be in place (each either whole and new, or as before).
 */
int tlog_durable_write_all(const tlog_durable_file_t *files, size_t n, char *err);
/* Creates dir and any missing parents, fsyncing each new directory and its parent. */
int tlog_durable_mkdirs(const char *dir, char *err);
/* Removes path and fsyncs its directory; a missing file is not an error. */
int tlog_durable_remove(const char *path, char *err);
/* Reads a whole file into a malloc'd buffer (NUL-terminated, not counted); -1 with errno kept. */
int tlog_read_file(const char *path, size_t max, char **out, size_t *out_len, char *err);

/* Whether a directory entry's name is one of our temporary names. */
int tlog_durable_is_temp_name(const char *name);
/*
 * Removes every regular file of dir (not its subdirectories) with a temporary
 * name, then fsyncs dir if any went; adds how many to *removed. A missing dir
 * has none. TLOG_DURABLE_FATAL if that fsync fails.
 */
int tlog_durable_sweep(const char *dir, size_t *removed, char *err);

enum { TLOG_FAULT_NONE, TLOG_FAULT_WRITE, TLOG_FAULT_FSYNC, TLOG_FAULT_RENAME, TLOG_FAULT_DIRSYNC };
/* Arms the fault and restarts every op's count from zero. */
void tlog_durable_fault_arm(int op, unsigned long nth);
/* Calls of op (TLOG_FAULT_WRITE .. TLOG_FAULT_DIRSYNC) so far: write(2) calls, file fsyncs, renames, directory fsyncs. */
unsigned long tlog_durable_calls(int op);

#endif
