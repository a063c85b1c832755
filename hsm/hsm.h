/*
 * hsm.h -- DNSSEC keys that live in a PKCS#11 token.
 *
 * A dz_hsm_t is one logged-in connection to one token: the module loaded
 * with dlopen, a fixed number of read-write sessions, and an in-memory index
 * of the token's private keys by CKA_ID, built by one enumeration when the
 * connection is made.  Private keys are generated inside the token and never
 * leave it; danezone reads only public attributes.
 *
 * The PIN is read from a file (or the URI's pin-source) only while logging
 * in and is wiped right after.  It never appears in a message or log line.
 *
 * Failures of the token itself are reported with these results, each with a
 * message that names the module, token, key or mechanism:
 *   DZ_EHSM_MODULE     module file missing, or not a PKCS#11 module
 *   DZ_EHSM_TOKEN      no token matches (the message lists those present)
 *   DZ_EHSM_PIN        wrong or locked PIN; never retried automatically
 *   DZ_EHSM_FULL       the token has no room (CKR_DEVICE_MEMORY)
 *   DZ_EHSM_KEY        no private key with that CKA_ID
 *   DZ_EHSM_MECHANISM  the token lacks the mechanism, curve or key size
 *   DZ_EHSM_SESSION    the session was closed and could not be reopened
 *   DZ_EHSM            any other PKCS#11 failure (the message names the CKR_ code)
 *
 * Recovery: when an operation finds its session closed, the token removed
 * or the module finalised (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED,
 * CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_USER_NOT_LOGGED_IN,
 * CKR_CRYPTOKI_NOT_INITIALIZED), the connection reopens its sessions, logs
 * in once more with the PIN read again from its file, rebuilds the key
 * index and retries the operation once.  If that login fails on the PIN,
 * the connection stays failed: every later call returns the same error
 * without another login attempt, because tokens lock the PIN after a few
 * failures.  Other recovery failures (token still absent) are tried again
 * by the next call.
 *
 * Thread safety: every function taking a dz_hsm_t may be called from
 * several threads at once.  Signing uses one of the connection's sessions
 * per call, so `sessions` calls can run at the same time; generating,
 * deleting and re-indexing wait for running signatures and block new ones.
 */
#ifndef DZ_HSM_HSM_H
#define DZ_HSM_HSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "hsm/sign_service.h"

/* Length of the CKA_ID danezone gives new keys (random bytes). */
#define DZ_HSM_NEW_KEY_ID_LEN 16
/* Size of a buffer for a key's CKA_LABEL, with its NUL. */
#define DZ_HSM_KEY_LABEL_MAX 320
/* Largest DNSKEY public key field: RSA 4096 with a 4-byte exponent (RFC 3110). */
#define DZ_HSM_PUBLIC_KEY_MAX 600
/* Smallest and largest RSA modulus danezone generates, in bits. */
#define DZ_HSM_RSA_BITS_MIN 2048
#define DZ_HSM_RSA_BITS_MAX 4096

/* Where the token is and how to log in to it. */
typedef struct dz_hsm_config {
	/* Path of the PKCS#11 module; NULL for DZ_DEFAULT_PKCS11_MODULE (SoftHSM2). */
	const char *module_path;
	/*
	 * The token: its label, or an RFC 7512 URI ("pkcs11:token=...;serial=...").
	 * NULL selects the only initialised token and fails if there are several.
	 */
	const char *token;
	/* File that contains the user PIN; NULL when the URI has a pin-source. */
	const char *pin_file;
	/* Number of sessions for parallel signing; 0 means 1. */
	unsigned sessions;
} dz_hsm_config_t;

/* A token as C_GetTokenInfo describes it, with the padding trimmed. */
typedef struct dz_hsm_token_info {
	unsigned long slot;
	char label[33];
	char serial[17];
	char manufacturer[33];
	char model[17];
	bool initialized;	/* CKF_TOKEN_INITIALIZED */
	bool user_pin_initialized;
} dz_hsm_token_info_t;

/* A private key in the token, with what danezone derives from its attributes. */
typedef struct dz_hsm_key {
	uint8_t id[DZ_KEY_ID_MAX];	/* CKA_ID */
	size_t id_len;
	char label[DZ_HSM_KEY_LABEL_MAX]; /* CKA_LABEL, "" if none */
	/*
	 * DNSSEC algorithm that matches the key type and curve (RSA keys get
	 * RSASHA256, though they may also sign RSASHA512); 0 if the key is not
	 * usable for DNSSEC.
	 */
	uint8_t algorithm;
	unsigned bits;			/* RSA modulus or curve size */
	bool has_public_key;		/* a public key object with the same CKA_ID exists */
} dz_hsm_key_t;

typedef struct dz_hsm dz_hsm_t;

/*
 * Load the module, select the token, open the sessions, log in and index the
 * private keys.  On success the caller owns *out and frees it with
 * dz_hsm_destroy().
 */
dz_result_t dz_hsm_create(const dz_hsm_config_t *config, dz_hsm_t **out, dz_error_t *err);

/* Close the sessions and release the module; NULL is ignored.  Not concurrent with other calls. */
void dz_hsm_destroy(dz_hsm_t *hsm);

/*
 * The selected token, as found at creation or by the last recovery (a
 * token inserted again may sit in another slot).  Valid until
 * dz_hsm_destroy().
 */
const dz_hsm_token_info_t *dz_hsm_token(const dz_hsm_t *hsm);

/* Path of the loaded module; valid until dz_hsm_destroy(). */
const char *dz_hsm_module_path(const dz_hsm_t *hsm);

/*
 * Describe the module for start-up banners: "SoftHSM 2.6 (SoftHSM, PKCS#11
 * 2.40)".  Writes at most `size` bytes including the NUL and returns buf.
 */
