/*
 * publish.h -- the publication function: what the signer publishes and
 * signs with, derived from the key states and nothing else.
 *
 *   DNSKEY RRset              keys whose DNSKEY is rumoured or omnipresent
 *   DNSKEY/CDS/CDNSKEY signers keys whose KRRSIG is rumoured or omnipresent
 *   signers of other RRsets   keys whose ZRRSIG is rumoured or omnipresent
 *                             (an unretentive ZRRSIG makes no new signatures;
 *                             its existing ones may stay until refreshed)
 *   CDS and CDNSKEY           keys whose DS is rumoured or omnipresent
 *   RFC 8078 delete records   the policy has no keys, no DS is rumoured or
 *                             omnipresent, and a DNSKEY is still published
 */
#ifndef DZ_KEYSTORE_PUBLISH_H
#define DZ_KEYSTORE_PUBLISH_H

#include <stdbool.h>

#include "common/policy.h"
#include "common/result.h"
#include "keystore/keyset.h"
#include "keystore/ring.h"

/*
 * Fill `keyset` (overwritten, not freed) with every key of the ring that
 * contributes a record.  The key array is allocated; free it with
 * dz_key_keyset_clear().  Returns DZ_ENOMEM on allocation failure.
 */
dz_result_t dz_key_publication(const dz_keyring_t *ring, const dz_policy_t *policy,
			       dz_keyset_t *keyset);

/* Free the key array of a keyset built by dz_key_publication() and zero it. */
void dz_key_keyset_clear(dz_keyset_t *keyset);

/* Deep copy; DZ_ENOMEM leaves dst zeroed. */
dz_result_t dz_key_keyset_copy(dz_keyset_t *dst, const dz_keyset_t *src);

/* Whether two keysets make the signer publish the same records (same keys, same flags). */
bool dz_key_keyset_equal(const dz_keyset_t *a, const dz_keyset_t *b);

#endif
