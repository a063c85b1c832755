#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "signer/changes.h"
#include "signer/zone.h"

static bool hides_children(const dz_node_t *node);

static dz_node_t *
node_of(const dz_rbnode_t *rb)
{
	return rb == NULL ? NULL : DZ_RB_ENTRY(rb, dz_node_t, rb);
}

/* Make room for one more pointer so that the next push cannot fail. */
static dz_result_t
reserve_one(dz_ptrvec_t *vec)
{
	if (vec->count < vec->cap)
		return DZ_OK;
	if (dz_ptrvec_push(vec, NULL) != DZ_OK)
		return DZ_ENOMEM;
	vec->count--;
	return DZ_OK;
}

static dz_nsec3_t *
nsec3_of(const dz_rbnode_t *rb)
{
	return rb == NULL ? NULL : DZ_RB_ENTRY(rb, dz_nsec3_t, rb);
}

static void
free_node(dz_node_t *node)
{
	dz_rrset_t *rrset = node->rrsets;

	while (rrset != NULL) {
		dz_rrset_t *next = rrset->next;
		dz_rrset_free(rrset);
		rrset = next;
	}
	dz_rrset_free(node->nsec);
	free(node);
}

static void
free_nsec3(dz_nsec3_t *entry)
{
	dz_rrset_free(entry->rrset);
	free(entry);
}

static dz_node_t *
new_node(const uint8_t *key, size_t key_len)
{
	dz_node_t *node = calloc(1, sizeof(*node) + key_len);

	if (node == NULL)
		return NULL;
	memcpy(node->key, key, key_len);
	node->key_len = (uint8_t)key_len;
	node->labels = (uint8_t)dz_name_key_labels(key, key_len);
	return node;
}

/* Insert a node whose name is not in the tree yet. */
static void
link_node(dz_zone_t *zone, dz_node_t *node)
{
	dz_rbnode_t *parent = NULL;
	dz_rbnode_t *cur = zone->names.root;
	int dir = 0;

	while (cur != NULL) {
		dz_node_t *n = node_of(cur);
		parent = cur;
		dir = dz_name_key_compare(node->key, node->key_len, n->key, n->key_len);
		assert(dir != 0);
		cur = dir < 0 ? cur->left : cur->right;
	}
	dz_rbtree_link(&zone->names, &node->rb, parent, dir);
}

dz_zone_t *
dz_zone_create(const uint8_t *origin_wire, size_t origin_len)
{
	dz_zone_t *zone = calloc(1, sizeof(*zone));
	int key_len;

	if (zone == NULL)
		return NULL;
	key_len = dz_name_key_from_wire(origin_wire, origin_len, zone->origin_key);
	if (key_len < 0) {
		free(zone);
		return NULL;
	}
	zone->origin_key_len = (size_t)key_len;
	zone->origin_wire_len = dz_name_wire_from_key(zone->origin_key, zone->origin_key_len,
						      zone->origin_wire);
	dz_name_key_to_text(zone->origin_key, zone->origin_key_len, zone->origin_text);
	dz_rbtree_init(&zone->names);
	dz_rbtree_init(&zone->nsec3);
	dz_ptrvec_init(&zone->dirty);
	dz_ptrvec_init(&zone->dirty_nsec3);
	dz_ptrvec_init(&zone->dead);
	dz_ptrvec_init(&zone->dead_nsec3);
	dz_ptrvec_init(&zone->files);
	dz_buf_init(&zone->removed_names);
	dz_buf_init(&zone->removed_hashes);
	zone->earliest_expiration = INT64_MAX;
	zone->latest_inception = INT64_MIN;

	zone->apex = new_node(zone->origin_key, zone->origin_key_len);
	if (zone->apex == NULL || dz_ptrvec_push(&zone->files, strdup("")) != DZ_OK ||
	    zone->files.items[0] == NULL) {
		dz_zone_destroy(zone);
		return NULL;
	}
	zone->apex->flags = DZ_NODE_APEX;
	link_node(zone, zone->apex);
	return zone;
}

static void
free_subtree(dz_rbnode_t *rb)
{
	while (rb != NULL) {
		dz_rbnode_t *left = rb->left;
		free_subtree(rb->right);
		free_node(node_of(rb));
		rb = left;
	}
}

static void
free_nsec3_subtree(dz_rbnode_t *rb)
{
	while (rb != NULL) {
		dz_rbnode_t *left = rb->left;
		free_nsec3_subtree(rb->right);
		free_nsec3(nsec3_of(rb));
		rb = left;
	}
}

