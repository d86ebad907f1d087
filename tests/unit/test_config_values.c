/* faro.yaml values: URLs, durations, times, lists, listen addresses, numbers, booleans, names; each refusal and its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "tests/unit/config_text.h"
#include "tlog/error.h"

static void test_config_prefixes(void **state)
{
    (void)state;
    static const char *const good[][3] = {
        {"http://127.0.0.1:6962/testlog/", "http://127.0.0.1:6962/testlog", "127.0.0.1:6962/testlog"},
        {"https://ct.example.com///", "https://ct.example.com", "ct.example.com"},
        {"https://[2001:db8::1]:443/log", "https://[2001:db8::1]:443/log", "[2001:db8::1]:443/log"},
        {"http://a-b.example/x/y", "http://a-b.example/x/y", "a-b.example/x/y"},
    };
    static const char *const bad[][2] = {
        {"ftp://example.com/log", "logs[0].submission_prefix: must start with http:// or https://"},
        {"example.com/log", "must start with http:// or https://"},
        {"http:///log", "logs[0].submission_prefix: must have a host"},
        {"https://", "must have a host"},
        {"http://ex ample.com/log", "must be printable ASCII without spaces"},
        {"http://example.com/log?x=1", "logs[0].submission_prefix: must not have a ?query"},
        {"http://example.com/log#top", "must not have a #fragment"},
        {"http://user@example.com/log", "must not have user:password@"},
        {"http://example.com:0/log", "has a port outside 1 to 65535"},
        {"http://example.com:65536/log", "has a port outside 1 to 65535"},
        {"http://example.com:/log", "has a port outside 1 to 65535"},
        {"http://exa_mple.com/log", "must have a host"},
        {"http://example.com/a+b", "logs[0].submission_prefix: gives origin \"example.com/a+b\", which is not a valid"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *extra = testutil_format("submission_prefix: \"%s\"", good[i][0]);
        char *text = make_config("", extra, "submission_prefix");
        faro_config_t *c = parse_ok(text);
        assert_string_equal(c->logs[0].submission_prefix, good[i][1]);
        assert_string_equal(c->logs[0].origin, good[i][2]);
        faro_config_free(c);
        free(text);
        free(extra);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *extra = testutil_format("submission_prefix: \"%s\"", bad[i][0]);
        expect_replaced_error("submission_prefix", extra, bad[i][1]);
        free(extra);
    }
    expect_log_error("roots_remote_fetch_url: \"ftp://x/roots\"", "logs[0].roots_remote_fetch_url: must start with http://");
    expect_log_error("roots_remote_fetch_url: \"https://x/roots#a\"", "roots_remote_fetch_url: must not have a #fragment");
}

static void test_config_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t ms;
    } good[] = {
        {"1s", 1000},
        {"250ms", 250},
        {"28h", 100800000},
        {"1m30s", 90000},
        {"0s", 0},
        {"1h1m1s1ms", 3661001},
        {"90m", 5400000},
        {"05s", 5000},
        {"1s500ms", 1500},
        {"2m2m", 240000},
        {"18446744073709551615ms", UINT64_MAX},
    };
    static const char *const bad[] = {"",
                                      "1",
                                      "s",
                                      "-1s",
                                      "+1s",
                                      "1.5s",
                                      "1 s",
                                      " 1s",
                                      "1s ",
                                      "1d",
                                      "1us",
                                      "1S",
                                      "ms",
                                      "1sm",
                                      "1m-",
                                      "1hh",
                                      "18446744073709551616ms",
                                      "5124095576030432h",
                                      "18446744073709551615ms1ms"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t ms = 7;
        if (faro_duration_parse(good[i].text, &ms) != 0)
            fail_msg("\"%s\" rejected", good[i].text);
        assert_int_equal(ms, good[i].ms);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t ms = 7;
        if (faro_duration_parse(bad[i], &ms) != -1)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(ms, 7);
    }
    assert_int_equal(faro_duration_parse(NULL, &(uint64_t){0}), -1);
}

static void test_config_duration_settings(void **state)
{
    (void)state;
    faro_config_t *c = parse_log("sequence_interval: 1h\nwitness_timeout: 1ms");
    assert_int_equal(c->logs[0].sequence_interval_ms, 3600000);
    assert_int_equal(c->logs[0].witness_timeout_ms, 1);
    faro_config_free(c);
    expect_log_error("sequence_interval: \"0s\"",
                     "faro.yaml: logs[0].sequence_interval: must be a duration from 1ms to 1h, like \"1s\"");
    expect_log_error("sequence_interval: \"1h1ms\"", "logs[0].sequence_interval: must be a duration from 1ms to 1h");
    expect_log_error("sequence_interval: 1", "logs[0].sequence_interval: must be a duration");
    expect_log_error("roots_remote_fetch_interval: 999ms",
                     "logs[0].roots_remote_fetch_interval: must be a duration from 1s to 168h");
    expect_log_error("checkpoint_republish_interval: \"\"", "logs[0].checkpoint_republish_interval: must be a duration");
    expect_top_error("gateway:\n  health_max_age: -5s", "gateway.health_max_age: must be a duration from 1ms to 24h");
    expect_top_error("gateway:\n  rate_limits:\n    partial_tile_grace: 25h",
                     "gateway.rate_limits.partial_tile_grace: must be a duration from 0s to 24h");
}

static void test_config_times(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        long long t;
    } good[] = {
        {"1970-01-01T00:00:00Z", 0},         {"2026-01-01T00:00:00Z", 1767225600},   {"2024-02-29T12:34:56Z", 1709210096},
        {"2000-02-29T23:59:59Z", 951868799}, {"9999-12-31T23:59:59Z", 253402300799},
    };
    static const char *const bad[] = {
        "2026-01-01",           "2026-01-01T00:00:00",  "2026-01-01T00:00:00+00:00",
        "2026-01-01 00:00:00Z", "2026-01-01t00:00:00z", "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z", "2026-04-31T00:00:00Z", "2025-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z", "1969-12-31T23:59:59Z", "2026-01-01T00:00:00.5Z",
        "+026-01-01T00:00:00Z", "2026-1-01T00:00:00Z",  "now",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *extra = testutil_format("not_after_start: \"%s\"", good[i].text);
        faro_config_t *c = parse_log(extra);
        assert_true(c->logs[0].has_not_after_start);
        assert_false(c->logs[0].has_not_after_limit);
        assert_int_equal(c->logs[0].not_after_start, good[i].t);
        faro_config_free(c);
        free(extra);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *extra = testutil_format("not_after_limit: \"%s\"", bad[i]);
        expect_log_error(extra, "faro.yaml: logs[0].not_after_limit: must be a UTC time like \"2026-01-01T00:00:00Z\"");
        free(extra);
    }
    expect_log_error("not_after_start: \"2026-01-01T00:00:00Z\"\nnot_after_limit: \"2026-01-01T00:00:00Z\"",
                     "faro.yaml: logs[0].not_after_limit: must be later than not_after_start");
    expect_log_error("not_after_start: \"2027-01-01T00:00:00Z\"\nnot_after_limit: \"2026-01-01T00:00:00Z\"",
                     "logs[0].not_after_limit: must be later than not_after_start");
}

static void test_config_lists(void **state)
{
    (void)state;
    faro_config_t *c = parse_log("ext_key_usages: [Any, ServerAuth, ClientAuth, CodeSigning, EmailProtection, TimeStamping, "
                                 "OCSPSigning]\nreject_extensions: [\"2.5.29.17\", \"0.39\", \"1.3.6.1.4.1.11129.2.4.3\"]");
    assert_int_equal(c->logs[0].ext_key_usages_count, 7);
    assert_string_equal(c->logs[0].ext_key_usages[6], "OCSPSigning");
    assert_int_equal(c->logs[0].reject_extensions_count, 3);
    assert_string_equal(c->logs[0].reject_extensions[1], "0.39");
    faro_config_free(c);
    c = parse_log("ext_key_usages:\nreject_extensions: []");
    assert_int_equal(c->logs[0].ext_key_usages_count, 0);
    assert_null(c->logs[0].ext_key_usages);
    faro_config_free(c);

    expect_log_error("ext_key_usages: [ServerAuth, serverAuth]",
                     "faro.yaml: logs[0].ext_key_usages[1]: must be a list of extended key usages from: Any, ServerAuth");
    expect_log_error("ext_key_usages: [ServerAuth, ServerAuth]", "logs[0].ext_key_usages[1]: \"ServerAuth\" is listed twice");
    static const char *const bad_oids[] = {"1", "3.1", "1.40", "0.40", "1.2.", ".1.2", "1..2", "1.02", "01.2", "1.2.a", "1,2", ""};
    for (size_t i = 0; i < sizeof(bad_oids) / sizeof(bad_oids[0]); i++) {
        char *extra = testutil_format("reject_extensions: [\"2.5.29.17\", \"%s\"]", bad_oids[i]);
        expect_log_error(extra, "faro.yaml: logs[0].reject_extensions[1]: must be a list of dotted OIDs");
        free(extra);
    }
    expect_log_error("reject_extensions: [\"2.5.29.17\", \"2.5.29.17\"]",
                     "logs[0].reject_extensions[1]: \"2.5.29.17\" is listed twice");
    expect_log_error("reject_extensions: {a: b}",
                     "logs[0].reject_extensions: must be a list of dotted OIDs like \"1.3.6.1.4.1.11129.2.4.3\", not a mapping");
}

static void test_config_old_not_before(void **state)
{
    (void)state;
    faro_config_t *c = parse_log("rate_limit_old_not_before: \"1h30m:7\"");
    assert_int_equal(c->logs[0].rate_limit_old_not_before_age_ms, 5400000);
    assert_int_equal(c->logs[0].rate_limit_old_not_before_rate, 7);
    faro_config_free(c);
    static const char *const bad[] = {"28h", "28h:", ":500", "28h:0", "0s:5", "28h:-1", "28h:5:5", "28:500", "28h:1000001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *extra = testutil_format("rate_limit_old_not_before: \"%s\"", bad[i]);
        expect_log_error(extra, "faro.yaml: logs[0].rate_limit_old_not_before: must be \"<age>:<certificates per second>\"");
        free(extra);
    }
}

static void test_config_listen(void **state)
{
    (void)state;
    static const char *const good[] = {"127.0.0.1:6962",  "[::1]:6963", "[::]:1",
                                       "localhost:65535", "0.0.0.0:80", "[2001:db8::1]:443"};
    static const char *const bad[][2] = {
        {"127.0.0.1", "has no :port"},
        {"127.0.0.1:0", "has a port outside 1 to 65535"},
        {"127.0.0.1:65536", "has a port outside 1 to 65535"},
        {"127.0.0.1:080", "has a port outside 1 to 65535"},
        {"127.0.0.1:http", "has a port outside 1 to 65535"},
        {":6962", "has no valid host before the port"},
        {"::1:6962", "holds an IPv6 address without brackets (write \"[::1]:6963\")"},
        {"[::1]6962", "has no :port"},
        {"[]:6962", "has no valid host"},
        {"[::1:6962", "has no :port"},
        {"ho st:1", "has no valid host"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *top = testutil_format("gateway:\n  admin_listen: \"%s\"", good[i]);
        char *text = make_config(top, "", NULL);
        faro_config_t *c = parse_ok(text);
        assert_string_equal(c->gateway.admin_listen, good[i]);
        faro_config_free(c);
        free(text);
        free(top);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *top = testutil_format("writer:\n  listen: \"%s\"", bad[i][0]);
        char *want = testutil_format("faro.yaml: writer.listen: \"%s\" %s", bad[i][0], bad[i][1]);
        expect_top_error(top, want);
        free(want);
        free(top);
    }
}

static void test_config_numbers(void **state)
{
    (void)state;
    char *text = make_config("gateway:\n  threads: 64\n  rate_limits: {anonymous_rps: 0.25, per_client_rps: 1000000, "
                             "anonymous_burst: 0}\n  heavy_hitters: 0",
                             "pool_size: 10000000", NULL);
    faro_config_t *c = parse_ok(text);
    assert_int_equal(c->gateway.threads, 64);
    assert_true(c->gateway.anonymous_rps == 0.25);
    assert_true(c->gateway.per_client_rps == 1000000);
    assert_int_equal(c->gateway.anonymous_burst, 0);
    assert_int_equal(c->gateway.heavy_hitters, 0);
    assert_int_equal(c->logs[0].pool_size, 10000000);
    faro_config_free(c);
    free(text);

    static const char *const bad_pool[] = {
        "0", "10000001", "-1", "1e3", "0x10", "010", "4_000", "4000.0", "", "~", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_pool) / sizeof(bad_pool[0]); i++) {
        char *extra = testutil_format("pool_size: %s", bad_pool[i]);
        expect_log_error(extra, "faro.yaml: logs[0].pool_size: must be a whole number from 1 to 10000000");
        free(extra);
    }
    expect_top_error("gateway:\n  threads: 0", "faro.yaml: gateway.threads: must be a whole number from 1 to 64");
    expect_top_error("gateway:\n  threads: 65", "faro.yaml: gateway.threads: must be a whole number from 1 to 64");
    static const char *const bad_rate[] = {"-1", "1000000.5", "1000001", ".5", "5.", "1e2", "01", "0.1234567891", "nan", "inf"};
    for (size_t i = 0; i < sizeof(bad_rate) / sizeof(bad_rate[0]); i++) {
        char *top = testutil_format("gateway:\n  rate_limits:\n    anonymous_rps: %s", bad_rate[i]);
        expect_top_error(top, "faro.yaml: gateway.rate_limits.anonymous_rps: must be a number from 0 to 1000000");
        free(top);
    }
}

static void test_config_booleans(void **state)
{
    (void)state;
    faro_config_t *c = parse_log("reject_expired: true\nreject_unexpired: false");
    assert_true(c->logs[0].reject_expired);
    assert_false(c->logs[0].reject_unexpired);
    faro_config_free(c);
    static const char *const bad[] = {"yes", "no", "on", "True", "TRUE", "1", "0", "\"true\"", "", "[true]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *extra = testutil_format("witness_greedy: %s", bad[i]);
        expect_log_error(extra, "faro.yaml: logs[0].witness_greedy: must be true or false");
        free(extra);
    }
    expect_log_error("witness_greedy: \"true\"", "must be true or false, written without quotes");
}

static void test_config_witness_mode(void **state)
{
    (void)state;
    faro_config_t *c = parse_log("witness_mode: fail-open");
    assert_true(c->logs[0].witness_fail_open);
    faro_config_free(c);
    c = parse_log("witness_mode: \"fail-closed\"");
    assert_false(c->logs[0].witness_fail_open);
    faro_config_free(c);
    expect_log_error("witness_mode: open", "faro.yaml: logs[0].witness_mode: must be fail-open or fail-closed");
    expect_log_error("witness_mode: \"\"", "logs[0].witness_mode: must be fail-open or fail-closed");
}

static void test_config_names(void **state)
{
    (void)state;
    static const char *const good[] = {"Log_2026.h1-a", "a", "0", "a..b",
                                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    static const char *const bad[] = {
        ".hidden", "a/b", "a b", "..", "\u00e9t\u00e9", "a+b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *extra = testutil_format("name: \"%s\"", good[i]);
        char *text = make_config("", extra, "name");
        faro_config_t *c = parse_ok(text);
        assert_string_equal(c->logs[0].name, good[i]);
        faro_config_free(c);
        free(text);
        free(extra);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *extra = testutil_format("name: \"%s\"", bad[i]);
        expect_replaced_error("name", extra,
                              "faro.yaml: logs[0].name: must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'");
        free(extra);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_prefixes),
        cmocka_unit_test(test_config_durations),
        cmocka_unit_test(test_config_duration_settings),
        cmocka_unit_test(test_config_times),
        cmocka_unit_test(test_config_lists),
        cmocka_unit_test(test_config_old_not_before),
        cmocka_unit_test(test_config_listen),
        cmocka_unit_test(test_config_numbers),
        cmocka_unit_test(test_config_booleans),
        cmocka_unit_test(test_config_witness_mode),
        cmocka_unit_test(test_config_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
