/*
 * Clock readings: CLOCK_MONOTONIC for durations and deadlines, CLOCK_REALTIME
 * (milliseconds since the epoch) for timestamps others see and ages of them.
 */
#ifndef FARO_CLOCK_H
#define FARO_CLOCK_H

#include <stdint.h>

uint64_t faro_monotonic_ns(void);
uint64_t faro_monotonic_ms(void);
uint64_t faro_realtime_ms(void);

#endif