void
dz_zone_destroy(dz_zone_t *zone)
{
	if (zone == NULL)
		return;
	dz_changes_abort(zone->changes);
	free_subtree(zone->names.root);
	free_nsec3_subtree(zone->nsec3.root);
	for (size_t i = 0; i < zone->dead.count; i++)
		free_node(zone->dead.items[i]);
	for (size_t i = 0; i < zone->dead_nsec3.count; i++)
		free_nsec3(zone->dead_nsec3.items[i]);
	for (size_t i = 0; i < zone->files.count; i++)
		free(zone->files.items[i]);
	dz_ptrvec_clear(&zone->dirty);
	dz_ptrvec_clear(&zone->dirty_nsec3);
	dz_ptrvec_clear(&zone->dead);
	dz_ptrvec_clear(&zone->dead_nsec3);
	dz_ptrvec_clear(&zone->files);
	dz_buf_clear(&zone->removed_names);
	dz_buf_clear(&zone->removed_hashes);
	free(zone);
}

uint16_t
dz_zone_file_index(dz_zone_t *zone, const char *path)
{
	char *copy;

	for (size_t i = 1; i < zone->files.count; i++) {
		if (strcmp(zone->files.items[i], path) == 0)
			return (uint16_t)i;
	}
	if (zone->files.count >= UINT16_MAX)
		return 0;
	copy = strdup(path);
	if (copy == NULL || dz_ptrvec_push(&zone->files, copy) != DZ_OK) {
		free(copy);
		return 0;
	}
	return (uint16_t)(zone->files.count - 1);
}

const char *
dz_zone_file_name(const dz_zone_t *zone, uint16_t index)
{
	return index < zone->files.count ? zone->files.items[index] : "";
}

dz_node_t *
dz_zone_find(const dz_zone_t *zone, const uint8_t *key, size_t key_len)
{
	dz_rbnode_t *cur = zone->names.root;

	while (cur != NULL) {
		dz_node_t *n = node_of(cur);
		int cmp = dz_name_key_compare(key, key_len, n->key, n->key_len);
		if (cmp == 0)
			return n;
		cur = cmp < 0 ? cur->left : cur->right;
	}
	return NULL;
}

dz_node_t *
dz_zone_find_le(const dz_zone_t *zone, const uint8_t *key, size_t key_len)
{
	dz_rbnode_t *cur = zone->names.root;
	dz_node_t *best = NULL;

	while (cur != NULL) {
		dz_node_t *n = node_of(cur);
		int cmp = dz_name_key_compare(key, key_len, n->key, n->key_len);
		if (cmp == 0)
			return n;
		if (cmp < 0) {
			cur = cur->left;
		} else {
			best = n;
			cur = cur->right;
		}
	}
	return best;
}

dz_result_t
dz_zone_append(dz_zone_t *zone, const uint8_t *key, size_t key_len, dz_node_t **last)
{
	dz_node_t *parent = *last;
	size_t len;

	assert(parent->rb.right == NULL); /* the last node in order */
	if (key_len <= zone->origin_key_len ||
	    !dz_name_key_is_at_or_below(key, key_len, zone->origin_key, zone->origin_key_len) ||
	    dz_name_key_compare(key, key_len, parent->key, parent->key_len) <= 0)
		return DZ_EINVAL;
	/* Every name between `last` and the new one is new, so the deepest existing ancestor is an ancestor of `last`. */
	while (!dz_name_key_is_at_or_below(key, key_len, parent->key, parent->key_len))
		parent = parent->parent;
	for (len = parent->key_len; len < key_len;) {
		size_t next = len + 1 + (size_t)key[len];
		dz_node_t *node = new_node(key, next);

		if (node == NULL)
			return DZ_ENOMEM;
		node->parent = parent;
		if (hides_children(parent))
			node->flags |= DZ_NODE_OCCLUDED;
		dz_rbtree_link(&zone->names, &node->rb, &(*last)->rb, 1);
		parent->children++;
		*last = node;
		parent = node;
		len = next;
	}
	return DZ_OK;
}

dz_node_t *
dz_zone_first(const dz_zone_t *zone)
{
	return node_of(dz_rbtree_first(&zone->names));
}

dz_node_t *
dz_zone_next(const dz_node_t *node)
{
	return node_of(dz_rbtree_next(&node->rb));
}

