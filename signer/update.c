#include "config.h"

#include <string.h>
#include <time.h>

#include "common/log.h"
#include "signer/apex.h"
#include "signer/check.h"
#include "signer/denial.h"
#include "signer/serial.h"
#include "signer/update.h"

static double
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t
dz_soa_serial_offset(const uint8_t *rdata, size_t len)
{
	size_t mname = dz_name_wire_length(rdata, len);
	size_t rname = mname > 0 ? dz_name_wire_length(rdata + mname, len - mname) : 0;

	if (mname == 0 || rname == 0 || mname + rname + 20 != len)
		return 0;
	return mname + rname;
}

bool
dz_soa_serial(const uint8_t *rdata, size_t len, uint32_t *serial)
{
	size_t off = dz_soa_serial_offset(rdata, len);

	if (off == 0)
		return false;
	*serial = ((uint32_t)rdata[off] << 24) | ((uint32_t)rdata[off + 1] << 16) |
		  ((uint32_t)rdata[off + 2] << 8) | rdata[off + 3];
	return true;
}

/* The single SOA RDATA of the zone, or NULL. */
static dz_rrset_t *
zone_soa(const dz_zone_t *zone, size_t *serial_offset)
{
	dz_rrset_t *soa = dz_node_rrset(zone->apex, DZ_TYPE_SOA);

	if (soa == NULL || soa->count != 1)
		return NULL;
	*serial_offset = dz_soa_serial_offset(soa->data + 2, soa->len - 2);
	return *serial_offset > 0 ? soa : NULL;
}

dz_result_t
dz_update_denial_config(const dz_zone_t *zone, const dz_policy_t *policy, const dz_keyset_t *keys,
			dz_denial_config_t *config, dz_error_t *err)
{
	size_t off;
	dz_rrset_t *soa = zone_soa(zone, &off);
	const uint8_t *rdata;
	uint32_t minimum;

	if (soa == NULL)
		return dz_error_set(err, DZ_EZONE, "zone %s: no valid SOA record at the apex",
				    zone->origin_text);
	rdata = soa->data + 2;
	minimum = ((uint32_t)rdata[off + 16] << 24) | ((uint32_t)rdata[off + 17] << 16) |
		  ((uint32_t)rdata[off + 18] << 8) | rdata[off + 19];
	memset(config, 0, sizeof(*config));
	config->ttl = dz_negative_ttl(soa->ttl, minimum);
	if (keys->count == 0) {
		config->kind = DZ_CHAIN_NONE;
		return DZ_OK;
	}
	config->kind = policy->denial == DZ_DENIAL_NSEC ? DZ_CHAIN_NSEC : DZ_CHAIN_NSEC3;
	config->params.iterations = policy->nsec3_iterations;
	config->params.salt_len = policy->nsec3_salt_len;
	memcpy(config->params.salt, policy->nsec3_salt, policy->nsec3_salt_len);
	config->params.opt_out = policy->nsec3_opt_out;
	return DZ_OK;
}

static dz_result_t
check_policy(const dz_zone_t *zone, const dz_policy_t *policy, dz_error_t *err)
{
	int64_t shortest = policy->signature_validity < policy->signature_validity_dnskey ?
				   policy->signature_validity : policy->signature_validity_dnskey;

	if (shortest <= 0 || policy->signature_refresh < 0 || policy->signature_jitter < 0 ||
	    policy->signature_inception_offset < 0)
		return dz_error_set(err, DZ_EPOLICY,
				    "zone %s: signature validity must be positive and refresh, jitter and inception offset not negative",
				    zone->origin_text);
	if (shortest - policy->signature_jitter <= policy->signature_refresh)
		return dz_error_set(err, DZ_EPOLICY,
				    "zone %s: signature validity (%lld s) minus jitter (%lld s) must be longer than the refresh period (%lld s), or new signatures would be due at once",
				    zone->origin_text, (long long)shortest,
				    (long long)policy->signature_jitter, (long long)policy->signature_refresh);
	if (shortest > 0x7fffffffLL)
		return dz_error_set(err, DZ_EPOLICY,
				    "zone %s: signature validity above 68 years cannot be written in an RRSIG",
				    zone->origin_text);
	return DZ_OK;
}

