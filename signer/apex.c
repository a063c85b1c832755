#include "config.h"

#include <string.h>

#include "signer/apex.h"
#include "signer/rrsig.h"

size_t
dz_apex_dnskey_rdata(const dz_zone_key_t *key, uint8_t *out)
{
	out[0] = (uint8_t)(key->flags >> 8);
	out[1] = (uint8_t)key->flags;
	out[2] = DZ_DNSKEY_PROTOCOL;
	out[3] = key->algorithm;
	memcpy(out + 4, key->public_key, key->public_key_len);
	return 4 + key->public_key_len;
}

dz_result_t
dz_apex_check_keys(const dz_zone_t *zone, const dz_keyset_t *keys, const uint8_t *extra_dnskeys,
		   size_t extra_len, dz_error_t *err)
{
	bool published[256] = { false };
	bool signs_keys[256] = { false };
	bool signs_zone[256] = { false };
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;

	if (keys->count > 64)
		return dz_error_set(err, DZ_ERANGE, "zone %s: %zu keys; at most 64 are supported",
				    zone->origin_text, keys->count);
	for (size_t i = 0; i < keys->count; i++) {
		const dz_zone_key_t *k = &keys->keys[i];
		if (k->public_key_len == 0 || k->public_key_len > DZ_PUBLIC_KEY_MAX)
			return dz_error_set(err, DZ_EINVAL, "zone %s: key %u has no valid public key",
					    zone->origin_text, k->key_tag);
		published[k->algorithm] |= k->publish;
		signs_keys[k->algorithm] |= k->sign_keys;
		signs_zone[k->algorithm] |= k->sign_zone;
	}
	dz_rdata_iter_init(&it, extra_dnskeys, extra_len);
	while (dz_rdata_iter_next(&it, &rdata, &len)) {
		if (len >= 4)
			published[rdata[3]] = true;
	}
	for (unsigned alg = 0; alg < 256; alg++) {
		if (!published[alg])
			continue;
		if (!signs_keys[alg] || !signs_zone[alg])
			return dz_error_set(err, DZ_ESTATE,
					    "zone %s: the DNSKEY RRset has algorithm %u but no key of that algorithm signs %s; every algorithm in the DNSKEY RRset must sign every RRset (RFC 4035 section 2.2)",
					    zone->origin_text, alg,
					    !signs_keys[alg] ? "the DNSKEY RRset" : "the zone");
	}
	if (keys->count > 0) {
		bool any_zone = false;
		for (size_t i = 0; i < keys->count; i++)
			any_zone |= keys->keys[i].sign_zone;
		if (!any_zone)
			return dz_error_set(err, DZ_ESTATE, "zone %s: no key signs the zone",
					    zone->origin_text);
	}
	return DZ_OK;
}

static dz_result_t
set(dz_zone_t *zone, uint16_t type, uint32_t ttl, const dz_buf_t *blob)
{
	bool changed = false;

	return dz_zone_set_rrset(zone, zone->apex, type, ttl, blob->data, blob->len,
				 DZ_RRSET_MANAGED, &changed);
}

static dz_result_t
append_rdata(dz_buf_t *blob, const uint8_t *rdata, size_t len)
{
	dz_result_t result = dz_buf_append_u16(blob, (uint16_t)len);

	return result == DZ_OK ? dz_buf_append(blob, rdata, len) : result;
}

dz_result_t
dz_apex_update(dz_zone_t *zone, const dz_keyset_t *keys, const uint8_t *extra_dnskeys,
	       size_t extra_len, const dz_policy_t *policy, dz_error_t *err)
{
	dz_buf_t dnskey;
	dz_buf_t cds;
	dz_buf_t cdnskey;
	uint8_t rdata[4 + DZ_PUBLIC_KEY_MAX];
	uint8_t ds[4 + 64];
	dz_result_t result = DZ_OK;

	dz_buf_init(&dnskey);
	dz_buf_init(&cds);
	dz_buf_init(&cdnskey);
	result = dz_buf_append(&dnskey, extra_dnskeys, extra_len);
	for (size_t i = 0; i < keys->count && result == DZ_OK; i++) {
		const dz_zone_key_t *k = &keys->keys[i];
		size_t len = dz_apex_dnskey_rdata(k, rdata);

		if (k->publish)
			result = append_rdata(&dnskey, rdata, len);
		if (result != DZ_OK || !k->publish_cds || keys->publish_cds_delete)
			continue;
		if (policy->publish_cdnskey)
			result = append_rdata(&cdnskey, rdata, len);
		for (size_t d = 0; d < policy->cds_digest_count && result == DZ_OK; d++) {
			size_t ds_len = dz_ds_rdata(zone->origin_wire, zone->origin_wire_len, rdata,
						    len, policy->cds_digest_types[d], ds);
			if (ds_len == 0) {
				result = dz_error_set(err, DZ_EPOLICY,
						      "zone %s: CDS digest type %u is not supported; use 2 (SHA-256) or 4 (SHA-384)",
						      zone->origin_text, policy->cds_digest_types[d]);
				goto cleanup;
			}
			result = append_rdata(&cds, ds, ds_len);
		}
	}
	if (result == DZ_OK && keys->publish_cds_delete) {
		/* RFC 8078 section 4: CDS 0 0 0 00 and CDNSKEY 0 3 0 AA==. */
		static const uint8_t cds_delete[] = { 0, 0, 0, 0, 0 };
		static const uint8_t cdnskey_delete[] = { 0, 0, 3, 0, 0 };
		result = append_rdata(&cds, cds_delete, sizeof(cds_delete));
		if (result == DZ_OK)
			result = append_rdata(&cdnskey, cdnskey_delete, sizeof(cdnskey_delete));
	}
	if (result == DZ_OK)
		result = set(zone, DZ_TYPE_DNSKEY, policy->dnskey_ttl, &dnskey);
	if (result == DZ_OK)
		result = set(zone, DZ_TYPE_CDS, policy->dnskey_ttl, &cds);
	if (result == DZ_OK)
		result = set(zone, DZ_TYPE_CDNSKEY, policy->dnskey_ttl, &cdnskey);
	if (result != DZ_OK)
		dz_error_set(err, result, "zone %s: out of memory setting the key records",
			     zone->origin_text);
cleanup:
	dz_buf_clear(&dnskey);
	dz_buf_clear(&cds);
	dz_buf_clear(&cdnskey);
	return result;
}
