#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/duration.h"

static int64_t
unit_seconds(char unit)
{
	switch (tolower((unsigned char)unit)) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	default:
		return 0;
	}
}

/*
 * Read a run of digits at *p into *value, refusing values that would push a
 * duration past DZ_DURATION_MAX even in seconds.
 */
static bool
read_number(const char **p, int64_t *value)
{
	int64_t v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s - '0');
		if (v > DZ_DURATION_MAX)
			return false;
		s++;
	}
	*value = v;
	*p = s;
	return true;
}

/* Parse the units form "1w2d3h4m5s" (also plain seconds). */
static bool
parse_units(const char *text, int64_t *out)
{
	const char *p = text;
	int64_t total = 0;
	int64_t last_unit = INT64_MAX;

	while (*p != '\0') {
		int64_t n;
		if (!read_number(&p, &n))
			return false;
		int64_t unit = 1;
		if (*p != '\0') {
			unit = unit_seconds(*p);
			if (unit == 0 || unit >= last_unit)
				return false;
			p++;
		} else if (p != text && last_unit != INT64_MAX) {
			/* "1h30" is ambiguous: reject a trailing bare number. */
			return false;
		}
		last_unit = unit;
		if (n > DZ_DURATION_MAX / unit)
			return false;
		total += n * unit;
		if (total > DZ_DURATION_MAX)
			return false;
	}
	*out = total;
	return true;
}

/* Parse the ISO 8601 form "PnWnDTnHnMnS". */
static bool
parse_iso8601(const char *text, int64_t *out)
{
	static const char date_units[] = "WD";
	static const char time_units[] = "HMS";
	static const int64_t date_seconds[] = { 7 * 86400, 86400 };
	static const int64_t time_seconds[] = { 3600, 60, 1 };
	const char *p = text + 1;
	int64_t total = 0;
	bool in_time = false;
	bool any = false;
	bool any_time = false;
	size_t next_date = 0;
	size_t next_time = 0;

	while (*p != '\0') {
		if (*p == 'T' || *p == 't') {
			if (in_time)
				return false;
			in_time = true;
			p++;
			continue;
		}
		int64_t n;
		if (!read_number(&p, &n))
			return false;
		char u = (char)toupper((unsigned char)*p);
		const char *units = in_time ? time_units : date_units;
		const int64_t *secs = in_time ? time_seconds : date_seconds;
		size_t *next = in_time ? &next_time : &next_date;
		const char *found = u != '\0' ? strchr(units + *next, u) : NULL;
		if (found == NULL)
			return false;
		size_t idx = (size_t)(found - units);
		*next = idx + 1;
		if (n > DZ_DURATION_MAX / secs[idx])
			return false;
		total += n * secs[idx];
		if (total > DZ_DURATION_MAX)
			return false;
		any = true;
		any_time = in_time;
		p++;
	}
	/* "P1DT" has a time designator without a time component. */
	if (!any || (in_time && !any_time))
		return false;
	*out = total;
	return true;
}

dz_result_t
dz_duration_parse(const char *text, int64_t *seconds, dz_error_t *err)
{
	int64_t value;
	bool ok;

	if (text == NULL || text[0] == '\0')
		return dz_error_set(err, DZ_EINVAL, "empty duration: write seconds or a "
						    "value such as 30m, 1h, 14d or P1D");
	if (text[0] == 'P' || text[0] == 'p')
		ok = parse_iso8601(text, &value);
	else
		ok = parse_units(text, &value);
	if (!ok)
		return dz_error_set(err, DZ_EINVAL,
				    "invalid duration '%s': write seconds or a value such as "
				    "30m, 1h, 1d12h, 2w or P1DT12H (at most 100 years)",
				    text);
	*seconds = value;
	return DZ_OK;
}

const char *
dz_duration_format(int64_t seconds, char buf[DZ_DURATION_TEXT_MAX])
{
	static const struct {
		char unit;
		int64_t seconds;
	} units[] = { { 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t used = 0;
	int64_t rest = seconds;

	if (rest < 0) {
		buf[used++] = '-';
		rest = rest == INT64_MIN ? INT64_MAX : -rest;
	}
	if (rest == 0) {
		snprintf(buf + used, DZ_DURATION_TEXT_MAX - used, "0s");
		return buf;
	}
	buf[used] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int64_t n = rest / units[i].seconds;
		if (n == 0)
			continue;
		rest -= n * units[i].seconds;
		int len = snprintf(buf + used, DZ_DURATION_TEXT_MAX - used, "%lld%c", (long long)n,
				   units[i].unit);
		if (len < 0 || (size_t)len >= DZ_DURATION_TEXT_MAX - used)
			break;
		used += (size_t)len;
	}
	return buf;
}
