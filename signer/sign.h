/*
 * sign.h -- making and refreshing the RRSIGs of a zone.
 *
 * The signer decides which RRsets need which signatures, builds the signed
 * data (RFC 4034 section 3.1.8.1) and hands batches of requests to a sign
 * backend: in the programs always the sign service of hsm/sign_service.h
 * (dz_sign_backend_service()).  Worker threads prepare batches and submit
 * them concurrently, so a service with several sessions or processes is
 * kept busy while the next batch is prepared.
 *
 * Signature rules:
 *   - DNSKEY, CDS and CDNSKEY at the apex are signed by the keys with
 *     sign_keys, every other authoritative RRset by the keys with sign_zone;
 *   - at a delegation only DS (and the NSEC) is signed; occluded names and
 *     glue are never signed;
 *   - a signature is kept while its RRset is unchanged, its key still signs
 *     that RRset, it was made for the current TTL and labels, its inception
 *     is not in the future, and more than `refresh` seconds of validity
 *     remain;
 *   - new signatures: inception now - inception_offset, expiration now +
 *     validity - jitter, the jitter fixed per owner, type and key
 *     (dz_rrsig_jitter), so a restart does not reshuffle expirations.
 */
#ifndef DZ_SIGNER_SIGN_H
#define DZ_SIGNER_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/error.h"
#include "hsm/sign_service.h"
#include "keystore/keyset.h"
#include "signer/zone.h"

/*
 * Where signatures are made.  `sign` has the contract of
 * dz_sign_service_sign() and must be callable from several threads at once.
 */
typedef struct dz_sign_backend {
	dz_result_t (*sign)(void *ctx, dz_sign_request_t *requests, size_t count, dz_error_t *err);
	void *ctx;
	unsigned parallelism; /* signatures the backend computes at once; at least 1 */
} dz_sign_backend_t;

/* A backend that sends every request to `service` (not owned). */
dz_sign_backend_t dz_sign_backend_service(dz_sign_service_t *service);

typedef struct dz_sign_params {
	const dz_keyset_t *keys;
	dz_time_t now;
	int64_t validity;	  /* seconds, zone data */
	int64_t validity_keys;	  /* seconds, DNSKEY, CDS and CDNSKEY */
	int64_t refresh;	  /* re-sign when at most this much validity remains */
	int64_t jitter;		  /* expiration up to this much earlier */
	int64_t inception_offset; /* inception this far before now */
	unsigned threads;	  /* worker threads; 0 chooses from the backend's parallelism */
	size_t batch;		  /* RRsets per batch; 0 chooses */
} dz_sign_params_t;

typedef struct dz_sign_stats {
	size_t rrsets_checked;
	size_t rrsets_signed;	/* RRsets that got at least one new signature */
	size_t signatures;	/* new signatures */
	size_t signatures_kept;
	size_t signatures_dropped;
	double seconds;		/* wall time of the signing step */
} dz_sign_stats_t;

/*
 * Check the signatures of the zone and make the missing ones.  With `all`
 * every RRset is visited; otherwise only the RRsets of dirty nodes and
 * dirty NSEC3 entries.  Logs progress every few seconds while signing.
 * Returns DZ_OK, or the first failure of the backend (the zone then keeps
 * the signatures made so far and the RRsets still unsigned are marked
 * changed).
 */
dz_result_t dz_sign_zone(dz_zone_t *zone, const dz_sign_params_t *params,
			 const dz_sign_backend_t *backend, bool all, dz_sign_stats_t *stats,
			 dz_error_t *err);

/* Whether the RRset `type` at `node` is authoritative and gets signatures. */
bool dz_sign_rrset_is_signed(const dz_node_t *node, uint16_t type);

/* Whether an RRset of `type` at `node` is signed by the key-signing keys. */
bool dz_sign_uses_key_keys(const dz_node_t *node, uint16_t type);

#endif
