/* faro.yaml as a whole: defaults, a full file, the example file, keys (unknown, missing, repeated), paths, YAML refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "tests/unit/config_text.h"
#include "tlog/error.h"

static const char full_example[] = "writer:\n"
                                   "  listen: \"127.0.0.1:7962\"\n"
                                   "  lock_db: \"/var/lib/faro/lock.db\"\n"
                                   "gateway:\n"
                                   "  listen: \"[::1]:7963\"\n"
                                   "  admin_listen: \"localhost:7964\"\n"
                                   "  threads: 4\n"
                                   "  tls_cert: \"tls/cert.pem\"\n"
                                   "  tls_key: \"tls/key.pem\"\n"
                                   "  proxy_submissions: true\n"
                                   "  rate_limits:\n"
                                   "    anonymous_rps: 12.5\n"
                                   "    anonymous_burst: 20\n"
                                   "    per_client_rps: 300\n"
                                   "    partial_tile_rps: 0\n"
                                   "    partial_tile_grace: \"1m30s\"\n"
                                   "  heavy_hitters: 50\n"
                                   "  health_max_age: \"250ms\"\n"
                                   "  file_cache_mib: 8\n"
                                   "  index_dir: \"/var/lib/faro-gateway\"\n"
                                   "logs:\n"
                                   "  - name: \"testlog\"\n"
                                   "    submission_prefix: \"https://ct.example.org/2026h1/\"\n"
                                   "    monitoring_prefix: \"https://mon.example.org:8443/2026h1\"\n"
                                   "    key: \"keys/testlog.ecdsa.pem\"\n"
                                   "    ed25519_key: \"/keys/testlog.ed25519.pem\"\n"
                                   "    roots: \"roots.pem\"\n"
                                   "    storage: \"data/testlog\"\n"
                                   "    sequence_interval: \"200ms\"\n"
                                   "    pool_size: 750\n"
                                   "    not_after_start: \"2026-01-01T00:00:00Z\"\n"
                                   "    not_after_limit: \"2026-07-01T00:00:00Z\"\n"
                                   "    reject_expired: true\n"
                                   "    reject_unexpired: false\n"
                                   "    ext_key_usages: [ServerAuth, ClientAuth]\n"
                                   "    reject_extensions:\n"
                                   "      - \"1.3.6.1.4.1.11129.2.4.3\"\n"
                                   "    accept_sha1_signing_algorithms: true\n"
                                   "    rate_limit_old_not_before: \"28h:500\"\n"
                                   "    checkpoint_republish_interval: \"2s\"\n"
                                   "    roots_remote_fetch_url: \"https://ccadb.example/roots.pem?format=pem\"\n"
                                   "    roots_remote_fetch_interval: \"6h\"\n"
                                   "    witness_policy: \"witness.policy\"\n"
                                   "    witness_timeout: \"3s\"\n"
                                   "    witness_mode: \"fail-open\"\n"
                                   "    witness_greedy: true\n"
                                   "  - name: \"second\"\n"
                                   "    submission_prefix: \"http://127.0.0.1:6962/second\"\n"
                                   "    monitoring_prefix: \"http://127.0.0.1:6963/second\"\n"
                                   "    key: k2.pem\n"
                                   "    ed25519_key: e2.pem\n"
                                   "    roots: roots.pem\n"
                                   "    storage: data/second\n";

static void test_config_defaults(void **state)
{
    (void)state;
    faro_config_t *c = parse_log("");
    const faro_log_config_t *log = &c->logs[0];

    assert_string_equal(c->path, NAME);
    assert_string_equal(c->writer.listen, "127.0.0.1:6962");
    assert_string_equal(c->writer.lock_db, BASE "/state/lock.db");
    assert_string_equal(c->gateway.listen, "127.0.0.1:6963");
    assert_string_equal(c->gateway.admin_listen, "127.0.0.1:6964");
    assert_int_equal(c->gateway.threads, 2);
    assert_null(c->gateway.tls_cert);
    assert_null(c->gateway.tls_key);
    assert_false(c->gateway.proxy_submissions);
    assert_true(c->gateway.anonymous_rps == 75);
    assert_int_equal(c->gateway.anonymous_burst, 10);
    assert_true(c->gateway.per_client_rps == 0);
    assert_true(c->gateway.partial_tile_rps == 75);
    assert_int_equal(c->gateway.partial_tile_grace_ms, 60000);
    assert_int_equal(c->gateway.heavy_hitters, 100);
    assert_int_equal(c->gateway.health_max_age_ms, 5000);
    assert_int_equal(c->gateway.file_cache_mib, 64);
    assert_int_equal(c->gateway.open_tiles, 8192);
    assert_string_equal(c->gateway.index_dir, BASE "/state/gateway");
    assert_int_equal(c->logs_count, 1);
    assert_string_equal(log->name, "testlog");
    assert_string_equal(log->submission_prefix, "http://127.0.0.1:6962/testlog");
    assert_string_equal(log->monitoring_prefix, "http://127.0.0.1:6963/testlog");
    assert_string_equal(log->origin, "127.0.0.1:6962/testlog");
    assert_string_equal(log->key, BASE "/keys/testlog.ecdsa.pem");
    assert_string_equal(log->ed25519_key, BASE "/keys/testlog.ed25519.pem");
    assert_string_equal(log->roots, BASE "/roots.pem");
    assert_string_equal(log->storage, BASE "/data/testlog");
    assert_int_equal(log->sequence_interval_ms, 1000);
    assert_int_equal(log->pool_size, 4000);
    assert_false(log->has_not_after_start);
    assert_false(log->has_not_after_limit);
    assert_false(log->reject_expired);
    assert_false(log->reject_unexpired);
    assert_int_equal(log->ext_key_usages_count, 0);
    assert_int_equal(log->reject_extensions_count, 0);
    assert_false(log->accept_sha1_signing_algorithms);
    assert_int_equal(log->rate_limit_old_not_before_age_ms, 0);
    assert_int_equal(log->rate_limit_old_not_before_rate, 0);
    assert_int_equal(log->checkpoint_republish_interval_ms, 1000);
    assert_null(log->roots_remote_fetch_url);
    assert_int_equal(log->roots_remote_fetch_interval_ms, 3600000);
    assert_null(log->witness_policy);
    assert_int_equal(log->witness_timeout_ms, 1000);
    assert_false(log->witness_fail_open);
    assert_false(log->witness_greedy);
    faro_config_free(c);
}

static void test_config_full_example(void **state)
{
    (void)state;
    faro_config_t *c = parse_ok(full_example);
    const faro_log_config_t *log = &c->logs[0];

    assert_string_equal(c->writer.listen, "127.0.0.1:7962");
    assert_string_equal(c->writer.lock_db, "/var/lib/faro/lock.db");
    assert_string_equal(c->gateway.listen, "[::1]:7963");
    assert_string_equal(c->gateway.admin_listen, "localhost:7964");
    assert_int_equal(c->gateway.threads, 4);
    assert_string_equal(c->gateway.tls_cert, BASE "/tls/cert.pem");
    assert_string_equal(c->gateway.tls_key, BASE "/tls/key.pem");
    assert_true(c->gateway.proxy_submissions);
    assert_true(c->gateway.anonymous_rps == 12.5);
    assert_int_equal(c->gateway.anonymous_burst, 20);
    assert_true(c->gateway.per_client_rps == 300);
    assert_true(c->gateway.partial_tile_rps == 0);
    assert_int_equal(c->gateway.partial_tile_grace_ms, 90000);
    assert_int_equal(c->gateway.heavy_hitters, 50);
    assert_int_equal(c->gateway.health_max_age_ms, 250);
    assert_int_equal(c->gateway.file_cache_mib, 8);
    assert_string_equal(c->gateway.index_dir, "/var/lib/faro-gateway");
    assert_int_equal(c->logs_count, 2);
    assert_string_equal(log->submission_prefix, "https://ct.example.org/2026h1");
    assert_string_equal(log->monitoring_prefix, "https://mon.example.org:8443/2026h1");
    assert_string_equal(log->origin, "ct.example.org/2026h1");
    assert_string_equal(log->ed25519_key, "/keys/testlog.ed25519.pem");
    assert_int_equal(log->sequence_interval_ms, 200);
    assert_int_equal(log->pool_size, 750);
    assert_true(log->has_not_after_start && log->has_not_after_limit);
    assert_int_equal(log->not_after_start, 1767225600);
    assert_int_equal(log->not_after_limit, 1782864000);
    assert_true(log->reject_expired);
    assert_false(log->reject_unexpired);
    assert_int_equal(log->ext_key_usages_count, 2);
    assert_string_equal(log->ext_key_usages[0], "ServerAuth");
    assert_string_equal(log->ext_key_usages[1], "ClientAuth");
    assert_int_equal(log->reject_extensions_count, 1);
    assert_string_equal(log->reject_extensions[0], "1.3.6.1.4.1.11129.2.4.3");
    assert_true(log->accept_sha1_signing_algorithms);
    assert_int_equal(log->rate_limit_old_not_before_age_ms, 28 * 3600000ull);
    assert_int_equal(log->rate_limit_old_not_before_rate, 500);
    assert_int_equal(log->checkpoint_republish_interval_ms, 2000);
    assert_string_equal(log->roots_remote_fetch_url, "https://ccadb.example/roots.pem?format=pem");
    assert_int_equal(log->roots_remote_fetch_interval_ms, 6 * 3600000ull);
    assert_string_equal(log->witness_policy, BASE "/witness.policy");
    assert_int_equal(log->witness_timeout_ms, 3000);
    assert_true(log->witness_fail_open);
    assert_true(log->witness_greedy);
    assert_string_equal(c->logs[1].name, "second");
    assert_string_equal(c->logs[1].key, BASE "/k2.pem");
    assert_string_equal(c->logs[1].origin, "127.0.0.1:6962/second");
    faro_config_free(c);
}

static faro_config_t *load_example(void)
{
    faro_config_t *config = NULL;
    char err[TLOG_ERR_MAX] = "";
    if (faro_config_load(FARO_EXAMPLE_CONFIG, &config, err) != 0)
        fail_msg("%s", err);
    return config;
}

static void test_config_example_file_loads(void **state)
{
    (void)state;
    faro_config_t *c = load_example();
    char *dir = realpath(FARO_EXAMPLE_CONFIG, NULL), *want;

    assert_non_null(dir);
    *strrchr(dir, '/') = '\0';
    want = testutil_format("%s/state/lock.db", dir);
    assert_string_equal(c->writer.lock_db, want);
    free(want);
    want = testutil_format("%s/state/gateway", dir);
    assert_string_equal(c->gateway.index_dir, want);
    assert_string_equal(c->path, FARO_EXAMPLE_CONFIG);
    assert_int_equal(c->logs_count, 1);
    free(want);
    free(dir);
    faro_config_free(c);
}

/* Dotted paths of the keys in a YAML file written in block style, one key per line ("logs[].pool_size"). */
static size_t example_keys(char keys[][128], size_t cap)
{
    FILE *f = fopen(FARO_EXAMPLE_CONFIG, "r");
    struct {
        int indent, is_list;
        char name[64];
    } stack[8];
    size_t depth = 0, n = 0;
    char line[512];

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        int indent = (int)strspn(line, " "), dash = 0;
        char *key = line + indent, *colon;
        if (*key == '#' || *key == '\n' || *key == '\0')
            continue;
        if (key[0] == '-' && key[1] == ' ') {
            dash = 1;
            indent += 2;
            key += 2;
        }
        colon = strchr(key, ':');
        assert_non_null(colon);
        while (depth > 0 && stack[depth - 1].indent >= indent)
            depth--;
        if (dash) {
            assert_true(depth > 0);
            stack[depth - 1].is_list = 1;
        }
        assert_true(depth < 8 && n < cap);
        stack[depth].indent = indent;
        stack[depth].is_list = 0;
        snprintf(stack[depth].name, sizeof(stack[depth].name), "%.*s", (int)(colon - key), key);
        depth++;
        keys[n][0] = '\0';
        for (size_t i = 0; i < depth; i++) {
            size_t len = strlen(keys[n]);
            snprintf(keys[n] + len, 128 - len, "%s%s%s", i > 0 ? "." : "", stack[i].name, stack[i].is_list ? "[]" : "");
        }
        n++;
    }
    fclose(f);
    return n;
}

