/*
 * Writing the zone text is a pipeline, because printing with ldns takes
 * microseconds per record.  The calling thread collects the wire RRs of
 * consecutive names into chunks.  Formatter threads turn chunks into text
 * in parallel, and a writer thread writes the texts in chunk order.  A
 * ring of SLOTS chunks bounds the memory.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/file.h"
#include "signer/output.h"

/* Wire bytes per chunk before it is handed to a formatter. */
#define CHUNK_BYTES (256 * 1024)
/* Chunks in flight; at least the formatters plus the one being filled and the one being written. */
#define SLOTS 16
/* Most formatter threads. */
#define FORMATTERS_MAX 8

typedef enum slot_state {
	SLOT_EMPTY,
	SLOT_FILLED,	 /* wire RRs ready for a formatter */
	SLOT_FORMATTING,
	SLOT_FORMATTED,	 /* text ready for the writer */
} slot_state_t;

typedef struct slot {
	slot_state_t state;
	size_t seq;
	dz_buf_t wire;
	dz_buf_t text;
	dz_result_t result;
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

/* Print the wire RRs of a slot into its text; runs without the lock. */
static dz_result_t
format_slot(slot_t *slot, ldns_buffer *text)
{
	size_t pos = 0;

	slot->text.len = 0;
	while (pos < slot->wire.len) {
		ldns_rr *rr = NULL;
		size_t start = pos;
		dz_result_t result;

		if (ldns_wire2rr(&rr, slot->wire.data, slot->wire.len, &pos, LDNS_SECTION_ANSWER) !=
			    LDNS_STATUS_OK ||
		    pos <= start) {
			ldns_rr_free(rr);
			return DZ_EINTERNAL;
		}
		ldns_buffer_clear(text);
		if (ldns_rr2buffer_str_fmt(text, ldns_output_format_nocomments, rr) != LDNS_STATUS_OK) {
			ldns_rr_free(rr);
			return DZ_EINTERNAL;
		}
		ldns_rr_free(rr);
		result = dz_buf_append(&slot->text, ldns_buffer_begin(text), ldns_buffer_position(text));
		if (result != DZ_OK)
			return result;
	}
	return DZ_OK;
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
	ldns_buffer *text = ldns_buffer_new(4096);

	pthread_mutex_lock(&p->lock);
	if (text == NULL)
		fail_locked(p, DZ_ENOMEM);
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
		result = format_slot(slot, text);
		pthread_mutex_lock(&p->lock);
		if (result != DZ_OK)
			fail_locked(p, result);
		slot->state = SLOT_FORMATTED;
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	if (text != NULL)
		ldns_buffer_free(text);
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
	slot->wire.len = 0;
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

static dz_result_t
node_wire(const dz_node_t *node, dz_buf_t *out)
{
	uint8_t owner[DZ_NAME_WIRE_MAX];
	size_t owner_len = dz_name_wire_from_key(node->key, node->key_len, owner);
	const dz_rrset_t *soa = dz_node_rrset(node, DZ_TYPE_SOA);
	dz_result_t result = DZ_OK;

	/* The SOA first, as zone files put it. */
	if (soa != NULL)
		result = dz_zone_rrset_wire(owner, owner_len, soa, out);
	for (const dz_rrset_t *r = node->rrsets; r != NULL && result == DZ_OK; r = r->next) {
		if (r != soa)
			result = dz_zone_rrset_wire(owner, owner_len, r, out);
	}
	if (result == DZ_OK && node->nsec != NULL)
		result = dz_zone_rrset_wire(owner, owner_len, node->nsec, out);
	return result;
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
			result = node_wire(node, &slot->wire);
			node = dz_zone_next(node);
		} else {
			result = dz_zone_nsec3_wire(zone, entry, &slot->wire);
			entry = dz_zone_nsec3_next(entry);
			if (entry != NULL)
				key_len = dz_zone_nsec3_owner_key(zone, entry->hash, key);
		}
		if (result == DZ_OK && slot->wire.len >= CHUNK_BYTES) {
			producer_publish(p, slot);
			slot = producer_slot(p);
		}
	}
	pthread_mutex_lock(&p->lock);
	if (result != DZ_OK)
		fail_locked(p, result);
	pthread_mutex_unlock(&p->lock);
	if (slot != NULL && result == DZ_OK && slot->wire.len > 0)
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
	for (size_t i = 0; i < SLOTS; i++) {
		dz_buf_init(&p.slots[i].wire);
		dz_buf_init(&p.slots[i].text);
	}
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
		dz_buf_clear(&p.slots[i].wire);
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
	case DZ_EINTERNAL:
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
