/*
 * Fault injection on the simulated zone: crashes around the commit
 * protocol, restarts and restored or lost state files, clock jumps, TTL and
 * lifetime changes in the middle of a rollover, parents that misbehave,
 * an HSM that fails, the backup gate, key tag collisions and manual mode.
 * Expected times come from the rollover tables (Policies A and B) and the
 * wait formulas; the oracle checks every recording.
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
#include "steps.h"

/* A temporary state folder, removed with its files by remove_state_dir(). */
static char *
make_state_dir(void)
{
	char *dir = strdup("/tmp/dz-faults-XXXXXX");
	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
remove_state_dir(char *dir)
{
	static const char *const files[] = { "example.com.keys", "example.com.keys.lock",
					     "snapshot.keys" };
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	free(dir);
}

static void
copy_file(const char *from, const char *to)
{
	char *data = NULL;
	size_t len = 0;
	dz_error_t err;

	dz_error_init(&err);
	assert_int_equal(dz_file_read_all(from, 1 << 24, &data, &len, &err), DZ_OK);
	assert_int_equal(dz_file_write_atomic(to, data, len, 0640, &err), DZ_OK);
	free(data);
}

static const dz_key_t *
key_of(sim_t *sim, const char *label)
{
	const dz_key_t *k = dz_keyring_find((dz_keyring_t *)dz_key_manager_ring(sim_manager(sim)),
					    sim_key(sim, label));
	if (k == NULL) {
		sim_print_transitions(sim, stderr);
		fail_msg("no key %s in the ring", label);
	}
	return k;
}

static void
assert_no_transitions(sim_t *sim, dz_time_t from, dz_time_t until)
{
	char got[1024];
	if (sim_describe(sim, from, until, got, sizeof(got)) != 0)
		fail_msg("expected no transitions, got: %s", got);
}

static const expected_step_t policy_a_after_step_2[] = {
	{ 961 * H, "ZSK1 DNSKEY O>U, ZSK1 ZRRSIG U>H, ZSK2 ZRRSIG R>O" },
	{ 963 * H, "ZSK1 DNSKEY U>H" },
};

static const expected_step_t policy_b_after_step_2[] = {
	{ 1490 * H, "KSK1 DNSKEY O>U, KSK1 DS U>H, KSK1 KRRSIG O>U, KSK2 DS R>O" },
	{ 1493 * H, "KSK1 DNSKEY U>H, KSK1 KRRSIG U>H" },
};

/* --- Crashes and restarts -------------------------------------------------- */

static void
crash_before_publication(void **state)
{
	(void)state;
	char *dir = make_state_dir();
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	params.state_dir = dir;
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 720 * H - 1);
	size_t generated = dz_key_sim_generated(sim_provider(sim));
	/* The run at step 2 decides, crashes before publishing, and runs again. */
	sim_crash_before_publication(sim);
	static const expected_step_t step2[] = {
		{ 720 * H, "ZSK1 ZRRSIG O>U, ZSK2 DNSKEY R>O, ZSK2 ZRRSIG H>R" },
	};
	run_steps(sim, 720 * H - 1, step2, 1);
	run_steps(sim, 720 * H, policy_a_after_step_2, 2);
	/* The restart generated no second successor. */
	assert_int_equal(dz_key_sim_generated(sim_provider(sim)), generated);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	remove_state_dir(dir);
}

static void
crash_before_commit(void **state)
{
	(void)state;
	for (int reconcile = 0; reconcile < 2; reconcile++) {
		char *dir = make_state_dir();
		dz_policy_t p;
		policy_a(&p);
		sim_params_t params = default_params(&p);
		params.state_dir = dir;
		sim_t *sim = sim_create(&params);

		sim_run_until(sim, T0 + 720 * H - 1);
		/* Step 2 is published, then the daemon dies before recording it. */
		sim_crash_before_commit(sim, reconcile != 0);
		sim_run_until(sim, T0 + 720 * H);
		const dz_key_t *zsk1 = key_of(sim, "ZSK1");
		const dz_key_t *zsk2 = key_of(sim, "ZSK2");
		assert_non_null(zsk1);
		assert_non_null(zsk2);
		assert_int_equal(zsk1->state[DZ_REC_ZRRSIG], DZ_STATE_UNRETENTIVE);
		assert_int_equal(zsk2->state[DZ_REC_ZRRSIG], DZ_STATE_RUMOURED);
		assert_int_equal(zsk2->state[DZ_REC_DNSKEY], DZ_STATE_OMNIPRESENT);
		assert_int_equal(zsk2->changed[DZ_REC_ZRRSIG], T0 + 720 * H);
		run_steps(sim, 720 * H, policy_a_after_step_2, 2);
		assert_oracle_clean(sim);
		sim_destroy(sim);
		dz_policy_clear(&p);
		remove_state_dir(dir);
	}
}

