/*
 * snapshot.h -- the binary snapshot of a published zone version.
 *
 * A snapshot holds every RR of one signed zone version in uncompressed
 * wire form: the SOA first, then all other RRs in the order of
 * dz_wire_rr_compare() (canonical owner order, then type, class, RDATA).
 * The DNS server maps it read-only and answers AXFR from it without loading
 * the zone into memory.
 *
 * File layout (integers big-endian):
 *
 *   offset  size  field
 *   0       8     magic "DZSNAP01"
 *   8       4     format version, 1
 *   12      4     SOA serial
 *   16      8     number of RRs, the SOA included
 *   24      8     length of the RR data in bytes
 *   32      2     length of the origin name
 *   34      255   origin in uncompressed wire form, zero padded
 *   289     31    zero
 *   320     ...   RR data
 *
 * The writer can produce the signed zone text file in the same pass: its
 * first line is "; danezone zone ORIGIN serial N", then one RR per line in
 * the snapshot's order.  Both files are replaced atomically and durably
 * (common/file.h) when the writer is committed.
 */
#ifndef DZ_SIGNER_SNAPSHOT_H
#define DZ_SIGNER_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/mem.h"
#include "signer/wire.h"

#define DZ_SNAPSHOT_HEADER_SIZE 320
/* The first 8 bytes of a snapshot. */
#define DZ_SNAPSHOT_MAGIC "DZSNAP01"
#define DZ_SNAPSHOT_VERSION 1

/* First line of a zone text file written with a snapshot; ORIGIN and serial follow. */
#define DZ_SNAPSHOT_TEXT_MARK "; danezone zone "

typedef struct dz_snapshot_writer dz_snapshot_writer_t;

/*
 * Start writing a snapshot that will replace `path`, and the zone text file
 * that will replace `text_path` unless it is NULL.  `origin` is the zone
 * apex in uncompressed wire form.  Files are created with `mode`.  On
 * success the caller ends with dz_snapshot_writer_commit() or _abort().
 */
dz_result_t dz_snapshot_writer_create(const char *path, const char *text_path,
				      const uint8_t *origin, size_t origin_len, mode_t mode,
				      dz_snapshot_writer_t **writer, dz_error_t *err);

/*
 * Add one uncompressed wire-form RR of `len` bytes.  The first RR must be
 * the SOA at the origin, class IN; every later RR must be below or at the
 * origin, must not be an SOA, and must come after the previous one in
 * dz_wire_rr_compare() order.  DZ_EZONE names the offending RR otherwise;
 * the writer stays usable but the caller will normally abort.
 */
dz_result_t dz_snapshot_writer_add(dz_snapshot_writer_t *writer, const uint8_t *rr, size_t len,
				   dz_error_t *err);

/* Add every RR of a buffer of concatenated RRs, as dz_snapshot_writer_add(). */
dz_result_t dz_snapshot_writer_add_all(dz_snapshot_writer_t *writer, const dz_buf_t *rrs,
				       dz_error_t *err);

struct dz_snapshot;

/*
 * Add the version that a difference in IXFR order (RFC 1995 section 4: old
 * SOA, removed RRs, new SOA, added RRs, uncompressed wire form) makes of
 * `old`, which must be the version the difference starts from.  The RRs of
 * `old` that stay are copied in runs, not one by one, so this takes time in
 * proportion to the changes plus one pass over `old`.  The writer must be
 * new and must not write a zone text file.  An empty difference copies
 * `old`.  Returns DZ_ESTATE when the old SOA is not the one of `old`,
 * DZ_EZONE when the difference removes an RR that is not in `old`, adds one
 * that is, or is malformed, and the writer's failures.
 */
dz_result_t dz_snapshot_writer_add_diff(dz_snapshot_writer_t *writer, const struct dz_snapshot *old,
					const uint8_t *diff, size_t diff_len, dz_error_t *err);

/* Serial of the SOA added first; 0 before that. */
uint32_t dz_snapshot_writer_serial(const dz_snapshot_writer_t *writer);

/* The SOA added first (uncompressed wire form) in `soa`; DZ_ESTATE before that. */
dz_result_t dz_snapshot_writer_soa(const dz_snapshot_writer_t *writer, dz_buf_t *soa);

