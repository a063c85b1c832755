/*
 * Randomised rollovers.  Each case draws a policy that passes the policy
 * checks, parent behaviour (delays, slow servers), operator actions (forced
 * rollovers, restarts, TTL and lifetime edits, algorithm changes) and clock
 * advances, and runs for two to three rollover cycles.  The oracle checks
 * P1, P2, P4 and P7, and every role with a lifetime must roll at least
 * twice with the cooperative parent (liveness).
 *
 * `make check` runs a fixed list of seeds.  DZ_RANDOM_SEEDS=N runs seeds
 * 1..N instead (the soak target sets it); DZ_RANDOM_SEED=S runs one seed.
 * A failing case is shrunk by dropping operator actions while it still
 * fails, and printed so it can be replayed.
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
#include <unistd.h>

#include "common/file.h"
#include "keystore/policy_check.h"
#include "keystore/timing.h"
#include "sim.h"

#define H (3600LL)
#define D (86400LL)
#define T0 ((dz_time_t)1800000000)
#define MAX_ACTIONS 12

typedef enum action_kind {
	ACTION_ROLL,	    /* operator asks for a rollover of a role */
	ACTION_FORCE_ROLL,  /* ... an emergency one, even during another rollover */
	ACTION_RESTART,	    /* the daemon restarts from its state file */
	ACTION_TTL,	    /* the DNSKEY TTL or max-zone-ttl changes */
	ACTION_LIFETIME,    /* a key lifetime changes */
	ACTION_ALGORITHM,   /* the policy moves to another algorithm */
} action_kind_t;

typedef struct action {
	action_kind_t kind;
	int64_t at; /* seconds after T0 */
	uint32_t value;
} action_t;

typedef struct random_case {
	uint64_t seed;
	dz_policy_t policy;
	uint32_t negative_ttl;
	int64_t dprp_child;
	int64_t dprp_parent;
	int64_t parent_delay;
	int64_t operator_delay;
	unsigned servers;
	int64_t length;
	action_t actions[MAX_ACTIONS];
	size_t action_count;
} random_case_t;

static uint64_t
next_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [lo, hi]. */
static int64_t
between(uint64_t *state, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(next_random(state) % (uint64_t)(hi - lo + 1));
}

static const uint8_t algorithms[] = { DZ_ALG_ECDSAP256SHA256, DZ_ALG_ED25519,
				      DZ_ALG_ECDSAP384SHA384, DZ_ALG_RSASHA256 };

static void
set_slots(dz_policy_t *p, bool csk, uint8_t algorithm)
{
	dz_policy_key_t *keys = realloc(p->keys, 2 * sizeof(*keys));
	assert_non_null(keys);
	p->keys = keys;
	memset(keys, 0, 2 * sizeof(*keys));
	uint16_t bits = algorithm == DZ_ALG_RSASHA256 ? 2048 : 0;
	if (csk) {
		keys[0] = (dz_policy_key_t){ .role = DZ_ROLE_CSK, .algorithm = algorithm, .bits = bits };
		p->key_count = 1;
	} else {
		keys[0] = (dz_policy_key_t){ .role = DZ_ROLE_KSK, .algorithm = algorithm, .bits = bits };
		keys[1] = (dz_policy_key_t){ .role = DZ_ROLE_ZSK, .algorithm = algorithm, .bits = bits };
		p->key_count = 2;
	}
}

/* Lifetimes: the minimum the checks accept plus random slack. */
static void
set_lifetimes(dz_policy_t *p, uint64_t *rng)
{
	dz_key_timing_t timing = { .policy = p };
	for (size_t i = 0; i < p->key_count; i++) {
		int64_t minimum = dz_key_rollover_duration(&timing, p->keys[i].role, 0);
		p->keys[i].lifetime = minimum + between(rng, 1 * H, 10 * D);
	}
}

