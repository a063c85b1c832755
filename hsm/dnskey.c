#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "common/policy.h"
#include "hsm/dnskey.h"

/* Skip the leading zero bytes of a big-endian integer. */
static void
strip_leading_zeros(const uint8_t **data, size_t *len)
{
	while (*len > 0 && (*data)[0] == 0) {
		(*data)++;
		(*len)--;
	}
}

dz_result_t
dz_hsm_dnskey_rsa_public(const uint8_t *modulus, size_t modulus_len, const uint8_t *exponent,
		     size_t exponent_len, uint8_t *out, size_t out_cap, size_t *out_len,
		     dz_error_t *err)
{
	strip_leading_zeros(&modulus, &modulus_len);
	strip_leading_zeros(&exponent, &exponent_len);
	if (modulus_len == 0 || exponent_len == 0)
		return dz_error_set(err, DZ_EINVAL, "RSA public key has an empty %s",
				    modulus_len == 0 ? "modulus" : "exponent");
	if (exponent_len > UINT16_MAX)
		return dz_error_set(err, DZ_EINVAL, "RSA public exponent of %zu bytes is too long",
				    exponent_len);

	size_t header = exponent_len <= 255 ? 1 : 3;
	size_t total = header + exponent_len + modulus_len;
	if (total > out_cap)
		return dz_error_set(err, DZ_ETOOBIG,
				    "RSA public key field of %zu bytes exceeds the limit of %zu",
				    total, out_cap);

	size_t pos = 0;
	if (header == 1) {
		out[pos++] = (uint8_t)exponent_len;
	} else {
		out[pos++] = 0;
		out[pos++] = (uint8_t)(exponent_len >> 8);
		out[pos++] = (uint8_t)exponent_len;
	}
	memcpy(out + pos, exponent, exponent_len);
	pos += exponent_len;
	memcpy(out + pos, modulus, modulus_len);
	pos += modulus_len;
	*out_len = pos;
	return DZ_OK;
}

size_t
dz_hsm_dnskey_ec_public_len(uint8_t algorithm)
{
	switch (algorithm) {
	case DZ_ALG_ECDSAP256SHA256:
		return 64;
	case DZ_ALG_ECDSAP384SHA384:
		return 96;
	case DZ_ALG_ED25519:
		return 32;
	case DZ_ALG_ED448:
		return 57;
	default:
		return 0;
	}
}

dz_result_t
dz_hsm_dnskey_ec_public(uint8_t algorithm, const uint8_t *ec_point, size_t point_len, uint8_t *out,
		    size_t out_cap, size_t *out_len, dz_error_t *err)
{
	size_t key_len = dz_hsm_dnskey_ec_public_len(algorithm);
	bool ecdsa = algorithm == DZ_ALG_ECDSAP256SHA256 || algorithm == DZ_ALG_ECDSAP384SHA384;
	/* ECDSA points carry the 0x04 "uncompressed" prefix (SEC 1 section 2.3.3). */
	size_t raw_len = ecdsa ? key_len + 1 : key_len;

	if (key_len == 0)
		return dz_error_set(err, DZ_EINVAL, "algorithm %u is not ECDSA or EdDSA",
				    (unsigned)algorithm);
	/* PKCS#11 wraps the point in a DER OCTET STRING; every size here has a short-form length. */
	if (point_len == raw_len + 2 && ec_point[0] == 0x04 && ec_point[1] == raw_len) {
		ec_point += 2;
		point_len -= 2;
	}
	if (point_len != raw_len)
		return dz_error_set(err, DZ_EINVAL,
				    "public key of %zu bytes does not fit %s (expected %zu bytes)",
				    point_len, dz_algorithm_name(algorithm), raw_len);
	if (ecdsa) {
		if (ec_point[0] != 0x04)
			return dz_error_set(err, DZ_EINVAL,
					    "%s public key is not an uncompressed point "
					    "(first byte 0x%02x, expected 0x04)",
					    dz_algorithm_name(algorithm), ec_point[0]);
		ec_point++;
	}
	if (key_len > out_cap)
		return dz_error_set(err, DZ_ETOOBIG, "public key buffer too small");
	memcpy(out, ec_point, key_len);
	*out_len = key_len;
	return DZ_OK;
}