static void test_config_example_lists_every_key(void **state)
{
    (void)state;
    static char keys[128][128];
    size_t n = example_keys(keys, 128), known = 0;

    for (const char *key; (key = faro_config_known_key(known)) != NULL; known++) {
        size_t i = 0;
        while (i < n && strcmp(keys[i], key) != 0)
            i++;
        if (i == n)
            fail_msg("configs/faro.example.yaml lacks %s", key);
    }
    /* Loading refuses unknown keys, so the file lists nothing else; each key once. */
    assert_int_equal(n, known);
    assert_string_equal(faro_config_known_key(0), "writer");
    assert_null(faro_config_known_key(known));
}

/* The example sets every setting to its default: it must equal a file with only the required keys. */
static void test_config_example_shows_defaults(void **state)
{
    (void)state;
    faro_config_t *ex = load_example(), *min = parse_log("");
    const faro_log_config_t *a = &ex->logs[0], *b = &min->logs[0];

    assert_string_equal(ex->writer.listen, min->writer.listen);
    assert_string_equal(ex->gateway.listen, min->gateway.listen);
    assert_string_equal(ex->gateway.admin_listen, min->gateway.admin_listen);
    assert_int_equal(ex->gateway.threads, min->gateway.threads);
    assert_null(ex->gateway.tls_cert);
    assert_null(ex->gateway.tls_key);
    assert_int_equal(ex->gateway.proxy_submissions, min->gateway.proxy_submissions);
    assert_true(ex->gateway.anonymous_rps == min->gateway.anonymous_rps);
    assert_int_equal(ex->gateway.anonymous_burst, min->gateway.anonymous_burst);
    assert_true(ex->gateway.per_client_rps == min->gateway.per_client_rps);
    assert_true(ex->gateway.partial_tile_rps == min->gateway.partial_tile_rps);
    assert_int_equal(ex->gateway.partial_tile_grace_ms, min->gateway.partial_tile_grace_ms);
    assert_int_equal(ex->gateway.heavy_hitters, min->gateway.heavy_hitters);
    assert_int_equal(ex->gateway.health_max_age_ms, min->gateway.health_max_age_ms);
    assert_int_equal(ex->gateway.file_cache_mib, min->gateway.file_cache_mib);
    assert_int_equal(ex->gateway.open_tiles, min->gateway.open_tiles);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->submission_prefix, b->submission_prefix);
    assert_string_equal(a->monitoring_prefix, b->monitoring_prefix);
    assert_int_equal(a->sequence_interval_ms, b->sequence_interval_ms);
    assert_int_equal(a->pool_size, b->pool_size);
    assert_int_equal(a->has_not_after_start, b->has_not_after_start);
    assert_int_equal(a->has_not_after_limit, b->has_not_after_limit);
    assert_int_equal(a->reject_expired, b->reject_expired);
    assert_int_equal(a->reject_unexpired, b->reject_unexpired);
    assert_int_equal(a->ext_key_usages_count, b->ext_key_usages_count);
    assert_int_equal(a->reject_extensions_count, b->reject_extensions_count);
    assert_int_equal(a->accept_sha1_signing_algorithms, b->accept_sha1_signing_algorithms);
    assert_int_equal(a->rate_limit_old_not_before_rate, b->rate_limit_old_not_before_rate);
    assert_int_equal(a->checkpoint_republish_interval_ms, b->checkpoint_republish_interval_ms);
    assert_null(a->roots_remote_fetch_url);
    assert_int_equal(a->roots_remote_fetch_interval_ms, b->roots_remote_fetch_interval_ms);
    assert_null(a->witness_policy);
    assert_int_equal(a->witness_timeout_ms, b->witness_timeout_ms);
    assert_int_equal(a->witness_fail_open, b->witness_fail_open);
    assert_int_equal(a->witness_greedy, b->witness_greedy);
    faro_config_free(ex);
    faro_config_free(min);
}

