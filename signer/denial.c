#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "signer/denial.h"
#include "signer/nsec3.h"

size_t
dz_type_bitmap_encode(const uint16_t *types, size_t count, uint8_t *out)
{
	size_t len = 0;
	size_t i = 0;

	while (i < count) {
		unsigned window = types[i] >> 8;
		uint8_t bits[32];
		unsigned used = 0;

		memset(bits, 0, sizeof(bits));
		while (i < count && (types[i] >> 8) == window) {
			unsigned low = types[i] & 0xff;
			bits[low / 8] |= (uint8_t)(0x80 >> (low % 8));
			if (low / 8 + 1 > used)
				used = low / 8 + 1;
			i++;
		}
		out[len++] = (uint8_t)window;
		out[len++] = (uint8_t)used;
		memcpy(out + len, bits, used);
		len += used;
	}
	return len;
}

static bool
node_has_ds(const dz_node_t *node)
{
	return dz_node_rrset(node, DZ_TYPE_DS) != NULL;
}

bool
dz_denial_nsec_member(const dz_node_t *node)
{
	return !(node->flags & DZ_NODE_OCCLUDED) && node->rrsets != NULL;
}

/* Membership of a node that owns data, or of the apex; ENTs are decided by their descendants. */
static bool
nsec3_member_by_data(const dz_node_t *node, bool opt_out)
{
	if (node->flags & DZ_NODE_OCCLUDED)
		return false;
	if (node->flags & DZ_NODE_APEX)
		return true;
	if (node->flags & DZ_NODE_DELEGATION)
		return !opt_out || node_has_ds(node);
	return node->rrsets != NULL;
}

bool
dz_denial_nsec3_member(const dz_node_t *node, bool opt_out)
{
	if (node->flags & DZ_NODE_OCCLUDED)
		return false;
	if (node->rrsets != NULL || (node->flags & DZ_NODE_APEX))
		return nsec3_member_by_data(node, opt_out);
	if (!opt_out)
		return true;
	/*
	 * An empty non-terminal under opt-out: a member when some name below it
	 * is.  Descendants follow the node in canonical order.
	 */
	for (const dz_node_t *n = dz_zone_next(node);
	     n != NULL && dz_name_key_is_at_or_below(n->key, n->key_len, node->key, node->key_len);
	     n = dz_zone_next(n)) {
		if (n->rrsets != NULL && nsec3_member_by_data(n, opt_out))
			return true;
	}
	return false;
}

bool
dz_denial_node_signed(const dz_node_t *node)
{
	if (node->flags & DZ_NODE_OCCLUDED)
		return false;
	if (node->flags & DZ_NODE_DELEGATION)
		return node_has_ds(node);
	return node->rrsets != NULL;
}

/* Builds a type bitmap from types given in increasing order, without a type list. */
typedef struct bitmap_writer {
	uint8_t *out;
	size_t len;
	int window; /* -1 before the first type */
	uint8_t bits[32];
	unsigned used;
} bitmap_writer_t;

static void
bitmap_flush(bitmap_writer_t *w)
{
	if (w->window < 0)
		return;
	w->out[w->len++] = (uint8_t)w->window;
	w->out[w->len++] = (uint8_t)w->used;
	memcpy(w->out + w->len, w->bits, w->used);
	w->len += w->used;
}

static void
bitmap_add(bitmap_writer_t *w, uint16_t type)
{
	unsigned low = type & 0xff;

	if ((int)(type >> 8) != w->window) {
		bitmap_flush(w);
		w->window = type >> 8;
		memset(w->bits, 0, sizeof(w->bits));
		w->used = 0;
	}
	w->bits[low / 8] |= (uint8_t)(0x80 >> (low % 8));
	if (low / 8 + 1 > w->used)
		w->used = low / 8 + 1;
}

/*
 * Write the type bitmap of a node into `out`; `extra` (0 for none) is NSEC
 * for the NSEC chain.  RRSIG is listed when the node has signatures (always
 * with NSEC, which is signed itself).
 */
