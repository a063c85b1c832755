/*
 * output.h -- write a signed zone as a zone file.
 *
 * Names in canonical order (RFC 4034 section 6.1) with the NSEC3 records
 * at their place among them; at each name the RRsets by type (the SOA
 * first), each followed by its RRSIGs, then the NSEC record and its RRSIGs.
 * Records are printed in presentation form by signer/print.h, one per line.
 */
#ifndef DZ_SIGNER_OUTPUT_H
#define DZ_SIGNER_OUTPUT_H

#include <stdio.h>

#include "common/error.h"
#include "signer/snapshot.h"
#include "signer/zone.h"

/* Write the zone to an open stream.  Returns DZ_EIO or DZ_EINTERNAL. */
dz_result_t dz_output_write(const dz_zone_t *zone, FILE *fp, dz_error_t *err);

/* Replace `path` atomically and durably (common/file.h) with the zone, mode 0644. */
dz_result_t dz_output_zone_file(const dz_zone_t *zone, const char *path, dz_error_t *err);

/*
 * Add every RR of the zone to a snapshot writer (signer/snapshot.h): the
 * SOA first, then all other RRs, RRSIGs and NSEC/NSEC3 records included, in
 * dz_wire_rr_compare() order.  The writer stays owned by the caller, who
 * commits or aborts it.  Returns DZ_EZONE (no SOA), DZ_ENOMEM, or the
 * writer's failure.
 */
dz_result_t dz_output_snapshot(const dz_zone_t *zone, dz_snapshot_writer_t *writer,
			       dz_error_t *err);

#endif