static void test_config_message_format(void **state)
{
    (void)state;
    char *text = make_config("", "pool_size: 0", NULL);
    faro_config_t *config = NULL;
    char err[TLOG_ERR_MAX] = "";

    assert_int_equal(faro_config_parse(text, strlen(text), NAME, BASE, &config, err), -1);
    assert_string_equal(err, "faro.yaml: logs[0].pool_size: must be a whole number from 1 to 10000000");
    free(text);
}

static void test_config_unknown_key(void **state)
{
    (void)state;
    expect_top_error("writers:\n  listen: \"127.0.0.1:1\"", "faro.yaml: writers: unknown key");
    expect_top_error("writer:\n  listn: \"127.0.0.1:1\"", "faro.yaml: writer.listn: unknown key");
    expect_top_error("gateway:\n  rate_limits:\n    anon: 1", "faro.yaml: gateway.rate_limits.anon: unknown key");
    expect_top_error("gateway:\n  anonymous_rps: 1", "faro.yaml: gateway.anonymous_rps: unknown key");
    expect_log_error("pool_sise: 10", "faro.yaml: logs[0].pool_sise: unknown key");
    expect_top_error("writer.listen: \"127.0.0.1:1\"", "faro.yaml: writer.listen: unknown key");
    expect_top_error("logs[].name: x", "faro.yaml: logs[].name: unknown key");
    expect_top_error("gateway:\n  rate_limits.anonymous_rps: 1", "faro.yaml: gateway.rate_limits.anonymous_rps: unknown key");
    expect_log_error("\"bad\\x01key\": 1", "logs[0].bad?key: unknown key");
    expect_log_error("? [a, b]\n: 1", "logs[0]: a key is a list; keys must be names");
}