static size_t
node_bitmap(const dz_node_t *node, uint16_t extra, uint8_t *out)
{
	bitmap_writer_t w = { out, 0, -1, { 0 }, 0 };
	bool delegation = (node->flags & DZ_NODE_DELEGATION) != 0;
	bool rrsig = extra == DZ_TYPE_NSEC || dz_denial_node_signed(node);
	uint16_t pending[2];
	size_t pending_count = 0;
	size_t next_pending = 0;

	/* RRSIG (46) comes before NSEC (47): both are merged into the RRset types in order. */
	if (rrsig)
		pending[pending_count++] = DZ_TYPE_RRSIG;
	if (extra != 0)
		pending[pending_count++] = extra;
	for (const dz_rrset_t *r = node->rrsets; r != NULL; r = r->next) {
		if (delegation && r->type != DZ_TYPE_NS && r->type != DZ_TYPE_DS)
			continue;
		while (next_pending < pending_count && pending[next_pending] < r->type)
			bitmap_add(&w, pending[next_pending++]);
		bitmap_add(&w, r->type);
	}
	while (next_pending < pending_count)
		bitmap_add(&w, pending[next_pending++]);
	bitmap_flush(&w);
	return w.len;
}

static const dz_node_t *
next_nsec_member(const dz_zone_t *zone, const dz_node_t *node)
{
	for (const dz_node_t *n = dz_zone_next(node); n != NULL; n = dz_zone_next(n)) {
		if (dz_denial_nsec_member(n))
			return n;
	}
	return zone->apex;
}

size_t
dz_denial_nsec_rdata(const dz_zone_t *zone, const dz_node_t *node, uint8_t *out)
{
	const dz_node_t *next = next_nsec_member(zone, node);
	size_t len = dz_name_wire_from_key(next->key, next->key_len, out);

	return len + node_bitmap(node, DZ_TYPE_NSEC, out + len);
}

static const dz_nsec3_t *
next_nsec3(const dz_zone_t *zone, const dz_nsec3_t *entry)
{
	const dz_nsec3_t *next = dz_zone_nsec3_next(entry);

	return next != NULL ? next : dz_zone_nsec3_first(zone);
}

size_t
dz_denial_nsec3_rdata(const dz_zone_t *zone, const dz_nsec3_t *entry,
		      const dz_nsec3_params_t *params, uint8_t *out)
{
	size_t len = 0;

	out[len++] = DZ_NSEC3_ALG_SHA1;
	out[len++] = params->opt_out ? DZ_NSEC3_FLAG_OPT_OUT : 0;
	out[len++] = (uint8_t)(params->iterations >> 8);
	out[len++] = (uint8_t)params->iterations;
	out[len++] = params->salt_len;
	memcpy(out + len, params->salt, params->salt_len);
	len += params->salt_len;
	out[len++] = DZ_NSEC3_HASH_LEN;
	memcpy(out + len, next_nsec3(zone, entry)->hash, DZ_NSEC3_HASH_LEN);
	len += DZ_NSEC3_HASH_LEN;
	return len + (entry->node != NULL ? node_bitmap(entry->node, 0, out + len) : 0);
}

/* Replace a denial record (NSEC at a node or NSEC3 of an entry) when its content differs. */
static dz_result_t
set_record(dz_rrset_t **slot, uint16_t type, uint32_t ttl, const uint8_t *rdata, size_t len,
	   bool *changed)
{
	dz_rrset_t *old = *slot;
	dz_rrset_t *fresh;

	*changed = false;
	if (old != NULL && old->ttl == ttl && old->count == 1 && old->len == len + 2 &&
	    memcmp(old->data + 2, rdata, len) == 0)
		return DZ_OK;
	fresh = dz_rrset_new(type, ttl, 1, NULL, len + 2);
	if (fresh == NULL)
		return DZ_ENOMEM;
	fresh->data[0] = (uint8_t)(len >> 8);
	fresh->data[1] = (uint8_t)len;
	memcpy(fresh->data + 2, rdata, len);
	fresh->flags = DZ_RRSET_CHANGED;
	dz_rrset_free(old);
	*slot = fresh;
	*changed = true;
	return DZ_OK;
}

static dz_result_t
update_nsec_of(dz_zone_t *zone, dz_node_t *node, uint32_t ttl, uint8_t *buf)
{
	size_t len = dz_denial_nsec_rdata(zone, node, buf);
	bool changed = false;
	dz_rrset_t *copy = node->nsec;
	dz_result_t result;

	/* Compare first so that an unchanged record does not touch the node. */
	if (copy != NULL && copy->ttl == ttl && copy->len == len + 2 &&
	    memcmp(copy->data + 2, buf, len) == 0)
		return DZ_OK;
	result = dz_zone_touch(zone, node);
	if (result == DZ_OK)
		result = set_record(&node->nsec, DZ_TYPE_NSEC, ttl, buf, len, &changed);
	if (result == DZ_OK && changed)
		result = dz_zone_mark_dirty(zone, node);
	return result;
}

