#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "zones/zonefile_internal.h"

static char *
name_to_text(const ldns_rdf *name)
{
	char *s = name != NULL ? ldns_rdf2str(name) : NULL;
	return s != NULL ? s : strdup("(unprintable name)");
}

/* Whether `name` equals `marker` or ends with it (labels compared without case). */
static bool
ends_with_marker(const ldns_rdf *name, const ldns_rdf *marker)
{
	return ldns_dname_compare(name, marker) == 0 || ldns_dname_is_subdomain(name, marker);
}

dz_result_t
dz_zonefile_parse_ttl(const char *text, size_t len, uint32_t *ttl)
{
	uint64_t total = 0;
	size_t i = 0;

	if (len == 0)
		return DZ_ESYNTAX;
	while (i < len) {
		uint64_t value = 0;
		uint64_t unit = 1;

		if (!isdigit((unsigned char)text[i]))
			return DZ_ESYNTAX;
		while (i < len && isdigit((unsigned char)text[i])) {
			value = value * 10 + (uint64_t)(text[i] - '0');
			if (value > UINT32_MAX)
				return DZ_ERANGE;
			i++;
		}
		if (i < len) {
			switch (tolower((unsigned char)text[i])) {
			case 's': unit = 1; break;
			case 'm': unit = 60; break;
			case 'h': unit = 3600; break;
			case 'd': unit = 86400; break;
			case 'w': unit = 604800; break;
			default: return DZ_ESYNTAX;
			}
			i++;
		}
		total += value * unit;
		if (total > UINT32_MAX)
			return DZ_ERANGE;
	}
	if (total > DZ_ZONEFILE_TTL_MAX)
		return DZ_ERANGE;
	*ttl = (uint32_t)total;
	return DZ_OK;
}

/*
 * Parse "PREFIXnnn" (RFC 3597 section 5) with nnn in 0..65535, prefix
 * compared without case.  Returns false if the text has another form.
 */
static bool
parse_generic_mnemonic(const char *text, const char *prefix, uint16_t *value)
{
	size_t plen = strlen(prefix);
	unsigned long v = 0;

	if (strncasecmp(text, prefix, plen) != 0 || text[plen] == '\0')
		return false;
	for (const char *p = text + plen; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return false;
	}
	*value = (uint16_t)v;
	return true;
}

/* Class mnemonic or CLASSnnn; false if `text` is not a class. */
static bool
parse_class(const char *text, uint16_t *klass)
{
	if (strncasecmp(text, "CLASS", 5) == 0)
		return parse_generic_mnemonic(text, "CLASS", klass);
	if (strcasecmp(text, "IN") == 0)
		*klass = LDNS_RR_CLASS_IN;
	else if (strcasecmp(text, "CH") == 0)
		*klass = LDNS_RR_CLASS_CH;
	else if (strcasecmp(text, "HS") == 0)
		*klass = LDNS_RR_CLASS_HS;
	else if (strcasecmp(text, "NONE") == 0)
		*klass = LDNS_RR_CLASS_NONE;
	else if (strcasecmp(text, "ANY") == 0)
		*klass = LDNS_RR_CLASS_ANY;
	else
		return false;
	return true;
}

/* Type mnemonic or TYPEnnn; false if `text` names no type. */
static bool
parse_type(const char *text, uint16_t *type)
{
	if (strncasecmp(text, "TYPE", 4) == 0 && isdigit((unsigned char)text[4]))
		return parse_generic_mnemonic(text, "TYPE", type);
	ldns_rr_type t = ldns_get_rr_type_by_name(text);
	if (t == 0 || (unsigned)t > 65535)
		return false;
	*type = (uint16_t)t;
	return true;
}

/*
 * Whether ldns has a presentation format for the data of `type`.  ldns maps
 * unassigned types to the descriptor of NULL or of type 0, and it describes
 * NULL itself as opaque data.  Those types need the generic form.
 */
