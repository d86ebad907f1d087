/* Trust-policy parsing and quorum evaluation: the spec's examples, its invalid files, and the vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "policy/policy.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"
#include "tlog/error.h"
#include "tlog/hash.h"
#include "tlog/note.h"

#define W1_NAME "witness.example.com/w1"
#define W1_VKEY "witness.example.com/w1+969980cf+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X"
#define W2_VKEY "witness.example.org/w2+82091286+BCVDuS/xCVURR2rcg2nbbdyTNmWhGXjdoUBO4QZsqVWd"
#define LOG_VKEY "example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"

/* The Ed25519 public key of the seed whose 32 bytes are all fill. */
static void test_public_key(uint8_t fill, uint8_t pub[32])
{
    uint8_t seed[32], sk[64];
    memset(seed, fill, sizeof(seed));
    assert_int_equal(crypto_sign_seed_keypair(pub, sk, seed), 0);
}

static void test_vkey(uint8_t fill, const char *name, int type, char out[512])
{
    uint8_t pub[32];
    tlog_verifier_t *v;
    char err[TLOG_ERR_MAX];
    test_public_key(fill, pub);
    assert_int_equal(tlog_verifier_ed25519(name, pub, type, &v, err), 0);
    assert_int_equal(tlog_verifier_vkey(v, out, 512), 0);
    tlog_verifier_free(v);
}

static void test_hex_key(uint8_t fill, char out[65])
{
    uint8_t pub[32];
    test_public_key(fill, pub);
    tlog_hex_encode(pub, sizeof(pub), out);
}

static policy_t *parse_ok(const char *text, int flags)
{
    policy_t *policy = NULL;
    char err[TLOG_ERR_MAX] = "";
    if (policy_parse(text, strlen(text), flags, &policy, err) != 0)
        fail_msg("policy rejected: %s\n%s", err, text);
    return policy;
}

/* text (len bytes) must be rejected with a message containing want. */
static void expect_rejected_n(const char *text, size_t len, int flags, const char *want)
{
    policy_t *policy = (policy_t *)1;
    char err[TLOG_ERR_MAX] = "";
    assert_int_equal(policy_parse(text, len, flags, &policy, err), -1);
    assert_null(policy);
    if (strstr(err, want) == NULL)
        fail_msg("message \"%s\" lacks \"%s\" for:\n%s", err, want, text);
}

static void expect_rejected(const char *text, int flags, const char *want)
{
    expect_rejected_n(text, strlen(text), flags, want);
}

static tlog_note_t *parse_note(const char *text)
{
    tlog_note_t *note;
    char err[TLOG_ERR_MAX];
    if (tlog_note_parse(text, strlen(text), &note, err) != 0)
        fail_msg("note rejected: %s", err);
    return note;
}

static int meets(const policy_t *policy, const char *note_text, char *err)
{
    tlog_note_t *note = parse_note(note_text);
    int rc = policy_note_meets_quorum(policy, note, (uint64_t)time(NULL), err);
    tlog_note_free(note);
    return rc;
}

static const char *cosigned_checkpoint(json_t **root)
{
    *root = vectors_load_json("cosignature.json");
    return vectors_string(*root, "cosigned_checkpoint");
}

static void test_policy_parses_2of3_vector(void **state)
{
    (void)state;
    size_t len;
    char *text = vectors_read_file("policy-2of3.txt", &len);
    policy_t *policy = NULL;
    char err[TLOG_ERR_MAX];
    static const char *const names[] = {"W1", "W2", "W3"};
    static const char *const keys[] = {W1_NAME, "witness.example.org/w2", "witness.example.net/w3"};
    static const uint32_t ids[] = {0x969980cf, 0x82091286, 0x9b586207};

    assert_int_equal(policy_parse(text, len, POLICY_REQUIRE_URLS, &policy, err), 0);
    assert_int_equal(policy_witness_count(policy), 3);
    for (size_t i = 0; i < 3; i++) {
        tlog_verifier_t *v = policy_witness_verifier(policy, i);
        char url[64];
        snprintf(url, sizeof(url), "https://%s", keys[i]);
        assert_string_equal(policy_witness_name(policy, i), names[i]);
        assert_string_equal(policy_witness_url(policy, i), url);
        assert_string_equal(tlog_verifier_name(v), keys[i]);
        assert_int_equal(tlog_verifier_key_id(v), ids[i]);
        assert_int_equal(tlog_verifier_type(v), TLOG_SIG_COSIGNATURE);
        assert_ptr_equal(policy_witness_verifiers(policy)[i], v);
    }
    assert_false(policy_quorum_is_none(policy));
    assert_int_equal(policy_log_count(policy), 1);
    assert_null(policy_log_url(policy, 0));
    char vkey[512];
    assert_int_equal(tlog_verifier_vkey(policy_log_verifier(policy, 0), vkey, sizeof(vkey)), 0);
    assert_string_equal(vkey, LOG_VKEY);
    policy_free(policy);
    free(text);
}

