/*
 * Token selection by label and RFC 7512 URI, and the mapping of PKCS#11
 * return values to results and names.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <p11-kit/pkcs11.h>

#include "hsm/rv.h"
#include "hsm/uri.h"

static dz_hsm_token_info_t
token(const char *label, const char *serial)
{
	dz_hsm_token_info_t info;

	memset(&info, 0, sizeof(info));
	strcpy(info.label, label);
	strcpy(info.serial, serial);
	strcpy(info.manufacturer, "SoftHSM project");
	strcpy(info.model, "SoftHSM v2");
	info.initialized = true;
	return info;
}

static void
label_matches_exactly(void **state)
{
	dz_hsm_token_spec_t spec;
	dz_hsm_token_info_t a = token("signer", "0001");
	dz_hsm_token_info_t b = token("signer2", "0002");

	(void)state;
	assert_int_equal(dz_hsm_token_spec_parse("signer", &spec, NULL), DZ_OK);
	assert_non_null(spec.label);
	assert_null(spec.uri);
	assert_true(dz_hsm_token_spec_matches(&spec, &a));
	assert_false(dz_hsm_token_spec_matches(&spec, &b));
	assert_false(dz_hsm_token_spec_names_key(&spec));
	dz_hsm_token_spec_clear(&spec);
}

static void
uri_selects_by_token_and_serial(void **state)
{
	dz_hsm_token_spec_t spec;
	dz_hsm_token_info_t a = token("signer", "0001");
	dz_hsm_token_info_t b = token("signer", "0002");

	(void)state;
	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:token=signer;serial=0002", &spec, NULL),
			 DZ_OK);
	assert_null(spec.label);
	assert_false(dz_hsm_token_spec_matches(&spec, &a));
	assert_true(dz_hsm_token_spec_matches(&spec, &b));
	dz_hsm_token_spec_clear(&spec);

	/* Percent-encoding (RFC 7512 section 2.3) and the manufacturer attribute. */
	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:manufacturer=SoftHSM%20project;"
						 "token=sig%6eer", &spec, NULL), DZ_OK);
	assert_true(dz_hsm_token_spec_matches(&spec, &a));
	dz_hsm_token_spec_clear(&spec);
}

static void
uri_without_token_matches_all(void **state)
{
	dz_hsm_token_spec_t spec;
	dz_hsm_token_info_t a = token("one", "0001");

	(void)state;
	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:object=my%20key", &spec, NULL), DZ_OK);
	assert_true(dz_hsm_token_spec_matches(&spec, &a));
	assert_true(dz_hsm_token_spec_names_key(&spec));
	assert_string_equal(spec.object_label, "my key");
	dz_hsm_token_spec_clear(&spec);
}

static void
uri_id_and_pin_source(void **state)
{
	dz_hsm_token_spec_t spec;
	const uint8_t id[] = { 0x01, 0xab, 0xff };

	(void)state;
	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:token=t;id=%01%ab%ff;"
						 "object=ksk?pin-source=file:/etc/dz/pin",
						 &spec, NULL), DZ_OK);
	assert_int_equal(spec.object_id_len, sizeof(id));
	assert_memory_equal(spec.object_id, id, sizeof(id));
	assert_string_equal(spec.object_label, "ksk");
	assert_string_equal(spec.pin_source, "/etc/dz/pin");
	dz_hsm_token_spec_clear(&spec);

	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:token=t?pin-source=/run/pin", &spec,
						 NULL), DZ_OK);
	assert_string_equal(spec.pin_source, "/run/pin");
	dz_hsm_token_spec_clear(&spec);

	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:token=t?module-path=/usr/lib/x.so",
						 &spec, NULL), DZ_OK);
	assert_string_equal(spec.module_path, "/usr/lib/x.so");
	dz_hsm_token_spec_clear(&spec);
}

static void
uri_pin_value_rejected(void **state)
{
	dz_hsm_token_spec_t spec;
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:token=t?pin-value=9753", &spec, &err),
			 DZ_EINVAL);
	assert_non_null(strstr(err.message, "pin-value"));
	assert_null(strstr(err.message, "9753"));
}

