#include "config.h"

#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/mem.h"
#include "signer/tsig.h"

static const struct {
	const char *name;   /* presentation form, also the wire name */
	const char *digest; /* OpenSSL digest name */
	size_t mac_size;
} algorithms[] = {
	[DZ_TSIG_HMAC_SHA256] = { "hmac-sha256", "SHA256", 32 },
	[DZ_TSIG_HMAC_SHA384] = { "hmac-sha384", "SHA384", 48 },
	[DZ_TSIG_HMAC_SHA512] = { "hmac-sha512", "SHA512", 64 },
};

size_t
dz_tsig_mac_size(dz_tsig_algorithm_t algorithm)
{
	return algorithms[algorithm].mac_size;
}

/* Wire form of an algorithm name into `out`; returns its length. */
static size_t
algorithm_wire(dz_tsig_algorithm_t algorithm, uint8_t out[DZ_WIRE_NAME_MAX])
{
	return dz_wire_name_from_text(algorithms[algorithm].name, out);
}

dz_result_t
dz_tsig_key_init(dz_tsig_key_t *key, const char *name, const char *algorithm,
		 const char *secret_base64, dz_error_t *err)
{
	size_t text_len = strlen(secret_base64);
	uint8_t decoded[DZ_TSIG_SECRET_MAX + 3];
	bool found = false;

	memset(key, 0, sizeof(*key));
	key->name_len = dz_wire_name_from_text(name, key->name);
	if (key->name_len == 0)
		return dz_error_set(err, DZ_EINVAL, "invalid TSIG key name '%s'", name);
	dz_wire_name_to_text(key->name, key->name_text, sizeof(key->name_text));
	for (size_t i = 0; i < DZ_ARRAY_SIZE(algorithms); i++) {
		if (strcasecmp(algorithm, algorithms[i].name) == 0) {
			key->algorithm = (dz_tsig_algorithm_t)i;
			found = true;
		}
	}
	if (!found)
		return dz_error_set(err, DZ_EINVAL,
				    "TSIG key %s: unsupported algorithm '%s'; use hmac-sha256, "
				    "hmac-sha384 or hmac-sha512",
				    key->name_text, algorithm);
	if (text_len == 0 || text_len % 4 != 0 || text_len / 4 * 3 > sizeof(decoded)) {
		dz_secure_zero(key, sizeof(*key));
		return dz_error_set(err, DZ_EINVAL,
				    "TSIG key %s: the secret is not base64 of at most %d bytes",
				    name, DZ_TSIG_SECRET_MAX);
	}
	int n = EVP_DecodeBlock(decoded, (const unsigned char *)secret_base64, (int)text_len);
	if (n < 0) {
		dz_secure_zero(key, sizeof(*key));
		return dz_error_set(err, DZ_EINVAL, "TSIG key %s: the secret is not valid base64",
				    name);
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (secret_base64[text_len - 1] == '=')
		n--;
	if (secret_base64[text_len - 2] == '=')
		n--;
	if (n <= 0 || (size_t)n > DZ_TSIG_SECRET_MAX) {
		dz_secure_zero(decoded, sizeof(decoded));
		dz_secure_zero(key, sizeof(*key));
		return dz_error_set(err, DZ_EINVAL, "TSIG key %s: the secret must be 1 to %d bytes",
				    name, DZ_TSIG_SECRET_MAX);
	}
	memcpy(key->secret, decoded, (size_t)n);
	key->secret_len = (size_t)n;
	dz_secure_zero(decoded, sizeof(decoded));
	return DZ_OK;
}

dz_result_t
dz_tsig_key_parse(dz_tsig_key_t *key, const char *spec, dz_error_t *err)
{
	char copy[1024];
	size_t len = strlen(spec);

	if (len >= sizeof(copy))
		return dz_error_set(err, DZ_EINVAL, "TSIG key specification is too long");
	memcpy(copy, spec, len + 1);
	char *first = strchr(copy, ':');
	char *second = first != NULL ? strchr(first + 1, ':') : NULL;
	if (second == NULL) {
		dz_secure_zero(copy, sizeof(copy));
		return dz_error_set(err, DZ_EINVAL,
				    "invalid TSIG key specification; expected ALGORITHM:NAME:SECRET");
	}
	*first = '\0';
	*second = '\0';
	dz_result_t result = dz_tsig_key_init(key, first + 1, copy, second + 1, err);
	dz_secure_zero(copy, sizeof(copy));
	return result;
}

void
dz_tsig_key_clear(dz_tsig_key_t *key)
{
	dz_secure_zero(key->secret, sizeof(key->secret));
	key->secret_len = 0;
}

dz_result_t
dz_tsig_record_parse(const uint8_t *msg, size_t len, size_t offset, dz_tsig_record_t *record)
{
	size_t pos = offset;

	memset(record, 0, sizeof(*record));
	record->offset = offset;
	record->key_name_len = dz_wire_msg_read_name(msg, len, pos, record->key_name);
	if (record->key_name_len == 0 || dz_wire_msg_skip_name(msg, len, &pos) != DZ_OK)
		return DZ_EFORMERR;
	if (len - pos < 10)
		return DZ_EFORMERR;
	uint16_t type = dz_wire_get_u16(msg + pos);
	uint16_t rrclass = dz_wire_get_u16(msg + pos + 2);
	uint16_t rdlength = dz_wire_get_u16(msg + pos + 8);
	pos += 10;
	if (type != DZ_TYPE_TSIG || rrclass != DZ_CLASS_ANY || len - pos != rdlength)
		return DZ_EFORMERR;
	record->algorithm_name_len = dz_wire_msg_read_name(msg, len, pos, record->algorithm_name);
	if (record->algorithm_name_len == 0 || dz_wire_msg_skip_name(msg, len, &pos) != DZ_OK)
		return DZ_EFORMERR;
	if (len - pos < 10)
		return DZ_EFORMERR;
	record->time_signed = (uint64_t)dz_wire_get_u16(msg + pos) << 32 |
			      dz_wire_get_u32(msg + pos + 2);
	record->fudge = dz_wire_get_u16(msg + pos + 6);
	record->mac_len = dz_wire_get_u16(msg + pos + 8);
	pos += 10;
	if (len - pos < (size_t)record->mac_len + 6)
		return DZ_EFORMERR;
	record->mac = msg + pos;
	pos += record->mac_len;
	record->original_id = dz_wire_get_u16(msg + pos);
	record->error = dz_wire_get_u16(msg + pos + 2);
	record->other_len = dz_wire_get_u16(msg + pos + 4);
	pos += 6;
	if (len - pos != record->other_len)
		return DZ_EFORMERR;
	record->other = msg + pos;
	return DZ_OK;
}

void
dz_tsig_context_init(dz_tsig_context_t *ctx, const dz_tsig_key_t *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
}

/* The TSIG variables that a MAC covers besides the message. */
typedef struct mac_variables {
	bool timers_only;
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t error;
	const uint8_t *other;
	uint16_t other_len;
} mac_variables_t;

/*
 * Compute the MAC over: the prior MAC with its length (when prior_len > 0),
 * the message msg[0..msg_len) with its ID replaced by `original_id` and its
 * ARCOUNT by `arcount`, and the TSIG variables (RFC 8945 section 4.3).
 */
static bool
compute_mac(const dz_tsig_key_t *key, const uint8_t *prior, size_t prior_len, const uint8_t *msg,
	    size_t msg_len, uint16_t original_id, uint16_t arcount, const mac_variables_t *vars,
	    uint8_t out[DZ_TSIG_MAC_MAX])
{
	bool ok = false;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	uint8_t header[DZ_WIRE_HEADER_SIZE];
	uint8_t buf[2 * DZ_WIRE_NAME_MAX + 32];
	size_t used = 0;
	size_t out_len = 0;

	if (ctx == NULL || msg_len < DZ_WIRE_HEADER_SIZE)
		goto cleanup;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)algorithms[key->algorithm].digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key->secret, key->secret_len, params))
		goto cleanup;
	if (prior_len > 0) {
		uint8_t prefix[2];
		dz_wire_put_u16(prefix, (uint16_t)prior_len);
		if (!EVP_MAC_update(ctx, prefix, 2) || !EVP_MAC_update(ctx, prior, prior_len))
			goto cleanup;
	}
	memcpy(header, msg, sizeof(header));
	dz_wire_put_u16(header, original_id);
	dz_wire_put_u16(header + 10, arcount);
	if (!EVP_MAC_update(ctx, header, sizeof(header)) ||
	    !EVP_MAC_update(ctx, msg + DZ_WIRE_HEADER_SIZE, msg_len - DZ_WIRE_HEADER_SIZE))
		goto cleanup;

	if (!vars->timers_only) {
		memcpy(buf, key->name, key->name_len);
		used = key->name_len;
		dz_wire_put_u16(buf + used, DZ_CLASS_ANY);
		dz_wire_put_u32(buf + used + 2, 0);
		used += 6;
		used += algorithm_wire(key->algorithm, buf + used);
	}
	dz_wire_put_u16(buf + used, (uint16_t)(vars->time_signed >> 32));
	dz_wire_put_u32(buf + used + 2, (uint32_t)vars->time_signed);
	dz_wire_put_u16(buf + used + 6, vars->fudge);
	used += 8;
	if (!vars->timers_only) {
		dz_wire_put_u16(buf + used, vars->error);
		dz_wire_put_u16(buf + used + 2, vars->other_len);
		used += 4;
	}
	if (!EVP_MAC_update(ctx, buf, used))
		goto cleanup;
	if (!vars->timers_only && vars->other_len > 0 &&
	    !EVP_MAC_update(ctx, vars->other, vars->other_len))
		goto cleanup;
	ok = EVP_MAC_final(ctx, out, &out_len, DZ_TSIG_MAC_MAX) &&
	     out_len == algorithms[key->algorithm].mac_size;