static dz_result_t
remove_nsec_of(dz_zone_t *zone, dz_node_t *node)
{
	dz_result_t result;

	if (node->nsec == NULL)
		return DZ_OK;
	result = dz_zone_touch(zone, node);
	if (result != DZ_OK)
		return result;
	dz_rrset_free(node->nsec);
	node->nsec = NULL;
	return dz_zone_mark_dirty(zone, node);
}

static dz_result_t
update_nsec3_of(dz_zone_t *zone, dz_nsec3_t *entry, const dz_denial_config_t *config,
		uint8_t *buf)
{
	size_t len = dz_denial_nsec3_rdata(zone, entry, &config->params, buf);
	dz_rrset_t *old = entry->rrset;
	bool changed = false;
	dz_result_t result;

	if (old != NULL && old->ttl == config->ttl && old->len == len + 2 &&
	    memcmp(old->data + 2, buf, len) == 0)
		return DZ_OK;
	result = dz_zone_touch_nsec3(zone, entry);
	if (result == DZ_OK)
		result = set_record(&entry->rrset, DZ_TYPE_NSEC3, config->ttl, buf, len, &changed);
	if (result == DZ_OK && changed)
		result = dz_zone_mark_nsec3_dirty(zone, entry);
	return result;
}

static dz_result_t
set_nsec3param(dz_zone_t *zone, const dz_denial_config_t *config)
{
	uint8_t rdata[2 + 4 + 255];
	size_t len = 0;
	bool changed = false;

	if (config->kind != DZ_CHAIN_NSEC3)
		return dz_zone_set_rrset(zone, zone->apex, DZ_TYPE_NSEC3PARAM, config->ttl, NULL, 0,
					 DZ_RRSET_MANAGED, &changed);
	rdata[len++] = 0;
	rdata[len++] = (uint8_t)(4 + 1 + config->params.salt_len);
	rdata[len++] = DZ_NSEC3_ALG_SHA1;
	rdata[len++] = 0; /* flags 0: opt-out is a property of the NSEC3 records (RFC 5155 section 4.1.2) */
	rdata[len++] = (uint8_t)(config->params.iterations >> 8);
	rdata[len++] = (uint8_t)config->params.iterations;
	rdata[len++] = config->params.salt_len;
	memcpy(rdata + len, config->params.salt, config->params.salt_len);
	len += config->params.salt_len;
	return dz_zone_set_rrset(zone, zone->apex, DZ_TYPE_NSEC3PARAM, config->ttl, rdata, len,
				 DZ_RRSET_MANAGED, &changed);
}

static bool
params_equal(const dz_nsec3_params_t *a, const dz_nsec3_params_t *b)
{
	return a->iterations == b->iterations && a->opt_out == b->opt_out &&
	       a->salt_len == b->salt_len && memcmp(a->salt, b->salt, a->salt_len) == 0;
}

/* Remove every NSEC3 entry of the zone (switching to NSEC). */
static void
remove_all_nsec3(dz_zone_t *zone)
{
	dz_nsec3_t *entry;

	while ((entry = dz_zone_nsec3_first(zone)) != NULL)
		dz_zone_nsec3_remove(zone, entry);
}

static dz_result_t
full_nsec(dz_zone_t *zone, const dz_denial_config_t *config, uint8_t *buf)
{
	dz_result_t result = DZ_OK;

	remove_all_nsec3(zone);
	for (dz_node_t *n = dz_zone_first(zone); n != NULL && result == DZ_OK; n = dz_zone_next(n)) {
		if (dz_denial_nsec_member(n))
			result = update_nsec_of(zone, n, config->ttl, buf);
		else
			result = remove_nsec_of(zone, n);
	}
	return result;
}

static dz_result_t
collision_error(dz_zone_t *zone, const dz_node_t *a, const dz_node_t *b, dz_error_t *err)
{
	char name_a[DZ_NAME_TEXT_MAX];
	char name_b[DZ_NAME_TEXT_MAX];

	return dz_error_set(err, DZ_EZONE,
			    "zone %s: %s and %s have the same NSEC3 hash; choose another NSEC3 salt",
			    zone->origin_text, dz_name_key_to_text(a->key, a->key_len, name_a),
			    b != NULL ? dz_name_key_to_text(b->key, b->key_len, name_b) : "a name");
}

