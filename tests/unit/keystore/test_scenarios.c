/*
 * Scenario tests on a simulated clock: the rollovers with hand-computed
 * event times.  Each step must happen at its expected second and nothing
 * may change one second earlier; the oracle then checks the whole
 * recording (no cache state validates as bogus, signing rule, CDS sanity,
 * no deleted key still in use).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy.h"
#include "sim.h"

#define H (3600LL)
#define D (86400LL)
#define T0 ((dz_time_t)1800000000)

typedef struct expected_step {
	int64_t at; /* seconds after T0 */
	const char *transitions;
} expected_step_t;

/* Run the steps; before each, nothing may change since the previous one. */
static void
run_steps(sim_t *sim, int64_t quiet_from, const expected_step_t *steps, size_t count)
{
	char got[2048];
	dz_time_t previous = T0 + quiet_from;

	for (size_t i = 0; i < count; i++) {
		dz_time_t t = T0 + steps[i].at;
		if (t - 1 >= sim_now(sim)) {
			sim_run_until(sim, t - 1);
			if (sim_describe(sim, previous + 1, t - 1, got, sizeof(got)) != 0)
				fail_msg("before step %zu (expected at T0+%" PRId64 "s): unexpected %s",
					 i + 1, steps[i].at, got);
		}
		sim_run_until(sim, t);
		sim_describe(sim, t, t, got, sizeof(got));
		if (strcmp(got, steps[i].transitions) != 0)
			fail_msg("step %zu at T0+%" PRId64 "h: expected [%s], got [%s]", i + 1,
				 steps[i].at / H, steps[i].transitions, got);
		previous = t;
	}
}

static void
assert_oracle_clean(sim_t *sim)
{
	oracle_report_t report;
	if (sim_check(sim, &report) != 0)
		fail_msg("oracle: %u violations:\n%s", report.violations, report.first);
	assert_true(report.breakpoints > 0);
}

static void
policy_two_keys(dz_policy_t *p, uint8_t algorithm, int64_t ksk_lifetime, int64_t zsk_lifetime)
{
	assert_true(dz_policy_init_defaults(p));
	dz_policy_key_t *keys = realloc(p->keys, 2 * sizeof(*keys));
	assert_non_null(keys);
	p->keys = keys;
	memset(keys, 0, 2 * sizeof(*keys));
	keys[0] = (dz_policy_key_t){ .role = DZ_ROLE_KSK, .algorithm = algorithm,
				     .lifetime = ksk_lifetime };
	keys[1] = (dz_policy_key_t){ .role = DZ_ROLE_ZSK, .algorithm = algorithm,
				     .lifetime = zsk_lifetime };
	if (algorithm == DZ_ALG_RSASHA256) {
		keys[0].bits = 2048;
		keys[1].bits = 2048;
	}
	p->key_count = 2;
}

/* Policy A: ZSK pre-publication with BIND's zsk-prepub test parameters. */
static void
policy_a(dz_policy_t *p)
{
	policy_two_keys(p, DZ_ALG_ECDSAP256SHA256, 0, 30 * D);
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
	p->purge_delay = 1 * H;
}

static sim_params_t
default_params(const dz_policy_t *p)
{
	return (sim_params_t){
		.policy = p,
		.negative_ttl = 3600,
		.start = T0,
		.dprp_child = -1,
		.dprp_parent = -1,
		.lagging_server = -1,
		.parent = SIM_PARENT_INSTANT,
	};
}