/*
 * Write the header and flush both temporary files to disk without
 * replacing the targets, so that the new version can be read from
 * dz_snapshot_writer_temp_path() (to compute a diff) before it becomes
 * visible.  Called by commit when the caller did not.
 */
dz_result_t dz_snapshot_writer_finish(dz_snapshot_writer_t *writer, dz_error_t *err);

/* Path of the temporary snapshot file; valid until commit or abort. */
const char *dz_snapshot_writer_temp_path(const dz_snapshot_writer_t *writer);

/*
 * Replace the snapshot file, then the text file, and free the writer
 * (also on failure, when the targets not yet replaced stay as they were).
 */
dz_result_t dz_snapshot_writer_commit(dz_snapshot_writer_t *writer, dz_error_t *err);

/*
 * Split commit for the publisher, which orders the steps: replace only the
 * snapshot; then dz_snapshot_writer_commit() replaces the text file.
 */
dz_result_t dz_snapshot_writer_commit_snapshot(dz_snapshot_writer_t *writer, dz_error_t *err);

/* Remove the temporary files and free the writer; NULL is ignored. */
void dz_snapshot_writer_abort(dz_snapshot_writer_t *writer);

/*
 * Free the writer but leave its temporary files on disk, as a crash would.
 * Only the crash-consistency tests use it.
 */
void dz_snapshot_writer_abandon(dz_snapshot_writer_t *writer);

/* A snapshot mapped read-only, with a reference count for sharing between versions. */
typedef struct dz_snapshot {
	unsigned refs;
	dev_t dev; /* identity of the file, to notice when it was replaced */
	ino_t ino;
	uint32_t serial;
	uint64_t rr_count;
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
	dz_wire_rr_t soa;     /* points into the mapping */
	const uint8_t *data;  /* RR data, the SOA first */
	size_t data_len;
	const uint8_t *rest;  /* RR data after the SOA */
	size_t rest_len;
	void *map;	      /* whole file */
	size_t map_len;
} dz_snapshot_t;

/*
 * Map the snapshot at `path`.  With `check_all` every RR is parsed and the
 * count compared with the header (the server does this before serving a
 * version); otherwise only the header and the SOA are checked.
 * DZ_ENOTFOUND when the file is missing; DZ_EZONE (with the path and the
 * byte offset) when it is not a valid snapshot.  The caller frees *out with
 * dz_snapshot_close().
 */
dz_result_t dz_snapshot_open(const char *path, bool check_all, dz_snapshot_t **out,
			     dz_error_t *err);

/* Add a reference; each one is dropped with dz_snapshot_close().  Not thread safe. */
dz_snapshot_t *dz_snapshot_ref(dz_snapshot_t *snapshot);

/* Drop a reference; the last one unmaps and frees.  NULL is ignored. */
void dz_snapshot_close(dz_snapshot_t *snapshot);

/*
 * Write one RR in presentation form with a newline to `fp` (signer/print.h).
 * DZ_EZONE when the RR cannot be printed, DZ_EIO on a write error.
 */
dz_result_t dz_snapshot_print_rr(FILE *fp, const uint8_t *rr, size_t len, dz_error_t *err);

/*
 * Read the serial from the first line of a zone text file written with a
 * snapshot.  DZ_ENOTFOUND when the file is missing, DZ_ESYNTAX when the
 * first line is not the mark.
 */
dz_result_t dz_snapshot_text_serial(const char *text_path, uint32_t *serial, dz_error_t *err);

/*
 * Write the zone text of an open snapshot to `fp`, first line included, as
 * the writer does.  DZ_EZONE when an RR is invalid, DZ_EIO on a write
 * error.  The publisher uses it when only the text file is behind.
 */
dz_result_t dz_snapshot_print_text(const dz_snapshot_t *snapshot, FILE *fp, dz_error_t *err);

/*
 * Rewrite the zone text file `text_path` from an open snapshot, atomically.
 * It takes no journal lock: for a published zone, dz_publish_materialize()
 * (signer/publish.h) is the way to bring the text file up, because it never
 * replaces a newer text file with an older one.
 */
dz_result_t dz_snapshot_write_text(const dz_snapshot_t *snapshot, const char *text_path,
				   mode_t mode, dz_error_t *err);

#endif
