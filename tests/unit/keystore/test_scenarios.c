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
#include "keystore/simulate.h"
#include "sim.h"
#include "steps.h"

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

typedef struct plan_log {
	char text[8192];
	size_t used;
} plan_log_t;

static void
log_event(const dz_key_plan_event_t *e, void *ctx)
{
	plan_log_t *log = ctx;
	if (e->kind != DZ_PLAN_TRANSITION || e->key->role != DZ_ROLE_ZSK)
		return;
	int n = snprintf(log->text + log->used, sizeof(log->text) - log->used,
			 "%lldh #%u %s %s>%s\n", (long long)((e->time - T0) / H), e->key->number,
			 dz_key_record_label(e->record), dz_key_state_letter(e->from),
			 dz_key_state_letter(e->to));
	if (n > 0 && (size_t)n < sizeof(log->text) - log->used)
		log->used += (size_t)n;
}

static void
check_plan(bool full_resign, const char *const *expected, size_t count)
{
	dz_policy_t p;
	dz_keyring_t ring;
	plan_log_t log = { .used = 0 };
	dz_error_t err;

	policy_a(&p);
	p.standby_keys = 0;
	dz_keyring_init(&ring, "example.com.");
	dz_error_init(&err);
	assert_int_equal(dz_key_simulate(&ring, &p, 3600, T0, T0 + 1500 * H, full_resign,
					 log_event, &log, &err),
			 DZ_OK);
	for (size_t i = 0; i < count; i++) {
		if (strstr(log.text, expected[i]) == NULL)
			fail_msg("missing '%s' in the plan:\n%s", expected[i], log.text);
	}
	assert_null(strstr(log.text, "693h"));
	dz_keyring_clear(&ring);
	dz_policy_clear(&p);
}

/* The rollover plan runs the same engine: Policy A's ZSK steps at the same hours. */
static void
plan_simulation_matches_policy_a(void **state)
{
	(void)state;
	/* Key 2 is the first ZSK, key 3 its successor, key 4 the next. */
	static const char *const gradual[] = {
		"694h #3 DNSKEY H>R", "720h #3 DNSKEY R>O", "720h #3 ZRRSIG H>R",
		"720h #2 ZRRSIG O>U", "961h #3 ZRRSIG R>O", "961h #2 ZRRSIG U>H",
		"961h #2 DNSKEY O>U", "963h #2 DNSKEY U>H", "1414h #4 DNSKEY H>R",
	};
	check_plan(false, gradual, sizeof(gradual) / sizeof(gradual[0]));
	/* With full re-signs (variant A'), the initial signing ends at 25h and step 3 at 793h. */
	static const char *const full[] = {
		"25h #2 ZRRSIG R>O", "694h #3 DNSKEY H>R", "793h #3 ZRRSIG R>O",
		"795h #2 DNSKEY U>H", "1414h #4 DNSKEY H>R",
	};
	check_plan(true, full, sizeof(full) / sizeof(full[0]));
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
		cmocka_unit_test(plan_simulation_matches_policy_a),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
