#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "hsm/dnskey.h"
#include "hsm/registry.h"
#include "signer/apex.h"
#include "signer/rrsig.h"
#include "signer/sign_keys.h"

dz_result_t
dz_sign_key_choice_parse(const char *text, dz_sign_key_choice_t *choice, dz_error_t *err)
{
	const char *colon = strchr(text, ':');
	size_t hex_len = colon != NULL ? (size_t)(colon - text) : strlen(text);
	long len = dz_hex_decode(text, hex_len, choice->id, sizeof(choice->id));

	if (len <= 0)
		return dz_error_set(err, DZ_EINVAL,
				    "invalid key '%s': expected the CKA_ID in hex, optionally followed by :ksk, :zsk or :csk",
				    text);
	choice->id_len = (size_t)len;
	choice->role = DZ_ROLE_CSK;
	if (colon != NULL && !dz_role_parse(colon + 1, &choice->role))
		return dz_error_set(err, DZ_EINVAL, "invalid key role '%s' in '%s': expected ksk, zsk or csk",
				    colon + 1, text);
	return DZ_OK;
}

/*
 * Fill one key of the key set from the token.  `algorithm` is the DNSSEC
 * algorithm the key was registered for, or 0 to take the token key's own
 * (an RSA key reports RSASHA256 but may be registered as RSASHA512).
 */
static dz_result_t
load_key(dz_hsm_t *hsm, const uint8_t *id, size_t id_len, dz_key_role_t role, uint8_t algorithm,
	 bool publish, bool signing, dz_zone_key_t *key, dz_error_t *err)
{
	dz_hsm_key_t info;
	uint8_t rdata[4 + DZ_PUBLIC_KEY_MAX];
	char hex[2 * DZ_KEY_ID_MAX + 1];
	dz_result_t result;

	result = dz_hsm_find_key(hsm, id, id_len, &info, err);
	if (result != DZ_OK)
		return result;
	if (info.algorithm == 0)
		return dz_error_set(err, DZ_EHSM_KEY, "key %s is not usable for DNSSEC",
				    dz_hsm_id_hex(id, id_len, hex));
	if (algorithm == 0)
		algorithm = info.algorithm;
	memset(key, 0, sizeof(*key));
	memcpy(key->key_id, id, id_len);
	key->key_id_len = id_len;
	key->algorithm = algorithm;
	key->flags = (role & DZ_ROLE_KSK) ? 257 : 256;
	result = dz_hsm_public_key(hsm, id, id_len, algorithm, key->public_key,
				   &key->public_key_len, err);
	if (result != DZ_OK)
		return result;
	key->key_tag = dz_key_tag(rdata, dz_apex_dnskey_rdata(key, rdata));
	key->publish = publish;
	key->sign_keys = signing && (role & DZ_ROLE_KSK);
	key->sign_zone = signing && (role & DZ_ROLE_ZSK);
	key->publish_cds = publish && signing && (role & DZ_ROLE_KSK);
	return DZ_OK;
}

static dz_result_t
keys_from_registry(const dz_sign_keys_options_t *options, dz_hsm_t *hsm, dz_keyset_t *set,
		   dz_error_t *err)
{
	dz_hsm_registry_t registry;
	char *path = NULL;
	char *zone = NULL;
	bool any_flags = false;
	dz_result_t result;

	memset(&registry, 0, sizeof(registry));
	result = dz_hsm_canonical_name(options->zone, &zone, err);
	if (result == DZ_OK)
		result = dz_hsm_registry_path(dz_token_options_state_dir(options->token),
					      dz_hsm_token(hsm), &path, err);
	if (result == DZ_OK)
		result = dz_hsm_registry_open(&registry, path, err);
	if (result != DZ_OK)
		goto cleanup;
	for (size_t i = 0; i < registry.count; i++) {
		const dz_hsm_key_record_t *r = &registry.records[i];
		if (strcmp(r->zone, zone) == 0)
			any_flags |= r->published || r->signing;
	}
	set->keys = calloc(registry.count > 0 ? registry.count : 1, sizeof(*set->keys));
	if (set->keys == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < registry.count && result == DZ_OK; i++) {
		const dz_hsm_key_record_t *r = &registry.records[i];
		if (strcmp(r->zone, zone) != 0)
			continue;
		result = load_key(hsm, r->id, r->id_len, r->role, r->algorithm,
				  any_flags ? r->published : true,
				  any_flags ? r->signing : true, &set->keys[set->count], err);
		if (result == DZ_OK)
			set->count++;
	}
	if (result == DZ_OK && set->count == 0)
		result = dz_error_set(err, DZ_ENOTFOUND,
				      "no keys are registered for %s in %s; create them with 'danezone key generate' or name them with --key",
				      zone, path);
cleanup:
	dz_hsm_registry_close(&registry);
	free(path);
	free(zone);
	return result;
}

dz_result_t
dz_sign_keys_open(const dz_sign_keys_options_t *options, dz_sign_keys_t *out, dz_error_t *err)
{
	dz_sign_keys_t keys;
	dz_hsm_config_t config;
	dz_result_t result;

	memset(&keys, 0, sizeof(keys));
	dz_token_options_config(options->token, options->processes > 0 ? 1 : options->sessions,
				&config);
	if (config.sessions == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		config.sessions = cpus > 0 ? (unsigned)cpus : 1;
	}
	result = dz_hsm_create(&config, &keys.hsm, err);
	if (result != DZ_OK)
		return result;
	dz_hsm_module_describe(keys.hsm, keys.module, sizeof(keys.module));

	if (options->key_count == 0) {
		result = keys_from_registry(options, keys.hsm, &keys.keyset, err);
	} else {
		keys.keyset.keys = calloc(options->key_count, sizeof(*keys.keyset.keys));
		if (keys.keyset.keys == NULL)
			result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		for (size_t i = 0; i < options->key_count && result == DZ_OK; i++) {
			const dz_sign_key_choice_t *c = &options->keys[i];
			result = load_key(keys.hsm, c->id, c->id_len, c->role, 0, true, true,
					  &keys.keyset.keys[i], err);
			if (result == DZ_OK)
				keys.keyset.count++;
		}
	}
	if (result != DZ_OK)
		goto fail;

	if (options->processes > 0)
		result = dz_sign_service_create_processes(&config, options->processes, &keys.service,
							  err);
	else
		result = dz_sign_service_create_local(keys.hsm, &keys.service, err);
	if (result != DZ_OK)
		goto fail;
	*out = keys;
	return DZ_OK;
fail:
	dz_sign_keys_close(&keys);
	return result;
}

void
dz_sign_keys_close(dz_sign_keys_t *keys)
{
	dz_sign_service_destroy(keys->service);
	dz_hsm_destroy(keys->hsm);
	free(keys->keyset.keys);
	memset(keys, 0, sizeof(*keys));
}
