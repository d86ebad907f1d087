/* A log's set of roots: DER and PEM input, duplicates, the get-roots body, and loading the roots file with the backups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/unit/testpki.h"
#include "tests/unit/testutil.h"
#include "tlog/ctroots.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/hash.h"

/* Three self-signed roots, made once for every test. */
static testpki_cert_t *root_a, *root_b, *root_c;

static int make_roots(void **state)
{
    root_a = testpki_root("faro test root");
    root_b = testpki_root("faro test root B");
    root_c = testpki_root("faro test root C");
    return testutil_dir_setup(state);
}

static int free_roots(void **state)
{
    testpki_cert_t *all[] = {root_a, root_b, root_c};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        testpki_free(all[i]);
    return testutil_dir_teardown(state);
}

static void test_tlog_ctroots_set(void **state)
{
    (void)state;
    testpki_cert_t *bundle[] = {root_a, root_b, root_a};
    char path[4096];
    tlog_ctroots_t *roots;
    char err[TLOG_ERR_MAX];
    size_t len;

    snprintf(path, sizeof(path), "%s", testutil_path("set.pem"));
    assert_int_equal(testpki_write_pem(path, bundle, 3), 0);
    assert_int_equal(tlog_ctroots_load(path, testutil_path("no-storage"), &roots, err), 0);
    assert_int_equal(tlog_ctroots_count(roots), 2);
    const uint8_t *der = tlog_ctroots_der(roots, 1, &len);
    assert_int_equal(len, root_b->der_len);
    assert_memory_equal(der, root_b->der, len);
    assert_null(tlog_ctroots_der(roots, 2, &len));
    assert_null(tlog_ctroots_x509(roots, 2));
    size_t at;
    assert_int_equal(tlog_ctroots_find(roots, root_b->x509, &at), 1);
    assert_int_equal(at, 1);
    assert_int_equal(tlog_ctroots_find(roots, root_c->x509, &at), 0);
    assert_int_equal(tlog_ctroots_add_der(roots, root_b->der, root_b->der_len, err), 0);
    assert_int_equal(tlog_ctroots_count(roots), 2);

    char *json = tlog_ctroots_json(roots, &len);
    assert_int_equal(strlen(json), len);
    json_t *doc = json_loads(json, 0, NULL), *certs = json_object_get(doc, "certificates");
    assert_int_equal(json_object_size(doc), 1);
    assert_int_equal(json_array_size(certs), 2);
    for (size_t i = 0; i < 2; i++) {
        uint8_t buf[4096];
        size_t n;
        const char *b64 = json_string_value(json_array_get(certs, i));
        assert_int_equal(tlog_base64_decode(b64, strlen(b64), buf, sizeof(buf), &n), 0);
        assert_int_equal(n, bundle[i]->der_len);
        assert_memory_equal(buf, bundle[i]->der, n);
    }
    json_decref(doc);
    free(json);
    tlog_ctroots_free(roots);
    tlog_ctroots_free(NULL);

    assert_int_equal(tlog_ctroots_new(&roots, err), 0);
    json = tlog_ctroots_json(roots, &len);
    assert_string_equal(json, "{\"certificates\":[]}");
    free(json);
    static const char *bad[] = {
        "",
        "no PEM here\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tlog_ctroots_add_pem(roots, bad[i], strlen(bad[i]), err), -1);
        assert_int_equal(tlog_ctroots_count(roots), 0);
    }
    /* A bad block after a good one adds nothing. */
    char *pem = testpki_pem(bundle, 1);
    size_t pem_len = strlen(pem);
    pem = realloc(pem, pem_len + strlen(bad[2]) + 1);
    strcpy(pem + pem_len, bad[2]);
    assert_int_equal(tlog_ctroots_add_pem(roots, pem, strlen(pem), err), -1);
    assert_string_equal(err, "roots: PEM block 2 (CERTIFICATE) is not a DER certificate");
    assert_int_equal(tlog_ctroots_count(roots), 0);
    assert_int_equal(tlog_ctroots_add_pem(roots, pem, pem_len, err), 0);
    assert_int_equal(tlog_ctroots_count(roots), 1);
    assert_int_equal(tlog_ctroots_add_der(roots, (const uint8_t *)"\x30\x00", 2, err), -1);
    free(pem);
    tlog_ctroots_free(roots);

    assert_int_equal(tlog_ctroots_load("/nonexistent/roots.pem", testutil_path("no-storage"), &roots, err), -1);
    assert_non_null(strstr(err, "/nonexistent/roots.pem: cannot open"));
    assert_int_equal(tlog_durable_write(path, "", 0, 0, err), 0);
    assert_int_equal(tlog_ctroots_load(path, testutil_path("no-storage"), &roots, err), -1);
    assert_non_null(strstr(err, "no certificates"));
}

