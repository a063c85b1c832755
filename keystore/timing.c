#include "config.h"

#include <string.h>

#include "keystore/timing.h"

static uint32_t
max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static int64_t
max_i64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

void
dz_ttl_history_set(dz_ttl_history_t *history, uint32_t ttl, dz_time_t now)
{
	if (history->count > 0) {
		dz_ttl_entry_t *last = &history->entries[history->count - 1];
		if (last->ttl == ttl && last->until == DZ_TIME_NEVER)
			return;
		if (last->until == DZ_TIME_NEVER)
			last->until = now;
	}
	if (history->count == DZ_TTL_HISTORY_MAX) {
		dz_ttl_entry_t *first = &history->entries[0];
		dz_ttl_entry_t *second = &history->entries[1];
		second->ttl = max_u32(first->ttl, second->ttl);
		second->from = first->from;
		memmove(&history->entries[0], &history->entries[1],
			(DZ_TTL_HISTORY_MAX - 1) * sizeof(history->entries[0]));
		history->count--;
	}
	history->entries[history->count++] = (dz_ttl_entry_t){
		.ttl = ttl, .from = now, .until = DZ_TIME_NEVER
	};
}

uint32_t
dz_ttl_history_effective(const dz_ttl_history_t *history, uint32_t current, dz_time_t start)
{
	uint32_t ttl = current;

	if (history == NULL)
		return ttl;
	for (size_t i = 0; i < history->count; i++) {
		const dz_ttl_entry_t *e = &history->entries[i];
		if (e->until == DZ_TIME_NEVER || e->until + (dz_time_t)e->ttl > start)
			ttl = max_u32(ttl, e->ttl);
	}
	return ttl;
}

void
dz_ttl_history_prune(dz_ttl_history_t *history, dz_time_t oldest_start)
{
	size_t kept = 0;

	for (size_t i = 0; i < history->count; i++) {
		const dz_ttl_entry_t *e = &history->entries[i];
		if (e->until != DZ_TIME_NEVER && e->until + (dz_time_t)e->ttl <= oldest_start)
			continue;
		history->entries[kept++] = *e;
	}
	history->count = kept;
}

static const dz_ttl_history_t *
class_history(const dz_key_timing_t *timing, dz_ttl_class_t cls)
{
	return timing->history == NULL ? NULL : &timing->history[cls];
}

uint32_t
dz_key_ttl_dnskey(const dz_key_timing_t *timing, dz_time_t start)
{
	return dz_ttl_history_effective(class_history(timing, DZ_TTL_DNSKEY),
					timing->policy->dnskey_ttl, start);
}

uint32_t
dz_key_ttl_ds(const dz_key_timing_t *timing, dz_time_t start)
{
	uint32_t ttl = dz_ttl_history_effective(class_history(timing, DZ_TTL_DS),
						timing->policy->ds_ttl, start);
	return max_u32(ttl, timing->ds_ttl_observed);
}

static uint32_t
negative_ttl(const dz_key_timing_t *timing)
{
	return timing->negative_ttl != 0 ? timing->negative_ttl : timing->policy->max_zone_ttl;
}

uint32_t
dz_key_ttl_data(const dz_key_timing_t *timing, dz_time_t start)
{
	uint32_t current = max_u32(timing->policy->max_zone_ttl, negative_ttl(timing));
	return dz_ttl_history_effective(class_history(timing, DZ_TTL_DATA), current, start);
}

int64_t
dz_key_signing_delay(const dz_policy_t *policy)
{
	return max_i64(0, policy->signature_validity - policy->signature_refresh);
}

int64_t
dz_key_publish_interval(const dz_key_timing_t *timing, dz_time_t now)
{
	const dz_policy_t *p = timing->policy;
	return p->zone_propagation_delay + dz_key_ttl_dnskey(timing, now) + p->publish_safety;
}

static bool
linked(const dz_key_t *key)
{
	return key->predecessor != 0 || key->successor != 0;
}

