/* CLOCK_MONOTONIC readings, for durations and deadlines (never for timestamps anyone else sees). */
#ifndef FARO_CLOCK_H
#define FARO_CLOCK_H

#include <stdint.h>

uint64_t faro_monotonic_ns(void);
uint64_t faro_monotonic_ms(void);

#endif
