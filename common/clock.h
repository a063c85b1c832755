/*
 * clock.h -- wall-clock time as an injectable value.
 *
 * Logic never reads the time itself: it receives `now` (a dz_time_t) from
 * its caller.  Only the top of a program asks a dz_clock_t, which is the
 * system clock in the daemon and a settable clock in tests, so rollovers and
 * re-signing run on simulated time.
 */
#ifndef DZ_COMMON_CLOCK_H
#define DZ_COMMON_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Seconds since 1970-01-01T00:00:00Z (POSIX time, no leap seconds). */
typedef int64_t dz_time_t;

/* Larger than any real time; "never" for due times. */
#define DZ_TIME_NEVER INT64_MAX

typedef struct dz_clock dz_clock_t;

/* The system wall clock (CLOCK_REALTIME).  Static object; never destroy it. */
dz_clock_t *dz_clock_system(void);

/* A clock that stays at `start` until set or advanced; NULL on ENOMEM. */
dz_clock_t *dz_clock_fake_create(dz_time_t start);

/* Free a clock made by dz_clock_fake_create(); NULL and the system clock are ignored. */
void dz_clock_destroy(dz_clock_t *clock);

/* Current time of the clock. */
dz_time_t dz_clock_now(const dz_clock_t *clock);

/* Set or advance a fake clock; asserts that `clock` is fake. */
void dz_clock_set(dz_clock_t *clock, dz_time_t now);
void dz_clock_advance(dz_clock_t *clock, int64_t seconds);

/*
 * Seconds since boot from CLOCK_BOOTTIME (counts suspend), for detecting
 * wall-clock jumps.  Not injectable: compare it only with earlier readings.
 */
int64_t dz_clock_boottime(void);

/*
 * Size of a buffer for dz_time_format(): "2027-01-03T10:00:00Z" plus NUL,
 * with room for years beyond 9999.
 */
#define DZ_TIME_TEXT_MAX 32

/* Format as RFC 3339 UTC ("2027-01-03T10:00:00Z"); DZ_TIME_NEVER as "never". */
const char *dz_time_format(dz_time_t t, char buf[DZ_TIME_TEXT_MAX]);

/*
 * Parse an absolute time: RFC 3339 UTC ("2027-01-03T10:00:00Z", seconds
 * optional), a DNSSEC timestamp "YYYYMMDDHHmmSS" (RFC 4034 section 3.2),
 * or "@SECONDS" since the epoch.
 */
dz_result_t dz_time_parse(const char *text, dz_time_t *out, dz_error_t *err);

#endif
