#include "config.h"

#include <string.h>

#include <ldns/ldns.h>

#include "keystore/cds.h"

static bool
ldns_digest(uint8_t digest_type, ldns_hash *hash)
{
	switch (digest_type) {
	case DZ_DIGEST_SHA256:
		*hash = LDNS_SHA256;
		return true;
	case DZ_DIGEST_SHA384:
		*hash = LDNS_SHA384;
		return true;
	}
	return false;
}

/* A DNSKEY (or CDNSKEY) RR for the key; NULL on ENOMEM or an invalid owner. */
static ldns_rr *
make_dnskey(const char *zone, ldns_rr_type type, uint32_t ttl, uint16_t flags, uint8_t algorithm,
	    const uint8_t *public_key, size_t public_key_len)
{
	ldns_rdf *owner = ldns_dname_new_frm_str(zone);
	ldns_rr *rr = ldns_rr_new();

	if (owner == NULL || rr == NULL)
		goto fail;
	ldns_rr_set_type(rr, type);
	ldns_rr_set_owner(rr, owner);
	owner = NULL;
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rdf *fields[4] = {
		ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, flags),
		ldns_native2rdf_int8(LDNS_RDF_TYPE_INT8, 3),
		ldns_native2rdf_int8(LDNS_RDF_TYPE_ALG, algorithm),
		ldns_rdf_new_frm_data(LDNS_RDF_TYPE_B64, public_key_len, public_key),
	};
	bool ok = true;
	for (int i = 0; i < 4; i++) {
		if (fields[i] == NULL || !ldns_rr_push_rdf(rr, fields[i])) {
			ok = false;
			ldns_rdf_deep_free(fields[i]);
		}
	}
	if (!ok)
		goto fail;
	return rr;

fail:
	ldns_rdf_deep_free(owner);
	ldns_rr_free(rr);
	return NULL;
}

/* Append the RDATA of `rr` in wire form. */
static dz_result_t
rdata_wire(const ldns_rr *rr, uint8_t *out, size_t cap, size_t *len)
{
	ldns_buffer *buf = ldns_buffer_new(64);
	dz_result_t result = DZ_ENOMEM;

	if (buf == NULL)
		return DZ_ENOMEM;
	if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK)
		goto cleanup;
	if (ldns_buffer_position(buf) > cap) {
		result = DZ_ETOOBIG;
		goto cleanup;
	}
	memcpy(out, ldns_buffer_begin(buf), ldns_buffer_position(buf));
	*len = ldns_buffer_position(buf);
	result = DZ_OK;

cleanup:
	ldns_buffer_free(buf);
	return result;
}

dz_result_t
dz_key_ds_rdata(const char *zone, uint16_t flags, uint8_t algorithm, const uint8_t *public_key,
		size_t public_key_len, uint8_t digest_type, uint8_t out[DZ_DS_RDATA_MAX],
		size_t *len, dz_error_t *err)
{
	ldns_hash hash;
	ldns_rr *dnskey = NULL;
	ldns_rr *ds = NULL;
	dz_result_t result;

	if (!ldns_digest(digest_type, &hash))
		return dz_error_set(err, DZ_ENOTSUP,
				    "DS digest type %u is not supported: use 2 (SHA-256) or 4 (SHA-384)",
				    digest_type);
	dnskey = make_dnskey(zone, LDNS_RR_TYPE_DNSKEY, 0, flags, algorithm, public_key,
			     public_key_len);
	if (dnskey == NULL) {
		result = dz_error_set(err, DZ_EINVAL, "cannot build a DNSKEY for zone '%s'", zone);
		goto cleanup;
	}
	ds = ldns_key_rr2ds(dnskey, hash);
	if (ds == NULL) {
		result = dz_error_set(err, DZ_ECRYPTO, "cannot compute the DS digest for zone '%s'",
				      zone);
		goto cleanup;
	}
	result = rdata_wire(ds, out, DZ_DS_RDATA_MAX, len);
	if (result != DZ_OK)
		dz_error_set(err, result, "cannot encode the DS record of zone '%s'", zone);

cleanup:
	ldns_rr_free(dnskey);
	ldns_rr_free(ds);
	return result;
}

