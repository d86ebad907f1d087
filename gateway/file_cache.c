/*
 * The gateway's per-thread file cache (file_cache.h).
 *
 * An entry is one h2o shared chunk: this header, the path, then the file's
 * bytes. The cache holds one reference and every request sending it one
 * more, so eviction only drops the cache's. Entries are found through an
 * open-addressing table of (hash, entry) slots (SipHash under a secret key;
 * linear probing, at most half full, backward-shift removal), so a lookup
 * reads a few adjacent slots and the one entry it finds. They are ordered in
 * two doubly linked lists, most recently used first: probation and
 * protected. A hit on an entry moved to the front of protected recently
 * (within the last quarter of protected's entries) leaves the lists alone,
 * so the hottest files cost no list writes.
 *
 * Two such stores: copies (the entry holds the file's bytes) and open files
 * (the entry holds a descriptor of a large immutable file, closed when its
 * last reference goes). Each has its own bounds.
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
#include "tlog/gzip.h"

/* Bytes an entry is charged besides its file: header, path, allocator overhead. */
#define ENTRY_OVERHEAD 256
/* At most one entry per this many bytes of max_bytes (most files are tiles of 8 KiB and more). */
#define BYTES_PER_ENTRY 4096
/* Files above this size are kept only when asked for again soon (see admit). */
#define LARGE_FILE (64 * 1024)
/* Path bytes hashed: every path the gateway serves is shorter. */
#define KEY_PATH_MAX 128

typedef struct entry entry_t;

typedef struct segment {
    entry_t *head, *tail; /* most and least recently used */
    size_t bytes;         /* charged to the entries in it */
    size_t count;
} segment_t;

struct entry {
    entry_t *prev, *next;
    segment_t *segment;
    uint64_t hash;
    uint64_t promoted; /* store->promotions when it last moved to the front of protected */
    size_t log, path_len, len;
    int immutable, gzip;
    int fd;            /* open files: the file; copies: -1 */
    struct stat st;    /* when it was read */
    char *path, *body; /* body: NULL for open files */
};

typedef struct seen {
    uint64_t hash;
    uint64_t read; /* large_reads when it was read */
} seen_t;

typedef struct slot {
    uint64_t hash;
    entry_t *entry; /* NULL: empty */
} slot_t;

typedef struct store {
    size_t max_bytes, protected_max, max_entries;
    slot_t *slots;
    size_t slot_mask;
    seen_t *seen; /* large files read and not kept, by hash & seen_mask */
    size_t seen_mask;
    uint64_t large_reads; /* of large files not kept, so far */
    uint64_t promotions;
    segment_t probation, protected;
} store_t;

struct file_cache {
    uint8_t secret[crypto_shorthash_KEYBYTES];
    store_t copies, opened;
};

static void store_init(store_t *store, size_t max_bytes, size_t max_entries)
{
    size_t slots = 64, seen = 64;
    while (slots < 2 * max_entries)
        slots *= 2;
    while (seen < max_bytes / LARGE_FILE)
        seen *= 2;
    if ((store->slots = calloc(slots, sizeof(*store->slots))) == NULL || (store->seen = calloc(seen, sizeof(*store->seen))) == NULL)
        abort();
    store->slot_mask = slots - 1;
    store->seen_mask = seen - 1;
    store->max_bytes = max_bytes;
    store->max_entries = max_entries;
    store->protected_max = max_bytes / 5 * 4;
}

file_cache_t *file_cache_new(size_t max_bytes, size_t max_open)
{
    file_cache_t *cache = calloc(1, sizeof(*cache));
    if (cache == NULL || sodium_init() < 0)
        abort();
    store_init(&cache->copies, max_bytes, max_bytes / BYTES_PER_ENTRY);
    store_init(&cache->opened, max_open * ENTRY_OVERHEAD, max_open); /* an open file is charged ENTRY_OVERHEAD alone */
    randombytes_buf(cache->secret, sizeof(cache->secret));
    return cache;
}

static size_t charge(const entry_t *e)
{
    return e->fd >= 0 ? ENTRY_OVERHEAD : ENTRY_OVERHEAD + e->path_len + e->len;
}