/* Write `serial` into the SOA RDATA (after touching the apex) and mark it for signing. */
static dz_result_t
set_serial(dz_zone_t *zone, uint32_t serial)
{
	size_t off;
	dz_rrset_t *soa = zone_soa(zone, &off);
	uint8_t *p;
	dz_result_t result;

	if (soa == NULL)
		return DZ_EZONE;
	p = soa->data + 2 + off;
	if ((((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]) == serial)
		return DZ_OK;
	result = dz_zone_touch(zone, zone->apex);
	if (result != DZ_OK)
		return result;
	p[0] = (uint8_t)(serial >> 24);
	p[1] = (uint8_t)(serial >> 16);
	p[2] = (uint8_t)(serial >> 8);
	p[3] = (uint8_t)serial;
	soa->flags |= DZ_RRSET_CHANGED;
	return dz_zone_mark_dirty(zone, zone->apex);
}

static dz_sign_params_t
sign_params(const dz_update_params_t *params)
{
	const dz_policy_t *policy = params->policy;
	dz_sign_params_t sp;

	memset(&sp, 0, sizeof(sp));
	sp.keys = params->keys;
	sp.now = params->now;
	sp.validity = policy->signature_validity;
	sp.validity_keys = policy->signature_validity_dnskey;
	sp.refresh = policy->signature_refresh;
	sp.jitter = policy->signature_jitter;
	sp.inception_offset = policy->signature_inception_offset;
	sp.threads = params->threads;
	return sp;
}

static void
add_stats(dz_sign_stats_t *total, const dz_sign_stats_t *more)
{
	total->rrsets_checked += more->rrsets_checked;
	total->rrsets_signed += more->rrsets_signed;
	total->signatures += more->signatures;
	total->signatures_kept += more->signatures_kept;
	total->signatures_dropped += more->signatures_dropped;
	total->seconds += more->seconds;
}

dz_result_t
dz_update_zone(dz_zone_t *zone, const dz_update_params_t *params, dz_update_result_t *out,
	       dz_error_t *err)
{
	const dz_policy_t *policy = params->policy;
	dz_denial_config_t denial;
	dz_sign_params_t sp = sign_params(params);
	dz_sign_stats_t stats;
	dz_update_result_t res;
	size_t off;
	dz_rrset_t *soa;
	uint32_t input_serial;
	uint32_t serial;
	bool changed;
	bool visit_all;
	bool refresh_due;
	double t0;
	dz_result_t result;

	memset(&res, 0, sizeof(res));
	result = check_policy(zone, policy, err);
	if (result != DZ_OK)
		return result;
	result = dz_apex_check_keys(zone, params->keys, params->extra_dnskeys,
				    params->extra_dnskeys_len, err);
	if (result != DZ_OK)
		return result;
	soa = zone_soa(zone, &off);
	if (soa == NULL)
		return dz_error_set(err, DZ_EZONE, "zone %s: no valid single SOA record at the apex",
				    zone->origin_text);
	(void)dz_soa_serial(soa->data + 2, soa->len - 2, &input_serial);

	t0 = monotonic_seconds();
	if (params->keys->count > 0)
		result = dz_apex_update(zone, params->keys, params->extra_dnskeys,
					params->extra_dnskeys_len, policy, err);
	else
		result = dz_apex_update(zone, params->keys, NULL, 0, policy, err);
	if (result != DZ_OK)
		return result;
	dz_zone_prune(zone, NULL, NULL);
	result = dz_update_denial_config(zone, policy, params->keys, &denial, err);
	if (result == DZ_OK)
		result = dz_denial_update(zone, &denial, params->full, err);
	if (result != DZ_OK)
		return result;
	res.seconds_chain = monotonic_seconds() - t0;

	/*
	 * A new version when data or the chain changed, when the source's
	 * serial moved under the keep policy, or when signatures must be
	 * made or dropped.
	 */
	refresh_due = params->now + policy->signature_refresh >= zone->earliest_expiration;
	/* After the clock went back, signatures from its future are replaced. */
	if (zone->latest_inception > params->now)
		refresh_due = true;
	changed = !zone->have_published_serial || zone->dirty.count > 0 ||
		  zone->dirty_nsec3.count > 0 || (refresh_due && params->keys->count > 0) ||
		  (policy->serial_policy == DZ_SERIAL_KEEP && input_serial != zone->published_serial);
	/* Without keys every signature goes, wherever it is. */
	visit_all = params->full || refresh_due || params->keys->count == 0;

	if (changed) {
		result = dz_serial_next(policy->serial_policy, input_serial, zone->have_published_serial,
					zone->published_serial, params->now, &serial, err);
		if (result == DZ_OK)
			result = set_serial(zone, serial);
		if (result != DZ_OK)
			return dz_error_prefix(err, "zone %s", zone->origin_text);
	}
	{
		result = dz_sign_zone(zone, &sp, params->backend, visit_all, &res.sign, err);
		if (result != DZ_OK)
			return result;
	}
	if (!changed && (res.sign.signatures > 0 || res.sign.signatures_dropped > 0)) {
		/* Only signatures changed: that is new content too, so the SOA moves on. */
		changed = true;
		result = dz_serial_next(policy->serial_policy, input_serial, zone->have_published_serial,
					zone->published_serial, params->now, &serial, err);
		if (result == DZ_OK)
			result = set_serial(zone, serial);
		if (result == DZ_OK)
			result = dz_sign_zone(zone, &sp, params->backend, false, &stats, err);
		if (result != DZ_OK)
			return dz_error_prefix(err, "zone %s", zone->origin_text);
		add_stats(&res.sign, &stats);
	}
	if (!changed)
		serial = zone->published_serial;

	t0 = monotonic_seconds();
	result = dz_check_zone(zone, params->keys, &denial, params->now,
			       params->full || params->full_check, err);
	res.seconds_check = monotonic_seconds() - t0;
	if (result != DZ_OK)
		return result;

	dz_zone_clear_dirty(zone);
	zone->published_serial = serial;
	zone->have_published_serial = true;
	res.changed = changed;
	res.serial = serial;
	if (out != NULL)
		*out = res;
	return DZ_OK;
}
