/*
 * DNSKEY, key tag, DS and signature encodings against published vectors:
 * the examples of RFC 4034 section 5.4, RFC 5702 section 6.1, RFC 6605
 * section 6 and RFC 8080 section 6.  Each DS below was also reproduced with
 * ldns-key2ds from the DNSKEY records shown.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "common/mem.h"
#include "common/policy.h"
#include "hsm/dnskey.h"

typedef struct vector {
	const char *owner;
	uint16_t flags;
	uint8_t algorithm;
	const char *public_key;	/* base64 */
	uint16_t key_tag;
	uint8_t digest_type;	/* 0: no DS vector */
	const char *digest;	/* hex */
} vector_t;

static const vector_t vectors[] = {
	/* RFC 4034 section 5.4 (RSASHA1; DS with SHA-1, which danezone does not make). */
	{ "dskey.example.com.", 256, 5,
	  "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
	  60485, 0, NULL },
	/* RFC 5702 section 6.1; DS computed with ldns-key2ds -f -2. */
	{ "example.net.", 256, 8,
	  "AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=",
	  9033, 2, "4fb561367705cc70dac0e34755aa13ab400b4a435ab5bdc3834bd04e13d4a086" },
	/* RFC 6605 section 6.1. */
	{ "example.net.", 257, 13,
	  "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
	  55648, 2, "b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17" },
	/* RFC 6605 section 6.2. */
	{ "example.net.", 257, 14,
	  "xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40",
	  10771, 4,
	  "72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6" },
	/* RFC 8080 section 6.1. */
	{ "example.com.", 257, 15, "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
	  3613, 2, "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b" },
	/* RFC 8080 section 6.2. */
	{ "example.com.", 257, 16,
	  "3kgROaDjrh0H2iuixWBrc8g2EpBBLCdGzHmn+G2MpTPhpj/OiBVHHSfPodx1FYYUcJKm1MDpJtIA",
	  9713, 2, "6ccf18d5bc5d7fc2fceb1d59d17321402f2aa8d368048db93dd811f5cb2b19c7" },
};

/* Decode base64 with OpenSSL, dropping the zero bytes that '=' padding adds. */
static size_t
base64_decode(const char *text, uint8_t *out, size_t cap)
{
	size_t len = strlen(text);
	int n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);

	assert_true(n >= 0);
	assert_true((size_t)n <= cap);
	if (len >= 1 && text[len - 1] == '=')
		n--;
	if (len >= 2 && text[len - 2] == '=')
		n--;
	return (size_t)n;
}

static void
build_rdata(const vector_t *v, dz_buf_t *rdata)
{
	uint8_t key[512];
	size_t key_len = base64_decode(v->public_key, key, sizeof(key));

	dz_buf_init(rdata);
	assert_int_equal(dz_hsm_dnskey_rdata(rdata, v->flags, v->algorithm, key, key_len), DZ_OK);
	assert_int_equal(rdata->len, 4 + key_len);
}

static void
key_tag_matches_rfc_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(vectors); i++) {
		dz_buf_t rdata;
		build_rdata(&vectors[i], &rdata);
		assert_int_equal(dz_hsm_dnskey_key_tag(rdata.data, rdata.len), vectors[i].key_tag);
		dz_buf_clear(&rdata);
	}
}

static void
ds_matches_rfc_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < DZ_ARRAY_SIZE(vectors); i++) {
		const vector_t *v = &vectors[i];
		dz_buf_t rdata, ds;
		char hex[2 * DZ_DS_DIGEST_MAX + 1];

		if (v->digest_type == 0)
			continue;
		build_rdata(v, &rdata);
		dz_buf_init(&ds);
		assert_int_equal(dz_hsm_ds_rdata(&ds, v->owner, rdata.data, rdata.len,
						 v->digest_type, NULL), DZ_OK);
		assert_int_equal(ds.len, 4 + strlen(v->digest) / 2);
		assert_int_equal((ds.data[0] << 8) | ds.data[1], v->key_tag);
		assert_int_equal(ds.data[2], v->algorithm);
		assert_int_equal(ds.data[3], v->digest_type);
		dz_hex_encode(ds.data + 4, ds.len - 4, hex);
		assert_string_equal(hex, v->digest);
		dz_buf_clear(&ds);
		dz_buf_clear(&rdata);
	}
}

