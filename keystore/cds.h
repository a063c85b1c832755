/*
 * cds.h -- DS, CDS and CDNSKEY records for the zone's keys (RFC 4034
 * section 5, RFC 7344, RFC 8078), built with ldns.
 *
 * Records travel in uncompressed wire form: owner, type, class, TTL,
 * RDLENGTH, RDATA, concatenated for an RRset.  Thread safe.
 */
#ifndef DZ_KEYSTORE_CDS_H
#define DZ_KEYSTORE_CDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "common/policy.h"
#include "keystore/keyset.h"

/* Largest DS RDATA we make: key tag, algorithm, digest type and a SHA-384 digest. */
#define DZ_DS_RDATA_MAX (4 + 48)

/*
 * DS RDATA for the DNSKEY (flags, protocol 3, algorithm, public key) of
 * `zone` with `digest_type` (DZ_DIGEST_SHA256 or DZ_DIGEST_SHA384).  Writes
 * up to DZ_DS_RDATA_MAX bytes to `out` and their number to *len.  Returns
 * DZ_ENOTSUP for other digest types, DZ_EINVAL for an invalid zone name.
 */
dz_result_t dz_key_ds_rdata(const char *zone, uint16_t flags, uint8_t algorithm,
			    const uint8_t *public_key, size_t public_key_len, uint8_t digest_type,
			    uint8_t out[DZ_DS_RDATA_MAX], size_t *len, dz_error_t *err);

/*
 * Append the CDS RRset and (if the policy publishes CDNSKEY) the CDNSKEY
 * RRset of `keyset` to `cds` and `cdnskey`, with `ttl`.  One CDS per key
 * whose DS is wanted and per digest type of the policy, one CDNSKEY per such
 * key; the RFC 8078 delete records ("0 0 0 00" and "0 3 0 AA==") when the
 * keyset asks for them.  Nothing is appended when no key's DS is wanted and
 * no deletion is asked for (absence of CDS means "no change", RFC 7344).
 */
dz_result_t dz_key_cds_rrsets(const char *zone, const dz_keyset_t *keyset,
			      const dz_policy_t *policy, uint32_t ttl, dz_buf_t *cds,
			      dz_buf_t *cdnskey, dz_error_t *err);

#endif
