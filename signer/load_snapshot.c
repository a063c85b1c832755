/*
 * Loading a signed zone from its snapshot (signer/snapshot.h).  The
 * snapshot lists the RRs in canonical order, so each owner's RRs come
 * together, RRsets are runs of one type, and every name sorts after the one
 * before it.  So nodes are appended to the tree without a search, and each
 * RRset is allocated once, at its final size.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signer/denial.h"
#include "signer/load.h"
#include "signer/nsec3.h"
#include "signer/rrsig.h"
#include "signer/update.h"

typedef struct snapshot_loader {
	dz_zone_t *zone;
	dz_time_t now;
	dz_snapshot_load_t *info;
	dz_error_t *err;
	const char *path; /* for messages */
	dz_node_t *last_node;
	dz_nsec3_t *last_entry;
	dz_ptrvec_t nodes;   /* every node in canonical order, the apex first */
	dz_ptrvec_t entries; /* every NSEC3 entry in hash order */
	dz_wire_rr_t *rrs; /* RRs of the owner being built */
	size_t count;
	size_t cap;
	size_t offset; /* byte offset of the owner in the RR data, for messages */
} snapshot_loader_t;

static dz_result_t
invalid(snapshot_loader_t *l, const char *what)
{
	return dz_error_set(l->err, DZ_EZONE,
			    "zone %s: snapshot %s is not valid at RR data offset %zu: %s; sign the zone in full "
			    "from its source instead",
			    l->zone->origin_text, l->path, l->offset, what);
}

static bool
is_apex_only_type(uint16_t type)
{
	return type == DZ_TYPE_SOA || type == DZ_TYPE_DNSKEY || type == DZ_TYPE_CDS ||
	       type == DZ_TYPE_CDNSKEY || type == DZ_TYPE_NSEC3PARAM;
}

/* Remember who made a signature, for dz_snapshot_load_t.signers. */
static void
note_signer(snapshot_loader_t *l, const dz_rrsig_fields_t *f, bool key_rrsets)
{
	dz_snapshot_load_t *info = l->info;

	for (size_t i = 0; i < info->signer_count; i++) {
		if (info->signers[i].algorithm == f->algorithm && info->signers[i].key_tag == f->key_tag &&
		    info->signers[i].key_rrsets == key_rrsets)
			return;
	}
	if (info->signer_count == DZ_LOAD_MAX_SIGNERS) {
		info->signers_overflow = true;
		return;
	}
	info->signers[info->signer_count].algorithm = f->algorithm;
	info->signers[info->signer_count].key_tag = f->key_tag;
	info->signers[info->signer_count].key_rrsets = key_rrsets;
	info->signer_count++;
}

/*
 * The signatures among the owner's RRs that cover `type`, as a signature
 * set; NULL when there are none.  Sets *result on failure.
 */
static dz_sigset_t *
collect_sigs(snapshot_loader_t *l, uint16_t type, bool key_rrsets, dz_result_t *result)
{
	size_t len = 0;
	uint16_t count = 0;
	dz_sigset_t *sigs;

	for (size_t i = 0; i < l->count; i++) {
		const dz_wire_rr_t *rr = &l->rrs[i];
		if (rr->type == DZ_TYPE_RRSIG && rr->rdlength >= 2 &&
		    dz_wire_get_u16(rr->rdata) == type) {
			len += 2 + (size_t)rr->rdlength;
			count++;
		}
	}
	if (count == 0)
		return NULL;
	sigs = malloc(sizeof(*sigs) + len);
	if (sigs == NULL) {
		*result = DZ_ENOMEM;
		return NULL;
	}
	sigs->count = count;
	sigs->len = (uint32_t)len;
	len = 0;
	for (size_t i = 0; i < l->count; i++) {
		const dz_wire_rr_t *rr = &l->rrs[i];
		dz_rrsig_fields_t f;
		int64_t expiration;

		if (rr->type != DZ_TYPE_RRSIG || rr->rdlength < 2 || dz_wire_get_u16(rr->rdata) != type)
			continue;
		if (!dz_rrsig_parse(rr->rdata, rr->rdlength, &f)) {
			free(sigs);
			*result = invalid(l, "malformed RRSIG");
			return NULL;
		}
		expiration = dz_rrsig_time(f.expiration, l->now);
		if (expiration < l->zone->earliest_expiration)
			l->zone->earliest_expiration = expiration;
		int64_t inception = dz_rrsig_time(f.inception, l->now);
		if (inception > l->zone->latest_inception)
			l->zone->latest_inception = inception;
		note_signer(l, &f, key_rrsets);
		sigs->data[len] = (uint8_t)(rr->rdlength >> 8);
		sigs->data[len + 1] = (uint8_t)rr->rdlength;
		memcpy(sigs->data + len + 2, rr->rdata, rr->rdlength);
		len += 2 + (size_t)rr->rdlength;
	}
	return sigs;
}