static void
restart_mid_rollover(void **state)
{
	(void)state;
	char *dir = make_state_dir();
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	params.state_dir = dir;
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 1460 * H);
	sim_restart(sim, false);
	/* No wait is repeated or skipped. */
	run_steps(sim, 1460 * H, policy_b_after_step_2, 2);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	remove_state_dir(dir);
}

static void
restore_old_state_file(void **state)
{
	(void)state;
	char *dir = make_state_dir();
	char snapshot[256];
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	params.state_dir = dir;
	sim_t *sim = sim_create(&params);

	snprintf(snapshot, sizeof(snapshot), "%s/snapshot.keys", dir);
	sim_run_until(sim, T0 + 1441 * H);
	copy_file(sim_state_path(sim), snapshot);
	sim_run_until(sim, T0 + 1494 * H);
	/* The state file is restored from the step 2 backup, and the daemon restarts. */
	copy_file(snapshot, sim_state_path(sim));
	sim_restart(sim, true);
	sim_run_until(sim, T0 + 1700 * H);
	const dz_key_t *ksk2 = key_of(sim, "KSK2");
	assert_non_null(ksk2);
	assert_int_equal(ksk2->goal, DZ_GOAL_OMNIPRESENT);
	assert_int_equal(ksk2->state[DZ_REC_DS], DZ_STATE_OMNIPRESENT);
	assert_int_equal(ksk2->state[DZ_REC_DNSKEY], DZ_STATE_OMNIPRESENT);
	/* KSK1 is gone in the end, and no key was removed while needed (oracle P1, P7). */
	const dz_key_t *ksk1 = dz_keyring_find((dz_keyring_t *)dz_key_manager_ring(sim_manager(sim)),
					       sim_key(sim, "KSK1"));
	assert_true(ksk1 == NULL || dz_key_is_hidden(ksk1));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	remove_state_dir(dir);
}

