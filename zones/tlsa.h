/*
 * tlsa.h -- TLSA and SMIMEA RDATA from certificates and keys.
 *
 * RDATA = usage, selector, matching type, association data (RFC 6698
 * section 2.1).  Selector 0 takes the DER certificate, selector 1 the DER
 * SubjectPublicKeyInfo; matching type 0 copies it, 1 is its SHA2-256 and 2
 * its SHA2-512.  SMIMEA uses the same form (RFC 8162 section 2).
 */
#ifndef DZ_ZONES_TLSA_H
#define DZ_ZONES_TLSA_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "zones/conf.h"

/*
 * Append the RDATA for `params` to `rdata`.  `cert` may be NULL when only a
 * key is known; selector 0 then fails with DZ_ENOTFOUND.  Empty input is
 * rejected (DZ_EINVAL), so the digest of nothing is never published.
 * DZ_ETOOBIG when matching type 0 data would not fit in 65535 octets.
 */
dz_result_t dz_tlsa_rdata(const dz_tlsa_params_t *params, const uint8_t *cert, size_t cert_len,
			  const uint8_t *spki, size_t spki_len, dz_buf_t *rdata, dz_error_t *err);

/* SHA2-256 of `data` as 64 lower-case hex digits plus NUL. */
void dz_tlsa_sha256_hex(const uint8_t *data, size_t len, char hex[65]);

#endif
