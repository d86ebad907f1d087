/*
 * The witness coordinator's protocol side (request bodies, reading replies)
 * against the spec's add-checkpoint vectors, every kind of bad reply, and
 * the checks witness_open makes of a policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/memtiles.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"
#include "tlog/durable.h"
#include "tlog/error.h"
#include "tlog/merkle.h"
#include "witness/protocol.h"
#include "witness/witness.h"

#define W1_VKEY "witness.example.com/w1+969980cf+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X"
#define W2_VKEY "witness.example.org/w2+82091286+BCVDuS/xCVURR2rcg2nbbdyTNmWhGXjdoUBO4QZsqVWd"
#define LOG_VKEY "example.com/vector-log+f55dacaa+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
#define RESPONSE_TIME 1700000001 /* the timestamp of witness-add-checkpoint-response.txt */

/* The size-1000 checkpoint of the vectors, and a reply expectation for it from W1 (and W2) sent with old size 8. */
typedef struct fixture {
    json_t *notes;
    const char *checkpoint;
    tlog_verifier_t *keys[2];
    witness_expect_t expect;
} fixture_t;

static tlog_verifier_t *verifier(const char *vkey)
{
    tlog_verifier_t *v;
    char err[TLOG_ERR_MAX];
    if (tlog_verifier_from_vkey(vkey, strlen(vkey), &v, err) != 0)
        fail_msg("%s: %s", vkey, err);
    return v;
}

static int fixture_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->notes = vectors_load_json("signed-note.json");
    f->checkpoint = vectors_string(f->notes, "signed_note_1000");
    f->keys[0] = verifier(W1_VKEY);
    f->keys[1] = verifier(W2_VKEY);
    f->expect = (witness_expect_t){
        .checkpoint = f->checkpoint,
        .checkpoint_len = strlen(f->checkpoint),
        .text_len = (size_t)(strstr(f->checkpoint, "\n\n") + 1 - f->checkpoint),
        .size = 1000,
        .old_size = 8,
        .keys = f->keys,
        .nkeys = 1,
        .not_before_s = RESPONSE_TIME - 300,
        .not_after_s = RESPONSE_TIME + 300,
    };
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture_t *f = *state;
    tlog_verifier_free(f->keys[0]);
    tlog_verifier_free(f->keys[1]);
    json_decref(f->notes);
    free(f);
    return 0;
}

/* Reads body as the reply of status; returns the outcome, the reply kept in *out (free its lines). */
static int read_reply(const fixture_t *f, long status, const char *body, witness_reply_t *out, uint8_t *key_signed)
{
    witness_reply_read(&f->expect, status, body, strlen(body), out, key_signed);
    return out->outcome;
}

static void expect_outcome(const fixture_t *f, long status, const char *body, int outcome, const char *mentions)
{
    witness_reply_t reply;
    uint8_t signed_by[2];
    int got = read_reply(f, status, body, &reply, signed_by);
    if (got != outcome)
        fail_msg("status %ld body \"%s\": outcome %s (%s), want %s", status, body, witness_outcome_name(got), reply.why,
                 witness_outcome_name(outcome));
    if (outcome != WITNESS_COSIGNED) {
        assert_int_equal(reply.lines.len, 0);
        assert_int_equal(signed_by[0], 0);
        testutil_assert_mentions(reply.why, mentions);
    }
    tlog_buf_free(&reply.lines);
}

static void test_witness_request_bodies_match_vectors(void **state)
{
    fixture_t *f = *state;
    memtiles_t *store = memtiles_new();
    tlog_hash_t leaf, proof[TLOG_MAX_PROOF];
    size_t len, n;
    char err[TLOG_ERR_MAX];
    tlog_buf_t body = TLOG_BUF_INIT;

    for (uint64_t i = 0; i < 1000; i++) {
        memtiles_vector_leaf(i, &leaf);
        memtiles_append(store, &leaf);
    }
    memtiles_publish(store);
    tlog_tile_reader_t *reader = malloc(sizeof(*reader));
    tlog_tile_reader_init(reader, 1000, memtiles_read, store);
    tlog_node_reader_t nodes = tlog_tile_reader_nodes(reader);
    assert_int_equal(tlog_consistency_proof(&nodes, 8, 1000, proof, &len, err), 0);
    witness_request_body(8, proof, len, f->checkpoint, strlen(f->checkpoint), &body);
    char *want = vectors_read_file("witness-add-checkpoint-request.txt", &n);
    assert_int_equal(body.len, n);
    assert_memory_equal(body.data, want, n);
    free(want);

    /* First contact: old 0, no proof. */
    body.len = 0;
    const char *note8 = vectors_string(f->notes, "signed_note");
    witness_request_body(0, NULL, 0, note8, strlen(note8), &body);
    want = vectors_read_file("witness-first-request-old0.txt", &n);
    assert_int_equal(body.len, n);
    assert_memory_equal(body.data, want, n);
    free(want);
    tlog_buf_free(&body);
    free(reader);
    memtiles_free(store);
}

