#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signer/load.h"
#include "signer/nsec3.h"
#include "signer/rrsig.h"

const char *
dz_type_name(uint16_t type, char buf[16])
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);

	if (d != NULL && d->_name != NULL && d->_type == type && strncmp(d->_name, "TYPE", 4) != 0)
		snprintf(buf, 16, "%s", d->_name);
	else
		snprintf(buf, 16, "TYPE%u", type);
	return buf;
}

dz_result_t
dz_check_zone_type(uint16_t type, dz_error_t *err)
{
	char name[16];

	/* 0 is reserved, 41 is OPT, 128-255 are query and meta types (RFC 6895 section 3.1). */
	if (type == 0 || type == 41 || (type >= 128 && type <= 255))
		return dz_error_set(err, DZ_EZONE, "type %s cannot appear in a zone",
				    dz_type_name(type, name));
	return DZ_OK;
}

dz_result_t
dz_loader_init(dz_loader_t *loader, dz_zone_t *zone, const dz_load_options_t *options)
{
	memset(loader, 0, sizeof(*loader));
	loader->zone = zone;
	if (options != NULL)
		loader->options = *options;
	dz_buf_init(&loader->extra_dnskeys);
	dz_buf_init(&loader->pending_sigs);
	dz_error_init(&loader->first_error);
	loader->wire = ldns_buffer_new(4096);
	return loader->wire != NULL ? DZ_OK : DZ_ENOMEM;
}

void
dz_loader_clear(dz_loader_t *loader)
{
	dz_buf_clear(&loader->extra_dnskeys);
	dz_buf_clear(&loader->pending_sigs);
	if (loader->wire != NULL)
		ldns_buffer_free(loader->wire);
	loader->wire = NULL;
}

__attribute__((format(printf, 5, 6))) static void
problem(dz_loader_t *loader, bool error, const char *file, unsigned line, const char *fmt, ...)
{
	char message[DZ_ERROR_MESSAGE_MAX];
	char where[512];
	size_t *counter = error ? &loader->errors : &loader->warnings;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (file != NULL && file[0] != '\0' && line > 0)
		snprintf(where, sizeof(where), "%s:%u: ", file, line);
	else if (file != NULL && file[0] != '\0')
		snprintf(where, sizeof(where), "%s: ", file);
	else
		where[0] = '\0';
	if (error && loader->errors == 0)
		dz_error_set(&loader->first_error, DZ_EZONE, "zone %s: %s%s",
			     loader->zone->origin_text, where, message);
	if (*counter < DZ_LOAD_MAX_LOGGED)
		dz_log_zone(error ? DZ_LOG_ERROR : DZ_LOG_WARNING, loader->zone->origin_text, "%s%s",
			    where, message);
	(*counter)++;
}

