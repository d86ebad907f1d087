/*
 * Test helpers for faro.yaml: a small valid file with one log, built with
 * changes, and checks that a file is accepted or refused with a message.
 * Static inline so each test binary takes only what it uses.
 */
#ifndef FARO_TEST_CONFIG_TEXT_H
#define FARO_TEST_CONFIG_TEXT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "tests/unit/testutil.h"
#include "tlog/error.h"

#define BASE "/etc/faro"
#define NAME "faro.yaml"

static const char *const required[][2] = {
    {"name", "\"testlog\""},
    {"submission_prefix", "\"http://127.0.0.1:6962/testlog\""},
    {"monitoring_prefix", "\"http://127.0.0.1:6963/testlog\""},
    {"key", "\"keys/testlog.ecdsa.pem\""},
    {"ed25519_key", "\"keys/testlog.ed25519.pem\""},
    {"roots", "\"roots.pem\""},
    {"storage", "\"data/testlog\""},
};
#define NREQUIRED (sizeof(required) / sizeof(required[0]))

/* A config of `top` lines, then one log with the required keys but `omit`, then the lines of `extra` indented into it. */
static inline char *make_config(const char *top, const char *extra, const char *omit)
{
    char *text = testutil_format("%s%slogs:\n", top, top[0] != '\0' && top[strlen(top) - 1] != '\n' ? "\n" : "");
    int first = 1;

    for (size_t i = 0; i < NREQUIRED; i++) {
        char *next;
        if (omit != NULL && strcmp(omit, required[i][0]) == 0)
            continue;
        next = testutil_format("%s  %s %s: %s\n", text, first ? "-" : " ", required[i][0], required[i][1]);
        free(text);
        text = next;
        first = 0;
    }
    for (const char *line = extra; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        char *next = testutil_format("%s  %s %.*s\n", text, first ? "-" : " ", (int)n, line);
        free(text);
        text = next;
        first = 0;
        line += n + (line[n] == '\n');
    }
    return text;
}

static inline faro_config_t *parse_ok(const char *text)
{
    faro_config_t *config = NULL;
    char err[TLOG_ERR_MAX] = "";
    if (faro_config_parse(text, strlen(text), NAME, BASE, &config, err) != 0)
        fail_msg("config rejected: %s\n%s", err, text);
    return config;
}

static inline void expect_error_n(const char *text, size_t len, const char *want)
{
    faro_config_t *config = (faro_config_t *)1;
    char err[TLOG_ERR_MAX] = "";
    assert_int_equal(faro_config_parse(text, len, NAME, BASE, &config, err), -1);
    assert_null(config);
    if (strstr(err, want) == NULL)
        fail_msg("message \"%s\" lacks \"%s\" for:\n%s", err, want, text);
}

static inline void expect_error(const char *text, const char *want)
{
    expect_error_n(text, strlen(text), want);
}

/* A log line `extra` must be refused with a message containing want. */
static inline void expect_log_error(const char *extra, const char *want)
{
    char *text = make_config("", extra, NULL);
    expect_error(text, want);
    free(text);
}

/* The same, with the required key `key` left out so that `extra` may set it. */
static inline void expect_replaced_error(const char *key, const char *extra, const char *want)
{
    char *text = make_config("", extra, key);
    expect_error(text, want);
    free(text);
}

static inline void expect_top_error(const char *top, const char *want)
{
    char *text = make_config(top, "", NULL);
    expect_error(text, want);
    free(text);
}

static inline faro_config_t *parse_log(const char *extra)
{
    char *text = make_config("", extra, NULL);
    faro_config_t *config = parse_ok(text);
    free(text);
    return config;
}

#endif