static void test_witness_reply_vector_cosigns(void **state)
{
    fixture_t *f = *state;
    witness_reply_t reply;
    uint8_t signed_by[2];
    char *body = vectors_read_file("witness-add-checkpoint-response.txt", NULL);

    assert_int_equal(read_reply(f, 200, body, &reply, signed_by), WITNESS_COSIGNED);
    assert_int_equal(signed_by[0], 1);
    assert_int_equal(reply.lines.len, strlen(body));
    assert_memory_equal(reply.lines.data, body, strlen(body));
    tlog_buf_free(&reply.lines);

    /* A witness with two keys: only the one that signed is marked. */
    f->expect.nkeys = 2;
    assert_int_equal(read_reply(f, 200, body, &reply, signed_by), WITNESS_COSIGNED);
    assert_int_equal(signed_by[0], 1);
    assert_int_equal(signed_by[1], 0);
    tlog_buf_free(&reply.lines);

    /* Lines of other keys (another witness, an ML-DSA line it has no key for) are dropped, never published. */
    char *more = testutil_format("— other.example/x AAAAAQAAAAA=\n%s— witness.example.org/w2 ggkShgAAAAA=\n", body);
    f->expect.nkeys = 1;
    assert_int_equal(read_reply(f, 200, more, &reply, signed_by), WITNESS_COSIGNED);
    assert_int_equal(reply.lines.len, strlen(body));
    assert_memory_equal(reply.lines.data, body, strlen(body));
    tlog_buf_free(&reply.lines);
    free(more);
    free(body);
}

static void test_witness_reply_bad_cosignatures(void **state)
{
    fixture_t *f = *state;
    char *body = vectors_read_file("witness-add-checkpoint-response.txt", NULL);
    char *first = vectors_read_file("witness-first-response-old0.txt", NULL);

    /* One signature byte changed (well before the padding, still valid base64). */
    char *forged = strdup(body);
    char *c = forged + strlen(forged) - 20;
    *c = *c == 'A' ? 'B' : 'A';
    expect_outcome(f, 200, forged, WITNESS_BAD_SIGNATURE, "does not verify");
    /* A valid cosignature, but of another checkpoint (size 8). */
    expect_outcome(f, 200, first, WITNESS_BAD_SIGNATURE, "does not verify");
    /* Only a line of a key the witness does not have in the policy. */
    expect_outcome(f, 200, "— other.example/x AAAAAQAAAAA=\n", WITNESS_BAD_SIGNATURE, "no signature line");
    /* Timestamps outside the window: in the future, or long before the checkpoint was handed over. */
    f->expect.not_after_s = RESPONSE_TIME - 1;
    expect_outcome(f, 200, body, WITNESS_BAD_SIGNATURE, "timestamped 1700000001");
    f->expect.not_after_s = RESPONSE_TIME + 300;
    f->expect.not_before_s = RESPONSE_TIME + 1;
    expect_outcome(f, 200, body, WITNESS_BAD_SIGNATURE, "outside");
    free(forged);
    free(first);
    free(body);
}

static void test_witness_reply_garbage_is_invalid(void **state)
{
    fixture_t *f = *state;
    char *body = vectors_read_file("witness-add-checkpoint-response.txt", NULL);
    char *blank_first = testutil_format("\n%s", body);
    char *no_newline = strndup(body, strlen(body) - 1);
    char *two = testutil_format("%s\n%s", body, body);

    expect_outcome(f, 200, "", WITNESS_INVALID, "empty");
    expect_outcome(f, 200, "\x01\xff this is not a cosignature\n", WITNESS_INVALID, "not a signature line");
    expect_outcome(f, 200, blank_first, WITNESS_INVALID, "not a signature line");
    expect_outcome(f, 200, two, WITNESS_INVALID, "not a signature line");
    expect_outcome(f, 200, no_newline, WITNESS_INVALID, "does not end in a newline");
    expect_outcome(f, 200, "— witness.example.com/w1 !!!!\n", WITNESS_INVALID, "base64");
    expect_outcome(f, 200, "— \n", WITNESS_INVALID, "not a signature line");
    free(two);
    free(no_newline);
    free(blank_first);
    free(body);
}

