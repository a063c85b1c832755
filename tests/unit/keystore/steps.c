/*
 * Helpers shared by the scenario and fault tests: the policies of the
 * rollover tables (BIND's system-test parameters) and a runner that checks
 * each step at its second and nothing one second earlier.
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

#include "steps.h"

/* Run the steps; before each, nothing may change since the previous one. */
void
run_steps(sim_t *sim, int64_t quiet_from, const expected_step_t *steps, size_t count)
{
	char got[2048];
	dz_time_t previous = T0 + quiet_from;

	for (size_t i = 0; i < count; i++) {
		dz_time_t t = T0 + steps[i].at;
		/* Probe one second before, unless the simulation is there already. */
		if (t - 1 > sim_now(sim)) {
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

void
assert_oracle_clean(sim_t *sim)
{
	oracle_report_t report;
	if (sim_check(sim, &report) != 0)
		fail_msg("oracle: %u violations:\n%s", report.violations, report.first);
	assert_true(report.breakpoints > 0);
}

void
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
void
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

sim_params_t
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

/* Policy B: KSK double-KSK with BIND's ksk-doubleksk test parameters. */
void
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
sim_params_t
instant_parent(const dz_policy_t *p)
{
	sim_params_t params = default_params(p);
	params.dprp_parent = 0;
	return params;
}

/* Policy C: CSK rollover with BIND's csk-roll1 test parameters. */
void
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

/* Policy D: initial signing, then the DS, with BIND's enable-dnssec parameters. */
void
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

/* Policy E: algorithm rollover RSASHA256 -> ECDSAP256SHA256, BIND's algorithm-roll parameters. */
void
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

