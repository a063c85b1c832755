/*
 * nsec3.h -- NSEC3 owner name hashing (RFC 5155 section 5).
 */
#ifndef DZ_SIGNER_NSEC3_H
#define DZ_SIGNER_NSEC3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/zone.h"

/* NSEC3 hash algorithm 1, SHA-1 (RFC 5155 section 11). */
#define DZ_NSEC3_ALG_SHA1 1
/* NSEC3 flags field: the Opt-Out bit (RFC 5155 section 3.1.2). */
#define DZ_NSEC3_FLAG_OPT_OUT 0x01

/*
 * Compute IH(salt, name, iterations) of RFC 5155 section 5 for a lower-case
 * uncompressed wire name.  Thread safe.  Returns false when OpenSSL fails.
 */
bool dz_nsec3_hash(const uint8_t *wire, size_t wire_len, const uint8_t *salt, size_t salt_len,
		   uint16_t iterations, uint8_t hash[DZ_NSEC3_HASH_LEN]);

/* The same for a name key (signer/name.h). */
bool dz_nsec3_hash_key(const uint8_t *key, size_t key_len, const dz_nsec3_params_t *params,
		       uint8_t hash[DZ_NSEC3_HASH_LEN]);

/*
 * Decode base32hex (RFC 4648 section 7, either case, no padding) of `len`
 * characters into `out` of `cap` bytes.  Returns the decoded length, or -1
 * for bad characters, non-zero trailing bits or overflow.
 */
long dz_base32hex_decode(const uint8_t *text, size_t len, uint8_t *out, size_t cap);

/*
 * Whether a name key is the owner of an NSEC3 record of `zone`: one label
 * of 32 base32hex characters directly under the apex.  Writes the hash.
 */
bool dz_nsec3_owner_hash(const dz_zone_t *zone, const uint8_t *key, size_t key_len,
			 uint8_t hash[DZ_NSEC3_HASH_LEN]);

#endif
