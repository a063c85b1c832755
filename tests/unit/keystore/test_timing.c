/*
 * Unit tests of the waits, the TTL history, rollover lead times and the
 * policy checks.  Expected values are the hand computations of the
 * rollover tables (RFC 7583 intervals with BIND's system-test parameters).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "keystore/policy_check.h"
#include "keystore/timing.h"

#define H (3600LL)
#define D (86400LL)

/* Policy A of the rollover tables (BIND's zsk-prepub test). */
static void
policy_a(dz_policy_t *p)
{
	assert_true(dz_policy_init_defaults(p));
	dz_policy_key_t *keys = realloc(p->keys, 2 * sizeof(*keys));
	assert_non_null(keys);
	p->keys = keys;
	keys[0] = (dz_policy_key_t){ .role = DZ_ROLE_KSK, .algorithm = DZ_ALG_ECDSAP256SHA256 };
	keys[1] = (dz_policy_key_t){ .role = DZ_ROLE_ZSK, .algorithm = DZ_ALG_ECDSAP256SHA256,
				     .lifetime = 30 * D };
	p->key_count = 2;
	p->dnskey_ttl = 1 * H;
	p->max_zone_ttl = 1 * D;
	p->ds_ttl = 1 * H;
	p->zone_propagation_delay = 1 * H;
	p->parent_propagation_delay = 1 * H;
	p->publish_safety = 1 * D;
	p->retire_safety = 2 * D;
	p->signature_validity = 14 * D;
	p->signature_validity_dnskey = 14 * D;
	p->signature_refresh = 7 * D;
	p->signature_jitter = 0;
}

static dz_key_t
zsk(dz_key_state_t zrrsig, dz_time_t changed, bool linked)
{
	dz_key_t k;
	dz_key_init(&k);
	k.number = 2;
	k.role = DZ_ROLE_ZSK;
	k.state[DZ_REC_ZRRSIG] = zrrsig;
	k.changed[DZ_REC_ZRRSIG] = changed;
	k.changed[DZ_REC_DNSKEY] = changed;
	k.predecessor = linked ? 1 : 0;
	return k;
}

static void
ttl_history_keeps_larger_old_ttl(void **state)
{
	(void)state;
	dz_ttl_history_t h = { 0 };
	dz_ttl_history_set(&h, 86400, 0);
	dz_ttl_history_set(&h, 3600, 1000);
	assert_int_equal(h.count, 2);
	/* A wait started while the old TTL can still be cached uses it. */
	assert_int_equal(dz_ttl_history_effective(&h, 3600, 1000), 86400);
	assert_int_equal(dz_ttl_history_effective(&h, 3600, 1000 + 86400 - 1), 86400);
	/* Once it has run out, only the current TTL counts. */
	assert_int_equal(dz_ttl_history_effective(&h, 3600, 1000 + 86400), 3600);
	/* A larger current (policy) TTL always counts. */
	assert_int_equal(dz_ttl_history_effective(&h, 7200, 1000 + 86400), 7200);
}

static void
ttl_history_same_ttl_no_entry(void **state)
{
	(void)state;
	dz_ttl_history_t h = { 0 };
	dz_ttl_history_set(&h, 3600, 0);
	dz_ttl_history_set(&h, 3600, 50);
	assert_int_equal(h.count, 1);
	assert_int_equal(h.entries[0].from, 0);
	assert_int_equal(h.entries[0].until, DZ_TIME_NEVER);
}

static void
ttl_history_prune_and_fold(void **state)
{
	(void)state;
	dz_ttl_history_t h = { 0 };
	dz_ttl_history_set(&h, 100, 0);
	dz_ttl_history_set(&h, 200, 10);
	dz_ttl_history_prune(&h, 10 + 100);
	assert_int_equal(h.count, 1);
	assert_int_equal(h.entries[0].ttl, 200);

	/* A full history folds its oldest entries, keeping the larger TTL. */
	dz_ttl_history_t full = { 0 };
	dz_ttl_history_set(&full, 90000, 0);
	for (int i = 1; i <= DZ_TTL_HISTORY_MAX + 3; i++)
		dz_ttl_history_set(&full, (uint32_t)(10 + i % 2), i);
	assert_int_equal(full.count, DZ_TTL_HISTORY_MAX);
	assert_int_equal(dz_ttl_history_effective(&full, 10, 5), 90000);
}