dz_result_t
dz_rr_to_wire(const ldns_rr *rr, ldns_buffer *buf, const uint8_t **owner, size_t *owner_len,
	      const uint8_t **rdata, uint16_t *rdata_len)
{
	const uint8_t *data;
	size_t len;
	size_t name_len;

	ldns_buffer_clear(buf);
	if (ldns_rr2buffer_wire_canonical(buf, rr, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return DZ_EINVAL;
	data = ldns_buffer_begin(buf);
	len = ldns_buffer_position(buf);
	name_len = dz_name_wire_length(data, len);
	if (name_len == 0 || name_len + 10 > len)
		return DZ_EINVAL;
	*owner = data;
	*owner_len = name_len;
	*rdata_len = (uint16_t)((data[name_len + 8] << 8) | data[name_len + 9]);
	*rdata = data + name_len + 10;
	if (name_len + 10 + *rdata_len != len)
		return DZ_EINVAL;
	return DZ_OK;
}

dz_result_t
dz_loader_add(void *ctx, const ldns_rr *rr, const char *file, unsigned line, dz_error_t *err)
{
	dz_loader_t *loader = ctx;
	const uint8_t *owner;
	size_t owner_len;
	const uint8_t *rdata;
	uint16_t rdata_len;
	dz_result_t result;

	(void)err;
	if (dz_rr_to_wire(rr, loader->wire, &owner, &owner_len, &rdata, &rdata_len) != DZ_OK) {
		problem(loader, true, file, line, "record cannot be converted to wire form");
		return DZ_OK;
	}
	result = dz_loader_add_wire(loader, owner, owner_len, ldns_rr_get_type(rr),
				    (uint16_t)ldns_rr_get_class(rr), ldns_rr_ttl(rr), rdata, rdata_len,
				    file, line);
	if (result == DZ_ENOMEM)
		return dz_error_set(err, DZ_ENOMEM, "%s:%u: out of memory", file, line);
	return DZ_OK;
}

dz_result_t
dz_loader_add_record(void *ctx, const dz_zonefile_record_t *record, dz_error_t *err)
{
	dz_loader_t *loader = ctx;
	dz_result_t result;

	result = dz_loader_add_wire(loader, record->owner, record->owner_len, record->type,
				    record->rr_class, record->ttl, record->rdata, record->rdata_len,
				    record->file, record->line);
	if (result == DZ_ENOMEM)
		return dz_error_set(err, DZ_ENOMEM, "%s:%u: out of memory", record->file, record->line);
	return DZ_OK;
}

static bool
keep_tag(const dz_loader_t *loader, uint16_t tag)
{
	for (size_t i = 0; i < loader->options.keep_dnskey_count; i++) {
		if (loader->options.keep_dnskey_tags[i] == tag)
			return true;
	}
	return false;
}

static dz_result_t
append_sig(dz_rrset_t *rrset, const uint8_t *rdata, uint16_t len)
{
	size_t old_len = rrset->sigs != NULL ? rrset->sigs->len : 0;
	uint16_t old_count = rrset->sigs != NULL ? rrset->sigs->count : 0;
	dz_sigset_t *grown = realloc(rrset->sigs, sizeof(*grown) + old_len + 2 + len);

	if (grown == NULL)
		return DZ_ENOMEM;
	if (rrset->sigs == NULL) {
		grown->len = 0;
		grown->count = 0;
	}
	(void)old_count;
	grown->data[old_len] = (uint8_t)(len >> 8);
	grown->data[old_len + 1] = (uint8_t)len;
	memcpy(grown->data + old_len + 2, rdata, len);
	grown->len = (uint32_t)(old_len + 2 + len);
	grown->count++;
	rrset->sigs = grown;
	return DZ_OK;
}

/* The RRset a signature of a signed input covers, or NULL when it is not there yet. */
static dz_rrset_t *
covered_rrset(dz_zone_t *zone, const uint8_t *key, size_t key_len, uint16_t covered)
{
	uint8_t hash[DZ_NSEC3_HASH_LEN];
	dz_node_t *node;

	if (covered == DZ_TYPE_NSEC3) {
		dz_nsec3_t *entry;
		if (!dz_nsec3_owner_hash(zone, key, key_len, hash))
			return NULL;
		entry = dz_zone_nsec3_find(zone, hash);
		return entry != NULL ? entry->rrset : NULL;
	}
	node = dz_zone_find(zone, key, key_len);
	if (node == NULL)
		return NULL;
	if (covered == DZ_TYPE_NSEC)
		return node->nsec;
	return dz_node_rrset(node, covered);
}

static dz_result_t
add_signed_record(dz_loader_t *loader, dz_node_t *node, const uint8_t *key, size_t key_len,
		  uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdata_len,
		  const char *file, unsigned line)
{
	dz_zone_t *zone = loader->zone;
	dz_result_t result = DZ_OK;

	if (type == DZ_TYPE_RRSIG) {
		dz_rrsig_fields_t f;
		dz_rrset_t *rrset;
		if (!dz_rrsig_parse(rdata, rdata_len, &f)) {
			problem(loader, true, file, line, "malformed RRSIG");
			return DZ_OK;
		}
		rrset = covered_rrset(zone, key, key_len, f.type_covered);
		if (rrset != NULL)
			return append_sig(rrset, rdata, rdata_len);
		/* Keep it until its RRset has been read. */
		result = dz_buf_append_u8(&loader->pending_sigs, (uint8_t)key_len);
		if (result == DZ_OK)
			result = dz_buf_append(&loader->pending_sigs, key, key_len);
		if (result == DZ_OK)
			result = dz_buf_append_u16(&loader->pending_sigs, rdata_len);
		if (result == DZ_OK)
			result = dz_buf_append(&loader->pending_sigs, rdata, rdata_len);
		return result;
	}
	if (type == DZ_TYPE_NSEC3) {
		uint8_t hash[DZ_NSEC3_HASH_LEN];
		dz_nsec3_t *entry;
		if (!dz_nsec3_owner_hash(zone, key, key_len, hash)) {
			problem(loader, true, file, line, "NSEC3 owner is not a hash label under the apex");
			return DZ_OK;
		}
		if (dz_zone_nsec3_find(zone, hash) != NULL) {
			problem(loader, true, file, line, "second NSEC3 record at the same owner");
			return DZ_OK;
		}
		entry = calloc(1, sizeof(*entry));
		if (entry == NULL)
			return DZ_ENOMEM;
		memcpy(entry->hash, hash, DZ_NSEC3_HASH_LEN);
		entry->rrset = dz_rrset_new(DZ_TYPE_NSEC3, ttl, 1, NULL, 2 + (size_t)rdata_len);
		if (entry->rrset == NULL) {
			free(entry);
			return DZ_ENOMEM;
		}
		entry->rrset->data[0] = (uint8_t)(rdata_len >> 8);
		entry->rrset->data[1] = (uint8_t)rdata_len;
		memcpy(entry->rrset->data + 2, rdata, rdata_len);
		return dz_zone_nsec3_insert(zone, entry);
	}
	/* NSEC */
	if (node->nsec != NULL) {
		problem(loader, true, file, line, "second NSEC record at the same owner");
		return DZ_OK;
	}
	node->nsec = dz_rrset_new(DZ_TYPE_NSEC, ttl, 1, NULL, 2 + (size_t)rdata_len);
	if (node->nsec == NULL)
		return DZ_ENOMEM;
	node->nsec->data[0] = (uint8_t)(rdata_len >> 8);
	node->nsec->data[1] = (uint8_t)rdata_len;
	memcpy(node->nsec->data + 2, rdata, rdata_len);
	return DZ_OK;
}

static bool
is_dnssec_type(uint16_t type)
{
	return type == DZ_TYPE_RRSIG || type == DZ_TYPE_NSEC || type == DZ_TYPE_NSEC3 ||
	       type == DZ_TYPE_NSEC3PARAM || type == DZ_TYPE_DNSKEY || type == DZ_TYPE_CDS ||
	       type == DZ_TYPE_CDNSKEY;
}

/* The owner and type of an RR as text, for a message. */
static void
describe(const uint8_t *key, size_t key_len, uint16_t type, char *name, char *type_text)
{
	dz_name_key_to_text(key, key_len, name);
	dz_type_name(type, type_text);
}

dz_result_t
dz_loader_add_wire(dz_loader_t *loader, const uint8_t *owner, size_t owner_len, uint16_t type,
		   uint16_t rr_class, uint32_t ttl, const uint8_t *rdata, uint16_t rdata_len,
		   const char *file, unsigned line)
{
	dz_zone_t *zone = loader->zone;
	uint8_t key[DZ_NAME_KEY_MAX];
	char name[DZ_NAME_TEXT_MAX];
	char type_text[16];
	int key_len = dz_name_key_from_wire(owner, owner_len, key);
	uint16_t file_index;
	uint16_t rrset_flags = 0;
	dz_node_t *node = NULL;
	dz_add_outcome_t outcome;
	dz_rrset_t *rrset;
	uint32_t old_ttl = 0;
	dz_error_t type_err;
	dz_result_t result;

	loader->records++;
	if (key_len < 0) {
		problem(loader, true, file, line, "malformed owner name");
		return DZ_OK;
	}
	/* Only messages use these texts, and most RRs cause none. */
	name[0] = '\0';
	type_text[0] = '\0';
	if (rr_class != DZ_CLASS_IN) {
		describe(key, (size_t)key_len, type, name, type_text);
		problem(loader, true, file, line, "%s %s: class %u is not supported; only IN zones are signed",
			name, type_text, rr_class);
		return DZ_OK;
	}
	dz_error_init(&type_err);
	if (dz_check_zone_type(type, &type_err) != DZ_OK) {
		describe(key, (size_t)key_len, type, name, type_text);
		problem(loader, true, file, line, "%s: %s", name, dz_error_message(&type_err));
		return DZ_OK;
	}
	if (!dz_name_key_is_at_or_below(key, (size_t)key_len, zone->origin_key, zone->origin_key_len)) {
		describe(key, (size_t)key_len, type, name, type_text);
		if (loader->options.drop_out_of_zone) {
			problem(loader, false, file, line, "%s %s is outside the zone %s; dropped", name,
				type_text, zone->origin_text);
			loader->dropped++;
		} else {
			problem(loader, true, file, line,
				"%s %s is outside the zone %s; remove it, or drop out-of-zone records with the option for that",
				name, type_text, zone->origin_text);
		}
		return DZ_OK;
	}

	if (is_dnssec_type(type)) {
		uint16_t tag = type == DZ_TYPE_DNSKEY ? dz_key_tag(rdata, rdata_len) : 0;
		bool at_apex = (size_t)key_len == zone->origin_key_len;
		bool kept = type == DZ_TYPE_DNSKEY && at_apex && keep_tag(loader, tag);

		if (kept) {
			result = dz_buf_append_u16(&loader->extra_dnskeys, rdata_len);
			if (result == DZ_OK)
				result = dz_buf_append(&loader->extra_dnskeys, rdata, rdata_len);
			if (result != DZ_OK)
				return result;
		}
		if (!loader->options.signed_input) {
			if (!kept) {
				describe(key, (size_t)key_len, type, name, type_text);
				if (type == DZ_TYPE_DNSKEY)
					problem(loader, false, file, line,
						"%s DNSKEY with key tag %u is not one of the zone's keys and not in the list of DNSKEYs to keep; dropped",
						name, tag);
				else
					problem(loader, false, file, line,
						"%s %s: the signer makes the DNSSEC records itself; dropped", name,
						type_text);
				loader->dropped++;
			}
			return DZ_OK;
		}
		if (type == DZ_TYPE_RRSIG || type == DZ_TYPE_NSEC || type == DZ_TYPE_NSEC3) {
			if (type != DZ_TYPE_NSEC3 && type != DZ_TYPE_RRSIG) {
				result = dz_zone_get(zone, key, (size_t)key_len, &node);
				if (result != DZ_OK)
					return result;
			}
			return add_signed_record(loader, node, key, (size_t)key_len, type, ttl, rdata,
						 rdata_len, file, line);
		}
		if (!at_apex) {
			describe(key, (size_t)key_len, type, name, type_text);
			problem(loader, false, file, line, "%s %s below the apex; dropped", name, type_text);
			loader->dropped++;
			return DZ_OK;
		}
		rrset_flags = DZ_RRSET_MANAGED;
	} else if (loader->options.max_ttl > 0 && ttl > loader->options.max_ttl) {
		describe(key, (size_t)key_len, type, name, type_text);
		problem(loader, true, file, line,
			"%s %s has TTL %u, above the policy's maximum zone TTL %u; lower the TTL or raise max-zone-ttl",
			name, type_text, ttl, loader->options.max_ttl);
		return DZ_OK;
	}

	/* Zone files list the records of a name together, so the last node is often the one. */
	node = loader->last_node;
	if (node == NULL || node->key_len != (size_t)key_len || memcmp(node->key, key, (size_t)key_len) != 0) {
		result = dz_zone_get(zone, key, (size_t)key_len, &node);
		if (result != DZ_OK)
			return result;
		loader->last_node = node;
	}
	rrset = dz_node_rrset(node, type);
	if (rrset != NULL)
		old_ttl = rrset->ttl;
	if (file == NULL || file != loader->last_file) {
		loader->last_file_index = dz_zone_file_index(zone, file != NULL ? file : "");
		loader->last_file = file;
	}
	file_index = loader->last_file_index;
	result = dz_zone_add_rdata(zone, node, type, ttl, rdata, rdata_len, file_index, line,
				   rrset_flags, &outcome);
	if (result == DZ_ETOOBIG) {
		describe(key, (size_t)key_len, type, name, type_text);
		problem(loader, true, file, line, "%s %s: RRset too large", name, type_text);
		return DZ_OK;
	}
	if (result != DZ_OK)
		return result;
	if (type == DZ_TYPE_SOA && outcome != DZ_ADD_DUPLICATE)
		loader->soa_count++;
	if (outcome == DZ_ADD_TTL_LOWERED || outcome == DZ_ADD_TTL_MISMATCH)
		describe(key, (size_t)key_len, type, name, type_text);
	if (outcome == DZ_ADD_TTL_LOWERED && rrset != NULL)
		problem(loader, false, file, line,
			"%s %s: TTL %u differs from the RRset's TTL %u; the RRset gets the lower TTL %u (RFC 2181 section 5.2)",
			name, type_text, ttl, old_ttl, ttl);
	else if (outcome == DZ_ADD_TTL_MISMATCH)
		problem(loader, false, file, line,
			"%s %s: TTL %u differs from the RRset's TTL %u; the RRset keeps the lower TTL %u (RFC 2181 section 5.2)",
			name, type_text, ttl, old_ttl, old_ttl);
	return DZ_OK;
}

dz_result_t
dz_loader_delete_wire(dz_loader_t *loader, const uint8_t *owner, size_t owner_len, uint16_t type,
		      uint16_t rr_class, const uint8_t *rdata, uint16_t rdata_len, const char *file,
		      unsigned line)
{
	dz_zone_t *zone = loader->zone;
	uint8_t key[DZ_NAME_KEY_MAX];
	char name[DZ_NAME_TEXT_MAX];
	char type_text[16];
	int key_len = dz_name_key_from_wire(owner, owner_len, key);
	dz_node_t *node;
	bool found = false;
	dz_result_t result;

	loader->records++;
	if (key_len < 0) {
		problem(loader, true, file, line, "malformed owner name");
		return DZ_OK;
	}
	dz_name_key_to_text(key, (size_t)key_len, name);
	dz_type_name(type, type_text);
	if (rr_class != DZ_CLASS_IN) {
		problem(loader, true, file, line, "%s %s: class %u is not supported", name, type_text,
			rr_class);
		return DZ_OK;
	}
	if (is_dnssec_type(type)) {
		problem(loader, true, file, line,
			"%s %s: the signer makes the DNSSEC records itself; they cannot be deleted", name,
			type_text);
		return DZ_OK;
	}
	node = dz_zone_find(zone, key, (size_t)key_len);
	if (node != NULL) {
		result = dz_zone_delete_rdata(zone, node, type, rdata, rdata_len, &found);
		if (result != DZ_OK)
			return result;
	}
	if (!found)
		problem(loader, false, file, line, "%s %s to delete is not in the zone", name, type_text);
	return DZ_OK;
}

static const char *
rrset_file(const dz_loader_t *loader, const dz_rrset_t *rrset)
{
	return dz_zone_file_name(loader->zone, rrset->file);
}

/* The node at or above `node` that hides it: a zone cut or a DNAME. */
static const dz_node_t *
occluding_ancestor(const dz_node_t *node)
{
	const dz_node_t *cut = NULL;

	for (const dz_node_t *p = node->parent; p != NULL; p = p->parent) {
		if (p->flags & (DZ_NODE_DELEGATION | DZ_NODE_DNAME))
			cut = p; /* keep going: the highest one is the one that matters */
	}
	return cut;
}

static void
check_node(dz_loader_t *loader, const dz_node_t *node)
{
	char name[DZ_NAME_TEXT_MAX];
	char type_text[16];
	const dz_rrset_t *cname = dz_node_rrset(node, DZ_TYPE_CNAME);
	const dz_rrset_t *dname = dz_node_rrset(node, DZ_TYPE_DNAME);
	const dz_rrset_t *ds = dz_node_rrset(node, DZ_TYPE_DS);
	const dz_rrset_t *soa = dz_node_rrset(node, DZ_TYPE_SOA);
	bool occluded = (node->flags & DZ_NODE_OCCLUDED) != 0;

	if (node->rrsets == NULL)
		return;
	/* Most nodes need none of the checks below, whose messages alone use the name text. */
	if (cname == NULL && dname == NULL && ds == NULL && soa == NULL && !occluded &&
	    !(node->flags & DZ_NODE_DELEGATION))
		return;
	dz_name_key_to_text(node->key, node->key_len, name);

	if (cname != NULL) {
		for (const dz_rrset_t *r = node->rrsets; r != NULL; r = r->next) {
			if (r->type == DZ_TYPE_CNAME || (r->flags & DZ_RRSET_MANAGED))
				continue;
			problem(loader, true, rrset_file(loader, cname), cname->line,
				"%s has a CNAME beside other data (%s); a CNAME must be the only data at its name (RFC 1034 section 3.6.2)",
				name, dz_type_name(r->type, type_text));
			break;
		}
		if (cname->count > 1)
			problem(loader, true, rrset_file(loader, cname), cname->line,
				"%s has %u CNAME records; a name can have only one", name, cname->count);
	}
	if (dname != NULL && dname->count > 1)
		problem(loader, true, rrset_file(loader, dname), dname->line,
			"%s has %u DNAME records; a name can have only one (RFC 6672 section 2.4)", name,
			dname->count);
	if (soa != NULL && !(node->flags & DZ_NODE_APEX) && !occluded)
		problem(loader, true, rrset_file(loader, soa), soa->line,
			"%s has an SOA record, but only the apex %s may have one", name,
			loader->zone->origin_text);
	if (ds != NULL && !occluded && !(node->flags & DZ_NODE_DELEGATION))
		problem(loader, true, rrset_file(loader, ds), ds->line,
			"%s has a DS record but no NS records; DS belongs only at a delegation (RFC 4035 section 2.4)%s",
			name, (node->flags & DZ_NODE_APEX) ? ", and the DS of the zone itself belongs in the parent zone" : "");

	if (occluded) {
		const dz_node_t *cut = occluding_ancestor(node);
		bool below_dname = cut != NULL && (cut->flags & DZ_NODE_DNAME) &&
				   !(cut->flags & DZ_NODE_DELEGATION);
		char cut_name[DZ_NAME_TEXT_MAX];

		if (cut != NULL)
			dz_name_key_to_text(cut->key, cut->key_len, cut_name);
		else
			strcpy(cut_name, "?");
		for (const dz_rrset_t *r = node->rrsets; r != NULL; r = r->next) {
			if (!below_dname && (r->type == DZ_TYPE_A || r->type == DZ_TYPE_AAAA))
				continue; /* glue */
			problem(loader, false, rrset_file(loader, r), r->line,
				"%s %s is below the %s at %s and hidden by it (occluded); it is kept but not signed",
				name, dz_type_name(r->type, type_text), below_dname ? "DNAME" : "delegation",
				cut_name);
		}
	} else if (node->flags & DZ_NODE_DELEGATION) {
		for (const dz_rrset_t *r = node->rrsets; r != NULL; r = r->next) {
			if (r->type == DZ_TYPE_NS || r->type == DZ_TYPE_DS || r->type == DZ_TYPE_A ||
			    r->type == DZ_TYPE_AAAA)
				continue;
			problem(loader, false, rrset_file(loader, r), r->line,
				"%s %s is at a delegation point, where only NS, DS and glue belong; it is kept but not signed",
				name, dz_type_name(r->type, type_text));
		}
	}
}

static void
attach_pending(dz_loader_t *loader)
{
	size_t pos = 0;
	const dz_buf_t *p = &loader->pending_sigs;

	while (pos < p->len) {
		size_t key_len = p->data[pos];
		const uint8_t *key = p->data + pos + 1;
		uint16_t len = (uint16_t)((p->data[pos + 1 + key_len] << 8) | p->data[pos + 2 + key_len]);
		const uint8_t *rdata = p->data + pos + 3 + key_len;
		dz_rrsig_fields_t f;
		dz_rrset_t *rrset = NULL;

		if (dz_rrsig_parse(rdata, len, &f))
			rrset = covered_rrset(loader->zone, key, key_len, f.type_covered);
		if (rrset == NULL || append_sig(rrset, rdata, len) != DZ_OK) {
			char name[DZ_NAME_TEXT_MAX];
			char type_text[16];
			problem(loader, false, NULL, 0, "RRSIG of %s %s covers no RRset; dropped",
				dz_name_key_to_text(key, key_len, name), dz_type_name(f.type_covered, type_text));
		}
		pos += 3 + key_len + len;
	}
}

dz_result_t
dz_loader_finish(dz_loader_t *loader, dz_error_t *err)
{
	dz_zone_t *zone = loader->zone;
	const dz_rrset_t *soa = dz_node_rrset(zone->apex, DZ_TYPE_SOA);

	if (soa == NULL)
		problem(loader, true, NULL, 0, "no SOA record at the apex %s", zone->origin_text);
	else if (soa->count > 1)
		problem(loader, true, rrset_file(loader, soa), soa->line,
			"%u SOA records at the apex; a zone has exactly one", soa->count);
	if (dz_node_rrset(zone->apex, DZ_TYPE_NS) == NULL)
		problem(loader, true, NULL, 0, "no NS records at the apex %s; a zone needs its name servers",
			zone->origin_text);
	for (size_t i = 0; i < zone->dirty.count; i++) {
		const dz_node_t *n = zone->dirty.items[i];
		if (!(n->flags & DZ_NODE_DEAD))
			check_node(loader, n);
	}

	if (loader->options.signed_input) {
		attach_pending(loader);
		loader->pending_sigs.len = 0;
		/* The signatures read with the zone are for the RRsets as read. */
		for (dz_node_t *n = dz_zone_first(zone); n != NULL; n = dz_zone_next(n)) {
			for (dz_rrset_t *r = n->rrsets; r != NULL; r = r->next)
				r->flags &= (uint16_t)~DZ_RRSET_CHANGED;
			if (n->nsec != NULL)
				n->nsec->flags &= (uint16_t)~DZ_RRSET_CHANGED;
		}
	}
	if (loader->warnings > DZ_LOAD_MAX_LOGGED)
		dz_log_zone(DZ_LOG_WARNING, zone->origin_text, "%zu more warnings not shown",
			    loader->warnings - DZ_LOAD_MAX_LOGGED);
	if (loader->errors > 0) {
		if (loader->errors > DZ_LOAD_MAX_LOGGED)
			dz_log_zone(DZ_LOG_ERROR, zone->origin_text, "%zu more errors not shown",
				    loader->errors - DZ_LOAD_MAX_LOGGED);
		if (err != NULL) {
			*err = loader->first_error;
			if (loader->errors > 1) {
				size_t len = strlen(err->message);
				snprintf(err->message + len, sizeof(err->message) - len, " (and %zu more errors)",
					 loader->errors - 1);
			}
		}
		return DZ_EZONE;
	}
	return DZ_OK;
}
