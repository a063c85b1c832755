#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/serial.h"

/* RFC 1982 section 3.2 with SERIAL_BITS = 32, worked out by hand. */
static void
serial_gt_follows_rfc1982(void **state)
{
	(void)state;
	assert_true(dz_serial_gt(1, 0));
	assert_true(dz_serial_gt(2, 1));
	assert_false(dz_serial_gt(1, 2));
	assert_false(dz_serial_gt(5, 5));
	/* Wrap-around: 4294967295 + 1 is 0, so 0 is greater. */
	assert_true(dz_serial_gt(0, 0xffffffffu));
	assert_false(dz_serial_gt(0xffffffffu, 0));
	/* The largest step forward is 2^31 - 1. */
	assert_true(dz_serial_gt(0x7fffffffu, 0));
	assert_false(dz_serial_gt(0, 0x7fffffffu));
	/* 2^31 + 1 ahead wraps to 2^31 - 1 behind. */
	assert_false(dz_serial_gt(0x80000001u, 0));
	assert_true(dz_serial_gt(0, 0x80000001u));
}

/* RFC 1982 leaves serials exactly 2^31 apart undefined, and neither is greater here. */
static void
serial_gt_half_circle_is_neither(void **state)
{
	static const uint32_t bases[] = { 0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu, 2026010101u };

	(void)state;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint32_t a = bases[i];
		uint32_t b = a + 0x80000000u;
		assert_false(dz_serial_gt(a, b));
		assert_false(dz_serial_gt(b, a));
	}
}

static void
serial_add_wraps(void **state)
{
	(void)state;
	assert_int_equal(dz_serial_add(0xffffffffu, 1), 0);
	assert_int_equal(dz_serial_add(0xfffffffeu, 3), 1);
	assert_int_equal(dz_serial_add(7, 0x7fffffffu), 0x80000006u);
	assert_true(dz_serial_gt(dz_serial_add(0xfffffff0u, 0x7fffffffu), 0xfffffff0u));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serial_gt_follows_rfc1982),
		cmocka_unit_test(serial_gt_half_circle_is_neither),
		cmocka_unit_test(serial_add_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
