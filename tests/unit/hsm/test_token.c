/*
 * Keys in a real SoftHSM2 token: generation, attributes, index, signing
 * verified with OpenSSL from the DNSKEY alone, recovery after lost
 * sessions, and the error messages of each failure.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/mem.h"
#include "common/policy.h"
#include "hsm/dnskey.h"
#include "hsm/hsm.h"
#include "hsm/internal.h"
#include "tests/unit/hsm/softhsm_fixture.h"

static const uint8_t all_algorithms[] = {
	DZ_ALG_RSASHA256, DZ_ALG_ECDSAP256SHA256, DZ_ALG_ECDSAP384SHA384, DZ_ALG_ED25519,
	DZ_ALG_ED448,
};

static int
setup_token(void **state)
{
	*state = softhsm_fixture_create(true);
	return 0;
}

static int
setup_empty(void **state)
{
	*state = softhsm_fixture_create(false);
	return 0;
}

static int
teardown(void **state)
{
	softhsm_fixture_destroy(*state);
	return 0;
}

static dz_hsm_t *
open_token(softhsm_fixture_t *f)
{
	dz_hsm_t *hsm = NULL;
	dz_error_t err;

	dz_error_init(&err);
	if (dz_hsm_create(&f->config, &hsm, &err) != DZ_OK)
		fail_msg("opening the token failed: %s", err.message);
	return hsm;
}

static dz_hsm_key_t
generate(dz_hsm_t *hsm, uint8_t algorithm)
{
	dz_hsm_key_t key;
	dz_error_t err;
	unsigned bits = algorithm == DZ_ALG_RSASHA256 ? 2048 : 0;

	dz_error_init(&err);
	if (dz_hsm_generate_key(hsm, algorithm, bits, "test key", &key, &err) != DZ_OK)
		fail_msg("generating %s failed: %s", dz_algorithm_name(algorithm), err.message);
	return key;
}

/* Sign `data` with the key and check the signature with OpenSSL. */
static void
sign_and_verify(dz_hsm_t *hsm, const dz_hsm_key_t *key, uint8_t algorithm, const char *data)
{
	uint8_t public_key[DZ_HSM_PUBLIC_KEY_MAX];
	size_t public_key_len = 0;
	dz_sign_request_t request;
	dz_error_t err;

	dz_error_init(&err);
	assert_int_equal(dz_hsm_public_key(hsm, key->id, key->id_len, algorithm, public_key,
					   &public_key_len, &err), DZ_OK);
	memset(&request, 0, sizeof(request));
	memcpy(request.key_id, key->id, key->id_len);
	request.key_id_len = key->id_len;
	request.algorithm = algorithm;
	request.data = (const uint8_t *)data;
	request.data_len = strlen(data);
	if (dz_hsm_sign(hsm, &request, 1, &err) != DZ_OK)
		fail_msg("signing with %s failed: %s", dz_algorithm_name(algorithm), err.message);
	assert_int_equal(request.result, DZ_OK);
	assert_true(fixture_verify(algorithm, public_key, public_key_len, request.data,
				   request.data_len, request.signature, request.signature_len));
	/* A changed byte must not verify, or the check above proves nothing. */
	request.signature[request.signature_len / 2] ^= 0x01;
	assert_false(fixture_verify(algorithm, public_key, public_key_len, request.data,
				    request.data_len, request.signature, request.signature_len));
}

static void
each_algorithm_signs_verifiably(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);

	for (size_t i = 0; i < DZ_ARRAY_SIZE(all_algorithms); i++) {
		uint8_t algorithm = all_algorithms[i];
		dz_hsm_key_t key = generate(hsm, algorithm);
		assert_int_equal(key.id_len, DZ_HSM_NEW_KEY_ID_LEN);
		assert_int_equal(key.algorithm, algorithm);
		assert_true(key.has_public_key);
		sign_and_verify(hsm, &key, algorithm, "example.com. RRset to sign");
	}
	dz_hsm_destroy(hsm);
}

