#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "signer/changes.h"
#include "signer/nsec3.h"
#include "signer/zone.h"

typedef struct saved_owner {
	uint8_t key[DZ_NAME_KEY_MAX];
	uint8_t key_len;
	bool nsec3;
	size_t seq;
	uint8_t *rrs;
	size_t rrs_len;
} saved_owner_t;

struct dz_changes {
	dz_zone_t *zone;
	saved_owner_t **items;
	size_t count;
	size_t cap;
};

/* One wire RR inside a blob. */
typedef struct rr_ref {
	const uint8_t *start;
	size_t len;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdata_len;
} rr_ref_t;

dz_changes_t *
dz_changes_start(dz_zone_t *zone)
{
	dz_changes_t *changes = calloc(1, sizeof(*changes));

	if (changes == NULL)
		return NULL;
	changes->zone = zone;
	zone->changes = changes;
	return changes;
}

dz_result_t
dz_changes_save(dz_changes_t *changes, const uint8_t *key, size_t key_len, bool nsec3,
		const uint8_t *rrs, size_t rrs_len)
{
	saved_owner_t *item;

	if (changes->count == changes->cap) {
		size_t cap = changes->cap == 0 ? 64 : changes->cap * 2;
		saved_owner_t **items = realloc(changes->items, cap * sizeof(*items));
		if (items == NULL)
			return DZ_ENOMEM;
		changes->items = items;
		changes->cap = cap;
	}
	item = calloc(1, sizeof(*item));
	if (item == NULL)
		return DZ_ENOMEM;
	if (rrs_len > 0) {
		item->rrs = malloc(rrs_len);
		if (item->rrs == NULL) {
			free(item);
			return DZ_ENOMEM;
		}
		memcpy(item->rrs, rrs, rrs_len);
	}
	memcpy(item->key, key, key_len);
	item->key_len = (uint8_t)key_len;
	item->nsec3 = nsec3;
	item->rrs_len = rrs_len;
	item->seq = changes->count;
	changes->items[changes->count++] = item;
	return DZ_OK;
}