static dz_result_t
owner_clash_error(const dz_zone_t *zone, const uint8_t *key, size_t key_len, dz_error_t *err)
{
	char text[DZ_NAME_TEXT_MAX];

	return dz_error_set(err, DZ_EZONE,
			    "zone %s: the name %s is also the owner of an NSEC3 record; rename it or choose another NSEC3 salt",
			    zone->origin_text, dz_name_key_to_text(key, key_len, text));
}

/* Link a member node to the entry of its hash, creating or adopting it. */
static dz_result_t
attach_entry(dz_zone_t *zone, dz_rbtree_t *old_tree, dz_node_t *node, const uint8_t *hash,
	     dz_error_t *err)
{
	dz_nsec3_t *entry = NULL;
	dz_result_t result;

	if (old_tree != NULL) {
		/* Adopt an entry of the old tree with this hash (its signatures stay if the record does). */
		dz_rbnode_t *cur = old_tree->root;
		while (cur != NULL) {
			dz_nsec3_t *e = DZ_RB_ENTRY(cur, dz_nsec3_t, rb);
			int cmp = memcmp(hash, e->hash, DZ_NSEC3_HASH_LEN);
			if (cmp == 0) {
				entry = e;
				break;
			}
			cur = cmp < 0 ? cur->left : cur->right;
		}
		if (entry != NULL)
			dz_rbtree_erase(old_tree, &entry->rb);
	}
	if (entry == NULL) {
		entry = calloc(1, sizeof(*entry));
		if (entry == NULL)
			return dz_error_set(err, DZ_ENOMEM, "zone %s: out of memory", zone->origin_text);
		memcpy(entry->hash, hash, DZ_NSEC3_HASH_LEN);
	}
	result = dz_zone_nsec3_insert(zone, entry);
	if (result == DZ_EEXIST) {
		dz_nsec3_t *other = dz_zone_nsec3_find(zone, hash);
		result = collision_error(zone, node, other != NULL ? other->node : NULL, err);
		dz_rrset_free(entry->rrset);
		free(entry);
		return result;
	}
	entry->node = node;
	node->nsec3 = entry;
	return dz_zone_mark_nsec3_dirty(zone, entry);
}

static dz_result_t
full_nsec3(dz_zone_t *zone, const dz_denial_config_t *config, uint8_t *buf, dz_error_t *err)
{
	dz_rbtree_t old_tree = zone->nsec3;
	dz_result_t result = DZ_OK;
	bool same_params = zone->chain == DZ_CHAIN_NSEC3 &&
			   params_equal(&zone->chain_params, &config->params);

	dz_rbtree_init(&zone->nsec3);
	for (dz_node_t *n = dz_zone_first(zone); n != NULL && result == DZ_OK; n = dz_zone_next(n)) {
		uint8_t hash[DZ_NSEC3_HASH_LEN];

		result = remove_nsec_of(zone, n);
		if (result != DZ_OK)
			break;
		n->nsec3 = NULL;
		if (!dz_denial_nsec3_member(n, config->params.opt_out))
			continue;
		if (!dz_nsec3_hash_key(n->key, n->key_len, &config->params, hash)) {
			result = dz_error_set(err, DZ_ECRYPTO, "zone %s: NSEC3 hashing failed",
					      zone->origin_text);
			break;
		}
		/* Entries of other parameters are never adopted: their records all change. */
		result = attach_entry(zone, same_params || zone->chain != DZ_CHAIN_NSEC3 ? &old_tree : NULL,
				      n, hash, err);
	}

	/* What is left of the old chain goes in this same version. */
	while (old_tree.root != NULL) {
		dz_nsec3_t *entry = DZ_RB_ENTRY(dz_rbtree_first(&old_tree), dz_nsec3_t, rb);
		dz_rbtree_erase(&old_tree, &entry->rb);
		/* Reinsert into the zone tree only to remove it the normal way. */
		if (dz_zone_nsec3_insert(zone, entry) == DZ_OK) {
			dz_zone_nsec3_remove(zone, entry);
		} else {
			(void)dz_zone_touch_nsec3(zone, entry);
			dz_rrset_free(entry->rrset);
			free(entry);
		}
	}
	if (result != DZ_OK)
		return result;

	for (dz_nsec3_t *e = dz_zone_nsec3_first(zone); e != NULL && result == DZ_OK;
	     e = dz_zone_nsec3_next(e))
		result = update_nsec3_of(zone, e, config, buf);
	return result;
}

