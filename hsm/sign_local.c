/*
 * sign_local.c -- the in-process sign service: a pool of PKCS#11 sessions.
 *
 * Each batch signs on one session, so parallelism comes from callers in
 * several threads.  Whether that helps depends on the module.  Measured
 * with `danezone hsm bench --seconds 3 --processes 2` on a 2-core AMD EPYC
 * machine (SoftHSM2 2.6.1, OpenSSL 3.0.19, load average about 1.5 from
 * other jobs), signatures per second:
 *
 *                     1 thread   2 threads (cores busy)   2 processes
 *   ECDSAP256SHA256     23,400     21,400 (1.49)           41,600
 *   ED25519              7,000     10,600 (1.91)           13,500
 *
 * A second thread adds no ECDSA throughput and costs half a core in
 * contention inside the module; EdDSA gains half.  Separate processes
 * scale by about 1.8-1.9, which is why the multi-process service
 * (sign_process.c) exists.  Hardware HSMs that work on several requests at
 * once gain from more sessions here.
 */
#include "config.h"

#include <stdlib.h>

#include "hsm/hsm.h"
#include "hsm/sign_service_impl.h"

typedef struct local_service {
	dz_sign_service_t base;
	dz_hsm_t *hsm;	/* borrowed */
} local_service_t;

static dz_result_t
local_sign(dz_sign_service_t *service, dz_sign_request_t *requests, size_t count,
	   dz_error_t *err)
{
	local_service_t *local = (local_service_t *)service;

	return dz_hsm_sign(local->hsm, requests, count, err);
}

static dz_result_t
local_key(dz_sign_service_t *service, const dz_hsm_key_request_t *request,
	  dz_hsm_key_response_t *response, dz_error_t *err)
{
	local_service_t *local = (local_service_t *)service;

	(void)err;
	dz_hsm_msg_key_execute(local->hsm, request, response, "sign service");
	return DZ_OK;
}

static unsigned
local_parallelism(const dz_sign_service_t *service)
{
	const local_service_t *local = (const local_service_t *)service;

	return dz_hsm_sessions(local->hsm);
}

static void
local_destroy(dz_sign_service_t *service)
{
	free(service);
}

static const dz_sign_service_ops_t local_ops = {
	.sign = local_sign,
	.key = local_key,
	.parallelism = local_parallelism,
	.destroy = local_destroy,
};

dz_result_t
dz_sign_service_create_local(dz_hsm_t *hsm, dz_sign_service_t **out, dz_error_t *err)
{
	local_service_t *local = calloc(1, sizeof(*local));

	if (local == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	local->base.ops = &local_ops;
	local->hsm = hsm;
	*out = &local->base;
	return DZ_OK;
}

dz_result_t
dz_sign_service_sign(dz_sign_service_t *service, dz_sign_request_t *requests, size_t count,
		     dz_error_t *err)
{
	return service->ops->sign(service, requests, count, err);
}

unsigned
dz_sign_service_parallelism(const dz_sign_service_t *service)
{
	return service->ops->parallelism(service);
}

void
dz_sign_service_destroy(dz_sign_service_t *service)
{
	if (service != NULL)
		service->ops->destroy(service);
}
