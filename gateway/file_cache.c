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
    uint64_t promoted; /* cache->promotions when it last moved to the front of protected */
    size_t log, path_len, len;
    int immutable;
    struct stat st; /* when it was read */
    char *path, *body;
};

typedef struct seen {
    uint64_t hash;
    uint64_t read; /* large_reads when it was read */
} seen_t;

typedef struct slot {
    uint64_t hash;
    entry_t *entry; /* NULL: empty */
} slot_t;

struct file_cache {
    size_t max_bytes, protected_max, max_entries;
    uint8_t secret[crypto_shorthash_KEYBYTES];
    slot_t *slots;
    size_t slot_mask;
    seen_t *seen; /* large files read and not kept, by hash & seen_mask */
    size_t seen_mask;
    uint64_t large_reads; /* of large files not kept, so far */
    uint64_t promotions;
    segment_t probation, protected;
};

file_cache_t *file_cache_new(size_t max_bytes)
{
    file_cache_t *cache = calloc(1, sizeof(*cache));
    size_t slots = 64, seen = 64;
    if (cache == NULL || sodium_init() < 0)
        abort();
    cache->max_entries = max_bytes / BYTES_PER_ENTRY;
    while (slots < 2 * cache->max_entries)
        slots *= 2;
    while (seen < max_bytes / LARGE_FILE)
        seen *= 2;
    if ((cache->slots = calloc(slots, sizeof(*cache->slots))) == NULL || (cache->seen = calloc(seen, sizeof(*cache->seen))) == NULL)
        abort();
    cache->slot_mask = slots - 1;
    cache->seen_mask = seen - 1;
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

static void evict(file_cache_t *cache, entry_t *e)
{
    size_t mask = cache->slot_mask, i = e->hash & mask;
    while (cache->slots[i].entry != e)
        i = (i + 1) & mask;
    /* Backward shift: move each later slot of the probe run into the hole if its home is not after the hole. */
    for (size_t j = (i + 1) & mask; cache->slots[j].entry != NULL; j = (j + 1) & mask) {
        if (((j - (cache->slots[j].hash & mask)) & mask) >= ((j - i) & mask)) {
            cache->slots[i] = cache->slots[j];
            i = j;
        }
    }
    cache->slots[i].entry = NULL;
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
    free(cache->slots);
    free(cache->seen);
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
    for (size_t i = hash & cache->slot_mask; cache->slots[i].entry != NULL; i = (i + 1) & cache->slot_mask) {
        entry_t *e = cache->slots[i].entry;
        if (cache->slots[i].hash == hash && e->log == log && e->path_len == len && memcmp(e->path, path, len) == 0)
            return e;
    }
    return NULL;
}

/* A second use moves an entry to protected; protected's least recent ones fall back to probation. */
static void touch(file_cache_t *cache, entry_t *e)
{
    if (e->segment == &cache->protected && cache->promotions - e->promoted < cache->protected.count / 4)
        return;
    e->promoted = ++cache->promotions;
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
    size_t i = e->hash & cache->slot_mask;
    while (cache->slots[i].entry != NULL)
        i = (i + 1) & cache->slot_mask;
    cache->slots[i] = (slot_t){e->hash, e};
    list_push(&cache->probation, e);
    while (cache->probation.bytes + cache->protected.bytes > cache->max_bytes ||
           cache->probation.count + cache->protected.count > cache->max_entries) {
        segment_t *s = cache->probation.tail != e ? &cache->probation : &cache->protected;
        evict(cache, s->tail);
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
static int admit(file_cache_t *cache, uint64_t hash, size_t len)
{
    if (ENTRY_OVERHEAD + len > cache->max_bytes / 8 || cache->max_entries == 0)
        return 0;
    if (len <= LARGE_FILE)
        return 1;
    seen_t *seen = &cache->seen[hash & cache->seen_mask];
    uint64_t distance = cache->large_reads - seen->read;
    if (seen->hash == hash && distance <= cache->max_bytes / 4 / len)
        return 1;
    *seen = (seen_t){hash, ++cache->large_reads};
    return 0;
}

/* A new entry with room for len bytes of file (one reference, not in the cache yet). */
static entry_t *entry_new(uint64_t hash, size_t log, const char *path, size_t path_len, size_t len, int immutable,
                          const struct stat *st)
{
    entry_t *e = h2o_mem_alloc_shared(NULL, sizeof(*e) + path_len + 1 + len, NULL);
    memset(e, 0, sizeof(*e));
    e->path = (char *)(e + 1);
    e->body = e->path + path_len + 1;
    memcpy(e->path, path, path_len + 1);
    e->hash = hash;
    e->log = log;
    e->path_len = path_len;
    e->len = len;
    e->immutable = immutable;
    e->st = *st;
    return e;
}

int file_cache_get(file_cache_t *cache, h2o_mem_pool_t *pool, size_t log, int dir_fd, const char *path, int immutable,
                   size_t max_file, file_cache_file_t *out)
{
    size_t path_len = strlen(path);
    uint64_t hash = key_hash(cache, log, path, path_len);
    entry_t *e = lookup(cache, hash, log, path, path_len);
    struct stat st;

    if (e != NULL && !e->immutable &&
        (fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !gateway_files_unchanged(&st, &e->st))) {
        evict(cache, e);
        e = NULL;
    }
    if (e != NULL) {
        touch(cache, e);
        h2o_mem_link_shared(pool, e);
        *out = (file_cache_file_t){e->body, e->len, e->st.st_mtim};
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
    char *body;
    if (admit(cache, hash, len)) {
        e = entry_new(hash, log, path, path_len, len, immutable, &st);
        body = e->body;
    } else {
        body = h2o_mem_alloc_pool(pool, len ? len : 1);
    }
    int failed = gateway_files_read(fd, body, len), saved = errno;
    close(fd);
    if (failed) {
        if (e != NULL)
            h2o_mem_release_shared(e);
        errno = saved;
        return -1;
    }
    if (e != NULL) {
        keep(cache, e); /* with entry_new's reference */
        h2o_mem_link_shared(pool, e);
    }
    *out = (file_cache_file_t){body, len, st.st_mtim};
    return 0;
}
