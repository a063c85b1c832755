#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/result.h"

struct captured {
	int count;
	dz_log_level_t level;
	char line[512];
};

static void
capture(dz_log_level_t level, const char *line, void *ctx)
{
	struct captured *c = ctx;
	c->count++;
	c->level = level;
	snprintf(c->line, sizeof(c->line), "%s", line);
}

static void
zone_prefix_comes_first(void **state)
{
	struct captured c = { 0 };

	(void)state;
	dz_log_set_sink(capture, &c);
	dz_log_zone(DZ_LOG_INFO, "example.com", "DNSSEC, next re-sign at %s", "2027-01-03T10:00Z");
	dz_log_set_sink(NULL, NULL);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.level, DZ_LOG_INFO);
	assert_string_equal(c.line, "zone example.com: DNSSEC, next re-sign at 2027-01-03T10:00Z");
}

/* Absolute and relative spellings of a zone log alike; the root keeps its dot. */
static void
zone_prefix_drops_final_dot(void **state)
{
	struct captured c = { 0 };

	(void)state;
	dz_log_set_sink(capture, &c);
	dz_log_zone(DZ_LOG_INFO, "example.com.", "signed");
	assert_string_equal(c.line, "zone example.com: signed");
	dz_log_zone(DZ_LOG_INFO, ".", "signed");
	assert_string_equal(c.line, "zone .: signed");
	dz_log_set_sink(NULL, NULL);
	assert_int_equal(c.count, 2);
}

static void
condition_logs_start_and_end_once(void **state)
{
	struct captured c = { 0 };
	dz_log_condition_t cond = { 0 };

	(void)state;
	dz_log_set_sink(capture, &c);
	assert_true(dz_log_condition_raise(&cond, DZ_LOG_ERROR, "HSM unavailable"));
	for (int i = 0; i < 999; i++)
		assert_false(dz_log_condition_raise(&cond, DZ_LOG_ERROR, "HSM unavailable"));
	assert_int_equal(c.count, 1);
	/* The 1000th repeat is logged with the count. */
	assert_true(dz_log_condition_raise(&cond, DZ_LOG_ERROR, "HSM unavailable"));
	assert_int_equal(c.count, 2);
	assert_non_null(strstr(c.line, "still (1000 times)"));
	assert_true(dz_log_condition_clear(&cond, "HSM available again"));
	assert_int_equal(c.count, 3);
	assert_int_equal(c.level, DZ_LOG_NOTICE);
	assert_false(dz_log_condition_clear(&cond, "HSM available again"));
	assert_int_equal(c.count, 3);
	dz_log_set_sink(NULL, NULL);
}

static void
level_names_parse(void **state)
{
	dz_log_level_t level;

	(void)state;
	assert_true(dz_log_level_parse("warning", &level));
	assert_int_equal(level, DZ_LOG_WARNING);
	assert_true(dz_log_level_parse("DEBUG", &level));
	assert_int_equal(level, DZ_LOG_DEBUG);
	assert_false(dz_log_level_parse("loud", &level));
	assert_string_equal(dz_log_level_name(DZ_LOG_ERROR), "error");
}

static void
result_table_is_complete(void **state)
{
	(void)state;
	for (int r = 0; r < DZ_RESULT_COUNT; r++) {
		assert_non_null(dz_result_name((dz_result_t)r));
		assert_true(strlen(dz_result_text((dz_result_t)r)) > 0);
	}
	assert_string_equal(dz_result_name(DZ_ENOTFOUND), "notfound");
	assert_string_equal(dz_result_text(DZ_RESULT_COUNT), "unknown result");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zone_prefix_comes_first),
		cmocka_unit_test(zone_prefix_drops_final_dot),
		cmocka_unit_test(condition_logs_start_and_end_once),
		cmocka_unit_test(level_names_parse),
		cmocka_unit_test(result_table_is_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