static void
ds_owner_is_canonicalised(void **state)
{
	const vector_t *v = &vectors[2];
	dz_buf_t rdata, lower, upper;

	(void)state;
	build_rdata(v, &rdata);
	dz_buf_init(&lower);
	dz_buf_init(&upper);
	assert_int_equal(dz_hsm_ds_rdata(&lower, "example.net.", rdata.data, rdata.len, 2, NULL),
			 DZ_OK);
	/* RFC 4034 section 6.2: the owner is hashed in lower case; a relative name is made absolute. */
	assert_int_equal(dz_hsm_ds_rdata(&upper, "EXAMPLE.Net", rdata.data, rdata.len, 2, NULL),
			 DZ_OK);
	assert_int_equal(lower.len, upper.len);
	assert_memory_equal(lower.data, upper.data, lower.len);
	dz_buf_clear(&lower);
	dz_buf_clear(&upper);
	dz_buf_clear(&rdata);
}

static void
ds_rejects_sha1_and_bad_owner(void **state)
{
	dz_buf_t rdata, ds;
	dz_error_t err;

	(void)state;
	build_rdata(&vectors[2], &rdata);
	dz_buf_init(&ds);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_ds_rdata(&ds, "example.net.", rdata.data, rdata.len, 1, &err),
			 DZ_ENOTSUP);
	assert_non_null(strstr(err.message, "digest type 1"));
	assert_int_equal(dz_hsm_ds_rdata(&ds, "exa..mple.", rdata.data, rdata.len, 2, &err),
			 DZ_EINVAL);
	assert_non_null(strstr(err.message, "exa..mple."));
	assert_int_equal(ds.len, 0);
	dz_buf_clear(&rdata);
}

static void
records_format_as_zone_file_lines(void **state)
{
	const vector_t *v = &vectors[4];
	dz_buf_t rdata, ds;

	(void)state;
	build_rdata(v, &rdata);
	char *dnskey = dz_hsm_dnskey_format("example.com.", 3600, rdata.data, rdata.len);
	assert_string_equal(dnskey, "example.com. 3600 IN DNSKEY 257 3 15 "
				    "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=");
	dz_buf_init(&ds);
	assert_int_equal(dz_hsm_ds_rdata(&ds, "example.com.", rdata.data, rdata.len, 2, NULL),
			 DZ_OK);
	char *line = dz_hsm_ds_format("example.com.", 86400, ds.data, ds.len);
	assert_string_equal(line, "example.com. 86400 IN DS 3613 15 2 "
				  "3AA5AB37EFCE57F737FC1627013FEE07BDF241BD10F3B1964AB55C78E79A304B");
	free(line);
	free(dnskey);
	dz_buf_clear(&ds);
	dz_buf_clear(&rdata);
}

static void
rsa_public_key_short_exponent(void **state)
{
	const uint8_t modulus[] = { 0x00, 0xc1, 0x5c, 0x1a, 0xc6 };
	const uint8_t exponent[] = { 0x01, 0x00, 0x01 };
	const uint8_t expected[] = { 0x03, 0x01, 0x00, 0x01, 0xc1, 0x5c, 0x1a, 0xc6 };
	uint8_t out[64];
	size_t len = 0;

	(void)state;
	assert_int_equal(dz_hsm_dnskey_rsa_public(modulus, sizeof(modulus), exponent,
						  sizeof(exponent), out, sizeof(out), &len, NULL),
			 DZ_OK);
	assert_int_equal(len, sizeof(expected));
	assert_memory_equal(out, expected, len);
}

