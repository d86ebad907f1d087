/*
 * Storage directory and staging bundles (see storage.h for the layout).
 *
 * Every write goes through tlog_durable_write; a directory is created (and
 * fsynced with its parent) the first time a path under it is written.
 * Reading a bundle checks its trailing SHA-256 and every record's bounds
 * before any file is written from it.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/ctroots.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/gzip.h"
#include "writer/storage.h"

#define BUNDLE_MAGIC "faro-bundle-v1\n"
#define BUNDLE_MAGIC_LEN (sizeof(BUNDLE_MAGIC) - 1)
#define BUNDLE_MAX_SIZE (UINT64_C(1) << 32)
#define DATA_TILE_MAX (64 << 20)

struct storage {
    char *root;
    char *state_dir;
    char *staging_dir;
};

static char *join(const char *a, const char *b)
{
    size_t len = strlen(a) + 1 + strlen(b) + 1;
    char *out = malloc(len);
    if (out == NULL)
        abort();
    snprintf(out, len, "%s/%s", a, b);
    return out;
}

int storage_open(const char *root, const char *state_dir, int create, storage_t **out, char *err)
{
    storage_t *storage = calloc(1, sizeof(*storage));
    if (storage == NULL)
        abort();
    storage->root = strdup(root);
    storage->state_dir = strdup(state_dir);
    storage->staging_dir = join(state_dir, "staging");
    if (create) {
        if (tlog_durable_mkdirs(storage->root, err) != 0 || tlog_durable_mkdirs(storage->staging_dir, err) != 0)
            goto fail;
    } else {
        DIR *d;
        if ((d = opendir(storage->root)) == NULL) {
            tlog_errorf(err, "storage directory %s: %s%s", storage->root, strerror(errno),
                        errno == ENOENT ? " (a new log is created only with --create-missing)" : "");
            goto fail;
        }
        closedir(d);
        if (tlog_durable_mkdirs(storage->staging_dir, err) != 0)
            goto fail;
    }
    *out = storage;
    return 0;
fail:
    storage_free(storage);
    return -1;
}

void storage_free(storage_t *storage)
{
    if (storage == NULL)
        return;
    free(storage->root);
    free(storage->state_dir);
    free(storage->staging_dir);
    free(storage);
}

const char *storage_root(const storage_t *storage)
{
    return storage->root;
}

static char *tile_file(const storage_t *storage, const tlog_tile_t *tile)
{
    char path[TLOG_TILE_PATH_MAX];
    tlog_tile_path_format(tile, path);
    return join(storage->root, path);
}

int storage_read_data_tile(storage_t *storage, const tlog_tile_t *tile, uint8_t **out, size_t *out_len, char *err)
{
    char *path = tile_file(storage, tile);
    char *raw;
    size_t len;
    int ret = tlog_read_file(path, DATA_TILE_MAX, &raw, &len, err);
    if (ret == 0)
        ret = tlog_data_tile_inflate((uint8_t *)raw, len, DATA_TILE_MAX, path, out, out_len, err);
    free(path);
    return ret;
}

int storage_read_tile(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err)
{
    storage_t *storage = ctx;
    tlog_tile_t file = *tile;
    size_t want = tile->width * TLOG_HASH_SIZE;
    char *data = NULL, *path = tile_file(storage, &file);
    size_t len;
    int ret = tlog_read_file(path, TLOG_TILE_BYTES, &data, &len, err);

    if (ret != 0 && errno == ENOENT && tile->width < TLOG_TILE_WIDTH) {
        /* A partial tile may be gone once its full tile exists. */
        free(path);
        file.width = TLOG_TILE_WIDTH;
        path = tile_file(storage, &file);
        ret = tlog_read_file(path, TLOG_TILE_BYTES, &data, &len, err);
    }
    if (ret == 0 && len != file.width * TLOG_HASH_SIZE)
        ret = tlog_errorf(err, "%s has %zu bytes, not %zu", path, len, (size_t)file.width * TLOG_HASH_SIZE);
    if (ret == 0)
        memcpy(out, data, want);
    free(data);
    free(path);
    return ret;
}

int storage_read_checkpoint(storage_t *storage, char **body, size_t *len, char *err)
{
    char *path = join(storage->root, "checkpoint");
    int ret = tlog_read_file(path, 1 << 20, body, len, err);
    int missing = ret != 0 && errno == ENOENT;
    free(path);
    if (missing)
        return 0;
    return ret == 0 ? 1 : -1;
}

