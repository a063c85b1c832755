/*
 * Signing runs: a full signature, incremental runs that must equal a full
 * signature of the same data, and the IXFR difference between versions.
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

#include <ldns/ldns.h>

#include "common/log.h"
#include "signer/changes.h"
#include "signer/rrsig.h"
#include "signer/update.h"
#include "signer_test.h"

static const char base_zone[] =
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300\n"
	"example.com. 3600 IN NS ns1.example.com.\n"
	"example.com. 3600 IN MX 10 mail.example.com.\n"
	"ns1.example.com. 3600 IN A 192.0.2.1\n"
	"mail.example.com. 3600 IN A 192.0.2.25\n"
	"_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011\n";

/* 2026-01-01T00:00:00Z */
#define TEST_NOW 1767225600

static dz_update_params_t
params_for(const dz_policy_t *policy, const dz_keyset_t *keys, const dz_sign_backend_t *backend,
	   bool full)
{
	dz_update_params_t p;

	memset(&p, 0, sizeof(p));
	p.policy = policy;
	p.keys = keys;
	p.now = TEST_NOW;
	p.backend = backend;
	p.full = full;
	p.full_check = true;
	p.threads = 2;
	return p;
}

static dz_zone_t *
full_sign(const char *text, const dz_policy_t *policy, const dz_keyset_t *keys,
	  const dz_sign_backend_t *backend, dz_update_result_t *res)
{
	dz_result_t result;
	dz_zone_t *zone = test_zone_from_text("example.com.", text, NULL, &result);
	dz_update_params_t p = params_for(policy, keys, backend, true);
	dz_error_t err;

	assert_int_equal(result, DZ_OK);
	dz_error_init(&err);
	result = dz_update_zone(zone, &p, res, &err);
	if (result != DZ_OK)
		fail_msg("full sign failed: %s", dz_error_message(&err));
	return zone;
}

static void
full_sign_signs_authoritative_data_only(void **state)
{
	static const char text[] =
		"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300\n"
		"example.com. 3600 IN NS ns1.example.com.\n"
		"ns1.example.com. 3600 IN A 192.0.2.1\n"
		"sub.example.com. 3600 IN NS ns.sub.example.com.\n"
		"ns.sub.example.com. 3600 IN A 192.0.2.9\n"
		"sec.example.com. 3600 IN NS ns.sec.example.com.\n"
		"sec.example.com. 3600 IN DS 1 13 2 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n"
		"*.w.example.com. 3600 IN TXT \"wild\"\n";
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_update_result_t res;
	dz_zone_t *zone;
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t len;
	dz_node_t *n;

	(void)state;
	test_policy(&policy, DZ_DENIAL_NSEC3);
	test_keys_create(&keys, 1);
	zone = full_sign(text, &policy, &keys, &backend, &res);
	assert_true(res.changed);
	assert_int_equal(res.serial, 1);

	len = test_key("sub.example.com.", key);
	n = dz_zone_find(zone, key, len);
	assert_null(dz_node_rrset(n, DZ_TYPE_NS)->sigs);
	len = test_key("ns.sub.example.com.", key);
	n = dz_zone_find(zone, key, len);
	assert_null(dz_node_rrset(n, DZ_TYPE_A)->sigs);
	assert_null(n->nsec3);
	len = test_key("sec.example.com.", key);
	n = dz_zone_find(zone, key, len);
	assert_non_null(dz_node_rrset(n, DZ_TYPE_DS)->sigs);
	assert_null(dz_node_rrset(n, DZ_TYPE_NS)->sigs);

	/* The wildcard's RRSIG labels field leaves out the "*": 3 for *.w.example.com. */
	len = test_key("*.w.example.com.", key);
	n = dz_zone_find(zone, key, len);
	{
		const dz_sigset_t *sigs = dz_node_rrset(n, DZ_TYPE_TXT)->sigs;
		dz_rrsig_fields_t f;
		assert_non_null(sigs);
		assert_true(dz_rrsig_parse(sigs->data + 2, (size_t)((sigs->data[0] << 8) | sigs->data[1]), &f));
		assert_int_equal(f.labels, 3);
		assert_int_equal(f.inception, TEST_NOW - policy.signature_inception_offset);
		assert_true(f.expiration <= TEST_NOW + policy.signature_validity);
		assert_true(f.expiration >= TEST_NOW + policy.signature_validity - policy.signature_jitter);
		assert_int_equal(f.key_tag, keys.keys[0].key_tag);
	}
	/* DNSKEY, CDS and CDNSKEY at the apex, NSEC3PARAM with flags 0. */
	assert_non_null(dz_node_rrset(zone->apex, DZ_TYPE_DNSKEY)->sigs);
	assert_non_null(dz_node_rrset(zone->apex, DZ_TYPE_CDS));
	assert_non_null(dz_node_rrset(zone->apex, DZ_TYPE_CDNSKEY));
	assert_int_equal(dz_node_rrset(zone->apex, DZ_TYPE_NSEC3PARAM)->data[3], 0);
	/* NSEC3 TTL: min(SOA TTL 3600, SOA MINIMUM 300). */
	assert_int_equal(dz_zone_nsec3_first(zone)->rrset->ttl, 300);

	/* A second run without changes makes no signature and keeps the serial. */
	{
		dz_update_params_t p = params_for(&policy, &keys, &backend, false);
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_OK);
		assert_false(res.changed);
		assert_int_equal(res.serial, 1);
		assert_int_equal(res.sign.signatures, 0);
	}
	dz_zone_destroy(zone);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
}

