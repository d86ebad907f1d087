/*
 * RFC 6962 Merkle trees over SHA-256.
 *
 * Proof generation follows the RFC's recursive definitions (PATH, PROOF and
 * SUBPROOF), where every subtree named is either a complete node, read with
 * one call to the node reader, or the tree's right edge, which splits into at
 * most 64 complete nodes. Recursion depth is bounded by the tree height (64).
 *
 * Verification is the iterative RFC 9162 algorithm, which never indexes
 * outside the proof it is given.
 */
#include <assert.h>
#include <string.h>

#include "tlog/error.h"
#include "tlog/merkle.h"

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

void tlog_range_init(tlog_range_t *range)
{
    range->size = 0;
    range->count = 0;
}

void tlog_range_append(tlog_range_t *range, const tlog_hash_t *leaf, tlog_node_cb on_node, void *ctx)
{
    tlog_hash_t hash = *leaf;
    uint64_t index = range->size;
    unsigned height = 0;

    if (on_node != NULL)
        on_node(ctx, 0, index, &hash);
    /* Each trailing one bit of the old size is a complete sibling on the left to merge with. */
    while (index & 1) {
        assert(range->count > 0);
        tlog_node_hash(&range->nodes[--range->count], &hash, &hash);
        index >>= 1;
        height++;
        if (on_node != NULL)
            on_node(ctx, height, index, &hash);
    }
    range->nodes[range->count++] = hash;
    range->size++;
    assert((unsigned)__builtin_popcountll(range->size) == range->count);
}

void tlog_range_root(const tlog_range_t *range, tlog_hash_t *out)
{
    if (range->count == 0) {
        tlog_empty_root(out);
        return;
    }
    tlog_hash_t root = range->nodes[range->count - 1];
    for (unsigned i = range->count - 1; i-- > 0;)
        tlog_node_hash(&range->nodes[i], &root, &root);
    *out = root;
}

/* MTH(D[lo:hi]) where [lo, hi) is a node or the right edge of one (lo is a multiple of the split). */
static int subtree_hash(const tlog_node_reader_t *reader, uint64_t lo, uint64_t hi, tlog_hash_t *out, char *err)
{
    uint64_t n = hi - lo;
    if ((n & (n - 1)) == 0 && lo % n == 0) {
        unsigned height = (unsigned)__builtin_ctzll(n);
        return reader->read(reader->ctx, height, lo >> height, out, err);
    }
    uint64_t k = split_point(n);
    tlog_hash_t left, right;
    if (subtree_hash(reader, lo, lo + k, &left, err) != 0 || subtree_hash(reader, lo + k, hi, &right, err) != 0)
        return -1;
    tlog_node_hash(&left, &right, out);
    return 0;
}

int tlog_tree_hash(const tlog_node_reader_t *reader, uint64_t size, tlog_hash_t *out, char *err)
{
    if (size == 0) {
        tlog_empty_root(out);
        return 0;
    }
    return subtree_hash(reader, 0, size, out, err);
}

typedef struct proof_builder {
    const tlog_node_reader_t *reader;
    tlog_hash_t *proof;
    size_t len;
    char *err;
} proof_builder_t;

static int proof_append_subtree(proof_builder_t *b, uint64_t lo, uint64_t hi)
{
    if (b->len == TLOG_MAX_PROOF)
        return tlog_errorf(b->err, "proof longer than %d hashes", TLOG_MAX_PROOF);
    return subtree_hash(b->reader, lo, hi, &b->proof[b->len++], b->err);
}

/* PATH(m, D[lo:hi]), leaf to root. */
static int inclusion_path(proof_builder_t *b, uint64_t m, uint64_t lo, uint64_t hi)
{
    if (hi - lo == 1)
        return 0;
    uint64_t k = split_point(hi - lo);
    if (m < lo + k)
        return inclusion_path(b, m, lo, lo + k) != 0 ? -1 : proof_append_subtree(b, lo + k, hi);
    return inclusion_path(b, m, lo + k, hi) != 0 ? -1 : proof_append_subtree(b, lo, lo + k);
}

int tlog_inclusion_proof(const tlog_node_reader_t *reader, uint64_t index, uint64_t size, tlog_hash_t *proof, size_t *len,
                         char *err)
{
    if (index >= size)
        return tlog_errorf(err, "leaf index %llu is not in a tree of size %llu", (unsigned long long)index,
                           (unsigned long long)size);
    proof_builder_t b = {reader, proof, 0, err};
    if (inclusion_path(&b, index, 0, size) != 0)
        return -1;
    *len = b.len;
    return 0;
}