static void test_config_wrong_type(void **state)
{
    (void)state;
    expect_top_error("writer: \"x\"", "writer: must be a mapping, not a single value");
    expect_top_error("writer:\n  listen:\n    host: x", "writer.listen: must be \"host:port\"");
    expect_top_error("gateway:\n  threads: [1]", "gateway.threads: must be a whole number from 1 to 64, not a list");
    expect_top_error("gateway:\n  threads: \"2\"", "gateway.threads: must be a whole number from 1 to 64, written without quotes");
    expect_log_error("pool_size: {a: 1}", "logs[0].pool_size: must be a whole number from 1 to 10000000, not a mapping");
    expect_log_error("ext_key_usages: ServerAuth", "logs[0].ext_key_usages: must be a list of extended key usages");
    expect_log_error("ext_key_usages: [[ServerAuth]]", "logs[0].ext_key_usages[0]: must be a list of extended key usages");
    expect_replaced_error("name", "name: [a]",
                          "logs[0].name: must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.', not a list");
    expect_error("logs: \"testlog\"\n", "faro.yaml: logs: must be a list of logs, not a single value");
    expect_error("logs:\n  - \"testlog\"\n", "faro.yaml: logs[0]: must be a mapping of a log's settings, not a single value");
    expect_error("- a\n- b\n", "faro.yaml: the top level must be a mapping of sections, not a list");
    expect_error("just text\n", "faro.yaml: the top level must be a mapping of sections, not a single value");
}

