/*
 * keygen.c -- mechanisms of a token, and generating, labelling and deleting
 * key pairs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/policy.h"
#include "hsm/internal.h"
#include "hsm/rv.h"

/* ulMaxKeySize of a mechanism (bits for EC), or 0 when the token reports none. */
static CK_ULONG
max_key_size(dz_hsm_t *hsm, CK_MECHANISM_TYPE mechanism)
{
	CK_MECHANISM_INFO info;

	if (hsm->p11->C_GetMechanismInfo(hsm->token.slot, mechanism, &info) != CKR_OK)
		return 0;
	return info.ulMaxKeySize;
}

dz_result_t
dz_hsm_load_mechanisms(dz_hsm_t *hsm, CK_RV *rv, dz_error_t *err)
{
	dz_hsm_mechanisms_t m;
	CK_ULONG count = 0;

	memset(&m, 0, sizeof(m));
	*rv = hsm->p11->C_GetMechanismList(hsm->token.slot, NULL, &count);
	if (*rv == CKR_OK) {
		m.list = calloc(count + 1, sizeof(*m.list));
		if (m.list == NULL)
			return dz_error_set(err, DZ_ENOMEM, "out of memory");
		*rv = hsm->p11->C_GetMechanismList(hsm->token.slot, m.list, &count);
	}
	if (*rv != CKR_OK) {
		free(m.list);
		return dz_hsm_fail(err, *rv, "listing the mechanisms of token '%s' failed",
				   hsm->token.label);
	}
	m.count = count;
	for (CK_ULONG i = 0; i < count; i++) {
		switch (m.list[i]) {
		case CKM_RSA_PKCS:
			m.rsa_pkcs = true;
			break;
		case CKM_SHA256_RSA_PKCS:
			m.sha256_rsa_pkcs = true;
			break;
		case CKM_SHA512_RSA_PKCS:
			m.sha512_rsa_pkcs = true;
			break;
		case CKM_ECDSA:
			m.ecdsa = true;
			break;
		case CKM_EDDSA:
			m.eddsa = true;
			break;
		case CKM_EC_KEY_PAIR_GEN:
			m.ec_generate = true;
			m.ec_max_bits = max_key_size(hsm, CKM_EC_KEY_PAIR_GEN);
			break;
		case CKM_EC_EDWARDS_KEY_PAIR_GEN:
			m.edwards_generate = true;
			m.edwards_max_bits = max_key_size(hsm, CKM_EC_EDWARDS_KEY_PAIR_GEN);
			break;
		case CKM_RSA_PKCS_KEY_PAIR_GEN: {
			CK_MECHANISM_INFO info;
			m.rsa_generate = true;
			if (hsm->p11->C_GetMechanismInfo(hsm->token.slot, CKM_RSA_PKCS_KEY_PAIR_GEN,
							 &info) == CKR_OK) {
				m.rsa_min_bits = info.ulMinKeySize;
				m.rsa_max_bits = info.ulMaxKeySize;
			}
			break;
		}
		default:
			break;
		}
	}
	free(hsm->mechanisms.list);
	hsm->mechanisms = m;
	return DZ_OK;
}

/* Names of the mechanisms that matter to danezone, for messages. */
static const struct {
	CK_MECHANISM_TYPE type;
	const char *name;
} mechanism_names[] = {
	{ CKM_RSA_PKCS_KEY_PAIR_GEN, "CKM_RSA_PKCS_KEY_PAIR_GEN" },
	{ CKM_RSA_PKCS, "CKM_RSA_PKCS" },
	{ CKM_SHA256_RSA_PKCS, "CKM_SHA256_RSA_PKCS" },
	{ CKM_SHA512_RSA_PKCS, "CKM_SHA512_RSA_PKCS" },
	{ CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN" },
	{ CKM_ECDSA, "CKM_ECDSA" },
	{ CKM_EC_EDWARDS_KEY_PAIR_GEN, "CKM_EC_EDWARDS_KEY_PAIR_GEN" },
	{ CKM_EDDSA, "CKM_EDDSA" },
};

/* List the DNSSEC-relevant mechanisms the token offers, or "none of them". */
static const char *
describe_mechanisms(const dz_hsm_mechanisms_t *m, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < DZ_ARRAY_SIZE(mechanism_names); i++) {
		for (CK_ULONG j = 0; j < m->count; j++) {
			if (m->list[j] != mechanism_names[i].type)
				continue;
			int n = snprintf(buf + used, size - used, "%s%s", used > 0 ? ", " : "",
					 mechanism_names[i].name);
			if (n > 0 && (size_t)n < size - used)
				used += (size_t)n;
			break;
		}
	}
	if (used == 0)
		snprintf(buf, size, "none of those DNSSEC uses");
	return buf;
}