static void
rsa_key_signs_rsasha512_too(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_hsm_key_t key = generate(hsm, DZ_ALG_RSASHA256);

	sign_and_verify(hsm, &key, DZ_ALG_RSASHA512, "data signed with SHA-512");
	dz_hsm_destroy(hsm);
}

/* Read a CK_BBOOL attribute of the private key with the module's own functions. */
static bool
private_flag(dz_hsm_t *hsm, const dz_hsm_key_t *key, CK_ATTRIBUTE_TYPE type)
{
	dz_hsm_key_entry_t *entry = dz_hsm_index_find(hsm, key->id, key->id_len);
	CK_BBOOL value = CK_FALSE;
	CK_ATTRIBUTE attr = { type, &value, sizeof(value) };

	assert_non_null(entry);
	assert_int_equal(hsm->p11->C_GetAttributeValue(hsm->sessions[0], entry->private_handle,
						       &attr, 1), CKR_OK);
	return value == CK_TRUE;
}

static void
private_key_cannot_leave_token(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);

	for (size_t i = 0; i < DZ_ARRAY_SIZE(all_algorithms); i++) {
		dz_hsm_key_t key = generate(hsm, all_algorithms[i]);
		assert_true(private_flag(hsm, &key, CKA_SENSITIVE));
		assert_false(private_flag(hsm, &key, CKA_EXTRACTABLE));
		assert_true(private_flag(hsm, &key, CKA_TOKEN));
		assert_true(private_flag(hsm, &key, CKA_PRIVATE));
		assert_true(private_flag(hsm, &key, CKA_SIGN));
		assert_false(private_flag(hsm, &key, CKA_DECRYPT));
	}
	dz_hsm_destroy(hsm);
}

static void
index_finds_keys_after_reopen(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_hsm_key_t keys[3], found;
	dz_hsm_key_t *list = NULL;
	size_t count = 0;
	dz_error_t err;

	keys[0] = generate(hsm, DZ_ALG_ECDSAP256SHA256);
	keys[1] = generate(hsm, DZ_ALG_ED25519);
	keys[2] = generate(hsm, DZ_ALG_RSASHA256);
	assert_int_equal(dz_hsm_set_key_label(hsm, keys[1].id, keys[1].id_len,
					      "example.com. ZSK 12345 ED25519", NULL), DZ_OK);
	dz_hsm_destroy(hsm);

	hsm = open_token(f);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_list_keys(hsm, &list, &count, &err), DZ_OK);
	assert_int_equal(count, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(dz_hsm_find_key(hsm, keys[i].id, keys[i].id_len, &found, &err),
				 DZ_OK);
		assert_int_equal(found.algorithm, keys[i].algorithm);
		assert_memory_equal(found.id, keys[i].id, keys[i].id_len);
	}
	assert_int_equal(dz_hsm_find_key_by_label(hsm, "example.com. ZSK 12345 ED25519", &found,
						  &err), DZ_OK);
	assert_memory_equal(found.id, keys[1].id, keys[1].id_len);
	assert_int_equal(found.bits, 255);
	assert_int_equal(dz_hsm_find_key(hsm, keys[2].id, keys[2].id_len, &found, &err), DZ_OK);
	assert_int_equal(found.bits, 2048);
	free(list);

	assert_int_equal(dz_hsm_delete_key(hsm, keys[0].id, keys[0].id_len, &err), DZ_OK);
	assert_int_equal(dz_hsm_find_key(hsm, keys[0].id, keys[0].id_len, &found, &err),
			 DZ_EHSM_KEY);
	dz_hsm_destroy(hsm);
}

