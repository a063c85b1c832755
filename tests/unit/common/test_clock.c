#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/clock.h"

/* Expected values computed with Python's calendar.timegm(). */
static void
time_parse_formats(void **state)
{
	static const struct {
		const char *text;
		dz_time_t expected;
	} cases[] = {
		{ "2027-01-03T10:00:00Z", 1798970400 },
		{ "2027-01-03T10:00Z", 1798970400 },
		{ "20270103100000", 1798970400 },
		{ "2000-02-29T00:00:00Z", 951782400 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "20380119031408", 2147483648LL },
		{ "2100-03-01T00:00:00Z", 4107542400LL },
		{ "@1798970400", 1798970400 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dz_time_t t = -1;
		assert_int_equal(dz_time_parse(cases[i].text, &t, NULL), DZ_OK);
		assert_int_equal(t, cases[i].expected);
	}
}

static void
time_parse_rejects_invalid(void **state)
{
	static const char *const bad[] = {
		"2027-01-03", "2027-01-03T10:00:00", "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z",
		"2100-02-29T00:00:00Z", "2027-01-32T00:00:00Z", "2027-01-01T24:00:00Z",
		"20271301000000", "2027010310000", "@", "@-5", "@12x", "yesterday",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dz_time_t t = 7;
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_time_parse(bad[i], &t, &err), DZ_EINVAL);
		assert_int_equal(t, 7);
		assert_non_null(strstr(err.message, bad[i]));
	}
}

static void
time_format_round_trip(void **state)
{
	char buf[DZ_TIME_TEXT_MAX];

	(void)state;
	assert_string_equal(dz_time_format(1798970400, buf), "2027-01-03T10:00:00Z");
	assert_string_equal(dz_time_format(0, buf), "1970-01-01T00:00:00Z");
	assert_string_equal(dz_time_format(DZ_TIME_NEVER, buf), "never");
}

static void
fake_clock_moves_only_when_told(void **state)
{
	dz_clock_t *clock = dz_clock_fake_create(1000);

	(void)state;
	assert_non_null(clock);
	assert_int_equal(dz_clock_now(clock), 1000);
	dz_clock_advance(clock, 3600);
	assert_int_equal(dz_clock_now(clock), 4600);
	dz_clock_set(clock, 5);
	assert_int_equal(dz_clock_now(clock), 5);
	dz_clock_destroy(clock);
}

static void
system_clock_is_current(void **state)
{
	(void)state;
	/* 2026-01-01T00:00:00Z: any machine running these tests is past it. */
	assert_true(dz_clock_now(dz_clock_system()) > 1767225600);
	assert_true(dz_clock_boottime() >= 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_parse_formats),
		cmocka_unit_test(time_parse_rejects_invalid),
		cmocka_unit_test(time_format_round_trip),
		cmocka_unit_test(fake_clock_moves_only_when_told),
		cmocka_unit_test(system_clock_is_current),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
