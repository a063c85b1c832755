/*
 * load.h -- fill a zone tree from RRs and check what a signer must refuse.
 *
 * Checks on each RR (named by file and line):
 *   - class IN only; meta and obsolete types (OPT, TSIG, ...) are errors;
 *   - owner at or below the origin: otherwise an error, or with
 *     drop_out_of_zone a warning and the RR is dropped (never signed or
 *     chained);
 *   - TTL at most the policy's max_zone_ttl (0 = no limit);
 *   - RRs of one RRset with different TTLs: the RRset gets the lowest TTL,
 *     with a warning (RFC 2181 section 5.2);
 *   - in an unsigned source, DNSSEC records (RRSIG, NSEC, NSEC3,
 *     NSEC3PARAM, CDS, CDNSKEY) are dropped with a warning, and so are
 *     DNSKEYs except those whose key tag is in keep_dnskey_tags (another
 *     signer's key, for example).
 * Checks of the whole zone in dz_loader_finish():
 *   - exactly one SOA RR, at the apex; NS at the apex;
 *   - no CNAME beside other data, at most one CNAME and one DNAME RR per
 *     name; DS only at delegations;
 *   - data below a zone cut other than address records (glue), and any
 *     data below a DNAME, is occluded: kept as written, never signed and
 *     never in the chain, with a warning.
 * Every error is logged; the first one is returned with a count of the rest.
 *
 * A previous signed zone (signed_input) keeps its RRSIG, NSEC and NSEC3
 * records attached to what they cover.  Its DNSKEY, CDS, CDNSKEY and
 * NSEC3PARAM RRsets become signer-made records.  The next signing run then
 * keeps every signature that is still good.
 */
#ifndef DZ_SIGNER_LOAD_H
#define DZ_SIGNER_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "common/error.h"
#include "common/mem.h"
#include "common/clock.h"
#include "signer/snapshot.h"
#include "signer/zone.h"
#include "zones/zonefile.h"

/* Most errors logged one by one before the rest are only counted. */
#define DZ_LOAD_MAX_LOGGED 20
/* Largest number of DNSKEY key tags kept from the source. */
#define DZ_LOAD_MAX_KEEP_TAGS 16

typedef struct dz_load_options {
	bool drop_out_of_zone;
	bool signed_input;
	uint32_t max_ttl; /* 0: no limit */
	uint16_t keep_dnskey_tags[DZ_LOAD_MAX_KEEP_TAGS];
	size_t keep_dnskey_count;
} dz_load_options_t;

typedef struct dz_loader {
	dz_zone_t *zone;
	dz_load_options_t options;
	dz_buf_t extra_dnskeys; /* (length, RDATA) of DNSKEYs kept from the source */
	dz_buf_t pending_sigs;	/* signed input: RRSIGs read before their RRset */
	ldns_buffer *wire;
	size_t errors;
	size_t warnings;
	size_t dropped;
	size_t records;
	unsigned soa_count;
	const char *last_file;	   /* file name of the last RR added, and its index in the zone */
	uint16_t last_file_index;
	dz_node_t *last_node;	   /* node of the last RR added */
	dz_error_t first_error;
} dz_loader_t;

/*
 * Prepare a loader for `zone` (not owned).  No node of the zone may be
 * removed (dz_zone_prune()) until dz_loader_clear().  Returns DZ_ENOMEM.
 */
dz_result_t dz_loader_init(dz_loader_t *loader, dz_zone_t *zone, const dz_load_options_t *options);

/* Free what the loader owns (not the zone). */
void dz_loader_clear(dz_loader_t *loader);

/*
 * Add one RR (a dz_zonefile_rr_fn of zones/zonefile.h: ctx is the loader).  Problems with the RR
 * are counted and logged and reading goes on; only DZ_ENOMEM stops it.
 */
dz_result_t dz_loader_add(void *ctx, const ldns_rr *rr, const char *file, unsigned line,
			  dz_error_t *err);

/*
 * Add one record (a dz_zonefile_record_fn of zones/zonefile.h: ctx is the
 * loader), as dz_loader_add() does.  Reading a zone with
 * dz_zonefile_read_records() and this function is the fast way.
 */