static void
make_case(random_case_t *c, uint64_t seed)
{
	uint64_t rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	dz_policy_t *p = &c->policy;

	memset(c, 0, sizeof(*c));
	c->seed = seed;
	assert_true(dz_policy_init_defaults(p));
	bool csk = between(&rng, 0, 2) == 0;
	set_slots(p, csk, algorithms[between(&rng, 0, 3)]);
	p->dnskey_ttl = (uint32_t)between(&rng, 60, 2 * D);
	p->max_zone_ttl = (uint32_t)between(&rng, 60, 2 * D);
	p->ds_ttl = (uint32_t)between(&rng, 60, 2 * D);
	p->zone_propagation_delay = between(&rng, 0, 1 * D);
	p->parent_propagation_delay = between(&rng, 0, 1 * D);
	p->registration_delay = between(&rng, 0, 1) == 0 ? 0 : between(&rng, 0, 2 * D);
	p->publish_safety = between(&rng, 0, 1 * D);
	p->retire_safety = between(&rng, 0, 1 * D);
	p->purge_delay = between(&rng, 0, 2 * D);
	p->standby_keys = (unsigned)between(&rng, 0, 2);
	p->ksk_rollover = (dz_ksk_rollover_t)between(&rng, 0, 2);
	p->zsk_rollover = (dz_zsk_rollover_t)between(&rng, 0, 1);
	int64_t largest = p->max_zone_ttl > p->dnskey_ttl ? p->max_zone_ttl : p->dnskey_ttl;
	p->signature_refresh = p->zone_propagation_delay + largest + between(&rng, 0, 2 * D);
	p->signature_jitter = between(&rng, 0, 1 * D);
	p->signature_validity = p->signature_refresh + p->signature_jitter + between(&rng, 1 * H, 10 * D);
	p->signature_validity_dnskey = p->signature_validity;
	p->signature_inception_offset = 3600;
	set_lifetimes(p, &rng);
	c->negative_ttl = (uint32_t)between(&rng, 60, p->max_zone_ttl);
	c->dprp_child = between(&rng, 0, p->zone_propagation_delay);
	c->dprp_parent = between(&rng, 0, p->parent_propagation_delay);
	/* A cooperative parent registers within the policy's registration delay. */
	c->parent_delay = between(&rng, 0, p->registration_delay);
	c->operator_delay = between(&rng, 0, 1 * D);
	c->servers = (unsigned)between(&rng, 1, 3);

	int64_t longest = 0;
	for (size_t i = 0; i < p->key_count; i++) {
		if (p->keys[i].lifetime > longest)
			longest = p->keys[i].lifetime;
	}
	/* Long enough for three rollovers of the slowest role, parent delays included. */
	c->length = 3 * longest + 3 * (c->parent_delay + c->operator_delay) + 10 * D;

	size_t count = (size_t)between(&rng, 0, MAX_ACTIONS);
	for (size_t i = 0; i < count; i++) {
		action_t *a = &c->actions[c->action_count++];
		a->kind = (action_kind_t)between(&rng, 0, 5);
		a->at = between(&rng, 1, c->length / 2);
		a->value = (uint32_t)between(&rng, 0, 1000000);
	}
}

static void
clear_case(random_case_t *c)
{
	dz_policy_clear(&c->policy);
}

static void
describe_case(const random_case_t *c, char *out, size_t cap)
{
	const dz_policy_t *p = &c->policy;
	size_t used = (size_t)snprintf(
		out, cap,
		"seed %" PRIu64 ": %s alg %u, TTLkey %u TTLsig %u TTLds %u DprpC %" PRId64
		" DprpP %" PRId64 " Dreg %" PRId64 " Spub %" PRId64 " Sret %" PRId64
		" refresh %" PRId64 " validity %" PRId64 " jitter %" PRId64
		" ksk-method %d zsk-method %d standby %u, lifetimes",
		c->seed, p->key_count == 1 ? "CSK" : "KSK+ZSK", p->keys[0].algorithm, p->dnskey_ttl,
		p->max_zone_ttl, p->ds_ttl, p->zone_propagation_delay, p->parent_propagation_delay,
		p->registration_delay, p->publish_safety, p->retire_safety, p->signature_refresh,
		p->signature_validity, p->signature_jitter, p->ksk_rollover, p->zsk_rollover,
		p->standby_keys);
	for (size_t i = 0; i < p->key_count && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, " %" PRId64, p->keys[i].lifetime);
	if (used < cap)
		used += (size_t)snprintf(out + used, cap - used,
					 "; negative TTL %u, actual DprpC %" PRId64 " DprpP %" PRId64
					 ", parent delay %" PRId64 ", operator delay %" PRId64
					 ", %u parent servers; actions:",
					 c->negative_ttl, c->dprp_child, c->dprp_parent, c->parent_delay,
					 c->operator_delay, c->servers);
	static const char *const names[] = { "roll", "force-roll", "restart", "ttl", "lifetime",
					     "algorithm" };
	for (size_t i = 0; i < c->action_count && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, " %s@%" PRId64 "(%u)",
					 names[c->actions[i].kind], c->actions[i].at,
					 c->actions[i].value);
}

