#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/operator.h"

static dz_key_t *
find_ds_key(dz_keyring_t *ring, uint32_t number, dz_error_t *err)
{
	dz_key_t *k = dz_keyring_find(ring, number);

	if (k == NULL) {
		dz_error_set(err, DZ_ENOTFOUND, "zone %s has no key #%u", ring->zone, number);
		return NULL;
	}
	if (!dz_key_has_record(k, DZ_REC_DS)) {
		dz_error_set(err, DZ_ESTATE, "key %u (#%u) of zone %s is a %s and has no DS", k->tag,
			     number, ring->zone, dz_role_name(k->role));
		return NULL;
	}
	return k;
}

static dz_result_t
check_observation_time(const dz_keyring_t *ring, const dz_key_t *k, dz_time_t when,
		       dz_time_t now, const char *what, dz_error_t *err)
{
	char when_text[DZ_TIME_TEXT_MAX], request_text[DZ_TIME_TEXT_MAX];
	char now_text[DZ_TIME_TEXT_MAX];
	dz_time_t requested = k->changed[DZ_REC_DS];

	if (requested != DZ_KEY_TIME_NONE && when < requested)
		return dz_error_set(err, DZ_ERANGE,
				    "%s time %s for key %u (#%u) of zone %s is before the DS change "
				    "was requested (%s); give a time at or after the request",
				    what, dz_time_format(when, when_text), k->tag, k->number,
				    ring->zone, dz_time_format(requested, request_text));
	if (when > now)
		return dz_error_set(err, DZ_ERANGE,
				    "%s time %s for key %u (#%u) of zone %s is in the future (now is "
				    "%s)",
				    what, dz_time_format(when, when_text), k->tag, k->number,
				    ring->zone, dz_time_format(now, now_text));
	return DZ_OK;
}

dz_result_t
dz_key_op_ds_seen(dz_keyring_t *ring, uint32_t number, dz_time_t when, dz_time_t now,
		  dz_error_t *err)
{
	dz_key_t *k = find_ds_key(ring, number, err);
	dz_result_t result;

	if (k == NULL)
		return err != NULL ? err->code : DZ_ENOTFOUND;
	if (k->state[DZ_REC_DS] != DZ_STATE_RUMOURED)
		return dz_error_set(err, DZ_ESTATE,
				    "the DS of key %u (#%u) of zone %s is %s, not waiting to be "
				    "published by the parent",
				    k->tag, number, ring->zone,
				    dz_key_state_name(k->state[DZ_REC_DS]));
	result = check_observation_time(ring, k, when, now, "ds-seen", err);
	if (result != DZ_OK)
		return result;
	k->ds_seen = when;
	k->ds_checked = when;
	return DZ_OK;
}

dz_result_t
dz_key_op_ds_gone(dz_keyring_t *ring, uint32_t number, dz_time_t when, dz_time_t now,
		  dz_error_t *err)
{
	dz_key_t *k = find_ds_key(ring, number, err);
	dz_result_t result;

	if (k == NULL)
		return err != NULL ? err->code : DZ_ENOTFOUND;
	if (k->state[DZ_REC_DS] != DZ_STATE_UNRETENTIVE)
		return dz_error_set(err, DZ_ESTATE,
				    "the DS of key %u (#%u) of zone %s is %s, not waiting to be "
				    "removed by the parent",
				    k->tag, number, ring->zone,
				    dz_key_state_name(k->state[DZ_REC_DS]));
	result = check_observation_time(ring, k, when, now, "ds-gone", err);
	if (result != DZ_OK)
		return result;
	k->ds_gone = when;
	k->ds_checked = when;
	return DZ_OK;
}

dz_result_t
dz_key_op_request_rollover(dz_keyring_t *ring, uint32_t number, dz_time_t when, bool force,
			   dz_time_t now, dz_error_t *err)
{
	dz_key_t *k = dz_keyring_find(ring, number);

	if (k == NULL || k->standby)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s has no key #%u in use", ring->zone,
				    number);
	if (k->goal != DZ_GOAL_OMNIPRESENT || k->successor != 0)
		return dz_error_set(err, DZ_ESTATE,
				    "key %u (#%u) of zone %s is already being replaced; roll its "
				    "successor instead",
				    k->tag, number, ring->zone);
	k->roll_at = when < now ? now : when;
	k->roll_force = force;
	return DZ_OK;
}

