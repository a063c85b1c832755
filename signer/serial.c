#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "signer/serial.h"

/* The candidate, or the base + 1 when the candidate is not larger than the base. */
static uint32_t
at_least_next(uint32_t candidate, uint32_t base)
{
	return dz_serial_gt(candidate, base) ? candidate : dz_serial_add(base, 1);
}

/*
 * A serial from the clock: the candidate when it is greater than the
 * previous serial, else previous + 1.  Without a previous version the
 * source's serial is kept when the candidate is not greater than it.
 */
static uint32_t
next_from_clock(uint32_t candidate, uint32_t input, bool have_previous, uint32_t previous)
{
	if (have_previous)
		return at_least_next(candidate, previous);
	return dz_serial_gt(candidate, input) ? candidate : input;
}

dz_result_t
dz_serial_next(dz_serial_policy_t policy, uint32_t input, bool have_previous, uint32_t previous,
	       dz_time_t now, uint32_t *serial, dz_error_t *err)
{
	uint32_t candidate;
	struct tm tm;
	time_t t = (time_t)now;

	switch (policy) {
	case DZ_SERIAL_KEEP:
		if (have_previous && !dz_serial_gt(input, previous))
			return dz_error_set(err, DZ_ESTATE,
					    "the SOA serial %u of the zone source is not greater than the published serial %u; raise it in the source or choose another serial policy",
					    input, previous);
		*serial = input;
		return DZ_OK;
	case DZ_SERIAL_INCREMENT:
		*serial = have_previous ? dz_serial_add(previous, 1) : input;
		return DZ_OK;
	case DZ_SERIAL_UNIXTIME:
		candidate = (uint32_t)now;
		*serial = next_from_clock(candidate, input, have_previous, previous);
		return DZ_OK;
	case DZ_SERIAL_DATECOUNTER:
		if (gmtime_r(&t, &tm) == NULL)
			return dz_error_set(err, DZ_EINVAL, "time %lld cannot be converted to a date",
					    (long long)now);
		candidate = (uint32_t)(tm.tm_year + 1900) * 1000000U + (uint32_t)(tm.tm_mon + 1) * 10000U +
			    (uint32_t)tm.tm_mday * 100U;
		*serial = next_from_clock(candidate, input, have_previous, previous);
		return DZ_OK;
	}
	return dz_error_set(err, DZ_EINVAL, "unknown serial policy %d", (int)policy);
}

static const char *const names[] = {
	[DZ_SERIAL_KEEP] = "keep",
	[DZ_SERIAL_INCREMENT] = "increment",
	[DZ_SERIAL_UNIXTIME] = "unixtime",
	[DZ_SERIAL_DATECOUNTER] = "datecounter",
};

const char *
dz_serial_policy_name(dz_serial_policy_t policy)
{
	return (unsigned)policy < sizeof(names) / sizeof(names[0]) ? names[policy] : "unknown";
}

bool
dz_serial_policy_parse(const char *text, dz_serial_policy_t *policy)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(text, names[i]) == 0) {
			*policy = (dz_serial_policy_t)i;
			return true;
		}
	}
	return false;
}