static void test_policy_log_index_finds_listed_key(void **state)
{
    (void)state;
    char other[512], err[TLOG_ERR_MAX];
    test_vkey(0x77, "example.com/other-log", TLOG_SIG_ED25519, other);
    char *text = testutil_format("log %s https://other.example/\nlog %s\nquorum none\n", other, LOG_VKEY);
    policy_t *policy = parse_ok(text, 0);
    tlog_verifier_t *mine, *stranger;
    char stranger_vkey[512];
    test_vkey(0x78, "example.com/vector-log", TLOG_SIG_ED25519, stranger_vkey);

    assert_int_equal(tlog_verifier_from_vkey(LOG_VKEY, strlen(LOG_VKEY), &mine, err), 0);
    assert_int_equal(tlog_verifier_from_vkey(stranger_vkey, strlen(stranger_vkey), &stranger, err), 0);
    assert_int_equal(policy_log_count(policy), 2);
    assert_string_equal(policy_log_url(policy, 0), "https://other.example/");
    assert_int_equal(policy_log_index(policy, mine), 1);
    assert_int_equal(policy_log_index(policy, stranger), -1);
    tlog_verifier_free(mine);
    tlog_verifier_free(stranger);
    policy_free(policy);
    free(text);
}

static void test_policy_evaluation_vectors(void **state)
{
    (void)state;
    json_t *root = vectors_load_json("policy-evaluation.json");
    char *text = vectors_read_file(vectors_string(root, "policy_file"), NULL);
    policy_t *policy = parse_ok(text, POLICY_REQUIRE_URLS);
    json_t *cases = json_object_get(root, "cases"), *c;
    size_t i;

    assert_true(json_array_size(cases) >= 5);
    json_array_foreach(cases, i, c)
    {
        char err[TLOG_ERR_MAX] = "";
        int want = json_is_true(json_object_get(c, "expect_quorum"));
        int got = meets(policy, vectors_string(c, "note"), err);
        if (got != want)
            fail_msg("case %s: got %d (%s), want %d", vectors_string(c, "why"), got, err, want);
        if (!got)
            assert_non_null(strstr(err, "quorum not met"));
    }
    policy_free(policy);
    free(text);
    json_decref(root);
}

static void test_policy_forged_cosignature_is_an_error(void **state)
{
    (void)state;
    json_t *root = vectors_load_json("policy-evaluation.json");
    char *text = vectors_read_file("policy-2of3.txt", NULL);
    policy_t *policy = parse_ok(text, 0);
    json_t *met = json_array_get(json_object_get(root, "cases"), 2);
    char *note = strdup(vectors_string(met, "note"));
    char err[TLOG_ERR_MAX] = "";

    assert_true(json_is_true(json_object_get(met, "expect_quorum")));
    /* A signature byte of W3's cosignature (well before the padding): 'n' -> 'o' keeps the base64 valid. */
    char *w3 = strstr(note, "witness.example.net/w3 ");
    assert_non_null(w3);
    char *b64 = w3 + strlen("witness.example.net/w3 ");
    assert_int_equal(b64[30], 'n');
    b64[30] = 'o';
    assert_int_equal(meets(policy, note, err), -1);
    policy_free(policy);
    free(note);
    free(text);
    json_decref(root);
}

