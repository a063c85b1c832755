#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "signer/source.h"

dz_result_t
dz_source_read(const char *path, const char *origin, uint32_t default_ttl, dz_source_rr_fn fn,
	       void *ctx, dz_error_t *err)
{
	FILE *fp = fopen(path, "r");
	ldns_rdf *cur_origin = NULL;
	ldns_rdf *prev = NULL;
	uint32_t ttl = default_ttl;
	int line = 1;
	dz_result_t result = DZ_OK;

	if (fp == NULL)
		return dz_error_set(err, DZ_EIO, "%s: cannot open: %s", path, strerror(errno));
	if (ldns_str2rdf_dname(&cur_origin, origin) != LDNS_STATUS_OK) {
		result = dz_error_set(err, DZ_EINVAL, "invalid zone origin '%s'", origin);
		goto cleanup;
	}
	while (!feof(fp)) {
		ldns_rr *rr = NULL;
		int start_line = line;
		ldns_status status = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &cur_origin, &prev, &line);

		if (status == LDNS_STATUS_SYNTAX_EMPTY || status == LDNS_STATUS_SYNTAX_TTL ||
		    status == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (status == LDNS_STATUS_SYNTAX_INCLUDE) {
			result = dz_error_set(err, DZ_ENOTSUP, "%s:%d: $INCLUDE is not supported by this reader",
					      path, line);
			break;
		}
		if (status != LDNS_STATUS_OK) {
			if (feof(fp) && status == LDNS_STATUS_SYNTAX_ERR)
				break; /* trailing whitespace or comments at the end */
			result = dz_error_set(err, DZ_ESYNTAX, "%s:%d: %s", path, line,
					      ldns_get_errorstr_by_id(status));
			break;
		}
		/* ldns has consumed the record's last newline: report the line it started on. */
		result = fn(ctx, rr, path, (unsigned)start_line, err);
		ldns_rr_free(rr);
		if (result != DZ_OK)
			break;
	}
cleanup:
	ldns_rdf_deep_free(cur_origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
	return result;
}