dz_result_t
dz_hsm_dnskey_rdata(dz_buf_t *buf, uint16_t flags, uint8_t algorithm, const uint8_t *public_key,
		size_t public_key_len)
{
	if (dz_buf_append_u16(buf, flags) != DZ_OK ||
	    dz_buf_append_u8(buf, DZ_DNSKEY_PROTOCOL) != DZ_OK ||
	    dz_buf_append_u8(buf, algorithm) != DZ_OK ||
	    dz_buf_append(buf, public_key, public_key_len) != DZ_OK)
		return DZ_ENOMEM;
	return DZ_OK;
}

uint16_t
dz_hsm_dnskey_key_tag(const uint8_t *rdata, size_t rdata_len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < rdata_len; i++)
		sum += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	sum += (sum >> 16) & 0xffff;
	return (uint16_t)(sum & 0xffff);
}

dz_result_t
dz_hsm_canonical_name(const char *name, char **out, dz_error_t *err)
{
	ldns_rdf *rdf = NULL;
	char *text = NULL;

	if (name == NULL || name[0] == '\0')
		return dz_error_set(err, DZ_EINVAL, "empty zone name");
	if (ldns_str2rdf_dname(&rdf, name) != LDNS_STATUS_OK || rdf == NULL)
		return dz_error_set(err, DZ_EINVAL,
				    "invalid zone name '%s': give a domain name such as example.com",
				    name);
	ldns_dname2canonical(rdf);
	text = ldns_rdf2str(rdf);
	ldns_rdf_deep_free(rdf);
	if (text == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	*out = text;
	return DZ_OK;
}

dz_result_t
dz_hsm_ds_rdata(dz_buf_t *buf, const char *owner, const uint8_t *dnskey_rdata,
	    size_t dnskey_rdata_len, uint8_t digest_type, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	ldns_rdf *name = NULL;
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;

	switch (digest_type) {
	case DZ_DIGEST_SHA256:
		md = EVP_sha256();
		break;
	case DZ_DIGEST_SHA384:
		md = EVP_sha384();
		break;
	default:
		return dz_error_set(err, DZ_ENOTSUP,
				    "DS digest type %u is not supported; use 2 (SHA-256) or 4 (SHA-384)",
				    (unsigned)digest_type);
	}
	if (dnskey_rdata_len < 4)
		return dz_error_set(err, DZ_EINVAL, "DNSKEY RDATA of %zu bytes is too short",
				    dnskey_rdata_len);
	if (ldns_str2rdf_dname(&name, owner) != LDNS_STATUS_OK || name == NULL)
		return dz_error_set(err, DZ_EINVAL, "invalid owner name '%s'", owner);
	ldns_dname2canonical(name);

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, ldns_rdf_data(name), ldns_rdf_size(name)) != 1 ||
	    EVP_DigestUpdate(ctx, dnskey_rdata, dnskey_rdata_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, digest, &digest_len) != 1) {
		result = dz_error_set(err, DZ_ECRYPTO, "computing the DS digest failed");
		goto cleanup;
	}
	if (dz_buf_append_u16(buf, dz_hsm_dnskey_key_tag(dnskey_rdata, dnskey_rdata_len)) != DZ_OK ||
	    dz_buf_append_u8(buf, dnskey_rdata[3]) != DZ_OK ||
	    dz_buf_append_u8(buf, digest_type) != DZ_OK ||
	    dz_buf_append(buf, digest, digest_len) != DZ_OK)
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");

cleanup:
	EVP_MD_CTX_free(ctx);
	ldns_rdf_deep_free(name);
	return result;
}

char *
dz_hsm_dnskey_format(const char *owner, uint32_t ttl, const uint8_t *rdata, size_t rdata_len)
{
	dz_buf_t line;
	char *base64 = NULL;

	if (rdata_len < 4 || rdata_len > 65535)
		return NULL;
	size_t key_len = rdata_len - 4;
	base64 = malloc(4 * ((key_len + 2) / 3) + 1);
	if (base64 == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)base64, rdata + 4, (int)key_len);

	dz_buf_init(&line);
	if (dz_buf_printf(&line, "%s %u IN DNSKEY %u %u %u %s", owner, (unsigned)ttl,
			  (unsigned)((rdata[0] << 8) | rdata[1]), (unsigned)rdata[2],
			  (unsigned)rdata[3], base64) != DZ_OK) {
		dz_buf_clear(&line);
		free(base64);
		return NULL;
	}
	free(base64);
	return (char *)line.data;
}