dz_node_t *
dz_zone_prev(const dz_node_t *node)
{
	return node_of(dz_rbtree_prev(&node->rb));
}

static bool
hides_children(const dz_node_t *node)
{
	return (node->flags & (DZ_NODE_OCCLUDED | DZ_NODE_DELEGATION | DZ_NODE_DNAME)) != 0;
}

dz_result_t
dz_zone_mark_dirty(dz_zone_t *zone, dz_node_t *node)
{
	if (node->flags & DZ_NODE_DIRTY)
		return DZ_OK;
	if (dz_ptrvec_push(&zone->dirty, node) != DZ_OK)
		return DZ_ENOMEM;
	node->flags |= DZ_NODE_DIRTY;
	return DZ_OK;
}

dz_result_t
dz_zone_mark_nsec3_dirty(dz_zone_t *zone, dz_nsec3_t *entry)
{
	if (entry->flags & DZ_NSEC3_DIRTY)
		return DZ_OK;
	if (dz_ptrvec_push(&zone->dirty_nsec3, entry) != DZ_OK)
		return DZ_ENOMEM;
	entry->flags |= DZ_NSEC3_DIRTY;
	return DZ_OK;
}

void
dz_zone_clear_dirty(dz_zone_t *zone)
{
	for (size_t i = 0; i < zone->dirty.count; i++)
		((dz_node_t *)zone->dirty.items[i])->flags &= (uint16_t)~DZ_NODE_DIRTY;
	for (size_t i = 0; i < zone->dirty_nsec3.count; i++)
		((dz_nsec3_t *)zone->dirty_nsec3.items[i])->flags &= (uint16_t)~DZ_NSEC3_DIRTY;
	zone->dirty.count = 0;
	zone->dirty_nsec3.count = 0;
	for (size_t i = 0; i < zone->dead.count; i++)
		free_node(zone->dead.items[i]);
	for (size_t i = 0; i < zone->dead_nsec3.count; i++)
		free_nsec3(zone->dead_nsec3.items[i]);
	zone->dead.count = 0;
	zone->dead_nsec3.count = 0;
	zone->removed_names.len = 0;
	zone->removed_hashes.len = 0;
}

dz_result_t
dz_zone_get(dz_zone_t *zone, const uint8_t *key, size_t key_len, dz_node_t **out)
{
	dz_node_t *node = dz_zone_find(zone, key, key_len);
	dz_node_t *parent = NULL;
	dz_result_t result;

	if (node != NULL) {
		*out = node;
		return DZ_OK;
	}
	if (key_len <= zone->origin_key_len ||
	    !dz_name_key_is_at_or_below(key, key_len, zone->origin_key, zone->origin_key_len))
		return DZ_EINVAL;
	result = dz_zone_get(zone, key, dz_name_key_parent_len(key, key_len), &parent);
	if (result != DZ_OK)
		return result;
	node = new_node(key, key_len);
	if (node == NULL)
		return DZ_ENOMEM;
	if (reserve_one(&zone->dirty) != DZ_OK) {
		free(node);
		return DZ_ENOMEM;
	}
	node->parent = parent;
	if (hides_children(parent))
		node->flags |= DZ_NODE_OCCLUDED;
	link_node(zone, node);
	parent->children++;
	(void)dz_zone_mark_dirty(zone, node); /* room reserved above */
	*out = node;
	return DZ_OK;
}

dz_rrset_t *
dz_node_rrset(const dz_node_t *node, uint16_t type)
{
	for (dz_rrset_t *r = node->rrsets; r != NULL && r->type <= type; r = r->next) {
		if (r->type == type)
			return r;
	}
	return NULL;
}

int
dz_rdata_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	size_t common = a_len < b_len ? a_len : b_len;
	int cmp = memcmp(a, b, common);

	if (cmp != 0)
		return cmp;
	if (a_len == b_len)
		return 0;
	return a_len < b_len ? -1 : 1;
}

dz_rrset_t *
dz_rrset_new(uint16_t type, uint32_t ttl, uint16_t count, const uint8_t *data, size_t len)
{
	dz_rrset_t *rrset;

	if (len > UINT32_MAX)
		return NULL;
	rrset = malloc(sizeof(*rrset) + len);
	if (rrset == NULL)
		return NULL;
	memset(rrset, 0, sizeof(*rrset));
	rrset->type = type;
	rrset->ttl = ttl;
	rrset->count = count;
	rrset->len = (uint32_t)len;
	if (data != NULL && len > 0)
		memcpy(rrset->data, data, len);
	return rrset;
}

