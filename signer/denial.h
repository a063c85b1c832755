/*
 * denial.h -- authenticated denial of existence: the NSEC chain (RFC 4034
 * section 4, RFC 4035 section 2.3) and the NSEC3 chain (RFC 5155).
 *
 * Chain members:
 *   NSEC   every authoritative name that owns RRsets, including delegation
 *          points; not empty non-terminals, not names below a zone cut or
 *          a DNAME (glue and occluded data).
 *   NSEC3  every authoritative name, including empty non-terminals and
 *          delegation points; with opt-out, delegations without DS and the
 *          empty non-terminals that lead only to them are left out
 *          (RFC 5155 section 7.1).
 * Type bitmaps at a delegation list only NS, DS, RRSIG and NSEC, as far as
 * present.  NSEC and NSEC3 records get the TTL min(SOA TTL, SOA MINIMUM)
 * (RFC 9077), and so does NSEC3PARAM.
 */
#ifndef DZ_SIGNER_DENIAL_H
#define DZ_SIGNER_DENIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "signer/zone.h"

/* Largest type bitmap: 256 windows of 2 + 32 bytes (RFC 4034 section 4.1.2). */
#define DZ_TYPE_BITMAP_MAX (256 * 34)

/*
 * Encode `count` RR types, sorted and without duplicates, as a type bitmap
 * into `out` (DZ_TYPE_BITMAP_MAX bytes).  Returns the length.
 */
size_t dz_type_bitmap_encode(const uint16_t *types, size_t count, uint8_t *out);

/* What the chain should be. */
typedef struct dz_denial_config {
	dz_chain_kind_t kind; /* DZ_CHAIN_NSEC or DZ_CHAIN_NSEC3 */
	dz_nsec3_params_t params;
	uint32_t ttl;	      /* min(SOA TTL, SOA MINIMUM) */
} dz_denial_config_t;

/* Whether a node is a member of the NSEC chain. */
bool dz_denial_nsec_member(const dz_node_t *node);

/* Whether a node is a member of the NSEC3 chain with or without opt-out. */
bool dz_denial_nsec3_member(const dz_node_t *node, bool opt_out);

/* Whether RRSIGs exist at a node (some RRset there is authoritative and signed). */
bool dz_denial_node_signed(const dz_node_t *node);

/*
 * Bring the chain in line with the tree and `config`.  A full run (forced
 * by `full`, or because the kind, the NSEC3 parameters or the TTL changed)
 * builds the whole chain and removes every record of the old one, so the
 * new chain is complete in the same version in which the old one goes
 * (make-before-break).  Otherwise only the chain around the zone's dirty
 * nodes and removed names is repaired.  Records whose content changes lose
 * their signatures and are marked dirty; NSEC3PARAM at the apex is set or
 * removed.  Returns DZ_ENOMEM, DZ_ECRYPTO (hashing failed) or DZ_EZONE (two
 * names with the same NSEC3 hash, or a name that equals an NSEC3 owner).
 */
dz_result_t dz_denial_update(dz_zone_t *zone, const dz_denial_config_t *config, bool full,
			     dz_error_t *err);

/*
 * Build the NSEC or NSEC3 RDATA that `node` (or `entry`) should have now,
 * into `out` (at least 2 * DZ_NAME_WIRE_MAX + DZ_TYPE_BITMAP_MAX bytes).
 * Returns the length.  Used by the self-check.
 */
size_t dz_denial_nsec_rdata(const dz_zone_t *zone, const dz_node_t *node, uint8_t *out);
size_t dz_denial_nsec3_rdata(const dz_zone_t *zone, const dz_nsec3_t *entry,
			     const dz_nsec3_params_t *params, uint8_t *out);

/* Size for the `out` buffers above. */
#define DZ_DENIAL_RDATA_MAX (2 * DZ_NAME_WIRE_MAX + 300 + DZ_TYPE_BITMAP_MAX)

#endif
