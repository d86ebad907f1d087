/*
 * Durable writes on a POSIX file system (see durable.h for the contract).
 *
 * Every system call that can lose data goes through one of the fault-point
 * wrappers below, so tests can make the n-th write, fsync, rename or
 * directory fsync fail and check that nothing acknowledged is lost. The
 * counts are atomics: several threads (one sequencer per log, the roots
 * fetchers, a batch's writers) write at once.
 *
 * A batch runs the steps of a single write for all its files, step by step:
 * every temporary file written and fsynced (by several threads at once, so
 * that the file system can commit their fsyncs together instead of one
 * journal commit each), then every rename, then one fsync per directory.
 * Each file still has its bytes fsynced before its rename and its directory
 * fsynced after it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlog/durable.h"
#include "tlog/error.h"

static struct {
    int op;
    unsigned long nth;
} fault;
static atomic_ulong calls[TLOG_FAULT_DIRSYNC + 1];
static pthread_once_t fault_env_once = PTHREAD_ONCE_INIT;

static void fault_read_env(void)
{
    static const char *const names[] = {"", "write", "fsync", "rename", "dirsync"};
    const char *spec = getenv("FARO_DURABLE_FAULT");
    if (spec == NULL)
        return;
    for (int op = TLOG_FAULT_WRITE; op <= TLOG_FAULT_DIRSYNC; op++) {
        size_t n = strlen(names[op]);
        if (strncmp(spec, names[op], n) == 0 && spec[n] == ':') {
            fault.op = op;
            fault.nth = strtoul(spec + n + 1, NULL, 10);
        }
    }
}

void tlog_durable_fault_arm(int op, unsigned long nth)
{
    pthread_once(&fault_env_once, fault_read_env); /* so the environment cannot override this later */
    fault.op = op;
    fault.nth = nth;
    for (int i = 0; i <= TLOG_FAULT_DIRSYNC; i++)
        atomic_store(&calls[i], 0);
}

unsigned long tlog_durable_calls(int op)
{
    return op > TLOG_FAULT_NONE && op <= TLOG_FAULT_DIRSYNC ? atomic_load(&calls[op]) : 0;
}

/* Counts this call of op; whether it is the one armed to fail. */
static int fault_hit(int op)
{
    pthread_once(&fault_env_once, fault_read_env);
    unsigned long n = atomic_fetch_add(&calls[op], 1) + 1;
    if (fault.op != op || n != fault.nth)
        return 0;
    errno = EIO;
    return 1;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        if (fault_hit(TLOG_FAULT_WRITE))
            return -1;
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int sync_fd(int fd, int op)
{
    if (fault_hit(op))
        return -1;
    return fsync(fd);
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int ret = sync_fd(fd, TLOG_FAULT_DIRSYNC);
    int saved = errno;
    close(fd);
    errno = saved;
    return ret;
}

static void split_path(const char *path, char *dir, char *base)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    snprintf(dir, PATH_MAX, "%s", dirname(tmp));
    snprintf(tmp, sizeof(tmp), "%s", path);
    snprintf(base, NAME_MAX + 1, "%s", basename(tmp));
}

/* For an immutable file that exists already: success only if its bytes are ours. */
static int compare_existing(const char *path, const void *data, size_t len, char *err)
{
    char *existing = NULL;
    size_t existing_len;
    if (tlog_read_file(path, len + 1, &existing, &existing_len, err) != 0)
        return -1;
    int same = existing_len == len && memcmp(existing, data, len) == 0;
    free(existing);
    if (!same)
        return tlog_errorf(err, "%s exists with different contents", path);
    return 0;
}

#define TEMP_MAX (PATH_MAX + NAME_MAX + 16)

/*
 * Step 1 of a write: the bytes durably under a temporary name beside path,
 * returned in temp; or, for an immutable file that already holds them,
 * nothing (temp empty).
 */
