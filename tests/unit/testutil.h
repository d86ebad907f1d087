/*
 * Test helpers every unit test binary links: a scratch directory on the real
 * file system, formatted strings, and checks on error messages. Failures fail
 * the running test through cmocka.
 *
 * The scratch directory is one per process at a time: testutil_dir_setup and
 * testutil_dir_teardown are cmocka setup and teardown functions, for a whole
 * group (cmocka_run_group_tests) or for each test
 * (cmocka_unit_test_setup_teardown); the state argument is not used.
 */
#ifndef FARO_TEST_TESTUTIL_H
#define FARO_TEST_TESTUTIL_H

/* Makes a fresh directory /tmp/faro-<program>-XXXXXX; -1 if it cannot. */
int testutil_dir_setup(void **state);
/* Removes the directory and everything in it (without following links); nonzero if anything stays. */
int testutil_dir_teardown(void **state);
/* The directory made by the last testutil_dir_setup. */
const char *testutil_dir(void);
/* testutil_dir()/name, in a static buffer that the next call overwrites. */
char *testutil_path(const char *name);

/* vasprintf that fails the test if out of memory: a malloc'd string. */
char *testutil_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fails the test unless the error message err contains needle. */
void testutil_assert_mentions(const char *err, const char *needle);

#endif
