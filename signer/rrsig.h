/*
 * rrsig.h -- DNSSEC record arithmetic: key tags, DS digests, RRSIG fields,
 * signature timing and the data a signature covers.
 */
#ifndef DZ_SIGNER_RRSIG_H
#define DZ_SIGNER_RRSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/mem.h"
#include "signer/zone.h"

/* Length of the RRSIG RDATA fields before the signer name (RFC 4034 section 3.1). */
#define DZ_RRSIG_FIXED_LEN 18

/* Key tag of DNSKEY RDATA (RFC 4034 appendix B; algorithm 1 is not supported). */
uint16_t dz_key_tag(const uint8_t *rdata, size_t len);

/*
 * DS RDATA (RFC 4034 section 5.1.4) for a DNSKEY: key tag, algorithm,
 * digest type, digest of owner | DNSKEY RDATA.  `out` needs 4 + 64 bytes.
 * Returns the length, or 0 for an unsupported digest type or an OpenSSL
 * failure.
 */
size_t dz_ds_rdata(const uint8_t *owner_wire, size_t owner_len, const uint8_t *dnskey,
		   size_t dnskey_len, uint8_t digest_type, uint8_t *out);

/* Parsed fixed fields of RRSIG RDATA. */
typedef struct dz_rrsig_fields {
	uint16_t type_covered;
	uint8_t algorithm;
	uint8_t labels;
	uint32_t original_ttl;
	uint32_t expiration; /* 32-bit serial time (RFC 4034 section 3.1.5) */
	uint32_t inception;
	uint16_t key_tag;
	const uint8_t *signer; /* wire name inside the RDATA */
	size_t signer_len;
} dz_rrsig_fields_t;

/* Parse RRSIG RDATA; false when it is too short or the signer name is malformed. */
bool dz_rrsig_parse(const uint8_t *rdata, size_t len, dz_rrsig_fields_t *fields);

/*
 * Turn a 32-bit RRSIG time into the absolute time nearest to `now`
 * (RFC 4034 section 3.1.5 uses serial number arithmetic, RFC 1982).
 */
dz_time_t dz_rrsig_time(uint32_t field, dz_time_t now);

/*
 * Expiration jitter of an RRset in [0, jitter]: a hash of owner, type and
 * key tag, so the same RRset and key get the same spread after a restart.
 */
int64_t dz_rrsig_jitter(const uint8_t *key, size_t key_len, uint16_t type, uint16_t key_tag,
			int64_t jitter);

/* Value of the RRSIG labels field for an owner (the leading "*" of a wildcard does not count). */
uint8_t dz_rrsig_labels(const uint8_t *key, size_t key_len);

/*
 * Append the data a signature covers (RFC 4034 section 3.1.8.1) to `out`:
 * the RRSIG RDATA without the signature (`rrsig_head`), then each RR of the
 * RRset in canonical order with the owner and the original TTL.
 */
dz_result_t dz_rrsig_signed_data(dz_buf_t *out, const uint8_t *rrsig_head, size_t head_len,
				 const uint8_t *owner_wire, size_t owner_len,
				 const dz_rrset_t *rrset);

#endif
