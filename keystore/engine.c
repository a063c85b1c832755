#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "keystore/engine.h"
#include "keystore/timing.h"

#define NO_KEY SIZE_MAX

static dz_time_t
min_time(dz_time_t a, dz_time_t b)
{
	return a < b ? a : b;
}

static dz_time_t
max_time(dz_time_t a, dz_time_t b)
{
	return a > b ? a : b;
}

/* Make room for one more element of `size` bytes in a run array. */
static bool
grow(void **items, size_t count, size_t *cap, size_t size)
{
	if (count < *cap)
		return true;
	size_t new_cap = *cap == 0 ? 8 : *cap * 2;
	void *p = realloc(*items, new_cap * size);
	if (p == NULL)
		return false;
	*items = p;
	*cap = new_cap;
	return true;
}

#define RUN_PUSH(run, array, count, cap, value)                                          \
	(grow((void **)&(run)->array, (run)->count, &(run)->cap, sizeof((run)->array[0])) \
		 ? ((run)->array[(run)->count++] = (value), true)                         \
		 : false)

void
dz_key_run_init(dz_key_run_t *run)
{
	memset(run, 0, sizeof(*run));
	run->next = DZ_TIME_NEVER;
}

void
dz_key_run_clear(dz_key_run_t *run)
{
	free(run->transitions);
	free(run->pending);
	free(run->started);
	free(run->need_slots);
	free(run->purge);
	free(run->discard);
	dz_key_run_init(run);
}

/* Empty a run but keep its arrays. */
static void
run_reset(dz_key_run_t *run)
{
	run->transition_count = 0;
	run->pending_count = 0;
	run->started_count = 0;
	run->need_count = 0;
	run->purge_count = 0;
	run->discard_count = 0;
	run->blocked_roles = 0;
	run->next = DZ_TIME_NEVER;
	run->step_used = false;
}

const char *
dz_key_wait_text(dz_key_wait_t wait)
{
	switch (wait) {
	case DZ_WAIT_TIME:
		return "waiting for caches to expire";
	case DZ_WAIT_RULES:
		return "waiting until the change is DNSSEC-safe";
	case DZ_WAIT_DS_SEEN:
		return "waiting for the parent to serve the DS on every server";
	case DZ_WAIT_DS_GONE:
		return "waiting for the parent to remove the DS on every server";
	case DZ_WAIT_METHOD:
		return "waiting for another record of the rollover method first";
	case DZ_WAIT_HSM:
		return "waiting for the HSM to make the private key usable";
	case DZ_WAIT_BACKUP:
		return "waiting for the operator to confirm the key backup";
	case DZ_WAIT_OPERATOR:
		return "waiting for an operator step (manual mode)";
	case DZ_WAIT_FROZEN:
		return "frozen: the wall clock jumped; acknowledge with 'danezone key clock-ack'";
	}
	return "waiting";
}

bool
dz_key_matches_slot(const dz_key_t *key, const dz_policy_key_t *slot)
{
	const char *token = slot->token != NULL ? slot->token : "";

	return key->role == slot->role && key->algorithm == slot->algorithm &&
	       key->bits == slot->bits && strcmp(key->token, token) == 0;
}

