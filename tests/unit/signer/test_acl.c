#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "signer/acl.h"

static struct sockaddr_storage
address(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		ss.ss_family = AF_INET6;
	}
	return ss;
}

static bool
allows(const dz_acl_t *acl, const char *source, const char *key)
{
	struct sockaddr_storage ss = address(source);
	uint8_t name[DZ_WIRE_NAME_MAX];

	if (key != NULL)
		assert_true(dz_wire_name_from_text(key, name) > 0);
	return dz_acl_allows(acl, (struct sockaddr *)&ss, key != NULL ? name : NULL);
}

static void
acl_empty_denies(void **state)
{
	dz_acl_t acl;

	(void)state;
	dz_acl_init(&acl);
	assert_false(allows(&acl, "127.0.0.1", NULL));
	assert_false(allows(&acl, "::1", "xfr"));
}

static void
acl_prefix_matching(void **state)
{
	dz_acl_t acl;

	(void)state;
	dz_acl_init(&acl);
	assert_int_equal(dz_acl_add(&acl, "192.0.2.0/25", NULL), DZ_OK);
	assert_int_equal(dz_acl_add(&acl, "2001:db8::/33", NULL), DZ_OK);
	assert_true(allows(&acl, "192.0.2.0", NULL));
	assert_true(allows(&acl, "192.0.2.127", NULL));
	assert_false(allows(&acl, "192.0.2.128", NULL));
	assert_true(allows(&acl, "2001:db8:7fff::1", NULL));
	assert_false(allows(&acl, "2001:db8:8000::1", NULL));
	/* An IPv4-mapped IPv6 source matches IPv4 rules. */
	assert_true(allows(&acl, "::ffff:192.0.2.5", NULL));
	assert_false(allows(&acl, "::ffff:192.0.2.200", NULL));
	dz_acl_clear(&acl);
}

static void
acl_key_and_order(void **state)
{
	dz_acl_t acl;

	(void)state;
	dz_acl_init(&acl);
	assert_int_equal(dz_acl_add(&acl, "!127.0.0.2", NULL), DZ_OK);
	assert_int_equal(dz_acl_add(&acl, "127.0.0.0/8 key Xfr.Example.", NULL), DZ_OK);
	assert_int_equal(dz_acl_add(&acl, "::1", NULL), DZ_OK);
	/* The first matching rule decides: 127.0.0.2 is denied even with the key. */
	assert_false(allows(&acl, "127.0.0.2", "xfr.example"));
	assert_true(allows(&acl, "127.0.0.1", "xfr.example"));
	assert_false(allows(&acl, "127.0.0.1", NULL));
	assert_false(allows(&acl, "127.0.0.1", "other"));
	/* A rule without a key matches signed and unsigned requests. */
	assert_true(allows(&acl, "::1", NULL));
	assert_true(allows(&acl, "::1", "other"));
	dz_acl_clear(&acl);
}

static void
acl_add_rejects_bad_rules(void **state)
{
	dz_acl_t acl;
	dz_error_t err;

	(void)state;
	dz_acl_init(&acl);
	dz_error_init(&err);
	assert_int_equal(dz_acl_add(&acl, "127.0.0.1/33", &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "longer than 32"));
	assert_int_equal(dz_acl_add(&acl, "::1/129", &err), DZ_EINVAL);
	assert_int_equal(dz_acl_add(&acl, "localhost", &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "invalid address 'localhost'"));
	assert_int_equal(dz_acl_add(&acl, "127.0.0.1 kye xfr", &err), DZ_EINVAL);
	assert_int_equal(dz_acl_add(&acl, "127.0.0.1/x", &err), DZ_EINVAL);
	assert_int_equal(acl.count, 0);
	dz_acl_clear(&acl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acl_empty_denies),
		cmocka_unit_test(acl_prefix_matching),
		cmocka_unit_test(acl_key_and_order),
		cmocka_unit_test(acl_add_rejects_bad_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
