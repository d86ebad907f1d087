#include <stdarg.h>
#include <stdio.h>

#include "tlog/error.h"

int tlog_errorf(char *err, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, TLOG_ERR_MAX, fmt, ap);
        va_end(ap);
    }
    return -1;
}
