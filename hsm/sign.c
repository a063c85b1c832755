/*
 * sign.c -- DNSSEC signatures made in the token.
 *
 * Mechanisms: RSA signs the DER DigestInfo of the SHA-256 or SHA-512 digest
 * with CKM_RSA_PKCS (the hash is computed here, so only 51 or 83 bytes
 * travel to the token), or the data with CKM_SHA256_RSA_PKCS where the token
 * lacks CKM_RSA_PKCS.  ECDSA signs the SHA-256 or SHA-384 digest with
 * CKM_ECDSA.  EdDSA signs the data itself with CKM_EDDSA (pure Ed25519 and
 * Ed448, RFC 8080).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "common/policy.h"
#include "hsm/dnskey.h"
#include "hsm/internal.h"
#include "hsm/rv.h"

/* Room for any signature a module returns, including DER-wrapped ECDSA. */
#define RAW_SIGNATURE_MAX 1024

/* What goes to C_SignInit and C_Sign for one request. */
typedef struct sign_input {
	CK_MECHANISM_TYPE mechanism;
	uint8_t buffer[128];	/* DigestInfo and digest, or a digest */
	const uint8_t *data;
	size_t len;
} sign_input_t;

static dz_result_t
digest(const EVP_MD *md, const uint8_t *data, size_t len, uint8_t *out, size_t *out_len,
       dz_error_t *err)
{
	unsigned n = 0;

	if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
		return dz_error_set(err, DZ_ECRYPTO, "computing the digest to sign failed");
	*out_len = n;
	return DZ_OK;
}

/* Choose the mechanism and compute what the token signs. */
static dz_result_t
prepare_input(dz_hsm_t *hsm, uint8_t algorithm, const uint8_t *data, size_t len,
	      sign_input_t *input, dz_error_t *err)
{
	const dz_hsm_mechanisms_t *m = &hsm->mechanisms;
	const char *name = dz_algorithm_name(algorithm);
	size_t prefix_len = 0, digest_len = 0;
	const uint8_t *prefix;
	dz_result_t result;

	switch (algorithm) {
	case DZ_ALG_RSASHA256:
	case DZ_ALG_RSASHA512:
		if (!m->rsa_pkcs) {
			input->mechanism = algorithm == DZ_ALG_RSASHA256 ? CKM_SHA256_RSA_PKCS :
									   CKM_SHA512_RSA_PKCS;
			if ((algorithm == DZ_ALG_RSASHA256 && !m->sha256_rsa_pkcs) ||
			    (algorithm == DZ_ALG_RSASHA512 && !m->sha512_rsa_pkcs))
				break;
			input->data = data;
			input->len = len;
			return DZ_OK;
		}
		input->mechanism = CKM_RSA_PKCS;
		prefix = dz_hsm_rsa_digest_info_prefix(algorithm, &prefix_len, &digest_len);
		memcpy(input->buffer, prefix, prefix_len);
		result = digest(algorithm == DZ_ALG_RSASHA256 ? hsm->sha256 : hsm->sha512, data,
				len, input->buffer + prefix_len, &digest_len, err);
		input->data = input->buffer;
		input->len = prefix_len + digest_len;
		return result;
	case DZ_ALG_ECDSAP256SHA256:
	case DZ_ALG_ECDSAP384SHA384:
		if (!m->ecdsa)
			break;
		input->mechanism = CKM_ECDSA;
		input->data = input->buffer;
		return digest(algorithm == DZ_ALG_ECDSAP256SHA256 ? hsm->sha256 : hsm->sha384, data,
			      len, input->buffer, &input->len, err);
	case DZ_ALG_ED25519:
	case DZ_ALG_ED448:
		if (!m->eddsa)
			break;
		input->mechanism = CKM_EDDSA;
		input->data = data;
		input->len = len;
		return DZ_OK;
	default:
		return dz_error_set(err, DZ_ENOTSUP, "DNSSEC algorithm %u is not supported",
				    (unsigned)algorithm);
	}
	return dz_error_set(err, DZ_EHSM_MECHANISM,
			    "token '%s' offers no mechanism for %s signatures", hsm->token.label,
			    name);
}