int storage_write_file(storage_t *storage, const char *relative, const void *data, size_t len, int flags, char *err)
{
    char *path = join(storage->root, relative);
    char *dir = strndup(path, (size_t)(strrchr(path, '/') - path));
    int ret = tlog_durable_mkdirs(dir, err);
    if (ret == 0)
        ret = tlog_durable_write(path, data, len, flags, err);
    free(dir);
    free(path);
    return ret;
}

int storage_write_checkpoint(storage_t *storage, const char *body, size_t len, char *err)
{
    return storage_write_file(storage, "checkpoint", body, len, TLOG_DURABLE_MUTABLE, err);
}

void storage_bundle_init(storage_bundle_t *bundle)
{
    tlog_buf_t empty = TLOG_BUF_INIT;
    bundle->bytes = empty;
    bundle->files = 0;
    tlog_buf_append(&bundle->bytes, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN);
}

void storage_bundle_add(storage_bundle_t *bundle, const char *path, const void *data, size_t len, int flags)
{
    size_t path_len = strlen(path);
    tlog_buf_append_uint(&bundle->bytes, path_len, 2);
    tlog_buf_append(&bundle->bytes, path, path_len);
    tlog_buf_append_uint(&bundle->bytes, (uint64_t)flags, 1);
    tlog_buf_append_uint(&bundle->bytes, len, 4);
    tlog_buf_append(&bundle->bytes, data, len);
    bundle->files++;
}

void storage_bundle_free(storage_bundle_t *bundle)
{
    tlog_buf_free(&bundle->bytes);
    bundle->files = 0;
}

static char *bundle_file(const storage_t *storage, uint64_t size, const tlog_hash_t *root)
{
    char hex[2 * TLOG_HASH_SIZE + 1], *path;
    tlog_hex_encode(root->bytes, TLOG_HASH_SIZE, hex);
    if (asprintf(&path, "%s/%llu-%s", storage->staging_dir, (unsigned long long)size, hex) < 0)
        abort();
    return path;
}

int storage_bundle_stage(storage_t *storage, storage_bundle_t *bundle, uint64_t size, const tlog_hash_t *root, char *err)
{
    tlog_hash_t sum;
    tlog_sha256(bundle->bytes.data, bundle->bytes.len, &sum);
    tlog_buf_append(&bundle->bytes, sum.bytes, TLOG_HASH_SIZE);
    char *path = bundle_file(storage, size, root);
    int ret = tlog_durable_write(path, bundle->bytes.data, bundle->bytes.len, TLOG_DURABLE_MUTABLE, err);
    free(path);
    bundle->bytes.len -= TLOG_HASH_SIZE;
    return ret;
}

static uint64_t read_uint(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v = v << 8 | p[i];
    return v;
}

/* One record of a bundle whose bytes are [0, end); 1 read, 0 at the end, -1 malformed. */
typedef struct bundle_record {
    char path[PATH_MAX];
    int flags;
    const uint8_t *data;
    size_t len;
} bundle_record_t;

static int bundle_next(const uint8_t *bytes, size_t end, size_t *offset, bundle_record_t *record)
{
    size_t p = *offset;
    if (p == end)
        return 0;
    if (end - p < 2)
        return -1;
    size_t path_len = (size_t)read_uint(bytes + p, 2);
    p += 2;
    if (path_len == 0 || path_len >= sizeof(record->path) || end - p < path_len + 5)
        return -1;
    memcpy(record->path, bytes + p, path_len);
    record->path[path_len] = '\0';
    if (memchr(record->path, '\0', path_len) != NULL || strstr(record->path, "..") != NULL || record->path[0] == '/')
        return -1;
    p += path_len;
    record->flags = bytes[p++];
    record->len = (size_t)read_uint(bytes + p, 4);
    p += 4;
    if (end - p < record->len)
        return -1;
    record->data = bytes + p;
    *offset = p + record->len;
    return 1;
}

