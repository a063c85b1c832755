#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/diff.h"

static char *
trim(char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

static dz_result_t
apply_line(dz_loader_t *loader, char *line, const char *path, unsigned line_nr, ldns_rdf **origin,
	   uint32_t *ttl, dz_error_t *err)
{
	char *text = trim(line);
	bool add;
	ldns_rr *rr = NULL;
	ldns_status status;
	const uint8_t *owner;
	size_t owner_len;
	const uint8_t *rdata;
	uint16_t rdata_len;
	dz_result_t result;

	if (text[0] == '\0' || text[0] == ';')
		return DZ_OK;
	if (strncmp(text, "$ORIGIN", 7) == 0 && isspace((unsigned char)text[7])) {
		ldns_rdf *fresh = NULL;
		if (ldns_str2rdf_dname(&fresh, trim(text + 7)) != LDNS_STATUS_OK)
			return dz_error_set(err, DZ_ESYNTAX, "%s:%u: invalid $ORIGIN", path, line_nr);
		ldns_rdf_deep_free(*origin);
		*origin = fresh;
		return DZ_OK;
	}
	if (strncmp(text, "$TTL", 4) == 0 && isspace((unsigned char)text[4])) {
		char *end;
		unsigned long value = strtoul(trim(text + 4), &end, 10);
		if (*end != '\0' || value > 0x7fffffffUL)
			return dz_error_set(err, DZ_ESYNTAX, "%s:%u: invalid $TTL", path, line_nr);
		*ttl = (uint32_t)value;
		return DZ_OK;
	}
	if (text[0] != '+' && text[0] != '-')
		return dz_error_set(err, DZ_ESYNTAX,
				    "%s:%u: a change starts with '+' (add) or '-' (delete)", path,
				    line_nr);
	add = text[0] == '+';
	status = ldns_rr_new_frm_str(&rr, trim(text + 1), *ttl, *origin, NULL);
	if (status != LDNS_STATUS_OK)
		return dz_error_set(err, DZ_ESYNTAX, "%s:%u: %s", path, line_nr,
				    ldns_get_errorstr_by_id(status));
	result = dz_rr_to_wire(rr, loader->wire, &owner, &owner_len, &rdata, &rdata_len);
	if (result != DZ_OK) {
		ldns_rr_free(rr);
		return dz_error_set(err, DZ_ESYNTAX, "%s:%u: record cannot be converted to wire form",
				    path, line_nr);
	}
	if (add)
		result = dz_loader_add_wire(loader, owner, owner_len, ldns_rr_get_type(rr),
					    (uint16_t)ldns_rr_get_class(rr), ldns_rr_ttl(rr), rdata,
					    rdata_len, path, line_nr);
	else
		result = dz_loader_delete_wire(loader, owner, owner_len, ldns_rr_get_type(rr),
					       (uint16_t)ldns_rr_get_class(rr), rdata, rdata_len, path,
					       line_nr);
	ldns_rr_free(rr);
	if (result != DZ_OK)
		return dz_error_set(err, result, "%s:%u: %s", path, line_nr, dz_result_text(result));
	return DZ_OK;
}

dz_result_t
dz_diff_apply_file(dz_loader_t *loader, const char *path, dz_error_t *err)
{
	FILE *fp = fopen(path, "r");
	ldns_rdf *origin = NULL;
	uint32_t ttl = 3600;
	char *line = NULL;
	size_t cap = 0;
	unsigned line_nr = 0;
	dz_result_t result = DZ_OK;

	if (fp == NULL)
		return dz_error_set(err, DZ_EIO, "%s: cannot open: %s", path, strerror(errno));
	origin = ldns_dname_new_frm_data((uint16_t)loader->zone->origin_wire_len,
					 loader->zone->origin_wire);
	if (origin == NULL) {
		result = dz_error_set(err, DZ_ENOMEM, "out of memory");
		goto cleanup;
	}
	while (result == DZ_OK && getline(&line, &cap, fp) >= 0) {
		line_nr++;
		result = apply_line(loader, line, path, line_nr, &origin, &ttl, err);
	}
	if (result == DZ_OK && ferror(fp))
		result = dz_error_set(err, DZ_EIO, "%s: read failed", path);
cleanup:
	free(line);
	ldns_rdf_deep_free(origin);
	fclose(fp);
	return result;
}
