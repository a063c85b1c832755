/*
 * The sign backend of the programs: the sign service.  In its own file so
 * that code using only signer/sign.c links without an HSM implementation.
 */
#include "config.h"

#include "signer/sign.h"

static dz_result_t
service_sign(void *ctx, dz_sign_request_t *requests, size_t count, dz_error_t *err)
{
	return dz_sign_service_sign(ctx, requests, count, err);
}

dz_sign_backend_t
dz_sign_backend_service(dz_sign_service_t *service)
{
	dz_sign_backend_t backend;
	unsigned parallelism = dz_sign_service_parallelism(service);

	backend.sign = service_sign;
	backend.ctx = service;
	backend.parallelism = parallelism > 0 ? parallelism : 1;
	return backend;
}
