#include "config.h"

#include <string.h>

#include "keystore/manager.h"
#include "keystore/provider.h"
#include "keystore/simulate.h"

/* Rounds at one simulated time: each round's transitions may enable more. */
#define ROUNDS_PER_TIME 16
/* Bound on simulated times, so a bug cannot loop for ever. */
#define MAX_TIMES 100000

typedef struct simulation {
	dz_key_manager_t *mgr;
	const dz_policy_t *policy;
	bool full_resign;
	dz_key_plan_event_fn fn;
	void *ctx;
} simulation_t;

static void
emit(simulation_t *s, dz_key_plan_event_kind_t kind, dz_time_t t, const dz_key_t *key,
     const dz_key_t *predecessor, dz_key_record_t record, dz_key_state_t from, dz_key_state_t to)
{
	dz_key_plan_event_t e = { kind, t, key, predecessor, record, from, to };
	s->fn(&e, s->ctx);
}

/* The parent acts as soon as it may: record the observations it would give. */
static dz_result_t
observe_parent(dz_keyring_t *ring, void *ctx, dz_error_t *err)
{
	simulation_t *s = ctx;
	dz_time_t now = ring->last_commit;

	(void)err;
	for (size_t i = 0; i < ring->count; i++) {
		dz_key_t *k = &ring->keys[i];
		dz_key_state_t ds = k->state[DZ_REC_DS];
		dz_time_t requested = k->changed[DZ_REC_DS];
		if (k->standby || !dz_key_has_record(k, DZ_REC_DS) || requested == DZ_KEY_TIME_NONE)
			continue;
		if (ds == DZ_STATE_RUMOURED &&
		    (k->ds_seen == DZ_KEY_TIME_NONE || k->ds_seen < requested)) {
			k->ds_seen = requested > now ? requested : now;
			k->ds_checked = k->ds_seen;
			emit(s, DZ_PLAN_DS_SEEN, k->ds_seen, k, NULL, DZ_REC_DS, ds, ds);
		}
		dz_time_t removable = requested + s->policy->registration_delay;
		if (ds == DZ_STATE_UNRETENTIVE &&
		    (k->ds_gone == DZ_KEY_TIME_NONE || k->ds_gone < removable)) {
			k->ds_gone = removable > now ? removable : now;
			k->ds_checked = k->ds_gone;
			emit(s, DZ_PLAN_DS_GONE, k->ds_gone, k, NULL, DZ_REC_DS, ds, ds);
		}
	}
	return DZ_OK;
}

/* One prepare and commit at t; returns whether anything happened, -1 on failure. */
static int
round_at(simulation_t *s, dz_time_t t, dz_time_t *next, dz_error_t *err)
{
	dz_key_plan_t *plan = NULL;
	int happened = 0;

	if (dz_key_manager_prepare(s->mgr, t, &plan, err) != DZ_OK)
		return -1;
	const dz_key_run_t *run = dz_key_plan_run(plan);
	const dz_keyring_t *ring = dz_key_plan_ring(plan);
	for (size_t i = 0; i < run->started_count; i++) {
		const dz_key_t *k = dz_keyring_find((dz_keyring_t *)ring, run->started[i].successor);
		const dz_key_t *p = dz_keyring_find((dz_keyring_t *)ring, run->started[i].predecessor);
		if (k != NULL)
			emit(s, p != NULL ? DZ_PLAN_ROLLOVER : DZ_PLAN_NEW_KEY, t, k, p,
			     DZ_REC_DNSKEY, DZ_STATE_HIDDEN, DZ_STATE_HIDDEN);
	}
	for (size_t i = 0; i < run->transition_count; i++) {
		const dz_key_transition_t *tr = &run->transitions[i];
		const dz_key_t *k = dz_keyring_find((dz_keyring_t *)ring, tr->key);
		if (k != NULL)
			emit(s, DZ_PLAN_TRANSITION, t, k, NULL, tr->record, tr->from, tr->to);
	}
	for (size_t i = 0; i < run->purge_count; i++) {
		const dz_key_t *k = dz_keyring_find((dz_keyring_t *)ring, run->purge[i]);
		if (k != NULL)
			emit(s, DZ_PLAN_PURGE, t, k, NULL, DZ_REC_DNSKEY, DZ_STATE_HIDDEN,
			     DZ_STATE_HIDDEN);
	}
	happened = run->transition_count > 0 || run->started_count > 0 || run->purge_count > 0;
	*next = run->next;
	/* A full re-sign only happens when the signing keys change. */
	dz_key_commit_t info = { .published_at = t,
				 .full_resign = s->full_resign && run->transition_count > 0 };
	dz_result_t result = dz_key_manager_commit(s->mgr, plan, &info, err);
	dz_key_plan_destroy(plan);
	if (result != DZ_OK)
		return -1;
	if (dz_key_manager_edit(s->mgr, observe_parent, s, err) != DZ_OK)
		return -1;
	return happened;
}

dz_result_t
dz_key_simulate(const dz_keyring_t *ring, const dz_policy_t *policy, uint32_t negative_ttl,
		dz_time_t from, dz_time_t until, bool full_resign, dz_key_plan_event_fn fn,
		void *ctx, dz_error_t *err)
{
	dz_key_sim_t *keys = dz_key_sim_create((uint64_t)from ^ 0x5eedULL);
	simulation_t s = { .policy = policy, .full_resign = full_resign, .fn = fn, .ctx = ctx };
	dz_result_t result = DZ_OK;

	if (keys == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_key_sim_accept_foreign_keys(keys, true);
	if (ring->clock.frozen) {
		result = dz_error_set(err, DZ_ESTATE,
				      "key transitions of zone %s are frozen (%s); nothing happens "
				      "until the clock is acknowledged with 'danezone key clock-ack'",
				      ring->zone, ring->clock.reason);
		goto cleanup;
	}
	dz_key_manager_config_t config = {
		.zone = ring->zone,
		.policy = policy,
		.negative_ttl = negative_ttl,
		.provider = dz_key_sim_provider(keys),
		.initial_ring = ring,
	};
	result = dz_key_manager_create(&config, &s.mgr, err);
	if (result != DZ_OK)
		goto cleanup;

	dz_time_t t = from;
	for (int times = 0; times < MAX_TIMES && t <= until; times++) {
		dz_time_t next = DZ_TIME_NEVER;
		int happened = 1;
		for (int r = 0; r < ROUNDS_PER_TIME && happened > 0; r++) {
			happened = round_at(&s, t, &next, err);
			if (happened < 0) {
				result = err != NULL ? err->code : DZ_EINTERNAL;
				goto cleanup;
			}
		}
		/* A parent observation recorded after the last round may move the next event. */
		dz_key_plan_t *plan = NULL;
		if (dz_key_manager_prepare(s.mgr, t, &plan, err) != DZ_OK) {
			result = err != NULL ? err->code : DZ_EINTERNAL;
			goto cleanup;
		}
		next = dz_key_plan_next_event(plan);
		dz_key_plan_destroy(plan);
		if (next == DZ_TIME_NEVER || next <= t)
			break;
		t = next;
	}

cleanup:
	dz_key_manager_destroy(s.mgr);
	dz_key_sim_destroy(keys);
	return result;
}