/*
 * Whether the generation mechanism allows a curve of `bits`.  A module
 * that reports no size (0) passes, and the generation itself then fails if
 * the curve is missing.
 */
static dz_result_t
check_curve_size(dz_hsm_t *hsm, const char *mechanism, CK_ULONG max_bits, unsigned bits,
		 const char *name, dz_error_t *err)
{
	if (max_bits == 0 || max_bits >= bits)
		return DZ_OK;
	return dz_error_set(err, DZ_EHSM_MECHANISM,
			    "token '%s' offers %s for curves of at most %lu bits, so it cannot "
			    "generate %s keys (%u bits)", hsm->token.label, mechanism,
			    (unsigned long)max_bits, name, bits);
}

/* Check the mechanisms; the caller holds a lock. */
static dz_result_t
check_algorithm(dz_hsm_t *hsm, uint8_t algorithm, unsigned bits, dz_error_t *err)
{
	const dz_hsm_mechanisms_t *m = &hsm->mechanisms;
	const char *missing = NULL;
	const char *name = dz_algorithm_name(algorithm);
	char offered[512];

	bool rsa = algorithm == DZ_ALG_RSASHA256 || algorithm == DZ_ALG_RSASHA512;
	if (!rsa && name != NULL && bits != 0)
		return dz_error_set(err, DZ_EINVAL, "%s keys have a fixed size; omit the bits",
				    name);

	switch (algorithm) {
	case DZ_ALG_RSASHA256:
	case DZ_ALG_RSASHA512:
		if (bits < DZ_HSM_RSA_BITS_MIN || bits > DZ_HSM_RSA_BITS_MAX)
			return dz_error_set(err, DZ_ERANGE,
					    "RSA keys of %u bits are not supported; choose %d to %d "
					    "bits", bits, DZ_HSM_RSA_BITS_MIN, DZ_HSM_RSA_BITS_MAX);
		if (!m->rsa_generate)
			missing = "CKM_RSA_PKCS_KEY_PAIR_GEN";
		else if (!m->rsa_pkcs && algorithm == DZ_ALG_RSASHA256 && !m->sha256_rsa_pkcs)
			missing = "CKM_RSA_PKCS";
		else if (!m->rsa_pkcs && algorithm == DZ_ALG_RSASHA512 && !m->sha512_rsa_pkcs)
			missing = "CKM_RSA_PKCS";
		else if (m->rsa_max_bits != 0 && (bits < m->rsa_min_bits || bits > m->rsa_max_bits))
			return dz_error_set(err, DZ_EHSM_MECHANISM,
					    "token '%s' generates RSA keys of %lu to %lu bits, not "
					    "%u", hsm->token.label, (unsigned long)m->rsa_min_bits,
					    (unsigned long)m->rsa_max_bits, bits);
		break;
	case DZ_ALG_ECDSAP256SHA256:
	case DZ_ALG_ECDSAP384SHA384:
		if (!m->ec_generate)
			missing = "CKM_EC_KEY_PAIR_GEN";
		else if (!m->ecdsa)
			missing = "CKM_ECDSA";
		else
			return check_curve_size(hsm, "CKM_EC_KEY_PAIR_GEN", m->ec_max_bits,
						algorithm == DZ_ALG_ECDSAP256SHA256 ? 256 : 384,
						name, err);
		break;
	case DZ_ALG_ED25519:
	case DZ_ALG_ED448:
		if (!m->edwards_generate)
			missing = "CKM_EC_EDWARDS_KEY_PAIR_GEN";
		else if (!m->eddsa)
			missing = "CKM_EDDSA";
		else
			return check_curve_size(hsm, "CKM_EC_EDWARDS_KEY_PAIR_GEN",
						m->edwards_max_bits,
						algorithm == DZ_ALG_ED25519 ? 255 : 448, name, err);
		break;
	default:
		return dz_error_set(err, DZ_ENOTSUP,
				    "DNSSEC algorithm %u (%s) is not supported; use RSASHA256, "
				    "ECDSAP256SHA256, ECDSAP384SHA384, ED25519 or ED448",
				    (unsigned)algorithm, name != NULL ? name : "unknown");
	}
	if (missing != NULL)
		return dz_error_set(err, DZ_EHSM_MECHANISM,
				    "token '%s' does not support %s, which %s keys need; it "
				    "offers %s", hsm->token.label, missing, name,
				    describe_mechanisms(m, offered, sizeof(offered)));
	return DZ_OK;
}

dz_result_t
dz_hsm_check_algorithm(dz_hsm_t *hsm, uint8_t algorithm, unsigned bits, dz_error_t *err)
{
	dz_result_t result;

	pthread_rwlock_rdlock(&hsm->lock);
	result = check_algorithm(hsm, algorithm, bits, err);
	pthread_rwlock_unlock(&hsm->lock);
	return result;
}

