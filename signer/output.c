#include "config.h"

#include <errno.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/file.h"
#include "signer/output.h"

typedef struct writer {
	FILE *fp;
	ldns_buffer *text;
	dz_buf_t wire;
	const dz_zone_t *zone;
	dz_result_t result;
	dz_error_t *err;
} writer_t;

/* Print every wire RR in w->wire. */
static void
flush_wire(writer_t *w)
{
	size_t pos = 0;

	while (w->result == DZ_OK && pos < w->wire.len) {
		ldns_rr *rr = NULL;
		size_t start = pos;

		if (ldns_wire2rr(&rr, w->wire.data, w->wire.len, &pos, LDNS_SECTION_ANSWER) !=
			    LDNS_STATUS_OK ||
		    pos <= start) {
			w->result = dz_error_set(w->err, DZ_EINTERNAL,
						 "zone %s: a record cannot be printed", w->zone->origin_text);
			ldns_rr_free(rr);
			break;
		}
		ldns_buffer_clear(w->text);
		if (ldns_rr2buffer_str_fmt(w->text, ldns_output_format_default, rr) != LDNS_STATUS_OK) {
			w->result = dz_error_set(w->err, DZ_EINTERNAL,
						 "zone %s: a record cannot be printed", w->zone->origin_text);
		} else if (fwrite(ldns_buffer_begin(w->text), 1, ldns_buffer_position(w->text), w->fp) !=
			   ldns_buffer_position(w->text)) {
			w->result = dz_error_set(w->err, DZ_EIO, "zone %s: writing failed: %s",
						 w->zone->origin_text, strerror(errno));
		}
		ldns_rr_free(rr);
	}
	w->wire.len = 0;
}

static void
write_node(writer_t *w, const dz_node_t *node)
{
	uint8_t owner[DZ_NAME_WIRE_MAX];
	size_t owner_len = dz_name_wire_from_key(node->key, node->key_len, owner);
	const dz_rrset_t *soa = dz_node_rrset(node, DZ_TYPE_SOA);

	/* The SOA first, as zone files put it. */
	if (soa != NULL)
		w->result = dz_zone_rrset_wire(owner, owner_len, soa, &w->wire);
	for (const dz_rrset_t *r = node->rrsets; r != NULL && w->result == DZ_OK; r = r->next) {
		if (r != soa)
			w->result = dz_zone_rrset_wire(owner, owner_len, r, &w->wire);
	}
	if (w->result == DZ_OK && node->nsec != NULL)
		w->result = dz_zone_rrset_wire(owner, owner_len, node->nsec, &w->wire);
	flush_wire(w);
}

dz_result_t
dz_output_write(const dz_zone_t *zone, FILE *fp, dz_error_t *err)
{
	writer_t w;
	const dz_node_t *node = dz_zone_first(zone);
	const dz_nsec3_t *entry = dz_zone_nsec3_first(zone);
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t key_len = 0;

	memset(&w, 0, sizeof(w));
	w.fp = fp;
	w.zone = zone;
	w.err = err;
	w.text = ldns_buffer_new(4096);
	dz_buf_init(&w.wire);
	if (w.text == NULL)
		return dz_error_set(err, DZ_ENOMEM, "out of memory");
	if (entry != NULL)
		key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);

	/* Merge the names and the NSEC3 owners in canonical order. */
	while (w.result == DZ_OK && (node != NULL || entry != NULL)) {
		bool take_node = entry == NULL ||
				 (node != NULL && dz_name_key_compare(node->key, node->key_len, key, key_len) <= 0);
		if (take_node) {
			write_node(&w, node);
			node = dz_zone_next(node);
		} else {
			w.result = dz_zone_nsec3_wire(zone, entry, &w.wire);
			flush_wire(&w);
			entry = dz_zone_nsec3_next(entry);
			if (entry != NULL)
				key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);
		}
	}
	if (w.result == DZ_ENOMEM)
		dz_error_set(err, DZ_ENOMEM, "zone %s: out of memory writing the zone", zone->origin_text);
	ldns_buffer_free(w.text);
	dz_buf_clear(&w.wire);
	return w.result;
}

dz_result_t
dz_output_zone_file(const dz_zone_t *zone, const char *path, dz_error_t *err)
{
	dz_atomic_file_t file;
	dz_result_t result = dz_atomic_file_open(&file, path, 0644, err);

	if (result != DZ_OK)
		return result;
	result = dz_output_write(zone, file.fp, err);
	if (result != DZ_OK) {
		dz_atomic_file_abort(&file);
		return dz_error_prefix(err, "%s", path);
	}
	return dz_atomic_file_commit(&file, err);
}