static bool
type_has_text_form(uint16_t type)
{
	const ldns_rr_descriptor *desc = ldns_rr_descript(type);

	if (desc == NULL || desc->_type != type)
		return false;
	if (ldns_rr_descriptor_maximum(desc) == 0)
		return true;
	ldns_rdf_type first = ldns_rr_descriptor_field_type(desc, 0);
	return first != LDNS_RDF_TYPE_UNKNOWN && first != LDNS_RDF_TYPE_NONE;
}

/*
 * Types that never appear in zone data: 0, OPT (RFC 6891), and the meta
 * and query types 128-255 (RFC 6895 section 3.1).
 */
static bool
type_is_meta(uint16_t type)
{
	return type == 0 || type == LDNS_RR_TYPE_OPT || (type >= 128 && type <= 255);
}

/* ---- names -------------------------------------------------------------- */

dz_result_t
dz_zonefile_resolve_name(reader_t *r, source_t *src, unsigned line, const char *text,
			 const ldns_rdf *origin, const char *what, ldns_rdf **out)
{
	char buf[EXCERPT_SIZE];
	ldns_rdf *name = NULL;
	dz_result_t result = DZ_OK;

	if (strcmp(text, "@") == 0) {
		if (origin == NULL)
			return dz_error_set(r->err, DZ_ESYNTAX,
					    "%s:%u: '@' used but no origin is known in '%s'; add an "
					    "$ORIGIN line or give the zone's origin",
					    src->name, line, dz_zonefile_excerpt(r, buf));
		name = ldns_rdf_clone(origin);
		if (name == NULL)
			return dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
		*out = name;
		return DZ_OK;
	}

	ldns_status status = ldns_str2rdf_dname(&name, text);
	if (status != LDNS_STATUS_OK) {
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: invalid %s name '%s' in '%s': %s; labels are at most "
				      "63 octets, names at most 255, and '.' inside a label is "
				      "written '\\.'",
				      src->name, line, what, text, dz_zonefile_excerpt(r, buf),
				      ldns_get_errorstr_by_id(status));
		goto cleanup;
	}
	if (!ldns_dname_str_absolute(text)) {
		if (origin == NULL) {
			result = dz_error_set(r->err, DZ_ESYNTAX,
					      "%s:%u: relative %s name '%s' but no origin is known; "
					      "add an $ORIGIN line, give the zone's origin, or end the "
					      "name with '.'",
					      src->name, line, what, text);
			goto cleanup;
		}
		status = ldns_dname_cat(name, origin);
		if (status != LDNS_STATUS_OK) {
			result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
			goto cleanup;
		}
	}
	if (ldns_rdf_size(name) > NAME_WIRE_MAX) {
		char *origin_text = name_to_text(origin);
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: %s name '%s' with origin %s is %zu octets long, more "
				      "than the 255 allowed; shorten the name",
				      src->name, line, what, text, origin_text ? origin_text : "?",
				      ldns_rdf_size(name));
		free(origin_text);
		goto cleanup;
	}
	*out = name;
	name = NULL;
cleanup:
	ldns_rdf_deep_free(name);
	return result;
}

/* ---- records ------------------------------------------------------------ */

/* Check every domain name in the record data of `rr`. */
static dz_result_t
check_rdata_names(reader_t *r, source_t *src, unsigned line, const ldns_rr *rr)
{
	char buf[EXCERPT_SIZE];

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
			continue;
		if (src->origin == NULL && ends_with_marker(rdf, r->no_origin_marker))
			return dz_error_set(r->err, DZ_ESYNTAX,
					    "%s:%u: relative name in the record data of '%s' but no "
					    "origin is known; add an $ORIGIN line, give the zone's "
					    "origin, or end the name with '.'",
					    src->name, line, dz_zonefile_excerpt(r, buf));
		if (ldns_rdf_size(rdf) > NAME_WIRE_MAX)
			return dz_error_set(r->err, DZ_ESYNTAX,
					    "%s:%u: a name in the record data of '%s' is %zu octets "
					    "long after adding the origin, more than the 255 allowed; "
					    "shorten it",
					    src->name, line, dz_zonefile_excerpt(r, buf), ldns_rdf_size(rdf));
	}
	return DZ_OK;
}

