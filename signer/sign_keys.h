/*
 * sign_keys.h -- the keys and the sign service of `danezone sign`.
 *
 * Keys come from the token, either named on the command line by CKA_ID
 * with a role, or from the key registry of the state folder (every key
 * registered for the zone).  Registry keys follow their flags when the key
 * manager has set any: "published" puts the DNSKEY in the zone, and
 * "signing" makes the key sign what its role signs.  When no key of the
 * zone has flags yet, every key is published and signs, which suits keys
 * just made by `danezone key generate`.  Roles: a KSK signs DNSKEY, CDS and CDNSKEY and gets CDS and
 * CDNSKEY records; a ZSK signs the rest; a CSK does both.  KSK and CSK
 * DNSKEYs have flags 257 (SEP), ZSKs 256.
 */
#ifndef DZ_SIGNER_SIGN_KEYS_H
#define DZ_SIGNER_SIGN_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/policy.h"
#include "hsm/hsm.h"
#include "hsm/sign_service.h"
#include "keystore/keyset.h"
#include "signer/token_options.h"

/* Largest number of keys named on the command line. */
#define DZ_SIGN_KEYS_MAX 16

typedef struct dz_sign_key_choice {
	uint8_t id[DZ_KEY_ID_MAX];
	size_t id_len;
	dz_key_role_t role;
} dz_sign_key_choice_t;

typedef struct dz_sign_keys_options {
	const dz_token_options_t *token;
	const char *zone;		 /* presentation form */
	dz_sign_key_choice_t keys[DZ_SIGN_KEYS_MAX];
	size_t key_count;		 /* 0: the zone's keys from the registry */
	unsigned processes;		 /* > 0: that many signer processes */
	unsigned sessions;		 /* in-process sessions when processes is 0; 0 chooses */
} dz_sign_keys_options_t;

/*
 * Parse "HEX" or "HEX:ROLE" (ROLE ksk, zsk or csk; csk when omitted) into
 * a choice.  DZ_EINVAL names the bad part.
 */
dz_result_t dz_sign_key_choice_parse(const char *text, dz_sign_key_choice_t *choice,
				     dz_error_t *err);

/* The open token connection, the key set and the sign service. */
typedef struct dz_sign_keys {
	dz_keyset_t keyset;	     /* keys array owned */
	dz_sign_service_t *service;
	dz_hsm_t *hsm;		     /* the connection the in-process service borrows */
	char module[256];	     /* module description, for the log */
} dz_sign_keys_t;

/*
 * Connect to the token, build the key set (public keys read from the
 * token) and start the sign service.  On success the caller ends with
 * dz_sign_keys_close().  Call it before starting threads, because a
 * process service forks.  Errors name the token, key or registry file.
 */
dz_result_t dz_sign_keys_open(const dz_sign_keys_options_t *options, dz_sign_keys_t *out,
			      dz_error_t *err);

/* Stop the service, close the connection and free the key set; a zeroed object is ignored. */
void dz_sign_keys_close(dz_sign_keys_t *keys);

#endif
