/*
 * check.h -- the self-check of a signed zone before it is published.
 *
 * For each name checked:
 *   - its occlusion is recomputed from its ancestors (a zone cut or DNAME
 *     above it) and must match the tree;
 *   - every authoritative RRset (and NSEC/NSEC3 record) has, for every
 *     algorithm of the DNSKEY RRset, a signature of the right type and
 *     labels whose validity period contains `now`; RRsets that must not be
 *     signed (glue, occluded data, NS at a delegation) have none;
 *   - chain members have their NSEC or NSEC3 record with exactly the
 *     content the chain needs now (next name or hash, type bitmap), and
 *     other names have none.
 * A full check visits every name, recomputes every NSEC3 hash and also
 * verifies that the NSEC3 tree holds no record without a member.  Without
 * `full` only the dirty names and NSEC3 records are checked.
 */
#ifndef DZ_SIGNER_CHECK_H
#define DZ_SIGNER_CHECK_H

#include <stdbool.h>

#include "common/clock.h"
#include "common/error.h"
#include "keystore/keyset.h"
#include "signer/denial.h"
#include "signer/zone.h"

/* Returns DZ_OK or DZ_EVERIFY naming the first problem (all are logged, up to a limit). */
dz_result_t dz_check_zone(const dz_zone_t *zone, const dz_keyset_t *keys,
			  const dz_denial_config_t *denial, dz_time_t now, bool full,
			  dz_error_t *err);

#endif
