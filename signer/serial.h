/*
 * serial.h -- SOA serial numbers: RFC 1982 arithmetic and the serial
 * policies of common/policy.h.
 */
#ifndef DZ_SIGNER_SERIAL_H
#define DZ_SIGNER_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/policy.h"

/*
 * a > b in serial number arithmetic (RFC 1982 section 3.2).  Serials that
 * differ by exactly 2^31 are not comparable; both directions return false.
 */
bool dz_serial_gt(uint32_t a, uint32_t b);

/* a + n (RFC 1982 section 3.1); n must be at most 2^31 - 1. */
uint32_t dz_serial_add(uint32_t a, uint32_t n);

/*
 * Compute the serial to publish for new content.  `input` is the serial of
 * the unsigned SOA and `previous` the last published serial (when
 * have_previous).  The policies:
 *   KEEP         `input`; DZ_ESTATE unless it is greater than the previous.
 *   INCREMENT    previous + 1, or `input` without a previous.
 *   UNIXTIME     `now`, or previous + 1 when `now` is not larger.
 *   DATECOUNTER  YYYYMMDD00 of `now` in UTC, or previous + 1 when that is
 *                not larger.
 * Without a previous, UNIXTIME and DATECOUNTER keep `input` when it is
 * larger than the clock's value.
 */
dz_result_t dz_serial_next(dz_serial_policy_t policy, uint32_t input, bool have_previous,
			   uint32_t previous, dz_time_t now, uint32_t *serial, dz_error_t *err);

/* Policy name ("keep", "increment", "unixtime", "datecounter"). */
const char *dz_serial_policy_name(dz_serial_policy_t policy);

/* Parse a policy name; false if unknown. */
bool dz_serial_policy_parse(const char *text, dz_serial_policy_t *policy);

#endif
