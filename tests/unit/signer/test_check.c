/*
 * The self-check of a signed zone: it passes on what dz_update_zone()
 * made and names the first problem after the zone is damaged on purpose.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/check.h"
#include "signer/denial.h"
#include "signer/update.h"
#include "signer_test.h"

static const char base_zone[] =
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300\n"
	"example.com. 3600 IN NS ns1.example.com.\n"
	"ns1.example.com. 3600 IN A 192.0.2.1\n"
	"mail.example.com. 3600 IN A 192.0.2.25\n"
	"sub.example.com. 3600 IN NS ns.sub.example.com.\n"
	"ns.sub.example.com. 3600 IN A 192.0.2.9\n";

/* 2026-01-01T00:00:00Z */
#define TEST_NOW 1767225600

typedef struct signed_zone {
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend;
	dz_denial_config_t denial;
	dz_zone_t *zone;
} signed_zone_t;

static void
sign_text(signed_zone_t *s, const char *text)
{
	dz_update_params_t p;
	dz_result_t result;
	dz_error_t err;

	test_policy(&s->policy, DZ_DENIAL_NSEC3);
	test_keys_create(&s->keys, 1);
	s->backend = test_backend();
	s->zone = test_zone_from_text("example.com.", text, NULL, &result);
	assert_int_equal(result, DZ_OK);
	memset(&p, 0, sizeof(p));
	p.policy = &s->policy;
	p.keys = &s->keys;
	p.now = TEST_NOW;
	p.backend = &s->backend;
	p.full = true;
	p.full_check = true;
	dz_error_init(&err);
	if (dz_update_zone(s->zone, &p, NULL, &err) != DZ_OK)
		fail_msg("signing failed: %s", dz_error_message(&err));
	assert_int_equal(dz_update_denial_config(s->zone, &s->policy, &s->keys, &s->denial, &err), DZ_OK);
}

static void
signed_zone_clear(signed_zone_t *s)
{
	dz_zone_destroy(s->zone);
	test_keys_free(&s->keys);
	dz_policy_clear(&s->policy);
}

static dz_result_t
check(const signed_zone_t *s, dz_error_t *err)
{
	dz_error_init(err);
	return dz_check_zone(s->zone, &s->keys, &s->denial, TEST_NOW, true, err);
}

static dz_rrset_t *
rrset_at(const signed_zone_t *s, const char *name, uint16_t type)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t key_len = test_key(name, key);
	dz_node_t *node = dz_zone_find(s->zone, key, key_len);

	assert_non_null(node);
	assert_non_null(dz_node_rrset(node, type));
	return dz_node_rrset(node, type);
}

/* Remove the signatures of an RRset, as if signing had skipped it. */
static void
drop_sigs(const signed_zone_t *s, const char *name, uint16_t type)
{
	dz_rrset_t *rrset = rrset_at(s, name, type);

	assert_non_null(rrset->sigs);
	free(rrset->sigs);
	rrset->sigs = NULL;
}

static void
check_passes_signed_zone(void **state)
{
	signed_zone_t s;
	dz_error_t err;

	(void)state;
	sign_text(&s, base_zone);
	assert_int_equal(check(&s, &err), DZ_OK);
	signed_zone_clear(&s);
}

static void
check_finds_missing_signature(void **state)
{
	signed_zone_t s;
	dz_error_t err;

	(void)state;
	sign_text(&s, base_zone);
	drop_sigs(&s, "mail.example.com.", DZ_TYPE_A);
	assert_int_equal(check(&s, &err), DZ_EVERIFY);
	assert_non_null(strstr(err.message,
			       "mail.example.com. A has no valid signature of algorithm 13"));
	signed_zone_clear(&s);
}

static void
check_finds_signed_glue(void **state)
{
	signed_zone_t s;
	dz_error_t err;
	dz_rrset_t *a;
	dz_rrset_t *glue;

	(void)state;
	sign_text(&s, base_zone);
	a = rrset_at(&s, "mail.example.com.", DZ_TYPE_A);
	glue = rrset_at(&s, "ns.sub.example.com.", DZ_TYPE_A);
	assert_null(glue->sigs);
	glue->sigs = dz_sigset_new(a->sigs->count, a->sigs->data, a->sigs->len);
	assert_non_null(glue->sigs);
	assert_int_equal(check(&s, &err), DZ_EVERIFY);
	assert_non_null(strstr(err.message, "ns.sub.example.com. A must not be signed"));
	signed_zone_clear(&s);
}

static void
check_finds_wrong_nsec3(void **state)
{
	signed_zone_t s;
	dz_error_t err;
	dz_nsec3_t *entry;

	(void)state;
	sign_text(&s, base_zone);
	entry = dz_zone_nsec3_first(s.zone);
	assert_non_null(entry);
	/* The last octet of the type bitmap. */
	entry->rrset->data[entry->rrset->len - 1] ^= 0x01;
	assert_int_equal(check(&s, &err), DZ_EVERIFY);
	assert_non_null(strstr(err.message, "is not what the chain needs"));
	signed_zone_clear(&s);
}

/*
 * A zone large enough to be checked on several threads: every problem is
 * counted, and the message names the first in canonical order.
 */
static void
check_large_zone_reports_first_problem(void **state)
{
	const size_t names = 2 * 4096 + 100;
	size_t cap = sizeof(base_zone) + names * 48;
	char *text = malloc(cap);
	size_t len;
	signed_zone_t s;
	dz_error_t err;

	(void)state;
	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "%s", base_zone);
	for (size_t i = 0; i < names; i++)
		len += (size_t)snprintf(text + len, cap - len, "h%05zu.example.com. 3600 IN A 10.0.%zu.%zu\n",
					i, i / 256 % 256, i % 256);
	sign_text(&s, text);
	assert_int_equal(check(&s, &err), DZ_OK);

	/* One problem near the end and one near the start of the order. */
	drop_sigs(&s, "h08150.example.com.", DZ_TYPE_A);
	assert_int_equal(check(&s, &err), DZ_EVERIFY);
	assert_non_null(strstr(err.message, "h08150.example.com. A has no valid signature"));
	drop_sigs(&s, "h00007.example.com.", DZ_TYPE_A);
	assert_int_equal(check(&s, &err), DZ_EVERIFY);
	assert_non_null(strstr(err.message, "h00007.example.com. A has no valid signature"));
	assert_non_null(strstr(err.message, "(and 1 more problems)"));
	signed_zone_clear(&s);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_passes_signed_zone),
		cmocka_unit_test(check_finds_missing_signature),
		cmocka_unit_test(check_finds_signed_glue),
		cmocka_unit_test(check_finds_wrong_nsec3),
		cmocka_unit_test(check_large_zone_reports_first_problem),
	};
	return cmocka_run_group_tests_name("signer_check", tests, NULL, NULL);
}