static void test_policy_requires_a_listed_log_signature(void **state)
{
    (void)state;
    json_t *root;
    const char *cosigned = cosigned_checkpoint(&root);
    /* The same note without its log signature line: text, blank line, the W1 cosignature. */
    const char *w1 = strstr(cosigned, "\xe2\x80\x94 " W1_NAME " ");
    const char *blank = strstr(cosigned, "\n\n");
    char *unsigned_note = testutil_format("%.*s%s", (int)(blank + 2 - cosigned), cosigned, w1);
    char *with_log = testutil_format("log %s\nwitness A %s\nquorum A\n", LOG_VKEY, W1_VKEY);
    char *without_log = testutil_format("witness A %s\nquorum A\n", W1_VKEY);
    policy_t *strict = parse_ok(with_log, 0), *loose = parse_ok(without_log, 0);
    char err[TLOG_ERR_MAX] = "";

    assert_int_equal(meets(strict, cosigned, err), 1);
    assert_int_equal(meets(strict, unsigned_note, err), 0);
    assert_non_null(strstr(err, "no log of the policy signed"));
    assert_int_equal(meets(loose, unsigned_note, err), 1);
    policy_free(strict);
    policy_free(loose);
    free(with_log);
    free(without_log);
    free(unsigned_note);
    json_decref(root);
}

/* A cosignature from further in the future than the clock skew allows does not count; one within it does. */
static void test_policy_future_cosignature_does_not_count(void **state)
{
    (void)state;
    json_t *root;
    const char *cosigned = cosigned_checkpoint(&root);
    size_t n;
    uint8_t *seed = vectors_hex(root, "ed25519_seed_hex", &n);
    const char *blank = strstr(cosigned, "\n\n"), *w1 = strstr(cosigned, "\xe2\x80\x94 " W1_NAME " ");
    char *text = testutil_format("log %s\nwitness A %s\nquorum A\n", LOG_VKEY, W1_VKEY);
    policy_t *policy = parse_ok(text, 0);
    tlog_signer_t *signer;
    char err[TLOG_ERR_MAX] = "";
    uint64_t now = (uint64_t)time(NULL);

    assert_int_equal(tlog_signer_ed25519(W1_NAME, seed, TLOG_SIG_COSIGNATURE, &signer, err), 0);
    for (int future = 0; future < 2; future++) {
        uint64_t when = now + POLICY_CLOCK_SKEW_S + (future ? 60 : -60);
        char *line, *note;
        size_t line_len;
        assert_int_equal(tlog_note_sign_line(cosigned, (size_t)(blank + 1 - cosigned), signer, when * 1000, &line, &line_len, err),
                         0);
        note = testutil_format("%.*s%s", (int)(w1 - cosigned), cosigned, line);
        assert_int_equal(meets(policy, note, err), !future);
        if (future)
            testutil_assert_mentions(err, "timestamped in the future");
        tlog_note_t *parsed = parse_note(note);
        assert_int_equal(policy_note_meets_quorum(policy, parsed, 0, err), 1);
        tlog_note_free(parsed);
        free(note);
        free(line);
    }
    tlog_signer_free(signer);
    policy_free(policy);
    free(text);
    free(seed);
    json_decref(root);
}

/* Example B of witness.md 3.3: X = 2 of X1..X3, Y = any of Y1, Y2, quorum = both. Witness i is bit i. */
static int example_b_met(unsigned set)
{
    return __builtin_popcount(set & 7) >= 2 && (set & 24) != 0;
}

/* Every order of every subset: after each add the evaluation agrees with example_b_met. */
static void walk_orders(policy_eval_t *eval, size_t *seq, size_t len)
{
    unsigned used = 0;
    for (size_t i = 0; i < len; i++)
        used |= 1u << seq[i];
    for (size_t w = 0; w < 5; w++) {
        if (used & (1u << w))
            continue;
        seq[len] = w;
        policy_eval_reset(eval);
        assert_int_equal(policy_eval_met(eval), 0);
        unsigned set = 0;
        for (size_t i = 0; i <= len; i++) {
            set |= 1u << seq[i];
            assert_int_equal(policy_eval_add(eval, seq[i]), example_b_met(set));
            assert_int_equal(policy_eval_met(eval), example_b_met(set));
        }
        assert_int_equal(policy_eval_add(eval, w), example_b_met(set));
        walk_orders(eval, seq, len + 1);
    }
}