void
dz_rrset_free(dz_rrset_t *rrset)
{
	if (rrset == NULL)
		return;
	free(rrset->sigs);
	free(rrset);
}

bool
dz_rrset_equal(const dz_rrset_t *a, const dz_rrset_t *b)
{
	return a->ttl == b->ttl && a->count == b->count && a->len == b->len &&
	       memcmp(a->data, b->data, a->len) == 0;
}

dz_sigset_t *
dz_sigset_new(uint16_t count, const uint8_t *data, size_t len)
{
	dz_sigset_t *sigs;

	if (len > UINT32_MAX)
		return NULL;
	sigs = malloc(sizeof(*sigs) + len);
	if (sigs == NULL)
		return NULL;
	sigs->count = count;
	sigs->len = (uint32_t)len;
	if (len > 0)
		memcpy(sigs->data, data, len);
	return sigs;
}

/* The link that points at the RRset of `type` or where it would go. */
static dz_rrset_t **
rrset_slot(dz_node_t *node, uint16_t type)
{
	dz_rrset_t **slot = &node->rrsets;

	while (*slot != NULL && (*slot)->type < type)
		slot = &(*slot)->next;
	return slot;
}

/*
 * Recompute the delegation and DNAME flags of a node and, when they change
 * what is hidden below it, the occlusion of its whole subtree, which follows
 * it in canonical order.
 */
static dz_result_t
update_cut(dz_zone_t *zone, dz_node_t *node)
{
	uint16_t old = node->flags;
	bool was_hiding = hides_children(node);

	node->flags &= (uint16_t)~(DZ_NODE_DELEGATION | DZ_NODE_DNAME);
	if (!(node->flags & DZ_NODE_APEX) && dz_node_rrset(node, DZ_TYPE_NS) != NULL)
		node->flags |= DZ_NODE_DELEGATION;
	if (dz_node_rrset(node, DZ_TYPE_DNAME) != NULL)
		node->flags |= DZ_NODE_DNAME;
	if (node->flags == old || hides_children(node) == was_hiding)
		return DZ_OK;

	for (dz_node_t *n = dz_zone_next(node);
	     n != NULL && dz_name_key_is_at_or_below(n->key, n->key_len, node->key, node->key_len);
	     n = dz_zone_next(n)) {
		uint16_t before = n->flags;
		if (hides_children(n->parent))
			n->flags |= DZ_NODE_OCCLUDED;
		else
			n->flags &= (uint16_t)~DZ_NODE_OCCLUDED;
		if (n->flags != before && dz_zone_mark_dirty(zone, n) != DZ_OK)
			return DZ_ENOMEM;
	}
	return DZ_OK;
}

static dz_result_t
changed_node(dz_zone_t *zone, dz_node_t *node, uint16_t type)
{
	dz_result_t result = dz_zone_mark_dirty(zone, node);

	if (result == DZ_OK && (type == DZ_TYPE_NS || type == DZ_TYPE_DNAME))
		result = update_cut(zone, node);
	return result;
}

