/*
 * Test helpers shared by the unit tests (see testutil.h). The scratch
 * directory is removed with nftw(FTW_DEPTH | FTW_PHYS): children before their
 * directory, symbolic links removed rather than followed, no shell.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/testutil.h"

static char dir[256];

int testutil_dir_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/faro-%s-XXXXXX", program_invocation_short_name);
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int testutil_dir_teardown(void **state)
{
    (void)state;
    return nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

const char *testutil_dir(void)
{
    return dir;
}

char *testutil_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

char *testutil_format(const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    assert_true(vasprintf(&s, fmt, ap) >= 0);
    va_end(ap);
    return s;
}

void testutil_assert_mentions(const char *err, const char *needle)
{
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}