/* Append `rr` in uncompressed wire form. */
static dz_result_t
append_rr(dz_buf_t *buf, const ldns_rr *rr)
{
	uint8_t *wire = NULL;
	size_t size = 0;

	if (ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &size) != LDNS_STATUS_OK)
		return DZ_ENOMEM;
	dz_result_t result = dz_buf_append(buf, wire, size);
	LDNS_FREE(wire);
	return result;
}

/* Append the RR given in presentation form (the fixed delete records). */
static dz_result_t
append_text_rr(dz_buf_t *buf, const char *zone, uint32_t ttl, const char *type_and_rdata)
{
	char text[512];
	ldns_rr *rr = NULL;

	snprintf(text, sizeof(text), "%s %u IN %s", zone, ttl, type_and_rdata);
	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		return DZ_EINVAL;
	dz_result_t result = append_rr(buf, rr);
	ldns_rr_free(rr);
	return result;
}

dz_result_t
dz_key_cds_rrsets(const char *zone, const dz_keyset_t *keyset, const dz_policy_t *policy,
		  uint32_t ttl, dz_buf_t *cds, dz_buf_t *cdnskey, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	ldns_rr *dnskey = NULL;
	ldns_rr *ds = NULL;

	for (size_t i = 0; i < keyset->count; i++) {
		const dz_zone_key_t *k = &keyset->keys[i];
		if (!k->publish_cds)
			continue;
		dnskey = make_dnskey(zone, LDNS_RR_TYPE_DNSKEY, ttl, k->flags, k->algorithm,
				     k->public_key, k->public_key_len);
		if (dnskey == NULL) {
			result = dz_error_set(err, DZ_EINVAL, "cannot build a DNSKEY for zone '%s'",
					      zone);
			goto cleanup;
		}
		for (size_t d = 0; d < policy->cds_digest_count; d++) {
			ldns_hash hash;
			if (!ldns_digest(policy->cds_digest_types[d], &hash)) {
				result = dz_error_set(err, DZ_ENOTSUP,
						      "CDS digest type %u is not supported: use 2 "
						      "(SHA-256) or 4 (SHA-384)",
						      policy->cds_digest_types[d]);
				goto cleanup;
			}
			ds = ldns_key_rr2ds(dnskey, hash);
			if (ds == NULL) {
				result = dz_error_set(err, DZ_ECRYPTO,
						      "cannot compute the CDS digest of key %u",
						      k->key_tag);
				goto cleanup;
			}
			ldns_rr_set_type(ds, LDNS_RR_TYPE_CDS);
			ldns_rr_set_ttl(ds, ttl);
			if ((result = append_rr(cds, ds)) != DZ_OK) {
				dz_error_set(err, result, "out of memory");
				goto cleanup;
			}
			ldns_rr_free(ds);
			ds = NULL;
		}
		if (policy->publish_cdnskey) {
			ldns_rr_set_type(dnskey, LDNS_RR_TYPE_CDNSKEY);
			if ((result = append_rr(cdnskey, dnskey)) != DZ_OK) {
				dz_error_set(err, result, "out of memory");
				goto cleanup;
			}
		}
		ldns_rr_free(dnskey);
		dnskey = NULL;
	}
	if (keyset->publish_cds_delete) {
		result = append_text_rr(cds, zone, ttl, "CDS 0 0 0 00");
		if (result == DZ_OK && policy->publish_cdnskey)
			result = append_text_rr(cdnskey, zone, ttl, "CDNSKEY 0 3 0 AA==");
		if (result != DZ_OK)
			dz_error_set(err, result, "cannot build the CDS delete records of zone '%s'",
				     zone);
	}

cleanup:
	ldns_rr_free(dnskey);
	ldns_rr_free(ds);
	return result;
}
