#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "common/duration.h"
#include "keystore/key.h"
#include "keystore/policy_check.h"
#include "keystore/timing.h"

static const char *
policy_name(const dz_policy_t *p)
{
	return p->name != NULL ? p->name : "(unnamed)";
}

static const char *
algorithm_text(uint8_t algorithm)
{
	const char *name = dz_algorithm_name(algorithm);
	return name != NULL ? name : "unknown";
}

static dz_result_t
check_slot(const dz_policy_t *p, size_t i, dz_error_t *err)
{
	const dz_policy_key_t *k = &p->keys[i];

	if (k->role != DZ_ROLE_KSK && k->role != DZ_ROLE_ZSK && k->role != DZ_ROLE_CSK)
		return dz_error_set(err, DZ_EPOLICY, "policy '%s': key %zu has an invalid role",
				    policy_name(p), i + 1);
	if (dz_algorithm_name(k->algorithm) == NULL)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': key %zu has unsupported algorithm %u; use "
				    "ECDSAP256SHA256, ECDSAP384SHA384, ED25519, ED448, RSASHA256 or "
				    "RSASHA512",
				    policy_name(p), i + 1, k->algorithm);
	bool rsa = k->algorithm == DZ_ALG_RSASHA256 || k->algorithm == DZ_ALG_RSASHA512;
	if (rsa && (k->bits < 2048 || k->bits > 4096 || k->bits % 8 != 0))
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': key %zu (%s) has %u bits; RSA keys need 2048 to "
				    "4096 bits in steps of 8",
				    policy_name(p), i + 1, algorithm_text(k->algorithm), k->bits);
	if (!rsa && k->bits != 0)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': key %zu (%s) has a fixed size; remove its bits "
				    "setting (%u)",
				    policy_name(p), i + 1, algorithm_text(k->algorithm), k->bits);
	if (k->lifetime < 0)
		return dz_error_set(err, DZ_EPOLICY, "policy '%s': key %zu has a negative lifetime",
				    policy_name(p), i + 1);
	if (k->token != NULL && strlen(k->token) >= DZ_KEY_TOKEN_MAX)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': key %zu names token '%s', longer than %d bytes",
				    policy_name(p), i + 1, k->token, DZ_KEY_TOKEN_MAX - 1);
	for (size_t j = 0; j < i; j++) {
		const dz_policy_key_t *o = &p->keys[j];
		const char *a = k->token != NULL ? k->token : "";
		const char *b = o->token != NULL ? o->token : "";
		if (o->role == k->role && o->algorithm == k->algorithm && o->bits == k->bits &&
		    strcmp(a, b) == 0)
			return dz_error_set(err, DZ_EPOLICY,
					    "policy '%s': keys %zu and %zu are the same %s %s key; "
					    "remove one of them",
					    policy_name(p), j + 1, i + 1, dz_role_name(k->role),
					    algorithm_text(k->algorithm));
	}
	return DZ_OK;
}

/* Every algorithm needs a key that signs the DNSKEY RRset and one that signs the zone. */
static dz_result_t
check_algorithms(const dz_policy_t *p, dz_error_t *err)
{
	for (size_t i = 0; i < p->key_count; i++) {
		uint8_t alg = p->keys[i].algorithm;
		bool keys = false, zone = false;
		for (size_t j = 0; j < p->key_count; j++) {
			if (p->keys[j].algorithm != alg)
				continue;
			keys = keys || dz_role_signs_keys(p->keys[j].role);
			zone = zone || dz_role_signs_zone(p->keys[j].role);
		}
		if (!keys || !zone)
			return dz_error_set(err, DZ_EPOLICY,
					    "policy '%s': algorithm %s has no key that signs the %s; "
					    "add a %s or use a CSK",
					    policy_name(p), algorithm_text(alg),
					    keys ? "zone data" : "DNSKEY RRset", keys ? "ZSK" : "KSK");
	}
	return DZ_OK;
}

static dz_result_t
check_ttls(const dz_policy_t *p, dz_error_t *err)
{
	static const struct {
		const char *name;
		size_t offset;
	} ttls[] = {
		{ "dnskey-ttl", offsetof(dz_policy_t, dnskey_ttl) },
		{ "max-zone-ttl", offsetof(dz_policy_t, max_zone_ttl) },
		{ "parent-ds-ttl", offsetof(dz_policy_t, ds_ttl) },
	};

	for (size_t i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		uint32_t v = *(const uint32_t *)((const char *)p + ttls[i].offset);
		if (v > DZ_TTL_MAX)
			return dz_error_set(err, DZ_EPOLICY,
					    "policy '%s': %s %" PRIu32 " is above the largest TTL "
					    "resolvers honour (%u, RFC 2181 section 8)",
					    policy_name(p), ttls[i].name, v, DZ_TTL_MAX);
	}
	return DZ_OK;
}