static void
due_dnskey_publication(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	dz_key_timing_t timing = { .policy = &p, .negative_ttl = 3600 };
	dz_key_t k = zsk(DZ_STATE_HIDDEN, 0, false);
	k.state[DZ_REC_DNSKEY] = DZ_STATE_RUMOURED;
	k.changed[DZ_REC_DNSKEY] = 1000;

	/* IpubC = DprpC + TTLkey + Spub = 26h. */
	assert_int_equal(dz_key_publish_interval(&timing, 1000), 26 * H);
	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DNSKEY, DZ_STATE_OMNIPRESENT, false, 0),
			 1000 + 26 * H);
	/* The first DNSKEY RRset also waits for a cached negative answer of 2 days. */
	timing.negative_ttl = 2 * D;
	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DNSKEY, DZ_STATE_OMNIPRESENT, true, 0),
			 1000 + 1 * H + 2 * D + 1 * D);
	/* Withdrawal: DprpC + TTLkey, no margin. */
	k.state[DZ_REC_DNSKEY] = DZ_STATE_UNRETENTIVE;
	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DNSKEY, DZ_STATE_HIDDEN, false, 0),
			 1000 + 2 * H);
	/* Moves into rumoured or unretentive never wait. */
	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DNSKEY, DZ_STATE_RUMOURED, false, 77),
			 77);
	dz_policy_clear(&p);
}

static void
due_signatures(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	dz_key_timing_t timing = { .policy = &p, .negative_ttl = 3600 };

	/* Linked ZSK: Iret = Dsgn 7d + DprpC 1h + TTLsig 1d + Sret 2d = 241h. */
	dz_key_t linked = zsk(DZ_STATE_RUMOURED, 720 * H, true);
	assert_int_equal(dz_key_due_time(&timing, &linked, DZ_REC_ZRRSIG, DZ_STATE_OMNIPRESENT,
					 false, 0),
			 961 * H);
	/* A full re-sign published at the change drops Dsgn: 73h. */
	linked.resigned = 720 * H;
	assert_int_equal(dz_key_due_time(&timing, &linked, DZ_REC_ZRRSIG, DZ_STATE_OMNIPRESENT,
					 false, 0),
			 793 * H);
	/* A re-sign before the change does not count. */
	linked.resigned = 719 * H;
	assert_int_equal(dz_key_due_time(&timing, &linked, DZ_REC_ZRRSIG, DZ_STATE_OMNIPRESENT,
					 false, 0),
			 961 * H);
	/* A late full re-sign never postpones the move. */
	linked.resigned = 960 * H;
	assert_int_equal(dz_key_due_time(&timing, &linked, DZ_REC_ZRRSIG, DZ_STATE_OMNIPRESENT,
					 false, 0),
			 961 * H);
	/* Unlinked: no Sret, but Dsgn unless a full re-sign was published. */
	dz_key_t alone = zsk(DZ_STATE_RUMOURED, 0, false);
	assert_int_equal(dz_key_due_time(&timing, &alone, DZ_REC_ZRRSIG, DZ_STATE_OMNIPRESENT,
					 false, 0),
			 1 * H + 1 * D + 7 * D);
	alone.resigned = 0;
	assert_int_equal(dz_key_due_time(&timing, &alone, DZ_REC_ZRRSIG, DZ_STATE_OMNIPRESENT,
					 false, 0),
			 1 * H + 1 * D);
	/* The negative TTL counts when it is larger than max-zone-ttl. */
	timing.negative_ttl = 2 * D;
	assert_int_equal(dz_key_due_time(&timing, &alone, DZ_REC_ZRRSIG, DZ_STATE_OMNIPRESENT,
					 false, 0),
			 1 * H + 2 * D);
	dz_policy_clear(&p);
}

