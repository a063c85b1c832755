/*
 * journal.h -- the IXFR journal of a zone: signed diffs between published
 * versions, oldest first, in a file that only grows between compactions.
 *
 * Each entry takes the zone from one serial to the next and holds, as in an
 * IXFR response (RFC 1995 section 4): the old SOA, the RRs removed, the new
 * SOA, the RRs added, all in uncompressed wire form.  Entries chain: each
 * starts at the serial where the previous one ends, and the first starts
 * at the journal's base serial, whose SOA is in the header.  The newest
 * entry ends at the latest committed serial of the zone (signer/publish.h).
 *
 * File layout (integers big-endian):
 *
 *   offset  size  field
 *   0       8     magic "DZJRNL02"
 *   8       4     format version, 2
 *   12      4     header length H, the base SOA and checksum included
 *   16      4     base serial
 *   20      2     length of the origin name
 *   22      255   origin in uncompressed wire form, zero padded
 *   277     2     length L of the base SOA RR
 *   279     9     zero
 *   288     L     the base SOA RR
 *   288+L   32    SHA-256 of bytes 0 to 288+L
 *   H       ...   entries
 *
 * and each entry:
 *
 *   4   length of the whole entry in bytes, trailer included
 *   4   old serial             4  new serial
 *   4   number of removed RRs  4  number of added RRs
 *   4   length of the old SOA  4  length of the removed RRs
 *   4   length of the new SOA  4  length of the added RRs
 *   ... the old SOA, the removed RRs, the new SOA and the added RRs
 *   32  SHA-256 of the entry up to here
 *   4   length of the whole entry again, so the newest entry can be
 *       found from the end of the file
 *
 * An entry is appended in place and committed by fdatasync().  A crash
 * during an append leaves an incomplete last entry, which fails its
 * length or checksum check: readers ignore it and
 * dz_journal_writer_open() cuts it off.  The header is written only when
 * the file is created, and a new file replaces the journal atomically
 * (common/file.h).
 *
 * Locking: writers hold an exclusive flock() on the journal file while
 * they append, cut off a torn tail, or replace the journal, the snapshot
 * or the zone text file (signer/publish.c).  dz_journal_open() takes a
 * shared lock while it reads, so it never sees an entry that is not yet
 * durable.  A file replaced by rename keeps its lock on the old inode,
 * so every locker checks that it locked the file the path names now.
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

#define DZ_JOURNAL_VERSION 2
/* Header bytes before the base SOA, and after it the checksum. */
#define DZ_JOURNAL_HEADER_FIXED 288
#define DZ_JOURNAL_CHECKSUM_SIZE 32
#define DZ_JOURNAL_ENTRY_HEADER_SIZE 36
#define DZ_JOURNAL_ENTRY_TRAILER_SIZE (DZ_JOURNAL_CHECKSUM_SIZE + 4)

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
	const uint8_t *raw; /* the entry as stored, header and trailer included */
	size_t size;	    /* bytes of raw */
} dz_journal_entry_t;

/* A journal mapped read-only. */
typedef struct dz_journal {
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
	uint32_t first_serial;	    /* base serial, where the oldest entry starts */
	uint32_t last_serial;	    /* where the newest entry ends */
	dz_wire_rr_t base_soa;	    /* SOA of first_serial */
	dz_wire_rr_t last_soa;	    /* SOA of last_serial */
	dz_journal_entry_t *entries; /* oldest first */
	size_t count;
	size_t header_size;
	size_t valid_end;  /* bytes of the header and the valid entries */
	size_t torn_bytes; /* bytes after them: an incomplete entry from a crash */
	dev_t dev;	   /* identity of the file, to read only new entries later */
	ino_t ino;
	void *map;
	size_t map_len;
} dz_journal_t;

/*
 * Map and check the journal at `path` under a shared lock: the header's
 * checksum, and every entry's length, checksum, RRs and SOA serials, and
 * that the entries chain.  Reading stops at the first entry that fails
 * (a crash's incomplete tail, counted in torn_bytes, with no error).
 * DZ_ENOTFOUND when the file is missing; DZ_EZONE naming the path when the
 * header is invalid.  Free *out with dz_journal_close().
 */
dz_result_t dz_journal_open(const char *path, dz_journal_t **out, dz_error_t *err);

/*
 * Like dz_journal_open(), but when `previous` (may be NULL) is a view of
 * the same file, only the entries after previous->valid_end are read and
 * checked, so the cost is that of the new entries.  `previous` stays valid.
 */
dz_result_t dz_journal_reopen(const dz_journal_t *previous, const char *path, dz_journal_t **out,
			      dz_error_t *err);

/*
 * Like dz_journal_reopen(), but return with the shared lock still held in
 * *lock_fd, so that nobody replaces the journal, the snapshot or the text
 * file until dz_journal_unlock(*lock_fd).  Do not call it while this
 * thread holds a writer: flock() would wait for itself.
 */
