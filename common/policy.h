/*
 * policy.h -- the DNSSEC policy of a zone, as plain data.
 *
 * The YAML loader (zones/config) fills it, the key store (keystore/) and the
 * signer (signer/) read it.  It lives in common/ so that neither of those
 * depends on the other.  Times are seconds; TTLs are seconds as in RFC 2181.
 *
 * Names follow RFC 7583 and BIND's dnssec-policy where one exists:
 *   dnskey_ttl                TTLkey    dnskey-ttl
 *   max_zone_ttl              TTLsig    max-zone-ttl
 *   ds_ttl                    TTLds     parent-ds-ttl
 *   zone_propagation_delay    DprpC     zone-propagation-delay
 *   parent_propagation_delay  DprpP     parent-propagation-delay
 *   registration_delay        Dreg      (OpenDNSSEC RegistrationDelay)
 *   publish_safety            Spub      publish-safety
 *   retire_safety             Sret      retire-safety
 */
#ifndef DZ_COMMON_POLICY_H
#define DZ_COMMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers"). */
#define DZ_ALG_RSASHA256 8
#define DZ_ALG_RSASHA512 10
#define DZ_ALG_ECDSAP256SHA256 13
#define DZ_ALG_ECDSAP384SHA384 14
#define DZ_ALG_ED25519 15
#define DZ_ALG_ED448 16

/* DS digest types (IANA "Delegation Signer (DS) Resource Record Digest Algorithms"). */
#define DZ_DIGEST_SHA256 2
#define DZ_DIGEST_SHA384 4

typedef enum dz_key_role {
	DZ_ROLE_KSK = 1, /* signs DNSKEY, CDS, CDNSKEY; has a DS at the parent */
	DZ_ROLE_ZSK = 2, /* signs everything else */
	DZ_ROLE_CSK = 3, /* both: DZ_ROLE_KSK | DZ_ROLE_ZSK */
} dz_key_role_t;

typedef enum dz_denial {
	DZ_DENIAL_NSEC,
	DZ_DENIAL_NSEC3,
} dz_denial_t;

typedef enum dz_serial_policy {
	DZ_SERIAL_KEEP,	       /* use the source's serial; refuse to publish if it did not grow */
	DZ_SERIAL_INCREMENT,   /* previous published serial + 1 */
	DZ_SERIAL_UNIXTIME,    /* seconds since the epoch, or previous + 1 if that is not larger */
	DZ_SERIAL_DATECOUNTER, /* YYYYMMDDnn, or previous + 1 if that is not larger */
} dz_serial_policy_t;

/* How the key manager learns that the parent serves (or dropped) a DS. */
typedef enum dz_ds_observation {
	DZ_DS_OBSERVE_OPERATOR, /* `danezone key ds-seen` / `ds-gone` */
	DZ_DS_OBSERVE_PARENT,	/* query every configured parent name server */
} dz_ds_observation_t;

/* KSK rollover method (RFC 6781 section 4.1.2). */
typedef enum dz_ksk_rollover {
	DZ_KSK_DOUBLE_KSK,    /* new DNSKEY first, then replace the DS */
	DZ_KSK_DOUBLE_DS,     /* new DS first, then swap the DNSKEY */
	DZ_KSK_DOUBLE_RRSET,  /* new DNSKEY and DS at the same time */
} dz_ksk_rollover_t;

/* ZSK rollover method (RFC 6781 section 4.1.1). */
typedef enum dz_zsk_rollover {
	DZ_ZSK_PREPUBLISH,    /* publish the new DNSKEY first, then sign with it */
	DZ_ZSK_DOUBLE_RRSIG,  /* sign with both first, then swap the DNSKEY */
} dz_zsk_rollover_t;

#define DZ_POLICY_MAX_DIGESTS 4
#define DZ_NSEC3_SALT_MAX 255

