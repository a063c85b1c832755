#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/log.h"
#include "common/policy.h"
#include "tests/unit/hsm/softhsm_fixture.h"

char fixture_log[16384];

void
fixture_write_file(const char *path, const char *content, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

softhsm_fixture_t *
softhsm_fixture_create(bool init)
{
	softhsm_fixture_t *f = calloc(1, sizeof(*f));
	char tokens[128], text[256], command[512];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/dz-hsm-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(tokens, sizeof(tokens), "%s/tokens", f->dir);
	assert_int_equal(mkdir(tokens, 0700), 0);
	snprintf(f->conf, sizeof(f->conf), "%s/softhsm2.conf", f->dir);
	snprintf(text, sizeof(text),
		 "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
		 tokens);
	fixture_write_file(f->conf, text, 0600);
	assert_int_equal(setenv("SOFTHSM2_CONF", f->conf, 1), 0);

	snprintf(f->pin_file, sizeof(f->pin_file), "%s/user.pin", f->dir);
	fixture_write_file(f->pin_file, FIXTURE_PIN "\n", 0600);
	snprintf(f->so_pin_file, sizeof(f->so_pin_file), "%s/so.pin", f->dir);
	fixture_write_file(f->so_pin_file, FIXTURE_SO_PIN "\n", 0600);

	f->module = getenv("DZ_SOFTHSM_MODULE");
	if (f->module == NULL || f->module[0] == '\0')
		f->module = DZ_DEFAULT_PKCS11_MODULE;
	f->config.module_path = f->module;
	f->config.token = FIXTURE_LABEL;
	f->config.pin_file = f->pin_file;
	f->config.sessions = 1;

	if (init) {
		snprintf(command, sizeof(command),
			 "softhsm2-util --init-token --free --label " FIXTURE_LABEL
			 " --pin " FIXTURE_PIN " --so-pin " FIXTURE_SO_PIN " >/dev/null");
		assert_int_equal(system(command), 0);
	}
	return f;
}

void
softhsm_fixture_destroy(softhsm_fixture_t *f)
{
	char command[128];

	dz_log_set_sink(NULL, NULL);
	snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
	assert_int_equal(system(command), 0);
	free(f);
}

static void
capture(dz_log_level_t level, const char *line, void *ctx)
{
	size_t used = strlen(fixture_log);

	(void)level;
	(void)ctx;
	snprintf(fixture_log + used, sizeof(fixture_log) - used, "%s\n", line);
}

void
fixture_capture_log(void)
{
	fixture_log[0] = '\0';
	dz_log_set_sink(capture, NULL);
}

/* RSA public key from the RFC 3110 field. */
static EVP_PKEY *
rsa_key(const uint8_t *key, size_t len)
{
	size_t exponent_len, pos;
	EVP_PKEY *pkey = NULL;

	assert_true(len > 3);
	if (key[0] != 0) {
		exponent_len = key[0];
		pos = 1;
	} else {
		exponent_len = ((size_t)key[1] << 8) | key[2];
		pos = 3;
	}
	assert_true(pos + exponent_len < len);
	BIGNUM *e = BN_bin2bn(key + pos, (int)exponent_len, NULL);
	BIGNUM *n = BN_bin2bn(key + pos + exponent_len, (int)(len - pos - exponent_len), NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	return pkey;
}

/* EC public key from X || Y (RFC 6605). */
static EVP_PKEY *
ec_key(const char *group, const uint8_t *key, size_t len)
{
	uint8_t point[97];
	EVP_PKEY *pkey = NULL;

	assert_true(len + 1 <= sizeof(point));
	point[0] = 0x04;
	memcpy(point + 1, key, len);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
			 1);
	assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
							  len + 1), 1);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* DER ECDSA-Sig-Value from r || s; caller frees *der. */
static size_t
ecdsa_der(const uint8_t *sig, size_t len, unsigned char **der)
{
	ECDSA_SIG *parsed = ECDSA_SIG_new();

	assert_int_equal(ECDSA_SIG_set0(parsed, BN_bin2bn(sig, (int)(len / 2), NULL),
					BN_bin2bn(sig + len / 2, (int)(len / 2), NULL)), 1);
	*der = NULL;
	int der_len = i2d_ECDSA_SIG(parsed, der);
	ECDSA_SIG_free(parsed);
	assert_true(der_len > 0);
	return (size_t)der_len;
}

bool
fixture_verify(uint8_t algorithm, const uint8_t *public_key, size_t public_key_len,
	       const uint8_t *data, size_t data_len, const uint8_t *signature,
	       size_t signature_len)
{
	EVP_PKEY *pkey = NULL;
	const EVP_MD *md = NULL;
	unsigned char *der = NULL;

	switch (algorithm) {
	case DZ_ALG_RSASHA256:
		pkey = rsa_key(public_key, public_key_len);
		md = EVP_sha256();
		break;
	case DZ_ALG_RSASHA512:
		pkey = rsa_key(public_key, public_key_len);
		md = EVP_sha512();
		break;
	case DZ_ALG_ECDSAP256SHA256:
		assert_int_equal(signature_len, 64);
		pkey = ec_key("P-256", public_key, public_key_len);
		md = EVP_sha256();
		break;
	case DZ_ALG_ECDSAP384SHA384:
		assert_int_equal(signature_len, 96);
		pkey = ec_key("P-384", public_key, public_key_len);
		md = EVP_sha384();
		break;
	case DZ_ALG_ED25519:
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key,
						   public_key_len);
		break;
	case DZ_ALG_ED448:
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, public_key,
						   public_key_len);
		break;
	default:
		fail_msg("no verifier for algorithm %u", (unsigned)algorithm);
	}
	assert_non_null(pkey);
	if (algorithm == DZ_ALG_ECDSAP256SHA256 || algorithm == DZ_ALG_ECDSAP384SHA384) {
		signature_len = ecdsa_der(signature, signature_len, &der);
		signature = der;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey), 1);
	int ok = EVP_DigestVerify(ctx, signature, signature_len, data, data_len);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	OPENSSL_free(der);
	return ok == 1;
}
