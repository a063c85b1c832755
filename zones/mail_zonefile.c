#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/policy.h"
#include "zones/mail_internal.h"

/* Owner in presentation form, lower case, with the trailing dot. */
static char *
owner_text(const ldns_rr *rr)
{
	ldns_rdf *owner = ldns_rdf_clone(ldns_rr_owner(rr));
	char *text = NULL;

	if (owner == NULL)
		return NULL;
	ldns_dname2canonical(owner);
	text = ldns_rdf2str(owner);
	ldns_rdf_deep_free(owner);
	return text;
}

dz_result_t
dz_mail_read_zone_file(const char *path, const char *origin, dz_records_t *tlsa, uint32_t *serial,
		       uint32_t *negative_ttl, dz_error_t *err)
{
	FILE *fp = fopen(path, "r");
	ldns_zone *zone = NULL;
	ldns_rdf *origin_rdf = NULL;
	int line = 0;
	dz_result_t rc = DZ_OK;

	if (fp == NULL)
		return dz_error_set(err, errno == ENOENT ? DZ_ENOTFOUND : DZ_EIO, "cannot open %s: %s",
				    path, strerror(errno));
	origin_rdf = ldns_dname_new_frm_str(origin);
	/* NOTE: ldns reads the whole zone into memory; fine for the mail zones it is meant for. */
	ldns_status status = ldns_zone_new_frm_fp_l(&zone, fp, origin_rdf, 3600, LDNS_RR_CLASS_IN,
						    &line);
	if (status != LDNS_STATUS_OK) {
		rc = dz_error_set(err, DZ_EZONE, "%s:%d: %s", path, line,
				  ldns_get_errorstr_by_id(status));
		goto cleanup;
	}
	ldns_rr *soa = ldns_zone_soa(zone);
	if (soa == NULL || ldns_rr_rd_count(soa) != 7 ||
	    ldns_dname_compare(ldns_rr_owner(soa), origin_rdf) != 0) {
		rc = dz_error_set(err, DZ_EZONE, "%s: no SOA record for %s", path, origin);
		goto cleanup;
	}
	*serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
	*negative_ttl = dz_negative_ttl(ldns_rr_ttl(soa), ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)));

	ldns_rr_list *rrs = ldns_zone_rrs(zone);
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs) && rc == DZ_OK; i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA)
			continue;
		uint8_t rdata[65535];
		size_t len = 0;
		for (size_t f = 0; f < ldns_rr_rd_count(rr); f++) {
			const ldns_rdf *rdf = ldns_rr_rdf(rr, f);
			if (len + ldns_rdf_size(rdf) > sizeof(rdata))
				break;
			memcpy(rdata + len, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
			len += ldns_rdf_size(rdf);
		}
		char *owner = owner_text(rr);
		if (owner == NULL) {
			rc = dz_error_set(err, DZ_ENOMEM, "out of memory");
			break;
		}
		rc = dz_records_add(tlsa, owner, DZ_TYPE_TLSA, ldns_rr_ttl(rr), rdata, len);
		free(owner);
		if (rc != DZ_OK)
			rc = dz_error_set(err, rc, "out of memory");
	}
	dz_records_sort(tlsa);

cleanup:
	ldns_zone_deep_free(zone);
	ldns_rdf_deep_free(origin_rdf);
	fclose(fp);
	return rc;
}
