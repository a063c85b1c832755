#include "config.h"

#include <string.h>

#include "signer/sync.h"
#include "signer/update.h"

static bool
soa_equal_but_serial(const dz_rrset_t *a, const dz_rrset_t *b)
{
	size_t off;

	if (a->ttl != b->ttl || a->count != 1 || b->count != 1 || a->len != b->len)
		return false;
	off = dz_soa_serial_offset(a->data + 2, a->len - 2);
	if (off == 0)
		return false;
	return memcmp(a->data, b->data, 2 + off) == 0 &&
	       memcmp(a->data + 2 + off + 4, b->data + 2 + off + 4, a->len - 2 - off - 4) == 0;
}

static dz_result_t
sync_node(dz_zone_t *target, dz_node_t *node, const dz_zone_t *source_zone, const dz_node_t *source,
	  bool ignore_soa_serial, size_t *changed)
{
	dz_result_t result = DZ_OK;
	bool did = false;

	/* Types the source has: add or replace where they differ. */
	for (const dz_rrset_t *s = source->rrsets; s != NULL && result == DZ_OK; s = s->next) {
		dz_rrset_t *t = dz_node_rrset(node, s->type);
		if (t != NULL && dz_rrset_equal(t, s))
			continue;
		if (t != NULL && s->type == DZ_TYPE_SOA && ignore_soa_serial && soa_equal_but_serial(t, s))
			continue;
		result = dz_zone_set_rrset(target, node, s->type, s->ttl, s->data, s->len, 0, &did);
		if (result == DZ_OK && did) {
			dz_rrset_t *fresh = dz_node_rrset(node, s->type);
			fresh->file = dz_zone_file_index(target, dz_zone_file_name(source_zone, s->file));
			fresh->line = s->line;
			(*changed)++;
		}
	}
	/* Types only the target has: remove them, unless the signer made them. */
	for (dz_rrset_t *t = node->rrsets; t != NULL && result == DZ_OK;) {
		dz_rrset_t *next = t->next;
		if (!(t->flags & DZ_RRSET_MANAGED) && dz_node_rrset(source, t->type) == NULL) {
			result = dz_zone_set_rrset(target, node, t->type, 0, NULL, 0, 0, &did);
			if (did)
				(*changed)++;
		}
		t = next;
	}
	return result;
}

dz_result_t
dz_zone_sync(dz_zone_t *target, const dz_zone_t *source, bool ignore_soa_serial, size_t *changed)
{
	dz_result_t result = DZ_OK;
	static const dz_node_t empty;

	*changed = 0;
	for (const dz_node_t *s = dz_zone_first(source); s != NULL && result == DZ_OK; s = dz_zone_next(s)) {
		dz_node_t *t = dz_zone_find(target, s->key, s->key_len);
		if (t == NULL) {
			if (s->rrsets == NULL)
				continue; /* an empty non-terminal appears with the names below it */
			result = dz_zone_get(target, s->key, s->key_len, &t);
		}
		if (result == DZ_OK)
			result = sync_node(target, t, source, s, ignore_soa_serial, changed);
	}
	for (dz_node_t *t = dz_zone_first(target); t != NULL && result == DZ_OK; t = dz_zone_next(t)) {
		if (t->rrsets != NULL && dz_zone_find(source, t->key, t->key_len) == NULL)
			result = sync_node(target, t, source, &empty, ignore_soa_serial, changed);
	}
	return result;
}
