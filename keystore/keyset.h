/*
 * keyset.h -- what the key manager tells the signer to publish and sign with.
 *
 * This is the publication function of the key state model: for each key,
 * whether its DNSKEY is in the apex DNSKEY RRset, whether it signs the
 * DNSKEY/CDS/CDNSKEY RRsets, whether it signs the other RRsets, and whether
 * CDS/CDNSKEY records for it are published.  It is the only coupling between
 * the key state machine and the signer.
 */
#ifndef DZ_KEYSTORE_KEYSET_H
#define DZ_KEYSTORE_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsm/sign_service.h"

/* Largest DNSKEY public key field: RSA 4096 with a 4-byte exponent. */
#define DZ_PUBLIC_KEY_MAX 600

typedef struct dz_zone_key {
	uint8_t key_id[DZ_KEY_ID_MAX]; /* CKA_ID in the token */
	size_t key_id_len;
	uint8_t algorithm;	       /* DZ_ALG_* */
	uint16_t flags;		       /* DNSKEY flags: 256 (ZSK) or 257 (SEP) */
	uint16_t key_tag;	       /* RFC 4034 appendix B */
	uint8_t public_key[DZ_PUBLIC_KEY_MAX]; /* DNSKEY public key field */
	size_t public_key_len;

	bool publish;	   /* DNSKEY in the apex DNSKEY RRset (DK rumoured or omnipresent) */
	bool sign_keys;	   /* signs DNSKEY, CDS, CDNSKEY RRsets (KS rumoured or omnipresent) */
	bool sign_zone;	   /* signs all other RRsets (ZS rumoured or omnipresent) */
	bool publish_cds;  /* CDS and CDNSKEY for this key (DS rumoured or omnipresent) */
} dz_zone_key_t;

/* The keys of one zone at one moment. */
typedef struct dz_keyset {
	dz_zone_key_t *keys; /* owned by whoever built the set */
	size_t count;
	/*
	 * Publish the RFC 8078 delete records (CDS 0 0 0 00, CDNSKEY 0 3 0 AA==)
	 * because the zone is going insecure.
	 */
	bool publish_cds_delete;
} dz_keyset_t;

#endif
