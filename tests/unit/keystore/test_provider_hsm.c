/*
 * The key manager on a real SoftHSM2 token, through an in-process sign
 * service and through a signer process: keys are generated in the token, recorded in its key registry with their use, deleted when the
 * policy no longer wants them, and found again when the state file is
 * lost.  Key tags are checked against hsm/dnskey.c's computation, and a key
 * signs data that OpenSSL verifies with the DNSKEY the key manager recorded.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsm/dnskey.h"
#include "hsm/hsm.h"
#include "hsm/registry.h"
#include "hsm/sign_service.h"
#include "keystore/manager.h"
#include "keystore/state_file.h"
#include "../hsm/softhsm_fixture.h"

#define NOW ((dz_time_t)1800000000)

typedef struct fixture {
	softhsm_fixture_t *softhsm;
	dz_hsm_t *hsm;			/* the test's own login, to look at the token */
	dz_sign_service_t *service;	/* the provider's */
	char registry[256];
	dz_key_service_token_t token;
	dz_key_service_provider_t tokens;
	dz_policy_t policy;
} fixture_t;

static int
setup_service(void **state, bool processes)
{
	fixture_t *f = calloc(1, sizeof(*f));
	dz_error_t err;

	assert_non_null(f);
	f->softhsm = softhsm_fixture_create(true);
	dz_error_init(&err);
	if (dz_hsm_create(&f->softhsm->config, &f->hsm, &err) != DZ_OK)
		fail_msg("cannot open the test token: %s", dz_error_message(&err));
	if (processes)
		assert_int_equal(dz_sign_service_create_processes(&f->softhsm->config, 1, &f->service,
								  &err), DZ_OK);
	else
		assert_int_equal(dz_sign_service_create_local(f->hsm, &f->service, &err), DZ_OK);
	snprintf(f->registry, sizeof(f->registry), "%s/token.keys", f->softhsm->dir);
	f->token = (dz_key_service_token_t){ .name = NULL, .service = f->service,
					     .registry_path = f->registry };
	f->tokens = (dz_key_service_provider_t){ .tokens = &f->token, .count = 1 };
	assert_true(dz_policy_init_defaults(&f->policy));
	f->policy.standby_keys = 1;
	*state = f;
	return 0;
}

static int
setup_local(void **state)
{
	return setup_service(state, false);
}

static int
setup_process(void **state)
{
	return setup_service(state, true);
}

static int
teardown(void **state)
{
	fixture_t *f = *state;

	dz_sign_service_destroy(f->service);
	dz_policy_clear(&f->policy);
	dz_hsm_destroy(f->hsm);
	softhsm_fixture_destroy(f->softhsm);
	free(f);
	return 0;
}

static dz_key_manager_t *
create_manager(fixture_t *f)
{
	dz_key_manager_config_t config = {
		.zone = "example.com.",
		.state_dir = f->softhsm->dir,
		.policy = &f->policy,
		.negative_ttl = 300,
		.provider = dz_key_service_provider(&f->tokens),
	};
	dz_key_manager_t *mgr = NULL;
	dz_error_t err;

	dz_error_init(&err);
	if (dz_key_manager_create(&config, &mgr, &err) != DZ_OK)
		fail_msg("cannot create the key manager: %s", dz_error_message(&err));
	return mgr;
}

static void
run_once(dz_key_manager_t *mgr, dz_time_t now)
{
	dz_key_plan_t *plan = NULL;
	dz_error_t err;

	dz_error_init(&err);
	if (dz_key_manager_prepare(mgr, now, &plan, &err) != DZ_OK)
		fail_msg("prepare: %s", dz_error_message(&err));
	dz_key_commit_t info = { .published_at = now, .full_resign = true };
	if (dz_key_manager_commit(mgr, plan, &info, &err) != DZ_OK)
		fail_msg("commit: %s", dz_error_message(&err));
	dz_key_plan_destroy(plan);
}

static const dz_hsm_key_record_t *
registry_record(dz_hsm_registry_t *registry, const dz_key_t *k)
{
	return dz_hsm_registry_find(registry, k->key_id, k->key_id_len);
}

