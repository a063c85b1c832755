/*
 * simulate.h -- the schedule of coming key events, computed by the key
 * manager itself on a simulated clock (`danezone rollover plan`).
 *
 * The simulation starts from a copy of a zone's key state and runs the
 * same planning and update loop as the daemon, with keys from the
 * simulated provider (the token is not touched).  It assumes that the
 * parent serves a requested DS, and drops a withdrawn one, as soon as the
 * rules allow (a withdrawal counts after the registration delay), and that
 * every published zone version reaches the primary at once.  A slower
 * parent only delays the events that follow its step.  With `full_resign`
 * the signer is assumed to re-sign the whole zone whenever the signing keys
 * change, as danezone's signer does.  Without it, signatures are replaced
 * gradually at their refresh, which is the slowest case.
 */
#ifndef DZ_KEYSTORE_SIMULATE_H
#define DZ_KEYSTORE_SIMULATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/policy.h"
#include "keystore/engine.h"
#include "keystore/ring.h"

typedef enum dz_key_plan_event_kind {
	DZ_PLAN_TRANSITION,	/* a record changes state */
	DZ_PLAN_ROLLOVER,	/* a rollover starts: `key` replaces `predecessor` */
	DZ_PLAN_NEW_KEY,	/* a key is introduced without a predecessor */
	DZ_PLAN_PURGE,		/* a key is deleted from the token */
	DZ_PLAN_DS_SEEN,	/* assumed: the parent serves the new DS */
	DZ_PLAN_DS_GONE,	/* assumed: the parent no longer serves the DS */
} dz_key_plan_event_kind_t;

typedef struct dz_key_plan_event {
	dz_key_plan_event_kind_t kind;
	dz_time_t time;
	const dz_key_t *key;	      /* the key, valid during the callback */
	const dz_key_t *predecessor;  /* DZ_PLAN_ROLLOVER: the key replaced; may be NULL */
	dz_key_record_t record;	      /* DZ_PLAN_TRANSITION */
	dz_key_state_t from;
	dz_key_state_t to;
} dz_key_plan_event_t;

typedef void (*dz_key_plan_event_fn)(const dz_key_plan_event_t *event, void *ctx);

/*
 * Simulate from `from` to `until` (inclusive), starting with a copy of
 * `ring` (not changed), and call `fn` for every event in time order.
 * Keys the simulation generates have made-up public keys and tags.  Stops
 * early when nothing is due any more.  DZ_ENOMEM, or DZ_ESTATE with the
 * reason when the ring's clock guard has frozen transitions.
 */
dz_result_t dz_key_simulate(const dz_keyring_t *ring, const dz_policy_t *policy,
			    uint32_t negative_ttl, dz_time_t from, dz_time_t until,
			    bool full_resign, dz_key_plan_event_fn fn, void *ctx,
			    dz_error_t *err);

#endif
