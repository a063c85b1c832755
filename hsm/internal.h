/*
 * internal.h -- shared between the files of the hsm folder and its unit
 * tests; not for other folders.
 */
#ifndef DZ_HSM_INTERNAL_H
#define DZ_HSM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "common/error.h"
#include "common/log.h"
#include "hsm/hsm.h"
#include "hsm/uri.h"

/*
 * A loaded PKCS#11 module.  One per dlopen handle in the process, shared by
 * reference count, because C_Initialize may be called only once per process.
 */
typedef struct dz_hsm_module {
	char *path;			/* as first given (owned) */
	void *handle;			/* from dlopen */
	CK_FUNCTION_LIST_PTR p11;
	CK_INFO info;
	unsigned refs;
	pid_t pid;			/* process that called C_Initialize */
	bool finalize;			/* we called C_Initialize, so we call C_Finalize */
	struct dz_hsm_module *next;
} dz_hsm_module_t;

/*
 * Load and initialise a module, or take another reference to it.  A module
 * inherited across fork() is initialised again in the child.  Release with
 * dz_hsm_module_release().
 */
dz_result_t dz_hsm_module_acquire(const char *path, dz_hsm_module_t **out, dz_error_t *err);
void dz_hsm_module_release(dz_hsm_module_t *module);

/* Call C_Initialize again after the module reported CKR_CRYPTOKI_NOT_INITIALIZED. */
CK_RV dz_hsm_module_reinitialize(dz_hsm_module_t *module);

/*
 * Finalise the module and initialise it again, so that it reads its slots
 * and tokens anew.  Every session of this process to the module is closed
 * by that, and other connections recover theirs on their next call.
 */
CK_RV dz_hsm_module_restart(dz_hsm_module_t *module);

/* Tokens of a loaded module; the caller frees *tokens. */
dz_result_t dz_hsm_module_tokens(dz_hsm_module_t *module, dz_hsm_token_info_t **tokens,
				 size_t *count, dz_error_t *err);

/*
 * Find the one initialised token that matches spec (NULL: the only one).
 * DZ_EHSM_TOKEN lists the tokens present.
 */
dz_result_t dz_hsm_module_find_token(dz_hsm_module_t *module, const dz_hsm_token_spec_t *spec,
				     dz_hsm_token_info_t *out, dz_error_t *err);

/* Text fields of CK_TOKEN_INFO without their space padding. */
void dz_hsm_token_info_from(dz_hsm_token_info_t *out, CK_SLOT_ID slot, const CK_TOKEN_INFO *info);

/* Copy a space-padded PKCS#11 text field into a NUL-terminated string of size + 1 bytes. */
void dz_hsm_trim_field(char *out, const unsigned char *field, size_t size);

/*
 * Set err from a failed PKCS#11 call: the formatted text, then the CKR_
 * name, then a hint for the result class.  Returns the mapped result.
 */
