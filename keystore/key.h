/*
 * key.h -- one DNSSEC key of a zone and the state of each of its records.
 *
 * This is the key state model that BIND 9 (lib/dns/keymgr.c) and
 * OpenDNSSEC implement.  Each record kind of a key is in one of four states.
 * The states are statements about every validating resolver's cache, not
 * about the zone file:
 *
 *   hidden       no cache has the record and none can obtain it
 *   rumoured     published, but some caches may still hold an older RRset
 *                version without it
 *   omnipresent  every cache that has the RRset has the record
 *   unretentive  withdrawn, but some caches may still hold it
 *
 * Record kinds: the DNSKEY RR, the RRSIGs over the DNSKEY (and CDS, CDNSKEY)
 * RRsets ("KRRSIG"), the RRSIGs over all other RRsets ("ZRRSIG"), and the
 * DS RR at the parent (mirrored by our CDS/CDNSKEY).  A KSK has DNSKEY,
 * KRRSIG and DS; a ZSK has DNSKEY and ZRRSIG; a CSK has all four.  Records a
 * role does not have stay hidden.
 *
 * Keys are identified by a number unique within the zone and never reused;
 * predecessor/successor links use it.  The key tag is only for people: two
 * keys may share a tag.
 */
#ifndef DZ_KEYSTORE_KEY_H
#define DZ_KEYSTORE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/policy.h"
#include "keystore/keyset.h"

/* A time that was never set (times are never negative). */
#define DZ_KEY_TIME_NONE ((dz_time_t)-1)

/* Longest HSM token name a key records (policy token names are checked against it). */
#define DZ_KEY_TOKEN_MAX 64

typedef enum dz_key_record {
	DZ_REC_DNSKEY = 0,
	DZ_REC_KRRSIG = 1,
	DZ_REC_ZRRSIG = 2,
	DZ_REC_DS = 3,
} dz_key_record_t;

#define DZ_REC_COUNT 4

typedef enum dz_key_state {
	DZ_STATE_HIDDEN = 0,
	DZ_STATE_RUMOURED = 1,
	DZ_STATE_OMNIPRESENT = 2,
	DZ_STATE_UNRETENTIVE = 3,
} dz_key_state_t;

typedef enum dz_key_goal {
	DZ_GOAL_HIDDEN = 0,	 /* the key should leave the zone */
	DZ_GOAL_OMNIPRESENT = 1, /* the key should be in use */
} dz_key_goal_t;

/* HSM backup gate: a record may not become omnipresent before the backup. */
typedef enum dz_key_backup {
	DZ_BACKUP_NONE = 0,   /* the token needs no backup of this key */
	DZ_BACKUP_NEEDED = 1, /* waiting for the operator to confirm a backup */
	DZ_BACKUP_DONE = 2,
} dz_key_backup_t;