/* The RRset of the RRs [first, end) of one type, with its signatures. */
static dz_rrset_t *
make_rrset(snapshot_loader_t *l, size_t first, size_t end, bool key_rrsets, dz_result_t *result)
{
	const dz_wire_rr_t *rrs = l->rrs;
	size_t len = 0;
	uint32_t ttl = rrs[first].ttl;
	dz_rrset_t *rrset;

	if (end - first > UINT16_MAX) {
		*result = invalid(l, "RRset of more than 65535 RRs");
		return NULL;
	}
	for (size_t i = first; i < end; i++) {
		len += 2 + (size_t)rrs[i].rdlength;
		if (rrs[i].ttl < ttl)
			ttl = rrs[i].ttl;
	}
	rrset = dz_rrset_new(rrs[first].type, ttl, (uint16_t)(end - first), NULL, len);
	if (rrset == NULL) {
		*result = DZ_ENOMEM;
		return NULL;
	}
	len = 0;
	for (size_t i = first; i < end; i++) {
		rrset->data[len] = (uint8_t)(rrs[i].rdlength >> 8);
		rrset->data[len + 1] = (uint8_t)rrs[i].rdlength;
		memcpy(rrset->data + len + 2, rrs[i].rdata, rrs[i].rdlength);
		len += 2 + (size_t)rrs[i].rdlength;
	}
	rrset->sigs = collect_sigs(l, rrset->type, key_rrsets, result);
	if (*result != DZ_OK) {
		dz_rrset_free(rrset);
		return NULL;
	}
	return rrset;
}

/* Build the NSEC3 entry of an owner whose RRs are an NSEC3 record and its signatures. */
static dz_result_t
add_nsec3_owner(snapshot_loader_t *l, const uint8_t hash[DZ_NSEC3_HASH_LEN], size_t nsec3_index)
{
	dz_result_t result = DZ_OK;
	dz_nsec3_t *entry;

	for (size_t i = 0; i < l->count; i++) {
		if (l->rrs[i].type != DZ_TYPE_NSEC3 && l->rrs[i].type != DZ_TYPE_RRSIG)
			return invalid(l, "an NSEC3 owner name also owns other records");
		if (l->rrs[i].type == DZ_TYPE_NSEC3 && i != nsec3_index)
			return invalid(l, "two NSEC3 records at one owner");
	}
	entry = calloc(1, sizeof(*entry));
	if (entry == NULL)
		return DZ_ENOMEM;
	memcpy(entry->hash, hash, DZ_NSEC3_HASH_LEN);
	entry->rrset = make_rrset(l, nsec3_index, nsec3_index + 1, false, &result);
	if (entry->rrset != NULL && dz_zone_nsec3_append(l->zone, entry, l->last_entry) != DZ_OK)
		result = invalid(l, "NSEC3 records out of order");
	if (result != DZ_OK) {
		dz_rrset_free(entry->rrset);
		free(entry);
		return result;
	}
	l->last_entry = entry;
	return dz_ptrvec_push(&l->entries, entry);
}

/* Set the zone cut and DNAME flags of a node from its RRsets, as dz_zone_add_rdata() does. */
static void
set_cut_flags(dz_node_t *node)
{
	if (!(node->flags & DZ_NODE_APEX) && dz_node_rrset(node, DZ_TYPE_NS) != NULL)
		node->flags |= DZ_NODE_DELEGATION;
	if (dz_node_rrset(node, DZ_TYPE_DNAME) != NULL)
		node->flags |= DZ_NODE_DNAME;
}

