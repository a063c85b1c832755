/*
 * publish.h -- publishing signed zone versions: IXFR journal, snapshot and
 * zone text file, written in an order that survives a crash.
 *
 * A published zone lives in a state folder as three files named after the
 * zone ("example.com" for example.com., "root" for the root zone):
 *
 *   example.com.journal   diffs between versions (signer/journal.h); its
 *                         newest entry is the latest committed version
 *   example.com.snapshot  every RR of one full version in wire form
 *                         (signer/snapshot.h), at or behind the journal
 *   example.com.zone      signed zone text of the snapshot's version, for
 *                         secondaries that read files and for reload hooks
 *                         (nsd-control reload, rndc reload)
 *
 * Committing.  A version is committed when its diff is appended to the
 * journal and synced to disk: that fdatasync() is the commit point.  The
 * DNS server answers SOA and IXFR from the journal at once, and AXFR from
 * the snapshot merged with the journal entries after it
 * (signer/version.h).  The snapshot and text file are rewritten later by
 * dz_publish_materialize(), off the path from a change to NOTIFY.
 *
 * Producers:
 *
 *   dz_publish_diff()         the fast path: appends one entry.  Its cost
 *                             grows with the diff, not the zone.
 *   dz_publish_begin/commit() a full version, for the first publication
 *                             and whenever no diff is at hand: appends the
 *                             diff to the journal (computed when not
 *                             given), then replaces the snapshot and the
 *                             text file.  Its cost grows with the zone.
 *   dz_publish_materialize()  rewrites the snapshot and the text file for
 *                             the committed serial, then compacts the
 *                             journal to its size bound.  Its cost grows
 *                             with the zone.  Call it when idle, for
 *                             example after some entries or seconds since
 *                             the last full version, and before shutdown.
 *
 * The zone text file is at serial N, and a reload hook may run, once
 * dz_publish_commit() returned N or dz_publish_materialize() returned
 * *serial == N.  After dz_publish_diff() alone it is behind.
 *
 * The journal's size bound applies to history that the snapshot already
 * contains: entries after the snapshot are never dropped, so the journal
 * may exceed its bound until the next materialization.  Compaction keeps
 * the newest entries that fit and removes older ones; a secondary that
 * asks for a serial no longer in the journal gets AXFR.
 *
 * Crash consistency.  Each write step is ordered so that the files always
 * describe a committed version.  A crash at any point leaves:
 *
 *   before an entry is written           the old version
 *   during the write or before the sync  the old version; the incomplete
 *                                        entry fails its checksum and is
 *                                        cut off at recovery
 *   after the sync                       the new version, with the snapshot
 *                                        and text file behind
 *   before a snapshot or text rename     the committed version; the
 *                                        temporary file is removed at
 *                                        recovery
 *   before a compacted journal rename    the same journal
 *
 * The first publication has no journal yet: there the snapshot's rename is
 * the commit point, and the journal is created just after it.
 *
 * Concurrency.  All writers of a target take the journal's exclusive lock
 * (flock) for their short steps: appends, renames and the final part of a
 * compaction.  The long parts of dz_publish_materialize() and
 * dz_publish_commit() (writing and syncing temporary files) run without
 * it, and a replacement never makes a file older: a materialization that
 * finishes after a newer full version leaves the newer files in place.
 * So dz_publish_materialize() may run on another thread, or in another
 * process, while producers publish.  Producers of one target must not run
 * concurrently with each other (dz_publish_commit() and dz_publish_diff()
 * check the serial against the committed one, under the lock).  Readers
 * use signer/version.h.
 */
#ifndef DZ_SIGNER_PUBLISH_H
#define DZ_SIGNER_PUBLISH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/mem.h"
#include "signer/snapshot.h"
#include "signer/wire.h"

/* Journal bound when the configuration gives none: 16 MiB. */
#define DZ_PUBLISH_JOURNAL_MAX_DEFAULT ((size_t)16 << 20)

/* Where one zone's published files live. */
typedef struct dz_publish_target {
	char zone[4 * DZ_WIRE_NAME_MAX + 1]; /* origin in presentation form, for logs */
	uint8_t origin[DZ_WIRE_NAME_MAX];
	size_t origin_len;
	char text_path[PATH_MAX];
	char snapshot_path[PATH_MAX];
	char journal_path[PATH_MAX];
	size_t journal_max_size; /* bytes, header included; see above */
	mode_t mode;		 /* permissions of the files */
} dz_publish_target_t;

/*
 * Fill `target` for zone `zone` (presentation form) in `folder`, with the
 * journal bound `journal_max_size` (0 for the default) and mode 0644.
 * DZ_EINVAL when the name is invalid or the paths are too long.
 */
dz_result_t dz_publish_target_init(dz_publish_target_t *target, const char *folder,
				   const char *zone, size_t journal_max_size, dz_error_t *err);

/*
 * Start a full version: a snapshot writer for the target's snapshot and
 * text file.  Add the RRs with dz_snapshot_writer_add(), then hand the
 * writer to dz_publish_commit(), or free it with dz_snapshot_writer_abort().
 */
dz_result_t dz_publish_begin(const dz_publish_target_t *target, dz_snapshot_writer_t **writer,
			     dz_error_t *err);

/*
 * Publish the full version in `writer` (always consumed): append the diff
 * from the committed version to the journal (the commit point), then
 * replace the snapshot and the text file, then compact the journal to
 * its bound.  `removed` and `added` are the RRs (no SOA) that differ from
 * the committed version, as concatenated wire-form RRs; when both are NULL
 * the diff is computed by comparing the two versions.  Without a
 * published version the snapshot is written first and the journal starts
 * empty.  DZ_ESTATE when the new serial is not after the committed one
 * (RFC 1982); DZ_EZONE when the diff is invalid; on any failure the
 * committed version stays as it was.  On success *serial (may be NULL) is
 * the new serial, and the text file is at it, unless writing the snapshot
 * or text file failed after the commit point: that is logged, and
 * dz_publish_materialize() writes them.
 */
