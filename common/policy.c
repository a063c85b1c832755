#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "common/policy.h"

static const struct {
	uint8_t number;
	const char *name;
} algorithms[] = {
	{ DZ_ALG_RSASHA256, "RSASHA256" },
	{ DZ_ALG_RSASHA512, "RSASHA512" },
	{ DZ_ALG_ECDSAP256SHA256, "ECDSAP256SHA256" },
	{ DZ_ALG_ECDSAP384SHA384, "ECDSAP384SHA384" },
	{ DZ_ALG_ED25519, "ED25519" },
	{ DZ_ALG_ED448, "ED448" },
};

bool
dz_policy_init_defaults(dz_policy_t *policy)
{
	memset(policy, 0, sizeof(*policy));
	policy->name = strdup("default");
	policy->keys = calloc(1, sizeof(*policy->keys));
	if (policy->name == NULL || policy->keys == NULL) {
		dz_policy_clear(policy);
		return false;
	}
	policy->key_count = 1;
	policy->keys[0].role = DZ_ROLE_CSK;
	policy->keys[0].algorithm = DZ_ALG_ECDSAP256SHA256;
	policy->keys[0].lifetime = 0;

	policy->ksk_rollover = DZ_KSK_DOUBLE_KSK;
	policy->zsk_rollover = DZ_ZSK_PREPUBLISH;
	policy->standby_keys = 1;

	/* BIND 9.18's built-in "default" dnssec-policy. */
	policy->dnskey_ttl = 3600;
	policy->max_zone_ttl = 86400;
	policy->ds_ttl = 86400;
	policy->zone_propagation_delay = 300;
	policy->parent_propagation_delay = 3600;
	policy->registration_delay = 0;
	policy->publish_safety = 3600;
	policy->retire_safety = 3600;
	policy->purge_delay = 90 * 86400;
	policy->signature_validity = 14 * 86400;
	policy->signature_validity_dnskey = 14 * 86400;
	policy->signature_refresh = 5 * 86400;
	/* Spread expirations over 12 hours so re-signing does not come in one burst. */
	policy->signature_jitter = 12 * 3600;
	/* Resolvers with a slow clock still accept a fresh signature. */
	policy->signature_inception_offset = 3600;

	/* RFC 9276: no extra iterations, no salt. */
	policy->denial = DZ_DENIAL_NSEC3;
	policy->nsec3_iterations = 0;
	policy->nsec3_salt_len = 0;
	policy->nsec3_opt_out = false;

	policy->cds_digest_types[0] = DZ_DIGEST_SHA256;
	policy->cds_digest_count = 1;
	policy->publish_cdnskey = true;
	policy->ds_observation = DZ_DS_OBSERVE_OPERATOR;
	policy->ds_check_interval = 3600;
	policy->ds_alert_after = 2 * 86400;

	policy->serial_policy = DZ_SERIAL_INCREMENT;
	return true;
}

void
dz_policy_clear(dz_policy_t *policy)
{
	free(policy->name);
	for (size_t i = 0; i < policy->key_count; i++)
		free(policy->keys[i].token);
	free(policy->keys);
	memset(policy, 0, sizeof(*policy));
}

bool
dz_policy_copy(dz_policy_t *dst, const dz_policy_t *src)
{
	*dst = *src;
	dst->name = NULL;
	dst->keys = NULL;
	dst->key_count = 0;
	if (src->name != NULL && (dst->name = strdup(src->name)) == NULL)
		goto fail;
	if (src->key_count > 0) {
		dst->keys = calloc(src->key_count, sizeof(*dst->keys));
		if (dst->keys == NULL)
			goto fail;
		dst->key_count = src->key_count;
		for (size_t i = 0; i < src->key_count; i++) {
			dst->keys[i] = src->keys[i];
			dst->keys[i].token = NULL;
			if (src->keys[i].token != NULL &&
			    (dst->keys[i].token = strdup(src->keys[i].token)) == NULL)
				goto fail;
		}
	}
	return true;

fail:
	dz_policy_clear(dst);
	return false;
}

const char *
dz_algorithm_name(uint8_t algorithm)
{
	for (size_t i = 0; i < DZ_ARRAY_SIZE(algorithms); i++) {
		if (algorithms[i].number == algorithm)
			return algorithms[i].name;
	}
	return NULL;
}

bool
dz_algorithm_parse(const char *text, uint8_t *algorithm)
{
	for (size_t i = 0; i < DZ_ARRAY_SIZE(algorithms); i++) {
		if (strcasecmp(text, algorithms[i].name) == 0) {
			*algorithm = algorithms[i].number;
			return true;
		}
	}
	char *end;
	unsigned long n = strtoul(text, &end, 10);
	if (end != text && *end == '\0' && n <= 255 && dz_algorithm_name((uint8_t)n) != NULL) {
		*algorithm = (uint8_t)n;
		return true;
	}
	return false;
}

const char *
dz_role_name(dz_key_role_t role)
{
	switch (role) {
	case DZ_ROLE_KSK:
		return "ksk";
	case DZ_ROLE_ZSK:
		return "zsk";
	case DZ_ROLE_CSK:
		return "csk";
	}
	return "unknown";
}

bool
dz_role_parse(const char *text, dz_key_role_t *role)
{
	if (strcasecmp(text, "ksk") == 0)
		*role = DZ_ROLE_KSK;
	else if (strcasecmp(text, "zsk") == 0)
		*role = DZ_ROLE_ZSK;
	else if (strcasecmp(text, "csk") == 0)
		*role = DZ_ROLE_CSK;
	else
		return false;
	return true;
}
