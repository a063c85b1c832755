#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/duration.h"

static void
duration_parses_units(void **state)
{
	static const struct {
		const char *text;
		int64_t seconds;
	} cases[] = {
		{ "0", 0 },
		{ "3600", 3600 },
		{ "30s", 30 },
		{ "5m", 300 },
		{ "1h", 3600 },
		{ "1H", 3600 },
		{ "14d", 14 * 86400 },
		{ "2w", 14 * 86400 },
		{ "1d12h", 86400 + 12 * 3600 },
		{ "1w2d3h4m5s", 7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5 },
		{ "P1D", 86400 },
		{ "P2W", 14 * 86400 },
		{ "PT1H", 3600 },
		{ "P1DT12H", 86400 + 12 * 3600 },
		{ "PT5M30S", 330 },
		{ "p1dt1h", 90000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t seconds = -1;
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_duration_parse(cases[i].text, &seconds, &err), DZ_OK);
		assert_int_equal(seconds, cases[i].seconds);
	}
}

static void
duration_rejects_bad_input(void **state)
{
	static const char *const bad[] = {
		"", "h", "1x", "-5", "1h30", "1m1h", "1h1h", "P", "PT", "P1Y", "P1M", "P1H",
		"PT1D", "P1DT", "1.5h", "999999999999999999999", "101000w", " 1h",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t seconds = 42;
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_duration_parse(bad[i], &seconds, &err), DZ_EINVAL);
		assert_int_equal(seconds, 42);
		assert_non_null(strstr(err.message, "duration"));
	}
}

static void
duration_error_names_value(void **state)
{
	int64_t seconds;
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_duration_parse("10parsecs", &seconds, &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "'10parsecs'"));
}

static void
duration_formats_largest_units(void **state)
{
	char buf[DZ_DURATION_TEXT_MAX];

	(void)state;
	assert_string_equal(dz_duration_format(0, buf), "0s");
	assert_string_equal(dz_duration_format(59, buf), "59s");
	assert_string_equal(dz_duration_format(3600, buf), "1h");
	assert_string_equal(dz_duration_format(90000, buf), "1d1h");
	assert_string_equal(dz_duration_format(694 * 3600, buf), "4w22h");
	assert_string_equal(dz_duration_format(-300, buf), "-5m");
	assert_string_equal(dz_duration_format(DZ_DURATION_MAX, buf), "5228w4d");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duration_parses_units),
		cmocka_unit_test(duration_rejects_bad_input),
		cmocka_unit_test(duration_error_names_value),
		cmocka_unit_test(duration_formats_largest_units),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
