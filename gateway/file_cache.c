/*
 * The gateway's per-thread file cache (file_cache.h).
 *
 * An entry is one h2o shared chunk: this header, the path, then the file's
 * bytes. The cache holds one reference and every request sending it one
 * more, so eviction only drops the cache's. Entries are found through a
 * chained hash table (SipHash under a secret key, fixed bucket count chosen
 * from max_bytes) and ordered in two doubly linked lists, most recently
 * used first: probation and protected. Every operation is O(1) but the
 * chain walk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gateway/file_cache.h"
#include "gateway/files.h"

/* Bytes an entry is charged besides its file: header, path, allocator overhead. */
#define ENTRY_OVERHEAD 256
/* Buckets per this many bytes of max_bytes: one per full hash tile that fits. */
#define BYTES_PER_BUCKET 8192
/* Path bytes hashed: every path the gateway serves is shorter. */
#define KEY_PATH_MAX 128

typedef struct entry entry_t;

typedef struct segment {
    entry_t *head, *tail; /* most and least recently used */
    size_t bytes;         /* charged to the entries in it */
} segment_t;

struct entry {
    entry_t *chain; /* next in the bucket */
    entry_t *prev, *next;
    segment_t *segment;
    uint64_t hash;
    size_t log, path_len, len;
    int immutable;
    struct stat st; /* when it was read */
    char *path, *body;
};

struct file_cache {
    size_t max_bytes, protected_max;
    uint8_t secret[crypto_shorthash_KEYBYTES];
    entry_t **buckets;
    size_t bucket_mask;
    segment_t probation, protected;
};

file_cache_t *file_cache_new(size_t max_bytes)
{
    file_cache_t *cache = calloc(1, sizeof(*cache));
    size_t buckets = 64;
    if (cache == NULL || sodium_init() < 0)
        abort();
    while (buckets < max_bytes / BYTES_PER_BUCKET)
        buckets *= 2;
    if ((cache->buckets = calloc(buckets, sizeof(*cache->buckets))) == NULL)
        abort();
    cache->bucket_mask = buckets - 1;
    cache->max_bytes = max_bytes;
    cache->protected_max = max_bytes / 5 * 4;
    randombytes_buf(cache->secret, sizeof(cache->secret));
    return cache;
}

static size_t charge(const entry_t *e)
{
    return ENTRY_OVERHEAD + e->path_len + e->len;
}

static void list_remove(entry_t *e)
{
    segment_t *s = e->segment;
    *(e->prev != NULL ? &e->prev->next : &s->head) = e->next;
    *(e->next != NULL ? &e->next->prev : &s->tail) = e->prev;
    s->bytes -= charge(e);
    e->segment = NULL;
}

static void list_push(segment_t *s, entry_t *e)
{
    e->prev = NULL;
    e->next = s->head;
    *(s->head != NULL ? &s->head->prev : &s->tail) = e;
    s->head = e;
    s->bytes += charge(e);
    e->segment = s;
}

static void evict(file_cache_t *cache, entry_t *e)
{
    entry_t **link = &cache->buckets[e->hash & cache->bucket_mask];
    while (*link != e)
        link = &(*link)->chain;
    *link = e->chain;
    list_remove(e);
    h2o_mem_release_shared(e);
}

void file_cache_free(file_cache_t *cache)
{
    if (cache == NULL)
        return;
    while (cache->probation.tail != NULL)
        evict(cache, cache->probation.tail);
    while (cache->protected.tail != NULL)
        evict(cache, cache->protected.tail);
    free(cache->buckets);
    free(cache);
}

static uint64_t key_hash(const file_cache_t *cache, size_t log, const char *path, size_t len)
{
    uint8_t key[sizeof(uint64_t) + KEY_PATH_MAX], out[crypto_shorthash_BYTES];
    uint64_t log64 = log, h;
    size_t n = len < KEY_PATH_MAX ? len : KEY_PATH_MAX; /* a longer path hashes as its prefix; lookups compare it whole */
    memcpy(key, &log64, sizeof(log64));
    memcpy(key + sizeof(log64), path, n);
    crypto_shorthash(out, key, sizeof(log64) + n, cache->secret);
    memcpy(&h, out, sizeof(h));
    return h;
}

static entry_t *lookup(file_cache_t *cache, uint64_t hash, size_t log, const char *path, size_t len)
{
    for (entry_t *e = cache->buckets[hash & cache->bucket_mask]; e != NULL; e = e->chain)
        if (e->hash == hash && e->log == log && e->path_len == len && memcmp(e->path, path, len) == 0)
            return e;
    return NULL;
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
           a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A second use moves an entry to protected; protected's least recent ones fall back to probation. */
static void touch(file_cache_t *cache, entry_t *e)
{
    list_remove(e);
    list_push(&cache->protected, e);
    while (cache->protected.bytes > cache->protected_max && cache->protected.tail != e) {
        entry_t *old = cache->protected.tail;
        list_remove(old);
        list_push(&cache->probation, old);
    }
}

static void keep(file_cache_t *cache, entry_t *e)
{
    entry_t **bucket = &cache->buckets[e->hash & cache->bucket_mask];
    e->chain = *bucket;
    *bucket = e;
    list_push(&cache->probation, e);
    while (cache->probation.bytes + cache->protected.bytes > cache->max_bytes) {
        segment_t *s = cache->probation.tail != e ? &cache->probation : &cache->protected;
        evict(cache, s->tail);
    }
}

/* Reads the file into a new entry (one reference, not in the cache); NULL with errno. */
static entry_t *load(int dir_fd, const char *path, size_t path_len, size_t max_file)
{
    struct stat st;
    int fd = gateway_files_open(dir_fd, path, &st);
    if (fd < 0)
        return NULL;
    if ((uint64_t)st.st_size > max_file) {
        close(fd);
        errno = EFBIG;
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    entry_t *e = h2o_mem_alloc_shared(NULL, sizeof(*e) + path_len + 1 + len, NULL);
    memset(e, 0, sizeof(*e));
    e->path = (char *)(e + 1);
    e->body = e->path + path_len + 1;
    memcpy(e->path, path, path_len + 1);
    e->path_len = path_len;
    e->len = len;
    e->st = st;
    int failed = gateway_files_read(fd, e->body, len), saved = errno;
    close(fd);
    if (failed) {
        h2o_mem_release_shared(e);
        errno = saved;
        return NULL;
    }
    return e;
}

int file_cache_get(file_cache_t *cache, h2o_mem_pool_t *pool, size_t log, int dir_fd, const char *path, int immutable,
                   size_t max_file, file_cache_file_t *out)
{
    size_t path_len = strlen(path);
    uint64_t hash = key_hash(cache, log, path, path_len);
    entry_t *e = lookup(cache, hash, log, path, path_len);
    if (e != NULL && !e->immutable) {
        struct stat now;
        if (fstatat(dir_fd, path, &now, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(&now, &e->st)) {
            evict(cache, e);
            e = NULL;
        }
    }
    if (e != NULL) {
        touch(cache, e);
    } else {
        if ((e = load(dir_fd, path, path_len, max_file)) == NULL)
            return -1;
        e->hash = hash;
        e->log = log;
        e->immutable = immutable;
        if (charge(e) <= cache->max_bytes / 8)
            keep(cache, e); /* with load's reference */
    }
    h2o_mem_link_shared(pool, e);
    if (e->segment == NULL) /* not kept: load's reference goes, the pool's stays */
        h2o_mem_release_shared(e);
    out->body = e->body;
    out->len = e->len;
    out->mtime = e->st.st_mtim;
    return 0;
}