static void
lost_state_file(void **state)
{
	(void)state;
	char *dir = make_state_dir();
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	params.state_dir = dir;
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 1460 * H);
	size_t deleted_before;
	dz_key_sim_deletions(sim_provider(sim), &deleted_before);
	assert_int_equal(unlink(sim_state_path(sim)), 0);
	sim_restart(sim, false);
	const char *halted = dz_key_manager_halted(sim_manager(sim));
	assert_non_null(halted);
	assert_non_null(strstr(halted, "restore the state file"));
	sim_run_until(sim, T0 + 1700 * H);
	/* No key planned, none deleted; the zone stays signed with the keys it served. */
	assert_no_transitions(sim, T0 + 1460 * H + 1, T0 + 1700 * H);
	size_t deleted_after;
	dz_key_sim_deletions(sim_provider(sim), &deleted_after);
	assert_int_equal(deleted_after, deleted_before);
	assert_non_null(strstr(sim_take_log(sim), "key management halted"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	remove_state_dir(dir);
}

/* --- Clock jumps ----------------------------------------------------------- */

static void
clock_forward_freezes(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 721 * H);
	sim_take_log(sim);
	sim_jump_clock(sim, 10 * D);
	sim_run_until(sim, T0 + 1100 * H);
	/* By the wall clock step 3 is long due, but nothing moves. */
	assert_no_transitions(sim, T0 + 721 * H + 1, T0 + 1100 * H);
	assert_non_null(strstr(sim_take_log(sim), "key transitions frozen"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
clock_forward_acknowledged(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 721 * H);
	sim_jump_clock(sim, 10 * D);
	sim_run_until(sim, T0 + 800 * H);
	/* Acknowledged within the same boot: the waits keep their real elapsed time. */
	sim_clock_ack(sim);
	run_steps(sim, 800 * H, policy_a_after_step_2, 2);
	assert_non_null(strstr(sim_take_log(sim), "key transitions resume"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
clock_backward_no_regression(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 721 * H);
	dz_keyring_t before;
	assert_int_equal(dz_keyring_copy(&before, dz_key_manager_ring(sim_manager(sim))), DZ_OK);
	sim_jump_clock(sim, -1 * D);
	sim_run_until(sim, T0 + 1000 * H);
	/* Frozen: no state moved back, and none moved at all. */
	const dz_keyring_t *after = dz_key_manager_ring(sim_manager(sim));
	for (size_t i = 0; i < before.count; i++) {
		const dz_key_t *k = dz_keyring_find((dz_keyring_t *)after, before.keys[i].number);
		assert_non_null(k);
		for (int r = 0; r < DZ_REC_COUNT; r++)
			assert_int_equal(k->state[r], before.keys[i].state[r]);
	}
	dz_keyring_clear(&before);
	assert_no_transitions(sim, T0 + 721 * H + 1, T0 + 1000 * H);
	/* After the acknowledgement, step 3 (due at 961h real time) happens at once. */
	sim_clock_ack(sim);
	sim_run_until(sim, T0 + 1000 * H + 1);
	const dz_key_t *zsk2 = key_of(sim, "ZSK2");
	assert_int_equal(zsk2->state[DZ_REC_ZRRSIG], DZ_STATE_OMNIPRESENT);
	assert_int_equal(sim_transition_time(sim, "ZSK2", DZ_REC_ZRRSIG, DZ_STATE_OMNIPRESENT),
			 T0 + 1000 * H + 1);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
clock_reboot_accepted(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 721 * H);
	sim_reboot(sim);
	run_steps(sim, 721 * H, policy_a_after_step_2, 2);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* --- Policy changes mid-rollover ------------------------------------------- */

static void
dnskey_ttl_up_mid_rollover(void **state)
{
	(void)state;
	dz_policy_t p, longer;
	policy_a(&p);
	policy_a(&longer);
	longer.dnskey_ttl = 1 * D;
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_set_policy(sim, &longer, T0 + 700 * H);
	/* Step 2 moves to Tpub + DprpC + 1d + Spub = 694h + 49h. */
	static const expected_step_t steps[] = {
		{ 694 * H, "ZSK2 DNSKEY H>R" },
		{ 743 * H, "ZSK1 ZRRSIG O>U, ZSK2 DNSKEY R>O, ZSK2 ZRRSIG H>R" },
	};
	run_steps(sim, 100 * H, steps, 2);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	dz_policy_clear(&longer);
}

static void
dnskey_ttl_down_then_rollover(void **state)
{
	(void)state;
	dz_policy_t p, shorter;
	policy_a(&p);
	p.dnskey_ttl = 1 * D;
	policy_a(&shorter);
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_set_policy(sim, &shorter, T0 + 100 * H);
	sim_run_until(sim, T0 + 99 * H);
	char key[16];
	dz_error_t err;
	dz_error_init(&err);
	snprintf(key, sizeof(key), "#%u", sim_key(sim, "ZSK1"));
	assert_int_equal(dz_key_manager_request_rollover(sim_manager(sim), key, T0 + 100 * H, false,
							 sim_wall(sim), &err),
			 DZ_OK);
	/* The DNSKEY wait still uses the old TTL of 1d: 100h + 1h + 1d + Spub 1d. */
	static const expected_step_t steps[] = {
		{ 100 * H, "ZSK2 DNSKEY H>R" },
		{ 149 * H, "ZSK1 ZRRSIG O>U, ZSK2 DNSKEY R>O, ZSK2 ZRRSIG H>R" },
	};
	run_steps(sim, 99 * H, steps, 2);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	dz_policy_clear(&shorter);
}

static void
lifetime_shortened_mid_rollover(void **state)
{
	(void)state;
	dz_policy_t p, shorter;
	policy_a(&p);
	policy_a(&shorter);
	shorter.keys[1].lifetime = 20 * D;
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_set_policy(sim, &shorter, T0 + 720 * H + 1);
	/* The running rollover keeps its times; ZSK3 comes at 720h + 20d - 26h. */
	static const expected_step_t steps[] = {
		{ 961 * H, "ZSK1 DNSKEY O>U, ZSK1 ZRRSIG U>H, ZSK2 ZRRSIG R>O" },
		{ 963 * H, "ZSK1 DNSKEY U>H" },
		{ 1174 * H, "ZSK3 DNSKEY H>R" },
	};
	sim_run_until(sim, T0 + 720 * H);
	run_steps(sim, 720 * H, steps, 3);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	dz_policy_clear(&shorter);
}

static void
algorithm_change_during_ksk_rollover(void **state)
{
	(void)state;
	dz_policy_t p, other;
	policy_b(&p);
	policy_b(&other);
	other.keys[0].algorithm = DZ_ALG_ECDSAP384SHA384;
	other.keys[1].algorithm = DZ_ALG_ECDSAP384SHA384;
	sim_params_t params = instant_parent(&p);
	params.strict_algorithms = true;
	sim_t *sim = sim_create(&params);

	sim_set_policy(sim, &other, T0 + 1441 * H);
	sim_run_until(sim, T0 + 2000 * H);
	/* The KSK rollover completes first ... */
	assert_int_equal(sim_transition_time(sim, "KSK2", DZ_REC_DS, DZ_STATE_OMNIPRESENT),
			 T0 + 1490 * H);
	/* ... and the new algorithm's KSK comes only after it. */
	dz_time_t ksk3 = sim_transition_time(sim, "KSK3", DZ_REC_DNSKEY, DZ_STATE_RUMOURED);
	assert_true(ksk3 >= T0 + 1493 * H);
	assert_true(ksk3 != DZ_TIME_NEVER);
	const dz_key_t *ksk3_key = key_of(sim, "KSK3");
	assert_int_equal(ksk3_key->algorithm, DZ_ALG_ECDSAP384SHA384);
	assert_int_equal(ksk3_key->state[DZ_REC_DS], DZ_STATE_OMNIPRESENT);
	/* The old algorithm is gone. */
	const dz_key_t *ksk2 = dz_keyring_find((dz_keyring_t *)dz_key_manager_ring(sim_manager(sim)),
					       sim_key(sim, "KSK2"));
	assert_true(ksk2 == NULL || dz_key_is_hidden(ksk2));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
	dz_policy_clear(&other);
}

/* --- Overlapping rollovers ------------------------------------------------- */

static void
second_ksk_rollover_waits(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	sim_t *sim = sim_create(&params);
	char key[16];
	dz_error_t err;

	sim_run_until(sim, T0 + 1441 * H);
	dz_error_init(&err);
	snprintf(key, sizeof(key), "#%u", sim_key(sim, "KSK2"));
	assert_int_equal(dz_key_manager_request_rollover(sim_manager(sim), key, sim_wall(sim), false,
							 sim_wall(sim), &err),
			 DZ_OK);
	sim_run_until(sim, T0 + 1600 * H);
	/* Refused while the first rollover is unfinished; starts when it ends. */
	assert_int_equal(sim_transition_time(sim, "KSK3", DZ_REC_DNSKEY, DZ_STATE_RUMOURED),
			 T0 + 1493 * H);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* Prepare and commit at `t`; returns the run's next event and copies its rollover count and blocked roles. */
static dz_time_t
commit_round(dz_key_manager_t *mgr, dz_time_t t, size_t *started, unsigned *blocked)
{
	dz_key_plan_t *plan = NULL;
	dz_error_t err;

	dz_error_init(&err);
	assert_int_equal(dz_key_manager_prepare(mgr, t, &plan, &err), DZ_OK);
	const dz_key_run_t *run = dz_key_plan_run(plan);
	dz_time_t next = run->next;
	*started = run->started_count;
	*blocked = run->blocked_roles;
	dz_key_commit_t info = { .published_at = t, .full_resign = true };
	assert_int_equal(dz_key_manager_commit(mgr, plan, &info, &err), DZ_OK);
	dz_key_plan_destroy(plan);
	return next;
}

/*
 * A KSK lifetime that ends while the KSK's DS is still rumoured: the run
 * that makes the DS omnipresent is due again at once, and that next run
 * starts the rollover that planning held back.
 */
static void
blocked_rollover_due_at_once(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_two_keys(&p, DZ_ALG_ECDSAP256SHA256, 30, 0);
	p.dnskey_ttl = 5;
	p.ds_ttl = 5;
	p.max_zone_ttl = 5;
	p.zone_propagation_delay = 3;
	p.parent_propagation_delay = 3;
	p.publish_safety = 1;
	p.retire_safety = 1;
	p.purge_delay = H;
	p.signature_jitter = 0;
	dz_key_sim_t *keys = dz_key_sim_create(7);
	dz_key_sim_set_time(keys, T0);
	dz_key_manager_config_t config = { .zone = "example.com.", .policy = &p, .negative_ttl = 5,
					    .provider = dz_key_sim_provider(keys) };
	dz_key_manager_t *mgr = NULL;
	dz_error_t err;
	dz_error_init(&err);
	assert_int_equal(dz_key_manager_create(&config, &mgr, &err), DZ_OK);

	/* Introduce the keys and run every timed event until the KSK's DS is requested. */
	size_t started;
	unsigned blocked;
	dz_time_t t = T0;
	const dz_key_t *ksk = NULL;
	for (int round = 0; round < 10; round++) {
		dz_time_t next = commit_round(mgr, t, &started, &blocked);
		const dz_keyring_t *ring = dz_key_manager_ring(mgr);
		for (size_t i = 0; i < ring->count; i++) {
			if (ring->keys[i].role == DZ_ROLE_KSK && !ring->keys[i].standby)
				ksk = &ring->keys[i];
		}
		if (ksk != NULL && ksk->state[DZ_REC_DS] == DZ_STATE_RUMOURED)
			break;
		assert_true(next != DZ_TIME_NEVER);
		t = next;
	}
	assert_non_null(ksk);
	assert_int_equal(ksk->state[DZ_REC_DS], DZ_STATE_RUMOURED);
	char key[16];
	snprintf(key, sizeof(key), "#%" PRIu32, ksk->number);
	assert_int_equal(dz_key_manager_ds_seen(mgr, key, t, t, &err), DZ_OK);

	/* Well after both the DS wait and the lifetime: the DS moves, the rollover is held back. */
	dz_time_t late = T0 + 60;
	assert_int_equal(commit_round(mgr, late, &started, &blocked), late);
	assert_int_equal(started, 0);
	assert_int_equal(blocked, 1u << DZ_ROLE_KSK);
	(void)commit_round(mgr, late, &started, &blocked);
	assert_int_equal(started, 1);
	assert_int_equal(blocked, 0);

	dz_key_manager_destroy(mgr);
	dz_key_sim_destroy(keys);
	dz_policy_clear(&p);
}

static void
forced_three_ksks(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	sim_t *sim = sim_create(&params);
	char key[16];
	dz_error_t err;

	sim_run_until(sim, T0 + 1441 * H);
	dz_error_init(&err);
	snprintf(key, sizeof(key), "#%u", sim_key(sim, "KSK2"));
	assert_int_equal(dz_key_manager_request_rollover(sim_manager(sim), key, sim_wall(sim), true,
							 sim_wall(sim), &err),
			 DZ_OK);
	sim_run_until(sim, T0 + 1441 * H + 1);
	assert_int_equal(sim_transition_time(sim, "KSK3", DZ_REC_DNSKEY, DZ_STATE_RUMOURED),
			 T0 + 1441 * H + 1);
	sim_run_until(sim, T0 + 1800 * H);
	/*
	 * KSK1 keeps its DNSKEY while a cache may hold its DS and no other KSK's
	 * DS is omnipresent.
	 */
	dz_time_t ksk1_out = sim_transition_time(sim, "KSK1", DZ_REC_DNSKEY,
						 DZ_STATE_UNRETENTIVE);
	dz_time_t ksk1_ds_gone = sim_transition_time(sim, "KSK1", DZ_REC_DS, DZ_STATE_HIDDEN);
	dz_time_t ksk3_ds = sim_transition_time(sim, "KSK3", DZ_REC_DS, DZ_STATE_OMNIPRESENT);
	assert_true(ksk3_ds != DZ_TIME_NEVER);
	assert_true(ksk1_out >= (ksk1_ds_gone < ksk3_ds ? ksk1_ds_gone : ksk3_ds));
	assert_int_equal(key_of(sim, "KSK3")->state[DZ_REC_DS], DZ_STATE_OMNIPRESENT);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* --- The parent ------------------------------------------------------------ */

static sim_params_t
polling_parent(const dz_policy_t *p)
{
	sim_params_t params = instant_parent(p);
	params.polling = true;
	params.parent_servers = 3;
	return params;
}

static void
policy_b_polling(dz_policy_t *p)
{
	policy_b(p);
	p->ds_observation = DZ_DS_OBSERVE_PARENT;
	p->ds_check_interval = 1 * H;
}

static void
parent_polled_cooperative(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b_polling(&p);
	sim_params_t params = polling_parent(&p);
	sim_t *sim = sim_create(&params);

	run_steps(sim, 100 * H,
		  (const expected_step_t[]){
			  { 1413 * H, "KSK2 DNSKEY H>R, KSK2 KRRSIG H>R" },
			  { 1440 * H, "KSK1 DS O>U, KSK2 DNSKEY R>O, KSK2 DS H>R, KSK2 KRRSIG R>O" },
		  },
		  2);
	run_steps(sim, 1440 * H, policy_b_after_step_2, 2);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
parent_polled_add_only(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b_polling(&p);
	sim_params_t params = polling_parent(&p);
	params.parent = SIM_PARENT_ADD_ONLY;
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 1600 * H);
	assert_int_equal(key_of(sim, "KSK1")->state[DZ_REC_DS], DZ_STATE_UNRETENTIVE);
	assert_int_equal(key_of(sim, "KSK2")->state[DZ_REC_DS], DZ_STATE_OMNIPRESENT);
	assert_non_null(strstr(sim_take_log(sim), "ns1.parent.test still serves the DS of retired key"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
parent_one_server_never_updates(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b_polling(&p);
	sim_params_t params = polling_parent(&p);
	params.lagging_server = 2;
	params.extra_lag = -1;
	params.lagging_after = T0 + 1000 * H;
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 1700 * H);
	/* No observation while one of three servers lags: the swap waits safely. */
	assert_no_transitions(sim, T0 + 1440 * H + 1, T0 + 1700 * H);
	assert_int_equal(key_of(sim, "KSK2")->state[DZ_REC_DS], DZ_STATE_RUMOURED);
	assert_int_equal(key_of(sim, "KSK1")->state[DZ_REC_DNSKEY], DZ_STATE_OMNIPRESENT);
	const char *log = sim_take_log(sim);
	assert_non_null(strstr(log, "ns3.parent.test does not serve the DS of key"));
	assert_null(strstr(log, "ns1.parent.test does not serve the DS of key"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
parent_wrong_digest(void **state)
{
	(void)state;
	for (int polling = 0; polling < 2; polling++) {
		dz_policy_t p;
		if (polling)
			policy_b_polling(&p);
		else
			policy_b(&p);
		sim_params_t params = polling ? polling_parent(&p) : instant_parent(&p);
		params.parent = SIM_PARENT_WRONG_DIGEST;
		params.parent_normal_until = T0 + 1000 * H;
		sim_t *sim = sim_create(&params);

		sim_run_until(sim, T0 + 1700 * H);
		/* A DS with a wrong digest never counts as seen. */
		assert_int_equal(key_of(sim, "KSK2")->state[DZ_REC_DS], DZ_STATE_RUMOURED);
		assert_int_equal(key_of(sim, "KSK1")->state[DZ_REC_DNSKEY], DZ_STATE_OMNIPRESENT);
		if (polling)
			assert_non_null(strstr(sim_take_log(sim), "with a digest that does not match"));
		assert_oracle_clean(sim);
		sim_destroy(sim);
		dz_policy_clear(&p);
	}
}

static void
parent_rolls_back(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b_polling(&p);
	sim_params_t params = polling_parent(&p);
	params.parent = SIM_PARENT_ROLLBACK;
	params.parent_normal_until = T0 + 1000 * H;
	params.rollback_after = 10 * H;
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 1700 * H);
	/* The parent restored the old DS during the wait: nothing is removed. */
	assert_int_equal(key_of(sim, "KSK2")->state[DZ_REC_DS], DZ_STATE_RUMOURED);
	assert_int_equal(key_of(sim, "KSK1")->state[DZ_REC_DNSKEY], DZ_STATE_OMNIPRESENT);
	assert_non_null(strstr(sim_take_log(sim), "and no longer does"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
operator_confirms_too_early(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	/* The operator confirms at the request; the registry publishes 3 days later. */
	params.operator_early = true;
	params.parent_delay = 3 * D;
	params.parent_normal_until = T0 + 1000 * H;
	sim_t *sim = sim_create(&params);
	oracle_report_t report;

	sim_run_until(sim, T0 + 1600 * H);
	/* The daemon trusts the operator; the oracle shows what that costs. */
	assert_true(sim_check(sim, &report) > 0);
	assert_true((report.properties & ORACLE_P1) != 0);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
ds_seen_before_request_rejected(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_b(&p);
	sim_params_t params = instant_parent(&p);
	params.parent = SIM_PARENT_NEVER;
	params.parent_normal_until = T0 + 1000 * H;
	sim_t *sim = sim_create(&params);
	char key[16];
	dz_error_t err;

	sim_run_until(sim, T0 + 1441 * H);
	snprintf(key, sizeof(key), "#%u", sim_key(sim, "KSK2"));
	dz_error_init(&err);
	assert_int_equal(dz_key_manager_ds_seen(sim_manager(sim), key, T0 + 1439 * H, sim_wall(sim),
						&err),
			 DZ_ERANGE);
	assert_non_null(strstr(err.message, "before the DS change was requested"));
	assert_int_equal(dz_key_manager_ds_seen(sim_manager(sim), key, sim_wall(sim) + 60,
						sim_wall(sim), &err),
			 DZ_ERANGE);
	assert_non_null(strstr(err.message, "in the future"));
	/* A time at or after the request is accepted; the wait still applies after it. */
	assert_int_equal(dz_key_manager_ds_seen(sim_manager(sim), key, T0 + 1440 * H, sim_wall(sim),
						&err),
			 DZ_OK);
	/* The parent keeps the old DS too, so KSK1's DS stays unretentive. */
	run_steps(sim, 1441 * H,
		  (const expected_step_t[]){
			  { 1490 * H, "KSK1 DNSKEY O>U, KSK1 KRRSIG O>U, KSK2 DS R>O" },
		  },
		  1);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* --- The HSM --------------------------------------------------------------- */

static void
hsm_generation_fails(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	p.standby_keys = 0;
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 690 * H);
	sim_take_log(sim);
	dz_key_sim_fail_generate(sim_provider(sim), DZ_EHSM_SESSION);
	sim_run_until(sim, T0 + 800 * H);
	/* No successor, and the zone keeps signing with ZSK1. */
	assert_no_transitions(sim, T0 + 690 * H, T0 + 800 * H);
	assert_int_equal(key_of(sim, "ZSK1")->state[DZ_REC_ZRRSIG], DZ_STATE_OMNIPRESENT);
	assert_non_null(strstr(sim_take_log(sim), "cannot generate a zsk"));
	dz_key_sim_fail_generate(sim_provider(sim), DZ_OK);
	run_steps(sim, 800 * H, (const expected_step_t[]){ { 800 * H + 1, "ZSK2 DNSKEY H>R" } }, 1);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
hsm_standby_key_covers_failure(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	p.standby_keys = 1;
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 600 * H);
	dz_key_sim_fail_generate(sim_provider(sim), DZ_EHSM_SESSION);
	/* The key generated ahead of need replaces ZSK1 on time. */
	run_steps(sim, 600 * H, (const expected_step_t[]){ { 694 * H, "ZSK2 DNSKEY H>R" } }, 1);
	assert_non_null(strstr(sim_take_log(sim), "cannot generate a zsk"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
hsm_key_unavailable(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 690 * H);
	dz_key_sim_fail_check(sim_provider(sim), DZ_EHSM_SESSION);
	sim_run_until(sim, T0 + 800 * H);
	/* No record of an unusable key is introduced. */
	assert_no_transitions(sim, T0 + 690 * H, T0 + 800 * H);
	assert_non_null(strstr(sim_take_log(sim), "cannot be used"));
	dz_key_sim_fail_check(sim_provider(sim), DZ_OK);
	run_steps(sim, 800 * H, (const expected_step_t[]){ { 800 * H + 1, "ZSK2 DNSKEY H>R" } }, 1);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
backup_gate(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);
	dz_error_t err;

	dz_key_sim_require_backup(sim_provider(sim), true);
	sim_run_until(sim, T0 + 100 * H);
	/* Introduced, but nothing becomes omnipresent before the backup. */
	assert_int_equal(key_of(sim, "ZSK1")->state[DZ_REC_DNSKEY], DZ_STATE_RUMOURED);
	assert_int_equal(key_of(sim, "KSK1")->state[DZ_REC_DNSKEY], DZ_STATE_RUMOURED);
	dz_error_init(&err);
	char key[16];
	snprintf(key, sizeof(key), "#%u", sim_key(sim, "ZSK1"));
	assert_int_equal(dz_key_manager_confirm_backup(sim_manager(sim), key, &err), DZ_OK);
	snprintf(key, sizeof(key), "#%u", sim_key(sim, "KSK1"));
	assert_int_equal(dz_key_manager_confirm_backup(sim_manager(sim), key, &err), DZ_OK);
	sim_run_until(sim, T0 + 100 * H + 1);
	assert_int_equal(key_of(sim, "ZSK1")->state[DZ_REC_DNSKEY], DZ_STATE_OMNIPRESENT);
	assert_int_equal(key_of(sim, "KSK1")->state[DZ_REC_DNSKEY], DZ_STATE_OMNIPRESENT);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

static void
key_tag_collision_regenerates(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_a(&p);
	sim_params_t params = default_params(&p);
	sim_t *sim = sim_create(&params);

	sim_run_until(sim, T0 + 600 * H);
	/* The token returns ZSK1's own public key for the next ZSK: same key tag. */
	const dz_key_t *zsk1 = key_of(sim, "ZSK1");
	dz_key_sim_queue_public_key(sim_provider(sim), zsk1->public_key, zsk1->public_key_len);
	sim_run_until(sim, T0 + 700 * H);
	size_t deleted;
	const dz_key_sim_deletion_t *d = dz_key_sim_deletions(sim_provider(sim), &deleted);
	assert_int_equal(deleted, 1);
	assert_int_equal(d[0].time, T0 + 694 * H);
	const dz_keyring_t *ring = dz_key_manager_ring(sim_manager(sim));
	for (size_t i = 0; i < ring->count; i++) {
		for (size_t j = i + 1; j < ring->count; j++)
			assert_false(dz_key_tags_collide(&ring->keys[i], &ring->keys[j]));
	}
	assert_non_null(strstr(sim_take_log(sim), "collides with a key of the zone"));
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

/* --- Manual mode ----------------------------------------------------------- */

static void
manual_mode_waits_for_steps(void **state)
{
	(void)state;
	dz_policy_t p;
	policy_d(&p);
	p.manual_mode = true;
	sim_params_t params = instant_parent(&p);
	params.negative_ttl = 300;
	sim_t *sim = sim_create(&params);
	dz_error_t err;

	sim_run_until(sim, T0 + 1 * H);
	assert_int_equal(sim_transition_count(sim), 0);
	assert_non_null(strstr(sim_take_log(sim), "generated standby"));
	dz_error_init(&err);
	assert_int_equal(dz_key_manager_step(sim_manager(sim), &err), DZ_OK);
	/* One step introduces the CSK; omnipresent states follow by themselves. */
	run_steps(sim, 1 * H,
		  (const expected_step_t[]){
			  { 1 * H + 1, "CSK1 DNSKEY H>R, CSK1 KRRSIG H>R, CSK1 ZRRSIG H>R" },
			  { 1 * H + 1 + 15 * 60, "CSK1 DNSKEY R>O, CSK1 KRRSIG R>O" },
			  { 13 * H + 5 * 60 + 1, "CSK1 ZRRSIG R>O" },
		  },
		  3);
	/* The DS request is another move into rumoured: it waits for the next step. */
	sim_run_until(sim, T0 + 20 * H);
	assert_int_equal(key_of(sim, "CSK1")->state[DZ_REC_DS], DZ_STATE_HIDDEN);
	assert_int_equal(dz_key_manager_step(sim_manager(sim), &err), DZ_OK);
	sim_run_until(sim, T0 + 20 * H + 1);
	assert_int_equal(key_of(sim, "CSK1")->state[DZ_REC_DS], DZ_STATE_RUMOURED);
	assert_oracle_clean(sim);
	sim_destroy(sim);
	dz_policy_clear(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crash_before_publication),
		cmocka_unit_test(crash_before_commit),
		cmocka_unit_test(restart_mid_rollover),
		cmocka_unit_test(restore_old_state_file),
		cmocka_unit_test(lost_state_file),
		cmocka_unit_test(clock_forward_freezes),
		cmocka_unit_test(clock_forward_acknowledged),
		cmocka_unit_test(clock_backward_no_regression),
		cmocka_unit_test(clock_reboot_accepted),
		cmocka_unit_test(dnskey_ttl_up_mid_rollover),
		cmocka_unit_test(dnskey_ttl_down_then_rollover),
		cmocka_unit_test(lifetime_shortened_mid_rollover),
		cmocka_unit_test(algorithm_change_during_ksk_rollover),
		cmocka_unit_test(second_ksk_rollover_waits),
		cmocka_unit_test(blocked_rollover_due_at_once),
		cmocka_unit_test(forced_three_ksks),
		cmocka_unit_test(parent_polled_cooperative),
		cmocka_unit_test(parent_polled_add_only),
		cmocka_unit_test(parent_one_server_never_updates),
		cmocka_unit_test(parent_wrong_digest),
		cmocka_unit_test(parent_rolls_back),
		cmocka_unit_test(operator_confirms_too_early),
		cmocka_unit_test(ds_seen_before_request_rejected),
		cmocka_unit_test(hsm_generation_fails),
		cmocka_unit_test(hsm_standby_key_covers_failure),
		cmocka_unit_test(hsm_key_unavailable),
		cmocka_unit_test(backup_gate),
		cmocka_unit_test(key_tag_collision_regenerates),
		cmocka_unit_test(manual_mode_waits_for_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
