#include "config.h"

#include <string.h>

#include <ldns/ldns.h>

#include "common/mem.h"
#include "keystore/key.h"

static const char *const state_names[] = { "hidden", "rumoured", "omnipresent", "unretentive" };
static const char *const state_letters[] = { "H", "R", "O", "U" };
static const char *const record_names[] = { "dnskey", "krrsig", "zrrsig", "ds" };
static const char *const record_labels[] = { "DNSKEY", "KRRSIG", "ZRRSIG", "DS" };

void
dz_key_init(dz_key_t *key)
{
	memset(key, 0, sizeof(*key));
	key->goal = DZ_GOAL_HIDDEN;
	key->created = DZ_KEY_TIME_NONE;
	key->publish = DZ_KEY_TIME_NONE;
	key->active = DZ_KEY_TIME_NONE;
	key->retire = DZ_KEY_TIME_NONE;
	for (int r = 0; r < DZ_REC_COUNT; r++) {
		key->state[r] = DZ_STATE_HIDDEN;
		key->changed[r] = DZ_KEY_TIME_NONE;
	}
	key->resigned = DZ_KEY_TIME_NONE;
	key->ds_seen = DZ_KEY_TIME_NONE;
	key->ds_gone = DZ_KEY_TIME_NONE;
	key->ds_checked = DZ_KEY_TIME_NONE;
	key->roll_at = DZ_KEY_TIME_NONE;
	key->backup = DZ_BACKUP_NONE;
}

bool
dz_role_signs_keys(dz_key_role_t role)
{
	return role == DZ_ROLE_KSK || role == DZ_ROLE_CSK;
}

bool
dz_role_signs_zone(dz_key_role_t role)
{
	return role == DZ_ROLE_ZSK || role == DZ_ROLE_CSK;
}

uint16_t
dz_role_dnskey_flags(dz_key_role_t role)
{
	if (dz_role_signs_keys(role))
		return DZ_KEY_FLAG_ZONE | DZ_KEY_FLAG_SEP;
	return DZ_KEY_FLAG_ZONE;
}

bool
dz_key_has_record(const dz_key_t *key, dz_key_record_t record)
{
	switch (record) {
	case DZ_REC_DNSKEY:
		return true;
	case DZ_REC_KRRSIG:
	case DZ_REC_DS:
		return dz_role_signs_keys(key->role);
	case DZ_REC_ZRRSIG:
		return dz_role_signs_zone(key->role);
	}
	return false;
}

bool
dz_key_is_hidden(const dz_key_t *key)
{
	for (int r = 0; r < DZ_REC_COUNT; r++) {
		if (key->state[r] != DZ_STATE_HIDDEN)
			return false;
	}
	return true;
}

dz_key_state_t
dz_key_desired_state(dz_key_state_t state, dz_key_goal_t goal)
{
	if (goal == DZ_GOAL_OMNIPRESENT) {
		switch (state) {
		case DZ_STATE_HIDDEN:
		case DZ_STATE_UNRETENTIVE:
			return DZ_STATE_RUMOURED;
		case DZ_STATE_RUMOURED:
		case DZ_STATE_OMNIPRESENT:
			return DZ_STATE_OMNIPRESENT;
		}
	} else {
		switch (state) {
		case DZ_STATE_OMNIPRESENT:
		case DZ_STATE_RUMOURED:
			return DZ_STATE_UNRETENTIVE;
		case DZ_STATE_UNRETENTIVE:
		case DZ_STATE_HIDDEN:
			return DZ_STATE_HIDDEN;
		}
	}
	return state;
}

const char *
dz_key_state_name(dz_key_state_t state)
{
	return (unsigned)state < DZ_ARRAY_SIZE(state_names) ? state_names[state] : "invalid";
}

const char *
dz_key_state_letter(dz_key_state_t state)
{
	return (unsigned)state < DZ_ARRAY_SIZE(state_letters) ? state_letters[state] : "?";
}

const char *
dz_key_record_name(dz_key_record_t record)
{
	return (unsigned)record < DZ_ARRAY_SIZE(record_names) ? record_names[record] : "invalid";
}

const char *
dz_key_record_label(dz_key_record_t record)
{
	return (unsigned)record < DZ_ARRAY_SIZE(record_labels) ? record_labels[record] : "?";
}

const char *
dz_key_goal_name(dz_key_goal_t goal)
{
	return goal == DZ_GOAL_OMNIPRESENT ? "omnipresent" : "hidden";
}

bool
dz_key_state_parse(const char *text, dz_key_state_t *state)
{
	for (size_t i = 0; i < DZ_ARRAY_SIZE(state_names); i++) {
		if (strcmp(text, state_names[i]) == 0) {
			*state = (dz_key_state_t)i;
			return true;
		}
	}
	return false;
}

bool
dz_key_record_parse(const char *text, dz_key_record_t *record)
{
	for (size_t i = 0; i < DZ_ARRAY_SIZE(record_names); i++) {
		if (strcmp(text, record_names[i]) == 0) {
			*record = (dz_key_record_t)i;
			return true;
		}
	}
	return false;
}

uint16_t
dz_key_compute_tag(uint16_t flags, uint8_t algorithm, const uint8_t *public_key,
		   size_t public_key_len)
{
	uint8_t rdata[4 + DZ_PUBLIC_KEY_MAX];

	if (public_key_len > DZ_PUBLIC_KEY_MAX)
		public_key_len = DZ_PUBLIC_KEY_MAX;
	rdata[0] = (uint8_t)(flags >> 8);
	rdata[1] = (uint8_t)flags;
	rdata[2] = 3; /* protocol, RFC 4034 section 2.1.2 */
	rdata[3] = algorithm;
	memcpy(rdata + 4, public_key, public_key_len);
	return ldns_calc_keytag_raw(rdata, 4 + public_key_len);
}

bool
dz_key_tags_collide(const dz_key_t *a, const dz_key_t *b)
{
	uint16_t a_tags[2] = {
		dz_key_compute_tag(a->flags, a->algorithm, a->public_key, a->public_key_len),
		dz_key_compute_tag(a->flags | DZ_KEY_FLAG_REVOKE, a->algorithm, a->public_key,
				   a->public_key_len),
	};
	uint16_t b_tags[2] = {
		dz_key_compute_tag(b->flags, b->algorithm, b->public_key, b->public_key_len),
		dz_key_compute_tag(b->flags | DZ_KEY_FLAG_REVOKE, b->algorithm, b->public_key,
				   b->public_key_len),
	};

	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 2; j++) {
			if (a_tags[i] == b_tags[j])
				return true;
		}
	}
	return false;
}