/* Writes cert as a backup under storage, named as faro-writer names it (or as name). */
static void write_backup(const char *storage, testpki_cert_t *cert, const char *name)
{
    tlog_hash_t hash;
    char hex[2 * TLOG_HASH_SIZE + 1], err[TLOG_ERR_MAX];
    tlog_sha256(cert->der, cert->der_len, &hash);
    tlog_hex_encode(hash.bytes, TLOG_HASH_SIZE, hex);
    char *dir = testutil_format("%s/%s", storage, TLOG_CTROOTS_DIR);
    char *path = name != NULL ? testutil_format("%s/%s", dir, name) : testutil_format("%s/%s.pem", dir, hex);
    char *pem = testpki_pem(&cert, 1);
    assert_int_equal(tlog_durable_mkdirs(dir, err), 0);
    assert_int_equal(tlog_durable_write(path, pem, strlen(pem), 0, err), 0);
    free(pem);
    free(path);
    free(dir);
}

/* The roots file first, then each backup; other names in the folder are not backups. */
static void test_tlog_ctroots_load_backups(void **state)
{
    (void)state;
    char roots_file[4096], storage[4096], err[TLOG_ERR_MAX];
    tlog_ctroots_t *roots;
    size_t len, at;

    snprintf(roots_file, sizeof(roots_file), "%s", testutil_path("file.pem"));
    snprintf(storage, sizeof(storage), "%s", testutil_path("storage"));
    assert_int_equal(testpki_write_pem(roots_file, &root_a, 1), 0);
    write_backup(storage, root_b, NULL);
    write_backup(storage, root_a, NULL); /* also in the file: listed once */
    write_backup(storage, root_c, "not-a-backup.pem");
    write_backup(storage, root_c, "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789.pem");

    assert_int_equal(tlog_ctroots_load(roots_file, storage, &roots, err), 0);
    assert_int_equal(tlog_ctroots_count(roots), 2);
    const uint8_t *der = tlog_ctroots_der(roots, 0, &len);
    assert_int_equal(len, root_a->der_len);
    assert_memory_equal(der, root_a->der, len);
    assert_int_equal(tlog_ctroots_find(roots, root_b->x509, &at), 1);
    assert_int_equal(tlog_ctroots_find(roots, root_c->x509, &at), 0);
    tlog_ctroots_free(roots);

    /* A backup that does not parse is refused, by name. */
    char *bad = testutil_format("%s/%s/%064d.pem", storage, TLOG_CTROOTS_DIR, 0);
    assert_int_equal(tlog_durable_write(bad, "not PEM\n", 8, 0, err), 0);
    assert_int_equal(tlog_ctroots_load(roots_file, storage, &roots, err), -1);
    testutil_assert_mentions(err, "backed-up root");
    testutil_assert_mentions(err, bad + strlen(storage));
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_ctroots_set),
        cmocka_unit_test(test_tlog_ctroots_load_backups),
    };
    return cmocka_run_group_tests(tests, make_roots, free_roots);
}
