/*
 * Proof verifiers: arbitrary sizes, indices and proof bytes must never crash
 * or read outside the proof. Layout: u64 a, u64 b, 32-byte root 1, 32-byte
 * root 2, then proof hashes; the first byte's low bit picks the verifier.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/merkle.h"

static uint64_t read_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 + 16 + 64)
        return 0;
    int consistency = data[0] & 1;
    uint64_t a = read_u64(data + 1), b = read_u64(data + 9);
    tlog_hash_t r1, r2;
    memcpy(r1.bytes, data + 17, 32);
    memcpy(r2.bytes, data + 49, 32);
    size_t len = (size - 81) / TLOG_HASH_SIZE;
    tlog_hash_t *proof = malloc((len ? len : 1) * sizeof(*proof));
    memcpy(proof, data + 81, len * TLOG_HASH_SIZE);
    if (consistency)
        tlog_consistency_verify(a, b, &r1, &r2, proof, len, NULL);
    else
        tlog_inclusion_verify(a, b, &r1, proof, len, &r2, NULL);
    free(proof);
    return 0;
}
