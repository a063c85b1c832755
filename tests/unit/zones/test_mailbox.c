#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "zones/mailbox.h"

static const uint8_t rdata[] = { 3, 0, 0, 0x30, 0x01, 0x00 };

static char warnings[16][512];
static size_t warning_count;

static void
capture(dz_log_level_t level, const char *line, void *ctx)
{
	(void)ctx;
	if (level <= DZ_LOG_WARNING && warning_count < 16)
		snprintf(warnings[warning_count++], sizeof(warnings[0]), "%s", line);
}

static int
setup(void **state)
{
	(void)state;
	warning_count = 0;
	dz_log_set_sink(capture, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dz_log_set_sink(NULL, NULL);
	return 0;
}

static dz_mailbox_options_t
options_for(const char *zone, bool lowercase)
{
	dz_mailbox_options_t options;

	memset(&options, 0, sizeof(options));
	options.zone = zone;
	options.smimea = (dz_tlsa_params_t){ 3, 0, 0 };
	options.smimea_ttl = 3600;
	options.lowercase_variants = lowercase;
	return options;
}

static void
add(const dz_mailbox_options_t *options, const char *address, dz_records_t *out)
{
	assert_int_equal(dz_mailbox_add_records(options, address, strlen(address), "_smimecert",
						 53, 3600, rdata, sizeof(rdata), "test.pem", out),
			 DZ_OK);
}

static void
mailbox_exact_and_lowercase(void **state)
{
	dz_mailbox_options_t options = options_for("example.com", true);
	dz_records_t out;

	(void)state;
	dz_records_init(&out);
	add(&options, "John.Doe@example.com", &out);
	assert_int_equal(out.count, 2);
	/* Exact octets first, then the ASCII-lowercase variant. */
	assert_string_equal(out.items[0].owner, "73372335bd12eb0633284c1b68419e0f7ad16d3d777b13e5d2f8c415"
						"._smimecert.example.com.");
	assert_string_equal(out.items[1].owner, "30f69670bba25e88a97e749a67b8b93db6541ebd309094e5ad0e3c56"
						"._smimecert.example.com.");
	assert_int_equal(out.items[0].type, 53);
	assert_memory_equal(out.items[0].rdata, rdata, sizeof(rdata));
	dz_records_clear(&out);

	/* Already lower case: one owner; "+tag" is hashed as written. */
	add(&options, "user+tag@example.com", &out);
	assert_int_equal(out.count, 1);
	assert_string_equal(out.items[0].owner, "dcaf299847e296e7a83542a390f45af657f33a6e35e39d06b33b05c5"
						"._smimecert.example.com.");
	dz_records_clear(&out);

	options.lowercase_variants = false;
	add(&options, "John.Doe@example.com", &out);
	assert_int_equal(out.count, 1);
	dz_records_clear(&out);
}

static void
mailbox_idn_domain(void **state)
{
	dz_mailbox_options_t options = options_for("xn--bcher-kva.example", true);
	dz_records_t out;

	(void)state;
	dz_records_init(&out);
	add(&options, "hugh@b\xc3\xbc" "cher.example", &out);
	add(&options, "hugh@xn--bcher-kva.example", &out);
	assert_int_equal(out.count, 2);
	for (size_t i = 0; i < out.count; i++)
		assert_string_equal(out.items[i].owner,
				    "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6"
				    "._smimecert.xn--bcher-kva.example.");
	dz_records_clear(&out);
}

/*
 * "Jörg" as UTF-8 (4a c3 b6 72 67) is hashed unchanged; the variant lowers
 * only the ASCII "J".  Digests from `printf 'J\xc3\xb6rg' | openssl dgst
 * -sha256` and the same for 'j\xc3\xb6rg'.
 */
static void
mailbox_utf8_local_part(void **state)
{
	dz_mailbox_options_t options = options_for("example.org", true);
	dz_records_t out;

	(void)state;
	dz_records_init(&out);
	add(&options, "J\xc3\xb6rg@example.org", &out);
	assert_int_equal(out.count, 2);
	assert_string_equal(out.items[0].owner, "8e63741c42f7c08025339f1a380d98030a698aa04f1fa3c595dcb581"
						"._smimecert.example.org.");
	assert_string_equal(out.items[1].owner, "12c433a0914cf916178d99b922892cd3280438b675c139c3807325e8"
						"._smimecert.example.org.");
	dz_records_clear(&out);
}

static void
mailbox_skips_with_warning(void **state)
{
	static const char *const skipped[] = {
		"someone@example.net",			  /* other zone */
		"\"john smith\"@example.com",		  /* quoted local part */
		"john smith@example.com",		  /* needs quoting */
		"j\xc3\x83\xc2\xb6rg@example.com",	  /* "jörg" encoded twice */
		"bad\xff@example.com",			  /* not UTF-8 */
		"no-at-sign.example.com",
		"@example.com",
	};
	dz_mailbox_options_t options = options_for("example.com", true);
	dz_records_t out;

	(void)state;
	dz_records_init(&out);
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
		warning_count = 0;
		add(&options, skipped[i], &out);
		assert_int_equal(out.count, 0);
	}
	/* Subdomains of the zone are in the zone. */
	add(&options, "ops@lists.example.com", &out);
	assert_int_equal(out.count, 1);
	assert_non_null(strstr(out.items[0].owner, "._smimecert.lists.example.com."));
	dz_records_clear(&out);
}

static void
mailbox_double_encoding_warning_text(void **state)
{
	dz_mailbox_options_t options = options_for("example.com", true);
	dz_records_t out;

	(void)state;
	dz_records_init(&out);
	add(&options, "j\xc3\x83\xc2\xb6rg@example.com", &out);
	assert_int_equal(warning_count, 1);
	assert_non_null(strstr(warnings[0], "looks like UTF-8 encoded twice"));
	dz_records_clear(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(mailbox_exact_and_lowercase, setup, teardown),
		cmocka_unit_test_setup_teardown(mailbox_idn_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(mailbox_utf8_local_part, setup, teardown),
		cmocka_unit_test_setup_teardown(mailbox_skips_with_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(mailbox_double_encoding_warning_text, setup, teardown),
	};
	return cmocka_run_group_tests_name("zones/mailbox", tests, NULL, NULL);
}
