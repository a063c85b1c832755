#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "zones/tlsa.h"

/* SHA2-256 of empty input: what broken key-extraction pipelines publish. */
static const uint8_t sha256_of_nothing[32] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

dz_result_t
dz_tlsa_rdata(const dz_tlsa_params_t *params, const uint8_t *cert, size_t cert_len,
	      const uint8_t *spki, size_t spki_len, dz_buf_t *rdata, dz_error_t *err)
{
	const uint8_t *input;
	size_t input_len;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;
	const EVP_MD *md = NULL;

	if (params->selector == 0) {
		if (cert == NULL)
			return dz_error_set(err, DZ_ENOTFOUND,
					    "selector 0 needs a certificate, but only a key is known");
		input = cert;
		input_len = cert_len;
	} else if (params->selector == 1) {
		input = spki;
		input_len = spki_len;
	} else {
		return dz_error_set(err, DZ_EINVAL, "selector %u is not defined", params->selector);
	}
	if (input == NULL || input_len == 0)
		return dz_error_set(err, DZ_EINVAL, "no %s to hash: refusing to publish a digest of "
				    "empty input", params->selector == 0 ? "certificate" : "public key");

	switch (params->matching) {
	case 0:
		if (input_len > UINT16_MAX - 3u)
			return dz_error_set(err, DZ_ETOOBIG, "the %zu-octet input does not fit in a "
					    "record with matching type 0", input_len);
		break;
	case 1:
		md = EVP_sha256();
		break;
	case 2:
		md = EVP_sha512();
		break;
	default:
		return dz_error_set(err, DZ_EINVAL, "matching type %u is not defined", params->matching);
	}
	if (md != NULL) {
		if (EVP_Digest(input, input_len, digest, &digest_len, md, NULL) != 1)
			return dz_error_set(err, DZ_ECRYPTO, "computing the digest failed");
		/* Belt and braces: the empty-input check above makes this unreachable. */
		if (params->matching == 1 && memcmp(digest, sha256_of_nothing, 32) == 0)
			return dz_error_set(err, DZ_EINTERNAL, "digest of empty input");
	}
	if (dz_buf_append_u8(rdata, params->usage) != DZ_OK ||
	    dz_buf_append_u8(rdata, params->selector) != DZ_OK ||
	    dz_buf_append_u8(rdata, params->matching) != DZ_OK ||
	    (md != NULL ? dz_buf_append(rdata, digest, digest_len)
			: dz_buf_append(rdata, input, input_len)) != DZ_OK)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	return DZ_OK;
}

void
dz_tlsa_sha256_hex(const uint8_t *data, size_t len, char hex[65])
{
	uint8_t digest[32];
	unsigned digest_len = 0;

	if (EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) != 1) {
		hex[0] = '\0';
		return;
	}
	dz_hex_encode(digest, sizeof(digest), hex);
}