dz_result_t
dz_zone_add_rdata(dz_zone_t *zone, dz_node_t *node, uint16_t type, uint32_t ttl,
		  const uint8_t *rdata, uint16_t rdata_len, uint16_t file, uint32_t line,
		  uint16_t rrset_flags, dz_add_outcome_t *outcome)
{
	dz_rrset_t **slot = rrset_slot(node, type);
	dz_rrset_t *rrset = *slot;
	dz_rdata_iter_t it;
	const uint8_t *cur;
	uint16_t cur_len;
	size_t offset;
	dz_rrset_t *grown;
	dz_result_t result;

	result = dz_zone_touch(zone, node);
	if (result != DZ_OK)
		return result;

	if (rrset == NULL || rrset->type != type) {
		uint8_t head[2] = { (uint8_t)(rdata_len >> 8), (uint8_t)rdata_len };
		dz_rrset_t *fresh = dz_rrset_new(type, ttl, 1, NULL, 2 + (size_t)rdata_len);
		if (fresh == NULL)
			return DZ_ENOMEM;
		memcpy(fresh->data, head, 2);
		memcpy(fresh->data + 2, rdata, rdata_len);
		fresh->file = file;
		fresh->line = line;
		fresh->flags = (uint16_t)(DZ_RRSET_CHANGED | rrset_flags);
		fresh->next = rrset;
		*slot = fresh;
		*outcome = DZ_ADD_NEW;
		return changed_node(zone, node, type);
	}

	/* Find the position in canonical RDATA order. */
	dz_rdata_iter_init(&it, rrset->data, rrset->len);
	offset = 0;
	while (dz_rdata_iter_next(&it, &cur, &cur_len)) {
		int cmp = dz_rdata_compare(rdata, rdata_len, cur, cur_len);
		if (cmp == 0) {
			*outcome = DZ_ADD_DUPLICATE;
			if (ttl < rrset->ttl) {
				rrset->ttl = ttl;
				rrset->flags |= DZ_RRSET_CHANGED;
				*outcome = DZ_ADD_TTL_LOWERED;
				return dz_zone_mark_dirty(zone, node);
			}
			return DZ_OK;
		}
		if (cmp < 0)
			break;
		offset = (size_t)(it.pos - rrset->data);
	}
	if (rrset->count == UINT16_MAX || (size_t)rrset->len + 2 + rdata_len > UINT32_MAX)
		return DZ_ETOOBIG;

	grown = realloc(rrset, sizeof(*rrset) + rrset->len + 2 + rdata_len);
	if (grown == NULL)
		return DZ_ENOMEM;
	rrset = grown;
	*slot = rrset;
	memmove(rrset->data + offset + 2 + rdata_len, rrset->data + offset, rrset->len - offset);
	rrset->data[offset] = (uint8_t)(rdata_len >> 8);
	rrset->data[offset + 1] = (uint8_t)rdata_len;
	memcpy(rrset->data + offset + 2, rdata, rdata_len);
	rrset->len += 2 + (uint32_t)rdata_len;
	rrset->count++;
	rrset->flags |= DZ_RRSET_CHANGED;

	*outcome = DZ_ADD_NEW;
	if (ttl < rrset->ttl) {
		rrset->ttl = ttl;
		*outcome = DZ_ADD_TTL_LOWERED;
	} else if (ttl > rrset->ttl) {
		*outcome = DZ_ADD_TTL_MISMATCH;
	}
	return changed_node(zone, node, type);
}

dz_result_t
dz_zone_delete_rdata(dz_zone_t *zone, dz_node_t *node, uint16_t type, const uint8_t *rdata,
		     uint16_t rdata_len, bool *found)
{
	dz_rrset_t **slot = rrset_slot(node, type);
	dz_rrset_t *rrset = *slot;
	dz_rdata_iter_t it;
	const uint8_t *cur;
	uint16_t cur_len;
	dz_result_t result;

	*found = false;
	if (rrset == NULL || rrset->type != type)
		return DZ_OK;
	dz_rdata_iter_init(&it, rrset->data, rrset->len);
	while (dz_rdata_iter_next(&it, &cur, &cur_len)) {
		size_t start;
		size_t size;

		if (dz_rdata_compare(rdata, rdata_len, cur, cur_len) != 0)
			continue;
		result = dz_zone_touch(zone, node);
		if (result != DZ_OK)
			return result;
		*found = true;
		if (rrset->count == 1) {
			*slot = rrset->next;
			dz_rrset_free(rrset);
		} else {
			start = (size_t)(cur - 2 - rrset->data);
			size = 2 + (size_t)cur_len;
			memmove(rrset->data + start, rrset->data + start + size,
				rrset->len - start - size);
			rrset->len -= (uint32_t)size;
			rrset->count--;
			rrset->flags |= DZ_RRSET_CHANGED;
		}
		return changed_node(zone, node, type);
	}
	return DZ_OK;
}

typedef struct rdata_ref {
	const uint8_t *data;
	uint16_t len;
} rdata_ref_t;

static int
compare_refs(const void *a, const void *b)
{
	const rdata_ref_t *x = a;
	const rdata_ref_t *y = b;

	return dz_rdata_compare(x->data, x->len, y->data, y->len);
}

