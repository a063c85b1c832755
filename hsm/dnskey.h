/*
 * dnskey.h -- DNSSEC encodings of token keys: DNSKEY public key fields,
 * DNSKEY RDATA, key tags, DS records and signature formats.
 *
 * Pure functions on byte strings: no PKCS#11 calls, no global state, safe
 * from any thread.  Input is what PKCS#11 attributes and mechanisms return;
 * output is DNSSEC wire form.
 */
#ifndef DZ_HSM_DNSKEY_H
#define DZ_HSM_DNSKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

/* DNSKEY flags (RFC 4034 section 2.1.1). */
#define DZ_DNSKEY_FLAG_ZONE 256
#define DZ_DNSKEY_FLAG_SEP 1
#define DZ_DNSKEY_PROTOCOL 3

/* Largest DS digest (SHA-384). */
#define DZ_DS_DIGEST_MAX 48

/*
 * RSA public key field of RFC 3110 section 2: exponent length (one byte, or
 * zero and two bytes when above 255), exponent, modulus, with leading zero
 * bytes of exponent and modulus removed.  DZ_EINVAL for an empty or zero
 * value, DZ_ETOOBIG if the result exceeds out_cap.
 */
dz_result_t dz_hsm_dnskey_rsa_public(const uint8_t *modulus, size_t modulus_len,
				 const uint8_t *exponent, size_t exponent_len, uint8_t *out,
				 size_t out_cap, size_t *out_len, dz_error_t *err);

/*
 * Public key field from CKA_EC_POINT for ECDSA (RFC 6605: X || Y without the
 * 0x04 prefix) or EdDSA (RFC 8080: the raw key).  Accepts the point both as
 * the DER OCTET STRING that PKCS#11 specifies and raw, as some modules
 * return it.  DZ_EINVAL if the point does not fit the algorithm.
 */
dz_result_t dz_hsm_dnskey_ec_public(uint8_t algorithm, const uint8_t *ec_point, size_t point_len,
				uint8_t *out, size_t out_cap, size_t *out_len, dz_error_t *err);

/* Length of an ECDSA or EdDSA public key field for `algorithm`; 0 for others. */
size_t dz_hsm_dnskey_ec_public_len(uint8_t algorithm);

/*
 * Append DNSKEY RDATA (flags, protocol 3, algorithm, public key) to buf.
 * DZ_ENOMEM on allocation failure.
 */
dz_result_t dz_hsm_dnskey_rdata(dz_buf_t *buf, uint16_t flags, uint8_t algorithm,
			    const uint8_t *public_key, size_t public_key_len);

/* Key tag of DNSKEY RDATA (RFC 4034 appendix B; not for algorithm 1). */
uint16_t dz_hsm_dnskey_key_tag(const uint8_t *rdata, size_t rdata_len);

/*
 * Append DS RDATA for a DNSKEY (RFC 4034 section 5.1.4, RFC 6605 for
 * SHA-384): key tag, algorithm, digest type, then the digest of the owner
 * name in canonical wire form followed by the DNSKEY RDATA.  `owner` is in
 * presentation form ("example.com.").  DZ_ENOTSUP for a digest type other
 * than 2 (SHA-256) and 4 (SHA-384), DZ_EINVAL for a bad owner.
 */
dz_result_t dz_hsm_ds_rdata(dz_buf_t *buf, const char *owner, const uint8_t *dnskey_rdata,
			size_t dnskey_rdata_len, uint8_t digest_type, dz_error_t *err);

/*
 * Format a DNSKEY record in presentation form, one line without newline:
 * "example.com. 3600 IN DNSKEY 257 3 13 BASE64".  `owner` is copied as
 * given.  Caller frees the result; NULL on ENOMEM.
 */
char *dz_hsm_dnskey_format(const char *owner, uint32_t ttl, const uint8_t *rdata,
		       size_t rdata_len);

/*
 * Format a DS record: "example.com. 3600 IN DS 12345 13 2 HEX".  Caller
 * frees the result; NULL on ENOMEM or malformed RDATA.
 */
char *dz_hsm_ds_format(const char *owner, uint32_t ttl, const uint8_t *rdata, size_t rdata_len);

/*
 * Canonical form of a zone name: lower case, absolute ("Example.COM" ->
 * "example.com."), as ldns prints it.  Caller frees the result.  DZ_EINVAL
 * names the bad input.
 */
dz_result_t dz_hsm_canonical_name(const char *name, char **out, dz_error_t *err);

/* Size of an ECDSA signature in DNSSEC form: 64 (P-256), 96 (P-384); 0 otherwise. */
size_t dz_hsm_ecdsa_signature_len(uint8_t algorithm);

/*
 * Convert what a module returned for CKM_ECDSA into the DNSSEC form r || s
 * of fixed size (RFC 6605 section 4), each integer left-padded with zeros.
 * Accepts raw r || s of exactly that size, which PKCS#11 specifies, and a
 * DER ECDSA-Sig-Value, which some modules return.  A raw signature of any
 * other size is rejected, because r and s cannot be separated in it.
 * out needs dz_hsm_ecdsa_signature_len() bytes.
 */
dz_result_t dz_hsm_ecdsa_signature_to_dnssec(uint8_t algorithm, const uint8_t *sig, size_t sig_len,
					 uint8_t *out, size_t *out_len, dz_error_t *err);

/*
 * Prefix of the DER DigestInfo that CKM_RSA_PKCS signs for RSASHA256 and
 * RSASHA512 (RFC 8017 section 9.2), to be followed by the digest.  Writes
 * the digest length to *digest_len; NULL for other algorithms.
 */
const uint8_t *dz_hsm_rsa_digest_info_prefix(uint8_t algorithm, size_t *prefix_len,
					 size_t *digest_len);

#endif