/*
 * Build a record from RFC 3597 generic data: tokens from `first` on are
 * "\#", the length and the hex digits (in any number of pieces).
 */
static dz_result_t
parse_generic_rdata(reader_t *r, source_t *src, unsigned line, size_t first, uint16_t type,
		    uint16_t klass, uint32_t ttl, ldns_rr **out)
{
	char buf[EXCERPT_SIZE];
	char type_name[16];
	uint8_t *wire = NULL;
	ldns_rr *rr = NULL;
	ldns_buffer *encoded = NULL;
	dz_result_t result = DZ_OK;

	char *type_text = ldns_rr_type2str((ldns_rr_type)type);
	snprintf(type_name, sizeof(type_name), "%s", type_text ? type_text : "?");
	free(type_text);

	if (first + 1 >= r->token_count) {
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: missing length after '\\#' in '%s'; write generic data "
				      "as \\# LENGTH HEX (RFC 3597)",
				      src->name, line, dz_zonefile_excerpt(r, buf));
		goto cleanup;
	}
	const token_t *len_tok = &r->tokens[first + 1];
	unsigned long declared = 0;
	bool len_ok = len_tok->len > 0 && len_tok->len <= 5 && !len_tok->quoted;
	for (size_t i = 0; len_ok && i < len_tok->len; i++) {
		char c = r->text[len_tok->start + i];
		if (!isdigit((unsigned char)c))
			len_ok = false;
		else
			declared = declared * 10 + (unsigned long)(c - '0');
	}
	if (!len_ok || declared > 65535) {
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: invalid length '%.*s' after '\\#' in '%s'; it is the "
				      "number of octets of data, 0 to 65535",
				      src->name, line, (int)len_tok->len, r->text + len_tok->start,
				      dz_zonefile_excerpt(r, buf));
		goto cleanup;
	}

	/* Owner "." (1), type, class, TTL, RDLENGTH (10), then the data. */
	size_t header = 11;
	wire = malloc(header + declared + 1);
	if (wire == NULL) {
		result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
		goto cleanup;
	}
	/* The hex may be split into words anywhere, even inside an octet. */
	size_t digits = 0;
	for (size_t t = first + 2; t < r->token_count; t++) {
		const token_t *tok = &r->tokens[t];
		bool hex = !tok->quoted;
		for (size_t k = 0; hex && k < tok->len; k++)
			hex = isxdigit((unsigned char)r->text[tok->start + k]);
		if (!hex) {
			result = dz_error_set(r->err, DZ_ESYNTAX,
					      "%s:%u: '%.*s' in '%s' is not hex; generic data is "
					      "\\# LENGTH followed by hex digits",
					      src->name, line, (int)tok->len, r->text + tok->start,
					      dz_zonefile_excerpt(r, buf));
			goto cleanup;
		}
		if (dz_zonefile_reserve(&r->scratch, &r->scratch_cap, digits + tok->len + 1) != DZ_OK) {
			result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
			goto cleanup;
		}
		memcpy(r->scratch + digits, r->text + tok->start, tok->len);
		digits += tok->len;
	}
	if (digits != 2 * (size_t)declared) {
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: '\\# %lu' declares %lu octets but %zu hex digits "
				      "follow in '%s' (2 per octet); fix the length or the hex",
				      src->name, line, declared, declared, digits, dz_zonefile_excerpt(r, buf));
		goto cleanup;
	}
	if (declared > 0 && dz_hex_decode(r->scratch, digits, wire + header, declared) != (long)declared) {
		result = dz_error_set(r->err, DZ_EINTERNAL, "%s:%u: hex decoding failed", src->name, line);
		goto cleanup;
	}
	wire[0] = 0;
	wire[1] = (uint8_t)(type >> 8);
	wire[2] = (uint8_t)type;
	wire[3] = (uint8_t)(klass >> 8);
	wire[4] = (uint8_t)klass;
	wire[5] = (uint8_t)(ttl >> 24);
	wire[6] = (uint8_t)(ttl >> 16);
	wire[7] = (uint8_t)(ttl >> 8);
	wire[8] = (uint8_t)ttl;
	wire[9] = (uint8_t)(declared >> 8);
	wire[10] = (uint8_t)declared;

	size_t pos = 0;
	ldns_status status = ldns_wire2rr(&rr, wire, header + declared, &pos, LDNS_SECTION_ANSWER);
	bool known = type_has_text_form(type);
	bool fits = status == LDNS_STATUS_OK && pos == header + declared;
	if (fits && known)
		fits = ldns_rr_rd_count(rr) >= ldns_rr_descriptor_minimum(ldns_rr_descript(type));
	if (fits) {
		/* The decoded fields must encode back to the octets written. */
		encoded = ldns_buffer_new(declared + 16);
		if (encoded == NULL) {
			result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
			goto cleanup;
		}
		fits = ldns_rr_rdata2buffer_wire(encoded, rr) == LDNS_STATUS_OK &&
		       ldns_buffer_position(encoded) == declared &&
		       memcmp(ldns_buffer_begin(encoded), wire + header, declared) == 0;
	}
	if (!fits) {
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: generic data in '%s' is not valid %s data%s%s; check "
				      "the hex against the type's wire format",
				      src->name, line, dz_zonefile_excerpt(r, buf), type_name,
				      status != LDNS_STATUS_OK ? ": " : "",
				      status != LDNS_STATUS_OK ? ldns_get_errorstr_by_id(status) : "");
		goto cleanup;
	}
	*out = rr;
	rr = NULL;