static int
compare_actions(const void *a, const void *b)
{
	const action_t *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The key in use for the role, or 0. */
static uint32_t
active_key(sim_t *sim, dz_key_role_t role)
{
	const dz_keyring_t *ring = dz_key_manager_ring(sim_manager(sim));
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (!k->standby && k->goal == DZ_GOAL_OMNIPRESENT && k->role == role && k->successor == 0)
			return k->number;
	}
	return 0;
}

static void
apply_action(sim_t *sim, random_case_t *c, const action_t *a, dz_policy_t *current)
{
	dz_time_t now = sim_now(sim);
	dz_error_t err;
	char key[16];

	dz_error_init(&err);
	switch (a->kind) {
	case ACTION_ROLL:
	case ACTION_FORCE_ROLL: {
		dz_key_role_t role = current->keys[a->value % current->key_count].role;
		uint32_t number = active_key(sim, role);
		if (number == 0)
			return;
		snprintf(key, sizeof(key), "#%u", number);
		/* Rejections (a rollover already under way) are fine here. */
		(void)dz_key_manager_request_rollover(sim_manager(sim), key, now,
						      a->kind == ACTION_FORCE_ROLL, now, &err);
		return;
	}
	case ACTION_RESTART:
		sim_restart(sim);
		return;
	case ACTION_TTL: {
		uint32_t ttl = 60 + a->value % (uint32_t)(2 * D);
		if (a->value % 2 == 0)
			current->dnskey_ttl = ttl;
		else if (ttl <= current->signature_refresh - current->zone_propagation_delay &&
			 ttl >= c->negative_ttl)
			current->max_zone_ttl = ttl;
		break;
	}
	case ACTION_LIFETIME: {
		size_t i = a->value % current->key_count;
		dz_key_timing_t timing = { .policy = current };
		current->keys[i].lifetime = dz_key_rollover_duration(&timing, current->keys[i].role, 0) +
					    (int64_t)(a->value % (uint32_t)(5 * D));
		break;
	}
	case ACTION_ALGORITHM: {
		uint8_t alg = algorithms[a->value % 4];
		if (alg == current->keys[0].algorithm)
			return;
		set_slots(current, current->key_count == 1, alg);
		break;
	}
	}
	/* A TTL change may invalidate lifetimes: keep the policy loadable. */
	dz_key_timing_t timing = { .policy = current };
	for (size_t i = 0; i < current->key_count; i++) {
		int64_t minimum = dz_key_rollover_duration(&timing, current->keys[i].role, 0);
		if (current->keys[i].lifetime < minimum)
			current->keys[i].lifetime = minimum + 1 * H;
	}
	dz_error_init(&err);
	if (dz_key_policy_check(current, &err) != DZ_OK)
		return;
	sim_set_policy(sim, current, now + 1);
}

/* Run a case; returns the number of problems and describes the first in `why`. */
/* Print the transitions and the final key states (DZ_RANDOM_VERBOSE). */
static void
print_history(sim_t *sim)
{
	const dz_keyring_t *ring = dz_key_manager_ring(sim_manager(sim));

	sim_print_transitions(sim, stderr);
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		fprintf(stderr, "#%u %s goal=%s standby=%d pred=%u succ=%u %s%s%s%s ds-seen=%" PRId64
				" ds-gone=%" PRId64 " ds-changed=%" PRId64 "\n",
			k->number, sim_label(sim, k->number), dz_key_goal_name(k->goal), k->standby,
			k->predecessor, k->successor, dz_key_state_letter(k->state[0]),
			dz_key_state_letter(k->state[1]), dz_key_state_letter(k->state[2]),
			dz_key_state_letter(k->state[3]), k->ds_seen - T0, k->ds_gone - T0,
			k->changed[DZ_REC_DS] - T0);
	}
	fprintf(stderr, "%s", sim_take_log(sim));
}

/* Whether a case restarts the daemon, which needs a state file. */
static bool
needs_state_file(const random_case_t *c)
{
	for (size_t i = 0; i < c->action_count; i++) {
		if (c->actions[i].kind == ACTION_RESTART)
			return true;
	}
	return false;
}

