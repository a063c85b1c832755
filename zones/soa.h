/*
 * soa.h -- ask a name server for a zone's SOA serial.
 *
 * Used to learn when every secondary serves a zone version: a record is
 * propagated once each secondary's serial has reached the serial of the
 * first version that contained it.
 */
#ifndef DZ_ZONES_SOA_H
#define DZ_ZONES_SOA_H

#include <stdint.h>

#include "common/error.h"
#include "zones/conf.h"

/*
 * Send one SOA query for `zone` (normalised origin) without recursion to
 * `address`, signed with `tsig` when it is not NULL.  It goes over UDP, and
 * over TCP when the response is truncated, and waits up to `timeout_ms`.  The answer
 * must be authoritative (AA) and contain the zone's SOA.  Errors:
 * DZ_ETIMEOUT, DZ_EREFUSED (an error rcode or no authoritative answer),
 * DZ_ETSIG, DZ_EFORMERR, DZ_ENOMEM.
 */
dz_result_t dz_soa_query_serial(const dz_config_address_t *address, const char *zone,
				const dz_config_tsig_t *tsig, int timeout_ms, uint32_t *serial,
				dz_error_t *err);

#endif