/* A random CKA_ID from the token's generator, or OpenSSL's if the token has none. */
static CK_RV
random_id(dz_hsm_t *hsm, CK_SESSION_HANDLE session, uint8_t *id, size_t len)
{
	CK_RV rv = hsm->p11->C_GenerateRandom(session, id, len);

	if (rv == CKR_RANDOM_NO_RNG || rv == CKR_FUNCTION_NOT_SUPPORTED)
		return RAND_bytes(id, (int)len) == 1 ? CKR_OK : CKR_FUNCTION_FAILED;
	return rv;
}

typedef struct generate_ctx {
	uint8_t algorithm;
	unsigned bits;
	const char *label;
	dz_hsm_key_t key;
} generate_ctx_t;

static dz_result_t
generate_op(dz_hsm_t *hsm, CK_SESSION_HANDLE session, void *ctx, CK_RV *rv, dz_error_t *err)
{
	generate_ctx_t *request = ctx;
	const char *name = dz_algorithm_name(request->algorithm);
	uint8_t id[DZ_HSM_NEW_KEY_ID_LEN];
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG modulus_bits = request->bits;
	CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM mechanism = { 0, NULL, 0 };
	const uint8_t *params = NULL;
	size_t params_len = 0;
	CK_OBJECT_HANDLE public_handle = CK_INVALID_HANDLE, private_handle = CK_INVALID_HANDLE;
	dz_result_t result;
	char hex[2 * DZ_KEY_ID_MAX + 1];

	result = check_algorithm(hsm, request->algorithm, request->bits, err);
	if (result != DZ_OK)
		return result;
	/* Ids are random; retry on the unlikely collision with an existing key. */
	for (int tries = 0;; tries++) {
		*rv = random_id(hsm, session, id, sizeof(id));
		if (*rv != CKR_OK)
			return dz_hsm_fail(err, *rv, "generating a random key id in token '%s' failed",
					   hsm->token.label);
		if (dz_hsm_index_find(hsm, id, sizeof(id)) == NULL)
			break;
		if (tries == 3)
			return dz_error_set(err, DZ_EINTERNAL,
					    "token '%s' keeps returning random ids that exist",
					    hsm->token.label);
	}

	CK_ATTRIBUTE public_template[8] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_LABEL, (void *)request->label, strlen(request->label) },
	};
	CK_ULONG public_count = 5;
	CK_ATTRIBUTE private_template[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		{ CKA_DERIVE, &no, sizeof(no) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_LABEL, (void *)request->label, strlen(request->label) },
	};

	if (request->algorithm == DZ_ALG_RSASHA256 || request->algorithm == DZ_ALG_RSASHA512) {
		mechanism.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		public_template[public_count++] =
			(CK_ATTRIBUTE){ CKA_MODULUS_BITS, &modulus_bits, sizeof(modulus_bits) };
		public_template[public_count++] =
			(CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent) };
	} else {
		params = dz_hsm_curve_params(request->algorithm, &params_len);
		mechanism.mechanism = request->algorithm == DZ_ALG_ED25519 ||
					      request->algorithm == DZ_ALG_ED448 ?
					      CKM_EC_EDWARDS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN;
		public_template[public_count++] =
			(CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)params, params_len };
	}

	*rv = hsm->p11->C_GenerateKeyPair(session, &mechanism, public_template, public_count,
					  private_template, DZ_ARRAY_SIZE(private_template),
					  &public_handle, &private_handle);
	if (*rv != CKR_OK) {
		if (*rv == CKR_DEVICE_MEMORY)
			return dz_hsm_fail(err, *rv, "token '%s' has no room for another %s key pair",
					   hsm->token.label, name);
		if (*rv == CKR_CURVE_NOT_SUPPORTED || *rv == CKR_DOMAIN_PARAMS_INVALID ||
		    *rv == CKR_TEMPLATE_INCONSISTENT || *rv == CKR_ATTRIBUTE_VALUE_INVALID)
			return dz_error_set(err, DZ_EHSM_MECHANISM,
					    "token '%s' cannot generate %s keys (%s); choose another "
					    "algorithm", hsm->token.label, name,
					    dz_hsm_rv_name(*rv, hex));
		return dz_hsm_fail(err, *rv, "generating a %s key pair in token '%s' failed", name,
				   hsm->token.label);
	}
	dz_log(DZ_LOG_INFO, "PKCS#11 token '%s': generated %s key pair %s", hsm->token.label,
	       name, dz_hsm_id_hex(id, sizeof(id), hex));

	result = dz_hsm_index_keys(hsm, session, rv, err);
	if (result != DZ_OK)
		return result;
	dz_hsm_key_entry_t *entry = dz_hsm_index_find(hsm, id, sizeof(id));
	if (entry == NULL)
		return dz_error_set(err, DZ_EINTERNAL,
				    "token '%s' does not list the key pair %s it just generated",
				    hsm->token.label, dz_hsm_id_hex(id, sizeof(id), hex));
	request->key = entry->info;
	return DZ_OK;
}

