/*
 * sync.h -- bring the unsigned data of a signed zone tree in line with a
 * new version of the zone source.
 */
#ifndef DZ_SIGNER_SYNC_H
#define DZ_SIGNER_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "signer/zone.h"

/*
 * Change the RRsets of `target` so that its unsigned data equals that of
 * `source` (a zone loaded from the new source), through the mutation
 * functions of signer/zone.h, so only what differs becomes dirty.  The
 * signer-made RRsets of `target` (DNSKEY, CDS, CDNSKEY, NSEC3PARAM) are
 * left alone.  With `ignore_soa_serial` an SOA that differs only in its
 * serial stays as it is (the serial policy sets the serial).  Counts the
 * RRsets changed in *changed.  Returns DZ_ENOMEM.
 */
dz_result_t dz_zone_sync(dz_zone_t *target, const dz_zone_t *source, bool ignore_soa_serial,
			 size_t *changed);

#endif