cleanup:
	ldns_buffer_free(encoded);
	ldns_rr_free(rr);
	free(wire);
	return result;
}

/*
 * Build a record from presentation-form data starting at token `first`,
 * parsed by ldns.  The owner is set by the caller.
 */
static dz_result_t
parse_text_rdata(reader_t *r, source_t *src, unsigned line, size_t first, uint16_t type,
		 uint16_t klass, uint32_t ttl, ldns_rr **out)
{
	char buf[EXCERPT_SIZE];
	char prefix[96];
	ldns_rr *rr = NULL;
	char *type_text = ldns_rr_type2str((ldns_rr_type)type);
	char *class_text = ldns_rr_class2str((ldns_rr_class)klass);
	dz_result_t result = DZ_OK;

	if (type_text == NULL || class_text == NULL) {
		result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
		goto cleanup;
	}
	if (!type_has_text_form(type)) {
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: type %s has no text form known to this program in "
				      "'%s'; write its data in RFC 3597 generic form, \\# LENGTH HEX",
				      src->name, line, type_text, dz_zonefile_excerpt(r, buf));
		goto cleanup;
	}

	size_t rdata_start = first < r->token_count ? r->tokens[first].start : r->text_len;
	size_t rdata_len = r->text_len - rdata_start;
	int plen = snprintf(prefix, sizeof(prefix), ". %u %s %s ", ttl, class_text, type_text);
	if (dz_zonefile_reserve(&r->scratch, &r->scratch_cap, (size_t)plen + rdata_len + 1) != DZ_OK) {
		result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
		goto cleanup;
	}
	memcpy(r->scratch, prefix, (size_t)plen);
	memcpy(r->scratch + plen, r->text + rdata_start, rdata_len);
	r->scratch[(size_t)plen + rdata_len] = '\0';

	const ldns_rdf *origin = src->origin != NULL ? src->origin : r->no_origin_marker;
	ldns_status status = ldns_rr_new_frm_str(&rr, r->scratch, ttl, origin, NULL);
	if (status != LDNS_STATUS_OK) {
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: invalid %s record '%s': %s; fix the record data",
				      src->name, line, type_text, dz_zonefile_excerpt(r, buf),
				      ldns_get_errorstr_by_id(status));
		goto cleanup;
	}
	*out = rr;
	rr = NULL;
cleanup:
	ldns_rr_free(rr);
	free(type_text);
	free(class_text);
	return result;
}