static dz_result_t
check_signatures(const dz_policy_t *p, dz_error_t *err)
{
	char a[DZ_DURATION_TEXT_MAX], b[DZ_DURATION_TEXT_MAX], c[DZ_DURATION_TEXT_MAX];
	char d[DZ_DURATION_TEXT_MAX];
	int64_t validity = p->signature_validity < p->signature_validity_dnskey
				   ? p->signature_validity
				   : p->signature_validity_dnskey;
	int64_t max_ttl = p->max_zone_ttl > p->dnskey_ttl ? p->max_zone_ttl : p->dnskey_ttl;
	int64_t min_refresh = p->zone_propagation_delay + max_ttl;

	if (p->signature_validity <= 0 || p->signature_validity_dnskey <= 0)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': signature validity must be positive",
				    policy_name(p));
	if (p->signature_refresh < min_refresh)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': signatures-refresh %s is too short: a signature "
				    "cached just before its replacement would expire in caches; "
				    "the minimum is %s (zone-propagation-delay %s + the largest TTL)",
				    policy_name(p), dz_duration_format(p->signature_refresh, a),
				    dz_duration_format(min_refresh, b),
				    dz_duration_format(p->zone_propagation_delay, c));
	if (p->signature_jitter < 0 || p->signature_inception_offset < 0)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': signature jitter and inception offset may not be "
				    "negative",
				    policy_name(p));
	if (p->signature_refresh + p->signature_jitter >= validity)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': signatures-refresh %s plus jitter %s must stay below "
				    "the signature validity %s, or new signatures are due at once; "
				    "the maximum refresh is %s",
				    policy_name(p), dz_duration_format(p->signature_refresh, a),
				    dz_duration_format(p->signature_jitter, b),
				    dz_duration_format(validity, c),
				    dz_duration_format(validity - p->signature_jitter - 1, d));
	return DZ_OK;
}

static dz_result_t
check_lifetimes(const dz_policy_t *p, dz_error_t *err)
{
	char a[DZ_DURATION_TEXT_MAX], b[DZ_DURATION_TEXT_MAX];
	dz_key_timing_t timing = { .policy = p };

	for (size_t i = 0; i < p->key_count; i++) {
		const dz_policy_key_t *k = &p->keys[i];
		if (k->lifetime == 0)
			continue;
		int64_t minimum = dz_key_rollover_duration(&timing, k->role, 0);
		if (k->lifetime < minimum)
			return dz_error_set(err, DZ_EPOLICY,
					    "policy '%s': %s lifetime %s is shorter than a %s "
					    "rollover takes with these TTLs and delays; the minimum is "
					    "%s (set a longer lifetime, or shorter TTLs and delays)",
					    policy_name(p), dz_role_name(k->role),
					    dz_duration_format(k->lifetime, a), dz_role_name(k->role),
					    dz_duration_format(minimum, b));
	}
	return DZ_OK;
}

static dz_result_t
check_parent(const dz_policy_t *p, dz_error_t *err)
{
	bool has_ds = false;

	for (size_t i = 0; i < p->key_count; i++)
		has_ds = has_ds || dz_role_signs_keys(p->keys[i].role);
	for (size_t i = 0; i < p->cds_digest_count; i++) {
		uint8_t d = p->cds_digest_types[i];
		if (d == 1)
			return dz_error_set(err, DZ_EPOLICY,
					    "policy '%s': CDS digest type 1 (SHA-1) must not be used "
					    "(RFC 8624); use 2 (SHA-256)",
					    policy_name(p));
		if (d != DZ_DIGEST_SHA256 && d != DZ_DIGEST_SHA384)
			return dz_error_set(err, DZ_EPOLICY,
					    "policy '%s': CDS digest type %u is not supported; use 2 "
					    "(SHA-256) or 4 (SHA-384)",
					    policy_name(p), d);
	}
	if (has_ds && p->cds_digest_count == 0)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': no CDS digest type; add 2 (SHA-256)", policy_name(p));
	if (p->ds_observation == DZ_DS_OBSERVE_PARENT && p->ds_check_interval <= 0)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': querying the parent needs a positive DS check "
				    "interval",
				    policy_name(p));
	return DZ_OK;
}

dz_result_t
dz_key_policy_check(const dz_policy_t *policy, dz_error_t *err)
{
	dz_result_t result;

	for (size_t i = 0; i < policy->key_count; i++) {
		if ((result = check_slot(policy, i, err)) != DZ_OK)
			return result;
	}
	if ((result = check_algorithms(policy, err)) != DZ_OK ||
	    (result = check_ttls(policy, err)) != DZ_OK ||
	    (result = check_signatures(policy, err)) != DZ_OK ||
	    (result = check_lifetimes(policy, err)) != DZ_OK ||
	    (result = check_parent(policy, err)) != DZ_OK)
		return result;
	if (policy->zone_propagation_delay < 0 || policy->parent_propagation_delay < 0 ||
	    policy->registration_delay < 0 || policy->publish_safety < 0 ||
	    policy->retire_safety < 0 || policy->purge_delay < 0)
		return dz_error_set(err, DZ_EPOLICY,
				    "policy '%s': delays and safety margins may not be negative",
				    policy_name(policy));
	return DZ_OK;
}

dz_result_t
dz_key_policy_check_zone_ttls(const dz_policy_t *policy, const char *zone,
			      uint32_t negative_ttl, uint32_t max_ttl, dz_error_t *err)
{
	if (negative_ttl > policy->max_zone_ttl)
		return dz_error_set(err, DZ_EPOLICY,
				    "zone %s: the negative TTL (min of the SOA TTL and MINIMUM) "
				    "%" PRIu32 " is above max-zone-ttl %" PRIu32
				    " of policy '%s'; lower the SOA values or raise max-zone-ttl",
				    zone, negative_ttl, policy->max_zone_ttl, policy_name(policy));
	if (max_ttl > policy->max_zone_ttl)
		return dz_error_set(err, DZ_EPOLICY,
				    "zone %s: a record has TTL %" PRIu32 ", above max-zone-ttl "
				    "%" PRIu32 " of policy '%s'; lower the record's TTL or raise "
				    "max-zone-ttl",
				    zone, max_ttl, policy->max_zone_ttl, policy_name(policy));
	return DZ_OK;
}
