/*
 * oracle.h -- checks that no cache state the TTLs allow validates as
 * bogus, from recorded published data only.
 *
 * The oracle never sees key states.  It receives every published version
 * of the parent's DS RRset, of the zone's DNSKEY RRset (with its RRSIGs),
 * of a few representative data RRsets (with their RRSIGs), of the CDS and
 * CDNSKEY RRsets, and every deletion of a key pair.  At each breakpoint
 * (and one second before) it enumerates what a resolver may have cached:
 * any version published at or before t whose successor was published less
 * than the propagation delay plus its TTL before t, chosen independently
 * per RRset.  It then checks:
 *
 *   P1  no combination (DS, DNSKEY, data) validates as bogus
 *   P2  every version signs each RRset with every algorithm of its DNSKEY
 *       RRset, and the DNSKEY RRset served holds every algorithm of every
 *       cacheable DS RRset
 *   P3  (optional) a validator that insists on every DS algorithm, and one
 *       that insists on every DNSKEY algorithm, see no bogus data either
 *   P4  CDS and CDNSKEY name only published keys, agree with each other,
 *       are signed by a key the parent's DS points to, and name no key
 *       whose DNSKEY some cache may still lack (the rollover specification
 *       asks for the publication interval IpubC; this is IpubC without the
 *       publish safety margin, measured on the recorded TTLs)
 *   P7  no deleted key appears in any cacheable or later version
 *
 * Signatures are symbolic: a signature names its signer's public key and
 * the RRset content it was made for, and verifies if that key is in the
 * DNSKEY RRset, the content matches and the time is within its validity.
 * DS digests and key tags are computed here, independently of the
 * keystore (OpenSSL SHA-256/SHA-384, RFC 4034 appendix B).
 */
#ifndef DZ_TESTS_ORACLE_H
#define DZ_TESTS_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"

typedef struct oracle oracle_t;

typedef struct oracle_params {
	const char *zone;	      /* owner of DNSKEY and DS, with trailing dot */
	int64_t dprp_child;	      /* maximum time a secondary lags the primary */
	int64_t dprp_parent;	      /* maximum time a parent server lags its registry */
	int64_t skew;		      /* P1 also with the validator's clock off by +-skew */
	uint32_t negative_ttl;	      /* TTL of the zone's "no DNSKEY" answer before signing */
	uint32_t parent_negative_ttl; /* TTL of the parent's "no DS" answer */
	bool strict_ds_algorithms;    /* P3: every DS algorithm must validate */
	bool every_dnskey_algorithm;  /* P3: data signed with every DNSKEY algorithm */
	/*
	 * P4 accepts CDS for keys not yet in the DNSKEY RRset: KSK double-DS
	 * asks the parent for the new DS before publishing the new DNSKEY.
	 */
	bool allow_unpublished_cds;
	dz_time_t start;	      /* the unsigned zone and "no DS" were published at this time */
} oracle_params_t;

typedef struct oracle_key {
	uint16_t flags;
	uint8_t algorithm;
	const uint8_t *public_key;
	size_t public_key_len;
} oracle_key_t;

typedef struct oracle_sig {
	oracle_key_t signer;
	dz_time_t inception;
	dz_time_t expiration;
	uint64_t covers; /* content the signature was made for (DNSKEY RRset only) */
} oracle_sig_t;

typedef struct oracle_ds {
	uint16_t tag;
	uint8_t algorithm;
	uint8_t digest_type;
	uint8_t digest[64];
	size_t digest_len;
} oracle_ds_t;

oracle_t *oracle_create(const oracle_params_t *params);
void oracle_destroy(oracle_t *o);

/* Content identifier of a DNSKEY RRset (order independent), for oracle_sig_t.covers. */
uint64_t oracle_dnskey_content(const oracle_key_t *keys, size_t count);

/* Register a data RRset, unsigned with `ttl` since the start; returns its index. */
int oracle_add_data(oracle_t *o, const char *name, uint32_t ttl);

/* New versions published at `t` on the primary (the parent's registry for DS). */
void oracle_dnskey_version(oracle_t *o, dz_time_t t, uint32_t ttl, const oracle_key_t *keys,
			   size_t key_count, const oracle_sig_t *sigs, size_t sig_count);
void oracle_data_version(oracle_t *o, int data, dz_time_t t, uint32_t ttl,
			 const oracle_sig_t *sigs, size_t sig_count);
void oracle_ds_version(oracle_t *o, dz_time_t t, uint32_t ttl, const oracle_ds_t *ds,
		       size_t count);
void oracle_cds_version(oracle_t *o, dz_time_t t, const oracle_ds_t *cds, size_t cds_count,
			const oracle_key_t *cdnskey, size_t cdnskey_count, const oracle_sig_t *sigs,
			size_t sig_count, bool delete_records);

/* A key pair was deleted from the token at `t`. */
void oracle_key_deleted(oracle_t *o, dz_time_t t, const oracle_key_t *key);

/* An extra time to check (a key event). */
void oracle_breakpoint(oracle_t *o, dz_time_t t);

/* The DS record a parent would make for `key` with SHA-256, computed by the oracle. */
oracle_ds_t oracle_make_ds(const oracle_t *o, const oracle_key_t *key);

/* RFC 4034 appendix B key tag, computed by the oracle. */
uint16_t oracle_key_tag(const oracle_key_t *key);

typedef enum oracle_property {
	ORACLE_P1 = 1 << 0,
	ORACLE_P2 = 1 << 1,
	ORACLE_P3_DS = 1 << 2,
	ORACLE_P3_DNSKEY = 1 << 3,
	ORACLE_P4 = 1 << 4,
	ORACLE_P7 = 1 << 5,
} oracle_property_t;

typedef struct oracle_report {
	unsigned violations;	 /* total count */
	unsigned properties;	 /* oracle_property_t bits violated */
	char first[1024];	 /* description of the first violations */
	dz_time_t checked_until; /* last breakpoint checked */
	unsigned breakpoints;	 /* breakpoints checked */
} oracle_report_t;

/* Check every breakpoint up to `until` (inclusive); returns report->violations. */
unsigned oracle_check(oracle_t *o, dz_time_t until, oracle_report_t *report);

#endif
