/*
 * apex.h -- the key records at the apex: DNSKEY, CDS and CDNSKEY, made from
 * the key set the key manager hands over (keystore/keyset.h).
 */
#ifndef DZ_SIGNER_APEX_H
#define DZ_SIGNER_APEX_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/policy.h"
#include "keystore/keyset.h"
#include "signer/zone.h"

/* DNSKEY protocol field, always 3 (RFC 4034 section 2.1.2). */
#define DZ_DNSKEY_PROTOCOL 3

/*
 * Write the DNSKEY RDATA of a key (flags, protocol, algorithm, public key)
 * into `out` of 4 + DZ_PUBLIC_KEY_MAX bytes; returns the length.
 */
size_t dz_apex_dnskey_rdata(const dz_zone_key_t *key, uint8_t *out);

/*
 * Check that the key set can sign the zone: every algorithm of the DNSKEY
 * RRset (our published keys and `extra_dnskeys`) has a key that signs the
 * key RRsets and a key that signs the rest (RFC 4035 section 2.2), and at
 * most 64 keys.  `extra_dnskeys` is a blob of (length, DNSKEY RDATA) pairs.
 */
dz_result_t dz_apex_check_keys(const dz_zone_t *zone, const dz_keyset_t *keys,
			       const uint8_t *extra_dnskeys, size_t extra_len, dz_error_t *err);

/*
 * Set the DNSKEY RRset (published keys plus the extra DNSKEYs kept from the
 * source), and the CDS and CDNSKEY RRsets (keys with publish_cds, digest
 * types and CDNSKEY from the policy; the RFC 8078 delete records when the
 * key set asks for them).  TTL: the policy's dnskey_ttl.
 */
dz_result_t dz_apex_update(dz_zone_t *zone, const dz_keyset_t *keys, const uint8_t *extra_dnskeys,
			   size_t extra_len, const dz_policy_t *policy, dz_error_t *err);

#endif
