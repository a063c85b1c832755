/*
 * changes.h -- the difference between two versions of a signed zone.
 *
 * While a zone is being changed, the zone tree saves the records of each
 * owner name as they were before its first change (dz_changes_save).  At the
 * end, dz_changes_finish() compares them with the owner's records now and
 * writes the difference in IXFR order (RFC 1995 section 4): the old SOA,
 * the removed RRs, the new SOA, the added RRs, each RR in uncompressed wire
 * form (owner, type, class, TTL, RDLENGTH, RDATA), concatenated.
 */
#ifndef DZ_SIGNER_CHANGES_H
#define DZ_SIGNER_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

struct dz_zone;

typedef struct dz_changes dz_changes_t;

/* Start tracking the changes of `zone` (zone->changes is set); NULL on ENOMEM. */
dz_changes_t *dz_changes_start(struct dz_zone *zone);

/*
 * Save the old records (wire RRs in `rrs`) of an owner: a name of the tree,
 * or with `nsec3` set the owner of an NSEC3 record.  Only the first save of
 * each owner counts.
 */
dz_result_t dz_changes_save(dz_changes_t *changes, const uint8_t *key, size_t key_len, bool nsec3,
			    const uint8_t *rrs, size_t rrs_len);

/* Counts of a finished difference. */
typedef struct dz_changes_summary {
	size_t removed; /* RRs, without the old SOA */
	size_t added;	/* RRs, without the new SOA */
} dz_changes_summary_t;

/*
 * Compare the saved owners with the zone now, append the difference in
 * IXFR order to `ixfr` (nothing when nothing changed), stop tracking and
 * free `changes`.  The zone must have an SOA before and after.  Returns
 * DZ_ENOMEM, or DZ_EZONE when an SOA is missing.
 */
dz_result_t dz_changes_finish(dz_changes_t *changes, dz_buf_t *ixfr, dz_changes_summary_t *summary,
			      dz_error_t *err);

/* Stop tracking and free without computing anything; NULL is ignored. */
void dz_changes_abort(dz_changes_t *changes);

#endif
