/* A log's trusted roots: the roots file, fetched bundles merged all or nothing, backups written first and loaded again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/unit/testpki.h"
#include "tests/unit/testutil.h"
#include "tlog/ctroots.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "writer/roots.h"

/* The roots file's root; a remote root with an intermediate and a leaf under it; a leaf that no bundle may carry. */
typedef struct pki {
    testpki_cert_t *file_root, *remote_root, *remote_inter, *remote_leaf, *stray_leaf;
    char roots_file[256];
} pki_t;

static int pki_setup(void **state)
{
    pki_t *pki = calloc(1, sizeof(*pki));
    if (pki == NULL || testutil_dir_setup(NULL) != 0)
        return -1;
    pki->file_root = testpki_root("faro roots test: file root");
    pki->remote_root = testpki_root("faro roots test: remote root");
    pki->remote_inter = testpki_intermediate("faro roots test: remote intermediate", pki->remote_root);
    pki->remote_leaf = testpki_leaf("leaf.remote.example", pki->remote_inter);
    pki->stray_leaf = testpki_leaf("stray.example", pki->remote_inter);
    snprintf(pki->roots_file, sizeof(pki->roots_file), "%s", testutil_path("roots.pem"));
    if (testpki_write_pem(pki->roots_file, &pki->file_root, 1) != 0)
        return -1;
    *state = pki;
    return 0;
}

static int pki_teardown(void **state)
{
    pki_t *pki = *state;
    testpki_free(pki->stray_leaf);
    testpki_free(pki->remote_leaf);
    testpki_free(pki->remote_inter);
    testpki_free(pki->remote_root);
    testpki_free(pki->file_root);
    free(pki);
    return testutil_dir_teardown(NULL);
}

static roots_t *open_roots(const pki_t *pki, const char *storage)
{
    roots_t *roots = NULL;
    char err[TLOG_ERR_MAX];
    if (roots_open(pki->roots_file, testutil_path(storage), &roots, err) != 0)
        fail_msg("roots_open: %s", err);
    return roots;
}

static int merge(roots_t *roots, testpki_cert_t *const *certs, size_t n, size_t *added, char *err)
{
    char *pem = testpki_pem(certs, n);
    int ret = roots_merge_pem(roots, pem, strlen(pem), added, err);
    free(pem);
    return ret;
}

static int validate_remote_leaf(roots_t *roots, const pki_t *pki)
{
    chain_request_t request = {.count = 2};
    request.ders[0] = pki->remote_leaf->der;
    request.lens[0] = pki->remote_leaf->der_len;
    request.ders[1] = pki->remote_inter->der;
    request.lens[1] = pki->remote_inter->der_len;
    static const chain_policy_t no_filters = {0};
    chain_result_t result;
    char err[TLOG_ERR_MAX];
    int ret = roots_validate(roots, &no_filters, 0, &request, time(NULL), &result, err);
    chain_result_free(&result);
    return ret;
}

/* storage/roots/<hex SHA-256 of the DER>.pem, in testutil_path's buffer. */
static char *backup_path(const char *storage, const testpki_cert_t *cert)
{
    tlog_hash_t hash;
    char hex[2 * TLOG_HASH_SIZE + 1], relative[256];
    tlog_sha256(cert->der, cert->der_len, &hash);
    tlog_hex_encode(hash.bytes, TLOG_HASH_SIZE, hex);
    snprintf(relative, sizeof(relative), "%s/%s/%s.pem", storage, TLOG_CTROOTS_DIR, hex);
    return testutil_path(relative);
}

static size_t json_count(roots_t *roots)
{
    size_t len;
    char *text = roots_json(roots, &len);
    json_t *json = json_loadb(text, len, 0, NULL);
    size_t n = json_array_size(json_object_get(json, "certificates"));
    json_decref(json);
    free(text);
    return n;
}