static void
refresh_resigns_expiring_signatures(void **state)
{
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_update_result_t res;
	dz_zone_t *zone;
	dz_update_params_t p;
	dz_error_t err;
	size_t total;

	(void)state;
	test_policy(&policy, DZ_DENIAL_NSEC);
	test_keys_create(&keys, 1);
	zone = full_sign(base_zone, &policy, &keys, &backend, &res);
	total = res.sign.signatures;
	assert_true(total > 0);

	/* Just before the earliest refresh time nothing is due. */
	p = params_for(&policy, &keys, &backend, false);
	p.now = zone->earliest_expiration - policy.signature_refresh - 1;
	dz_error_init(&err);
	assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_OK);
	assert_false(res.changed);

	/* Past the latest refresh time everything is re-signed, with a new serial. */
	p.now = TEST_NOW + policy.signature_validity - policy.signature_refresh + 1;
	assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_OK);
	assert_true(res.changed);
	assert_int_equal(res.serial, 2);
	assert_int_equal(res.sign.signatures, total);
	dz_zone_destroy(zone);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
}

/* After the clock went back, a change re-signs every RRset from the clock's future. */
static void
clock_back_replaces_future_signatures(void **state)
{
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_update_result_t res;
	dz_zone_t *zone;
	dz_update_params_t p;
	dz_error_t err;
	size_t total;

	(void)state;
	test_policy(&policy, DZ_DENIAL_NSEC3);
	test_keys_create(&keys, 1);
	zone = full_sign(base_zone, &policy, &keys, &backend, &res);
	total = res.sign.signatures;
	assert_true(total > 0);

	p = params_for(&policy, &keys, &backend, false);
	p.now = TEST_NOW - 7 * 86400;
	test_add_rr(zone, "new.example.com. 3600 IN A 192.0.2.7");
	dz_error_init(&err);
	if (dz_update_zone(zone, &p, &res, &err) != DZ_OK)
		fail_msg("update a week back: %s", dz_error_message(&err));
	assert_true(res.changed);
	assert_true(res.sign.signatures > total);
	assert_true(zone->latest_inception <= p.now);

	dz_zone_destroy(zone);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
}

/* The candidate records of the property test. */
static char candidates[64][200];
static size_t candidate_count;

static void
make_candidates(void)
{
	candidate_count = 0;
	for (int i = 0; i < 6; i++) {
		snprintf(candidates[candidate_count++], 200, "h%d.example.com. 3600 IN A 10.0.0.%d", i, i);
		snprintf(candidates[candidate_count++], 200,
			 "_25._tcp.h%d.example.com. 3600 IN TLSA 3 1 1 %064x", i, i + 1);
		snprintf(candidates[candidate_count++], 200, "d%d.example.com. 3600 IN NS ns.d%d.example.com.", i, i);
		snprintf(candidates[candidate_count++], 200, "ns.d%d.example.com. 3600 IN A 10.1.0.%d", i, i);
		snprintf(candidates[candidate_count++], 200,
			 "d%d.example.com. 3600 IN DS %d 13 2 %064x", i, 100 + i, i + 7);
		snprintf(candidates[candidate_count++], 200, "a.b.c%d.example.com. 3600 IN TXT \"deep %d\"", i, i);
	}
	snprintf(candidates[candidate_count++], 200, "*.h1.example.com. 3600 IN TXT \"wild\"");
	snprintf(candidates[candidate_count++], 200, "x.d1.example.com. 3600 IN TXT \"occluded\"");
}

