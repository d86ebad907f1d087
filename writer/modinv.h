/* Inverses modulo a 256-bit odd number, for the issuer tables' signature checks. */
#ifndef FARO_WRITER_MODINV_H
#define FARO_WRITER_MODINV_H

#include <stdint.h>

/*
 * out = a⁻¹ mod m, for an odd m below 2^256 and 0 < a < m; numbers are four
 * 64-bit limbs, least significant first. 0, or -1 when a has no inverse.
 * The time it takes depends on a and m: only for public values.
 */
int modinv_var(uint64_t out[4], const uint64_t a[4], const uint64_t m[4]);

#endif
