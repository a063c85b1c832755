#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"

struct dz_clock {
	bool fake;
	dz_time_t now;
};

static dz_clock_t system_clock = { .fake = false, .now = 0 };

dz_clock_t *
dz_clock_system(void)
{
	return &system_clock;
}

dz_clock_t *
dz_clock_fake_create(dz_time_t start)
{
	dz_clock_t *clock = calloc(1, sizeof(*clock));

	if (clock == NULL)
		return NULL;
	clock->fake = true;
	clock->now = start;
	return clock;
}

void
dz_clock_destroy(dz_clock_t *clock)
{
	if (clock == NULL || clock == &system_clock)
		return;
	free(clock);
}

dz_time_t
dz_clock_now(const dz_clock_t *clock)
{
	struct timespec ts;

	if (clock->fake)
		return clock->now;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (dz_time_t)ts.tv_sec;
}

void
dz_clock_set(dz_clock_t *clock, dz_time_t now)
{
	assert(clock->fake);
	clock->now = now;
}

void
dz_clock_advance(dz_clock_t *clock, int64_t seconds)
{
	assert(clock->fake);
	clock->now += seconds;
}

int64_t
dz_clock_boottime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

const char *
dz_time_format(dz_time_t t, char buf[DZ_TIME_TEXT_MAX])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == DZ_TIME_NEVER) {
		snprintf(buf, DZ_TIME_TEXT_MAX, "never");
		return buf;
	}
	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, DZ_TIME_TEXT_MAX, "@%" PRId64, t);
		return buf;
	}
	/* gmtime_r keeps every field in range, so only the year can be long. */
	char text[96];
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(buf, DZ_TIME_TEXT_MAX, "%.*s", DZ_TIME_TEXT_MAX - 1, text);
	return buf;
}

/* Days from 1970-01-01 to the given proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
valid_date_time(int year, int mon, int day, int hour, int min, int sec)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || day < 1)
		return false;
	if (day > mdays[mon - 1])
		return false;
	if (mon == 2 && day == 29) {
		bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
		if (!leap)
			return false;
	}
	return hour >= 0 && hour <= 23 && min >= 0 && min <= 59 && sec >= 0 && sec <= 60;
}

dz_result_t
dz_time_parse(const char *text, dz_time_t *out, dz_error_t *err)
{
	int year, mon, day, hour, min, sec = 0;
	int consumed = 0;

	if (text[0] == '@') {
		char *end;
		errno = 0;
		long long v = strtoll(text + 1, &end, 10);
		if (errno != 0 || end == text + 1 || *end != '\0' || v < 0)
			goto invalid;
		*out = (dz_time_t)v;
		return DZ_OK;
	}

	size_t len = strlen(text);
	if (len == 14 && strspn(text, "0123456789") == 14) {
		if (sscanf(text, "%4d%2d%2d%2d%2d%2d", &year, &mon, &day, &hour, &min, &sec) != 6)
			goto invalid;
	} else if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min,
			  &sec, &consumed) == 6 && strcmp(text + consumed, "Z") == 0) {
		/* RFC 3339 with seconds. */
	} else if (sec = 0, sscanf(text, "%4d-%2d-%2dT%2d:%2d%n", &year, &mon, &day, &hour, &min,
				   &consumed) == 5 && strcmp(text + consumed, "Z") == 0) {
		/* RFC 3339 without seconds. */
	} else {
		goto invalid;
	}
	if (!valid_date_time(year, mon, day, hour, min, sec))
		goto invalid;
	if (sec == 60)
		sec = 59;
	*out = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 +
	       min * 60 + sec;
	return DZ_OK;

invalid:
	return dz_error_set(err, DZ_EINVAL,
			    "invalid time '%s': expected UTC as 2027-01-03T10:00:00Z, "
			    "20270103100000 or @SECONDS",
			    text);
}
