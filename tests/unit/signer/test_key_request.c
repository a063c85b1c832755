#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "signer/key_request.h"

/* 2030-01-01T00:00:00Z */
#define NOW 1893456000

static void
parse_ds_seen(void **state)
{
	char *argv[] = { "ds-seen", "example.com", "12345", "2029-12-31T23:00:00Z" };
	dz_key_request_t request;

	(void)state;
	assert_int_equal(dz_key_request_parse(4, argv, NOW, &request, NULL), DZ_OK);
	assert_int_equal(request.kind, DZ_KEY_REQUEST_DS_SEEN);
	assert_string_equal(request.zone, "example.com");
	assert_string_equal(request.key, "12345");
	assert_int_equal(request.when, NOW - 3600);
	assert_int_equal(request.now, NOW);
}

static void
parse_ds_gone_default_time(void **state)
{
	char *argv[] = { "ds-gone", "example.com", "#2" };
	dz_key_request_t request;

	(void)state;
	assert_int_equal(dz_key_request_parse(3, argv, NOW, &request, NULL), DZ_OK);
	assert_int_equal(request.kind, DZ_KEY_REQUEST_DS_GONE);
	assert_string_equal(request.key, "#2");
	assert_int_equal(request.when, NOW);
}

static void
parse_rollover(void **state)
{
	char *forced[] = { "rollover", "example.com", "#1", "@1893459600", "force" };
	char *plain[] = { "rollover", "example.com", "4711" };
	char *bad_time[] = { "rollover", "example.com", "4711", "soon" };
	dz_key_request_t request;

	(void)state;
	assert_int_equal(dz_key_request_parse(5, forced, NOW, &request, NULL), DZ_OK);
	assert_int_equal(request.kind, DZ_KEY_REQUEST_ROLLOVER);
	assert_string_equal(request.key, "#1");
	assert_int_equal(request.when, NOW + 3600);
	assert_true(request.force);

	assert_int_equal(dz_key_request_parse(3, plain, NOW, &request, NULL), DZ_OK);
	assert_string_equal(request.key, "4711");
	assert_int_equal(request.when, NOW);
	assert_false(request.force);

	assert_int_not_equal(dz_key_request_parse(4, bad_time, NOW, &request, NULL), DZ_OK);
}

static void
parse_rejects_wrong_requests(void **state)
{
	char *unknown[] = { "rekey", "example.com" };
	char *short_ds[] = { "ds-seen", "example.com" };
	char *bad_time[] = { "ds-seen", "example.com", "12345", "yesterday" };
	char *step[] = { "step", "example.com" };
	dz_key_request_t request;

	(void)state;
	assert_int_equal(dz_key_request_parse(2, unknown, NOW, &request, NULL), DZ_EINVAL);
	assert_int_equal(dz_key_request_parse(2, short_ds, NOW, &request, NULL), DZ_EINVAL);
	assert_int_not_equal(dz_key_request_parse(4, bad_time, NOW, &request, NULL), DZ_OK);
	assert_int_equal(dz_key_request_parse(2, step, NOW, &request, NULL), DZ_OK);
	assert_int_equal(request.kind, DZ_KEY_REQUEST_STEP);
	assert_null(request.key);
}

static void
describe_requests(void **state)
{
	dz_key_request_t backup = { .kind = DZ_KEY_REQUEST_BACKUP_DONE, .zone = "example.com",
				    .key = "#1", .number = 1 };
	dz_key_request_t rollover = { .kind = DZ_KEY_REQUEST_ROLLOVER, .zone = "example.com",
				      .when = NOW - 60, .now = NOW, .force = true, .number = 3,
				      .tag = 4711 };
	dz_buf_t out;

	(void)state;
	dz_buf_init(&out);
	assert_int_equal(dz_key_request_describe(&backup, &out), DZ_OK);
	assert_string_equal((char *)out.data, "recorded: key #1 (#1) of zone example.com is backed up\n");
	out.len = 0;
	assert_int_equal(dz_key_request_describe(&rollover, &out), DZ_OK);
	/* A start in the past is reported as now. */
	assert_string_equal((char *)out.data, "recorded: emergency rollover of key 4711 (#3) of zone "
					      "example.com requested for 2030-01-01T00:00:00Z\n");
	dz_buf_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_ds_seen),
		cmocka_unit_test(parse_ds_gone_default_time),
		cmocka_unit_test(parse_rollover),
		cmocka_unit_test(parse_rejects_wrong_requests),
		cmocka_unit_test(describe_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
