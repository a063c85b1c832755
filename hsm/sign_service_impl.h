/*
 * sign_service_impl.h -- what each kind of sign service provides; for the
 * files of the hsm folder only.
 */
#ifndef DZ_HSM_SIGN_SERVICE_IMPL_H
#define DZ_HSM_SIGN_SERVICE_IMPL_H

#include "hsm/sign_protocol.h"
#include "hsm/sign_service.h"

typedef struct dz_sign_service_ops {
	dz_result_t (*sign)(dz_sign_service_t *service, dz_sign_request_t *requests,
			    size_t count, dz_error_t *err);
	/*
	 * Carry out a key request and fill *response.  Returns DZ_OK when the
	 * response arrived, whatever its result; otherwise why it did not.
	 */
	dz_result_t (*key)(dz_sign_service_t *service, const dz_hsm_key_request_t *request,
			   dz_hsm_key_response_t *response, dz_error_t *err);
	unsigned (*parallelism)(const dz_sign_service_t *service);
	void (*destroy)(dz_sign_service_t *service);
} dz_sign_service_ops_t;

/* The first member of every service. */
struct dz_sign_service {
	const dz_sign_service_ops_t *ops;
};

#endif