static void test_witness_reply_conflict_sizes(void **state)
{
    fixture_t *f = *state;
    witness_reply_t reply;
    uint8_t signed_by[2];

    assert_int_equal(read_reply(f, 409, "500\n", &reply, signed_by), WITNESS_CONFLICT);
    assert_int_equal(reply.size, 500);
    assert_int_equal(read_reply(f, 409, "0", &reply, signed_by), WITNESS_CONFLICT);
    assert_int_equal(reply.size, 0);
    assert_int_equal(read_reply(f, 409, "1000\n", &reply, signed_by), WITNESS_CONFLICT);
    assert_int_equal(read_reply(f, 409, "1001\n", &reply, signed_by), WITNESS_AHEAD);
    assert_int_equal(reply.size, 1001);
    testutil_assert_mentions(reply.why, "larger than the log's 1000");
    expect_outcome(f, 409, "9223372036854775807\n", WITNESS_AHEAD, "9223372036854775807");
    expect_outcome(f, 409, "8\n", WITNESS_INVALID, "the old size the request sent");
    expect_outcome(f, 409, "", WITNESS_INVALID, "not a tree size");
    expect_outcome(f, 409, "08\n", WITNESS_INVALID, "not a tree size");
    expect_outcome(f, 409, "-1\n", WITNESS_INVALID, "not a tree size");
    expect_outcome(f, 409, "5\n\n", WITNESS_INVALID, "not a tree size");
    expect_outcome(f, 409, "5 \n", WITNESS_INVALID, "not a tree size");
    expect_outcome(f, 409, "9223372036854775808\n", WITNESS_INVALID, "not a tree size");
    expect_outcome(f, 409, "99999999999999999999\n", WITNESS_INVALID, "not a tree size");
}

static void test_witness_reply_statuses(void **state)
{
    fixture_t *f = *state;
    expect_outcome(f, 400, "bad request\n", WITNESS_REJECTED, "status 400: bad request");
    expect_outcome(f, 403, "unknown key\nmore", WITNESS_REJECTED, "status 403: unknown key");
    expect_outcome(f, 404, "", WITNESS_REJECTED, "status 404");
    expect_outcome(f, 422, "proof\x01", WITNESS_REJECTED, "status 422: proof?");
    expect_outcome(f, 500, "oops", WITNESS_SERVER_ERROR, "status 500: oops");
    expect_outcome(f, 503, "", WITNESS_SERVER_ERROR, "status 503");
    expect_outcome(f, 204, "", WITNESS_INVALID, "status 204");
    expect_outcome(f, 301, "", WITNESS_INVALID, "status 301");
    for (int o = 0; o < WITNESS_OUTCOMES; o++)
        assert_string_not_equal(witness_outcome_name(o), "unknown");
    assert_string_equal(witness_outcome_name(WITNESS_OUTCOMES), "unknown");
}

static int host_fails(void *ctx, const char *url, uint64_t *size, char *err)
{
    (void)ctx, (void)url, (void)size;
    return tlog_errorf(err, "not called by witness_open");
}

/* Opens a coordinator for policy text; 0 or -1 with err. */
static int open_with(const char *policy, witness_t **out, char *err)
{
    char *path = testutil_path("policy");
    faro_log_config_t config = {.name = "unit", .witness_policy = path, .witness_timeout_ms = 1000};
    witness_host_t host = {.load_size = host_fails};
    tlog_verifier_t *log_key = verifier(LOG_VKEY);
    assert_int_equal(tlog_durable_write(path, policy, strlen(policy), TLOG_DURABLE_MUTABLE, err), 0);
    int rc = witness_open(&config, log_key, &host, out, err);
    witness_free(*out);
    tlog_verifier_free(log_key);
    return rc;
}

static void test_witness_open_checks_the_policy(void **state)
{
    (void)state;
    witness_t *w = NULL;
    char err[TLOG_ERR_MAX] = "";

    char *good = testutil_format("log %s\nwitness W1 %s http://127.0.0.1:1/w1\nwitness W2 %s http://127.0.0.1:1/w2/\n"
                                 "group g any W1 W2\nquorum g\n",
                                 LOG_VKEY, W1_VKEY, W2_VKEY);
    assert_int_equal(open_with(good, &w, err), 0);
    assert_non_null(w);

    assert_int_equal(open_with("witness W1 " W1_VKEY " http://127.0.0.1:1/w1\nquorum none\n", &w, err), 0);
    assert_null(w);

    assert_int_equal(open_with("witness W1 " W1_VKEY "\nquorum W1\n", &w, err), -1);
    testutil_assert_mentions(err, "has no URL");
    testutil_assert_mentions(err, "policy");

    char *other_log = testutil_format("log %s\nwitness W1 %s http://127.0.0.1:1/w1\nquorum W1\n",
                                      "other.example/log+6377fea2+ASSKy9uvngUBlt5wS+otaHcOUZFQ0QO1h9ri2crVPdkw", W1_VKEY);
    assert_int_equal(open_with(other_log, &w, err), -1);
    testutil_assert_mentions(err, "lists logs, but not this log's key " LOG_VKEY);

    assert_int_equal(open_with("quorum W9\n", &w, err), -1);
    testutil_assert_mentions(err, "line 1: quorum: W9 is not defined");
    free(other_log);
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_witness_request_bodies_match_vectors, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_witness_reply_vector_cosigns, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_witness_reply_bad_cosignatures, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_witness_reply_garbage_is_invalid, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_witness_reply_conflict_sizes, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_witness_reply_statuses, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_witness_open_checks_the_policy, testutil_dir_setup, testutil_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