/* The chain member before position `key` (strictly), wrapping to the last member. */
static dz_node_t *
nsec_member_before(dz_zone_t *zone, const uint8_t *key, size_t key_len)
{
	dz_node_t *n = dz_zone_find_le(zone, key, key_len);

	if (n != NULL && n->key_len == key_len && memcmp(n->key, key, key_len) == 0)
		n = dz_zone_prev(n);
	for (; n != NULL; n = dz_zone_prev(n)) {
		if (dz_denial_nsec_member(n))
			return n;
	}
	for (n = DZ_RB_ENTRY(dz_rbtree_last(&zone->names), dz_node_t, rb); n != NULL; n = dz_zone_prev(n)) {
		if (dz_denial_nsec_member(n))
			return n;
	}
	return zone->apex;
}

static dz_result_t
repair_nsec(dz_zone_t *zone, const dz_denial_config_t *config, uint8_t *buf)
{
	dz_result_t result = DZ_OK;
	size_t pos = 0;

	/* Dirty nodes: membership and bitmap; the dirty list grows as NSECs change. */
	for (size_t i = 0; i < zone->dirty.count && result == DZ_OK; i++) {
		dz_node_t *n = zone->dirty.items[i];
		if (n->flags & DZ_NODE_DEAD)
			continue;
		if (dz_denial_nsec_member(n))
			result = update_nsec_of(zone, n, config->ttl, buf);
		else
			result = remove_nsec_of(zone, n);
		if (result == DZ_OK)
			result = update_nsec_of(zone, nsec_member_before(zone, n->key, n->key_len),
						config->ttl, buf);
	}
	/* Names removed from the tree: their predecessors point past them now. */
	while (result == DZ_OK && pos < zone->removed_names.len) {
		size_t len = zone->removed_names.data[pos];
		const uint8_t *key = zone->removed_names.data + pos + 1;
		result = update_nsec_of(zone, nsec_member_before(zone, key, len), config->ttl, buf);
		pos += 1 + len;
	}
	return result;
}

static dz_result_t
mark_prev_nsec3(dz_zone_t *zone, const uint8_t *hash)
{
	dz_nsec3_t *prev = dz_zone_nsec3_prev_of(zone, hash);

	return prev != NULL ? dz_zone_mark_nsec3_dirty(zone, prev) : DZ_OK;
}

static dz_result_t
repair_nsec3(dz_zone_t *zone, const dz_denial_config_t *config, uint8_t *buf, dz_error_t *err)
{
	dz_result_t result = DZ_OK;
	bool opt_out = config->params.opt_out;
	size_t count;

	/* Under opt-out, an empty non-terminal's membership follows its descendants. */
	if (opt_out) {
		count = zone->dirty.count;
		for (size_t i = 0; i < count && result == DZ_OK; i++) {
			dz_node_t *n = zone->dirty.items[i];
			if (n->flags & DZ_NODE_DEAD)
				continue;
			for (dz_node_t *p = n->parent; p != NULL && p->rrsets == NULL && result == DZ_OK;
			     p = p->parent)
				result = dz_zone_mark_dirty(zone, p);
		}
	}

	/* Membership: insert and remove entries. */
	for (size_t i = 0; i < zone->dirty.count && result == DZ_OK; i++) {
		dz_node_t *n = zone->dirty.items[i];
		uint8_t hash[DZ_NSEC3_HASH_LEN];
		bool member;

		if (n->flags & DZ_NODE_DEAD)
			continue;
		if (n->rrsets != NULL && dz_nsec3_owner_hash(zone, n->key, n->key_len, hash) &&
		    dz_zone_nsec3_find(zone, hash) != NULL)
			return owner_clash_error(zone, n->key, n->key_len, err);
		member = dz_denial_nsec3_member(n, opt_out);
		if (member && n->nsec3 == NULL) {
			dz_nsec3_t *existing;
			if (!dz_nsec3_hash_key(n->key, n->key_len, &config->params, hash))
				return dz_error_set(err, DZ_ECRYPTO, "zone %s: NSEC3 hashing failed",
						    zone->origin_text);
			existing = dz_zone_nsec3_find(zone, hash);
			if (existing != NULL && existing->node != NULL && existing->node != n)
				return collision_error(zone, n, existing->node, err);
			if (existing != NULL) {
				existing->node = n;
				n->nsec3 = existing;
				result = dz_zone_mark_nsec3_dirty(zone, existing);
			} else {
				uint8_t owner[DZ_NAME_KEY_MAX];
				size_t owner_len = dz_zone_nsec3_owner_key(zone, hash, owner);
				const dz_node_t *clash = dz_zone_find(zone, owner, owner_len);
				if (clash != NULL && clash->rrsets != NULL)
					return owner_clash_error(zone, owner, owner_len, err);
				result = attach_entry(zone, NULL, n, hash, err);
				if (result == DZ_OK)
					result = mark_prev_nsec3(zone, hash);
			}
		} else if (member) {
			result = dz_zone_mark_nsec3_dirty(zone, n->nsec3);
		} else if (n->nsec3 != NULL) {
			dz_zone_nsec3_remove(zone, n->nsec3);
		}
	}
	if (result != DZ_OK)
		return result;

	/* Removed positions: the entry before each one now points past it. */
	for (size_t pos = 0; pos + DZ_NSEC3_HASH_LEN <= zone->removed_hashes.len && result == DZ_OK;
	     pos += DZ_NSEC3_HASH_LEN)
		result = mark_prev_nsec3(zone, zone->removed_hashes.data + pos);

	for (size_t i = 0; i < zone->dirty_nsec3.count && result == DZ_OK; i++) {
		dz_nsec3_t *e = zone->dirty_nsec3.items[i];
		if (!(e->flags & DZ_NSEC3_DEAD))
			result = update_nsec3_of(zone, e, config, buf);
	}
	return result;
}

