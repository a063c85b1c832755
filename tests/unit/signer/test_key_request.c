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
parse_ds_gone_now(void **state)
{
	char *argv[] = { "ds-gone", "example.com", "#2", "now" };
	dz_key_request_t request;

	(void)state;
	assert_int_equal(dz_key_request_parse(4, argv, NOW, &request, NULL), DZ_OK);
	assert_int_equal(request.kind, DZ_KEY_REQUEST_DS_GONE);
	assert_string_equal(request.key, "#2");
	assert_int_equal(request.when, NOW);
}

static void
parse_rollover_by_role_and_key(void **state)
{
	char *by_role[] = { "rollover", "example.com", "ksk", "@1893459600", "force" };
	char *by_key[] = { "rollover", "example.com", "4711", "now", "normal" };
	char *bad_mode[] = { "rollover", "example.com", "4711", "now", "soon" };
	dz_key_request_t request;
	dz_error_t err;

	(void)state;
	assert_int_equal(dz_key_request_parse(5, by_role, NOW, &request, NULL), DZ_OK);
	assert_int_equal(request.kind, DZ_KEY_REQUEST_ROLLOVER);
	assert_null(request.key);
	assert_int_equal(request.role, DZ_ROLE_KSK);
	assert_int_equal(request.when, NOW + 3600);
	assert_true(request.force);

	assert_int_equal(dz_key_request_parse(5, by_key, NOW, &request, NULL), DZ_OK);
	assert_string_equal(request.key, "4711");
	assert_false(request.force);

	dz_error_init(&err);
	assert_int_equal(dz_key_request_parse(5, bad_mode, NOW, &request, &err), DZ_EINVAL);
	assert_string_equal(err.message, "rollover mode 'soon' is invalid; expected normal or force");
}

static void
parse_rejects_wrong_requests(void **state)
{
	char *unknown[] = { "rekey", "example.com" };
	char *short_ds[] = { "ds-seen", "example.com", "12345" };
	char *bad_time[] = { "ds-seen", "example.com", "12345", "yesterday" };
	char *step[] = { "step", "example.com" };
	dz_key_request_t request;

	(void)state;
	assert_int_equal(dz_key_request_parse(2, unknown, NOW, &request, NULL), DZ_EINVAL);
	assert_int_equal(dz_key_request_parse(3, short_ds, NOW, &request, NULL), DZ_EINVAL);
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
		cmocka_unit_test(parse_ds_gone_now),
		cmocka_unit_test(parse_rollover_by_role_and_key),
		cmocka_unit_test(parse_rejects_wrong_requests),
		cmocka_unit_test(describe_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