/* Choose the TTL of a record written without one; see zonefile.h. */
static dz_result_t
default_ttl_for(reader_t *r, source_t *src, unsigned line, uint16_t type, uint32_t *ttl,
		bool *from_soa)
{
	char buf[EXCERPT_SIZE];

	*from_soa = false;
	if (r->default_ttl_known) {
		*ttl = r->default_ttl;
		return DZ_OK;
	}
	if (r->last_ttl_known) {
		if (!r->warned_last_ttl) {
			dz_log(DZ_LOG_WARNING,
			       "%s:%u: no TTL and no $TTL; using %u, the TTL of the previous record "
			       "(RFC 1035 section 5.1); add a $TTL line to make this explicit",
			       src->name, line, r->last_ttl);
			r->warned_last_ttl = true;
		}
		*ttl = r->last_ttl;
		return DZ_OK;
	}
	if (type == LDNS_RR_TYPE_SOA) {
		*from_soa = true;
		*ttl = 0;
		return DZ_OK;
	}
	return dz_error_set(r->err, DZ_ESYNTAX,
			    "%s:%u: no TTL for '%s' and no $TTL before it; add a $TTL line at "
			    "the top of the file or a TTL to the record",
			    src->name, line, dz_zonefile_excerpt(r, buf));
}

/* The fields before the record data. */
typedef struct record_fields {
	ldns_rdf *owner; /* owned */
	bool has_ttl;
	uint32_t ttl;
	bool has_class;
	uint16_t klass;
	uint16_t type;
	size_t data_token; /* index of the first token of the data */
} record_fields_t;

/* Read the owner: the first token, or the previous owner after a blank. */
static dz_result_t
read_owner(reader_t *r, source_t *src, unsigned line, record_fields_t *fields, size_t *next)
{
	char buf[EXCERPT_SIZE];

	if (r->blank_owner) {
		if (src->previous_owner == NULL)
			return dz_error_set(r->err, DZ_ESYNTAX,
					    "%s:%u: record '%s' starts with a blank but there is no "
					    "previous owner to repeat; write the owner name at the start "
					    "of the line",
					    src->name, line, dz_zonefile_excerpt(r, buf));
		fields->owner = ldns_rdf_clone(src->previous_owner);
		if (fields->owner == NULL)
			return dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
		*next = 0;
		return DZ_OK;
	}
	if (r->tokens[0].quoted)
		return dz_error_set(r->err, DZ_ESYNTAX,
				    "%s:%u: quoted owner name in '%s'; write the name without quotes, "
				    "with \\DDD escapes where needed",
				    src->name, line, dz_zonefile_excerpt(r, buf));
	char *text = dz_zonefile_token_text(r, 0);
	if (text == NULL)
		return dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
	dz_result_t result = dz_zonefile_resolve_name(r, src, line, text, src->origin, "owner",
						      &fields->owner);
	free(text);
	*next = 1;
	return result;
}

