/* Merkle hashing, compact ranges, proofs and the edge, against the shared vectors and a direct RFC 6962 model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/memtiles.h"
#include "tests/unit/vectors.h"
#include "tlog/error.h"
#include "tlog/merkle.h"
#include "tlog/tile.h"

static void hash_from_hex(const char *hex, tlog_hash_t *out)
{
    assert_int_equal(tlog_hex_decode(hex, strlen(hex), out->bytes, TLOG_HASH_SIZE), 0);
}

/* A store holding the vector tree of 1000 leaves, with partial tiles published at the given sizes. */
static memtiles_t *vector_store(uint64_t size, const uint64_t *published, size_t npublished)
{
    memtiles_t *store = memtiles_new();
    for (uint64_t i = 0; i < size; i++) {
        tlog_hash_t leaf;
        memtiles_vector_leaf(i, &leaf);
        memtiles_append(store, &leaf);
        for (size_t j = 0; j < npublished; j++)
            if (published[j] == i + 1)
                memtiles_publish(store);
    }
    return store;
}

static void test_tlog_merkle_roots_match_vectors(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("merkle-roots.json");
    json_t *roots = json_object_get(v, "roots"), *r;
    size_t i;
    json_array_foreach(roots, i, r)
    {
        uint64_t size = (uint64_t)json_integer_value(json_object_get(r, "tree_size"));
        tlog_hash_t want, got;
        hash_from_hex(vectors_string(r, "root_hash_hex"), &want);

        memtiles_t *store = vector_store(size, &size, 1);
        tlog_range_root(&memtiles_edge(store)->range, &got);
        assert_true(tlog_hash_equal(&got, &want));

        tlog_tile_reader_t reader;
        tlog_tile_reader_init(&reader, size, memtiles_read, store);
        tlog_node_reader_t nodes = tlog_tile_reader_nodes(&reader);
        char err[TLOG_ERR_MAX];
        assert_int_equal(tlog_tree_hash(&nodes, size, &got, err), 0);
        assert_true(tlog_hash_equal(&got, &want));
        memtiles_free(store);
    }
    json_t *leaf;
    json_array_foreach(json_object_get(v, "sample_leaves"), i, leaf)
    {
        tlog_hash_t want, got;
        hash_from_hex(vectors_string(leaf, "leaf_hash_hex"), &want);
        memtiles_vector_leaf((uint64_t)json_integer_value(json_object_get(leaf, "index")), &got);
        assert_true(tlog_hash_equal(&got, &want));
    }
    json_decref(v);
}

static void test_tlog_merkle_empty_tree_is_sha256_of_nothing(void **state)
{
    (void)state;
    tlog_hash_t empty, want;
    tlog_range_t range;
    tlog_range_init(&range);
    tlog_range_root(&range, &empty);
    hash_from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &want);
    assert_true(tlog_hash_equal(&empty, &want));
}

static size_t proof_from_json(json_t *array, tlog_hash_t *proof)
{
    size_t i;
    json_t *h;
    json_array_foreach(array, i, h) hash_from_hex(json_string_value(h), &proof[i]);
    return json_array_size(array);
}

static void test_tlog_merkle_proofs_match_vectors(void **state)
{
    (void)state;
    json_t *v = vectors_load_json("proofs.json");
    uint64_t sizes[64];
    size_t nsizes = 0, i;
    json_t *c;
    json_array_foreach(json_object_get(v, "consistency"), i, c)
    {
        sizes[nsizes++] = (uint64_t)json_integer_value(json_object_get(c, "old_size"));
        sizes[nsizes++] = (uint64_t)json_integer_value(json_object_get(c, "new_size"));
    }
    json_array_foreach(json_object_get(v, "inclusion"), i, c) sizes[nsizes++] =
        (uint64_t)json_integer_value(json_object_get(c, "tree_size"));
    memtiles_t *store = vector_store(1000, sizes, nsizes);
    char err[TLOG_ERR_MAX];

    json_array_foreach(json_object_get(v, "inclusion"), i, c)
    {
        uint64_t index = (uint64_t)json_integer_value(json_object_get(c, "leaf_index"));
        uint64_t size = (uint64_t)json_integer_value(json_object_get(c, "tree_size"));
        tlog_hash_t want[TLOG_MAX_PROOF], got[TLOG_MAX_PROOF], leaf, root;
        size_t want_len = proof_from_json(json_object_get(c, "proof_hex"), want), got_len;
        hash_from_hex(vectors_string(c, "leaf_hash_hex"), &leaf);
        hash_from_hex(vectors_string(c, "root_hash_hex"), &root);

        tlog_tile_reader_t reader;
        tlog_tile_reader_init(&reader, size, memtiles_read, store);
        tlog_node_reader_t nodes = tlog_tile_reader_nodes(&reader);
        assert_int_equal(tlog_inclusion_proof(&nodes, index, size, got, &got_len, err), 0);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len * TLOG_HASH_SIZE);
        assert_int_equal(tlog_inclusion_verify(index, size, &leaf, want, want_len, &root, err), 0);
        if (want_len > 0) {
            want[want_len - 1].bytes[0] ^= 1;
            assert_int_not_equal(tlog_inclusion_verify(index, size, &leaf, want, want_len, &root, err), 0);
        }
    }
    json_array_foreach(json_object_get(v, "consistency"), i, c)
    {
        uint64_t old_size = (uint64_t)json_integer_value(json_object_get(c, "old_size"));
        uint64_t new_size = (uint64_t)json_integer_value(json_object_get(c, "new_size"));
        tlog_hash_t want[TLOG_MAX_PROOF], got[TLOG_MAX_PROOF], old_root, new_root;
        size_t want_len = proof_from_json(json_object_get(c, "proof_hex"), want), got_len;
        hash_from_hex(vectors_string(c, "old_root_hex"), &old_root);
        hash_from_hex(vectors_string(c, "new_root_hex"), &new_root);

        tlog_tile_reader_t reader;
        tlog_tile_reader_init(&reader, new_size, memtiles_read, store);
        tlog_node_reader_t nodes = tlog_tile_reader_nodes(&reader);
        assert_int_equal(tlog_consistency_proof(&nodes, old_size, new_size, got, &got_len, err), 0);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len * TLOG_HASH_SIZE);
        assert_int_equal(tlog_consistency_verify(old_size, new_size, &old_root, &new_root, want, want_len, err), 0);
        if (want_len > 0) {
            want[0].bytes[31] ^= 0x80;
            assert_int_not_equal(tlog_consistency_verify(old_size, new_size, &old_root, &new_root, want, want_len, err), 0);
        }
    }
    memtiles_free(store);
    json_decref(v);
}