static void
rsa_public_key_long_exponent(void **state)
{
	uint8_t exponent[300];
	const uint8_t modulus[] = { 0xab, 0xcd };
	uint8_t out[400];
	size_t len = 0;

	(void)state;
	memset(exponent, 0x11, sizeof(exponent));
	/* RFC 3110 section 2: above 255 bytes, a zero byte and a two-byte length. */
	assert_int_equal(dz_hsm_dnskey_rsa_public(modulus, sizeof(modulus), exponent,
						  sizeof(exponent), out, sizeof(out), &len, NULL),
			 DZ_OK);
	assert_int_equal(len, 3 + 300 + 2);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 300 >> 8);
	assert_int_equal(out[2], 300 & 0xff);
	assert_int_equal(out[3], 0x11);
	assert_int_equal(out[303], 0xab);
	assert_int_equal(out[304], 0xcd);
}

static void
rsa_public_key_rejects_zero_modulus(void **state)
{
	const uint8_t zero[] = { 0x00, 0x00 };
	const uint8_t exponent[] = { 0x03 };
	uint8_t out[16];
	size_t len = 0;
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_dnskey_rsa_public(zero, sizeof(zero), exponent, sizeof(exponent),
						  out, sizeof(out), &len, &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "modulus"));
}

static void
ec_public_key_der_and_raw(void **state)
{
	uint8_t der[67], raw[65], out[96];
	size_t len = 0;

	(void)state;
	raw[0] = 0x04;
	for (int i = 1; i < 65; i++)
		raw[i] = (uint8_t)i;
	der[0] = 0x04;	/* OCTET STRING */
	der[1] = 65;
	memcpy(der + 2, raw, sizeof(raw));

	assert_int_equal(dz_hsm_dnskey_ec_public(13, der, sizeof(der), out, sizeof(out), &len, NULL),
			 DZ_OK);
	assert_int_equal(len, 64);
	assert_memory_equal(out, raw + 1, 64);
	len = 0;
	assert_int_equal(dz_hsm_dnskey_ec_public(13, raw, sizeof(raw), out, sizeof(out), &len, NULL),
			 DZ_OK);
	assert_int_equal(len, 64);
	assert_memory_equal(out, raw + 1, 64);
}

static void
ec_public_key_rejects_compressed_point(void **state)
{
	uint8_t raw[65];
	uint8_t out[96];
	size_t len = 0;
	dz_error_t err;

	(void)state;
	memset(raw, 0x22, sizeof(raw));
	raw[0] = 0x03;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_dnskey_ec_public(13, raw, sizeof(raw), out, sizeof(out), &len, &err),
			 DZ_EINVAL);
	assert_non_null(strstr(err.message, "uncompressed"));
	/* A P-256 point is not a P-384 key. */
	raw[0] = 0x04;
	assert_int_equal(dz_hsm_dnskey_ec_public(14, raw, sizeof(raw), out, sizeof(out), &len, &err),
			 DZ_EINVAL);
	assert_non_null(strstr(err.message, "ECDSAP384SHA384"));
}

static void
eddsa_public_key_der_and_raw(void **state)
{
	uint8_t der[34], out[64];
	size_t len = 0;

	(void)state;
	der[0] = 0x04;
	der[1] = 32;
	for (int i = 0; i < 32; i++)
		der[2 + i] = (uint8_t)(0xa0 + i);
	assert_int_equal(dz_hsm_dnskey_ec_public(15, der, sizeof(der), out, sizeof(out), &len, NULL),
			 DZ_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(out, der + 2, 32);
	assert_int_equal(dz_hsm_dnskey_ec_public(15, der + 2, 32, out, sizeof(out), &len, NULL),
			 DZ_OK);
	assert_memory_equal(out, der + 2, 32);
	assert_int_equal(dz_hsm_dnskey_ec_public(16, der, sizeof(der), out, sizeof(out), &len, NULL),
			 DZ_EINVAL);
}

/* DER-encode r and s with OpenSSL, as some modules return ECDSA signatures. */
static size_t
der_signature(const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len, uint8_t *out)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	unsigned char *p = out;

	assert_non_null(sig);
	assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(r, (int)r_len, NULL),
					BN_bin2bn(s, (int)s_len, NULL)), 1);
	int len = i2d_ECDSA_SIG(sig, &p);
	ECDSA_SIG_free(sig);
	assert_true(len > 0);
	return (size_t)len;
}