/* Read the TTL and class, in either order and both optional, from token `i` on. */
static dz_result_t
read_ttl_and_class(reader_t *r, source_t *src, unsigned line, record_fields_t *fields, size_t *next)
{
	char buf[EXCERPT_SIZE];
	size_t i = *next;
	dz_result_t result = DZ_OK;
	char *text = NULL;

	for (; i < r->token_count; i++) {
		const token_t *tok = &r->tokens[i];
		uint16_t klass;

		free(text);
		text = dz_zonefile_token_text(r, i);
		if (text == NULL) {
			result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
			goto cleanup;
		}
		if (!tok->quoted && isdigit((unsigned char)text[0])) {
			if (fields->has_ttl) {
				result = dz_error_set(r->err, DZ_ESYNTAX,
						      "%s:%u: second TTL '%s' in '%s'; a record has "
						      "one TTL",
						      src->name, line, text, dz_zonefile_excerpt(r, buf));
				goto cleanup;
			}
			result = dz_zonefile_parse_ttl(text, tok->len, &fields->ttl);
			if (result == DZ_ERANGE) {
				result = dz_error_set(r->err, DZ_ERANGE,
						      "%s:%u: TTL '%s' in '%s' is above the maximum "
						      "%u (RFC 2181 section 8); lower it",
						      src->name, line, text, dz_zonefile_excerpt(r, buf),
						      DZ_ZONEFILE_TTL_MAX);
				goto cleanup;
			}
			if (result != DZ_OK) {
				result = dz_error_set(r->err, DZ_ESYNTAX,
						      "%s:%u: invalid TTL '%s' in '%s'; write seconds, "
						      "or numbers with the units s, m, h, d, w",
						      src->name, line, text, dz_zonefile_excerpt(r, buf));
				goto cleanup;
			}
			fields->has_ttl = true;
		} else if (!tok->quoted && parse_class(text, &klass)) {
			if (fields->has_class) {
				result = dz_error_set(r->err, DZ_ESYNTAX,
						      "%s:%u: second class '%s' in '%s'; a record has "
						      "one class",
						      src->name, line, text, dz_zonefile_excerpt(r, buf));
				goto cleanup;
			}
			fields->klass = klass;
			fields->has_class = true;
		} else {
			break;
		}
	}
	*next = i;
cleanup:
	free(text);
	return result;
}

/* Read the type at token `i`. */
static dz_result_t
read_type(reader_t *r, source_t *src, unsigned line, record_fields_t *fields, size_t i)
{
	char buf[EXCERPT_SIZE];
	dz_result_t result = DZ_OK;

	if (i >= r->token_count)
		return dz_error_set(r->err, DZ_ESYNTAX,
				    "%s:%u: missing record type in '%s'; a record is OWNER [TTL] "
				    "[CLASS] TYPE DATA",
				    src->name, line, dz_zonefile_excerpt(r, buf));
	char *text = dz_zonefile_token_text(r, i);
	if (text == NULL)
		return dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
	if (r->tokens[i].quoted || !parse_type(text, &fields->type))
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: unknown record type '%s' in '%s'; check the spelling, "
				      "or write the type as TYPEnnn with data \\# LENGTH HEX (RFC 3597)",
				      src->name, line, text, dz_zonefile_excerpt(r, buf));
	else if (type_is_meta(fields->type))
		result = dz_error_set(r->err, DZ_ESYNTAX,
				      "%s:%u: type '%s' in '%s' is a query or meta type and cannot be "
				      "stored in a zone; remove the record",
				      src->name, line, text, dz_zonefile_excerpt(r, buf));
	free(text);
	fields->data_token = i + 1;
	return result;
}

/*
 * Give the record the zone's class, which is that of the first record (IN
 * when that one has none), and reject a different one.
 */
static dz_result_t
apply_zone_class(reader_t *r, source_t *src, unsigned line, record_fields_t *fields)
{
	char buf[EXCERPT_SIZE];

	if (!fields->has_class) {
		fields->klass = r->class_known ? r->zone_class : LDNS_RR_CLASS_IN;
		return DZ_OK;
	}
	if (fields->klass == LDNS_RR_CLASS_NONE || fields->klass == LDNS_RR_CLASS_ANY)
		return dz_error_set(r->err, DZ_ESYNTAX,
				    "%s:%u: class NONE or ANY in '%s' is for queries and updates, "
				    "not zone data; write the zone's class (IN)",
				    src->name, line, dz_zonefile_excerpt(r, buf));
	if (r->class_known && fields->klass != r->zone_class) {
		char *want = ldns_rr_class2str(r->zone_class);
		char *got = ldns_rr_class2str(fields->klass);
		dz_error_set(r->err, DZ_ESYNTAX,
			     "%s:%u: class %s in '%s' differs from the zone's class %s (set by the "
			     "first record); a zone has one class",
			     src->name, line, got ? got : "?", dz_zonefile_excerpt(r, buf),
			     want ? want : "?");
		free(want);
		free(got);
		return DZ_ESYNTAX;
	}
	return DZ_OK;
}

