/*
 * manager.h -- the key manager of one zone: what the daemon calls.
 *
 * Key states describe what resolvers may have cached, so they may only
 * change together with the zone version that publishes the change.  The
 * daemon therefore drives each key event in three steps:
 *
 *   dz_key_manager_prepare(mgr, now, &plan)   compute the next states and
 *                                             the key set they imply
 *   (the signer signs and publishes the zone with dz_key_plan_keyset(plan))
 *   dz_key_manager_commit(mgr, plan, &info)   record the states, stamped
 *                                             with the publication time
 *
 * If publication fails, the daemon destroys the plan without committing and
 * the states stay as they were.  It calls prepare again at
 * dz_key_plan_next_event(plan), after any operator command, after a
 * parent check, and after a restart.
 *
 * At start-up, after a crash between publication and commit, the daemon
 * passes the key set of the zone version it actually serves to
 * dz_key_manager_reconcile() before the first prepare.
 *
 * New key pairs are generated before a plan is computed and recorded at
 * once as standby keys: a standby key is in no published record, so
 * recording it early is safe, and a crash never generates a second one.
 *
 * One manager per zone; not thread safe.  The provider is called from the
 * thread that calls the manager.
 */
#ifndef DZ_KEYSTORE_MANAGER_H
#define DZ_KEYSTORE_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/policy.h"
#include "keystore/engine.h"
#include "keystore/keyset.h"
#include "keystore/provider.h"
#include "keystore/ring.h"

typedef struct dz_key_manager dz_key_manager_t;
typedef struct dz_key_plan dz_key_plan_t;

typedef struct dz_key_manager_config {
	const char *zone;	    /* origin, presentation form */
	const char *state_dir;	    /* folder of the state file; NULL keeps state in memory only */
	const dz_policy_t *policy;  /* copied */
	uint32_t negative_ttl;	    /* min(SOA TTL, SOA MINIMUM) of the zone; 0 = unknown */
	dz_key_provider_t provider; /* not owned; must outlive the manager */
	/*
	 * The zone was signed before (its signed zone file has DNSKEYs, for
	 * example): a missing state file then halts key management instead
	 * of starting over with new keys.  A provider that counts the zone's
	 * keys in the token detects this too.
	 */
	bool expect_state;
	bool bind_algorithm_order;  /* see dz_key_engine_params_t; tests only */
} dz_key_manager_config_t;

/*
 * Create the manager and load the zone's state file if there is one.
 * A missing state file for a zone that had keys (expect_state, or keys of
 * the zone in the token) does not fail: the manager starts halted, plans
 * no keys, deletes none, and every prepare returns DZ_ESTATE with the
 * reason until the state file is restored.  A damaged state file fails
 * with DZ_ESYNTAX naming the line.
 */
dz_result_t dz_key_manager_create(const dz_key_manager_config_t *config,
				  dz_key_manager_t **out, dz_error_t *err);

/* Free the manager; NULL is ignored.  Outstanding plans must be destroyed first. */
void dz_key_manager_destroy(dz_key_manager_t *mgr);

/*
 * Replace the policy (configuration reload) and the zone's negative TTL.
 * The caller checks the policy with dz_key_policy_check() first.  Takes
 * effect at the next prepare; states are never changed directly.
 */
dz_result_t dz_key_manager_set_policy(dz_key_manager_t *mgr, const dz_policy_t *policy,
				      uint32_t negative_ttl, dz_error_t *err);

/* Whether key management is halted, and why (NULL when not halted). */
const char *dz_key_manager_halted(const dz_key_manager_t *mgr);

/*
 * Compute the next states at `now`: generate standby keys the policy wants
 * (recording them at once), plan rollovers and move records.  On success
 * *plan receives a new plan, to be committed or destroyed.  DZ_ESTATE when
 * halted; an HSM failure never fails prepare (the affected keys wait and
 * the failure is logged until it clears).
 */
dz_result_t dz_key_manager_prepare(dz_key_manager_t *mgr, dz_time_t now, dz_key_plan_t **plan,
				   dz_error_t *err);

/* What the signer must publish and sign with for the plan's states (owned by the plan). */
const dz_keyset_t *dz_key_plan_keyset(const dz_key_plan_t *plan);

/* Whether the plan's key set differs from the one last committed. */
bool dz_key_plan_changes_keyset(const dz_key_plan_t *plan);