/* The RFC 6962 definitions, computed directly from the leaf hashes. */
static void model_root(const tlog_hash_t *leaves, uint64_t n, tlog_hash_t *out)
{
    if (n == 1) {
        *out = leaves[0];
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    tlog_hash_t l, r;
    model_root(leaves, k, &l);
    model_root(leaves + k, n - k, &r);
    tlog_node_hash(&l, &r, out);
}

static void model_path(const tlog_hash_t *leaves, uint64_t m, uint64_t n, tlog_hash_t *proof, size_t *len)
{
    if (n == 1)
        return;
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (m < k) {
        model_path(leaves, m, k, proof, len);
        model_root(leaves + k, n - k, &proof[(*len)++]);
    } else {
        model_path(leaves + k, m - k, n - k, proof, len);
        model_root(leaves, k, &proof[(*len)++]);
    }
}

static void model_subproof(const tlog_hash_t *leaves, uint64_t m, uint64_t n, int complete, tlog_hash_t *proof, size_t *len)
{
    if (m == n) {
        if (!complete)
            model_root(leaves, n, &proof[(*len)++]);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (m <= k) {
        model_subproof(leaves, m, k, complete, proof, len);
        model_root(leaves + k, n - k, &proof[(*len)++]);
    } else {
        model_subproof(leaves + k, m - k, n - k, 0, proof, len);
        model_root(leaves, k, &proof[(*len)++]);
    }
}

static void test_tlog_merkle_every_size_matches_model(void **state)
{
    (void)state;
    enum { N = 600 };
    tlog_hash_t leaves[N];
    memtiles_t *store = memtiles_new();
    for (uint64_t i = 0; i < N; i++) {
        memtiles_vector_leaf(i, &leaves[i]);
        memtiles_append(store, &leaves[i]);
        memtiles_publish(store);
    }
    char err[TLOG_ERR_MAX];
    srand(6962);
    for (int trial = 0; trial < 400; trial++) {
        uint64_t n = 1 + (uint64_t)rand() % N, m = 1 + (uint64_t)rand() % n, index = (uint64_t)rand() % n;
        tlog_hash_t want[TLOG_MAX_PROOF], got[TLOG_MAX_PROOF], root_n, root_m;
        size_t want_len = 0, got_len;
        model_root(leaves, n, &root_n);
        model_root(leaves, m, &root_m);

        tlog_tile_reader_t reader;
        tlog_tile_reader_init(&reader, n, memtiles_read, store);
        tlog_node_reader_t nodes = tlog_tile_reader_nodes(&reader);
        tlog_hash_t root;
        assert_int_equal(tlog_tree_hash(&nodes, n, &root, err), 0);
        assert_true(tlog_hash_equal(&root, &root_n));

        model_path(leaves, index, n, want, &want_len);
        assert_int_equal(tlog_inclusion_proof(&nodes, index, n, got, &got_len, err), 0);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len * TLOG_HASH_SIZE);
        assert_int_equal(tlog_inclusion_verify(index, n, &leaves[index], got, got_len, &root_n, err), 0);
        if (n > 1)
            assert_int_not_equal(tlog_inclusion_verify((index + 1) % n, n, &leaves[index], got, got_len, &root_n, err), 0);

        want_len = 0;
        if (m < n)
            model_subproof(leaves, m, n, 1, want, &want_len);
        assert_int_equal(tlog_consistency_proof(&nodes, m, n, got, &got_len, err), 0);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len * TLOG_HASH_SIZE);
        assert_int_equal(tlog_consistency_verify(m, n, &root_m, &root_n, got, got_len, err), 0);
        if (got_len > 0) {
            assert_int_not_equal(tlog_consistency_verify(m, n, &root_n, &root_n, got, got_len, err), 0);
            assert_int_not_equal(tlog_consistency_verify(m, n, &root_m, &root_n, got, got_len - 1, err), 0);
        }
    }
    memtiles_free(store);
}