dz_result_t dz_journal_reopen_locked(const dz_journal_t *previous, const char *path,
				     dz_journal_t **out, int *lock_fd, dz_error_t *err);

/* Release a lock taken by dz_journal_reopen_locked(). */
void dz_journal_unlock(int lock_fd);

/* Unmap and free; NULL is ignored. */
void dz_journal_close(dz_journal_t *journal);

/*
 * Find the entry that starts at `serial`; true and its index in *index
 * when there is one.
 */
bool dz_journal_find(const dz_journal_t *journal, uint32_t serial, size_t *index);

/*
 * Find where `serial` lies on the chain: true with *index the number of
 * entries up to and including the one that ends at `serial` (0 when it is
 * the base serial).  The entries from *index on lead from `serial` to the
 * newest one.
 */
bool dz_journal_position(const dz_journal_t *journal, uint32_t serial, size_t *index);

/*
 * Write the header of a journal for `origin` whose base is the SOA RR
 * base_soa[0..base_soa_len) into `out` (appended).  DZ_EZONE when the SOA
 * is not one SOA RR at the origin; DZ_ENOMEM.
 */
dz_result_t dz_journal_encode_header(const uint8_t *origin, size_t origin_len,
				     const uint8_t *base_soa, size_t base_soa_len, dz_buf_t *out,
				     dz_error_t *err);

/*
 * Replace the journal at `path` atomically with an empty one whose base is
 * `base_soa` (one SOA RR at `origin`), created with `mode`.  Call it while
 * holding the writer of the old journal, if there is one, so that nobody
 * appends to the file being replaced.
 */
dz_result_t dz_journal_create(const char *path, const uint8_t *origin, size_t origin_len,
			      const dz_buf_t *base_soa, mode_t mode, dz_error_t *err);

/* An entry to append after the newest one; the buffers are not owned. */
typedef struct dz_journal_diff {
	const dz_buf_t *removed; /* concatenated RRs, no SOA; may be empty */
	const dz_buf_t *new_soa; /* one SOA RR */
	const dz_buf_t *added;
} dz_journal_diff_t;

/*
 * An open journal with the exclusive lock held: the only way to change the
 * file in place.  Fields are read-only for callers.
 */
typedef struct dz_journal_writer {
	int fd;
	char path[4096];
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
	uint32_t first_serial;
	uint32_t last_serial;
	dz_buf_t last_soa;	 /* SOA of last_serial, the old SOA of the next entry */
	size_t end;		 /* bytes of the header and the committed entries */
	size_t appended;	 /* bytes written after `end` and not yet synced */
	uint32_t pending_serial; /* new serial of the pending entry */
	dz_buf_t pending_soa;
	dev_t dev;
	ino_t ino;
} dz_journal_writer_t;

/*
 * Open the journal at `path` for appending and take its exclusive lock,
 * waiting for other writers.  Only the header and the newest entry are
 * read, unless the newest entry fails its check: then the file is scanned
 * and cut after the last valid entry (logged with the bytes dropped), as
 * after a crash during an append.  DZ_ENOTFOUND when the file is missing;
 * DZ_EZONE when its header is invalid or belongs to another origin.  Close
 * with dz_journal_writer_close().
 */
dz_result_t dz_journal_writer_open(const char *path, const uint8_t *origin, size_t origin_len,
				   dz_journal_writer_t **out, dz_error_t *err);

/*
 * Write the entry from the newest serial to the serial of diff->new_soa at
 * the end of the file, without syncing it: the entry is committed by
 * dz_journal_writer_sync().  DZ_EZONE when the diff is not valid (the new
 * SOA not at the origin or its serial not after the newest one by
 * RFC 1982, an RR that is invalid, an SOA, or outside the zone);
 * DZ_ETOOBIG when a part exceeds 4 GiB; DZ_EIO on a write error, after
 * which the file is cut back to its committed end.  Only one entry may be
 * pending at a time.
 */
dz_result_t dz_journal_writer_append(dz_journal_writer_t *writer, const dz_journal_diff_t *diff,
				     dz_error_t *err);

/*
 * Commit the pending entry with fdatasync().  On failure the file is cut
 * back to its committed end and the entry is not committed (DZ_EIO).
 */
dz_result_t dz_journal_writer_sync(dz_journal_writer_t *writer, dz_error_t *err);

/* Release the lock and close; a pending entry is cut off first.  NULL is ignored. */
void dz_journal_writer_close(dz_journal_writer_t *writer);

/* Map and check the committed entries of the writer's file, as dz_journal_open() does. */
dz_result_t dz_journal_writer_read(const dz_journal_writer_t *writer, dz_journal_t **out,
				   dz_error_t *err);

/*
 * Release the lock and close, leaving the first `keep` bytes of a pending
 * entry in the file as a crash during the write would.  Only the
 * crash-consistency tests use it.
 */
void dz_journal_writer_abandon(dz_journal_writer_t *writer, size_t keep);

#endif