/* SUBPROOF(m, D[lo:hi], complete), with m the absolute old size. */
static int consistency_subproof(proof_builder_t *b, uint64_t m, uint64_t lo, uint64_t hi, int complete)
{
    if (m == hi)
        return complete ? 0 : proof_append_subtree(b, lo, hi);
    uint64_t k = split_point(hi - lo);
    if (m <= lo + k)
        return consistency_subproof(b, m, lo, lo + k, complete) != 0 ? -1 : proof_append_subtree(b, lo + k, hi);
    return consistency_subproof(b, m, lo + k, hi, 0) != 0 ? -1 : proof_append_subtree(b, lo, lo + k);
}

int tlog_consistency_proof(const tlog_node_reader_t *reader, uint64_t old_size, uint64_t new_size, tlog_hash_t *proof, size_t *len,
                           char *err)
{
    if (old_size > new_size)
        return tlog_errorf(err, "old size %llu is larger than new size %llu", (unsigned long long)old_size,
                           (unsigned long long)new_size);
    *len = 0;
    if (old_size == 0 || old_size == new_size)
        return 0;
    proof_builder_t b = {reader, proof, 0, err};
    if (consistency_subproof(&b, old_size, 0, new_size, 1) != 0)
        return -1;
    *len = b.len;
    return 0;
}

int tlog_inclusion_verify(uint64_t index, uint64_t size, const tlog_hash_t *leaf, const tlog_hash_t *proof, size_t len,
                          const tlog_hash_t *root, char *err)
{
    if (index >= size)
        return tlog_errorf(err, "leaf index %llu is not in a tree of size %llu", (unsigned long long)index,
                           (unsigned long long)size);
    uint64_t fn = index, sn = size - 1;
    tlog_hash_t r = *leaf;
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return tlog_errorf(err, "inclusion proof has %zu hashes, more than the tree needs", len);
        if ((fn & 1) == 1 || fn == sn) {
            tlog_node_hash(&proof[i], &r, &r);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            tlog_node_hash(&r, &proof[i], &r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return tlog_errorf(err, "inclusion proof has %zu hashes, fewer than the tree needs", len);
    if (!tlog_hash_equal(&r, root))
        return tlog_errorf(err, "inclusion proof does not lead to the root hash");
    return 0;
}

int tlog_consistency_verify(uint64_t old_size, uint64_t new_size, const tlog_hash_t *old_root, const tlog_hash_t *new_root,
                            const tlog_hash_t *proof, size_t len, char *err)
{
    if (old_size > new_size)
        return tlog_errorf(err, "old size %llu is larger than new size %llu", (unsigned long long)old_size,
                           (unsigned long long)new_size);
    if (old_size == new_size) {
        if (len != 0)
            return tlog_errorf(err, "consistency proof between equal sizes must be empty");
        if (!tlog_hash_equal(old_root, new_root))
            return tlog_errorf(err, "equal sizes with different root hashes");
        return 0;
    }
    if (old_size == 0) {
        if (len != 0)
            return tlog_errorf(err, "consistency proof from size 0 must be empty");
        return 0;
    }
    if (len == 0)
        return tlog_errorf(err, "consistency proof is empty");

    /* When old_size is a power of two the old root is itself the first node of the proof. */
    int old_is_node = (old_size & (old_size - 1)) == 0;
    const tlog_hash_t *first = old_is_node ? old_root : &proof[0];
    size_t next = old_is_node ? 0 : 1;
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while ((fn & 1) == 1) {
        fn >>= 1;
        sn >>= 1;
    }
    tlog_hash_t fr = *first, sr = *first;
    for (size_t i = next; i < len; i++) {
        if (sn == 0)
            return tlog_errorf(err, "consistency proof has %zu hashes, more than the trees need", len);
        if ((fn & 1) == 1 || fn == sn) {
            tlog_node_hash(&proof[i], &fr, &fr);
            tlog_node_hash(&proof[i], &sr, &sr);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            tlog_node_hash(&sr, &proof[i], &sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return tlog_errorf(err, "consistency proof has %zu hashes, fewer than the trees need", len);
    if (!tlog_hash_equal(&fr, old_root))
        return tlog_errorf(err, "consistency proof does not lead to the old root hash");
    if (!tlog_hash_equal(&sr, new_root))
        return tlog_errorf(err, "consistency proof does not lead to the new root hash");
    return 0;
}
