/*
 * engine.h -- the key state machine: key planning and the update loop.
 *
 * One run, at time `now`:
 *
 * 1. Planning.  Each key slot of the policy gets one key with goal
 *    omnipresent.  A key whose lifetime ends (or that the operator asked to
 *    roll) gets a successor from the standby keys, and goal hidden.  Keys
 *    that match no slot get goal hidden once every slot has its key.  A
 *    rollover does not start while another one of the same role is
 *    unfinished, unless the operator forced it.
 * 2. The update loop: every record that is not where its key's goal wants
 *    it moves one step when the policy's gates allow it, the move is
 *    DNSSEC-safe (keystore/rules.h) and its wait is over
 *    (keystore/timing.h); repeated until nothing moves.
 * 3. Bookkeeping: what each record still waits for, the next time anything
 *    is due, keys due for deletion from the token, and policy slots that
 *    need a standby key the ring does not have.
 *
 * Transitions are stamped with `now`; the key manager restamps them with the
 * publication time when it commits.  The engine never reads the clock, never
 * talks to the token and never writes files.  Not thread safe per ring.
 */
#ifndef DZ_KEYSTORE_ENGINE_H
#define DZ_KEYSTORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/policy.h"
#include "common/result.h"
#include "keystore/ring.h"
#include "keystore/rules.h"

typedef struct dz_key_engine_params {
	const dz_policy_t *policy;
	uint32_t negative_ttl;	   /* min(SOA TTL, SOA MINIMUM); 0 = unknown */
	/*
	 * Roll algorithms the way BIND 9 does (new DNSKEYs and signatures
	 * together, old signatures withdrawn with the old DNSKEYs) instead of
	 * RFC 6781 section 4.1.4's order (signatures before keys in, keys
	 * before signatures out).  BIND's order fails validators that insist
	 * on every algorithm of the DNSKEY RRset; it exists for comparison.
	 */
	bool bind_algorithm_order;
} dz_key_engine_params_t;

typedef struct dz_key_transition {
	uint32_t key;
	dz_key_record_t record;
	dz_key_state_t from;
	dz_key_state_t to;
} dz_key_transition_t;

/* What a record that is not where its goal wants it waits for. */
typedef enum dz_key_wait {
	DZ_WAIT_TIME,	   /* caches: due at `due` */
	DZ_WAIT_RULES,	   /* moving now would be unsafe; `unsafe` names the rule */
	DZ_WAIT_DS_SEEN,   /* the parent has not been observed serving the DS */
	DZ_WAIT_DS_GONE,   /* the parent has not been observed without the DS */
	DZ_WAIT_METHOD,	   /* the rollover method moves another record first */
	DZ_WAIT_HSM,	   /* the token cannot use the private key */
	DZ_WAIT_BACKUP,	   /* the key's backup is not confirmed */
	DZ_WAIT_OPERATOR,  /* manual mode: waits for an operator step */
	DZ_WAIT_FROZEN,	   /* the clock guard froze all transitions */
} dz_key_wait_t;

typedef struct dz_key_pending {
	uint32_t key;
	dz_key_record_t record;
	dz_key_state_t from;
	dz_key_state_t to;
	dz_key_wait_t wait;
	dz_time_t due;		/* DZ_WAIT_TIME (and DS waits once observed): when */
	dz_key_unsafe_t unsafe; /* DZ_WAIT_RULES: which rule */
} dz_key_pending_t;

/* A rollover the planner started in this run. */
typedef struct dz_key_rollover_start {
	uint32_t predecessor; /* 0 when a new slot or algorithm was introduced */
	uint32_t successor;
	bool requested;	      /* by the operator, not by the lifetime */
} dz_key_rollover_start_t;

typedef struct dz_key_run {
	dz_key_transition_t *transitions;
	size_t transition_count;
	dz_key_pending_t *pending;
	size_t pending_count;
	dz_key_rollover_start_t *started;
	size_t started_count;
	size_t *need_slots;	/* policy slot indexes that need a standby key now */
	size_t need_count;
	uint32_t *purge;	/* keys whose deletion from the token is due */
	size_t purge_count;
	uint32_t *discard;	/* standby keys that match no slot any more */
	size_t discard_count;
	/*
	 * Bit (1 << role) for each role whose due rollover or policy change
	 * waits because a rollover of that role is unfinished.
	 */
	unsigned blocked_roles;
	/*
	 * Earliest time anything is due, or DZ_TIME_NEVER.  It is `now` when
	 * a blocked rollover may start once this run's transitions are committed.
	 */
	dz_time_t next;
	bool step_used;		/* manual mode: an operator step allowed a move */

	/* Capacities, private. */
	size_t transition_cap, pending_cap, started_cap, need_cap, purge_cap, discard_cap;
} dz_key_run_t;

void dz_key_run_init(dz_key_run_t *run);
void dz_key_run_clear(dz_key_run_t *run);

/*
 * Plan keys and move records as far as they may go at `now`, changing
 * `ring` in place and describing the run in `run` (initialised by the
 * caller; reused runs are emptied first).  Keys' `unavailable` flags must be
 * set by the caller.  With the clock guard frozen nothing changes and every
 * pending record waits for DZ_WAIT_FROZEN.  Returns DZ_ENOMEM only; the ring
 * may then be partly updated and must be discarded.
 */
dz_result_t dz_key_engine_run(dz_keyring_t *ring, const dz_key_engine_params_t *params,
			      dz_time_t now, dz_key_run_t *run);

/* Whether a key fits a policy key slot: role, algorithm, size and token. */
bool dz_key_matches_slot(const dz_key_t *key, const dz_policy_key_t *slot);

/*
 * Whether a rollover of `role` is unfinished: a retiring key of that role
 * still has a record other than hidden, apart from a DS that only waits for
 * the parent to remove it.
 */
bool dz_key_rollover_unfinished(const dz_keyring_t *ring, dz_key_role_t role);

/* Text for a wait, e.g. "waiting for the parent to serve the DS". */
const char *dz_key_wait_text(dz_key_wait_t wait);

#endif
