/*
 * source.h -- read a zone file RR by RR with ldns.
 *
 * NOTE: a stopgap until zones/zonefile.h (dz_zonefile_read) is in main:
 * this reader handles $ORIGIN and $TTL but not $INCLUDE or RFC 3597 forms
 * beyond what ldns parses.  Its callback has the same contract, so
 * swapping it is a one-line change.
 */
#ifndef DZ_SIGNER_SOURCE_H
#define DZ_SIGNER_SOURCE_H

#include <ldns/ldns.h>

#include "common/error.h"

/*
 * Called for each RR; `rr` is borrowed for the call.  Returning anything
 * but DZ_OK stops the reading with that result.
 */
typedef dz_result_t (*dz_source_rr_fn)(void *ctx, const ldns_rr *rr, const char *file,
				       unsigned line, dz_error_t *err);

/*
 * Read `path` with `origin` (presentation form) as the initial $ORIGIN and
 * `default_ttl` as the TTL of records without one until a $TTL.  Returns
 * DZ_EIO (cannot open), DZ_ESYNTAX (with file and line) or the callback's
 * result.
 */
dz_result_t dz_source_read(const char *path, const char *origin, uint32_t default_ttl,
			   dz_source_rr_fn fn, void *ctx, dz_error_t *err);

#endif
