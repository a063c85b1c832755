/*
 * update.h -- one signing run: bring a changed zone tree to a new signed,
 * checked version.
 *
 * The same function makes the first full signature of a zone and every
 * incremental run after it.  Callers change the unsigned data through
 * signer/zone.h (or fill a new tree with signer/load.h), optionally with
 * change tracking on (signer/changes.h), then call dz_update_zone(), which:
 *   1. checks the key set and the policy values;
 *   2. sets DNSKEY, CDS and CDNSKEY from the key set;
 *   3. removes names that lost all data, repairs (or rebuilds) the denial
 *      chain around what changed;
 *   4. if anything changed, or signatures are due for refresh, gives the
 *      SOA the next serial of the serial policy;
 *   5. signs what needs signatures;
 *   6. checks the result (dz_check_zone) and fails without touching the
 *      published serial when the check fails.
 * An insecure zone (no keys) gets no DNSKEY, no chain and no signatures.
 */
#ifndef DZ_SIGNER_UPDATE_H
#define DZ_SIGNER_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/policy.h"
#include "keystore/keyset.h"
#include "signer/sign.h"
#include "signer/zone.h"

typedef struct dz_update_params {
	const dz_policy_t *policy;
	const dz_keyset_t *keys;
	/* DNSKEYs published beside ours, as (length, RDATA) pairs; not owned. */
	const uint8_t *extra_dnskeys;
	size_t extra_dnskeys_len;
	dz_time_t now;
	const dz_sign_backend_t *backend;
	/* Rebuild the chain and visit every RRset, as for a first signature. */
	bool full;
	/* Check the whole zone afterwards, not only what changed. */
	bool full_check;
	unsigned threads; /* 0 chooses */
} dz_update_params_t;

typedef struct dz_update_result {
	bool changed;	 /* a new version with a new serial */
	uint32_t serial; /* serial of the zone after the run */
	dz_sign_stats_t sign;
	double seconds_chain;
	double seconds_check;
} dz_update_result_t;

/*
 * Run steps 1-6 above.  Returns DZ_EPOLICY (policy values that cannot work
 * together), DZ_ESTATE (key set cannot sign, or a kept serial did not
 * grow), DZ_EZONE (no SOA, NSEC3 hash collision), DZ_EVERIFY (self-check
 * failed), DZ_ENOMEM or the sign backend's failure, with err saying what
 * is wrong.  On failure nothing must be published from the zone.
 */
dz_result_t dz_update_zone(dz_zone_t *zone, const dz_update_params_t *params,
			   dz_update_result_t *out, dz_error_t *err);

/* Fill a denial configuration from the policy and the zone's SOA. */
struct dz_denial_config;
dz_result_t dz_update_denial_config(const dz_zone_t *zone, const dz_policy_t *policy,
				    const dz_keyset_t *keys, struct dz_denial_config *config,
				    dz_error_t *err);

/* Serial field of SOA RDATA; false when the RDATA is malformed. */
bool dz_soa_serial(const uint8_t *rdata, size_t len, uint32_t *serial);
/* Offset of the serial field in SOA RDATA, or 0 when malformed. */
size_t dz_soa_serial_offset(const uint8_t *rdata, size_t len);

#endif