const char *dz_hsm_module_describe(const dz_hsm_t *hsm, char *buf, size_t size);

/* Number of sessions, which is how many signatures can run at once. */
unsigned dz_hsm_sessions(const dz_hsm_t *hsm);

/*
 * List the tokens of a module (NULL: the default module), initialised or
 * not.  The caller frees *tokens with free().
 */
dz_result_t dz_hsm_list_tokens(const char *module_path, dz_hsm_token_info_t **tokens,
			       size_t *count, dz_error_t *err);

/*
 * Initialise a new token in the first free slot of a SoftHSM2-like module
 * (C_InitToken, then C_InitPIN): label `label`, security officer PIN from
 * `so_pin_file`, user PIN from `user_pin_file` (both checked like any PIN
 * file).  Fails with DZ_EEXIST if an initialised token already has that
 * label.  On success writes the new token to *out (may be NULL).
 */
dz_result_t dz_hsm_init_token(const char *module_path, const char *label,
			      const char *so_pin_file, const char *user_pin_file,
			      dz_hsm_token_info_t *out, dz_error_t *err);

/*
 * Copy the key index: every private key of the token, sorted by CKA_ID.
 * The caller frees *keys with free().
 */
dz_result_t dz_hsm_list_keys(dz_hsm_t *hsm, dz_hsm_key_t **keys, size_t *count,
			     dz_error_t *err);

/*
 * Look up a private key by CKA_ID in the index.  A key missing from the
 * index makes the index be rebuilt once (another process may have created
 * it).  DZ_EHSM_KEY if there is none; DZ_EINVAL if several private keys
 * share the id.
 */
dz_result_t dz_hsm_find_key(dz_hsm_t *hsm, const uint8_t *id, size_t id_len,
			    dz_hsm_key_t *out, dz_error_t *err);

/* Look up a private key by CKA_LABEL; DZ_EHSM_KEY if none, DZ_EINVAL if several. */
dz_result_t dz_hsm_find_key_by_label(dz_hsm_t *hsm, const char *label, dz_hsm_key_t *out,
				     dz_error_t *err);

/* Rebuild the key index from the token (one enumeration). */
dz_result_t dz_hsm_refresh_keys(dz_hsm_t *hsm, dz_error_t *err);

/*
 * Whether the token offers what a key of `algorithm` needs for generation
 * and signing (and `bits` for RSA, 0 otherwise).  DZ_EHSM_MECHANISM names
 * the missing mechanism and lists those the token offers.
 */
dz_result_t dz_hsm_check_algorithm(dz_hsm_t *hsm, uint8_t algorithm, unsigned bits,
				   dz_error_t *err);

/*
 * Generate a key pair in the token for DNSSEC `algorithm` (`bits` for RSA,
 * DZ_HSM_RSA_BITS_MIN..MAX; 0 for other algorithms).  Both objects get a
 * random CKA_ID of DZ_HSM_NEW_KEY_ID_LEN bytes and CKA_LABEL `label`.  The
 * private key is CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE, not
 * CKA_EXTRACTABLE, and may only sign.  On success writes the new key to
 * *out.
 */
dz_result_t dz_hsm_generate_key(dz_hsm_t *hsm, uint8_t algorithm, unsigned bits,
				const char *label, dz_hsm_key_t *out, dz_error_t *err);

/* Set CKA_LABEL of both objects of a key pair. */
dz_result_t dz_hsm_set_key_label(dz_hsm_t *hsm, const uint8_t *id, size_t id_len,
				 const char *label, dz_error_t *err);

/* Destroy the private key and public key objects with this CKA_ID. */
dz_result_t dz_hsm_delete_key(dz_hsm_t *hsm, const uint8_t *id, size_t id_len,
			      dz_error_t *err);

/*
 * Write the DNSKEY public key field of a key (RFC 3110, RFC 6605, RFC 8080)
 * for DNSSEC `algorithm` into out[DZ_HSM_PUBLIC_KEY_MAX].  Needs the public
 * key object for ECDSA and EdDSA keys; RSA keys also work from the private
 * key's public attributes.
 */
dz_result_t dz_hsm_public_key(dz_hsm_t *hsm, const uint8_t *id, size_t id_len,
			      uint8_t algorithm, uint8_t *out, size_t *out_len,
			      dz_error_t *err);

/*
 * Sign `count` requests (see sign_service.h) on one session of the
 * connection.  Each request gets its own result; the return value is DZ_OK
 * when all succeeded, else the first failure, described in err.
 */
dz_result_t dz_hsm_sign(dz_hsm_t *hsm, dz_sign_request_t *requests, size_t count,
			dz_error_t *err);

/*
 * For benchmarks: sign one fixed message with the key in a tight loop of
 * C_SignInit and C_Sign on one session for `seconds` seconds, with no
 * hashing or format conversion, and return the number of signatures made.
 */
dz_result_t dz_hsm_raw_sign_loop(dz_hsm_t *hsm, const uint8_t *id, size_t id_len,
				 uint8_t algorithm, double seconds, unsigned long *signatures,
				 dz_error_t *err);

/* Format a CKA_ID as lower-case hex into out[2 * DZ_KEY_ID_MAX + 1] and return out. */
const char *dz_hsm_id_hex(const uint8_t *id, size_t id_len, char *out);

/*
 * Read a PIN file: it must pass dz_file_check_private() and hold one line of
 * 1 to `size - 1` bytes (a trailing newline is dropped).  Writes the PIN with
 * a NUL into pin[size] and its length to *len.  The caller wipes pin with
 * dz_secure_zero().  Errors name the file, never its content.
 */
dz_result_t dz_hsm_read_pin_file(const char *path, char *pin, size_t size, size_t *len,
				 dz_error_t *err);

#endif