static void test_config_missing_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < NREQUIRED; i++) {
        char *text = make_config("", "pool_size: 10", required[i][0]);
        char *want = testutil_format("faro.yaml: logs[0].%s: required key is missing", required[i][0]);
        expect_error(text, want);
        free(want);
        free(text);
    }
    expect_replaced_error("name", "name: \"\"", "faro.yaml: logs[0].name: must not be empty");
    expect_replaced_error("storage", "storage:", "faro.yaml: logs[0].storage: must not be empty");
    expect_replaced_error("submission_prefix", "submission_prefix: ~", "faro.yaml: logs[0].submission_prefix: must not be empty");
    expect_top_error("writer:\n  lock_db: \"\"", "writer.lock_db: must not be empty");
}

static void test_config_duplicate_key(void **state)
{
    (void)state;
    expect_log_error("pool_size: 10\npool_size: 10", "faro.yaml: logs[0].pool_size: duplicate key");
    expect_log_error("name: \"again\"", "faro.yaml: logs[0].name: duplicate key");
    expect_top_error("gateway:\n  threads: 1\ngateway:\n  threads: 2", "faro.yaml: gateway: duplicate key");
    expect_top_error("gateway:\n  rate_limits: {anonymous_rps: 1, anonymous_rps: 2}",
                     "faro.yaml: gateway.rate_limits.anonymous_rps: duplicate key");
}

