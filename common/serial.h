/*
 * serial.h -- SOA serial number arithmetic (RFC 1982 with SERIAL_BITS 32).
 *
 * Every comparison of SOA serials in danezone goes through dz_serial_gt():
 * the signer choosing the next serial, the publisher rejecting a serial that
 * does not move forward, the journal and the IXFR responder.
 */
#ifndef DZ_COMMON_SERIAL_H
#define DZ_COMMON_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Whether `a` is greater than `b` (RFC 1982 section 3.2): (a - b) mod 2^32
 * lies in 1 .. 2^31 - 1.  RFC 1982 leaves serials that differ by exactly
 * 2^31 undefined, and peers may order them either way, so neither is
 * greater here: dz_serial_gt(a, b) and dz_serial_gt(b, a) are both false.
 * A serial 2^31 away from the published one is therefore never accepted as
 * newer.  Equal serials are not greater either.
 */
static inline bool
dz_serial_gt(uint32_t a, uint32_t b)
{
	uint32_t distance = a - b; /* unsigned arithmetic wraps modulo 2^32 */

	return distance != 0 && distance < 0x80000000u;
}

/* a + n (RFC 1982 section 3.1); n must be at most 2^31 - 1. */
static inline uint32_t
dz_serial_add(uint32_t a, uint32_t n)
{
	return a + n;
}

#endif