static void
due_ds_needs_observation(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	p.ds_ttl = 1 * H;
	p.retire_safety = 2 * D;
	dz_key_timing_t timing = { .policy = &p };
	dz_key_t k;
	dz_key_init(&k);
	k.role = DZ_ROLE_KSK;
	k.predecessor = 1;
	k.state[DZ_REC_DS] = DZ_STATE_RUMOURED;
	k.changed[DZ_REC_DS] = 1440 * H;

	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DS, DZ_STATE_OMNIPRESENT, false, 0),
			 DZ_TIME_NEVER);
	/* An observation older than the request does not count. */
	k.ds_seen = 1439 * H;
	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DS, DZ_STATE_OMNIPRESENT, false, 0),
			 DZ_TIME_NEVER);
	/* Policy B: Tobs + DprpP 1h + TTLds 1h + Sret 2d, from the observation. */
	k.ds_seen = 1445 * H;
	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DS, DZ_STATE_OMNIPRESENT, false, 0),
			 1495 * H);
	/* A larger DS TTL seen at the parent counts. */
	timing.ds_ttl_observed = 5 * H;
	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DS, DZ_STATE_OMNIPRESENT, false, 0),
			 1499 * H);
	/* Removal waits for the "gone" observation. */
	k.state[DZ_REC_DS] = DZ_STATE_UNRETENTIVE;
	assert_int_equal(dz_key_due_time(&timing, &k, DZ_REC_DS, DZ_STATE_HIDDEN, false, 0),
			 DZ_TIME_NEVER);
	dz_policy_clear(&p);
}

static void
rollover_lead_and_duration(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	dz_key_timing_t timing = { .policy = &p };

	assert_int_equal(dz_key_rollover_lead(&timing, DZ_ROLE_ZSK, 0), 26 * H);
	/* IpubC 26h + Iret 241h + DprpC 1h + TTLkey 1h = 269h (11d5h). */
	assert_int_equal(dz_key_rollover_duration(&timing, DZ_ROLE_ZSK, 0), 269 * H);

	/* Policy B: KSK double-KSK. */
	p.dnskey_ttl = 2 * H;
	assert_int_equal(dz_key_rollover_lead(&timing, DZ_ROLE_KSK, 0), 27 * H);
	/* 27h + Dreg 0 + 2 DprpP 2h + TTLds 1h + Sret 48h + DprpC 1h + TTLkey 2h = 81h. */
	assert_int_equal(dz_key_rollover_duration(&timing, DZ_ROLE_KSK, 0), 81 * H);
	/* Double-DS: the DS goes first, Dreg + 2 DprpP + TTLds + Sret before. */
	p.ksk_rollover = DZ_KSK_DOUBLE_DS;
	assert_int_equal(dz_key_rollover_lead(&timing, DZ_ROLE_KSK, 0), 51 * H);
	/* A registration delay starts double-KSK earlier by that much. */
	p.ksk_rollover = DZ_KSK_DOUBLE_KSK;
	p.registration_delay = 5 * H;
	assert_int_equal(dz_key_rollover_lead(&timing, DZ_ROLE_KSK, 0), 32 * H);
	dz_policy_clear(&p);
}

static void
policy_check_accepts_defaults(void **state)
{
	(void)state;
	dz_policy_t p;
	dz_error_t err;
	assert_true(dz_policy_init_defaults(&p));
	dz_error_init(&err);
	assert_int_equal(dz_key_policy_check(&p, &err), DZ_OK);
	dz_policy_clear(&p);
	policy_a(&p);
	assert_int_equal(dz_key_policy_check(&p, &err), DZ_OK);
	/* A policy without keys makes the zone insecure; that is valid. */
	p.key_count = 0;
	assert_int_equal(dz_key_policy_check(&p, &err), DZ_OK);
	p.key_count = 2;
	dz_policy_clear(&p);
}

static void
expect_policy_error(dz_policy_t *p, const char *fragment)
{
	dz_error_t err;
	dz_error_init(&err);
	assert_int_equal(dz_key_policy_check(p, &err), DZ_EPOLICY);
	if (strstr(err.message, fragment) == NULL)
		fail_msg("expected '%s' in: %s", fragment, err.message);
}

