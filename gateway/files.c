/*
 * Opens beneath a storage directory (see files.h). openat2 needs Linux 5.6;
 * gateway_files_open_dir refuses to start on an older kernel rather than
 * fall back to a weaker check.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gateway/files.h"
#include "tlog/error.h"

static int open_beneath(int dir_fd, const char *path, int flags)
{
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
}

int gateway_files_open_dir(const char *dir, char *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return tlog_errorf(err, "%s: %s", dir, strerror(errno));
    int probe = open_beneath(fd, ".", O_RDONLY | O_DIRECTORY);
    if (probe < 0) {
        int e = errno;
        close(fd);
        if (e == ENOSYS)
            return tlog_errorf(err, "%s: this kernel has no openat2 (Linux 5.6 or later is needed to confine reads to storage)",
                               dir);
        return tlog_errorf(err, "%s: %s", dir, strerror(e));
    }
    close(probe);
    return fd;
}

int gateway_files_open(int dir_fd, const char *path, struct stat *st)
{
    int fd = open_beneath(dir_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == EXDEV || errno == ENOTDIR || errno == ELOOP)
            errno = ENOENT;
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

int gateway_files_read(int fd, char *buf, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, buf + done, size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* the file shrank: a writer never truncates, so the disk is lying */
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

int gateway_files_slurp(int dir_fd, const char *path, size_t max, char **out, size_t *out_len, char *err)
{
    struct stat st;
    int fd = gateway_files_open(dir_fd, path, &st);
    if (fd < 0)
        return tlog_errorf(err, "%s: %s", path, strerror(errno));
    if ((size_t)st.st_size > max) {
        close(fd);
        return tlog_errorf(err, "%s: larger than %zu bytes", path, max);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        abort();
    if (gateway_files_read(fd, buf, (size_t)st.st_size) != 0) {
        tlog_errorf(err, "%s: %s", path, strerror(errno));
        close(fd);
        free(buf);
        return -1;
    }
    close(fd);
    buf[st.st_size] = '\0';
    *out = buf;
    *out_len = (size_t)st.st_size;
    return 0;
}

int gateway_files_unchanged(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
           a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}