/* Whether an NSEC3 owner name is also a name with data in the zone. */
static dz_result_t
check_owner_clash(dz_zone_t *zone, dz_error_t *err)
{
	uint8_t key[DZ_NAME_KEY_MAX];

	for (dz_nsec3_t *e = dz_zone_nsec3_first(zone); e != NULL; e = dz_zone_nsec3_next(e)) {
		size_t len = dz_zone_nsec3_owner_key(zone, e->hash, key);
		dz_node_t *n = len > 0 ? dz_zone_find(zone, key, len) : NULL;
		if (n != NULL && n->rrsets != NULL)
			return owner_clash_error(zone, key, len, err);
	}
	return DZ_OK;
}

dz_result_t
dz_denial_update(dz_zone_t *zone, const dz_denial_config_t *config, bool full, dz_error_t *err)
{
	uint8_t *buf = malloc(DZ_DENIAL_RDATA_MAX);
	dz_result_t result = DZ_OK;

	if (buf == NULL)
		return dz_error_set(err, DZ_ENOMEM, "zone %s: out of memory", zone->origin_text);
	if (zone->chain != config->kind ||
	    (config->kind == DZ_CHAIN_NSEC3 && !params_equal(&zone->chain_params, &config->params)))
		full = true;
	/* The TTL of every record changes with the SOA's; a full run rewrites them all. */
	if (zone->chain != DZ_CHAIN_NONE && (zone->chain == DZ_CHAIN_NSEC ?
	    (zone->apex->nsec != NULL && zone->apex->nsec->ttl != config->ttl) :
	    (zone->apex->nsec3 != NULL && zone->apex->nsec3->rrset != NULL &&
	     zone->apex->nsec3->rrset->ttl != config->ttl)))
		full = true;

	if (config->kind == DZ_CHAIN_NONE) {
		/* An insecure zone: every denial record goes. */
		remove_all_nsec3(zone);
		for (dz_node_t *n = dz_zone_first(zone); n != NULL && result == DZ_OK; n = dz_zone_next(n))
			result = remove_nsec_of(zone, n);
	}
	if (result == DZ_OK)
		result = set_nsec3param(zone, config);
	if (result != DZ_OK) {
		dz_error_set(err, result, "zone %s: out of memory", zone->origin_text);
		goto cleanup;
	}
	if (result != DZ_OK || config->kind == DZ_CHAIN_NONE)
		;
	else if (config->kind == DZ_CHAIN_NSEC)
		result = full ? full_nsec(zone, config, buf) : repair_nsec(zone, config, buf);
	else
		result = full ? full_nsec3(zone, config, buf, err) : repair_nsec3(zone, config, buf, err);
	if (result == DZ_ENOMEM)
		dz_error_set(err, result, "zone %s: out of memory building the denial chain",
			     zone->origin_text);
	if (result == DZ_OK && config->kind == DZ_CHAIN_NSEC3 && full)
		result = check_owner_clash(zone, err);
	if (result == DZ_OK) {
		zone->chain = config->kind;
		zone->chain_params = config->params;
	} else {
		/* A half-built chain must not be repaired later as if it were whole. */
		zone->chain = DZ_CHAIN_NONE;
	}
cleanup:
	free(buf);
	return result;
}