static bool
is_ds(size_t i)
{
	return strstr(candidates[i], " DS ") != NULL;
}

/* The NS candidate of the same delegation as DS candidate i, and back. */
static size_t
ns_of_ds(size_t i)
{
	return i - 2;
}

static void
zone_text(const bool *present, char *out, size_t cap)
{
	size_t len = (size_t)snprintf(out, cap, "%s", base_zone);

	for (size_t i = 0; i < candidate_count; i++) {
		if (present[i])
			len += (size_t)snprintf(out + len, cap - len, "%s\n", candidates[i]);
	}
}

/* Split wire RRs in IXFR order and apply them to a sorted list (as test_zone_rrs makes). */
typedef struct rr_list {
	uint8_t **items;
	size_t *lens;
	size_t count;
} rr_list_t;

static void
list_from_buf(const dz_buf_t *buf, rr_list_t *list)
{
	size_t pos = 0;

	memset(list, 0, sizeof(*list));
	while (pos < buf->len) {
		uint32_t len = ((uint32_t)buf->data[pos] << 24) | ((uint32_t)buf->data[pos + 1] << 16) |
			       ((uint32_t)buf->data[pos + 2] << 8) | buf->data[pos + 3];
		list->items = realloc(list->items, (list->count + 1) * sizeof(*list->items));
		list->lens = realloc(list->lens, (list->count + 1) * sizeof(*list->lens));
		list->items[list->count] = malloc(len);
		memcpy(list->items[list->count], buf->data + pos + 4, len);
		list->lens[list->count] = len;
		list->count++;
		pos += 4 + len;
	}
}

static void
list_free(rr_list_t *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	free(list->lens);
}

static long
list_find(const rr_list_t *list, const uint8_t *rr, size_t len)
{
	for (size_t i = 0; i < list->count; i++) {
		if (list->items[i] != NULL && list->lens[i] == len && memcmp(list->items[i], rr, len) == 0)
			return (long)i;
	}
	return -1;
}

static void
apply_ixfr(rr_list_t *list, const dz_buf_t *ixfr)
{
	size_t pos = 0;
	unsigned soa_seen = 0;

	while (pos < ixfr->len) {
		size_t name_len = dz_name_wire_length(ixfr->data + pos, ixfr->len - pos);
		uint16_t type = (uint16_t)((ixfr->data[pos + name_len] << 8) | ixfr->data[pos + name_len + 1]);
		size_t rdlen = (size_t)(ixfr->data[pos + name_len + 8] << 8) | ixfr->data[pos + name_len + 9];
		size_t len = name_len + 10 + rdlen;
		const uint8_t *rr = ixfr->data + pos;

		assert_true(name_len > 0);
		if (type == DZ_TYPE_SOA)
			soa_seen++;
		if (soa_seen == 1) {
			long i = list_find(list, rr, len);
			if (i < 0)
				fail_msg("IXFR removes an RR of type %u that is not in the old version", type);
			free(list->items[i]);
			list->items[i] = NULL;
		} else {
			assert_true(list_find(list, rr, len) < 0);
			list->items = realloc(list->items, (list->count + 1) * sizeof(*list->items));
			list->lens = realloc(list->lens, (list->count + 1) * sizeof(*list->lens));
			list->items[list->count] = malloc(len);
			memcpy(list->items[list->count], rr, len);
			list->lens[list->count] = len;
			list->count++;
		}
		pos += len;
	}
	assert_int_equal(soa_seen, 2);
}

static void
assert_lists_equal(const rr_list_t *a, const rr_list_t *b)
{
	size_t live = 0;

	for (size_t i = 0; i < a->count; i++) {
		if (a->items[i] == NULL)
			continue;
		live++;
		if (list_find(b, a->items[i], a->lens[i]) < 0)
			fail_msg("RR %zu of the IXFR result is not in the new version", i);
	}
	assert_int_equal(live, b->count);
}