cleanup:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

/* Whether `key` is the record's key: same name and algorithm. */
static bool
key_matches(const dz_tsig_key_t *key, const dz_tsig_record_t *record)
{
	uint8_t algorithm[DZ_WIRE_NAME_MAX];
	size_t algorithm_len = algorithm_wire(key->algorithm, algorithm);

	return record->key_name_len == key->name_len &&
	       dz_wire_name_equal(record->key_name, key->name) &&
	       record->algorithm_name_len == algorithm_len &&
	       dz_wire_name_equal(record->algorithm_name, algorithm);
}

/* Check the record's MAC and time; returns 0, a TSIG error, or -1 for FORMERR. */
static int
check_record(const dz_tsig_key_t *key, const uint8_t *prior, size_t prior_len,
	     const uint8_t *msg, size_t len, const dz_tsig_record_t *record, dz_time_t now)
{
	size_t full = algorithms[key->algorithm].mac_size;
	size_t shortest = full / 2 > 10 ? full / 2 : 10;
	uint8_t computed[DZ_TSIG_MAC_MAX];
	uint16_t arcount = dz_wire_get_u16(msg + 10);

	(void)len;
	/* RFC 8945 section 5.2.2.1: longer than the hash or shorter than this is FORMERR. */
	if (record->mac_len > full || record->mac_len < shortest || arcount == 0)
		return -1;
	mac_variables_t vars = {
		.time_signed = record->time_signed, .fudge = record->fudge,
		.error = record->error, .other = record->other, .other_len = record->other_len,
	};
	if (!compute_mac(key, prior, prior_len, msg, record->offset, record->original_id,
			 (uint16_t)(arcount - 1), &vars, computed))
		return DZ_TSIG_BADSIG;
	if (CRYPTO_memcmp(computed, record->mac, record->mac_len) != 0)
		return DZ_TSIG_BADSIG;
	/* A truncated MAC that is valid is still below our policy of full MACs. */
	if (record->mac_len < full)
		return DZ_TSIG_BADTRUNC;
	int64_t skew = now - (int64_t)record->time_signed;
	if (skew > record->fudge || skew < -(int64_t)record->fudge)
		return DZ_TSIG_BADTIME;
	return 0;
}

