/*
 * publish.h -- publishing a signed zone version: zone text file, snapshot
 * and IXFR journal, written in an order that survives a crash.
 *
 * A published version lives in a state folder as three files named after
 * the zone ("example.com" for example.com., "root" for the root zone):
 *
 *   example.com.zone      signed zone text, for secondaries that read files
 *                         and for reload hooks (nsd-control, rndc)
 *   example.com.snapshot  every RR in wire form, mapped by the DNS server
 *                         for AXFR and SOA answers (signer/snapshot.h)
 *   example.com.journal   diffs between versions for IXFR (signer/journal.h)
 *
 * dz_publish_commit() replaces them in this order:
 *
 *   1. the journal, now ending with the diff from the old to the new serial;
 *   2. the snapshot: this rename is the commit point of the version;
 *   3. the zone text file.
 *
 * Each file is replaced atomically, so a crash leaves each one old or new.
 * dz_publish_recover(), run at start-up, makes them agree with the
 * snapshot: it drops a journal entry beyond the snapshot's serial (a crash
 * between steps 1 and 2: that version was never committed), starts an empty
 * journal when the journal does not reach the snapshot's serial at all, and
 * rewrites the text file when its serial differs (a crash between 2 and 3).
 * Leftover temporary files are removed.
 *
 * The DNS server reads only the snapshot and the journal and uses journal
 * entries up to the snapshot's serial, so it serves consistent data even
 * while a publication is between steps 1 and 2.
 *
 * NOTE: every version rewrites the whole snapshot and text file, so the
 * time from a change to NOTIFY grows with the zone (most of it is fsync).
 * Serving IXFR from the journal before the snapshot is rewritten would
 * remove that, but needs the journal to become the commit point.
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
	size_t journal_max_size; /* bytes, header included */
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
 * Start a new version: a snapshot writer for the target's snapshot and text
 * file.  Add the RRs with dz_snapshot_writer_add(), then hand the writer
 * to dz_publish_commit(), or free it with dz_snapshot_writer_abort().
 */
dz_result_t dz_publish_begin(const dz_publish_target_t *target, dz_snapshot_writer_t **writer,
			     dz_error_t *err);

/* Steps of dz_publish_commit(), for the crash-consistency tests. */
typedef enum dz_publish_step {
	DZ_PUBLISH_STEP_JOURNAL,  /* before the journal is replaced */
	DZ_PUBLISH_STEP_SNAPSHOT, /* before the snapshot is replaced */
	DZ_PUBLISH_STEP_TEXT,	  /* before the zone text file is replaced */
} dz_publish_step_t;

/*
 * Test hook called before each step; returning true makes dz_publish_commit()
 * stop there as a crash would (temporary files stay) and return
 * DZ_ECANCELED.  NULL (the default) disables it.  Not thread safe.
 */
typedef bool (*dz_publish_fault_fn)(dz_publish_step_t step, void *ctx);
void dz_publish_set_fault(dz_publish_fault_fn fn, void *ctx);

/*
 * Publish the version in `writer` (always consumed): append the diff to
 * the journal, then replace the snapshot, then the text file.  `removed`
 * and `added` are the RRs (no SOA) that differ from the published version,
 * as concatenated wire-form RRs; when both are NULL the diff is computed by
 * comparing the two snapshots.  Without a published version the journal
 * starts empty.  DZ_ESTATE when the new serial is not after the published
 * one (RFC 1982); DZ_EZONE when the diff is invalid; on any failure the
 * published version stays as it was.  On success *serial (may be NULL)
 * is the new serial.
 */
dz_result_t dz_publish_commit(const dz_publish_target_t *target, dz_snapshot_writer_t *writer,
			      const dz_buf_t *removed, const dz_buf_t *added, uint32_t *serial,
			      dz_error_t *err);

/*
 * Make the published files consistent after a crash, as described above,
 * and log what was repaired.  *serial is the published serial, or
 * DZ_ENOTFOUND when nothing is published.  DZ_EZONE when the snapshot is
 * damaged (the operator must re-sign: nothing else can repair it).
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
dz_result_t dz_publish_diff(const uint8_t *old_rrs, size_t old_len, const uint8_t *new_rrs,
			    size_t new_len, dz_buf_t *removed, dz_buf_t *added, dz_error_t *err);

#endif