/* Two logs; the second's lines given, each key in it overriding log two's defaults. */
static char *two_logs(const char *name, const char *prefix, const char *storage)
{
    return testutil_format("logs:\n"
                           "  - {name: a, submission_prefix: \"http://h/a\", monitoring_prefix: \"http://h/a\", key: k, "
                           "ed25519_key: e, roots: r, storage: s/a}\n"
                           "  - {name: %s, submission_prefix: \"%s\", monitoring_prefix: \"http://h/b\", key: k, "
                           "ed25519_key: e, roots: r, storage: %s}\n",
                           name, prefix, storage);
}

static void test_config_duplicate_logs(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {"b", "http://h/b", "s/b", NULL},
        {"a", "http://h/b", "s/b", "faro.yaml: logs[1].name: \"a\" is also the name of logs[0]"},
        {"b", "https://h/a/", "s/b", "faro.yaml: logs[1].submission_prefix: origin \"h/a\" is also the origin of logs[0]"},
        {"b", "http://h/b", "s/a", "faro.yaml: logs[1].storage: \"" BASE "/s/a\" is also the storage of logs[0]"},
        {"b", "http://h/b", BASE "/s/a", "faro.yaml: logs[1].storage: \"" BASE "/s/a\" is also the storage of logs[0]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = two_logs(cases[i][0], cases[i][1], cases[i][2]);
        if (cases[i][3] == NULL)
            faro_config_free(parse_ok(text));
        else
            expect_error(text, cases[i][3]);
        free(text);
    }
}

static void test_config_optional_strings_unset(void **state)
{
    (void)state;
    char *text =
        make_config("gateway:\n  tls_cert: \"\"\n  tls_key: ~",
                    "witness_policy: \"\"\nroots_remote_fetch_url:\nnot_after_start: \"\"\nrate_limit_old_not_before: \"\"", NULL);
    faro_config_t *c = parse_ok(text);
    assert_null(c->gateway.tls_cert);
    assert_null(c->gateway.tls_key);
    assert_null(c->logs[0].witness_policy);
    assert_null(c->logs[0].roots_remote_fetch_url);
    assert_false(c->logs[0].has_not_after_start);
    assert_int_equal(c->logs[0].rate_limit_old_not_before_rate, 0);
    faro_config_free(c);
    free(text);
    /* An empty section, and an empty file section by section. */
    c = parse_log("");
    faro_config_free(c);
    text = make_config("writer:\ngateway:\n  rate_limits:", "", NULL);
    c = parse_ok(text);
    assert_string_equal(c->writer.listen, "127.0.0.1:6962");
    faro_config_free(c);
    free(text);
}

static void test_config_tls_pair(void **state)
{
    (void)state;
    expect_top_error("gateway:\n  tls_cert: cert.pem", "faro.yaml: gateway.tls_key: must be set together with gateway.tls_cert");
    expect_top_error("gateway:\n  tls_key: key.pem", "faro.yaml: gateway.tls_cert: must be set together with gateway.tls_key");
}

