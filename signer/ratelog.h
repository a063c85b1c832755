/*
 * ratelog.h -- log lines about network input, rate-limited per category.
 *
 * Malformed packets, failed TSIG checks and refused requests come from the
 * network at any rate; each category logs at most DZ_RATELOG_BURST lines
 * per DZ_RATELOG_WINDOW seconds and then one line with the number of lines
 * it suppressed.  Not thread safe: one per category per thread.
 */
#ifndef DZ_SIGNER_RATELOG_H
#define DZ_SIGNER_RATELOG_H

#include <stdint.h>

#include "common/log.h"

#define DZ_RATELOG_WINDOW 10
#define DZ_RATELOG_BURST 5

typedef struct dz_ratelog {
	int64_t window_start;
	unsigned logged;
	unsigned long suppressed;
} dz_ratelog_t;

/* Log the message unless the category is over its rate; `now` in seconds. */
void dz_ratelog(dz_ratelog_t *rate, int64_t now, dz_log_level_t level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