int storage_bundle_load(storage_t *storage, uint64_t size, const tlog_hash_t *root, storage_bundle_t *out, char *err)
{
    char *path = bundle_file(storage, size, root), *data = NULL;
    size_t len;
    int ret = tlog_read_file(path, BUNDLE_MAX_SIZE, &data, &len, err);
    if (ret != 0) {
        ret = errno == ENOENT ? 1 : -1;
        goto done;
    }
    tlog_hash_t sum;
    if (len < BUNDLE_MAGIC_LEN + TLOG_HASH_SIZE || memcmp(data, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN) != 0) {
        ret = tlog_errorf(err, "staging bundle %s is not a faro bundle", path);
        goto done;
    }
    tlog_sha256(data, len - TLOG_HASH_SIZE, &sum);
    if (memcmp(sum.bytes, data + len - TLOG_HASH_SIZE, TLOG_HASH_SIZE) != 0) {
        ret = tlog_errorf(err, "staging bundle %s fails its checksum", path);
        goto done;
    }
    size_t offset = BUNDLE_MAGIC_LEN, files = 0;
    bundle_record_t record;
    while ((ret = bundle_next((uint8_t *)data, len - TLOG_HASH_SIZE, &offset, &record)) == 1)
        files++;
    if (ret != 0) {
        ret = tlog_errorf(err, "staging bundle %s has a malformed record after %zu files", path, files);
        goto done;
    }
    out->bytes.data = (uint8_t *)data;
    out->bytes.len = len - TLOG_HASH_SIZE;
    out->bytes.cap = len;
    out->files = files;
    data = NULL;
done:
    free(data);
    free(path);
    return ret;
}

int storage_bundle_publish(storage_t *storage, const storage_bundle_t *bundle, char *err)
{
    tlog_durable_file_t *files = calloc(bundle->files ? bundle->files : 1, sizeof(*files));
    size_t offset = BUNDLE_MAGIC_LEN, n = 0;
    bundle_record_t record;
    int ret;
    if (files == NULL)
        abort();
    while ((ret = bundle_next(bundle->bytes.data, bundle->bytes.len, &offset, &record)) == 1 && n < bundle->files) {
        char *path = join(storage->root, record.path);
        char *dir = strndup(path, (size_t)(strrchr(path, '/') - path));
        files[n++] = (tlog_durable_file_t){path, record.data, record.len, record.flags};
        ret = tlog_durable_mkdirs(dir, err);
        free(dir);
        if (ret != 0)
            goto done;
    }
    if (ret != 0 || n != bundle->files) {
        ret = tlog_errorf(err, "staging bundle has a malformed record");
        goto done;
    }
    ret = tlog_durable_write_all(files, n, err);
done:
    for (size_t i = 0; i < n; i++)
        free((char *)files[i].path);
    free(files);
    return ret;
}

int storage_sweep(storage_t *storage, size_t *removed, char *err)
{
    char *roots = join(storage->root, TLOG_CTROOTS_DIR);
    const char *dirs[] = {storage->root, roots, storage->state_dir, storage->staging_dir};
    int ret = 0;
    for (size_t i = 0; ret == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++)
        ret = tlog_durable_sweep(dirs[i], removed, err);
    free(roots);
    return ret;
}

int storage_bundle_sweep(storage_t *storage, const storage_bundle_t *bundle, size_t *removed, char *err)
{
    size_t offset = BUNDLE_MAGIC_LEN, count = 0;
    char **swept = NULL; /* the folders done so far, relative */
    bundle_record_t record;
    int ret = 0;
    while (ret == 0 && bundle_next(bundle->bytes.data, bundle->bytes.len, &offset, &record) == 1) {
        char *slash = strrchr(record.path, '/');
        if (slash == NULL)
            continue; /* the storage root: storage_sweep's */
        *slash = '\0';
        size_t i = 0;
        while (i < count && strcmp(swept[i], record.path) != 0)
            i++;
        if (i < count)
            continue;
        char **grown = realloc(swept, (count + 1) * sizeof(*swept));
        if (grown == NULL || (grown[count] = strdup(record.path)) == NULL)
            abort();
        swept = grown;
        char *dir = join(storage->root, swept[count++]);
        ret = tlog_durable_sweep(dir, removed, err);
        free(dir);
    }
    for (size_t i = 0; i < count; i++)
        free(swept[i]);
    free(swept);
    return ret;
}

int storage_bundle_drop(storage_t *storage, uint64_t size, const tlog_hash_t *root, char *err)
{
    DIR *d = opendir(storage->staging_dir);
    struct dirent *e;
    int ret = 0;
    if (d == NULL)
        return tlog_errorf(err, "open %s: %s", storage->staging_dir, strerror(errno));
    char *keep = bundle_file(storage, size, root);
    while ((e = readdir(d)) != NULL) {
        char *end;
        unsigned long long staged = strtoull(e->d_name, &end, 10);
        if (end == e->d_name || *end != '-' || staged > size)
            continue;
        char *path = join(storage->staging_dir, e->d_name);
        int removed = staged < size || strcmp(path, keep) == 0 ? tlog_durable_remove(path, err) : 0;
        if (removed != 0 && ret != TLOG_DURABLE_FATAL)
            ret = removed;
        free(path);
    }
    closedir(d);
    free(keep);
    return ret;
}
