/*
 * Writing the zone text is a pipeline.  The calling thread walks the names
 * and NSEC3 owners in canonical order and hands them out in chunks.
 * Formatter threads print the RRs of a chunk (signer/print.h) in parallel,
 * and a writer thread writes the texts in chunk order.  A ring of SLOTS
 * chunks bounds the memory.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "signer/output.h"
#include "signer/print.h"

/* RDATA bytes per chunk before it is handed to a formatter. */
#define CHUNK_BYTES (256 * 1024)
/* Chunks in flight; at least the formatters plus the one being filled and the one being written. */
#define SLOTS 16
/* Maximum number of formatter threads. */
#define FORMATTERS_MAX 8

/* One owner of a chunk: a name of the tree or an NSEC3 record. */
typedef struct chunk_item {
	const dz_node_t *node;	   /* NULL for an NSEC3 record */
	const dz_nsec3_t *entry;
} chunk_item_t;

typedef enum slot_state {
	SLOT_EMPTY,
	SLOT_FILLED,	 /* owners ready for a formatter */
	SLOT_FORMATTING,
	SLOT_FORMATTED,	 /* text ready for the writer */
} slot_state_t;

typedef struct slot {
	slot_state_t state;
	size_t seq;
	chunk_item_t *items;
	size_t count;
	size_t cap;
	size_t bytes; /* RDATA and signature bytes of the items, to size chunks */
	dz_buf_t text;
} slot_t;

typedef struct pipeline {
	const dz_zone_t *zone;
	FILE *fp;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	slot_t slots[SLOTS];
	size_t next_fill;     /* sequence number the producer fills next */
	size_t next_format;   /* sequence number a formatter takes next */
	size_t next_write;    /* sequence number the writer writes next */
	bool producer_done;
	bool failed;	      /* stop everything */
	dz_result_t result;
	int write_errno;
} pipeline_t;

static dz_result_t
print_rrset(dz_buf_t *out, const char *owner, size_t owner_len, const dz_rrset_t *rrset)
{
	dz_rdata_iter_t it;
	const uint8_t *rdata;
	uint16_t len;
	dz_result_t result = DZ_OK;

	dz_rdata_iter_init(&it, rrset->data, rrset->len);
	while (result == DZ_OK && dz_rdata_iter_next(&it, &rdata, &len))
		result = dz_print_rr(out, owner, owner_len, rrset->type, rrset->ttl, rdata, len);
	if (rrset->sigs == NULL)
		return result;
	dz_rdata_iter_init(&it, rrset->sigs->data, rrset->sigs->len);
	while (result == DZ_OK && dz_rdata_iter_next(&it, &rdata, &len))
		result = dz_print_rr(out, owner, owner_len, DZ_TYPE_RRSIG, rrset->ttl, rdata, len);
	return result;
}

/* The records of one name: the SOA first, as zone files put it, then the other RRsets and the NSEC. */
static dz_result_t
print_node(dz_buf_t *out, const dz_node_t *node)
{
	uint8_t wire[DZ_NAME_WIRE_MAX];
	char owner[DZ_NAME_TEXT_MAX];
	size_t owner_len;
	const dz_rrset_t *soa = dz_node_rrset(node, DZ_TYPE_SOA);
	dz_result_t result = DZ_OK;

	dz_name_wire_from_key(node->key, node->key_len, wire);
	owner_len = dz_print_name(wire, owner);
	if (soa != NULL)
		result = print_rrset(out, owner, owner_len, soa);
	for (const dz_rrset_t *r = node->rrsets; r != NULL && result == DZ_OK; r = r->next) {
		if (r != soa)
			result = print_rrset(out, owner, owner_len, r);
	}
	if (result == DZ_OK && node->nsec != NULL)
		result = print_rrset(out, owner, owner_len, node->nsec);
	return result;
}

static dz_result_t
print_nsec3(dz_buf_t *out, const dz_zone_t *zone, const dz_nsec3_t *entry)
{
	uint8_t key[DZ_NAME_KEY_MAX];
	uint8_t wire[DZ_NAME_WIRE_MAX];
	char owner[DZ_NAME_TEXT_MAX];
	size_t key_len;

	if (entry->rrset == NULL)
		return DZ_OK;
	key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);
	dz_name_wire_from_key(key, key_len, wire);
	return print_rrset(out, owner, dz_print_name(wire, owner), entry->rrset);
}