static void
index_sees_key_made_elsewhere(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *first = open_token(f);
	dz_hsm_t *second = open_token(f);
	dz_hsm_key_t found;
	struct timespec pause = { 1, 100 * 1000 * 1000 };

	/* The second connection indexed the token before this key existed. */
	dz_hsm_key_t key = generate(first, DZ_ALG_ECDSAP256SHA256);
	nanosleep(&pause, NULL);
	assert_int_equal(dz_hsm_find_key(second, key.id, key.id_len, &found, NULL), DZ_OK);
	sign_and_verify(second, &key, DZ_ALG_ECDSAP256SHA256, "signed by the second connection");
	dz_hsm_destroy(first);
	dz_hsm_destroy(second);
}

static void
init_token_creates_usable_token(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_token_info_t token;
	dz_error_t err;

	dz_error_init(&err);
	assert_int_equal(dz_hsm_init_token(f->module, FIXTURE_LABEL, f->so_pin_file, f->pin_file,
					   &token, &err), DZ_OK);
	assert_string_equal(token.label, FIXTURE_LABEL);
	assert_true(token.initialized);
	assert_true(token.serial[0] != '\0');
	dz_hsm_t *hsm = open_token(f);
	assert_string_equal(dz_hsm_token(hsm)->serial, token.serial);
	dz_hsm_destroy(hsm);

	assert_int_equal(dz_hsm_init_token(f->module, FIXTURE_LABEL, f->so_pin_file, f->pin_file,
					   &token, &err), DZ_EEXIST);
	assert_non_null(strstr(err.message, "already exists"));
}

static void
missing_module_is_named(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = NULL;
	dz_error_t err;

	f->config.module_path = "/nonexistent/libpkcs11.so";
	dz_error_init(&err);
	assert_int_equal(dz_hsm_create(&f->config, &hsm, &err), DZ_EHSM_MODULE);
	assert_null(hsm);
	assert_non_null(strstr(err.message, "/nonexistent/libpkcs11.so"));
	assert_non_null(strstr(err.message, "cannot be read"));
}

static void
non_pkcs11_library_is_named(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = NULL;
	Dl_info info;
	dz_error_t err;

	/* libcrypto is a shared library without C_GetFunctionList. */
	assert_int_not_equal(dladdr((void *)EVP_sha256, &info), 0);
	f->config.module_path = info.dli_fname;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_create(&f->config, &hsm, &err), DZ_EHSM_MODULE);
	assert_non_null(strstr(err.message, "is not a PKCS#11 module"));
	assert_non_null(strstr(err.message, info.dli_fname));
}

static void
text_file_module_is_named(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = NULL;
	char path[160];
	dz_error_t err;

	snprintf(path, sizeof(path), "%s/not-a-library.so", f->dir);
	fixture_write_file(path, "this is text\n", 0644);
	f->config.module_path = path;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_create(&f->config, &hsm, &err), DZ_EHSM_MODULE);
	assert_non_null(strstr(err.message, "cannot load PKCS#11 module"));
	assert_non_null(strstr(err.message, path));
}

static void
unknown_token_lists_present_ones(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = NULL;
	dz_error_t err;

	f->config.token = "no-such-token";
	dz_error_init(&err);
	assert_int_equal(dz_hsm_create(&f->config, &hsm, &err), DZ_EHSM_TOKEN);
	assert_non_null(strstr(err.message, "token 'no-such-token' not found"));
	assert_non_null(strstr(err.message, "tokens present: '" FIXTURE_LABEL "'"));

	f->config.token = "pkcs11:token=other;serial=0000";
	assert_int_equal(dz_hsm_create(&f->config, &hsm, &err), DZ_EHSM_TOKEN);
	assert_non_null(strstr(err.message, "pkcs11:token=other;serial=0000"));
}

