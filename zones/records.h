/*
 * records.h -- generated resource records and the differences between sets.
 *
 * The mail records (TLSA, SMIMEA, OPENPGPKEY) are kept as a sorted set of
 * (owner, type, TTL, RDATA).  Owners are absolute, lower case, with a
 * trailing dot; class is always IN.  The signer receives differences in
 * uncompressed wire form: owner, type, class, TTL, RDLENGTH, RDATA,
 * records concatenated.
 */
#ifndef DZ_ZONES_RECORDS_H
#define DZ_ZONES_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "common/mem.h"

#define DZ_TYPE_TLSA 52
#define DZ_TYPE_SMIMEA 53
#define DZ_TYPE_OPENPGPKEY 61
#define DZ_CLASS_IN 1

typedef struct dz_record {
	char *owner;	 /* "_25._tcp.mx.example.net." (owned) */
	uint16_t type;
	uint32_t ttl;
	uint8_t *rdata;	 /* owned */
	uint16_t rdlength;
} dz_record_t;

typedef struct dz_records {
	dz_record_t *items;
	size_t count;
	size_t cap;
	bool sorted;	 /* items are in dz_records_sort() order without duplicates */
} dz_records_t;

void dz_records_init(dz_records_t *set);
void dz_records_clear(dz_records_t *set);

/*
 * Append a copy of one record.  `owner` must be a normalised absolute name.
 * DZ_ETOOBIG when rdlength would exceed 65535; DZ_ENOMEM.
 */
dz_result_t dz_records_add(dz_records_t *set, const char *owner, uint16_t type, uint32_t ttl,
			   const uint8_t *rdata, size_t rdlength);

/* Append copies of every record of `from`. */
dz_result_t dz_records_add_all(dz_records_t *set, const dz_records_t *from);

/* Sort by owner (DNSSEC canonical order), type, RDATA, TTL and remove duplicates. */
void dz_records_sort(dz_records_t *set);

/* Deep copy; dst is initialised here.  DZ_ENOMEM. */
dz_result_t dz_records_copy(dz_records_t *dst, const dz_records_t *src);

/*
 * Records in `new_set` and not in `old_set` go to `added`, the opposite to
 * `removed` (both initialised here).  A TTL change shows as a removal and an
 * addition.  Both inputs must be sorted.
 */
dz_result_t dz_records_diff(const dz_records_t *old_set, const dz_records_t *new_set,
			    dz_records_t *added, dz_records_t *removed);

/* Whether the sorted set contains a record equal in owner, type, TTL and RDATA. */
bool dz_records_contains(const dz_records_t *set, const dz_record_t *record);

/* Size of the record in wire form (owner uncompressed). */
size_t dz_record_wire_size(const dz_record_t *record);

/* Append the records in uncompressed wire form to buf. */
dz_result_t dz_records_to_wire(const dz_records_t *set, dz_buf_t *buf);

/*
 * Write one record per line in zone-file form: TLSA and SMIMEA as
 * "U S M HEX", OPENPGPKEY in base64 (RFC 7929 section 2.3).  With `generic`
 * every RDATA is in the RFC 3597 form "TYPE52 \# LEN HEX".
 */
void dz_records_print(const dz_records_t *set, bool generic, FILE *out);

/* Format one record as dz_records_print() does, without newline, into a new string. */
char *dz_record_to_text(const dz_record_t *record, bool generic);

/* Type mnemonic ("TLSA"). */
const char *dz_record_type_name(uint16_t type);

#endif