/* Turn what C_Sign returned into the DNSSEC wire form. */
static dz_result_t
to_dnssec(const dz_hsm_key_entry_t *entry, uint8_t algorithm, const uint8_t *raw,
	  size_t raw_len, dz_sign_request_t *request, dz_error_t *err)
{
	size_t expected;

	switch (algorithm) {
	case DZ_ALG_ECDSAP256SHA256:
	case DZ_ALG_ECDSAP384SHA384:
		return dz_hsm_ecdsa_signature_to_dnssec(algorithm, raw, raw_len, request->signature,
						    &request->signature_len, err);
	case DZ_ALG_ED25519:
	case DZ_ALG_ED448:
		expected = algorithm == DZ_ALG_ED25519 ? 64 : 114;
		if (raw_len != expected)
			return dz_error_set(err, DZ_EHSM,
					    "token returned a %s signature of %zu bytes instead of "
					    "%zu", dz_algorithm_name(algorithm), raw_len, expected);
		memcpy(request->signature, raw, raw_len);
		request->signature_len = raw_len;
		return DZ_OK;
	default:
		/* RSA: an integer as long as the modulus (RFC 3110 section 3); restore leading zeros. */
		expected = (entry->info.bits + 7) / 8;
		if (raw_len > DZ_SIGNATURE_MAX || raw_len > expected || raw_len == 0)
			return dz_error_set(err, DZ_EHSM,
					    "token returned an RSA signature of %zu bytes for a "
					    "modulus of %zu bytes", raw_len, expected);
		memset(request->signature, 0, expected - raw_len);
		memcpy(request->signature + expected - raw_len, raw, raw_len);
		request->signature_len = expected;
		return DZ_OK;
	}
}

typedef struct sign_ctx {
	dz_sign_request_t *requests;
	size_t count;
	size_t next;		/* first request not yet attempted */
	bool only_missing;	/* retry only the requests whose key was missing */
	bool missing_key;	/* some request named a key not in the index */
	dz_error_t first_error;	/* message of the failed request with the lowest index */
	size_t first_index;
} sign_ctx_t;

/* Keep the message of the failure with the lowest request index. */
static void
record_failure(sign_ctx_t *ctx, size_t index, const dz_error_t *err)
{
	if (ctx->first_error.code != DZ_OK && ctx->first_index <= index)
		return;
	ctx->first_index = index;
	ctx->first_error.code = err->code != DZ_OK ? err->code : DZ_EHSM;
	memcpy(ctx->first_error.message, dz_error_message(err), sizeof(ctx->first_error.message));
	ctx->first_error.message[sizeof(ctx->first_error.message) - 1] = '\0';
}

/* Sign one request on `session`; sets *rv only when the session or handle failed. */
static dz_result_t
sign_one(dz_hsm_t *hsm, CK_SESSION_HANDLE session, dz_sign_request_t *request, CK_RV *rv,
	 dz_error_t *err)
{
	sign_input_t input;
	uint8_t raw[RAW_SIGNATURE_MAX];
	CK_ULONG raw_len = sizeof(raw);
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_result_t result;

	if (request->key_id_len == 0 || request->key_id_len > DZ_KEY_ID_MAX)
		return dz_error_set(err, DZ_EINVAL, "sign request has a key id of %zu bytes",
				    request->key_id_len);
	dz_hsm_key_entry_t *entry = dz_hsm_index_find(hsm, request->key_id, request->key_id_len);
	if (entry == NULL)
		return dz_error_set(err, DZ_EHSM_KEY,
				    "no private key with CKA_ID %s in token '%s'",
				    dz_hsm_id_hex(request->key_id, request->key_id_len, hex),
				    hsm->token.label);
	if (entry->duplicate_id)
		return dz_error_set(err, DZ_EINVAL, "several private keys in token '%s' have "
				    "CKA_ID %s", hsm->token.label,
				    dz_hsm_id_hex(request->key_id, request->key_id_len, hex));
	result = dz_hsm_check_key_algorithm(hsm, entry, request->algorithm, err);
	if (result != DZ_OK)
		return result;
	result = prepare_input(hsm, request->algorithm, request->data, request->data_len, &input,
			       err);
	if (result != DZ_OK)
		return result;

	CK_MECHANISM mechanism = { input.mechanism, NULL, 0 };
	CK_RV call_rv = hsm->p11->C_SignInit(session, &mechanism, entry->private_handle);
	if (call_rv == CKR_OK)
		call_rv = hsm->p11->C_Sign(session, (CK_BYTE_PTR)input.data, input.len, raw,
					   &raw_len);
	if (call_rv != CKR_OK) {
		if (dz_hsm_rv_session_lost(call_rv) || dz_hsm_rv_handle_stale(call_rv))
			*rv = call_rv;
		return dz_hsm_fail(err, call_rv, "signing with key %s in token '%s' failed",
				   dz_hsm_id_hex(request->key_id, request->key_id_len, hex),
				   hsm->token.label);
	}
	return to_dnssec(entry, request->algorithm, raw, raw_len, request, err);
}

static dz_result_t
sign_op(dz_hsm_t *hsm, CK_SESSION_HANDLE session, void *opaque, CK_RV *rv, dz_error_t *err)
{
	sign_ctx_t *ctx = opaque;

	for (; ctx->next < ctx->count; ctx->next++) {
		dz_sign_request_t *request = &ctx->requests[ctx->next];
		dz_error_t request_err;

		if (ctx->only_missing && request->result != DZ_EHSM_KEY)
			continue;
		dz_error_init(&request_err);
		request->result = sign_one(hsm, session, request, rv, &request_err);
		if (*rv != CKR_OK) {
			/* The session is gone: stop here; the caller recovers and resumes. */
			if (err != NULL)
				*err = request_err;
			return request->result;
		}
		if (request->result == DZ_EHSM_KEY)
			ctx->missing_key = true;
		if (request->result != DZ_OK)
			record_failure(ctx, ctx->next, &request_err);
	}
	return DZ_OK;
}