static void list_remove(entry_t *e)
{
    segment_t *s = e->segment;
    *(e->prev != NULL ? &e->prev->next : &s->head) = e->next;
    *(e->next != NULL ? &e->next->prev : &s->tail) = e->prev;
    s->bytes -= charge(e);
    s->count--;
    e->segment = NULL;
}

static void list_push(segment_t *s, entry_t *e)
{
    e->prev = NULL;
    e->next = s->head;
    *(s->head != NULL ? &s->head->prev : &s->tail) = e;
    s->head = e;
    s->bytes += charge(e);
    s->count++;
    e->segment = s;
}

static void evict(store_t *store, entry_t *e)
{
    size_t mask = store->slot_mask, i = e->hash & mask;
    while (store->slots[i].entry != e)
        i = (i + 1) & mask;
    /* Backward shift: move each later slot of the probe run into the hole if its home is not after the hole. */
    for (size_t j = (i + 1) & mask; store->slots[j].entry != NULL; j = (j + 1) & mask) {
        if (((j - (store->slots[j].hash & mask)) & mask) >= ((j - i) & mask)) {
            store->slots[i] = store->slots[j];
            i = j;
        }
    }
    store->slots[i].entry = NULL;
    list_remove(e);
    h2o_mem_release_shared(e);
}

static void store_free(store_t *store)
{
    while (store->probation.tail != NULL)
        evict(store, store->probation.tail);
    while (store->protected.tail != NULL)
        evict(store, store->protected.tail);
    free(store->slots);
    free(store->seen);
}