/* Print the owners of a slot into its text; runs without the lock. */
static dz_result_t
format_slot(const dz_zone_t *zone, slot_t *slot)
{
	dz_result_t result = DZ_OK;

	slot->text.len = 0;
	for (size_t i = 0; i < slot->count && result == DZ_OK; i++) {
		const chunk_item_t *item = &slot->items[i];
		if (item->node != NULL)
			result = print_node(&slot->text, item->node);
		else
			result = print_nsec3(&slot->text, zone, item->entry);
	}
	return result;
}

static void
fail_locked(pipeline_t *p, dz_result_t result)
{
	if (!p->failed) {
		p->failed = true;
		p->result = result;
	}
	pthread_cond_broadcast(&p->changed);
}

static void *
formatter(void *arg)
{
	pipeline_t *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->failed) {
		slot_t *slot = &p->slots[p->next_format % SLOTS];
		dz_result_t result;

		if (slot->state != SLOT_FILLED || slot->seq != p->next_format) {
			if (p->producer_done && p->next_format == p->next_fill)
				break;
			pthread_cond_wait(&p->changed, &p->lock);
			continue;
		}
		slot->state = SLOT_FORMATTING;
		p->next_format++;
		pthread_mutex_unlock(&p->lock);
		result = format_slot(p->zone, slot);
		pthread_mutex_lock(&p->lock);
		if (result != DZ_OK)
			fail_locked(p, result);
		slot->state = SLOT_FORMATTED;
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void *
writer(void *arg)
{
	pipeline_t *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->failed) {
		slot_t *slot = &p->slots[p->next_write % SLOTS];
		size_t written;

		if (slot->state != SLOT_FORMATTED || slot->seq != p->next_write) {
			if (p->producer_done && p->next_write == p->next_fill)
				break;
			pthread_cond_wait(&p->changed, &p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		written = fwrite(slot->text.data, 1, slot->text.len, p->fp);
		pthread_mutex_lock(&p->lock);
		if (written != slot->text.len) {
			p->write_errno = errno;
			fail_locked(p, DZ_EIO);
			break;
		}
		slot->state = SLOT_EMPTY;
		p->next_write++;
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The slot the producer fills now, waiting until it is free; NULL after a failure. */
static slot_t *
producer_slot(pipeline_t *p)
{
	slot_t *slot = &p->slots[p->next_fill % SLOTS];

	pthread_mutex_lock(&p->lock);
	while (!p->failed && slot->state != SLOT_EMPTY)
		pthread_cond_wait(&p->changed, &p->lock);
	pthread_mutex_unlock(&p->lock);
	if (p->failed)
		return NULL;
	slot->count = 0;
	slot->bytes = 0;
	return slot;
}

/* Hand the slot being filled to the formatters. */
static void
producer_publish(pipeline_t *p, slot_t *slot)
{
	pthread_mutex_lock(&p->lock);
	slot->seq = p->next_fill++;
	slot->state = SLOT_FILLED;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

/* Bytes of RDATA and signatures of an RRset list, an estimate of its text. */
static size_t
rrset_bytes(const dz_rrset_t *rrset)
{
	size_t bytes = 0;

	for (; rrset != NULL; rrset = rrset->next)
		bytes += rrset->len + (rrset->sigs != NULL ? rrset->sigs->len : 0);
	return bytes;
}

static dz_result_t
slot_add(slot_t *slot, const dz_node_t *node, const dz_nsec3_t *entry)
{
	if (slot->count == slot->cap) {
		size_t cap = slot->cap == 0 ? 1024 : 2 * slot->cap;
		chunk_item_t *items = realloc(slot->items, cap * sizeof(*items));
		if (items == NULL)
			return DZ_ENOMEM;
		slot->items = items;
		slot->cap = cap;
	}
	slot->items[slot->count].node = node;
	slot->items[slot->count].entry = entry;
	slot->count++;
	if (node != NULL)
		slot->bytes += rrset_bytes(node->rrsets) + rrset_bytes(node->nsec) + node->key_len;
	else
		slot->bytes += rrset_bytes(entry->rrset) + 32;
	return DZ_OK;
}

/* Fill chunks with the names and NSEC3 owners in canonical order. */
static void
produce(pipeline_t *p)
{
	const dz_zone_t *zone = p->zone;
	const dz_node_t *node = dz_zone_first(zone);
	const dz_nsec3_t *entry = dz_zone_nsec3_first(zone);
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t key_len = 0;
	slot_t *slot = producer_slot(p);
	dz_result_t result = DZ_OK;

	if (entry != NULL)
		key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);
	while (slot != NULL && result == DZ_OK && (node != NULL || entry != NULL)) {
		bool take_node = entry == NULL ||
				 (node != NULL && dz_name_key_compare(node->key, node->key_len, key, key_len) <= 0);

		if (take_node) {
			result = slot_add(slot, node, NULL);
			node = dz_zone_next(node);
		} else {
			result = slot_add(slot, NULL, entry);
			entry = dz_zone_nsec3_next(entry);
			if (entry != NULL)
				key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);
		}
		if (result == DZ_OK && slot->bytes >= CHUNK_BYTES) {
			producer_publish(p, slot);
			slot = producer_slot(p);
		}
	}
	pthread_mutex_lock(&p->lock);
	if (result != DZ_OK)
		fail_locked(p, result);
	pthread_mutex_unlock(&p->lock);
	if (slot != NULL && result == DZ_OK && slot->count > 0)
		producer_publish(p, slot);
	pthread_mutex_lock(&p->lock);
	p->producer_done = true;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

dz_result_t
dz_output_write(const dz_zone_t *zone, FILE *fp, dz_error_t *err)
{
	pipeline_t p;
	pthread_t formatters[FORMATTERS_MAX];
	pthread_t writer_thread;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned formatter_count = cpus > 0 ? (unsigned)cpus : 1;
	unsigned started = 0;
	bool writer_started = false;

	memset(&p, 0, sizeof(p));
	p.zone = zone;
	p.fp = fp;
	p.result = DZ_OK;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.changed, NULL);
	for (size_t i = 0; i < SLOTS; i++)
		dz_buf_init(&p.slots[i].text);
	if (formatter_count > FORMATTERS_MAX)
		formatter_count = FORMATTERS_MAX;

	for (; started < formatter_count; started++) {
		if (pthread_create(&formatters[started], NULL, formatter, &p) != 0)
			break;
	}
	writer_started = started > 0 && pthread_create(&writer_thread, NULL, writer, &p) == 0;
	if (!writer_started) {
		pthread_mutex_lock(&p.lock);
		fail_locked(&p, DZ_EAGAIN);
		p.producer_done = true;
		pthread_mutex_unlock(&p.lock);
	} else {
		produce(&p);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(formatters[i], NULL);
	if (writer_started)
		pthread_join(writer_thread, NULL);

	for (size_t i = 0; i < SLOTS; i++) {
		free(p.slots[i].items);
		dz_buf_clear(&p.slots[i].text);
	}
	pthread_mutex_destroy(&p.lock);
	pthread_cond_destroy(&p.changed);
	switch (p.result) {
	case DZ_OK:
		return DZ_OK;
	case DZ_EIO:
		return dz_error_set(err, DZ_EIO, "zone %s: writing failed: %s", zone->origin_text,
				    strerror(p.write_errno));
	case DZ_EINVAL:
		return dz_error_set(err, DZ_EINTERNAL, "zone %s: a record cannot be printed",
				    zone->origin_text);
	case DZ_EAGAIN:
		return dz_error_set(err, DZ_EAGAIN, "zone %s: could not start output threads",
				    zone->origin_text);
	default:
		return dz_error_set(err, p.result, "zone %s: writing the zone failed: %s",
				    zone->origin_text, dz_result_text(p.result));
	}
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

/* Parsed RRs of one owner, sorted for the snapshot. */
typedef struct owner_rrs {
	dz_buf_t wire;
	dz_wire_rr_t *items;
	size_t count;
	size_t cap;
} owner_rrs_t;

static int
compare_rr(const void *a, const void *b)
{
	return dz_wire_rr_compare(a, b);
}

/* Sort the RRs in rrs->wire and add them to the writer, skipping the SOA. */
static dz_result_t
add_owner(owner_rrs_t *rrs, dz_snapshot_writer_t *writer, dz_error_t *err)
{
	size_t offset = 0;
	dz_result_t result = DZ_OK;

	rrs->count = 0;
	while (offset < rrs->wire.len) {
		if (rrs->count == rrs->cap) {
			size_t cap = rrs->cap == 0 ? 64 : 2 * rrs->cap;
			dz_wire_rr_t *items = realloc(rrs->items, cap * sizeof(*items));
			if (items == NULL)
				return dz_error_set(err, DZ_ENOMEM, "out of memory writing a snapshot");
			rrs->items = items;
			rrs->cap = cap;
		}
		if (dz_wire_rr_parse(rrs->wire.data, rrs->wire.len, &offset,
				     &rrs->items[rrs->count]) != DZ_OK)
			return dz_error_set(err, DZ_EINTERNAL, "invalid RR in the zone tree");
		if (rrs->items[rrs->count].type != DZ_TYPE_SOA)
			rrs->count++;
	}
	qsort(rrs->items, rrs->count, sizeof(*rrs->items), compare_rr);
	for (size_t i = 0; i < rrs->count && result == DZ_OK; i++)
		result = dz_snapshot_writer_add(writer, rrs->items[i].start, rrs->items[i].len, err);
	rrs->wire.len = 0;
	return result;
}

dz_result_t
dz_output_snapshot(const dz_zone_t *zone, dz_snapshot_writer_t *writer, dz_error_t *err)
{
	owner_rrs_t rrs;
	const dz_node_t *node = dz_zone_first(zone);
	const dz_nsec3_t *entry = dz_zone_nsec3_first(zone);
	const dz_rrset_t *soa = zone->apex != NULL ? dz_node_rrset(zone->apex, DZ_TYPE_SOA) : NULL;
	uint8_t key[DZ_NAME_KEY_MAX];
	size_t key_len = 0;
	dz_result_t result;

	if (soa == NULL || soa->count != 1)
		return dz_error_set(err, DZ_EZONE, "zone %s: no single SOA record at the apex",
				    zone->origin_text);
	memset(&rrs, 0, sizeof(rrs));
	dz_buf_init(&rrs.wire);

	/* The snapshot starts with the SOA alone; its RRSIGs come with the apex. */
	result = dz_wire_rr_append(&rrs.wire, zone->origin_wire, zone->origin_wire_len,
				   DZ_TYPE_SOA, soa->ttl, soa->data + 2, (uint16_t)(soa->len - 2));
	if (result == DZ_OK)
		result = dz_snapshot_writer_add(writer, rrs.wire.data, rrs.wire.len, err);
	else
		dz_error_set(err, result, "out of memory writing a snapshot");
	rrs.wire.len = 0;
	if (entry != NULL)
		key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);

	/* Names and NSEC3 owners merged in canonical order, as dz_output_write() does. */
	while (result == DZ_OK && (node != NULL || entry != NULL)) {
		bool take_node = entry == NULL ||
				 (node != NULL &&
				  dz_name_key_compare(node->key, node->key_len, key, key_len) <= 0);
		if (take_node) {
			result = dz_zone_node_wire(zone, node, &rrs.wire);
			node = dz_zone_next(node);
		} else {
			result = dz_zone_nsec3_wire(zone, entry, &rrs.wire);
			entry = dz_zone_nsec3_next(entry);
			if (entry != NULL)
				key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);
		}
		if (result == DZ_ENOMEM)
			dz_error_set(err, result, "out of memory writing a snapshot");
		else if (result == DZ_OK)
			result = add_owner(&rrs, writer, err);
	}
	dz_buf_clear(&rrs.wire);
	free(rrs.items);
	return result;
}