bool
dz_key_rollover_unfinished(const dz_keyring_t *ring, dz_key_role_t role)
{
	for (size_t i = 0; i < ring->count; i++) {
		const dz_key_t *k = &ring->keys[i];
		if (k->standby || k->role != role || k->goal != DZ_GOAL_HIDDEN)
			continue;
		if (k->state[DZ_REC_DNSKEY] != DZ_STATE_HIDDEN ||
		    k->state[DZ_REC_KRRSIG] != DZ_STATE_HIDDEN ||
		    k->state[DZ_REC_ZRRSIG] != DZ_STATE_HIDDEN ||
		    k->state[DZ_REC_DS] == DZ_STATE_RUMOURED ||
		    k->state[DZ_REC_DS] == DZ_STATE_OMNIPRESENT)
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------------------
 * Planning
 */

typedef struct planner {
	dz_keyring_t *ring;
	const dz_key_engine_params_t *params;
	const dz_policy_t *policy;
	dz_key_timing_t timing;
	dz_time_t now;
	dz_key_run_t *run;
} planner_t;

/* The standby key for a slot, or NO_KEY. */
static size_t
take_standby(planner_t *pl, const dz_policy_key_t *slot)
{
	for (size_t i = 0; i < pl->ring->count; i++) {
		dz_key_t *k = &pl->ring->keys[i];
		if (k->standby && dz_key_matches_slot(k, slot))
			return i;
	}
	return NO_KEY;
}

static bool
need_slot(planner_t *pl, size_t slot)
{
	for (size_t i = 0; i < pl->run->need_count; i++) {
		if (pl->run->need_slots[i] == slot)
			return true;
	}
	return RUN_PUSH(pl->run, need_slots, need_count, need_cap, slot);
}

static void
start_use(planner_t *pl, dz_key_t *k, dz_time_t publish, dz_time_t active)
{
	k->standby = false;
	k->goal = DZ_GOAL_OMNIPRESENT;
	k->publish = publish;
	k->active = active;
	(void)pl;
}

/* Index of the key with goal omnipresent that fills the slot (the oldest if several). */
static size_t
slot_key(const planner_t *pl, const dz_policy_key_t *slot)
{
	for (size_t i = 0; i < pl->ring->count; i++) {
		const dz_key_t *k = &pl->ring->keys[i];
		if (!k->standby && k->goal == DZ_GOAL_OMNIPRESENT && dz_key_matches_slot(k, slot))
			return i;
	}
	return NO_KEY;
}

/* Whether the key fills some slot, given the slot assignment. */
static bool
fills_slot(const size_t *assigned, size_t slot_count, size_t index)
{
	for (size_t c = 0; c < slot_count; c++) {
		if (assigned[c] == index)
			return true;
	}
	return false;
}

/* The retiring key a new key of this slot replaces: same role and algorithm, no successor. */
static size_t
replaced_key(const planner_t *pl, const size_t *assigned, size_t slot_count,
	     const dz_policy_key_t *slot)
{
	size_t found = NO_KEY;

	for (size_t i = 0; i < pl->ring->count; i++) {
		const dz_key_t *k = &pl->ring->keys[i];
		if (k->standby || k->goal != DZ_GOAL_OMNIPRESENT || fills_slot(assigned, slot_count, i))
			continue;
		if (k->role != slot->role || k->algorithm != slot->algorithm || k->successor != 0)
			continue;
		if (found != NO_KEY)
			return NO_KEY; /* ambiguous: no link */
		found = i;
	}
	return found;
}

static void
link_keys(dz_key_t *predecessor, dz_key_t *successor)
{
	predecessor->successor = successor->number;
	successor->predecessor = predecessor->number;
}

/* Give every empty slot a key; returns false on ENOMEM. */
static bool
fill_slots(planner_t *pl, size_t *assigned, bool *all_filled)
{
	const dz_policy_t *policy = pl->policy;

	*all_filled = true;
	for (size_t c = 0; c < policy->key_count; c++) {
		if (assigned[c] != NO_KEY)
			continue;
		const dz_policy_key_t *slot = &policy->keys[c];
		size_t old = replaced_key(pl, assigned, policy->key_count, slot);
		bool replacing = false;
		for (size_t i = 0; i < pl->ring->count; i++) {
			const dz_key_t *k = &pl->ring->keys[i];
			if (!k->standby && k->goal == DZ_GOAL_OMNIPRESENT && k->role == slot->role &&
			    !fills_slot(assigned, policy->key_count, i))
				replacing = true;
		}
		/* A policy change waits for a rollover of the role in progress. */
		if (replacing && dz_key_rollover_unfinished(pl->ring, slot->role)) {
			pl->run->blocked_roles |= 1u << slot->role;
			*all_filled = false;
			continue;
		}
		size_t s = take_standby(pl, slot);
		if (s == NO_KEY) {
			if (!need_slot(pl, c))
				return false;
			*all_filled = false;
			continue;
		}
		dz_key_t *k = &pl->ring->keys[s];
		start_use(pl, k, pl->now, pl->now);
		uint32_t predecessor = 0;
		if (old != NO_KEY) {
			link_keys(&pl->ring->keys[old], k);
			predecessor = pl->ring->keys[old].number;
		}
		assigned[c] = s;
		dz_key_rollover_start_t started = { predecessor, k->number, false };
		if (!RUN_PUSH(pl->run, started, started_count, started_cap, started))
			return false;
	}
	return true;
}

/* Whether every record of the key is omnipresent. */
static bool
fully_introduced(const dz_key_t *k)
{
	for (int r = 0; r < DZ_REC_COUNT; r++) {
		if (dz_key_has_record(k, (dz_key_record_t)r) &&
		    k->state[r] != DZ_STATE_OMNIPRESENT)
			return false;
	}
	return true;
}

/* Start due rollovers of slot keys; returns false on ENOMEM. */
static bool
roll_slots(planner_t *pl, size_t *assigned)
{
	const dz_policy_t *policy = pl->policy;

	for (size_t c = 0; c < policy->key_count; c++) {
		if (assigned[c] == NO_KEY)
			continue;
		const dz_policy_key_t *slot = &policy->keys[c];
		dz_key_t *a = &pl->ring->keys[assigned[c]];
		int64_t lead = dz_key_rollover_lead(&pl->timing, slot->role, pl->now);
		dz_time_t end = DZ_TIME_NEVER;
		dz_time_t start = DZ_TIME_NEVER;

		if (slot->lifetime > 0 && a->active != DZ_KEY_TIME_NONE) {
			end = a->active + slot->lifetime;
			start = end - lead;
		}
		bool requested = a->roll_at != DZ_KEY_TIME_NONE && a->roll_at < start;
		if (requested)
			start = a->roll_at;
		a->retire = start == DZ_TIME_NEVER ? DZ_KEY_TIME_NONE : start;
		if (a->successor != 0 || start == DZ_TIME_NEVER)
			continue;
		if (pl->now < start) {
			pl->run->next = min_time(pl->run->next, start);
			continue;
		}
		/*
		 * Unless forced, a key is replaced only once it is in every cache
		 * and no other rollover of its role is unfinished: rolling faster
		 * can leave a double-DS rollover with no chain of trust to build on.
		 */
		if (!a->roll_force &&
		    (dz_key_rollover_unfinished(pl->ring, slot->role) || !fully_introduced(a))) {
			pl->run->blocked_roles |= 1u << slot->role;
			continue;
		}
		size_t s = take_standby(pl, slot);
		if (s == NO_KEY) {
			if (!need_slot(pl, c))
				return false;
			continue;
		}
		/* take_standby() does not move keys, so `a` is still valid. */
		dz_key_t *k = &pl->ring->keys[s];
		dz_time_t publish = max_time(start, pl->now);
		dz_time_t active = publish + lead;
		if (!requested && end != DZ_TIME_NEVER)
			active = max_time(end, active);
		start_use(pl, k, publish, active);
		link_keys(a, k);
		a->goal = DZ_GOAL_HIDDEN;
		assigned[c] = s;
		dz_key_rollover_start_t started = { a->number, k->number, requested };
		if (!RUN_PUSH(pl->run, started, started_count, started_cap, started))
			return false;
	}
	return true;
}

static bool
plan_keys(planner_t *pl)
{
	const dz_policy_t *policy = pl->policy;
	size_t *assigned = NULL;
	bool ok = false;
	bool all_filled = true;

	if (policy->key_count > 0) {
		assigned = malloc(policy->key_count * sizeof(*assigned));
		if (assigned == NULL)
			return false;
	}
	for (size_t c = 0; c < policy->key_count; c++) {
		assigned[c] = slot_key(pl, &policy->keys[c]);
		for (size_t d = 0; d < c; d++) {
			if (assigned[d] == assigned[c])
				assigned[c] = NO_KEY;
		}
	}
	if (!fill_slots(pl, assigned, &all_filled))
		goto cleanup;
	if (!roll_slots(pl, assigned))
		goto cleanup;

	/*
	 * Keys that fill no slot (policy changed, duplicates) leave, but only
	 * once every slot has its key: an HSM failure never takes away the
	 * keys that work.
	 */
	for (size_t i = 0; i < pl->ring->count; i++) {
		dz_key_t *k = &pl->ring->keys[i];
		if (k->standby) {
			bool wanted = false;
			for (size_t c = 0; c < policy->key_count && !wanted; c++)
				wanted = dz_key_matches_slot(k, &policy->keys[c]);
			if (!wanted && !RUN_PUSH(pl->run, discard, discard_count, discard_cap, k->number))
				goto cleanup;
			continue;
		}
		if (k->goal == DZ_GOAL_OMNIPRESENT && all_filled &&
		    !fills_slot(assigned, policy->key_count, i))
			k->goal = DZ_GOAL_HIDDEN;
	}
	ok = true;

cleanup:
	free(assigned);
	return ok;
}

/* ---------------------------------------------------------------------------
 * Gates
 */

typedef struct loop {
	dz_keyring_t *ring;
	const dz_key_engine_params_t *params;
	const dz_policy_t *policy;
	dz_key_timing_t timing;
	dz_time_t now;
	bool insecure;	   /* the policy has no keys */
	bool first_dnskey; /* no DNSKEY was omnipresent when the run started */
	bool step;	   /* manual mode: an operator step is pending */
	dz_key_run_t *run;
	/* Moves withheld because they would break the signing rule: bit (record) per key index. */
	uint8_t *withheld;
} loop_t;

/* Whether some key of the algorithm has its DNSKEY in caches (omnipresent or unretentive). */
static bool
algorithm_established(const loop_t *l, uint8_t algorithm)
{
	for (size_t i = 0; i < l->ring->count; i++) {
		const dz_key_t *k = &l->ring->keys[i];
		if (k->algorithm == algorithm && (k->state[DZ_REC_DNSKEY] == DZ_STATE_OMNIPRESENT ||
						  k->state[DZ_REC_DNSKEY] == DZ_STATE_UNRETENTIVE))
			return true;
	}
	return false;
}

/* Whether a DNSKEY of another algorithm is published. */
static bool
other_algorithm_published(const loop_t *l, uint8_t algorithm)
{
	for (size_t i = 0; i < l->ring->count; i++) {
		const dz_key_t *k = &l->ring->keys[i];
		if (k->algorithm != algorithm && (k->state[DZ_REC_DNSKEY] == DZ_STATE_RUMOURED ||
						  k->state[DZ_REC_DNSKEY] == DZ_STATE_OMNIPRESENT))
			return true;
	}
	return false;
}

static bool
algorithm_signs_zone(const loop_t *l, uint8_t algorithm)
{
	for (size_t i = 0; i < l->ring->count; i++) {
		const dz_key_t *k = &l->ring->keys[i];
		if (k->algorithm == algorithm && k->state[DZ_REC_ZRRSIG] == DZ_STATE_OMNIPRESENT)
			return true;
	}
	return false;
}

/* Whether every key of the algorithm is leaving while keys of another stay. */
static bool
algorithm_being_removed(const loop_t *l, uint8_t algorithm)
{
	bool other_stays = false;

	for (size_t i = 0; i < l->ring->count; i++) {
		const dz_key_t *k = &l->ring->keys[i];
		if (k->standby)
			continue;
		if (k->algorithm == algorithm && k->goal == DZ_GOAL_OMNIPRESENT)
			return false;
		if (k->algorithm != algorithm && k->goal == DZ_GOAL_OMNIPRESENT)
			other_stays = true;
	}
	return other_stays;
}

/* Gate of a move into rumoured: the rollover method's order. */
static bool
gate_rumoured(const loop_t *l, const dz_key_t *k, dz_key_record_t r, dz_key_wait_t *wait)
{
	const dz_policy_t *p = l->policy;
	bool established = algorithm_established(l, k->algorithm);

	if (k->unavailable) {
		*wait = DZ_WAIT_HSM;
		return false;
	}
	*wait = DZ_WAIT_METHOD;
	switch (r) {
	case DZ_REC_DNSKEY:
		/* RFC 6781 section 4.1.4: a new algorithm's signatures before its keys. */
		if (!established && !l->params->bind_algorithm_order &&
		    other_algorithm_published(l, k->algorithm) &&
		    !algorithm_signs_zone(l, k->algorithm))
			return false;
		if (established && dz_role_signs_keys(k->role) &&
		    p->ksk_rollover == DZ_KSK_DOUBLE_DS &&
		    k->state[DZ_REC_DS] != DZ_STATE_OMNIPRESENT)
			return false;
		if (established && dz_role_signs_zone(k->role) &&
		    p->zsk_rollover == DZ_ZSK_DOUBLE_RRSIG &&
		    k->state[DZ_REC_ZRRSIG] != DZ_STATE_OMNIPRESENT)
			return false;
		return true;
	case DZ_REC_KRRSIG:
		return k->state[DZ_REC_DNSKEY] != DZ_STATE_HIDDEN;
	case DZ_REC_ZRRSIG:
		/* A new algorithm (or an unsigned zone) signs first; otherwise pre-publication. */
		if (!established || p->zsk_rollover == DZ_ZSK_DOUBLE_RRSIG)
			return true;
		return k->state[DZ_REC_DNSKEY] == DZ_STATE_OMNIPRESENT;
	case DZ_REC_DS: {
		bool ready = k->state[DZ_REC_DNSKEY] == DZ_STATE_OMNIPRESENT &&
			     k->state[DZ_REC_KRRSIG] == DZ_STATE_OMNIPRESENT;
		if (!established)
			return ready;
		switch (p->ksk_rollover) {
		case DZ_KSK_DOUBLE_KSK:
			return ready;
		case DZ_KSK_DOUBLE_DS:
			return true;
		case DZ_KSK_DOUBLE_RRSET:
			return k->state[DZ_REC_DNSKEY] != DZ_STATE_HIDDEN;
		}
		return ready;
	}
	}
	return false;
}

/*
 * Policy and operational gates of a move (rollover method, HSM, backup,
 * manual mode, conservative algorithm removal).  The DS observation gate
 * is part of the DS wait (keystore/timing.h).
 */
static bool
gate(const loop_t *l, const dz_key_t *k, dz_key_record_t r, dz_key_state_t to,
     dz_key_wait_t *wait)
{
	switch (to) {
	case DZ_STATE_RUMOURED:
		if (!gate_rumoured(l, k, r, wait))
			return false;
		break;
	case DZ_STATE_OMNIPRESENT:
		if (k->backup == DZ_BACKUP_NEEDED) {
			*wait = DZ_WAIT_BACKUP;
			return false;
		}
		break;
	case DZ_STATE_UNRETENTIVE:
		/* RFC 6781 section 4.1.4: a removed algorithm's keys leave before its signatures. */
		if (r == DZ_REC_ZRRSIG && !l->params->bind_algorithm_order &&
		    algorithm_being_removed(l, k->algorithm) &&
		    k->state[DZ_REC_DNSKEY] != DZ_STATE_HIDDEN) {
			*wait = DZ_WAIT_METHOD;
			return false;
		}
		break;
	case DZ_STATE_HIDDEN:
		break;
	}
	if (l->policy->manual_mode && !l->step &&
	    (to == DZ_STATE_RUMOURED || to == DZ_STATE_UNRETENTIVE)) {
		*wait = DZ_WAIT_OPERATOR;
		return false;
	}
	return true;
}

/*
 * When a move may happen, or DZ_TIME_NEVER while it waits for the parent.
 * With parent polling a DS move also needs an observation at or after its
 * due time, so that a parent that changed its mind during the wait is noticed.
 */
static dz_time_t
due_time(const loop_t *l, const dz_key_t *k, dz_key_record_t r, dz_key_state_t to,
	 dz_key_wait_t *wait)
{
	dz_time_t due = dz_key_due_time(&l->timing, k, r, to, l->first_dnskey, l->now);

	*wait = DZ_WAIT_TIME;
	if (r != DZ_REC_DS || (to != DZ_STATE_OMNIPRESENT && to != DZ_STATE_HIDDEN))
		return due;
	if (due == DZ_TIME_NEVER) {
		*wait = to == DZ_STATE_OMNIPRESENT ? DZ_WAIT_DS_SEEN : DZ_WAIT_DS_GONE;
		return due;
	}
	if (l->policy->ds_observation == DZ_DS_OBSERVE_PARENT && due <= l->now &&
	    (k->ds_checked == DZ_KEY_TIME_NONE || k->ds_checked < due)) {
		*wait = to == DZ_STATE_OMNIPRESENT ? DZ_WAIT_DS_SEEN : DZ_WAIT_DS_GONE;
		return DZ_TIME_NEVER;
	}
	return due;
}

/* Try to move one record; returns true if it moved. */
static bool
try_move(loop_t *l, size_t i, dz_key_record_t r, bool *oom)
{
	dz_key_t *k = &l->ring->keys[i];
	dz_key_state_t from = k->state[r];
	dz_key_state_t to = dz_key_desired_state(from, k->goal);
	dz_key_wait_t wait;

	if (to == from || (l->withheld[i] & (1u << r)) != 0 || !gate(l, k, r, to, &wait))
		return false;
	if (dz_key_transition_safety(l->ring->keys, l->ring->count, i, r, to, l->insecure) !=
	    DZ_KEY_SAFE)
		return false;
	if (due_time(l, k, r, to, &wait) > l->now)
		return false;

	k->state[r] = to;
	k->changed[r] = l->now;
	if (l->policy->manual_mode && (to == DZ_STATE_RUMOURED || to == DZ_STATE_UNRETENTIVE))
		l->run->step_used = true;
	dz_key_transition_t t = { k->number, r, from, to };
	if (!RUN_PUSH(l->run, transitions, transition_count, transition_cap, t))
		*oom = true;
	return true;
}

/* Record what a record that did not move waits for, and when it is due. */
static bool
note_pending(loop_t *l, size_t i, dz_key_record_t r)
{
	const dz_key_t *k = &l->ring->keys[i];
	dz_key_state_t from = k->state[r];
	dz_key_state_t to = dz_key_desired_state(from, k->goal);
	dz_key_pending_t p = { .key = k->number, .record = r, .from = from, .to = to,
			       .due = DZ_TIME_NEVER, .unsafe = DZ_KEY_SAFE };

	if (to == from)
		return true;
	if (l->ring->clock.frozen) {
		p.wait = DZ_WAIT_FROZEN;
	} else if ((l->withheld[i] & (1u << r)) != 0) {
		p.wait = DZ_WAIT_RULES;
		p.unsafe = DZ_KEY_BREAKS_SIGNING;
	} else if (!gate(l, k, r, to, &p.wait)) {
		/* p.wait is set by the gate */
	} else if ((p.unsafe = dz_key_transition_safety(l->ring->keys, l->ring->count, i, r, to,
							l->insecure)) != DZ_KEY_SAFE) {
		p.wait = DZ_WAIT_RULES;
	} else {
		p.due = due_time(l, k, r, to, &p.wait);
		if (p.due != DZ_TIME_NEVER)
			l->run->next = min_time(l->run->next, p.due);
	}
	return RUN_PUSH(l->run, pending, pending_count, pending_cap, p);
}

/* Keys whose every record has been hidden for the purge delay. */
static bool
plan_purges(loop_t *l)
{
	for (size_t i = 0; i < l->ring->count; i++) {
		const dz_key_t *k = &l->ring->keys[i];
		if (k->standby || k->goal != DZ_GOAL_HIDDEN || !dz_key_is_hidden(k))
			continue;
		dz_time_t last = DZ_KEY_TIME_NONE;
		for (int r = 0; r < DZ_REC_COUNT; r++)
			last = max_time(last, k->changed[r]);
		if (last == DZ_KEY_TIME_NONE)
			last = k->created == DZ_KEY_TIME_NONE ? l->now : k->created;
		dz_time_t due = last + l->policy->purge_delay;
		if (due > l->now) {
			l->run->next = min_time(l->run->next, due);
			continue;
		}
		if (!RUN_PUSH(l->run, purge, purge_count, purge_cap, k->number))
			return false;
	}
	return true;
}

static bool
any_dnskey_omnipresent(const dz_keyring_t *ring)
{
	for (size_t i = 0; i < ring->count; i++) {
		if (ring->keys[i].state[DZ_REC_DNSKEY] == DZ_STATE_OMNIPRESENT)
			return true;
	}
	return false;
}

/* Move records until nothing moves; false on ENOMEM. */
static bool
fixpoint(loop_t *l)
{
	bool oom = false;
	bool moved;

	do {
		moved = false;
		for (size_t i = 0; i < l->ring->count; i++) {
			if (l->ring->keys[i].standby)
				continue;
			for (int r = 0; r < DZ_REC_COUNT; r++) {
				if (!dz_key_has_record(&l->ring->keys[i], (dz_key_record_t)r))
					continue;
				if (try_move(l, i, (dz_key_record_t)r, &oom))
					moved = true;
			}
		}
	} while (moved && !oom);
	return !oom;
}

/*
 * Withhold moves of this run for every algorithm whose signing rule was
 * true before the run and would be false in the version the run publishes.
 * The withdrawals (moves into unretentive) go first.  Introductions (moves
 * into rumoured) are withheld only once no withdrawal is left to withhold.
 * Returns whether anything was withheld.
 */
static bool
withhold_unsigned(loop_t *l, const dz_key_t *before)
{
	bool withheld = false;
	const dz_keyring_t *ring = l->ring;

	for (size_t i = 0; i < ring->count; i++) {
		uint8_t alg = ring->keys[i].algorithm;
		if (dz_key_rule_signing(ring->keys, ring->count, alg, NULL) ||
		    !dz_key_rule_signing(before, ring->count, alg, NULL))
			continue;
		for (int pass = 0; pass < 2 && !withheld; pass++) {
			dz_key_state_t target = pass == 0 ? DZ_STATE_UNRETENTIVE : DZ_STATE_RUMOURED;
			for (size_t j = 0; j < ring->count; j++) {
				if (ring->keys[j].algorithm != alg)
					continue;
				for (int r = 0; r < DZ_REC_COUNT; r++) {
					dz_key_state_t now = ring->keys[j].state[r];
					if (now != before[j].state[r] && r != DZ_REC_DS && now == target &&
					    (l->withheld[j] & (1u << r)) == 0) {
						l->withheld[j] |= (uint8_t)(1u << r);
						withheld = true;
					}
				}
			}
		}
	}
	return withheld;
}

dz_result_t
dz_key_engine_run(dz_keyring_t *ring, const dz_key_engine_params_t *params, dz_time_t now,
		  dz_key_run_t *run)
{
	loop_t l = {
		.ring = ring,
		.params = params,
		.policy = params->policy,
		.timing = { .policy = params->policy, .negative_ttl = params->negative_ttl,
			    .history = ring->ttl, .ds_ttl_observed = ring->ds_ttl_observed },
		.now = now,
		.insecure = params->policy->key_count == 0,
		.step = ring->step_requested != ring->step_done,
		.run = run,
	};
	dz_key_t *before = NULL;
	dz_result_t result = DZ_ENOMEM;

	run_reset(run);
	l.withheld = calloc(ring->count + 1, 1);
	if (l.withheld == NULL)
		goto cleanup;
	if (!ring->clock.frozen) {
		planner_t pl = { ring, params, params->policy, l.timing, now, run };
		if (!plan_keys(&pl))
			goto cleanup;
		/* Planning may have changed goals and links, never states. */
		before = malloc((ring->count + 1) * sizeof(*before));
		if (before == NULL)
			goto cleanup;
		if (ring->count > 0)
			memcpy(before, ring->keys, ring->count * sizeof(*before));

		l.first_dnskey = !any_dnskey_omnipresent(ring);
		for (;;) {
			if (!fixpoint(&l))
				goto cleanup;
			if (!withhold_unsigned(&l, before))
				break;
			/* Start again from the states before the run, without the withheld moves. */
			if (ring->count > 0)
				memcpy(ring->keys, before, ring->count * sizeof(*before));
			run->transition_count = 0;
			run->step_used = false;
		}
		if (!plan_purges(&l))
			goto cleanup;
	}

	for (size_t i = 0; i < ring->count; i++) {
		if (ring->keys[i].standby)
			continue;
		for (int r = 0; r < DZ_REC_COUNT; r++) {
			if (dz_key_has_record(&ring->keys[i], (dz_key_record_t)r) &&
			    !note_pending(&l, i, (dz_key_record_t)r))
				goto cleanup;
		}
	}
	/*
	 * Planning runs before the moves.  So a rollover that an unfinished one
	 * of its role held back may start once this run's transitions are
	 * committed, and the caller runs again at once.
	 */
	if (run->blocked_roles != 0 && run->transition_count > 0)
		run->next = now;
	if (ring->clock.frozen)
		run->next = DZ_TIME_NEVER;
	result = DZ_OK;

cleanup:
	free(before);
	free(l.withheld);
	return result;
}