static void
token_found_by_uri(void **state)
{
	softhsm_fixture_t *f = *state;
	char uri[256];
	dz_hsm_t *hsm = open_token(f);
	const char *serial = dz_hsm_token(hsm)->serial;

	snprintf(uri, sizeof(uri), "pkcs11:token=%s;serial=%s;pin-source=file:%s", FIXTURE_LABEL,
		 serial, f->pin_file);
	dz_hsm_destroy(hsm);
	f->config.token = uri;
	f->config.pin_file = NULL;
	hsm = open_token(f);
	assert_string_equal(dz_hsm_token(hsm)->label, FIXTURE_LABEL);
	dz_hsm_destroy(hsm);
}

static void
wrong_pin_is_not_retried(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = NULL;
	dz_error_t err;

	fixture_write_file(f->pin_file, "999999\n", 0600);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_create(&f->config, &hsm, &err), DZ_EHSM_PIN);
	assert_null(hsm);
	assert_non_null(strstr(err.message, "wrong PIN"));
	assert_non_null(strstr(err.message, f->pin_file));
	assert_non_null(strstr(err.message, "does not retry"));
	assert_null(strstr(err.message, "999999"));
	assert_null(strstr(err.message, FIXTURE_PIN));
}

static void
pin_file_for_group_is_rejected(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = NULL;
	dz_error_t err;

	fixture_write_file(f->pin_file, FIXTURE_PIN "\n", 0644);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_create(&f->config, &hsm, &err), DZ_EPERM);
	assert_non_null(strstr(err.message, f->pin_file));
	assert_non_null(strstr(err.message, "chmod 600"));
	assert_null(strstr(err.message, FIXTURE_PIN));
}

static void
pin_file_must_hold_one_line(void **state)
{
	softhsm_fixture_t *f = *state;
	char pin[16];
	size_t len = 0;
	dz_error_t err;

	dz_error_init(&err);
	fixture_write_file(f->pin_file, "1234\n5678\n", 0600);
	assert_int_equal(dz_hsm_read_pin_file(f->pin_file, pin, sizeof(pin), &len, &err),
			 DZ_EINVAL);
	assert_null(strstr(err.message, "5678"));
	fixture_write_file(f->pin_file, "", 0600);
	assert_int_equal(dz_hsm_read_pin_file(f->pin_file, pin, sizeof(pin), &len, &err),
			 DZ_EINVAL);
	fixture_write_file(f->pin_file, "123456789012345678901234\n", 0600);
	assert_int_equal(dz_hsm_read_pin_file(f->pin_file, pin, sizeof(pin), &len, &err),
			 DZ_EINVAL);
	assert_non_null(strstr(err.message, "longer than"));
	fixture_write_file(f->pin_file, "4711\r\n", 0600);
	assert_int_equal(dz_hsm_read_pin_file(f->pin_file, pin, sizeof(pin), &len, &err), DZ_OK);
	assert_string_equal(pin, "4711");
	assert_int_equal(len, 4);
}

static void
missing_key_names_id(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_sign_request_t request;
	dz_error_t err;

	memset(&request, 0, sizeof(request));
	memset(request.key_id, 0xab, 4);
	request.key_id_len = 4;
	request.algorithm = DZ_ALG_ECDSAP256SHA256;
	request.data = (const uint8_t *)"x";
	request.data_len = 1;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_sign(hsm, &request, 1, &err), DZ_EHSM_KEY);
	assert_int_equal(request.result, DZ_EHSM_KEY);
	assert_non_null(strstr(err.message, "CKA_ID abababab"));
	assert_non_null(strstr(err.message, FIXTURE_LABEL));
	dz_hsm_destroy(hsm);
}

/* A key generated by another handle just after login is found at its first use. */
static void
key_generated_after_login_signs(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *signer = open_token(f);
	dz_hsm_t *ceremony = open_token(f);
	dz_hsm_key_t key = generate(ceremony, DZ_ALG_ECDSAP256SHA256);
	dz_sign_request_t request;
	dz_error_t err;

	memset(&request, 0, sizeof(request));
	memcpy(request.key_id, key.id, key.id_len);
	request.key_id_len = key.id_len;
	request.algorithm = DZ_ALG_ECDSAP256SHA256;
	request.data = (const uint8_t *)"x";
	request.data_len = 1;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_sign(signer, &request, 1, &err), DZ_OK);
	assert_int_equal(request.result, DZ_OK);
	assert_int_equal(request.signature_len, 64);
	dz_hsm_destroy(ceremony);
	dz_hsm_destroy(signer);
}