/*
 * Due time of a ZRRSIG move.  Without a full re-sign the signer replaces
 * signatures gradually, so the move also waits for the signing delay, for
 * every key.  A key that starts signing without a predecessor is missing
 * from RRsets not yet refreshed until then, and one that stops without a
 * successor leaves its signatures in them.  A full re-sign published after
 * the change ends that wait early.
 */
static dz_time_t
zrrsig_due(const dz_key_timing_t *timing, const dz_key_t *key)
{
	const dz_policy_t *p = timing->policy;
	dz_time_t changed = key->changed[DZ_REC_ZRRSIG];
	int64_t wait = p->zone_propagation_delay + dz_key_ttl_data(timing, changed);

	if (linked(key))
		wait += p->retire_safety;
	dz_time_t due = changed + wait + dz_key_signing_delay(p);
	if (key->resigned != DZ_KEY_TIME_NONE && key->resigned >= changed &&
	    key->resigned + wait < due)
		due = key->resigned + wait;
	return due;
}

/*
 * Wait of a DS move: from the parent observation that follows the request.
 * An absence counts only once the registration delay after the removal
 * request has passed: a DS withdrawn while the parent was still processing
 * its addition may otherwise appear at the parent after it was seen absent.
 */
static dz_time_t
ds_due(const dz_key_timing_t *timing, const dz_key_t *key, dz_key_state_t next)
{
	const dz_policy_t *p = timing->policy;
	dz_time_t observed = next == DZ_STATE_OMNIPRESENT ? key->ds_seen : key->ds_gone;
	dz_time_t earliest = key->changed[DZ_REC_DS];

	if (next == DZ_STATE_HIDDEN && earliest != DZ_KEY_TIME_NONE)
		earliest += p->registration_delay;
	if (observed == DZ_KEY_TIME_NONE || observed < earliest)
		return DZ_TIME_NEVER;
	int64_t wait = p->parent_propagation_delay + dz_key_ttl_ds(timing, observed);
	if (linked(key))
		wait += p->retire_safety;
	return observed + wait;
}

dz_time_t
dz_key_due_time(const dz_key_timing_t *timing, const dz_key_t *key, dz_key_record_t record,
		dz_key_state_t next, bool first_dnskey, dz_time_t now)
{
	const dz_policy_t *p = timing->policy;
	dz_time_t changed = key->changed[record];

	if (next == DZ_STATE_RUMOURED || next == DZ_STATE_UNRETENTIVE)
		return now;
	if (changed == DZ_KEY_TIME_NONE)
		changed = now;

	switch (record) {
	case DZ_REC_DNSKEY:
	case DZ_REC_KRRSIG: {
		uint32_t ttl = dz_key_ttl_dnskey(timing, changed);
		if (next == DZ_STATE_OMNIPRESENT) {
			if (first_dnskey)
				ttl = max_u32(ttl, negative_ttl(timing));
			return changed + p->zone_propagation_delay + ttl + p->publish_safety;
		}
		return changed + p->zone_propagation_delay + ttl;
	}
	case DZ_REC_ZRRSIG:
		return zrrsig_due(timing, key);
	case DZ_REC_DS:
		return ds_due(timing, key, next);
	}
	return DZ_TIME_NEVER;
}

/* Time for a new DS to be registered, served by every parent server and cached. */
static int64_t
ds_publication_interval(const dz_key_timing_t *timing, dz_time_t now)
{
	const dz_policy_t *p = timing->policy;
	/*
	 * Registration, then the parent's servers (DprpP), then caches (DprpP
	 * + TTLds).  NOTE: the rollover specification starts double-DS
	 * Dreg + DprpP + TTLds + Sret early, which leaves out the parent's
	 * propagation before the observation.  Counting it makes the new DS
	 * omnipresent by the end of the old key's lifetime.
	 */
	return p->registration_delay + 2 * p->parent_propagation_delay + dz_key_ttl_ds(timing, now) +
	       p->retire_safety;
}