static void test_writer_roots_merge_backs_up_then_trusts(void **state)
{
    pki_t *pki = *state;
    char err[TLOG_ERR_MAX];
    size_t added;
    roots_t *roots = open_roots(pki, "merge");
    assert_int_equal(roots_count(roots), 1);
    assert_int_equal(validate_remote_leaf(roots, pki), CHAIN_REJECTED);

    testpki_cert_t *bundle[] = {pki->remote_root, pki->remote_inter, pki->file_root};
    assert_int_equal(merge(roots, bundle, 3, &added, err), 0);
    assert_int_equal(added, 2);
    assert_int_equal(roots_count(roots), 3);
    assert_int_equal(json_count(roots), 3);
    assert_int_equal(validate_remote_leaf(roots, pki), CHAIN_OK);
    struct stat st;
    assert_int_equal(stat(backup_path("merge", pki->remote_root), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0444);
    assert_int_equal(stat(backup_path("merge", pki->remote_inter), &st), 0);
    assert_int_equal(stat(backup_path("merge", pki->file_root), &st), -1); /* trusted already: not backed up */

    /* The same bundle again adds nothing; a later bundle without them removes nothing. */
    assert_int_equal(merge(roots, bundle, 3, &added, err), 0);
    assert_int_equal(added, 0);
    assert_int_equal(merge(roots, &pki->file_root, 1, &added, err), 0);
    assert_int_equal(roots_count(roots), 3);
    roots_free(roots);

    /* A restart (the URL unreachable) and a reload keep the backed-up roots. */
    roots = open_roots(pki, "merge");
    assert_int_equal(roots_count(roots), 3);
    assert_int_equal(validate_remote_leaf(roots, pki), CHAIN_OK);
    assert_int_equal(roots_reload(roots, err), 0);
    assert_int_equal(roots_count(roots), 3);
    roots_free(roots);
}

static void test_writer_roots_refuses_bad_bundles(void **state)
{
    pki_t *pki = *state;
    char err[TLOG_ERR_MAX];
    size_t added = 7;
    roots_t *roots = open_roots(pki, "bad");
    static const char garbage[] = "<html>502 Bad Gateway</html>\n";
    assert_int_equal(roots_merge_pem(roots, garbage, sizeof(garbage) - 1, &added, err), ROOTS_BUNDLE_INVALID);
    assert_int_equal(added, 0);
    testutil_assert_mentions(err, "no certificates");
    testpki_cert_t *with_leaf[] = {pki->remote_root, pki->stray_leaf};
    assert_int_equal(merge(roots, with_leaf, 2, &added, err), ROOTS_BUNDLE_INVALID);
    testutil_assert_mentions(err, "certificate 2 of the bundle");
    testutil_assert_mentions(err, "not a CA certificate");
    assert_int_equal(roots_count(roots), 1);
    assert_int_equal(access(testutil_path("bad/roots"), F_OK), -1);
    roots_free(roots);
}

/* A backup that cannot be written keeps the root untrusted; a corrupt backup is refused at open and reload. */
static void test_writer_roots_backup_failures(void **state)
{
    pki_t *pki = *state;
    char err[TLOG_ERR_MAX];
    size_t added;
    roots_t *roots = open_roots(pki, "blocked");
    assert_int_equal(tlog_durable_mkdirs(testutil_path("blocked"), err), 0);
    assert_int_equal(tlog_durable_write(testutil_path("blocked/roots"), "a file", 6, 0, err), 0);
    assert_int_equal(merge(roots, &pki->remote_root, 1, &added, err), ROOTS_BACKUP_FAILED);
    testutil_assert_mentions(err, "not a directory");
    assert_int_equal(roots_count(roots), 1);
    roots_free(roots);

    roots = open_roots(pki, "corrupt");
    assert_int_equal(merge(roots, &pki->remote_root, 1, &added, err), 0);
    char *path = backup_path("corrupt", pki->remote_root);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(tlog_durable_write(path, "not PEM\n", 8, 0, err), 0);
    assert_int_equal(roots_reload(roots, err), -1);
    testutil_assert_mentions(err, "remove it");
    assert_int_equal(roots_count(roots), 2);
    roots_free(roots);
    roots = NULL;
    assert_int_equal(roots_open(pki->roots_file, testutil_path("corrupt"), &roots, err), -1);
    testutil_assert_mentions(err, "backed-up root");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_roots_merge_backs_up_then_trusts),
        cmocka_unit_test(test_writer_roots_refuses_bad_bundles),
        cmocka_unit_test(test_writer_roots_backup_failures),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
