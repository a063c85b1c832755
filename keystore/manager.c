#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "keystore/manager.h"
#include "keystore/operator.h"
#include "keystore/publish.h"
#include "keystore/state_file.h"

/* Tag collisions tolerated in a row before generation gives up. */
#define TAG_COLLISION_RETRIES 8
/* Engine runs per prepare: the first may ask for keys the next one uses. */
#define PREPARE_ATTEMPTS 4

/* An alert about one key's DS, logged when it starts and when it ends. */
typedef struct ds_alert {
	uint32_t key;
	dz_log_condition_t condition;
	bool seen_this_round;
} ds_alert_t;

struct dz_key_manager {
	char *state_path; /* NULL: memory only */
	dz_policy_t policy;
	uint32_t negative_ttl;
	dz_key_provider_t provider;
	bool bind_algorithm_order;
	dz_keyring_t ring;
	dz_keyset_t keyset; /* published by the last commit */
	char *halted;	    /* reason, NULL when key management runs */
	dz_log_condition_t generate_failed;
	dz_log_condition_t key_unavailable;
	dz_log_condition_t rollover_blocked;
	ds_alert_t *alerts;
	size_t alert_count;
};

struct dz_key_plan {
	dz_keyring_t ring;
	dz_key_run_t run;
	dz_keyset_t keyset;
	dz_time_t now;
	bool changes;
	bool committed;
};

static const char *
zone_of(const dz_key_manager_t *mgr)
{
	return mgr->ring.zone;
}

/* ---------------------------------------------------------------------------
 * State file
 */

/*
 * Write `ring` to the state file, first copying into it the operator
 * fields of the file as it is now.  Memory-only managers do nothing.
 */
static dz_result_t
save_ring(dz_key_manager_t *mgr, dz_keyring_t *ring, dz_error_t *err)
{
	int lock = -1;
	dz_keyring_t disk;
	dz_result_t result;

	if (mgr->state_path == NULL)
		return DZ_OK;
	result = dz_key_state_lock(mgr->state_path, &lock, err);
	if (result != DZ_OK)
		return result;
	result = dz_key_state_read(mgr->state_path, &disk, NULL, NULL, NULL);
	if (result == DZ_OK) {
		dz_key_op_merge(ring, &disk);
		dz_keyring_clear(&disk);
	}
	result = dz_key_state_write(mgr->state_path, ring, &mgr->policy, mgr->negative_ttl, err);
	dz_key_state_unlock(lock);
	return result;
}

dz_result_t
dz_key_manager_edit(dz_key_manager_t *mgr, dz_key_ring_edit_fn fn, void *ctx, dz_error_t *err)
{
	int lock = -1;
	dz_keyring_t disk;
	dz_result_t result;

	if (mgr->state_path == NULL)
		return fn(&mgr->ring, ctx, err);
	result = dz_key_state_lock(mgr->state_path, &lock, err);
	if (result != DZ_OK)
		return result;
	result = dz_key_state_read(mgr->state_path, &disk, NULL, NULL, NULL);
	if (result == DZ_ENOTFOUND) {
		/* Nothing committed yet: edit what the manager has. */
		result = dz_keyring_copy(&disk, &mgr->ring);
		if (result != DZ_OK) {
			dz_error_set(err, result, "out of memory");
			goto cleanup;
		}
	} else if (result != DZ_OK) {
		result = dz_error_set(err, result, "cannot read key state file %s",
				      mgr->state_path);
		goto cleanup;
	}
	result = fn(&disk, ctx, err);
	if (result == DZ_OK)
		result = dz_key_state_write(mgr->state_path, &disk, &mgr->policy,
					    mgr->negative_ttl, err);
	if (result == DZ_OK)
		dz_key_op_merge(&mgr->ring, &disk);
	dz_keyring_clear(&disk);

cleanup:
	dz_key_state_unlock(lock);
	return result;
}

/* ---------------------------------------------------------------------------
 * Creation
 */