/* Set the TTL of an SOA record that had none from its MINIMUM field (rule 4). */
static dz_result_t
apply_soa_minimum_ttl(reader_t *r, source_t *src, unsigned line, ldns_rr *rr)
{
	const ldns_rdf *minimum = ldns_rr_rdf(rr, 6);
	uint32_t ttl = minimum != NULL ? ldns_rdf2native_int32(minimum) : 0;

	if (ttl > DZ_ZONEFILE_TTL_MAX)
		return dz_error_set(r->err, DZ_ERANGE,
				    "%s:%u: no TTL and no $TTL, and the SOA MINIMUM %u that would "
				    "serve as the TTL is above %u; add a $TTL line",
				    src->name, line, ttl, DZ_ZONEFILE_TTL_MAX);
	dz_log(DZ_LOG_WARNING,
	       "%s:%u: no TTL and no $TTL; using the SOA MINIMUM %u as the default TTL, as BIND "
	       "does; add a $TTL line (RFC 2308 section 4)",
	       src->name, line, ttl);
	ldns_rr_set_ttl(rr, ttl);
	r->default_ttl = ttl;
	r->default_ttl_known = true;
	return DZ_OK;
}

dz_result_t
dz_zonefile_handle_record(reader_t *r, source_t *src, unsigned line)
{
	char buf[EXCERPT_SIZE];
	record_fields_t fields = { 0 };
	ldns_rr *rr = NULL;
	bool ttl_from_soa = false;
	size_t next = 0;
	dz_result_t result;

	result = read_owner(r, src, line, &fields, &next);
	if (result == DZ_OK)
		result = read_ttl_and_class(r, src, line, &fields, &next);
	if (result == DZ_OK)
		result = read_type(r, src, line, &fields, next);
	if (result == DZ_OK)
		result = apply_zone_class(r, src, line, &fields);
	if (result == DZ_OK && !fields.has_ttl)
		result = default_ttl_for(r, src, line, fields.type, &fields.ttl, &ttl_from_soa);
	if (result != DZ_OK)
		goto cleanup;

	/* Data: generic form, or presentation form parsed by ldns. */
	size_t first = fields.data_token;
	bool generic = first < r->token_count && !r->tokens[first].quoted &&
		       r->tokens[first].len == 2 && memcmp(r->text + r->tokens[first].start, "\\#", 2) == 0;
	if (generic)
		result = parse_generic_rdata(r, src, line, first, fields.type, fields.klass, fields.ttl,
					     &rr);
	else
		result = parse_text_rdata(r, src, line, first, fields.type, fields.klass, fields.ttl,
					  &rr);
	if (result == DZ_OK)
		result = check_rdata_names(r, src, line, rr);
	if (result == DZ_OK && ttl_from_soa)
		result = apply_soa_minimum_ttl(r, src, line, rr);
	if (result != DZ_OK)
		goto cleanup;

	/* The record is good: update the state that later records inherit. */
	if (fields.has_ttl) {
		r->last_ttl = fields.ttl;
		r->last_ttl_known = true;
	}
	if (!r->class_known) {
		r->zone_class = fields.klass;
		r->class_known = true;
	}
	ldns_rdf_deep_free(src->previous_owner);
	src->previous_owner = ldns_rdf_clone(fields.owner);
	if (src->previous_owner == NULL) {
		result = dz_error_set(r->err, DZ_ENOMEM, "%s:%u: out of memory", src->name, line);
		goto cleanup;
	}
	/* ldns parsed the record with "." in place of the owner. */
	ldns_rdf_deep_free(ldns_rr_owner(rr));
	ldns_rr_set_owner(rr, fields.owner);
	fields.owner = NULL;

	result = r->fn(r->ctx, rr, src->name, line, r->err);
	if (result != DZ_OK && r->err != NULL && r->err->code == DZ_OK)
		dz_error_set(r->err, result, "%s:%u: record '%s' rejected: %s", src->name, line,
			     dz_zonefile_excerpt(r, buf), dz_result_text(result));
cleanup:
	ldns_rr_free(rr);
	ldns_rdf_deep_free(fields.owner);
	return result;
}