dz_result_t dz_hsm_fail(dz_error_t *err, CK_RV rv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* DNSSEC algorithm of an EC or EdDSA key from its CKA_EC_PARAMS (DER); 0 if unknown. */
uint8_t dz_hsm_curve_algorithm(const uint8_t *params, size_t len);

/* CKA_EC_PARAMS for generating a key of `algorithm`; NULL for RSA and unknown ones. */
const uint8_t *dz_hsm_curve_params(uint8_t algorithm, size_t *len);

/* A private key in the index, with its object handles. */
typedef struct dz_hsm_key_entry {
	dz_hsm_key_t info;
	CK_KEY_TYPE key_type;
	CK_OBJECT_HANDLE private_handle;
	CK_OBJECT_HANDLE public_handle;	/* CK_INVALID_HANDLE when there is none */
	bool duplicate_id;		/* another private key has the same CKA_ID */
} dz_hsm_key_entry_t;

/* Signing mechanisms the token offers. */
typedef struct dz_hsm_mechanisms {
	bool rsa_pkcs;
	bool sha256_rsa_pkcs;
	bool sha512_rsa_pkcs;
	bool ecdsa;
	bool eddsa;
	bool rsa_generate;
	bool ec_generate;
	bool edwards_generate;
	CK_ULONG rsa_min_bits, rsa_max_bits;	/* 0, 0 when the token does not say */
	CK_ULONG ec_max_bits;			/* largest curve of CKM_EC_KEY_PAIR_GEN, or 0 */
	CK_ULONG edwards_max_bits;		/* the same for CKM_EC_EDWARDS_KEY_PAIR_GEN */
	CK_MECHANISM_TYPE *list;	/* every mechanism, for messages (owned) */
	CK_ULONG count;
} dz_hsm_mechanisms_t;

struct dz_hsm {
	dz_hsm_module_t *module;
	CK_FUNCTION_LIST_PTR p11;
	dz_hsm_token_spec_t spec;
	char *pin_file;			/* read at every login (owned) */
	dz_hsm_token_info_t token;

	/*
	 * Read: signing and index lookups.  Write: recovery, index rebuilds and
	 * key changes, which therefore wait for running signatures.
	 */
	pthread_rwlock_t lock;
	unsigned generation;		/* recoveries so far; guards against recovering twice */
	bool failed;			/* a login failed: refuse everything (never retry a PIN) */
	dz_error_t failure;
	dz_log_condition_t session_lost; /* logged when it starts and when it ends */
	struct timespec last_missing_refresh; /* monotonic time of the last rebuild for an
						 unknown key; zero before the first */

	/* Sessions: sessions[i] is in use while busy[i]. */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	CK_SESSION_HANDLE *sessions;
	bool *busy;
	unsigned session_count;

	/* Private keys sorted by CKA_ID. */
	dz_hsm_key_entry_t *keys;
	size_t key_count;

	dz_hsm_mechanisms_t mechanisms;
	EVP_MD *sha256;
	EVP_MD *sha384;
	EVP_MD *sha512;
};

/*
 * An operation on the token with one session.  On a PKCS#11 failure it sets
 * *rv to the failed call's return value, so the caller can tell whether
 * recovering the session may help.
 */
typedef dz_result_t (*dz_hsm_op_fn)(dz_hsm_t *hsm, CK_SESSION_HANDLE session, void *ctx,
				    CK_RV *rv, dz_error_t *err);

/*
 * Run op under the write lock on the first session, or under the read lock
 * on a free session of the pool.  When op fails because the session was
 * lost or a handle went stale, recover and run it once more.
 */
dz_result_t dz_hsm_run_exclusive(dz_hsm_t *hsm, dz_hsm_op_fn op, void *ctx, dz_error_t *err);
dz_result_t dz_hsm_run_shared(dz_hsm_t *hsm, dz_hsm_op_fn op, void *ctx, dz_error_t *err);

/* Rebuild the key index on `session`; the caller holds the write lock. */
dz_result_t dz_hsm_index_keys(dz_hsm_t *hsm, CK_SESSION_HANDLE session, CK_RV *rv,
			      dz_error_t *err);

/* Find the entry with this CKA_ID; the caller holds the lock.  NULL if none. */
dz_hsm_key_entry_t *dz_hsm_index_find(dz_hsm_t *hsm, const uint8_t *id, size_t id_len);

/*
 * Rebuild the index after a lookup missed a key, unless it was rebuilt less
 * than a second ago (unknown ids in requests must not cause a rebuild each).
 * The caller holds no lock.
 */
dz_result_t dz_hsm_refresh_for_missing_key(dz_hsm_t *hsm, dz_error_t *err);

/* DZ_EINVAL, naming both, unless the key can make signatures of `algorithm`. */
dz_result_t dz_hsm_check_key_algorithm(dz_hsm_t *hsm, const dz_hsm_key_entry_t *entry,
				       uint8_t algorithm, dz_error_t *err);

/* Query the token's mechanisms into hsm->mechanisms; the caller holds the write lock. */
dz_result_t dz_hsm_load_mechanisms(dz_hsm_t *hsm, CK_RV *rv, dz_error_t *err);

/*
 * Reopen the sessions, log in and rebuild the index after a session was
 * lost (`rv`), unless another thread did so since `seen_generation`.  Takes
 * the write lock; the caller holds no lock.
 */
dz_result_t dz_hsm_recover(dz_hsm_t *hsm, unsigned seen_generation, CK_RV rv, dz_error_t *err);

/* Take a free session (waits for one); the caller holds the read lock. */
unsigned dz_hsm_session_take(dz_hsm_t *hsm);
void dz_hsm_session_give(dz_hsm_t *hsm, unsigned index);

#endif