dz_result_t dz_loader_add_record(void *ctx, const dz_zonefile_record_t *record, dz_error_t *err);

/*
 * Add one RR given in wire form (owner, type, class, TTL, RDLENGTH, RDATA;
 * names in canonical form).  Used by the property tests and the diff reader.
 */
dz_result_t dz_loader_add_wire(dz_loader_t *loader, const uint8_t *owner, size_t owner_len,
			       uint16_t type, uint16_t rr_class, uint32_t ttl, const uint8_t *rdata,
			       uint16_t rdata_len, const char *file, unsigned line);

/*
 * Delete one RR given in wire form, with the checks of dz_loader_add_wire
 * (DNSSEC records cannot be deleted: the signer makes them).  An RR that
 * is not in the zone is a warning.
 */
dz_result_t dz_loader_delete_wire(dz_loader_t *loader, const uint8_t *owner, size_t owner_len,
				  uint16_t type, uint16_t rr_class, const uint8_t *rdata,
				  uint16_t rdata_len, const char *file, unsigned line);

/*
 * Run the checks of the zone on the names changed since the zone's dirty
 * list was last cleared, which is every name of a freshly loaded zone.
 * For signed input, also attach the signatures read before their RRsets
 * and mark every RRset as signed.
 * Returns DZ_EZONE when any error was found (err has the first one and the
 * count), DZ_OK otherwise.
 */
dz_result_t dz_loader_finish(dz_loader_t *loader, dz_error_t *err);

/*
 * Convert an ldns RR to canonical wire parts: `buf` receives the whole RR,
 * and the pointers point into it.  Returns DZ_EINVAL for an RR ldns cannot
 * write.
 */
dz_result_t dz_rr_to_wire(const ldns_rr *rr, ldns_buffer *buf, const uint8_t **owner,
			  size_t *owner_len, const uint8_t **rdata, uint16_t *rdata_len);

/* Type mnemonic ("TLSA", "TYPE65000") into `buf` of 16 bytes. */
const char *dz_type_name(uint16_t type, char buf[16]);

/*
 * Check the name and class rules that apply to one RR before it is added
 * (class IN, owner in the zone, type allowed).  Used by the diff reader.
 */
dz_result_t dz_check_zone_type(uint16_t type, dz_error_t *err);

/* Largest number of distinct signers dz_load_snapshot() reports. */
#define DZ_LOAD_MAX_SIGNERS 16

/* What dz_load_snapshot() found besides the records. */
typedef struct dz_snapshot_load {
	size_t records;	     /* RRs, the SOA included */
	size_t sigs_dropped; /* RRSIGs that cover no RRset at their owner */
	/*
	 * Whether the NSEC or NSEC3 chain matches the names: every member has
	 * its record and every record a member (an unsigned zone has none).
	 * Only then can the next signing run repair the chain where the zone
	 * changes instead of building it again.
	 */
	bool chain_whole;
	/* The keys that made the signatures, and whether they signed the key RRsets. */
	struct {
		uint8_t algorithm;
		uint16_t key_tag;
		bool key_rrsets; /* DNSKEY, CDS or CDNSKEY at the apex */
	} signers[DZ_LOAD_MAX_SIGNERS];
	size_t signer_count;
	bool signers_overflow; /* more signers than DZ_LOAD_MAX_SIGNERS */
} dz_snapshot_load_t;

/*
 * Load the signed zone of a snapshot into `zone`, which must be new and
 * empty (dz_zone_create()).  Signatures, NSEC and NSEC3 records stay
 * attached to what they cover, and every RRset counts as signed.  DNSKEY,
 * CDS, CDNSKEY and NSEC3PARAM become signer-made records.  The chain kind
 * and NSEC3 parameters are read from the apex, and the published serial is
 * the snapshot's.  zone->earliest_expiration is set from the signatures
 * (read relative to `now`).  Nothing is marked dirty.  `path` names the
 * snapshot in messages.  Returns DZ_EZONE when the snapshot breaks the
 * order or the rules of a signed zone, DZ_ENOMEM.
 */
dz_result_t dz_load_snapshot(dz_zone_t *zone, const dz_snapshot_t *snapshot, const char *path,
			     dz_time_t now, dz_snapshot_load_t *info, dz_error_t *err);

#endif
