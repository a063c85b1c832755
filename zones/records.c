#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "zones/records.h"

void
dz_records_init(dz_records_t *set)
{
	memset(set, 0, sizeof(*set));
	set->sorted = true;
}

void
dz_records_clear(dz_records_t *set)
{
	for (size_t i = 0; i < set->count; i++) {
		free(set->items[i].owner);
		free(set->items[i].rdata);
	}
	free(set->items);
	dz_records_init(set);
}

dz_result_t
dz_records_add(dz_records_t *set, const char *owner, uint16_t type, uint32_t ttl,
	       const uint8_t *rdata, size_t rdlength)
{
	dz_record_t record;

	if (rdlength > UINT16_MAX)
		return DZ_ETOOBIG;
	if (set->count == set->cap) {
		size_t cap = set->cap == 0 ? 16 : set->cap * 2;
		dz_record_t *items = realloc(set->items, cap * sizeof(*items));
		if (items == NULL)
			return DZ_ENOMEM;
		set->items = items;
		set->cap = cap;
	}
	record.owner = strdup(owner);
	record.rdata = malloc(rdlength > 0 ? rdlength : 1);
	if (record.owner == NULL || record.rdata == NULL) {
		free(record.owner);
		free(record.rdata);
		return DZ_ENOMEM;
	}
	if (rdlength > 0)
		memcpy(record.rdata, rdata, rdlength);
	record.type = type;
	record.ttl = ttl;
	record.rdlength = (uint16_t)rdlength;
	set->items[set->count++] = record;
	set->sorted = set->count <= 1;
	return DZ_OK;
}

dz_result_t
dz_records_add_all(dz_records_t *set, const dz_records_t *from)
{
	for (size_t i = 0; i < from->count; i++) {
		const dz_record_t *r = &from->items[i];
		dz_result_t rc = dz_records_add(set, r->owner, r->type, r->ttl, r->rdata, r->rdlength);
		if (rc != DZ_OK)
			return rc;
	}
	return DZ_OK;
}

dz_result_t
dz_records_copy(dz_records_t *dst, const dz_records_t *src)
{
	dz_records_init(dst);
	dz_result_t rc = dz_records_add_all(dst, src);
	if (rc != DZ_OK) {
		dz_records_clear(dst);
		return rc;
	}
	dst->sorted = src->sorted;
	return DZ_OK;
}