typedef struct dz_key {
	uint32_t number;      /* unique within the zone, never reused, > 0 */
	dz_key_role_t role;
	uint8_t algorithm;    /* DZ_ALG_* */
	uint16_t bits;	      /* as in the policy slot; 0 for fixed-size algorithms */
	char token[DZ_KEY_TOKEN_MAX]; /* HSM token name; "" = default token */
	uint16_t flags;	      /* DNSKEY flags: 256, or 257 with the SEP bit */
	uint16_t tag;	      /* RFC 4034 appendix B */
	uint8_t key_id[DZ_KEY_ID_MAX]; /* CKA_ID in the token */
	size_t key_id_len;
	uint8_t public_key[DZ_PUBLIC_KEY_MAX]; /* DNSKEY public key field */
	size_t public_key_len;

	/* Planning, owned by the engine. */
	dz_key_goal_t goal;
	bool standby;	       /* generated ahead of need and not yet used */
	uint32_t predecessor;  /* key number, 0 = none */
	uint32_t successor;    /* key number, 0 = none */
	dz_time_t created;     /* generated in the token */
	dz_time_t publish;     /* planned or actual start of use */
	dz_time_t active;      /* start of the lifetime: planned, moved later if use starts later */
	dz_time_t retire;      /* planned start of the successor's rollover; NONE = unlimited */

	/* Record states, owned by the engine. */
	dz_key_state_t state[DZ_REC_COUNT];
	dz_time_t changed[DZ_REC_COUNT]; /* when the record entered its state */
	/*
	 * Completion of a full re-sign, published, that replaced every RRSIG
	 * of the zone according to the current ZRRSIG state; lets the ZRRSIG
	 * wait drop the signing delay.  NONE = none since the last change.
	 */
	dz_time_t resigned;

	/* Parent observations and operator requests (see keystore/operator.h). */
	dz_time_t ds_seen;    /* all parent servers serve our DS (Tobs for rumoured) */
	dz_time_t ds_gone;    /* no parent server serves our DS (Tobs for unretentive) */
	dz_time_t ds_checked; /* last observation that still confirms ds_seen or ds_gone */
	uint32_t ds_ttl_seen; /* largest DS TTL in parent answers about this key */
	dz_time_t roll_at;    /* operator asked for a rollover at this time; NONE = no */
	bool roll_force;      /* ... even while another rollover of the role is unfinished */
	dz_key_backup_t backup;

	/* Not stored: set by the key manager before each run. */
	bool unavailable;     /* the token cannot use the private key right now */
} dz_key_t;

/* Initialise a key with every time NONE and every record hidden. */
void dz_key_init(dz_key_t *key);

/* Whether the key's role has this record kind. */
bool dz_key_has_record(const dz_key_t *key, dz_key_record_t record);

/* Whether a role signs the DNSKEY RRset (KSK, CSK) or the other RRsets (ZSK, CSK). */
bool dz_role_signs_keys(dz_key_role_t role);
bool dz_role_signs_zone(dz_key_role_t role);

/* DNSKEY flags of a role: 257 (ZONE and SEP) for KSK and CSK, 256 for ZSK. */
uint16_t dz_role_dnskey_flags(dz_key_role_t role);

/* Whether every record of the key is hidden. */
bool dz_key_is_hidden(const dz_key_t *key);

/*
 * Next state a record should move to, given the key's goal: toward
 * omnipresent (H->R, U->R, R->O) or toward hidden (O->U, R->U, U->H).
 * Returns `state` itself when the record is where the goal wants it.
 */
dz_key_state_t dz_key_desired_state(dz_key_state_t state, dz_key_goal_t goal);

/* Lower-case names used in the state file and in messages. */
const char *dz_key_state_name(dz_key_state_t state);	  /* "omnipresent" */
const char *dz_key_state_letter(dz_key_state_t state);	  /* "O" */
const char *dz_key_record_name(dz_key_record_t record);	  /* "dnskey", "krrsig", ... */
const char *dz_key_record_label(dz_key_record_t record);  /* "DNSKEY", "KRRSIG", ... */
const char *dz_key_goal_name(dz_key_goal_t goal);	  /* "omnipresent", "hidden" */

/* Parse the names above; false if unknown. */
bool dz_key_state_parse(const char *text, dz_key_state_t *state);
bool dz_key_record_parse(const char *text, dz_key_record_t *record);

/*
 * Key tag of a DNSKEY (RFC 4034 appendix B) with the given flags, protocol
 * 3, algorithm and public key field.  The revoked tag of RFC 5011 is the tag
 * with flags | DZ_KEY_FLAG_REVOKE.
 */
uint16_t dz_key_compute_tag(uint16_t flags, uint8_t algorithm, const uint8_t *public_key,
			    size_t public_key_len);

#define DZ_KEY_FLAG_ZONE 0x0100
#define DZ_KEY_FLAG_SEP 0x0001
#define DZ_KEY_FLAG_REVOKE 0x0080

/*
 * Whether two keys' tags or RFC 5011 revoked tags coincide (a key tag
 * collision: validators and operators could confuse the keys).
 */
bool dz_key_tags_collide(const dz_key_t *a, const dz_key_t *b);

#endif