static dz_result_t
check_lost_state(dz_key_manager_t *mgr, const dz_key_manager_config_t *config, dz_error_t *err)
{
	size_t in_token = 0;
	char reason[512];

	if (config->provider.ops != NULL && config->provider.ops->count_zone_keys != NULL) {
		dz_error_t ignored;
		dz_error_init(&ignored);
		if (config->provider.ops->count_zone_keys(config->provider.ctx, zone_of(mgr),
							  &in_token, &ignored) != DZ_OK)
			in_token = 0;
	}
	if (!config->expect_state && in_token == 0)
		return DZ_OK;
	if (in_token > 0)
		snprintf(reason, sizeof(reason),
			 "key state file %s is missing but the token holds %zu key(s) of the "
			 "zone; restore the state file from a backup (no key is created or deleted "
			 "until then)",
			 mgr->state_path, in_token);
	else
		snprintf(reason, sizeof(reason),
			 "key state file %s is missing but the zone was signed before; restore "
			 "the state file from a backup (no key is created or deleted until then)",
			 mgr->state_path);
	mgr->halted = strdup(reason);
	if (mgr->halted == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_log_zone(DZ_LOG_ERROR, zone_of(mgr), "DNSSEC, key management halted: %s", reason);
	return DZ_OK;
}

dz_result_t
dz_key_manager_create(const dz_key_manager_config_t *config, dz_key_manager_t **out,
		      dz_error_t *err)
{
	dz_key_manager_t *mgr = calloc(1, sizeof(*mgr));
	dz_result_t result = DZ_OK;

	if (mgr == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_keyring_init(&mgr->ring, config->zone);
	if (!dz_policy_copy(&mgr->policy, config->policy)) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	mgr->negative_ttl = config->negative_ttl;
	mgr->provider = config->provider;
	mgr->bind_algorithm_order = config->bind_algorithm_order;

	if (config->state_dir != NULL) {
		mgr->state_path = dz_key_state_path(config->state_dir, config->zone);
		if (mgr->state_path == NULL) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto cleanup;
		}
		dz_keyring_t loaded;
		result = dz_key_state_read(mgr->state_path, &loaded, NULL, NULL, err);
		if (result == DZ_OK) {
			dz_keyring_clear(&mgr->ring);
			mgr->ring = loaded;
		} else if (result == DZ_ENOTFOUND) {
			result = check_lost_state(mgr, config, err);
		}
		if (result != DZ_OK)
			goto cleanup;
	}
	result = dz_key_publication(&mgr->ring, &mgr->policy, &mgr->keyset);
	if (result != DZ_OK)
		dz_error_set(err, result, "out of memory");

cleanup:
	if (result != DZ_OK) {
		dz_key_manager_destroy(mgr);
		return result;
	}
	*out = mgr;
	return DZ_OK;
}

void
dz_key_manager_destroy(dz_key_manager_t *mgr)
{
	if (mgr == NULL)
		return;
	dz_keyring_clear(&mgr->ring);
	dz_key_keyset_clear(&mgr->keyset);
	dz_policy_clear(&mgr->policy);
	free(mgr->state_path);
	free(mgr->halted);
	free(mgr->alerts);
	free(mgr);
}

dz_result_t
dz_key_manager_set_policy(dz_key_manager_t *mgr, const dz_policy_t *policy,
			  uint32_t negative_ttl, dz_error_t *err)
{
	dz_policy_t copy;

	if (!dz_policy_copy(&copy, policy))
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_policy_clear(&mgr->policy);
	mgr->policy = copy;
	mgr->negative_ttl = negative_ttl;
	return DZ_OK;
}

const char *
dz_key_manager_halted(const dz_key_manager_t *mgr)
{
	return mgr->halted;
}

const dz_keyring_t *
dz_key_manager_ring(const dz_key_manager_t *mgr)
{
	return &mgr->ring;
}

const dz_keyset_t *
dz_key_manager_keyset(const dz_key_manager_t *mgr)
{
	return &mgr->keyset;
}

const dz_policy_t *
dz_key_manager_policy(const dz_key_manager_t *mgr)
{
	return &mgr->policy;
}

/* ---------------------------------------------------------------------------
 * Key generation
 */

static const char *
token_name(const dz_policy_key_t *slot)
{
	return slot->token != NULL && slot->token[0] != '\0' ? slot->token : "default";
}

static bool
collides(const dz_keyring_t *ring, const dz_key_t *key)
{
	for (size_t i = 0; i < ring->count; i++) {
		if (dz_key_tags_collide(&ring->keys[i], key))
			return true;
	}
	return false;
}

/*
 * Generate a standby key for the slot and record it in the committed ring
 * and the state file.  A key whose tag (or RFC 5011 revoked tag) collides
 * with one of the zone's keys is deleted, never published, and replaced.
 */
static dz_result_t
generate_key(dz_key_manager_t *mgr, const dz_policy_key_t *slot, dz_time_t now, dz_error_t *err)
{
	const dz_key_provider_ops_t *ops = mgr->provider.ops;
	dz_result_t result = DZ_EHSM;

	if (ops == NULL || ops->generate == NULL)
		return dz_error_set(err, DZ_ENOTSUP, "no key provider configured for zone %s",
				    zone_of(mgr));
	for (int attempt = 0; attempt < TAG_COLLISION_RETRIES; attempt++) {
		dz_key_material_t m;
		result = ops->generate(mgr->provider.ctx, zone_of(mgr), slot, &m, err);
		if (result != DZ_OK) {
			dz_log_condition_raise(&mgr->generate_failed, DZ_LOG_ERROR,
					       "zone %s: DNSSEC, cannot generate a %s %s key in token "
					       "%s: %s; the zone keeps signing with its current keys",
					       zone_of(mgr), dz_role_name(slot->role),
					       dz_algorithm_name(slot->algorithm) != NULL
						       ? dz_algorithm_name(slot->algorithm)
						       : "unknown",
					       token_name(slot), dz_error_message(err));
			return result;
		}

		dz_key_t k;
		dz_key_init(&k);
		k.role = slot->role;
		k.algorithm = slot->algorithm;
		k.bits = slot->bits;
		if (slot->token != NULL)
			snprintf(k.token, sizeof(k.token), "%s", slot->token);
		k.flags = dz_role_dnskey_flags(slot->role);
		memcpy(k.key_id, m.key_id, m.key_id_len);
		k.key_id_len = m.key_id_len;
		memcpy(k.public_key, m.public_key, m.public_key_len);
		k.public_key_len = m.public_key_len;
		k.tag = dz_key_compute_tag(k.flags, k.algorithm, k.public_key, k.public_key_len);
		k.standby = true;
		k.created = now;
		k.backup = m.backup_required ? DZ_BACKUP_NEEDED : DZ_BACKUP_NONE;

		if (collides(&mgr->ring, &k)) {
			dz_error_t ignored;
			dz_error_init(&ignored);
			dz_log_zone(DZ_LOG_NOTICE, zone_of(mgr),
				    "DNSSEC, new %s key has tag %u, which collides with a key of "
				    "the zone; deleting it and generating another",
				    dz_role_name(k.role), k.tag);
			if (ops->remove != NULL)
				ops->remove(mgr->provider.ctx, k.token, k.key_id, k.key_id_len,
					    &ignored);
			result = DZ_EEXIST;
			continue;
		}
		dz_key_t *added;
		if (dz_keyring_add(&mgr->ring, &k, &added) != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		result = save_ring(mgr, &mgr->ring, err);
		if (result != DZ_OK)
			return result;
		dz_log_condition_clear(&mgr->generate_failed,
				       "zone %s: DNSSEC, key generation works again",
				       zone_of(mgr));
		dz_log_zone(DZ_LOG_INFO, zone_of(mgr),
			    "DNSSEC, generated standby %s key %u (%s, #%" PRIu32 ") in token %s",
			    dz_role_name(added->role), added->tag,
			    dz_algorithm_name(added->algorithm) != NULL
				    ? dz_algorithm_name(added->algorithm)
				    : "unknown",
			    added->number, token_name(slot));
		return DZ_OK;
	}
	return dz_error_set(err, result,
			    "zone %s: %d generated keys in a row had colliding key tags",
			    zone_of(mgr), TAG_COLLISION_RETRIES);
}

/* Generate standby keys until each slot has the number the policy asks for. */
static void
provision_standby(dz_key_manager_t *mgr, dz_time_t now)
{
	for (size_t c = 0; c < mgr->policy.key_count; c++) {
		const dz_policy_key_t *slot = &mgr->policy.keys[c];
		unsigned have = 0;
		for (size_t i = 0; i < mgr->ring.count; i++) {
			if (mgr->ring.keys[i].standby &&
			    dz_key_matches_slot(&mgr->ring.keys[i], slot))
				have++;
		}
		while (have < mgr->policy.standby_keys) {
			dz_error_t err;
			dz_error_init(&err);
			if (generate_key(mgr, slot, now, &err) != DZ_OK)
				return;
			have++;
		}
	}
}

/* Ask the token whether each key that signs or may sign can be used now. */
static void
mark_availability(dz_key_manager_t *mgr, dz_keyring_t *ring)
{
	const dz_key_provider_ops_t *ops = mgr->provider.ops;
	const dz_key_t *failed = NULL;
	char message[DZ_ERROR_MESSAGE_MAX] = "";

	for (size_t i = 0; i < ring->count; i++) {
		dz_key_t *k = &ring->keys[i];
		k->unavailable = false;
		if (ops == NULL || ops->check == NULL || k->standby)
			continue;
		if (k->goal != DZ_GOAL_OMNIPRESENT && dz_key_is_hidden(k))
			continue;
		dz_error_t err;
		dz_error_init(&err);
		if (ops->check(mgr->provider.ctx, k->token, k->key_id, k->key_id_len, &err) !=
		    DZ_OK) {
			k->unavailable = true;
			if (failed == NULL) {
				failed = k;
				snprintf(message, sizeof(message), "%s", dz_error_message(&err));
			}
		}
	}
	if (failed != NULL)
		dz_log_condition_raise(&mgr->key_unavailable, DZ_LOG_ERROR,
				       "zone %s: DNSSEC, key %u (#%" PRIu32 ") cannot be used: %s; "
				       "no record of an unusable key is introduced",
				       zone_of(mgr), failed->tag, failed->number, message);
	else
		dz_log_condition_clear(&mgr->key_unavailable,
				       "zone %s: DNSSEC, every key can be used again", zone_of(mgr));
}

/* ---------------------------------------------------------------------------
 * Prepare
 */

static dz_key_engine_params_t
engine_params(const dz_key_manager_t *mgr)
{
	return (dz_key_engine_params_t){
		.policy = &mgr->policy,
		.negative_ttl = mgr->negative_ttl,
		.bind_algorithm_order = mgr->bind_algorithm_order,
	};
}

void
dz_key_plan_destroy(dz_key_plan_t *plan)
{
	if (plan == NULL)
		return;
	dz_keyring_clear(&plan->ring);
	dz_key_run_clear(&plan->run);
	dz_key_keyset_clear(&plan->keyset);
	free(plan);
}

dz_result_t
dz_key_manager_prepare(dz_key_manager_t *mgr, dz_time_t now, dz_key_plan_t **out,
		       dz_error_t *err)
{
	dz_key_plan_t *plan = NULL;
	dz_key_engine_params_t params = engine_params(mgr);
	dz_result_t result = DZ_OK;

	if (mgr->halted != NULL)
		return dz_error_set(err, DZ_ESTATE, "zone %s: key management halted: %s",
				    zone_of(mgr), mgr->halted);
	provision_standby(mgr, now);

	plan = calloc(1, sizeof(*plan));
	if (plan == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	dz_key_run_init(&plan->run);
	for (int attempt = 0; attempt < PREPARE_ATTEMPTS; attempt++) {
		dz_keyring_clear(&plan->ring);
		if (dz_keyring_copy(&plan->ring, &mgr->ring) != DZ_OK) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto cleanup;
		}
		mark_availability(mgr, &plan->ring);
		if (dz_key_engine_run(&plan->ring, &params, now, &plan->run) != DZ_OK) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (plan->run.need_count == 0)
			break;
		/* The planner wants keys the ring lacks: make them, then plan again. */
		bool generated = false;
		for (size_t i = 0; i < plan->run.need_count; i++) {
			dz_error_t gen_err;
			dz_error_init(&gen_err);
			if (generate_key(mgr, &mgr->policy.keys[plan->run.need_slots[i]], now,
					 &gen_err) == DZ_OK)
				generated = true;
		}
		if (!generated)
			break;
	}
	result = dz_key_publication(&plan->ring, &mgr->policy, &plan->keyset);
	if (result != DZ_OK) {
		dz_error_set(err, result, "out of memory");
		goto cleanup;
	}
	plan->now = now;
	plan->changes = !dz_key_keyset_equal(&plan->keyset, &mgr->keyset);

cleanup:
	if (result != DZ_OK) {
		dz_key_plan_destroy(plan);
		return result;
	}
	*out = plan;
	return DZ_OK;
}

const dz_keyset_t *
dz_key_plan_keyset(const dz_key_plan_t *plan)
{
	return &plan->keyset;
}

bool
dz_key_plan_changes_keyset(const dz_key_plan_t *plan)
{
	return plan->changes;
}

dz_time_t
dz_key_plan_next_event(const dz_key_plan_t *plan)
{
	return plan->run.next;
}

const dz_key_run_t *
dz_key_plan_run(const dz_key_plan_t *plan)
{
	return &plan->run;
}

const dz_keyring_t *
dz_key_plan_ring(const dz_key_plan_t *plan)
{
	return &plan->ring;
}

/* ---------------------------------------------------------------------------
 * Commit
 */

static const char *
algorithm_text(uint8_t algorithm)
{
	const char *name = dz_algorithm_name(algorithm);
	return name != NULL ? name : "unknown";
}

/* Earliest start of a wait still running, for pruning the TTL history. */
static dz_time_t
oldest_pending_start(const dz_keyring_t *ring, dz_time_t now)
{
	dz_time_t oldest = now;

	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		for (int r = 0; r < DZ_REC_COUNT; r++) {
			if ((k->state[r] == DZ_STATE_RUMOURED || k->state[r] == DZ_STATE_UNRETENTIVE) &&
			    k->changed[r] != DZ_KEY_TIME_NONE && k->changed[r] < oldest)
				oldest = k->changed[r];
		}
	}
	return oldest;
}

static void
update_ttl_history(dz_key_manager_t *mgr, dz_keyring_t *ring, dz_time_t t)
{
	uint32_t data = mgr->policy.max_zone_ttl;
	uint32_t negative = mgr->negative_ttl != 0 ? mgr->negative_ttl : data;

	if (negative > data)
		data = negative;
	dz_ttl_history_set(&ring->ttl[DZ_TTL_DNSKEY], mgr->policy.dnskey_ttl, t);
	dz_ttl_history_set(&ring->ttl[DZ_TTL_DS], mgr->policy.ds_ttl, t);
	dz_ttl_history_set(&ring->ttl[DZ_TTL_DATA], data, t);
	dz_time_t oldest = oldest_pending_start(ring, t);
	for (int c = 0; c < DZ_TTL_CLASS_COUNT; c++)
		dz_ttl_history_prune(&ring->ttl[c], oldest);
}

/* Delete keys whose purge is due, and unwanted standby keys, from the token and the ring. */
static void
delete_keys(dz_key_manager_t *mgr, dz_keyring_t *ring, const uint32_t *numbers, size_t count,
	    const char *why)
{
	const dz_key_provider_ops_t *ops = mgr->provider.ops;

	for (size_t i = 0; i < count; i++) {
		dz_key_t *k = dz_keyring_find(ring, numbers[i]);
		if (k == NULL)
			continue;
		dz_error_t err;
		dz_error_init(&err);
		dz_result_t result = DZ_OK;
		if (ops != NULL && ops->remove != NULL)
			result = ops->remove(mgr->provider.ctx, k->token, k->key_id, k->key_id_len,
					     &err);
		if (result != DZ_OK && result != DZ_ENOTFOUND && result != DZ_EHSM_KEY) {
			dz_log_zone(DZ_LOG_ERROR, zone_of(mgr),
				    "DNSSEC, cannot delete %s key %u (#%" PRIu32 ") from the token: "
				    "%s; trying again at the next key event",
				    dz_role_name(k->role), k->tag, k->number,
				    dz_error_message(&err));
			continue;
		}
		dz_log_zone(DZ_LOG_NOTICE, zone_of(mgr),
			    "DNSSEC, deleted %s key %u (%s, #%" PRIu32 ") from the token: %s",
			    dz_role_name(k->role), k->tag, algorithm_text(k->algorithm), k->number,
			    why);
		dz_keyring_remove(ring, numbers[i]);
	}
}

static void
log_transitions(dz_key_manager_t *mgr, const dz_key_plan_t *plan, dz_time_t t)
{
	char next_text[DZ_TIME_TEXT_MAX];
	const dz_key_run_t *run = &plan->run;

	dz_time_format(run->next, next_text);
	for (size_t i = 0; i < run->started_count; i++) {
		const dz_key_rollover_start_t *s = &run->started[i];
		const dz_key_t *succ = dz_keyring_find((dz_keyring_t *)&plan->ring, s->successor);
		const dz_key_t *pred = dz_keyring_find((dz_keyring_t *)&plan->ring, s->predecessor);
		if (succ == NULL)
			continue;
		if (pred != NULL)
			dz_log_zone(DZ_LOG_NOTICE, zone_of(mgr),
				    "DNSSEC, %s rollover of key %u (#%" PRIu32 ") started%s: "
				    "successor key %u (%s, #%" PRIu32 ")",
				    dz_role_name(succ->role), pred->tag, pred->number,
				    s->requested ? " on request" : "", succ->tag,
				    algorithm_text(succ->algorithm), succ->number);
		else
			dz_log_zone(DZ_LOG_NOTICE, zone_of(mgr),
				    "DNSSEC, new %s key %u (%s, #%" PRIu32 ") introduced",
				    dz_role_name(succ->role), succ->tag,
				    algorithm_text(succ->algorithm), succ->number);
	}
	for (size_t i = 0; i < run->transition_count; i++) {
		const dz_key_transition_t *tr = &run->transitions[i];
		const dz_key_t *k = dz_keyring_find((dz_keyring_t *)&plan->ring, tr->key);
		uint16_t tag = k != NULL ? k->tag : 0;
		dz_log_zone(DZ_LOG_NOTICE, zone_of(mgr),
			    "DNSSEC, key %u (%s %s, #%" PRIu32 ") %s %s -> %s; next key event at %s",
			    tag, k != NULL ? dz_role_name(k->role) : "?",
			    k != NULL ? algorithm_text(k->algorithm) : "?", tr->key,
			    dz_key_record_label(tr->record), dz_key_state_name(tr->from),
			    dz_key_state_name(tr->to), next_text);
	}
	(void)t;
}

static ds_alert_t *
alert_for(dz_key_manager_t *mgr, uint32_t key)
{
	for (size_t i = 0; i < mgr->alert_count; i++) {
		if (mgr->alerts[i].key == key)
			return &mgr->alerts[i];
	}
	ds_alert_t *alerts = realloc(mgr->alerts, (mgr->alert_count + 1) * sizeof(*alerts));
	if (alerts == NULL)
		return NULL;
	mgr->alerts = alerts;
	ds_alert_t *a = &mgr->alerts[mgr->alert_count++];
	memset(a, 0, sizeof(*a));
	a->key = key;
	return a;
}

/*
 * Alert on a parent that does not act: a DS waited for longer than the
 * policy's alert delay, for its publication or its removal.  Logged when
 * it starts and when it ends.
 */
static void
update_ds_alerts(dz_key_manager_t *mgr, const dz_keyring_t *ring, const dz_key_run_t *run,
		 dz_time_t now)
{
	for (size_t i = 0; i < mgr->alert_count; i++)
		mgr->alerts[i].seen_this_round = false;
	for (size_t i = 0; i < run->pending_count; i++) {
		const dz_key_pending_t *p = &run->pending[i];
		if (p->record != DZ_REC_DS ||
		    (p->wait != DZ_WAIT_DS_SEEN && p->wait != DZ_WAIT_DS_GONE))
			continue;
		size_t index = dz_keyring_index(ring, p->key);
		if (index == SIZE_MAX)
			continue;
		const dz_key_t *k = &ring->keys[index];
		dz_time_t requested = k->changed[DZ_REC_DS];
		if (requested == DZ_KEY_TIME_NONE || now - requested < mgr->policy.ds_alert_after)
			continue;
		ds_alert_t *a = alert_for(mgr, p->key);
		if (a == NULL)
			continue;
		a->seen_this_round = true;
		char when[DZ_TIME_TEXT_MAX];
		dz_time_format(requested, when);
		if (p->wait == DZ_WAIT_DS_SEEN)
			dz_log_condition_raise(
				&a->condition, DZ_LOG_WARNING,
				"zone %s: DNSSEC, the parent does not serve the DS of %s key %u "
				"(#%" PRIu32 ") requested at %s; the rollover waits safely%s",
				zone_of(mgr), dz_role_name(k->role), k->tag, k->number, when,
				mgr->policy.ds_observation == DZ_DS_OBSERVE_OPERATOR
					? "; once the parent serves it, run 'danezone key ds-seen'"
					: "");
		else
			dz_log_condition_raise(
				&a->condition, DZ_LOG_WARNING,
				"zone %s: DNSSEC, the parent still serves the DS of retired %s key %u "
				"(#%" PRIu32 "), removal requested at %s; the key cannot be deleted "
				"until the parent removes it%s",
				zone_of(mgr), dz_role_name(k->role), k->tag, k->number, when,
				mgr->policy.ds_observation == DZ_DS_OBSERVE_OPERATOR
					? "; once it is removed, run 'danezone key ds-gone'"
					: "");
	}
	for (size_t i = 0; i < mgr->alert_count; i++) {
		ds_alert_t *a = &mgr->alerts[i];
		if (!a->seen_this_round)
			dz_log_condition_clear(&a->condition,
					       "zone %s: DNSSEC, the parent caught up with the DS of "
					       "key #%" PRIu32,
					       zone_of(mgr), a->key);
	}
}

static void
update_blocked_alert(dz_key_manager_t *mgr, const dz_key_run_t *run)
{
	if (run->blocked_roles != 0)
		dz_log_condition_raise(&mgr->rollover_blocked, DZ_LOG_WARNING,
				       "zone %s: DNSSEC, a due rollover or policy change waits "
				       "because another rollover of the same role is unfinished",
				       zone_of(mgr));
	else
		dz_log_condition_clear(&mgr->rollover_blocked,
				       "zone %s: DNSSEC, no rollover waits for another any more",
				       zone_of(mgr));
}

dz_result_t
dz_key_manager_commit(dz_key_manager_t *mgr, dz_key_plan_t *plan, const dz_key_commit_t *info,
		      dz_error_t *err)
{
	dz_time_t t = info->published_at > plan->now ? info->published_at : plan->now;
	dz_keyring_t staged;
	dz_result_t result;

	if (plan->committed)
		return dz_error_set(err, DZ_ESTATE, "zone %s: this key plan was already committed",
				    zone_of(mgr));
	/* Work on a copy so that a failed commit leaves the plan as it was. */
	if (dz_keyring_copy(&staged, &plan->ring) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");

	for (size_t i = 0; i < plan->run.transition_count; i++) {
		const dz_key_transition_t *tr = &plan->run.transitions[i];
		dz_key_t *k = dz_keyring_find(&staged, tr->key);
		if (k == NULL)
			continue;
		k->changed[tr->record] = t;
		dz_key_event_t e = { t, tr->key, tr->record, tr->from, tr->to };
		if (dz_keyring_add_event(&staged, &e) != DZ_OK) {
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (info->full_resign) {
		for (size_t i = 0; i < staged.count; i++) {
			dz_key_t *k = &staged.keys[i];
			if (k->state[DZ_REC_ZRRSIG] == DZ_STATE_RUMOURED ||
			    k->state[DZ_REC_ZRRSIG] == DZ_STATE_UNRETENTIVE)
				k->resigned = t;
		}
	}
	if (plan->run.step_used)
		staged.step_done = staged.step_requested;
	update_ttl_history(mgr, &staged, t);
	delete_keys(mgr, &staged, plan->run.purge, plan->run.purge_count,
		    "every record has been hidden for the purge delay");
	delete_keys(mgr, &staged, plan->run.discard, plan->run.discard_count,
		    "the standby key matches no key of the policy and was never published");
	staged.last_commit = t;

	result = save_ring(mgr, &staged, err);
	if (result != DZ_OK)
		goto fail;

	dz_keyring_clear(&mgr->ring);
	mgr->ring = staged;
	dz_key_keyset_clear(&mgr->keyset);
	mgr->keyset = plan->keyset;
	memset(&plan->keyset, 0, sizeof(plan->keyset));
	plan->committed = true;

	log_transitions(mgr, plan, t);
	update_ds_alerts(mgr, &mgr->ring, &plan->run, t);
	update_blocked_alert(mgr, &plan->run);
	return DZ_OK;

fail:
	dz_keyring_clear(&staged);
	return result;
}

/* ---------------------------------------------------------------------------
 * Reconciliation and re-sign notes
 */

static const dz_zone_key_t *
served_key(const dz_keyset_t *served, const dz_key_t *k)
{
	for (size_t i = 0; i < served->count; i++) {
		const dz_zone_key_t *z = &served->keys[i];
		if (z->key_id_len == k->key_id_len &&
		    memcmp(z->key_id, k->key_id, k->key_id_len) == 0 &&
		    z->algorithm == k->algorithm)
			return z;
	}
	return NULL;
}

static bool
served_record(const dz_zone_key_t *z, dz_key_record_t r)
{
	if (z == NULL)
		return false;
	switch (r) {
	case DZ_REC_DNSKEY:
		return z->publish;
	case DZ_REC_KRRSIG:
		return z->sign_keys;
	case DZ_REC_ZRRSIG:
		return z->sign_zone;
	case DZ_REC_DS:
		return z->publish_cds;
	}
	return false;
}

/* A served key the state does not know: adopt it as leaving, with its records rumoured. */
static dz_result_t
adopt_served_key(dz_key_manager_t *mgr, const dz_zone_key_t *z, dz_time_t now)
{
	dz_key_t k;

	dz_key_init(&k);
	if (z->sign_keys && z->sign_zone)
		k.role = DZ_ROLE_CSK;
	else if (z->sign_keys || z->publish_cds || (z->flags & DZ_DNSKEY_FLAG_SEP) != 0)
		k.role = DZ_ROLE_KSK;
	else
		k.role = DZ_ROLE_ZSK;
	k.algorithm = z->algorithm;
	k.flags = z->flags;
	k.tag = z->key_tag;
	memcpy(k.key_id, z->key_id, z->key_id_len);
	k.key_id_len = z->key_id_len;
	memcpy(k.public_key, z->public_key, z->public_key_len);
	k.public_key_len = z->public_key_len;
	k.goal = DZ_GOAL_HIDDEN;
	k.created = now;
	for (int r = 0; r < DZ_REC_COUNT; r++) {
		if (dz_key_has_record(&k, (dz_key_record_t)r) &&
		    served_record(z, (dz_key_record_t)r)) {
			k.state[r] = DZ_STATE_RUMOURED;
			k.changed[r] = now;
		}
	}
	dz_key_t *added;
	if (dz_keyring_add(&mgr->ring, &k, &added) != DZ_OK)
		return DZ_ENOMEM;
	dz_log_zone(DZ_LOG_WARNING, zone_of(mgr),
		    "DNSSEC, served key %u (%s) is not in the key state; adopted as #%" PRIu32
		    ", to be withdrawn safely",
		    added->tag, algorithm_text(added->algorithm), added->number);
	return DZ_OK;
}

dz_result_t
dz_key_manager_reconcile(dz_key_manager_t *mgr, const dz_keyset_t *served, dz_time_t now,
			 dz_error_t *err)
{
	bool changed = false;

	for (size_t i = 0; i < mgr->ring.count; i++) {
		dz_key_t *k = &mgr->ring.keys[i];
		if (k->standby)
			continue;
		const dz_zone_key_t *z = served_key(served, k);
		for (int r = 0; r < DZ_REC_COUNT; r++) {
			if (!dz_key_has_record(k, (dz_key_record_t)r))
				continue;
			bool is_served = served_record(z, (dz_key_record_t)r);
			dz_key_state_t from = k->state[r];
			dz_key_state_t to = from;
			if (is_served && (from == DZ_STATE_HIDDEN || from == DZ_STATE_UNRETENTIVE))
				to = DZ_STATE_RUMOURED;
			else if (!is_served &&
				 (from == DZ_STATE_RUMOURED || from == DZ_STATE_OMNIPRESENT))
				to = DZ_STATE_UNRETENTIVE;
			if (to == from)
				continue;
			k->state[r] = to;
			k->changed[r] = now;
			changed = true;
			dz_key_event_t e = { now, k->number, (dz_key_record_t)r, from, to };
			if (dz_keyring_add_event(&mgr->ring, &e) != DZ_OK)
				return dz_error_set(err, DZ_ENOMEM, "out of memory");
			dz_log_zone(DZ_LOG_WARNING, zone_of(mgr),
				    "DNSSEC, key %u (#%" PRIu32 ") %s is %s in the served zone but "
				    "was recorded %s; now %s",
				    k->tag, k->number, dz_key_record_label((dz_key_record_t)r),
				    is_served ? "published" : "absent", dz_key_state_name(from),
				    dz_key_state_name(to));
		}
	}
	for (size_t i = 0; i < served->count; i++) {
		const dz_zone_key_t *z = &served->keys[i];
		bool known = false;
		for (size_t j = 0; j < mgr->ring.count && !known; j++) {
			const dz_key_t *k = &mgr->ring.keys[j];
			known = k->key_id_len == z->key_id_len &&
				memcmp(k->key_id, z->key_id, z->key_id_len) == 0;
		}
		if (known)
			continue;
		if (adopt_served_key(mgr, z, now) != DZ_OK)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		changed = true;
	}
	if (!changed)
		return DZ_OK;
	dz_key_keyset_clear(&mgr->keyset);
	dz_result_t result = dz_key_publication(&mgr->ring, &mgr->policy, &mgr->keyset);
	if (result != DZ_OK)
		return dz_error_set(err, result, "out of memory");
	return save_ring(mgr, &mgr->ring, err);
}

dz_result_t
dz_key_manager_note_full_resign(dz_key_manager_t *mgr, dz_time_t completed, dz_error_t *err)
{
	bool changed = false;

	for (size_t i = 0; i < mgr->ring.count; i++) {
		dz_key_t *k = &mgr->ring.keys[i];
		dz_key_state_t zs = k->state[DZ_REC_ZRRSIG];
		if ((zs == DZ_STATE_RUMOURED || zs == DZ_STATE_UNRETENTIVE) &&
		    k->changed[DZ_REC_ZRRSIG] != DZ_KEY_TIME_NONE &&
		    completed >= k->changed[DZ_REC_ZRRSIG]) {
			k->resigned = completed;
			changed = true;
		}
	}
	return changed ? save_ring(mgr, &mgr->ring, err) : DZ_OK;
}

/* ---------------------------------------------------------------------------
 * Operator requests
 */

typedef struct op_request {
	const char *key;
	dz_time_t when;
	dz_time_t now;
	bool force;
	int kind;
} op_request_t;

enum { OP_DS_SEEN, OP_DS_GONE, OP_ROLLOVER, OP_BACKUP, OP_STEP };

static dz_result_t
apply_request(dz_keyring_t *ring, void *ctx, dz_error_t *err)
{
	op_request_t *req = ctx;
	uint32_t number = 0;
	dz_result_t result;

	if (req->kind == OP_STEP) {
		dz_key_op_step(ring);
		return DZ_OK;
	}
	result = dz_key_op_resolve(ring, req->key, &number, err);
	if (result != DZ_OK)
		return result;
	switch (req->kind) {
	case OP_DS_SEEN:
		return dz_key_op_ds_seen(ring, number, req->when, req->now, err);
	case OP_DS_GONE:
		return dz_key_op_ds_gone(ring, number, req->when, req->now, err);
	case OP_ROLLOVER:
		return dz_key_op_request_rollover(ring, number, req->when, req->force, req->now,
						  err);
	case OP_BACKUP:
		return dz_key_op_confirm_backup(ring, number, err);
	}
	return DZ_EINTERNAL;
}

dz_result_t
dz_key_manager_ds_seen(dz_key_manager_t *mgr, const char *key, dz_time_t when, dz_time_t now,
		       dz_error_t *err)
{
	op_request_t req = { .key = key, .when = when, .now = now, .kind = OP_DS_SEEN };
	return dz_key_manager_edit(mgr, apply_request, &req, err);
}

dz_result_t
dz_key_manager_ds_gone(dz_key_manager_t *mgr, const char *key, dz_time_t when, dz_time_t now,
		       dz_error_t *err)
{
	op_request_t req = { .key = key, .when = when, .now = now, .kind = OP_DS_GONE };
	return dz_key_manager_edit(mgr, apply_request, &req, err);
}

dz_result_t
dz_key_manager_request_rollover(dz_key_manager_t *mgr, const char *key, dz_time_t when,
				bool force, dz_time_t now, dz_error_t *err)
{
	op_request_t req = { .key = key, .when = when, .now = now, .force = force,
			     .kind = OP_ROLLOVER };
	return dz_key_manager_edit(mgr, apply_request, &req, err);
}

dz_result_t
dz_key_manager_confirm_backup(dz_key_manager_t *mgr, const char *key, dz_error_t *err)
{
	op_request_t req = { .key = key, .kind = OP_BACKUP };
	return dz_key_manager_edit(mgr, apply_request, &req, err);
}

dz_result_t
dz_key_manager_step(dz_key_manager_t *mgr, dz_error_t *err)
{
	op_request_t req = { .kind = OP_STEP };
	return dz_key_manager_edit(mgr, apply_request, &req, err);
}