static void
keys_live_in_token(void **state)
{
	fixture_t *f = *state;
	dz_key_manager_t *mgr = create_manager(f);
	dz_error_t err;

	/* The second run generates the standby key that replaces the one taken by the first. */
	run_once(mgr, NOW);
	run_once(mgr, NOW + 1);
	const dz_keyring_t *ring = dz_key_manager_ring(mgr);
	const dz_key_t *csk = NULL;
	const dz_key_t *standby = NULL;
	for (size_t i = 0; i < ring->count; i++) {
		if (ring->keys[i].standby)
			standby = &ring->keys[i];
		else
			csk = &ring->keys[i];
	}
	assert_non_null(csk);
	assert_non_null(standby);
	assert_int_equal(csk->state[DZ_REC_DNSKEY], DZ_STATE_RUMOURED);

	/* The public key and key tag match what the token's own code derives. */
	dz_error_init(&err);
	/* A signer process made the keys: the test's login indexes them again. */
	assert_int_equal(dz_hsm_refresh_keys(f->hsm, &err), DZ_OK);
	uint8_t public_key[DZ_HSM_PUBLIC_KEY_MAX];
	size_t public_key_len = 0;
	assert_int_equal(dz_hsm_public_key(f->hsm, csk->key_id, csk->key_id_len, csk->algorithm,
					   public_key, &public_key_len, &err),
			 DZ_OK);
	assert_int_equal(public_key_len, csk->public_key_len);
	assert_memory_equal(public_key, csk->public_key, public_key_len);
	dz_buf_t rdata;
	dz_buf_init(&rdata);
	assert_int_equal(dz_hsm_dnskey_rdata(&rdata, 257, csk->algorithm, public_key, public_key_len),
			 DZ_OK);
	assert_int_equal(dz_hsm_dnskey_key_tag(rdata.data, rdata.len), csk->tag);
	dz_buf_clear(&rdata);

	/* The key signs data that verifies with the recorded public key. */
	static const uint8_t data[] = "signed by the key manager's CSK";
	dz_sign_request_t request;
	memset(&request, 0, sizeof(request));
	memcpy(request.key_id, csk->key_id, csk->key_id_len);
	request.key_id_len = csk->key_id_len;
	request.algorithm = csk->algorithm;
	request.data = data;
	request.data_len = sizeof(data);
	assert_int_equal(dz_hsm_sign(f->hsm, &request, 1, &err), DZ_OK);
	assert_true(fixture_verify(csk->algorithm, csk->public_key, csk->public_key_len, data,
				   sizeof(data), request.signature, request.signature_len));

	/* Both keys are registered; only the CSK is in use. */
	dz_hsm_registry_t registry;
	memset(&registry, 0, sizeof(registry));
	assert_int_equal(dz_hsm_registry_open(&registry, f->registry, &err), DZ_OK);
	const dz_hsm_key_record_t *r = registry_record(&registry, csk);
	assert_non_null(r);
	assert_string_equal(r->zone, "example.com.");
	assert_int_equal(r->role, DZ_ROLE_CSK);
	assert_int_equal(r->key_tag, csk->tag);
	assert_int_equal(r->created, NOW);
	assert_true(r->published);
	assert_true(r->signing);
	r = registry_record(&registry, standby);
	assert_non_null(r);
	assert_false(r->published);
	assert_false(r->signing);
	dz_hsm_registry_close(&registry);
	dz_key_manager_destroy(mgr);
}

static void
unwanted_standby_deleted(void **state)
{
	fixture_t *f = *state;
	dz_key_manager_t *mgr = create_manager(f);
	dz_error_t err;

	run_once(mgr, NOW);
	run_once(mgr, NOW + 1);
	dz_key_t standby;
	bool found = false;
	const dz_keyring_t *ring = dz_key_manager_ring(mgr);
	for (size_t i = 0; i < ring->count; i++) {
		if (ring->keys[i].standby) {
			standby = ring->keys[i];
			found = true;
		}
	}
	assert_true(found);
	/* The policy moves to Ed25519: the ECDSA standby key is never used. */
	f->policy.keys[0].algorithm = DZ_ALG_ED25519;
	dz_error_init(&err);
	assert_int_equal(dz_key_manager_set_policy(mgr, &f->policy, 300, &err), DZ_OK);
	run_once(mgr, NOW + 60);
	dz_hsm_key_t key;
	assert_int_equal(dz_hsm_find_key(f->hsm, standby.key_id, standby.key_id_len, &key, &err),
			 DZ_EHSM_KEY);
	dz_hsm_registry_t registry;
	memset(&registry, 0, sizeof(registry));
	assert_int_equal(dz_hsm_registry_open(&registry, f->registry, &err), DZ_OK);
	assert_null(registry_record(&registry, &standby));
	dz_hsm_registry_close(&registry);
	dz_key_manager_destroy(mgr);
}

static void
lost_state_halts(void **state)
{
	fixture_t *f = *state;
	dz_key_manager_t *mgr = create_manager(f);
	char *path;
	size_t keys_before = 0;
	dz_hsm_key_t *keys = NULL;
	dz_error_t err;

	run_once(mgr, NOW);
	run_once(mgr, NOW + 1);
	dz_key_manager_destroy(mgr);
	dz_error_init(&err);
	assert_int_equal(dz_hsm_refresh_keys(f->hsm, &err), DZ_OK);
	assert_int_equal(dz_hsm_list_keys(f->hsm, &keys, &keys_before, &err), DZ_OK);
	free(keys);
	path = dz_key_state_path(f->softhsm->dir, "example.com.");
	assert_int_equal(unlink(path), 0);
	free(path);

	/* The token's registry lists keys of the zone, so the manager starts no new keys. */
	mgr = create_manager(f);
	assert_non_null(dz_key_manager_halted(mgr));
	assert_non_null(strstr(dz_key_manager_halted(mgr), "the token holds 2 key(s)"));
	dz_key_plan_t *plan = NULL;
	assert_int_equal(dz_key_manager_prepare(mgr, NOW + 60, &plan, &err), DZ_ESTATE);
	assert_null(plan);
	size_t keys_after = 0;
	assert_int_equal(dz_hsm_refresh_keys(f->hsm, &err), DZ_OK);
	assert_int_equal(dz_hsm_list_keys(f->hsm, &keys, &keys_after, &err), DZ_OK);
	free(keys);
	assert_int_equal(keys_after, keys_before);
	dz_key_manager_destroy(mgr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(keys_live_in_token, setup_local, teardown),
		cmocka_unit_test_setup_teardown(unwanted_standby_deleted, setup_local, teardown),
		cmocka_unit_test_setup_teardown(lost_state_halts, setup_local, teardown),
		cmocka_unit_test_setup_teardown(keys_live_in_token, setup_process, teardown),
		cmocka_unit_test_setup_teardown(unwanted_standby_deleted, setup_process, teardown),
		cmocka_unit_test_setup_teardown(lost_state_halts, setup_process, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