int
dz_tsig_verify_request(const dz_tsig_key_t *keys, size_t key_count, const uint8_t *msg,
		       size_t len, const dz_tsig_record_t *record, dz_time_t now,
		       dz_tsig_context_t *ctx)
{
	const dz_tsig_key_t *key = NULL;

	for (size_t i = 0; i < key_count && key == NULL; i++) {
		if (key_matches(&keys[i], record))
			key = &keys[i];
	}
	if (key == NULL)
		return DZ_TSIG_BADKEY;
	int result = check_record(key, NULL, 0, msg, len, record, now);
	if (result == 0 || result == DZ_TSIG_BADTIME || result == DZ_TSIG_BADTRUNC) {
		dz_tsig_context_init(ctx, key);
		memcpy(ctx->mac, record->mac, record->mac_len);
		ctx->mac_len = record->mac_len;
		ctx->request_time = record->time_signed;
	}
	return result;
}

int
dz_tsig_verify_response(dz_tsig_context_t *ctx, const uint8_t *msg, size_t len,
			const dz_tsig_record_t *record, dz_time_t now)
{
	if (!key_matches(ctx->key, record))
		return DZ_TSIG_BADKEY;
	int result = check_record(ctx->key, ctx->mac, ctx->mac_len, msg, len, record, now);
	if (result == 0) {
		memcpy(ctx->mac, record->mac, record->mac_len);
		ctx->mac_len = record->mac_len;
	}
	return result;
}

size_t
dz_tsig_record_size(const dz_tsig_key_t *key)
{
	uint8_t algorithm[DZ_WIRE_NAME_MAX];
	size_t algorithm_len = algorithm_wire(key->algorithm, algorithm);

	/* Owner, fixed fields, RDATA with 6 bytes of Other Data for BADTIME. */
	return key->name_len + 10 + algorithm_len + 16 + algorithms[key->algorithm].mac_size + 6;
}

