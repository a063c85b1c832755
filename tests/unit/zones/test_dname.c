#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "zones/dname.h"

/*
 * Owner labels of RFC 8162 / RFC 7929: the first 28 octets of SHA2-256 of
 * the local part.  "hugh" is the example of both RFCs; the others were
 * computed with `printf %s LOCAL | openssl dgst -sha256`.
 */
static void
mailbox_owner_vectors(void **state)
{
	static const struct {
		const char *local;
		const char *label;
	} cases[] = {
		{ "hugh", "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6" },
		{ "test", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15" },
		{ "John.Doe", "73372335bd12eb0633284c1b68419e0f7ad16d3d777b13e5d2f8c415" },
		{ "john.doe", "30f69670bba25e88a97e749a67b8b93db6541ebd309094e5ad0e3c56" },
		{ "bob", "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd" },
		{ "user+tag", "dcaf299847e296e7a83542a390f45af657f33a6e35e39d06b33b05c5" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char owner[300];
		char expected[300];
		assert_true(dz_dname_mailbox_owner((const uint8_t *)cases[i].local,
						   strlen(cases[i].local), "_smimecert", "example.com",
						   owner, sizeof(owner)));
		snprintf(expected, sizeof(expected), "%s._smimecert.example.com.", cases[i].label);
		assert_string_equal(owner, expected);
	}
}

/* UTF-8 local part: "jörg" is 6a c3 b6 72 67; sha256 of those octets via openssl dgst. */
static void
mailbox_owner_utf8_local(void **state)
{
	char owner[300];

	(void)state;
	assert_true(dz_dname_mailbox_owner((const uint8_t *)"j\xc3\xb6rg", 5, "_openpgpkey",
					   "example.org", owner, sizeof(owner)));
	assert_string_equal(owner, "12c433a0914cf916178d99b922892cd3"
				   "280438b675c139c3807325e8._openpgpkey.example.org.");
}

static void
normalize_idn_and_case(void **state)
{
	char out[DZ_DNAME_TEXT_MAX];

	(void)state;
	assert_int_equal(dz_dname_normalize("b\xc3\xbc" "cher.example", 0, out, NULL), DZ_OK);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(dz_dname_normalize("MX1.Example.NET.", DZ_DNAME_HOSTNAME, out, NULL), DZ_OK);
	assert_string_equal(out, "mx1.example.net");
	assert_int_equal(dz_dname_normalize("xn--bcher-kva.example", 0, out, NULL), DZ_OK);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(dz_dname_normalize(".", 0, out, NULL), DZ_OK);
	assert_string_equal(out, ".");
}

static void
normalize_rejects_bad_names(void **state)
{
	static const char *const bad[] = {
		"", "a..b", ".a", "a b", "-mx.example", "mx_1.example",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	};
	char out[DZ_DNAME_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_dname_normalize(bad[i], DZ_DNAME_HOSTNAME, out, &err), DZ_EINVAL);
		assert_true(strlen(err.message) > 0);
	}
	/* Underscores are fine in zone names, not in host names. */
	assert_int_equal(dz_dname_normalize("_dmarc.example", 0, out, NULL), DZ_OK);
}

static void
tlsa_owner_form(void **state)
{
	char owner[300];
	char host[DZ_DNAME_TEXT_MAX];

	(void)state;
	assert_true(dz_dname_tlsa_owner(25, "tcp", "mx1.example.net", owner, sizeof(owner)));
	assert_string_equal(owner, "_25._tcp.mx1.example.net.");
	assert_int_equal(dz_dname_normalize("MX.B\xc3\xbc" "cher.example", DZ_DNAME_HOSTNAME, host, NULL),
			 DZ_OK);
	assert_true(dz_dname_tlsa_owner(465, "tcp", host, owner, sizeof(owner)));
	assert_string_equal(owner, "_465._tcp.mx.xn--bcher-kva.example.");
}

static void
in_zone_matches_labels(void **state)
{
	(void)state;
	assert_true(dz_dname_in_zone("mx.example.net", "example.net"));
	assert_true(dz_dname_in_zone("example.net", "example.net"));
	assert_false(dz_dname_in_zone("myexample.net", "example.net"));
	assert_false(dz_dname_in_zone("example.org", "example.net"));
	assert_true(dz_dname_in_zone("anything.example", "."));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mailbox_owner_vectors),
		cmocka_unit_test(mailbox_owner_utf8_local),
		cmocka_unit_test(normalize_idn_and_case),
		cmocka_unit_test(normalize_rejects_bad_names),
		cmocka_unit_test(tlsa_owner_form),
		cmocka_unit_test(in_zone_matches_labels),
	};
	return cmocka_run_group_tests_name("zones/dname", tests, NULL, NULL);
}