static int
compare_saved(const void *a, const void *b)
{
	const saved_owner_t *x = *(saved_owner_t *const *)a;
	const saved_owner_t *y = *(saved_owner_t *const *)b;
	int cmp = dz_name_key_compare(x->key, x->key_len, y->key, y->key_len);

	if (cmp != 0)
		return cmp;
	if (x->nsec3 != y->nsec3)
		return x->nsec3 ? 1 : -1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

static bool
same_owner(const saved_owner_t *a, const saved_owner_t *b)
{
	return a->nsec3 == b->nsec3 && a->key_len == b->key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0;
}

/* Split a blob of wire RRs into references; returns the count or -1 on a malformed blob. */
static long
split_rrs(const uint8_t *data, size_t len, rr_ref_t **out)
{
	rr_ref_t *refs = NULL;
	size_t count = 0;
	size_t cap = 0;
	size_t pos = 0;

	while (pos < len) {
		size_t name_len = dz_name_wire_length(data + pos, len - pos);
		size_t rdata_len;

		if (name_len == 0 || pos + name_len + 10 > len)
			goto malformed;
		rdata_len = (size_t)(data[pos + name_len + 8] << 8) | data[pos + name_len + 9];
		if (pos + name_len + 10 + rdata_len > len)
			goto malformed;
		if (count == cap) {
			size_t new_cap = cap == 0 ? 16 : cap * 2;
			rr_ref_t *grown = realloc(refs, new_cap * sizeof(*refs));
			if (grown == NULL)
				goto malformed;
			refs = grown;
			cap = new_cap;
		}
		refs[count].start = data + pos;
		refs[count].len = name_len + 10 + rdata_len;
		refs[count].type = (uint16_t)((data[pos + name_len] << 8) | data[pos + name_len + 1]);
		refs[count].ttl = ((uint32_t)data[pos + name_len + 4] << 24) |
				  ((uint32_t)data[pos + name_len + 5] << 16) |
				  ((uint32_t)data[pos + name_len + 6] << 8) | data[pos + name_len + 7];
		refs[count].rdata = data + pos + name_len + 10;
		refs[count].rdata_len = (uint16_t)rdata_len;
		count++;
		pos += name_len + 10 + rdata_len;
	}
	*out = refs;
	return (long)count;
malformed:
	free(refs);
	return -1;
}

static int
compare_rr(const rr_ref_t *a, const rr_ref_t *b)
{
	int cmp;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	cmp = dz_rdata_compare(a->rdata, a->rdata_len, b->rdata, b->rdata_len);
	if (cmp != 0)
		return cmp;
	if (a->ttl != b->ttl)
		return a->ttl < b->ttl ? -1 : 1;
	return 0;
}

static int
compare_rr_qsort(const void *a, const void *b)
{
	return compare_rr(a, b);
}

typedef struct diff_out {
	dz_buf_t removed;
	dz_buf_t added;
	dz_buf_t old_soa;
	dz_buf_t new_soa;
	size_t removed_count;
	size_t added_count;
} diff_out_t;

static dz_result_t
emit(diff_out_t *d, const rr_ref_t *rr, bool added)
{
	if (rr->type == DZ_TYPE_SOA)
		return dz_buf_append(added ? &d->new_soa : &d->old_soa, rr->start, rr->len);
	if (added) {
		d->added_count++;
		return dz_buf_append(&d->added, rr->start, rr->len);
	}
	d->removed_count++;
	return dz_buf_append(&d->removed, rr->start, rr->len);
}

static dz_result_t
diff_owner(diff_out_t *d, const uint8_t *old_rrs, size_t old_len, const uint8_t *new_rrs,
	   size_t new_len)
{
	rr_ref_t *a = NULL;
	rr_ref_t *b = NULL;
	long na = split_rrs(old_rrs, old_len, &a);
	long nb = split_rrs(new_rrs, new_len, &b);
	long i = 0;
	long j = 0;
	dz_result_t result = DZ_OK;

	if (na < 0 || nb < 0) {
		result = DZ_EINTERNAL;
		goto cleanup;
	}
	if (na > 1)
		qsort(a, (size_t)na, sizeof(*a), compare_rr_qsort);
	if (nb > 1)
		qsort(b, (size_t)nb, sizeof(*b), compare_rr_qsort);
	while (result == DZ_OK && (i < na || j < nb)) {
		int cmp;
		if (i == na)
			cmp = 1;
		else if (j == nb)
			cmp = -1;
		else
			cmp = compare_rr(&a[i], &b[j]);
		if (cmp == 0) {
			i++;
			j++;
		} else if (cmp < 0) {
			result = emit(d, &a[i++], false);
		} else {
			result = emit(d, &b[j++], true);
		}
	}
cleanup:
	free(a);
	free(b);
	return result;
}

static void
free_items(dz_changes_t *changes)
{
	for (size_t i = 0; i < changes->count; i++) {
		free(changes->items[i]->rrs);
		free(changes->items[i]);
	}
	free(changes->items);
}

dz_result_t
dz_changes_finish(dz_changes_t *changes, dz_buf_t *ixfr, dz_changes_summary_t *summary,
		  dz_error_t *err)
{
	dz_zone_t *zone = changes->zone;
	diff_out_t d;
	dz_buf_t current;
	dz_result_t result = DZ_OK;

	memset(&d, 0, sizeof(d));
	dz_buf_init(&current);
	if (changes->count > 1)
		qsort(changes->items, changes->count, sizeof(*changes->items), compare_saved);
	for (size_t i = 0; i < changes->count && result == DZ_OK; i++) {
		saved_owner_t *item = changes->items[i];

		if (i > 0 && same_owner(changes->items[i - 1], item))
			continue; /* a later save of the same owner: the first one has the old records */
		current.len = 0;
		if (item->nsec3) {
			uint8_t hash[DZ_NSEC3_HASH_LEN];
			dz_nsec3_t *entry = NULL;
			if (dz_nsec3_owner_hash(zone, item->key, item->key_len, hash))
				entry = dz_zone_nsec3_find(zone, hash);
			if (entry != NULL) {
				entry->flags &= (uint16_t)~DZ_NSEC3_TOUCHED;
				result = dz_zone_nsec3_wire(zone, entry, &current);
			}
		} else {
			dz_node_t *node = dz_zone_find(zone, item->key, item->key_len);
			if (node != NULL) {
				node->flags &= (uint16_t)~DZ_NODE_TOUCHED;
				result = dz_zone_node_wire(zone, node, &current);
			}
		}
		if (result == DZ_OK)
			result = diff_owner(&d, item->rrs, item->rrs_len, current.data, current.len);
	}
	if (result != DZ_OK) {
		dz_error_set(err, result, "zone %s: computing the difference failed: %s",
			     zone->origin_text, dz_result_text(result));
		goto cleanup;
	}
	if (d.removed_count == 0 && d.added_count == 0 && d.old_soa.len == 0 && d.new_soa.len == 0)
		goto done;
	if (d.old_soa.len == 0 || d.new_soa.len == 0) {
		result = dz_error_set(err, DZ_EZONE,
				      "zone %s: records changed but the SOA did not; the serial must change with the content",
				      zone->origin_text);
		goto cleanup;
	}
	result = dz_buf_append(ixfr, d.old_soa.data, d.old_soa.len);
	if (result == DZ_OK)
		result = dz_buf_append(ixfr, d.removed.data, d.removed.len);
	if (result == DZ_OK)
		result = dz_buf_append(ixfr, d.new_soa.data, d.new_soa.len);
	if (result == DZ_OK)
		result = dz_buf_append(ixfr, d.added.data, d.added.len);
	if (result != DZ_OK) {
		dz_error_set(err, result, "zone %s: out of memory writing the difference",
			     zone->origin_text);
		goto cleanup;
	}
done:
	if (summary != NULL) {
		summary->removed = d.removed_count;
		summary->added = d.added_count;
	}
cleanup:
	dz_buf_clear(&current);
	dz_buf_clear(&d.removed);
	dz_buf_clear(&d.added);
	dz_buf_clear(&d.old_soa);
	dz_buf_clear(&d.new_soa);
	zone->changes = NULL;
	free_items(changes);
	free(changes);
	return result;
}

void
dz_changes_abort(dz_changes_t *changes)
{
	if (changes == NULL)
		return;
	/* TOUCHED flags of live nodes are cleared so a later run saves them again. */
	for (size_t i = 0; i < changes->count; i++) {
		saved_owner_t *item = changes->items[i];
		if (item->nsec3) {
			uint8_t hash[DZ_NSEC3_HASH_LEN];
			dz_nsec3_t *entry = NULL;
			if (dz_nsec3_owner_hash(changes->zone, item->key, item->key_len, hash))
				entry = dz_zone_nsec3_find(changes->zone, hash);
			if (entry != NULL)
				entry->flags &= (uint16_t)~DZ_NSEC3_TOUCHED;
		} else {
			dz_node_t *node = dz_zone_find(changes->zone, item->key, item->key_len);
			if (node != NULL)
				node->flags &= (uint16_t)~DZ_NODE_TOUCHED;
		}
	}
	changes->zone->changes = NULL;
	free_items(changes);
	free(changes);
}