dz_result_t
dz_key_op_confirm_backup(dz_keyring_t *ring, uint32_t number, dz_error_t *err)
{
	dz_key_t *k = dz_keyring_find(ring, number);

	if (k == NULL)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s has no key #%u", ring->zone, number);
	if (k->backup == DZ_BACKUP_NONE)
		return dz_error_set(err, DZ_ESTATE,
				    "key %u (#%u) of zone %s needs no backup confirmation", k->tag,
				    number, ring->zone);
	k->backup = DZ_BACKUP_DONE;
	return DZ_OK;
}

void
dz_key_op_step(dz_keyring_t *ring)
{
	ring->step_requested++;
}

void
dz_key_op_clock_ack(dz_keyring_t *ring)
{
	ring->clock.ack_requested++;
}

dz_result_t
dz_key_op_resolve(const dz_keyring_t *ring, const char *text, uint32_t *number, dz_error_t *err)
{
	char *end;
	unsigned long value;
	size_t indexes[8];

	errno = 0;
	if (text[0] == '#') {
		value = strtoul(text + 1, &end, 10);
		if (errno != 0 || end == text + 1 || *end != '\0' || value == 0 || value > UINT32_MAX)
			return dz_error_set(err, DZ_EINVAL,
					    "invalid key number '%s': expected #NUMBER as shown by "
					    "'danezone status'",
					    text);
		if (dz_keyring_index(ring, (uint32_t)value) == SIZE_MAX)
			return dz_error_set(err, DZ_ENOTFOUND, "zone %s has no key %s", ring->zone,
					    text);
		*number = (uint32_t)value;
		return DZ_OK;
	}
	value = strtoul(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value > 65535)
		return dz_error_set(err, DZ_EINVAL,
				    "invalid key tag '%s': expected a number from 0 to 65535, or "
				    "#NUMBER",
				    text);
	size_t found = dz_keyring_find_tag(ring, (uint16_t)value, indexes, 8);
	if (found == 0)
		return dz_error_set(err, DZ_ENOTFOUND, "zone %s has no key with tag %lu",
				    ring->zone, value);
	if (found > 1) {
		char list[128] = "";
		size_t used = 0;
		for (size_t i = 0; i < found && i < 8; i++) {
			int n = snprintf(list + used, sizeof(list) - used, "%s#%u", i > 0 ? ", " : "",
					 ring->keys[indexes[i]].number);
			if (n < 0 || (size_t)n >= sizeof(list) - used)
				break;
			used += (size_t)n;
		}
		return dz_error_set(err, DZ_EEXIST,
				    "key tag %lu matches several keys of zone %s (%s); name one "
				    "with #NUMBER",
				    value, ring->zone, list);
	}
	*number = ring->keys[indexes[0]].number;
	return DZ_OK;
}

void
dz_key_op_merge(dz_keyring_t *ring, const dz_keyring_t *disk)
{
	/* Every change to these fields is written through to the file, so disk is newest. */
	for (size_t i = 0; i < ring->count; i++) {
		dz_key_t *k = &ring->keys[i];
		size_t d = dz_keyring_index(disk, k->number);
		if (d == SIZE_MAX)
			continue;
		const dz_key_t *o = &disk->keys[d];
		k->ds_seen = o->ds_seen;
		k->ds_gone = o->ds_gone;
		k->ds_checked = o->ds_checked;
		k->ds_ttl_seen = o->ds_ttl_seen;
		k->roll_at = o->roll_at;
		k->roll_force = o->roll_force;
		k->backup = o->backup;
	}
	ring->step_requested = disk->step_requested;
	ring->clock.ack_requested = disk->clock.ack_requested;
	ring->ds_ttl_observed = disk->ds_ttl_observed;
}