/* Build the node of the owner whose RRs are in l->rrs, sorted by type. */
static dz_result_t
add_owner(snapshot_loader_t *l)
{
	dz_zone_t *zone = l->zone;
	uint8_t key[DZ_NAME_KEY_MAX];
	uint8_t hash[DZ_NSEC3_HASH_LEN];
	int key_len = dz_name_key_from_wire(l->rrs[0].owner, l->rrs[0].owner_len, key);
	dz_rrset_t **slot;
	dz_node_t *node;
	bool apex;
	dz_result_t result = DZ_OK;

	if (key_len < 0)
		return invalid(l, "malformed owner name");
	apex = (size_t)key_len == zone->origin_key_len &&
	       memcmp(key, zone->origin_key, zone->origin_key_len) == 0;
	for (size_t i = 0; i < l->count; i++) {
		if (l->rrs[i].type == DZ_TYPE_NSEC3 && !apex &&
		    dz_nsec3_owner_hash(zone, key, (size_t)key_len, hash))
			return add_nsec3_owner(l, hash, i);
	}
	if (apex) {
		node = zone->apex;
		if (node->rrsets != NULL)
			return invalid(l, "the apex appears twice");
	} else {
		size_t before = zone->names.count;
		size_t made;
		result = dz_zone_append(zone, key, (size_t)key_len, &l->last_node);
		if (result == DZ_EINVAL)
			return invalid(l, "owner names out of canonical order or outside the zone");
		if (result != DZ_OK)
			return result;
		node = l->last_node;
		/* The new node and the empty non-terminals made above it. */
		made = zone->names.count - before;
		for (dz_node_t *n = node; made > 0 && result == DZ_OK; n = n->parent, made--)
			result = dz_ptrvec_push(&l->nodes, n);
		if (result != DZ_OK)
			return result;
	}

	slot = &node->rrsets;
	for (size_t first = 0; first < l->count && result == DZ_OK;) {
		uint16_t type = l->rrs[first].type;
		size_t end = first + 1;
		dz_rrset_t *rrset;

		while (end < l->count && l->rrs[end].type == type)
			end++;
		if (end < l->count && l->rrs[end].type < type)
			return invalid(l, "RRs of one owner out of type order");
		if (l->rrs[first].rrclass != DZ_CLASS_IN)
			return invalid(l, "a class other than IN");
		if (type == DZ_TYPE_RRSIG) {
			first = end;
			continue;
		}
		if (type == DZ_TYPE_NSEC3 || (!apex && is_apex_only_type(type)))
			return invalid(l, "a record type that belongs only at the apex or to NSEC3 owners");
		rrset = make_rrset(l, first, end,
				   apex && (type == DZ_TYPE_DNSKEY || type == DZ_TYPE_CDS ||
					    type == DZ_TYPE_CDNSKEY),
				   &result);
		if (rrset == NULL)
			break;
		if (apex && is_apex_only_type(type) && type != DZ_TYPE_SOA)
			rrset->flags |= DZ_RRSET_MANAGED;
		if (type == DZ_TYPE_NSEC) {
			if (node->nsec != NULL) {
				dz_rrset_free(rrset);
				return invalid(l, "two NSEC records at one owner");
			}
			node->nsec = rrset;
		} else {
			*slot = rrset;
			slot = &rrset->next;
		}
		first = end;
	}
	if (result != DZ_OK)
		return result;
	set_cut_flags(node);
	/* A signature of a type with no RRset here: count it, the next signing run makes no use of it. */
	for (size_t i = 0; i < l->count; i++) {
		const dz_wire_rr_t *rr = &l->rrs[i];
		uint16_t covered = rr->rdlength >= 2 ? dz_wire_get_u16(rr->rdata) : 0;
		if (rr->type == DZ_TYPE_RRSIG &&
		    (covered == DZ_TYPE_NSEC ? node->nsec == NULL : dz_node_rrset(node, covered) == NULL))
			l->info->sigs_dropped++;
	}
	return DZ_OK;
}

/*
 * Build the owner collected in l->rrs.  The SOA was read first, so at the
 * apex it moves to its place in type order.  The move keeps the order of
 * the other RRs, which is their canonical RDATA order.
 */
static dz_result_t
flush_owner(snapshot_loader_t *l, size_t offset)
{
	if (l->count > 1 && l->rrs[0].type == DZ_TYPE_SOA) {
		dz_wire_rr_t soa = l->rrs[0];
		size_t i = 1;
		while (i < l->count && l->rrs[i].type < DZ_TYPE_SOA) {
			l->rrs[i - 1] = l->rrs[i];
			i++;
		}
		l->rrs[i - 1] = soa;
	}
	l->offset = offset;
	return add_owner(l);
}