/* Run sign_op from ctx->next; what it could not reach fails as the session did. */
static void
run_sign(dz_hsm_t *hsm, sign_ctx_t *ctx)
{
	dz_error_t err;

	dz_error_init(&err);
	dz_result_t result = dz_hsm_run_shared(hsm, sign_op, ctx, &err);
	if (result == DZ_OK)
		return;
	if (err.code == DZ_OK)
		err.code = result;
	record_failure(ctx, ctx->next, &err);
	for (; ctx->next < ctx->count; ctx->next++) {
		dz_sign_request_t *request = &ctx->requests[ctx->next];
		if (!ctx->only_missing || request->result == DZ_EHSM_KEY)
			request->result = result;
	}
}

dz_result_t
dz_hsm_sign(dz_hsm_t *hsm, dz_sign_request_t *requests, size_t count, dz_error_t *err)
{
	sign_ctx_t ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.requests = requests;
	ctx.count = count;
	for (size_t i = 0; i < count; i++) {
		requests[i].result = DZ_ECANCELED;
		requests[i].signature_len = 0;
	}
	run_sign(hsm, &ctx);

	/* A key created by another process since the index was built: look once more. */
	if (ctx.missing_key && dz_hsm_refresh_for_missing_key(hsm, NULL) == DZ_OK) {
		if (ctx.first_error.code == DZ_EHSM_KEY)
			dz_error_init(&ctx.first_error);
		ctx.next = 0;
		ctx.only_missing = true;
		ctx.missing_key = false;
		run_sign(hsm, &ctx);
	}

	for (size_t i = 0; i < count; i++) {
		if (requests[i].result == DZ_OK)
			continue;
		if (ctx.first_error.code != DZ_OK && ctx.first_index == i)
			return dz_error_set(err, requests[i].result, "%s", ctx.first_error.message);
		return dz_error_set(err, requests[i].result, "signing request %zu of %zu failed: %s",
				    i + 1, count, dz_result_text(requests[i].result));
	}
	return DZ_OK;
}

dz_result_t
dz_hsm_raw_sign_loop(dz_hsm_t *hsm, const uint8_t *id, size_t id_len, uint8_t algorithm,
		     double seconds, unsigned long *signatures, dz_error_t *err)
{
	static const uint8_t message[] = "danezone raw C_Sign benchmark message, about as long "
					 "as the signed data of a small RRset";
	sign_input_t input;
	uint8_t raw[RAW_SIGNATURE_MAX];
	struct timespec start, now;
	unsigned long count = 0;
	dz_result_t result = DZ_OK;
	char hex[2 * DZ_KEY_ID_MAX + 1];

	pthread_rwlock_rdlock(&hsm->lock);
	unsigned index = dz_hsm_session_take(hsm);
	CK_SESSION_HANDLE session = hsm->sessions[index];
	dz_hsm_key_entry_t *entry = dz_hsm_index_find(hsm, id, id_len);
	if (entry == NULL) {
		result = dz_error_set(err, DZ_EHSM_KEY, "no private key with CKA_ID %s in token '%s'",
				      dz_hsm_id_hex(id, id_len, hex), hsm->token.label);
		goto cleanup;
	}
	result = dz_hsm_check_key_algorithm(hsm, entry, algorithm, err);
	if (result == DZ_OK)
		result = prepare_input(hsm, algorithm, message, sizeof(message) - 1, &input, err);
	if (result != DZ_OK)
		goto cleanup;

	CK_MECHANISM mechanism = { input.mechanism, NULL, 0 };
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		CK_ULONG raw_len = sizeof(raw);
		CK_RV rv = hsm->p11->C_SignInit(session, &mechanism, entry->private_handle);
		if (rv == CKR_OK)
			rv = hsm->p11->C_Sign(session, (CK_BYTE_PTR)input.data, input.len, raw,
					      &raw_len);
		if (rv != CKR_OK) {
			result = dz_hsm_fail(err, rv, "signing with key %s failed",
					     dz_hsm_id_hex(id, id_len, hex));
			goto cleanup;
		}
		count++;
		if (count % 8 != 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double elapsed = (double)(now.tv_sec - start.tv_sec) +
				 (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (elapsed >= seconds)
			break;
	}
	*signatures = count;

cleanup:
	dz_hsm_session_give(hsm, index);
	pthread_rwlock_unlock(&hsm->lock);
	return result;
}
