/*
 * journal.h -- the IXFR journal of a zone: signed diffs between published
 * versions, oldest first.
 *
 * Each entry takes the zone from one serial to the next and holds, as in an
 * IXFR response (RFC 1995 section 4): the old SOA, the RRs removed, the new
 * SOA, the RRs added, all in uncompressed wire form.  Entries chain: each
 * starts at the serial where the previous one ends.  The journal has a
 * size bound; appending drops the oldest entries until the file fits, and a
 * secondary asking for a serial that is gone gets an AXFR instead.
 *
 * File layout (integers big-endian):
 *
 *   offset  size  field
 *   0       8     magic "DZJRNL01"
 *   8       4     format version, 1
 *   12      4     number of entries
 *   16      4     serial where the oldest entry starts (the last serial when empty)
 *   20      4     serial where the newest entry ends
 *   24      2     length of the origin name
 *   26      255   origin in uncompressed wire form, zero padded
 *   281     39    zero
 *   320     ...   entries
 *
 * and each entry:
 *
 *   4  length of the whole entry in bytes
 *   4  old serial              4  new serial
 *   4  number of removed RRs   4  number of added RRs
 *   4  length of the old SOA   4  length of the removed RRs
 *   4  length of the new SOA   4  length of the added RRs
 *   then the old SOA, the removed RRs, the new SOA and the added RRs.
 *
 * The file is always replaced whole (common/file.h), so after a crash it
 * is the old or the new journal.  Its size is bounded, so rewriting it per
 * publication costs at most that bound.
 */
#ifndef DZ_SIGNER_JOURNAL_H
#define DZ_SIGNER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/mem.h"
#include "signer/wire.h"

#define DZ_JOURNAL_HEADER_SIZE 320
#define DZ_JOURNAL_ENTRY_HEADER_SIZE 36
#define DZ_JOURNAL_VERSION 1

/* One diff; all pointers point into the journal's mapping. */
typedef struct dz_journal_entry {
	uint32_t old_serial;
	uint32_t new_serial;
	dz_wire_rr_t old_soa;
	dz_wire_rr_t new_soa;
	const uint8_t *removed; /* concatenated RRs */
	size_t removed_len;
	uint32_t removed_count;
	const uint8_t *added;
	size_t added_len;
	uint32_t added_count;
	const uint8_t *raw; /* the entry as stored, header included */
	size_t size;	    /* bytes of raw */
} dz_journal_entry_t;

/* A journal mapped read-only. */
typedef struct dz_journal {
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
	uint32_t first_serial;
	uint32_t last_serial;
	dz_journal_entry_t *entries; /* oldest first */
	size_t count;
	void *map;
	size_t map_len;
} dz_journal_t;

/*
 * Map and check the journal at `path`: every RR is parsed, the SOA serials
 * match the entry headers and the entries chain.  DZ_ENOTFOUND when the
 * file is missing; DZ_EZONE naming the path and the entry when it is
 * invalid.  Free *out with dz_journal_close().
 */
dz_result_t dz_journal_open(const char *path, dz_journal_t **out, dz_error_t *err);

/* Unmap and free; NULL is ignored. */
void dz_journal_close(dz_journal_t *journal);

/*
 * Find the entry that starts at `serial`; true and its index in *index
 * when there is one.
 */
bool dz_journal_find(const dz_journal_t *journal, uint32_t serial, size_t *index);

/* An entry to append; the buffers are not owned. */
typedef struct dz_journal_diff {
	const dz_buf_t *old_soa; /* one SOA RR */
	const dz_buf_t *removed; /* concatenated RRs, no SOA; may be empty */
	const dz_buf_t *new_soa;
	const dz_buf_t *added;
} dz_journal_diff_t;

/*
 * Replace the journal at `path` with its entries plus `diff`, dropping the
 * oldest entries until the file is at most `max_size` bytes.  When the
 * journal is missing, is invalid, or does not end at the old serial of
 * `diff`, the old entries are discarded (and a warning logged for an
 * invalid one).  When `diff` alone is larger than the bound the journal is
 * left empty at the new serial.  DZ_EZONE when `diff` is not valid: SOAs of
 * another zone, a new serial not after the old, RRs outside the zone or
 * malformed.  `origin` is the zone apex in wire form.
 */
dz_result_t dz_journal_append(const char *path, const uint8_t *origin, size_t origin_len,
			      const dz_journal_diff_t *diff, size_t max_size, mode_t mode,
			      dz_error_t *err);

/* Replace the journal at `path` with an empty one that ends at `serial`. */
dz_result_t dz_journal_reset(const char *path, const uint8_t *origin, size_t origin_len,
			     uint32_t serial, mode_t mode, dz_error_t *err);

/*
 * Replace the journal at `path` with the entries of `journal` up to and
 * including the one that ends at `serial`.  DZ_ENOTFOUND when no entry
 * ends there (and `serial` is not where the journal starts).
 */
dz_result_t dz_journal_truncate(const dz_journal_t *journal, const char *path, uint32_t serial,
				mode_t mode, dz_error_t *err);

#endif
