/*
 * version.h -- the latest committed version of a published zone, read from
 * its snapshot and journal (signer/publish.h).
 *
 * The snapshot contains a full version, serial S.  The journal entries after
 * S lead to the committed serial N.  The RRs of version N are the snapshot's
 * RRs with the net effect of those entries applied:
 *
 *   1. Each entry deletes its removed RRs and then adds its added RRs
 *      (RFC 1995 section 4), entries in serial order.  RRs are matched by
 *      owner, type, class and RDATA, ignoring the TTL (dz_wire_rr_compare()).
 *   2. For each RR that any entry touches, the last operation wins: present
 *      (with the TTL of that last addition) or absent.  So an RR removed and
 *      added again is present, a TTL-only change (removed with the old TTL,
 *      added with the new one) is present with the new TTL, and a whole
 *      NSEC3 chain swap removes every old NSEC3 RR and adds every new one.
 *   3. The result is merged with the snapshot in dz_wire_rr_compare()
 *      order: an RR that no entry touched comes from the snapshot; an RR
 *      that was touched comes from its last operation, or not at all.
 *
 * The SOA is the new SOA of the newest entry (the snapshot's when there are
 * none), and comes first; the other RRs follow in dz_wire_rr_compare()
 * order, as in a snapshot.  Diffs are expected to be exact (each removed
 * RR present, each added RR absent); if one is not, rule 2 still yields a
 * set without duplicates.
 */
#ifndef DZ_SIGNER_VERSION_H
#define DZ_SIGNER_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "signer/journal.h"
#include "signer/publish.h"
#include "signer/snapshot.h"
#include "signer/wire.h"

typedef struct dz_version_change dz_version_change_t;

/* A committed version: a snapshot and the journal entries after it. */
typedef struct dz_version {
	unsigned refs;
	dz_snapshot_t *snapshot; /* one reference */
	dz_journal_t *journal;	 /* NULL when there is no usable journal */
	size_t first_change;	 /* index of the first journal entry after the snapshot */
	uint32_t serial;	 /* committed serial */
	dz_wire_rr_t soa;	 /* committed SOA; points into the snapshot or journal */
	/* Net changes since the snapshot, sorted; built by dz_version_changes(). */
	dz_version_change_t *changes;
	size_t change_count;
	bool changes_built;
} dz_version_t;

/*
 * Open the latest committed version of `target` under the journal's
 * shared lock, so that the snapshot and the journal agree.  When
 * `previous` (may be NULL) is an earlier version of the same target, its
 * snapshot mapping is shared if the file was not replaced, and only
 * journal entries added since are read and checked: loading the version
 * after a dz_publish_diff() then costs the size of the diff, not of the
 * zone.  A snapshot that is opened anew is checked RR by RR.
 *
 * A journal that is missing, damaged, of another zone, or that does not
 * contain the snapshot's serial is ignored with a warning: the version is
 * then the snapshot alone, without IXFR history.  DZ_ENOTFOUND when
 * nothing is published; DZ_EZONE when the snapshot is damaged or belongs
 * to another zone.  The caller drops *out with dz_version_unref().
 */
dz_result_t dz_version_open(const dz_publish_target_t *target, const dz_version_t *previous,
			    dz_version_t **out, dz_error_t *err);

/* Add a reference.  Not thread safe: share a version within one thread. */
dz_version_t *dz_version_ref(dz_version_t *version);

/* Drop a reference; the last one frees the version.  NULL is ignored. */
void dz_version_unref(dz_version_t *version);

/*
 * Build the version's net changes since its snapshot, once (rule 2
 * above); later calls return at once.  Memory and time grow with the RRs
 * of the journal entries after the snapshot.  DZ_ENOMEM.
 */
dz_result_t dz_version_changes(dz_version_t *version, dz_error_t *err);

/*
 * An iterator over RRs after the SOA in dz_wire_rr_compare() order: the
 * merge of a snapshot (or any buffer of RRs in that order) with net
 * changes.  The RRs point into the mappings of the version, which must
 * outlive the iterator.
 */
typedef struct dz_version_iter {
	const uint8_t *data; /* RRs from the snapshot, after its SOA */
	size_t len;
	size_t offset;
	const dz_version_change_t *changes;
	size_t change_count;
	size_t next_change;
	dz_wire_rr_t pending; /* an RR read from `data` and not returned yet */
	bool have_pending;
} dz_version_iter_t;

/*
 * Iterate the RRs of `version` after its SOA.  Builds the net changes
 * first (DZ_ENOMEM).
 */
dz_result_t dz_version_iter_init(dz_version_iter_t *iter, dz_version_t *version,
				 dz_error_t *err);

/* Iterate the RRs data[0..len), which must already be in order and contain no SOA. */
void dz_version_iter_init_data(dz_version_iter_t *iter, const uint8_t *data, size_t len);

/*
 * Store the next RR in *rr, or set *done at the end.  DZ_EZONE when the
 * snapshot data contains an invalid RR.
 */
dz_result_t dz_version_iter_next(dz_version_iter_t *iter, dz_wire_rr_t *rr, bool *done);

#endif
