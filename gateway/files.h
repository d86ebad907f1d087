/*
 * Reading a log's storage directory, which the gateway only ever reads.
 * Every open resolves beneath the storage directory (openat2 with
 * RESOLVE_BENEATH): a symlink, however placed, cannot lead outside it.
 * Only regular files are served.
 */
#ifndef FARO_GATEWAY_FILES_H
#define FARO_GATEWAY_FILES_H

#include <stddef.h>
#include <sys/stat.h>

/* The largest file served or read (a data tile, inflated or not, is far smaller). */
#define GATEWAY_FILE_MAX (64 * 1024 * 1024)

/* Opens a storage directory for the opens below; the fd, or -1 with err. */
int gateway_files_open_dir(const char *dir, char *err);
/*
 * Opens path (relative) beneath dir_fd read-only and fstats it. Returns the
 * fd; -1 with errno ENOENT for a missing file, anything that is not a
 * regular file, or a path that would leave the directory; -1 with another
 * errno for other failures.
 */
int gateway_files_open(int dir_fd, const char *path, struct stat *st);
/* Reads all of fd's size bytes into buf (st_size of them); 0, or -1 with errno. */
int gateway_files_read(int fd, char *buf, size_t size);
/* Whether two stats are of the same file, unchanged: a rename into place or a rewrite shows in one of the fields. */
int gateway_files_unchanged(const struct stat *a, const struct stat *b);
/* Reads a whole small file beneath dir_fd into a malloc'd NUL-terminated buffer; 0 or -1 with err. */
int gateway_files_slurp(int dir_fd, const char *path, size_t max, char **out, size_t *out_len, char *err);

#endif