static void
scenario_a_zsk_prepublication(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	params.skew = 3600;
	sim_t *sim = sim_create(&params);

	static const expected_step_t steps[] = {
		{ 694 * H, "ZSK2 DNSKEY H>R" },
		{ 720 * H, "ZSK1 ZRRSIG O>U, ZSK2 DNSKEY R>O, ZSK2 ZRRSIG H>R" },
		{ 961 * H, "ZSK1 DNSKEY O>U, ZSK1 ZRRSIG U>H, ZSK2 ZRRSIG R>O" },
		{ 963 * H, "ZSK1 DNSKEY U>H" },
		{ 1414 * H, "ZSK3 DNSKEY H>R" },
	};
	run_steps(sim, 100 * H, steps, sizeof(steps) / sizeof(steps[0]));

	/* Step 5: ZSK1 is deleted from the token one purge delay after step 4, not earlier. */
	size_t count;
	const dz_key_sim_deletion_t *del = dz_key_sim_deletions(sim_provider(sim), &count);
	assert_int_equal(count, 1);
	assert_int_equal(del[0].time, T0 + 964 * H);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
scenario_a_full_resign(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	params.full_resign = true;
	sim_t *sim = sim_create(&params);

	/* A full re-sign published at step 2 removes the signing delay from the wait. */
	static const expected_step_t steps[] = {
		{ 694 * H, "ZSK2 DNSKEY H>R" },
		{ 720 * H, "ZSK1 ZRRSIG O>U, ZSK2 DNSKEY R>O, ZSK2 ZRRSIG H>R" },
		{ 793 * H, "ZSK1 DNSKEY O>U, ZSK1 ZRRSIG U>H, ZSK2 ZRRSIG R>O" },
		{ 795 * H, "ZSK1 DNSKEY U>H" },
	};
	run_steps(sim, 100 * H, steps, sizeof(steps) / sizeof(steps[0]));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* Policy B: KSK double-KSK with BIND's ksk-doubleksk test parameters. */
static void
policy_b(dz_policy_t *p)
{
	policy_two_keys(p, DZ_ALG_ECDSAP256SHA256, 60 * D, 0);
	p->dnskey_ttl = 2 * H;
	p->ds_ttl = 1 * H;
	p->max_zone_ttl = 1 * D;
	p->zone_propagation_delay = 1 * H;
	p->parent_propagation_delay = 1 * H;
	p->publish_safety = 1 * D;
	p->retire_safety = 2 * D;
	p->signature_validity = 14 * D;
	p->signature_validity_dnskey = 14 * D;
	p->signature_refresh = 7 * D;
	p->signature_jitter = 0;
	p->purge_delay = 1 * H;
	p->publish_cdnskey = false;
}

/* The parent replaces the DS at once on every server, and the operator confirms at once. */
static sim_params_t
instant_parent(const dz_policy_t *p)
{
	sim_params_t params = default_params(p);
	params.dprp_parent = 0;
	return params;
}

static const expected_step_t policy_b_steps[] = {
	{ 1413 * H, "KSK2 DNSKEY H>R, KSK2 KRRSIG H>R" },
	{ 1440 * H, "KSK1 DS O>U, KSK2 DNSKEY R>O, KSK2 DS H>R, KSK2 KRRSIG R>O" },
	{ 1490 * H, "KSK1 DNSKEY O>U, KSK1 DS U>H, KSK1 KRRSIG O>U, KSK2 DS R>O" },
	{ 1493 * H, "KSK1 DNSKEY U>H, KSK1 KRRSIG U>H" },
	{ 2853 * H, "KSK3 DNSKEY H>R, KSK3 KRRSIG H>R" },
};

static void
scenario_b_ksk_double_ksk(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	sim_t *sim = sim_create(&params);

	run_steps(sim, 100 * H, policy_b_steps, sizeof(policy_b_steps) / sizeof(policy_b_steps[0]));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
scenario_b_slow_parent(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	/* The parent publishes 5 hours after the request: steps 4 and 5 move by 5 hours. */
	params.parent_delay = 5 * H;
	sim_t *sim = sim_create(&params);

	static const expected_step_t steps[] = {
		{ 1413 * H, "KSK2 DNSKEY H>R, KSK2 KRRSIG H>R" },
		{ 1440 * H, "KSK1 DS O>U, KSK2 DNSKEY R>O, KSK2 DS H>R, KSK2 KRRSIG R>O" },
		{ 1495 * H, "KSK1 DNSKEY O>U, KSK1 DS U>H, KSK1 KRRSIG O>U, KSK2 DS R>O" },
		{ 1498 * H, "KSK1 DNSKEY U>H, KSK1 KRRSIG U>H" },
	};
	run_steps(sim, 100 * H, steps, sizeof(steps) / sizeof(steps[0]));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
scenario_b_add_only_parent(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	params.parent = SIM_PARENT_ADD_ONLY;
	sim_t *sim = sim_create(&params);

	/* The new DS becomes omnipresent; the old one stays at the parent for ever. */
	static const expected_step_t steps[] = {
		{ 1413 * H, "KSK2 DNSKEY H>R, KSK2 KRRSIG H>R" },
		{ 1440 * H, "KSK1 DS O>U, KSK2 DNSKEY R>O, KSK2 DS H>R, KSK2 KRRSIG R>O" },
		{ 1490 * H, "KSK1 DNSKEY O>U, KSK1 KRRSIG O>U, KSK2 DS R>O" },
		{ 1493 * H, "KSK1 DNSKEY U>H, KSK1 KRRSIG U>H" },
	};
	run_steps(sim, 100 * H, steps, sizeof(steps) / sizeof(steps[0]));
	const char *log = sim_take_log(sim);
	assert_non_null(strstr(log, "still serves the DS of retired ksk key"));

	sim_run_until(sim, T0 + 2000 * H);
	const dz_keyring_t *ring = dz_key_manager_ring(sim_manager(sim));
	const dz_key_t *ksk1 = dz_keyring_find((dz_keyring_t *)ring, sim_key(sim, "KSK1"));
	assert_non_null(ksk1);
	assert_int_equal(ksk1->state[DZ_REC_DS], DZ_STATE_UNRETENTIVE);
	assert_int_equal(ksk1->state[DZ_REC_DNSKEY], DZ_STATE_HIDDEN);
	/* KSK1 is never purged while the parent may still point to it. */
	size_t deleted;
	dz_key_sim_deletions(sim_provider(sim), &deleted);
	assert_int_equal(deleted, 0);
	assert_true(sim_parent_has_ds(sim, sim_key(sim, "KSK1")));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
scenario_b_parent_never_acts(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	params.parent = SIM_PARENT_NEVER;
	params.parent_normal_until = T0 + 100 * H;
	sim_t *sim = sim_create(&params);

	static const expected_step_t steps[] = {
		{ 1413 * H, "KSK2 DNSKEY H>R, KSK2 KRRSIG H>R" },
		{ 1440 * H, "KSK1 DS O>U, KSK2 DNSKEY R>O, KSK2 DS H>R, KSK2 KRRSIG R>O" },
	};
	run_steps(sim, 100 * H, steps, sizeof(steps) / sizeof(steps[0]));

	/* Nothing happens after step 2, not even the next rollover; both KSKs keep signing. */
	sim_run_until(sim, T0 + 3000 * H);
	char got[512];
	if (sim_describe(sim, T0 + 1440 * H + 1, T0 + 3000 * H, got, sizeof(got)) != 0)
		fail_msg("the rollover went on without the parent: %s", got);
	const dz_keyring_t *ring = dz_key_manager_ring(sim_manager(sim));
	const dz_key_t *ksk1 = dz_keyring_find((dz_keyring_t *)ring, sim_key(sim, "KSK1"));
	const dz_key_t *ksk2 = dz_keyring_find((dz_keyring_t *)ring, sim_key(sim, "KSK2"));
	assert_non_null(ksk1);
	assert_non_null(ksk2);
	assert_int_equal(ksk1->state[DZ_REC_DNSKEY], DZ_STATE_OMNIPRESENT);
	assert_int_equal(ksk1->state[DZ_REC_KRRSIG], DZ_STATE_OMNIPRESENT);
	assert_int_equal(ksk1->state[DZ_REC_DS], DZ_STATE_UNRETENTIVE);
	assert_int_equal(ksk2->state[DZ_REC_KRRSIG], DZ_STATE_OMNIPRESENT);
	assert_int_equal(ksk2->state[DZ_REC_DS], DZ_STATE_RUMOURED);
	const char *log = sim_take_log(sim);
	assert_non_null(strstr(log, "the parent does not serve the DS of ksk key"));
	assert_non_null(strstr(log, "another rollover of the same role is unfinished"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* Policy C: CSK rollover with BIND's csk-roll1 test parameters. */
static void
policy_c(dz_policy_t *p)
{
	assert_true(dz_policy_init_defaults(p));
	p->keys[0] = (dz_policy_key_t){ .role = DZ_ROLE_CSK, .algorithm = DZ_ALG_ECDSAP256SHA256,
					.lifetime = 186 * D };
	p->dnskey_ttl = 1 * H;
	p->ds_ttl = 1 * H;
	p->max_zone_ttl = 1 * D;
	p->zone_propagation_delay = 1 * H;
	p->parent_propagation_delay = 1 * H;
	p->publish_safety = 1 * H;
	p->retire_safety = 2 * H;
	p->signature_validity = 30 * D;
	p->signature_validity_dnskey = 30 * D;
	p->signature_refresh = 5 * D;
	p->signature_jitter = 0;
	p->purge_delay = 1 * H;
}

static void
scenario_c_csk(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_c(&p);
	sim_params_t params = instant_parent(&p);
	sim_t *sim = sim_create(&params);

	static const expected_step_t steps[] = {
		{ 4461 * H, "CSK2 DNSKEY H>R, CSK2 KRRSIG H>R" },
		{ 4464 * H, "CSK1 DS O>U, CSK1 ZRRSIG O>U, CSK2 DNSKEY R>O, CSK2 DS H>R, "
			    "CSK2 KRRSIG R>O, CSK2 ZRRSIG H>R" },
		{ 4468 * H, "CSK1 DS U>H, CSK1 KRRSIG O>U, CSK2 DS R>O" },
		{ 4470 * H, "CSK1 KRRSIG U>H" },
		{ 5091 * H, "CSK1 DNSKEY O>U, CSK1 ZRRSIG U>H, CSK2 ZRRSIG R>O" },
		{ 5093 * H, "CSK1 DNSKEY U>H" },
	};
	run_steps(sim, 100 * H, steps, sizeof(steps) / sizeof(steps[0]));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* Policy D: initial signing, then the DS, with BIND's enable-dnssec parameters. */
static void
policy_d(dz_policy_t *p)
{
	assert_true(dz_policy_init_defaults(p));
	p->keys[0] = (dz_policy_key_t){ .role = DZ_ROLE_CSK, .algorithm = DZ_ALG_ECDSAP256SHA256 };
	p->dnskey_ttl = 300;
	p->max_zone_ttl = 12 * H;
	p->ds_ttl = 2 * H;
	p->zone_propagation_delay = 300;
	p->parent_propagation_delay = 1 * H;
	p->publish_safety = 300;
	p->retire_safety = 20 * 60;
	p->signature_validity = 14 * D;
	p->signature_validity_dnskey = 14 * D;
	p->signature_refresh = 5 * D;
	p->signature_jitter = 0;
}

static void
scenario_d_initial_signing(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_d(&p);
	sim_params_t params = instant_parent(&p);
	params.negative_ttl = 300;
	sim_t *sim = sim_create(&params);

	static const expected_step_t steps[] = {
		{ 0, "CSK1 DNSKEY H>R, CSK1 KRRSIG H>R, CSK1 ZRRSIG H>R" },
		{ 15 * 60, "CSK1 DNSKEY R>O, CSK1 KRRSIG R>O" },
		{ 12 * H + 5 * 60, "CSK1 DS H>R, CSK1 ZRRSIG R>O" },
		{ 15 * H + 5 * 60, "CSK1 DS R>O" },
	};
	run_steps(sim, 0, steps, sizeof(steps) / sizeof(steps[0]));
	sim_run_until(sim, T0 + 30 * D);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
scenario_d_long_negative_ttl(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_d(&p);
	sim_params_t params = instant_parent(&p);
	/* A cached "no DNSKEY" answer lives an hour: the first DNSKEY RRset waits for it. */
	params.negative_ttl = 3600;
	sim_t *sim = sim_create(&params);

	static const expected_step_t steps[] = {
		{ 0, "CSK1 DNSKEY H>R, CSK1 KRRSIG H>R, CSK1 ZRRSIG H>R" },
		{ 1 * H + 10 * 60, "CSK1 DNSKEY R>O, CSK1 KRRSIG R>O" },
		{ 12 * H + 5 * 60, "CSK1 DS H>R, CSK1 ZRRSIG R>O" },
		{ 15 * H + 5 * 60, "CSK1 DS R>O" },
	};
	run_steps(sim, 0, steps, sizeof(steps) / sizeof(steps[0]));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* Policy E: algorithm rollover RSASHA256 -> ECDSAP256SHA256, BIND's algorithm-roll parameters. */
static void
policy_e(dz_policy_t *p, uint8_t algorithm)
{
	policy_two_keys(p, algorithm, 0, 0);
	p->dnskey_ttl = 1 * H;
	p->ds_ttl = 2 * H;
	p->max_zone_ttl = 6 * H;
	p->zone_propagation_delay = 1 * H;
	p->parent_propagation_delay = 1 * H;
	p->publish_safety = 1 * H;
	p->retire_safety = 2 * H;
	p->signature_validity = 14 * D;
	p->signature_validity_dnskey = 14 * D;
	p->signature_refresh = 5 * D;
	p->signature_jitter = 0;
	p->purge_delay = 1 * H;
}

/* Run the algorithm rollover from T0 + 100h and return the oracle report. */
static void
run_algorithm_rollover(bool bind_order, const expected_step_t *steps, size_t count,
		       oracle_report_t *report)
{
	dz_policy_t old_policy, new_policy;
	policy_e(&old_policy, DZ_ALG_RSASHA256);
	policy_e(&new_policy, DZ_ALG_ECDSAP256SHA256);
	sim_params_t params = instant_parent(&old_policy);
	params.bind_algorithm_order = bind_order;
	params.strict_algorithms = true;
	sim_t *sim = sim_create(&params);

	sim_set_policy(sim, &new_policy, T0 + 100 * H);
	sim_run_until(sim, T0 + 90 * H);
	expected_step_t shifted[8];
	for (size_t i = 0; i < count; i++) {
		shifted[i] = steps[i];
		shifted[i].at += 100 * H;
	}
	run_steps(sim, 90 * H, shifted, count);
	sim_run_until(sim, T0 + 200 * H);
	sim_check(sim, report);
	sim_destroy(sim);
	dz_policy_clear(&old_policy);
	dz_policy_clear(&new_policy);
}

static void
scenario_e_algorithm_conservative(void **state)
{
	(void)state;
	static const expected_step_t steps[] = {
		{ 0, "ZSK2 ZRRSIG H>R" },
		{ 7 * H, "KSK2 DNSKEY H>R, KSK2 KRRSIG H>R, ZSK2 DNSKEY H>R, ZSK2 ZRRSIG R>O" },
		{ 10 * H, "KSK1 DS O>U, KSK2 DNSKEY R>O, KSK2 DS H>R, KSK2 KRRSIG R>O, "
			  "ZSK2 DNSKEY R>O" },
		{ 13 * H, "KSK1 DNSKEY O>U, KSK1 DS U>H, KSK1 KRRSIG O>U, KSK2 DS R>O, "
			  "ZSK1 DNSKEY O>U" },
		{ 15 * H, "KSK1 DNSKEY U>H, KSK1 KRRSIG U>H, ZSK1 DNSKEY U>H, ZSK1 ZRRSIG O>U" },
		{ 22 * H, "ZSK1 ZRRSIG U>H" },
	};
	oracle_report_t report;
	run_algorithm_rollover(false, steps, sizeof(steps) / sizeof(steps[0]), &report);
	/* Even validators that insist on every algorithm never see bogus data. */
	if (report.violations != 0)
		fail_msg("oracle: %u violations:\n%s", report.violations, report.first);
}

static void
scenario_e_algorithm_bind_order(void **state)
{
	(void)state;
	static const expected_step_t steps[] = {
		{ 0, "KSK2 DNSKEY H>R, KSK2 KRRSIG H>R, ZSK2 DNSKEY H>R, ZSK2 ZRRSIG H>R" },
		{ 3 * H, "KSK2 DNSKEY R>O, KSK2 KRRSIG R>O, ZSK2 DNSKEY R>O" },
		{ 7 * H, "KSK1 DS O>U, KSK2 DS H>R, ZSK2 ZRRSIG R>O" },
		{ 10 * H, "KSK1 DNSKEY O>U, KSK1 DS U>H, KSK1 KRRSIG O>U, KSK2 DS R>O, "
			  "ZSK1 DNSKEY O>U, ZSK1 ZRRSIG O>U" },
		{ 12 * H, "KSK1 DNSKEY U>H, KSK1 KRRSIG U>H, ZSK1 DNSKEY U>H" },
		{ 17 * H, "ZSK1 ZRRSIG U>H" },
	};
	oracle_report_t report;
	run_algorithm_rollover(true, steps, sizeof(steps) / sizeof(steps[0]), &report);
	/* Valid for RFC 6840 validators ... */
	assert_int_equal(report.properties & (ORACLE_P1 | ORACLE_P2 | ORACLE_P3_DS | ORACLE_P4 |
					      ORACLE_P7),
			 0);
	/* ... but a validator that wants every DNSKEY algorithm on the data sees bogus answers. */
	assert_true((report.properties & ORACLE_P3_DNSKEY) != 0);
}

/* KSK double-DS (RFC 6781 section 4.1.2) with Policy B's parameters. */
static void
scenario_ksk_double_ds(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	p.ksk_rollover = DZ_KSK_DOUBLE_DS;
	sim_params_t params = instant_parent(&p);
	params.cds_before_dnskey = true;
	sim_t *sim = sim_create(&params);

	/*
	 * The DS goes first, Dreg + 2 DprpP + TTLds + Sret = 51h before the end
	 * of KSK1's lifetime; the parent here is faster than DprpP, so the
	 * swap comes 1h early.
	 */
	static const expected_step_t steps[] = {
		{ 1389 * H, "KSK2 DS H>R" },
		{ 1439 * H, "KSK1 DNSKEY O>U, KSK1 KRRSIG O>U, KSK2 DNSKEY H>R, KSK2 DS R>O, "
			    "KSK2 KRRSIG H>R" },
		{ 1466 * H, "KSK1 DNSKEY U>H, KSK1 DS O>U, KSK1 KRRSIG U>H, KSK2 DNSKEY R>O, "
			    "KSK2 KRRSIG R>O" },
		{ 1516 * H, "KSK1 DS U>H" },
	};
	run_steps(sim, 100 * H, steps, sizeof(steps) / sizeof(steps[0]));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
scenario_going_insecure(void **state)
{
	(void)state;
	dz_policy_t p, insecure;
	policy_c(&p);
	p.keys[0].lifetime = 0;
	policy_c(&insecure);
	insecure.key_count = 0;
	sim_params_t params = instant_parent(&p);
	sim_t *sim = sim_create(&params);

	sim_set_policy(sim, &insecure, T0 + 100 * H);
	sim_run_until(sim, T0 + 90 * H);
	static const expected_step_t steps[] = {
		{ 100 * H, "CSK1 DS O>U" },
		{ 102 * H, "CSK1 DNSKEY O>U, CSK1 DS U>H, CSK1 KRRSIG O>U, CSK1 ZRRSIG O>U" },
		{ 104 * H, "CSK1 DNSKEY U>H, CSK1 KRRSIG U>H" },
		{ 127 * H, "CSK1 ZRRSIG U>H" },
	};
	run_steps(sim, 90 * H, steps, sizeof(steps) / sizeof(steps[0]));
	/* The RFC 8078 delete records were published while the zone was still signed. */
	const dz_keyset_t *ks = dz_key_manager_keyset(sim_manager(sim));
	assert_false(ks->publish_cds_delete);
	sim_run_until(sim, T0 + 200 * H);
	/* CSK1 after the purge delay, and the standby CSK that the policy no longer wants. */
	size_t deleted;
	dz_key_sim_deletions(sim_provider(sim), &deleted);
	assert_int_equal(deleted, 2);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	insecure.key_count = 1;
	dz_policy_clear(&insecure);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scenario_a_zsk_prepublication),
		cmocka_unit_test(scenario_a_full_resign),
		cmocka_unit_test(scenario_b_ksk_double_ksk),
		cmocka_unit_test(scenario_b_slow_parent),
		cmocka_unit_test(scenario_b_add_only_parent),
		cmocka_unit_test(scenario_b_parent_never_acts),
		cmocka_unit_test(scenario_c_csk),
		cmocka_unit_test(scenario_d_initial_signing),
		cmocka_unit_test(scenario_d_long_negative_ttl),
		cmocka_unit_test(scenario_e_algorithm_conservative),
		cmocka_unit_test(scenario_e_algorithm_bind_order),
		cmocka_unit_test(scenario_ksk_double_ds),
		cmocka_unit_test(scenario_going_insecure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