static void
ecdsa_signature_raw_passes_through(void **state)
{
	uint8_t raw[64], out[96];
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 64; i++)
		raw[i] = (uint8_t)(i + 1);
	assert_int_equal(dz_hsm_ecdsa_signature_to_dnssec(13, raw, 64, out, &len, NULL), DZ_OK);
	assert_int_equal(len, 64);
	assert_memory_equal(out, raw, 64);
}

static void
ecdsa_signature_der_is_padded(void **state)
{
	uint8_t r[31], s[48], der[128], out[96];
	size_t len = 0;

	(void)state;
	/* r one byte short (its leading byte was zero); s with the high bit set. */
	memset(r, 0x5a, sizeof(r));
	memset(s, 0xf0, sizeof(s));
	size_t der_len = der_signature(r, sizeof(r), s, sizeof(s), der);
	assert_int_equal(dz_hsm_ecdsa_signature_to_dnssec(14, der, der_len, out, &len, NULL), DZ_OK);
	assert_int_equal(len, 96);
	for (int i = 0; i < 17; i++)
		assert_int_equal(out[i], 0);
	assert_memory_equal(out + 17, r, sizeof(r));
	assert_memory_equal(out + 48, s, sizeof(s));
}

static void
ecdsa_signature_rejects_odd_sizes(void **state)
{
	uint8_t raw[63], out[96];
	size_t len = 0;
	dz_error_t err;

	(void)state;
	memset(raw, 0x30, sizeof(raw));
	dz_error_init(&err);
	assert_int_equal(dz_hsm_ecdsa_signature_to_dnssec(13, raw, sizeof(raw), out, &len, &err),
			 DZ_EHSM);
	assert_non_null(strstr(err.message, "63 bytes"));
	/* A P-384 signature in DER does not fit a P-256 key. */
	uint8_t big[48], der[128];
	memset(big, 0x7f, sizeof(big));
	size_t der_len = der_signature(big, sizeof(big), big, sizeof(big), der);
	assert_int_equal(dz_hsm_ecdsa_signature_to_dnssec(13, der, der_len, out, &len, &err),
			 DZ_EHSM);
}

static void
canonical_name_lowercases(void **state)
{
	char *name = NULL;
	dz_error_t err;

	(void)state;
	assert_int_equal(dz_hsm_canonical_name("Mail.Example.COM", &name, NULL), DZ_OK);
	assert_string_equal(name, "mail.example.com.");
	free(name);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_canonical_name("a..b", &name, &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "'a..b'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_tag_matches_rfc_examples),
		cmocka_unit_test(ds_matches_rfc_examples),
		cmocka_unit_test(ds_owner_is_canonicalised),
		cmocka_unit_test(ds_rejects_sha1_and_bad_owner),
		cmocka_unit_test(records_format_as_zone_file_lines),
		cmocka_unit_test(rsa_public_key_short_exponent),
		cmocka_unit_test(rsa_public_key_long_exponent),
		cmocka_unit_test(rsa_public_key_rejects_zero_modulus),
		cmocka_unit_test(ec_public_key_der_and_raw),
		cmocka_unit_test(ec_public_key_rejects_compressed_point),
		cmocka_unit_test(eddsa_public_key_der_and_raw),
		cmocka_unit_test(ecdsa_signature_raw_passes_through),
		cmocka_unit_test(ecdsa_signature_der_is_padded),
		cmocka_unit_test(ecdsa_signature_rejects_odd_sizes),
		cmocka_unit_test(canonical_name_lowercases),
	};

	return cmocka_run_group_tests_name("hsm/dnskey", tests, NULL, NULL);
}
