/* tlog/checkpoint: parsing and formatting checkpoint text, origin rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/vectors.h"
#include "tlog/checkpoint.h"
#include "tlog/error.h"

#define ROOT8 "ymt7PmdKyGwQJ7Wch8Bk/DvCezEylMdfg70F/dE/Dc8="

static void assert_parse_fails(const char *text, const char *needle)
{
    tlog_checkpoint_t cp;
    char err[TLOG_ERR_MAX] = "";

    assert_int_equal(tlog_checkpoint_parse(text, strlen(text), &cp, err), -1);
    if (strstr(err, needle) == NULL)
        fail_msg("parsing %s: error \"%s\" does not mention \"%s\"", text, err, needle);
}

static void assert_round_trip(const char *text)
{
    tlog_checkpoint_t cp;
    char err[TLOG_ERR_MAX] = "", buf[1024];

    assert_int_equal(tlog_checkpoint_parse(text, strlen(text), &cp, err), 0);
    assert_int_equal(tlog_checkpoint_format(&cp, buf, sizeof(buf)), strlen(text));
    assert_string_equal(buf, text);
}

static void test_tlog_checkpoint_parse_vector(void **state)
{
    json_t *v = vectors_load_json("signed-note.json");
    const char *text = vectors_string(v, "note_text");
    tlog_checkpoint_t cp;
    char err[TLOG_ERR_MAX];
    uint8_t root[32];
    size_t n;
    (void)state;

    assert_int_equal(tlog_checkpoint_parse(text, strlen(text), &cp, err), 0);
    assert_string_equal(cp.origin, "example.com/vector-log");
    assert_int_equal(cp.size, 8);
    assert_int_equal(tlog_base64_decode(ROOT8, strlen(ROOT8), root, sizeof(root), &n), 0);
    assert_memory_equal(cp.root.bytes, root, 32);
    assert_int_equal(cp.extensions_len, 0);
    assert_round_trip(text);
    json_decref(v);
}

static void test_tlog_checkpoint_parse_static_ct_vector(void **state)
{
    json_t *v = vectors_load_json("static-ct.json");
    json_t *tree = json_object_get(v, "tree_size_2");
    json_t *ckpt = json_object_get(v, "checkpoint");
    const char *note = vectors_string(ckpt, "signed_checkpoint");
    const char *split = strstr(note, "\n\n");
    tlog_checkpoint_t cp;
    char err[TLOG_ERR_MAX];
    size_t root_len;
    uint8_t *root = vectors_hex(tree, "root_hash_hex", &root_len);
    (void)state;

    assert_non_null(split);
    assert_int_equal(tlog_checkpoint_parse(note, (size_t)(split + 1 - note), &cp, err), 0);
    assert_string_equal(cp.origin, vectors_string(ckpt, "origin"));
    assert_int_equal(cp.size, 2);
    assert_int_equal(root_len, 32);
    assert_memory_equal(cp.root.bytes, root, 32);
    free(root);
    json_decref(v);
}

static void test_tlog_checkpoint_parse_sizes(void **state)
{
    tlog_checkpoint_t cp;
    char err[TLOG_ERR_MAX];
    static const char max[] = "o\n9223372036854775807\n" ROOT8 "\n";
    (void)state;

    assert_round_trip("o\n0\n" ROOT8 "\n");
    assert_round_trip(max);
    assert_int_equal(tlog_checkpoint_parse(max, strlen(max), &cp, err), 0);
    assert_true(cp.size == 9223372036854775807ull);
}

static void test_tlog_checkpoint_rejects_bad_sizes(void **state)
{
    (void)state;
    assert_parse_fails("o\n08\n" ROOT8 "\n", "leading zero");
    assert_parse_fails("o\n00\n" ROOT8 "\n", "leading zero");
    assert_parse_fails("o\n9223372036854775808\n" ROOT8 "\n", "above 2^63 - 1");
    assert_parse_fails("o\n18446744073709551616\n" ROOT8 "\n", "above 2^63 - 1");
    assert_parse_fails("o\n99999999999999999999999\n" ROOT8 "\n", "above 2^63 - 1");
    assert_parse_fails("o\n-1\n" ROOT8 "\n", "not a decimal number");
    assert_parse_fails("o\n+1\n" ROOT8 "\n", "not a decimal number");
    assert_parse_fails("o\n 1\n" ROOT8 "\n", "not a decimal number");
    assert_parse_fails("o\n1 \n" ROOT8 "\n", "not a decimal number");
    assert_parse_fails("o\n1e3\n" ROOT8 "\n", "not a decimal number");
    assert_parse_fails("o\n\n" ROOT8 "\n", "tree size line is empty");
}

static void test_tlog_checkpoint_rejects_bad_roots(void **state)
{
    (void)state;
    /* 31 and 33 bytes */
    assert_parse_fails("o\n8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", "32 bytes");
    assert_parse_fails("o\n8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "32 bytes");
    /* non-canonical: trailing bits set; missing padding; white space; URL alphabet */
    assert_parse_fails("o\n8\nymt7PmdKyGwQJ7Wch8Bk/DvCezEylMdfg70F/dE/Dc9=\n", "canonical base64");
    assert_parse_fails("o\n8\nymt7PmdKyGwQJ7Wch8Bk/DvCezEylMdfg70F/dE/Dc8\n", "canonical base64");
    assert_parse_fails("o\n8\n ymt7PmdKyGwQJ7Wch8Bk/DvCezEylMdfg70F/dE/Dc8=\n", "canonical base64");
    assert_parse_fails("o\n8\nymt7PmdKyGwQJ7Wch8Bk_DvCezEylMdfg70F_dE_Dc8=\n", "canonical base64");
    assert_parse_fails("o\n8\n\n", "canonical base64");
    /* a byte outside the alphabet where ROOT8 has '/' (libsodium 1.0.18 alone would read any byte >= 0x80 as '/') */
    assert_parse_fails("o\n8\nymt7PmdKyGwQJ7Wch8Bk\xaf"
                       "DvCezEylMdfg70F/dE/Dc8=\n",
                       "canonical base64");
}