static void
key_of_other_algorithm_is_refused(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_hsm_key_t key = generate(hsm, DZ_ALG_ECDSAP256SHA256);
	dz_sign_request_t request;
	dz_error_t err;

	memset(&request, 0, sizeof(request));
	memcpy(request.key_id, key.id, key.id_len);
	request.key_id_len = key.id_len;
	request.algorithm = DZ_ALG_ED25519;
	request.data = (const uint8_t *)"x";
	request.data_len = 1;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_sign(hsm, &request, 1, &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "ECDSAP256SHA256 key"));
	assert_non_null(strstr(err.message, "ED25519 signatures"));
	dz_hsm_destroy(hsm);
}

static void
unsupported_sizes_and_algorithms(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_hsm_key_t key;
	dz_error_t err;

	dz_error_init(&err);
	assert_int_equal(dz_hsm_generate_key(hsm, DZ_ALG_RSASHA256, 1024, "small", &key, &err),
			 DZ_ERANGE);
	assert_non_null(strstr(err.message, "1024 bits"));
	assert_int_equal(dz_hsm_generate_key(hsm, 5, 2048, "rsasha1", &key, &err), DZ_ENOTSUP);
	assert_non_null(strstr(err.message, "algorithm 5"));
	assert_int_equal(dz_hsm_generate_key(hsm, DZ_ALG_ED25519, 256, "bits", &key, &err),
			 DZ_EINVAL);
	dz_hsm_destroy(hsm);
}

static void
closed_sessions_are_reopened(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_hsm_key_t key = generate(hsm, DZ_ALG_ECDSAP256SHA256);

	fixture_capture_log();
	/* Close every session of the process under the connection's feet. */
	assert_int_equal(hsm->p11->C_CloseAllSessions(hsm->token.slot), CKR_OK);
	sign_and_verify(hsm, &key, DZ_ALG_ECDSAP256SHA256, "after the sessions were closed");
	assert_non_null(strstr(fixture_log, "CKR_SESSION_HANDLE_INVALID"));
	assert_non_null(strstr(fixture_log, "logging in again"));
	assert_non_null(strstr(fixture_log, "sessions reopened"));
	dz_hsm_destroy(hsm);
}

static void
finalized_module_is_reinitialised(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_hsm_key_t key = generate(hsm, DZ_ALG_ED25519);

	fixture_capture_log();
	assert_int_equal(hsm->p11->C_Finalize(NULL), CKR_OK);
	sign_and_verify(hsm, &key, DZ_ALG_ED25519, "after C_Finalize");
	assert_non_null(strstr(fixture_log, "CKR_CRYPTOKI_NOT_INITIALIZED"));
	dz_hsm_destroy(hsm);
}

static void
lost_session_with_wrong_pin_stays_failed(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_hsm_key_t key = generate(hsm, DZ_ALG_ECDSAP256SHA256);
	dz_sign_request_t request;
	dz_error_t err;

	memset(&request, 0, sizeof(request));
	memcpy(request.key_id, key.id, key.id_len);
	request.key_id_len = key.id_len;
	request.algorithm = DZ_ALG_ECDSAP256SHA256;
	request.data = (const uint8_t *)"x";
	request.data_len = 1;

	fixture_write_file(f->pin_file, "000000\n", 0600);
	assert_int_equal(hsm->p11->C_CloseAllSessions(hsm->token.slot), CKR_OK);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_sign(hsm, &request, 1, &err), DZ_EHSM_PIN);
	assert_non_null(strstr(err.message, "was lost (CKR_SESSION_HANDLE_INVALID)"));
	assert_non_null(strstr(err.message, "wrong PIN"));

	/* With the right PIN back, the connection still refuses: it never logs in again. */
	fixture_write_file(f->pin_file, FIXTURE_PIN "\n", 0600);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_sign(hsm, &request, 1, &err), DZ_EHSM_PIN);
	assert_non_null(strstr(err.message, "wrong PIN"));
	dz_hsm_destroy(hsm);
}