static void
policy_check_lifetime_minimum(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	/* 7d - 26h = 142h < 243h: the message gives the minimum, 269h (1w4d5h). */
	p.keys[1].lifetime = 7 * D;
	expect_policy_error(&p, "the minimum is 1w4d5h");
	p.keys[1].lifetime = 269 * H;
	dz_error_t err;
	dz_error_init(&err);
	assert_int_equal(dz_key_policy_check(&p, &err), DZ_OK);
	p.keys[1].lifetime = 269 * H - 1;
	expect_policy_error(&p, "zsk lifetime 1w4d4h59m59s is shorter");
	dz_policy_clear(&p);
}

static void
policy_check_signature_refresh(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	/* DprpC 1h + max-zone-ttl 1d = 25h. */
	p.signature_refresh = 24 * H;
	expect_policy_error(&p, "the minimum is 1d1h");
	p.signature_refresh = 14 * D;
	expect_policy_error(&p, "must stay below the signature validity");
	dz_policy_clear(&p);
}

static void
policy_check_keys_and_digests(void **state)
{
	(void)state;
	dz_policy_t p;

	policy_a(&p);
	p.cds_digest_types[0] = 1;
	expect_policy_error(&p, "SHA-1");
	p.cds_digest_types[0] = 3;
	expect_policy_error(&p, "digest type 3 is not supported");
	dz_policy_clear(&p);

	policy_a(&p);
	p.keys[1].role = DZ_ROLE_KSK;
	p.keys[1].lifetime = 0;
	expect_policy_error(&p, "the same ksk ECDSAP256SHA256 key");
	p.keys[1].algorithm = DZ_ALG_ED25519;
	expect_policy_error(&p, "algorithm ECDSAP256SHA256 has no key that signs the zone data");
	dz_policy_clear(&p);

	policy_a(&p);
	p.keys[0].algorithm = DZ_ALG_RSASHA256;
	p.keys[1].algorithm = DZ_ALG_RSASHA256;
	p.keys[0].bits = 2048;
	p.keys[1].bits = 1024;
	expect_policy_error(&p, "has 1024 bits");
	p.keys[1].bits = 2048;
	p.keys[0].algorithm = 99;
	expect_policy_error(&p, "unsupported algorithm 99");
	dz_policy_clear(&p);

	policy_a(&p);
	p.dnskey_ttl = 3000000000u;
	expect_policy_error(&p, "dnskey-ttl 3000000000 is above the largest TTL");
	dz_policy_clear(&p);
}

static void
policy_check_zone_ttls(void **state)
{
	(void)state;
	dz_policy_t p;
	dz_error_t err;
	policy_a(&p);
	dz_error_init(&err);
	assert_int_equal(dz_key_policy_check_zone_ttls(&p, "example.com.", 3600, 86400, &err), DZ_OK);
	assert_int_equal(dz_key_policy_check_zone_ttls(&p, "example.com.", 3600, 86401, &err),
			 DZ_EPOLICY);
	assert_non_null(strstr(err.message, "TTL 86401, above max-zone-ttl 86400"));
	assert_int_equal(dz_key_policy_check_zone_ttls(&p, "example.com.", 90000, 3600, &err),
			 DZ_EPOLICY);
	assert_non_null(strstr(err.message, "negative TTL"));
	dz_policy_clear(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ttl_history_keeps_larger_old_ttl),
		cmocka_unit_test(ttl_history_same_ttl_no_entry),
		cmocka_unit_test(ttl_history_prune_and_fold),
		cmocka_unit_test(due_dnskey_publication),
		cmocka_unit_test(due_signatures),
		cmocka_unit_test(due_ds_needs_observation),
		cmocka_unit_test(rollover_lead_and_duration),
		cmocka_unit_test(policy_check_accepts_defaults),
		cmocka_unit_test(policy_check_lifetime_minimum),
		cmocka_unit_test(policy_check_signature_refresh),
		cmocka_unit_test(policy_check_keys_and_digests),
		cmocka_unit_test(policy_check_zone_ttls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