static void test_config_no_logs(void **state)
{
    (void)state;
    expect_error("writer:\n  listen: \"127.0.0.1:1\"\n", "faro.yaml: logs: required key is missing");
    expect_error("logs: []\n", "faro.yaml: logs: at least one log is required");
    expect_error("logs:\n", "faro.yaml: logs: at least one log is required");
    expect_error("", "faro.yaml: logs: required key is missing");
    expect_error("# only a comment\n", "faro.yaml: logs: required key is missing");
}

static void test_config_relative_paths(void **state)
{
    (void)state;
    char *text = make_config("writer:\n  lock_db: /abs/lock.db\ngateway:\n  tls_cert: c.pem\n  tls_key: ./tls/k.pem",
                             "witness_policy: ../policies/w.policy", "storage");
    char *full = testutil_format("%s    storage: /srv/ct/testlog\n", text);
    faro_config_t *c = parse_ok(full), *raw = NULL;
    char err[TLOG_ERR_MAX];

    assert_string_equal(c->writer.lock_db, "/abs/lock.db");
    assert_string_equal(c->gateway.tls_cert, BASE "/c.pem");
    assert_string_equal(c->gateway.tls_key, BASE "/./tls/k.pem");
    assert_string_equal(c->logs[0].witness_policy, BASE "/../policies/w.policy");
    assert_string_equal(c->logs[0].storage, "/srv/ct/testlog");
    assert_string_equal(c->logs[0].roots, BASE "/roots.pem");
    faro_config_free(c);

    /* A base with a trailing slash, none, and "" (none). */
    assert_int_equal(faro_config_parse(full, strlen(full), NULL, "/x/", &raw, err), 0);
    assert_string_equal(raw->logs[0].roots, "/x/roots.pem");
    assert_null(raw->path);
    faro_config_free(raw);
    assert_int_equal(faro_config_parse(full, strlen(full), NAME, NULL, &raw, err), 0);
    assert_string_equal(raw->logs[0].roots, "roots.pem");
    assert_string_equal(raw->gateway.tls_key, "./tls/k.pem");
    faro_config_free(raw);
    assert_int_equal(faro_config_parse(full, strlen(full), NAME, "", &raw, err), 0);
    assert_string_equal(raw->writer.lock_db, "/abs/lock.db");
    assert_string_equal(raw->logs[0].key, "keys/testlog.ecdsa.pem");
    faro_config_free(raw);
    free(full);
    free(text);
}