static dz_result_t
push_rr(snapshot_loader_t *l, const dz_wire_rr_t *rr)
{
	if (l->count == l->cap) {
		size_t cap = l->cap == 0 ? 64 : 2 * l->cap;
		dz_wire_rr_t *rrs = realloc(l->rrs, cap * sizeof(*rrs));
		if (rrs == NULL)
			return DZ_ENOMEM;
		l->rrs = rrs;
		l->cap = cap;
	}
	l->rrs[l->count++] = *rr;
	return DZ_OK;
}

/* A member name and its NSEC3 hash, sorted by the hash's first eight octets. */
typedef struct hashed_name {
	uint64_t prefix;
	uint8_t hash[DZ_NSEC3_HASH_LEN];
	dz_node_t *node;
} hashed_name_t;

static int
compare_hashed(const void *a, const void *b)
{
	const hashed_name_t *x = a;
	const hashed_name_t *y = b;

	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return memcmp(x->hash, y->hash, DZ_NSEC3_HASH_LEN);
}

/*
 * Link every member name to the NSEC3 record of its hash.  The names are
 * hashed, sorted by hash and merged with the records, which are in hash
 * order already.  This is faster than looking each hash up in the tree,
 * which cost a cache miss per level.  Returns whether every member and
 * every record found its match.
 */
static bool
match_nsec3(snapshot_loader_t *l, const dz_nsec3_params_t *params, dz_result_t *result)
{
	hashed_name_t *names;
	size_t count = 0;
	size_t i = 0;
	bool whole = true;

	names = malloc((l->nodes.count > 0 ? l->nodes.count : 1) * sizeof(*names));
	if (names == NULL) {
		*result = DZ_ENOMEM;
		return false;
	}
	for (size_t k = 0; k < l->nodes.count; k++) {
		dz_node_t *n = l->nodes.items[k];
		uint64_t prefix = 0;

		if (!dz_denial_nsec3_member(n, params->opt_out))
			continue;
		if (!dz_nsec3_hash_key(n->key, n->key_len, params, names[count].hash)) {
			free(names);
			*result = DZ_ECRYPTO;
			return false;
		}
		for (size_t b = 0; b < 8; b++)
			prefix = prefix << 8 | names[count].hash[b];
		names[count].prefix = prefix;
		names[count++].node = n;
	}
	qsort(names, count, sizeof(*names), compare_hashed);
	for (size_t k = 0; k < l->entries.count; k++) {
		dz_nsec3_t *e = l->entries.items[k];
		int order = -1;
		while (i < count && (order = memcmp(names[i].hash, e->hash, DZ_NSEC3_HASH_LEN)) < 0) {
			whole = false; /* a member without its record */
			i++;
		}
		if (i < count && order == 0) {
			e->node = names[i].node;
			names[i].node->nsec3 = e;
			i++;
		} else {
			whole = false; /* a record of no member */
		}
	}
	whole = whole && i == count;
	free(names);
	return whole;
}

/* Read the chain parameters from the apex and link every member name to its NSEC3 record. */
static dz_result_t
match_chain(snapshot_loader_t *l)
{
	dz_zone_t *zone = l->zone;
	const dz_rrset_t *param = dz_node_rrset(zone->apex, DZ_TYPE_NSEC3PARAM);
	dz_nsec3_t *first = dz_zone_nsec3_first(zone);
	dz_result_t ok = DZ_OK;
	dz_result_t *result = &ok;
	bool whole = true;

	if (param != NULL && first != NULL) {
		const uint8_t *p = param->data + 2;
		size_t len = param->len - 2;
		dz_nsec3_params_t params;

		if (param->count != 1 || len < 5 || p[0] != DZ_NSEC3_ALG_SHA1 || 5 + (size_t)p[4] != len ||
		    first->rrset->len < 2 + 2)
			return DZ_OK;
		memset(&params, 0, sizeof(params));
		params.iterations = (uint16_t)(p[2] << 8 | p[3]);
		params.salt_len = p[4];
		memcpy(params.salt, p + 5, p[4]);
		params.opt_out = (first->rrset->data[2 + 1] & DZ_NSEC3_FLAG_OPT_OUT) != 0;
		whole = match_nsec3(l, &params, result);
		zone->chain = DZ_CHAIN_NSEC3;
		zone->chain_params = params;
		l->info->chain_whole = whole;
	} else if (zone->apex->nsec != NULL && first == NULL) {
		for (const dz_node_t *n = dz_zone_first(zone); n != NULL && whole; n = dz_zone_next(n))
			whole = dz_denial_nsec_member(n) == (n->nsec != NULL);
		zone->chain = DZ_CHAIN_NSEC;
		l->info->chain_whole = whole;
	} else if (param == NULL && first == NULL && zone->apex->nsec == NULL) {
		/* An unsigned zone has no chain, and that is whole. */
		l->info->chain_whole = true;
	}
	return ok;
}

