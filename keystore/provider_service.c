/*
 * provider_service.c -- the PKCS#11 key provider: every token operation
 * goes to a sign service, so that the caller needs no login of its own.
 * The key registries are files of the caller's state folder and are
 * written here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsm/hsm.h"
#include "hsm/registry.h"
#include "hsm/sign_service.h"
#include "keystore/key.h"
#include "keystore/provider.h"

static const char *
role_label(dz_key_role_t role)
{
	switch (role) {
	case DZ_ROLE_KSK:
		return "KSK";
	case DZ_ROLE_ZSK:
		return "ZSK";
	case DZ_ROLE_CSK:
		return "CSK";
	}
	return "key";
}

/* The token a policy names ("" or NULL: the default, else the first one). */
static const dz_key_service_token_t *
find_token(const dz_key_service_provider_t *p, const char *name, dz_error_t *err)
{
	bool want_default = name == NULL || name[0] == '\0';

	for (size_t i = 0; i < p->count; i++) {
		const char *n = p->tokens[i].name;
		bool is_default = n == NULL || n[0] == '\0';
		if (want_default ? is_default : (n != NULL && strcmp(n, name) == 0))
			return &p->tokens[i];
	}
	if (want_default && p->count > 0)
		return &p->tokens[0];
	dz_error_set(err, DZ_EHSM_TOKEN,
		     "no token named '%s' is configured; add it to the hsm section or change "
		     "the policy's token",
		     name);
	return NULL;
}

/* Add (or with `remove` drop) a registry record under the registry's lock. */
static dz_result_t
update_registry(const dz_key_service_token_t *t, const dz_hsm_key_record_t *record, bool remove,
		dz_error_t *err)
{
	dz_hsm_registry_t registry;
	dz_result_t result;

	if (t->registry_path == NULL)
		return DZ_OK;
	memset(&registry, 0, sizeof(registry));
	result = dz_hsm_registry_open(&registry, t->registry_path, err);
	if (result != DZ_OK)
		return result;
	if (remove)
		dz_hsm_registry_remove(&registry, record->id, record->id_len);
	else
		result = dz_hsm_registry_add(&registry, record, err);
	if (result == DZ_OK)
		result = dz_hsm_registry_save(&registry, "danezone key registry", err);
	dz_hsm_registry_close(&registry);
	return result;
}

static dz_result_t
service_generate(void *ctx, const char *zone, const dz_policy_key_t *slot, dz_time_t now,
		 dz_key_material_t *out, dz_error_t *err)
{
	const dz_key_service_token_t *t = find_token(ctx, slot->token, err);
	const char *algorithm = dz_algorithm_name(slot->algorithm);
	char label[DZ_HSM_KEY_LABEL_MAX];
	dz_key_material_t m;
	dz_sign_key_t key;
	dz_result_t result;

	if (t == NULL)
		return err != NULL ? err->code : DZ_EHSM_TOKEN;
	if (algorithm == NULL)
		algorithm = "unknown";
	snprintf(label, sizeof(label), "%s %s new %s", zone, role_label(slot->role), algorithm);
	dz_sign_keygen_t keygen = { .zone = zone, .role = (uint8_t)slot->role,
				    .algorithm = slot->algorithm, .bits = slot->bits,
				    .label = label };
	result = dz_sign_service_generate_key(t->service, &keygen, &key, err);
	if (result != DZ_OK)
		return result;

	memset(&m, 0, sizeof(m));
	memcpy(m.key_id, key.key_id, key.key_id_len);
	m.key_id_len = key.key_id_len;
	memcpy(m.public_key, key.public_key, key.public_key_len);
	m.public_key_len = key.public_key_len;

	uint16_t tag = dz_key_compute_tag(dz_role_dnskey_flags(slot->role), slot->algorithm,
					  m.public_key, m.public_key_len);
	snprintf(label, sizeof(label), "%s %s %u %s", zone, role_label(slot->role), tag,
		 algorithm);
	result = dz_sign_service_label_key(t->service, key.key_id, key.key_id_len, label, err);
	if (result != DZ_OK)
		goto fail;

	dz_hsm_key_record_t record;
	memset(&record, 0, sizeof(record));
	memcpy(record.id, key.key_id, key.key_id_len);
	record.id_len = key.key_id_len;
	record.zone = (char *)zone;
	record.role = slot->role;
	record.algorithm = slot->algorithm;
	record.bits = key.bits;
	record.key_tag = tag;
	record.created = now;
	result = update_registry(t, &record, false, err);
	if (result != DZ_OK)
		goto fail;
	*out = m;
	return DZ_OK;

fail:
	/* The key was never recorded anywhere: delete it rather than leave an orphan. */
	{
		dz_error_t ignored;
		dz_error_init(&ignored);
		dz_sign_service_delete_key(t->service, key.key_id, key.key_id_len, &ignored);
	}
	return result;
}