static void
batch_reports_each_request(void **state)
{
	softhsm_fixture_t *f = *state;
	dz_hsm_t *hsm = open_token(f);
	dz_hsm_key_t key = generate(hsm, DZ_ALG_ED25519);
	dz_sign_request_t requests[3];
	dz_error_t err;

	memset(requests, 0, sizeof(requests));
	for (int i = 0; i < 3; i++) {
		memcpy(requests[i].key_id, key.id, key.id_len);
		requests[i].key_id_len = key.id_len;
		requests[i].algorithm = DZ_ALG_ED25519;
		requests[i].data = (const uint8_t *)"abc";
		requests[i].data_len = 3;
	}
	requests[1].key_id[0] ^= 0xff;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_sign(hsm, requests, 3, &err), DZ_EHSM_KEY);
	assert_int_equal(requests[0].result, DZ_OK);
	assert_int_equal(requests[0].signature_len, 64);
	assert_int_equal(requests[1].result, DZ_EHSM_KEY);
	assert_int_equal(requests[2].result, DZ_OK);
	assert_non_null(strstr(err.message, "no private key with CKA_ID"));
	dz_hsm_destroy(hsm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(each_algorithm_signs_verifiably, setup_token, teardown),
		cmocka_unit_test_setup_teardown(rsa_key_signs_rsasha512_too, setup_token, teardown),
		cmocka_unit_test_setup_teardown(private_key_cannot_leave_token, setup_token, teardown),
		cmocka_unit_test_setup_teardown(index_finds_keys_after_reopen, setup_token, teardown),
		cmocka_unit_test_setup_teardown(index_sees_key_made_elsewhere, setup_token, teardown),
		cmocka_unit_test_setup_teardown(init_token_creates_usable_token, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(missing_module_is_named, setup_token, teardown),
		cmocka_unit_test_setup_teardown(non_pkcs11_library_is_named, setup_token, teardown),
		cmocka_unit_test_setup_teardown(text_file_module_is_named, setup_token, teardown),
		cmocka_unit_test_setup_teardown(unknown_token_lists_present_ones, setup_token, teardown),
		cmocka_unit_test_setup_teardown(token_found_by_uri, setup_token, teardown),
		cmocka_unit_test_setup_teardown(wrong_pin_is_not_retried, setup_token, teardown),
		cmocka_unit_test_setup_teardown(pin_file_for_group_is_rejected, setup_token, teardown),
		cmocka_unit_test_setup_teardown(pin_file_must_hold_one_line, setup_token, teardown),
		cmocka_unit_test_setup_teardown(missing_key_names_id, setup_token, teardown),
		cmocka_unit_test_setup_teardown(key_generated_after_login_signs, setup_token, teardown),
		cmocka_unit_test_setup_teardown(key_of_other_algorithm_is_refused, setup_token,
						teardown),
		cmocka_unit_test_setup_teardown(unsupported_sizes_and_algorithms, setup_token,
						teardown),
		cmocka_unit_test_setup_teardown(closed_sessions_are_reopened, setup_token, teardown),
		cmocka_unit_test_setup_teardown(finalized_module_is_reinitialised, setup_token,
						teardown),
		cmocka_unit_test_setup_teardown(lost_session_with_wrong_pin_stays_failed, setup_token,
						teardown),
		cmocka_unit_test_setup_teardown(batch_reports_each_request, setup_token, teardown),
	};

	return cmocka_run_group_tests_name("hsm/token", tests, NULL, NULL);
}