static int write_temp(const tlog_durable_file_t *f, char temp[TEMP_MAX], char *err)
{
    char dir[PATH_MAX], base[NAME_MAX + 1];
    int fd = -1, ret = -1;
    mode_t mode = f->flags & TLOG_DURABLE_IMMUTABLE ? 0444 : 0644;

    temp[0] = '\0';
    if (strlen(f->path) >= PATH_MAX - 16)
        return tlog_errorf(err, "path too long: %s", f->path);
    if (f->flags & TLOG_DURABLE_IMMUTABLE && access(f->path, F_OK) == 0)
        return compare_existing(f->path, f->data, f->len, err);
    split_path(f->path, dir, base);
    snprintf(temp, TEMP_MAX, "%s/.%.200s.XXXXXX", dir, base);
    if ((fd = mkostemp(temp, O_CLOEXEC)) < 0) {
        tlog_errorf(err, "create temporary file in %s: %s", dir, strerror(errno));
        temp[0] = '\0';
        return -1;
    }
    if (fchmod(fd, mode) != 0 || write_all(fd, f->data, f->len) != 0) {
        tlog_errorf(err, "write %s: %s", temp, strerror(errno));
        goto fail;
    }
    if (sync_fd(fd, TLOG_FAULT_FSYNC) != 0) {
        tlog_errorf(err, "fsync %s: %s", temp, strerror(errno));
        ret = TLOG_DURABLE_FATAL;
        goto fail;
    }
    close(fd);
    return 0;

fail:
    close(fd);
    unlink(temp);
    temp[0] = '\0';
    return ret;
}

/* Step 1 of a batch, shared by up to TLOG_DURABLE_THREADS threads taking files in turn. */
typedef struct batch {
    const tlog_durable_file_t *files;
    size_t n;
    atomic_size_t next;
    char (*temps)[TEMP_MAX];
    int *rets;
    char (*errs)[TLOG_ERR_MAX];
} batch_t;