dz_result_t
dz_zone_set_rrset(dz_zone_t *zone, dz_node_t *node, uint16_t type, uint32_t ttl,
		  const uint8_t *blob, size_t blob_len, uint16_t rrset_flags, bool *changed)
{
	dz_rrset_t **slot = rrset_slot(node, type);
	dz_rrset_t *old = (*slot != NULL && (*slot)->type == type) ? *slot : NULL;
	rdata_ref_t *refs = NULL;
	size_t count = 0;
	size_t total = 0;
	dz_rdata_iter_t it;
	const uint8_t *cur;
	uint16_t cur_len;
	dz_rrset_t *fresh = NULL;
	dz_result_t result = DZ_OK;

	*changed = false;
	dz_rdata_iter_init(&it, blob, blob_len);
	while (dz_rdata_iter_next(&it, &cur, &cur_len))
		count++;
	if (count > UINT16_MAX)
		return DZ_ETOOBIG;
	if (count == 0) {
		if (old == NULL)
			return DZ_OK;
		result = dz_zone_touch(zone, node);
		if (result != DZ_OK)
			return result;
		*slot = old->next;
		dz_rrset_free(old);
		*changed = true;
		return changed_node(zone, node, type);
	}

	refs = calloc(count, sizeof(*refs));
	if (refs == NULL)
		return DZ_ENOMEM;
	count = 0;
	dz_rdata_iter_init(&it, blob, blob_len);
	while (dz_rdata_iter_next(&it, &cur, &cur_len)) {
		refs[count].data = cur;
		refs[count].len = cur_len;
		count++;
	}
	qsort(refs, count, sizeof(*refs), compare_refs);
	fresh = dz_rrset_new(type, ttl, 0, NULL, blob_len);
	if (fresh == NULL) {
		result = DZ_ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < count; i++) {
		if (i > 0 && compare_refs(&refs[i - 1], &refs[i]) == 0)
			continue;
		fresh->data[total] = (uint8_t)(refs[i].len >> 8);
		fresh->data[total + 1] = (uint8_t)refs[i].len;
		memcpy(fresh->data + total + 2, refs[i].data, refs[i].len);
		total += 2 + (size_t)refs[i].len;
		fresh->count++;
	}
	fresh->len = (uint32_t)total;
	fresh->flags = (uint16_t)(DZ_RRSET_CHANGED | rrset_flags);

	if (old != NULL && dz_rrset_equal(old, fresh)) {
		old->flags |= rrset_flags;
		goto cleanup;
	}
	result = dz_zone_touch(zone, node);
	if (result != DZ_OK)
		goto cleanup;
	if (old != NULL) {
		fresh->next = old->next;
		fresh->file = old->file;
		fresh->line = old->line;
		dz_rrset_free(old);
	} else {
		fresh->next = *slot;
	}
	*slot = fresh;
	fresh = NULL;
	*changed = true;
	result = changed_node(zone, node, type);
cleanup:
	free(fresh);
	free(refs);
	return result;
}

void
dz_zone_set_sigs(dz_zone_t *zone, dz_node_t *node, dz_rrset_t *rrset, dz_sigset_t *sigs)
{
	(void)zone;
	(void)node;
	free(rrset->sigs);
	rrset->sigs = sigs;
}

/* Record that a chain member may have left at this name. */
static dz_result_t
note_removed_name(dz_zone_t *zone, const dz_node_t *node)
{
	dz_result_t result = dz_buf_append_u8(&zone->removed_names, node->key_len);

	if (result == DZ_OK)
		result = dz_buf_append(&zone->removed_names, node->key, node->key_len);
	return result;
}

void
dz_zone_prune(dz_zone_t *zone, void (*removed)(void *ctx, const uint8_t *key, size_t key_len),
	      void *ctx)
{
	for (size_t i = 0; i < zone->dirty.count; i++) {
		dz_node_t *node = zone->dirty.items[i];

		while (node != NULL && !(node->flags & (DZ_NODE_DEAD | DZ_NODE_APEX)) &&
		       node->rrsets == NULL && node->children == 0) {
			dz_node_t *parent = node->parent;

			if (dz_zone_touch(zone, node) != DZ_OK ||
			    reserve_one(&zone->dead) != DZ_OK ||
			    note_removed_name(zone, node) != DZ_OK)
				return; /* out of memory: the empty node stays, which is harmless */
			if (removed != NULL)
				removed(ctx, node->key, node->key_len);
			if (node->nsec3 != NULL)
				dz_zone_nsec3_remove(zone, node->nsec3);
			dz_rrset_free(node->nsec);
			node->nsec = NULL;
			dz_rbtree_erase(&zone->names, &node->rb);
			node->flags |= DZ_NODE_DEAD;
			(void)dz_ptrvec_push(&zone->dead, node);
			parent->children--;
			(void)dz_zone_mark_dirty(zone, parent);
			node = parent;
		}
	}
}