static void
run_property(dz_denial_t denial, bool opt_out, unsigned seed, unsigned steps)
{
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_update_result_t res;
	bool present[64] = { false };
	char *text = malloc(65536);
	dz_zone_t *zone;

	assert_non_null(text);
	make_candidates();
	test_policy(&policy, denial);
	policy.nsec3_opt_out = opt_out;
	test_keys_create(&keys, 1);
	srand(seed);
	zone = full_sign(base_zone, &policy, &keys, &backend, &res);

	for (unsigned step = 0; step < steps; step++) {
		size_t pick = (size_t)rand() % candidate_count;
		dz_update_params_t p = params_for(&policy, &keys, &backend, false);
		dz_buf_t before;
		dz_buf_t after;
		dz_buf_t full_rrs;
		dz_buf_t incremental_rrs;
		dz_buf_t ixfr;
		rr_list_t old_list;
		rr_list_t new_list;
		dz_changes_summary_t summary;
		dz_error_t err;
		dz_zone_t *full;

		dz_buf_init(&before);
		dz_buf_init(&after);
		dz_buf_init(&full_rrs);
		dz_buf_init(&incremental_rrs);
		dz_buf_init(&ixfr);
		dz_error_init(&err);
		test_zone_rrs(zone, true, false, &before);
		assert_non_null(dz_changes_start(zone));

		/* A DS needs its NS, so the two go together. */
		if (present[pick]) {
			if (!is_ds(pick) && pick + 2 < candidate_count && is_ds(pick + 2) &&
			    ns_of_ds(pick + 2) == pick && present[pick + 2]) {
				test_delete_rr(zone, candidates[pick + 2]);
				present[pick + 2] = false;
			}
			test_delete_rr(zone, candidates[pick]);
			present[pick] = false;
		} else {
			if (is_ds(pick) && !present[ns_of_ds(pick)]) {
				test_add_rr(zone, candidates[ns_of_ds(pick)]);
				present[ns_of_ds(pick)] = true;
			}
			test_add_rr(zone, candidates[pick]);
			present[pick] = true;
		}
		if (dz_update_zone(zone, &p, &res, &err) != DZ_OK)
			fail_msg("seed %u step %u (%s): %s", seed, step, candidates[pick], dz_error_message(&err));
		assert_true(res.changed);
		assert_int_equal(dz_changes_finish(zone->changes, &ixfr, &summary, &err), DZ_OK);

		/* Incremental equals full: the same records apart from signatures and serial. */
		zone_text(present, text, 65536);
		full = full_sign(text, &policy, &keys, &backend, NULL);
		test_zone_rrs(full, false, true, &full_rrs);
		test_zone_rrs(zone, false, true, &incremental_rrs);
		if (full_rrs.len != incremental_rrs.len ||
		    memcmp(full_rrs.data, incremental_rrs.data, full_rrs.len) != 0)
			fail_msg("seed %u step %u (%s %s): incremental and full signing differ", seed, step,
				 present[pick] ? "add" : "delete", candidates[pick]);

		/* The IXFR difference turns the old version into the new one. */
		test_zone_rrs(zone, true, false, &after);
		list_from_buf(&before, &old_list);
		list_from_buf(&after, &new_list);
		apply_ixfr(&old_list, &ixfr);
		assert_lists_equal(&old_list, &new_list);

		list_free(&old_list);
		list_free(&new_list);
		dz_zone_destroy(full);
		dz_buf_clear(&before);
		dz_buf_clear(&after);
		dz_buf_clear(&full_rrs);
		dz_buf_clear(&incremental_rrs);
		dz_buf_clear(&ixfr);
	}
	dz_zone_destroy(zone);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
	free(text);
}

static void
incremental_equals_full_nsec(void **state)
{
	(void)state;
	run_property(DZ_DENIAL_NSEC, false, 1, 60);
	run_property(DZ_DENIAL_NSEC, false, 2, 60);
}

static void
incremental_equals_full_nsec3(void **state)
{
	(void)state;
	run_property(DZ_DENIAL_NSEC3, false, 3, 60);
	run_property(DZ_DENIAL_NSEC3, false, 4, 60);
}