/* Time for a linked key's new signatures to reach every cached RRset. */
static int64_t
signature_introduction(const dz_key_timing_t *timing, dz_time_t now)
{
	const dz_policy_t *p = timing->policy;
	return p->zone_propagation_delay + dz_key_ttl_data(timing, now) + p->retire_safety +
	       dz_key_signing_delay(p);
}

static int64_t
ksk_lead(const dz_key_timing_t *timing, dz_time_t now)
{
	const dz_policy_t *p = timing->policy;
	int64_t ipub = dz_key_publish_interval(timing, now);

	switch (p->ksk_rollover) {
	case DZ_KSK_DOUBLE_KSK:
		return ipub + p->registration_delay;
	case DZ_KSK_DOUBLE_DS:
		return ds_publication_interval(timing, now);
	case DZ_KSK_DOUBLE_RRSET:
		return max_i64(ipub, ds_publication_interval(timing, now));
	}
	return ipub;
}

static int64_t
zsk_lead(const dz_key_timing_t *timing, dz_time_t now)
{
	if (timing->policy->zsk_rollover == DZ_ZSK_DOUBLE_RRSIG)
		return signature_introduction(timing, now);
	return dz_key_publish_interval(timing, now);
}

int64_t
dz_key_rollover_lead(const dz_key_timing_t *timing, dz_key_role_t role, dz_time_t now)
{
	switch (role) {
	case DZ_ROLE_KSK:
		return ksk_lead(timing, now);
	case DZ_ROLE_ZSK:
		return zsk_lead(timing, now);
	case DZ_ROLE_CSK:
		return max_i64(ksk_lead(timing, now), zsk_lead(timing, now));
	}
	return 0;
}

/* From the successor's activation until the predecessor's DNSKEY is hidden, KSK part. */
static int64_t
ksk_retire_duration(const dz_key_timing_t *timing, dz_time_t now)
{
	const dz_policy_t *p = timing->policy;
	int64_t dnskey_out = p->zone_propagation_delay + dz_key_ttl_dnskey(timing, now);
	int64_t ds_swap = ds_publication_interval(timing, now);

	switch (p->ksk_rollover) {
	case DZ_KSK_DOUBLE_KSK:
	case DZ_KSK_DOUBLE_RRSET:
		return ds_swap + dnskey_out;
	case DZ_KSK_DOUBLE_DS:
		/* New DNSKEY omnipresent, then the old DS removed and expired. */
		return dz_key_publish_interval(timing, now) + ds_swap;
	}
	return ds_swap + dnskey_out;
}

/* ZSK part: the old signatures leave caches, then the old DNSKEY. */
static int64_t
zsk_retire_duration(const dz_key_timing_t *timing, dz_time_t now)
{
	const dz_policy_t *p = timing->policy;
	int64_t dnskey_out = p->zone_propagation_delay + dz_key_ttl_dnskey(timing, now);

	if (p->zsk_rollover == DZ_ZSK_DOUBLE_RRSIG)
		return dz_key_publish_interval(timing, now) + signature_introduction(timing, now);
	return signature_introduction(timing, now) + dnskey_out;
}

/*
 * From the start of a KSK rollover until the successor is in use: the lead
 * time without the registration delay that double-KSK adds to the lead.
 */
static int64_t
ksk_activation_delay(const dz_key_timing_t *timing, dz_time_t now)
{
	if (timing->policy->ksk_rollover == DZ_KSK_DOUBLE_KSK)
		return dz_key_publish_interval(timing, now);
	return ksk_lead(timing, now);
}

int64_t
dz_key_rollover_duration(const dz_key_timing_t *timing, dz_key_role_t role, dz_time_t now)
{
	int64_t ksk = ksk_activation_delay(timing, now) + ksk_retire_duration(timing, now);
	int64_t zsk = zsk_lead(timing, now) + zsk_retire_duration(timing, now);

	switch (role) {
	case DZ_ROLE_KSK:
		return ksk;
	case DZ_ROLE_ZSK:
		return zsk;
	case DZ_ROLE_CSK:
		return max_i64(ksk, zsk);
	}
	return 0;
}