static void test_tlog_merkle_verify_rejects_bad_shapes(void **state)
{
    (void)state;
    tlog_hash_t a, b, proof[2];
    char err[TLOG_ERR_MAX];
    memtiles_vector_leaf(0, &a);
    memtiles_vector_leaf(1, &b);
    proof[0] = b;
    proof[1] = b;
    tlog_hash_t root;
    tlog_node_hash(&a, &b, &root);
    assert_int_equal(tlog_inclusion_verify(0, 2, &a, proof, 1, &root, err), 0);
    assert_int_not_equal(tlog_inclusion_verify(0, 2, &a, proof, 2, &root, err), 0);
    assert_non_null(strstr(err, "more than"));
    assert_int_not_equal(tlog_inclusion_verify(0, 2, &a, proof, 0, &root, err), 0);
    assert_non_null(strstr(err, "fewer than"));
    assert_int_not_equal(tlog_inclusion_verify(2, 2, &a, proof, 1, &root, err), 0);
    assert_int_not_equal(tlog_consistency_verify(3, 2, &root, &root, proof, 1, err), 0);
    assert_int_not_equal(tlog_consistency_verify(0, 2, &root, &root, proof, 1, err), 0);
    assert_int_equal(tlog_consistency_verify(0, 2, &root, &root, proof, 0, err), 0);
    assert_int_not_equal(tlog_consistency_verify(2, 2, &a, &root, proof, 0, err), 0);
    assert_int_not_equal(tlog_consistency_verify(1, 2, &a, &root, proof, 0, err), 0);
}

static void test_tlog_merkle_proof_reports_missing_tiles(void **state)
{
    (void)state;
    memtiles_t *store = vector_store(300, NULL, 0); /* no partial tiles published */
    tlog_tile_reader_t reader;
    tlog_tile_reader_init(&reader, 300, memtiles_read, store);
    tlog_node_reader_t nodes = tlog_tile_reader_nodes(&reader);
    tlog_hash_t proof[TLOG_MAX_PROOF], root;
    size_t len;
    char err[TLOG_ERR_MAX] = "";
    assert_int_not_equal(tlog_tree_hash(&nodes, 300, &root, err), 0);
    assert_non_null(strstr(err, "no tile tile/1/000.p/1"));
    assert_int_not_equal(tlog_inclusion_proof(&nodes, 300, 300, proof, &len, err), 0);
    assert_int_not_equal(tlog_consistency_proof(&nodes, 301, 300, proof, &len, err), 0);
    memtiles_free(store);
}

typedef struct counting_store {
    memtiles_t *store;
    unsigned reads;
} counting_store_t;

static int counting_read(void *ctx, const tlog_tile_t *tile, uint8_t *out, char *err)
{
    counting_store_t *c = ctx;
    c->reads++;
    return memtiles_read(c->store, tile, out, err);
}

/* A proof reads each tile it needs once: 100,000 leaves need one tile per level (3) plus one more at level 0. */
static void test_tlog_merkle_proof_reads_each_tile_once(void **state)
{
    (void)state;
    uint64_t size = 100000;
    counting_store_t c = {vector_store(size, &size, 1), 0};
    tlog_tile_reader_t reader;
    tlog_tile_reader_init(&reader, size, counting_read, &c);
    tlog_node_reader_t nodes = tlog_tile_reader_nodes(&reader);
    tlog_hash_t proof[TLOG_MAX_PROOF];
    size_t len;
    char err[TLOG_ERR_MAX];
    assert_int_equal(tlog_inclusion_proof(&nodes, 70000, size, proof, &len, err), 0);
    assert_int_equal(c.reads, 4);
    memtiles_free(c.store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlog_merkle_roots_match_vectors),
        cmocka_unit_test(test_tlog_merkle_empty_tree_is_sha256_of_nothing),
        cmocka_unit_test(test_tlog_merkle_proofs_match_vectors),
        cmocka_unit_test(test_tlog_merkle_every_size_matches_model),
        cmocka_unit_test(test_tlog_merkle_verify_rejects_bad_shapes),
        cmocka_unit_test(test_tlog_merkle_proof_reports_missing_tiles),
        cmocka_unit_test(test_tlog_merkle_proof_reads_each_tile_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
