/*
 * Event logging for both daemons: one line per event on stderr,
 *   2026-11-21T10:00:00.123Z info testlog: sequenced 512 entries, tree size 1024
 * or, after faro_log_set_format("json"), one JSON object per line. Lines are written
 * with a single write(2), so threads never interleave within a line.
 */
#ifndef FARO_LOG_H
#define FARO_LOG_H

enum { FARO_LOG_DEBUG, FARO_LOG_INFO, FARO_LOG_WARN, FARO_LOG_ERROR, FARO_LOG_FATAL };

/* "text" (the default) or "json" (--log-format); -1 for anything else. */
int faro_log_set_format(const char *format);
/* subject is the log's name, or the daemon's name for events of no one log. */
void faro_log(int level, const char *subject, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Logs at FARO_LOG_FATAL and exits at once with status 1 (_exit: no atexit handlers, stdio not flushed): for broken invariants and
 * fsync errors. */
void faro_fatal(const char *subject, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