static dz_result_t
service_check(void *ctx, const char *token, const uint8_t *key_id, size_t key_id_len,
	      dz_error_t *err)
{
	const dz_key_service_token_t *t = find_token(ctx, token, err);

	if (t == NULL)
		return err != NULL ? err->code : DZ_EHSM_TOKEN;
	return dz_sign_service_check_key(t->service, key_id, key_id_len, err);
}

static dz_result_t
service_remove(void *ctx, const char *token, const uint8_t *key_id, size_t key_id_len,
	       dz_error_t *err)
{
	const dz_key_service_token_t *t = find_token(ctx, token, err);
	dz_hsm_key_record_t record;
	dz_result_t result;

	if (t == NULL)
		return err != NULL ? err->code : DZ_EHSM_TOKEN;
	result = dz_sign_service_delete_key(t->service, key_id, key_id_len, err);
	if (result != DZ_OK && result != DZ_EHSM_KEY)
		return result;
	memset(&record, 0, sizeof(record));
	memcpy(record.id, key_id, key_id_len);
	record.id_len = key_id_len;
	dz_result_t registry = update_registry(t, &record, true, err);
	return result != DZ_OK ? result : registry;
}

/* Counts the zone's records in the registries, which need no token. */
static dz_result_t
registry_count_zone_keys(void *ctx, const char *zone, size_t *count, dz_error_t *err)
{
	const dz_key_service_provider_t *p = ctx;
	size_t n = 0;

	for (size_t i = 0; i < p->count; i++) {
		dz_hsm_registry_t registry;
		if (p->tokens[i].registry_path == NULL)
			continue;
		memset(&registry, 0, sizeof(registry));
		dz_result_t result = dz_hsm_registry_open(&registry, p->tokens[i].registry_path, err);
		if (result != DZ_OK)
			return result;
		for (size_t r = 0; r < registry.count; r++)
			n += strcmp(registry.records[r].zone, zone) == 0;
		dz_hsm_registry_close(&registry);
	}
	*count = n;
	return DZ_OK;
}

/* Records the use in the token's registry; the token itself stores no use. */
static dz_result_t
registry_record_usage(void *ctx, const char *token, const uint8_t *key_id, size_t key_id_len,
		      bool published, bool signing, dz_error_t *err)
{
	const dz_key_service_token_t *t = find_token(ctx, token, err);
	dz_hsm_registry_t registry;
	dz_result_t result;

	if (t == NULL)
		return err != NULL ? err->code : DZ_EHSM_TOKEN;
	if (t->registry_path == NULL)
		return DZ_OK;
	memset(&registry, 0, sizeof(registry));
	result = dz_hsm_registry_open(&registry, t->registry_path, err);
	if (result != DZ_OK)
		return result;
	dz_hsm_key_record_t *record = dz_hsm_registry_find(&registry, key_id, key_id_len);
	if (record != NULL && (record->published != published || record->signing != signing)) {
		record->published = published;
		record->signing = signing;
		result = dz_hsm_registry_save(&registry, "danezone key registry", err);
	}
	dz_hsm_registry_close(&registry);
	return result;
}

static const dz_key_provider_ops_t service_ops = {
	.generate = service_generate,
	.check = service_check,
	.remove = service_remove,
	.count_zone_keys = registry_count_zone_keys,
	.record_usage = registry_record_usage,
};

dz_key_provider_t
dz_key_service_provider(dz_key_service_provider_t *tokens)
{
	return (dz_key_provider_t){ .ops = &service_ops, .ctx = tokens };
}
