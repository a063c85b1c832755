/*
 * sign_service_keys.c -- the key operations of sign_service.h as key
 * requests (sign_protocol.h), which each kind of service carries out.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "hsm/sign_protocol.h"
#include "hsm/sign_service_impl.h"

_Static_assert(DZ_SIGN_PUBLIC_KEY_MAX == DZ_HSM_PUBLIC_KEY_MAX,
	       "a generated public key fits dz_sign_key_t");

/* Send a request; returns the response's result, with its message in err. */
static dz_result_t
call(dz_sign_service_t *service, const dz_hsm_key_request_t *request,
     dz_hsm_key_response_t *response, dz_error_t *err)
{
	dz_result_t result = service->ops->key(service, request, response, err);

	if (result != DZ_OK)
		return result;
	if (response->result != DZ_OK)
		return dz_error_set(err, response->result, "%s",
				    response->message[0] != '\0' ? response->message :
								   dz_result_text(response->result));
	return DZ_OK;
}

static dz_result_t
check_key_id(size_t key_id_len, dz_error_t *err)
{
	if (key_id_len == 0 || key_id_len > DZ_KEY_ID_MAX)
		return dz_error_set(err, DZ_EINVAL, "a CKA_ID of %zu bytes is not 1 to %d",
				    key_id_len, DZ_KEY_ID_MAX);
	return DZ_OK;
}

dz_result_t
dz_sign_service_describe(dz_sign_service_t *service, dz_sign_token_t *out, dz_error_t *err)
{
	dz_hsm_key_request_t request = { .type = DZ_HSM_MSG_INFO };
	dz_hsm_key_response_t response;
	dz_result_t result = call(service, &request, &response, err);

	if (result != DZ_OK)
		return result;
	memset(out, 0, sizeof(*out));
	snprintf(out->module, sizeof(out->module), "%s", response.module);
	snprintf(out->label, sizeof(out->label), "%s", response.token.label);
	snprintf(out->serial, sizeof(out->serial), "%s", response.token.serial);
	snprintf(out->manufacturer, sizeof(out->manufacturer), "%s", response.token.manufacturer);
	snprintf(out->model, sizeof(out->model), "%s", response.token.model);
	return DZ_OK;
}

dz_result_t
dz_sign_service_generate_key(dz_sign_service_t *service, const dz_sign_keygen_t *keygen,
			     dz_sign_key_t *out, dz_error_t *err)
{
	dz_hsm_key_request_t request = { .type = DZ_HSM_MSG_GENERATE };
	dz_hsm_key_response_t response;

	if (keygen->bits > UINT16_MAX || strlen(keygen->zone) > DZ_HSM_MSG_ZONE_MAX ||
	    strlen(keygen->label) >= sizeof(request.label))
		return dz_error_set(err, DZ_EINVAL,
				    "key pair for zone %s: the size, zone name or label is too long",
				    keygen->zone);
	request.role = keygen->role;
	request.algorithm = keygen->algorithm;
	request.bits = (uint16_t)keygen->bits;
	snprintf(request.zone, sizeof(request.zone), "%s", keygen->zone);
	snprintf(request.label, sizeof(request.label), "%s", keygen->label);
	dz_result_t result = call(service, &request, &response, err);
	if (result != DZ_OK)
		return result;
	memset(out, 0, sizeof(*out));
	memcpy(out->key_id, response.key_id, response.key_id_len);
	out->key_id_len = response.key_id_len;
	memcpy(out->public_key, response.public_key, response.public_key_len);
	out->public_key_len = response.public_key_len;
	out->bits = response.bits;
	return DZ_OK;
}

/* CHECK or DELETE of one key. */
static dz_result_t
key_call(dz_sign_service_t *service, dz_hsm_msg_type_t type, const uint8_t *key_id,
	 size_t key_id_len, dz_error_t *err)
{
	dz_hsm_key_request_t request = { .type = type };
	dz_hsm_key_response_t response;

	if (check_key_id(key_id_len, err) != DZ_OK)
		return DZ_EINVAL;
	memcpy(request.key_id, key_id, key_id_len);
	request.key_id_len = key_id_len;
	return call(service, &request, &response, err);
}

dz_result_t
dz_sign_service_check_key(dz_sign_service_t *service, const uint8_t *key_id, size_t key_id_len,
			  dz_error_t *err)
{
	return key_call(service, DZ_HSM_MSG_CHECK, key_id, key_id_len, err);
}

dz_result_t
dz_sign_service_delete_key(dz_sign_service_t *service, const uint8_t *key_id,
			   size_t key_id_len, dz_error_t *err)
{
	return key_call(service, DZ_HSM_MSG_DELETE, key_id, key_id_len, err);
}

dz_result_t
dz_sign_service_label_key(dz_sign_service_t *service, const uint8_t *key_id, size_t key_id_len,
			  const char *label, dz_error_t *err)
{
	dz_hsm_key_request_t request = { .type = DZ_HSM_MSG_LABEL };
	dz_hsm_key_response_t response;

	if (check_key_id(key_id_len, err) != DZ_OK)
		return DZ_EINVAL;
	if (label[0] == '\0' || strlen(label) >= sizeof(request.label))
		return dz_error_set(err, DZ_EINVAL, "a CKA_LABEL of %zu bytes is not 1 to %zu",
				    strlen(label), sizeof(request.label) - 1);
	memcpy(request.key_id, key_id, key_id_len);
	request.key_id_len = key_id_len;
	snprintf(request.label, sizeof(request.label), "%s", label);
	return call(service, &request, &response, err);
}