dz_result_t
dz_hsm_generate_key(dz_hsm_t *hsm, uint8_t algorithm, unsigned bits, const char *label,
		    dz_hsm_key_t *out, dz_error_t *err)
{
	generate_ctx_t ctx;
	dz_result_t result;

	memset(&ctx, 0, sizeof(ctx));
	ctx.algorithm = algorithm;
	ctx.bits = bits;
	ctx.label = label;
	result = dz_hsm_run_exclusive(hsm, generate_op, &ctx, err);
	if (result == DZ_OK)
		*out = ctx.key;
	return result;
}

typedef struct key_change_ctx {
	const uint8_t *id;
	size_t id_len;
	const char *label;	/* NULL: delete the key */
} key_change_ctx_t;

/* Handles of the private and public key objects with this CKA_ID. */
static dz_result_t
find_pair(dz_hsm_t *hsm, CK_SESSION_HANDLE session, const key_change_ctx_t *request,
	  CK_OBJECT_HANDLE *handles, CK_ULONG *count, CK_RV *rv, dz_error_t *err)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY };
	CK_ULONG found = 0;
	char hex[2 * DZ_KEY_ID_MAX + 1];

	for (size_t i = 0; i < DZ_ARRAY_SIZE(classes); i++) {
		CK_ATTRIBUTE template[] = {
			{ CKA_CLASS, (void *)&classes[i], sizeof(classes[i]) },
			{ CKA_ID, (void *)request->id, request->id_len },
		};
		CK_ULONG n = 0;
		*rv = hsm->p11->C_FindObjectsInit(session, template, DZ_ARRAY_SIZE(template));
		if (*rv == CKR_OK) {
			*rv = hsm->p11->C_FindObjects(session, handles + found, *count - found, &n);
			hsm->p11->C_FindObjectsFinal(session);
		}
		if (*rv != CKR_OK)
			return dz_hsm_fail(err, *rv, "searching key %s in token '%s' failed",
					   dz_hsm_id_hex(request->id, request->id_len, hex),
					   hsm->token.label);
		found += n;
	}
	if (found == 0)
		return dz_error_set(err, DZ_EHSM_KEY, "no key with CKA_ID %s in token '%s'",
				    dz_hsm_id_hex(request->id, request->id_len, hex),
				    hsm->token.label);
	*count = found;
	return DZ_OK;
}

static dz_result_t
change_op(dz_hsm_t *hsm, CK_SESSION_HANDLE session, void *ctx, CK_RV *rv, dz_error_t *err)
{
	key_change_ctx_t *request = ctx;
	CK_OBJECT_HANDLE handles[8];
	CK_ULONG count = DZ_ARRAY_SIZE(handles);
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_result_t result;

	dz_hsm_key_entry_t *entry = dz_hsm_index_find(hsm, request->id, request->id_len);
	if (entry != NULL && entry->duplicate_id)
		return dz_error_set(err, DZ_EINVAL,
				    "several private keys in token '%s' have CKA_ID %s; refusing "
				    "to change them together", hsm->token.label,
				    dz_hsm_id_hex(request->id, request->id_len, hex));
	result = find_pair(hsm, session, request, handles, &count, rv, err);
	if (result != DZ_OK)
		return result;
	for (CK_ULONG i = 0; i < count; i++) {
		if (request->label != NULL) {
			CK_ATTRIBUTE attr = { CKA_LABEL, (void *)request->label,
					      strlen(request->label) };
			*rv = hsm->p11->C_SetAttributeValue(session, handles[i], &attr, 1);
		} else {
			*rv = hsm->p11->C_DestroyObject(session, handles[i]);
		}
		if (*rv != CKR_OK)
			return dz_hsm_fail(err, *rv, "%s key %s in token '%s' failed",
					   request->label != NULL ? "labelling" : "deleting",
					   dz_hsm_id_hex(request->id, request->id_len, hex),
					   hsm->token.label);
	}
	return dz_hsm_index_keys(hsm, session, rv, err);
}

dz_result_t
dz_hsm_set_key_label(dz_hsm_t *hsm, const uint8_t *id, size_t id_len, const char *label,
		     dz_error_t *err)
{
	key_change_ctx_t ctx = { id, id_len, label };

	return dz_hsm_run_exclusive(hsm, change_op, &ctx, err);
}

dz_result_t
dz_hsm_delete_key(dz_hsm_t *hsm, const uint8_t *id, size_t id_len, dz_error_t *err)
{
	key_change_ctx_t ctx = { id, id_len, NULL };

	return dz_hsm_run_exclusive(hsm, change_op, &ctx, err);
}