static void test_policy_nested_groups_any_order(void **state)
{
    (void)state;
    char k[5][512];
    static const char *const names[] = {"x1.example/w", "x2.example/w", "x3.example/w", "y1.example/w", "y2.example/w"};
    for (size_t i = 0; i < 5; i++)
        test_vkey((uint8_t)(0x10 + i), names[i], TLOG_SIG_COSIGNATURE, k[i]);
    char *text = testutil_format("witness X1 %s https://x1.example\n"
                                 "witness X2 %s https://x2.example\n"
                                 "witness X3 %s https://x3.example\n"
                                 "group X 2 X1 X2 X3\n"
                                 "witness Y1 %s https://y1.example\n"
                                 "witness Y2 %s https://y2.example\n"
                                 "group Y any Y1 Y2\n"
                                 "group both all X Y\n"
                                 "quorum both\n",
                                 k[0], k[1], k[2], k[3], k[4]);
    policy_t *policy = parse_ok(text, POLICY_REQUIRE_URLS);
    policy_eval_t *eval = policy_eval_new(policy);
    size_t seq[5];
    static const struct {
        unsigned set;
        int met;
    } table[] = {{1 | 2, 0}, {1 | 16, 0}, {1 | 4 | 8, 1}, {31, 1}};

    assert_non_null(eval);
    assert_string_equal(policy_witness_name(policy, 3), "Y1");
    for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++) {
        policy_eval_reset(eval);
        for (size_t w = 0; w < 5; w++)
            if (table[t].set & (1u << w))
                policy_eval_add(eval, w);
        assert_int_equal(policy_eval_met(eval), table[t].met);
    }
    walk_orders(eval, seq, 0);
    policy_eval_free(eval);
    policy_free(policy);
    free(text);
}

/* One witness in several groups, and groups sharing members: each parent counts it once. */
static void test_policy_shared_members(void **state)
{
    (void)state;
    char a[65], b[65], c[65];
    test_hex_key(0x21, a);
    test_hex_key(0x22, b);
    test_hex_key(0x23, c);
    char *text =
        testutil_format("witness a.example %s\nwitness b.example %s\nwitness c.example %s\n"
                        "group one any a.example\ngroup two all a.example b.example\ngroup three 2 a.example b.example c.example\n"
                        "group top all one two three\nquorum top\n",
                        a, b, c);
    policy_t *policy = parse_ok(text, 0);
    policy_eval_t *eval = policy_eval_new(policy);

    assert_int_equal(policy_eval_add(eval, 0), 0);
    assert_int_equal(policy_eval_add(eval, 0), 0);
    assert_int_equal(policy_eval_add(eval, 2), 0);
    assert_int_equal(policy_eval_add(eval, 1), 1);
    policy_eval_reset(eval);
    assert_int_equal(policy_eval_add(eval, 1), 0);
    assert_int_equal(policy_eval_add(eval, 2), 0);
    assert_int_equal(policy_eval_add(eval, 0), 1);
    assert_int_equal(policy_eval_add(eval, 3), -1);
    policy_eval_free(eval);
    policy_eval_free(NULL);
    policy_free(policy);
    policy_free(NULL);
    free(text);
}

static void test_policy_quorum_none_is_always_met(void **state)
{
    (void)state;
    json_t *root = vectors_load_json("policy-evaluation.json");
    const char *log_only = vectors_string(json_array_get(json_object_get(root, "cases"), 0), "note");
    char *text = testutil_format("log %s\nwitness A %s\nquorum none\n", LOG_VKEY, W1_VKEY);
    policy_t *bare = parse_ok("quorum none\n", POLICY_REQUIRE_URLS), *policy = parse_ok(text, 0);
    policy_eval_t *eval = policy_eval_new(bare);
    char err[TLOG_ERR_MAX] = "";

    assert_true(policy_quorum_is_none(bare));
    assert_int_equal(policy_witness_count(bare), 0);
    assert_int_equal(policy_eval_met(eval), 1);
    assert_int_equal(policy_eval_add(eval, 0), -1);
    policy_eval_reset(eval);
    assert_int_equal(policy_eval_met(eval), 1);
    assert_true(policy_quorum_is_none(policy));
    assert_int_equal(meets(policy, log_only, err), 1);
    assert_int_equal(meets(bare, log_only, err), 1);
    policy_eval_free(eval);
    policy_free(bare);
    policy_free(policy);
    free(text);
    json_decref(root);
}

static void test_policy_single_witness_quorum(void **state)
{
    (void)state;
    json_t *root;
    const char *cosigned = cosigned_checkpoint(&root);
    json_t *eval_root = vectors_load_json("policy-evaluation.json");
    const char *log_only = vectors_string(json_array_get(json_object_get(eval_root, "cases"), 0), "note");
    char *text = testutil_format("witness A %s https://a.example\nquorum A\n", W1_VKEY);
    policy_t *policy = parse_ok(text, POLICY_REQUIRE_URLS);
    policy_eval_t *eval = policy_eval_new(policy);
    char err[TLOG_ERR_MAX] = "";

    assert_int_equal(policy_eval_met(eval), 0);
    assert_int_equal(policy_eval_add(eval, 0), 1);
    assert_int_equal(meets(policy, cosigned, err), 1);
    assert_int_equal(meets(policy, log_only, err), 0);
    assert_non_null(strstr(err, "0 of the policy's 1 witnesses"));
    policy_eval_free(eval);
    policy_free(policy);
    free(text);
    json_decref(eval_root);
    json_decref(root);
}

