/* One-line events on stderr, text or JSON (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/log.h"

#define LINE_MAX_BYTES 4096

static int log_json;
static const char *const level_names[] = {"debug", "info", "warn", "error", "fatal"};

int faro_log_set_format(const char *format)
{
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        return -1;
    log_json = strcmp(format, "json") == 0;
    return 0;
}

/* Appends s as a JSON string body (without quotes), escaping what JSON requires. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
        else if (c < 0x20)
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        else
            out[n++] = (char)c;
    }
    out[n] = '\0';
    return n;
}

static void log_line(int level, const char *subject, const char *fmt, va_list ap)
{
    char message[LINE_MAX_BYTES / 2], line[LINE_MAX_BYTES], stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    vsnprintf(message, sizeof(message), fmt, ap);
    /* A message is one line whatever it quotes. */
    for (char *p = message; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';

    int len;
    if (log_json) {
        char subject_json[256], message_json[sizeof(message) + 64];
        json_escape(subject_json, sizeof(subject_json), subject);
        json_escape(message_json, sizeof(message_json), message);
        len = snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"log\":\"%s\",\"msg\":\"%s\"}\n", stamp,
                       level_names[level], subject_json, message_json);
    } else {
        len = snprintf(line, sizeof(line), "%s %s %s: %s\n", stamp, level_names[level], subject, message);
    }
    if (len >= (int)sizeof(line)) {
        len = sizeof(line) - 1;
        line[len - 1] = '\n';
    }
    ssize_t written = write(STDERR_FILENO, line, (size_t)len);
    (void)written;
}

void faro_log(int level, const char *subject, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, subject, fmt, ap);
    va_end(ap);
}

void faro_fatal(const char *subject, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(FARO_LOG_FATAL, subject, fmt, ap);
    va_end(ap);
    /* Not exit(): its handlers (OpenSSL's cleanup, the sanitizers' leak check) would run while other threads work on. */
    _exit(1);
}
