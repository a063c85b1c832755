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

/* Stop workers, close sessions and free the service; NULL is ignored. */
void dz_sign_service_destroy(dz_sign_service_t *service);

#endif
