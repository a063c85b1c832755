/*
 * signer_test.h -- helpers shared by the signer unit tests: zones from
 * text, and ECDSA P-256 keys in a SoftHSM2 token with the sign service
 * that signs with them.
 */
#ifndef DZ_TESTS_SIGNER_TEST_H
#define DZ_TESTS_SIGNER_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "common/policy.h"
#include "keystore/keyset.h"
#include "signer/load.h"
#include "signer/sign.h"
#include "signer/zone.h"

/* Wire form of a presentation name; asserts on failure. */
size_t test_wire_name(const char *text, uint8_t *wire);

/* Key of a presentation name; asserts on failure. */
size_t test_key(const char *text, uint8_t *key);

/*
 * Load zone text (with "$ORIGIN origin" implied) into a new zone.  Returns
 * the loader result in *result; the zone is returned even when the loader
 * found errors.  `options` may be NULL.
 */
dz_zone_t *test_zone_from_text(const char *origin, const char *text,
			       const dz_load_options_t *options, dz_result_t *result);

/* Add or delete one RR given as presentation text ("www 300 IN A 192.0.2.1"). */
void test_add_rr(dz_zone_t *zone, const char *text);
void test_delete_rr(dz_zone_t *zone, const char *text);

/*
 * A key set generated in the test token: with count 2 a KSK (flags 257,
 * signs the key RRsets, CDS published) and a ZSK (flags 256, signs the
 * rest), otherwise `count` CSKs.  test_keys_free() deletes the keys from
 * the token.  The token is made on first use and removed at exit.
 */
void test_keys_create(dz_keyset_t *keys, size_t count);
void test_keys_free(dz_keyset_t *keys);
/* The sign service of the test token as a sign backend (dz_sign_backend_service()). */
dz_sign_backend_t test_backend(void);

/* Every RR of the zone as sorted wire RRs; RRSIGs only with `with_sigs`. */
void test_zone_rrs(const dz_zone_t *zone, bool with_sigs, bool mask_soa_serial, dz_buf_t *out);

/* Policy for tests: defaults with NSEC3 off or on. */
void test_policy(dz_policy_t *policy, dz_denial_t denial);

#endif