dz_result_t
dz_zone_touch(dz_zone_t *zone, dz_node_t *node)
{
	dz_buf_t rrs;
	dz_result_t result;

	if (zone->changes == NULL || (node->flags & DZ_NODE_TOUCHED))
		return DZ_OK;
	dz_buf_init(&rrs);
	result = dz_zone_node_wire(zone, node, &rrs);
	if (result == DZ_OK)
		result = dz_changes_save(zone->changes, node->key, node->key_len, false, rrs.data,
					 rrs.len);
	dz_buf_clear(&rrs);
	if (result == DZ_OK)
		node->flags |= DZ_NODE_TOUCHED;
	return result;
}

dz_result_t
dz_zone_touch_nsec3(dz_zone_t *zone, dz_nsec3_t *entry)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t key_len;
	dz_buf_t rrs;
	dz_result_t result;

	if (zone->changes == NULL || (entry->flags & DZ_NSEC3_TOUCHED))
		return DZ_OK;
	key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);
	dz_buf_init(&rrs);
	result = dz_zone_nsec3_wire(zone, entry, &rrs);
	if (result == DZ_OK)
		result = dz_changes_save(zone->changes, key, key_len, true, rrs.data, rrs.len);
	dz_buf_clear(&rrs);
	if (result == DZ_OK)
		entry->flags |= DZ_NSEC3_TOUCHED;
	return result;
}

dz_result_t
dz_wire_rr_append(dz_buf_t *out, const uint8_t *owner, size_t owner_len, uint16_t type,
		  uint32_t ttl, const uint8_t *rdata, uint16_t rdata_len)
{
	dz_result_t result = dz_buf_reserve(out, owner_len + 10 + rdata_len);

	if (result != DZ_OK)
		return result;
	(void)dz_buf_append(out, owner, owner_len);
	(void)dz_buf_append_u16(out, type);
	(void)dz_buf_append_u16(out, DZ_CLASS_IN);
	(void)dz_buf_append_u32(out, ttl);
	(void)dz_buf_append_u16(out, rdata_len);
	return dz_buf_append(out, rdata, rdata_len);
}

dz_result_t
dz_zone_rrset_wire(const uint8_t *owner, size_t owner_len, const dz_rrset_t *rrset, dz_buf_t *out)
{
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;
	dz_result_t result = DZ_OK;

	dz_rdata_iter_init(&it, rrset->data, rrset->len);
	while (result == DZ_OK && dz_rdata_iter_next(&it, &rdata, &len))
		result = dz_wire_rr_append(out, owner, owner_len, rrset->type, rrset->ttl, rdata, len);
	if (rrset->sigs != NULL) {
		dz_rdata_iter_init(&it, rrset->sigs->data, rrset->sigs->len);
		while (result == DZ_OK && dz_rdata_iter_next(&it, &rdata, &len))
			result = dz_wire_rr_append(out, owner, owner_len, DZ_TYPE_RRSIG, rrset->ttl,
						   rdata, len);
	}
	return result;
}

dz_result_t
dz_zone_node_wire(const dz_zone_t *zone, const dz_node_t *node, dz_buf_t *out)
{
	uint8_t owner[DZ_NAME_WIRE_MAX];
	size_t owner_len = dz_name_wire_from_key(node->key, node->key_len, owner);
	dz_result_t result = DZ_OK;

	(void)zone;
	for (const dz_rrset_t *r = node->rrsets; r != NULL && result == DZ_OK; r = r->next)
		result = dz_zone_rrset_wire(owner, owner_len, r, out);
	if (result == DZ_OK && node->nsec != NULL)
		result = dz_zone_rrset_wire(owner, owner_len, node->nsec, out);
	return result;
}

dz_result_t
dz_zone_nsec3_wire(const dz_zone_t *zone, const dz_nsec3_t *entry, dz_buf_t *out)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	uint8_t owner[DZ_NAME_WIRE_MAX];
	size_t key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);
	size_t owner_len = dz_name_wire_from_key(key, key_len, owner);

	if (entry->rrset == NULL)
		return DZ_OK;
	return dz_zone_rrset_wire(owner, owner_len, entry->rrset, out);
}

static int
hash_compare(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, DZ_NSEC3_HASH_LEN);
}