static void test_tlog_checkpoint_rejects_missing_lines(void **state)
{
    (void)state;
    assert_parse_fails("", "no origin line");
    assert_parse_fails("o", "no origin line");
    assert_parse_fails("o\n", "no tree size line");
    assert_parse_fails("o\n8", "no tree size line");
    assert_parse_fails("o\n8\n", "no root hash line");
    assert_parse_fails("o\n8\n" ROOT8, "no root hash line");
}

static void test_tlog_checkpoint_extension_lines_preserved(void **state)
{
    static const char text[] = "o\n8\n" ROOT8 "\nfirst extension\nsecond \xe2\x80\x94 one\n";
    tlog_checkpoint_t cp;
    char err[TLOG_ERR_MAX];
    (void)state;

    assert_int_equal(tlog_checkpoint_parse(text, strlen(text), &cp, err), 0);
    assert_int_equal(cp.extensions_len, strlen("first extension\nsecond \xe2\x80\x94 one\n"));
    assert_memory_equal(cp.extensions, "first extension\nsecond \xe2\x80\x94 one\n", cp.extensions_len);
    assert_round_trip(text);
    assert_parse_fails("o\n8\n" ROOT8 "\n\n", "empty extension line");
    assert_parse_fails("o\n8\n" ROOT8 "\next\n\n", "empty extension line");
    assert_parse_fails("o\n8\n" ROOT8 "\next", "does not end in a newline");
}

static void test_tlog_checkpoint_rejects_bad_origins(void **state)
{
    char text[600];
    (void)state;

    assert_parse_fails("\n8\n" ROOT8 "\n", "origin");
    assert_parse_fails("a b\n8\n" ROOT8 "\n", "origin");
    assert_parse_fails("a+b\n8\n" ROOT8 "\n", "origin");
    assert_parse_fails("a\tb\n8\n" ROOT8 "\n", "origin");
    assert_parse_fails("a\xe2\x80\x83"
                       "b\n8\n" ROOT8 "\n",
                       "origin");
    assert_parse_fails("a\xff\n8\n" ROOT8 "\n", "origin");
    memset(text, 'a', 256);
    strcpy(text + 256, "\n8\n" ROOT8 "\n");
    assert_parse_fails(text, "longer than 255");
    memmove(text + 255, text + 256, strlen(text + 256) + 1);
    assert_round_trip(text);
}

static void test_tlog_checkpoint_origin_valid(void **state)
{
    (void)state;
    assert_true(tlog_origin_valid("example.com/log", 15));
    assert_true(tlog_origin_valid("\xe4\xbe\x8b.jp/log", 9));
    assert_true(tlog_origin_valid("a", 1));
    assert_false(tlog_origin_valid("", 0));
    assert_false(tlog_origin_valid("a b", 3));
    assert_false(tlog_origin_valid("a+b", 3));
    assert_false(tlog_origin_valid("a\nb", 3));
    assert_false(tlog_origin_valid("a\x7f", 2));
    assert_false(tlog_origin_valid("a\xc2\xa0", 3));         /* U+00A0 NO-BREAK SPACE */
    assert_false(tlog_origin_valid("a\xe3\x80\x80", 4));     /* U+3000 IDEOGRAPHIC SPACE */
    assert_false(tlog_origin_valid("a\xe2\x80\xa8", 4));     /* U+2028 LINE SEPARATOR */
    assert_false(tlog_origin_valid("a\xc0\xaf", 3));         /* overlong */
    assert_false(tlog_origin_valid("a\xed\xa0\x80", 4));     /* surrogate */
    assert_false(tlog_origin_valid("a\xf4\x90\x80\x80", 5)); /* above U+10FFFF */
    assert_false(tlog_origin_valid("a\xe2\x80", 3));         /* truncated */
    assert_false(tlog_origin_valid("ab", 3));                /* NUL inside the length */
}

static void test_tlog_checkpoint_format_needs_room(void **state)
{
    static const char text[] = "o\n8\n" ROOT8 "\next\n";
    tlog_checkpoint_t cp;
    char err[TLOG_ERR_MAX], buf[64];
    (void)state;

    assert_int_equal(tlog_checkpoint_parse(text, strlen(text), &cp, err), 0);
    assert_int_equal(tlog_checkpoint_format(&cp, buf, strlen(text)), 0);
    assert_int_equal(tlog_checkpoint_format(&cp, buf, 10), 0);
    assert_int_equal(tlog_checkpoint_format(&cp, buf, strlen(text) + 1), strlen(text));
    assert_string_equal(buf, text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_checkpoint_parse_vector),
        cmocka_unit_test(test_tlog_checkpoint_parse_static_ct_vector),
        cmocka_unit_test(test_tlog_checkpoint_parse_sizes),
        cmocka_unit_test(test_tlog_checkpoint_rejects_bad_sizes),
        cmocka_unit_test(test_tlog_checkpoint_rejects_bad_roots),
        cmocka_unit_test(test_tlog_checkpoint_rejects_missing_lines),
        cmocka_unit_test(test_tlog_checkpoint_extension_lines_preserved),
        cmocka_unit_test(test_tlog_checkpoint_rejects_bad_origins),
        cmocka_unit_test(test_tlog_checkpoint_origin_valid),
        cmocka_unit_test(test_tlog_checkpoint_format_needs_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