static void
bad_uris_name_the_problem(void **state)
{
	dz_hsm_token_spec_t spec;
	dz_error_t err;

	(void)state;
	dz_error_init(&err);
	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:token=t;id=%zz", &spec, &err),
			 DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "invalid PKCS#11 URI 'pkcs11:token=t;id=%zz'"));
	assert_int_equal(dz_hsm_token_spec_parse("pkcs11:tokn=t", &spec, &err), DZ_ESYNTAX);
	assert_non_null(strstr(err.message, "check the spelling"));
	assert_int_equal(dz_hsm_token_spec_parse("", &spec, &err), DZ_EINVAL);
	assert_int_equal(dz_hsm_token_spec_parse("a-label-that-is-longer-than-32-bytes", &spec,
						 &err), DZ_EINVAL);
	assert_non_null(strstr(err.message, "32 bytes"));
}

static void
rv_maps_to_results(void **state)
{
	static const struct {
		CK_RV rv;
		dz_result_t result;
	} cases[] = {
		{ CKR_OK, DZ_OK },
		{ CKR_HOST_MEMORY, DZ_ENOMEM },
		{ CKR_DEVICE_MEMORY, DZ_EHSM_FULL },
		{ CKR_PIN_INCORRECT, DZ_EHSM_PIN },
		{ CKR_PIN_LOCKED, DZ_EHSM_PIN },
		{ CKR_SESSION_HANDLE_INVALID, DZ_EHSM_SESSION },
		{ CKR_SESSION_CLOSED, DZ_EHSM_SESSION },
		{ CKR_DEVICE_REMOVED, DZ_EHSM_SESSION },
		{ CKR_TOKEN_NOT_PRESENT, DZ_EHSM_SESSION },
		{ CKR_CRYPTOKI_NOT_INITIALIZED, DZ_EHSM_SESSION },
		{ CKR_MECHANISM_INVALID, DZ_EHSM_MECHANISM },
		{ CKR_CURVE_NOT_SUPPORTED, DZ_EHSM_MECHANISM },
		{ CKR_KEY_HANDLE_INVALID, DZ_EHSM_KEY },
		{ CKR_TOKEN_WRITE_PROTECTED, DZ_EPERM },
		{ CKR_GENERAL_ERROR, DZ_EHSM },
		{ 0x80000001UL, DZ_EHSM },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(dz_hsm_rv_result(cases[i].rv), cases[i].result);
}

static void
rv_recovery_classes(void **state)
{
	(void)state;
	assert_true(dz_hsm_rv_session_lost(CKR_SESSION_HANDLE_INVALID));
	assert_true(dz_hsm_rv_session_lost(CKR_USER_NOT_LOGGED_IN));
	assert_false(dz_hsm_rv_session_lost(CKR_PIN_INCORRECT));
	assert_false(dz_hsm_rv_session_lost(CKR_DEVICE_MEMORY));
	assert_true(dz_hsm_rv_handle_stale(CKR_KEY_HANDLE_INVALID));
	assert_false(dz_hsm_rv_handle_stale(CKR_SESSION_CLOSED));
}

static void
rv_names(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(dz_hsm_rv_name(CKR_PIN_INCORRECT, buf), "CKR_PIN_INCORRECT");
	assert_string_equal(dz_hsm_rv_name(CKR_DEVICE_MEMORY, buf), "CKR_DEVICE_MEMORY");
	assert_string_equal(dz_hsm_rv_name(0x80000123UL, buf), "CKR_0x80000123");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(label_matches_exactly),
		cmocka_unit_test(uri_selects_by_token_and_serial),
		cmocka_unit_test(uri_without_token_matches_all),
		cmocka_unit_test(uri_id_and_pin_source),
		cmocka_unit_test(uri_pin_value_rejected),
		cmocka_unit_test(bad_uris_name_the_problem),
		cmocka_unit_test(rv_maps_to_results),
		cmocka_unit_test(rv_recovery_classes),
		cmocka_unit_test(rv_names),
	};

	return cmocka_run_group_tests_name("hsm/uri", tests, NULL, NULL);
}