dz_nsec3_t *
dz_zone_nsec3_find(const dz_zone_t *zone, const uint8_t hash[DZ_NSEC3_HASH_LEN])
{
	dz_rbnode_t *cur = zone->nsec3.root;

	while (cur != NULL) {
		dz_nsec3_t *e = nsec3_of(cur);
		int cmp = hash_compare(hash, e->hash);
		if (cmp == 0)
			return e;
		cur = cmp < 0 ? cur->left : cur->right;
	}
	return NULL;
}

dz_result_t
dz_zone_nsec3_insert(dz_zone_t *zone, dz_nsec3_t *entry)
{
	dz_rbnode_t *parent = NULL;
	dz_rbnode_t *cur = zone->nsec3.root;
	int dir = 0;

	while (cur != NULL) {
		parent = cur;
		dir = hash_compare(entry->hash, nsec3_of(cur)->hash);
		if (dir == 0)
			return DZ_EEXIST;
		cur = dir < 0 ? cur->left : cur->right;
	}
	dz_rbtree_link(&zone->nsec3, &entry->rb, parent, dir);
	return DZ_OK;
}

dz_result_t
dz_zone_nsec3_append(dz_zone_t *zone, dz_nsec3_t *entry, dz_nsec3_t *last)
{
	if (last != NULL && hash_compare(entry->hash, last->hash) <= 0)
		return DZ_EINVAL;
	if (last == NULL && zone->nsec3.root != NULL)
		return DZ_EINVAL;
	assert(last == NULL || last->rb.right == NULL);
	dz_rbtree_link(&zone->nsec3, &entry->rb, last != NULL ? &last->rb : NULL, 1);
	return DZ_OK;
}

void
dz_zone_nsec3_remove(dz_zone_t *zone, dz_nsec3_t *entry)
{
	(void)dz_zone_touch_nsec3(zone, entry);
	dz_rbtree_erase(&zone->nsec3, &entry->rb);
	if (entry->node != NULL && entry->node->nsec3 == entry)
		entry->node->nsec3 = NULL;
	entry->node = NULL;
	(void)dz_buf_append(&zone->removed_hashes, entry->hash, DZ_NSEC3_HASH_LEN);
	entry->flags |= DZ_NSEC3_DEAD;
	if (dz_ptrvec_push(&zone->dead_nsec3, entry) != DZ_OK) {
		/* Out of memory: free now unless a dirty list still points at it. */
		if (!(entry->flags & DZ_NSEC3_DIRTY))
			free_nsec3(entry);
	}
}

dz_nsec3_t *
dz_zone_nsec3_prev_of(const dz_zone_t *zone, const uint8_t hash[DZ_NSEC3_HASH_LEN])
{
	dz_rbnode_t *cur = zone->nsec3.root;
	dz_rbnode_t *best = NULL;

	while (cur != NULL) {
		if (hash_compare(nsec3_of(cur)->hash, hash) < 0) {
			best = cur;
			cur = cur->right;
		} else {
			cur = cur->left;
		}
	}
	if (best == NULL)
		best = dz_rbtree_last(&zone->nsec3);
	return nsec3_of(best);
}

dz_nsec3_t *
dz_zone_nsec3_first(const dz_zone_t *zone)
{
	return nsec3_of(dz_rbtree_first(&zone->nsec3));
}

dz_nsec3_t *
dz_zone_nsec3_next(const dz_nsec3_t *entry)
{
	return nsec3_of(dz_rbtree_next(&entry->rb));
}

size_t
dz_zone_nsec3_owner_key(const dz_zone_t *zone, const uint8_t hash[DZ_NSEC3_HASH_LEN], uint8_t *key)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
	size_t len = zone->origin_key_len;
	size_t out;

	if (len + 1 + 32 > DZ_NAME_KEY_MAX)
		return 0;
	memcpy(key, zone->origin_key, len);
	key[len] = 32;
	out = len + 1;
	/* Base32hex: 20 bytes are 160 bits, exactly 32 characters of 5 bits. */
	for (size_t bit = 0; bit < DZ_NSEC3_HASH_LEN * 8; bit += 5) {
		size_t byte = bit / 8;
		unsigned shift = (unsigned)(bit % 8);
		unsigned value = (unsigned)hash[byte] << 8;
		if (byte + 1 < DZ_NSEC3_HASH_LEN)
			value |= hash[byte + 1];
		key[out++] = (uint8_t)alphabet[(value >> (11 - shift)) & 0x1f];
	}
	return out;
}
