/*
 * sign_service.h -- the one narrow interface through which every DNSSEC
 * signature is made: signed data in, signature out.
 *
 * The signer never talks to PKCS#11 directly.  It hands batches of requests
 * to a sign service, which may be a pool of PKCS#11 sessions in this process
 * or a set of signer processes, each with its own login to the token (that
 * is how signing scales past a module that serialises inside one process,
 * and how the daemon keeps the token out of the network-facing process).
 */
#ifndef DZ_HSM_SIGN_SERVICE_H
#define DZ_HSM_SIGN_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Largest DNSSEC signature: RSA with a 4096-bit modulus. */
#define DZ_SIGNATURE_MAX 512
/* Largest CKA_ID we create or accept. */
#define DZ_KEY_ID_MAX 64
/* Largest DNSKEY public key field: RSA 4096 with a 4-byte exponent (RFC 3110). */
#define DZ_SIGN_PUBLIC_KEY_MAX 600

typedef struct dz_sign_request {
	/* In: the private key, by CKA_ID, and its DNSSEC algorithm. */
	uint8_t key_id[DZ_KEY_ID_MAX];
	size_t key_id_len;
	uint8_t algorithm;
	/* In: the data to sign (RFC 4034 section 3.1.8.1: RRSIG RDATA without
	 * the signature, then the RRset in canonical form).  Not owned. */
	const uint8_t *data;
	size_t data_len;
	/* Out: the signature in DNSSEC wire form (RFC 3110, RFC 6605, RFC 8080). */
	uint8_t signature[DZ_SIGNATURE_MAX];
	size_t signature_len;
	/* Out: DZ_OK or why this request failed. */
	dz_result_t result;
} dz_sign_request_t;

typedef struct dz_sign_service dz_sign_service_t;

/* From hsm/hsm.h; repeated so that signers need not include it. */
typedef struct dz_hsm dz_hsm_t;
struct dz_hsm_config;

/*
 * Create a service that signs in this process on the sessions of `hsm`,
 * which the service borrows: it must outlive the service.  Each call of
 * dz_sign_service_sign() takes one session for its whole batch, so up to
 * dz_hsm_sessions(hsm) calls sign at the same time (from as many threads).
 * On success the caller owns *out.
 */
dz_result_t dz_sign_service_create_local(dz_hsm_t *hsm, dz_sign_service_t **out,
					 dz_error_t *err);

/*
 * Create a service of `processes` signer processes, forked now.  Each loads
 * the module, logs in to the token of `config` with one session and serves
 * typed requests over a socketpair.  The processes start one after the
 * other and creation stops at the first that fails, so a wrong PIN is tried
 * once, not once per process.  Batches are split across the processes and
 * pipelined; several threads may sign at once.
 *
 * Call it before this process starts threads of its own (fork() copies only
 * the calling thread).  The module may already be loaded here: the
 * children initialise it again.  On success the caller owns *out; destroying
 * it ends the processes.
 */
dz_result_t dz_sign_service_create_processes(const struct dz_hsm_config *config,
					     unsigned processes, dz_sign_service_t **out,
					     dz_error_t *err);

struct dz_privdrop_target;

/*
 * As dz_sign_service_create_processes(), and each signer process that runs
 * as root switches to `drop` (common/privdrop.h) right after its login, so
 * that a signer process keeps its token session but not root.  The token's
 * files must stay readable and writable by that user, because the module
 * may read them again while signing.  A failed switch fails the creation
 * with the signer process's DZ_EPERM message.  `drop` may be NULL.
 */
dz_result_t dz_sign_service_create_processes_as(const struct dz_hsm_config *config,
						unsigned processes,
						const struct dz_privdrop_target *drop,
						dz_sign_service_t **out, dz_error_t *err);

/*
 * Sign `count` requests, in parallel where the service can.  Returns DZ_OK
 * when every request succeeded; otherwise the first failure, with err
 * describing it, and each request's `result` says which ones failed.
 * Thread safe: several threads may call it at once.
 */
dz_result_t dz_sign_service_sign(dz_sign_service_t *service, dz_sign_request_t *requests,
				 size_t count, dz_error_t *err);

/* How many signatures the service can compute at the same time. */
unsigned dz_sign_service_parallelism(const dz_sign_service_t *service);

/* ---------------------------------------------------------------------------
 * Key operations.  A process service sends them to one of its signer
 * processes, so that the caller needs no login of its own; the local
 * service runs them on its connection.  Failures of the token return its
 * DZ_EHSM* code with the token's message; a signer process that stopped
 * returns DZ_EHSM_SESSION.  Thread safe like dz_sign_service_sign().
 */

/* The module and token of a service, as the start-up log shows them. */
typedef struct dz_sign_token {
	char module[256];	/* "SoftHSM 2.6 (SoftHSM, PKCS#11 2.40)" */
	char label[33];
	char serial[17];
	char manufacturer[33];
	char model[17];
} dz_sign_token_t;

/* Describe the module and token the service signs with. */
dz_result_t dz_sign_service_describe(dz_sign_service_t *service, dz_sign_token_t *out,
				     dz_error_t *err);

/* A key pair to generate; `zone` and `role` (DZ_ROLE_*) name it in the log. */
typedef struct dz_sign_keygen {
	const char *zone;
	uint8_t role;
	uint8_t algorithm;
	unsigned bits;		/* RSA modulus; 0 for other algorithms */
	const char *label;	/* CKA_LABEL of both objects */
} dz_sign_keygen_t;

/* A generated key pair. */
typedef struct dz_sign_key {
	uint8_t key_id[DZ_KEY_ID_MAX];	/* CKA_ID */
	size_t key_id_len;
	uint8_t public_key[DZ_SIGN_PUBLIC_KEY_MAX]; /* DNSKEY public key field */
	size_t public_key_len;
	unsigned bits;			/* RSA modulus or curve size */
} dz_sign_key_t;

/* Generate a key pair in the token (dz_hsm_generate_key()) and read its public key. */
dz_result_t dz_sign_service_generate_key(dz_sign_service_t *service,
					 const dz_sign_keygen_t *request, dz_sign_key_t *out,
					 dz_error_t *err);

/* DZ_OK if the token has a private key with this CKA_ID; DZ_EHSM_KEY if not. */
dz_result_t dz_sign_service_check_key(dz_sign_service_t *service, const uint8_t *key_id,
				      size_t key_id_len, dz_error_t *err);

/* Delete the key pair with this CKA_ID (dz_hsm_delete_key()). */
dz_result_t dz_sign_service_delete_key(dz_sign_service_t *service, const uint8_t *key_id,
				       size_t key_id_len, dz_error_t *err);

/* Set CKA_LABEL of both objects of a key pair. */
dz_result_t dz_sign_service_label_key(dz_sign_service_t *service, const uint8_t *key_id,
				      size_t key_id_len, const char *label, dz_error_t *err);

/* Stop workers, close sessions and free the service; NULL is ignored. */
void dz_sign_service_destroy(dz_sign_service_t *service);

#endif