/* Sigsum's hex keys: the witness name is the cosigner key name. */
static void test_policy_hex_key_witness(void **state)
{
    (void)state;
    json_t *root;
    const char *cosigned = cosigned_checkpoint(&root);
    const char *hex = vectors_string(root, "ed25519_public_key_hex");
    char *text = testutil_format("log %s\nwitness %s %s https://w1.example\nquorum %s\n", LOG_VKEY, W1_NAME, hex, W1_NAME);
    policy_t *policy = parse_ok(text, 0);
    tlog_verifier_t *v = policy_witness_verifier(policy, 0);
    char vkey[512], err[TLOG_ERR_MAX] = "";

    assert_string_equal(tlog_verifier_name(v), W1_NAME);
    assert_int_equal(tlog_verifier_type(v), TLOG_SIG_COSIGNATURE);
    assert_int_equal(tlog_verifier_vkey(v, vkey, sizeof(vkey)), 0);
    assert_string_equal(vkey, W1_VKEY);
    assert_int_equal(meets(policy, cosigned, err), 1);
    policy_free(policy);
    free(text);
    json_decref(root);
}

/* TesseraCT lists witnesses by their 0x01 vkey: the same key, checked as a 0x04 cosignature key. */
static void test_policy_ed25519_vkey_witness_verifies_cosignature(void **state)
{
    (void)state;
    json_t *root;
    const char *cosigned = cosigned_checkpoint(&root);
    size_t n;
    uint8_t *pub = vectors_hex(root, "ed25519_public_key_hex", &n);
    tlog_verifier_t *plain;
    char plain_vkey[512], vkey[512], err[TLOG_ERR_MAX] = "";

    assert_int_equal(tlog_verifier_ed25519(W1_NAME, pub, TLOG_SIG_ED25519, &plain, err), 0);
    assert_int_equal(tlog_verifier_vkey(plain, plain_vkey, sizeof(plain_vkey)), 0);
    assert_int_not_equal(tlog_verifier_key_id(plain), 0x969980cf);
    char *text = testutil_format("log %s\nwitness W1 %s https://w1.example\nquorum W1\n", LOG_VKEY, plain_vkey);
    policy_t *policy = parse_ok(text, POLICY_REQUIRE_URLS);
    tlog_verifier_t *v = policy_witness_verifier(policy, 0);

    assert_int_equal(tlog_verifier_type(v), TLOG_SIG_COSIGNATURE);
    assert_int_equal(tlog_verifier_key_id(v), 0x969980cf);
    assert_int_equal(tlog_verifier_vkey(v, vkey, sizeof(vkey)), 0);
    assert_string_equal(vkey, W1_VKEY);
    assert_int_equal(meets(policy, cosigned, err), 1);
    /* The 0x01 and 0x04 forms of one key are the same witness key. */
    char *twice = testutil_format("witness A %s\nwitness B %s\nquorum A\n", plain_vkey, W1_VKEY);
    expect_rejected(twice, 0, "line 2: witness B: the same public key is already witness A's (line 1)");
    policy_free(policy);
    tlog_verifier_free(plain);
    free(twice);
    free(text);
    free(pub);
    json_decref(root);
}

/* Comments anywhere, tabs and runs of blanks, blank lines, no final newline, high-bit bytes in names. */
static void test_policy_syntax_variants(void **state)
{
    (void)state;
    char *text = testutil_format("# a policy\n"
                                 "\t log\t%s   # the vector log\n"
                                 "   \n"
                                 "witness \xc3\xa9t\xc3\xa9 %s\thttps://w1.example#no space before the comment\n"
                                 "witness W2 %s\n"
                                 "\n"
                                 "group  g\tany \xc3\xa9t\xc3\xa9 W2   \n"
                                 "quorum g # trailing",
                                 LOG_VKEY, W1_VKEY, W2_VKEY);
    policy_t *policy = parse_ok(text, 0);

    assert_int_equal(policy_log_count(policy), 1);
    assert_int_equal(policy_witness_count(policy), 2);
    assert_string_equal(policy_witness_name(policy, 0), "\xc3\xa9t\xc3\xa9");
    assert_string_equal(policy_witness_url(policy, 0), "https://w1.example");
    assert_null(policy_witness_url(policy, 1));
    policy_free(policy);
    free(text);
}