/* A key pasted where its path belongs is refused without being repeated in the message (which the daemons log). */
static void test_config_path_not_contents(void **state)
{
    (void)state;
    const char *secret = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5hZIl9YYkxwyi";
    const char *cases[][2] = {
        {"key", "key: \"-----BEGIN PRIVATE KEY-----\\n%s\\n-----END PRIVATE KEY-----\\n\""},
        {"key", "key: |\n      -----BEGIN PRIVATE KEY-----\n      %s\n      -----END PRIVATE KEY-----"},
        {"ed25519_key", "ed25519_key: \"-----BEGIN PRIVATE KEY----- %s -----END PRIVATE KEY-----\""},
        {"roots", "roots: \"roots.pem\\n%s\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *line = testutil_format(cases[i][1], secret), *text = make_config("", line, cases[i][0]);
        char *want = testutil_format("faro.yaml: logs[0].%s: must be the path of a file, not its contents", cases[i][0]);
        faro_config_t *config = NULL;
        char err[TLOG_ERR_MAX] = "";
        assert_int_equal(faro_config_parse(text, strlen(text), NAME, BASE, &config, err), -1);
        testutil_assert_mentions(err, want);
        assert_null(strstr(err, secret));
        assert_null(strstr(err, "MIGH"));
        free(want);
        free(text);
        free(line);
    }
    expect_top_error("gateway:\n  tls_cert: c.pem\n  tls_key: \"-----BEGIN EC PRIVATE KEY-----\"",
                     "faro.yaml: gateway.tls_key: must be the path of a file, not its contents");
}

static void test_config_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/faro-config-XXXXXX", *path, *sub, *rel, *text = make_config("", "", NULL), *want, *cwd;
    faro_config_t *c = NULL;
    char err[TLOG_ERR_MAX];
    FILE *f;

    assert_non_null(mkdtemp(dir));
    sub = testutil_format("%s/etc", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    path = testutil_format("%s/faro.yaml", sub);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);

    assert_int_equal(faro_config_load(path, &c, err), 0);
    want = testutil_format("%s/keys/testlog.ecdsa.pem", sub);
    assert_string_equal(c->logs[0].key, want);
    assert_string_equal(c->path, path);
    faro_config_free(c);

    /* A relative path to the file resolves against its directory, made absolute. */
    cwd = getcwd(NULL, 0);
    assert_int_equal(chdir(dir), 0);
    rel = "etc/../etc/faro.yaml";
    assert_int_equal(faro_config_load(rel, &c, err), 0);
    assert_string_equal(c->logs[0].key, want);
    faro_config_free(c);
    assert_int_equal(chdir(sub), 0);
    assert_int_equal(faro_config_load("faro.yaml", &c, err), 0);
    assert_string_equal(c->logs[0].key, want);
    faro_config_free(c);
    assert_int_equal(chdir(cwd), 0);

    assert_int_equal(faro_config_load(sub, &c, err), -1);
    assert_null(c);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(faro_config_load(path, &c, err), -1);
    assert_non_null(strstr(err, "cannot open"));
    assert_non_null(strstr(err, path));
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);
    free(cwd);
    free(want);
    free(path);
    free(sub);
    free(text);
}

static void test_config_yaml_refusals(void **state)
{
    (void)state;
    expect_log_error("pool_size: &n 10\nwitness_timeout: *n",
                     "faro.yaml: line 9, column 16: YAML anchors (&name) are not supported");
    expect_error("defaults: &d {}\nlogs: *d\n", "YAML anchors (&name) are not supported");
    expect_error("logs: *d\n", "faro.yaml: line 1");
    expect_log_error("pool_size: !!int 10", "YAML tags (!tag) are not supported");
    expect_error("logs: []\n---\nlogs: []\n",
                 "faro.yaml: line 2, column 1: a second YAML document; the file must hold exactly one");
    expect_error("writer: {listen: \"a:1\"\n", "faro.yaml: line 2, column 1: did not find expected ',' or '}'");
    expect_error("writer:\n  listen: \"a:1\n", "faro.yaml: line 3");
    expect_error("a: [[[[[[[[[[1]]]]]]]]]]\n", "lists and mappings nest too deep");
    expect_error_n("logs:\n  - name: \"a\\0b\"\n", 22, "faro.yaml: line 2, column 11: a value holds a NUL byte");
    expect_error_n("logs: []\0", 9, "faro.yaml: line 1");
    expect_error("\t- a\n", "faro.yaml: line 1");
}

static void test_config_free_null(void **state)
{
    (void)state;
    faro_config_free(NULL);
    assert_null(faro_config_known_key((size_t)-1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_full_example),
        cmocka_unit_test(test_config_example_file_loads),
        cmocka_unit_test(test_config_example_lists_every_key),
        cmocka_unit_test(test_config_example_shows_defaults),
        cmocka_unit_test(test_config_message_format),
        cmocka_unit_test(test_config_unknown_key),
        cmocka_unit_test(test_config_wrong_type),
        cmocka_unit_test(test_config_missing_key),
        cmocka_unit_test(test_config_duplicate_key),
        cmocka_unit_test(test_config_duplicate_logs),
        cmocka_unit_test(test_config_optional_strings_unset),
        cmocka_unit_test(test_config_tls_pair),
        cmocka_unit_test(test_config_no_logs),
        cmocka_unit_test(test_config_relative_paths),
        cmocka_unit_test(test_config_path_not_contents),
        cmocka_unit_test(test_config_load_file),
        cmocka_unit_test(test_config_yaml_refusals),
        cmocka_unit_test(test_config_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