static void *batch_write_temps(void *arg)
{
    batch_t *b = arg;
    for (size_t i; (i = atomic_fetch_add(&b->next, 1)) < b->n;)
        b->rets[i] = write_temp(&b->files[i], b->temps[i], b->errs[i]);
    return NULL;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Step 3: each directory a renamed file is in, fsynced once. */
static int sync_dirs(const tlog_durable_file_t *files, size_t n, char (*temps)[TEMP_MAX], char *err)
{
    char **dirs = calloc(n ? n : 1, sizeof(*dirs)), base[NAME_MAX + 1];
    size_t count = 0;
    int ret = 0;
    if (dirs == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (temps[i][0] == '\0')
            continue;
        if ((dirs[count] = malloc(PATH_MAX)) == NULL)
            abort();
        split_path(files[i].path, dirs[count++], base);
    }
    qsort(dirs, count, sizeof(*dirs), by_string);
    for (size_t i = 0; i < count && ret == 0; i++) {
        if (i > 0 && strcmp(dirs[i], dirs[i - 1]) == 0)
            continue;
        if (sync_dir(dirs[i]) != 0) {
            /* The new names may or may not survive a crash: the caller cannot acknowledge them. */
            tlog_errorf(err, "fsync directory %s: %s", dirs[i], strerror(errno));
            ret = TLOG_DURABLE_FATAL;
        }
    }
    for (size_t i = 0; i < count; i++)
        free(dirs[i]);
    free(dirs);
    return ret;
}

int tlog_durable_write_all(const tlog_durable_file_t *files, size_t n, char *err)
{
    batch_t b = {files, n, 0, calloc(n ? n : 1, TEMP_MAX), calloc(n ? n : 1, sizeof(int)), calloc(n ? n : 1, TLOG_ERR_MAX)};
    pthread_t threads[TLOG_DURABLE_THREADS - 1];
    size_t started = 0;
    int ret = 0;

    if (b.temps == NULL || b.rets == NULL || b.errs == NULL)
        abort();
    while (started + 1 < TLOG_DURABLE_THREADS && started + 1 < n &&
           pthread_create(&threads[started], NULL, batch_write_temps, &b) == 0)
        started++;
    batch_write_temps(&b);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (size_t i = 0; i < n; i++)
        if (b.rets[i] != 0 && ret != TLOG_DURABLE_FATAL) {
            ret = b.rets[i];
            tlog_errorf(err, "%s", b.errs[i]);
        }
    /* Step 2, in order; after a failure the files not yet renamed are left out. */
    for (size_t i = 0; i < n; i++) {
        if (b.temps[i][0] == '\0')
            continue;
        if (ret == 0 && (fault_hit(TLOG_FAULT_RENAME) || rename(b.temps[i], files[i].path) != 0))
            ret = tlog_errorf(err, "rename to %s: %s", files[i].path, strerror(errno));
        else if (ret == 0)
            continue;
        unlink(b.temps[i]);
        b.temps[i][0] = '\0';
    }
    int synced = sync_dirs(files, n, b.temps, err);
    if (synced != 0)
        ret = synced;
    free(b.temps);
    free(b.rets);
    free(b.errs);
    return ret;
}

int tlog_durable_write(const char *path, const void *data, size_t len, int flags, char *err)
{
    tlog_durable_file_t file = {path, data, len, flags};
    return tlog_durable_write_all(&file, 1, err);
}

int tlog_durable_mkdirs(const char *dir, char *err)
{
    char path[PATH_MAX];
    struct stat st;

    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return tlog_errorf(err, "%s exists and is not a directory", dir);
        return 0;
    }
    if (errno != ENOENT)
        return tlog_errorf(err, "stat %s: %s", dir, strerror(errno));
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return tlog_errorf(err, "path too long: %s", dir);
    char *parent = dirname(path);
    if (strcmp(parent, dir) != 0) {
        int ret = tlog_durable_mkdirs(parent, err);
        if (ret != 0)
            return ret;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return tlog_errorf(err, "mkdir %s: %s", dir, strerror(errno));
    if (sync_dir(dir) != 0 || sync_dir(parent) != 0) {
        tlog_errorf(err, "fsync new directory %s: %s", dir, strerror(errno));
        return TLOG_DURABLE_FATAL;
    }
    return 0;
}

int tlog_durable_remove(const char *path, char *err)
{
    char dir[PATH_MAX], base[NAME_MAX + 1];
    if (unlink(path) != 0) {
        if (errno == ENOENT)
            return 0;
        return tlog_errorf(err, "remove %s: %s", path, strerror(errno));
    }
    split_path(path, dir, base);
    if (sync_dir(dir) != 0) {
        tlog_errorf(err, "fsync directory %s: %s", dir, strerror(errno));
        return TLOG_DURABLE_FATAL;
    }
    return 0;
}

int tlog_durable_is_temp_name(const char *name)
{
    size_t len = strlen(name);
    /* "." name "." XXXXXX, with a name of at least one character */
    if (len < 9 || name[0] != '.' || name[len - 7] != '.')
        return 0;
    for (size_t i = len - 6; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

int tlog_durable_sweep(const char *dir, size_t *removed, char *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t count = 0;
    int ret = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : tlog_errorf(err, "open %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (!tlog_durable_is_temp_name(e->d_name) || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
            ret = tlog_errorf(err, "remove %s/%s: %s", dir, e->d_name, strerror(errno));
            break;
        }
        count++;
    }
    closedir(d);
    if (count > 0 && sync_dir(dir) != 0) {
        tlog_errorf(err, "fsync directory %s: %s", dir, strerror(errno));
        ret = TLOG_DURABLE_FATAL;
    }
    *removed += count;
    return ret;
}

int tlog_read_file(const char *path, size_t max, char **out, size_t *out_len, char *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (fd < 0)
        return tlog_errorf(err, "open %s: %s", path, strerror(errno));
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                close(fd);
                free(buf);
                errno = EFBIG;
                return tlog_errorf(err, "%s is larger than %zu bytes", path, max);
            }
            cap = cap == 0 ? 4096 : cap * 2;
            char *grown = realloc(buf, cap + 1);
            if (grown == NULL)
                abort();
            buf = grown;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            tlog_errorf(err, "read %s: %s", path, strerror(errno));
            close(fd);
            free(buf);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len > max) {
        free(buf);
        errno = EFBIG;
        return tlog_errorf(err, "%s is larger than %zu bytes", path, max);
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}