/* The invalid files of witness.md 3.3 F; witnesses A and B are on lines 1 and 2. */
static void test_policy_rejects_spec_invalid_files(void **state)
{
    (void)state;
    static const struct {
        const char *rest;
        const char *want;
    } cases[] = {
        {"group g 3 A B\nquorum g\n", "line 3: group g: threshold 3 is more than its 2 members"},
        {"group g 0 A\nquorum g\n", "line 3: group g: threshold 0 is less than 1"},
        {"quorum g\ngroup g any A B\n", "line 3: quorum: g is defined later, on line 4"},
        {"group g any A B\nquorum g\nquorum A\n", "line 5: a second quorum line (the first is line 4)"},
        {"group g any A B\n", "the policy has no quorum line"},
        {"group g any A A\nquorum g\n", "line 3: group g: member A is listed twice"},
        {"group g any none\nquorum g\n", "line 3: group g: none is only valid in a quorum line"},
        {"witnesses C x\nquorum A\n", "line 3: unknown keyword \"witnesses\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text =
            testutil_format("witness A %s https://a.example\nwitness B %s https://b.example\n%s", W1_VKEY, W2_VKEY, cases[i].rest);
        expect_rejected(text, POLICY_REQUIRE_URLS, cases[i].want);
        free(text);
    }
    char *same_key = testutil_format("witness A %s\nwitness B %s\nquorum A\n", W1_VKEY, W1_VKEY);
    expect_rejected(same_key, 0, "line 2: witness B: the same public key is already witness A's (line 1)");
    free(same_key);
}

/* Every other rejection, each with its line. Witnesses A and B are on lines 1 and 2. */
static void test_policy_rejects_with_line_and_reason(void **state)
{
    (void)state;
    char c_hex[65], log2[512], cosig_as_log[512];
    test_hex_key(0x33, c_hex);
    test_vkey(0x34, "example.com/log-two", TLOG_SIG_ED25519, log2);
    test_vkey(0x35, "example.com/log-three", TLOG_SIG_COSIGNATURE, cosig_as_log);
    const struct {
        const char *rest;
        const char *want;
    } cases[] = {
        {"witness A ab\nquorum A\n", "line 3: witness: name A is already defined on line 1"},
        {"group B any A\nquorum B\n", "line 3: group: name B is already defined on line 2"},
        {"group g any A\ngroup g any B\nquorum g\n", "line 4: group: name g is already defined on line 3"},
        {"group g any A C\nquorum g\n", "line 3: group g: member C is not defined"},
        {"group g any A C\nwitness C x\nquorum g\n", "line 3: group g: member C is defined later, on line 4"},
        {"group g any A h\ngroup h any B\nquorum g\n", "line 3: group g: member h is defined later, on line 4"},
        {"group g any A g\nquorum g\n", "line 3: group g: member g is not defined"},
        {"group g two A B\nquorum g\n", "line 3: group g: threshold \"two\" is not any, all or a decimal number"},
        {"group g 02 A B\nquorum g\n", "line 3: group g: threshold \"02\" is not any, all"},
        {"group g -1 A B\nquorum g\n", "line 3: group g: threshold \"-1\" is not any"},
        {"group g 99999999999999999999 A B\nquorum g\n", "line 3: group g: threshold 99999999999999999999 is more than its 2"},
        {"group g any\nquorum g\n", "line 3: group g has no members"},
        {"group g\nquorum g\n", "line 3: group: expected a name, a threshold and members"},
        {"group any 1 A\nquorum A\n", "line 3: group: \"any\" is a keyword, not a name"},
        {"witness none x\nquorum A\n", "line 3: witness: \"none\" is a keyword, not a name"},
        {"group quorum 1 A\nquorum A\n", "line 3: group: \"quorum\" is a keyword"},
        {"quorum\n", "line 3: quorum: expected one name, or none"},
        {"quorum A B\n", "line 3: quorum: expected one name, or none"},
        {"quorum Z\n", "line 3: quorum: Z is not defined"},
        {"quorum all\n", "line 3: quorum: all is not defined"},
        {"\nquorum A\n# comment \x01\n", "line 5: byte 0x01 is not allowed"},
        {"quorum A\r\n", "line 3: carriage return (0x0d) is not allowed"},
        {"quorum A\x7f\n", "line 3: byte 0x7f is not allowed"},
        {"quorum A\v\n", "line 3: byte 0x0b is not allowed"},
        {"witness C\nquorum A\n", "line 3: witness: expected a name, a key and an optional URL"},
        {"witness C k https://c.example extra\nquorum A\n", "line 3: witness: expected a name, a key and an optional URL"},
        {"witness C abcd\nquorum A\n", "line 3: witness C: key is neither a vkey nor 64 hex digits"},
        {"witness C " W1_NAME "+969980cf+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3Y\nquorum A\n", "line 3: witness C: "},
        {"witness C " W1_NAME "+969980ce+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X\nquorum A\n", "line 3: witness C: "},
        {"witness C ftp://c.example https://c.example\nquorum A\n", "line 3: witness C: key is neither a vkey nor 64 hex digits"},
        {"log " LOG_VKEY " ftp://log.example\nquorum A\n",
         "line 3: log: URL \"ftp://log.example\" is not an http:// or https:// URL"},
        {"log\nquorum A\n", "line 3: log: expected a vkey and an optional URL"},
        {"log example.com/log+00000000+AQ==\nquorum A\n", "line 3: log: "},
        {"log " LOG_VKEY " https://l.example x\nquorum A\n", "line 3: log: expected a vkey and an optional URL"},
        {"log " LOG_VKEY "\nlog " LOG_VKEY "\nquorum A\n", "line 4: log: the same public key is already listed on line 3"},
        {"quorum A\nquorum none\n", "line 4: a second quorum line (the first is line 3)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = testutil_format("witness A %s\nwitness B %s\n%s", W1_VKEY, W2_VKEY, cases[i].rest);
        expect_rejected(text, 0, cases[i].want);
        free(text);
    }
    char *text, *want;
    text = testutil_format("witness A %s\nwitness B %s https://b.example\nquorum A\n", W1_VKEY, W2_VKEY);
    expect_rejected(text, POLICY_REQUIRE_URLS, "line 1: witness A has no URL, and the log must call every witness");
    policy_free(parse_ok(text, 0));
    free(text);
    text = testutil_format("witness A %s\nwitness B %s\nwitness C %s http:/c\nquorum A\n", W1_VKEY, W2_VKEY, c_hex);
    expect_rejected(text, 0, "line 3: witness C: URL \"http:/c\" is not an http:// or https:// URL");
    free(text);
    text = testutil_format("witness a+b %s\nquorum a+b\n", c_hex);
    expect_rejected(text, 0, "line 1: witness a+b: with a hex key the name is the key name");
    free(text);
    text = testutil_format("log %s\nquorum none\n", c_hex);
    expect_rejected(text, 0, "line 1: log: key must be a vkey");
    free(text);
    text = testutil_format("log %s\nlog %s\nquorum none\n", log2, cosig_as_log);
    expect_rejected(text, 0, "line 2: log: key type 0x04 is not Ed25519 (0x01)");
    free(text);
    char long_name[TLOG_NOTE_NAME_MAX + 1];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    text = testutil_format("witness %s %s\nquorum none\n", long_name, c_hex);
    want = testutil_format("line 1: witness: a name of %d bytes is longer than %d", TLOG_NOTE_NAME_MAX, TLOG_NOTE_NAME_MAX - 1);
    expect_rejected(text, 0, want);
    free(want);
    free(text);
    static const char nul[] = "quorum none\n#\0\n";
    expect_rejected_n(nul, sizeof(nul) - 1, 0, "line 2: byte 0x00 is not allowed");
    expect_rejected("", 0, "the policy has no quorum line");
}

/* At least 32 of each is required; 256 of each are accepted and one more is refused. */
static void test_policy_limits(void **state)
{
    (void)state;
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap), hex[65];
    for (unsigned i = 0; i < POLICY_MAX_WITNESSES; i++) {
        uint8_t seed[32], pub[32], sk[64];
        memset(seed, 0, sizeof(seed));
        seed[0] = (uint8_t)i;
        seed[1] = 0xa5;
        assert_int_equal(crypto_sign_seed_keypair(pub, sk, seed), 0);
        tlog_hex_encode(pub, sizeof(pub), hex);
        len += (size_t)snprintf(text + len, cap - len, "witness w%u.example %s https://w%u.example\n", i, hex, i);
    }
    for (unsigned g = 0; g < POLICY_MAX_GROUPS; g++) {
        len += (size_t)snprintf(text + len, cap - len, "group g%u %u", g, g == 0 ? POLICY_MAX_WITNESSES : 1);
        if (g == 0)
            for (unsigned i = 0; i < POLICY_MAX_WITNESSES; i++)
                len += (size_t)snprintf(text + len, cap - len, " w%u.example", i);
        else
            len += (size_t)snprintf(text + len, cap - len, " g%u", g - 1);
        len += (size_t)snprintf(text + len, cap - len, "\n");
    }
    size_t body = len;
    len += (size_t)snprintf(text + len, cap - len, "quorum g%u\n", POLICY_MAX_GROUPS - 1);

    policy_t *policy = parse_ok(text, POLICY_REQUIRE_URLS);
    policy_eval_t *eval = policy_eval_new(policy);
    for (size_t i = 0; i + 1 < POLICY_MAX_WITNESSES; i++)
        assert_int_equal(policy_eval_add(eval, POLICY_MAX_WITNESSES - 1 - i), 0);
    assert_int_equal(policy_eval_add(eval, 0), 1);
    policy_eval_free(eval);
    policy_free(policy);

    char *more = testutil_format("%.*sgroup extra any g0\nquorum g0\n", (int)body, text);
    char *want = testutil_format("line %u: group extra: more than %d groups", POLICY_MAX_WITNESSES + POLICY_MAX_GROUPS + 1,
                                 POLICY_MAX_GROUPS);
    expect_rejected(more, 0, want);
    free(more);
    free(want);
    test_hex_key(0xee, hex);
    more = testutil_format("%.*switness extra.example %s\nquorum g0\n", (int)body, text, hex);
    want = testutil_format("line %u: witness extra.example: more than %d witnesses", POLICY_MAX_WITNESSES + POLICY_MAX_GROUPS + 1,
                           POLICY_MAX_WITNESSES);
    expect_rejected(more, 0, want);
    free(more);
    free(want);

    len = 0;
    for (unsigned i = 0; i <= POLICY_MAX_LOGS; i++) {
        char vkey[512], name[64];
        snprintf(name, sizeof(name), "log%u.example", i);
        uint8_t pub[32], seed[32], sk[64];
        tlog_verifier_t *v;
        char err[TLOG_ERR_MAX];
        memset(seed, 0x5a, sizeof(seed));
        seed[0] = (uint8_t)i;
        seed[1] = (uint8_t)(i >> 8);
        assert_int_equal(crypto_sign_seed_keypair(pub, sk, seed), 0);
        assert_int_equal(tlog_verifier_ed25519(name, pub, TLOG_SIG_ED25519, &v, err), 0);
        assert_int_equal(tlog_verifier_vkey(v, vkey, sizeof(vkey)), 0);
        tlog_verifier_free(v);
        len += (size_t)snprintf(text + len, cap - len, "log %s\n", vkey);
    }
    snprintf(text + len, cap - len, "quorum none\n");
    want = testutil_format("line %u: log: more than %d logs", POLICY_MAX_LOGS + 1, POLICY_MAX_LOGS);
    expect_rejected(text, 0, want);
    free(want);
    free(text);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_parses_2of3_vector),
        cmocka_unit_test(test_policy_log_index_finds_listed_key),
        cmocka_unit_test(test_policy_evaluation_vectors),
        cmocka_unit_test(test_policy_forged_cosignature_is_an_error),
        cmocka_unit_test(test_policy_requires_a_listed_log_signature),
        cmocka_unit_test(test_policy_future_cosignature_does_not_count),
        cmocka_unit_test(test_policy_nested_groups_any_order),
        cmocka_unit_test(test_policy_shared_members),
        cmocka_unit_test(test_policy_quorum_none_is_always_met),
        cmocka_unit_test(test_policy_single_witness_quorum),
        cmocka_unit_test(test_policy_hex_key_witness),
        cmocka_unit_test(test_policy_ed25519_vkey_witness_verifies_cosignature),
        cmocka_unit_test(test_policy_syntax_variants),
        cmocka_unit_test(test_policy_rejects_spec_invalid_files),
        cmocka_unit_test(test_policy_rejects_with_line_and_reason),
        cmocka_unit_test(test_policy_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