/* Split an absolute name into labels; returns the label count (0 for the root). */
static size_t
split_labels(const char *name, const char *starts[128], size_t lengths[128])
{
	size_t count = 0;
	const char *p = name;

	while (*p != '\0' && *p != '.' && count < 128) {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		starts[count] = p;
		lengths[count] = len;
		count++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	return count;
}

/*
 * Compare owners in DNSSEC canonical order (RFC 4034 section 6.1): label by
 * label from the right, a missing label first.  Owners are lower case.
 */
static int
compare_owners(const char *a, const char *b)
{
	const char *starts_a[128], *starts_b[128];
	size_t lengths_a[128], lengths_b[128];
	size_t na = split_labels(a, starts_a, lengths_a);
	size_t nb = split_labels(b, starts_b, lengths_b);

	while (na > 0 && nb > 0) {
		na--;
		nb--;
		size_t la = lengths_a[na], lb = lengths_b[nb];
		int c = memcmp(starts_a[na], starts_b[nb], la < lb ? la : lb);
		if (c != 0)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
	}
	if (na == nb)
		return 0;
	return na < nb ? -1 : 1;
}

static int
compare_records(const void *pa, const void *pb)
{
	const dz_record_t *a = pa, *b = pb;
	int c = compare_owners(a->owner, b->owner);

	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	size_t n = a->rdlength < b->rdlength ? a->rdlength : b->rdlength;
	c = memcmp(a->rdata, b->rdata, n);
	if (c != 0)
		return c;
	if (a->rdlength != b->rdlength)
		return a->rdlength < b->rdlength ? -1 : 1;
	if (a->ttl != b->ttl)
		return a->ttl < b->ttl ? -1 : 1;
	return 0;
}

void
dz_records_sort(dz_records_t *set)
{
	size_t kept = 0;

	if (set->count > 1)
		qsort(set->items, set->count, sizeof(*set->items), compare_records);
	for (size_t i = 0; i < set->count; i++) {
		if (kept > 0 && compare_records(&set->items[kept - 1], &set->items[i]) == 0) {
			free(set->items[i].owner);
			free(set->items[i].rdata);
			continue;
		}
		set->items[kept++] = set->items[i];
	}
	set->count = kept;
	set->sorted = true;
}

bool
dz_records_contains(const dz_records_t *set, const dz_record_t *record)
{
	size_t low = 0, high = set->count;

	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int c = compare_records(&set->items[mid], record);
		if (c == 0)
			return true;
		if (c < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return false;
}

dz_result_t
dz_records_diff(const dz_records_t *old_set, const dz_records_t *new_set, dz_records_t *added,
		dz_records_t *removed)
{
	size_t i = 0, j = 0;
	dz_result_t rc = DZ_OK;

	dz_records_init(added);
	dz_records_init(removed);
	while (rc == DZ_OK && (i < old_set->count || j < new_set->count)) {
		int c;
		if (i == old_set->count)
			c = 1;
		else if (j == new_set->count)
			c = -1;
		else
			c = compare_records(&old_set->items[i], &new_set->items[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			const dz_record_t *r = &old_set->items[i++];
			rc = dz_records_add(removed, r->owner, r->type, r->ttl, r->rdata, r->rdlength);
		} else {
			const dz_record_t *r = &new_set->items[j++];
			rc = dz_records_add(added, r->owner, r->type, r->ttl, r->rdata, r->rdlength);
		}
	}
	if (rc != DZ_OK) {
		dz_records_clear(added);
		dz_records_clear(removed);
		return rc;
	}
	added->sorted = true;
	removed->sorted = true;
	return DZ_OK;
}

/* Owner in uncompressed wire form; returns its length or 0 when invalid. */
static size_t
owner_to_wire(const char *owner, uint8_t out[255])
{
	size_t used = 0;
	const char *label = owner;

	if (strcmp(owner, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	while (*label != '\0') {
		const char *end = strchr(label, '.');
		size_t len = end != NULL ? (size_t)(end - label) : strlen(label);
		if (len == 0 || len > 63 || used + 1 + len + 1 > 255)
			return 0;
		out[used++] = (uint8_t)len;
		memcpy(out + used, label, len);
		used += len;
		if (end == NULL)
			break;
		label = end + 1;
	}
	out[used++] = 0;
	return used;
}

size_t
dz_record_wire_size(const dz_record_t *record)
{
	uint8_t wire[255];
	return owner_to_wire(record->owner, wire) + 10 + record->rdlength;
}

dz_result_t
dz_records_to_wire(const dz_records_t *set, dz_buf_t *buf)
{
	for (size_t i = 0; i < set->count; i++) {
		const dz_record_t *r = &set->items[i];
		uint8_t owner[255];
		size_t owner_len = owner_to_wire(r->owner, owner);
		if (owner_len == 0)
			return DZ_EINVAL;
		if (dz_buf_append(buf, owner, owner_len) != DZ_OK ||
		    dz_buf_append_u16(buf, r->type) != DZ_OK ||
		    dz_buf_append_u16(buf, DZ_CLASS_IN) != DZ_OK ||
		    dz_buf_append_u32(buf, r->ttl) != DZ_OK ||
		    dz_buf_append_u16(buf, r->rdlength) != DZ_OK ||
		    dz_buf_append(buf, r->rdata, r->rdlength) != DZ_OK)
			return DZ_ENOMEM;
	}
	return DZ_OK;
}

const char *
dz_record_type_name(uint16_t type)
{
	switch (type) {
	case DZ_TYPE_TLSA:
		return "TLSA";
	case DZ_TYPE_SMIMEA:
		return "SMIMEA";
	case DZ_TYPE_OPENPGPKEY:
		return "OPENPGPKEY";
	default:
		return NULL;
	}
}

char *
dz_record_to_text(const dz_record_t *r, bool generic)
{
	dz_buf_t buf;
	const char *name = dz_record_type_name(r->type);
	bool ok = true;

	dz_buf_init(&buf);
	ok = dz_buf_printf(&buf, "%s %u IN ", r->owner, r->ttl) == DZ_OK;
	if (ok && (generic || name == NULL)) {
		char *hex = malloc(2 * (size_t)r->rdlength + 1);
		ok = hex != NULL;
		if (ok) {
			dz_hex_encode(r->rdata, r->rdlength, hex);
			ok = dz_buf_printf(&buf, "TYPE%u \\# %u %s", r->type, r->rdlength, hex) == DZ_OK;
		}
		free(hex);
	} else if (ok && r->type == DZ_TYPE_OPENPGPKEY) {
		size_t b64_len = 4 * (((size_t)r->rdlength + 2) / 3) + 1;
		unsigned char *b64 = malloc(b64_len);
		ok = b64 != NULL;
		if (ok) {
			EVP_EncodeBlock(b64, r->rdata, r->rdlength);
			ok = dz_buf_printf(&buf, "OPENPGPKEY %s", b64) == DZ_OK;
		}
		free(b64);
	} else if (ok) {
		/* TLSA and SMIMEA share one RDATA form (RFC 8162 section 2). */
		char *hex = malloc(2 * (size_t)r->rdlength + 1);
		ok = hex != NULL && r->rdlength >= 3;
		if (ok) {
			dz_hex_encode(r->rdata + 3, r->rdlength - 3u, hex);
			ok = dz_buf_printf(&buf, "%s %u %u %u %s", name, r->rdata[0], r->rdata[1],
					   r->rdata[2], hex) == DZ_OK;
		}
		free(hex);
	}
	if (!ok) {
		dz_buf_clear(&buf);
		return NULL;
	}
	return (char *)buf.data;
}

void
dz_records_print(const dz_records_t *set, bool generic, FILE *out)
{
	for (size_t i = 0; i < set->count; i++) {
		char *text = dz_record_to_text(&set->items[i], generic);
		if (text != NULL)
			fprintf(out, "%s\n", text);
		free(text);
	}
}