static void
incremental_equals_full_nsec3_opt_out(void **state)
{
	(void)state;
	run_property(DZ_DENIAL_NSEC3, true, 5, 60);
	run_property(DZ_DENIAL_NSEC3, true, 6, 60);
}

/* One new TLSA record: its RRset, the NSEC3 records around its new names and the SOA. */
static void
one_tlsa_change_makes_few_signatures(void **state)
{
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_update_result_t res;
	dz_update_params_t p;
	dz_error_t err;
	dz_zone_t *zone;

	(void)state;
	test_policy(&policy, DZ_DENIAL_NSEC3);
	test_keys_create(&keys, 1);
	zone = full_sign(base_zone, &policy, &keys, &backend, &res);
	test_delete_rr(zone, "_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011");
	test_add_rr(zone, "_25._tcp.mail.example.com. 3600 IN TLSA 3 1 1 aa11223344556677889900112233445566778899001122334455667788990011");
	p = params_for(&policy, &keys, &backend, false);
	dz_error_init(&err);
	assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_OK);
	/* The TLSA RRset and the SOA: the chain does not change. */
	assert_int_equal(res.sign.signatures, 2);
	test_add_rr(zone, "_587._tcp.mail.example.com. 3600 IN TLSA 3 1 1 bb11223344556677889900112233445566778899001122334455667788990011");
	assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_OK);
	/* TLSA, its NSEC3, the NSEC3 before it and the SOA. */
	assert_true(res.sign.signatures >= 3);
	assert_true(res.sign.signatures < 10);
	dz_zone_destroy(zone);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
}

static void
insecure_zone_has_no_dnssec_records(void **state)
{
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_update_result_t res;
	dz_zone_t *zone;
	dz_buf_t rrs;

	(void)state;
	test_policy(&policy, DZ_DENIAL_NSEC3);
	test_keys_create(&keys, 1);
	zone = full_sign(base_zone, &policy, &keys, &backend, &res);
	/* The key manager hands over an empty key set: the zone goes insecure. */
	keys.count = 0;
	{
		dz_update_params_t p = params_for(&policy, &keys, &backend, false);
		dz_error_t err;
		dz_error_init(&err);
		assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_OK);
	}
	assert_true(res.changed);
	dz_buf_init(&rrs);
	test_zone_rrs(zone, true, false, &rrs);
	for (size_t pos = 0; pos < rrs.len;) {
		uint32_t len = ((uint32_t)rrs.data[pos] << 24) | ((uint32_t)rrs.data[pos + 1] << 16) |
			       ((uint32_t)rrs.data[pos + 2] << 8) | rrs.data[pos + 3];
		size_t name_len = dz_name_wire_length(rrs.data + pos + 4, len);
		uint16_t type = (uint16_t)((rrs.data[pos + 4 + name_len] << 8) | rrs.data[pos + 5 + name_len]);
		assert_true(type != DZ_TYPE_RRSIG && type != DZ_TYPE_NSEC3 && type != DZ_TYPE_DNSKEY &&
			    type != DZ_TYPE_NSEC3PARAM && type != DZ_TYPE_CDS);
		pos += 4 + len;
	}
	dz_buf_clear(&rrs);
	keys.count = 1;
	dz_zone_destroy(zone);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
}

