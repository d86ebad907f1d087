/* Reading DER elements in submitted certificates (internal to the chain module). */
#ifndef FARO_WRITER_CHAIN_DER_H
#define FARO_WRITER_CHAIN_DER_H

#include <stdint.h>

/*
 * One DER element at *p of the given universal tag, constructed for a
 * SEQUENCE and primitive otherwise, of definite length, inside end; its
 * contents in *body, *p moved past it. 0, or -1 with *p unchanged.
 */
int chain_der_take(const uint8_t **p, const uint8_t *end, int tag, const uint8_t **body, long *body_len);

#endif
