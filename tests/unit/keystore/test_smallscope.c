/*
 * Exhaustive small-scope check of the rule set, for zones with two or
 * three keys of one role at once.  The engine runs every sequence, up to a
 * bounded length, of forced operator rollovers (which change goals and
 * links, so rollovers overlap) and clock advances (to the next event, or
 * half-way there).  The published versions it produces go to the oracle,
 * which knows nothing about key states.
 *
 * `make check` runs sequences of up to 4 steps for three key schemes; set
 * DZ_SMALLSCOPE_LENGTH to go further (the soak target uses 6).
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

#include "sim.h"

#define T0 ((dz_time_t)1800000000)
#define SETTLE 3000
#define FINISH 30000
#define MAX_LENGTH 8

typedef enum step_kind {
	STEP_NEXT,	/* advance to the next event */
	STEP_HALF,	/* advance half-way to the next event */
	STEP_ROLL_KEYS, /* force a rollover of the KSK (or CSK) */
	STEP_ROLL_ZONE, /* force a rollover of the ZSK (or CSK) */
	STEP_KINDS,
} step_kind_t;

static const char *const step_names[] = { "next", "half", "roll-ksk", "roll-zsk" };

typedef struct scheme {
	const char *name;
	bool csk;
	dz_ksk_rollover_t ksk;
	dz_zsk_rollover_t zsk;
} scheme_t;

static void
make_policy(dz_policy_t *p, const scheme_t *scheme)
{
	assert_true(dz_policy_init_defaults(p));
	dz_policy_key_t *keys = realloc(p->keys, 2 * sizeof(*keys));
	assert_non_null(keys);
	p->keys = keys;
	memset(keys, 0, 2 * sizeof(*keys));
	if (scheme->csk) {
		keys[0] = (dz_policy_key_t){ .role = DZ_ROLE_CSK, .algorithm = DZ_ALG_ED25519 };
		p->key_count = 1;
	} else {
		keys[0] = (dz_policy_key_t){ .role = DZ_ROLE_KSK, .algorithm = DZ_ALG_ED25519 };
		keys[1] = (dz_policy_key_t){ .role = DZ_ROLE_ZSK, .algorithm = DZ_ALG_ED25519 };
		p->key_count = 2;
	}
	p->ksk_rollover = scheme->ksk;
	p->zsk_rollover = scheme->zsk;
	p->dnskey_ttl = 60;
	p->max_zone_ttl = 100;
	p->ds_ttl = 50;
	p->zone_propagation_delay = 10;
	p->parent_propagation_delay = 10;
	p->publish_safety = 5;
	p->retire_safety = 7;
	p->signature_validity = 2000;
	p->signature_validity_dnskey = 2000;
	p->signature_refresh = 500;
	p->signature_jitter = 0;
	p->signature_inception_offset = 60;
	p->purge_delay = 30;
	p->standby_keys = 0;
}

static uint32_t
active_key(sim_t *sim, dz_key_role_t role)
{
	const dz_keyring_t *ring = dz_key_manager_ring(sim_manager(sim));
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (!k->standby && k->goal == DZ_GOAL_OMNIPRESENT && k->role == role &&
		    k->successor == 0)
			return k->number;
	}
	return 0;
}

static void
apply_step(sim_t *sim, const scheme_t *scheme, step_kind_t kind)
{
	dz_time_t now = sim_now(sim);
	dz_time_t next = sim_next(sim);

	switch (kind) {
	case STEP_NEXT:
		sim_run_until(sim, next);
		return;
	case STEP_HALF:
		sim_run_until(sim, now + (next - now + 1) / 2);
		return;
	case STEP_ROLL_KEYS:
	case STEP_ROLL_ZONE: {
		dz_key_role_t role = scheme->csk ? DZ_ROLE_CSK
				     : kind == STEP_ROLL_KEYS ? DZ_ROLE_KSK
							      : DZ_ROLE_ZSK;
		uint32_t number = active_key(sim, role);
		char key[16];
		dz_error_t err;
		if (number == 0)
			return;
		snprintf(key, sizeof(key), "#%u", number);
		dz_error_init(&err);
		(void)dz_key_manager_request_rollover(sim_manager(sim), key, now, true, now, &err);
		sim_run_until(sim, now);
		return;
	}
	case STEP_KINDS:
		break;
	}
}

/* Run one sequence; returns the oracle's violation count. */
static unsigned
run_sequence(const scheme_t *scheme, const step_kind_t *steps, size_t length,
	     oracle_report_t *report)
{
	dz_policy_t p;
	make_policy(&p, scheme);
	sim_params_t params = {
		.policy = &p,
		.negative_ttl = 60,
		.start = T0,
		.dprp_child = 10,
		.dprp_parent = 0,
		.lagging_server = -1,
		.parent = SIM_PARENT_INSTANT,
		.cds_before_dnskey = scheme->ksk != DZ_KSK_DOUBLE_KSK,
	};
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + SETTLE);
	for (size_t i = 0; i < length; i++)
		apply_step(sim, scheme, steps[i]);
	sim_run_until(sim, sim_now(sim) + FINISH);
	unsigned violations = sim_check(sim, report);
	sim_destroy(sim);
	dz_policy_clear(&p);
	return violations;
}

static void
check_scheme(const scheme_t *scheme)
{
	size_t max_length = 4;
	const char *env = getenv("DZ_SMALLSCOPE_LENGTH");
	step_kind_t steps[MAX_LENGTH];
	oracle_report_t report;
	unsigned sequences = 0;

	if (env != NULL)
		max_length = (size_t)strtoul(env, NULL, 10);
	if (max_length > MAX_LENGTH)
		max_length = MAX_LENGTH;
	for (size_t length = 0; length <= max_length; length++) {
		size_t total = 1;
		for (size_t i = 0; i < length; i++)
			total *= STEP_KINDS;
		for (size_t n = 0; n < total; n++) {
			size_t code = n;
			for (size_t i = 0; i < length; i++) {
				steps[i] = (step_kind_t)(code % STEP_KINDS);
				code /= STEP_KINDS;
			}
			sequences++;
			if (run_sequence(scheme, steps, length, &report) == 0)
				continue;
			char text[256] = "";
			size_t used = 0;
			for (size_t i = 0; i < length; i++)
				used += (size_t)snprintf(text + used, sizeof(text) - used, " %s",
							 step_names[steps[i]]);
			fail_msg("%s, steps:%s\n%s", scheme->name, text, report.first);
		}
	}
	assert_true(sequences > 0);
}

static void
smallscope_ksk_zsk(void **state)
{
	(void)state;
	const scheme_t scheme = { "KSK double-KSK + ZSK pre-publication", false,
				  DZ_KSK_DOUBLE_KSK, DZ_ZSK_PREPUBLISH };
	check_scheme(&scheme);
}

static void
smallscope_csk(void **state)
{
	(void)state;
	const scheme_t scheme = { "CSK", true, DZ_KSK_DOUBLE_KSK, DZ_ZSK_PREPUBLISH };
	check_scheme(&scheme);
}

static void
smallscope_double_ds_double_rrsig(void **state)
{
	(void)state;
	const scheme_t scheme = { "KSK double-DS + ZSK double-RRSIG", false, DZ_KSK_DOUBLE_DS,
				  DZ_ZSK_DOUBLE_RRSIG };
	check_scheme(&scheme);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smallscope_ksk_zsk),
		cmocka_unit_test(smallscope_csk),
		cmocka_unit_test(smallscope_double_ds_double_rrsig),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