dz_result_t
dz_load_snapshot(dz_zone_t *zone, const dz_snapshot_t *snapshot, const char *path, dz_time_t now,
		 dz_snapshot_load_t *info, dz_error_t *err)
{
	snapshot_loader_t l;
	const uint8_t *owner;
	size_t offset = 0;
	size_t owner_offset = 0;
	dz_result_t result;

	memset(info, 0, sizeof(*info));
	memset(&l, 0, sizeof(l));
	l.zone = zone;
	l.now = now;
	l.info = info;
	l.err = err;
	l.path = path;
	l.last_node = zone->apex;
	dz_ptrvec_init(&l.nodes);
	dz_ptrvec_init(&l.entries);
	if (zone->apex->rrsets != NULL || zone->names.count != 1 || zone->nsec3.count != 0)
		return dz_error_set(err, DZ_EINVAL, "zone %s: a snapshot loads only into an empty zone",
				    zone->origin_text);
	if (snapshot->origin_len != zone->origin_wire_len ||
	    !dz_wire_name_equal(snapshot->origin, zone->origin_wire))
		return dz_error_set(err, DZ_EZONE, "snapshot %s is of another zone than %s", path,
				    zone->origin_text);

	/* The SOA comes first in a snapshot but belongs with the apex's other RRs, which follow it. */
	result = push_rr(&l, &snapshot->soa);
	owner = snapshot->soa.owner;
	info->records = 1;
	while (result == DZ_OK && offset < snapshot->rest_len) {
		dz_wire_rr_t rr;
		size_t start = offset;

		if (dz_wire_rr_parse(snapshot->rest, snapshot->rest_len, &offset, &rr) != DZ_OK) {
			l.offset = start;
			result = invalid(&l, "truncated or malformed RR");
			break;
		}
		info->records++;
		if (!dz_wire_name_equal(rr.owner, owner)) {
			result = flush_owner(&l, owner_offset);
			l.count = 0;
			owner = rr.owner;
			owner_offset = start;
		}
		if (result == DZ_OK)
			result = push_rr(&l, &rr);
	}
	if (result == DZ_OK && l.count > 0)
		result = flush_owner(&l, owner_offset);
	if (result == DZ_OK)
		result = dz_ptrvec_push(&l.nodes, zone->apex);
	if (result == DZ_OK && info->records != snapshot->rr_count)
		result = dz_error_set(err, DZ_EZONE,
				      "zone %s: snapshot %s has %zu RRs but its header says %llu; sign the zone in full from its source instead",
				      zone->origin_text, path, info->records,
				      (unsigned long long)snapshot->rr_count);
	if (result == DZ_OK) {
		result = match_chain(&l);
		if (result == DZ_ECRYPTO)
			dz_error_set(err, result, "zone %s: NSEC3 hashing failed loading %s", zone->origin_text,
				     path);
	}
	if (result == DZ_ENOMEM)
		dz_error_set(err, DZ_ENOMEM, "zone %s: out of memory loading %s", zone->origin_text, path);
	if (result != DZ_OK)
		goto cleanup;
	zone->published_serial = snapshot->serial;
	zone->have_published_serial = true;
	if (info->sigs_dropped > 0)
		dz_log_zone(DZ_LOG_WARNING, zone->origin_text,
			    "%zu RRSIGs in %s cover no RRset at their owner; dropped",
			    info->sigs_dropped, path);
cleanup:
	free(l.rrs);
	dz_ptrvec_clear(&l.nodes);
	dz_ptrvec_clear(&l.entries);
	return result;
}