/* Earliest time anything is due after the plan; DZ_TIME_NEVER if nothing is. */
dz_time_t dz_key_plan_next_event(const dz_key_plan_t *plan);

/* The engine's account of the plan: transitions, pending records, rollovers started. */
const dz_key_run_t *dz_key_plan_run(const dz_key_plan_t *plan);

/* The plan's key ring (the states after the plan). */
const dz_keyring_t *dz_key_plan_ring(const dz_key_plan_t *plan);

/* Free a plan; NULL is ignored. */
void dz_key_plan_destroy(dz_key_plan_t *plan);

typedef struct dz_key_commit {
	/*
	 * When the primary accepted the zone version of the plan; transitions
	 * are stamped with it (never earlier than the plan's `now`).
	 */
	dz_time_t published_at;
	/*
	 * The version completes a full re-sign: every RRset other than
	 * DNSKEY, CDS and CDNSKEY carries a signature of each key whose
	 * ZRRSIG is rumoured or omnipresent and no signature of another key.
	 * Without it, ZRRSIG moves wait for the signing delay as well.
	 */
	bool full_resign;
} dz_key_commit_t;

/*
 * Record the plan's states as published: restamp its transitions, delete
 * purged keys from the token, write the state file (merging operator
 * requests written meanwhile) and log every transition once with the zone,
 * the key tag and the next planned event.  On failure the manager's states
 * are unchanged and the plan may be committed again or destroyed.  A plan
 * may be committed once.
 */
dz_result_t dz_key_manager_commit(dz_key_manager_t *mgr, dz_key_plan_t *plan,
				  const dz_key_commit_t *info, dz_error_t *err);

/* The committed key ring and the key set last committed. */
const dz_keyring_t *dz_key_manager_ring(const dz_key_manager_t *mgr);
const dz_keyset_t *dz_key_manager_keyset(const dz_key_manager_t *mgr);
const dz_policy_t *dz_key_manager_policy(const dz_key_manager_t *mgr);

/*
 * Align the states with the zone version actually served (after a crash
 * between publication and commit, or a restored state file), following
 * the conservative rules: a record served but recorded hidden or
 * unretentive becomes rumoured, a record recorded rumoured or omnipresent
 * but not served becomes unretentive, both as of `now`.  Nothing moves
 * toward omnipresent or hidden.  Keys are matched by CKA_ID.  Writes the
 * state file if anything changed and logs each change.
 */
dz_result_t dz_key_manager_reconcile(dz_key_manager_t *mgr, const dz_keyset_t *served,
				     dz_time_t now, dz_error_t *err);

/*
 * A full re-sign that replaced every RRSIG according to the current
 * ZRRSIG states completed and was published at `completed`.
 */
dz_result_t dz_key_manager_note_full_resign(dz_key_manager_t *mgr, dz_time_t completed,
					    dz_error_t *err);

/*
 * Operator requests (keystore/operator.h), written through to the state
 * file under its lock.  `key` is a tag or "#NUMBER".
 */
dz_result_t dz_key_manager_ds_seen(dz_key_manager_t *mgr, const char *key, dz_time_t when,
				   dz_time_t now, dz_error_t *err);
dz_result_t dz_key_manager_ds_gone(dz_key_manager_t *mgr, const char *key, dz_time_t when,
				   dz_time_t now, dz_error_t *err);
dz_result_t dz_key_manager_request_rollover(dz_key_manager_t *mgr, const char *key,
					    dz_time_t when, bool force, dz_time_t now,
					    dz_error_t *err);
dz_result_t dz_key_manager_confirm_backup(dz_key_manager_t *mgr, const char *key,
					  dz_error_t *err);
dz_result_t dz_key_manager_step(dz_key_manager_t *mgr, dz_error_t *err);

/*
 * Apply `fn` to the committed ring and write the result through to the
 * state file under its lock (re-reading the file first, so changes made by
 * other processes are kept).  For operator-owned fields only.
 */
typedef dz_result_t (*dz_key_ring_edit_fn)(dz_keyring_t *ring, void *ctx, dz_error_t *err);
dz_result_t dz_key_manager_edit(dz_key_manager_t *mgr, dz_key_ring_edit_fn fn, void *ctx,
				dz_error_t *err);

#endif