/* RFC 8078 section 4: going insecure publishes CDS 0 0 0 00 and CDNSKEY 0 3 0 AA==. */
static void
cds_delete_records_when_asked(void **state)
{
	static const uint8_t cds_delete[] = { 0, 0, 0, 0, 0 };
	static const uint8_t cdnskey_delete[] = { 0, 0, 3, 0, 0 };
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_update_result_t res;
	dz_update_params_t p;
	dz_error_t err;
	dz_zone_t *zone;
	const dz_rrset_t *cds;
	const dz_rrset_t *cdnskey;

	(void)state;
	test_policy(&policy, DZ_DENIAL_NSEC3);
	test_keys_create(&keys, 2);
	zone = full_sign(base_zone, &policy, &keys, &backend, &res);
	/* With a KSK and a ZSK, CDS and CDNSKEY describe the KSK only. */
	assert_int_equal(dz_node_rrset(zone->apex, DZ_TYPE_CDS)->count, 1);
	assert_int_equal(dz_node_rrset(zone->apex, DZ_TYPE_CDNSKEY)->count, 1);
	assert_int_equal(dz_node_rrset(zone->apex, DZ_TYPE_DNSKEY)->count, 2);

	keys.publish_cds_delete = true;
	p = params_for(&policy, &keys, &backend, false);
	dz_error_init(&err);
	assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_OK);
	assert_true(res.changed);
	cds = dz_node_rrset(zone->apex, DZ_TYPE_CDS);
	cdnskey = dz_node_rrset(zone->apex, DZ_TYPE_CDNSKEY);
	assert_int_equal(cds->count, 1);
	assert_int_equal(cds->len, 2 + sizeof(cds_delete));
	assert_memory_equal(cds->data + 2, cds_delete, sizeof(cds_delete));
	assert_int_equal(cdnskey->count, 1);
	assert_int_equal(cdnskey->len, 2 + sizeof(cdnskey_delete));
	assert_memory_equal(cdnskey->data + 2, cdnskey_delete, sizeof(cdnskey_delete));
	/* Signed by the key-signing key only. */
	assert_int_equal(cds->sigs->count, 1);
	{
		dz_rrsig_fields_t f;
		assert_true(dz_rrsig_parse(cds->sigs->data + 2,
					   (size_t)((cds->sigs->data[0] << 8) | cds->sigs->data[1]), &f));
		assert_int_equal(f.key_tag, keys.keys[0].key_tag);
	}
	dz_zone_destroy(zone);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
}

/* A DNSKEY of another signer is published beside ours; one of an algorithm without a signing key is refused. */
static void
extra_dnskey_published_and_checked(void **state)
{
	/* ECDSAP256SHA256 (13), then the same key claiming ED25519 (15). */
	static const char key13[] = "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==";
	dz_policy_t policy;
	dz_keyset_t keys;
	dz_sign_backend_t backend = test_backend();
	dz_update_result_t res;
	dz_update_params_t p;
	dz_error_t err;
	dz_zone_t *zone;
	uint8_t extra[2 + 4 + 64];
	long len;

	(void)state;
	test_policy(&policy, DZ_DENIAL_NSEC);
	test_keys_create(&keys, 1);
	zone = full_sign(base_zone, &policy, &keys, &backend, &res);
	{
		/* The public key field, decoded from base64 by ldns. */
		ldns_rdf *rdf = NULL;
		assert_int_equal(ldns_str2rdf_b64(&rdf, key13), LDNS_STATUS_OK);
		len = (long)ldns_rdf_size(rdf);
		assert_int_equal(len, 64);
		extra[0] = 0;
		extra[1] = 4 + 64;
		extra[2] = 1;
		extra[3] = 1;
		extra[4] = 3;
		extra[5] = 13;
		memcpy(extra + 6, ldns_rdf_data(rdf), 64);
		ldns_rdf_deep_free(rdf);
	}
	p = params_for(&policy, &keys, &backend, false);
	p.extra_dnskeys = extra;
	p.extra_dnskeys_len = sizeof(extra);
	dz_error_init(&err);
	assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_OK);
	assert_int_equal(dz_node_rrset(zone->apex, DZ_TYPE_DNSKEY)->count, 2);

	extra[5] = 15;
	assert_int_equal(dz_update_zone(zone, &p, &res, &err), DZ_ESTATE);
	assert_non_null(strstr(err.message, "algorithm 15"));
	dz_zone_destroy(zone);
	test_keys_free(&keys);
	dz_policy_clear(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_sign_signs_authoritative_data_only),
		cmocka_unit_test(refresh_resigns_expiring_signatures),
		cmocka_unit_test(clock_back_replaces_future_signatures),
		cmocka_unit_test(incremental_equals_full_nsec),
		cmocka_unit_test(incremental_equals_full_nsec3),
		cmocka_unit_test(incremental_equals_full_nsec3_opt_out),
		cmocka_unit_test(one_tlsa_change_makes_few_signatures),
		cmocka_unit_test(insecure_zone_has_no_dnssec_records),
		cmocka_unit_test(cds_delete_records_when_asked),
		cmocka_unit_test(extra_dnskey_published_and_checked),
	};

	dz_log_set_level(DZ_LOG_ERROR);
	return cmocka_run_group_tests_name("signer_incremental", tests, NULL, NULL);
}