static unsigned
run_case(random_case_t *c, char *why, size_t cap)
{
	/* tmpfs when there is one: the state file is fsynced at every commit. */
	char dir[64];
	snprintf(dir, sizeof(dir), "%s/dz-random-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	dz_policy_t current;
	oracle_report_t report;
	unsigned problems = 0;

	why[0] = '\0';
	assert_non_null(mkdtemp(dir));
	assert_true(dz_policy_copy(&current, &c->policy));
	sim_params_t params = {
		.policy = &c->policy,
		.negative_ttl = c->negative_ttl,
		.start = T0,
		.dprp_child = c->dprp_child,
		.dprp_parent = c->dprp_parent,
		.parent = SIM_PARENT_INSTANT,
		.parent_delay = c->parent_delay,
		.parent_servers = c->servers,
		.lagging_server = -1,
		.operator_delay = c->operator_delay,
		.state_dir = needs_state_file(c) ? dir : NULL,
		.seed = c->seed,
		/* Double-DS and double-RRset ask for the DS before the DNSKEY is in caches. */
		.cds_before_dnskey = c->policy.ksk_rollover != DZ_KSK_DOUBLE_KSK,
	};
	sim_t *sim = sim_create(&params);

	action_t actions[MAX_ACTIONS];
	memcpy(actions, c->actions, c->action_count * sizeof(actions[0]));
	qsort(actions, c->action_count, sizeof(actions[0]), compare_actions);
	for (size_t i = 0; i < c->action_count; i++) {
		sim_run_until(sim, T0 + actions[i].at);
		apply_action(sim, c, &actions[i], &current);
	}
	sim_run_until(sim, T0 + c->length);

	if (sim_check(sim, &report) != 0) {
		snprintf(why, cap, "oracle: %u violations: %s", report.violations, report.first);
		problems += report.violations;
	}
	/*
	 * Liveness with a cooperative parent: every role with a lifetime
	 * rolled at least once, and at least twice when no operator action
	 * changed the plan.
	 */
	for (size_t i = 0; i < current.key_count && problems == 0; i++) {
		dz_key_role_t role = current.keys[i].role;
		const char *prefix = "CSK";
		if (role == DZ_ROLE_KSK)
			prefix = "KSK";
		else if (role == DZ_ROLE_ZSK)
			prefix = "ZSK";
		char label[16];
		snprintf(label, sizeof(label), "%s%d", prefix, c->action_count == 0 ? 3 : 2);
		if (current.keys[i].lifetime > 0 && sim_key(sim, label) == 0) {
			snprintf(why, cap, "liveness: no %s by the end of the run", label);
			problems++;
		}
	}
	if (problems > 0 && getenv("DZ_RANDOM_VERBOSE") != NULL)
		print_history(sim);
	sim_destroy(sim);
	dz_policy_clear(&current);

	char path[sizeof(dir) + 32];
	snprintf(path, sizeof(path), "%s/example.com.keys", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/example.com.keys.lock", dir);
	unlink(path);
	rmdir(dir);
	return problems;
}

/* Drop operator actions one at a time while the case still fails. */
static void
shrink(random_case_t *c)
{
	char why[2048];
	bool smaller = true;

	while (smaller) {
		smaller = false;
		for (size_t i = 0; i < c->action_count; i++) {
			random_case_t trial = *c;
			memmove(&trial.actions[i], &trial.actions[i + 1],
				(trial.action_count - i - 1) * sizeof(trial.actions[0]));
			trial.action_count--;
			if (run_case(&trial, why, sizeof(why)) > 0) {
				memcpy(c->actions, trial.actions, sizeof(c->actions));
				c->action_count = trial.action_count;
				smaller = true;
				break;
			}
		}
	}
}

static void
run_seed(uint64_t seed)
{
	random_case_t c;
	char why[2048];
	char description[2048];

	make_case(&c, seed);
	if (run_case(&c, why, sizeof(why)) > 0) {
		shrink(&c);
		run_case(&c, why, sizeof(why));
		describe_case(&c, description, sizeof(description));
		clear_case(&c);
		fail_msg("%s\n%s\n(replay: DZ_RANDOM_SEED=%" PRIu64 ")", description, why, seed);
	}
	clear_case(&c);
}

static void
random_fixed_seeds(void **state)
{
	(void)state;
	const char *one = getenv("DZ_RANDOM_SEED");
	const char *many = getenv("DZ_RANDOM_SEEDS");

	if (one != NULL) {
		run_seed(strtoull(one, NULL, 10));
		return;
	}
	if (many != NULL) {
		uint64_t n = strtoull(many, NULL, 10);
		for (uint64_t seed = 1; seed <= n; seed++)
			run_seed(seed);
		return;
	}
	/*
	 * The fixed list for `make check`; the soak target runs many more.
	 * 26, 35 and 122 once found bugs: a TTL decrease, a forced rollover
	 * during initial signing, three overlapping double-RRSIG rollovers.
	 */
	static const uint64_t seeds[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 26, 35, 122 };
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		run_seed(seeds[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_fixed_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