/* Append a TSIG RR with the given fields and add one to ARCOUNT. */
static dz_result_t
append_record(uint8_t *msg, size_t *len, size_t cap, const uint8_t *key_name,
	      size_t key_name_len, const uint8_t *algorithm, size_t algorithm_len,
	      uint64_t time_signed, uint16_t fudge, const uint8_t *mac, size_t mac_len,
	      uint16_t original_id, uint16_t error, const uint8_t *other, uint16_t other_len)
{
	size_t rdlength = algorithm_len + 16 + mac_len + other_len;
	size_t need = key_name_len + 10 + rdlength;
	uint8_t *p = msg + *len;

	if (cap < *len || cap - *len < need)
		return DZ_ETOOBIG;
	memcpy(p, key_name, key_name_len);
	p += key_name_len;
	dz_wire_put_u16(p, DZ_TYPE_TSIG);
	dz_wire_put_u16(p + 2, DZ_CLASS_ANY);
	dz_wire_put_u32(p + 4, 0);
	dz_wire_put_u16(p + 8, (uint16_t)rdlength);
	p += 10;
	memcpy(p, algorithm, algorithm_len);
	p += algorithm_len;
	dz_wire_put_u16(p, (uint16_t)(time_signed >> 32));
	dz_wire_put_u32(p + 2, (uint32_t)time_signed);
	dz_wire_put_u16(p + 6, fudge);
	dz_wire_put_u16(p + 8, (uint16_t)mac_len);
	p += 10;
	if (mac_len > 0)
		memcpy(p, mac, mac_len);
	p += mac_len;
	dz_wire_put_u16(p, original_id);
	dz_wire_put_u16(p + 2, error);
	dz_wire_put_u16(p + 4, other_len);
	p += 6;
	if (other_len > 0)
		memcpy(p, other, other_len);
	*len += need;
	dz_wire_put_u16(msg + 10, (uint16_t)(dz_wire_get_u16(msg + 10) + 1));
	return DZ_OK;
}

dz_result_t
dz_tsig_sign(dz_tsig_context_t *ctx, uint8_t *msg, size_t *len, size_t cap, dz_time_t now,
	     uint16_t error)
{
	const dz_tsig_key_t *key = ctx->key;
	uint8_t algorithm[DZ_WIRE_NAME_MAX];
	size_t algorithm_len = algorithm_wire(key->algorithm, algorithm);
	uint8_t mac[DZ_TSIG_MAC_MAX];
	uint8_t other[6];
	mac_variables_t vars = { .fudge = DZ_TSIG_FUDGE, .error = error };

	if (*len < DZ_WIRE_HEADER_SIZE)
		return DZ_EINVAL;
	vars.time_signed = (uint64_t)now & 0xffffffffffffULL;
	vars.timers_only = ctx->messages > 0;
	if (error == DZ_TSIG_BADTIME) {
		/*
		 * The response keeps the request's Time Signed so that the client can
		 * check its MAC, and carries our time in Other Data (RFC 8945 section 5.2.3).
		 */
		vars.time_signed = ctx->request_time;
		dz_wire_put_u16(other, (uint16_t)((uint64_t)now >> 32));
		dz_wire_put_u32(other + 2, (uint32_t)now);
		vars.other = other;
		vars.other_len = sizeof(other);
	}
	uint16_t id = dz_wire_get_u16(msg);
	if (!compute_mac(key, ctx->mac, ctx->mac_len, msg, *len, id, dz_wire_get_u16(msg + 10),
			 &vars, mac))
		return DZ_ECRYPTO;
	size_t mac_len = algorithms[key->algorithm].mac_size;
	dz_result_t result = append_record(msg, len, cap, key->name, key->name_len, algorithm,
					   algorithm_len, vars.time_signed, vars.fudge, mac, mac_len,
					   id, error, vars.other, vars.other_len);
	if (result != DZ_OK)
		return result;
	memcpy(ctx->mac, mac, mac_len);
	ctx->mac_len = mac_len;
	ctx->messages++;
	return DZ_OK;
}

dz_result_t
dz_tsig_append_error(const dz_tsig_record_t *request, uint8_t *msg, size_t *len, size_t cap,
		     dz_time_t now, uint16_t error)
{
	if (*len < DZ_WIRE_HEADER_SIZE)
		return DZ_EINVAL;
	return append_record(msg, len, cap, request->key_name, request->key_name_len,
			     request->algorithm_name, request->algorithm_name_len,
			     (uint64_t)now & 0xffffffffffffULL, DZ_TSIG_FUDGE, NULL, 0,
			     dz_wire_get_u16(msg), error, NULL, 0);
}