char *
dz_hsm_ds_format(const char *owner, uint32_t ttl, const uint8_t *rdata, size_t rdata_len)
{
	dz_buf_t line;
	char hex[2 * DZ_DS_DIGEST_MAX + 1];

	if (rdata_len < 5 || rdata_len - 4 > DZ_DS_DIGEST_MAX)
		return NULL;
	dz_hex_encode(rdata + 4, rdata_len - 4, hex);
	for (char *p = hex; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	}
	dz_buf_init(&line);
	if (dz_buf_printf(&line, "%s %u IN DS %u %u %u %s", owner, (unsigned)ttl,
			  (unsigned)((rdata[0] << 8) | rdata[1]), (unsigned)rdata[2],
			  (unsigned)rdata[3], hex) != DZ_OK) {
		dz_buf_clear(&line);
		return NULL;
	}
	return (char *)line.data;
}

size_t
dz_hsm_ecdsa_signature_len(uint8_t algorithm)
{
	switch (algorithm) {
	case DZ_ALG_ECDSAP256SHA256:
		return 64;
	case DZ_ALG_ECDSAP384SHA384:
		return 96;
	default:
		return 0;
	}
}

/* Decode a DER ECDSA-Sig-Value with OpenSSL into r || s of 2 * half bytes. */
static dz_result_t
ecdsa_der_to_raw(const uint8_t *sig, size_t sig_len, size_t half, uint8_t *out)
{
	const unsigned char *p = sig;
	ECDSA_SIG *parsed = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
	dz_result_t result = DZ_EINVAL;

	if (parsed == NULL)
		return DZ_EINVAL;
	if ((size_t)(p - sig) != sig_len)
		goto cleanup;
	const BIGNUM *r = ECDSA_SIG_get0_r(parsed);
	const BIGNUM *s = ECDSA_SIG_get0_s(parsed);
	if (BN_bn2binpad(r, out, (int)half) != (int)half ||
	    BN_bn2binpad(s, out + half, (int)half) != (int)half)
		goto cleanup;
	result = DZ_OK;

cleanup:
	ECDSA_SIG_free(parsed);
	return result;
}

dz_result_t
dz_hsm_ecdsa_signature_to_dnssec(uint8_t algorithm, const uint8_t *sig, size_t sig_len,
			     uint8_t *out, size_t *out_len, dz_error_t *err)
{
	size_t full = dz_hsm_ecdsa_signature_len(algorithm);
	size_t half = full / 2;

	if (full == 0)
		return dz_error_set(err, DZ_EINVAL, "algorithm %u is not ECDSA", (unsigned)algorithm);
	if (sig_len == full) {
		memcpy(out, sig, full);
		*out_len = full;
		return DZ_OK;
	}
	/* A DER SEQUENCE starts with 0x30; raw r || s never has that length and tag together. */
	if (sig_len > 6 && sig[0] == 0x30 && ecdsa_der_to_raw(sig, sig_len, half, out) == DZ_OK) {
		*out_len = full;
		return DZ_OK;
	}
	return dz_error_set(err, DZ_EHSM,
			    "token returned a %s signature of %zu bytes, "
			    "neither r || s of %zu bytes nor DER",
			    dz_algorithm_name(algorithm), sig_len, full);
}

/* DER DigestInfo prefixes of RFC 8017 section 9.2, note 1. */
static const uint8_t digest_info_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};
static const uint8_t digest_info_sha512[] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40,
};

const uint8_t *
dz_hsm_rsa_digest_info_prefix(uint8_t algorithm, size_t *prefix_len, size_t *digest_len)
{
	switch (algorithm) {
	case DZ_ALG_RSASHA256:
		*prefix_len = sizeof(digest_info_sha256);
		*digest_len = 32;
		return digest_info_sha256;
	case DZ_ALG_RSASHA512:
		*prefix_len = sizeof(digest_info_sha512);
		*digest_len = 64;
		return digest_info_sha512;
	default:
		return NULL;
	}
}
