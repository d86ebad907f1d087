/*
 * A per-thread cache of the files the gateway serves, so a request for a
 * file it served before costs no open, read or close, and its body is sent
 * from memory shared with the cache, without a copy.
 *
 * Two kinds of file:
 *   immutable (full tiles, issuers): the writer never rewrites them, so a
 *     cached copy is used as is for as long as it stays in the cache;
 *   mutable (checkpoint, log.v3.json, partial tiles): each use costs one
 *     fstatat, and the copy is used only if the path still names the same
 *     inode with the same size, mtime and ctime; otherwise it is read again.
 * Every read goes through gateway_files_open (openat2 beneath the storage
 * directory), so the cache never holds a file that path could not reach;
 * a changed path merely misses.
 *
 * Memory: at most max_bytes per cache (file bytes plus a fixed overhead per
 * entry) and one entry per 4 KiB of it, evicted by segmented LRU: a file
 * enters a probation segment and moves to a protected one (at most 4/5 of
 * max_bytes) on its second use, so a stream of files used once (a monitor
 * reading every data tile) does not push out the hash tiles that proofs
 * read again and again. A file above 64 KiB (a data tile) is kept only when
 * it is read a second time soon enough after the first to have still been
 * in the cache (see admit in file_cache.c): until then it is read into the
 * request's pool, which is cheaper than copying it into a cold cache entry
 * that would only be evicted. A file larger than max_bytes / 8 is served but
 * never kept.
 *
 * Large immutable files (full data tiles) are kept differently when
 * max_open is not 0: open, not copied, in a second store with the same
 * eviction, bounded by max_open descriptors, and kept from its first read
 * (holding a descriptor copies nothing). Such a file is sent from the
 * kernel's page cache with sendfile, without passing through the gateway
 * (see send_file.h), and costs the process one descriptor, not its bytes.
 * Since the writer replaces files by rename and never truncates one, an
 * open file keeps its whole content; if a tile were truncated behind the
 * gateway's back, its response would come up short and fail.
 *
 * A body (or open file) is h2o shared memory linked to the request's pool:
 * it stays valid (and open) until the request is done even if the cache
 * evicts it meanwhile. One cache per event-loop thread; not thread-safe.
 */
#ifndef FARO_GATEWAY_FILE_CACHE_H
#define FARO_GATEWAY_FILE_CACHE_H

#include <stddef.h>
#include <time.h>

#include <h2o.h>

typedef struct file_cache file_cache_t;

typedef struct file_cache_file {
    const char *body; /* valid as long as the pool given to file_cache_get; NULL when fd is given */
    int fd;           /* -1, or the open file to read len bytes from (at offset 0), open as long as the pool */
    size_t len;
    struct timespec mtime; /* of the file when it was read (mutable files: as it is now) */
    int gzip;              /* the file starts as gzip does (tlog_is_gzip) */
} file_cache_file_t;

/* max_bytes 0 keeps no copies, max_open 0 keeps no files open (every call then reads the file). */
file_cache_t *file_cache_new(size_t max_bytes, size_t max_open);
void file_cache_free(file_cache_t *cache);

/*
 * The file at path (relative, NUL-terminated) beneath dir_fd; log tells
 * apart equal paths of different logs. 0 with *out set, or -1 with errno:
 * ENOENT as gateway_files_open (missing, not a regular file, or leaving the
 * directory), EFBIG above max_file bytes, anything else from the read.
 */
int file_cache_get(file_cache_t *cache, h2o_mem_pool_t *pool, size_t log, int dir_fd, const char *path, int immutable,
                   size_t max_file, file_cache_file_t *out);

#endif
