/*
 * timing.h -- how long each state transition waits, and TTL history.
 *
 * Names follow RFC 7583.  DprpC and DprpP are the child's and parent's
 * propagation delays, Spub and Sret the publish and retire safety margins.
 * Dsgn is the signing delay: the time until gradual re-signing has replaced
 * every RRSIG of a retired key.  Dreg is the registration delay and IpubC
 * the child's publication interval.  Every TTL used in a wait is "effective": the
 * largest TTL of any version of that RRset that a cache may still hold.
 *
 * Transitions into rumoured or unretentive never wait.  Waits:
 *
 *   DNSKEY, KRRSIG  R->O  DprpC + TTLkey + Spub, from the change
 *                         (while no DNSKEY is omnipresent yet, TTLkey is
 *                         max(TTLkey, negative TTL): a cache may hold a
 *                         negative answer for the DNSKEY RRset)
 *                   U->H  DprpC + TTLkey
 *   ZRRSIG      R->O, U->H  DprpC + TTLsig, + Sret for a key with a
 *                         predecessor or successor, + Dsgn unless a full
 *                         re-sign was published after the change (then
 *                         measured from that re-sign, if that is earlier)
 *   DS          R->O, U->H  DprpP + TTLds, + Sret for a linked key, from
 *                         the parent observation (never from the request;
 *                         an absence only counts from Dreg after the
 *                         removal request on)
 *
 * These are BIND 9's formulas (lib/dns/keymgr.c, keymgr_transition_time)
 * with two differences.  The first DNSKEY RRset also waits for the negative
 * TTL, as OpenDNSSEC does.  BIND adds Dsgn only for keys with a predecessor
 * or successor, because its signer adds or removes every signature of an
 * unlinked key at once; here the signer reports such full re-signs in the
 * commit, and without that report every ZRRSIG move waits for Dsgn.  All
 * functions are pure and thread safe.
 */
#ifndef DZ_KEYSTORE_TIMING_H
#define DZ_KEYSTORE_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/policy.h"
#include "keystore/key.h"

/* RRset classes whose TTL history is kept. */
typedef enum dz_ttl_class {
	DZ_TTL_DNSKEY = 0, /* DNSKEY, CDS, CDNSKEY */
	DZ_TTL_DS = 1,	   /* the parent's DS RRset, as configured */
	DZ_TTL_DATA = 2,   /* every other signed RRset, negative answers included */
} dz_ttl_class_t;

#define DZ_TTL_CLASS_COUNT 3
#define DZ_TTL_HISTORY_MAX 16

/* One TTL that was published from `from` until `until` (DZ_TIME_NEVER: still). */
typedef struct dz_ttl_entry {
	uint32_t ttl;
	dz_time_t from;
	dz_time_t until;
} dz_ttl_entry_t;

/* The TTLs one RRset class was published with, oldest first. */
typedef struct dz_ttl_history {
	dz_ttl_entry_t entries[DZ_TTL_HISTORY_MAX];
	size_t count;
} dz_ttl_history_t;

/*
 * Record that the class is published with `ttl` from `now` on.  Does
 * nothing if that is already the current TTL.  When the history is full the
 * oldest entry is folded into the next one (keeping the larger TTL and the
 * later end), which only lengthens waits.
 */
void dz_ttl_history_set(dz_ttl_history_t *history, uint32_t ttl, dz_time_t now);

/*
 * Largest TTL that can still matter for a wait that started at `start`:
 * `current` and every entry still published or published until a time from
 * which its TTL has not run out by `start`.
 */
uint32_t dz_ttl_history_effective(const dz_ttl_history_t *history, uint32_t current,
				  dz_time_t start);

/* Drop closed entries that cannot matter for any wait starting at or after `oldest_start`. */
void dz_ttl_history_prune(dz_ttl_history_t *history, dz_time_t oldest_start);

/* Everything the waits depend on besides the keys. */
typedef struct dz_key_timing {
	const dz_policy_t *policy;
	uint32_t negative_ttl; /* min(SOA TTL, SOA MINIMUM); 0 = unknown, read as max_zone_ttl */
	const dz_ttl_history_t *history; /* array of DZ_TTL_CLASS_COUNT; NULL = none */
	uint32_t ds_ttl_observed;	  /* largest DS TTL seen in parent answers; 0 = none */
} dz_key_timing_t;

/* Effective TTLs of the three classes for a wait that started at `start`. */
uint32_t dz_key_ttl_dnskey(const dz_key_timing_t *timing, dz_time_t start);
uint32_t dz_key_ttl_ds(const dz_key_timing_t *timing, dz_time_t start);
uint32_t dz_key_ttl_data(const dz_key_timing_t *timing, dz_time_t start);

/* Dsgn: signature validity minus refresh (the signer re-signs exactly at refresh). */
int64_t dz_key_signing_delay(const dz_policy_t *policy);

/* IpubC = DprpC + TTLkey + Spub, with the DNSKEY TTL effective at `now`. */
int64_t dz_key_publish_interval(const dz_key_timing_t *timing, dz_time_t now);

/*
 * Earliest time at which record `record` of `key` may move to `next`.
 * `now` for moves into rumoured or unretentive; DZ_TIME_NEVER for a DS move
 * that has no parent observation after the request yet.  `first_dnskey`:
 * no DNSKEY of the zone is omnipresent yet.
 */
dz_time_t dz_key_due_time(const dz_key_timing_t *timing, const dz_key_t *key,
			  dz_key_record_t record, dz_key_state_t next, bool first_dnskey,
			  dz_time_t now);

/*
 * How long before the end of a key's lifetime its successor's rollover
 * starts, so that the successor is in use when the lifetime ends.  This is
 * IpubC for a ZSK with pre-publication and IpubC + Dreg for a KSK or CSK
 * with double-KSK.  Double-DS waits for the new DS to reach caches, and
 * double-RRSIG for the new signatures.
 */
int64_t dz_key_rollover_lead(const dz_key_timing_t *timing, dz_key_role_t role, dz_time_t now);

/*
 * Time a rollover of the role takes from its start until the predecessor is
 * completely hidden, assuming the parent acts at once.  The sanity check
 * requires lifetimes of at least this much.
 */
int64_t dz_key_rollover_duration(const dz_key_timing_t *timing, dz_key_role_t role,
				 dz_time_t now);

#endif