dz_result_t dz_publish_commit(const dz_publish_target_t *target, dz_snapshot_writer_t *writer,
			      const dz_buf_t *removed, const dz_buf_t *added, uint32_t *serial,
			      dz_error_t *err);

/*
 * Commit a new version as a diff from the committed one: `removed` and
 * `added` are concatenated wire-form RRs (no SOA; either may be empty) and
 * `new_soa` is the new SOA RR.  The diff must be exact: each removed RR is
 * in the committed version and each added RR is not, and a TTL change is
 * the RR removed with its old TTL and added with the new one.  Only the
 * journal is written (append and fdatasync); the snapshot and text file
 * stay behind until dz_publish_materialize().  Errors:
 *   DZ_ESTATE  nothing is published yet (publish a full version first), or
 *              the journal is damaged (run dz_publish_recover());
 *   DZ_EZONE   the new serial is not after the committed one (RFC 1982),
 *              or an RR is invalid, an SOA, or outside the zone;
 *   DZ_EIO     the write or the sync failed.
 * On failure the committed version stays.  On success *serial (may be
 * NULL) is the new serial.
 */
dz_result_t dz_publish_diff(const dz_publish_target_t *target, const dz_buf_t *removed,
			    const dz_buf_t *added, const dz_buf_t *new_soa, uint32_t *serial,
			    dz_error_t *err);

/*
 * Bring the snapshot and the zone text file up to the committed serial,
 * unless they already are, then compact the journal when it exceeds its
 * bound (logged).  The files are written without the lock and replace the
 * old ones only when nothing newer was installed meanwhile.  *serial (may
 * be NULL) is the serial of the text file on return.  DZ_ENOTFOUND when
 * nothing is published; DZ_EZONE when the published files are damaged;
 * DZ_EIO when writing fails, leaving the committed version as it was.
 */
dz_result_t dz_publish_materialize(const dz_publish_target_t *target, uint32_t *serial,
				   dz_error_t *err);

/* What is published, for the daemon's decisions and status output. */
typedef struct dz_publish_status {
	uint32_t serial;	  /* committed serial */
	uint32_t snapshot_serial; /* serial of the snapshot */
	bool has_text;		  /* false when the text file is missing or not ours */
	uint32_t text_serial;	  /* serial of the text file */
	size_t pending_entries;	  /* journal entries after the snapshot */
	size_t pending_bytes;	  /* their bytes */
	size_t journal_bytes;	  /* size of the journal file */
} dz_publish_status_t;

/*
 * Fill *status from the published files.  Reads the journal (its cost
 * grows with the journal, not the zone) and the headers of the snapshot
 * and text file.  DZ_ENOTFOUND when nothing is published.
 */
dz_result_t dz_publish_status(const dz_publish_target_t *target, dz_publish_status_t *status,
			      dz_error_t *err);

/* Steps of the writers, for the crash-consistency tests. */
typedef enum dz_publish_step {
	DZ_PUBLISH_STEP_JOURNAL,      /* before a journal entry is written or a journal created */
	DZ_PUBLISH_STEP_JOURNAL_SYNC, /* entry written, not synced: a crash keeps half of it */
	DZ_PUBLISH_STEP_SNAPSHOT,     /* before the snapshot is replaced */
	DZ_PUBLISH_STEP_TEXT,	      /* before the zone text file is replaced */
	DZ_PUBLISH_STEP_COMPACT,      /* before the compacted journal replaces the old one */
} dz_publish_step_t;

/*
 * Test hook called before each step; returning true makes the writer stop
 * there as a crash would (temporary files and a half-written entry stay)
 * and return DZ_ECANCELED.  NULL (the default) disables it.  Not thread
 * safe.
 */
typedef bool (*dz_publish_fault_fn)(dz_publish_step_t step, void *ctx);
void dz_publish_set_fault(dz_publish_fault_fn fn, void *ctx);

/*
 * Make the published files consistent after a crash and log what was
 * repaired: remove temporary files, cut an incomplete entry off the
 * journal, and start a new journal at the snapshot's serial when the
 * journal is missing, damaged, or does not contain that serial.  The
 * snapshot and text file may stay behind the committed serial;
 * dz_publish_materialize() brings them up.  *serial is the committed
 * serial, or DZ_ENOTFOUND when nothing is published.  DZ_EZONE when the
 * snapshot is damaged (the operator must re-sign: nothing else can repair
 * it).  DZ_EIO or DZ_EPERM when the journal exists but cannot be opened,
 * read or repaired, as in a read-only folder.  The journal is then left
 * as it is.
 */
dz_result_t dz_publish_recover(const dz_publish_target_t *target, uint32_t *serial,
			       dz_error_t *err);

/*
 * Compute the diff between two versions given as concatenated wire-form
 * RRs, each with its SOA first and then in dz_wire_rr_compare() order (as
 * in a snapshot).  RRs only in `old_rrs` are appended to `removed`, RRs only
 * in `new_rrs` to `added`; an RR whose TTL changed appears in both.  The
 * SOAs are skipped.  DZ_EZONE when an input is malformed or out of order.
 */
dz_result_t dz_publish_compare(const uint8_t *old_rrs, size_t old_len, const uint8_t *new_rrs,
			       size_t new_len, dz_buf_t *removed, dz_buf_t *added,
			       dz_error_t *err);

#endif