/* One key the policy asks for. */
typedef struct dz_policy_key {
	dz_key_role_t role;
	uint8_t algorithm;   /* DZ_ALG_* */
	uint16_t bits;	     /* RSA modulus size; 0 for algorithms of fixed size */
	int64_t lifetime;    /* seconds from activation; 0 = unlimited */
	char *token;	     /* name of the configured HSM token (owned); NULL = default */
} dz_policy_key_t;

typedef struct dz_policy {
	char *name; /* owned */

	/* Keys; none means the zone is (made) insecure. Owned array. */
	dz_policy_key_t *keys;
	size_t key_count;
	dz_ksk_rollover_t ksk_rollover;
	dz_zsk_rollover_t zsk_rollover;
	unsigned standby_keys;	/* keys pre-generated in the HSM per key slot */
	bool manual_mode;	/* transitions into R and U wait for an operator step */

	/* TTLs (seconds). */
	uint32_t dnskey_ttl;
	uint32_t max_zone_ttl;
	uint32_t ds_ttl;

	/* Delays and margins (seconds). */
	int64_t zone_propagation_delay;
	int64_t parent_propagation_delay;
	int64_t registration_delay;
	int64_t publish_safety;
	int64_t retire_safety;
	int64_t purge_delay;	/* hidden key kept in the HSM this long before deletion */

	/* Signatures (seconds). */
	int64_t signature_validity;	   /* RRSIG expiration - inception, for zone data */
	int64_t signature_validity_dnskey; /* the same for DNSKEY, CDS and CDNSKEY RRsets */
	int64_t signature_refresh;	   /* re-sign when less than this validity remains */
	int64_t signature_jitter;	   /* expiration spread: up to this much earlier */
	int64_t signature_inception_offset; /* inception this far before the signing time */

	/* Authenticated denial of existence. */
	dz_denial_t denial;
	uint16_t nsec3_iterations;
	uint8_t nsec3_salt[DZ_NSEC3_SALT_MAX];
	uint8_t nsec3_salt_len;
	bool nsec3_opt_out;

	/* Parent. */
	uint8_t cds_digest_types[DZ_POLICY_MAX_DIGESTS]; /* DZ_DIGEST_* */
	size_t cds_digest_count;
	bool publish_cdnskey;
	dz_ds_observation_t ds_observation;
	int64_t ds_check_interval;	/* parent polling interval */
	int64_t ds_alert_after;		/* warn when a DS change is not seen after this */

	/* SOA serial. */
	dz_serial_policy_t serial_policy;
} dz_policy_t;

/*
 * Fill with danezone's defaults: one CSK, ECDSAP256SHA256, unlimited
 * lifetime; TTLs and delays as BIND 9.18's default dnssec-policy; NSEC3 with
 * 0 iterations and no salt (RFC 9276).  `policy` owns no memory afterwards
 * except the one key slot and the name "default".  Returns false on ENOMEM.
 */
bool dz_policy_init_defaults(dz_policy_t *policy);

/* Free what the policy owns and zero it. */
void dz_policy_clear(dz_policy_t *policy);

/* Deep copy; returns false on ENOMEM (dst is then cleared). */
bool dz_policy_copy(dz_policy_t *dst, const dz_policy_t *src);

/* Negative-cache TTL of RFC 2308: min(SOA TTL, SOA MINIMUM). */
static inline uint32_t
dz_negative_ttl(uint32_t soa_ttl, uint32_t soa_minimum)
{
	return soa_ttl < soa_minimum ? soa_ttl : soa_minimum;
}

/* Algorithm name as in the IANA registry ("ECDSAP256SHA256"); NULL if unknown. */
const char *dz_algorithm_name(uint8_t algorithm);

/* Parse an algorithm name (case-insensitive) or number; false if unknown. */
bool dz_algorithm_parse(const char *text, uint8_t *algorithm);

/* Role name: "ksk", "zsk" or "csk". */
const char *dz_role_name(dz_key_role_t role);

/* Parse "ksk", "zsk" or "csk" (case-insensitive); false if unknown. */
bool dz_role_parse(const char *text, dz_key_role_t *role);

#endif
