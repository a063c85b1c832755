/*
 * policy_check.h -- cross-field checks of a DNSSEC policy, run when the
 * configuration is loaded (`danezone check-config` and the daemon's
 * reload).  Each error names the policy, the value and the computed
 * minimum or maximum, so the operator can fix it without doing the
 * arithmetic.  Pure functions; thread safe.
 */
#ifndef DZ_KEYSTORE_POLICY_CHECK_H
#define DZ_KEYSTORE_POLICY_CHECK_H

#include <stdint.h>

#include "common/error.h"
#include "common/policy.h"

/* Largest TTL a resolver honours: 2^31 - 1 seconds (RFC 2181 section 8). */
#define DZ_TTL_MAX 2147483647u

/*
 * Check that the policy can work: known algorithms and sizes, every
 * algorithm with a key that signs the DNSKEY RRset and one that signs the
 * zone, no two identical key slots, TTLs within RFC 2181's limit, a refresh
 * that re-signs before a cached signature can expire (refresh >= DprpC +
 * max-zone-ttl, and DprpC + dnskey-ttl) and below the validity minus the
 * jitter, lifetimes no shorter than a rollover of the role takes, CDS digest
 * types SHA-256 or SHA-384 only.  DZ_EPOLICY with a message on the first
 * problem found.
 */
dz_result_t dz_key_policy_check(const dz_policy_t *policy, dz_error_t *err);

/*
 * Check the zone's TTLs against the policy: the negative TTL
 * (min(SOA TTL, SOA MINIMUM)) and `max_ttl`, the largest TTL of any record
 * in the zone, may not exceed max-zone-ttl, because the rollover waits
 * count on it.  `zone` names the zone in the message.
 */
dz_result_t dz_key_policy_check_zone_ttls(const dz_policy_t *policy, const char *zone,
					  uint32_t negative_ttl, uint32_t max_ttl,
					  dz_error_t *err);

#endif