void file_cache_free(file_cache_t *cache)
{
    if (cache == NULL)
        return;
    store_free(&cache->copies);
    store_free(&cache->opened);
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

static entry_t *lookup(store_t *store, uint64_t hash, size_t log, const char *path, size_t len)
{
    for (size_t i = hash & store->slot_mask; store->slots[i].entry != NULL; i = (i + 1) & store->slot_mask) {
        entry_t *e = store->slots[i].entry;
        if (store->slots[i].hash == hash && e->log == log && e->path_len == len && memcmp(e->path, path, len) == 0)
            return e;
    }
    return NULL;
}

/* A second use moves an entry to protected; protected's least recent ones fall back to probation. */
static void touch(store_t *store, entry_t *e)
{
    if (e->segment == &store->protected && store->promotions - e->promoted < store->protected.count / 4)
        return;
    e->promoted = ++store->promotions;
    list_remove(e);
    list_push(&store->protected, e);
    while (store->protected.bytes > store->protected_max && store->protected.tail != e) {
        entry_t *old = store->protected.tail;
        list_remove(old);
        list_push(&store->probation, old);
    }
}

static void keep(store_t *store, entry_t *e)
{
    size_t i = e->hash & store->slot_mask;
    while (store->slots[i].entry != NULL)
        i = (i + 1) & store->slot_mask;
    store->slots[i] = (slot_t){e->hash, e};
    list_push(&store->probation, e);
    while (store->probation.bytes + store->protected.bytes > store->max_bytes ||
           store->probation.count + store->protected.count > store->max_entries) {
        segment_t *s = store->probation.tail != e ? &store->probation : &store->protected;
        evict(store, s->tail);
    }
}

/*
 * Whether to keep a file of len bytes just read: a small one always; a large
 * one (a data tile) only if it was read before within the last reads of
 * large files that a quarter of the cache could hold. A file read again
 * only later would have been evicted before that second read anyway, so
 * files read once, or seldom, pass through the request pool without pushing
 * anything out, while the tile every monitor fetches after it fills is kept.
 * The earlier reads are a direct-mapped table of (key, read number).
 */
static int admit(store_t *store, uint64_t hash, size_t len)
{
    if (ENTRY_OVERHEAD + len > store->max_bytes / 8 || store->max_entries == 0)
        return 0;
    if (len <= LARGE_FILE)
        return 1;
    seen_t *seen = &store->seen[hash & store->seen_mask];
    uint64_t distance = store->large_reads - seen->read;
    if (seen->hash == hash && distance <= store->max_bytes / 4 / len)
        return 1;
    *seen = (seen_t){hash, ++store->large_reads};
    return 0;
}

static void entry_close(void *p)
{
    entry_t *e = p;
    close(e->fd);
}

/*
 * A new entry (one reference, not in the cache yet) for len bytes of file:
 * with room for them (fd -1), or holding fd open instead.
 */
static entry_t *entry_new(uint64_t hash, size_t log, const char *path, size_t path_len, size_t len, int immutable,
                          const struct stat *st, int fd)
{
    size_t room = fd >= 0 ? 0 : len;
    entry_t *e = h2o_mem_alloc_shared(NULL, sizeof(*e) + path_len + 1 + room, fd >= 0 ? entry_close : NULL);
    memset(e, 0, sizeof(*e));
    e->path = (char *)(e + 1);
    e->body = fd >= 0 ? NULL : e->path + path_len + 1;
    e->fd = fd;
    memcpy(e->path, path, path_len + 1);
    e->hash = hash;
    e->log = log;
    e->path_len = path_len;
    e->len = len;
    e->immutable = immutable;
    e->st = *st;
    return e;
}

/*
 * Keeps fd, a large immutable file just opened, in the open-file store and
 * serves it from there: its first bytes tell gzip apart, so a request never
 * needs to read the body itself to know its Content-Encoding.
 */
static int keep_open(file_cache_t *cache, h2o_mem_pool_t *pool, int fd, uint64_t hash, size_t log, const char *path,
                     size_t path_len, const struct stat *st, file_cache_file_t *out)
{
    uint8_t head[2];
    ssize_t n = pread(fd, head, sizeof(head), 0);
    if (n != (ssize_t)sizeof(head)) {
        int saved = n < 0 ? errno : EIO; /* shorter than its size: the file changed under us */
        close(fd);
        errno = saved;
        return -1;
    }
    entry_t *e = entry_new(hash, log, path, path_len, (size_t)st->st_size, 1, st, fd);
    e->gzip = tlog_is_gzip(head, sizeof(head));
    keep(&cache->opened, e); /* with entry_new's reference */
    h2o_mem_link_shared(pool, e);
    *out = (file_cache_file_t){NULL, fd, e->len, st->st_mtim, e->gzip};
    return 0;
}

int file_cache_get(file_cache_t *cache, h2o_mem_pool_t *pool, size_t log, int dir_fd, const char *path, int immutable,
                   size_t max_file, file_cache_file_t *out)
{
    size_t path_len = strlen(path);
    uint64_t hash = key_hash(cache, log, path, path_len);
    store_t *store = &cache->copies;
    entry_t *e = lookup(store, hash, log, path, path_len);
    struct stat st;

    if (e == NULL && immutable)
        e = lookup(store = &cache->opened, hash, log, path, path_len);
    if (e != NULL && !e->immutable &&
        (fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !gateway_files_unchanged(&st, &e->st))) {
        evict(store, e);
        e = NULL;
    }
    if (e != NULL) {
        touch(store, e);
        h2o_mem_link_shared(pool, e);
        *out = (file_cache_file_t){e->body, e->fd, e->len, e->st.st_mtim, e->gzip};
        return 0;
    }

    int fd = gateway_files_open(dir_fd, path, &st);
    if (fd < 0)
        return -1;
    if ((uint64_t)st.st_size > max_file) {
        close(fd);
        errno = EFBIG;
        return -1;
    }
    size_t len = (size_t)st.st_size;
    if (immutable && len > LARGE_FILE && cache->opened.max_entries > 0)
        return keep_open(cache, pool, fd, hash, log, path, path_len, &st, out);
    store = &cache->copies;
    if (admit(store, hash, len))
        e = entry_new(hash, log, path, path_len, len, immutable, &st, -1);
    char *body = e != NULL ? e->body : h2o_mem_alloc_pool(pool, len ? len : 1);
    int failed = gateway_files_read(fd, body, len), saved = errno;
    close(fd);
    if (failed) {
        if (e != NULL)
            h2o_mem_release_shared(e);
        errno = saved;
        return -1;
    }
    int gzip = tlog_is_gzip(body, len);
    if (e != NULL) {
        e->gzip = gzip;
        keep(store, e); /* with entry_new's reference */
        h2o_mem_link_shared(pool, e);
    }
    *out = (file_cache_file_t){body, -1, len, st.st_mtim, gzip};
    return 0;
}
