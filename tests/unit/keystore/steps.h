/*
 * steps.h -- helpers shared by the scenario and fault tests.
 */
#ifndef DZ_TESTS_STEPS_H
#define DZ_TESTS_STEPS_H

#include <stdint.h>

#include "common/policy.h"
#include "sim.h"

#define H (3600LL)
#define D (86400LL)
#define T0 ((dz_time_t)1800000000)

typedef struct expected_step {
	int64_t at; /* seconds after T0 */
	const char *transitions;
} expected_step_t;

/* Run the steps; before each, nothing may change since the previous one (or quiet_from). */
void run_steps(sim_t *sim, int64_t quiet_from, const expected_step_t *steps, size_t count);

/* Fail the test with the oracle's report unless it finds no violation. */
void assert_oracle_clean(sim_t *sim);

/* A KSK and a ZSK of `algorithm` with the given lifetimes, on top of the defaults. */
void policy_two_keys(dz_policy_t *p, uint8_t algorithm, int64_t ksk_lifetime,
		     int64_t zsk_lifetime);

/* Policies A to E of the rollover tables. */
void policy_a(dz_policy_t *p);
void policy_b(dz_policy_t *p);
void policy_c(dz_policy_t *p);
void policy_d(dz_policy_t *p);
void policy_e(dz_policy_t *p, uint8_t algorithm);

/* Simulation parameters: the policy's delays, a parent that copies the CDS at once. */
sim_params_t default_params(const dz_policy_t *p);

/* The same with every parent server updated at once (Tobs = the DS request). */
sim_params_t instant_parent(const dz_policy_t *p);

#endif
