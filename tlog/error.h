/*
 * Error reporting shared by every faro module: a function that fails returns
 * a negative int and, when the caller passed a buffer of TLOG_ERR_MAX bytes,
 * writes one line of human-readable text into it saying what was wrong.
 */
#ifndef TLOG_ERROR_H
#define TLOG_ERROR_H

#define TLOG_ERR_MAX 256

/* Writes the message into err (if not NULL) and returns -1. */
int tlog_errorf(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
