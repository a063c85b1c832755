/*
 * duration.h -- time spans in seconds, as operators write them.
 */
#ifndef DZ_COMMON_DURATION_H
#define DZ_COMMON_DURATION_H

#include <stdint.h>

#include "common/error.h"

/* Largest accepted duration: 100 years, far beyond any DNSSEC interval. */
#define DZ_DURATION_MAX (100LL * 366 * 86400)

/*
 * Parse a duration into seconds.  Accepted forms:
 *   "3600"          plain seconds
 *   "1w2d3h4m5s"    units s, m, h, d, w (case-insensitive, any subset, in
 *                   decreasing order), as in BIND and Knot
 *   "P1DT2H", "P2W" ISO 8601 durations, as in BIND's dnssec-policy
 *                   (years and months are rejected: their length varies)
 * Values above DZ_DURATION_MAX and negative values are rejected.
 */
dz_result_t dz_duration_parse(const char *text, int64_t *seconds, dz_error_t *err);

/*
 * Size of a buffer for dz_duration_format(); enough for DZ_DURATION_MAX
 * ("5229w6d23h59m59s") with room to spare.
 */
#define DZ_DURATION_TEXT_MAX 32

/*
 * Format seconds with the largest units ("1d2h", "45m", "0s"); negative
 * values get a leading '-'.
 */
const char *dz_duration_format(int64_t seconds, char buf[DZ_DURATION_TEXT_MAX]);

#endif
