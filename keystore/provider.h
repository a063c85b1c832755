/*
 * provider.h -- where keys come from: a small interface over the key
 * store (the PKCS#11 token in the daemon, a simulation in tests and in
 * `danezone rollover plan`).
 *
 * The key manager uses a provider to generate a key pair for a policy key
 * slot, to check that a private key can sign right now, and to delete a key
 * pair that is no longer referenced anywhere.  It never sees private key
 * material.  Providers are called from the thread that owns the key
 * manager; a provider shared by several managers must lock internally.
 */
#ifndef DZ_KEYSTORE_PROVIDER_H
#define DZ_KEYSTORE_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/policy.h"
#include "keystore/keyset.h"

/* A generated key pair, as the key manager records it. */
typedef struct dz_key_material {
	uint8_t key_id[DZ_KEY_ID_MAX];	       /* CKA_ID */
	size_t key_id_len;
	uint8_t public_key[DZ_PUBLIC_KEY_MAX]; /* DNSKEY public key field */
	size_t public_key_len;
	bool backup_required;		       /* keep records from omnipresent until backed up */
} dz_key_material_t;

typedef struct dz_key_provider_ops {
	/*
	 * Generate a key pair for `zone` (presentation form) with the slot's
	 * role, algorithm, size and token at time `now`, and fill *out.  HSM
	 * failures return a DZ_EHSM* code with a message naming the token.
	 */
	dz_result_t (*generate)(void *ctx, const char *zone, const dz_policy_key_t *slot,
				dz_time_t now, dz_key_material_t *out, dz_error_t *err);
	/* DZ_OK if the private key can sign now; a DZ_EHSM* code otherwise. */
	dz_result_t (*check)(void *ctx, const char *token, const uint8_t *key_id, size_t key_id_len,
			     dz_error_t *err);
	/* Delete the key pair; DZ_ENOTFOUND (or DZ_EHSM_KEY) if it is already gone. */
	dz_result_t (*remove)(void *ctx, const char *token, const uint8_t *key_id,
			      size_t key_id_len, dz_error_t *err);
	/*
	 * Optional (may be NULL): how many key pairs of `zone` the token has,
	 * so that a missing state file can be distinguished from a new zone.
	 */
	dz_result_t (*count_zone_keys)(void *ctx, const char *zone, size_t *count,
				       dz_error_t *err);
	/*
	 * Optional (may be NULL): record whether the key is published and
	 * whether it signs, so that key ceremonies refuse to delete a key in
	 * use.  Failures are logged by the caller and do not stop a commit.
	 */
	dz_result_t (*record_usage)(void *ctx, const char *token, const uint8_t *key_id,
				    size_t key_id_len, bool published, bool signing,
				    dz_error_t *err);
} dz_key_provider_ops_t;

typedef struct dz_key_provider {
	const dz_key_provider_ops_t *ops;
	void *ctx;
} dz_key_provider_t;

/* ---------------------------------------------------------------------------
 * The PKCS#11 provider: keys in the tokens, made, checked and deleted
 * through each token's sign service (hsm/sign_service.h), so that a
 * process service keeps the login in its signer processes.  Keys are
 * recorded in each token's key registry (hsm/registry.h), which this
 * process writes, so that `danezone key list` shows them and
 * `danezone key delete` rejects those in use.
 */

typedef struct dz_sign_service dz_sign_service_t;

/* One configured token. */
typedef struct dz_key_service_token {
	const char *name;		 /* the name policies use; NULL or "" for the default token */
	dz_sign_service_t *service;	 /* not owned */
	const char *registry_path;	 /* the token's key registry; not owned */
} dz_key_service_token_t;

typedef struct dz_key_service_provider {
	const dz_key_service_token_t *tokens; /* not owned */
	size_t count;
} dz_key_service_provider_t;

/* The provider interface over the tokens (valid while `tokens` lives). */
dz_key_provider_t dz_key_service_provider(dz_key_service_provider_t *tokens);

/* ---------------------------------------------------------------------------
 * The simulated provider: random public keys of the right size, no private
 * keys.  Deterministic for a given seed.  Used by tests and by the rollover
 * plan, which must not touch the token.
 */

typedef struct dz_key_sim dz_key_sim_t;

/* NULL on ENOMEM. */
dz_key_sim_t *dz_key_sim_create(uint64_t seed);
void dz_key_sim_destroy(dz_key_sim_t *sim);

/* The provider interface of the simulation (valid while `sim` lives). */
dz_key_provider_t dz_key_sim_provider(dz_key_sim_t *sim);

/* Time stamped on the deletions the simulation records. */
void dz_key_sim_set_time(dz_key_sim_t *sim, int64_t now);

/* Make generate (and check, and remove) fail with `result` until reset to DZ_OK. */
void dz_key_sim_fail_generate(dz_key_sim_t *sim, dz_result_t result);
void dz_key_sim_fail_check(dz_key_sim_t *sim, dz_result_t result);
void dz_key_sim_fail_remove(dz_key_sim_t *sim, dz_result_t result);

/*
 * Treat keys the simulation did not generate as present and usable (the
 * rollover plan starts from keys that live in the real token).
 */
void dz_key_sim_accept_foreign_keys(dz_key_sim_t *sim, bool accept);

/* Mark the next generated keys as needing a backup. */
void dz_key_sim_require_backup(dz_key_sim_t *sim, bool required);

/*
 * Make the next generate return a copy of `public_key` (for key tag
 * collision tests); later calls are random again.
 */
void dz_key_sim_queue_public_key(dz_key_sim_t *sim, const uint8_t *public_key, size_t len);

/* A deleted key pair with the time of deletion. */
typedef struct dz_key_sim_deletion {
	int64_t time;
	uint8_t key_id[DZ_KEY_ID_MAX];
	size_t key_id_len;
} dz_key_sim_deletion_t;

/* Deletions so far, oldest first; the array stays owned by `sim`. */
const dz_key_sim_deletion_t *dz_key_sim_deletions(const dz_key_sim_t *sim, size_t *count);

/* Number of key pairs generated so far, and of those not deleted. */
size_t dz_key_sim_generated(const dz_key_sim_t *sim);
size_t dz_key_sim_live(const dz_key_sim_t *sim);

/* Public key length a real key of the algorithm and size has (RSA: RFC 3110 form). */
size_t dz_key_public_key_length(uint8_t algorithm, uint16_t bits);

#endif
